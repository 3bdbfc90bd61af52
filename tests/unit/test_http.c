/*
 * test_http.c: http.h against its contract and RFC 9112. Every head goes through
 * http_head_len twice, whole and as growing prefixes sharing one scan state; every body
 * goes through http_body_scan whole, one byte at a time and in random pieces. Requests are
 * parsed into a poisoned field array so a field the parser forgot to fill shows up.
 */
#include <stdint.h>

#include "http.h"
#include "t.h"

#define S(lit) lit, (sizeof(lit) - 1)
#define NFIELDS 64

static struct http_field fields[NFIELDS];
static struct http_msg m;
static const char *mp;          /* the head m was parsed from */
static size_t mn;

/* span sp of the parsed head equals s */
#define SPAN(sp, s) do { \
	CHECK((size_t)(sp).off + (sp).len <= mn); \
	CHECK_MEM(mp + (sp).off, (sp).len, s); \
} while (0)

static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* index of the first field named name (any case), or -1 */
static int field(const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < m.nf; i++)
		if (m.f[i].name.len == n && strncasecmp(mp + m.f[i].name.off, name, n) == 0)
			return i;
	return -1;
}

/*
 * http_head_len on p[0..n): whole, then on every prefix p[0..k) with one scan state,
 * which must give 0 until the head is complete and then its length at exactly that k
 * (or -1 somewhere for bytes that can never form a head).
 */
static void head_len_both(const char *p, size_t n, long want)
{
	size_t scan = 0, k;
	long r = 0;

	r = http_head_len(p, n, &scan);
	if (r != want) {
		t_fail(__FILE__, __LINE__, "http_head_len whole: got %ld, want %ld", r, want);
		return;
	}
	scan = 0;
	r = 0;
	for (k = 1; k <= n && r == 0; k++)
		r = http_head_len(p, k, &scan);
	k--;
	if (want > 0 && (r != want || k != (size_t)want))
		t_fail(__FILE__, __LINE__, "http_head_len byte by byte: got %ld at prefix %zu, "
		    "want %ld at prefix %ld", r, k, want, want);
	if (want <= 0 && r != want)
		t_fail(__FILE__, __LINE__, "http_head_len byte by byte: got %ld at prefix %zu, "
		    "want %ld", r, k, want);
}

static int parse_req(const char *p, size_t n, unsigned fcap)
{
	memset(&m, 0, sizeof m);
	memset(fields, 0xa5, sizeof fields);
	m.f = fields;
	m.fcap = (uint16_t)fcap;
	mp = p;
	mn = n;
	return http_parse_request(p, n, &m);
}

static int parse_resp(const char *p, size_t n, int method, unsigned fcap)
{
	memset(&m, 0, sizeof m);
	memset(fields, 0xa5, sizeof fields);
	m.f = fields;
	m.fcap = (uint16_t)fcap;
	mp = p;
	mn = n;
	return http_parse_response(p, n, method, &m);
}

/* a complete valid request head: head_len finds all of it, the parse succeeds */
static void req_ok(const char *p, size_t n)
{
	T_NOTE(p, n);
	CALL(head_len_both(p, n, (long)n));
	CHECK_EQ(parse_req(p, n, NFIELDS), S_NONE);
	CHECK_EQ(m.head_len, n);
	CHECK(m.nf <= NFIELDS);
}

static void resp_ok(const char *p, size_t n, int method)
{
	T_NOTE(p, n);
	CALL(head_len_both(p, n, (long)n));
	CHECK_EQ(parse_resp(p, n, method, NFIELDS), S_NONE);
	CHECK_EQ(m.head_len, n);
}

struct bad {
	const char *p;
	size_t n;
	int want, alt;              /* the status expected; alt: another acceptable one, or 0 */
};
#define B(lit, st) { lit, sizeof(lit) - 1, st, 0 }
#define B2(lit, st, alt) { lit, sizeof(lit) - 1, st, alt }

/* each head is framed like any other by head_len (whole = byte by byte), then refused;
 * every wrong answer of the table is reported */
static void reject(const struct bad *b, size_t nb, int resp)
{
	char why[700] = "", e[80];
	size_t i, scan, o = 0, nwrong = 0;
	int st;

	for (i = 0; i < nb; i++) {
		T_NOTE(b[i].p, b[i].n);
		scan = 0;
		CALL(head_len_both(b[i].p, b[i].n, http_head_len(b[i].p, b[i].n, &scan)));
		st = resp ? parse_resp(b[i].p, b[i].n, M_GET, NFIELDS) :
		    parse_req(b[i].p, b[i].n, NFIELDS);
		if (st == b[i].want || (b[i].alt && st == b[i].alt))
			continue;
		nwrong++;
		if (o < sizeof why)
			o += (size_t)snprintf(why + o, sizeof why - o, "%s%s gave %d, want %d",
			    o ? "; " : "", t_esc(b[i].p, b[i].n, 40, e, sizeof e), st, b[i].want);
	}
	t_note[0] = '\0';
	if (nwrong)
		t_fail(__FILE__, __LINE__, "%zu of %zu wrong: %s", nwrong, nb, why);
}
#define REJECT(tab) CALL(reject(tab, sizeof(tab) / sizeof(tab[0]), 0))
#define REJECT_RESP(tab) CALL(reject(tab, sizeof(tab) / sizeof(tab[0]), 1))

/* ---- http_head_len ---------------------------------------------------------------- */

static void http_head_len_complete(void)
{
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 27));
	CALL(head_len_both(S("GET / HTTP/1.0\r\n\r\n"), 18));
	CALL(head_len_both(S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 38));
}

static void http_head_len_incomplete(void)
{
	size_t scan = 0;

	CHECK_EQ(http_head_len("", 0, &scan), 0);
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\r\n"), 0));
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\r\n\r"), 0));
	CALL(head_len_both(S("GET / HTTP/1.1\r"), 0));
	CALL(head_len_both(S("GET / HTTP/1.1"), 0));
}

/* bytes behind the head (a body, even with NUL or bare LF in it) are not the head's */
static void http_head_len_tail(void)
{
	CALL(head_len_both(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\nab\0\n\rcd"),
	    47));
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\n"), 27));
}

static void http_head_len_bare_lf(void)
{
	CALL(head_len_both(S("GET / HTTP/1.1\nHost: a\r\n\r\n"), -1));
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\n\r\n"), -1));
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\r\n\n"), -1));
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\n\n"), -1));
}

static void http_head_len_bare_cr(void)
{
	CALL(head_len_both(S("GET / HTTP/1.1\rHost: a\r\n\r\n"), -1));
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\r\r\n\r\n"), -1));
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n"), -1));
}

