"""Connections: pipelining, keep-alive on both sides, HTTP/1.0, WebSocket tunnels."""
import hashlib
import os
import socket
import struct
import time

from harness import (HOSTED_IDLE_CLOSE, PORT, Reader, blog, check, connect, eq, expect_closed,
                     expect_open, get, header_values, pattern_sha, request, ws_accept,
                     ws_frame, ws_key, ws_read_frame)


def test_pipelined_requests_answered_in_order(px):
    s = connect()
    s.sendall(request("GET", "/api/slow/300") + request("GET", "/echo/second") +
              request("GET", "/api/bytes/20000"))
    rd = Reader(s)
    r1 = rd.read_response()
    eq((r1.status, r1.body), (200, b"slow"), "first pipelined response")
    r2 = rd.read_response()
    eq(r2.status, 200, "second pipelined status")
    eq(r2.json()["target"], "/echo/second", "second pipelined response's target")
    r3 = rd.read_response()
    eq(r3.status, 200, "third pipelined status")
    eq(len(r3.body), 20000, "third pipelined body length")
    eq(hashlib.sha256(r3.body).hexdigest(), pattern_sha(20000), "third pipelined body")
    expect_open(s, rd, what="client connection after pipelined requests")
    eq([e["target"] for e in blog("api")], ["/slow/300", "/bytes/20000"], "api's requests")


def test_pipelined_request_bodies_framed(px):
    s = connect()
    s.sendall(request("POST", "/api/upload", body=b"first body") +
              request("POST", "/api/upload", headers=[("Transfer-Encoding", "chunked")]) +
              b"3\r\nabc\r\n0\r\n\r\n" + request("GET", "/api/echo/third"))
    rd = Reader(s)
    j = rd.read_response().json()
    eq((j["body_len"], j["body_sha256"]), (10, hashlib.sha256(b"first body").hexdigest()),
       "first body at the backend")
    j = rd.read_response().json()
    eq((j["body_len"], j["body_sha256"]), (3, hashlib.sha256(b"abc").hexdigest()),
       "second (chunked) body at the backend")
    r = rd.read_response()
    eq(r.status, 200, "third status")
    eq(r.json()["target"], "/echo/third", "third target")
    eq([e["target"] for e in blog("api")], ["/upload", "/upload", "/echo/third"],
       "api's requests")


def test_client_keep_alive_several_requests(px):
    s = connect()
    rd = Reader(s)
    for i in range(5):
        s.sendall(request("GET", "/echo/ka%d" % i))
        r = rd.read_response()
        eq(r.status, 200, "status of request %d on one connection" % i)
        eq(r.json()["target"], "/echo/ka%d" % i, "target of request %d" % i)
    expect_open(s, rd, what="client connection after 5 requests")
    for i in range(5):
        px.wait_access(200, "/echo/ka%d" % i)


def test_idle_client_connection_closed_after_idle_timeout(px):
    s = connect(timeout=6)
    rd = Reader(s)
    s.sendall(request("GET", "/echo"))
    eq(rd.read_response().status, 200, "status")
    t0 = time.time()
    expect_closed(s, rd, wait=5.5, what="idle keep-alive connection")
    dt = time.time() - t0
    check(2.5 <= dt <= 4.5, "idle client connection closed after %.2f s, want ~3 s" % dt)


def test_backend_connection_reused(px):
    j1 = get("/echo/one", host="api.test").json()
    j2 = get("/echo/two", host="api.test").json()
    eq(j2["conn_id"], j1["conn_id"], "backend connection of the second request")
    eq((j1["req_on_conn"], j2["req_on_conn"]), (1, 2), "request numbers on that connection")


def test_failed_reused_backend_connection_retried(px):
    j1 = get("/drop-next", host="api.test").json()
    # the backend now reads the next request on that connection and closes unanswered
    r = get("/echo/retried", host="api.test")
    eq(r.status, 200, "status when the reused connection fails before any response byte")
    j2 = r.json()
    check(j2["conn_id"] != j1["conn_id"], "answered on the failed connection?")
    log = blog("api")
    eq([(e["target"], e["conn_id"], bool(e.get("dropped"))) for e in log],
       [("/drop-next", j1["conn_id"], False), ("/echo/retried", j1["conn_id"], True),
        ("/echo/retried", j2["conn_id"], False)], "api's requests (target, conn, dropped)")


def test_http10_keep_alive_stays_open(px):
    s = connect()
    rd = Reader(s)
    s.sendall(request("GET", "/api/echo/a", version="HTTP/1.0",
                      headers=[("Connection", "keep-alive")]))
    r = rd.read_response()
    eq(r.status, 200, "status")
    check(r.has("content-length"), "response to an HTTP/1.0 keep-alive request has no length")
    check(any("keep-alive" in v.lower() for v in r.header_all("connection")),
          "response lacks Connection: keep-alive (headers %r)" % r.headers)
    eq(r.json()["version"], "HTTP/1.0", "version forwarded to the backend")
    expect_open(s, rd, what="HTTP/1.0 keep-alive connection")
    s.sendall(request("GET", "/api/echo/b", version="HTTP/1.0",
                      headers=[("Connection", "keep-alive")]))
    r = rd.read_response()
    eq(r.status, 200, "status of the second HTTP/1.0 request")
    eq(r.json()["target"], "/echo/b", "second target")


