"""
Helpers for pollux's integration tests: the proxy process, raw HTTP/1.1 clients with exact
framing, curl, the test backends' logs, and assertions that say what they compared.
"""
import base64
import functools
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import sockdiag     # noqa: E402  (tests/sockdiag.py, shared with the backends)

HOST = "127.0.0.1"
HOST6 = "::1"
PORT = 18080
PROXY = "http://127.0.0.1:18080"
TLS_PORT = 18443            # the TLS listener (tests/integration/config.h)
STATS_PORT = 18099          # the stats listener
REDIRECT_PORT = 18081       # the plain listener that redirects to TLS_PORT
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# the certificates run.py makes (make_certs); config.h's certs table names the live ones
TLS_DIR = os.path.join(ROOT, "build", "test", "tls")
LIVE_CERTS = ("ecdsa", "rsa", "p384")       # TLS_DIR/NAME.pem (chain) and NAME.key


def tls_path(name):
    return os.path.join(TLS_DIR, name)


def restore_live_certs():
    """Copies the pristine certificates (TLS_DIR/orig/) over the live files config.h names,
    undoing whatever a reload test put there."""
    for n in LIVE_CERTS:
        for ext in (".pem", ".key"):
            with open(os.path.join(TLS_DIR, "orig", n + ext), "rb") as f:
                data = f.read()
            dst = os.path.join(TLS_DIR, n + ext)
            tmp = dst + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, dst)


def tcp_listening(port, host="127.0.0.1"):
    """True when a listening socket is bound to host:port (no connection made)."""
    return sockdiag.listening(port, host)

# name -> (address, port); what tests/integration/config.h points at
BACKENDS = {
    "web1": ("127.0.0.1", 19001),
    "web2": ("127.0.0.1", 19002),
    "api": ("127.0.0.1", 19003),
    "hosted": ("::1", 19004),
}
SINK = ("127.0.0.1", 19005)
DEAD = ("127.0.0.1", 19009)
HOSTED_IDLE_CLOSE = 0.5     # run.py starts "hosted" with --idle-close this

