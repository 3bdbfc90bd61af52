"""Message bodies: streaming, framing (length, chunked, close), bodiless responses, 100-continue."""
import hashlib
import re
import socket
import struct
import subprocess
import time

from harness import (GIB, PATTERN, SLICE, SLOW, Reader, blog, check, connect, curl_env,
                     curl_ok, eq, expect_closed, expect_open, header_values, pattern_sha,
                     get, request, roundtrip, short, timeout)

RSS_GROWTH_KB = 5 * 1024


class RssWatch:
    """Samples pollux's VmRSS at most every 0.1 s; remembers the first and the largest."""

    def __init__(self, px):
        self.px = px
        self.first = px.rss_kb()
        self.peak = self.first
        self.t = 0.0

    def sample(self):
        now = time.time()
        if now - self.t >= 0.1:
            self.t = now
            self.peak = max(self.peak, self.px.rss_kb())

    def check(self, what):
        self.peak = max(self.peak, self.px.rss_kb())
        check(self.peak - self.first <= RSS_GROWTH_KB,
              "%s: pollux VmRSS grew from %d kB to %d kB (limit +%d kB)" % (
                  what, self.first, self.peak, RSS_GROWTH_KB))


def curl_download(args, rss):
    """Runs curl on args (URL last) with its output read here: returns the byte count and
    the sha256 of what arrived, sampling pollux's RSS as the bytes come; a curl error
    fails the test."""
    limit = "%d" % (150 * SLOW)
    p = subprocess.Popen(["curl", "-sS", "--noproxy", "*", "--max-time", limit, "-o", "-"] +
                         args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=curl_env())
    h = hashlib.sha256()
    n = 0
    while True:
        d = p.stdout.read1(SLICE)
        if not d:
            break
        h.update(d)
        n += len(d)
        rss.sample()
    err = p.stderr.read().decode(errors="replace")
    rc = p.wait()
    eq(rc, 0, "curl exit status (%s)" % err.strip())
    return n, h.hexdigest()


@timeout(180)
def test_download_1gib_streams_with_flat_rss(px):
    want = pattern_sha(GIB)
    rss = RssWatch(px)
    n, digest = curl_download(["http://127.0.0.1:18080/api/bytes/%d" % GIB], rss)
    eq(n, GIB, "bytes received")
    eq(digest, want, "sha256 of the download")
    rss.check("1 GiB download")
    px.wait_access(200, "/api/bytes/%d" % GIB)


def send_pattern(s, n, chunk_sizes=None, rss=None):
    pos = 0
    k = 0
    while pos < n:
        size = min(chunk_sizes[k % len(chunk_sizes)] if chunk_sizes else SLICE, n - pos)
        k += 1
        phase = pos % 256
        piece = PATTERN[phase:phase + size]
        if chunk_sizes:
            s.sendall(b"%x\r\n" % size)
            s.sendall(piece)
            s.sendall(b"\r\n")
        else:
            s.sendall(piece)
        pos += size
        if rss:
            rss.sample()


@timeout(180)
def test_upload_1gib_content_length(px):
    want = pattern_sha(GIB)
    rss = RssWatch(px)
    s = connect(timeout=60)
    s.sendall(request("POST", "/api/upload", content_length=GIB,
                      headers=[("Content-Type", "application/octet-stream")]))
    send_pattern(s, GIB, rss=rss)
    r = Reader(s).read_response()
    eq(r.status, 200, "status")
    j = r.json()
    eq(j["body_len"], GIB, "body length at the backend")
    eq(j["body_sha256"], want, "sha256 at the backend")
    eq(header_values(j["headers"], "content-length"), [str(GIB)], "Content-Length at the backend")
    rss.check("1 GiB upload")


