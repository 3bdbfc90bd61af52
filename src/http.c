/*
 * http.c: a strict, stateless HTTP/1.1 parser in the manner of picohttpparser. The
 * caller finds a complete head with http_head_len, then parses it once; every result
 * is a view (offset, length) into that head. The rules are RFC 9112's, taken strictly:
 * CRLF line endings only, no obs-fold, tokens where tokens are due, one Host, one
 * Content-Length, chunked as the only and final transfer coding of a request.
 * http_body_scan delimits a body as it streams without changing a byte.
 */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "util.h"

#define MAX_LEADING_CRLF 2
#define MAX_HOST 255

/* tchar of RFC 9110 section 5.6.2: DIGIT, ALPHA and !#$%&'*+-.^_`|~, one bit per byte */
static int
is_tchar(unsigned char c)
{
	static const uint32_t bits[4] = { 0x00000000, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff };

	return c < 128 && (bits[c >> 5] >> (c & 31) & 1);
}

/* field-value bytes: VCHAR, obs-text, SP, HTAB */
static int
is_vbyte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/*
 * Word-at-a-time scanning: the index of the first word at or after i that holds a byte
 * below lo, or 0x7f when del is set; where fewer than a word's bytes are left, that
 * index. The callers look at the bytes from there one by one. The test is "has a byte
 * less than n" of Bit Twiddling Hacks, exact as a yes/no for n <= 128 and the same for
 * either byte order. A memcpy load is one instruction where unaligned loads are allowed.
 */
typedef unsigned long word;
#define ONES (~(word)0 / 255)
#define HIGHS (ONES * 0x80)

static size_t
skip_plain(const char *p, size_t i, size_t end, unsigned lo, int del)
{
	for (; end - i >= sizeof(word); i += sizeof(word)) {
		word w, d;
		memcpy(&w, p + i, sizeof(w));
		d = w ^ (ONES * 0x7f);
		if (((w - ONES * lo) & ~w & HIGHS) || (del && ((d - ONES) & ~d & HIGHS)))
			break;
	}
	return i;
}

/* 1 when p[0..n) is nothing but CRLF pairs */
static int
all_crlf(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		if (p[i] != '\r' || p[i + 1] != '\n')
			return 0;
	return n % 2 == 0;
}

long
http_head_len(const char *p, size_t len, size_t *scan)
{
	size_t i;

	for (i = *scan; i < len; i++) {
		i = skip_plain(p, i, len, '\r' + 1, 0);       /* to a word with NUL, CR or LF */
		if (i == len)
			break;
		unsigned char c = (unsigned char)p[i];
		if (c > '\r')
			continue;
		if (c == 0)
			return -1;
		if (c == '\r') {
			if (i + 1 == len)
				break;          /* wait for the byte after CR */
			if (p[i + 1] != '\n')
				return -1;      /* bare CR */
			continue;
		}
		if (c != '\n')
			continue;
		if (i == 0 || p[i - 1] != '\r')
			return -1;              /* bare LF */
		if (i > 1 && p[i - 2] != '\n')
			continue;               /* the end of a non-empty line */
		/* an empty line starting at i-1: leading ones are skipped, a few at most */
		if (i - 1 <= 2 * MAX_LEADING_CRLF && all_crlf(p, i - 1)) {
			if (i - 1 == 2 * MAX_LEADING_CRLF)
				return -1;
			continue;
		}
		*scan = i + 1;
		return (long)(i + 1);
	}
	*scan = i;
	return 0;
}

/* ---- field lines ------------------------------------------------------------------ */

/* a name and its length, so that most names are told apart by length alone */
#define NAME(s) s, sizeof(s) - 1

