"""The daemon and its operations (issue 7, and the privilege drop of issue 6): -t, -V, -h,
SIGTERM/SIGINT draining, SIGHUP log reopening, SIGUSR1 counters, the stats listener
(127.0.0.1:18099: /metrics in Prometheus text, / as a summary), -d with a pidfile, dropping
root to RUN_USER, and `make install`.

Most tests drive the binary under test (px.binary; the runner's label). What needs another
config (a log file, a pidfile, RUN_USER, no ALLOW_ROOT, certificates a test may break) runs
on variant builds: tests/integration/config.h with a few lines changed, written to
build/test/daemon/NAME.h and built with the x86_64 (release) board into
build/test/daemon/pollux-NAME,
once per runner process (make does nothing when NAME.h and the sources are unchanged). Those
tests are named test_daemon_variant_*: under every label (release, nomalloc, asan, a cross
board) they test the release variant builds, not the label's own binary.

Every test that starts its own pollux first stops the one the runner started (it holds the
ports), and kills what it started before it returns, failed or not.
"""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import threading
import time

from harness import (HOST, HOST6, PORT, REDIRECT_PORT, ROOT, SANITIZER_MARKS, TLS_DIR,
                     TLS_PORT, Proxy, Reader, check, eq, expect_closed, fail, request, short,
                     tcp_listening, timeout, ws_accept, ws_frame, ws_key, ws_read_frame)
from test_tls import client_ctx

STATS_PORT = 18099
CONFIG = os.path.join(ROOT, "tests", "integration", "config.h")
DAEMON_DIR = os.path.join(ROOT, "build", "test", "daemon")
FILES_DIR = os.path.join(DAEMON_DIR, "files")   # the "files" variant's certificates, log, pidfile
PRIV_DIR = os.path.join(DAEMON_DIR, "priv")     # the "nobody" variant's certificates (root only)
NO_SUCH_USER = "pollux-no-such-user"
LISTEN_ADDRS = [(HOST, PORT), (HOST6, PORT), (HOST, TLS_PORT), (HOST, REDIRECT_PORT),
                (HOST, STATS_PORT)]


def wrap():
    """The emulator the runner uses for the binary under test (make test-boards)."""
    return os.environ.get("POLLUX_WRAP", "").split()


def slack(px):
    """A factor for time limits: sanitizer builds and emulated boards are slower."""
    if "asan" in os.path.basename(px.binary):
        return 3.0
    return 4.0 if wrap() else 1.0


# ================================================================ the test config, parsed

def _strip_comments(text):
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("/*", i):
            i = text.index("*/", i + 2) + 2
            out.append(" ")
        elif text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _fields(entry):
    d = {}
    for m in re.finditer(r'\.(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,]+)', entry):
        v = m.group(2).strip()
        d[m.group(1)] = v[1:-1] if v.startswith('"') else v
    return d


def _table(text, name):
    """The entries of `static const struct X name[] = { {...}, ... };` as (designator, fields)."""
    m = re.search(r"\b%s\[\]\s*=\s*\{" % name, text)
    check(m, "config.h: no table %s" % name)
    i, depth, start, desig, out = m.end(), 1, 0, None, []
    while depth:
        c = text[i]
        if c == "{":
            depth += 1
            if depth == 2:
                start = i + 1
                d = re.search(r"\[(\w+)\]\s*=\s*$", text[max(0, i - 60):i])
                desig = d.group(1) if d else None
        elif c == "}":
            depth -= 1
            if depth == 1:
                out.append((desig, _fields(text[start:i])))
        elif c == '"':
            i = text.index('"', i + 1)
        i += 1
    return out


def parse_config(path=CONFIG):
    text = _strip_comments(open(path).read())
    enum = re.search(r"enum\s+pool_name\s*\{([^}]*)\}", text).group(1)
    pool_ids = [p.strip() for p in enum.split(",") if p.strip() and p.strip() != "NPOOLS"]
    pools = {}
    for desig, f in _table(text, "pools"):
        pools[desig] = f
    defines = {m.group(1): m.group(2).strip() for m in
               re.finditer(r"^#define\s+(\w+)\s+(.*?)\s*$", text, re.M)}
    return {
        "pool_ids": pool_ids,
        "pools": [pools[p] for p in pool_ids],
        "pool_name": {p: pools[p]["name"] for p in pool_ids},
        "backends": [f for _, f in _table(text, "backends")],
        "routes": [f for _, f in _table(text, "routes")],
        "listeners": [f for _, f in _table(text, "listeners")],
        "certs": [f for _, f in _table(text, "certs")],
        "defines": defines,
    }


CONF = parse_config()
DEF = CONF["defines"]
T_DRAIN = int(DEF["T_DRAIN"]) / 1000.0
T_DOWN = int(DEF["T_DOWN"]) / 1000.0
NSLOTS = int(DEF["SLOTS"])
MAX_PER_ADDR = int(DEF["MAX_PER_ADDR"])
POLICY = {"LB_ROUND_ROBIN": "round-robin", "LB_LEAST_CONN": "least-conn", "LB_IP_HASH": "ip-hash"}


# ================================================================ running pollux

class Ran:
    def __init__(self, rc, out, err, elapsed):
        self.rc, self.out, self.err, self.elapsed = rc, out, err, elapsed

    def __repr__(self):
        return "exit %s after %.2f s, stdout %r, stderr %r" % (
            self.rc, self.elapsed, self.out[-600:], self.err[-600:])


def run(binary, *args, emulate=True, t=20):
    """Runs pollux with args to its end (cwd: the source tree, as config.h's paths want)."""
    cmd = (wrap() if emulate else []) + [binary] + list(args)
    t0 = time.time()
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
        try:
            rc = p.wait(t)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            fail("%s did not end within %d s" % (" ".join(cmd[-2:]), t))
        elapsed = time.time() - t0
        fo.seek(0)
        fe.seek(0)
        r = Ran(rc, fo.read().decode("utf-8", "replace"), fe.read().decode("utf-8", "replace"),
                elapsed)
    marks = [m for m in SANITIZER_MARKS if m in r.err]
    check(not marks, "pollux %s: stderr holds %s: %s" % (" ".join(args), marks, r.err[-1500:]))
    return r


class Pollux:
    """A pollux this test starts (a variant build, or a second run of the binary under test)."""

    def __init__(self, binary, workdir, name, args=(), emulate=False):
        self.binary, self.args, self.emulate = binary, list(args), emulate
        self.errpath = os.path.join(workdir, "%s.stderr" % name)
        self.proc = None

    def start(self, ready=True):
        cmd = (wrap() if self.emulate else []) + [self.binary] + self.args
        with open(self.errpath, "wb") as err:
            self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=err,
                                         stderr=err)
        if ready:
            self.wait_ready()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(self.errpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_ready(self, wait=5.0):
        deadline = time.time() + wait
        while True:
            if self.proc.poll() is not None:
                fail("%s exited during start-up with %s: %s" % (
                    os.path.basename(self.binary), self.proc.returncode, self.log()[-800:]))
            if ("info: listening on 127.0.0.1:%d" % STATS_PORT in self.log() and
                    all(tcp_listening(p) for p in (PORT, TLS_PORT, REDIRECT_PORT, STATS_PORT))):
                return
            if time.time() > deadline:
                fail("%s not listening within %.0f s: %s" % (
                    os.path.basename(self.binary), wait, self.log()[-800:]))
            time.sleep(0.02)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, t):
        """The exit status, or None when still running after t seconds."""
        try:
            return self.proc.wait(t)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace=6.0):
        """SIGTERM; fails unless pollux exits 0 within grace seconds."""
        self.signal(signal.SIGTERM)
        rc = self.wait(grace)
        check(rc is not None, "%s did not exit within %.0f s of SIGTERM" % (
            os.path.basename(self.binary), grace))
        eq(rc, 0, "exit status on SIGTERM (log: %s)" % self.log()[-400:])

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def stop_runner_pollux(px):
    """Stops the pollux the runner started, so this test may bind the ports."""
    px.stopped_by_test = True
    rc, problem = px.stop()
    check(problem is None, "the runner's pollux: %s" % problem)
    eq(rc, 0, "the runner's pollux: exit status on SIGTERM")
    deadline = time.time() + 3
    while any(tcp_listening(p) for p in (PORT, TLS_PORT, REDIRECT_PORT, STATS_PORT)):
        check(time.time() < deadline, "the suite's ports still listen after pollux exited")
        time.sleep(0.02)


def workdir(px):
    return os.path.dirname(px.errpath)


# ================================================================ variant builds

def _make_env():
    # a `make test` above us must not hand its flags or variables to this make
    return {k: v for k, v in os.environ.items()
            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "CONFIG", "OUT",
                         "BOARD")}


def _variant_texts():
    base = open(CONFIG).read()

    def certs_in(text, d):
        n = text.count('"build/test/tls/')
        check(n == 6, "config.h: want 6 certificate paths under build/test/tls/, found %d" % n)
        return text.replace('"build/test/tls/', '"%s/' % os.path.join(d, "tls"))

    def no_allow_root(text):
        t2, n = re.subn(r"^#define\s+ALLOW_ROOT\b.*$", "", text, flags=re.M)
        check(n == 1, "config.h: no '#define ALLOW_ROOT' line to take out")
        return t2

    def add(text, *lines):
        return text + "\n/* build/test/daemon variant */\n" + "\n".join(lines) + "\n"

    return {
        # certificates a test may break, a log file, a pidfile
        "files": add(certs_in(base, FILES_DIR),
                     "#define LOG_TO LOG_TO_FILE",
                     '#define LOG_FILE "%s/log/pollux.log"' % FILES_DIR,
                     '#define PIDFILE "%s/run/pollux.pid"' % FILES_DIR),
        "nouser": add(base, '#define RUN_USER "%s"' % NO_SUCH_USER),
        "nobody": add(certs_in(no_allow_root(base), PRIV_DIR), '#define RUN_USER "nobody"'),
        "noroot": no_allow_root(base),
    }