@timeout(180)
def test_upload_1gib_chunked(px):
    want = pattern_sha(GIB)
    rss = RssWatch(px)
    s = connect(timeout=60)
    s.sendall(request("POST", "/api/upload", headers=[("Transfer-Encoding", "chunked")]))
    send_pattern(s, GIB, chunk_sizes=[SLICE, 65537, 1000, SLICE - 1, 5], rss=rss)
    s.sendall(b"0\r\n\r\n")
    r = Reader(s).read_response()
    eq(r.status, 200, "status")
    j = r.json()
    eq(j["body_len"], GIB, "body length at the backend")
    eq(j["body_sha256"], want, "sha256 at the backend")
    rss.check("1 GiB chunked upload")


def test_chunked_response_decoded_by_curl(px):
    n = 3 * 1024 * 1024 + 7
    r = curl_ok("/api/bytes/%d?chunked=1" % n)
    eq(len(r.body), n, "decoded length")
    eq(hashlib.sha256(r.body).hexdigest(), pattern_sha(n), "sha256 of the decoded body")


def test_chunked_response_framing_and_trailer_reach_client(px):
    n = 300000
    s = connect()
    s.sendall(request("GET", "/api/bytes/%d?chunked=1" % n))
    rd = Reader(s)
    r = rd.read_response()
    eq(r.status, 200, "status")
    check(r.chunked, "response not chunked; headers %r" % r.headers)
    check(not r.has("content-length"), "chunked response also has Content-Length")
    eq(len(r.body), n, "decoded length")
    eq(hashlib.sha256(r.body).hexdigest(), pattern_sha(n), "sha256")
    eq(header_values(r.trailers, "x-checksum"), [pattern_sha(n)], "X-Checksum trailer")
    eq(header_values(r.trailers, "x-trailer-2"), ["done"], "X-Trailer-2 trailer")
    # the framing ended exactly: the next request on the socket works
    s.sendall(request("GET", "/api/echo/after"))
    r2 = rd.read_response()
    eq(r2.status, 200, "status of the request after the chunked response")
    eq(r2.json()["target"], "/echo/after", "target of the request after")


def test_chunked_request_with_trailer(px):
    s = connect()
    s.sendall(request("POST", "/api/upload", headers=[("Transfer-Encoding", "chunked")]))
    s.sendall(b"5\r\nhello\r\n6;ext=1\r\n world\r\n")
    time.sleep(0.05)
    s.sendall(b"0\r\nX-Trail: t1\r\n\r\n")
    rd = Reader(s)
    r = rd.read_response()
    eq(r.status, 200, "status")
    j = r.json()
    eq(j["body_len"], 11, "body length at the backend")
    eq(j["body_sha256"], hashlib.sha256(b"hello world").hexdigest(), "sha256 at the backend")
    eq(header_values(j["headers"], "transfer-encoding"), ["chunked"],
       "Transfer-Encoding at the backend")
    eq(header_values(j["headers"], "content-length"), [], "Content-Length at the backend")
    eq(j["trailers"], [["X-Trail", "t1"]], "trailers at the backend")
    expect_open(s, rd, what="client connection after a chunked request")


def test_close_delimited_response_read_to_end(px):
    n = 500000
    s = connect()
    s.sendall(request("GET", "/api/bytes/%d?close=1" % n))
    rd = Reader(s)
    r = rd.read_response()
    eq(r.status, 200, "status")
    eq(len(r.body), n, "body length")
    eq(hashlib.sha256(r.body).hexdigest(), pattern_sha(n), "sha256")
    expect_closed(s, rd, what="client connection after a close-delimited response")
    px.wait_access(200, "/api/bytes/%d?close=1" % n)


def test_close_delimited_response_via_curl(px):
    n = 2 * 1024 * 1024
    r = curl_ok("/api/bytes/%d?close=1" % n)
    eq(len(r.body), n, "body length")
    eq(hashlib.sha256(r.body).hexdigest(), pattern_sha(n), "sha256")