static const struct {
	const char *name;
	uint8_t len, cls, hop;
} hdr_tab[] = {
	{ NAME("host"), H_HOST, 0 },
	{ NAME("content-length"), H_CONTENT_LENGTH, 0 },
	{ NAME("transfer-encoding"), H_TRANSFER_ENCODING, 0 }, /* chunked passes unchanged */
	{ NAME("connection"), H_CONNECTION, 1 },
	{ NAME("keep-alive"), H_KEEP_ALIVE, 1 },
	{ NAME("proxy-connection"), H_PROXY_CONNECTION, 1 },
	{ NAME("te"), H_TE, 1 },
	{ NAME("trailer"), H_TRAILER, 1 },
	{ NAME("upgrade"), H_UPGRADE, 1 },
	{ NAME("expect"), H_EXPECT, 0 },
	{ NAME("x-forwarded-for"), H_X_FORWARDED_FOR, 0 },
	{ NAME("x-forwarded-proto"), H_X_FORWARDED_PROTO, 0 },
	{ NAME("x-forwarded-host"), H_X_FORWARDED_HOST, 0 },
	{ NAME("via"), H_VIA, 0 },
	{ NAME("authorization"), H_AUTHORIZATION, 0 },
};

/*
 * 1 when the field name p[0..n) is lc[0..n) in any case. lc is lower case letters,
 * digits and '-'; p is tchars, the only bytes a name may hold (parse_field checked).
 * Then c | 0x20 equals such a byte of lc only when c is that byte in either case
 * ('-' | 0x20 and the digits are unchanged; their partners are control bytes), so
 * whole words compare at once.
 */
static int
name_eq(const char *p, const char *lc, size_t n)
{
	size_t i = 0;

	for (; n - i >= sizeof(word); i += sizeof(word)) {
		word a, b;
		memcpy(&a, p + i, sizeof(a));
		memcpy(&b, lc + i, sizeof(b));
		if ((a | ONES * 0x20) != b)
			return 0;
	}
	for (; i < n; i++)
		if (((unsigned char)p[i] | 0x20) != (unsigned char)lc[i])
			return 0;
	return 1;
}

static void
classify(const char *p, struct http_field *f)
{
	f->cls = H_OTHER;
	f->hop = 0;
	for (size_t i = 0; i < sizeof(hdr_tab) / sizeof(hdr_tab[0]); i++) {
		if (hdr_tab[i].len == f->name.len &&
		    name_eq(p + f->name.off, hdr_tab[i].name, f->name.len)) {
			f->cls = hdr_tab[i].cls;
			f->hop = hdr_tab[i].hop;
			return;
		}
	}
}

