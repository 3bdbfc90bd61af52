#!/usr/bin/env python3
"""
A test backend for pollux's integration tests: raw sockets and one thread per connection,
so the framing of every response is exactly what the test asked for.

  python3 tests/backend.py --port 19001 [--host 127.0.0.1|::1] [--name web1]
                           [--idle-close SECONDS] [--sink]
  python3 tests/backend.py --unix /path/to.sock [--name NAME] [...]

Prints "ready NAME HOST PORT" on stdout once it listens (with --unix: "ready NAME unix
PATH"; a stale socket file at PATH is removed first). Endpoints (matched on the path the
backend received, after any rewrite by the proxy):
  /bytes/N            N bytes of bytes(range(256)) repeated, with Content-Length;
                      ?chunked=1 chunked (varying chunk sizes, trailer X-Checksum: sha256hex);
                      ?close=1 no length, "Connection: close", body ends at close
  /upload             reads the body, answers {"body_len","body_sha256","headers","trailers"}
  /slow/MS            waits MS ms, then 200 "slow"
  /status/CODE        that status; 204/304 without a body
  /stall/MS           head announcing 1000 bytes, 10 bytes, MS ms of silence, then close
  /die                head announcing 100000 bytes, 100 bytes, then a reset
  /die-chunked        chunked head and one chunk, then close
  /ws                 WebSocket handshake, then echoes frames until a close frame
  /drop-next          answers, then reads the next request on this connection and closes
                      without answering it
  /early              a 103 Early Hints, then 200 "early\n"; ?hop=1: the 103 carries
                      hop-by-hop fields (Keep-Alive, Connection: X-Hint, X-Hint)
  /hop                a response carrying hop-by-hop fields (Connection: X-Bar, Keep-Alive...)
  /count              {"requests": requests served by this process}
  /_log[?clear=1]     what this backend received (not itself logged); clear=1 empties it
  /_set?K=V&...       changes this process's behaviour (not logged; answers the settings):
                        health=CODE   /health answers CODE ("status CODE\n")
                        health=hang   /health waits 3 s, then answers 200
                        health=echo   /health is an ordinary echo again (the default)
                        drop=1|0      every other request is read (body too), logged with
                                      "dropped": true and its connection closed unanswered
                        delay=MS      every other request waits MS ms before it is served
  /health             (any path ending so) as the echo, unless /_set says otherwise; its log
                      entry has "peer_pid": the process owning the client's end of the
                      connection (found in /proc), so a test can tell its own proxy's
                      health checks from those of another one checking the same port
  anything else       echo: {"name","method","target","version","headers","body_len",
                      "body_sha256","conn_id","req_on_conn"}
--sink listens with backlog 0, fills its accept queue itself and never accepts.
"""
import argparse
import base64
import hashlib
import http
import json
import os
import re
import socket
import struct
import sys
import threading
import time

import sockdiag