def test_head_has_no_body(px):
    s = connect()
    s.sendall(request("HEAD", "/api/bytes/5000"))
    rd = Reader(s)
    r = rd.read_response("HEAD")
    eq(r.status, 200, "status")
    for v in r.header_all("content-length"):
        eq(v, "5000", "Content-Length of the HEAD response")
    s.sendall(request("GET", "/api/echo/next"))
    r2 = rd.read_response()
    eq(r2.status, 200, "status of the request after HEAD (a stray body would break this)")
    eq(r2.json()["target"], "/echo/next", "target after HEAD")
    log = [e["method"] for e in blog("api")]
    eq(log, ["HEAD", "GET"], "methods the backend received")


def test_204_and_304_have_no_body_and_keep_alive(px):
    s = connect()
    rd = Reader(s)
    s.sendall(request("GET", "/api/status/204"))
    r = rd.read_response()
    eq(r.status, 204, "status")
    s.sendall(request("GET", "/api/status/304"))
    r = rd.read_response()
    eq(r.status, 304, "status")
    s.sendall(request("GET", "/api/echo/third"))
    r = rd.read_response()
    eq(r.status, 200, "status of the request after 204 and 304")
    eq(r.json()["target"], "/echo/third", "target of the third request")
    expect_open(s, rd, what="client connection after 204/304")
    eq([e["target"] for e in blog("api")], ["/status/204", "/status/304", "/echo/third"],
       "targets at the backend")


def test_other_status_passed_through(px):
    r = curl_ok("/api/status/418", status=418)
    eq(r.body, b"status 418\n", "body")
    r = curl_ok("/api/status/503", status=503)
    eq(r.body, b"status 503\n", "body of a backend's own 503")


def test_interim_103_forwarded_before_final(px):
    s = connect()
    rd = Reader(s)
    s.sendall(request("GET", "/api/early"))
    r = rd.read_response(allow_1xx=True)
    eq(r.status, 103, "first response")
    eq(r.header_all("link"), ["</s.css>; rel=preload"], "Link in the 103")
    r = rd.read_response()
    eq((r.status, r.body), (200, b"early\n"), "final response")
    s.sendall(request("GET", "/api/echo/after"))
    r = rd.read_response()
    eq(r.json()["target"], "/echo/after", "target of the next request")


def test_interim_103_hop_by_hop_fields_stripped(px):
    s = connect()
    rd = Reader(s)
    s.sendall(request("GET", "/api/early?hop=1"))
    r = rd.read_response(allow_1xx=True)
    eq(r.status, 103, "first response")
    names = [n.lower() for n, _ in r.headers]
    for n in ("keep-alive", "x-hint", "connection"):
        check(n not in names, "103 carries hop-by-hop field %r: %r" % (n, r.headers))
    eq(r.header_all("link"), ["</s.css>; rel=preload"], "Link in the 103")
    r = rd.read_response()
    eq((r.status, r.body), (200, b"early\n"), "final response after the 103")


def test_interim_103_not_sent_to_http10_client(px):
    s = connect()
    rd = Reader(s)
    s.sendall(request("GET", "/api/early", version="HTTP/1.0"))
    r = rd.read_response(allow_1xx=True)
    eq((r.status, r.body), (200, b"early\n"), "first (and only) response to HTTP/1.0")
    expect_closed(s, rd, what="HTTP/1.0 connection after the response")


def test_expect_100_continue(px):
    s = connect(timeout=2)
    s.sendall(request("POST", "/api/upload", content_length=11,
                      headers=[("Expect", "100-continue")]))
    rd = Reader(s)
    t0 = time.time()
    r = rd.read_response(allow_1xx=True)
    eq(r.status, 100, "first response status")
    check(time.time() - t0 < 1.0, "100 Continue took %.2f s" % (time.time() - t0))
    check(r.version == "HTTP/1.1", "100 Continue version %r" % r.version)
    s.sendall(b"hello world")
    r = rd.read_response()
    eq(r.status, 200, "final status")
    j = r.json()
    eq(j["body_len"], 11, "body length at the backend")
    eq(j["body_sha256"], hashlib.sha256(b"hello world").hexdigest(), "sha256 at the backend")
    eq(header_values(j["headers"], "expect"), [], "Expect at the backend")


# ---- splice: long plain bodies go backend -> pipe -> client (SPLICE_PIPES 4 here) ----