static void http_head_len_nul(void)
{
	CALL(head_len_both(S("GET / HTTP/1.1\r\nHost: \0a\r\n\r\n"), -1));
	CALL(head_len_both(S("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), -1));
	CALL(head_len_both(S("\0GET / HTTP/1.1\r\nHost: a\r\n\r\n"), -1));
}

/* RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line */
static void http_head_len_leading_crlf(void)
{
	CALL(req_ok(S("\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n")));
	CHECK_EQ(m.method, M_GET);
	SPAN(m.line, "GET /x HTTP/1.1");
	SPAN(m.path, "/x");
	SPAN(m.host, "a");
}

/* ---- http_parse_request: valid requests ------------------------------------------ */

static void http_req_get_origin(void)
{
	CALL(req_ok(S("GET /index.html?x=1 HTTP/1.1\r\nHost: example.test\r\n"
	    "User-Agent: t/1\r\n\r\n")));
	CHECK_EQ(m.method, M_GET);
	CHECK_EQ(m.version, 11);
	CHECK_EQ(m.framing, HB_NONE);
	CHECK_EQ(m.flags, 0);
	CHECK_EQ(m.nf, 2);
	SPAN(m.line, "GET /index.html?x=1 HTTP/1.1");
	SPAN(m.mtok, "GET");
	SPAN(m.target, "/index.html?x=1");
	SPAN(m.path, "/index.html?x=1");
	SPAN(m.host, "example.test");
	SPAN(m.f[0].name, "Host");
	SPAN(m.f[0].value, "example.test");
	SPAN(m.f[0].line, "Host: example.test\r\n");
	CHECK_EQ(m.f[0].cls, H_HOST);
	CHECK_EQ(m.f[0].hop, 0);
	SPAN(m.f[1].name, "User-Agent");
	SPAN(m.f[1].value, "t/1");
	SPAN(m.f[1].line, "User-Agent: t/1\r\n");
	CHECK_EQ(m.f[1].cls, H_OTHER);
	CHECK_EQ(m.f[1].hop, 0);
}

/* values lose surrounding SP/HTAB (RFC 9112 5.1), keep inner whitespace; may be empty */
static void http_req_value_trim(void)
{
	CALL(req_ok(S("GET / HTTP/1.1\r\nHost:a\r\nX-A:   v  v \t\r\nX-B:\r\nX-C: \t \r\n"
	    "X-D:\tx\r\n\r\n")));
	CHECK_EQ(m.nf, 5);
	SPAN(m.f[0].value, "a");
	SPAN(m.host, "a");
	SPAN(m.f[1].value, "v  v");
	SPAN(m.f[1].line, "X-A:   v  v \t\r\n");
	CHECK_EQ(m.f[2].value.len, 0);
	CHECK_EQ(m.f[3].value.len, 0);
	SPAN(m.f[4].value, "x");
}

/* field values may carry obs-text (RFC 9110 5.5) */
static void http_req_obs_text_value(void)
{
	CALL(req_ok(S("GET / HTTP/1.1\r\nHost: a\r\nX-Name: caf\xc3\xa9 \x80\xff\r\n\r\n")));
	SPAN(m.f[1].value, "caf\xc3\xa9 \x80\xff");
}

static void http_req_absolute(void)
{
	CALL(req_ok(S("GET http://back.test:8080/p?q HTTP/1.1\r\nHost: back.test:8080\r\n\r\n")));
	CHECK(m.flags & HF_ABSOLUTE);
	SPAN(m.target, "http://back.test:8080/p?q");
	SPAN(m.path, "/p?q");
	SPAN(m.host, "back.test:8080");
}

/* RFC 9112 3.2.2: with an absolute-form target the Host field is ignored */
static void http_req_absolute_host_differs(void)
{
	CALL(req_ok(S("GET http://back.test/a/b HTTP/1.1\r\nHost: other.test\r\n\r\n")));
	CHECK(m.flags & HF_ABSOLUTE);
	SPAN(m.path, "/a/b");
	SPAN(m.host, "back.test");
}

static void http_req_absolute_no_path(void)
{
	CALL(req_ok(S("GET http://back.test HTTP/1.1\r\nHost: back.test\r\n\r\n")));
	CHECK(m.flags & HF_ABSOLUTE);
	SPAN(m.host, "back.test");
	CALL(req_ok(S("GET http://back.test:81?q=1 HTTP/1.1\r\nHost: back.test:81\r\n\r\n")));
	SPAN(m.host, "back.test:81");
}

static void http_req_options_star(void)
{
	CALL(req_ok(S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")));
	CHECK_EQ(m.method, M_OPTIONS);
	SPAN(m.target, "*");
	CHECK(!(m.flags & HF_ABSOLUTE));
}

static void http_req_http10(void)
{
	CALL(req_ok(S("GET /x HTTP/1.0\r\n\r\n")));
	CHECK_EQ(m.version, 10);
	CHECK_EQ(m.nf, 0);
	CHECK_EQ(m.host.len, 0);
	CHECK(m.flags & HF_CLOSE);
	CHECK(!(m.flags & HF_KEEPALIVE));

	CALL(req_ok(S("GET /x HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n")));
	CHECK_EQ(m.version, 10);
	CHECK(m.flags & HF_KEEPALIVE);
	CHECK(!(m.flags & HF_CLOSE));
	SPAN(m.host, "a");
}

static void http_req_post_length(void)
{
	CALL(req_ok(S("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n")));
	CHECK_EQ(m.method, M_POST);
	CHECK_EQ(m.framing, HB_LENGTH);
	CHECK_EQ(m.length, 11);
	CHECK_EQ(m.f[1].cls, H_CONTENT_LENGTH);

	CALL(req_ok(S("PUT /big HTTP/1.1\r\nHost: a\r\nContent-Length:  1234567890123 \r\n\r\n")));
	CHECK_EQ(m.framing, HB_LENGTH);
	CHECK(m.length == 1234567890123ull);
}

static void http_req_cl_zero(void)
{
	CALL(req_ok(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")));
	CHECK(m.framing == HB_NONE || (m.framing == HB_LENGTH && m.length == 0));
}

static void http_req_chunked(void)
{
	CALL(req_ok(S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")));
	CHECK_EQ(m.framing, HB_CHUNKED);
	CHECK_EQ(m.f[1].cls, H_TRANSFER_ENCODING);
	/* transfer-coding names are case-insensitive (RFC 9112 7) */
	CALL(req_ok(S("POST / HTTP/1.1\r\nHost: a\r\ntransfer-encoding:  Chunked \r\n\r\n")));
	CHECK_EQ(m.framing, HB_CHUNKED);
}

static void http_req_no_body(void)
{
	CALL(req_ok(S("POST /x HTTP/1.1\r\nHost: a\r\n\r\n")));
	CHECK_EQ(m.framing, HB_NONE);
	CALL(req_ok(S("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n")));
	CHECK_EQ(m.framing, HB_NONE);
}

static void http_req_methods(void)
{
	static const struct { const char *tok; int method; } tab[] = {
		{ "GET", M_GET }, { "HEAD", M_HEAD }, { "POST", M_POST }, { "PUT", M_PUT },
		{ "DELETE", M_DELETE }, { "OPTIONS", M_OPTIONS }, { "CONNECT", M_CONNECT },
		{ "TRACE", M_TRACE }, { "PATCH", M_PATCH }, { "PROPFIND", M_OTHER },
		{ "get", M_OTHER }, { "Get", M_OTHER }, { "GETS", M_OTHER }, { "GE", M_OTHER },
		{ "X-M!#$%&'*+.^_`|~1", M_OTHER },
	};
	char buf[128];
	size_t i;
	int n;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		n = snprintf(buf, sizeof buf, "%s / HTTP/1.1\r\nHost: a\r\n\r\n", tab[i].tok);
		CALL(req_ok(buf, (size_t)n));
		CHECK_EQ(m.method, tab[i].method);
		SPAN(m.mtok, tab[i].tok);
	}
}

static void http_req_header_classes(void)
{
	static const struct { const char *name; int cls; } tab[] = {
		{ "hOST", H_HOST }, { "content-length", H_CONTENT_LENGTH },
		{ "CONNECTION", H_CONNECTION }, { "keep-alive", H_KEEP_ALIVE },
		{ "Proxy-Connection", H_PROXY_CONNECTION }, { "te", H_TE },
		{ "Trailer", H_TRAILER }, { "upgrade", H_UPGRADE }, { "EXPECT", H_EXPECT },
		{ "x-forwarded-for", H_X_FORWARDED_FOR }, { "X-FORWARDED-PROTO", H_X_FORWARDED_PROTO },
		{ "X-Forwarded-Host", H_X_FORWARDED_HOST }, { "VIA", H_VIA },
		{ "Hosts", H_OTHER }, { "Hos", H_OTHER }, { "X-Forwarded-Fo", H_OTHER },
		{ "Content-Lengths", H_OTHER }, { "Vias", H_OTHER }, { "T", H_OTHER },
		{ "TEE", H_OTHER }, { "Accept", H_OTHER },
	};
	static const char head[] =
	    "GET / HTTP/1.1\r\n"
	    "hOST: a\r\n"
	    "content-length: 0\r\n"
	    "CONNECTION: keep-alive\r\n"
	    "keep-alive: timeout=5\r\n"
	    "Proxy-Connection: keep-alive\r\n"
	    "te: trailers\r\n"
	    "Trailer: X-T\r\n"
	    "upgrade: h2c\r\n"
	    "EXPECT: 100-continue\r\n"
	    "x-forwarded-for: 1.2.3.4\r\n"
	    "X-FORWARDED-PROTO: http\r\n"
	    "X-Forwarded-Host: a\r\n"
	    "VIA: 1.0 x\r\n"
	    "Hosts: b\r\n"
	    "Hos: b\r\n"
	    "X-Forwarded-Fo: c\r\n"
	    "Content-Lengths: 1\r\n"
	    "Vias: 2\r\n"
	    "T: 3\r\n"
	    "TEE: 4\r\n"
	    "Accept: */*\r\n"
	    "\r\n";
	size_t i;

	CALL(req_ok(S(head)));
	CHECK_EQ(m.nf, sizeof tab / sizeof tab[0]);
	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		T_NOTES(tab[i].name);
		SPAN(m.f[i].name, tab[i].name);
		CHECK_EQ(m.f[i].cls, tab[i].cls);
	}
}

static void http_req_hop_fixed(void)
{
	static const struct { const char *name; int hop; } tab[] = {
		{ "Host", 0 }, { "Connection", 1 }, { "Keep-Alive", 1 }, { "TE", 1 },
		{ "Trailer", 1 }, { "Proxy-Connection", 1 }, { "Upgrade", 1 }, { "Accept", 0 },
		{ "X-Forwarded-For", 0 }, { "Via", 0 }, { "Expect", 0 }, { "Content-Length", 0 },
	};
	size_t i;

	CALL(req_ok(S("POST / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n"
	    "Keep-Alive: timeout=5\r\nTE: trailers\r\nTrailer: X-T\r\n"
	    "Proxy-Connection: keep-alive\r\nUpgrade: h2c\r\nAccept: */*\r\n"
	    "X-Forwarded-For: 1.2.3.4\r\nVia: 1.1 x\r\nExpect: 100-continue\r\n"
	    "Content-Length: 1\r\n\r\n")));
	CHECK_EQ(m.nf, sizeof tab / sizeof tab[0]);
	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		T_NOTES(tab[i].name);
		SPAN(m.f[i].name, tab[i].name);
		CHECK_EQ(m.f[i].hop, tab[i].hop);
	}
}

/* fields named in Connection are hop-by-hop wherever they stand, in any case */
static void http_req_hop_named(void)
{
	CALL(req_ok(S("GET / HTTP/1.1\r\nFoo: 0\r\nHost: a\r\nConnection: close, foo\r\n"
	    "FOO: 2\r\nBar: 3\r\nfoo-bar: 4\r\n\r\n")));
	CHECK_EQ(m.nf, 6);
	CHECK_EQ(m.f[0].hop, 1);
	CHECK_EQ(m.f[0].cls, H_OTHER);
	CHECK_EQ(m.f[1].hop, 0);
	CHECK_EQ(m.f[2].hop, 1);
	CHECK_EQ(m.f[3].hop, 1);
	CHECK_EQ(m.f[4].hop, 0);
	CHECK_EQ(m.f[5].hop, 0);
	CHECK(m.flags & HF_CLOSE);

	/* several Connection fields add up */
	CALL(req_ok(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-A\r\nConnection: x-b\r\n"
	    "X-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n")));
	CHECK_EQ(m.f[3].hop, 1);
	CHECK_EQ(m.f[4].hop, 1);
	CHECK_EQ(m.f[5].hop, 0);
}

static void http_req_flags_connection(void)
{
	CALL(req_ok(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n")));
	CHECK(m.flags & HF_CLOSE);
	CHECK(!(m.flags & HF_KEEPALIVE));
	CALL(req_ok(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")));
	CHECK(m.flags & HF_KEEPALIVE);
	CHECK(!(m.flags & HF_CLOSE));
	CALL(req_ok(S("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n")));
	CHECK(!(m.flags & HF_CLOSE));
	CALL(req_ok(S("GET / HTTP/1.0\r\nConnection: close\r\n\r\n")));
	CHECK(m.flags & HF_CLOSE);
}

static void http_req_flags_upgrade(void)
{
	CALL(req_ok(S("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n")));
	CHECK(m.flags & HF_UPGRADE);
	CALL(req_ok(S("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n"
	    "Connection: keep-alive, upgrade\r\n\r\n")));
	CHECK(m.flags & HF_UPGRADE);
	CALL(req_ok(S("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n")));
	CHECK(!(m.flags & HF_UPGRADE));
	CALL(req_ok(S("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n")));
	CHECK(!(m.flags & HF_UPGRADE));
}

static void http_req_flags_expect(void)
{
	CALL(req_ok(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	    "Expect: 100-continue\r\n\r\n")));
	CHECK(m.flags & HF_EXPECT_100);
	CHECK(!(m.flags & HF_EXPECT_OTHER));
	/* the Expect value is case-insensitive (RFC 9110 10.1.1) */
	CALL(req_ok(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	    "Expect: 100-Continue\r\n\r\n")));
	CHECK(m.flags & HF_EXPECT_100);
	CALL(req_ok(S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
	    "Expect: 200-ok\r\n\r\n")));
	CHECK(m.flags & HF_EXPECT_OTHER);
	CHECK(!(m.flags & HF_EXPECT_100));
	CALL(req_ok(S("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
	CHECK(!(m.flags & (HF_EXPECT_100 | HF_EXPECT_OTHER)));
}

static void http_req_fields_at_cap(void)
{
	static const char h[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";

	T_NOTES(h);
	CHECK_EQ(parse_req(S(h), 4), S_NONE);
	CHECK_EQ(m.nf, 4);
}

/* ---- http_parse_request: rejections ---------------------------------------------- */

static void http_req_reject_cl_and_te(void)
{
	static const struct bad tab[] = {
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 5\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_two_cl(void)
{
	static const struct bad tab[] = {
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		  S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n",
		  S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_bad_cl(void)
{
	static const struct bad tab[] = {
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 12a\r\n\r\n", S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n", S_BAD_REQUEST),
		B("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", S_BAD_REQUEST),
		/* too big for 64 bits: malformed, or too large */
		B2("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n",
		   S_BAD_REQUEST, S_PAYLOAD_TOO_LARGE),
		B2("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		   S_BAD_REQUEST, S_PAYLOAD_TOO_LARGE),
	};
	REJECT(tab);
}

/* pollux takes no transfer coding but chunked (RFC 9112 6.1: 501 for an unknown one) */
static void http_req_te_not_chunked(void)
{
	static const struct bad tab[] = {
		B("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		  S_NOT_IMPLEMENTED),
		B("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: x-custom, chunked\r\n\r\n",
		  S_NOT_IMPLEMENTED),
		/* chunked is also missing at the end: either answer is right */
		B2("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
		   S_NOT_IMPLEMENTED, S_BAD_REQUEST),
		B2("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
		   S_NOT_IMPLEMENTED, S_BAD_REQUEST),
	};
	REJECT(tab);
}

/* RFC 9112 6.3: chunked not the final coding of a request: 400 */
static void http_req_te_chunked_not_last(void)
{
	static const struct bad tab[] = {
		B("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		  S_BAD_REQUEST),
		B2("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
		   S_BAD_REQUEST, S_NOT_IMPLEMENTED),
		B2("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		   "Transfer-Encoding: chunked\r\n\r\n", S_BAD_REQUEST, S_NOT_IMPLEMENTED),
		B2("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n",
		   S_BAD_REQUEST, S_NOT_IMPLEMENTED),
	};
	REJECT(tab);
}

static void http_req_te_http10(void)
{
	static const struct bad tab[] = {
		B("POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", S_BAD_REQUEST),
		B("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_obs_fold(void)
{
	static const struct bad tab[] = {
		B("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\t2\r\n\r\n", S_BAD_REQUEST),
		/* whitespace before the first field line (RFC 9112 2.2) */
		B("GET / HTTP/1.1\r\n Host: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\n \r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_bad_name(void)
{
	static const struct bad tab[] = {
		B("GET / HTTP/1.1\r\nHost : a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nX-A : 1\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nX(A): 1\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nX A: 1\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nX\x01: 1\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_ctl_value(void)
{
	static const struct bad tab[] = {
		B("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01" "b\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x7f\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x1b[0m\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\0\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

/*
 * The head is scanned a word at a time, so a byte must be judged the same wherever it
 * falls in a word: every byte value, at every offset over two words, in a field value
 * (its whole line scanned by http_head_len, then by the field parser) and, for the
 * bytes http_head_len stops at, in the request line.
 */
static int value_byte_ok(unsigned c)
{
	return c == '\t' || c == ' ' || (c > 0x20 && c != 0x7f);
}

static void http_req_every_byte_every_offset(void)
{
	char head[128], val[40];
	size_t k, n, scan;
	unsigned c;
	long hl;
	int st;

	for (c = 0; c < 256; c++) {
		for (k = 0; k < 17; k++) {
			memset(val, 'v', sizeof val);
			val[k] = (char)c;
			n = (size_t)snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: a\r\nX-A: z");
			memcpy(head + n, val, 24);
			memcpy(head + n + 24, "\r\n\r\n", 4);
			n += 28;
			scan = 0;
			hl = http_head_len(head, n, &scan);
			st = hl == (long)n ? parse_req(head, n, NFIELDS) : S_BAD_REQUEST;
			T_NOTE(head, n);
			if (value_byte_ok(c)) {
				CHECK_EQ(st, S_NONE);
				CHECK_EQ(m.f[1].value.len, 25);
			} else {
				CHECK_EQ(st, S_BAD_REQUEST);
			}
			if (c != 0 && c != '\r' && c != '\n')
				continue;
			/* in the request target: http_head_len alone must refuse it */
			n = (size_t)snprintf(head, sizeof head, "GET /%.*s", (int)k, val);
			head[n++] = (char)c;
			n += (size_t)snprintf(head + n, sizeof head - n, "/ab HTTP/1.1\r\nHost: a\r\n\r\n");
			scan = 0;
			CHECK_EQ(http_head_len(head, n, &scan), -1);
		}
	}
}

/* names longer than a word compare a word at a time: one wrong byte anywhere is another
 * name, any mix of case is the same name */
static void http_req_long_names(void)
{
	static const char *const near[] = {
		"Transfer-Encodinh", "Xransfer-Encoding", "Transfer_Encoding", "Transfer-Encodin",
		"Content-Lengtx", "Content-Lengt", "Content.Length", "X-Forwarded-Protx",
		"X-Forwarded-Hosu", "Authorizatioo", "Proxy-Connectioo",
	};
	static const char *const same[] = {
		"TRANSFER-ENCODING", "transfer-encoding", "tRaNsFeR-EnCoDiNg", "Transfer-EncodinG",
	};
	char head[128];
	size_t i;
	int n;

	for (i = 0; i < sizeof near / sizeof near[0]; i++) {
		n = snprintf(head, sizeof head,
		    "POST / HTTP/1.1\r\nHost: a\r\n%s: x\r\n\r\n", near[i]);
		CALL(req_ok(head, (size_t)n));
		CHECK_EQ(m.f[1].cls, H_OTHER);
	}
	for (i = 0; i < sizeof same / sizeof same[0]; i++) {
		n = snprintf(head, sizeof head,
		    "POST / HTTP/1.1\r\nHost: a\r\n%s: chunked\r\n\r\n", same[i]);
		CALL(req_ok(head, (size_t)n));
		CHECK_EQ(m.f[1].cls, H_TRANSFER_ENCODING);
		CHECK_EQ(m.framing, HB_CHUNKED);
	}
}

static void http_req_reject_bad_method(void)
{
	static const struct bad tab[] = {
		B("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("G@T / HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET\x01 / HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("G\"T / HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B(" / HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_version(void)
{
	static const struct bad tab[] = {
		/* issue 6: any version other than HTTP/1.0 and 1.1 is refused with 400 */
		B("GET / HTTP/1.2\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/2.0\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/3.0\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_bad_version(void)
{
	static const struct bad tab[] = {
		B("GET / HTTX/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / http/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/11\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.10\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / \r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET /\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_host(void)
{
	static const struct bad tab[] = {
		B("GET / HTTP/1.1\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", S_BAD_REQUEST),
		B("GET http://a/ HTTP/1.1\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

/* RFC 9112 3.2: a Host with an invalid value gets 400 */
static void http_req_reject_host_value(void)
{
	static const struct bad tab[] = {
		B("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", S_BAD_REQUEST),
		B("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_reject_target(void)
{
	static const struct bad tab[] = {
		B("GET x HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET * HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET ?x HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET  HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
		B("OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n", S_BAD_REQUEST),
	};
	REJECT(tab);
}

static void http_req_too_many_fields(void)
{
	static const char h[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";

	T_NOTES(h);
	CHECK_EQ(parse_req(S(h), 4), S_HEADERS_TOO_LARGE);
	CHECK_EQ(parse_req(S(h), 0), S_HEADERS_TOO_LARGE);
	CHECK_EQ(parse_req(S(h), 5), S_NONE);
}

/* ---- http_parse_response --------------------------------------------------------- */

static void http_resp_200(void)
{
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: s\r\n\r\n"), M_GET));
	CHECK_EQ(m.status, 200);
	CHECK_EQ(m.version, 11);
	CHECK_EQ(m.framing, HB_LENGTH);
	CHECK_EQ(m.length, 5);
	CHECK_EQ(m.nf, 2);
	CHECK(!(m.flags & HF_CLOSE));
	SPAN(m.line, "HTTP/1.1 200 OK");
	SPAN(m.f[0].name, "Content-Length");
	SPAN(m.f[0].value, "5");
	CHECK_EQ(m.f[0].cls, H_CONTENT_LENGTH);
	SPAN(m.f[1].line, "Server: s\r\n");
}

static void http_resp_reason(void)
{
	CALL(resp_ok(S("HTTP/1.1 204 \r\n\r\n"), M_GET));
	CHECK_EQ(m.status, 204);
	CALL(resp_ok(S("HTTP/1.1 404 Not Found Here\r\nContent-Length: 0\r\n\r\n"), M_GET));
	CHECK_EQ(m.status, 404);
	SPAN(m.line, "HTTP/1.1 404 Not Found Here");
	CALL(resp_ok(S("HTTP/1.1 599 \xe9t\xe9\r\nContent-Length: 0\r\n\r\n"), M_GET));
	CHECK_EQ(m.status, 599);
}

static void http_resp_head(void)
{
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"), M_HEAD));
	CHECK_EQ(m.framing, HB_NONE);
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), M_HEAD));
	CHECK_EQ(m.framing, HB_NONE);
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\n\r\n"), M_HEAD));
	CHECK_EQ(m.framing, HB_NONE);
}

static void http_resp_no_body_codes(void)
{
	CALL(resp_ok(S("HTTP/1.1 100 Continue\r\n\r\n"), M_POST));
	CHECK_EQ(m.status, 100);
	CHECK_EQ(m.framing, HB_NONE);
	CALL(resp_ok(S("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
	    "Upgrade: websocket\r\n\r\n"), M_GET));
	CHECK_EQ(m.status, 101);
	CHECK_EQ(m.framing, HB_NONE);
	CHECK(m.flags & HF_UPGRADE);
	CALL(resp_ok(S("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"), M_GET));
	CHECK_EQ(m.framing, HB_NONE);
	CALL(resp_ok(S("HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"), M_GET));
	CHECK_EQ(m.framing, HB_NONE);
	CALL(resp_ok(S("HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\n\r\n"), M_GET));
	CHECK_EQ(m.framing, HB_NONE);
	CALL(resp_ok(S("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"), M_GET));
	CHECK_EQ(m.framing, HB_NONE);
}

static void http_resp_framing(void)
{
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), M_GET));
	CHECK_EQ(m.framing, HB_CHUNKED);
	CHECK_EQ(m.f[0].cls, H_TRANSFER_ENCODING);
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), M_GET));
	CHECK(m.framing == HB_NONE || (m.framing == HB_LENGTH && m.length == 0));
	CALL(resp_ok(S("HTTP/1.1 500 Oops\r\nContent-Length: 42\r\n\r\n"), M_POST));
	CHECK_EQ(m.framing, HB_LENGTH);
	CHECK_EQ(m.length, 42);
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\nServer: s\r\n\r\n"), M_GET));
	CHECK_EQ(m.framing, HB_CLOSE);
	CALL(resp_ok(S("HTTP/1.1 404 Not Found\r\n\r\n"), M_GET));
	CHECK_EQ(m.framing, HB_CLOSE);
}

/* RFC 9112 6.3: chunked last means chunked, whatever comes before it */
static void http_resp_te_gzip_chunked(void)
{
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), M_GET));
	CHECK_EQ(m.framing, HB_CHUNKED);
}

/* RFC 9112 6.3: chunked not last in a response: read until close (or refuse it) */
static void http_resp_te_not_chunked(void)
{
	static const char h[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n";
	int st;

	T_NOTES(h);
	st = parse_resp(S(h), M_GET, NFIELDS);
	if (st == S_NONE)
		CHECK_EQ(m.framing, HB_CLOSE);
	else
		CHECK_EQ(st, S_BAD_GATEWAY);
}

/* RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing: refuse
 * it, or at least do not keep the connection after it */
static void http_resp_te_http10(void)
{
	static const char h[] = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n";
	int st;

	T_NOTES(h);
	st = parse_resp(S(h), M_GET, NFIELDS);
	if (st == S_NONE)
		CHECK(m.flags & HF_CLOSE);
	else
		CHECK_EQ(st, S_BAD_GATEWAY);
}

static void http_resp_http10(void)
{
	CALL(resp_ok(S("HTTP/1.0 200 OK\r\nServer: s\r\n\r\n"), M_GET));
	CHECK_EQ(m.version, 10);
	CHECK_EQ(m.framing, HB_CLOSE);
	CHECK(m.flags & HF_CLOSE);
	CALL(resp_ok(S("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n"),
	    M_GET));
	CHECK(m.flags & HF_KEEPALIVE);
	CHECK(!(m.flags & HF_CLOSE));
	CHECK_EQ(m.framing, HB_LENGTH);
}

static void http_resp_connection(void)
{
	CALL(resp_ok(S("HTTP/1.1 200 OK\r\nConnection: close, X-Hop\r\nX-Hop: 1\r\n"
	    "Keep-Alive: timeout=5\r\nX-Keep: 2\r\nContent-Length: 0\r\n\r\n"), M_GET));
	CHECK(m.flags & HF_CLOSE);
	CHECK_EQ(m.f[0].hop, 1);
	CHECK_EQ(m.f[1].hop, 1);
	CHECK_EQ(m.f[2].hop, 1);
	CHECK_EQ(m.f[3].hop, 0);
	CHECK_EQ(m.f[4].hop, 0);
}

static void http_resp_reject(void)
{
	static const struct bad tab[] = {
		B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		  S_BAD_GATEWAY),
		B("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
		  S_BAD_GATEWAY),
		B("HTTP/1.1 20 OK\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 2000 OK\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 abc OK\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 20a OK\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 -20 OK\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1  200 OK\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1200 OK\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 204\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1\r\n\r\n", S_BAD_GATEWAY),
		B("HTTX/1.1 200 OK\r\n\r\n", S_BAD_GATEWAY),
		B("http/1.1 200 OK\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		  S_BAD_GATEWAY),
		B("HTTP/1.1 200 OK\r\nX-A: 1\r\n 2\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 200 OK\r\nX-A : 1\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 200 OK\r\nX-A: \x01\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 200 OK\r\n: 1\r\n\r\n", S_BAD_GATEWAY),
	};
	REJECT_RESP(tab);
}

/* RFC 9110 15: status codes outside 100..599 are invalid */
static void http_resp_status_range(void)
{
	static const struct bad tab[] = {
		B("HTTP/1.1 000 X\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 099 X\r\n\r\n", S_BAD_GATEWAY),
		B("HTTP/1.1 600 X\r\n\r\n", S_BAD_GATEWAY),
	};
	REJECT_RESP(tab);
}

static void http_resp_too_many_fields(void)
{
	static const char h[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";

	T_NOTES(h);
	CHECK_EQ(parse_resp(S(h), M_GET, 2), S_BAD_GATEWAY);
	CHECK_EQ(parse_resp(S(h), M_GET, 3), S_NONE);
}

/* ---- http_has_token, http_find --------------------------------------------------- */

static void http_has_token_cases(void)
{
	static const struct { const char *v; const char *tok; int want; } tab[] = {
		{ "close, Upgrade", "upgrade", 1 }, { "close, Upgrade", "close", 1 },
		{ "closed", "close", 0 }, { "xclose", "close", 0 }, { "clos", "close", 0 },
		{ "keep-alive,close", "close", 1 }, { " close ", "close", 1 },
		{ "\tclose\t,x", "close", 1 }, { "", "close", 0 }, { "close-ish", "close", 0 },
		{ "close-ish, close", "close", 1 }, { "UPGRADE", "upgrade", 1 },
		{ "a,,close", "close", 1 }, { "clo se", "close", 0 }, { ",", "close", 0 },
		{ "keep-alive", "keep-alive", 1 }, { "Keep-Alive , x", "keep-alive", 1 },
		{ "x ,close", "close", 1 },
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		T_NOTES(tab[i].v);
		CHECK_EQ(http_has_token(tab[i].v, strlen(tab[i].v), tab[i].tok), tab[i].want);
	}
	/* the value is a view: bytes past vlen are not part of it */
	T_NOTES("close / 4");
	CHECK_EQ(http_has_token("close", 4, "close"), 0);
	CHECK_EQ(http_has_token("closeXYZ", 5, "close"), 1);
	CHECK_EQ(http_has_token("a, closed", 8, "close"), 1);
}

static void http_find_cases(void)
{
	CALL(req_ok(S("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nVia: 1.0 p\r\nX-B: 2\r\n"
	    "via: 1.1 q\r\n\r\n")));
	CHECK_EQ(http_find(&m, H_VIA, 0), 2);
	CHECK_EQ(http_find(&m, H_VIA, 2), 2);
	CHECK_EQ(http_find(&m, H_VIA, 3), 4);
	CHECK_EQ(http_find(&m, H_VIA, 5), -1);
	CHECK_EQ(http_find(&m, H_HOST, 0), 0);
	CHECK_EQ(http_find(&m, H_HOST, 1), -1);
	CHECK_EQ(http_find(&m, H_OTHER, 0), 1);
	CHECK_EQ(http_find(&m, H_OTHER, 2), 3);
	CHECK_EQ(http_find(&m, H_EXPECT, 0), -1);
}

/* ---- http_body_scan -------------------------------------------------------------- */

/*
 * Feeds p[0..n) to a fresh decoder in pieces of step bytes (0: random sizes) until it is
 * done. Returns the bytes taken, -1 on a framing error, -2 when the decoder broke its
 * contract (took more than given, or less than given without being done).
 */
static long body_feed(int framing, uint64_t length, const char *p, size_t n, size_t step,
    uint32_t *rng, int *done)
{
	struct http_body b;
	size_t off = 0, k;
	long r;

	http_body_init(&b, framing, length);
	while (off < n && !b.done) {
		k = step;
		if (!k)
			k = 1 + xs(rng) % ((xs(rng) & 1) ? 17 : n - off);
		if (k > n - off)
			k = n - off;
		r = http_body_scan(&b, p + off, k);
		if (r == -1)
			return -1;
		if (r < 0 || (size_t)r > k || (!b.done && (size_t)r != k))
			return -2;
		off += (size_t)r;
	}
	*done = b.done;
	return (long)off;
}

/* whole, byte by byte and in random pieces, the decoder takes want bytes (or fails) */
static void body_check(int framing, uint64_t length, const char *p, size_t n, long want,
    int want_done)
{
	uint32_t rng = 2463534242u;
	int rounds = n > 100000 ? 4 : 300, i, done = 0;
	long r;

	T_NOTE(p, n);
	for (i = -2; i < rounds; i++) {
		done = 0;
		r = body_feed(framing, length, p, n, i == -2 ? (n ? n : 1) : i == -1 ? 1 : 0,
		    &rng, &done);
		if (r != want)
			t_fail(__FILE__, __LINE__, "%s: got %ld, want %ld",
			    i == -2 ? "whole" : i == -1 ? "byte by byte" : "random pieces", r, want);
		else if (want >= 0 && done != want_done)
			t_fail(__FILE__, __LINE__, "%s: done %d, want %d",
			    i == -2 ? "whole" : i == -1 ? "byte by byte" : "random pieces", done,
			    want_done);
		if (T_FAILED())
			return;
	}
}
#define BODY_OK(lit, total) CALL(body_check(HB_CHUNKED, 0, S(lit), total, 1))
#define BODY_BAD(lit) CALL(body_check(HB_CHUNKED, 0, S(lit), -1, 0))

static void http_body_length(void)
{
	CALL(body_check(HB_LENGTH, 10, S("0123456789abcde"), 10, 1));
	CALL(body_check(HB_LENGTH, 10, S("0123456789"), 10, 1));
	CALL(body_check(HB_LENGTH, 10, S("012345"), 6, 0));
	CALL(body_check(HB_LENGTH, 1, S("xyz"), 1, 1));
	CALL(body_check(HB_LENGTH, 0, S("xyz"), 0, 1));
}

static void http_body_none_close(void)
{
	struct http_body b;

	CALL(body_check(HB_NONE, 0, S("GET / HTTP/1.1\r\n"), 0, 1));
	CALL(body_check(HB_CLOSE, 0, S("anything\r\n0\r\n\r\nmore"), 19, 0));
	http_body_init(&b, HB_CLOSE, 0);
	CHECK_EQ(http_body_scan(&b, "", 0), 0);
	CHECK_EQ(b.done, 0);
}

static void http_body_chunked_basic(void)
{
	BODY_OK("5\r\nhello\r\n0\r\n\r\n", 15);
	BODY_OK("0\r\n\r\n", 5);
	BODY_OK("1\r\nx\r\n2\r\nyz\r\n0\r\n\r\n", 18);
	BODY_OK("005\r\nhello\r\n000\r\n\r\n", 19);
	/* data may hold anything, CR LF and NUL included */
	BODY_OK("6\r\n\r\n\0\r\n0\r\n0\r\n\r\n", 16);
}

static void http_body_chunked_ext(void)
{
	BODY_OK("5;foo=bar\r\nhello\r\n6;a;b=c\r\n world\r\n0;last\r\n\r\n", 45);
	BODY_OK("3;q=\"x;y\"\r\nabc\r\n0\r\n\r\n", 21);
}

static void http_body_chunked_trailers(void)
{
	BODY_OK("3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n", 21);
	BODY_OK("3\r\nabc\r\n0\r\nX-T: 1\r\nX-U: two words\r\n\r\n", 37);
	BODY_OK("0\r\nX-T:\r\n\r\n", 11);
}

static void http_body_chunked_hex(void)
{
	BODY_OK("A\r\n0123456789\r\n1f\r\n0123456789012345678901234567890\r\n"
	    "1F\r\n0123456789012345678901234567890\r\nB4\r\n"
	    "0123456789012345678901234567890123456789012345678901234567890123456789"
	    "012345678901234567890123456789012345678901234567890123456789012345678901234567"
	    "89012345678901234567890123456789\r\n0\r\n\r\n", 280);
}

/* a 1 MiB chunk, and the largest size 16 hex digits can say */
static void http_body_chunked_large(void)
{
	static const char hdr[] = "100000\r\n", end[] = "\r\n0\r\n\r\n";
	size_t n = sizeof hdr - 1 + (1u << 20) + sizeof end - 1, i;
	char *p = malloc(n + 64);

	CHECK(p);
	memcpy(p, hdr, sizeof hdr - 1);
	for (i = 0; i < (1u << 20); i++)
		p[sizeof hdr - 1 + i] = (char)(i * 7 + 13);
	memcpy(p + n - (sizeof end - 1), end, sizeof end - 1);
	memcpy(p + n, "GET / HTTP/1.1\r\n", 16);
	body_check(HB_CHUNKED, 0, p, n + 16, (long)n, 1);
	free(p);
	if (T_FAILED())
		return;

	p = malloc(1000 + 18);
	CHECK(p);
	memcpy(p, "FFFFFFFFFFFFFFFF\r\n", 18);
	memset(p + 18, 'x', 1000);
	body_check(HB_CHUNKED, 0, p, 1018, 1018, 0);
	free(p);
}

/* the message ends where the chunked framing says: a pipelined request stays unread */
static void http_body_chunked_stops(void)
{
	static const char p[] = "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_body b;
	long r;

	BODY_OK("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 15);
	BODY_OK("0\r\n\r\n0\r\n\r\n", 5);
	BODY_OK("0\r\nX: 1\r\n\r\nPOST", 11);
	http_body_init(&b, HB_CHUNKED, 0);
	r = http_body_scan(&b, p, sizeof p - 1);
	CHECK_EQ(r, 15);
	CHECK_EQ(b.done, 1);
	/* once done, nothing more belongs to the message */
	CHECK_EQ(http_body_scan(&b, p + 15, sizeof p - 1 - 15), 0);
	CHECK_EQ(b.done, 1);
	/* an empty piece mid-way is fine */
	http_body_init(&b, HB_CHUNKED, 0);
	CHECK_EQ(http_body_scan(&b, p, 4), 4);
	CHECK_EQ(http_body_scan(&b, p + 4, 0), 0);
	CHECK_EQ(http_body_scan(&b, p + 4, 11), 11);
	CHECK_EQ(b.done, 1);
}

static void http_body_chunked_bad_size(void)
{
	BODY_BAD("g\r\nhello\r\n0\r\n\r\n");
	BODY_BAD("\r\nhello\r\n0\r\n\r\n");
	BODY_BAD("-1\r\nx\r\n0\r\n\r\n");
	BODY_BAD("0x5\r\nhello\r\n0\r\n\r\n");
	BODY_BAD(" 5\r\nhello\r\n0\r\n\r\n");
	BODY_BAD("+5\r\nhello\r\n0\r\n\r\n");
	BODY_BAD(";x\r\nhello\r\n0\r\n\r\n");
	BODY_BAD("5\r\nhello\r\nz\r\n\r\n");
	BODY_BAD("5\0\r\nhello\r\n0\r\n\r\n");
}

static void http_body_chunked_bad_crlf(void)
{
	BODY_BAD("5\r\nhelloX\r\n0\r\n\r\n");
	BODY_BAD("5\r\nhello\n0\r\n\r\n");
	BODY_BAD("5\r\nhello\r0\r\n\r\n");
	BODY_BAD("5\r\nhelloo\r\n0\r\n\r\n");
	BODY_BAD("5\nhello\r\n0\r\n\r\n");
	BODY_BAD("5\rhello\r\n0\r\n\r\n");
	BODY_BAD("0\r\n\n");
	BODY_BAD("0\r\nX: 1\n\r\n");
	BODY_BAD("0\r\n\rX");
}

static void http_body_chunked_overflow(void)
{
	BODY_BAD("10000000000000000\r\nx\r\n0\r\n\r\n");
	BODY_BAD("FFFFFFFFFFFFFFFFF\r\nx\r\n0\r\n\r\n");
	BODY_BAD("123456789abcdef012\r\nx\r\n0\r\n\r\n");
}

/* ---- http_reason, http_error ----------------------------------------------------- */

static void http_reason_cases(void)
{
	static const struct { int st; const char *r; } tab[] = {
		{ 100, "Continue" }, { 101, "Switching Protocols" }, { 200, "OK" },
		{ 204, "No Content" }, { 304, "Not Modified" }, { 400, "Bad Request" },
		{ 404, "Not Found" }, { 411, "Length Required" }, { 414, "URI Too Long" },
		{ 417, "Expectation Failed" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
		CHECK_STR(http_reason(tab[i].st), tab[i].r);
	CHECK(http_reason(413) && http_reason(413)[0]);   /* "Content Too Large" since 9110 */
	CHECK_STR(http_reason(299), "");
	CHECK_STR(http_reason(0), "");
	CHECK_STR(http_reason(999), "");
	CHECK_STR(http_reason(-1), "");
}

static const int err_codes[] = {
	400, 404, 411, 413, 414, 417, 431, 500, 501, 502, 503, 504, 505
};

static char ebuf[1024];

/* one http_error result into ebuf: a response that parses, says close, carries its body */
static void error_check(int st, int head_only, const char *extra)
{
	char want_line[128], body[128], cl[24];
	size_t n, bl, scan = 0;
	long hl;
	int i;

	n = http_error(ebuf, sizeof ebuf, st, head_only, extra);
	bl = (size_t)snprintf(body, sizeof body, "%d %s\n", st, http_reason(st));
	snprintf(want_line, sizeof want_line, "HTTP/1.1 %d %s", st, http_reason(st));
	snprintf(cl, sizeof cl, "%zu", bl);
	T_NOTE(ebuf, n);
	CHECK(n > 0 && n <= sizeof ebuf);
	hl = http_head_len(ebuf, n, &scan);
	CHECK(hl > 0);
	CHECK_EQ(n, (size_t)hl + (head_only ? 0 : bl));
	CHECK_EQ(parse_resp(ebuf, (size_t)hl, head_only ? M_HEAD : M_GET, NFIELDS), S_NONE);
	CHECK_EQ(m.status, st);
	SPAN(m.line, want_line);
	CHECK(m.flags & HF_CLOSE);
	if (!head_only) {
		CHECK_EQ(m.framing, HB_LENGTH);
		CHECK_EQ(m.length, bl);
		CHECK_MEM(ebuf + hl, bl, body);
	}
	i = http_find(&m, H_CONTENT_LENGTH, 0);
	CHECK(i >= 0);
	SPAN(m.f[i].value, cl);
	CHECK_EQ(http_find(&m, H_CONTENT_LENGTH, i + 1), -1);
	CHECK(field("Content-Type") >= 0);
}

static void http_error_full(void)
{
	size_t i;

	for (i = 0; i < sizeof err_codes / sizeof err_codes[0]; i++)
		CALL(error_check(err_codes[i], 0, NULL));
}

static void http_error_head_only(void)
{
	size_t i;

	for (i = 0; i < sizeof err_codes / sizeof err_codes[0]; i++)
		CALL(error_check(err_codes[i], 1, NULL));
}

static void http_error_extra(void)
{
	int i;

	CALL(error_check(503, 0, "Retry-After: 5\r\nX-A: b c\r\n"));
	i = field("Retry-After");
	CHECK(i >= 0);
	SPAN(m.f[i].value, "5");
	i = field("X-A");
	CHECK(i >= 0);
	SPAN(m.f[i].value, "b c");
	CALL(error_check(400, 1, "X-B: 1\r\n"));
	CHECK(field("X-B") >= 0);
	CALL(error_check(400, 0, ""));
}

/* the exact size fits; one byte less gives 0 and writes nothing past cap */
static void http_error_cap(void)
{
	char full[1024];
	size_t n, cap;
	char *p;

	n = http_error(full, sizeof full, 502, 0, "X-A: 1\r\n");
	CHECK(n > 0);
	for (cap = 0; cap < n; cap++) {
		p = malloc(cap ? cap : 1);
		CHECK(p);
		if (http_error(p, cap, 502, 0, "X-A: 1\r\n") != 0) {
			free(p);
			t_fail(__FILE__, __LINE__, "cap %zu of %zu: not 0", cap, n);
			return;
		}
		free(p);
	}
	p = malloc(n);
	CHECK(p);
	cap = http_error(p, n, 502, 0, "X-A: 1\r\n");
	if (cap != n || memcmp(p, full, n) != 0)
		t_fail(__FILE__, __LINE__, "cap of exactly %zu: got %zu", n, cap);
	free(p);
}

static const struct t_case cases[] = {
	T(http_head_len_complete), T(http_head_len_incomplete), T(http_head_len_tail),
	T(http_head_len_bare_lf), T(http_head_len_bare_cr), T(http_head_len_nul),
	T(http_head_len_leading_crlf),
	T(http_req_get_origin), T(http_req_value_trim), T(http_req_obs_text_value),
	T(http_req_absolute), T(http_req_absolute_host_differs),
	T(http_req_absolute_no_path), T(http_req_options_star),
	T(http_req_http10), T(http_req_post_length), T(http_req_cl_zero), T(http_req_chunked),
	T(http_req_no_body), T(http_req_methods), T(http_req_header_classes),
	T(http_req_hop_fixed), T(http_req_hop_named), T(http_req_flags_connection),
	T(http_req_flags_upgrade), T(http_req_flags_expect), T(http_req_fields_at_cap),
	T(http_req_reject_cl_and_te), T(http_req_reject_two_cl), T(http_req_reject_bad_cl),
	T(http_req_te_not_chunked), T(http_req_te_chunked_not_last), T(http_req_te_http10),
	T(http_req_reject_obs_fold), T(http_req_reject_bad_name), T(http_req_reject_ctl_value),
	T(http_req_every_byte_every_offset), T(http_req_long_names),
	T(http_req_reject_bad_method), T(http_req_reject_version), T(http_req_reject_bad_version),
	T(http_req_reject_host), T(http_req_reject_host_value), T(http_req_reject_target),
	T(http_req_too_many_fields),
	T(http_resp_200), T(http_resp_reason), T(http_resp_head), T(http_resp_no_body_codes),
	T(http_resp_framing), T(http_resp_te_gzip_chunked), T(http_resp_te_not_chunked),
	T(http_resp_te_http10), T(http_resp_http10), T(http_resp_connection), T(http_resp_reject),
	T(http_resp_status_range), T(http_resp_too_many_fields),
	T(http_has_token_cases), T(http_find_cases),
	T(http_body_length), T(http_body_none_close), T(http_body_chunked_basic),
	T(http_body_chunked_ext), T(http_body_chunked_trailers), T(http_body_chunked_hex),
	T(http_body_chunked_large), T(http_body_chunked_stops), T(http_body_chunked_bad_size),
	T(http_body_chunked_bad_crlf), T(http_body_chunked_overflow),
	T(http_reason_cases), T(http_error_full), T(http_error_head_only), T(http_error_extra),
	T(http_error_cap),
};

T_MAIN(cases)