_BUILT = {}


def variants():
    """Builds the four variants once per process (in parallel); returns name -> binary."""
    if _BUILT:
        return _BUILT
    os.makedirs(DAEMON_DIR, exist_ok=True)
    procs = []
    for name, text in sorted(_variant_texts().items()):
        h = os.path.join(DAEMON_DIR, name + ".h")
        try:
            same = open(h).read() == text
        except OSError:
            same = False
        if not same:                # rewritten only when changed, so make can skip the build
            with open(h + ".tmp", "w") as f:
                f.write(text)
            os.replace(h + ".tmp", h)
        out = os.path.join(DAEMON_DIR, "pollux-" + name)
        logp = os.path.join(DAEMON_DIR, "build-%s.log" % name)
        lf = open(logp, "wb")
        p = subprocess.Popen(["make", "-s", "BOARD=x86_64", "CONFIG=" + os.path.relpath(h, ROOT),
                              "OUT=" + os.path.relpath(out, ROOT)], cwd=ROOT, env=_make_env(),
                             stdin=subprocess.DEVNULL, stdout=lf, stderr=lf)
        procs.append((name, out, logp, lf, p))
    bad = []
    for name, out, logp, lf, p in procs:
        try:
            rc = p.wait(300)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = "timeout"
        lf.close()
        if rc != 0 or not os.access(out, os.X_OK):
            bad.append("%s (exit %s): %s" % (name, rc, open(logp).read()[-600:]))
    if bad:
        fail("variant build failed: " + " | ".join(bad))
    for name, out, _, _, _ in procs:
        _BUILT[name] = out
    return _BUILT


def prepare_files(log=True):
    """The "files" variant's tree: pristine copies of the test certificates, and (log) the
    log and pidfile directories."""
    shutil.rmtree(FILES_DIR, ignore_errors=True)
    os.makedirs(os.path.join(FILES_DIR, "tls"))
    for n in ("ecdsa", "rsa", "p384"):
        for ext in (".pem", ".key"):
            shutil.copyfile(os.path.join(TLS_DIR, "orig", n + ext),
                            os.path.join(FILES_DIR, "tls", n + ext))
    if log:
        os.makedirs(os.path.join(FILES_DIR, "log"))
        os.makedirs(os.path.join(FILES_DIR, "run"))


def files_path(*parts):
    return os.path.join(FILES_DIR, *parts)


LOG_FILE = files_path("log", "pollux.log")
PID_FILE = files_path("run", "pollux.pid")


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


# ================================================================ clients

