"""Backend pools (issue 4): smooth weighted round robin, least connections, client-IP hash,
passive and active health, retries, backups, every backend out, and a Unix-socket backend.

Each test starts its own backends (tests/backend.py) on the ports tests/integration/config.h
gives the pools weighted (19011 weight 3, 19012 weight 1), lc (19013, 19014), hash (19015,
19016), backup (19017, backup 19018), checked (19019, 19020; GET /health every 500 ms,
fall 2, rise 2) and unix (/tmp/pollux-test-19021.sock), and kills them at its end, failed or
not. A backend is named "pPORT" (the Unix one "unix"), which its echo answers carry, so the
client sees which backend answered; each backend's /_log shows what it received.

The test config: T_DOWN 1 s (a passive mark), T_FIRST_BYTE 2 s, T_IDLE 3 s. pollux's log
has no timestamps; LogWatch notes when each line appears (polling every 5 ms).
"""
import collections
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

from harness import (HOST, PORT, ROOT, Reader, check, connect, eq, fail, header_values,
                     request, short, tcp_listening, timeout)

BACKEND_PY = os.path.join(ROOT, "tests", "backend.py")
UNIX_SOCK = "/tmp/pollux-test-19021.sock"
T_DOWN = 1.0            # config.h T_DOWN
CHECK_EVERY = 0.5       # pool "checked": check_every
SWEEP = 0.1             # pollux runs its timers (checks included) every 100 ms


def slow_build(px):
    """True for the ASan+UBSan build (the runner's label, or the binary's name)."""
    argv = sys.argv
    label = argv[argv.index("--label") + 1] if "--label" in argv[:-1] else ""
    return "asan" in label or "asan" in os.path.basename(px.binary)


def addr(port):
    return "127.0.0.1:%d" % port


# ---------------------------------------------------------------- backends

class Backend:
    """One tests/backend.py process on 127.0.0.1:port (or a Unix socket)."""

    def __init__(self, workdir, port=None, unix=None):
        self.port, self.unix = port, unix
        self.name = "unix" if unix else "p%d" % port
        self.errpath = os.path.join(workdir, "backend-%s.stderr" % self.name)
        self.proc = None

    def spawn(self):
        where = ["--unix", self.unix] if self.unix else ["--port", str(self.port)]
        with open(self.errpath, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, BACKEND_PY, "--name", self.name] + where,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=err)

    def wait_ready(self):
        line = self.proc.stdout.readline()
        if not line.startswith(b"ready"):
            self.proc.wait(2)
            with open(self.errpath, "rb") as f:
                rest = f.read().decode(errors="replace").strip().splitlines()
            fail("backend %s did not start: %s" % (self.name, " / ".join(rest[-3:])))
        return time.time()

    def start(self):
        self.spawn()
        return self.wait_ready()

    def kill(self):
        """SIGKILL; returns the time the process was gone (its sockets closed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
            self.proc.stdout.close()
        return time.time()

    def sock(self):
        if self.unix:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(self.unix)
            return s
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def call(self, target):
        s = self.sock()
        try:
            s.sendall(request("GET", target, host="backend", headers=[("Connection", "close")]))
            r = Reader(s).read_response()
            eq(r.status, 200, "backend %s: status of %s" % (self.name, target))
            return r.json()
        finally:
            s.close()

    def set(self, **kw):
        return self.call("/_set?" + "&".join("%s=%s" % kv for kv in kw.items()))

    def log(self):
        return self.call("/_log")

    def requests(self):
        """What it received, the active checks left out."""
        return [e for e in self.log() if not e.get("target", "").startswith("/health")]

    def checks(self, pid):
        """The active checks it received from process pid (another pollux built with this
        config may be checking the same port; backend.py notes whose checks they are)."""
        return [e for e in self.log() if e.get("target") == "/health" and
                e.get("peer_pid") == pid]


class Backends:
    """Starts backends in parallel; kills every one of them on exit, whatever happened."""

    def __init__(self, px, *ports, unix=None):
        wd = os.path.dirname(px.errpath)
        self.by = collections.OrderedDict((p, Backend(wd, port=p)) for p in ports)
        if unix:
            self.by[unix] = Backend(wd, unix=unix)

    def __enter__(self):
        try:
            for b in self.by.values():
                b.spawn()
            for b in self.by.values():
                b.wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for b in self.by.values():
            b.kill()
        return False

    def __getitem__(self, port):
        return self.by[port]


def wait_checked_in(px, bk, ports, wait=4.0):
    """Waits until every backend got two active checks from this pollux since it started:
    both passed (a backend that answers /health gives 200), so none of them is out,
    whatever happened before it listened."""
    deadline = time.time() + wait
    while True:
        got = {p: len(bk[p].checks(px.pid)) for p in ports}
        if all(n >= 2 for n in got.values()):
            return
        if time.time() > deadline:
            fail("active checks received within %.1f s of the start: %r (want 2 each)" % (
                wait, got))
        time.sleep(0.05)


# ---------------------------------------------------------------- pollux's log

class LogWatch:
    """Reads pollux's stderr as it grows; remembers when each line appeared."""

    def __init__(self, px):
        self.path = px.errpath
        self.lines = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        rest = b""
        with open(self.path, "rb") as f:
            while True:
                d = f.read()
                if d:
                    now = time.time()
                    parts = (rest + d).split(b"\n")
                    rest = parts.pop()
                    with self.lock:
                        self.lines += [(now, p.decode("utf-8", "replace")) for p in parts]
                elif self.done.is_set():
                    return
                else:
                    self.done.wait(0.005)

    def stop(self):
        self.done.set()
        self.t.join(2)

    def mark(self):
        with self.lock:
            return len(self.lines)

    def find(self, rx, since=0):
        """[(time, line)] of the lines from index `since` on that match rx."""
        r = re.compile(rx)
        with self.lock:
            return [(t, ln) for t, ln in self.lines[since:] if r.search(ln)]

    def wait(self, rx, since=0, within=2.0, what=None):
        deadline = time.time() + within
        while True:
            got = self.find(rx, since)
            if got:
                return got[0]
            if time.time() > deadline:
                with self.lock:
                    recent = [ln for _, ln in self.lines[since:] if "access:" not in ln][-6:]
                fail("%s: no log line matching %r within %.1f s; other lines since: %r" % (
                    what or "pollux's log", rx, within, recent))
            time.sleep(0.005)

    def text(self, since=0):
        with self.lock:
            return [ln for _, ln in self.lines[since:]]


