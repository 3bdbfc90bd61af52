/*
 * test_fwd.c: fwd.h against its contract. Each case puts a head and the body bytes read
 * behind it into a buffer of exactly cap bytes (ASan sees any write past it), parses the
 * head, rewrites it, and then checks the result the way the next hop would see it: the
 * new head must frame and parse again, and the body bytes must follow it unchanged.
 */
#include <stdint.h>

#include "fwd.h"
#include "http.h"
#include "t.h"

#define NF 128

static struct http_field inf[NF], outf[NF];
static struct http_msg in, out;
static char *buf;               /* the buffer being rewritten, cap bytes */
static size_t cap, head_n, tail_n, out_n;
static char *tail;              /* a copy of the tail, to compare */

static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* puts head and tail into a fresh buffer of bufcap bytes and parses the head */
static void load_msg(const char *head, const char *t, size_t tlen, size_t bufcap, int resp,
    int method)
{
	size_t scan = 0;

	head_n = strlen(head);
	tail_n = tlen;
	cap = bufcap;
	free(buf);
	free(tail);
	buf = malloc(cap ? cap : 1);
	tail = malloc(tlen ? tlen : 1);
	CHECK(buf && tail);
	CHECK(head_n + tlen <= cap);
	memset(buf, 0xee, cap);
	memcpy(buf, head, head_n);
	if (tlen) {
		memcpy(buf + head_n, t, tlen);
		memcpy(tail, t, tlen);
	}
	T_NOTE(head, head_n);
	CHECK_EQ(http_head_len(buf, head_n + tlen, &scan), head_n);
	memset(&in, 0, sizeof in);
	in.f = inf;
	in.fcap = NF;
	if (resp)
		CHECK_EQ(http_parse_response(buf, head_n, method, &in), S_NONE);
	else
		CHECK_EQ(http_parse_request(buf, head_n, &in), S_NONE);
}
#define LOAD(head, t, tlen, c) CALL(load_msg(head, t, tlen, c, 0, 0))
#define LOAD_RESP(head, t, tlen, c) CALL(load_msg(head, t, tlen, c, 1, M_GET))

/* the rewritten head frames exactly, parses again, and the tail follows it unchanged */
static void reparse(int resp, int method)
{
	size_t scan = 0, k;
	long r = 0;

	if (out_n == 0) {
		t_fail(__FILE__, __LINE__, "rewrite returned 0 (cap %zu, head %zu, tail %zu)", cap,
		    head_n, tail_n);
		return;
	}
	CHECK(out_n + tail_n <= cap);
	T_NOTE(buf, out_n);
	CHECK_EQ(http_head_len(buf, out_n + tail_n, &scan), out_n);
	scan = 0;
	for (k = 1; k <= out_n && r == 0; k++)
		r = http_head_len(buf, k, &scan);
	CHECK_EQ(r, out_n);
	CHECK_EQ(k - 1, out_n);
	memset(&out, 0, sizeof out);
	out.f = outf;
	out.fcap = NF;
	if (resp)
		CHECK_EQ(http_parse_response(buf, out_n, method, &out), S_NONE);
	else
		CHECK_EQ(http_parse_request(buf, out_n, &out), S_NONE);
	if (tail_n && memcmp(buf + out_n, tail, tail_n) != 0) {
		for (k = 0; k < tail_n && buf[out_n + k] == tail[k]; k++)
			;
		t_fail(__FILE__, __LINE__, "tail of %zu bytes differs from byte %zu on", tail_n, k);
	}
}

static void run_req(const struct fwd_req *o)
{
	out_n = fwd_request(buf, cap, tail_n, &in, o);
	CALL(reparse(0, 0));
}

static void run_resp(const struct fwd_resp *o)
{
	out_n = fwd_response(buf, cap, tail_n, &in, o);
	CALL(reparse(1, M_GET));
}

#define SPAN(sp, s) do { \
	CHECK((size_t)(sp).off + (sp).len <= out_n); \
	CHECK_MEM(buf + (sp).off, (sp).len, s); \
} while (0)

static int named(int i, const char *name)
{
	size_t n = strlen(name);

	return out.f[i].name.len == n && strncasecmp(buf + out.f[i].name.off, name, n) == 0;
}

/* fields of the new head named name */
static int count(const char *name)
{
	int i, c = 0;

	for (i = 0; i < out.nf; i++)
		c += named(i, name);
	return c;
}