def connect_from(src, port=PORT, t=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(t)
    s.bind((src, 0))
    s.connect((HOST, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_to_eof(s, t=5.0):
    s.settimeout(t)
    data = bytearray()
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            fail("no close within %.0f s (have %s)" % (t, short(data)))
        except ConnectionResetError:
            break
        if not d:
            break
        data += d
    return bytes(data)


def status_of(raw):
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", raw)
    check(m, "not an HTTP response: %s" % short(raw))
    return int(m.group(1))


def body_of(raw):
    return raw.partition(b"\r\n\r\n")[2]


def head_field(raw, name):
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1")
    for ln in head.split("\r\n")[1:]:
        n, _, v = ln.partition(":")
        if n.strip().lower() == name.lower():
            return v.strip()
    return None


class Ledger:
    """Exchanges on fresh connections (each closed by pollux after its response), counting
    the bytes each way as pollux's client side sees them (after TLS)."""

    def __init__(self):
        self.sent = 0
        self.got = 0
        self.ctx = None

    def plain(self, data, port=PORT, src=HOST):
        s = connect_from(src, port)
        try:
            s.sendall(data)
            self.sent += len(data)
            raw = read_to_eof(s)
        finally:
            s.close()
        self.got += len(raw)
        return raw

    def tls(self, data, session=None):
        """Returns (response bytes, the session, whether it was resumed)."""
        if self.ctx is None:
            self.ctx = client_ctx()         # one context: its sessions can be offered again
        s = self.ctx.wrap_socket(socket.create_connection((HOST, TLS_PORT), timeout=5),
                                 server_hostname="127.0.0.1", session=session)
        got = bytearray()
        try:
            s.sendall(data)
            self.sent += len(data)
            while True:
                try:
                    d = s.recv(65536)
                except (ssl.SSLEOFError, ConnectionResetError):
                    break
                if not d:
                    break
                got += d
            return bytes(got), s.session, s.session_reused
        finally:
            self.got += len(got)
            s.close()


def req(target, host="127.0.0.1", method="GET", body=b"", close=True):
    return request(method, target, host, [("Connection", "close")] if close else [], body)


# ================================================================ the stats pages

METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(,|$)')


def parse_metrics(text):
    """Prometheus text format 0.0.4, strictly: every line a comment, a HELP/TYPE line or a
    sample; at most one TYPE per name, before its first sample; each metric's lines one
    group. Returns {(name, ((label, value), ...)): float}, {name: type} and the grouping
    problems (a list of texts, for the caller to assert once it has checked the numbers)."""
    check(text.endswith("\n"), "the metrics page does not end with a line feed")
    samples, types, seen, current, problems = {}, {}, set(), None, []
    split, first_split = [], None
    for ln in text[:-1].split("\n"):
        if ln.startswith("#"):
            m = re.match(r"^# (TYPE|HELP) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$", ln)
            if not m:
                check(not ln.startswith("# TYPE") and not ln.startswith("# HELP"),
                      "malformed metrics line %r" % ln)
                continue
            name = m.group(2)
            if m.group(1) == "TYPE":
                check(m.group(3) in ("counter", "gauge", "histogram", "summary", "untyped"),
                      "unknown type in %r" % ln)
                check(name not in types, "a second TYPE line for %s" % name)
                check(name not in seen, "TYPE line for %s after its samples" % name)
                types[name] = m.group(3)
            continue
        check(ln.strip(), "an empty line in the metrics page")
        m = METRIC_LINE.match(ln)
        check(m, "not a Prometheus sample line: %r" % ln)
        name, labels, value = m.group(1), m.group(2), m.group(3)
        if name != current:
            if name in seen and name not in split:
                split.append(name)
                first_split = first_split or ln
            seen.add(name)
            current = name
        lab = []
        pos = 0
        while labels is not None and pos < len(labels):
            lm = LABEL.match(labels, pos)
            check(lm, "malformed labels in %r" % ln)
            lab.append((lm.group(1), lm.group(2)))
            pos = lm.end()
        try:
            v = float(value)
        except ValueError:
            fail("not a number in %r" % ln)
        key = (name, tuple(sorted(lab)))
        check(key not in samples, "sample %r twice" % (key,))
        samples[key] = v
    if split:
        problems.append("/metrics is not valid Prometheus text: the samples of %s are each "
                        "split into several groups (e.g. %r follows other metrics' samples; "
                        "the format wants all lines of a metric together)" % (
                            ", ".join(split), first_split))
    return samples, types, problems


def metric(samples, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    check(key in samples, "no sample %s%s in /metrics" % (name, labels or ""))
    return samples[key]


SUMMARY_RX = {
    "up": re.compile(r"^pollux: up (\d+) s$"),
    "connections": re.compile(r"^connections: (\d+) reading, (\d+) proxying, (\d+) tunnels, "
                              r"(\d+) closing, (\d+) free of (\d+); (\d+) accepted, (\d+) "
                              r"refused, (\d+) reclaimed$"),
    "requests": re.compile(r"^requests: 1xx (\d+), 2xx (\d+), 3xx (\d+), 4xx (\d+), 5xx (\d+)$"),
    "bytes": re.compile(r"^bytes: (\d+) in, (\d+) out$"),
    "splice": re.compile(r"^splice: (\d+) of the bytes in, (\d+) of those out; (\d+) of (\d+) "
                         r"pipes busy$"),
    "tls": re.compile(r"^tls: (\d+) handshakes \((\d+) resumed\), (\d+) failed$"),
    "cache": re.compile(r"^cache: (\d+) hits, (\d+) misses, (\d+) revalidated, (\d+) "
                        r"bypassed; (\d+) entries, (\d+) of (\d+) bytes$"),
    "backend": re.compile(r"^backend (\S+) (\S+): (up|down \(failures\)|down \(checks\)), "
                          r"(\d+) busy, (\d+) requests, (\d+) failures, out (\d+) times$"),
}


def parse_summary(lines):
    """The human summary (GET / on the stats listener; SIGUSR1's lines): a dict of the
    numbers; every line must be one of the known kinds."""
    d = {"backends": {}}
    for ln in lines:
        for kind, rx in SUMMARY_RX.items():
            m = rx.match(ln)
            if m:
                g = m.groups()
                if kind == "backend":
                    d["backends"][g[1]] = {"pool": g[0], "state": g[2], "busy": int(g[3]),
                                           "requests": int(g[4]), "failures": int(g[5]),
                                           "down": int(g[6])}
                else:
                    check(kind not in d, "two %s lines in the summary" % kind)
                    d[kind] = tuple(int(x) for x in g)
                break
        else:
            fail("unrecognised summary line %r" % ln)
    for kind in ("up", "connections", "requests", "bytes", "splice", "tls", "cache"):
        check(kind in d, "no %s line in the summary %r" % (kind, lines))
    check(d["splice"][0] <= d["bytes"][0] and d["splice"][1] <= d["bytes"][1],
          "more bytes spliced than passed: %r" % (lines,))
    check(d["splice"][2] <= d["splice"][3], "more pipes busy than made: %r" % (lines,))
    check(d["cache"][5] <= d["cache"][6], "cache bytes in use over the arena: %r" % (d["cache"],))
    eq(sorted(d["backends"]), sorted(be_name(b) for b in CONF["backends"]),
       "backends in the summary")
    return d


def be_name(b):
    a = b["addr"]
    if a.startswith("/"):
        return "unix:" + a
    return ("[%s]:%s" if ":" in a else "%s:%s") % (a, b["port"])


def stats_get(ledger, path, method="GET"):
    raw = ledger.plain(request(method, path, "127.0.0.1:%d" % STATS_PORT), port=STATS_PORT)
    return raw


# ================================================================ 1. -t


def test_daemon_check_ok_and_listener_in_use(px):
    """-t with the binary under test: all well, then each listener's port taken in turn."""
    stop_runner_pollux(px)
    r = run(px.binary, "-t")
    eq(r.rc, 0, "-t exit status with everything in place (%r)" % r)
    check("configuration and files OK" in r.out, "-t printed no 'configuration and files OK' "
          "on stdout: %r" % r)
    check(not any(tcp_listening(p) for p in (PORT, TLS_PORT, REDIRECT_PORT, STATS_PORT)),
          "something still listens on the suite's ports after -t")
    for host, port in [(HOST, REDIRECT_PORT), (HOST6, PORT), (HOST, STATS_PORT)]:
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        hold = socket.socket(fam, socket.SOCK_STREAM)
        # SO_REUSEADDR: earlier connections' TIME_WAIT must not stop the test's own bind;
        # a listening socket still makes pollux's bind fail
        hold.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            hold.bind((host, port))
            hold.listen(1)
            r = run(px.binary, "-t")
            eq(r.rc, 1, "-t exit status while [%s]:%d is taken (%r)" % (host, port, r))
            text = "%s:%d" % (host if fam == socket.AF_INET else "[%s]" % host, port)
            check("configuration and files OK" not in r.out, "-t said OK with %s taken" % text)
            check(re.search(r"^pollux: .*listener %s.*Address (already )?in use" %
                            re.escape(text), r.err, re.M),
                  "-t with %s taken: no 'pollux: listener %s: Address in use' line: %r" % (
                      text, text, r.err[-500:]))
        finally:
            hold.close()
    r = run(px.binary, "-t")
    eq(r.rc, 0, "-t exit status once the ports are free again (%r)" % r)


def _pem_garbage(label):
    import base64
    body = base64.b64encode(os.urandom(96)).decode()
    return "-----BEGIN %s-----\n%s\n%s\n-----END %s-----\n" % (label, body[:64], body[64:],
                                                                 label)


@timeout(240)
def test_daemon_variant_check_catches_broken_files(px):
    """-t on the "files" variant (release build): each broken file is named, exit 1."""
    v = variants()["files"]
    stop_runner_pollux(px)
    tls = lambda n: files_path("tls", n)        # noqa: E731
    orig = lambda n: os.path.join(TLS_DIR, "orig", n)   # noqa: E731

    def expect_ok(what):
        r = run(v, "-t", emulate=False)
        eq(r.rc, 0, "-t exit status %s (%r)" % (what, r))
        check("configuration and files OK" in r.out, "-t %s: no 'configuration and files OK' "
              "on stdout: %r" % (what, r))

    def expect_bad(what, names, problem_rx):
        r = run(v, "-t", emulate=False)
        eq(r.rc, 1, "-t exit status with %s (%r)" % (what, r))
        check("configuration and files OK" not in r.out, "-t said OK with %s: %r" % (what, r))
        lines = [ln for ln in r.err.splitlines() if ln.startswith("pollux: ")]
        check(lines, "-t with %s: no 'pollux: ...' message on stderr: %r" % (what, r.err))
        msg = lines[-1]
        for n in names:
            check(n in msg, "-t with %s: the message does not name %s: %r" % (
                what, os.path.relpath(n, ROOT), msg))
        check(re.search(problem_rx, msg, re.I), "-t with %s: the message does not say what is "
              "wrong (want /%s/): %r" % (what, problem_rx, msg))
        return msg

    prepare_files()
    expect_ok("with every file in place")
    cases = [
        ("a missing certificate chain file",
         lambda: os.unlink(tls("ecdsa.pem")), [tls("ecdsa.pem")], r"no such file"),
        ("a missing key file",
         lambda: os.unlink(tls("p384.key")), [tls("p384.key")], r"no such file"),
        ("a key path that is a directory",
         lambda: (os.unlink(tls("rsa.key")), os.mkdir(tls("rsa.key"))), [tls("rsa.key")],
         r"directory"),
        ("a key file of random bytes",
         lambda: open(tls("p384.key"), "wb").write(os.urandom(700)), [tls("p384.key")],
         r"no private key|not valid PEM|cannot decode"),
        ("a key file of PEM-armoured garbage",
         lambda: open(tls("ecdsa.key"), "w").write(_pem_garbage("PRIVATE KEY")),
         [tls("ecdsa.key")], r"cannot decode|not valid"),
        ("an empty chain file",
         lambda: open(tls("rsa.pem"), "w").close(), [tls("rsa.pem")], r"no certificate"),
        ("a chain file of PEM-armoured garbage",
         lambda: open(tls("p384.pem"), "w").write(_pem_garbage("CERTIFICATE")),
         [tls("p384.pem")], r"cannot decode|not valid"),
        ("a key that does not match its certificate (same curve)",
         lambda: shutil.copyfile(os.path.join(TLS_DIR, "mismatch.key"), tls("ecdsa.key")),
         [tls("ecdsa.pem"), tls("ecdsa.key")], r"does not match"),
        ("an EC key for an RSA certificate",
         lambda: shutil.copyfile(orig("ecdsa.key"), tls("rsa.key")),
         [tls("rsa.pem"), tls("rsa.key")], r"does not match"),
        ("a key file whose PEM body is not base64",
         lambda: open(tls("rsa.key"), "w").write("-----BEGIN PRIVATE KEY-----\n!!!!@@@@####\n"
                                                 "-----END PRIVATE KEY-----\n"),
         [tls("rsa.key")], r"not valid PEM|cannot decode"),
        ("a chain file whose PEM body is not base64",
         lambda: open(tls("p384.pem"), "w").write("-----BEGIN CERTIFICATE-----\n!!!!@@@@\n"
                                                  "-----END CERTIFICATE-----\n"),
         [tls("p384.pem")], r"not valid PEM|cannot decode"),
    ]
    bad = []                    # every case is tried; the failures are reported together
    for what, breaks, names, rx in cases:
        prepare_files()
        breaks()
        try:
            expect_bad(what, names, rx)
        except AssertionError as e:
            bad.append(str(e))
    # the log file's directory does not exist
    prepare_files()
    shutil.rmtree(files_path("log"))
    expect_bad("a LOG_FILE in a directory that does not exist", [LOG_FILE], r"no such file")
    # a real start fails the same way, at once
    p = Pollux(v, workdir(px), "files-nolog").start(ready=False)
    try:
        rc = p.wait(5)
        eq(rc, 1, "exit status of a start with the log directory missing (log: %r)" % p.log())
        check(re.search(r"^pollux: log file %s: No such file" % re.escape(LOG_FILE), p.log(),
                        re.M), "start without the log directory: no message naming the log "
              "file: %r" % p.log()[-500:])
    finally:
        p.kill()
    prepare_files()
    expect_ok("with every file restored")
    check(not bad, "; ".join(bad))


@timeout(240)
def test_daemon_variant_check_unknown_run_user(px):
    """The "nouser" variant (release build; RUN_USER names no user): -t and a start both
    exit 1 naming the user."""
    v = variants()["nouser"]
    stop_runner_pollux(px)
    r = run(v, "-t", emulate=False)
    eq(r.rc, 1, "-t exit status with RUN_USER %s (%r)" % (NO_SUCH_USER, r))
    check("configuration and files OK" not in r.out, "-t said OK: %r" % r)
    check(re.search(r"^pollux: RUN_USER %s: no such user" % NO_SUCH_USER, r.err, re.M),
          "-t: no 'pollux: RUN_USER %s: no such user' message: %r" % (NO_SUCH_USER, r.err))
    if os.geteuid() == 0:
        p = Pollux(v, workdir(px), "nouser").start(ready=False)
        try:
            rc = p.wait(5)
            eq(rc, 1, "exit status of a start as root with RUN_USER %s (log %r)" % (
                NO_SUCH_USER, p.log()[-500:]))
            check("RUN_USER %s: no such user" % NO_SUCH_USER in p.log(),
                  "start: no message naming the user: %r" % p.log()[-500:])
        finally:
            p.kill()


# ================================================================ 2. -V

def elf_board(path):
    """The board a binary was built for, from its ELF header (asan: the sanitizer build)."""
    with open(path, "rb") as f:
        data = f.read()
    check(data[:4] == b"\x7fELF", "%s is not an ELF file" % path)
    order = "little" if data[5] == 1 else "big"
    machine = int.from_bytes(data[18:20], order)
    board = {62: "x86_64", 40: "armv7", 183: "aarch64", 8: "mipsel"}.get(machine)
    check(board, "%s: unknown ELF machine %d" % (path, machine))
    if board == "x86_64" and b"AddressSanitizer" in data:
        return "asan"
    return board


def expected_listeners():
    out = []
    for l in CONF["listeners"]:
        role = ("stats" if l.get("stats") not in (None, "0") else
                "https" if l.get("tls") not in (None, "0") else
                "redirect to https" if l.get("redirect_port") else "http")
        out.append((l["addr"], int(l["port"]), role, int(l.get("hsts_max_age", 0))))
    return out


def expected_routes():
    out = []
    for r in CONF["routes"]:
        flags = []
        if "R_STRIP" in r.get("flags", ""):
            flags.append("strip")
        if "users" in r:
            flags.append("basic auth")
        if "allow" in r or "deny" in r:
            flags.append("address rules")
        if "rate" in r:
            flags.append("rate limit")
        if "max_body" in r:
            flags.append("body limit")
        if r.get("cache", "0") != "0":
            flags.append("cache %ss" % r["cache_ttl"] if "cache_ttl" in r else "cache")
        host = "*" if r["host"] == "NULL" else r["host"]
        out.append((host, r["prefix"], CONF["pool_name"][r["pool"]], flags))
    return out


def expected_pools():
    out = []
    for pid, p in zip(CONF["pool_ids"], CONF["pools"]):
        bes = [(b["addr"], int(b["port"]) if "port" in b else None, int(b.get("weight", 1)),
                "backup" in b and b["backup"] != "0")
               for b in CONF["backends"] if b["pool"] == pid]
        chk = (p["check_path"], int(p.get("check_every", 2000))) if "check_path" in p else None
        out.append((p["name"], POLICY[p["policy"]], chk, bes))
    return out


def parse_version(text):
    lines = text.rstrip("\n").split("\n")
    m = re.match(r"^pollux (\S+), board (\S+)$", lines[0])
    check(m, "-V first line %r, want 'pollux VERSION, board BOARD'" % lines[0])
    got = {"version": m.group(1), "board": m.group(2), "listeners": [], "routes": [],
           "pools": [], "memory": {}}
    section = None
    for ln in lines[1:]:
        if not ln.startswith(" "):
            section = {"listeners:": "listeners", "routes (first match wins):": "routes",
                       "pools:": "pools", "static memory (bytes):": "memory"}.get(ln)
            check(section, "-V: unexpected line %r" % ln)
            continue
        if section == "listeners":
            m = re.match(r"^  (\S+) port (\d+): (http|https|redirect to https|stats)"
                         r"(?:, HSTS max-age=(\d+))?$", ln)
            check(m, "-V listener line %r" % ln)
            got["listeners"].append((m.group(1), int(m.group(2)), m.group(3),
                                     int(m.group(4) or 0)))
        elif section == "routes":
            m = re.match(r"^  host (\S+) prefix (\S+) -> (\S+?)((?:, [a-z0-9 ]+)*)$", ln)
            check(m, "-V route line %r" % ln)
            flags = [f for f in m.group(4).split(", ") if f]
            got["routes"].append((m.group(1), m.group(2), m.group(3), flags))
        elif section == "pools":
            m = re.match(r"^  (\S+): (round-robin|least-conn|ip-hash)"
                         r"(?:, checks GET (\S+) every (\d+)ms)?$", ln)
            if m:
                chk = (m.group(3), int(m.group(4))) if m.group(3) else None
                got["pools"].append((m.group(1), m.group(2), chk, []))
                continue
            m = re.match(r"^    (\S+)(?: port (\d+))? weight (\d+)( backup)?$", ln)
            check(m and got["pools"], "-V pool/backend line %r" % ln)
            got["pools"][-1][3].append((m.group(1), int(m.group(2)) if m.group(2) else None,
                                        int(m.group(3)), bool(m.group(4))))
        elif section == "memory":
            m = re.match(r"^  (client slots|TLS|backend slots|poll table|cache|splice pipes|total)\s+(\d+)\s+"
                         r"(.*)$", ln)
            check(m, "-V memory line %r" % ln)
            check(m.group(1) not in got["memory"], "-V: two %r memory lines" % m.group(1))
            got["memory"][m.group(1)] = (int(m.group(2)), m.group(3))
        else:
            fail("-V: line %r before any section" % ln)
    return got


def test_daemon_version_matches_build(px):
    r = run(px.binary, "-V")
    eq(r.rc, 0, "-V exit status (%r)" % r)
    eq(r.err, "", "-V stderr")
    v = parse_version(r.out)
    check(re.match(r"^\d+\.\d+", v["version"]), "-V version %r" % v["version"])
    eq(v["board"], elf_board(px.binary), "-V board (the binary is an ELF for that board)")
    eq(v["listeners"], expected_listeners(), "-V listeners (address, port, role, HSTS max-age)")
    eq(v["routes"], expected_routes(), "-V routes (host, prefix, pool, flags), in order")
    want_pools = expected_pools()
    eq([p[:3] for p in v["pools"]], [p[:3] for p in want_pools],
       "-V pools (name, policy, checks), in order")
    mem = v["memory"]
    eq(sorted(mem), sorted(["client slots", "TLS", "backend slots", "poll table", "cache",
                            "splice pipes", "total"]),
       "-V memory lines")

    def product(part):
        m = re.match(r"^\((\d+) (?:slots )?x (\d+)", mem[part][1])
        check(m, "-V memory %s: no '(COUNT x SIZE' after the figure: %r" % (part, mem[part]))
        return int(m.group(1)), int(m.group(2))

    n, per = product("client slots")
    eq(n, NSLOTS, "-V client slots count (SLOTS)")
    eq(mem["client slots"][0], n * per, "-V client slots: %d x %d" % (n, per))
    bufs = 2 * int(DEF["BUF_BYTES"])
    check(bufs < per < bufs + 4096, "-V client slot size %d: want 2 x BUF_BYTES (%d) plus a "
          "connection structure" % (per, bufs))
    n, per = product("TLS")
    eq(n, int(DEF["TLS_SLOTS"]), "-V TLS slots count (TLS_SLOTS)")
    eq(mem["TLS"][0], n * per + int(DEF["TLS_SESSIONS"]) * 100 + 2 * int(DEF["TLS_CERT_BYTES"]),
       "-V TLS: %d slots x %d + TLS_SESSIONS x 100 + 2 x TLS_CERT_BYTES" % (n, per))
    n, per = product("backend slots")
    eq(n, int(DEF["UP_SLOTS"]), "-V backend slots count (UP_SLOTS)")
    eq(mem["backend slots"][0], n * per, "-V backend slots: %d x %d" % (n, per))
    m = re.match(r"^\((\d+) entries\)$", mem["poll table"][1])
    check(m, "-V poll table: %r" % (mem["poll table"],))
    entries = int(m.group(1))
    eq(entries, NSLOTS + int(DEF["UP_SLOTS"]) + len(CONF["listeners"]) + len(CONF["backends"]),
       "-V poll entries (SLOTS + UP_SLOTS + listeners + one check slot per backend)")
    check(mem["poll table"][0] % entries == 0 and mem["poll table"][0] > 0,
          "-V poll table %d bytes is not a multiple of its %d entries" % (
              mem["poll table"][0], entries))
    m = re.match(r"^\(arena (\d+), (\d+) entries x (\d+), block links\)$", mem["cache"][1])
    check(m, "-V cache: %r" % (mem["cache"],))
    arena, nent, per = (int(x) for x in m.groups())
    eq(arena, int(DEF["CACHE_BYTES"]), "-V cache arena (CACHE_BYTES)")
    eq(nent, int(DEF["CACHE_ENTRIES"]), "-V cache entries (CACHE_ENTRIES)")
    eq(mem["cache"][0], arena + nent * per + arena // 1024 * 4,
       "-V cache: arena + entries x size + one 4-byte link per 1 KiB block")
    m = re.match(r"^\((\d+) pipes, 2 descriptors each\)$", mem["splice pipes"][1])
    check(m, "-V splice pipes: %r" % (mem["splice pipes"],))
    eq(int(m.group(1)), int(DEF["SPLICE_PIPES"]), "-V splice pipes (SPLICE_PIPES)")
    eq(mem["splice pipes"][0], int(m.group(1)) * 10,
       "-V splice pipes: two 4-byte descriptors and a 2-byte free-stack entry each")
    parts = sum(mem[k][0] for k in ("client slots", "TLS", "backend slots", "poll table",
                                    "cache", "splice pipes"))
    eq(mem["total"][0], parts, "-V memory total vs the sum of its parts")
    check(px.alive(), "-V disturbed the running pollux")
    # last, so that everything above is known to hold when only this differs
    for got, want in zip(v["pools"], want_pools):
        eq(got[3], want[3], "-V backends of pool %s (address, port (none for a Unix "
           "socket), weight, backup)" % want[0])


# ================================================================ 3. -h and usage errors

OPTIONS = ("-f", "-d", "-t", "-p", "-V", "-h")


def test_daemon_help_and_usage_errors(px):
    r = run(px.binary, "-h")
    eq(r.rc, 0, "-h exit status (%r)" % r)
    text = r.out + r.err
    check(re.search(r"^usage: \S*pollux\S* \[-f ", text, re.M), "-h printed no usage line: %r" % r)
    for o in OPTIONS:
        check(re.search(r"^\s+%s\s" % re.escape(o), text, re.M),
              "-h does not describe %s: %r" % (o, text))
    for bad in (["-x"], ["--help"], ["-t", "-z"], ["extra"]):
        r = run(px.binary, *bad)
        eq(r.rc, 2, "exit status for %s (%r)" % (" ".join(bad), r))
        check(re.search(r"^usage: \S*pollux\S* \[-f ", r.err, re.M),
              "%s: no usage text on stderr: %r" % (" ".join(bad), r))
        eq(r.out, "", "stdout for %s" % " ".join(bad))
        check(r.elapsed < 2 * slack(px), "%s took %.1f s" % (" ".join(bad), r.elapsed))
    check(px.alive(), "usage errors disturbed the running pollux (it must not have bound)")


# ================================================================ 4. SIGTERM / SIGINT

def refused(host, port):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(0.3)
    try:
        s.connect((host, port))
        return False
    except ConnectionRefusedError:
        return True
    except (ConnectionResetError, socket.timeout):
        # the SYN reached the listener just as it closed: the kernel resets what was
        # still in the accept queue, or drops the SYN; not refused yet, look again
        return False
    finally:
        s.close()


def exited_at(proc, t):
    """The time proc exited (waiting up to t seconds), or None."""
    deadline = time.time() + t
    while time.time() < deadline:
        if proc.poll() is not None:
            return time.time()
        time.sleep(0.005)
    return None


def drain_scenario(px, sig):
    sl = slack(px)
    ctx = client_ctx()
    idle = []
    for i in range(3):
        s = connect_from(HOST)
        s.sendall(request("GET", "/echo/idle-%d" % i))
        r = Reader(s).read_response()
        eq(r.status, 200, "status of idle keep-alive connection %d's request" % i)
        idle.append(s)
    ts = ctx.wrap_socket(socket.create_connection((HOST, TLS_PORT), timeout=5),
                         server_hostname="127.0.0.1")
    ts.sendall(request("GET", "/echo/idle-tls", "127.0.0.1:18443"))
    eq(Reader(ts).read_response().status, 200, "status on the idle TLS connection")
    idle.append(ts)
    flight = []
    for i in range(4):
        s = connect_from(HOST)
        s.sendall(request("GET", "/slow/1500?n=%d" % i))
        flight.append(s)
    t_sent = time.time()
    time.sleep(0.3)
    t0 = time.time()
    px.stopped_by_test = True
    os.kill(px.pid, sig)
    # the listeners close at once
    deadline = t0 + 0.5 * sl
    while not refused(HOST, PORT):
        check(time.time() < deadline, "a new connection to %s:%d is still accepted %.2f s after "
              "%s" % (HOST, PORT, time.time() - t0, sig.name))
        time.sleep(0.01)
    for host, port in LISTEN_ADDRS:
        check(refused(host, port), "a new connection to [%s]:%d was not refused after %s" % (
            host, port, sig.name))
    # idle connections are closed, well before T_IDLE
    for i, s in enumerate(idle):
        expect_closed(s, wait=max(0.5, 1.0 - (time.time() - t0)) * sl,
                      what="idle keep-alive connection %d after %s" % (i, sig.name))
        s.close()
    # the requests in flight finish
    done = []
    for i, s in enumerate(flight):
        rd = Reader(s)
        r = rd.read_response()
        done.append(time.time())
        eq(r.status, 200, "status of in-flight request %d after %s" % (i, sig.name))
        eq(r.body, b"slow", "body of in-flight request %d" % i)
        eq(r.get("connection"), "close", "Connection field of in-flight response %d (pollux "
           "closes it: it is stopping)" % i)
        expect_closed(s, rd, wait=1.0 * sl, what="in-flight connection %d after its response" % i)
        s.close()
    check(max(done) - t_sent > 1.3, "the in-flight requests ended after %.2f s, before the "
          "backend's 1.5 s" % (max(done) - t_sent))
    t_exit = exited_at(px.proc, T_DRAIN + 2)
    check(t_exit is not None, "pollux still runs %.1f s after %s" % (time.time() - t0, sig.name))
    px.stopped_by_test = True
    eq(px.proc.returncode, 0, "exit status after %s" % sig.name)
    check(t_exit - max(done) < 0.5 * sl, "pollux exited %.2f s after the last in-flight "
          "response; with nothing left it must exit then" % (t_exit - max(done)))
    check(t_exit - t0 < T_DRAIN, "pollux took %.2f s to stop, more than T_DRAIN" % (t_exit - t0))
    log = px.log()
    check(re.search(r"info: stopping: no new connections; 4 in flight get up to %dms" %
                    int(T_DRAIN * 1000), log),
          "no 'stopping: ...; 4 in flight get up to %dms' line: %r" % (
              int(T_DRAIN * 1000), log[-600:]))
    check(re.search(r"^info: stopped$", log, re.M), "no 'info: stopped' line")
    check("still open" not in log, "pollux says connections were still open")
    eq(len([a for a in px.access() if a["request"].startswith("GET /slow/1500")]), 4,
       "access lines for the in-flight requests")


@timeout(30)
def test_daemon_sigterm_drains_in_flight_closes_idle(px):
    drain_scenario(px, signal.SIGTERM)


@timeout(30)
def test_daemon_sigint_drains_in_flight_closes_idle(px):
    drain_scenario(px, signal.SIGINT)


@timeout(40)
def test_daemon_sigterm_cuts_off_after_t_drain(px):
    sl = slack(px)
    # an upload that trickles in: progress every 0.3 s (under T_BODY), never complete
    up = connect_from(HOST)
    up.sendall(request("POST", "/upload", content_length=100000) + b"x" * 10)
    stop_drip = threading.Event()

    def drip():
        while not stop_drip.wait(0.3):
            try:
                up.sendall(b"x")
            except OSError:
                return
    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    # a WebSocket tunnel, idle
    ws = connect_from(HOST)
    key = ws_key()
    ws.sendall(request("GET", "/ws", headers=[("Upgrade", "websocket"),
                                               ("Connection", "Upgrade"),
                                               ("Sec-WebSocket-Key", key),
                                               ("Sec-WebSocket-Version", "13")]))
    wrd = Reader(ws)
    r = wrd.read_response()
    eq(r.status, 101, "WebSocket upgrade status")
    eq(r.get("sec-websocket-accept"), ws_accept(key), "Sec-WebSocket-Accept")
    try:
        time.sleep(0.3)
        t0 = time.time()
        px.stopped_by_test = True
        os.kill(px.pid, signal.SIGTERM)
        time.sleep(0.3)
        check(refused(HOST, PORT), "a new connection was accepted after SIGTERM")
        # the tunnel goes on while pollux drains
        time.sleep(max(0.0, T_DRAIN - 1.0 - (time.time() - t0)))
        check(px.alive(), "pollux exited %.2f s after SIGTERM, before T_DRAIN (%.1f s), with "
              "two connections in flight" % (time.time() - t0, T_DRAIN))
        ws.sendall(ws_frame(1, b"still here"))
        f = ws_read_frame(wrd)
        eq(f["payload"], b"still here", "WebSocket echo %.1f s into the drain" % (
            time.time() - t0))
        t_exit = exited_at(px.proc, T_DRAIN + 3 * sl)
        check(t_exit is not None, "pollux still runs %.1f s after SIGTERM (T_DRAIN %.1f s)" % (
            time.time() - t0, T_DRAIN))
        px.stopped_by_test = True
        eq(px.proc.returncode, 0, "exit status when T_DRAIN ran out")
        check(t_exit - t0 >= T_DRAIN - 0.15, "pollux exited %.2f s after SIGTERM, before "
              "T_DRAIN" % (t_exit - t0))
        check(t_exit - t0 < T_DRAIN + 0.6 * sl, "pollux exited %.2f s after SIGTERM; T_DRAIN "
              "is %.1f s" % (t_exit - t0, T_DRAIN))
        check(re.search(r"^warn: stopped with 2 connections still open$", px.log(), re.M),
              "no 'warn: stopped with 2 connections still open' line: %r" % px.log()[-500:])
        # both clients were cut off, the upload without any response
        got = read_to_eof(up, 2)
        check(not got.startswith(b"HTTP/1.1 2"), "the cut-off upload got a success response: "
              "%s" % short(got))
        read_to_eof(ws, 2)
    finally:
        stop_drip.set()
        up.close()
        ws.close()


@timeout(40)
def test_daemon_second_signal_exits_at_once(px):
    sl = slack(px)
    wd = workdir(px)
    rounds = [(signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGINT),
              (signal.SIGTERM, signal.SIGINT)]
    for k, (first, second) in enumerate(rounds):
        if k == 0:
            p = px
        else:
            d = os.path.join(wd, "round-%d" % k)
            os.makedirs(d, exist_ok=True)
            p = Proxy(px.binary, d)
            p.start()
        try:
            s = connect_from(HOST)
            s.sendall(request("GET", "/slow/2500"))
            time.sleep(0.3)
            if p is px:
                px.stopped_by_test = True
            os.kill(p.pid, first)
            time.sleep(0.4)
            check(p.alive(), "%s, %s: pollux exited on the first signal with a request in "
                  "flight" % (first.name, second.name))
            t0 = time.time()
            os.kill(p.pid, second)
            t_exit = exited_at(p.proc, 2 * sl)
            check(t_exit is not None, "%s then %s: pollux still runs 2 s after the second "
                  "signal" % (first.name, second.name))
            check(t_exit - t0 < 0.4 * sl, "%s then %s: pollux took %.2f s to exit after the "
                  "second signal" % (first.name, second.name, t_exit - t0))
            eq(p.proc.returncode, 0, "%s then %s: exit status" % (first.name, second.name))
            check(re.search(r"^warn: stopped with 1 connections still open$", p.log(), re.M),
                  "%s then %s: no 'stopped with 1 connections still open' line: %r" % (
                      first.name, second.name, p.log()[-400:]))
            got = read_to_eof(s, 2)
            check(not got, "%s then %s: the cut-off request got %s" % (first.name, second.name,
                                                                      short(got)))
            s.close()
        finally:
            if p is px:
                px.stopped_by_test = True
            p.stop(grace=2)


# ================================================================ 5. SIGHUP reopens the log

@timeout(240)
def test_daemon_variant_sighup_reopens_rotated_log(px):
    """The "files" variant (release build; LOG_TO_FILE): rename the log, SIGHUP, and the
    lines after it go to a new file."""
    v = variants()["files"]
    stop_runner_pollux(px)
    prepare_files()
    p = Pollux(v, workdir(px), "files-hup").start()
    rotated = LOG_FILE + ".1"
    try:
        for i in (1, 2):
            raw = Ledger().plain(req("/echo/before-%d" % i))
            eq(status_of(raw), 200, "status of request before-%d" % i)
        wait_for(lambda: "GET /echo/before-2 " in read(LOG_FILE), 2, "the access line for "
                 "before-2 in the log file %s" % LOG_FILE)
        os.rename(LOG_FILE, rotated)
        raw = Ledger().plain(req("/echo/between"))
        eq(status_of(raw), 200, "status of the request between the rename and SIGHUP")
        wait_for(lambda: "GET /echo/between " in read(rotated), 2,
                 "the access line for the request after the rename, in the renamed file")
        p.signal(signal.SIGHUP)
        wait_for(lambda: "log file reopened" in read(LOG_FILE), 2,
                 "'log file reopened' in a new %s after SIGHUP" % LOG_FILE)
        for i in (1, 2):
            raw = Ledger().plain(req("/echo/after-%d" % i))
            eq(status_of(raw), 200, "status of request after-%d" % i)
        wait_for(lambda: "GET /echo/after-2 " in read(LOG_FILE), 2,
                 "the access line for after-2 in the new log file")
        check(p.alive(), "pollux died after SIGHUP")
        p.stop()
        old, new = read(rotated), read(LOG_FILE)
        for t in ("before-1", "before-2", "between"):
            check("GET /echo/%s " % t in old, "the renamed log has no access line for %s" % t)
            check("/echo/%s " % t not in new, "the new log has an access line for %s" % t)
        for t in ("after-1", "after-2"):
            check("GET /echo/%s " % t in new, "the new log has no access line for %s" % t)
            check("/echo/%s " % t not in old, "the renamed log has an access line for %s" % t)
        check("log file reopened" not in old, "'log file reopened' went to the renamed file")
        check(re.search(r"^info: log file reopened$", new, re.M),
              "no line 'info: log file reopened' in the new log: %r" % new[:400])
        check(new.index("log file reopened") < new.index("/echo/after-1 "),
              "'log file reopened' is not before the later access lines")
        check(re.search(r"^info: stopped$", new, re.M), "no 'info: stopped' in the new log")
        check("access:" not in p.log(), "access lines went to stderr with LOG_TO_FILE: %r" %
              p.log()[-400:])
    finally:
        p.kill()


def wait_for(cond, t, what):
    deadline = time.time() + t
    while not cond():
        if time.time() > deadline:
            fail("no %s within %.1f s" % (what, t))
        time.sleep(0.02)


# ================================================================ 6. SIGUSR1

def usr1_dump(px, nth):
    """Sends SIGUSR1 and returns the summary lines of dump number nth (1-based)."""
    nback = len(CONF["backends"])
    nhead = 6 + ("CACHE_BYTES" in DEF and int(DEF["CACHE_BYTES"]) > 0)  # the cache line
    os.kill(px.pid, signal.SIGUSR1)
    deadline = time.time() + 2

    def blocks():
        lines = px.log().splitlines()
        starts = [i for i, ln in enumerate(lines) if ln.startswith("info: pollux: up ")]
        return lines, starts
    while True:
        lines, starts = blocks()
        if len(starts) >= nth:
            block = lines[starts[nth - 1]:starts[nth - 1] + nhead + nback]
            if len(block) == nhead + nback:
                break
        if time.time() > deadline:
            fail("SIGUSR1 number %d: no full counter dump in the log within 2 s: %r" % (
                nth, lines[-10:]))
        time.sleep(0.02)
    for ln in block:
        check(ln.startswith("info: "), "SIGUSR1 line without 'info: ': %r" % ln)
    return [ln[len("info: "):] for ln in block]


def echo_name(raw):
    try:
        return json.loads(body_of(raw))["name"]
    except (ValueError, KeyError):
        fail("not an echo answer: %s" % short(raw))


def test_daemon_sigusr1_logs_counters(px):
    time.sleep(0.1)                     # the runner's readiness probe has gone
    base = parse_summary(usr1_dump(px, 1))
    eq(base["requests"], (0, 0, 0, 0, 0), "requests by class before any request")
    led = Ledger()
    names = []
    for i in range(3):
        raw = led.plain(req("/echo/usr1-%d" % i))
        eq(status_of(raw), 200, "status of /echo/usr1-%d" % i)
        names.append(echo_name(raw))
    raw = led.plain(req("/x", host="127.0.0.1:18081"), port=REDIRECT_PORT)
    eq(status_of(raw), 301, "status from the redirect listener")
    for i in range(2):
        raw = led.plain(req("/nothing-%d" % i, host="no-route.test"))
        eq(status_of(raw), 404, "status for a host with no route")
    raw = led.plain(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Line\r\n\r\n")
    eq(status_of(raw), 400, "status for a malformed request")
    raw = led.plain(req("/dead/usr1"))
    eq(status_of(raw), 502, "status for the dead backend")
    time.sleep(0.2)
    d = parse_summary(usr1_dump(px, 2))
    eq(d["requests"], (0, 3, 1, 3, 1), "SIGUSR1 'requests: 1xx, 2xx, 3xx, 4xx, 5xx' after 3 x "
       "200, 1 x 301, 2 x 404, 1 x 400, 1 x 502")
    c, c0 = d["connections"], base["connections"]
    eq(c[:6], (0, 0, 0, 0, NSLOTS, NSLOTS), "SIGUSR1 connections by state (reading, proxying, "
       "tunnels, closing, free, of) with every client gone")
    eq(c[6] - c0[6], 8, "SIGUSR1 accepted connections: increase over 8 connections")
    eq(c[7:], (0, 0), "SIGUSR1 refused and reclaimed")
    eq((d["bytes"][0] - base["bytes"][0], d["bytes"][1] - base["bytes"][1]),
       (led.sent, led.got), "SIGUSR1 bytes in and out: increase vs what the clients sent and "
       "received")
    eq(d["tls"], (0, 0, 0), "SIGUSR1 tls handshakes, resumed, failed")
    be = d["backends"]
    for n in ("127.0.0.1:19001", "127.0.0.1:19002"):
        want = sum(1 for x in names if x == {"127.0.0.1:19001": "web1",
                                              "127.0.0.1:19002": "web2"}[n])
        eq((be[n]["requests"], be[n]["failures"], be[n]["down"], be[n]["state"]),
           (want, 0, 0, "up"), "SIGUSR1 backend %s: requests, failures, times out, state" % n)
    eq((be["127.0.0.1:19009"]["requests"], be["127.0.0.1:19009"]["failures"],
        be["127.0.0.1:19009"]["down"]), (1, 1, 1),
       "SIGUSR1 dead backend 127.0.0.1:19009: requests, failures, times out")
    eq(be["127.0.0.1:19003"]["requests"], 0, "SIGUSR1 api backend requests")
    check(px.alive(), "pollux exited on SIGUSR1")
    raw = Ledger().plain(req("/echo/after-usr1"))
    eq(status_of(raw), 200, "status of a request after SIGUSR1")


# ================================================================ 7. the stats listener

@timeout(60)
def test_daemon_stats_counters_match_requests(px):
    time.sleep(0.1)                     # the runner's readiness probe has gone
    led0 = Ledger()
    raw = stats_get(led0, "/metrics")
    eq(status_of(raw), 200, "status of GET /metrics")
    eq(head_field(raw, "content-type"), "text/plain; version=0.0.4", "/metrics Content-Type")
    m0, _, problems = parse_metrics(body_of(raw).decode())
    for k in range(1, 6):
        eq(metric(m0, "pollux_requests_total", **{"class": "%dxx" % k}), 0,
           "requests_total{class=%dxx} before any request" % k)
    led = Ledger()                      # what follows the first /metrics
    names = []
    # 3 x 200 in plain HTTP
    for i in range(3):
        raw = led.plain(req("/echo/stats-%d" % i))
        eq(status_of(raw), 200, "status of /echo/stats-%d" % i)
        names.append(echo_name(raw))
    # 2 x 200 over TLS: a full handshake, then one resumed with its session
    raw, sess, reused = led.tls(req("/echo/stats-tls-full", host="127.0.0.1:18443"))
    eq(status_of(raw), 200, "status over TLS (full handshake)")
    check(not reused, "the first TLS connection was resumed")
    names.append(echo_name(raw))
    raw, _, reused = led.tls(req("/echo/stats-tls-resumed", host="127.0.0.1:18443"),
                             session=sess)
    eq(status_of(raw), 200, "status over TLS (resumed)")
    check(reused, "the second TLS connection was not resumed")
    names.append(echo_name(raw))
    # 2 x 404
    for i in range(2):
        raw = led.plain(req("/x-%d" % i, host="no-route.test"))
        eq(status_of(raw), 404, "status for a host with no route")
    # 1 refused connection: MAX_PER_ADDR held from one address, one more
    held = []
    try:
        for i in range(MAX_PER_ADDR):
            held.append(connect_from("127.0.0.7"))
            part = b"GET /held HTTP/1.1\r\n"        # has sent: accepted (deferred accept)
            held[-1].sendall(part)
            led.sent += len(part)
        time.sleep(0.2)
        s = connect_from("127.0.0.7")
        s.sendall(req("/refused"))     # read and dropped with the refusal, not counted
        got = read_to_eof(s)
        s.close()
        led.got += len(got)
        refused_503 = len(got)
        eq(status_of(got), 503, "status for connection %d from 127.0.0.7" % (MAX_PER_ADDR + 1))
    finally:
        for h in held:
            h.close()
    time.sleep(0.2)
    # 1 x 502: the dead backend is marked out for T_DOWN
    raw = led.plain(req("/dead/stats"))
    t502 = time.time()
    eq(status_of(raw), 502, "status for the dead backend")
    time.sleep(0.2)
    raw = stats_get(led, "/metrics")
    t_a = time.time()
    eq(status_of(raw), 200, "status of the second GET /metrics")
    ma, types, _ = parse_metrics(body_of(raw).decode())
    check(t_a - t502 < T_DOWN, "the metrics came %.2f s after the 502, beyond T_DOWN" % (
        t_a - t502))
    want_req = {"1xx": 0, "2xx": 5 + 1, "3xx": 0, "4xx": 2, "5xx": 2}
    got_req = {k: metric(ma, "pollux_requests_total", **{"class": k}) for k in want_req}
    eq(got_req, want_req, "pollux_requests_total by class after 5 x 200 (+1: the first "
       "/metrics), 2 x 404, a refused connection's 503 and a 502")
    for name, t in (("pollux_requests_total", "counter"), ("pollux_connections", "gauge"),
                    ("pollux_tls_handshakes_total", "counter"), ("pollux_backend_up", "gauge"),
                    ("pollux_backend_requests_total", "counter")):
        eq(types.get(name), t, "TYPE of %s" % name)
    a0 = metric(m0, "pollux_connections_accepted_total")
    eq(metric(ma, "pollux_connections_accepted_total") - a0, 3 + 2 + 2 + MAX_PER_ADDR + 1 + 1,
       "pollux_connections_accepted_total: increase (3 plain, 2 TLS, 2 x 404, %d held, the "
       "502, this /metrics)" % MAX_PER_ADDR)
    eq(metric(ma, "pollux_connections_refused_total"), 1, "pollux_connections_refused_total")
    eq(metric(ma, "pollux_connections_reclaimed_total"), 0,
       "pollux_connections_reclaimed_total")
    eq({s: metric(ma, "pollux_connections", state=s) for s in
        ("reading", "proxying", "tunnel", "closing")},
       {"reading": 1, "proxying": 0, "tunnel": 0, "closing": 0},
       "pollux_connections by state (the /metrics request itself is reading)")
    eq({r: metric(ma, "pollux_tls_handshakes_total", result=r) for r in
        ("full", "resumed", "failed")}, {"full": 1, "resumed": 1, "failed": 0},
       "pollux_tls_handshakes_total")
    got_bytes = (metric(ma, "pollux_bytes_total", direction="in") -
                 metric(m0, "pollux_bytes_total", direction="in"),
                 metric(ma, "pollux_bytes_total", direction="out") -
                 metric(m0, "pollux_bytes_total", direction="out"))
    want_bytes = (led.sent, led0.got + led.got - len(raw))
    if got_bytes != want_bytes:         # checked at the end, after every other number
        problems.append("pollux_bytes_total in and out: increase since the first /metrics "
                        "%r, want %r: what the clients sent (this request included) and "
                        "received (the first /metrics response included, this one not yet; "
                        "the refused connection's 503 was %d bytes)" % (
                            got_bytes, want_bytes, refused_503))
    web = {"web1": ("web", "127.0.0.1:19001"), "web2": ("web", "127.0.0.1:19002")}
    for n, (pool, be) in web.items():
        eq(metric(ma, "pollux_backend_requests_total", pool=pool, backend=be),
           names.count(n), "pollux_backend_requests_total for %s (it answered %d of the "
           "5)" % (be, names.count(n)))
        eq(metric(ma, "pollux_backend_up", pool=pool, backend=be), 1,
           "pollux_backend_up for live %s" % be)
        eq(metric(ma, "pollux_backend_failures_total", pool=pool, backend=be), 0,
           "pollux_backend_failures_total for %s" % be)
    eq(metric(ma, "pollux_backend_up", pool="dead", backend="127.0.0.1:19009"), 0,
       "pollux_backend_up for the dead backend %.2f s after its failure" % (t_a - t502))
    eq(metric(ma, "pollux_backend_requests_total", pool="dead", backend="127.0.0.1:19009"), 1,
       "pollux_backend_requests_total for the dead backend")
    eq(metric(ma, "pollux_backend_failures_total", pool="dead", backend="127.0.0.1:19009"), 1,
       "pollux_backend_failures_total for the dead backend")
    eq(metric(ma, "pollux_backend_requests_total", pool="api", backend="127.0.0.1:19003"), 0,
       "pollux_backend_requests_total for the unused api backend")
    eq(metric(ma, "pollux_backend_up", pool="api", backend="127.0.0.1:19003"), 1,
       "pollux_backend_up for the api backend")
    check(metric(ma, "pollux_uptime_seconds") >= 0, "pollux_uptime_seconds")

    # GET /: the summary, with the same numbers (+ the /metrics just answered)
    bytes_a = (metric(ma, "pollux_bytes_total", direction="in"),
               metric(ma, "pollux_bytes_total", direction="out"))
    len_a = len(raw)
    sent_before = led.sent
    time.sleep(0.1)     # the last /metrics connection's close is seen: else it is "closing"
    raw = stats_get(led, "/")
    t_b = time.time()
    eq(status_of(raw), 200, "status of GET /")
    eq(head_field(raw, "content-type"), "text/plain; charset=utf-8", "/ Content-Type")
    sm = parse_summary(body_of(raw).decode().rstrip("\n").split("\n"))
    eq(sm["requests"], (0, 7, 0, 2, 2), "summary requests (1xx..5xx)")
    acc_a = metric(ma, "pollux_connections_accepted_total")
    eq(sm["connections"], (1, 0, 0, 0, NSLOTS - 1, NSLOTS, acc_a + 1, 1, 0),
       "summary connections (reading, proxying, tunnels, closing, free, of; accepted, "
       "refused, reclaimed)")
    eq(sm["bytes"], (bytes_a[0] + led.sent - sent_before, bytes_a[1] + len_a),
       "summary bytes in, out")
    eq(sm["tls"], (2, 1, 0), "summary tls (handshakes, resumed, failed)")
    for n, (pool, be) in web.items():
        b = sm["backends"][be]
        eq((b["pool"], b["state"], b["busy"], b["requests"], b["failures"], b["down"]),
           (pool, "up", 0, names.count(n), 0, 0), "summary line for %s" % be)
    b = sm["backends"]["127.0.0.1:19009"]
    eq((b["pool"], b["busy"], b["requests"], b["failures"], b["down"]), ("dead", 0, 1, 1, 1),
       "summary line for the dead backend")
    if t_b - t502 < T_DOWN - 0.2:
        eq(b["state"], "down (failures)", "summary state of the dead backend %.2f s after "
           "its failure" % (t_b - t502))

    # HEAD on both pages, then POST: 501
    for path, ctype in (("/metrics", "text/plain; version=0.0.4"),
                        ("/", "text/plain; charset=utf-8")):
        raw = stats_get(led, path, method="HEAD")
        eq(status_of(raw), 200, "status of HEAD %s" % path)
        eq(head_field(raw, "content-type"), ctype, "Content-Type of HEAD %s" % path)
        cl = head_field(raw, "content-length")
        check(cl is not None and int(cl) > 100, "HEAD %s: Content-Length %r" % (path, cl))
        eq(body_of(raw), b"", "body bytes after the head of HEAD %s" % path)
    raw = led.plain(request("POST", "/metrics", "127.0.0.1:%d" % STATS_PORT, body=b"a=1"),
                    port=STATS_PORT)
    eq(status_of(raw), 501, "status of POST /metrics on the stats listener")
    raw = stats_get(led, "/metrics")
    mc, _, _ = parse_metrics(body_of(raw).decode())
    got_req = {k: metric(mc, "pollux_requests_total", **{"class": k}) for k in want_req}
    eq(got_req, {"1xx": 0, "2xx": 10, "3xx": 0, "4xx": 2, "5xx": 3},
       "pollux_requests_total after GET /, 2 x HEAD and a POST (501)")
    # last, so that every number above is known to hold when only this is wrong
    check(not problems, "; ".join(problems))


# ================================================================ 8. -d

def proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    return st[st.rindex(")") + 2:].split()


@timeout(240)
def test_daemon_variant_background_with_pidfile(px):
    """The "files" variant (release build; LOG_TO_FILE, PIDFILE under build/test/daemon):
    -d returns at once, the daemon serves, SIGTERM ends it and removes the pidfile."""
    v = variants()["files"]
    stop_runner_pollux(px)
    prepare_files()
    pid = None
    try:
        r = run(v, "-d", emulate=False, t=10)
        eq(r.rc, 0, "exit status of pollux -d (%r)" % r)
        check(r.elapsed < 2.0, "pollux -d took %.1f s to return" % r.elapsed)
        wait_for(lambda: read(PID_FILE).endswith("\n"), 1.0, "pidfile %s" % PID_FILE)
        text = read(PID_FILE)
        check(re.match(r"^\d+\n$", text), "pidfile content %r, want a pid and a line feed" % text)
        pid = int(text)
        st = proc_state(pid)
        check(st is not None and st[0] != "Z", "pid %d from the pidfile is not running" % pid)
        check(os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(v),
              "pid %d from the pidfile is %s, not pollux" % (
                  pid, os.path.realpath("/proc/%d/exe" % pid)))
        check(int(st[3]) != os.getsid(0) and int(st[3]) != os.getpid(),
              "the daemon did not leave the caller's session (sid %s)" % st[3])
        for fd in (0, 1, 2):
            eq(os.path.realpath("/proc/%d/fd/%d" % (pid, fd)), "/dev/null",
               "the daemon's descriptor %d" % fd)
        wait_for(lambda: all(tcp_listening(p) for p in (PORT, TLS_PORT, STATS_PORT)), 2,
                 "the daemon's listeners")
        raw = Ledger().plain(req("/echo/daemon"))
        eq(status_of(raw), 200, "status of a request to the daemon")
        raw, _, _ = Ledger().tls(req("/echo/daemon-tls", host="127.0.0.1:18443"))
        eq(status_of(raw), 200, "status of a TLS request to the daemon")
        wait_for(lambda: "GET /echo/daemon-tls " in read(LOG_FILE), 2,
                 "the access line in the log file")
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 3
        while True:
            st = proc_state(pid)
            if st is None or st[0] == "Z":
                break
            check(time.time() < deadline, "the daemon still runs 3 s after SIGTERM")
            time.sleep(0.02)
        pid = None
        wait_for(lambda: not os.path.exists(PID_FILE), 1, "removal of the pidfile")
        check(re.search(r"^info: stopped$", read(LOG_FILE), re.M),
              "no 'info: stopped' in the log file")
        check(not any(tcp_listening(p) for p in (PORT, TLS_PORT)),
              "something still listens after the daemon stopped")
    finally:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def test_daemon_background_stderr_log_needs_syslog(px):
    """-d with the default log (stderr) logs to syslog instead; without /dev/log that fails
    at once, exit 1, naming syslog, and nothing stays in the background."""
    stop_runner_pollux(px)
    default_pid = "/var/run/pollux.pid"
    had_pidfile = os.path.exists(default_pid)
    if os.path.exists("/dev/log"):
        # a syslog daemon: -d must go into the background and serve
        r = run(px.binary, "-d", t=10)
        eq(r.rc, 0, "pollux -d with syslog present (%r)" % r)
        wait_for(lambda: os.path.exists(default_pid), 2, "pidfile %s" % default_pid)
        pid = int(read(default_pid))
        try:
            raw = Ledger().plain(req("/echo/syslog-daemon"))
            eq(status_of(raw), 200, "status of a request to the daemon logging to syslog")
        finally:
            os.kill(pid, signal.SIGTERM)
        return
    r = run(px.binary, "-d", t=10)
    eq(r.rc, 1, "pollux -d without /dev/log: exit status (%r)" % r)
    check(r.elapsed < 2 * slack(px), "pollux -d took %.1f s to fail" % r.elapsed)
    check(re.search(r"^pollux: .*syslog", r.err, re.M | re.I),
          "pollux -d without /dev/log: no message naming syslog: %r" % r.err)
    time.sleep(0.2)
    check(not any(tcp_listening(p) for p in (PORT, TLS_PORT, STATS_PORT)),
          "something listens on the suite's ports after the failed -d")
    eq(os.path.exists(default_pid), had_pidfile, "%s exists" % default_pid)


# ================================================================ 9. privileges

def passwd_entry(user):
    with open("/etc/passwd") as f:
        for ln in f:
            parts = ln.rstrip("\n").split(":")
            if parts[0] == user:
                return int(parts[2]), int(parts[3])
    return None


def proc_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            k, _, v = ln.partition(":")
            if k in ("Uid", "Gid", "Groups", "CapEff"):
                ids[k] = v.split()
    return ids


def prepare_priv():
    """The nobody variant's certificates, readable by root only."""
    shutil.rmtree(PRIV_DIR, ignore_errors=True)
    d = os.path.join(PRIV_DIR, "tls")
    os.makedirs(d)
    os.chmod(PRIV_DIR, 0o700)
    os.chmod(d, 0o700)
    for n in ("ecdsa", "rsa", "p384"):
        for ext in (".pem", ".key"):
            dst = os.path.join(d, n + ext)
            shutil.copyfile(os.path.join(TLS_DIR, "orig", n + ext), dst)
            os.chmod(dst, 0o600)


@timeout(240)
def test_daemon_variant_drops_root_to_run_user(px):
    """The "nobody" variant (release build; RUN_USER nobody, no ALLOW_ROOT): started as root
    it binds, loads its keys, then runs as nobody and serves plain and TLS."""
    v = variants()["nobody"]
    stop_runner_pollux(px)
    prepare_priv()
    me = os.geteuid()
    nobody = passwd_entry("nobody")
    check(nobody is not None, "no user nobody in /etc/passwd")
    p = Pollux(v, workdir(px), "nobody").start()
    try:
        if me == 0:
            wait_for(lambda: "running as nobody" in p.log(), 2, "'running as nobody' in the log")
            check(re.search(r"^info: running as nobody \(uid %d, gid %d\)$" % nobody, p.log(),
                            re.M), "log line about the drop: %r" % p.log()[-400:])
            ids = proc_ids(p.pid)
            eq(ids["Uid"], [str(nobody[0])] * 4, "/proc/PID/status Uid (real, effective, saved, "
               "fs) of pollux")
            eq(ids["Gid"], [str(nobody[1])] * 4, "/proc/PID/status Gid of pollux")
            eq(ids["Groups"], [str(nobody[1])], "/proc/PID/status Groups of pollux")
            eq(int(ids["CapEff"][0], 16), 0, "effective capabilities of pollux")
        else:
            # not root: nothing to drop; it must keep running as the caller
            time.sleep(0.2)
            ids = proc_ids(p.pid)
            eq(ids["Uid"][1], str(me), "effective uid of pollux started by uid %d" % me)
            check("running as" not in p.log(), "pollux claims a drop it cannot make")
        raw = Ledger().plain(req("/echo/as-nobody"))
        eq(status_of(raw), 200, "status of a plain request to pollux running as nobody")
        raw, _, _ = Ledger().tls(req("/echo/as-nobody-tls", host="127.0.0.1:18443"))
        eq(status_of(raw), 200, "status of a TLS request (keys loaded before the drop, from "
           "files only root can read)")
        if me == 0:
            # a reload as nobody cannot read the root-only files: it keeps the loaded ones
            p.signal(signal.SIGHUP)
            wait_for(lambda: "certificate reload failed" in p.log(), 2,
                     "'certificate reload failed' after SIGHUP as nobody")
            check("Permission denied" in p.log(), "the failed reload does not say why: %r" %
                  p.log()[-300:])
            raw, _, _ = Ledger().tls(req("/echo/after-reload", host="127.0.0.1:18443"))
            eq(status_of(raw), 200, "TLS after the failed reload")
        p.stop()
    finally:
        p.kill()


@timeout(240)
def test_daemon_variant_refuses_root_without_run_user(px):
    """The "noroot" variant (release build; neither RUN_USER nor ALLOW_ROOT)."""
    v = variants()["noroot"]
    stop_runner_pollux(px)
    if os.geteuid() == 0:
        r = run(v, "-t", emulate=False)
        eq(r.rc, 1, "-t as root without RUN_USER or ALLOW_ROOT (%r)" % r)
        check(re.search(r"^pollux: would refuse to run as root", r.err, re.M),
              "-t: no 'would refuse to run as root' message: %r" % r.err)
        p = Pollux(v, workdir(px), "noroot").start(ready=False)
        try:
            rc = p.wait(5)
            eq(rc, 1, "exit status of a start as root without RUN_USER or ALLOW_ROOT (log %r)" %
               p.log()[-400:])
            check(re.search(r"^pollux: refusing to run as root", p.log(), re.M),
                  "no 'pollux: refusing to run as root' message: %r" % p.log()[-400:])
            check("access:" not in p.log() and "stopping" not in p.log(),
                  "it ran before refusing: %r" % p.log()[-400:])
        finally:
            p.kill()
    else:
        r = run(v, "-t", emulate=False)
        eq(r.rc, 0, "-t as uid %d: not root, nothing to refuse (%r)" % (os.geteuid(), r))
        p = Pollux(v, workdir(px), "noroot").start()
        try:
            raw = Ledger().plain(req("/echo/noroot"))
            eq(status_of(raw), 200, "status of a request as uid %d" % os.geteuid())
            p.stop()
        finally:
            p.kill()


# ================================================================ 10. make install

@timeout(180)
def test_daemon_make_install_and_man_page(px):
    dest = tempfile.mkdtemp(prefix="pollux-install-")
    try:
        p = subprocess.run(["make", "-s", "install", "OUT=build/test/pollux",
                            "CONFIG=tests/integration/config.h", "BOARD=x86_64",
                            "DESTDIR=" + dest, "PREFIX=/usr"], cwd=ROOT, env=_make_env(),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=170)
        eq(p.returncode, 0, "make install exit status (%s)" % p.stdout.decode()[-600:])
        sbin = os.path.join(dest, "usr", "sbin", "pollux")
        man = os.path.join(dest, "usr", "share", "man", "man8", "pollux.8")
        for path, mode, src in ((sbin, 0o755, os.path.join(ROOT, "build", "test", "pollux")),
                                (man, 0o644, os.path.join(ROOT, "boards", "pollux.8"))):
            check(os.path.isfile(path), "make install did not put %s in place" % path)
            eq(stat.S_IMODE(os.stat(path).st_mode), mode, "mode of %s" % path)
            eq(hashlib.sha256(open(path, "rb").read()).hexdigest(),
               hashlib.sha256(open(src, "rb").read()).hexdigest(), "%s vs %s" % (path, src))
        got = sorted(os.path.relpath(os.path.join(d, f), dest)
                     for d, _, fs in os.walk(dest) for f in fs)
        eq(got, ["usr/sbin/pollux", "usr/share/man/man8/pollux.8"], "files make install made")
        r = run(sbin, "-V", emulate=False)
        eq(r.rc, 0, "the installed pollux -V (%r)" % r)
        check(r.out.startswith("pollux "), "the installed pollux -V: %r" % r.out[:80])
        # the page documents every option -h lists
        page = open(man).read()
        for o in OPTIONS:
            check(re.search(r"^\.It Fl %s\b" % o[1], page, re.M),
                  "pollux.8 does not describe %s" % o)
        for word in ("SIGTERM", "SIGHUP", "SIGUSR1", "T_DRAIN", "RUN_USER", "ALLOW_ROOT"):
            check(word in page, "pollux.8 does not mention %s" % word)
        rendered = False
        env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8", MAN_KEEP_FORMATTING="")
        if shutil.which("mandoc"):
            q = subprocess.run(["mandoc", "-Tlint", "-Wwarning", man], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, timeout=30)
            eq(q.stdout.decode(), "", "mandoc -Tlint warnings")
            rendered = True
        if shutil.which("man"):
            q = subprocess.run(["man", "--warnings", "-l", man], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=env, timeout=30)
            eq(q.returncode, 0, "man -l exit status (%s)" % q.stderr.decode()[-300:])
            eq(q.stderr.decode(), "", "man --warnings -l warnings")
            text = re.sub(r".\x08", "", q.stdout.decode("utf-8", "replace"))
            for h in ("NAME", "SYNOPSIS", "DESCRIPTION", "SIGNALS", "EXIT STATUS", "FILES"):
                check(re.search(r"^%s$" % h, text, re.M), "man -l: no %s section" % h)
            check("pollux" in text and "SIGTERM" in text, "man -l output: %r" % text[:300])
            rendered = True
        if shutil.which("groff"):
            q = subprocess.run(["groff", "-mandoc", "-ww", "-z", "-Tutf8", man],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            eq((q.returncode, q.stderr.decode()), (0, ""), "groff -ww warnings")
            rendered = True
        if not rendered:
            # no formatter here: at least the mdoc prologue must be there
            for macro in (".Dd ", ".Dt POLLUX 8", ".Os", ".Sh NAME", ".Sh SYNOPSIS"):
                check(macro in page, "pollux.8 lacks %r" % macro)
    finally:
        shutil.rmtree(dest, ignore_errors=True)
