/*
 * cachectl.c: RFC 9111 freshness and storability, RFC 9110 conditionals, HTTP dates.
 * Directives are read from every Cache-Control field of a head; an unknown directive
 * is ignored, a malformed max-age or s-maxage counts as 0 (stale), an invalid Expires
 * means already expired (RFC 9111 5.3). Entity tags are compared weakly (W/ ignored),
 * as If-None-Match requires, through a 64-bit hash of the opaque tag.
 */
#include <stdio.h>
#include <string.h>

#include "cachectl.h"
#include "util.h"

/* statuses a cache may store without explicit freshness (RFC 9110 15.1) */
static const uint16_t heuristic[] = { 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501 };

#define DELTA_MAX 0x7fffffffu   /* RFC 9111 1.2.2: a delta-seconds overflow is 2^31 */

uint64_t
cc_hash(const char *s, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* the value of the first field called name, or NULL */
static const char *
field(const char *p, const struct http_msg *m, const char *name, size_t *len)
{
	int i = http_find_name(m, p, name, 0);

	if (i < 0)
		return NULL;
	*len = m->f[i].value.len;
	return p + m->f[i].value.off;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* delta-seconds; -1 when s[0..n) is not one */
static long long
delta(const char *s, size_t n)
{
	long long v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > DELTA_MAX)
			v = DELTA_MAX;
	}
	return v;
}

/* ---- Cache-Control ---------------------------------------------------------------- */

enum {
	CC_NO_STORE = 1 << 0, CC_NO_CACHE = 1 << 1, CC_PRIVATE = 1 << 2, CC_PUBLIC = 1 << 3,
	CC_MUST_REVALIDATE = 1 << 4, CC_MAX_AGE = 1 << 5, CC_S_MAXAGE = 1 << 6
};

struct directives {
	unsigned flags;
	long long max_age, s_maxage;
};

static const struct { const char *name; unsigned flag; } directive_names[] = {
	{ "no-store", CC_NO_STORE }, { "no-cache", CC_NO_CACHE }, { "private", CC_PRIVATE },
	{ "public", CC_PUBLIC }, { "must-revalidate", CC_MUST_REVALIDATE },
	{ "proxy-revalidate", CC_MUST_REVALIDATE }, { "max-age", CC_MAX_AGE },
	{ "s-maxage", CC_S_MAXAGE },
};

static void
directive(struct directives *d, const char *n, size_t nlen, const char *v, size_t vlen)
{
	for (size_t i = 0; i < sizeof(directive_names) / sizeof(directive_names[0]); i++) {
		if (!util_caseeq(n, nlen, directive_names[i].name))
			continue;
		unsigned f = directive_names[i].flag;
		long long s = delta(v, vlen);
		/* a repeated max-age or s-maxage: the first holds (RFC 9111 4.2.1) */
		if (f == CC_MAX_AGE && !(d->flags & f))
			d->max_age = s < 0 ? 0 : s;
		if (f == CC_S_MAXAGE && !(d->flags & f))
			d->s_maxage = s < 0 ? 0 : s;
		d->flags |= f;
		return;
	}
}

/* the end of a directive's value starting at i: a token, or a quoted string */
static size_t
value_end(const char *s, size_t n, size_t i)
{
	if (i < n && s[i] == '"') {
		for (i++; i < n && s[i] != '"'; i++)
			if (s[i] == '\\')
				i++;
		return i < n ? i + 1 : n;
	}
	while (i < n && s[i] != ',' && s[i] != ' ' && s[i] != '\t')
		i++;
	return i;
}

/* one Cache-Control field value: directives separated by commas */
static void
directives_of(struct directives *d, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
			i++;
		size_t ns = i;
		while (i < n && s[i] != '=' && s[i] != ',' && s[i] != ' ' && s[i] != '\t')
			i++;
		size_t ne = i, vs = i, ve = i;
		if (i < n && s[i] == '=') {
			vs = i + 1;
			ve = i = value_end(s, n, vs);
			if (ve - vs >= 2 && s[vs] == '"' && s[ve - 1] == '"') {
				vs++;
				ve--;
			}
		}
		if (ne > ns)
			directive(d, s + ns, ne - ns, s + vs, ve - vs);
		while (i < n && s[i] != ',')
			i++;
	}
}

static void
cache_control(const char *p, const struct http_msg *m, struct directives *d)
{
	memset(d, 0, sizeof(*d));
	for (int i = 0; (i = http_find_name(m, p, "cache-control", i)) >= 0; i++)
		directives_of(d, p + m->f[i].value.off, m->f[i].value.len);
}

/* ---- entity tags ------------------------------------------------------------------ */

/* the hash of an entity tag without its weakness prefix */
static uint64_t
etag_hash(const char *s, size_t n)
{
	if (n >= 2 && s[0] == 'W' && s[1] == '/') {
		s += 2;
		n -= 2;
	}
	uint64_t h = cc_hash(s, n, CC_HASH0);
	return h ? h : 1;
}