def test_http10_without_keep_alive_closes(px):
    s = connect()
    s.sendall(request("GET", "/api/echo/c", version="HTTP/1.0"))
    rd = Reader(s)
    r = rd.read_response()
    eq(r.status, 200, "status")
    eq(r.json()["version"], "HTTP/1.0", "version forwarded to the backend")
    expect_closed(s, rd, what="HTTP/1.0 connection without keep-alive")


def test_idle_closed_backend_connection_not_used(px):
    j1 = get("/echo/first", host="a.wild.test").json()
    eq(j1["name"], "hosted", "backend")
    time.sleep(HOSTED_IDLE_CLOSE * 2)  # the backend has closed the idle connection by now
    r = get("/echo/second", host="a.wild.test")
    eq(r.status, 200, "status after the backend closed the idle connection")
    j2 = r.json()
    check(j2["conn_id"] != j1["conn_id"], "second request on the closed connection %d" %
          j1["conn_id"])
    eq([e["target"] for e in blog("hosted")], ["/echo/first", "/echo/second"],
       "hosted's requests")


def test_websocket_echo_through_tunnel(px):
    s = connect()
    key = ws_key()
    s.sendall(request("GET", "/api/ws", headers=[
        ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13")]))
    rd = Reader(s)
    r = rd.read_response()
    eq(r.status, 101, "handshake status")
    eq(r.header_all("sec-websocket-accept"), [ws_accept(key)], "Sec-WebSocket-Accept")
    eq([v.lower() for v in r.header_all("upgrade")], ["websocket"], "Upgrade in the 101")
    check(any("upgrade" in v.lower() for v in r.header_all("connection")),
          "101 lacks Connection: upgrade (%r)" % r.headers)
    e = blog("api")
    eq(len(e), 1, "requests at api")
    eq(header_values(e[0]["headers"], "upgrade"), ["websocket"], "Upgrade at the backend")
    check(any("upgrade" in v.lower() for v in header_values(e[0]["headers"], "connection")),
          "backend did not get Connection: upgrade: %r" % e[0]["headers"])

    s.sendall(ws_frame(0x1, b"hello pollux"))
    f = ws_read_frame(rd)
    eq((f["op"], f["fin"], f["masked"], f["payload"]), (0x1, True, False, b"hello pollux"),
       "text echo")
    big = os.urandom(200 * 1024)
    s.sendall(ws_frame(0x2, big))
    f = ws_read_frame(rd)
    eq((f["op"], f["fin"], len(f["payload"])), (0x2, True, len(big)), "binary echo frame")
    check(f["payload"] == big, "binary echo payload differs")
    s.sendall(ws_frame(0x8, b"\x03\xe8bye"))
    f = ws_read_frame(rd)
    eq((f["op"], f["payload"]), (0x8, b"\x03\xe8bye"), "close frame echo")
    expect_closed(s, rd, what="tunnel after the close handshake")


def closing_now():
    """pollux's connections in the closing state, from /metrics on the stats listener."""
    s = connect(port=18099)
    s.sendall(request("GET", "/metrics", "127.0.0.1:18099"))
    body = Reader(s).read_response().body.decode()
    s.close()
    for line in body.splitlines():
        if line.startswith('pollux_connections{state="closing"} '):
            return int(line.split()[1])
    check(False, "no closing count in /metrics")


def settled():
    """Waits for connections of earlier tests to finish their lingering close."""
    deadline = time.time() + 3
    while closing_now() != 0:
        check(time.time() < deadline, "connections still closing 3 s on")
        time.sleep(0.05)


def test_close_without_lingering_when_client_said_close(px):
    # the client asked for close and sent nothing more: pollux closes at once after its
    # FIN, even while the client keeps its end open; with bytes after the request it
    # drains them first (a lingering close), so a close cannot reset its response
    settled()
    s = connect()
    s.sendall(request("GET", "/echo/bye", headers=[("Connection", "close")]))
    rd = Reader(s)
    eq(rd.read_response().status, 200, "status of the Connection: close request")
    expect_closed(s, rd, what="connection after Connection: close")
    time.sleep(0.2)
    eq(closing_now(), 0, "connections left closing while the client holds its end open")
    s.close()
    s = connect()
    s.sendall(request("GET", "/echo/bye2", headers=[("Connection", "close")]) + b"GET /x")
    rd = Reader(s)
    eq(rd.read_response().status, 200, "status with bytes after the request")
    time.sleep(0.2)
    eq(closing_now(), 1, "connections closing after extra bytes (a lingering close)")
    s.close()


class Sniffer:
    """The TCP segments a listener of pollux (the plain one by default) sends on lo,
    read from an AF_PACKET socket (root only): (payload length, FIN, payload) for each
    one to a client port, in order."""

    def __init__(self, port=PORT):
        self.port = port
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
        # room for every copy of a 100 KB response (root may go past rmem_max)
        self.s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 1 << 23)
        self.s.bind(("lo", 0x0800))
        self.s.setblocking(False)

    def segments(self, cport):
        out = []
        while True:
            try:
                pkt, addr = self.s.recvfrom(65536)
            except BlockingIOError:
                return out
            if addr[2] != socket.PACKET_HOST or pkt[9] != 6:    # each once; TCP only
                continue
            ihl = (pkt[0] & 15) * 4
            tcp = pkt[ihl:]
            sport, dport = struct.unpack("!HH", tcp[:4])
            if (sport, dport) != (self.port, cport):
                continue
            hl = (tcp[12] >> 4) * 4
            plen = struct.unpack("!H", pkt[2:4])[0] - ihl - hl
            out.append((plen, bool(tcp[13] & 1), tcp[hl:hl + plen]))

    def close(self):
        self.s.close()


def close_response(extra=b"", target="/echo/fin"):
    """A Connection: close request (and extra bytes after it): the response, the time it
    took to come whole, the client's port."""
    s = connect()
    cport = s.getsockname()[1]
    t0 = time.time()
    s.sendall(request("GET", target, headers=[("Connection", "close")]) + extra)
    rd = Reader(s)
    r = rd.read_response()
    took = time.time() - t0
    expect_closed(s, rd, what="connection after Connection: close")
    s.close()
    return r, took, cport


def test_fin_rides_on_the_last_response_segment(px):
    # the last write before a close goes with MSG_MORE, so the FIN leaves in the same
    # segment as the response's tail; both ways to close (at once, and the lingering
    # one after bytes beyond the request) must still send it without delay
    settled()
    sn = Sniffer() if os.geteuid() == 0 else None
    try:
        s = connect()          # keep-alive: nothing held back
        rd = Reader(s)
        t0 = time.time()
        s.sendall(request("GET", "/echo/ka-fin"))
        eq(rd.read_response().status, 200, "keep-alive status")
        check(time.time() - t0 < 0.15, "a keep-alive response was held back")
        expect_open(s, rd, what="keep-alive connection")
        s.close()
        for extra, target, what in ((b"", "/echo/fin", "a close at once"),
                                    (b"GET /x", "/echo/fin2", "a lingering close"),
                                    (b"", "/api/bytes/20000", "a 20,000-byte body")):
            r, took, cport = close_response(extra, target)
            eq(r.status, 200, "status (%s)" % what)
            if target.startswith("/api/bytes/"):
                eq(hashlib.sha256(r.body).hexdigest(), pattern_sha(20000), "body (%s)" % what)
            check(took < 0.15, "the response took %.3f s (%s): held back by MSG_MORE?" % (took, what))
            if sn is None:
                continue
            time.sleep(0.05)
            segs = [x for x in sn.segments(cport) if x[0] > 0 or x[1]]
            check(segs, "no segment from pollux seen (%s)" % what)
            check(segs[-1][0] > 0 and segs[-1][1],
                  "the FIN came in a segment of its own after the data (%s): %r" % (what, segs[-3:]))
            eq(sum(1 for x in segs if x[1]), 1, "segments with FIN (%s)" % what)
    finally:
        if sn is not None:
            sn.close()


def test_client_hangup_while_response_awaited_frees_slot(px):
    # a client awaiting its response head is not polled at first; the sweep then
    # watches it for a hang-up, so one that gives up is let go well before the backend
    # answers (here after 1.8 s)
    s = connect()
    s.sendall(request("GET", "/api/slow/1800"))
    time.sleep(0.3)
    s.close()
    t0 = time.time()
    px.wait_access(499, "/api/slow/1800", wait=1.5)
    dt = time.time() - t0
    check(dt < 1.0, "hang-up noticed after %.2f s, want within a few sweeps" % dt)


def close_waits(port):
    """Local TCP sockets in CLOSE_WAIT whose peer port is this one."""
    n = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if int(fields[2].rsplit(":", 1)[1], 16) == port and fields[3] == "08":
                    n += 1
    return n


def test_idle_backend_connection_closed_by_backend_is_closed_here(px):
    # idle backend connections are parked in the poll table; the sweep looks at them
    # and closes those the backend has closed, so none is left half-closed until
    # T_UP_IDLE
    eq(get("/echo/reap", host="a.wild.test").status, 200, "status")
    time.sleep(HOSTED_IDLE_CLOSE + 0.4)
    eq(close_waits(19004), 0, "pollux's connections to hosted left in CLOSE_WAIT")