GIB = 1 << 30
# time limits (a test's own and curl's on long transfers) are multiplied by this; the
# boards run sets it, as pollux under qemu-user moves a GiB in two minutes or more
SLOW = float(os.environ.get("POLLUX_SLOW", "1"))
SLICE = 1 << 20
PATTERN = memoryview(bytes(range(256)) * (SLICE // 256 + 1))

SANITIZER_MARKS = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "nomalloc:")


class TestFailure(AssertionError):
    pass


def fail(msg):
    raise TestFailure(msg)


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, want %r" % (what, got, want))


def short(b, n=200):
    if isinstance(b, (bytes, bytearray)):
        b = bytes(b)
    r = repr(b)
    return r if len(r) <= n else r[:n] + "...(%d)" % len(b)


def timeout(seconds):
    """Marks a test with its own time limit (the default is 60 s)."""
    def deco(f):
        f.timeout = seconds
        return f
    return deco


# ---------------------------------------------------------------- data pattern

def pattern_bytes(n, phase=0):
    out = bytearray()
    while len(out) < n:
        take = min(SLICE, n - len(out))
        p = (phase + len(out)) % 256
        out += PATTERN[p:p + take]
    return bytes(out)


@functools.lru_cache(maxsize=None)
def pattern_sha(n):
    h = hashlib.sha256()
    pos = 0
    while pos < n:
        take = min(SLICE, n - pos)
        h.update(PATTERN[pos % 256:pos % 256 + take])
        pos += take
    return h.hexdigest()


# ---------------------------------------------------------------- the proxy

class Proxy:
    def __init__(self, binary, workdir):
        self.binary = binary
        self.errpath = os.path.join(workdir, "pollux.stderr")
        self.proc = None
        self.errf = None
        self.result = None
        self.stopped_by_test = False

    def command(self, *args):
        """The command line that runs pollux with args; POLLUX_WRAP names an emulator
        for a cross-built binary (make test-boards)."""
        return os.environ.get("POLLUX_WRAP", "").split() + [self.binary] + list(args)

    def start(self):
        self.errf = open(self.errpath, "wb")
        env = dict(os.environ)
        # cwd: config.h names the certificate files relative to the source tree
        cmd = self.command()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=self.errf, stderr=self.errf, env=env, cwd=ROOT)
        deadline = time.time() + 5
        ready = False
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("pollux exited during start-up with %s" % self.proc.returncode)
            if "info: listening on 127.0.0.1:18080" in self.log():
                try:
                    socket.create_connection((HOST, PORT), timeout=1).close()
                    ready = True
                    break
                except OSError:
                    pass
            time.sleep(0.02)
        if not ready:
            fail("pollux not ready within 5 s (no 'info: listening on 127.0.0.1:18080' "
                 "or the port does not accept)")
        # the TLS and redirect listeners: seen by netlink, without connecting (a probe
        # connection to the TLS port would be a handshake failure in pollux's log)
        while not all(tcp_listening(p) for p in (TLS_PORT, REDIRECT_PORT)):
            if self.proc.poll() is not None:
                fail("pollux exited during start-up with %s" % self.proc.returncode)
            if time.time() > deadline:
                fail("pollux not listening on 127.0.0.1:%d and :%d within 5 s" % (
                    TLS_PORT, REDIRECT_PORT))
            time.sleep(0.02)

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace=5.0, sig=signal.SIGTERM):
        """Sends sig (SIGTERM), then waits. Returns (returncode, problem or None)."""
        if self.proc is None:
            return None, None
        if self.result is not None:
            return self.result
        problem = None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                problem = "did not exit within %.0f s of SIGTERM" % grace
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        if self.errf:
            self.errf.close()
            self.errf = None
        self.result = (rc, problem)
        return self.result

    def log(self):
        try:
            with open(self.errpath, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    # Combined Log Format plus duration, backend and Host (pollux(8), README "Logs")
    ACCESS_RX = re.compile(r'access: (\S+) - (\S+) \[([^\]]+)\] "([^"]*)" (\d{3}) (\d+) '
                           r'"([^"]*)" "([^"]*)" (\d+)ms (\S+) "([^"]*)"$')

    def access(self):
        """Parsed access lines: dicts client, user, date, request ("METHOD TARGET VERSION"),
        status, bytes, referer, agent, ms, backend, host, line."""
        out = []
        for line in self.log().splitlines():
            m = self.ACCESS_RX.search(line)
            if m:
                out.append({"client": m.group(1), "user": m.group(2), "date": m.group(3),
                            "request": m.group(4), "status": int(m.group(5)),
                            "bytes": int(m.group(6)), "referer": m.group(7),
                            "agent": m.group(8), "ms": int(m.group(9)),
                            "backend": m.group(10), "host": m.group(11), "line": line})
        return out

    def wait_access(self, status, request_contains="", wait=2.0):
        """Waits for an access line with this status (and request text); returns it."""
        deadline = time.time() + wait
        while True:
            for a in self.access():
                if a["status"] == status and request_contains in a["request"]:
                    return a
            if time.time() > deadline:
                lines = [a["line"] for a in self.access()]
                other = [ln for ln in self.log().splitlines()
                         if " %d" % status in ln and "access:" not in ln]
                fail("no access line with status %d%s; access lines: %r%s" % (
                    status, " for %r" % request_contains if request_contains else "", lines[-8:],
                    "; other lines naming %d: %r" % (status, other[-3:]) if other else ""))
            time.sleep(0.02)

    def assert_alive(self):
        check(self.alive(), "pollux died (exit %s)" % (self.proc.returncode,))


# ---------------------------------------------------------------- raw HTTP

def connect(host=HOST, port=PORT, timeout=5.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request(method, target, host="127.0.0.1", headers=(), body=b"", version="HTTP/1.1",
            content_length=None):
    """Builds a request. content_length: None adds one when body is non-empty, False never."""
    lines = ["%s %s %s" % (method, target, version)]
    if host is not None:
        lines.append("Host: %s" % host)
    for n, v in headers:
        lines.append("%s: %s" % (n, v))
    if content_length is None and body:
        lines.append("Content-Length: %d" % len(body))
    elif content_length not in (None, False):
        lines.append("Content-Length: %d" % content_length)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Response:
    def __init__(self):
        self.version = self.reason = ""
        self.status = 0
        self.headers = []
        self.body = b""
        self.chunked = False
        self.chunk_sizes = []
        self.trailers = []
        self.raw_head = b""
        self.close_delimited = False

    def get(self, name):
        vals = self.header_all(name)
        return vals[0] if vals else None

    def header_all(self, name):
        return [v for n, v in self.headers if n.lower() == name.lower()]

    def has(self, name):
        return bool(self.header_all(name))

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            fail("response body is not JSON: %s" % short(self.body))

    def __repr__(self):
        return "<%d %s, %d body bytes>" % (self.status, self.reason, len(self.body))


class Reader:
    """Reads HTTP/1.1 responses from a socket, keeping whatever arrives after one."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False

    def _fill(self, what="a response"):
        try:
            d = self.sock.recv(SLICE)
        except socket.timeout:
            fail("timed out waiting for %s from pollux (have %s)" % (what, short(self.buf)))
        except ConnectionResetError:
            fail("connection reset by pollux while reading %s (have %s)" % (what, short(self.buf)))
        if not d:
            self.eof = True
            return False
        self.buf += d
        return True

    def read_until(self, sep, what):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(sep)]
                return out
            if not self._fill(what):
                fail("connection closed while reading %s (have %s)" % (what, short(self.buf)))

    def read_exact(self, n, what):
        while len(self.buf) < n:
            if not self._fill("%s (%d of %d bytes so far)" % (what, len(self.buf), n)):
                fail("connection closed after %d of %d bytes of %s" % (len(self.buf), n, what))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_head(self):
        raw = self.read_until(b"\r\n\r\n", "a response head")
        r = Response()
        r.raw_head = raw
        lines = raw.decode("latin-1").split("\r\n")
        m = re.match(r"(HTTP/1\.[01]) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            fail("bad status line %r" % lines[0])
        r.version, r.status, r.reason = m.group(1), int(m.group(2)), m.group(3) or ""
        for ln in lines[1:]:
            n, sep, v = ln.partition(":")
            if not sep:
                fail("bad response field line %r" % ln)
            r.headers.append((n, v.strip(" \t")))
        return r

    def read_response(self, method="GET", allow_1xx=False):
        """Reads one response; its body framed by HEAD/1xx/204/304, chunked, length or close."""
        r = self.read_head()
        if 100 <= r.status < 200:
            if not allow_1xx and r.status != 101:
                fail("unexpected interim response %d" % r.status)
            return r
        if method == "HEAD" or r.status in (204, 304):
            return r
        te = ",".join(r.header_all("transfer-encoding")).lower()
        if te:
            check(te.strip() == "chunked", "unexpected Transfer-Encoding %r" % te)
            r.chunked = True
            body = bytearray()
            while True:
                line = self.read_until(b"\r\n", "a chunk size line")
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    fail("bad chunk size line %s" % short(line))
                r.chunk_sizes.append(size)
                if size == 0:
                    break
                body += self.read_exact(size, "a chunk")
                eq(self.read_exact(2, "a chunk's CRLF"), b"\r\n", "bytes after a chunk")
            while True:
                line = self.read_until(b"\r\n", "the trailer section")
                if not line:
                    break
                n, _, v = line.decode("latin-1").partition(":")
                r.trailers.append((n, v.strip(" \t")))
            r.body = bytes(body)
            return r
        cl = r.header_all("content-length")
        if cl:
            check(len(set(cl)) == 1, "several Content-Length values %r" % cl)
            r.body = self.read_exact(int(cl[0]), "a Content-Length body")
            return r
        r.close_delimited = True
        while self._fill("a close-delimited body (%d bytes so far)" % len(self.buf)):
            pass
        r.body = bytes(self.buf)
        self.buf.clear()
        return r

    def read_body_hash(self, r, method="GET"):
        """Reads a Content-Length body as a sha256 without keeping it."""
        n = int(r.get("content-length"))
        h = hashlib.sha256()
        left = n
        take = min(left, len(self.buf))
        h.update(self.buf[:take])
        del self.buf[:take]
        left -= take
        while left:
            d = self.sock.recv(min(left, SLICE))
            if not d:
                fail("connection closed after %d of %d body bytes" % (n - left, n))
            h.update(d)
            left -= len(d)
        return n, h.hexdigest()


def roundtrip(data, method="GET", host=HOST, port=PORT, timeout=5.0):
    """Sends data on a new connection and reads one response. Returns (response, reader)."""
    s = connect(host, port, timeout)
    s.sendall(data)
    rd = Reader(s)
    return rd.read_response(method), rd


def get(target, host="127.0.0.1", headers=(), method="GET", version="HTTP/1.1", body=b""):
    """One request on its own connection, which is then closed."""
    s = connect()
    try:
        s.sendall(request(method, target, host, headers, body, version))
        return Reader(s).read_response(method)
    finally:
        s.close()


def expect_closed(sock, rd=None, wait=2.0, what="the connection"):
    """Fails unless the peer closes (FIN or RST) within wait seconds and sends nothing more."""
    if rd is not None and rd.buf:
        fail("unexpected bytes after the response: %s" % short(rd.buf))
    if rd is not None and rd.eof:
        return
    sock.settimeout(wait)
    try:
        d = sock.recv(4096)
    except socket.timeout:
        fail("%s was not closed within %.1f s" % (what, wait))
    except (ConnectionResetError, BrokenPipeError):
        return
    if d:
        fail("unexpected bytes instead of a close: %s" % short(d))


def expect_open(sock, rd=None, wait=0.3, what="the connection"):
    """Fails if the peer closes or sends something within wait seconds."""
    if rd is not None and (rd.buf or rd.eof):
        fail("%s: unexpected %s" % (what, "close" if rd.eof else short(rd.buf)))
    sock.settimeout(wait)
    try:
        d = sock.recv(4096)
    except socket.timeout:
        sock.settimeout(5)
        return
    except OSError as e:
        fail("%s was reset: %s" % (what, e))
    if not d:
        fail("%s was closed" % what)
    fail("%s: unexpected bytes %s" % (what, short(d)))


METRIC = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def metrics():
    """{(name, ((label, value), ...)): value} from GET /metrics on the stats listener."""
    s = connect(HOST, STATS_PORT)
    try:
        s.sendall(request("GET", "/metrics", "127.0.0.1:%d" % STATS_PORT,
                          [("Connection", "close")]))
        r = Reader(s).read_response()
    finally:
        s.close()
    eq(r.status, 200, "status of GET /metrics")
    out = {}
    for ln in r.body.decode("utf-8", "replace").splitlines():
        m = METRIC.match(ln)
        if not m or ln.startswith("#"):
            continue
        labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def header_values(pairs, name):
    return [v for n, v in pairs if n.lower() == name.lower()]


def header_names(pairs):
    return [n.lower() for n, _ in pairs]


# ---------------------------------------------------------------- curl

class CurlResult:
    def __init__(self, rc, status, headers, body, err, elapsed):
        self.rc, self.status, self.headers, self.body = rc, status, headers, body
        self.err, self.elapsed = err, elapsed

    def get(self, name):
        v = header_values(self.headers, name)
        return v[0] if v else None

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            fail("curl body is not JSON: %s" % short(self.body))


def curl_env():
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return env


def curl(url, *args, max_time=30):
    """Runs curl; url may be a path (then http://127.0.0.1:18080 is prefixed)."""
    if url.startswith("/"):
        url = PROXY + url
    with tempfile.NamedTemporaryFile() as hf:
        cmd = ["curl", "-sS", "--noproxy", "*", "--max-time", str(max_time), "-D", hf.name,
               "-o", "-"] + list(args) + [url]
        t0 = time.time()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=curl_env(), timeout=max_time + 10)
        elapsed = time.time() - t0
        raw = open(hf.name, "rb").read().decode("latin-1")
    status = 0
    headers = []
    # -D holds every response head (interim ones too); keep the last
    for block in raw.split("\r\n\r\n"):
        lines = [ln for ln in block.split("\r\n") if ln]
        if lines and lines[0].startswith("HTTP/"):
            status = int(lines[0].split()[1])
            headers = []
            for ln in lines[1:]:
                n, _, v = ln.partition(":")
                headers.append((n, v.strip()))
    return CurlResult(p.returncode, status, headers, p.stdout, p.stderr.decode(errors="replace"),
                      elapsed)


def curl_ok(url, *args, status=200, max_time=30):
    r = curl(url, *args, max_time=max_time)
    check(r.rc == 0, "curl %s exited %d: %s" % (url, r.rc, r.err.strip()))
    eq(r.status, status, "status of %s" % url)
    return r


# ---------------------------------------------------------------- backends

def backend_call(name, target):
    host, port = BACKENDS[name]
    c = http.client.HTTPConnection(host, port, timeout=5)
    try:
        c.request("GET", target)
        r = c.getresponse()
        return json.loads(r.read())
    finally:
        c.close()


def blog(name, clear=False):
    """What backend `name` received since the last clear."""
    return backend_call(name, "/_log?clear=1" if clear else "/_log")


def clear_logs():
    for n in BACKENDS:
        blog(n, clear=True)


def all_logs():
    return {n: blog(n) for n in BACKENDS}


def expect_backends_untouched(what):
    logs = all_logs()
    got = {n: [e.get("method", "?") + " " + e.get("target", "?") for e in v]
           for n, v in logs.items() if v}
    check(not got, "%s: a backend received requests: %r" % (what, got))


def only_entry(name, what):
    """The single request backend `name` received; fails unless exactly one."""
    log = blog(name)
    check(len(log) == 1, "%s: backend %s received %d requests, want 1: %r" % (
        what, name, len(log), [e.get("target") for e in log]))
    return log[0]


# ---------------------------------------------------------------- WebSocket

def ws_key():
    return base64.b64encode(os.urandom(16)).decode()


def ws_accept(key):
    return base64.b64encode(hashlib.sha1(key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                            .digest()).decode()


def ws_mask(data, key):
    if not data:
        return data
    reps = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(reps, "big")).to_bytes(len(data), "big")


def ws_frame(op, payload, mask=True, fin=True):
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        key = os.urandom(4)
        return hdr + key + ws_mask(payload, key)
    return hdr + payload


def ws_read_frame(rd):
    b0, b1 = rd.read_exact(2, "a WebSocket frame head")
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", rd.read_exact(2, "a frame length"))[0]
    elif n == 127:
        n = struct.unpack("!Q", rd.read_exact(8, "a frame length"))[0]
    key = rd.read_exact(4, "a mask key") if b1 & 0x80 else None
    payload = rd.read_exact(n, "a frame payload")
    if key:
        payload = ws_mask(payload, key)
    return {"fin": bool(b0 & 0x80), "op": b0 & 0x0F, "masked": bool(key), "payload": payload}