/* If-None-Match: "*" or a list of entity tags */
static void
if_none_match(struct cc_req *r, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		while (i < n && (s[i] == ',' || s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i == n)
			break;
		if (s[i] == '*') {
			r->ninm = CC_INM_ANY;
			return;
		}
		size_t st = i, q = s[i] == 'W' && i + 1 < n && s[i + 1] == '/' ? i + 2 : i;
		if (q >= n || s[q] != '"') {
			r->ninm = CC_INM_MANY;      /* malformed: match nothing */
			return;
		}
		const char *e = memchr(s + q + 1, '"', n - q - 1);
		if (!e) {
			r->ninm = CC_INM_MANY;
			return;
		}
		i = (size_t)(e - s) + 1;
		if (r->ninm >= CC_INM_KEEP) {
			r->ninm = CC_INM_MANY;
			return;
		}
		r->inm[r->ninm++] = etag_hash(s + st, i - st);
	}
}

/* ---- the request ------------------------------------------------------------------ */

void
cc_request(const char *p, const struct http_msg *m, struct cc_req *r)
{
	const char *v;
	size_t n;
	struct directives d;

	memset(r, 0, sizeof(*r));
	r->ims = -1;
	r->auth = http_find(m, H_AUTHORIZATION, 0) >= 0;
	v = field(p, m, "accept-encoding", &n);
	r->ae = (uint32_t)cc_hash(v ? v : "", v ? n : 0, CC_HASH0);
	if ((v = field(p, m, "if-none-match", &n)) != NULL)
		if_none_match(r, v, n);
	if ((v = field(p, m, "if-modified-since", &n)) != NULL)
		r->ims = cc_date(v, n);
	cache_control(p, m, &d);
	if (m->method != M_GET && m->method != M_HEAD)
		r->bypass = "method";
	else if (m->framing != HB_NONE && !(m->framing == HB_LENGTH && m->length == 0))
		r->bypass = "request body";
	else if (field(p, m, "range", &n))
		r->bypass = "Range";
	else if (d.flags & CC_NO_STORE)
		r->bypass = "Cache-Control: no-store";
}

int
cc_not_modified(const struct cc_req *r, uint64_t etag, int64_t lm)
{
	if (r->ninm == CC_INM_ANY)
		return 1;
	if (r->ninm == CC_INM_MANY)
		return 0;
	if (r->ninm > 0) {
		for (unsigned i = 0; i < r->ninm; i++)
			if (etag && r->inm[i] == etag)
				return 1;
		return 0;               /* If-Modified-Since is ignored with If-None-Match */
	}
	return r->ims >= 0 && lm >= 0 && lm <= r->ims;
}

/* ---- the response ----------------------------------------------------------------- */

static int
heuristic_status(unsigned status)
{
	for (size_t i = 0; i < sizeof(heuristic) / sizeof(heuristic[0]); i++)
		if (heuristic[i] == status)
			return 1;
	return 0;
}

/* Vary: only Accept-Encoding can be stored (per value); anything else cannot */
static const char *
vary(const char *p, const struct http_msg *m, struct cc_resp *o)
{
	for (int i = 0; (i = http_find_name(m, p, "vary", i)) >= 0; i++) {
		const char *s = p + m->f[i].value.off;
		size_t n = m->f[i].value.len, k = 0;
		while (k < n) {
			while (k < n && (s[k] == ',' || s[k] == ' ' || s[k] == '\t'))
				k++;
			size_t st = k;
			while (k < n && s[k] != ',' && s[k] != ' ' && s[k] != '\t')
				k++;
			if (k == st)
				continue;
			if (!util_caseeq(s + st, k - st, "accept-encoding"))
				return "Vary";
			o->vary_ae = 1;
		}
	}
	return NULL;
}

/* freshness lifetime from the directives, or Expires against Date (or now) */
static int
explicit_lifetime(const char *p, const struct http_msg *m, const struct directives *d,
    int64_t now, uint32_t *life)
{
	const char *v;
	size_t n;

	if (d->flags & (CC_S_MAXAGE | CC_MAX_AGE)) {
		*life = (uint32_t)((d->flags & CC_S_MAXAGE) ? d->s_maxage : d->max_age);
		return 1;
	}
	if ((v = field(p, m, "expires", &n)) == NULL)
		return 0;
	int64_t exp = cc_date(v, n), date = now;
	if ((v = field(p, m, "date", &n)) != NULL)
		date = cc_date(v, n);
	*life = exp < 0 || date < 0 || exp <= date ? 0 :
	    exp - date > DELTA_MAX ? DELTA_MAX : (uint32_t)(exp - date);
	return 1;
}

/* the reason a shared cache may not store the response, or NULL */
static const char *
refusal(const char *p, const struct http_msg *m, const struct directives *d, int auth)
{
	size_t n;

	if (m->status < 200 || m->status == 206 || m->status == 304)
		return "status";
	if (d->flags & CC_NO_STORE)
		return "Cache-Control: no-store";
	if (d->flags & CC_PRIVATE)
		return "Cache-Control: private";
	/* RFC 9111 3.5: these let a shared cache store an answer to Authorization */
	if (auth && !(d->flags & (CC_PUBLIC | CC_S_MAXAGE | CC_MUST_REVALIDATE)))
		return "Authorization";
	if (field(p, m, "set-cookie", &n) && !(d->flags & CC_PUBLIC))
		return "Set-Cookie";
	return NULL;
}

