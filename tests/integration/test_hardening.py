"""
Hardening (issue 6): request smuggling and malformed input, per-address limits, slot
reclamation, slowloris, rate limits, access rules, basic auth and `pollux -p`.

The smuggling cases are one table (CASES). Each case sends raw bytes on a fresh connection
and checks both sides: what the client got (the exact statuses, in order, and a close after
an error) and what the backends received, found by a marker unique to the case (in the
target or an X-Case field): nothing for a request refused before it is forwarded, nothing
complete for a chunked body refused part way, and never a request whose target is a
smuggled "SMUG-" marker. Every case runs even when an earlier one fails; the test reports
them all, with the raw bytes.

Run alone: POLLUX_ONLY=hardening python3 tests/integration/run.py --bin ... --label ...
This file is also the slowloris driver (run as a script: see slowloris_main).
"""
import base64
import json
import os
import re
import resource
import socket
import subprocess
import sys
import time

from harness import (HOST, HOST6, PORT, Reader, TestFailure, all_logs, blog, check, connect,
                     eq, expect_closed, fail, metrics, request, short, timeout)

AUTH_OK = "Basic " + base64.b64encode(b"admin:pollux").decode()
REALM_RX = re.compile(r'^Basic realm="pollux admin"(, charset="UTF-8")?$')
WEB = ("web1", "web2")


# ---------------------------------------------------------------- helpers

def slack(px):
    """A factor for time limits: sanitizer builds are slower."""
    return 3.0 if "asan" in os.path.basename(px.binary) else 1.0


def connect_from(src, timeout=5.0, host=HOST, port=PORT):
    """A client connection from the loopback address src (127.0.0.0/8 or ::1)."""
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def get_from(src, target, headers=(), method="GET", body=b"", host="127.0.0.1"):
    """One request from src on its own connection; returns (response, socket, reader)."""
    s = connect_from(src) if src != HOST6 else connect(HOST6)
    s.sendall(request(method, target, host, headers, body))
    rd = Reader(s)
    return rd.read_response(method), s, rd


def entries_with(logs, marker):
    """(backend name, entry) for every logged request that mentions marker."""
    return [(n, e) for n, es in logs.items() for e in es if marker in json.dumps(e)]


def smuggled(logs):
    return [(n, e.get("target")) for n, es in logs.items() for e in es
            if "SMUG-" in str(e.get("target", ""))]


def describe(entries):
    return [(n, e.get("method"), e.get("target"),
             "body_len=%s" % e["body_len"] if "body_len" in e else
             "error=%s" % e["error"] if "error" in e else "incomplete") for n, e in entries]


def held_silent(socks, what):
    """Fails if any held connection was answered or closed."""
    for i, h in enumerate(socks):
        h.settimeout(0)
        try:
            d = h.recv(200)
            fail("held connection %d %s: %s" % (i, what, short(d) if d else "closed"))
        except BlockingIOError:
            pass
        except OSError as e:
            fail("held connection %d %s: %s" % (i, what, e))
        finally:
            h.settimeout(5)


def wait_closed(s, wait, what):
    """Waits for the peer to close s; returns the bytes it sent before closing."""
    got = b""
    s.settimeout(wait)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return got
            got += d
    except socket.timeout:
        fail("%s was not closed within %.1f s (got %s)" % (what, wait, short(got)))
    except (ConnectionResetError, BrokenPipeError):
        return got


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


# ---------------------------------------------------------------- the smuggling table

def H(m, *fields, method=b"POST", target=None, version=b"HTTP/1.1", host=b"127.0.0.1",
      body=b"", case_field=True):
    """A raw request: the marker m goes in the default target and an X-Case field; fields
    are raw field lines without CRLF."""
    m = m.encode()
    t = b"/echo/" + m if target is None else target
    out = method + b" " + t + b" " + version + b"\r\n"
    if host is not None:
        out += b"Host: " + host + b"\r\n"
    if case_field:
        out += b"X-Case: " + m + b"\r\n"
    for f in fields:
        out += f + b"\r\n"
    return out + b"\r\n" + body


def marker_of(i):
    return "zq%03dq" % i


def SMUG(m):
    """A complete request that must never reach a backend as a request."""
    return b"GET /echo/SMUG-" + m.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


SMUG_LEN = len(SMUG(marker_of(0)))


def TE(m, chunks, *fields, target=None):
    """A chunked POST: chunks is the raw body (framing and all), then a smuggled request."""
    return H(m, b"Transfer-Encoding: chunked", *fields, target=target, body=chunks + SMUG(m))


def CL(m, value, *fields, body=b"hello"):
    return H(m, b"Content-Length: " + value, *fields, body=body + SMUG(m))


NONE = "none"           # no backend saw anything carrying the marker
PARTIAL = "partial"     # the head (and earlier chunks) may have gone, never a whole request


def OK(n=1, pool=WEB, body_len=None, target=None, host=None, second=NONE):
    """The request reached a backend of pool exactly n times, complete; a second request
    (its target holds "second-" and the marker) is checked against `second`."""
    return {"n": n, "pool": pool, "body_len": body_len, "target": target, "host": host,
            "second": second}


def www_auth(responses):
    v = responses[-1].header_all("www-authenticate")
    if len(v) != 1 or not REALM_RX.match(v[0]):
        return "WWW-Authenticate fields %r, want one 'Basic realm=\"pollux admin\"'" % v
    return None


class Case:
    def __init__(self, group, name, build, want, backend=NONE, check=None, close=None,
                 parts_gap=0.0):
        self.group, self.name, self.build, self.want = group, name, build, want
        self.backend, self.check, self.parts_gap = backend, check, parts_gap
        # an error closes the connection; a control case ends with Connection: close
        self.close = want[-1] >= 400 if close is None else close