/* the values of all fields named name joined with ", " (RFC 9110 5.3), NULL for none */
static const char *joined(const char *name)
{
	static char v[8192];
	size_t o = 0;
	int i, any = 0;

	for (i = 0; i < out.nf; i++) {
		if (!named(i, name))
			continue;
		o += (size_t)snprintf(v + o, sizeof v - o, "%s%.*s", any ? ", " : "",
		    (int)out.f[i].value.len, buf + out.f[i].value.off);
		any = 1;
	}
	return any ? v : NULL;
}

/* 1 when some field named name has tok in its list */
static int has_token(const char *name, const char *tok)
{
	int i;

	for (i = 0; i < out.nf; i++)
		if (named(i, name) &&
		    http_has_token(buf + out.f[i].value.off, out.f[i].value.len, tok))
			return 1;
	return 0;
}

/* ---- fwd_request: one head with everything in it ---------------------------------- */

static const char *const main_add[] = { "X-Route: api", "X-Added: yes", NULL };
static const char *const main_del[] = { "X-SECRET", "Not-There", NULL };

static void main_fixture(void)
{
	static const char head[] =
	    "GET /api/x?q=1 HTTP/1.1\r\n"
	    "Host: app.test\r\n"
	    "User-Agent: t/1\r\n"
	    "Connection: keep-alive, X-Hop\r\n"
	    "X-Hop: secret\r\n"
	    "Keep-Alive: timeout=5\r\n"
	    "TE: trailers\r\n"
	    "Trailer: X-T\r\n"
	    "Proxy-Connection: keep-alive\r\n"
	    "Upgrade: h2c\r\n"
	    "Expect: 100-continue\r\n"
	    "X-Forwarded-For: 1.2.3.4\r\n"
	    "X-Forwarded-Proto: gopher\r\n"
	    "X-Forwarded-Host: evil.test\r\n"
	    "Via: 1.0 fred\r\n"
	    "X-Secret: 1\r\n"
	    "Accept: */*\r\n"
	    "x-secret: 2\r\n"
	    "X-Secret-Other: keep\r\n"
	    "Cookie: a=b; c=d\r\n"
	    "\r\n";
	struct fwd_req o = {
		.client_ip = "10.0.0.9", .proto = "https", .strip = 4,
		.add = main_add, .del = main_del,
	};

	LOAD(head, "", 0, 4096);
	CALL(run_req(&o));
}

static void fwd_req_line_strip(void)
{
	CALL(main_fixture());
	SPAN(out.line, "GET /x?q=1 HTTP/1.1");
	CHECK_EQ(out.version, 11);
	CHECK_EQ(out.method, M_GET);
}

static void fwd_req_hop_removed(void)
{
	static const char *const gone[] = {
		"X-Hop", "Keep-Alive", "TE", "Trailer", "Proxy-Connection", "Upgrade",
	};
	size_t i;

	CALL(main_fixture());
	for (i = 0; i < sizeof gone / sizeof gone[0]; i++) {
		T_NOTES(gone[i]);
		CHECK_EQ(count(gone[i]), 0);
	}
	CHECK(!has_token("Connection", "x-hop"));
	CHECK(!has_token("Connection", "upgrade"));
	CHECK(!(out.flags & HF_UPGRADE));
}

static void fwd_req_expect_removed(void)
{
	CALL(main_fixture());
	CHECK_EQ(count("Expect"), 0);
	CHECK(!(out.flags & (HF_EXPECT_100 | HF_EXPECT_OTHER)));
}

static void fwd_req_xff_appended(void)
{
	CALL(main_fixture());
	CHECK_STR(joined("X-Forwarded-For"), "1.2.3.4, 10.0.0.9");
}

static void fwd_req_xfp_xfh_set(void)
{
	CALL(main_fixture());
	CHECK_EQ(count("X-Forwarded-Proto"), 1);
	CHECK_STR(joined("X-Forwarded-Proto"), "https");
	CHECK_EQ(count("X-Forwarded-Host"), 1);
	CHECK_STR(joined("X-Forwarded-Host"), "app.test");
}

static void fwd_req_via_appended(void)
{
	CALL(main_fixture());
	CHECK_STR(joined("Via"), "1.0 fred, 1.1 pollux");
}

