"""Forwarding, header rewriting and routing: what reaches which backend, and how."""
import signal

from harness import (HOST6, blog, check, connect, curl_ok, eq, expect_backends_untouched,
                     expect_closed, get, header_names, header_values, only_entry, Reader,
                     request)

WEB = ("web1", "web2")
WEB_ADDRS = ("127.0.0.1:19001", "127.0.0.1:19002")


def web_entry(what):
    """The single request that reached web1 or web2."""
    logs = {n: blog(n) for n in WEB}
    got = [(n, e) for n in WEB for e in logs[n]]
    check(len(got) == 1, "%s: web backends received %d requests, want 1: %r" % (
        what, len(got), [(n, e.get("target")) for n, e in got]))
    return got[0]


def test_basic_get_via_curl(px):
    r = curl_ok("/echo/basic?x=1")
    j = r.json()
    check(j["name"] in WEB, "answered by %r, want web1 or web2" % j["name"])
    eq(j["method"], "GET", "method the backend saw")
    eq(j["target"], "/echo/basic?x=1", "target the backend saw")
    eq(j["version"], "HTTP/1.1", "version the backend saw")
    name, e = web_entry("basic GET")
    eq(name, j["name"], "backend that logged the request")
    eq(blog("api") + blog("hosted"), [], "requests at api/hosted")
    a = px.wait_access(200, "GET /echo/basic?x=1")
    eq(a["client"], "127.0.0.1", "access line client")
    check(a["backend"] in WEB_ADDRS, "access line backend %r, want a web backend" % a["backend"])
    eq(a["host"], "127.0.0.1:18080", "access line host")


def test_sigint_exits_zero(px):
    curl_ok("/echo")
    px.stopped_by_test = True
    rc, problem = px.stop(sig=signal.SIGINT)
    check(problem is None, "on SIGINT: %s" % problem)
    eq(rc, 0, "exit status on SIGINT")


def test_forwarding_headers_added_once(px):
    r = curl_ok("/echo", "-H", "X-Forwarded-For: 10.1.2.3")
    h = r.json()["headers"]
    xff = header_values(h, "x-forwarded-for")
    eq(len(xff), 1, "number of X-Forwarded-For fields (%r)" % xff)
    eq([p.strip() for p in xff[0].split(",")], ["10.1.2.3", "127.0.0.1"],
       "X-Forwarded-For elements")
    eq(header_values(h, "x-forwarded-proto"), ["http"], "X-Forwarded-Proto fields")
    eq(header_values(h, "x-forwarded-host"), ["127.0.0.1:18080"], "X-Forwarded-Host fields")
    eq(header_values(h, "via"), ["1.1 pollux"], "Via fields")
    eq(header_values(h, "host"), ["127.0.0.1:18080"], "Host fields")


def test_forwarded_for_is_client_ip_when_client_sent_none(px):
    h = curl_ok("/echo").json()["headers"]
    eq(header_values(h, "x-forwarded-for"), ["127.0.0.1"], "X-Forwarded-For fields")


def test_client_forwarded_proto_and_host_replaced(px):
    h = curl_ok("/echo", "-H", "X-Forwarded-Proto: https", "-H",
                "X-Forwarded-Host: evil.example").json()["headers"]
    eq(header_values(h, "x-forwarded-proto"), ["http"], "X-Forwarded-Proto fields")
    eq(header_values(h, "x-forwarded-host"), ["127.0.0.1:18080"], "X-Forwarded-Host fields")


def test_hop_by_hop_request_fields_stripped(px):
    s = connect()
    s.sendall(request("GET", "/echo", headers=[
        ("Connection", "close, X-Foo"), ("X-Foo", "bar"), ("Keep-Alive", "timeout=5"),
        ("TE", "trailers"), ("Trailer", "X-T"), ("Proxy-Connection", "keep-alive"),
        ("Upgrade", "h2c"), ("X-Keep", "1")]))
    rd = Reader(s)
    r = rd.read_response()
    eq(r.status, 200, "status")
    h = r.json()["headers"]
    names = header_names(h)
    for n in ("x-foo", "keep-alive", "te", "trailer", "proxy-connection", "upgrade"):
        check(n not in names, "backend received hop-by-hop field %r: %r" % (n, h))
    for v in header_values(h, "connection"):
        toks = [t.strip().lower() for t in v.split(",")]
        check(set(toks) <= {"close", "keep-alive"},
              "backend received Connection: %r (client's options leaked)" % v)
    eq(header_values(h, "x-keep"), ["1"], "end-to-end field X-Keep")
    expect_closed(s, rd, what="client connection after Connection: close")