def cases():
    c = []

    def add(group, name, build, want, backend=NONE, **kw):
        c.append(Case(group, name, build, [want] if isinstance(want, int) else want,
                      backend, **kw))

    # ---- Content-Length and Transfer-Encoding (RFC 9112 6.1, 6.3) -----------------------
    g = "framing"
    add(g, "CL then TE", lambda m: H(m, b"Content-Length: 5", b"Transfer-Encoding: chunked",
                                     body=b"0\r\n\r\n" + SMUG(m)), 400)
    add(g, "TE then CL", lambda m: H(m, b"Transfer-Encoding: chunked", b"Content-Length: 40",
                                     body=b"0\r\n\r\n" + SMUG(m)), 400)
    add(g, "CL 0 and TE", lambda m: H(m, b"Content-Length: 0", b"Transfer-Encoding: chunked",
                                      body=b"5\r\nhello\r\n0\r\n\r\n" + SMUG(m)), 400)
    add(g, "two CL, same value", lambda m: H(m, b"Content-Length: 5", b"Content-Length: 5",
                                             body=b"hello" + SMUG(m)), 400)
    add(g, "two CL, different values", lambda m: H(m, b"Content-Length: 5",
                                                   b"Content-Length: 50",
                                                   body=b"hello" + SMUG(m)), 400)
    add(g, "CL list '5, 5'", lambda m: CL(m, b"5, 5"), 400)
    add(g, "CL list '5,50'", lambda m: CL(m, b"5,50"), 400)
    add(g, "CL '12a'", lambda m: CL(m, b"12a"), 400)
    add(g, "CL '-1'", lambda m: CL(m, b"-1"), 400)
    add(g, "CL '+5'", lambda m: CL(m, b"+5"), 400)
    add(g, "CL ' ' (empty)", lambda m: CL(m, b" "), 400)
    add(g, "CL '0x10'", lambda m: CL(m, b"0x10"), 400)
    add(g, "CL '5 5'", lambda m: CL(m, b"5 5"), 400)
    add(g, "CL 40 digits", lambda m: CL(m, b"9" * 40), 400)
    add(g, "CL with VT", lambda m: CL(m, b"\x0b5"), 400)
    add(g, "TE gzip", lambda m: TE(m, b"5\r\nhello\r\n0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip"), 400)
    add(g, "TE identity", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: identity"), 400)
    add(g, "TE 'chunked, gzip'", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked, gzip"), 400)
    add(g, "TE 'gzip, chunked'", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked"), 501)
    add(g, "TE 'chunked, chunked'", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked, chunked"), 400)
    add(g, "TE chunked in two fields", lambda m: TE(m, b"0\r\n\r\n", b"Transfer-Encoding: chunked"),
        400)
    add(g, "TE chunked then a gzip field", lambda m: TE(m, b"0\r\n\r\n",
                                                        b"Transfer-Encoding: gzip"), 400)
    add(g, "TE empty", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: "), 400)
    add(g, "TE 'xchunked'", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: xchunked"), 400)
    add(g, "TE 'chunked;x=1'", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked;x=1"), 400)
    add(g, "TE 'chunked' with VT", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding: chunked", b"Transfer-Encoding: \x0bchunked"), 400)
    add(g, "TE in HTTP/1.0", lambda m: H(m, b"Transfer-Encoding: chunked", version=b"HTTP/1.0",
                                         body=b"0\r\n\r\n" + SMUG(m)), 400)
    add(g, "Connection: content-length", lambda m: CL(m, b"5", b"Connection: content-length"),
        400)
    add(g, "Connection: transfer-encoding",
        lambda m: TE(m, b"0\r\n\r\n", b"Connection: transfer-encoding"), 400)
    add(g, "Connection: host", lambda m: H(m, b"Connection: host", method=b"GET"), 400)
    add(g, "Connection: keep-alive, Content-Length",
        lambda m: CL(m, b"5", b"Connection: keep-alive, Content-Length"), 400)
    # controls: variants that are chunked by the RFC (case-insensitive, OWS trimmed)
    add(g, "control: TE 'Chunked'", lambda m: H(m, b"Transfer-Encoding: Chunked",
                                                b"Connection: close",
                                                body=b"5\r\nhello\r\n0\r\n\r\n"), 200,
        OK(body_len=5))
    add(g, "control: TE '   chunked'", lambda m: H(m, b"Transfer-Encoding:   chunked",
                                                   b"Connection: close",
                                                   body=b"5\r\nhello\r\n0\r\n\r\n"), 200,
        OK(body_len=5))
    add(g, "control: TE 'chunked\\t'", lambda m: H(m, b"Transfer-Encoding: chunked\t",
                                                   b"Connection: close",
                                                   body=b"5\r\nhello\r\n0\r\n\r\n"), 200,
        OK(body_len=5))
    add(g, "control: CL 5", lambda m: H(m, b"Content-Length: 5", b"Connection: close",
                                        body=b"hello"), 200, OK(body_len=5))

    # ---- chunked framing (RFC 9112 7.1): the head may have gone on, the body never whole --
    g = "chunks"
    add(g, "chunk size 'g'", lambda m: TE(m, b"g\r\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "chunk size ''", lambda m: TE(m, b"\r\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "chunk size '-1'", lambda m: TE(m, b"-1\r\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "chunk size '0x5'", lambda m: TE(m, b"0x5\r\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "chunk size 17 hex digits", lambda m: TE(m, b"1" + b"0" * 16 + b"\r\nhello\r\n"),
        400, PARTIAL)
    add(g, "chunk size '5 '", lambda m: TE(m, b"5 \r\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "chunk size ' 5'", lambda m: TE(m, b" 5\r\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "chunk ext ';\\x01'", lambda m: TE(m, b"5;\x01\r\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "chunk ext unterminated quote",
        lambda m: TE(m, b"5;a=\"unterminated\r\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "chunk data longer than declared",
        lambda m: TE(m, b"5\r\nhelloEXTRA\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "LF only after chunk data", lambda m: TE(m, b"5\r\nhello\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "LF only after chunk size", lambda m: TE(m, b"5\nhello\r\n0\r\n\r\n"), 400, PARTIAL)
    add(g, "bad chunk after a good one, sent later",
        lambda m: [TE(m, b"5\r\nhello\r\n")[:-len(SMUG(m))],
                   b"zz\r\nhello\r\n0\r\n\r\n" + SMUG(m)], 400, PARTIAL, parts_gap=0.15)
    add(g, "data overrun after a good chunk, sent later",
        lambda m: [TE(m, b"5\r\nhello\r\n")[:-len(SMUG(m))],
                   b"3\r\nabcdef\r\n0\r\n\r\n" + SMUG(m)], 400, PARTIAL, parts_gap=0.15)
    add(g, "trailer obs-fold", lambda m: TE(m, b"0\r\nX-T: a\r\n folded\r\n\r\n"), 400, PARTIAL)
    add(g, "trailer line without a colon", lambda m: TE(m, b"0\r\nX-No-Colon\r\n\r\n"), 400,
        PARTIAL)
    add(g, "trailer name with a space", lambda m: TE(m, b"0\r\nX T: v\r\n\r\n"), 400, PARTIAL)
    add(g, "trailer line that is a request line",
        lambda m: TE(m, b"0\r\nGET /admin/" + m.encode() + b" HTTP/1.1\r\n\r\n"), 400, PARTIAL)
    add(g, "trailer value with a control byte", lambda m: TE(m, b"0\r\nX-T: a\x01b\r\n\r\n"),
        400, PARTIAL)
    add(g, "control: chunk extensions", lambda m: H(
        m, b"Transfer-Encoding: chunked", b"Connection: close",
        body=b"5;a=b;c=\"q\\\"d\"\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: v\r\n\r\n"),
        200, OK(body_len=15))

    # ---- bytes, field lines, request lines (RFC 9112 2, 3, 5) ---------------------------
    g = "syntax"
    add(g, "obs-fold (SP)", lambda m: H(m, b"X-A: a", b" folded", method=b"GET"), 400)
    add(g, "obs-fold (HTAB)", lambda m: H(m, b"X-A: a", b"\tfolded", method=b"GET"), 400)
    add(g, "obs-fold on the first field line",
        lambda m: b"GET /echo/" + m.encode() + b" HTTP/1.1\r\n Host: 127.0.0.1\r\n\r\n", 400)
    add(g, "space before colon (Host)",
        lambda m: H(m, b"Host : 127.0.0.1", method=b"GET", host=None), 400)
    add(g, "tab before colon (Content-Length)", lambda m: CL(m, b"5").replace(
        b"Content-Length:", b"Content-Length\t:"), 400)
    add(g, "space before colon (Transfer-Encoding)", lambda m: TE(m, b"0\r\n\r\n").replace(
        b"Transfer-Encoding:", b"Transfer-Encoding :"), 400)
    add(g, "bare CR in the request line",
        lambda m: b"GET /echo/" + m.encode() + b"\rX HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400)
    add(g, "bare LF ending the request line",
        lambda m: b"GET /echo/" + m.encode() + b" HTTP/1.1\nHost: 127.0.0.1\r\n\r\n", 400)
    add(g, "bare LF ending a field line", lambda m: H(m, b"X-A: b\nX-B: c", method=b"GET"), 400)
    add(g, "bare LF ending the head",
        lambda m: b"GET /echo/" + m.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\n", 400)
    add(g, "bare CR in a field value", lambda m: H(m, b"X-A: b\rc", method=b"GET"), 400)
    add(g, "NUL in a field value", lambda m: H(m, b"X-A: b\x00c", method=b"GET"), 400)
    add(g, "NUL in a field name", lambda m: H(m, b"X-\x00A: b", method=b"GET"), 400)
    add(g, "\\x01 in a field value", lambda m: H(m, b"X-A: b\x01c", method=b"GET"), 400)
    add(g, "\\x1f in a field name", lambda m: H(m, b"X-\x1fA: b", method=b"GET"), 400)
    add(g, "DEL in a field value", lambda m: H(m, b"X-A: b\x7fc", method=b"GET"), 400)
    add(g, "DEL in a field name", lambda m: H(m, b"X-\x7fA: b", method=b"GET"), 400)
    add(g, "empty field name", lambda m: H(m, b": empty", method=b"GET"), 400)
    add(g, "field line without a colon", lambda m: H(m, b"NoColonHere", method=b"GET"), 400)
    add(g, "method 'GE T'", lambda m: H(m, method=b"GE T"), 400)
    add(g, "method 'G(T'", lambda m: H(m, method=b"G(T"), 400)
    add(g, "empty method", lambda m: H(m, method=b""), 400)
    add(g, "tab after the method",
        lambda m: b"GET\t/echo/" + m.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400)
    add(g, "target ''", lambda m: H(m, method=b"GET", target=b""), 400)
    add(g, "target 'x'", lambda m: H(m, method=b"GET", target=b"x"), 400)
    add(g, "target 'http://'", lambda m: H(m, method=b"GET", target=b"http://"), 400)
    add(g, "target '/a b'", lambda m: H(m, method=b"GET", target=b"/a b"), 400)
    add(g, "target '/#frag'", lambda m: H(m, method=b"GET", target=b"/#frag"), 400)
    add(g, "target '/\\xff'", lambda m: H(m, method=b"GET", target=b"/\xff"), 400)
    add(g, "absolute-form without a host", lambda m: H(m, method=b"GET", target=b"http:///echo"),
        400)
    add(g, "absolute-form with userinfo",
        lambda m: H(m, method=b"GET", target=b"http://evil@127.0.0.1/echo"), 400)
    add(g, "target '*' with GET", lambda m: H(m, method=b"GET", target=b"*"), 400)
    for v in (b"HTTP/1.2", b"HTTP/2.0", b"HTTP/0.9", b"HTTP/1", b"http/1.1", b"HTTP/1.1 ",
              b"HTTP/11"):
        add(g, "version %r" % v.decode(), lambda m, v=v: H(m, method=b"GET", version=v), 400)
    add(g, "no version (HTTP/0.9 form)",
        lambda m: b"GET /echo/" + m.encode() + b"\r\nHost: 127.0.0.1\r\n\r\n", 400)
    add(g, "HTTP/1.1 without Host", lambda m: H(m, method=b"GET", host=None), 400)
    add(g, "two Host fields", lambda m: H(m, b"Host: api.test", method=b"GET"), 400)
    add(g, "two Host fields, same value", lambda m: H(m, b"Host: 127.0.0.1", method=b"GET"), 400)
    add(g, "Host 'bad/host'", lambda m: H(m, method=b"GET", host=b"bad/host"), 400)
    add(g, "Host 'a@b'", lambda m: H(m, method=b"GET", host=b"a@127.0.0.1"), 400)
    add(g, "Host with a space", lambda m: H(m, method=b"GET", host=b"127.0.0.1 x"), 400)
    add(g, "Host with a quote", lambda m: H(m, method=b"GET", host=b"a\"b"), 400)
    add(g, "Host of 256 bytes", lambda m: H(m, method=b"GET", host=b"a" * 256), 400)
    add(g, "Host of 255 bytes: parsed, no route", lambda m: H(m, method=b"GET", host=b"a" * 255),
        404)
    add(g, "control: absolute-form routed by its authority, not Host",
        lambda m: H(m, b"Connection: close", method=b"GET",
                    target=b"http://localhost/echo/" + m.encode(), host=b"api.test"),
        200, OK(pool=WEB, target="/echo/%s", host="localhost"))
    add(g, "control: absolute-form to api.test with Host 127.0.0.1",
        lambda m: H(m, b"Connection: close", method=b"GET",
                    target=b"http://api.test/echo/" + m.encode()),
        200, OK(pool=("api",), target="/echo/%s", host="api.test"))

    # ---- limits: 414, 431, 413, 417 -----------------------------------------------------
    g = "limits"
    line = lambda m, n: b"GET /echo/" + m.encode() + b"?" + b"a" * (
        n - len(b"GET /echo/" + m.encode() + b"? HTTP/1.1")) + b" HTTP/1.1"
    add(g, "request line of 4097 bytes", lambda m: line(m, 4097) + b"\r\nHost: 127.0.0.1\r\n\r\n",
        414)
    add(g, "request line of 6000 bytes without CRLF", lambda m: line(m, 6000), 414)
    add(g, "control: request line of 4096 bytes",
        lambda m: line(m, 4096) + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 200,
        OK(body_len=0))
    add(g, "head of ~18 KB", lambda m: H(m, *[b"X-Big-%d: %s" % (i, b"b" * 1500)
                                              for i in range(12)], method=b"GET"), 431)
    add(g, "one 16000-byte field", lambda m: H(m, b"X-Big: " + b"b" * 16000, method=b"GET"), 431)
    add(g, "65 fields", lambda m: H(m, *[b"X-F%d: v" % i for i in range(63)], method=b"GET"),
        431)
    add(g, "control: 64 fields",
        lambda m: H(m, b"Connection: close", *[b"X-F%d: v" % i for i in range(61)],
                    method=b"GET"), 200, OK(body_len=0))
    add(g, "/small/ CL 1025, head only", lambda m: H(
        m, b"Content-Length: 1025", target=b"/small/" + m.encode()), 413)
    add(g, "/small/ CL 1025 with Expect: 100-continue", lambda m: H(
        m, b"Content-Length: 1025", b"Expect: 100-continue", target=b"/small/" + m.encode()), 413)
    add(g, "/small/ CL 99999999999", lambda m: H(
        m, b"Content-Length: 99999999999", target=b"/small/" + m.encode(), body=b"x" * 2000), 413)
    add(g, "/small/ chunked 1025 bytes", lambda m: TE(
        m, b"401\r\n" + b"x" * 1025 + b"\r\n0\r\n\r\n", target=b"/small/" + m.encode()), 413,
        PARTIAL)
    add(g, "/small/ chunked 1000 + 25 bytes, sent later", lambda m: [
        TE(m, b"3e8\r\n" + b"x" * 1000 + b"\r\n", target=b"/small/" + m.encode())[:-len(SMUG(m))],
        b"19\r\n" + b"y" * 25 + b"\r\n0\r\n\r\n" + SMUG(m)], 413, PARTIAL, parts_gap=0.15)
    add(g, "control: /small/ CL 1024", lambda m: H(
        m, b"Content-Length: 1024", b"Connection: close", target=b"/small/" + m.encode(),
        body=b"x" * 1024), 200, OK(body_len=1024))
    add(g, "control: /small/ chunked 1024", lambda m: H(
        m, b"Transfer-Encoding: chunked", b"Connection: close", target=b"/small/" + m.encode(),
        body=b"400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n"), 200, OK(body_len=1024))
    add(g, "Expect: 100-continue-x", lambda m: CL(m, b"5", b"Expect: 100-continue-x"), 417)
    add(g, "Expect: foo", lambda m: H(m, b"Expect: foo", method=b"GET"), 417)

    # ---- the path's normal form: /admin/ (basic auth) cannot be reached around ----------
    g = "paths"
    for t in (b"/admin/x", b"/admin", b"/./admin/", b"//admin/", b"/%61dmin/", b"/x/../admin/",
              b"/%2e/admin/", b"/x/%2e%2e/admin/", b"/a/b/%2E%2e/%2e%2E/admin/x",
              b"/admin/./", b"/x/..//admin/?q=1", b"http://127.0.0.1/./admin/"):
        add(g, "%s without credentials" % t.decode(),
            lambda m, t=t: H(m, method=b"GET", target=t), 401, check=www_auth)
    add(g, "/ADMIN/ is another path (Host other.test: no route)",
        lambda m: H(m, method=b"GET", target=b"/ADMIN/", host=b"other.test"), 404)
    for t in (b"/../x", b"/%2e%2e/x", b"/a/../../x", b"/a%00", b"/a%zz", b"/a%2", b"/a%"):
        add(g, "path %s" % t.decode(), lambda m, t=t: H(m, method=b"GET", target=t), 400)
    add(g, "control: /x/../admin/ with credentials",
        lambda m: H(m, b"Authorization: " + AUTH_OK.encode(), b"Connection: close",
                    method=b"GET", target=b"/x/../admin/" + m.encode()), 200,
        OK(target="/admin/%s"))

    # ---- pipelines ----------------------------------------------------------------------
    g = "pipelines"

    def two(m, second):
        return H(m, method=b"GET") + second

    add(g, "valid request, then a garbage line", lambda m: two(m, b"GARBAGE\r\n\r\n"),
        [200, 400], OK())
    add(g, "valid request, then binary garbage", lambda m: two(m, b"\x16\x03\x01\x00\xa5\r\n\r\n"),
        [200, 400], OK())
    add(g, "valid request, then CL+TE",
        lambda m: two(m, b"POST /echo/second-" + m.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" +
                      SMUG(m)),
        [200, 400], OK())
    add(g, "valid request, then a bare LF",
        lambda m: two(m, b"GET /echo/second-" + m.encode() +
                      b" HTTP/1.1\nHost: 127.0.0.1\r\n\r\n"),
        [200, 400], OK())
    add(g, "valid request, then a bad chunk",
        lambda m: two(m, b"POST /echo/second-" + m.encode() + b" HTTP/1.1\r\n"
                      b"Host: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + SMUG(m)),
        [200, 400], OK(second=PARTIAL))
    add(g, "control: a CL body holding a request is a body",
        lambda m: H(m, b"Content-Length: %d" % len(SMUG(m)), body=SMUG(m)) +
        b"GET /echo/after-" + m.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Connection: close\r\n\r\n", [200, 200], OK(body_len=SMUG_LEN))
    add(g, "control: a chunk holding a request is a body",
        lambda m: H(m, b"Transfer-Encoding: chunked",
                    body=b"%x\r\n" % len(SMUG(m)) + SMUG(m) + b"\r\n0\r\n\r\n") +
        b"GET /echo/after-" + m.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Connection: close\r\n\r\n", [200, 200], OK(body_len=SMUG_LEN))
    add(g, "control: a GET with a CL body holding a request",
        lambda m: H(m, b"Content-Length: %d" % len(SMUG(m)), b"Connection: close",
                    method=b"GET", body=SMUG(m)), 200,
        OK(body_len=SMUG_LEN))
    add(g, "HTTP/1.0 closes: a second request is never read",
        lambda m: H(m, method=b"GET", version=b"HTTP/1.0") + SMUG(m), 200, OK(), close=True)
    add(g, "Connection: close: a second request is never read",
        lambda m: H(m, b"Connection: close", method=b"GET") + SMUG(m), 200, OK(), close=True)
    return c


CASES = cases()


def run_case(case, marker):
    """Sends a case; returns (problems, statuses seen)."""
    data = case.build(marker)
    parts = data if isinstance(data, list) else [data]
    problems, got = [], []
    s = connect(timeout=3)
    try:
        for k, p in enumerate(parts):
            if k:
                time.sleep(case.parts_gap)
            try:
                s.sendall(p)
            except OSError as e:
                if not got and k == 0:
                    problems.append("send failed: %s" % e)
        rd = Reader(s)
        responses = []
        for want in case.want:
            try:
                r = rd.read_response()
            except TestFailure as e:
                problems.append("wanted %d, %s" % (want, e))
                break
            responses.append(r)
            got.append(r.status)
            if r.status != want:
                problems.append("status %d (%s), want %d" % (r.status, short(r.body, 60), want))
                break
        if not problems and case.check:
            p = case.check(responses)
            if p:
                problems.append(p)
        if not problems and case.close:
            try:
                expect_closed(s, rd, wait=2.0, what="the connection after %r" % got)
            except TestFailure as e:
                problems.append(str(e))
    finally:
        s.close()
    return problems, got


def check_backend(case, marker, logs):
    """What the backends received for this case, against case.backend."""
    seen = entries_with(logs, marker)
    smug = [t for _, t in smuggled(logs) if marker in t]
    out = []
    if smug:
        out.append("a backend received the smuggled request(s) %r" % smug)
    spec = case.backend
    if spec == NONE:
        if seen:
            out.append("backends received %r, want nothing" % describe(seen))
    elif spec == PARTIAL:
        done = [x for x in seen if "body_len" in x[1]]
        if done:
            out.append("a backend received a complete request: %r" % describe(done))
    else:
        second = [x for x in seen if "second-" in str(x[1].get("target"))]
        if spec["second"] == NONE and second:
            out.append("the refused second request reached a backend: %r" % describe(second))
        if spec["second"] == PARTIAL and [x for x in second if "body_len" in x[1]]:
            out.append("the refused second request reached a backend whole: %r" %
                       describe(second))
        mine = [x for x in seen if "second-" not in str(x[1].get("target"))
                and "after-" not in str(x[1].get("target"))
                and "SMUG-" not in str(x[1].get("target"))]
        if len(mine) != spec["n"]:
            out.append("backends received %r, want %d request(s)" % (describe(seen), spec["n"]))
        for n, e in mine:
            if n not in spec["pool"]:
                out.append("request reached %s, want one of %s" % (n, "/".join(spec["pool"])))
            if spec["body_len"] is not None and e.get("body_len") != spec["body_len"]:
                out.append("backend body_len %r, want %d" % (e.get("body_len"), spec["body_len"]))
            if spec["target"] and e.get("target") != spec["target"] % marker:
                out.append("backend target %r, want %r" % (e.get("target"),
                                                           spec["target"] % marker))
            if spec["host"]:
                hosts = [v for k, v in e.get("headers", []) if k.lower() == "host"]
                if hosts != [spec["host"]]:
                    out.append("backend Host fields %r, want [%r]" % (hosts, spec["host"]))
    return out


def run_group(px, group):
    chosen = [(i, c) for i, c in enumerate(CASES) if c.group == group]
    report = []
    for i, c in chosen:
        m = marker_of(i)
        problems, got = run_case(c, m)
        problems += check_backend(c, m, all_logs())
        if problems:
            report.append((i, c, got, problems))
    # late arrivals: whatever reached a backend after its case was checked
    time.sleep(0.3)
    logs = all_logs()
    late = []
    for i, c in chosen:
        p = check_backend(c, marker_of(i), logs)
        if p and not any(r[0] == i for r in report):
            late.append((i, c, [], ["(after 0.3 s) " + x for x in p]))
    report += late
    px.assert_alive()
    if report:
        lines = []
        for i, c, got, problems in report:
            data = c.build(marker_of(i))
            raw = b"".join(data) if isinstance(data, list) else data
            lines.append("[%s] %s: %s; sent %s" % (c.group, c.name, "; ".join(problems),
                                                   short(raw, 260)))
        fail("%d of %d %s cases failed:\n  %s" % (len(report), len(chosen), group,
                                                  "\n  ".join(lines)))


def test_hardening_case_count(px):
    refused = [c for c in CASES if c.want[-1] >= 400]
    check(len(refused) >= 60, "only %d refused smuggling cases" % len(refused))
    eq(len({c.name for c in CASES}), len(CASES), "distinct case names")


def test_hardening_smuggling_framing(px):
    run_group(px, "framing")


def test_hardening_smuggling_chunks(px):
    run_group(px, "chunks")


def test_hardening_smuggling_syntax(px):
    run_group(px, "syntax")


def test_hardening_smuggling_limits(px):
    run_group(px, "limits")


def test_hardening_smuggling_paths(px):
    run_group(px, "paths")


def test_hardening_smuggling_pipelines(px):
    run_group(px, "pipelines")


# ---------------------------------------------------------------- per-address limit

def test_hardening_max_per_addr_25th_gets_503(px):
    time.sleep(0.1)         # the harness's readiness probe must be gone
    held = []
    try:
        for i in range(24):
            s = connect_from("127.0.0.1")
            s.sendall(b"GET /echo/held-%d HTTP/1.1\r\nHost: 127.0.0.1\r\n" % i)
            held.append(s)
        time.sleep(0.2)
        held_silent(held, "answered before the 25th came")
        t0 = time.time()
        s = connect_from("127.0.0.1", timeout=2)
        s.sendall(b"GET /echo/25th HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")   # deferred accept
        rd = Reader(s)
        r = rd.read_response()
        dt = time.time() - t0
        eq(r.status, 503, "status for the 25th connection from 127.0.0.1")
        check(dt < 0.5 * slack(px), "the 25th's 503 took %.2f s" % dt)
        eq(r.get("retry-after"), "1", "Retry-After of the 503")
        expect_closed(s, rd, what="the 25th connection after its 503")
        s.close()
        a = px.wait_access(503, wait=1.0)
        eq(a["client"], "127.0.0.1", "client of the 503 access line")
        check("127.0.0.1: 503: too many connections from this address" in px.log(),
              "no 'too many connections from this address' log line")
        # another address is served meanwhile
        r2, s2, _ = get_from("127.0.0.2", "/echo/other-address")
        eq(r2.status, 200, "status for 127.0.0.2 while 127.0.0.1 holds 24")
        s2.close()
        held_silent(held, "answered or closed when the 25th was refused")
        # the 24 held connections are intact: each finishes its request
        for i, h in enumerate(held):
            h.sendall(b"\r\n")
        for i, h in enumerate(held):
            r = Reader(h).read_response()
            eq(r.status, 200, "status of held connection %d" % i)
            eq(r.json()["target"], "/echo/held-%d" % i, "target of held connection %d" % i)
        # one leaves: 127.0.0.1 may open one more
        held.pop().close()
        time.sleep(0.2)
        r3, s3, _ = get_from("127.0.0.1", "/echo/after-one-left")
        eq(r3.status, 200, "status once 127.0.0.1 is back to 23 connections")
        s3.close()
    finally:
        close_all(held)


# ---------------------------------------------------------------- slot reclamation

SOURCES = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]


def idle_keepalive(n, tag):
    """n connections from SOURCES in turn, each having completed one keep-alive request,
    oldest first."""
    socks = []
    for i in range(n):
        s = connect_from(SOURCES[i % len(SOURCES)])
        s.sendall(request("GET", "/echo/%s-%d" % (tag, i)))
        r = Reader(s).read_response()
        eq(r.status, 200, "status of keep-alive request %d" % i)
        socks.append(s)
        time.sleep(0.005)
    return socks


def slow_heads(n, tag):
    socks = []
    for i in range(n):
        s = connect_from(SOURCES[i % len(SOURCES)])
        s.sendall(b"GET /echo/%s-%d HTTP/1.1\r\nHost: 127.0.0.1\r\n" % (tag.encode(), i))
        socks.append(s)
        time.sleep(0.005)
    return socks


def expect_victim(s, what, allow=(408, 503)):
    """s must be closed by pollux (an error response before the close is tolerated)."""
    got = wait_closed(s, 1.0, what)
    if got:
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", got)
        check(m and int(m.group(1)) in allow, "%s: got %s before the close" % (what, short(got)))


def test_hardening_reclaim_idle_keepalive(px):
    time.sleep(0.1)
    socks = idle_keepalive(32, "idle")
    new = []
    try:
        time.sleep(0.05)
        held_silent(socks, "closed before any new client came")
        for k in range(2):
            s = connect_from("127.0.0.4", timeout=2)
            t0 = time.time()
            s.sendall(request("GET", "/echo/newcomer-%d" % k))
            rd = Reader(s)
            r = rd.read_response()
            dt = time.time() - t0
            eq(r.status, 200, "status of new client %d with 32 idle keep-alive slots" % k)
            check(dt < 0.5 * slack(px), "new client %d served after %.2f s" % (k, dt))
            new.append(s)       # stays open: the newest idle connection
            expect_victim(socks[k], "the oldest idle connection (#%d)" % k, allow=())
            held_silent(socks[k + 1:], "closed though newer than the victim")
        n = px.log().count("slot reclaimed from an idle keep-alive connection")
        eq(n, 2, "'slot reclaimed from an idle keep-alive connection' log lines")
        eq(len([e for e in blog("web1") + blog("web2")
                if "/echo/newcomer-" in e.get("target", "")]), 2,
           "newcomer requests at the backends")
    finally:
        close_all(socks + new)


def test_hardening_reclaim_slow_heads(px):
    time.sleep(0.1)
    socks = slow_heads(32, "slow")
    extra = []
    try:
        time.sleep(0.05)
        held_silent(socks, "answered before any new client came")
        for k in range(2):
            # the newcomer leaves after its answer (an idle newcomer would be the next
            # victim, idle before slow); a new slow head takes its slot again
            s = connect_from("127.0.0.4", timeout=2)
            t0 = time.time()
            s.sendall(request("GET", "/echo/newcomer-%d" % k, headers=[("Connection", "close")]))
            rd = Reader(s)
            r = rd.read_response()
            dt = time.time() - t0
            eq(r.status, 200, "status of new client %d with 32 slow heads" % k)
            check(dt < 0.5 * slack(px), "new client %d served after %.2f s" % (k, dt))
            expect_closed(s, rd, what="new client %d after Connection: close" % k)
            s.close()
            expect_victim(socks[k], "the oldest slow head (#%d)" % k)
            held_silent(socks[k + 1:], "closed though newer than the victim")
            time.sleep(0.05)
            h = connect_from("127.0.0.4")
            h.sendall(b"GET /echo/slow-refill HTTP/1.1\r\n")
            extra.append(h)
            time.sleep(0.05)
        eq(px.log().count("slot reclaimed from a slow request head"), 2,
           "'slot reclaimed from a slow request head' log lines")
        logs = all_logs()
        check(not [e for es in logs.values() for e in es if "/echo/slow-" in e.get("target", "")],
              "a partial head reached a backend")
    finally:
        close_all(socks + extra)


def test_hardening_reclaim_prefers_idle_over_slow(px):
    time.sleep(0.1)
    slow = slow_heads(16, "slow")      # older
    idle = idle_keepalive(16, "idle")  # newer, but idle
    new = None
    try:
        new = connect_from("127.0.0.4", timeout=2)
        new.sendall(request("GET", "/echo/newcomer"))
        eq(Reader(new).read_response().status, 200, "status of the new client")
        expect_victim(idle[0], "the oldest idle keep-alive connection", allow=())
        held_silent(slow, "a slow head gave way while an idle connection was there")
        held_silent(idle[1:], "a newer idle connection gave way")
    finally:
        close_all(slow + idle + ([new] if new else []))


# ---------------------------------------------------------------- slowloris

SLOW_ADDRS = ["127.0.0.%d" % i for i in range(2, 102)]     # 100 addresses
SLOW_PER_ADDR = 10
SLOW_HEAD = b"GET /echo/slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 64


def slowloris_main(argv):
    """The driver: opens len(SLOW_ADDRS) * SLOW_PER_ADDR connections over `ramp` seconds, each
    sending one byte of a head about every second; a connection pollux closes is opened again
    at its next tick. After `duration` seconds everything is closed and stats printed (JSON)."""
    ramp, duration = float(argv[0]), float(argv[1])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = len(SLOW_ADDRS) * SLOW_PER_ADDR + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    n = len(SLOW_ADDRS) * SLOW_PER_ADDR
    st = {"opened": 0, "closed_by_peer": 0, "bytes": 0, "open_errors": 0, "answered": 0,
          "max_open": 0}
    socks = [None] * n
    pos = [0] * n
    t0 = time.monotonic()
    due = [t0 + ramp * i / n for i in range(n)]
    import heapq
    heap = [(due[i], i) for i in range(n)]
    heapq.heapify(heap)
    nopen = 0

    def open_one(i):
        nonlocal nopen
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((SLOW_ADDRS[i % len(SLOW_ADDRS)], 0))
            s.connect_ex((HOST, PORT))
        except OSError:
            st["open_errors"] += 1
            s.close()
            return None
        st["opened"] += 1
        nopen += 1
        st["max_open"] = max(st["max_open"], nopen)
        pos[i] = 0
        return s

    end = t0 + duration
    while True:
        now = time.monotonic()
        if now >= end:
            break
        t, i = heap[0]
        if t > now:
            time.sleep(min(t - now, end - now, 0.05))
            continue
        heapq.heappop(heap)
        s = socks[i]
        if s is None:
            socks[i] = open_one(i)
            heapq.heappush(heap, (now + 0.02, i))     # the first byte right after
            continue
        closed = False
        try:
            d = s.recv(4096)
            closed = True           # EOF, or an answer (408) before the close
            if d:
                st["answered"] += 1
        except BlockingIOError:
            pass
        except OSError:
            closed = True
        if not closed:
            try:
                if s.send(SLOW_HEAD[pos[i] % len(SLOW_HEAD):pos[i] % len(SLOW_HEAD) + 1]) == 1:
                    pos[i] += 1
                    st["bytes"] += 1
            except BlockingIOError:
                pass
            except OSError:
                closed = True
        if closed:
            st["closed_by_peer"] += 1
            s.close()
            nopen -= 1
            socks[i] = open_one(i)
            heapq.heappush(heap, (now + 0.02, i))
        else:
            heapq.heappush(heap, (now + 0.9 + (i % 7) * 0.03, i))
    for s in socks:
        if s is not None:
            s.close()
    print(json.dumps(st), flush=True)


@timeout(50)
def test_hardening_slowloris_1000_slow_connections(px):
    ramp, duration = 3.0, 12.0
    here = os.path.abspath(__file__)
    drv = subprocess.Popen([sys.executable, here, "slowloris", str(ramp), str(duration)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lat, bad = [], []
    try:
        time.sleep(0.5)
        t_end = time.time() + duration - 1.0
        i = 0
        while time.time() < t_end:
            t0 = time.time()
            try:
                s = connect(timeout=3)
                s.sendall(request("GET", "/echo/legit-%d" % i, headers=[("Connection", "close")]))
                rd = Reader(s)
                r = rd.read_response()
                dt = time.time() - t0
                if r.status != 200 or r.json().get("target") != "/echo/legit-%d" % i:
                    bad.append("request %d: status %d %s" % (i, r.status, short(r.body, 80)))
                s.close()
            except (TestFailure, OSError) as e:
                dt = time.time() - t0
                bad.append("request %d: %s" % (i, e))
            lat.append(dt)
            i += 1
            time.sleep(0.05 + (i % 6) * 0.01)
            if drv.poll() is not None:
                break
        out, err = drv.communicate(timeout=duration + 10)
    finally:
        if drv.poll() is None:
            drv.kill()
            drv.wait()
    check(drv.returncode == 0, "slowloris driver exited %s: %s" % (
        drv.returncode, err.decode(errors="replace")[-500:]))
    stats = json.loads(out.decode().strip().splitlines()[-1])
    px.assert_alive()
    lat.sort()
    p90 = lat[int(len(lat) * 0.9)] if lat else 0
    summary = ("%d legitimate requests, median %.0f ms, p90 %.0f ms, max %.0f ms; driver %r" % (
        len(lat), 1000 * lat[len(lat) // 2], 1000 * p90, 1000 * lat[-1], stats)) if lat else ""
    check(stats["opened"] >= 1000, "driver opened only %d connections" % stats["opened"])
    check(len(lat) >= 80, "only %d legitimate requests ran (%s)" % (len(lat), summary))
    check(not bad, "%d of %d legitimate requests failed: %s (%s)" % (
        len(bad), len(lat), "; ".join(bad[:5]), summary))
    check(lat[-1] < 1.0 * slack(px), "slowest legitimate request %.2f s (%s)" % (lat[-1], summary))
    check(p90 < 0.1 * slack(px), "90th percentile %.0f ms, want under %.0f ms (%s)" % (
        1000 * p90, 100 * slack(px), summary))
    reclaimed = px.log().count("slot reclaimed from")
    if os.environ.get("POLLUX_TIMES"):
        sys.stderr.write("    slowloris: %s; %d slots reclaimed\n" % (summary, reclaimed))
    check(reclaimed >= 500, "only %d slots reclaimed: the slow clients did not press (%s)" % (
        reclaimed, summary))
    logs = all_logs()
    check(not [e for es in logs.values() for e in es if "slowloris" in e.get("target", "")],
          "a slow head reached a backend")
    r, s, _ = get_from("127.0.0.1", "/echo/after-slowloris")
    eq(r.status, 200, "status after the slowloris run")
    s.close()


# ---------------------------------------------------------------- deferred accept
# The listeners set TCP_DEFER_ACCEPT (DEFER_ACCEPT, 1 s in this config): the kernel hands
# a connection over once it has sent something, or after about that long.

def accepted_total():
    """Connections accepted so far, this GET /metrics's own included."""
    return metrics()[("pollux_connections_accepted_total", ())]


def test_hardening_silent_connections_take_no_slot(px):
    time.sleep(0.1)
    t0 = time.time()
    a0 = accepted_total()
    silent = []
    try:
        for i in range(100):            # SLOTS is 32: accepted, they would push others out
            silent.append(connect_from("127.0.0.%d" % (10 + i % 5)))
        for i in range(3):
            r, s, _ = get_from("127.0.0.2", "/echo/beside-silent-%d" % i)
            eq(r.status, 200, "status of request %d beside 100 silent connections" % i)
            s.close()
        a1 = accepted_total()
        dt = time.time() - t0
        check(dt < 0.8, "opening the connections took %.2f s, too close to the kernel's "
              "deferral (1 s) to tell" % dt)
        eq(a1 - a0, 3 + 1, "connections accepted while 100 were silent (3 requests and one "
           "GET /metrics; a silent one accepted would count)")
        # one that speaks is accepted at once and answered
        for i, h in enumerate(silent[:10]):
            h.sendall(request("GET", "/echo/was-silent-%d" % i))
        for i, h in enumerate(silent[:10]):
            r = Reader(h).read_response()
            eq(r.status, 200, "status on silent connection %d once it sent a request" % i)
            eq(r.json()["target"], "/echo/was-silent-%d" % i, "its target")
        check("slot reclaimed" not in px.log(), "a slot was reclaimed: a silent connection "
              "took one")
    finally:
        for h in silent:
            h.close()


@timeout(20)
def test_hardening_silent_connection_accepted_late_then_closed(px):
    # after the deferral the kernel hands it over anyway; then T_HEADER (2 s) applies
    time.sleep(0.1)
    a0 = accepted_total()
    t0 = time.time()
    s = connect_from("127.0.0.3", timeout=10)
    try:
        time.sleep(0.5)
        eq(accepted_total() - a0, 1, "accepted after 0.5 s of silence (GET /metrics's own only)")
        time.sleep(1.5)
        eq(accepted_total() - a0, 3, "accepted after 2 s of silence (it, and two GET /metrics)")
        d = s.recv(100)
        dt = time.time() - t0
        eq(d, b"", "what pollux sent a connection that never spoke")
        check(2.5 < dt < 6.0 * slack(px), "closed %.2f s after the connect; want the deferral "
              "(about 1 s) plus T_HEADER (2 s)" % dt)
    finally:
        s.close()
    px.assert_alive()


# ---------------------------------------------------------------- rate limit

def limited(s, i, tag):
    s.sendall(request("GET", "/limited/%s-%d" % (tag, i)))
    return Reader(s)


def test_hardening_rate_limit_429(px):
    s = connect_from("127.0.0.1")
    t0 = time.time()
    statuses = []
    for i in range(5):
        r = limited(s, i, "a").read_response()
        statuses.append(r.status)
    rd = limited(s, 5, "a")
    r6 = rd.read_response()
    dt = time.time() - t0
    eq(statuses, [200] * 5, "statuses of 5 quick requests to /limited/")
    if r6.status == 200:
        fail("6th request within %.0f ms got 200, want 429%s" % (
            1000 * dt, " (slow run: a token may have come back after 200 ms)" if dt > 0.2 else ""))
    eq(r6.status, 429, "status of the 6th request")
    eq(r6.get("retry-after"), "1", "Retry-After of the 429")
    expect_closed(s, rd, what="the connection after a 429")
    s.close()
    a = px.wait_access(429, "/limited/a-5")
    eq(a["client"], "127.0.0.1", "client of the 429 access line")
    # another address has its own bucket
    s2 = connect_from("127.0.0.2")
    for i in range(5):
        eq(limited(s2, i, "b").read_response().status, 200,
           "status of request %d from 127.0.0.2 while 127.0.0.1 is limited" % i)
    s2.close()
    # a token every 200 ms, at most 5: after a second the burst is back, and no more
    time.sleep(1.1)
    s = connect_from("127.0.0.1")
    for i in range(5):
        eq(limited(s, i, "c").read_response().status, 200,
           "status of request %d from 127.0.0.1 after 1.1 s" % i)
    rd = limited(s, 5, "c")
    r = rd.read_response()
    eq(r.status, 429, "status of the 6th request after the refill (burst 5)")
    s.close()
    got = sorted(e["target"] for e in blog("web1") + blog("web2"))
    want = sorted(["/limited/a-%d" % i for i in range(5)] + ["/limited/b-%d" % i for i in range(5)]
                  + ["/limited/c-%d" % i for i in range(5)])
    eq(got, want, "requests that reached the backends (the 429s none)")


# ---------------------------------------------------------------- access rules and auth

def refused(src, target, status, headers=(), what=""):
    r, s, rd = get_from(src, target, headers=headers)
    eq(r.status, status, "status of %s from %s%s" % (target, src, what))
    expect_closed(s, rd, what="the connection after a %d" % status)
    s.close()
    return r


def served(src, target, headers=()):
    r, s, _ = get_from(src, target, headers=headers)
    eq(r.status, 200, "status of %s from %s" % (target, src))
    eq(r.json()["target"], target, "target the backend saw for %s from %s" % (target, src))
    s.close()
    return r


def test_hardening_access_rules(px):
    refused("127.0.0.2", "/deny/r1", 403)
    served("127.0.0.1", "/deny/s1")
    served(HOST6, "/deny/s2")
    refused("127.0.0.1", "/only3/r2", 403)
    refused("127.0.0.2", "/only3/r3", 403)
    served("127.0.0.3", "/only3/s3")
    served(HOST6, "/only3/s4")
    # the rules apply to the normal form of the path
    refused("127.0.0.2", "/x/../deny/r4", 403)
    refused("127.0.0.1", "/%6fnly3/r5", 403)
    time.sleep(0.1)
    got = sorted(e["target"] for e in blog("web1") + blog("web2"))
    eq(got, ["/deny/s1", "/deny/s2", "/only3/s3", "/only3/s4"],
       "requests that reached the backends (the 403s none)")
    eq(len([a for a in px.access() if a["status"] == 403]), 5, "403 access lines")


def test_hardening_basic_auth(px):
    def basic(up):
        return [("Authorization", "Basic " + base64.b64encode(up).decode())]

    r = refused("127.0.0.1", "/admin/r1", 401)
    v = r.header_all("www-authenticate")
    check(len(v) == 1 and REALM_RX.match(v[0]), "WWW-Authenticate fields %r, want one "
          "'Basic realm=\"pollux admin\"'" % v)
    refused("127.0.0.1", "/admin/r2", 401, basic(b"admin:wrong"), " (wrong password)")
    refused("127.0.0.1", "/admin/r3", 401, basic(b"root:pollux"), " (wrong user)")
    refused("127.0.0.1", "/admin/r4", 401, basic(b"admin:Pollux"), " (password case)")
    refused("127.0.0.1", "/admin/r5", 401, basic(b"admin:polluxx"), " (longer password)")
    refused("127.0.0.1", "/admin/r6", 401, basic(b"admin"), " (no colon)")
    refused("127.0.0.1", "/admin/r7", 401, [("Authorization", "Basic !!!!")], " (bad base64)")
    refused("127.0.0.1", "/admin/r8", 401, [("Authorization", "Bearer " + AUTH_OK[6:])],
            " (another scheme)")
    refused("127.0.0.1", "/admin/r9", 401, [("Authorization", "Basic")], " (no token)")
    r = served("127.0.0.1", "/admin/s1", [("Authorization", AUTH_OK)])
    served("127.0.0.2", "/admin/s2", [("Authorization", AUTH_OK)])
    served(HOST6, "/admin/s3", [("Authorization", AUTH_OK)])
    served("127.0.0.1", "/admin/s4", [("Authorization", "basic " + AUTH_OK[6:])])
    # a wrong password right after a right one is still wrong (no cache by user name)
    refused("127.0.0.1", "/admin/r10", 401, basic(b"admin:pollu"), " (after a success)")
    time.sleep(0.1)
    entries = blog("web1") + blog("web2")
    got = sorted(e["target"] for e in entries)
    eq(got, ["/admin/s1", "/admin/s2", "/admin/s3", "/admin/s4"],
       "requests that reached the backends (the 401s none)")
    e = [x for x in entries if x["target"] == "/admin/s1"][0]
    eq([v for k, v in e["headers"] if k.lower() == "authorization"], [AUTH_OK],
       "Authorization the backend received")
    eq(len([a for a in px.access() if a["status"] == 401]), 10, "401 access lines")


# ---------------------------------------------------------------- pollux -p

def test_hardening_password_hash_p(px):
    hashes = []
    for _ in range(2):
        p = subprocess.run(px.command("-p"), input=b"secret\n", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
        eq(p.returncode, 0, "exit status of pollux -p (stderr %r)" % p.stderr[-200:])
        out = p.stdout.decode()
        m = re.match(r"^pbkdf2-sha256\$10000\$([0-9a-f]{32})\$([0-9a-f]{64})\n$", out)
        check(m, "pollux -p printed %r, want pbkdf2-sha256$10000$<32 hex>$<64 hex>" % out)
        salt, want = m.group(1), m.group(2)
        k = subprocess.run(["openssl", "kdf", "-keylen", "32", "-kdfopt", "digest:SHA256",
                            "-kdfopt", "pass:secret", "-kdfopt", "hexsalt:" + salt,
                            "-kdfopt", "iter:10000", "PBKDF2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
        eq(k.returncode, 0, "openssl kdf exit status (%r)" % k.stderr[-200:])
        got = k.stdout.decode().strip().replace(":", "").lower()
        eq(want, got, "pollux's hash against openssl kdf PBKDF2 for salt %s" % salt)
        hashes.append((salt, want))
    check(hashes[0][0] != hashes[1][0], "two runs used the same salt %s" % hashes[0][0])
    p = subprocess.run(px.command("-p"), input=b"\n", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=20)
    check(p.returncode != 0 and not p.stdout, "pollux -p with an empty password: exit %d, "
          "stdout %r" % (p.returncode, p.stdout))


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "slowloris":
        slowloris_main(sys.argv[2:])
    else:
        sys.exit("usage: %s slowloris RAMP DURATION" % sys.argv[0])
