"""The response cache (routes with .cache = 1): what is stored and what is not, freshness
(max-age, s-maxage, Expires, Age, the route's .cache_ttl), revalidation with If-None-Match
and If-Modified-Since, conditional requests and HEAD answered from the cache, request
collapsing, objects over CACHE_MAX_OBJECT, eviction (LRU) in an arena smaller than the
working set, PURGE, BYPASS, TLS, the cache's metrics and its access log lines.

The test config: pool "cache" is one backend on 127.0.0.1:19022, which each test starts
itself (CacheBackend below: an HTTP/1.1 server in this process, a thread per connection,
keep-alive) and stops at its end. Routes /cache/ (cache on), /cachettl/ (cache on,
.cache_ttl 2 s), /cacheauth/ (cache on, basic auth admin / pollux), /nocache/ (cache off)
all go to it, prefix kept. CACHE_BYTES 256 KiB in 1 KiB blocks, CACHE_ENTRIES 64,
CACHE_MAX_OBJECT 64 KiB (head included), PURGE from 127.0.0.1 and ::1 only. SLOTS 32 and
MAX_PER_ADDR 24 bound the clients at once; T_FIRST_BYTE 2 s bounds a backend's delay.

The backend's answer is driven by the query of the target it receives (see
CacheBackend.respond), overridden per path by CacheBackend.set(); every request it
receives is recorded (method, target, headers, body), so a test counts what reached it
and sees what was sent. Bodies are pseudo-random bytes made from the path and a version
tag (payload()), so a body from the wrong object or the wrong version never matches.

The timing allows for a clock with one-second steps: an object with F seconds of
freshness left is taken as fresh for at least F - 1 s of wall time after it arrived and
stale at the latest F + 1 s after; an object meant to be fresh "at once" is asked for
again within 0.9 s.
"""
import email.utils
import gzip
import hashlib
import os
import random
import re
import socket
import threading
import time
import urllib.parse

from harness import (HOST, HOST6, PORT, TLS_PORT, Reader, all_logs, check, connect, eq,
                     metrics, request, short, timeout)
from test_tls import client_ctx

BACKEND = ("127.0.0.1", 19022)
BACKEND_NAME = "127.0.0.1:19022"
CACHE_BYTES = 262144
CACHE_ENTRIES = 64
CACHE_MAX_OBJECT = 65536
AUTH = ("Authorization", "Basic YWRtaW46cG9sbHV4")      # admin:pollux
RESULTS = ("hit", "miss", "revalidated", "bypass")
LM = 1700000000                 # a Last-Modified: Tue, 14 Nov 2023 22:13:20 GMT
COLLAPSE_CLIENTS = 30           # SLOTS is 32: 50 clients at once would get 503s


def slack(px):
    """A factor for time limits: sanitizer builds and emulated boards are slower."""
    if "asan" in os.path.basename(px.binary):
        return 3.0
    return 4.0 if os.environ.get("POLLUX_WRAP") else 1.0


def httpdate(t):
    return email.utils.formatdate(t, usegmt=True)


def q(**kw):
    """A query string for the backend: q(cc="max-age=60", etag='"v1"')."""
    return "?" + urllib.parse.urlencode([(k, str(v)) for k, v in kw.items()])


def payload(path, ver="1", size=100):
    """The body the backend sends for path (no query) at version ver."""
    return hashlib.shake_256(("%s|%s" % (path, ver)).encode()).digest(size)


def gz(data):
    return gzip.compress(data, mtime=0)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def sleep_until(t):
    d = t - time.time()
    if d > 0:
        time.sleep(d)


# ================================================================ the backend


class CacheBackend:
    """A counting HTTP/1.1 backend on 127.0.0.1:19022, in this process.

    The target's query says what to answer (each key may also be set per path with set()):
      status=N        the status (200); 206 adds a Content-Range
      size=N          body bytes (100): payload(path, ver, N)
      ver=S           the body's version tag (1)
      cc=S            Cache-Control
      etag=S          ETag (give the quotes: "v1" or W/"v1")
      lm=T            Last-Modified, Unix time T
      age=N           Age
      exp=N           Expires = Date + N s;  exp_now=N: Expires = the real time + N s;
      exp_raw=S       Expires: S (as is)
      date_off=N      Date = the real time + N s (a backend clock that is off)
      vary=S          Vary; when it names Accept-Encoding and the request's Accept-Encoding
                      has gzip, the body is gz(payload) with Content-Encoding: gzip
      setcookie=1     Set-Cookie: sid=...
      location=S      Location
      chunked=1       chunked, in chunks of chunk=N bytes (1000)
      delay=S         seconds before the head is sent
      range=1         a Range: bytes=A-B request gets 206 with those bytes
      no304=1         never 304
    If-None-Match matching the current ETag (weak comparison, lists, *) gets 304; without
    If-None-Match, If-Modified-Since at or after Last-Modified gets 304.
    """

    def __init__(self, px):
        self.px = px
        self.lock = threading.Lock()
        self.entries = []
        self.state = {}
        self.conns = []
        self.stop = threading.Event()
        self.ls = None
        self.thread = None

    # ---- life
    def __enter__(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(BACKEND)
        ls.listen(128)
        ls.settimeout(0.1)
        self.ls = ls
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, etype, exc, tb):
        self.stop.set()
        self.thread.join(2)
        self.ls.close()
        with self.lock:
            conns = list(self.conns)
        for s in conns:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        if etype is None:
            log_clean(self.px)
        return False

    def _accept(self):
        while not self.stop.is_set():
            try:
                s, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s.settimeout(None)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.conns.append(s)
            threading.Thread(target=self._serve, args=(s,), daemon=True).start()

    # ---- what the tests use
    def set(self, path, **kw):
        """Overrides query keys for every later request of path."""
        with self.lock:
            self.state.setdefault(path, {}).update({k: str(v) for k, v in kw.items()})

    def reqs(self, path, method=None):
        with self.lock:
            return [e for e in self.entries if e["path"] == path and
                    (method is None or e["method"] == method)]

    def reqs_all(self):
        with self.lock:
            return list(self.entries)

    def count(self, path, method=None):
        return len(self.reqs(path, method))

    def expect_count(self, path, n, what):
        got = self.reqs(path)
        eq(len(got), n, "%s: requests the backend received for %s (%r)" % (
            what, path, [e["method"] + " " + e["target"] for e in got]))
        return got

    # ---- the server
    def _serve(self, s):
        buf = bytearray()
        try:
            while not self.stop.is_set():
                while b"\r\n\r\n" not in buf:
                    d = s.recv(65536)
                    if not d:
                        return
                    buf += d
                i = buf.index(b"\r\n\r\n")
                head = bytes(buf[:i]).decode("latin-1")
                del buf[:i + 4]
                lines = head.split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = []
                for ln in lines[1:]:
                    n, _, v = ln.partition(":")
                    headers.append((n.strip(), v.strip()))
                body, buf = self._read_body(s, headers, buf)
                path, _, query = target.partition("?")
                e = {"method": method, "target": target, "path": path, "query": query,
                     "headers": headers, "body": body, "t": time.time()}
                with self.lock:
                    self.entries.append(e)
                close = any(n.lower() == "connection" and "close" in v.lower()
                            for n, v in headers)
                self.respond(s, e)
                if close:
                    return
        except OSError:
            return
        finally:
            try:
                s.close()
            except OSError:
                pass

    def _read_body(self, s, headers, buf):
        def need(n):
            while len(buf) < n:
                d = s.recv(65536)
                if not d:
                    raise OSError("closed in a request body")
                buf.extend(d)
        cl = hget(headers, "content-length")
        te = hget(headers, "transfer-encoding")
        if te and "chunked" in te.lower():
            body = bytearray()
            while True:
                while b"\r\n" not in buf:
                    need(len(buf) + 1)
                i = buf.index(b"\r\n")
                size = int(bytes(buf[:i]).split(b";")[0], 16)
                del buf[:i + 2]
                if size == 0:
                    while True:
                        while b"\r\n" not in buf:
                            need(len(buf) + 1)
                        i = buf.index(b"\r\n")
                        line = bytes(buf[:i])
                        del buf[:i + 2]
                        if not line:
                            return bytes(body), buf
                need(size + 2)
                body += buf[:size]
                del buf[:size + 2]
        if cl:
            n = int(cl)
            need(n)
            body = bytes(buf[:n])
            del buf[:n]
            return body, buf
        return b"", buf

    def params(self, e):
        p = dict(urllib.parse.parse_qsl(e["query"], keep_blank_values=True))
        with self.lock:
            p.update(self.state.get(e["path"], {}))
        return p

    def respond(self, s, e):
        p = self.params(e)
        delay = float(p.get("delay", 0))
        if delay:
            time.sleep(delay)
        now = int(time.time())
        date = now + int(p.get("date_off", 0))
        status = int(p.get("status", 200))
        h = [("Date", httpdate(date)), ("Content-Type", "application/octet-stream")]
        if "cc" in p:
            h.append(("Cache-Control", p["cc"]))
        if "exp" in p:
            h.append(("Expires", httpdate(date + int(p["exp"]))))
        if "exp_now" in p:
            h.append(("Expires", httpdate(now + int(p["exp_now"]))))
        if "exp_raw" in p:
            h.append(("Expires", p["exp_raw"]))
        etag = p.get("etag")
        if etag:
            h.append(("ETag", etag))
        if "lm" in p:
            h.append(("Last-Modified", httpdate(int(p["lm"]))))
        if "age" in p:
            h.append(("Age", p["age"]))
        if "vary" in p:
            h.append(("Vary", p["vary"]))
        if "location" in p:
            h.append(("Location", p["location"]))
        if p.get("setcookie"):
            h.append(("Set-Cookie", "sid=%s; Path=/" % os.urandom(4).hex()))

        # conditionals: If-None-Match first, If-Modified-Since only without it
        inm = hget(e["headers"], "if-none-match")
        ims = hget(e["headers"], "if-modified-since")
        not_modified = False
        if not p.get("no304"):
            if inm is not None:
                not_modified = etag is not None and etag_match(inm, etag)
            elif ims is not None and "lm" in p:
                t = parse_date(ims)
                not_modified = t is not None and t >= int(p["lm"])
        if not_modified and e["method"] in ("GET", "HEAD"):
            s.sendall(head_bytes(304, h))
            return

        body = payload(e["path"], p.get("ver", "1"), int(p.get("size", 100)))
        vary = p.get("vary", "").lower()
        if "accept-encoding" in vary and "gzip" in (hget(e["headers"], "accept-encoding")
                                                   or "").lower():
            body = gz(body)
            h.append(("Content-Encoding", "gzip"))
        rng = hget(e["headers"], "range")
        m = re.match(r"bytes=(\d+)-(\d+)$", rng or "")
        if p.get("range") and m:
            a, b = int(m.group(1)), min(int(m.group(2)), len(body) - 1)
            h.append(("Content-Range", "bytes %d-%d/%d" % (a, b, len(body))))
            body = body[a:b + 1]
            status = 206
        elif status == 206:
            h.append(("Content-Range", "bytes 0-%d/%d" % (len(body) - 1, len(body) * 2)))
        if p.get("chunked"):
            h.append(("Transfer-Encoding", "chunked"))
            s.sendall(head_bytes(status, h))
            if e["method"] == "HEAD":
                return
            step = int(p.get("chunk", 1000))
            for i in range(0, len(body), step):
                c = body[i:i + step]
                s.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
            s.sendall(b"0\r\n\r\n")
            return
        h.append(("Content-Length", str(len(body))))
        s.sendall(head_bytes(status, h) + (b"" if e["method"] == "HEAD" else body))


