/*
 * fuzz_cachectl.c: the first input byte picks Authorization, the route ttl and the clock;
 * the rest is a response head (to a GET) and, after it, a request head (or the whole
 * rest is the request head when no response parses). cc_response, cc_request and
 * cc_not_modified run on what parses and must keep their contracts: lifetimes and ages
 * within 2^31 (or the ttl), the ETag view inside the head and hashed as cachectl.h
 * says, a stored response fresh or validatable, a bypass for what may not be cached.
 * cc_date runs on raw slices and on every field value; what it accepts must come back
 * from cc_date_fmt unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cachectl.h"
#include "http.h"

#define DATE_MAX 253402300799LL /* Fri, 31 Dec 9999 23:59:59 GMT */

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* a date cc_date accepted reads back from its IMF-fixdate */
static void date_round_trip(const char *s, size_t n)
{
	int64_t t = cc_date(s, n);
	char b[30];

	if (t < -1 && n != 29 && n != 24)
		abort();                /* only IMF-fixdate and asctime carry 4-digit years */
	if (t < 0)
		return;
	if (t > DATE_MAX)
		abort();
	cc_date_fmt(t, b);
	if (strlen(b) != 29 || cc_date(b, 29) != t)
		abort();
}

static void dates_of(const char *p, const struct http_msg *m)
{
	for (int i = 0; i < m->nf; i++)
		date_round_trip(p + m->f[i].value.off, m->f[i].value.len);
}

static void response(const char *p, size_t hl, const struct http_msg *m, int auth,
    uint32_t ttl, int64_t now, struct cc_resp *o)
{
	struct cc_resp o2;

	cc_response(p, m, auth, ttl, now, o);
	cc_response(p, m, auth, ttl, now, &o2);
	if (memcmp(o, &o2, sizeof o2) != 0)
		abort();
	if ((o->lifetime > 0x7fffffff && o->lifetime != ttl) || o->age > 0x7fffffff ||
	    o->vary_ae > 1 || o->explicit_fresh > 1 || o->lm > DATE_MAX)
		abort();
	if ((o->etag == 0) != (o->etag_text.len == 0))
		abort();
	if (o->etag_text.len) {
		const char *t = p + o->etag_text.off;
		size_t tn = o->etag_text.len;
		if ((size_t)o->etag_text.off + tn > hl || o->etag_text.off < m->line.len)
			abort();
		if (tn >= 2 && t[0] == 'W' && t[1] == '/') {
			t += 2;
			tn -= 2;
		}
		uint64_t h = cc_hash(t, tn, CC_HASH0);
		if (o->etag != (h ? h : 1))
			abort();
	}
	if (o->why)
		return;
	/* stored: a status a cache may keep, and fresh or validatable */
	if (m->status < 200 || m->status == 206 || m->status == 304)
		abort();
	if (o->lifetime <= o->age && !o->etag && o->lm < 0)
		abort();
	if (!o->explicit_fresh && o->lifetime != 0 && o->lifetime != ttl)
		abort();
}

static void request(const char *p, const struct http_msg *m, const struct cc_resp *o)
{
	struct cc_req r;

	cc_request(p, m, &r);
	if (r.auth > 1 || r.ims > DATE_MAX)
		abort();
	if (r.ninm > CC_INM_KEEP && r.ninm != CC_INM_ANY && r.ninm != CC_INM_MANY)
		abort();
	/* a body bypasses; Content-Length: 0 is no body */
	if (!r.bypass && ((m->method != M_GET && m->method != M_HEAD) ||
	    (m->framing != HB_NONE && !(m->framing == HB_LENGTH && m->length == 0))))
		abort();
	/* nothing stored to compare with matches only "*" */
	if (cc_not_modified(&r, 0, -1) != (r.ninm == CC_INM_ANY))
		abort();
	for (unsigned i = 0; r.ninm <= CC_INM_KEEP && i < r.ninm; i++)
		if (!r.inm[i] || !cc_not_modified(&r, r.inm[i], -1))
			abort();
	if (r.ninm == CC_INM_MANY && cc_not_modified(&r, o ? o->etag : 1, 0))
		abort();
	if (r.ninm == 0 && r.ims >= 0 && cc_not_modified(&r, 1, r.ims) != 1)
		abort();
	if (o && cc_not_modified(&r, o->etag, o->lm) > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static const uint32_t ttls[] = { 0, 1, 600, 0xffffffffu };
	static struct http_field f[128], g[128];
	struct http_msg m = { .f = f, .fcap = 128 }, q = { .f = g, .fcap = 128 };
	struct cc_resp o;
	const char *p = (const char *)d + 1, *rq;
	size_t scan = 0, len, rlen;
	int64_t now, t;
	long hl;
	int have_resp = 0;
	char b[30];

	if (n < 1 || n > 16384)
		return 0;
	len = n - 1;
	now = d[0] & 8 ? 784111777 : (int64_t)(d[0] >> 4) * 1000000007LL;
	hl = http_head_len(p, len, &scan);
	rq = p;
	rlen = len;
	if (hl > 0 && http_parse_response(p, (size_t)hl, M_GET, &m) == S_NONE) {
		response(p, (size_t)hl, &m, d[0] & 1, ttls[(d[0] >> 1) & 3], now, &o);
		dates_of(p, &m);
		have_resp = 1;
		rq = p + hl;
		rlen = len - (size_t)hl;
	}
	scan = 0;
	hl = http_head_len(rq, rlen, &scan);
	if (hl > 0 && http_parse_request(rq, (size_t)hl, &q) == S_NONE) {
		request(rq, &q, have_resp ? &o : NULL);
		dates_of(rq, &q);
	}
	/* raw slices of the lengths the three forms have (RFC 850's: 30 to 33), and one
	 * byte either side */
	for (size_t i = 0; i < len && i < 256; i++)
		for (size_t k = 23; k <= 34 && i + k <= len; k++)
			date_round_trip(p + i, k);
	/* any instant formats as 29 bytes; one in range reads back */
	if (len >= 8) {
		memcpy(&t, p + len - 8, 8);
		cc_date_fmt(t, b);
		if (strlen(b) != 29)
			abort();
		if (t >= 0 && t <= DATE_MAX && cc_date(b, 29) != t)
			abort();
	}
	return 0;
}