def out_rx(port):
    return r"^warn: backend %s: out" % re.escape(addr(port))


def passive_rx(port):
    return r"^warn: backend %s: out for 1000ms: " % re.escape(addr(port))


def checks_out_rx(port):
    return r"^warn: backend %s: out: 2 checks failed in a row: " % re.escape(addr(port))


def checks_in_rx(port):
    return r"^info: backend %s: back in rotation: 2 checks passed" % re.escape(addr(port))


# ---------------------------------------------------------------- clients

def connect_from(src, timeout_s=5.0):
    s = socket.create_connection((HOST, PORT), timeout=timeout_s, source_address=(src, 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Client:
    """A keep-alive connection to pollux (optionally from a given 127/8 address)."""

    def __init__(self, src=None):
        self.src = src
        self.s = connect_from(src) if src else connect()
        self.rd = Reader(self.s)

    def req(self, method, target, body=b"", headers=()):
        self.s.sendall(request(method, target, headers=headers, body=body))
        return self.rd.read_response(method)

    def get(self, target):
        return self.req("GET", target)

    def close(self):
        self.s.close()


def served_by(r, what):
    """The backend name of an echo answer, after checking it is a complete 200."""
    eq(r.status, 200, "%s: status" % what)
    return r.json()["name"]


class Load:
    """Threads doing GETs, each on its own keep-alive connection, until stopped. Records
    every answer (time, thread, name) and every failure; an error or a close costs the
    thread its connection, and it opens a new one (a failure is recorded either way)."""

    def __init__(self, nthreads, prefix):
        self.prefix = prefix
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.ok = []
        self.failed = []
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(nthreads)]
        for t in self.threads:
            t.start()

    def run(self, k):
        c = None
        i = 0
        while not self.done.is_set():
            i += 1
            target = "%s/t%d/%d" % (self.prefix, k, i)
            try:
                if c is None:
                    c = Client()
                r = c.get(target)
                if r.status != 200:
                    raise AssertionError("status %d, body %s" % (r.status, short(r.body)))
                j = r.json()
                if j.get("target") != target:
                    raise AssertionError("answer for %r, want %r" % (j.get("target"), target))
                with self.lock:
                    self.ok.append((time.time(), k, j["name"]))
                if any("close" in v.lower() for v in r.header_all("connection")):
                    c.close()
                    c = None
            except Exception as e:      # noqa: BLE001 (recorded, asserted by the test)
                with self.lock:
                    self.failed.append((time.time(), target, "%s: %s" % (type(e).__name__, e)))
                if c is not None:
                    c.close()
                c = None
        if c is not None:
            c.close()

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(10)

    def names_between(self, t0, t1):
        with self.lock:
            return collections.Counter(n for t, _, n in self.ok if t0 <= t < t1)


def run_threads(n, fn):
    """Runs fn(i) in n threads; re-raises the first failure."""
    errs = []
    out = [None] * n

    def wrap(i):
        try:
            out[i] = fn(i)
        except BaseException as e:      # noqa: BLE001
            errs.append(e)

    ts = [threading.Thread(target=wrap, args=(i,), daemon=True) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    if errs:
        raise errs[0]
    return out


# ---------------------------------------------------------------- 1: weighted round robin

def pipelined_names(c, targets):
    c.s.sendall(b"".join(request("GET", t) for t in targets))
    names = []
    for t in targets:
        r = c.rd.read_response()
        eq(r.status, 200, "status of %s" % t)
        j = r.json()
        eq(j["target"], t, "answer order on a pipelined connection")
        names.append(j["name"])
    return names


@timeout(50)
def test_pools_weighted_round_robin_smooth(px):
    heavy, light = "p19011", "p19012"
    with Backends(px, 19011, 19012) as bk:
        # the exact order of the picks: one connection, requests pipelined (pollux takes
        # them one after the other), nothing else using the pool
        c = Client()
        order = []
        for b in range(8):
            order += pipelined_names(c, ["/weighted/seq/%d" % (b * 50 + i) for i in range(50)])
        c.close()
        eq(set(order), {heavy, light}, "backends of the first 400 requests")
        for i in range(len(order) - 3):
            w = order[i:i + 4]
            check(w.count(light) == 1, "requests %d..%d went to %r: want %s exactly once in "
                  "every 4 (smooth 3:1); first 24: %r" % (i, i + 3, w, light, order[:24]))
        run = longest = 0
        for n in order:
            run = run + 1 if n == heavy else 0
            longest = max(longest, run)
        check(longest <= 3, "%s got %d requests in a row (weights 3:1)" % (heavy, longest))

        # the rest of 10,000, from 8 connections at once, pipelined in batches of 50
        per = (10000 - len(order)) // 8

        def worker(k):
            cc = Client()
            got = []
            try:
                for b in range(0, per, 50):
                    got += pipelined_names(cc, ["/weighted/par/%d/%d" % (k, i)
                                                for i in range(b, min(per, b + 50))])
            finally:
                cc.close()
            return got

        t0 = time.time()
        for got in run_threads(8, worker):
            order += got
        dt = time.time() - t0
        eq(len(order), 10000, "answers")
        n = collections.Counter(order)
        eq(set(n), {heavy, light}, "backends that answered")
        for name, want in ((heavy, 0.75), (light, 0.25)):
            share = n[name] / len(order)
            check(abs(share - want) <= 0.05 * want, "%s answered %d of %d (%.2f %%), want "
                  "%.0f %% +- 5 %%" % (name, n[name], len(order), share * 100, want * 100))
        # what the backends received agrees with what the client was told
        for port, name in ((19011, heavy), (19012, light)):
            got = bk[port].requests()
            eq(len(got), n[name], "requests backend %s received" % name)
            check(all(e["target"].startswith("/weighted/") for e in got),
                  "%s received a request not for /weighted/" % name)
        check(dt < 30, "10,000 requests took %.1f s" % dt)


# ---------------------------------------------------------------- 2: least connections

@timeout(30)
def test_pools_least_connections_prefers_idle_backend(px):
    with Backends(px, 19013, 19014) as bk:
        bk[19013].set(delay=1500)       # every request to p19013 takes 1.5 s
        load = Load(8, "/lc/x")
        time.sleep(2.0)
        load.stop()
        eq(load.failed, [], "failed requests")
        n = collections.Counter(name for _, _, name in load.ok)
        slow, idle = n["p19013"], n["p19014"]
        # least connections sends p19013 a request only when it has no more busy
        # connections than p19014; p19014 answers at once, so p19013 rarely qualifies.
        # (Round robin would give it every other pick: half the requests, each thread
        # stuck 1.5 s out of every two requests.)
        check(idle >= 200, "the idle backend answered only %d requests in 2 s (slow one %d)" %
              (idle, slow))
        check(slow <= 8 and slow * 20 <= idle, "the slow backend (1.5 s per request) got %d "
              "requests and the idle one %d; least connections should send nearly all to the "
              "idle one" % (slow, idle))
        eq(len(bk[19013].requests()), slow, "requests p19013 received")
        eq(len(bk[19014].requests()), idle, "requests p19014 received")
        # p19013 is never given more in-flight requests than 8 clients allow when each
        # pick takes the least busy: at most 4 at once (the rest are at p19014 or free)
        arr = sorted(e["t"] for e in bk[19013].requests())
        most = max([sum(1 for u in arr if t - 1.5 < u <= t) for t in arr] or [0])
        check(most <= 4, "p19013 had %d requests in flight at once" % most)


# ---------------------------------------------------------------- 3: client-IP hash

SOURCES = ["127.0.0.%d" % i for i in range(2, 41)]


def hash_round(conns, per_conn, what):
    """Every source sends conns * per_conn GETs, on conns connections; returns
    {source: [backend names]}, checking X-Forwarded-For on the way."""
    out = {}
    for src in SOURCES:
        names = []
        for k in range(conns):
            c = Client(src)
            try:
                for i in range(per_conn):
                    r = c.get("/hash/%s/%d/%d" % (src, k, i))
                    names.append(served_by(r, "%s: GET from %s" % (what, src)))
                    xff = header_values(r.json()["headers"], "x-forwarded-for")
                    eq(xff, [src], "%s: X-Forwarded-For of a request from %s" % (what, src))
            finally:
                c.close()
        out[src] = names
    return out


@timeout(40)
def test_pools_ip_hash_sticky_and_failover(px):
    lw = LogWatch(px)
    try:
        with Backends(px, 19015, 19016) as bk:
            first = hash_round(4, 5, "all up")
            home = {}
            for src, names in first.items():
                check(len(set(names)) == 1, "requests from %s went to %r" % (
                    src, collections.Counter(names)))
                home[src] = names[0]
            per = collections.Counter(home.values())
            check(per["p19015"] >= 1 and per["p19016"] >= 1,
                  "sources per backend %r: want both backends to get some" % dict(per))

            # p19015 stops: its clients go to p19016, p19016's clients stay
            mark = lw.mark()
            t_kill = time.time()
            bk[19015].kill()
            second = hash_round(1, 5, "p19015 stopped")
            for src, names in second.items():
                eq(set(names), {"p19016"}, "backends of %s (home %s) while p19015 is stopped" % (
                    src, home[src]))
            t_out, _ = lw.wait(passive_rx(19015), mark, within=1.0, what="p19015 stopped")
            moved = [e for e in bk[19016].requests() if e["t"] >= t_kill]
            eq(len(moved), 5 * len(SOURCES), "requests p19016 received while p19015 was out")

            # p19015 again; once its mark ends (T_DOWN after the failure), its clients return
            t_up = bk[19015].start()
            time.sleep(max(0.0, t_out + T_DOWN + 0.2 - time.time()))
            third = hash_round(1, 5, "p19015 back")
            for src, names in third.items():
                eq(set(names), {home[src]}, "backends of %s after p19015 came back" % src)
            back = bk[19015].requests()
            eq(sorted({header_values(e["headers"], "x-forwarded-for")[0] for e in back}),
               sorted(s for s in SOURCES if home[s] == "p19015"),
               "sources the restarted p19015 served")
            check(min(e["t"] for e in back) >= t_up, "p19015 served before it restarted?")
    finally:
        lw.stop()


# ---------------------------------------------------------------- 4: failover under load

@timeout(40)
def test_pools_failover_under_load(px):
    slack = 0.5 if slow_build(px) else 0.0
    lw = LogWatch(px)
    load = None
    try:
        with Backends(px, 19019, 19020) as bk:
            wait_checked_in(px, bk, (19019, 19020))
            load = Load(6, "/checked/load")
            time.sleep(2.0)
            t_kill0 = time.time()
            mark = lw.mark()
            t_kill = bk[19019].kill()
            # passive (a refused connect under load) or active: within one check interval
            t_out, line = lw.wait(out_rx(19019), mark, within=2.0, what="p19019 killed")
            check(t_out - t_kill0 <= CHECK_EVERY + SWEEP + 0.4 + slack,
                  "p19019 marked out %.2f s after it was killed (%r)" % (t_out - t_kill0, line))
            lw.wait(checks_out_rx(19019), mark, within=1.5 + slack, what="p19019 killed")
            time.sleep(max(0.0, t_kill + 2.5 - time.time()))
            mark = lw.mark()
            t_up = bk[19019].start()
            # rise 2: the next check (at most one interval away) and the one after it
            t_in, _ = lw.wait(checks_in_rx(19019), mark, within=3.0, what="p19019 restarted")
            # (+0.5 s: a backend.py restart and two checks on a loaded 2-core box)
            check(t_in - t_up <= 2 * CHECK_EVERY + 2 * SWEEP + 1.0 + slack,
                  "p19019 back in rotation %.2f s after it restarted" % (t_in - t_up))
            time.sleep(1.5)
            load.stop()
            failed = load.failed
            check(not failed, "%d of %d GETs failed at the client; first ones: %r" % (
                len(failed), len(failed) + len(load.ok), failed[:3]))
            before = load.names_between(0, t_kill0)
            check(before["p19019"] > 50 and before["p19020"] > 50,
                  "answers before the kill: %r" % dict(before))
            # (an answer p19019 sent just before it died may be read a moment later)
            gone = load.names_between(t_kill + 0.1, t_up)
            eq(gone["p19019"], 0, "answers from p19019 while it was dead")
            check(gone["p19020"] > 50, "answers while p19019 was dead: %r" % dict(gone))
            # the restarted p19019 takes client traffic again once back in rotation
            got = bk[19019].requests()
            check(len(got) > 50, "the restarted p19019 received %d client requests" % len(got))
            first_t = min(e["t"] for e in got)
            check(first_t >= t_in - 0.1,
                  "the restarted p19019 got a client request %.2f s before it was back in "
                  "rotation" % (t_in - first_t))
            check(first_t - t_in <= 0.5, "the restarted p19019 got its first client request "
                  "%.2f s after it was back in rotation" % (first_t - t_in))
            after = load.names_between(t_in + 0.2, time.time())
            check(after["p19019"] > 50, "answers after p19019 came back: %r" % dict(after))
    finally:
        if load is not None:
            load.stop()
        lw.stop()


# ---------------------------------------------------------------- 5: active checks alone

def get_timed(target):
    c = Client()
    try:
        t0 = time.time()
        r = c.get(target)
        return r, time.time() - t0
    finally:
        c.close()


@timeout(40)
def test_pools_active_checks_without_traffic(px):
    slack = 0.5 if slow_build(px) else 0.0
    # two checks and two sweeps, and room for a loaded 2-core box: ~2 s
    within = 2 * CHECK_EVERY + 2 * SWEEP + 0.8 + slack
    lw = LogWatch(px)
    try:
        with Backends(px, 19019, 19020) as bk:
            wait_checked_in(px, bk, (19019, 19020))
            # p19020 stops listening, p19019's /health says 500: both out on checks alone
            mark = lw.mark()
            bk[19019].set(health=500)
            t0 = time.time()
            bk[19020].kill()
            t20, _ = lw.wait(checks_out_rx(19020), mark, within=3.0, what="p19020 stopped")
            t19, ln19 = lw.wait(checks_out_rx(19019), mark, within=3.0, what="p19019 /health 500")
            check(t20 - t0 <= within, "p19020 out %.2f s after it stopped (want <= %.1f)" % (
                t20 - t0, within))
            check(t19 - t0 <= within, "p19019 out %.2f s after /health began to answer 500 "
                  "(want <= %.1f)" % (t19 - t0, within))
            check(ln19.endswith("status 500"), "why p19019 is out: %r" % ln19)
            eq(lw.find(r"^warn: backend 127\.0\.0\.1:(19019|19020): out for", mark), [],
               "passive marks without client traffic")
            # both out: 503 at once, nothing forwarded
            r, _ = get_timed("/checked/while-out")
            eq(r.status, 503, "status with both backends of 'checked' out")
            check(r.has("retry-after"), "503 without Retry-After: %r" % r.headers)
            eq(bk[19019].requests(), [], "client requests p19019 received while out")

            # back: p19019's /health is fine again, p19020 listens again
            mark = lw.mark()
            bk[19019].set(health=200)
            t0 = time.time()
            t_up = bk[19020].start()
            t19, _ = lw.wait(checks_in_rx(19019), mark, within=3.0, what="p19019 /health 200")
            t20, _ = lw.wait(checks_in_rx(19020), mark, within=3.0, what="p19020 restarted")
            check(t19 - t0 <= within, "p19019 back %.2f s after /health was fixed" % (t19 - t0))
            check(t20 - t_up <= within, "p19020 back %.2f s after it restarted" % (t20 - t_up))
            names = [served_by(get_timed("/checked/back/%d" % i)[0], "GET after both came back")
                     for i in range(4)]
            eq(sorted(names), ["p19019", "p19019", "p19020", "p19020"], "who answered 4 GETs")

            # a check that gets no answer fails after one interval; meanwhile the loop
            # serves clients without waiting for it
            mark = lw.mark()
            bk[19019].set(health="hang")
            t0 = time.time()
            slowest = 0.0
            while not lw.find(checks_out_rx(19019), mark) and time.time() < t0 + 4:
                r, dt = get_timed("/checked/during-hang")
                eq(r.status, 200, "status while p19019's /health hangs")
                slowest = max(slowest, dt)
                time.sleep(0.02)
            t19, ln19 = lw.wait(checks_out_rx(19019), mark, within=0.1,
                                what="p19019 /health hangs")
            check(ln19.endswith("no answer in time"), "why p19019 is out: %r" % ln19)
            # the next check starts within an interval and times out after one; the one
            # after it starts an interval later and times out after one more
            lim = 4 * (CHECK_EVERY + SWEEP) + 0.2 + slack
            check(t19 - t0 <= lim, "p19019 out %.2f s after /health hung (want <= %.1f)" % (
                t19 - t0, lim))
            lim = 0.25 if slow_build(px) else 0.1
            check(slowest <= lim, "a GET took %.3f s while a check waited for an answer "
                  "(want <= %.2f)" % (slowest, lim))
            bk[19019].set(health="echo")
            lw.wait(checks_in_rx(19019), mark, within=3.5, what="p19019 /health answers again")

            # what the checks looked like
            ks = bk[19019].checks(px.pid)
            check(len(ks) >= 8, "p19019 received %d checks" % len(ks))
            for e in ks:
                eq((e["method"], e["version"]), ("GET", "HTTP/1.1"), "check request line")
                eq(header_values(e["headers"], "user-agent"), ["pollux-check"],
                   "User-Agent of a check")
                eq([v.lower() for v in header_values(e["headers"], "connection")], ["close"],
                   "Connection of a check")
            gaps = sorted(b["t"] - a["t"] for a, b in zip(ks, ks[1:]))
            check(gaps[0] >= 0.4 and 0.4 <= gaps[len(gaps) // 2] <= 0.75,
                  "checks of p19019 came %r s apart (every 0.5 s)" % [round(g, 2) for g in gaps])
    finally:
        lw.stop()


# ---------------------------------------------------------------- 6: backups

@timeout(30)
def test_pools_backup_only_while_primaries_out(px):
    lw = LogWatch(px)
    try:
        with Backends(px, 19017, 19018) as bk:
            c = Client()
            try:
                names = [served_by(c.get("/backup/a/%d" % i), "GET with both up")
                         for i in range(20)]
                eq(set(names), {"p19017"}, "who answered with the primary up")
                eq(bk[19018].requests(), [], "requests the backup received with the primary up")

                mark = lw.mark()
                bk[19017].kill()
                names = [served_by(c.get("/backup/b/%d" % i), "GET after the primary stopped")
                         for i in range(20)]
                eq(set(names), {"p19018"}, "who answered with the primary stopped")
                t_out, _ = lw.wait(passive_rx(19017), mark, within=1.0, what="primary stopped")
                eq(len(bk[19018].requests()), 20, "requests the backup received")

                # the primary again: traffic returns to it once its mark (T_DOWN) ends
                t_up = bk[19017].start()
                seen = []
                while time.time() < t_out + T_DOWN + 1.0:
                    seen.append((time.time(), served_by(c.get("/backup/c/%d" % len(seen)),
                                                        "GET after the primary restarted")))
                    if seen[-1][1] == "p19017":
                        break
                    time.sleep(0.02)
                check(seen and seen[-1][1] == "p19017", "the restarted primary answered no GET "
                      "within %.1f s of being marked out" % (T_DOWN + 1.0))
                got = bk[19017].requests()
                check(got[0]["t"] >= t_out + T_DOWN - 0.1,
                      "the primary was tried %.2f s after it was marked out (T_DOWN %.1f s)" % (
                          got[0]["t"] - t_out, T_DOWN))
                check(seen[-1][0] - (t_out + T_DOWN) <= 0.3,
                      "traffic came back to the primary %.2f s after its mark ended" % (
                          seen[-1][0] - (t_out + T_DOWN)))
                names = [served_by(c.get("/backup/d/%d" % i), "GET after the primary is back")
                         for i in range(20)]
                eq(set(names), {"p19017"}, "who answered once the primary is back")
                check(t_up < got[0]["t"], "primary served before it restarted?")
            finally:
                c.close()
    finally:
        lw.stop()


# ---------------------------------------------------------------- 7: every backend out

class CountingListener:
    """Listens on a port and counts the connections made to it (accepting later)."""

    def __init__(self, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind(("127.0.0.1", port))
        self.s.listen(64)
        self.s.setblocking(False)
        self.accepted = []

    def count(self):
        while True:
            try:
                a, _ = self.s.accept()
            except BlockingIOError:
                return len(self.accepted)
            self.accepted.append(a)

    def close(self):
        for a in self.accepted:
            a.close()
        self.s.close()


def warm_client():
    """A connection pollux has accepted and served once (pool web, the runner's backends)."""
    c = Client()
    r = c.get("/echo/warm")
    eq(r.status, 200, "status of the warm-up GET")
    return c


@timeout(30)
def test_pools_all_down_503_at_once_no_connects(px):
    limit = 0.05 if slow_build(px) else 0.01
    lw = LogWatch(px)
    listeners = []
    try:
        for p in (19017, 19018):
            check(not tcp_listening(p), "something listens on 127.0.0.1:%d" % p)
        # the first failures mark both out (primary refused, retried on the backup, refused)
        mark = lw.mark()
        statuses = []
        for i in range(3):
            c = Client()
            try:
                statuses.append(c.get("/backup/first/%d" % i).status)
            finally:
                c.close()
            if lw.find(passive_rx(19017), mark) and lw.find(passive_rx(19018), mark):
                break
        check(set(statuses) <= {502, 503}, "statuses of the first GETs: %r" % statuses)
        t17, _ = lw.wait(passive_rx(19017), mark, within=0.5, what="first GETs")
        t18, _ = lw.wait(passive_rx(19018), mark, within=0.5, what="first GETs")
        t_end = min(t17, t18) + T_DOWN - 0.2     # both still marked out until then
        # from now on any connect to their ports would be seen
        listeners = [CountingListener(p) for p in (19017, 19018)]
        times = []
        while time.time() < t_end - 0.1 and len(times) < 20:
            c = warm_client()
            try:
                t0 = time.perf_counter()
                c.s.sendall(request("GET", "/backup/out/%d" % len(times)))
                r = c.rd.read_response()
                dt = time.perf_counter() - t0
            finally:
                c.close()
            eq(r.status, 503, "status with every backend of the pool out")
            check(r.has("retry-after"), "503 without Retry-After: %r" % r.headers)
            check(r.body, "503 with an empty body")
            times.append(dt)
        check(time.time() < t_end, "test too slow: the marks were about to end")
        check(len(times) >= 5, "only %d requests made while the backends were out" % len(times))
        got = [ln.count() for ln in listeners]
        eq(got, [0, 0], "connections pollux opened to 19017, 19018 while both were out "
           "(%d requests)" % len(times))
        check(max(times) <= limit, "503 took %s ms on a warm connection (want <= %.0f ms)" % (
            ["%.1f" % (t * 1000) for t in times], limit * 1000))
        # the counting works: a connection of our own is seen
        for p, ln in zip((19017, 19018), listeners):
            socket.create_connection(("127.0.0.1", p), timeout=1).close()
            eq(ln.count(), 1, "connections counted on %d after one of ours" % p)
        for ln in listeners:
            ln.close()
        listeners = []
        eq(len(lw.find(r"^warn: backend 127\.0\.0\.1:1901[78]: out for", mark)), 2,
           "'out' lines for the two backends")
        # once the marks end, a live primary is used again
        with Backends(px, 19017):
            time.sleep(max(0.0, t17 + T_DOWN + 0.15 - time.time()))
            c = Client()
            try:
                eq(served_by(c.get("/backup/again"), "GET once the marks ended"), "p19017",
                   "who answered once the marks ended")
            finally:
                c.close()
    finally:
        for ln in listeners:
            ln.close()
        lw.stop()


# ---------------------------------------------------------------- 8: retries

@timeout(30)
def test_pools_retry_idempotent_not_post_with_body(px):
    lw = LogWatch(px)
    body = os.urandom(5000)
    sha = hashlib.sha256(body).hexdigest()
    try:
        with Backends(px, 19017, 19018) as bk:
            bk[19017].set(drop=1)      # the primary reads each request and closes unanswered

            def primary_entries(target):
                return [e for e in bk[19017].requests() if e["target"] == target]

            def backup_entries(target):
                return [e for e in bk[19018].requests() if e["target"] == target]

            def one(method, target, data=b"", headers=()):
                c = Client()
                try:
                    return c.req(method, target, data, headers)
                finally:
                    c.close()

            def wait_primary_back(t_out):
                time.sleep(max(0.0, t_out + T_DOWN + 0.15 - time.time()))

            # GET: dropped by the primary, retried on the backup
            mark = lw.mark()
            r = one("GET", "/backup/retry-get")
            eq(served_by(r, "GET the primary dropped"), "p19018", "who answered the GET")
            t_out, _ = lw.wait(passive_rx(19017) + "backend closed before responding", mark,
                               within=0.5, what="GET dropped")
            lw.wait(r'^info: retrying "GET /backup/retry-get" on 127\.0\.0\.1:19018 after: ',
                    mark, within=0.5, what="GET dropped")
            eq([e.get("dropped") for e in primary_entries("/backup/retry-get")], [True],
               "the primary's copy of the GET")
            eq(len(backup_entries("/backup/retry-get")), 1, "the backup's copies of the GET")

            # PUT with a body (idempotent): retried, the backup gets the whole body
            wait_primary_back(t_out)
            mark = lw.mark()
            r = one("PUT", "/backup/upload-put", body)
            eq(r.status, 200, "status of the PUT the primary dropped")
            j = r.json()
            eq((j["name"], j["body_len"], j["body_sha256"]), ("p19018", 5000, sha),
               "the retried PUT at the backend")
            t_out, _ = lw.wait(passive_rx(19017), mark, within=0.5, what="PUT dropped")
            lw.wait(r'^info: retrying "PUT /backup/upload-put" on 127\.0\.0\.1:19018', mark,
                    within=0.5, what="PUT dropped")
            eq([(e["body_len"], e.get("dropped")) for e in primary_entries("/backup/upload-put")],
               [(5000, True)], "the primary's copy of the PUT (body length, dropped)")

            # POST whose body went out: never repeated, 502
            wait_primary_back(t_out)
            mark = lw.mark()
            r = one("POST", "/backup/upload-post", body)
            eq(r.status, 502, "status of a POST with a body the primary dropped")
            t_out, _ = lw.wait(passive_rx(19017), mark, within=0.5, what="POST dropped")
            time.sleep(0.1)
            eq(lw.find(r"^info: retrying ", mark), [], "retry lines for the POST")
            eq([(e["body_len"], e.get("dropped")) for e in
                primary_entries("/backup/upload-post")], [(5000, True)],
               "the primary's copy of the POST (body length, dropped)")
            eq(backup_entries("/backup/upload-post"), [], "the backup's copies of the POST")

            # POST without a body: no body byte was sent, so it may be repeated
            wait_primary_back(t_out)
            mark = lw.mark()
            r = one("POST", "/backup/post-empty", headers=[("Content-Length", "0")])
            eq(served_by(r, "POST without a body the primary dropped"), "p19018",
               "who answered the empty POST")
            lw.wait(r'^info: retrying "POST /backup/post-empty" on 127\.0\.0\.1:19018', mark,
                    within=0.5, what="empty POST dropped")
            eq(len(backup_entries("/backup/post-empty")), 1, "the backup's copies of it")
    finally:
        lw.stop()


@timeout(20)
def test_pools_first_byte_timeout_marks_out(px):
    """Passive health: no response byte within T_FIRST_BYTE (2 s) is a 504 and leaves the
    backend out for T_DOWN; meanwhile the pool's backup takes the traffic."""
    slack = 0.5 if slow_build(px) else 0.0
    lw = LogWatch(px)
    try:
        with Backends(px, 19017, 19018) as bk:
            bk[19017].set(delay=3000)
            mark = lw.mark()
            c = Client()
            try:
                t0 = time.time()
                r = c.get("/backup/fb/slow")
                dt = time.time() - t0
            finally:
                c.close()
            eq(r.status, 504, "status when the primary sends nothing for T_FIRST_BYTE")
            check(1.8 <= dt <= 2.6 + slack, "504 after %.2f s, want ~2 s" % dt)
            t_out, _ = lw.wait(passive_rx(19017) + "no response in time", mark, within=0.5,
                               what="first-byte timeout")
            bk[19017].set(delay=0)
            c = Client()
            try:
                names = [served_by(c.get("/backup/fb/%d" % i), "GET while the primary is out")
                         for i in range(5)]
                eq(names, ["p19018"] * 5, "who answered while the primary was out")
                eq([e["target"] for e in bk[19017].requests()], ["/backup/fb/slow"],
                   "what the primary received")
                time.sleep(max(0.0, t_out + T_DOWN + 0.15 - time.time()))
                eq(served_by(c.get("/backup/fb/after"), "GET after T_DOWN"), "p19017",
                   "who answered once the mark ended")
            finally:
                c.close()
    finally:
        lw.stop()


@timeout(20)
def test_pools_retry_after_stale_keepalive_goes_to_another_backend(px):
    """The failover test's race, made deterministic: pollux holds two idle keep-alive
    connections to a backend that now fails every request before answering. A GET on one
    of them fails; its one retry must go to another backend (issue 4), not to the same
    backend again (over the other idle connection, failing the same way)."""
    lw = LogWatch(px)
    try:
        with Backends(px, 19011, 19012) as bk:
            # smooth 3:1 from a fresh start picks 19011, 19011, 19012, 19011, ...: two
            # overlapping requests open two connections to 19011, a third goes to 19012
            def slow(i):
                c = Client()
                try:
                    r = c.get("/weighted/slow/300")
                    eq((r.status, r.body), (200, b"slow"), "answer of a slow GET")
                finally:
                    c.close()

            run_threads(2, slow)
            c = Client()
            try:
                eq(served_by(c.get("/weighted/third"), "third GET"), "p19012", "who answered "
                   "the third GET")
            finally:
                c.close()
            a = bk[19011].requests()
            eq(len({e["conn_id"] for e in a}), 2, "connections 19011 served the slow GETs on")
            bk[19011].set(drop=1)
            mark = lw.mark()
            c = Client()
            try:
                r = c.get("/weighted/stale")
                time.sleep(0.05)        # LogWatch's poll
                tried = [e["conn_id"] for e in bk[19011].requests() if e["target"] ==
                         "/weighted/stale"]
                retries = lw.text(mark)
                eq(r.status, 200, "status of a GET whose keep-alive connection to 19011 failed "
                   "(19011 got it on connections %r; log: %r)" % (
                       tried, [ln for ln in retries if "access:" not in ln]))
                eq(r.json()["name"], "p19012", "who answered it")
            finally:
                c.close()
            lw.wait(r'^info: retrying "GET /weighted/stale" on 127\.0\.0\.1:19012', mark,
                    within=0.5, what="stale connection")
            eq(len(tried), 1, "copies of the GET 19011 received")
    finally:
        lw.stop()


# ---------------------------------------------------------------- 9: Unix socket backend

@timeout(20)
def test_pools_unix_socket_backend(px):
    with Backends(px, unix=UNIX_SOCK) as bk:
        c = Client()
        try:
            r = c.get("/unix/echo?x=1")
            j = r.json()
            eq((r.status, j["name"], j["method"], j["target"]),
               (200, "unix", "GET", "/unix/echo?x=1"), "answer through the Unix socket")
            eq(header_values(j["headers"], "x-forwarded-for"), ["127.0.0.1"], "X-Forwarded-For")
            body = os.urandom(100000)
            r = c.req("POST", "/unix/upload", body)
            eq(r.status, 200, "status of a 100 kB POST")
            j2 = r.json()
            eq((j2["name"], j2["body_len"], j2["body_sha256"]),
               ("unix", len(body), hashlib.sha256(body).hexdigest()), "the body at the backend")
            r = c.get("/unix/echo/again")
            j3 = r.json()
            eq(j3["conn_id"], j["conn_id"], "backend connection of a later request (kept alive)")
        finally:
            c.close()
        c = Client("127.0.0.9")
        try:
            j = c.get("/unix/from9").json()
            eq(header_values(j["headers"], "x-forwarded-for"), ["127.0.0.9"],
               "X-Forwarded-For of a client at 127.0.0.9")
        finally:
            c.close()
        a = px.wait_access(200, "/unix/echo?x=1")
        eq(a["backend"], "unix:" + UNIX_SOCK, "backend in the access line")
        eq(len(bk[UNIX_SOCK].requests()), 4, "requests the Unix-socket backend received")