void
cc_response(const char *p, const struct http_msg *m, int auth, uint32_t ttl, int64_t now,
    struct cc_resp *o)
{
	struct directives d;
	const char *v;
	size_t n;

	memset(o, 0, sizeof(*o));
	o->lm = -1;
	cache_control(p, m, &d);
	if ((v = field(p, m, "etag", &n)) != NULL && n > 0) {
		o->etag = etag_hash(v, n);
		o->etag_text = (struct http_span){ (uint16_t)(v - p), (uint16_t)n };
	}
	if ((v = field(p, m, "last-modified", &n)) != NULL)
		o->lm = cc_date(v, n);
	if ((v = field(p, m, "age", &n)) != NULL) {
		long long a = delta(v, n);
		o->age = a < 0 ? 0 : (uint32_t)a;
	}
	o->explicit_fresh = (uint8_t)explicit_lifetime(p, m, &d, now, &o->lifetime);
	if (!o->explicit_fresh && ttl && heuristic_status(m->status))
		o->lifetime = ttl;
	if (d.flags & CC_NO_CACHE)
		o->lifetime = 0;        /* store, but ask the origin every time */
	if ((o->why = refusal(p, m, &d, auth)) != NULL || (o->why = vary(p, m, o)) != NULL)
		return;
	if (!o->explicit_fresh && !heuristic_status(m->status))
		o->why = "status without explicit freshness";
	else if (o->lifetime <= o->age && !o->etag && o->lm < 0)
		o->why = "neither fresh nor validatable";
}

/* ---- dates ------------------------------------------------------------------------ */

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
static const char wdays[] = "SunMonTueWedThuFriSat";

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* n digits at s as a number; -1 when they are not all digits */
static int
num(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int
month(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (memcmp(months + 3 * i, s, 3) == 0)
			return i + 1;
	return -1;
}

/* "hh:mm:ss" at s as seconds into the day; -1 when malformed */
static long
clock_of(const char *s)
{
	int h = num(s, 2), m = num(s + 3, 2), sec = num(s + 6, 2);

	if (s[2] != ':' || s[5] != ':' || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 ||
	    sec > 60)
		return -1;
	return h * 3600L + m * 60L + sec;
}

static int64_t
combine(int y, int mon, int d, long secs)
{
	static const uint8_t mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < 1970 || mon < 0 || d < 1 || d > mdays[mon - 1] || secs < 0)
		return -1;
	if (mon == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400)))
		return -1;
	return days_from_civil(y, (unsigned)mon, (unsigned)d) * 86400 + secs;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int64_t
imf_fixdate(const char *s, size_t n)
{
	if (n != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
	    s[16] != ' ' || memcmp(s + 25, " GMT", 4) != 0)
		return -1;
	return combine(num(s + 12, 4), month(s + 8), num(s + 5, 2), clock_of(s + 17));
}

/* "Sunday, 06-Nov-94 08:49:37 GMT": a two-digit year is 19xx from 70, else 20xx */
static int64_t
rfc850(const char *s, size_t n)
{
	const char *c = memchr(s, ',', n);

	if (!c || (size_t)(s + n - c) != 24)
		return -1;
	if (c[1] != ' ' || c[4] != '-' || c[8] != '-' || c[11] != ' ' ||
	    memcmp(c + 20, " GMT", 4) != 0)
		return -1;
	int y = num(c + 9, 2);
	if (y >= 0)
		y += y < 70 ? 2000 : 1900;
	return combine(y, month(c + 5), num(c + 2, 2), clock_of(c + 12));
}

/* "Sun Nov  6 08:49:37 1994" */
static int64_t
asctime_date(const char *s, size_t n)
{
	if (n != 24 || s[3] != ' ' || s[7] != ' ' || s[10] != ' ' || s[19] != ' ')
		return -1;
	int d = s[8] == ' ' ? num(s + 9, 1) : num(s + 8, 2);
	return combine(num(s + 20, 4), month(s + 4), d, clock_of(s + 11));
}

int64_t
cc_date(const char *s, size_t n)
{
	int64_t t;

	if (n < 24)
		return -1;
	if ((t = imf_fixdate(s, n)) >= 0 || (t = rfc850(s, n)) >= 0)
		return t;
	return asctime_date(s, n);
}

void
cc_date_fmt(int64_t t, char dst[30])
{
	int64_t days = (t >= 0 ? t : 0) / 86400, secs = (t >= 0 ? t : 0) % 86400;
	/* civil_from_days, the inverse of days_from_civil */
	int64_t z = days + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
	unsigned wd = (unsigned)((days + 4) % 7);

	snprintf(dst, 30, "%.3s, %02u %.3s %04u %02u:%02u:%02u GMT", wdays + 3 * wd, d,
	    months + 3 * (m - 1), (unsigned)y % 10000, (unsigned)(secs / 3600),
	    (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
}