PATTERN_UNIT = bytes(range(256))
SLICE = 1 << 20
# 1 MiB plus one unit, so any slice of up to 1 MiB may start at any phase 0..255
PATTERN = memoryview(PATTERN_UNIT * (SLICE // 256 + 1))
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 65536


class BadRequest(Exception):
    pass


class Closed(Exception):
    pass


class State:
    def __init__(self, name, idle_close):
        self.name = name
        self.idle_close = idle_close
        self.lock = threading.Lock()
        self.next_conn = 0
        self.requests = 0
        self.log = []
        self.health = None      # None: echo; an int: that status; "hang"
        self.drop = False
        self.delay = 0.0

    def new_conn_id(self):
        with self.lock:
            self.next_conn += 1
            return self.next_conn


class Conn:
    """A buffered reader over one accepted socket."""

    def __init__(self, sock, st):
        self.sock = sock
        self.st = st
        self.buf = bytearray()
        self.rbuf = bytearray(SLICE)
        self.rview = memoryview(self.rbuf)
        self.drop_next = False

    def fill(self):
        n = self.sock.recv_into(self.rview)
        if n == 0:
            raise Closed()
        self.buf += self.rview[:n]

    def read_head(self, idle_timeout):
        """Returns the head bytes (without the blank line), or None at a clean EOF/idle close."""
        first = True
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                head = bytes(self.buf[:i])
                del self.buf[:i + 4]
                return head
            if len(self.buf) > MAX_HEAD:
                raise BadRequest("head too large")
            if first and not self.buf and idle_timeout:
                self.sock.settimeout(idle_timeout)
            try:
                self.fill()
            except socket.timeout:
                return None
            except Closed:
                if self.buf:
                    raise BadRequest("eof inside head")
                return None
            finally:
                if first:
                    self.sock.settimeout(None)
            first = False

    def read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            if len(self.buf) > MAX_HEAD:
                raise BadRequest("line too long")
            self.fill()

    def read_exact_into_hash(self, n, h):
        """Consumes n body bytes, feeding them to h; returns n."""
        left = n
        if self.buf:
            take = min(left, len(self.buf))
            h.update(self.buf[:take])
            del self.buf[:take]
            left -= take
        while left > 0:
            want = min(left, SLICE)
            got = self.sock.recv_into(self.rview[:want])
            if got == 0:
                raise Closed()
            h.update(self.rview[:got])
            left -= got
        return n

    def read_exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


def peer_pid(sock):
    """The pid owning the other end of a TCP connection on this host (IPv4), or None."""
    try:
        lip, lport = sock.getsockname()[:2]
        rip, rport = sock.getpeername()[:2]
        inode = sockdiag.inode_of((rip, rport), (lip, lport))
    except (OSError, ValueError, IndexError, struct.error):
        return None
    if not inode or inode == "0":
        return None
    target = "socket:[%s]" % inode
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            for fd in os.listdir("/proc/%s/fd" % pid):
                try:
                    if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == target:
                        return int(pid)
                except OSError:
                    pass
        except OSError:
            pass
    return None


def parse_head(head):
    try:
        text = head.decode("latin-1")
    except Exception:
        raise BadRequest("undecodable head")
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest("bad request line %r" % lines[0])
    method, target, version = parts
    headers = []
    for ln in lines[1:]:
        if ":" not in ln:
            raise BadRequest("bad field line %r" % ln)
        name, value = ln.split(":", 1)
        if not name or not re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name):
            raise BadRequest("bad field name %r" % name)
        headers.append([name, value.strip(" \t")])
    return method, target, version, headers


def hget(headers, name):
    name = name.lower()
    vals = [v for n, v in headers if n.lower() == name]
    return vals


def tokens(headers, name):
    out = []
    for v in hget(headers, name):
        out += [t.strip().lower() for t in v.split(",") if t.strip()]
    return out


def read_body(c, headers):
    """Reads the request body. Returns (length, sha256hex, trailers)."""
    h = hashlib.sha256()
    te = tokens(headers, "transfer-encoding")
    trailers = []
    if te:
        if te[-1] != "chunked":
            raise BadRequest("unsupported transfer-encoding")
        total = 0
        while True:
            line = c.read_line()
            size_s = line.split(b";", 1)[0].strip()
            try:
                size = int(size_s, 16)
            except ValueError:
                raise BadRequest("bad chunk size %r" % line)
            if size == 0:
                break
            c.read_exact_into_hash(size, h)
            total += size
            if c.read_exact(2) != b"\r\n":
                raise BadRequest("chunk not followed by CRLF")
        while True:
            line = c.read_line()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            trailers.append([name, value.strip(" \t")])
        return total, h.hexdigest(), trailers
    cl = hget(headers, "content-length")
    if cl:
        if len(set(cl)) != 1 or not cl[0].isdigit():
            raise BadRequest("bad content-length %r" % cl)
        n = int(cl[0])
        c.read_exact_into_hash(n, h)
        return n, h.hexdigest(), trailers
    return 0, h.hexdigest(), trailers


def reason(code):
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Status"


def send_response(sock, code, headers, body, head_only, keep, version):
    lines = ["HTTP/1.1 %d %s" % (code, reason(code))]
    lines += ["%s: %s" % (n, v) for n, v in headers]
    if not keep:
        lines.append("Connection: close")
    elif version == "HTTP/1.0":
        lines.append("Connection: keep-alive")
    data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if not head_only:
        data += body
    sock.sendall(data)


def send_json(sock, obj, head_only, keep, version, code=200):
    body = (json.dumps(obj) + "\n").encode()
    send_response(sock, code, [("Content-Type", "application/json"),
                               ("Content-Length", str(len(body)))], body, head_only, keep, version)


def send_pattern(sock, n, h=None, chunk_sizes=None, start=0):
    """Sends pattern bytes start..start+n (phase 0 at 0), as raw bytes or as chunks."""
    pos = start
    end = start + n
    k = 0
    while pos < end:
        if chunk_sizes:
            size = min(chunk_sizes[k % len(chunk_sizes)], end - pos)
            k += 1
        else:
            size = min(SLICE, end - pos)
        phase = pos % 256
        piece = PATTERN[phase:phase + size]
        if h is not None:
            h.update(piece)
        if chunk_sizes:
            if size < 65536:
                sock.sendall(b"%x\r\n" % size + piece.tobytes() + b"\r\n")
            else:
                sock.sendall(b"%x\r\n" % size)
                sock.sendall(piece)
                sock.sendall(b"\r\n")
        else:
            sock.sendall(piece)
        pos += size


def ws_recv_frame(c):
    b0, b1 = c.read_exact(2)
    fin = b0 & 0x80
    op = b0 & 0x0F
    masked = b1 & 0x80
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack("!H", c.read_exact(2))[0]
    elif n == 127:
        n = struct.unpack("!Q", c.read_exact(8))[0]
    key = c.read_exact(4) if masked else None
    payload = c.read_exact(n)
    if key:
        payload = ws_mask(payload, key)
    return fin, op, masked, payload


def ws_mask(data, key):
    if not data:
        return data
    reps = (key * (len(data) // 4 + 1))[:len(data)]
    x = int.from_bytes(data, "big") ^ int.from_bytes(reps, "big")
    return x.to_bytes(len(data), "big")


def ws_frame(op, payload, fin=True, mask=None):
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
        return hdr + mask + ws_mask(payload, mask)
    return hdr + payload


def websocket(c, headers, version):
    key = hget(headers, "sec-websocket-key")
    if "websocket" not in tokens(headers, "upgrade") or "upgrade" not in tokens(headers, "connection") \
            or len(key) != 1:
        send_response(c.sock, 400, [("Content-Length", "10")], b"not a ws\r\n", False, False, version)
        return
    accept = base64.b64encode(hashlib.sha1(key[0].encode() + WS_GUID).digest()).decode()
    c.sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
    while True:
        fin, op, masked, payload = ws_recv_frame(c)
        if op == 0x8:
            c.sock.sendall(ws_frame(0x8, payload))
            return
        if op == 0x9:
            c.sock.sendall(ws_frame(0xA, payload))
            continue
        if op == 0xA:
            continue
        c.sock.sendall(ws_frame(op, payload, fin=bool(fin)))


def handle_request(c, st, conn_id, req_no, idle):
    """Serves one request. Returns True to keep the connection."""
    head = c.read_head(idle)
    if head is None:
        return False
    sock = c.sock
    try:
        method, target, version, headers = parse_head(head)
    except BadRequest as e:
        with st.lock:
            st.log.append({"error": str(e), "head": head.decode("latin-1"), "conn_id": conn_id})
        send_response(sock, 400, [("Content-Length", "12")], b"backend 400\n", False, False, "HTTP/1.1")
        return False
    path, _, query = target.partition("?")
    q = dict(p.partition("=")[::2] for p in query.split("&") if p)
    conn_tok = tokens(headers, "connection")
    if version == "HTTP/1.0":
        keep = "keep-alive" in conn_tok
    else:
        keep = "close" not in conn_tok
    entry = None
    control = path.endswith("/_log") or path.endswith("/_set")
    if not control:
        entry = {"method": method, "target": target, "version": version, "headers": headers,
                 "conn_id": conn_id, "req_on_conn": req_no, "t": time.time()}
        if path.endswith("/health") and sock.family == socket.AF_INET:
            entry["peer_pid"] = peer_pid(sock)
        with st.lock:
            st.requests += 1
            st.log.append(entry)
    if path.endswith("/upload") and "take" in q:
        # take=K: read K bytes of the body, then close unanswered (stopped reading)
        c.read_exact_into_hash(int(q["take"]), hashlib.sha256())
        if entry is not None:
            entry["dropped"] = True
        return False
    try:
        body_len, body_sha, trailers = read_body(c, headers)
    except BadRequest as e:
        if entry is not None:
            entry["error"] = str(e)
        send_response(sock, 400, [("Content-Length", "12")], b"backend 400\n", False, False, version)
        return False
    if entry is not None:
        entry["body_len"] = body_len
        entry["trailers"] = trailers
    head_only = method == "HEAD"
    if c.drop_next or (st.drop and not control):
        # /drop-next or drop=1 asked for this: read the request, then close unanswered
        if entry is not None:
            entry["dropped"] = True
        return False
    if st.delay and not control:
        time.sleep(st.delay)

    if path.endswith("/_set"):
        with st.lock:
            if "health" in q:
                v = q["health"]
                st.health = None if v == "echo" else v if v == "hang" else int(v)
            if "drop" in q:
                st.drop = q["drop"] == "1"
            if "delay" in q:
                st.delay = int(q["delay"]) / 1000.0
            out = {"name": st.name, "health": st.health, "drop": st.drop,
                   "delay_ms": int(st.delay * 1000)}
        send_json(sock, out, head_only, keep, version)
        return keep

    if path.endswith("/health") and st.health is not None:
        code = st.health
        if code == "hang":
            time.sleep(3)
            code = 200
        body = ("status %d\n" % code).encode()
        send_response(sock, code, [("Content-Length", str(len(body)))], body, head_only, keep,
                      version)
        return keep

    m = re.search(r"/bytes/(\d+)$", path)
    if m:
        n = int(m.group(1))
        if q.get("close") == "1":
            send_response(sock, 200, [("Content-Type", "application/octet-stream")], b"",
                          True, False, version)
            if not head_only:
                send_pattern(sock, n)
            return False
        if q.get("chunked") == "1":
            sock.sendall(("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                          "Transfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n%s\r\n" % (
                              "" if keep else "Connection: close\r\n")).encode())
            if head_only:
                return keep
            h = hashlib.sha256()
            send_pattern(sock, n, h, [1, 255, 4096, 65537, 1 << 20, 17, 3000])
            sock.sendall(("0\r\nX-Checksum: %s\r\nX-Trailer-2: done\r\n\r\n" % h.hexdigest()).encode())
            return keep
        send_response(sock, 200, [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(n))], b"", True, keep, version)
        if head_only:
            return keep
        if "cut" in q:
            # cut=K: only K of the n bytes, then a close (rst=1: a reset)
            send_pattern(sock, int(q["cut"]))
            time.sleep(0.05)
            if q.get("rst") == "1":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if "pause" in q:
            # pause=MS: half the body, a pause, then the other half (same pattern phase)
            send_pattern(sock, n // 2)
            time.sleep(int(q["pause"]) / 1000.0)
            send_pattern(sock, n - n // 2, start=n // 2)
            return keep
        send_pattern(sock, n)
        return keep

    if path.endswith("/_log"):
        with st.lock:
            out = list(st.log)
            if q.get("clear") == "1":
                st.log.clear()
        send_json(sock, out, head_only, keep, version)
        return keep

    if path.endswith("/count"):
        with st.lock:
            n = st.requests
        send_json(sock, {"requests": n}, head_only, keep, version)
        return keep

    if path.endswith("/upload"):
        send_json(sock, {"name": st.name, "body_len": body_len, "body_sha256": body_sha,
                         "headers": headers, "trailers": trailers}, head_only, keep, version)
        return keep

    m = re.search(r"/slow/(\d+)$", path)
    if m:
        time.sleep(int(m.group(1)) / 1000.0)
        send_response(sock, 200, [("Content-Length", "4")], b"slow", head_only, keep, version)
        return keep

    m = re.search(r"/status/(\d{3})$", path)
    if m:
        code = int(m.group(1))
        if code in (204, 304):
            send_response(sock, code, [("X-Status", str(code))], b"", True, keep, version)
        else:
            body = ("status %d\n" % code).encode()
            send_response(sock, code, [("Content-Length", str(len(body)))], body,
                          head_only, keep, version)
        return keep

    m = re.search(r"/stall/(\d+)$", path)
    if m:
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"s" * 10)
        time.sleep(int(m.group(1)) / 1000.0)
        return False

    if path.endswith("/die"):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"d" * 100)
        time.sleep(0.05)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False

    if path.endswith("/die-chunked"):
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n" + b"c" * 100 + b"\r\n")
        time.sleep(0.05)
        return False

    if path.endswith("/ws"):
        websocket(c, headers, version)
        return False

    if path.endswith("/drop-next"):
        c.drop_next = True
        send_json(sock, {"name": st.name, "conn_id": conn_id}, head_only, keep, version)
        return keep

    if path.endswith("/early"):
        hop = b"Keep-Alive: timeout=5\r\nConnection: X-Hint\r\nX-Hint: 1\r\n" if q.get("hop") == "1" else b""
        sock.sendall(b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n" + hop + b"\r\n")
        time.sleep(0.05)
        send_response(sock, 200, [("Content-Length", "6")], b"early\n", head_only, keep, version)
        return keep

    if path.endswith("/hop"):
        body = b"hop\n"
        send_response(sock, 200, [("Content-Length", str(len(body))), ("Connection", "X-Bar"),
                                  ("X-Bar", "hop-by-hop"), ("Keep-Alive", "timeout=9"),
                                  ("Proxy-Connection", "keep-alive"), ("X-End", "kept")],
                      body, head_only, keep, version)
        return keep

    send_json(sock, {"name": st.name, "method": method, "target": target, "version": version,
                     "headers": headers, "body_len": body_len, "body_sha256": body_sha,
                     "conn_id": conn_id, "req_on_conn": req_no}, head_only, keep, version)
    return keep


def serve_conn(sock, st):
    conn_id = st.new_conn_id()
    c = Conn(sock, st)
    try:
        if sock.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req_no = 0
        while True:
            req_no += 1
            if not handle_request(c, st, conn_id, req_no, st.idle_close):
                break
    except (Closed, OSError, BadRequest):
        pass
    except Exception as e:
        sys.stderr.write("backend %s: connection %d: %s: %s\n" % (st.name, conn_id, type(e).__name__, e))
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--unix", default=None, help="listen on this Unix socket path instead")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--name", default=None)
    ap.add_argument("--idle-close", type=float, default=0.0)
    ap.add_argument("--sink", action="store_true")
    a = ap.parse_args()
    if not a.unix and not a.port:
        ap.error("--port or --unix is required")
    name = a.name or ("backend%d" % a.port if a.port else "unix")
    if a.unix:
        fam = socket.AF_UNIX
        ls = socket.socket(fam, socket.SOCK_STREAM)
        try:
            os.unlink(a.unix)
        except FileNotFoundError:
            pass
        ls.bind(a.unix)
        a.host, a.port = "unix", a.unix
    else:
        fam = socket.AF_INET6 if ":" in a.host else socket.AF_INET
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.host, a.port))
    if a.sink:
        ls.listen(0)
        # fill the accept queue (Linux holds backlog+1) so later SYNs are dropped
        fillers = []
        for _ in range(3):
            s = socket.socket(fam, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect((a.host, a.port))
            except (BlockingIOError, InterruptedError):
                pass
            fillers.append(s)
            time.sleep(0.05)
        print("ready %s %s %s" % (name, a.host, a.port), flush=True)
        while True:
            time.sleep(3600)
    ls.listen(128)
    st = State(name, a.idle_close)
    print("ready %s %s %s" % (name, a.host, a.port), flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve_conn, args=(s, st), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