STATS_PORT = 18099
SPLICE_RX = re.compile(rb"^splice: (\d+) of the bytes in, (\d+) of those out; (\d+) of (\d+) "
                       rb"pipes busy$", re.M)


def splice_stats(direction="out"):
    """(bytes spliced so far toward the client, or with direction "in" toward the
    backend; pipes busy; pipes in the pool) from the stats summary."""
    r, rd = roundtrip(request("GET", "/"), port=STATS_PORT)
    rd.sock.close()
    m = SPLICE_RX.search(r.body)
    check(m, "no splice line in the stats summary: %s" % short(r.body, 400))
    g = [int(x) for x in m.groups()]
    return (g[0] if direction == "in" else g[1], g[2], g[3])


def wait_pipes_idle(what, wait=2.0, direction="out"):
    """splice_stats once no pipe is busy (a cut-off connection gives its pipe back as
    the close is seen); fails if one stays busy."""
    end = time.time() + wait
    while True:
        st = splice_stats(direction)
        if st[1] == 0 or time.time() > end:
            eq(st[1], 0, "pipes busy %s" % what)
            return st
        time.sleep(0.05)


def get_hashed(s, rd, target):
    """GET target on the connection: the response head and (length, sha256) of its body."""
    s.sendall(request("GET", target))
    r = rd.read_head()
    return r, rd.read_body_hash(r)


def test_splice_long_bodies_keep_alive_hash_and_counter(px):
    """Two long bodies and a short one on one connection: every byte right (sha256), the
    long ones spliced (the counter grows by all but the first buffer's worth), the short
    one not, and the pipe given back after each."""
    spliced0, busy, pipes = wait_pipes_idle("before")
    eq(pipes, 4, "pipes in the pool (SPLICE_PIPES)")
    s = connect(timeout=10)
    rd = Reader(s)
    for n in (5 * SLICE + 12345, 100000, 777):
        r, got = get_hashed(s, rd, "/api/bytes/%d" % n)
        eq(r.status, 200, "status of /bytes/%d" % n)
        eq(got, (n, pattern_sha(n)), "length and sha256 of /bytes/%d" % n)
    spliced1, busy, _ = wait_pipes_idle("after three responses")
    grew = spliced1 - spliced0
    least = 5 * SLICE + 12345 + 100000 - 2 * 16384
    check(least <= grew <= 5 * SLICE + 12345 + 100000,
          "spliced bytes grew by %d; expected %d..%d (the long bodies less a buffer each)" % (
              grew, least, 5 * SLICE + 12345 + 100000))
    expect_open(s, rd, what="keep-alive connection after the spliced bodies")
    s.close()


def test_splice_pipelined_requests_answered_in_order(px):
    """Three requests sent at once: a long body (spliced), a short one, a long one again;
    each response whole and in order, the short one never overtaking the pipe's bytes."""
    s = connect(timeout=10)
    rd = Reader(s)
    sizes = (3 * SLICE + 1, 10, SLICE + 99)
    s.sendall(b"".join(request("GET", "/api/bytes/%d" % n) for n in sizes))
    for n in sizes:
        r = rd.read_head()
        eq(r.status, 200, "status of /bytes/%d" % n)
        eq(rd.read_body_hash(r), (n, pattern_sha(n)), "length and sha256 of /bytes/%d" % n)
    wait_pipes_idle("after the pipelined responses")
    s.close()


def test_splice_backend_pause_mid_body(px):
    """The backend sends half of a long body, waits, sends the rest: the empty pipe waits
    on the backend socket and the body arrives whole."""
    n = 2 * SLICE + 5
    s = connect(timeout=10)
    rd = Reader(s)
    eq(get_hashed(s, rd, "/api/bytes/%d?pause=300" % n)[1], (n, pattern_sha(n)),
       "length and sha256 after the pause")
    s.sendall(request("GET", "/api/bytes/100"))
    r = rd.read_response()
    eq((r.status, r.body), (200, bytes(PATTERN[:100])), "next response on the connection")
    s.close()