static void fwd_req_route_add_del(void)
{
	CALL(main_fixture());
	CHECK_EQ(count("X-Route"), 1);
	CHECK_STR(joined("X-Route"), "api");
	CHECK_STR(joined("X-Added"), "yes");
	CHECK_EQ(count("X-Secret"), 0);
	CHECK_STR(joined("X-Secret-Other"), "keep");
}

static void fwd_req_others_kept(void)
{
	CALL(main_fixture());
	CHECK_EQ(count("Host"), 1);
	CHECK_STR(joined("Host"), "app.test");
	SPAN(out.host, "app.test");
	CHECK_STR(joined("User-Agent"), "t/1");
	CHECK_STR(joined("Accept"), "*/*");
	CHECK_STR(joined("Cookie"), "a=b; c=d");
	CHECK_EQ(count("Cookie"), 1);
	CHECK_EQ(out.framing, HB_NONE);
}

/* ---- fwd_request: one thing at a time --------------------------------------------- */

static const struct fwd_req plain = { .client_ip = "10.0.0.9", .proto = "http" };

static void fwd_req_xff_new(void)
{
	LOAD("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "", 0, 1024);
	CALL(run_req(&plain));
	CHECK_EQ(count("X-Forwarded-For"), 1);
	CHECK_STR(joined("X-Forwarded-For"), "10.0.0.9");
	CHECK_STR(joined("X-Forwarded-Proto"), "http");
	CHECK_STR(joined("X-Forwarded-Host"), "a");
	CHECK_STR(joined("Via"), "1.1 pollux");
	SPAN(out.line, "GET / HTTP/1.1");
}

static void fwd_req_xff_multi(void)
{
	struct fwd_req o = { .client_ip = "2001:db8::7", .proto = "http" };

	LOAD("GET / HTTP/1.1\r\nX-Forwarded-For: 1.1.1.1\r\nHost: a\r\n"
	    "x-forwarded-for: 2.2.2.2, 3.3.3.3\r\n\r\n", "", 0, 1024);
	CALL(run_req(&o));
	CHECK_STR(joined("X-Forwarded-For"), "1.1.1.1, 2.2.2.2, 3.3.3.3, 2001:db8::7");
	CHECK_EQ(count("X-Forwarded-Proto"), 1);
	CHECK_EQ(count("X-Forwarded-Host"), 1);
	CHECK_EQ(count("Via"), 1);
}

/* an empty X-Forwarded-For does not leave an empty first element behind */
static void fwd_req_xff_empty(void)
{
	LOAD("GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: \r\n\r\n", "", 0, 1024);
	CALL(run_req(&plain));
	CHECK_STR(joined("X-Forwarded-For"), "10.0.0.9");
}

/* RFC 9112 2.2: empty lines before the request line are not forwarded */
static void fwd_req_leading_crlf(void)
{
	LOAD("\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n", "", 0, 1024);
	CALL(run_req(&plain));
	SPAN(out.line, "GET /x HTTP/1.1");
	CHECK_EQ(out.line.off, 0);
}

/* a full head (64 fields, every other one dropped) and several route lines still fit */
static void fwd_req_many_fields(void)
{
	static const char *const add[] = {
		"X-A1: 1", "X-A2: 2", "X-A3: 3", "X-A4: 4", "X-A5: 5", "X-A6: 6", "X-A7: 7",
		"X-A8: 8", NULL,
	};
	static const char *const del[] = { "X-Del-1", "X-Del-3", NULL };
	static char head[8192];
	struct fwd_req o = plain;
	char name[32];
	size_t k = 0;
	int i;

	k += (size_t)snprintf(head + k, sizeof head - k, "GET / HTTP/1.1\r\nHost: a\r\n"
	    "Connection: keep-alive");
	for (i = 0; i < 31; i++)
		k += (size_t)snprintf(head + k, sizeof head - k, ", X-Drop-%d", i);
	k += (size_t)snprintf(head + k, sizeof head - k, "\r\n");
	for (i = 0; i < 31; i++)
		k += (size_t)snprintf(head + k, sizeof head - k, "X-Keep-%d: %d\r\nX-Drop-%d: %d\r\n",
		    i, i, i, i);
	k += (size_t)snprintf(head + k, sizeof head - k, "X-Del-1: x\r\n\r\n");
	o.add = add;
	o.del = del;
	LOAD(head, "tail", 4, 16384);
	CHECK_EQ(in.nf, 65);
	CALL(run_req(&o));
	for (i = 0; i < 31; i++) {
		snprintf(name, sizeof name, "X-Keep-%d", i);
		T_NOTES(name);
		CHECK_EQ(count(name), 1);
		snprintf(name, sizeof name, "X-Drop-%d", i);
		CHECK_EQ(count(name), 0);
	}
	CHECK_EQ(count("X-Del-1"), 0);
	CHECK_STR(joined("X-A8"), "8");
}

static void fwd_req_xfp_xfh_many(void)
{
	LOAD("GET / HTTP/1.1\r\nX-Forwarded-Proto: https\r\nHost: real.test\r\n"
	    "X-Forwarded-Host: a\r\nX-Forwarded-Proto: ftp\r\nX-Forwarded-Host: b\r\n\r\n",
	    "", 0, 1024);
	CALL(run_req(&plain));
	CHECK_EQ(count("X-Forwarded-Proto"), 1);
	CHECK_STR(joined("X-Forwarded-Proto"), "http");
	CHECK_EQ(count("X-Forwarded-Host"), 1);
	CHECK_STR(joined("X-Forwarded-Host"), "real.test");
}

static void strip_case(const char *head, size_t strip, const char *line)
{
	struct fwd_req o = plain;

	o.strip = strip;
	LOAD(head, "", 0, 1024);
	CALL(run_req(&o));
	SPAN(out.line, line);
}

static void fwd_req_strip_edges(void)
{
	CALL(strip_case("GET /api HTTP/1.1\r\nHost: a\r\n\r\n", 4, "GET / HTTP/1.1"));
	CALL(strip_case("GET /api?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", 4, "GET /?q=1 HTTP/1.1"));
	CALL(strip_case("GET /api/ HTTP/1.1\r\nHost: a\r\n\r\n", 4, "GET / HTTP/1.1"));
	CALL(strip_case("GET /api/a/b/ HTTP/1.1\r\nHost: a\r\n\r\n", 4, "GET /a/b/ HTTP/1.1"));
	CALL(strip_case("GET /api/x HTTP/1.1\r\nHost: a\r\n\r\n", 0, "GET /api/x HTTP/1.1"));
	CALL(strip_case("DELETE /api/v1/x HTTP/1.1\r\nHost: a\r\n\r\n", 7, "DELETE /x HTTP/1.1"));
}

static void fwd_req_http10(void)
{
	struct fwd_req o = plain;

	o.http10 = 1;
	LOAD("GET /a HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\nX-A: 1\r\n\r\n", "", 0,
	    1024);
	CALL(run_req(&o));
	SPAN(out.line, "GET /a HTTP/1.0");
	CHECK_EQ(out.version, 10);
	CHECK_STR(joined("X-A"), "1");
	CHECK_STR(joined("X-Forwarded-For"), "10.0.0.9");
	CHECK_EQ(count("Via"), 1);
	CHECK(joined("Via") && strstr(joined("Via"), " pollux") != NULL);
}

/* HTTP/1.0 may come without Host; what goes on must still be a valid 1.0 request */
static void fwd_req_http10_no_host(void)
{
	struct fwd_req o = plain;

	o.http10 = 1;
	LOAD("POST /a HTTP/1.0\r\nContent-Length: 3\r\n\r\n", "abc", 3, 1024);
	CALL(run_req(&o));
	SPAN(out.line, "POST /a HTTP/1.0");
	CHECK_EQ(out.framing, HB_LENGTH);
	CHECK_EQ(out.length, 3);
}

static void fwd_req_absolute(void)
{
	LOAD("GET http://app.test:8080/p?q HTTP/1.1\r\nHost: app.test:8080\r\n\r\n", "", 0, 1024);
	CALL(run_req(&plain));
	SPAN(out.line, "GET /p?q HTTP/1.1");
	CHECK(!(out.flags & HF_ABSOLUTE));
	CHECK_EQ(count("Host"), 1);
	CHECK_STR(joined("Host"), "app.test:8080");
	CHECK_STR(joined("X-Forwarded-Host"), "app.test:8080");
}

static void fwd_req_absolute_strip(void)
{
	struct fwd_req o = plain;

	o.strip = 4;
	LOAD("GET http://app.test/api/x?y HTTP/1.1\r\nHost: app.test\r\n\r\n", "", 0, 1024);
	CALL(run_req(&o));
	SPAN(out.line, "GET /x?y HTTP/1.1");
}

/* RFC 9112 3.2.2: the authority of an absolute-form target wins over Host, and a client
 * must send a Host identical to it: the backend sees the host pollux routed on */
static void fwd_req_absolute_host_mismatch(void)
{
	LOAD("GET http://app.test:8080/p HTTP/1.1\r\nHost: other.test\r\n\r\n", "", 0, 1024);
	CALL(run_req(&plain));
	SPAN(out.line, "GET /p HTTP/1.1");
	CHECK_EQ(count("Host"), 1);
	CHECK_STR(joined("Host"), "app.test:8080");
	CHECK_STR(joined("X-Forwarded-Host"), "app.test:8080");
}

/* RFC 9112 3.2.1: an empty path goes on as "/" */
static void fwd_req_absolute_no_path(void)
{
	LOAD("GET http://app.test HTTP/1.1\r\nHost: app.test\r\n\r\n", "", 0, 1024);
	CALL(run_req(&plain));
	SPAN(out.line, "GET / HTTP/1.1");
	LOAD("GET http://app.test?q=1 HTTP/1.1\r\nHost: app.test\r\n\r\n", "", 0, 1024);
	CALL(run_req(&plain));
	SPAN(out.line, "GET /?q=1 HTTP/1.1");
}

static void fwd_req_options_star(void)
{
	LOAD("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "", 0, 1024);
	CALL(run_req(&plain));
	SPAN(out.line, "OPTIONS * HTTP/1.1");
}

static const char ws_head[] =
    "GET /ws HTTP/1.1\r\n"
    "Host: a\r\n"
    "Connection: keep-alive, Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "\r\n";

static void fwd_req_tunnel(void)
{
	struct fwd_req o = plain;

	o.tunnel = 1;
	LOAD(ws_head, "", 0, 1024);
	CALL(run_req(&o));
	CHECK_EQ(count("Upgrade"), 1);
	CHECK_STR(joined("Upgrade"), "websocket");
	CHECK_EQ(count("Connection"), 1);
	CHECK(has_token("Connection", "upgrade"));
	CHECK(out.flags & HF_UPGRADE);
	CHECK_STR(joined("Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==");
	CHECK_STR(joined("Sec-WebSocket-Version"), "13");
}

static void fwd_req_no_tunnel(void)
{
	LOAD(ws_head, "", 0, 1024);
	CALL(run_req(&plain));
	CHECK_EQ(count("Upgrade"), 0);
	CHECK(!has_token("Connection", "upgrade"));
	CHECK(!(out.flags & HF_UPGRADE));
}

static void fwd_req_body_length(void)
{
	static const char t[] = "hello world\0GET /next HTTP/1.1\r\n\n\r";

	LOAD("POST /api/up HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nConnection: close\r\n\r\n",
	    t, sizeof t - 1, 1024);
	CALL(run_req(&plain));
	CHECK_EQ(out.framing, HB_LENGTH);
	CHECK_EQ(out.length, 11);
	CHECK_EQ(count("Content-Length"), 1);
}

static void fwd_req_body_chunked(void)
{
	static const char t[] = "5\r\nhello\r\n0\r\n\r\n";

	LOAD("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", t, sizeof t - 1,
	    1024);
	CALL(run_req(&plain));
	CHECK_EQ(out.framing, HB_CHUNKED);
	CHECK_STR(joined("Transfer-Encoding"), "chunked");
}

/*
 * Naming Content-Length, Transfer-Encoding or Host in Connection must not take them off
 * the forwarded request while the body still follows (that desynchronizes the backend):
 * the request is refused by the parser, or it goes on with its framing and Host intact.
 */
static void keeps_framing(const char *head, const char *t)
{
	struct http_field f[16];
	struct http_msg pm = { .f = f, .fcap = 16 };
	int framing;
	uint64_t length;

	if (http_parse_request(head, strlen(head), &pm) != S_NONE)
		return;
	LOAD(head, t, strlen(t), 2048);
	framing = in.framing;
	length = in.length;
	CALL(run_req(&plain));
	CHECK_EQ(out.framing, framing);
	CHECK(out.length == length);
	CHECK_STR(joined("Host"), "a");
}

static void fwd_req_connection_keeps_framing(void)
{
	CALL(keeps_framing("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Connection: Content-Length\r\n\r\n", "hello"));
	CALL(keeps_framing("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Connection: transfer-encoding\r\n\r\n", "5\r\nhello\r\n0\r\n\r\n"));
	CALL(keeps_framing("GET / HTTP/1.1\r\nHost: a\r\nConnection: host\r\n\r\n", ""));
}

/* a head full of hop-by-hop fields shrinks by kilobytes; 8 KB of body move down with it */
static void fwd_req_shrink(void)
{
	static char head[8192], t[8192];
	uint32_t rng = 7;
	size_t o = 0, i;

	o += (size_t)snprintf(head + o, sizeof head - o,
	    "POST /api/big HTTP/1.1\r\nHost: a\r\nContent-Length: 8192\r\nConnection: keep-alive");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(head + o, sizeof head - o, ", X-Hop-%02zu", i);
	o += (size_t)snprintf(head + o, sizeof head - o, "\r\n");
	for (i = 0; i < 40; i++)
		o += (size_t)snprintf(head + o, sizeof head - o, "X-Hop-%02zu: %0100zu\r\n", i, i);
	o += (size_t)snprintf(head + o, sizeof head - o, "X-Stay: 1\r\n\r\n");
	CHECK(o < sizeof head - 1);
	for (i = 0; i < sizeof t; i++)
		t[i] = (char)xs(&rng);
	LOAD(head, t, sizeof t, 24576);
	CALL(run_req(&plain));
	CHECK(out_n + 4000 < head_n);
	CHECK_EQ(count("X-Hop-00"), 0);
	CHECK_EQ(count("X-Hop-39"), 0);
	CHECK_STR(joined("X-Stay"), "1");
	CHECK_EQ(out.length, 8192);
}

static char grow_lines[30][96];
static const char *grow_add[31];

static void grow_setup(void)
{
	size_t i;

	for (i = 0; i < 30; i++) {
		snprintf(grow_lines[i], sizeof grow_lines[i], "X-Add-%02zu: %070zu", i, i);
		grow_add[i] = grow_lines[i];
	}
	grow_add[30] = NULL;
}

/* 30 added lines grow a small head by over 2 KB; 20 KB of body move up behind it */
static void fwd_req_grow(void)
{
	static char t[20000];
	struct fwd_req o = plain;
	char want[96];
	uint32_t rng = 99;
	size_t i;

	grow_setup();
	o.add = grow_add;
	for (i = 0; i < sizeof t; i++)
		t[i] = (char)xs(&rng);
	LOAD("PUT /g HTTP/1.1\r\nHost: a\r\nContent-Length: 20000\r\n\r\n", t, sizeof t, 32768);
	CALL(run_req(&o));
	CHECK(out_n > head_n + 2000);
	for (i = 0; i < 30; i++) {
		snprintf(want, sizeof want, "X-Add-%02zu", i);
		T_NOTES(want);
		CHECK_EQ(count(want), 1);
		CHECK_STR(joined(want), grow_lines[i] + 10);
	}
}

/* tails from none to 60 KB follow the head unchanged */
static void fwd_req_tail_sizes(void)
{
	static const size_t sizes[] = { 0, 1, 2, 100, 5000, 60000 };
	char head[256];
	char *t;
	uint32_t rng = 3;
	size_t i, k;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		snprintf(head, sizeof head, "POST /api/t HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n"
		    "Connection: keep-alive\r\nKeep-Alive: 5\r\n\r\n", sizes[i]);
		t = malloc(sizes[i] + 1);
		CHECK(t);
		for (k = 0; k < sizes[i]; k++)
			t[k] = (char)xs(&rng);
		load_msg(head, t, sizes[i], strlen(head) + sizes[i] + 1024, 0, 0);
		free(t);
		if (T_FAILED())
			return;
		CALL(run_req(&plain));
		CHECK(out.length == sizes[i]);
	}
}

/*
 * Every cap from what the buffer holds now up to one byte short of the result gives 0 and
 * leaves all cap bytes as they were; a cap of exactly the result works.
 */
static void cap_sweep(const char *head, const char *t, size_t tlen, int resp,
    const struct fwd_req *oq, const struct fwd_resp *os)
{
	char *want, *before;
	size_t wn, c, n;

	load_msg(head, t, tlen, strlen(head) + tlen + 8192, resp, M_GET);
	if (T_FAILED())
		return;
	wn = resp ? fwd_response(buf, cap, tail_n, &in, os) : fwd_request(buf, cap, tail_n, &in, oq);
	CHECK(wn > 0);
	want = malloc(wn + tlen);
	before = malloc(wn + tlen);
	CHECK(want && before);
	memcpy(want, buf, wn + tlen);
	for (c = strlen(head) + tlen; c <= wn + tlen && !T_FAILED(); c++) {
		load_msg(head, t, tlen, c, resp, M_GET);
		if (T_FAILED())
			break;
		memcpy(before, buf, c);
		n = resp ? fwd_response(buf, cap, tail_n, &in, os) : fwd_request(buf, cap, tail_n, &in, oq);
		if (c < wn + tlen && n != 0)
			t_fail(__FILE__, __LINE__, "cap %zu < %zu needed: returned %zu", c, wn + tlen, n);
		else if (c < wn + tlen && memcmp(before, buf, c) != 0)
			t_fail(__FILE__, __LINE__, "cap %zu too small: returned 0 but changed buf", c);
		else if (c == wn + tlen && (n != wn || memcmp(want, buf, wn + tlen) != 0))
			t_fail(__FILE__, __LINE__, "cap of exactly %zu: returned %zu, want %zu", c, n, wn);
	}
	free(want);
	free(before);
}

static void fwd_req_cap_too_small(void)
{
	static const char t[] = "0123456789abcdefghij";
	struct fwd_req o = plain;

	grow_setup();
	o.add = grow_add;
	CALL(cap_sweep("POST /api/c HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n", t,
	    sizeof t - 1, 0, &o, NULL));
	o.add = NULL;
	CALL(cap_sweep("GET / HTTP/1.1\r\nHost: a\r\n\r\n", "", 0, 0, &o, NULL));
}

/* ---- fwd_response ----------------------------------------------------------------- */

static const char resp_head[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: s\r\n"
    "Connection: keep-alive, X-Hop\r\n"
    "X-Hop: 1\r\n"
    "Keep-Alive: timeout=5\r\n"
    "Proxy-Connection: keep-alive\r\n"
    "Upgrade: h2c\r\n"
    "Content-Length: 5\r\n"
    "X-Keep: k\r\n"
    "\r\n";

static void resp_common(void)
{
	CHECK_EQ(out.status, 200);
	SPAN(out.line, "HTTP/1.1 200 OK");
	CHECK_EQ(count("X-Hop"), 0);
	CHECK_EQ(count("Keep-Alive"), 0);
	CHECK_EQ(count("Proxy-Connection"), 0);
	CHECK_EQ(count("Upgrade"), 0);
	CHECK(!has_token("Connection", "x-hop"));
	CHECK_STR(joined("Server"), "s");
	CHECK_STR(joined("X-Keep"), "k");
	CHECK_EQ(count("Content-Length"), 1);
	CHECK_EQ(out.framing, HB_LENGTH);
	CHECK_EQ(out.length, 5);
}

static void fwd_resp_close(void)
{
	struct fwd_resp o = { .keepalive = 0 };

	LOAD_RESP(resp_head, "hello", 5, 1024);
	CALL(run_resp(&o));
	CALL(resp_common());
	CHECK_EQ(count("Connection"), 1);
	CHECK(has_token("Connection", "close"));
	CHECK(!has_token("Connection", "keep-alive"));
	CHECK(out.flags & HF_CLOSE);
}

static void fwd_resp_keepalive_http10(void)
{
	struct fwd_resp o = { .keepalive = 1, .http10 = 1 };

	LOAD_RESP(resp_head, "hello", 5, 1024);
	CALL(run_resp(&o));
	CALL(resp_common());
	CHECK_EQ(count("Connection"), 1);
	CHECK(has_token("Connection", "keep-alive"));
	CHECK(!has_token("Connection", "close"));
	CHECK(out.flags & HF_KEEPALIVE);
	CHECK(!(out.flags & HF_CLOSE));
}

/* a backend closing its own connection does not close the client's */
static void fwd_resp_keepalive_http11(void)
{
	struct fwd_resp o = { .keepalive = 1 };

	LOAD_RESP("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n", "hello", 5,
	    1024);
	CALL(run_resp(&o));
	CHECK(!has_token("Connection", "close"));
	CHECK(!(out.flags & HF_CLOSE));
	CHECK_EQ(out.length, 5);
	LOAD_RESP(resp_head, "hello", 5, 1024);
	CALL(run_resp(&o));
	CALL(resp_common());
	CHECK(!has_token("Connection", "close"));
}

static void fwd_resp_tunnel(void)
{
	struct fwd_resp o = { .keepalive = 1, .tunnel = 1 };

	LOAD_RESP("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", "\x81\x05hello", 7, 1024);
	CALL(run_resp(&o));
	CHECK_EQ(out.status, 101);
	CHECK_EQ(count("Upgrade"), 1);
	CHECK_STR(joined("Upgrade"), "websocket");
	CHECK_EQ(count("Connection"), 1);
	CHECK(has_token("Connection", "upgrade"));
	CHECK(out.flags & HF_UPGRADE);
	CHECK_STR(joined("Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void fwd_resp_extra(void)
{
	struct fwd_resp o = { .keepalive = 1, .extra = "X-Cache: HIT\r\nX-B: 2 3\r\n" };

	LOAD_RESP(resp_head, "hello", 5, 1024);
	CALL(run_resp(&o));
	CALL(resp_common());
	CHECK_STR(joined("X-Cache"), "HIT");
	CHECK_STR(joined("X-B"), "2 3");
}

static void fwd_resp_chunked_tail(void)
{
	static const char t[] = "5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n";
	struct fwd_resp o = { .keepalive = 1 };

	LOAD_RESP("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nKeep-Alive: 5\r\n\r\n", t,
	    sizeof t - 1, 1024);
	CALL(run_resp(&o));
	CHECK_EQ(out.framing, HB_CHUNKED);
	CHECK_STR(joined("Transfer-Encoding"), "chunked");
	CHECK_EQ(count("Keep-Alive"), 0);
}

static void fwd_resp_http10_backend(void)
{
	struct fwd_resp o = { .keepalive = 0 };

	LOAD_RESP("HTTP/1.0 200 OK\r\nServer: old\r\n\r\n", "body until close", 16, 1024);
	CALL(run_resp(&o));
	CHECK_EQ(out.framing, HB_CLOSE);
	CHECK(has_token("Connection", "close"));
	CHECK_STR(joined("Server"), "old");
}

static void fwd_resp_cap_too_small(void)
{
	static char extra[2048];
	struct fwd_resp o = { .keepalive = 0, .extra = extra };
	size_t i, k = 0;

	for (i = 0; i < 12; i++)
		k += (size_t)snprintf(extra + k, sizeof extra - k, "X-Extra-%02zu: %080zu\r\n", i, i);
	CALL(cap_sweep(resp_head, "hello", 5, 1, NULL, &o));
	o.extra = NULL;
	CALL(cap_sweep("HTTP/1.1 204 No Content\r\n\r\n", "", 0, 1, NULL, &o));
}

static const struct t_case cases[] = {
	T(fwd_req_line_strip), T(fwd_req_hop_removed), T(fwd_req_expect_removed),
	T(fwd_req_xff_appended), T(fwd_req_xfp_xfh_set), T(fwd_req_via_appended),
	T(fwd_req_route_add_del), T(fwd_req_others_kept),
	T(fwd_req_xff_new), T(fwd_req_xff_multi), T(fwd_req_xff_empty),
	T(fwd_req_leading_crlf), T(fwd_req_many_fields), T(fwd_req_xfp_xfh_many), T(fwd_req_strip_edges),
	T(fwd_req_http10), T(fwd_req_http10_no_host), T(fwd_req_absolute),
	T(fwd_req_absolute_strip), T(fwd_req_absolute_host_mismatch), T(fwd_req_absolute_no_path),
	T(fwd_req_options_star), T(fwd_req_tunnel),
	T(fwd_req_no_tunnel), T(fwd_req_body_length), T(fwd_req_body_chunked),
	T(fwd_req_connection_keeps_framing), T(fwd_req_shrink), T(fwd_req_grow),
	T(fwd_req_tail_sizes), T(fwd_req_cap_too_small),
	T(fwd_resp_close), T(fwd_resp_keepalive_http10), T(fwd_resp_keepalive_http11),
	T(fwd_resp_tunnel), T(fwd_resp_extra), T(fwd_resp_chunked_tail),
	T(fwd_resp_http10_backend), T(fwd_resp_cap_too_small),
};

T_MAIN(cases)