def test_hop_by_hop_response_fields_stripped(px):
    r = get("/hop")
    eq(r.status, 200, "status")
    eq(r.body, b"hop\n", "body")
    names = [n.lower() for n, _ in r.headers]
    for n in ("x-bar", "keep-alive", "proxy-connection"):
        check(n not in names, "client received hop-by-hop field %r: %r" % (n, r.headers))
    for v in r.header_all("connection"):
        check("x-bar" not in v.lower(), "client received Connection: %r" % v)
    eq(r.header_all("x-end"), ["kept"], "end-to-end field X-End")


def test_prefix_route_strips_prefix(px):
    j = curl_ok("/api/x?q=1").json()
    eq(j["name"], "api", "backend")
    eq(j["target"], "/x?q=1", "target at the backend")
    e = only_entry("api", "/api/x?q=1")
    eq(e["target"], "/x?q=1", "target in api's log")
    eq(blog("web1") + blog("web2"), [], "requests at web")


def test_prefix_route_matches_whole_prefix_only(px):
    j = curl_ok("/apix").json()
    check(j["name"] in WEB, "/apix answered by %r, want web" % j["name"])
    eq(j["target"], "/apix", "target at the backend")
    eq(blog("api"), [], "requests at api")


def test_host_route_api(px):
    j = curl_ok("/echo/h", "-H", "Host: api.test").json()
    eq(j["name"], "api", "backend for Host: api.test")
    eq(j["target"], "/echo/h", "target (no strip on host routes)")
    eq(header_values(j["headers"], "host"), ["api.test"], "Host at the backend")
    eq(blog("web1") + blog("web2"), [], "requests at web")


def test_host_route_wildcard_to_ipv6_backend(px):
    j = curl_ok("/echo/w", "-H", "Host: a.wild.test").json()
    eq(j["name"], "hosted", "backend for Host: a.wild.test")
    eq(j["target"], "/echo/w", "target")
    only_entry("hosted", "a.wild.test")
    a = px.wait_access(200, "/echo/w")
    check("::1" in a["backend"] and "19004" in a["backend"],
          "access line backend %r, want [::1]:19004" % a["backend"])


def test_host_with_port_routes_by_name(px):
    j = curl_ok("/echo", "-H", "Host: api.test:18080").json()
    eq(j["name"], "api", "backend for Host: api.test:18080")
    eq(header_values(j["headers"], "x-forwarded-host"), ["api.test:18080"],
       "X-Forwarded-Host")


def test_host_match_is_case_insensitive(px):
    j = curl_ok("/echo", "-H", "Host: API.Test").json()
    eq(j["name"], "api", "backend for Host: API.Test")


def test_unknown_host_404_reaches_no_backend(px):
    r = curl_ok("/echo", "-H", "Host: nope.test", status=404)
    check(r.body, "404 has an empty body")
    expect_backends_untouched("Host: nope.test")
    a = px.wait_access(404, "GET /echo")
    eq(a["backend"], "-", "access line backend for a 404")
    eq(a["host"], "nope.test", "access line host")


def test_route_adds_and_removes_headers(px):
    r = curl_ok("/hdr", "-H", "x-secret: s3cret", "-H", "User-Agent: agent/1",
                "-H", "X-Other: o")
    h = r.json()["headers"]
    eq(header_values(h, "x-added"), ["yes"], "X-Added fields")
    eq(header_values(h, "x-route"), ["hdr"], "X-Route fields")
    eq(header_values(h, "x-secret"), [], "X-Secret fields (removed, sent in lower case)")
    eq(header_values(h, "user-agent"), [], "User-Agent fields")
    eq(header_values(h, "x-other"), ["o"], "X-Other fields")
    eq(header_values(h, "via"), ["1.1 pollux"], "Via next to route fields")


def test_other_routes_keep_fields_and_add_none(px):
    h = curl_ok("/echo", "-H", "X-Secret: s", "-H", "User-Agent: agent/1").json()["headers"]
    eq(header_values(h, "x-secret"), ["s"], "X-Secret on a plain route")
    eq(header_values(h, "user-agent"), ["agent/1"], "User-Agent on a plain route")
    eq(header_values(h, "x-added"), [], "X-Added on a plain route")


def test_round_robin_alternates_web1_web2(px):
    names = [get("/echo?i=%d" % i).json()["name"] for i in range(6)]
    check(set(names) == set(WEB), "backends used: %r" % names)
    for a, b in zip(names, names[1:]):
        check(a != b, "round robin repeated a backend: %r" % names)
    eq(len(blog("web1")) + len(blog("web2")), 6, "requests at web")


def test_ipv6_listener(px):
    s = connect(HOST6)
    s.sendall(request("GET", "/echo/v6", host="localhost"))
    r = Reader(s).read_response()
    eq(r.status, 200, "status over IPv6")
    j = r.json()
    check(j["name"] in WEB, "backend %r" % j["name"])
    eq(header_values(j["headers"], "x-forwarded-for"), ["::1"], "X-Forwarded-For over IPv6")
    a = px.wait_access(200, "/echo/v6")
    check("::1" in a["client"], "access line client %r, want ::1" % a["client"])