def read_to_close(s, rd):
    """Bytes until the peer closes or resets, after what the reader holds."""
    got = bytearray(rd.buf)
    rd.buf.clear()
    while True:
        try:
            d = s.recv(SLICE)
        except ConnectionResetError:
            break
        if not d:
            break
        got += d
    return bytes(got)


def test_splice_cut_off_bodies_give_their_pipes_back(px):
    """Six long bodies the backend cuts off (closed or reset) mid-way, more than the pool
    has pipes: each client gets a prefix of the right bytes and a broken connection, a
    log line says why, every pipe comes back emptied (the next long body is spliced and
    carries none of the dropped bytes)."""
    n, cut = 4 * SLICE, 300000
    for i in range(6):
        s = connect(timeout=10)
        rd = Reader(s)
        s.sendall(request("GET", "/api/bytes/%d?cut=%d%s" % (n, cut, "&rst=1" if i % 2 else "")))
        r = rd.read_head()
        eq(r.status, 200, "status of the cut-off response")
        got = read_to_close(s, rd)
        check(16384 < len(got) <= cut, "cut-off body %d: %d bytes arrived, expected 16385..%d" % (
            i, len(got), cut))
        eq(hashlib.sha256(got).hexdigest(), pattern_sha(len(got)),
           "sha256 of the %d bytes before the cut" % len(got))
        s.close()
    spliced0, busy, pipes = wait_pipes_idle("after the cut-off bodies")
    eq(pipes, 4, "pipes left in the pool (one that cannot be emptied is closed)")
    check("backend closed in the middle of the body" in px.log(),
          "no log line for the backend that closed mid-body")
    m = 3 * SLICE + 3
    s = connect(timeout=10)
    rd = Reader(s)
    eq(get_hashed(s, rd, "/api/bytes/%d" % m)[1], (m, pattern_sha(m)),
       "length and sha256 of the next long body")
    check(splice_stats()[0] - spliced0 >= m - 16384, "the next long body was not spliced")
    s.close()


def slow_download(n, wait):
    """A client with an 8 KiB receive buffer that asks for n pattern bytes: (socket, reader)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    s.settimeout(wait)
    s.connect(("127.0.0.1", 18080))
    s.sendall(request("GET", "/api/bytes/%d" % n))
    return s, Reader(s)


@timeout(120)
def test_splice_slow_readers_more_than_pipes(px):
    """Six clients read 24 MiB bodies slowly, two more than the pool has pipes: four
    bodies hold the four pipes, the other two go through their buffers, a short request
    on another connection is answered at once meanwhile, and every body arrives whole."""
    n = 24 * SLICE
    socks = []
    for _ in range(6):
        socks.append(slow_download(n, 20) + (hashlib.sha256(),))
    heads = [rd.read_head() for s, rd, h in socks]
    for (s, rd, h), r in zip(socks, heads):
        eq(r.status, 200, "status of a slow reader's response")
        h.update(rd.read_exact(SLICE, "a slow reader's first MiB"))
    end = time.time() + 3
    while splice_stats()[1] < 4 and time.time() < end:
        time.sleep(0.05)
    eq(splice_stats()[1:], (4, 4), "pipes busy of the pool while six long bodies stall")
    t0 = time.time()
    r = get("/api/bytes/50")
    eq((r.status, r.body), (200, bytes(PATTERN[:50])), "short request beside the slow readers")
    check(time.time() - t0 < 1.0, "short request took %.2f s" % (time.time() - t0))
    for s, rd, h in socks:
        left = n - SLICE
        while left:
            d = rd.read_exact(min(left, SLICE), "a slow reader's body")
            h.update(d)
            left -= len(d)
        eq(h.hexdigest(), pattern_sha(n), "sha256 of a slow reader's 24 MiB")
        s.close()
    wait_pipes_idle("after the slow readers")


def test_splice_client_gone_mid_body_pipe_emptied(px):
    """Four clients stop reading 24 MiB bodies (their pipes fill), then reset: each pipe
    goes back with bytes in it, is emptied, and the long bodies after carry none of them."""
    n = 24 * SLICE
    socks = []
    for _ in range(4):
        socks.append(slow_download(n, 10))
    for s, rd in socks:
        eq(rd.read_head().status, 200, "status of a stalled reader's response")
        rd.read_exact(SLICE, "a stalled reader's first MiB")
    time.sleep(0.5)             # the backend fills the pipes while nobody reads
    eq(splice_stats()[1], 4, "pipes busy while four long bodies stall")
    for s, rd in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    wait_pipes_idle("after the resets")
    check(px.log().count("client went away") >= 4, "no log line for each client that left")
    for _ in range(4):
        m = 2 * SLICE + 17
        r, rd = roundtrip(request("GET", "/api/bytes/%d" % m), timeout=10)
        eq((len(r.body), hashlib.sha256(r.body).hexdigest()), (m, pattern_sha(m)),
           "length and sha256 of a long body after the resets")
        rd.sock.close()
    eq(splice_stats()[2], 4, "pipes in the pool after the resets")


def upload(s, rd, n, target="/api/upload"):
    """POSTs n pattern bytes with a Content-Length; returns the backend's JSON answer."""
    s.sendall(request("POST", target, content_length=n))
    send_pattern(s, n)
    r = rd.read_response()
    eq(r.status, 200, "status of a %d-byte upload" % n)
    return r.json()