REASONS = {200: "OK", 203: "Non-Authoritative Information", 206: "Partial Content",
           301: "Moved Permanently", 304: "Not Modified", 404: "Not Found"}


def head_bytes(status, h):
    lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Whatever"))]
    lines += ["%s: %s" % nv for nv in h]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def hget(headers, name):
    for n, v in headers:
        if n.lower() == name:
            return v
    return None


def etag_match(inm, etag):
    """If-None-Match's weak comparison."""
    if inm.strip() == "*":
        return True
    def opaque(t):
        t = t.strip()
        return t[2:] if t.startswith("W/") else t
    return any(opaque(t) == opaque(etag) for t in inm.split(","))


def parse_date(s):
    try:
        return int(email.utils.parsedate_to_datetime(s).timestamp())
    except (TypeError, ValueError):
        return None


def log_clean(px):
    """pollux is alive and its log has no error line (run.py looks for sanitizer reports)."""
    px.assert_alive()
    bad = [ln for ln in px.log().splitlines() if ln.startswith(("error:", "pollux: "))]
    check(not bad, "pollux logged errors: %r" % bad[:5])


# ================================================================ clients


def connect_from(src, port=PORT, t=5.0):
    s = socket.create_connection((HOST, port), timeout=t, source_address=(src, 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Client:
    """A keep-alive connection to pollux: plain from a 127/8 address, over [::1], or TLS."""

    def __init__(self, src=None, v6=False, tls=False):
        if tls:
            raw = socket.create_connection((HOST, TLS_PORT), timeout=5)
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.s = client_ctx().wrap_socket(raw, server_hostname="127.0.0.1")
        elif v6:
            self.s = connect(HOST6)
        else:
            self.s = connect_from(src or HOST)
        self.rd = Reader(self.s)

    def send(self, method, target, headers=(), body=b""):
        self.s.sendall(request(method, target, "127.0.0.1", headers, body))

    def ask(self, method, target, headers=(), body=b""):
        self.send(method, target, headers, body)
        return self.rd.read_response(method)

    def get(self, target, headers=()):
        return self.ask("GET", target, headers)

    def nothing_more(self, wait=0.2):
        """No byte follows the last response (a HEAD or 304 sent no body)."""
        check(not self.rd.buf, "bytes after the response: %s" % short(self.rd.buf))
        self.s.settimeout(wait)
        try:
            d = self.s.recv(4096)
        except socket.timeout:
            d = None
        finally:
            self.s.settimeout(5)
        check(d is None, "after the response pollux sent %s" % (
            "a close" if d == b"" else short(d)))

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def fetch(target, headers=(), method="GET", body=b"", src=None, v6=False, tls=False):
    """One request on its own connection."""
    c = Client(src, v6, tls)
    try:
        return c.ask(method, target, headers, body)
    finally:
        c.close()


def xcache(r):
    v = r.header_all("X-Cache")
    check(len(v) <= 1, "several X-Cache fields: %r" % v)
    return v[0] if v else None


def expect(r, what, status=200, cache=None, body=None):
    """Checks a response's status, X-Cache (None: there must be none) and body."""
    eq(r.status, status, "%s: status" % what)
    eq(xcache(r), cache, "%s: X-Cache" % what)
    if body is not None:
        check(sha(r.body) == sha(body), "%s: body (%d bytes) is not the expected %d bytes "
              "(sha256 differs; starts %s, want %s)" % (what, len(r.body), len(body),
                                                        short(r.body[:16]), short(body[:16])))
    return r


def age_of(r, what):
    v = r.header_all("Age")
    eq(len(v), 1, "%s: Age fields (%r)" % (what, v))
    check(re.fullmatch(r"\d+", v[0]), "%s: Age %r is not an integer" % (what, v[0]))
    return int(v[0])


def sent(entry, name):
    return hget(entry["headers"], name.lower())


# ================================================================ metrics



def cache_metrics():
    """{hit, miss, revalidated, bypass, entries, bytes} from /metrics."""
    ms = metrics()
    out = {}
    for k in RESULTS:
        key = ("pollux_cache_requests_total", (("result", k),))
        check(key in ms, 'no pollux_cache_requests_total{result="%s"} in /metrics' % k)
        out[k] = ms[key]
    for g in ("entries", "bytes"):
        key = ("pollux_cache_" + g, ())
        check(key in ms, "no pollux_cache_%s in /metrics" % g)
        out[g] = ms[key]
    return out


def expect_deltas(before, after, what, **want):
    got = {k: after[k] - before[k] for k in RESULTS}
    full = {k: want.get(k, 0) for k in RESULTS}
    eq(got, full, "%s: pollux_cache_requests_total increases" % what)


def access_lines(px, target, n, wait):
    """The access lines of requests for target, once there are n of them."""
    deadline = time.time() + wait
    while True:
        got = [a for a in px.access() if a["request"].split(" ")[1:2] == [target]]
        if len(got) >= n or time.time() > deadline:
            return got
        time.sleep(0.05)


# ================================================================ 1. X-Cache


def test_cache_xcache_on_caching_routes_only(px):
    """/cache/ and /cachettl/ answer MISS then HIT; /nocache/ (same backend) has no X-Cache
    and every request reaches the backend."""
    with CacheBackend(px) as be:
        for pre in ("/cache/", "/cachettl/"):
            path = pre + "t1/obj"
            t = path + q(cc="max-age=60", size=300)
            want = payload(path, size=300)
            expect(fetch(t), "first GET " + t, cache="MISS", body=want)
            expect(fetch(t), "second GET " + t, cache="HIT", body=want)
            be.expect_count(path, 1, pre)
        path = "/nocache/t1/obj"
        t = path + q(cc="max-age=60", etag='"n1"', size=300)
        for i in range(3):
            r = expect(fetch(t), "GET %d of %s" % (i + 1, t), cache=None,
                       body=payload(path, size=300))
            check(not r.has("Age"), "a /nocache/ answer has Age %r" % r.get("Age"))
        be.expect_count(path, 3, "/nocache/")


# ================================================================ 2. hits, Age, access log


@timeout(90)
def test_cache_thousand_gets_one_backend_request(px):
    """1,000 GETs (4 keep-alive connections in turn) of a max-age=60 object: the backend
    sees one; the first is MISS, the rest HIT with an integer Age, every body intact; the
    access log shows status 200 and backend "-" for the hits. A backend Age is added in."""
    with CacheBackend(px) as be:
        path = "/cache/t2/obj"
        t = path + q(cc="max-age=60", etag='"t2"', size=2000)
        want = payload(path, size=2000)
        clients = [Client() for _ in range(4)]
        t0 = time.time()
        r = expect(clients[0].get(t), "GET 1", cache="MISS", body=want)
        for i in range(1, 1000):
            r = clients[i % 4].get(t)
            expect(r, "GET %d" % (i + 1), cache="HIT", body=want)
            age = age_of(r, "GET %d" % (i + 1))
            check(0 <= age <= time.time() - t0 + 1, "GET %d: Age %d after %.1f s" % (
                i + 1, age, time.time() - t0))
            eq(r.get("ETag"), '"t2"', "GET %d: ETag" % (i + 1))
        for c in clients:
            c.close()
        be.expect_count(path, 1, "after 1,000 GETs")

        lines = access_lines(px, t, 1000, 3 * slack(px))
        eq(len(lines), 1000, "access lines for %s" % t)
        eq(lines[0]["backend"], BACKEND_NAME, "the MISS's access line backend (%s)" %
           lines[0]["line"])
        for a in lines[1:]:
            check(a["status"] == 200 and a["backend"] == "-", "a hit's access line should "
                  "show status 200 and backend -: %s" % a["line"])

        # a backend's own Age counts: Age 30 on the way in, at least 30 on every hit
        path2 = "/cache/t2/aged"
        t2 = path2 + q(cc="max-age=600", age=30)
        t0 = time.time()
        expect(fetch(t2), "GET 1 of the aged object", cache="MISS", body=payload(path2))
        for i in range(5):
            r = expect(fetch(t2), "hit %d of the aged object" % (i + 1), cache="HIT",
                       body=payload(path2))
            age = age_of(r, "hit of the aged object")
            check(30 <= age <= 30 + time.time() - t0 + 1, "hit of an object the backend "
                  "sent with Age: 30, %.1f s ago: Age %d" % (time.time() - t0, age))
        be.expect_count(path2, 1, "the aged object")


# ================================================================ 3. what is stored


def test_cache_not_stored(px):
    """no-store, private, Set-Cookie, a request with Authorization, Vary other than
    Accept-Encoding (and *), 206, no freshness and no validator: each asked for twice,
    MISS both times, both reach the backend."""
    cases = [
        ("nostore", dict(cc="no-store")),
        ("nostore2", dict(cc="max-age=60, no-store", etag='"a"')),
        ("private", dict(cc="private, max-age=60", etag='"b"')),
        ("cookie", dict(cc="max-age=60", setcookie=1)),
        ("vary-lang", dict(cc="max-age=60", vary="Accept-Language")),
        ("vary-ae-cookie", dict(cc="max-age=60", vary="Accept-Encoding, Cookie")),
        ("vary-star", dict(cc="max-age=60", vary="*")),
        ("partial", dict(cc="max-age=60", status=206)),
        ("bare", dict()),
        ("bare-404", dict(status=404, size=50)),
    ]
    with CacheBackend(px) as be:
        for name, kw in cases:
            path = "/cache/t3/%s" % name
            t = path + q(**kw)
            status = int(kw.get("status", 200))
            for i in range(2):
                r = expect(fetch(t), "GET %d of %s" % (i + 1, t), status=status, cache="MISS")
                eq(len(r.body), int(kw.get("size", 100)), "%s: body length" % t)
            be.expect_count(path, 2, t)

        # a request with Authorization: on /cacheauth/ (auth required) and on /cache/
        for path in ("/cacheauth/t3/private", "/cache/t3/authorized"):
            t = path + q(cc="max-age=60", etag='"c"')
            for i in range(2):
                expect(fetch(t, [AUTH]), "GET %d of %s with Authorization" % (i + 1, t),
                       cache="MISS", body=payload(path))
            be.expect_count(path, 2, t + " with Authorization")


def test_cache_stored_cases(px):
    """Stored: 200, 203, 301, 404 with max-age; Set-Cookie with public; an authorized
    request when the response says public (served to later authorized requests; one
    without credentials still gets 401); Vary: Accept-Encoding, a variant per value."""
    with CacheBackend(px) as be:
        for status in (200, 203, 301, 404):
            path = "/cache/t3s/status%d" % status
            kw = dict(cc="max-age=60", status=status, size=40)
            if status == 301:
                kw["location"] = "/cache/t3s/elsewhere"
            t = path + q(**kw)
            want = payload(path, size=40)
            expect(fetch(t), "first GET of a %d" % status, status=status, cache="MISS", body=want)
            r = expect(fetch(t), "second GET of a %d" % status, status=status, cache="HIT",
                       body=want)
            if status == 301:
                eq(r.get("Location"), "/cache/t3s/elsewhere", "a 301 hit's Location")
            be.expect_count(path, 1, "a %d with max-age" % status)

        path = "/cache/t3s/cookie-public"
        t = path + q(cc="public, max-age=60", setcookie=1)
        expect(fetch(t), "Set-Cookie + public, first", cache="MISS", body=payload(path))
        expect(fetch(t), "Set-Cookie + public, second", cache="HIT", body=payload(path))
        be.expect_count(path, 1, "Set-Cookie with public")

        path = "/cacheauth/t3s/public"
        t = path + q(cc="public, max-age=60")
        expect(fetch(t, [AUTH]), "authorized GET 1 (public)", cache="MISS", body=payload(path))
        expect(fetch(t, [AUTH]), "authorized GET 2 (public)", cache="HIT", body=payload(path))
        r = fetch(t)
        eq(r.status, 401, "GET of a stored /cacheauth/ object without credentials: status")
        check(payload(path) not in r.body, "the 401 carries the stored body")
        eq(r.get("x-cache"), "BYPASS", "X-Cache of pollux's 401 on a caching route")
        r = fetch(t, [("Authorization", "Basic YWRtaW46d3Jvbmc=")])
        eq(r.status, 401, "GET of a stored /cacheauth/ object with a wrong password: status")
        be.expect_count(path, 1, "an authorized request, response public")

        path = "/cache/t3s/vary"
        t = path + q(cc="max-age=60", vary="Accept-Encoding", size=500)
        plain, packed = payload(path, size=500), gz(payload(path, size=500))
        gzip_h, ident_h = [("Accept-Encoding", "gzip")], [("Accept-Encoding", "identity")]
        r = expect(fetch(t, gzip_h), "gzip client, first", cache="MISS", body=packed)
        eq(r.get("Content-Encoding"), "gzip", "gzip client: Content-Encoding")
        r = expect(fetch(t, ident_h), "identity client, first (after the gzip variant is "
                   "stored)", cache="MISS", body=plain)
        check(not r.has("Content-Encoding"), "identity client got Content-Encoding")
        for i in range(3):
            r = expect(fetch(t, gzip_h), "gzip client, again", cache="HIT", body=packed)
            eq(r.get("Content-Encoding"), "gzip", "gzip client hit: Content-Encoding")
            r = expect(fetch(t, ident_h), "identity client, again", cache="HIT", body=plain)
            check(not r.has("Content-Encoding"), "identity client's hit has Content-Encoding")
        got = be.expect_count(path, 2, "Vary: Accept-Encoding, two clients")
        eq(sorted(sent(e, "Accept-Encoding") for e in got), ["gzip", "identity"],
           "Accept-Encoding of the two requests the backend received")


# ================================================================ 4. freshness


def test_cache_freshness_lifetimes(px):
    """s-maxage overrides max-age (both ways); Expires counts from Date (a backend clock
    1000 s fast with Expires 30 s ahead of real time is already stale); max-age beats
    Expires; the backend's Age shortens the life (max-age=8, Age: 6 is stale within 3 s,
    max-age=30 without Age is not)."""
    with CacheBackend(px) as be:
        objs = {
            # name: (query, fresh for the test's whole run, fresh right away)
            "smax-long": (dict(cc="max-age=0, s-maxage=60"), True, True),
            "smax-zero": (dict(cc="max-age=60, s-maxage=0"), False, False),
            "expires-60": (dict(exp=60), True, True),
            "expires-skew": (dict(date_off=1000, exp_now=30), False, False),
            "expires-past": (dict(exp=-10), False, False),
            "expires-bad": (dict(exp_raw="0"), False, False),
            "maxage-over-expires": (dict(cc="max-age=60", exp=-10), True, True),
            "expires-2": (dict(exp=2), False, True),
            "aged": (dict(cc="max-age=8", age=6), False, True),
            "unaged": (dict(cc="max-age=30"), True, True),
        }
        for name, (kw, _, now_fresh) in objs.items():
            path = "/cache/t4/" + name
            t_ask = time.time()
            expect(fetch(path + q(**kw)), name + ": first GET", cache="MISS",
                   body=payload(path))
            r = expect(fetch(path + q(**kw)), name + ": second GET at once",
                       cache="HIT" if now_fresh else "MISS", body=payload(path))
            check(time.time() - t_ask < 0.9, "%s: two GETs took %.1f s: too slow to check "
                  "freshness at one-second steps" % (name, time.time() - t_ask))
            if name == "aged":
                check(age_of(r, name) >= 6, "aged: the hit's Age %s is under the backend's "
                      "6" % r.get("Age"))
            be.expect_count(path, 1 if now_fresh else 2, name + " at once")
        # 3.1 s on: expires-2 and aged are stale (no validator: fetched again)
        sleep_until(time.time() + 3.1)
        for name, (kw, later_fresh, now_fresh) in objs.items():
            path = "/cache/t4/" + name
            n = be.count(path)
            expect(fetch(path + q(**kw)), name + ": GET after 3 s",
                   cache="HIT" if later_fresh else "MISS", body=payload(path))
            be.expect_count(path, n if later_fresh else n + 1, name + " after 3 s")


def test_cache_ttl_route_default_freshness(px):
    """/cachettl/ (.cache_ttl 2 s): a 200 without freshness is a HIT at once; after 3 s it
    is revalidated when it has an ETag (304: REVALIDATED, then HIT) and fetched again when
    it has no validator (MISS, then HIT). A max-age=60 there is still fresh; no-store is
    still not stored."""
    with CacheBackend(px) as be:
        v_path, n_path = "/cachettl/t4/validated", "/cachettl/t4/plain"
        l_path, s_path = "/cachettl/t4/long", "/cachettl/t4/nostore"
        v_t = v_path + q(etag='"ttl1"', size=700)
        n_t = n_path + q(size=700)
        l_t = l_path + q(cc="max-age=60")
        s_t = s_path + q(cc="no-store")
        for t, path, size in ((v_t, v_path, 700), (n_t, n_path, 700), (l_t, l_path, 100)):
            want = payload(path, size=size)
            t_ask = time.time()
            expect(fetch(t), t + " first", cache="MISS", body=want)
            expect(fetch(t), t + " second", cache="HIT", body=want)
            check(time.time() - t_ask < 0.9, "two GETs took %.1f s: too slow to check "
                  "freshness at one-second steps" % (time.time() - t_ask))
            be.expect_count(path, 1, t + " at once")
        t0 = time.time()
        expect(fetch(s_t), "no-store 1", cache="MISS", body=payload(s_path))
        expect(fetch(s_t), "no-store 2", cache="MISS", body=payload(s_path))
        be.expect_count(s_path, 2, "no-store on /cachettl/")

        sleep_until(t0 + 3.1)
        want = payload(v_path, size=700)
        r = expect(fetch(v_t), "the ETag object after 3 s", cache="REVALIDATED", body=want)
        got = be.expect_count(v_path, 2, "the ETag object after 3 s")
        eq(sent(got[1], "If-None-Match"), '"ttl1"', "If-None-Match of the revalidation")
        eq(got[1]["method"], "GET", "method of the revalidation")
        expect(fetch(v_t), "the ETag object after its revalidation", cache="HIT", body=want)
        be.expect_count(v_path, 2, "the ETag object after its revalidation")

        want = payload(n_path, size=700)
        expect(fetch(n_t), "the object without validator after 3 s", cache="MISS", body=want)
        got = be.expect_count(n_path, 2, "the object without validator after 3 s")
        check(sent(got[1], "If-None-Match") is None and
              sent(got[1], "If-Modified-Since") is None,
              "a conditional request for an object without validator: %r" % got[1]["headers"])
        expect(fetch(n_t), "the object without validator, fetched again", cache="HIT",
               body=want)
        be.expect_count(n_path, 2, "the object without validator, fetched again")

        expect(fetch(l_t), "max-age=60 after 3 s", cache="HIT", body=payload(l_path))
        be.expect_count(l_path, 1, "max-age=60 on /cachettl/ after 3 s")


def test_cache_validator_only_revalidates_every_time(px):
    """On /cache/ a 200 with an ETag and no freshness is stored but revalidated on each
    request: If-None-Match every time, 304s give REVALIDATED and the stored body; a changed
    ETag gives the new body (MISS), which is then what the next revalidations keep."""
    with CacheBackend(px) as be:
        path = "/cache/t4v/obj"
        t = path + q(etag='"e1"', size=900)
        want = payload(path, size=900)
        expect(fetch(t), "GET 1", cache="MISS", body=want)
        for i in range(2, 5):
            r = expect(fetch(t), "GET %d" % i, cache="REVALIDATED", body=want)
            eq(r.get("ETag"), '"e1"', "GET %d: ETag" % i)
        got = be.expect_count(path, 4, "four GETs")
        for e in got[1:]:
            eq(sent(e, "If-None-Match"), '"e1"', "If-None-Match the backend received")
        be.set(path, etag='"e2"', ver="2")
        want2 = payload(path, "2", 900)
        r = expect(fetch(t), "GET after the change", cache="MISS", body=want2)
        eq(r.get("ETag"), '"e2"', "ETag after the change")
        expect(fetch(t), "GET after that", cache="REVALIDATED", body=want2)
        got = be.expect_count(path, 6, "six GETs")
        eq(sent(got[5], "If-None-Match"), '"e2"', "If-None-Match after the change")

        # a client's own validators never reach the backend in a revalidation: the cache
        # sends its stored ETag and answers the client's condition itself
        r = fetch(t, [("If-None-Match", '"client"'), ("If-Modified-Since", httpdate(LM))])
        expect(r, "revalidation of a GET with a non-matching If-None-Match",
               cache="REVALIDATED", body=want2)
        r = fetch(t, [("If-None-Match", '"e2"')])
        eq((r.status, xcache(r), r.body), (304, "REVALIDATED", b""), "revalidation of a GET "
           "with If-None-Match matching: status, X-Cache, body")
        got = be.expect_count(path, 8, "after two conditional GETs")
        for e in got[6:]:
            eq(sent(e, "If-None-Match"), '"e2"', "If-None-Match the backend received when "
               "the client sent its own")
            eq(sent(e, "If-Modified-Since"), None, "If-Modified-Since the backend received "
               "(nothing stored has a Last-Modified)")


# ================================================================ 5. revalidation


def test_cache_revalidation_304_and_changed(px):
    """max-age=2 objects, 3.1 s later: one unchanged (the backend gets If-None-Match and
    If-Modified-Since, answers 304: the client gets 200, the stored body, REVALIDATED, and
    the next GETs are HITs), one changed (new ETag and body: MISS with the new body, then
    HITs of it), one with only Last-Modified (If-Modified-Since alone, 304)."""
    with CacheBackend(px) as be:
        same, changed, lmonly = "/cache/t5/same", "/cache/t5/changed", "/cache/t5/lmonly"
        ts = same + q(cc="max-age=2", etag='"s1"', lm=LM, size=3000)
        tc = changed + q(cc="max-age=2", etag='"c1"', size=3000)
        tl = lmonly + q(cc="max-age=2", lm=LM, size=3000)
        for t, path in ((ts, same), (tc, changed), (tl, lmonly)):
            t_ask = time.time()
            expect(fetch(t), t + " first", cache="MISS", body=payload(path, size=3000))
            expect(fetch(t), t + " second", cache="HIT", body=payload(path, size=3000))
            check(time.time() - t_ask < 0.9, "two GETs took %.1f s: too slow to check "
                  "freshness at one-second steps" % (time.time() - t_ask))
        t0 = time.time()
        be.set(changed, etag='"c2"', ver="2")
        sleep_until(t0 + 3.1)

        want = payload(same, size=3000)
        r = expect(fetch(ts), "unchanged, stale", cache="REVALIDATED", body=want)
        eq(r.get("Content-Length"), "3000", "the revalidated answer's Content-Length")
        eq(r.get("ETag"), '"s1"', "the revalidated answer's ETag")
        got = be.expect_count(same, 2, "unchanged, stale")
        eq(sent(got[1], "If-None-Match"), '"s1"', "If-None-Match sent to revalidate")
        eq(sent(got[1], "If-Modified-Since"), httpdate(LM), "If-Modified-Since sent to "
           "revalidate")
        for i in range(3):
            expect(fetch(ts), "unchanged, after its revalidation", cache="HIT", body=want)
        be.expect_count(same, 2, "unchanged, after its revalidation")

        want2 = payload(changed, "2", 3000)
        r = expect(fetch(tc), "changed, stale", cache="MISS", body=want2)
        eq(r.get("ETag"), '"c2"', "the changed answer's ETag")
        got = be.expect_count(changed, 2, "changed, stale")
        eq(sent(got[1], "If-None-Match"), '"c1"', "If-None-Match sent for the changed one")
        for i in range(3):
            r = expect(fetch(tc), "changed, later", cache="HIT", body=want2)
            eq(r.get("ETag"), '"c2"', "the changed object's hit: ETag")
        be.expect_count(changed, 2, "changed, later")

        want = payload(lmonly, size=3000)
        expect(fetch(tl), "Last-Modified only, stale", cache="REVALIDATED", body=want)
        got = be.expect_count(lmonly, 2, "Last-Modified only, stale")
        eq(sent(got[1], "If-Modified-Since"), httpdate(LM), "If-Modified-Since sent for the "
           "Last-Modified-only object")
        eq(sent(got[1], "If-None-Match"), None, "If-None-Match for an object without ETag")
        expect(fetch(tl), "Last-Modified only, after its revalidation", cache="HIT", body=want)
        be.expect_count(lmonly, 2, "Last-Modified only, after its revalidation")


# ================================================================ 6. client conditionals


def test_cache_client_conditionals(px):
    """On a hit: If-None-Match matching (alone, in a list, weak either side, *) gets 304
    with ETag, X-Cache HIT, no body; not matching gets 200; If-Modified-Since at or after
    Last-Modified gets 304, before it 200; If-None-Match wins over If-Modified-Since (one
    keep-alive connection, so a stray body byte would break the next answer). On a miss
    the backend never sees the client's If-None-Match / If-Modified-Since, and the cache
    answers them itself: 304 when the answer it fetched matches."""
    with CacheBackend(px) as be:
        strong = "/cache/t6/strong"
        ts = strong + q(cc="max-age=60", etag='"v1"', lm=LM, size=1500)
        weak = "/cache/t6/weak"
        tw = weak + q(cc="max-age=60", etag='W/"w1"', size=1500)
        c = Client()
        expect(c.get(ts), "strong: first", cache="MISS", body=payload(strong, size=1500))
        expect(c.get(tw), "weak: first", cache="MISS", body=payload(weak, size=1500))
        cases = [
            (ts, [("If-None-Match", '"v1"')], 304),
            (ts, [("If-None-Match", '"x", "v1" , "y"')], 304),
            (ts, [("If-None-Match", 'W/"v1"')], 304),
            (ts, [("If-None-Match", "*")], 304),
            (ts, [("If-None-Match", '"v2"')], 200),
            (ts, [("If-None-Match", '"v1x", "x"')], 200),
            (ts, [("If-Modified-Since", httpdate(LM))], 304),
            (ts, [("If-Modified-Since", httpdate(LM + 86400))], 304),
            (ts, [("If-Modified-Since", httpdate(LM - 1))], 200),
            (ts, [("If-Modified-Since", httpdate(LM - 86400))], 200),
            (ts, [("If-None-Match", '"nope"'), ("If-Modified-Since", httpdate(LM + 86400))], 200),
            (ts, [("If-None-Match", '"v1"'), ("If-Modified-Since", httpdate(LM - 86400))], 304),
            (tw, [("If-None-Match", 'W/"w1"')], 304),
            (tw, [("If-None-Match", '"w1"')], 304),
            (tw, [("If-None-Match", '"w2"')], 200),
        ]
        for t, hs, status in cases:
            what = "hit with %r" % (hs,)
            path = t.split("?")[0]
            r = c.get(t, hs)
            eq(r.status, status, what + ": status")
            eq(xcache(r), "HIT", what + ": X-Cache")
            etag = '"v1"' if t == ts else 'W/"w1"'
            eq(r.get("ETag"), etag, what + ": ETag")
            if status == 304:
                eq(r.body, b"", what + ": body")
                check(r.get("Content-Length") in (None, "1500"), what + ": Content-Length %r"
                      % r.get("Content-Length"))
            else:
                expect(r, what, cache="HIT", body=payload(path, size=1500))
        c.nothing_more()
        expect(c.get(ts), "strong: plain GET at the end", cache="HIT",
               body=payload(strong, size=1500))
        c.close()
        be.expect_count(strong, 1, "the strong object")
        be.expect_count(weak, 1, "the weak object")

        # a miss with a client's stale validators: a full 200, nothing conditional sent
        path = "/cache/t6/miss-old"
        t = path + q(cc="max-age=60", etag='"m1"', lm=LM)
        expect(fetch(t, [("If-None-Match", '"old"'), ("If-Modified-Since", httpdate(LM - 99))]),
               "miss with a non-matching If-None-Match", cache="MISS", body=payload(path))
        # a miss whose answer matches the client's validators: the cache answers 304
        path2 = "/cache/t6/miss-match"
        t2 = path2 + q(cc="max-age=60", etag='"m2"', lm=LM)
        r2 = fetch(t2, [("If-None-Match", '"m2"')])
        path3 = "/cache/t6/miss-ims"
        t3 = path3 + q(cc="max-age=60", lm=LM)
        r3 = fetch(t3, [("If-Modified-Since", httpdate(LM + 10))])
        for p in (path, path2, path3):
            got = be.expect_count(p, 1, "misses with client conditionals")
            for h in ("If-None-Match", "If-Modified-Since"):
                eq(sent(got[0], h), None, "%s the backend received for %s" % (h, p))
        expect(fetch(t2), "plain GET after the conditional miss", cache="HIT",
               body=payload(path2))
        expect(fetch(t3), "plain GET after the conditional miss (IMS)", cache="HIT",
               body=payload(path3))
        eq((r2.status, xcache(r2), len(r2.body)), (304, "MISS", 0), "a miss with If-None-Match "
           "matching the answer fetched: status, X-Cache, body bytes")
        eq((r3.status, xcache(r3), len(r3.body)), (304, "MISS", 0), "a miss with "
           "If-Modified-Since after the fetched Last-Modified: status, X-Cache, body bytes")


# ================================================================ 7. HEAD


def test_cache_head(px):
    """HEAD on a hit: the stored status and Content-Length, no body, no backend request
    (a stored 404 too). HEAD on a miss goes to the backend as HEAD (MISS) and stores
    nothing: the next GET is a MISS."""
    with CacheBackend(px) as be:
        path = "/cache/t7/obj"
        t = path + q(cc="max-age=60", etag='"h1"', size=4321)
        nf = "/cache/t7/gone"
        tn = nf + q(cc="max-age=60", status=404, size=77)
        c = Client()
        expect(c.get(t), "GET", cache="MISS", body=payload(path, size=4321))
        expect(c.get(tn), "GET of the 404", status=404, cache="MISS", body=payload(nf, size=77))
        for tt, status, n in ((t, 200, 4321), (tn, 404, 77)):
            r = c.ask("HEAD", tt)
            eq(r.status, status, "HEAD on a hit: status")
            eq(xcache(r), "HIT", "HEAD on a hit: X-Cache")
            eq(r.get("Content-Length"), str(n), "HEAD on a hit: Content-Length")
            c.nothing_more()
        expect(c.get(t), "GET after the HEADs", cache="HIT", body=payload(path, size=4321))
        c.close()
        be.expect_count(path, 1, "HEAD on a hit")
        be.expect_count(nf, 1, "HEAD on a stored 404")

        path = "/cache/t7/headfirst"
        t = path + q(cc="max-age=60", size=2222)
        c = Client()
        r = c.ask("HEAD", t)
        eq(r.status, 200, "HEAD on a miss: status")
        eq(xcache(r), "MISS", "HEAD on a miss: X-Cache")
        eq(r.get("Content-Length"), "2222", "HEAD on a miss: Content-Length")
        c.nothing_more()
        got = be.expect_count(path, 1, "HEAD on a miss")
        eq(got[0]["method"], "HEAD", "method the backend received for a HEAD miss")
        expect(c.get(t), "GET after a HEAD miss", cache="MISS", body=payload(path, size=2222))
        expect(c.get(t), "GET after that", cache="HIT", body=payload(path, size=2222))
        r = c.ask("HEAD", t)
        eq((r.status, xcache(r), r.get("Content-Length")), (200, "HIT", "2222"),
           "HEAD once stored: status, X-Cache, Content-Length")
        c.nothing_more()
        c.close()
        got = be.expect_count(path, 2, "HEAD, GET, GET, HEAD")
        eq(got[1]["method"], "GET", "method of the second backend request")


# ================================================================ 8. collapsing


def test_cache_request_collapsing(px):
    """COLLAPSE_CLIENTS clients (as many as SLOTS allows) GET one uncached key at once while
    the backend takes its time: one backend request, every client the full body, one MISS
    and the rest HIT."""
    sl = slack(px)
    with CacheBackend(px) as be:
        path = "/cache/t8/slow"
        delay = min(0.6 * sl, 1.5)              # under T_FIRST_BYTE (2 s)
        t = path + q(cc="max-age=60", size=20000, delay=delay)
        want = payload(path, size=20000)
        before = cache_metrics()
        # connected first (from two addresses: MAX_PER_ADDR is 24), then all ask at once
        clients = [Client(src="127.0.0.%d" % (3 + i % 2)) for i in range(COLLAPSE_CLIENTS)]
        go = threading.Barrier(COLLAPSE_CLIENTS)
        results = [None] * COLLAPSE_CLIENTS

        def one(i):
            try:
                go.wait(10)
                results[i] = clients[i].get(t)
            except BaseException as e:      # reported below, by client
                results[i] = e

        threads = [threading.Thread(target=one, args=(i,)) for i in range(COLLAPSE_CLIENTS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(20)
        for c in clients:
            c.close()
        kinds = {}
        for i, r in enumerate(results):
            check(not isinstance(r, BaseException) and r is not None,
                  "client %d: %s" % (i, r))
            expect(r, "client %d" % i, cache=xcache(r), body=want)
            kinds[xcache(r)] = kinds.get(xcache(r), 0) + 1
        be.expect_count(path, 1, "%d clients at once" % COLLAPSE_CLIENTS)
        eq(kinds, {"MISS": 1, "HIT": COLLAPSE_CLIENTS - 1}, "X-Cache of the answers")
        expect_deltas(before, cache_metrics(), "collapsed requests", miss=1,
                      hit=COLLAPSE_CLIENTS - 1)


# ================================================================ 9. object size


def test_cache_large_objects_stream_uncached(px):
    """200 KiB with Content-Length or chunked, and 64 KiB (the limit, with no room for the
    head): every GET reaches the backend, every body is intact, X-Cache MISS. Under the
    limit a 60,000-byte object and a chunked 20 KiB one are stored; the chunked one is
    served from the cache with Content-Length."""
    with CacheBackend(px) as be:
        big = [("/cache/t9/big-cl", dict(size=204800)),
               ("/cache/t9/big-chunked", dict(size=204800, chunked=1, chunk=7000)),
               ("/cache/t9/at-limit", dict(size=CACHE_MAX_OBJECT)),
               ("/cache/t9/at-limit-chunked", dict(size=CACHE_MAX_OBJECT, chunked=1,
                                                   chunk=4096))]
        for path, kw in big:
            t = path + q(cc="max-age=60", etag='"big"', **kw)
            want = payload(path, size=kw["size"])
            for i in range(3):
                expect(fetch(t), "%s GET %d" % (path, i + 1), cache="MISS", body=want)
            be.expect_count(path, 3, path)
        # two clients at once on a large object
        path, kw = big[1]
        t = path + q(cc="max-age=60", etag='"big"', **kw)
        a, b = Client(), Client()
        a.send("GET", t)
        b.send("GET", t)
        want = payload(path, size=kw["size"])
        expect(a.rd.read_response(), "client a, at once", cache="MISS", body=want)
        expect(b.rd.read_response(), "client b, at once", cache="MISS", body=want)
        a.close()
        b.close()
        be.expect_count(path, 5, path + " after two clients at once")

        small = [("/cache/t9/under-cl", dict(size=60000)),
                 ("/cache/t9/under-chunked", dict(size=20480, chunked=1, chunk=1000))]
        for path, kw in small:
            t = path + q(cc="max-age=60", **kw)
            want = payload(path, size=kw["size"])
            expect(fetch(t), path + " first", cache="MISS", body=want)
            for i in range(2):
                r = expect(fetch(t), path + " hit", cache="HIT", body=want)
                eq(r.get("Content-Length"), str(kw["size"]), path + " hit: Content-Length")
                check(not r.has("Transfer-Encoding"), path + " hit has Transfer-Encoding")
            be.expect_count(path, 1, path)


# ================================================================ 10. eviction


@timeout(90)
def test_cache_working_set_larger_than_arena(px):
    """40 objects of 16 KiB (about 15 fit) in 3 rounds of random order: every body intact,
    each MISS is one backend request, some requests hit, /metrics agrees. Then LRU: one
    object used between 24 new insertions stays a HIT while the first of them is evicted."""
    size = 16384
    rnd = random.Random(10)
    with CacheBackend(px) as be:
        before = cache_metrics()
        paths = ["/cache/t10/obj%02d" % i for i in range(40)]
        n = {"HIT": 0, "MISS": 0}
        for rnd_i in range(3):
            order = paths[:]
            rnd.shuffle(order)
            for path in order:
                r = fetch(path + q(cc="max-age=600", size=size))
                check(xcache(r) in n, "%s: X-Cache %r" % (path, xcache(r)))
                expect(r, "round %d %s" % (rnd_i, path), cache=xcache(r),
                       body=payload(path, size=size))
                n[xcache(r)] += 1
        eq(sum(be.count(p) for p in paths), n["MISS"], "backend requests vs MISS answers "
           "(%r)" % n)
        check(n["HIT"] > 0, "no hit in 120 requests of 40 objects: %r" % n)
        check(n["MISS"] > 40, "only %d misses: 40 objects of 16 KiB cannot all fit in "
              "256 KiB" % n["MISS"])
        after = cache_metrics()
        expect_deltas(before, after, "the working set", hit=n["HIT"], miss=n["MISS"])
        check(1 <= after["entries"] <= 15, "pollux_cache_entries %d with 16 KiB objects in a "
              "256 KiB arena" % after["entries"])
        check(after["entries"] * size <= after["bytes"] <= CACHE_BYTES,
              "pollux_cache_bytes %d for %d entries of %d body bytes (arena %d)" % (
                  after["bytes"], after["entries"], size, CACHE_BYTES))

        keep = "/cache/t10/keep"
        tk = keep + q(cc="max-age=600", size=size)
        expect(fetch(tk), "the kept object, first", cache="MISS", body=payload(keep, size=size))
        new = ["/cache/t10/new%02d" % i for i in range(24)]
        for i, path in enumerate(new):
            expect(fetch(path + q(cc="max-age=600", size=size)), path, cache="MISS",
                   body=payload(path, size=size))
            expect(fetch(tk), "the kept object after %d new ones" % (i + 1), cache="HIT",
                   body=payload(keep, size=size))
        be.expect_count(keep, 1, "the object used between insertions")
        expect(fetch(new[0] + q(cc="max-age=600", size=size)), "the first new object, "
               "24 insertions later", cache="MISS", body=payload(new[0], size=size))
        be.expect_count(new[0], 2, "the first new object")


def test_cache_entry_table_limit(px):
    """80 small objects: pollux_cache_entries stays at most CACHE_ENTRIES (64), every body
    is intact, and the most recent ones are still HITs."""
    with CacheBackend(px) as be:
        paths = ["/cache/t10e/o%02d" % i for i in range(80)]
        for path in paths:
            expect(fetch(path + q(cc="max-age=600", size=64)), path, cache="MISS",
                   body=payload(path, size=64))
        m = cache_metrics()
        check(m["entries"] <= CACHE_ENTRIES, "pollux_cache_entries %d over CACHE_ENTRIES %d"
              % (m["entries"], CACHE_ENTRIES))
        check(m["entries"] >= 10, "pollux_cache_entries %d after 80 small objects" %
              m["entries"])
        for path in reversed(paths[-10:]):
            expect(fetch(path + q(cc="max-age=600", size=64)), path + " again", cache="HIT",
                   body=payload(path, size=64))
        expect(fetch(paths[0] + q(cc="max-age=600", size=64)), "the first of 80 again",
               cache="MISS", body=payload(paths[0], size=64))
        eq(sum(be.count(p) for p in paths), 81, "backend requests")


# ================================================================ 11. PURGE


def test_cache_purge(px):
    """PURGE of a stored key from 127.0.0.1 (and ::1): 200, then the GET is a MISS; of a
    key not stored: 404; from 127.0.0.2: 403 and the entry stays; PURGE /* from 127.0.0.2:
    403; from 127.0.0.1: 200, pollux_cache_entries and _bytes drop to 0 and every object is
    fetched again (then stored again). PURGE never reaches the backend."""
    with CacheBackend(px) as be:
        paths = ["/cache/t11/o%d" % i for i in range(4)]
        ts = [p + q(cc="max-age=600", size=1000) for p in paths]
        for p, t in zip(paths, ts):
            expect(fetch(t), p + " first", cache="MISS", body=payload(p, size=1000))
            expect(fetch(t), p + " second", cache="HIT", body=payload(p, size=1000))

        r = fetch(ts[0], method="PURGE", src="127.0.0.2")
        eq(r.status, 403, "PURGE of a stored key from 127.0.0.2")
        expect(fetch(ts[0]), "GET after the refused PURGE", cache="HIT",
               body=payload(paths[0], size=1000))
        r = fetch(ts[0], method="PURGE")
        eq(r.status, 200, "PURGE of a stored key from 127.0.0.1")
        r = fetch(ts[0], method="PURGE")
        eq(r.status, 404, "PURGE of the same key again")
        r = fetch("/cache/t11/never" + q(cc="max-age=600"), method="PURGE")
        eq(r.status, 404, "PURGE of a key never stored")
        r = fetch(paths[1], method="PURGE")
        eq(r.status, 404, "PURGE of a stored object's path without its query")
        expect(fetch(ts[1]), "GET after a PURGE of another target", cache="HIT",
               body=payload(paths[1], size=1000))
        expect(fetch(ts[0]), "GET after the PURGE", cache="MISS", body=payload(paths[0],
                                                                               size=1000))
        be.expect_count(paths[0], 2, "the purged object")
        r = fetch(ts[1], method="PURGE", v6=True)
        eq(r.status, 200, "PURGE of a stored key from ::1")
        expect(fetch(ts[1]), "GET after the PURGE from ::1", cache="MISS",
               body=payload(paths[1], size=1000))

        m = cache_metrics()
        check(m["entries"] == 4, "pollux_cache_entries %d with 4 objects stored" % m["entries"])
        r = fetch("/*", method="PURGE")
        others = {n: [e["method"] + " " + e["target"] for e in v if e.get("method") == "PURGE"]
                  for n, v in all_logs().items()}
        others = {n: v for n, v in others.items() if v}
        check(not others, "PURGE /* from 127.0.0.1 was forwarded to backend(s) %r (answer %d "
              "%s)" % (others, r.status, short(r.body, 60)))
        eq(r.status, 200, "PURGE /* from 127.0.0.1")
        m = cache_metrics()
        eq((m["entries"], m["bytes"]), (0, 0), "pollux_cache_entries and _bytes after PURGE /*")
        counts = [be.count(p) for p in paths]
        for p, t in zip(paths, ts):
            expect(fetch(t), p + " after PURGE /*", cache="MISS", body=payload(p, size=1000))
            expect(fetch(t), p + " stored again", cache="HIT", body=payload(p, size=1000))
        eq([be.count(p) for p in paths], [n + 1 for n in counts], "backend requests per "
           "object after PURGE /*")
        eq(cache_metrics()["entries"], 4, "pollux_cache_entries when stored again")

        r = fetch("/*", method="PURGE", src="127.0.0.2")
        eq(r.status, 403, "PURGE /* from 127.0.0.2")
        eq(cache_metrics()["entries"], 4, "pollux_cache_entries after the refused PURGE /*")
        for p, t in zip(paths, ts):
            expect(fetch(t), p + " after the refused PURGE /*", cache="HIT",
                   body=payload(p, size=1000))
        check(not [e for e in be.reqs_all() if e["method"] == "PURGE"], "a PURGE reached the "
              "cache backend")


# ================================================================ 12. BYPASS


def test_cache_bypass(px):
    """POST, PUT and DELETE (forwarded with their bodies, BYPASS, never stored or answered
    from the cache), GET with Range (BYPASS, the backend's 206 reaches the client and does
    not replace the stored object) and GET with Cache-Control: no-store (BYPASS, not
    stored)."""
    with CacheBackend(px) as be:
        before = cache_metrics()
        # POST to a key nothing stored yet: its max-age=60 answer is not stored
        path = "/cache/t12/post-first"
        t = path + q(cc="max-age=60")
        expect(fetch(t, method="POST", body=b"a=1"), "POST", cache="BYPASS", body=payload(path))
        got = be.expect_count(path, 1, "POST")
        eq((got[0]["method"], got[0]["body"]), ("POST", b"a=1"), "what the backend received")
        expect(fetch(t), "GET after POST", cache="MISS", body=payload(path))
        expect(fetch(t), "GET after that", cache="HIT", body=payload(path))
        be.expect_count(path, 2, "POST, GET, GET")

        # unsafe methods on a stored key all reach the backend (whether they invalidate
        # the entry is not part of the contract: this key is not asked for again)
        path = "/cache/t12/stored"
        t = path + q(cc="max-age=60", size=500)
        want = payload(path, size=500)
        expect(fetch(t), "GET 1", cache="MISS", body=want)
        expect(fetch(t), "GET 2", cache="HIT", body=want)
        for m, body in (("POST", b"x=1"), ("PUT", b"y" * 3000), ("DELETE", b"")):
            expect(fetch(t, method=m, body=body), m + " on a stored key", cache="BYPASS",
                   body=want)
            e = be.reqs(path)[-1]
            eq((e["method"], e["body"]), (m, body), "what the backend received for " + m)
        be.expect_count(path, 4, "GET, GET, POST, PUT, DELETE")

        # Range: forwarded with the header, the 206 not stored
        path = "/cache/t12/ranged"
        t = path + q(cc="max-age=60", size=500, range=1)
        want = payload(path, size=500)
        expect(fetch(t), "GET 1", cache="MISS", body=want)
        expect(fetch(t), "GET 2", cache="HIT", body=want)
        r = fetch(t, [("Range", "bytes=10-29")])
        expect(r, "GET with Range", status=206, cache="BYPASS", body=want[10:30])
        e = be.reqs(path)[-1]
        eq((e["method"], sent(e, "Range")), ("GET", "bytes=10-29"), "the Range request the "
           "backend received")
        expect(fetch(t), "GET after the Range request", cache="HIT", body=want)

        # Cache-Control: no-store in the request
        r = fetch(t, [("Cache-Control", "no-store")])
        expect(r, "GET with no-store on a stored key", cache="BYPASS", body=want)
        be.expect_count(path, 3, "GET, GET, Range, GET, no-store")
        path2 = "/cache/t12/nostore-first"
        t2 = path2 + q(cc="max-age=60")
        expect(fetch(t2, [("Cache-Control", "no-store")]), "GET with no-store, nothing stored",
               cache="BYPASS", body=payload(path2))
        expect(fetch(t2), "plain GET after it", cache="MISS", body=payload(path2))
        be.expect_count(path2, 2, "no-store request, then a plain GET")
        expect_deltas(before, cache_metrics(), "the bypass scenario", bypass=7, miss=4, hit=4)


# ================================================================ 13. TLS


def test_cache_over_tls(px):
    """Over TLS a MISS then HITs with intact bodies; the entry is shared with plain HTTP."""
    with CacheBackend(px) as be:
        path = "/cache/t13/obj"
        t = path + q(cc="max-age=60", size=30000)
        want = payload(path, size=30000)
        c = Client(tls=True)
        expect(c.get(t), "TLS GET 1", cache="MISS", body=want)
        for i in range(5):
            expect(c.get(t), "TLS GET %d" % (i + 2), cache="HIT", body=want)
        c.close()
        expect(fetch(t), "plain GET", cache="HIT", body=want)
        path2 = "/cache/t13/plainfirst"
        t2 = path2 + q(cc="max-age=60", size=30000)
        expect(fetch(t2), "plain GET 1", cache="MISS", body=payload(path2, size=30000))
        expect(fetch(t2, tls=True), "TLS GET of a plain-stored object", cache="HIT",
               body=payload(path2, size=30000))
        be.expect_count(path, 1, "over TLS")
        be.expect_count(path2, 1, "plain then TLS")


# ================================================================ 14. metrics


def test_cache_metrics(px):
    """pollux_cache_requests_total by result moves as the answers say (2 misses, 2 hits,
    1 revalidation, 1 bypass; /nocache/ none); pollux_cache_entries and pollux_cache_bytes
    (whole 1 KiB blocks) grow with the two stored objects."""
    with CacheBackend(px) as be:
        before = cache_metrics()
        check(before["bytes"] <= CACHE_BYTES, "pollux_cache_bytes %d" % before["bytes"])
        a, b = "/cache/t14/a", "/cache/t14/b"
        ta = a + q(cc="max-age=60", size=5000)
        tb = b + q(etag='"b1"', size=3000)          # revalidated on every request
        expect(fetch(ta), "a 1", cache="MISS", body=payload(a, size=5000))
        expect(fetch(ta), "a 2", cache="HIT", body=payload(a, size=5000))
        expect(fetch(ta), "a 3", cache="HIT", body=payload(a, size=5000))
        expect(fetch(tb), "b 1", cache="MISS", body=payload(b, size=3000))
        expect(fetch(tb), "b 2", cache="REVALIDATED", body=payload(b, size=3000))
        form = "/cache/t14/form"
        expect(fetch(form + q(cc="max-age=60"), method="POST", body=b"z"), "POST",
               cache="BYPASS", body=payload(form))
        nc = "/nocache/t14/c"
        expect(fetch(nc + q(cc="max-age=60")), "nocache", cache=None, body=payload(nc))
        after = cache_metrics()
        expect_deltas(before, after, "2 misses, 2 hits, a revalidation, a bypass", miss=2,
                      hit=2, revalidated=1, bypass=1)
        eq(after["entries"] - before["entries"], 2, "pollux_cache_entries increase")
        grew = after["bytes"] - before["bytes"]
        check(8000 <= grew <= 8000 + 4 * 1024, "pollux_cache_bytes grew by %d for bodies of "
              "5000 and 3000 bytes" % grew)
        eq(after["bytes"] % 1024, 0, "pollux_cache_bytes modulo the 1 KiB block")
        be.expect_count(a, 1, "a")
        be.expect_count(b, 2, "b")