/* parses one field line at p[*pos..end); returns S_NONE or S_BAD_REQUEST */
static int
parse_field(const char *p, size_t *pos, size_t end, struct http_field *f)
{
	size_t i = *pos, vs, ve;

	f->line.off = (uint16_t)i;
	while (i < end && is_tchar((unsigned char)p[i]))
		i++;
	if (i == *pos || i >= end || p[i] != ':')
		return S_BAD_REQUEST;   /* empty name, space before colon, bad byte */
	f->name.off = (uint16_t)*pos;
	f->name.len = (uint16_t)(i - *pos);
	for (i++; i < end && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	vs = i;
	while (i < end) {
		i = skip_plain(p, i, end, 0x20, 1);     /* to a word with a control byte */
		if (i == end || p[i] == '\r')
			break;
		if (!is_vbyte((unsigned char)p[i]))
			return S_BAD_REQUEST;
		i++;
	}
	if (i + 1 >= end || p[i + 1] != '\n')
		return S_BAD_REQUEST;
	for (ve = i; ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'); ve--)
		;
	f->value.off = (uint16_t)vs;
	f->value.len = (uint16_t)(ve - vs);
	f->line.len = (uint16_t)(i + 2 - f->line.off);
	classify(p, f);
	*pos = i + 2;
	return S_NONE;
}

/* parses the field lines from pos to the empty line that ends the head */
static int
parse_fields(const char *p, size_t pos, size_t len, struct http_msg *m)
{
	m->nf = 0;
	while (pos + 2 <= len && !(p[pos] == '\r' && p[pos + 1] == '\n')) {
		if (p[pos] == ' ' || p[pos] == '\t')
			return S_BAD_REQUEST;   /* obs-fold */
		if (m->nf == m->fcap)
			return S_HEADERS_TOO_LARGE;
		int st = parse_field(p, &pos, len, &m->f[m->nf]);
		if (st)
			return st;
		m->nf++;
	}
	return pos + 2 == len ? S_NONE : S_BAD_REQUEST;
}

int
http_find(const struct http_msg *m, int cls, int i)
{
	for (; i >= 0 && i < m->nf; i++)
		if (m->f[i].cls == cls)
			return i;
	return -1;
}

int
http_find_name(const struct http_msg *m, const char *p, const char *name, int i)
{
	for (; i >= 0 && i < m->nf; i++)
		if (util_caseeq(p + m->f[i].name.off, m->f[i].name.len, name))
			return i;
	return -1;
}

/* ---- token lists ------------------------------------------------------------------ */

/* the next list element of v[*i..n) into *s and *l, skipping empty elements; 0 at the end */
static int
next_token(const char *v, size_t n, size_t *i, size_t *s, size_t *l)
{
	for (;;) {
		while (*i < n && (v[*i] == ' ' || v[*i] == '\t' || v[*i] == ','))
			(*i)++;
		if (*i >= n)
			return 0;
		*s = *i;
		while (*i < n && v[*i] != ',')
			(*i)++;
		size_t e = *i;
		while (e > *s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		*l = e - *s;
		if (*l)
			return 1;
	}
}

int
http_has_token(const char *v, size_t vlen, const char *tok)
{
	size_t i = 0, s, l;

	while (next_token(v, vlen, &i, &s, &l))
		if (util_caseeq(v + s, l, tok))
			return 1;
	return 0;
}

static int
is_token(const char *s, size_t l)
{
	for (size_t i = 0; i < l; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return l > 0;
}

/* Connection: sets HF_* and marks the fields it names as hop-by-hop */
static int
apply_connection(const char *p, struct http_msg *m)
{
	for (int c = http_find(m, H_CONNECTION, 0); c >= 0; c = http_find(m, H_CONNECTION, c + 1)) {
		const char *v = p + m->f[c].value.off;
		size_t n = m->f[c].value.len, i = 0, s, l;
		while (next_token(v, n, &i, &s, &l)) {
			if (!is_token(v + s, l))
				return S_BAD_REQUEST;
			/* a field every recipient needs cannot be made hop-by-hop */
			if (util_caseeq(v + s, l, "host") || util_caseeq(v + s, l, "content-length") ||
			    util_caseeq(v + s, l, "transfer-encoding"))
				return S_BAD_REQUEST;
			if (util_caseeq(v + s, l, "close"))
				m->flags |= HF_CLOSE;
			else if (util_caseeq(v + s, l, "keep-alive"))
				m->flags |= HF_KEEPALIVE;
			else if (util_caseeq(v + s, l, "upgrade"))
				m->flags |= HF_UPGRADE;
			for (int k = 0; k < m->nf; k++)
				if (util_casecmp(p + m->f[k].name.off, v + s, l) && m->f[k].name.len == l)
					m->f[k].hop = 1;
		}
	}
	if ((m->flags & HF_UPGRADE) && http_find(m, H_UPGRADE, 0) < 0)
		m->flags &= (uint8_t)~HF_UPGRADE;
	if (m->version == 10 && !(m->flags & HF_KEEPALIVE))
		m->flags |= HF_CLOSE;
	return S_NONE;
}

/* ---- framing ---------------------------------------------------------------------- */

static int
parse_length(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* Transfer-Encoding: 1 when chunked is the final coding, 0 when it is not, -1 when
 * chunked appears before the end; *other says a coding other than chunked was named */
static int
te_final_chunked(const char *p, const struct http_msg *m, int *other)
{
	int last = 0, seen = 0;

	*other = 0;
	for (int t = http_find(m, H_TRANSFER_ENCODING, 0); t >= 0;
	    t = http_find(m, H_TRANSFER_ENCODING, t + 1)) {
		const char *v = p + m->f[t].value.off;
		size_t n = m->f[t].value.len, i = 0, s, l;
		while (next_token(v, n, &i, &s, &l)) {
			if (last)
				return -1;      /* chunked before another coding */
			last = util_caseeq(v + s, l, "chunked");
			*other |= !last;
			seen = 1;
		}
	}
	return seen ? last : -1;
}

/* Content-Length: 0 none, 1 one valid value in *len, -1 several or invalid */
static int
content_length(const char *p, const struct http_msg *m, uint64_t *len)
{
	int c = http_find(m, H_CONTENT_LENGTH, 0);

	if (c < 0)
		return 0;
	if (http_find(m, H_CONTENT_LENGTH, c + 1) >= 0)
		return -1;
	return parse_length(p + m->f[c].value.off, m->f[c].value.len, len) ? -1 : 1;
}

static int
request_framing(const char *p, struct http_msg *m)
{
	int has_te = http_find(m, H_TRANSFER_ENCODING, 0) >= 0, other, cl;

	cl = content_length(p, m, &m->length);
	if (cl < 0 || (has_te && cl))
		return S_BAD_REQUEST;
	m->framing = cl ? HB_LENGTH : HB_NONE;
	if (!has_te)
		return S_NONE;
	if (m->version == 10)
		return S_BAD_REQUEST;
	int ch = te_final_chunked(p, m, &other);
	if (ch <= 0)
		return S_BAD_REQUEST;
	if (other)
		return S_NOT_IMPLEMENTED;
	m->framing = HB_CHUNKED;
	return S_NONE;
}

static int
response_framing(const char *p, struct http_msg *m, int method)
{
	int has_te = http_find(m, H_TRANSFER_ENCODING, 0) >= 0, other, cl;

	cl = content_length(p, m, &m->length);
	if (cl < 0 || (has_te && cl))
		return S_BAD_GATEWAY;
	if (method == M_HEAD || m->status < 200 || m->status == 204 || m->status == 304) {
		m->framing = HB_NONE;
		return S_NONE;
	}
	if (has_te && m->version == 10)
		return S_BAD_GATEWAY;   /* RFC 9112 6.1: faulty framing */
	if (has_te) {
		/* chunked not final: read until close; chunked twice or misplaced: refuse */
		int ch = te_final_chunked(p, m, &other);
		if (ch < 0)
			return S_BAD_GATEWAY;
		m->framing = ch ? HB_CHUNKED : HB_CLOSE;
		return S_NONE;
	}
	m->framing = cl ? HB_LENGTH : HB_CLOSE;
	return S_NONE;
}

/* ---- start lines ------------------------------------------------------------------ */

/* "HTTP/1.0" or "HTTP/1.1" at p: 10 or 11; another HTTP/x.y: 1; anything else: 0 */
static int
parse_version(const char *p, size_t n)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.')
		return 0;
	if (p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return 0;
	if (p[5] == '1' && (p[7] == '0' || p[7] == '1'))
		return 10 + (p[7] - '0');
	return 1;
}

static const struct {
	const char *name;
	uint8_t len, m;
} method_tab[] = {
	{ NAME("GET"), M_GET }, { NAME("HEAD"), M_HEAD }, { NAME("POST"), M_POST },
	{ NAME("PUT"), M_PUT }, { NAME("DELETE"), M_DELETE }, { NAME("OPTIONS"), M_OPTIONS },
	{ NAME("CONNECT"), M_CONNECT }, { NAME("TRACE"), M_TRACE }, { NAME("PATCH"), M_PATCH },
};

static uint8_t
method_of(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof(method_tab) / sizeof(method_tab[0]); i++)
		if (method_tab[i].len == n && memcmp(p, method_tab[i].name, n) == 0)
			return method_tab[i].m;
	return M_OTHER;
}

/* splits the target into host (absolute-form) and path views */
static int
parse_target(const char *p, struct http_msg *m)
{
	const char *t = p + m->target.off;
	size_t n = m->target.len, a;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f || t[i] == '#')
			return S_BAD_REQUEST;
	if (t[0] == '/') {
		m->path = m->target;
		return S_NONE;
	}
	if (n == 1 && t[0] == '*' && m->method == M_OPTIONS) {
		m->path = m->target;
		return S_NONE;
	}
	if (n > 7 && util_casecmp(t, "http://", 7))
		a = 7;
	else if (n > 8 && util_casecmp(t, "https://", 8))
		a = 8;
	else
		return S_BAD_REQUEST;
	size_t e = a;
	while (e < n && t[e] != '/' && t[e] != '?')
		e++;
	if (e == a)
		return S_BAD_REQUEST;
	m->host.off = (uint16_t)(m->target.off + a);
	m->host.len = (uint16_t)(e - a);
	m->path.off = (uint16_t)(m->target.off + e);
	m->path.len = (uint16_t)(n - e);
	m->flags |= HF_ABSOLUTE;
	return S_NONE;
}

static int
parse_request_line(const char *p, size_t len, size_t *pos, struct http_msg *m)
{
	size_t i = *pos, s = i, eol;
	const char *cr = memchr(p + i, '\r', len - i);

	if (!cr)
		return S_BAD_REQUEST;
	eol = (size_t)(cr - p);
	m->line.off = (uint16_t)i;
	m->line.len = (uint16_t)(eol - i);
	while (i < eol && is_tchar((unsigned char)p[i]))
		i++;
	if (i == s || i >= eol || p[i] != ' ')
		return S_BAD_REQUEST;
	m->mtok.off = (uint16_t)s;
	m->mtok.len = (uint16_t)(i - s);
	m->method = method_of(p + s, i - s);
	s = ++i;
	while (i < eol && p[i] != ' ')
		i++;
	if (i == s || i >= eol)
		return S_BAD_REQUEST;
	m->target.off = (uint16_t)s;
	m->target.len = (uint16_t)(i - s);
	int v = parse_version(p + i + 1, eol - i - 1);
	if (v < 10)
		return S_BAD_REQUEST;   /* only HTTP/1.0 and HTTP/1.1 */
	m->version = (uint8_t)v;
	*pos = eol + 2;
	return parse_target(p, m);
}

static int
valid_host(const char *h, size_t n)
{
	if (n > MAX_HOST)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!(is_tchar(c) || c == ':' || c == '[' || c == ']') || c == '|' || c == '`')
			return 0;
	}
	return 1;
}

/* Host: exactly one in HTTP/1.1; an absolute-form target's authority takes precedence */
static int
request_host(const char *p, struct http_msg *m)
{
	int h = http_find(m, H_HOST, 0);

	if (h >= 0 && http_find(m, H_HOST, h + 1) >= 0)
		return S_BAD_REQUEST;
	if (h < 0 && m->version == 11)
		return S_BAD_REQUEST;
	if (h >= 0 && !valid_host(p + m->f[h].value.off, m->f[h].value.len))
		return S_BAD_REQUEST;
	if (!(m->flags & HF_ABSOLUTE) && h >= 0)
		m->host = m->f[h].value;
	return valid_host(p + m->host.off, m->host.len) ? S_NONE : S_BAD_REQUEST;
}

static void
request_expect(const char *p, struct http_msg *m)
{
	for (int e = http_find(m, H_EXPECT, 0); e >= 0; e = http_find(m, H_EXPECT, e + 1)) {
		if (util_caseeq(p + m->f[e].value.off, m->f[e].value.len, "100-continue"))
			m->flags |= m->version == 11 ? HF_EXPECT_100 : 0;
		else
			m->flags |= HF_EXPECT_OTHER;
	}
}

static void
msg_reset(struct http_msg *m, size_t len)
{
	struct http_field *f = m->f;
	uint16_t cap = m->fcap;

	memset(m, 0, sizeof(*m));
	m->f = f;
	m->fcap = cap;
	m->head_len = (uint16_t)len;
}

int
http_parse_request(const char *p, size_t len, struct http_msg *m)
{
	size_t pos = 0;
	int st;

	if (len > UINT16_MAX)
		return S_HEADERS_TOO_LARGE;
	msg_reset(m, len);
	while (pos + 1 < len && p[pos] == '\r' && p[pos + 1] == '\n')
		pos += 2;
	if ((st = parse_request_line(p, len, &pos, m)) != S_NONE)
		return st;
	if ((st = parse_fields(p, pos, len, m)) != S_NONE)
		return st;
	if ((st = request_host(p, m)) != S_NONE)
		return st;
	if ((st = apply_connection(p, m)) != S_NONE)
		return st;
	request_expect(p, m);
	return request_framing(p, m);
}

int
http_parse_response(const char *p, size_t len, int method, struct http_msg *m)
{
	const char *cr;
	size_t eol;
	int v;

	if (len > UINT16_MAX || len < 14)
		return S_BAD_GATEWAY;
	msg_reset(m, len);
	cr = memchr(p, '\r', len);
	if (!cr)
		return S_BAD_GATEWAY;
	eol = (size_t)(cr - p);
	m->line.len = (uint16_t)eol;
	v = parse_version(p, eol < 8 ? eol : 8);
	if (v < 10 || eol < 13 || p[8] != ' ' || p[12] != ' ')
		return S_BAD_GATEWAY;
	m->version = (uint8_t)v;
	for (int i = 9; i < 12; i++)
		if (p[i] < '0' || p[i] > '9')
			return S_BAD_GATEWAY;
	m->status = (uint16_t)((p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0'));
	if (m->status < 100 || m->status > 599)
		return S_BAD_GATEWAY;
	for (size_t i = 12; i < eol; i++)
		if (!is_vbyte((unsigned char)p[i]))
			return S_BAD_GATEWAY;
	if (parse_fields(p, eol + 2, len, m) != S_NONE)
		return S_BAD_GATEWAY;
	if (apply_connection(p, m) != S_NONE)
		return S_BAD_GATEWAY;
	return response_framing(p, m, method);
}

/* ---- bodies ----------------------------------------------------------------------- */

enum {
	CH_SIZE, CH_EXT, CH_EXT_Q, CH_EXT_QE, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF,
	CH_TRAILER_START, CH_TRAILER_NAME, CH_TRAILER, CH_TRAILER_LF, CH_END_LF
};

void
http_body_init(struct http_body *b, int framing, uint64_t length)
{
	memset(b, 0, sizeof(*b));
	b->mode = (uint8_t)framing;
	b->left = length;
	b->done = framing == HB_NONE || (framing == HB_LENGTH && length == 0);
}

/* the chunk-size line: hex digits, then extensions ;name[=token|"quoted"] */
static int
size_byte(struct http_body *b, unsigned char c)
{
	switch (b->st) {
	case CH_SIZE:
		if (util_hexval(c) >= 0) {
			if (++b->ndig > 16)
				return -1;
			b->left = b->left * 16 + (uint64_t)util_hexval(c);
			return 0;
		}
		if (b->ndig == 0 || (c != ';' && c != '\r'))
			return -1;
		b->st = c == ';' ? CH_EXT : CH_SIZE_LF;
		return 0;
	case CH_EXT:
		if (c == '\r' || c == '"')
			b->st = c == '\r' ? CH_SIZE_LF : CH_EXT_Q;
		else if (!is_tchar(c) && c != '=' && c != ';' && c != ' ' && c != '\t')
			return -1;
		return 0;
	case CH_EXT_Q:
		if (c == '"' || c == '\\')
			b->st = c == '"' ? CH_EXT : CH_EXT_QE;
		else if (!is_vbyte(c))
			return -1;
		return 0;
	case CH_EXT_QE:
		b->st = CH_EXT_Q;
		return is_vbyte(c) ? 0 : -1;
	default:                /* CH_SIZE_LF */
		if (c != '\n')
			return -1;
		b->st = b->left ? CH_DATA : CH_TRAILER_START;
		return 0;
	}
}

/* the trailer section: field lines (token ":" value), then an empty line */
static int
trailer_byte(struct http_body *b, unsigned char c)
{
	switch (b->st) {
	case CH_TRAILER_START:
		if (c == '\r')
			b->st = CH_END_LF;
		else if (is_tchar(c))
			b->st = CH_TRAILER_NAME;
		else
			return -1;      /* obs-fold or a bad name byte */
		return 0;
	case CH_TRAILER_NAME:
		if (c == ':')
			b->st = CH_TRAILER;
		else if (!is_tchar(c))
			return -1;      /* no colon, or a space before it */
		return 0;
	case CH_TRAILER:
		if (c == '\r')
			b->st = CH_TRAILER_LF;
		else if (!is_vbyte(c))
			return -1;
		return 0;
	case CH_TRAILER_LF:
		if (c != '\n')
			return -1;
		b->st = CH_TRAILER_START;
		return 0;
	default:                /* CH_END_LF */
		if (c != '\n')
			return -1;
		b->done = 1;
		return 0;
	}
}

/* one byte of chunk framing outside chunk data; returns 0 or -1 */
static int
chunk_byte(struct http_body *b, unsigned char c)
{
	switch (b->st) {
	case CH_SIZE: case CH_EXT: case CH_EXT_Q: case CH_EXT_QE: case CH_SIZE_LF:
		return size_byte(b, c);
	case CH_DATA_CR:
		if (c != '\r')
			return -1;
		b->st = CH_DATA_LF;
		return 0;
	case CH_DATA_LF:
		if (c != '\n')
			return -1;
		b->st = CH_SIZE;
		b->ndig = 0;
		b->left = 0;
		return 0;
	default:
		return trailer_byte(b, c);
	}
}

static long
chunked_scan(struct http_body *b, const char *p, size_t len)
{
	size_t i = 0;

	while (i < len && !b->done) {
		if (b->st == CH_DATA) {
			uint64_t n = len - i < b->left ? len - i : b->left;
			i += (size_t)n;
			b->left -= n;
			b->data += n;
			if (b->left == 0)
				b->st = CH_DATA_CR;
			continue;
		}
		if (chunk_byte(b, (unsigned char)p[i]) < 0)
			return -1;
		i++;
	}
	return (long)i;
}

long
http_body_scan(struct http_body *b, const char *p, size_t len)
{
	if (b->done)
		return 0;
	switch (b->mode) {
	case HB_LENGTH: {
		uint64_t n = len < b->left ? len : b->left;
		b->left -= n;
		b->data += n;
		b->done = b->left == 0;
		return (long)n;
	}
	case HB_CHUNKED:
		return chunked_scan(b, p, len);
	case HB_CLOSE:
		b->data += len;
		return (long)len;
	default:
		b->done = 1;
		return 0;
	}
}

void
http_body_skip(struct http_body *b, uint64_t n)
{
	n = n < b->left ? n : b->left;
	b->left -= n;
	b->data += n;
	b->done = b->left == 0;
}

long
http_body_next(struct http_body *b, const char *p, size_t len, size_t *doff, size_t *dlen)
{
	size_t i = 0;

	*doff = *dlen = 0;
	if (b->mode != HB_CHUNKED) {
		long n = http_body_scan(b, p, len);
		*dlen = n > 0 ? (size_t)n : 0;
		return n;
	}
	while (i < len && !b->done && b->st != CH_DATA) {
		if (chunk_byte(b, (unsigned char)p[i]) < 0)
			return -1;
		i++;
	}
	if (i < len && !b->done && b->st == CH_DATA) {
		*doff = i;
		long n = chunked_scan(b, p + i, len - i < b->left ? len - i : (size_t)b->left);
		*dlen = (size_t)n;
		i += (size_t)n;
	}
	return (long)i;
}

/* ---- canned responses ------------------------------------------------------------- */

static const struct {
	uint16_t code;
	const char *text;
} reason_tab[] = {
	{ 100, "Continue" }, { 101, "Switching Protocols" }, { 200, "OK" },
	{ 301, "Moved Permanently" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
	{ 429, "Too Many Requests" },
	{ 204, "No Content" }, { 304, "Not Modified" }, { 400, "Bad Request" },
	{ 404, "Not Found" }, { 408, "Request Timeout" }, { 411, "Length Required" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" }, { 417, "Expectation Failed" },
	{ 431, "Request Header Fields Too Large" }, { 500, "Internal Server Error" },
	{ 501, "Not Implemented" }, { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
};

const char *
http_reason(int status)
{
	for (size_t i = 0; i < sizeof(reason_tab) / sizeof(reason_tab[0]); i++)
		if (reason_tab[i].code == status)
			return reason_tab[i].text;
	return "";
}

size_t
http_error(char *dst, size_t cap, int status, int head_only, const char *extra)
{
	char tmp[1024];
	const char *r = http_reason(status);
	int body = snprintf(NULL, 0, "%d %s\n", status, r);
	int n = snprintf(tmp, sizeof(tmp),
	    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
	    "Connection: close\r\n%s\r\n%d %s\n", status, r, body, extra ? extra : "",
	    status, r);

	if (n < 0 || (size_t)n >= sizeof(tmp))
		return 0;
	if (head_only)
		n -= body;
	if ((size_t)n > cap)
		return 0;
	memcpy(dst, tmp, (size_t)n);
	return (size_t)n;
}