def test_splice_long_uploads_keep_alive_hash_and_counter(px):
    """A long upload, a short one, a long one again on one connection: the backend gets
    every byte (sha256), the long bodies go client -> pipe -> backend (the counter grows
    by all but a buffer's worth each), the short one through the buffer."""
    spliced0 = wait_pipes_idle("before", direction="in")[0]
    s = connect(timeout=10)
    rd = Reader(s)
    sizes = (5 * SLICE + 3, 1000, 2 * SLICE)
    for n in sizes:
        j = upload(s, rd, n)
        eq((j["body_len"], j["body_sha256"]), (n, pattern_sha(n)),
           "length and sha256 of a %d-byte upload at the backend" % n)
    grew = wait_pipes_idle("after three uploads", direction="in")[0] - spliced0
    long_bytes = sizes[0] + sizes[2]
    check(long_bytes - 2 * 16384 <= grew <= long_bytes,
          "bytes spliced toward the backend grew by %d; expected %d..%d" % (
              grew, long_bytes - 2 * 16384, long_bytes))
    expect_open(s, rd, what="keep-alive connection after the spliced uploads")
    s.close()


@timeout(60)
def test_splice_backend_stops_reading_upload_pipe_emptied(px):
    """Two long uploads whose backend reads 100 kB and closes unanswered while the pipe
    holds more: each client gets a 502 (or its connection cut), a log line says why, the
    pipes come back emptied: the uploads after reach the backend with none of the old
    bytes (sha256). The backend is left out for T_DOWN (1 s) after each failure."""
    n = 24 * SLICE
    for _ in range(2):
        s = connect(timeout=10)
        s.sendall(request("POST", "/api/upload?take=100000", content_length=n))
        try:
            send_pattern(s, n)
            r = Reader(s).read_response()
            eq(r.status, 502, "status when the backend stopped reading the upload")
        except (BrokenPipeError, ConnectionResetError):
            pass                # cut off while sending: as good an answer
        s.close()
        time.sleep(1.1)         # the backend is back in the pool
    wait_pipes_idle("after the backends stopped reading")
    log = px.log()
    check("backend closed before responding" in log or "Broken pipe" in log or
          "Connection reset" in log, "no log line for the backend that stopped reading")
    s = connect(timeout=10)
    rd = Reader(s)
    for _ in range(4):
        m = 2 * SLICE + 17
        j = upload(s, rd, m)
        eq((j["body_len"], j["body_sha256"]), (m, pattern_sha(m)),
           "length and sha256 at the backend of an upload after the failures")
    s.close()
    eq(splice_stats()[2], 4, "pipes in the pool after the failures")
