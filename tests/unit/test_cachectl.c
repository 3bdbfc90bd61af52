/*
 * test_cachectl.c: cachectl.h against its contract, RFC 9111 and RFC 9110. Dates are
 * checked against the C library (timegm, strftime in the C locale) over a spread of
 * timestamps; requests and responses are real heads parsed by http.c, so the fields
 * cachectl reads are the views the proxy hands it. Entity-tag hashes are compared with
 * cc_hash of the tag as sent without W/, which is what cachectl.h promises.
 */
#include <stdint.h>
#include <time.h>

#include "cachectl.h"
#include "http.h"
#include "t.h"

#define S(lit) lit, (sizeof(lit) - 1)
#define NFIELDS 64
#define NOV94 784111777         /* Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110 5.6.7) */
#define REQ "GET / HTTP/1.1\r\nHost: a\r\n"        /* a request head's start */
#define OK200 "HTTP/1.1 200 OK\r\n"                 /* a response head's start */

static struct http_field fields[NFIELDS];
static struct http_msg m;
static struct cc_req rq;
static struct cc_resp o;

static uint64_t xs64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* the hash cachectl gives an entity tag written tag (without W/) */
static uint64_t tag(const char *t)
{
	uint64_t h = cc_hash(t, strlen(t), CC_HASH0);

	return h ? h : 1;
}

/* parses request head and runs cc_request on it */
static void req(const char *head)
{
	size_t n = strlen(head), scan = 0;

	T_NOTES(head);
	memset(&m, 0, sizeof m);
	m.f = fields;
	m.fcap = NFIELDS;
	CHECK_EQ(http_head_len(head, n, &scan), n);
	CHECK_EQ(http_parse_request(head, n, &m), S_NONE);
	memset(&rq, 0xa5, sizeof rq);
	cc_request(head, &m, &rq);
}

/* parses response head (to a GET) and runs cc_response on it */
static void resp(const char *head, int auth, uint32_t ttl, int64_t now)
{
	size_t n = strlen(head), scan = 0;

	T_NOTES(head);
	memset(&m, 0, sizeof m);
	m.f = fields;
	m.fcap = NFIELDS;
	CHECK_EQ(http_head_len(head, n, &scan), n);
	CHECK_EQ(http_parse_response(head, n, M_GET, &m), S_NONE);
	memset(&o, 0xa5, sizeof o);
	cc_response(head, &m, auth, ttl, now, &o);
	CHECK(o.vary_ae <= 1 && o.explicit_fresh <= 1);
	CHECK(o.etag_text.len == 0 || (size_t)o.etag_text.off + o.etag_text.len <= n);
}

/* stored (why NULL) with this lifetime */
#define STORED(life) do { CHECK_STR(o.why, NULL); CHECK_EQ(o.lifetime, (life)); } while (0)
/* refused, the reason naming word */
#define REFUSED(word) do { \
	CHECK(o.why != NULL); \
	if (!strstr(o.why, (word))) { \
		t_fail(__FILE__, __LINE__, "why: got \"%s\", want one naming \"%s\"", o.why, \
		    (word)); \
		return; \
	} \
} while (0)

/* ---- dates ------------------------------------------------------------------------ */

static void cc_date_forms(void)
{
	CHECK_EQ(cc_date(S("Sun, 06 Nov 1994 08:49:37 GMT")), NOV94);
	CHECK_EQ(cc_date(S("Sunday, 06-Nov-94 08:49:37 GMT")), NOV94);
	CHECK_EQ(cc_date(S("Sun Nov  6 08:49:37 1994")), NOV94);
	CHECK_EQ(cc_date(S("Sun Nov 06 08:49:37 1994")), NOV94);
	CHECK_EQ(cc_date(S("Thu, 01 Jan 1970 00:00:00 GMT")), 0);
	CHECK_EQ(cc_date(S("Tue, 29 Feb 2000 12:00:00 GMT")), 951825600);
	CHECK_EQ(cc_date(S("Tue, 19 Jan 2038 03:14:08 GMT")), 2147483648LL);
	CHECK_EQ(cc_date(S("Fri, 31 Dec 9999 23:59:59 GMT")), 253402300799LL);
	CHECK_EQ(cc_date(S("Thu Jan  1 00:00:00 1970")), 0);
	CHECK_EQ(cc_date(S("Tue Feb 29 12:00:00 2000")), 951825600);
	CHECK_EQ(cc_date(S("Mon Dec 31 23:59:59 2001")), 1009843199);
	/* a leap second is in the grammar (second = 2DIGIT, 00-60) */
	CHECK_EQ(cc_date(S("Sat, 31 Dec 2016 23:59:60 GMT")), 1483228800);
	/* only the bytes given count */
	CHECK_EQ(cc_date("Sun, 06 Nov 1994 08:49:37 GMTxyz", 29), NOV94);
}

/* RFC 850's two-digit year: 70..99 are 19xx, 00..69 are 20xx */
static void cc_date_rfc850_years(void)
{
	CHECK_EQ(cc_date(S("Thursday, 01-Jan-70 00:00:00 GMT")), 0);
	CHECK_EQ(cc_date(S("Friday, 31-Dec-99 23:59:59 GMT")), 946684799);
	CHECK_EQ(cc_date(S("Saturday, 01-Jan-00 00:00:00 GMT")), 946684800);
	CHECK_EQ(cc_date(S("Tuesday, 29-Feb-00 12:00:00 GMT")), 951825600);
	CHECK_EQ(cc_date(S("Tuesday, 19-Jan-38 03:14:08 GMT")), 2147483648LL);
	CHECK_EQ(cc_date(S("Saturday, 31-Dec-69 23:59:59 GMT")), 3155759999LL);
	CHECK_EQ(cc_date(S("Wednesday, 09-Sep-15 01:02:03 GMT")), 1441760523);
	CHECK_EQ(cc_date(S("Monday, 01-Jan-01 00:00:00 GMT")), 978307200);
}

static void cc_date_invalid(void)
{
	static const char *const bad[] = {
		"",
		"Sun, 06 Nov 1994",
		"Sun, 06 Nov 1994 08:49:37 GM",             /* one short */
		"Sun, 06 Nov 1994 08:49:37 GMT ",           /* one long */
		" Sun, 06 Nov 1994 08:49:37 GMT",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sun, 06 Foo 1994 08:49:37 GMT",            /* bad month */
		"Sun, 06 nov 1994 08:49:37 GMT",            /* lower-case month */
		"Sun, 06 NOV 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",            /* hour 24 */
		"Sun, 06 Nov 1994 08:60:37 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 00 Nov 1994 08:49:37 GMT",
		"Sun, 32 Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:49:37 UTC",            /* not GMT */
		"Sun, 06 Nov 1994 08:49:37 gmt",
		"Sun, 06 Nov 1994 08:49:37+0000",
		"Sun, 06 Nov 1994 08.49.37 GMT",
		"Sun, 0x Nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 19x4 08:49:37 GMT",
		"Sun, 06 Nov 1994 08:4x:37 GMT",
		"Sun, 06 Nov 1994 -8:49:37 GMT",
		"Sun,06 Nov 1994 08:49:37 GMT ",
		"Sun, 06-Nov-1994 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 UTC",           /* RFC 850 without GMT */
		"Sunday, 06-Nov-94 08:49:37",
		"Sunday, 06-nov-94 08:49:37 GMT",
		"Sunday, 06-Foo-94 08:49:37 GMT",
		"Sunday, 06 Nov 94 08:49:37 GMT",
		"Sunday, 06-Nov-94 24:49:37 GMT",
		"Sunday, 06-Nov-9x 08:49:37 GMT",
		"Sunday, 06-Nov-94 08:49:37 GMTT",
		"Sunday 06-Nov-94 08:49:37 GMT",
		"Sun Nov  6 08:49:37 1994 ",                /* asctime, one long */
		"Sun Nov  6 08:49:37 94",
		"Sun Nov 6 08:49:37 1994",
		"Sun nov  6 08:49:37 1994",
		"Sun Nox  6 08:49:37 1994",
		"Sun Nov  6 24:49:37 1994",
		"Sun Nov  0 08:49:37 1994",
		"Sun Nov  x 08:49:37 1994",
		"Sun Nov  6 08:49:37 199x",
		"Sun Nov  6 08:49:37 1994 GMT",
		"SunNov  6 08:49:37 1994 ",
		"                        ",
		"123456789012345678901234567890",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		T_NOTES(bad[i]);
		CHECK_EQ(cc_date(bad[i], strlen(bad[i])), -1);
	}
}

/* cc_date_fmt(t) is strftime's IMF-fixdate, and cc_date reads t back from it */
static void fmt_one(int64_t t)
{
	char got[30], want[64], alt[64];
	time_t tt = (time_t)t;
	struct tm tm;

	memset(got, 'x', sizeof got);
	cc_date_fmt(t, got);
	CHECK(gmtime_r(&tt, &tm) != NULL);
	strftime(want, sizeof want, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	T_NOTES(want);
	CHECK_EQ(strlen(got), 29);
	CHECK_STR(got, want);
	CHECK_EQ(cc_date(got, 29), t);
	/* the other two forms of the same instant */
	strftime(alt, sizeof alt, "%a %b %e %H:%M:%S %Y", &tm);
	CHECK_EQ(cc_date(alt, strlen(alt)), t);
	if (tm.tm_year >= 70 && tm.tm_year < 170) {
		strftime(alt, sizeof alt, "%A, %d-%b-%y %H:%M:%S GMT", &tm);
		CHECK_EQ(cc_date(alt, strlen(alt)), t);
	}
	CHECK_EQ(timegm(&tm), t);
}

static void cc_date_fmt_round_trip(void)
{
	static const int64_t fixed[] = {
		0, 1, 59, 60, 3599, 3600, 86399, 86400, 31535999, 31536000, 68255999,
		NOV94, 946684799, 946684800, 951782399, 951782400, 951868799, 951868800,
		978307199, 1234567890, 2147483646, 2147483647, 2147483648LL, 2147483649LL,
		4102444799LL, 4102444800LL, 4107542400LL, 253402300799LL,
	};
	char b[30];
	uint64_t s = 0x9e3779b97f4a7c15ull;

	cc_date_fmt(NOV94, b);
	CHECK_STR(b, "Sun, 06 Nov 1994 08:49:37 GMT");
	cc_date_fmt(0, b);
	CHECK_STR(b, "Thu, 01 Jan 1970 00:00:00 GMT");
	cc_date_fmt(951825600, b);
	CHECK_STR(b, "Tue, 29 Feb 2000 12:00:00 GMT");
	cc_date_fmt(2147483648LL, b);
	CHECK_STR(b, "Tue, 19 Jan 2038 03:14:08 GMT");
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		CALL(fmt_one(fixed[i]));
	/* every day from 1999 to 2001 (the leap years around a century), at a second
	 * that moves */
	for (int64_t t = 915148800; t < 1009843200; t += 86400 + 7)
		CALL(fmt_one(t));
	for (int i = 0; i < 20000; i++)
		CALL(fmt_one((int64_t)(xs64(&s) % 253402300800ull)));
	/* before the epoch is clamped to it */
	cc_date_fmt(-1, b);
	CHECK_STR(b, "Thu, 01 Jan 1970 00:00:00 GMT");
}

/* ---- requests ----------------------------------------------------------------------- */

static void cc_request_plain(void)
{
	CALL(req("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
	CHECK_EQ(rq.ninm, 0);
	CHECK_EQ(rq.ims, -1);
	CHECK_EQ(rq.auth, 0);
	CHECK_STR(rq.bypass, NULL);
	CHECK_EQ(rq.ae, (uint32_t)cc_hash("", 0, CC_HASH0));
	CHECK_EQ(cc_not_modified(&rq, tag("\"a\""), NOV94), 0);
	CALL(req("HEAD /a HTTP/1.1\r\nHost: a\r\n\r\n"));
	CHECK_STR(rq.bypass, NULL);
	CALL(req("GET /a HTTP/1.0\r\n\r\n"));
	CHECK_STR(rq.bypass, NULL);
}

static void cc_request_inm_one(void)
{
	CALL(req(REQ "If-None-Match: \"abc\"\r\n\r\n"));
	CHECK_EQ(rq.ninm, 1);
	CHECK(rq.inm[0] == tag("\"abc\""));
	CALL(req(REQ "if-none-match:   \"\"  \r\n\r\n"));
	CHECK_EQ(rq.ninm, 1);
	CHECK(rq.inm[0] == tag("\"\""));
	/* the opaque tag may hold a comma, and it is compared byte for byte */
	CALL(req(REQ "If-None-Match: \"a,b\"\r\n\r\n"));
	CHECK_EQ(rq.ninm, 1);
	CHECK(rq.inm[0] == tag("\"a,b\""));
	CHECK(rq.inm[0] != tag("\"a\""));
}

static void cc_request_inm_list(void)
{
	CALL(req(REQ "If-None-Match: \"a\", W/\"b\",\"c\"\r\n\r\n"));
	CHECK_EQ(rq.ninm, 3);
	CHECK(rq.inm[0] == tag("\"a\""));
	CHECK(rq.inm[1] == tag("\"b\""));   /* weak: hashed without W/ */
	CHECK(rq.inm[2] == tag("\"c\""));
	CALL(req(REQ "If-None-Match: W/\"x\"\r\n\r\n"));
	CHECK_EQ(rq.ninm, 1);
	CHECK(rq.inm[0] == tag("\"x\""));
	/* exactly CC_INM_KEEP are kept, one more is too many */
	CALL(req(REQ "If-None-Match: \"1\", \"2\", \"3\", \"4\"\r\n\r\n"));
	CHECK_EQ(rq.ninm, CC_INM_KEEP);
	CHECK(rq.inm[3] == tag("\"4\""));
	CALL(req(REQ
	    "If-None-Match: \"1\", \"2\", \"3\", \"4\", \"5\"\r\n\r\n"));
	CHECK_EQ(rq.ninm, CC_INM_MANY);
	CHECK_EQ(cc_not_modified(&rq, tag("\"1\""), -1), 0);
	CHECK_EQ(cc_not_modified(&rq, tag("\"5\""), -1), 0);
	/* a trailing comma and blanks are not a tag */
	CALL(req(REQ "If-None-Match: \"a\" , \t,\r\n\r\n"));
	CHECK_EQ(rq.ninm, 1);
}

static void cc_request_inm_star(void)
{
	CALL(req(REQ "If-None-Match: *\r\n\r\n"));
	CHECK_EQ(rq.ninm, CC_INM_ANY);
	CHECK_EQ(cc_not_modified(&rq, tag("\"anything\""), -1), 1);
	CHECK_EQ(cc_not_modified(&rq, 0, -1), 1);
}

static void cc_request_inm_malformed(void)
{
	static const char *const bad[] = {
		"abc", "\"abc", "W/abc", "W/\"abc", "\"a\", b", "w/\"a\"", "W\"a\"",
		"\"a\", W/", "'a'", "\"a\"x",
		"Wx\"a\"",            /* W without its slash */
	};
	char head[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(head, sizeof head, REQ "If-None-Match: %s\r\n\r\n",
		    bad[i]);
		CALL(req(head));
		CHECK_EQ(rq.ninm, CC_INM_MANY);
		CHECK_EQ(cc_not_modified(&rq, tag("\"a\""), -1), 0);
		CHECK_EQ(cc_not_modified(&rq, tag("\"abc\""), -1), 0);
	}
}

static void cc_request_ims(void)
{
	CALL(req(REQ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"));
	CHECK_EQ(rq.ims, NOV94);
	CHECK_EQ(rq.ninm, 0);
	CALL(req(REQ "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n\r\n"));
	CHECK_EQ(rq.ims, NOV94);
	CALL(req(REQ "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n\r\n"));
	CHECK_EQ(rq.ims, NOV94);
	CALL(req(REQ "If-Modified-Since: yesterday\r\n\r\n"));
	CHECK_EQ(rq.ims, -1);
	CALL(req(REQ "If-Modified-Since: \r\n\r\n"));
	CHECK_EQ(rq.ims, -1);
}

static void cc_request_accept_encoding(void)
{
	uint32_t none, none2, gzip, gzip2, br, gzip_br;

	CALL(req(REQ "\r\n"));
	none = rq.ae;
	CALL(req("GET /other HTTP/1.1\r\nHost: b\r\nUser-Agent: x\r\n\r\n"));
	none2 = rq.ae;
	CALL(req(REQ "Accept-Encoding: gzip\r\n\r\n"));
	gzip = rq.ae;
	CALL(req("GET /z HTTP/1.1\r\naccept-encoding: gzip\r\nHost: c\r\n\r\n"));
	gzip2 = rq.ae;
	CALL(req(REQ "Accept-Encoding: br\r\n\r\n"));
	br = rq.ae;
	CALL(req(REQ "Accept-Encoding: gzip, br\r\n\r\n"));
	gzip_br = rq.ae;
	CHECK_EQ(none, none2);
	CHECK_EQ(gzip, gzip2);
	CHECK(none != gzip);
	CHECK(gzip != br);
	CHECK(gzip != gzip_br);
	CHECK(br != gzip_br);
	CHECK_EQ(gzip, (uint32_t)cc_hash("gzip", 4, CC_HASH0));
}

static void cc_request_bypass(void)
{
	static const struct { const char *head; const char *why; } tab[] = {
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n", "method" },
		{ "POST / HTTP/1.1\r\nHost: a\r\n\r\n", "method" },
		{ "PUT / HTTP/1.1\r\nHost: a\r\n\r\n", "method" },
		{ "DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", "method" },
		{ "OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", "method" },
		{ "PURGE / HTTP/1.1\r\nHost: a\r\n\r\n", "method" },
		{ REQ "Content-Length: 5\r\n\r\n", "body" },
		{ REQ "Transfer-Encoding: chunked\r\n\r\n", "body" },
		{ REQ "Range: bytes=0-1\r\n\r\n", "Range" },
		{ "HEAD / HTTP/1.1\r\nHost: a\r\nrange: bytes=5-\r\n\r\n", "Range" },
		{ REQ "Cache-Control: no-store\r\n\r\n", "no-store" },
		{ REQ "Cache-Control: max-age=0, No-Store\r\n\r\n",
		    "no-store" },
		{ REQ "Cache-Control: max-age=0\r\n"
		    "Cache-Control: no-store\r\n\r\n", "no-store" },
	};

	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		CALL(req(tab[i].head));
		CHECK(rq.bypass != NULL);
		if (!strstr(rq.bypass, tab[i].why)) {
			t_fail(__FILE__, __LINE__, "bypass: got \"%s\", want one naming \"%s\"",
			    rq.bypass, tab[i].why);
			return;
		}
	}
	/* what does not keep the cache out */
	CALL(req(REQ "Cache-Control: no-cache\r\n\r\n"));
	CHECK_STR(rq.bypass, NULL);
	CALL(req(REQ "Cache-Control: x=\"no-store\"\r\n\r\n"));
	CHECK_STR(rq.bypass, NULL);
	CALL(req(REQ "X-Range: bytes=0-1\r\n\r\n"));
	CHECK_STR(rq.bypass, NULL);
}

static void cc_request_auth(void)
{
	CALL(req(REQ "Authorization: Basic YTpi\r\n\r\n"));
	CHECK_EQ(rq.auth, 1);
	CHECK_STR(rq.bypass, NULL);
	CALL(req(REQ "authorization: Bearer x\r\n\r\n"));
	CHECK_EQ(rq.auth, 1);
	CALL(req(REQ "Proxy-Authorization: Basic YTpi\r\n\r\n"));
	CHECK_EQ(rq.auth, 0);
}

/* ---- conditionals ------------------------------------------------------------------- */

static void cc_not_modified_cases(void)
{
	uint64_t a = tag("\"a\""), b = tag("\"b\"");

	/* If-None-Match wins over If-Modified-Since, both ways */
	CALL(req(REQ "If-None-Match: \"a\"\r\n"
	    "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"));
	CHECK_EQ(rq.ims, NOV94);
	CHECK_EQ(cc_not_modified(&rq, a, NOV94 + 100), 1);     /* modified since, tag matches */
	CHECK_EQ(cc_not_modified(&rq, b, NOV94 - 100), 0);     /* not modified, tag differs */
	CHECK_EQ(cc_not_modified(&rq, 0, NOV94 - 100), 0);     /* no tag stored */
	/* weak comparison: W/ on either side is ignored */
	CALL(req(REQ "If-None-Match: W/\"a\"\r\n\r\n"));
	CHECK_EQ(cc_not_modified(&rq, a, -1), 1);
	CALL(resp(OK200 "ETag: W/\"a\"\r\n\r\n", 0, 0, 0));
	CHECK(o.etag == a);
	CALL(req(REQ "If-None-Match: \"a\"\r\n\r\n"));
	CHECK_EQ(cc_not_modified(&rq, o.etag, -1), 1);
	CHECK_EQ(cc_not_modified(&rq, b, -1), 0);
	/* any tag of the list */
	CALL(req(REQ "If-None-Match: \"x\", \"y\", W/\"b\"\r\n\r\n"));
	CHECK_EQ(cc_not_modified(&rq, b, -1), 1);
	CHECK_EQ(cc_not_modified(&rq, a, -1), 0);
	/* If-Modified-Since: not modified at or before it */
	CALL(req(REQ "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"));
	CHECK_EQ(cc_not_modified(&rq, a, NOV94), 1);
	CHECK_EQ(cc_not_modified(&rq, a, NOV94 - 1), 1);
	CHECK_EQ(cc_not_modified(&rq, 0, 0), 1);
	CHECK_EQ(cc_not_modified(&rq, a, NOV94 + 1), 0);
	CHECK_EQ(cc_not_modified(&rq, a, -1), 0);               /* no Last-Modified */
	/* no validators in the request */
	CALL(req(REQ "\r\n"));
	CHECK_EQ(cc_not_modified(&rq, a, 0), 0);
	CHECK_EQ(cc_not_modified(&rq, 0, -1), 0);
	/* an invalid If-Modified-Since is none */
	CALL(req(REQ "If-Modified-Since: 784111777\r\n\r\n"));
	CHECK_EQ(cc_not_modified(&rq, a, 0), 0);
}

/* ---- responses ---------------------------------------------------------------------- */

static void cc_response_max_age(void)
{
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nContent-Length: 0\r\n\r\n",
	    0, 0, 0));
	STORED(60);
	CHECK_EQ(o.age, 0);
	CHECK_EQ(o.explicit_fresh, 1);
	CHECK(o.etag == 0);
	CHECK_EQ(o.etag_text.len, 0);
	CHECK_EQ(o.lm, -1);
	CHECK_EQ(o.vary_ae, 0);
	CALL(resp(OK200 "cache-control: MAX-AGE=45\r\n\r\n", 0, 0, 0));
	STORED(45);
	CALL(resp(OK200 "Cache-Control: public,max-age=7 , foo=bar\r\n\r\n", 0, 0, 0));
	STORED(7);
	/* a delta-seconds overflow is 2^31 (RFC 9111 1.2.2) */
	CALL(resp(OK200 "Cache-Control: max-age=99999999999999999999999\r\n\r\n",
	    0, 0, 0));
	STORED(2147483647u);
}

static void cc_response_s_maxage(void)
{
	CALL(resp(OK200 "Cache-Control: max-age=60, s-maxage=300\r\n\r\n", 0, 0, 0));
	STORED(300);
	CHECK_EQ(o.explicit_fresh, 1);
	CALL(resp(OK200 "Cache-Control: s-maxage=10, max-age=600\r\n\r\n", 0, 0, 0));
	STORED(10);
	CALL(resp(OK200 "Cache-Control: s-maxage=20\r\n"
	    "Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n",
	    0, 0, 0));
	STORED(20);
}

static void cc_response_fields_combined(void)
{
	/* directives of every Cache-Control field count */
	CALL(resp(OK200 "Cache-Control: public\r\nX-A: 1\r\nCache-Control: max-age=30\r\n"
	    "Set-Cookie: a=b\r\n\r\n", 1, 0, 0));
	STORED(30);
	CALL(resp(OK200 "Cache-Control: max-age=30\r\nCache-Control: no-store\r\n\r\n",
	    0, 0, 0));
	REFUSED("no-store");
	CALL(resp(OK200 "Cache-Control: s-maxage=5\r\nCache-Control: max-age=30\r\n\r\n",
	    0, 0, 0));
	STORED(5);
}

static void cc_response_quoted(void)
{
	CALL(resp(OK200 "Cache-Control: max-age=\"90\"\r\n\r\n", 0, 0, 0));
	STORED(90);
	/* what sits inside a quoted string is not a directive */
	CALL(resp(OK200 "Cache-Control: ext=\"max-age=9, no-store\", max-age=60\r\n\r\n",
	    0, 0, 0));
	STORED(60);
	CALL(resp(OK200 "Cache-Control: ext=\"a\\\"b, private\", s-maxage=61\r\n\r\n",
	    0, 0, 0));
	STORED(61);
}

static void cc_response_max_age_malformed(void)
{
	static const char *const bad[] = {
		"max-age=abc", "max-age=", "max-age", "max-age=-1", "max-age=1.5", "max-age=60s",
		"max-age=\"\"", "max-age=\"6 0\"", "max-age =60",
		"s-maxage=x, max-age=60",
		"max-age=\"600",       /* the quoted string never ends */
	};
	char head[256];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* an ETag keeps it storable, so the lifetime shows */
		snprintf(head, sizeof head, OK200 "ETag: \"v\"\r\nCache-Control: %s\r\n\r\n",
		    bad[i]);
		CALL(resp(head, 0, 600, 0));
		STORED(0);
		CHECK_EQ(o.explicit_fresh, 1);
	}
}

static void cc_response_expires(void)
{
	/* Expires minus Date; now does not count */
	CALL(resp(OK200 "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\n\r\n", 0, 0, 1700000000));
	STORED(3600);
	CHECK_EQ(o.explicit_fresh, 1);
	CALL(resp(OK200 "Expires: Sunday, 06-Nov-94 08:50:37 GMT\r\n"
	    "Date: Sun Nov  6 08:49:37 1994\r\n\r\n", 0, 0, 0));
	STORED(60);
	/* max-age wins over Expires */
	CALL(resp(OK200 "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\nCache-Control: max-age=5\r\n\r\n", 0, 0, 0));
	STORED(5);
	/* Expires at or before Date: stale, so it needs a validator */
	CALL(resp(OK200 "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "Expires: Sun, 06 Nov 1994 08:49:37 GMT\r\nETag: \"e\"\r\n\r\n", 0, 0, 0));
	STORED(0);
	CALL(resp(OK200 "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
	    "Expires: Sun, 06 Nov 1994 07:49:37 GMT\r\n\r\n", 0, 0, 0));
	REFUSED("neither fresh nor validatable");
	CHECK_EQ(o.lifetime, 0);
	CHECK_EQ(o.explicit_fresh, 1);
}

static void cc_response_expires_no_date(void)
{
	CALL(resp(OK200 "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\n\r\n", 0, 0,
	    NOV94));
	STORED(3600);
	CHECK_EQ(o.explicit_fresh, 1);
	CALL(resp(OK200 "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\n\r\n", 0, 0,
	    NOV94 + 3000));
	STORED(600);
	CALL(resp(OK200 "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\nLast-Modified: "
	    "Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n", 0, 0, NOV94 + 4000));
	STORED(0);
	CHECK_EQ(o.lm, NOV94);
}

static void cc_response_expires_invalid(void)
{
	/* RFC 9111 5.3: an invalid Expires means already expired */
	CALL(resp(OK200 "Expires: 0\r\nETag: \"a\"\r\n\r\n", 0, 600, 0));
	STORED(0);
	CHECK_EQ(o.explicit_fresh, 1);
	CALL(resp(OK200 "Expires: -1\r\n\r\n", 0, 600, 0));
	REFUSED("neither fresh nor validatable");
	CHECK_EQ(o.lifetime, 0);
	CALL(resp(OK200 "Expires: Sun, 06 Nov 1994 09:49:37 GMT\r\nDate: soon\r\n"
	    "ETag: \"a\"\r\n\r\n", 0, 600, 0));
	STORED(0);
}

static void cc_response_no_store_private(void)
{
	CALL(resp(OK200 "Cache-Control: no-store\r\n\r\n", 0, 0, 0));
	REFUSED("no-store");
	CALL(resp(OK200 "Cache-Control: public, max-age=60, No-Store\r\n\r\n", 1, 0, 0));
	REFUSED("no-store");
	CALL(resp(OK200 "Cache-Control: private, max-age=60\r\n\r\n", 0, 0, 0));
	REFUSED("private");
	CALL(resp(OK200 "Cache-Control: s-maxage=60\r\nCache-Control: Private\r\n\r\n",
	    0, 0, 0));
	REFUSED("private");
	CALL(resp(OK200 "Cache-Control: private=\"Set-Cookie\", max-age=60\r\n\r\n",
	    0, 0, 0));
	REFUSED("private");
}

static void cc_response_no_cache(void)
{
	CALL(resp(OK200 "Cache-Control: no-cache\r\nETag: \"a\"\r\n\r\n", 0, 600, 0));
	STORED(0);
	CHECK(o.etag == tag("\"a\""));
	CALL(resp(OK200 "Cache-Control: no-cache, max-age=60\r\n"
	    "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n", 0, 0, 0));
	STORED(0);
	CHECK_EQ(o.lm, NOV94);
	CALL(resp(OK200 "Cache-Control: no-cache, max-age=60\r\n\r\n", 0, 600, 0));
	REFUSED("neither fresh nor validatable");
	CALL(resp(OK200 "Cache-Control: no-cache\r\n\r\n", 0, 600, 0));
	REFUSED("neither fresh nor validatable");
}

static void cc_response_auth(void)
{
	static const struct { const char *cc; int ok; } tab[] = {
		{ "max-age=60", 0 },
		{ "no-cache", 0 },
		{ "public, max-age=60", 1 },
		{ "s-maxage=60", 1 },
		{ "max-age=60, must-revalidate", 1 },
		{ "max-age=60, proxy-revalidate", 1 },
		{ "PUBLIC", 1 },
	};
	char head[256];

	for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		snprintf(head, sizeof head, OK200 "ETag: \"a\"\r\nCache-Control: %s\r\n\r\n",
		    tab[i].cc);
		CALL(resp(head, 1, 600, 0));
		if (tab[i].ok)
			CHECK_STR(o.why, NULL);
		else
			REFUSED("Authorization");
		/* without Authorization in the request, every one is stored */
		CALL(resp(head, 0, 600, 0));
		CHECK_STR(o.why, NULL);
	}
	CALL(resp(OK200 "ETag: \"a\"\r\n\r\n", 1, 600, 0));
	REFUSED("Authorization");
}

static void cc_response_set_cookie(void)
{
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nSet-Cookie: a=b\r\n\r\n", 0, 0, 0));
	REFUSED("Set-Cookie");
	CALL(resp(OK200 "set-cookie: a=b\r\n\r\n", 0, 600, 0));
	REFUSED("Set-Cookie");
	CALL(resp(OK200 "Cache-Control: s-maxage=60, must-revalidate\r\n"
	    "Set-Cookie: a=b\r\n\r\n", 0, 0, 0));
	REFUSED("Set-Cookie");
	CALL(resp(OK200 "Set-Cookie: a=b\r\nCache-Control: public, max-age=60\r\n\r\n",
	    0, 0, 0));
	STORED(60);
	CALL(resp(OK200 "Set-Cookie: a=b\r\nCache-Control: public, max-age=60\r\n"
	    "Authorization: x\r\n\r\n", 1, 0, 0));
	STORED(60);
}

static void cc_response_vary(void)
{
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nVary: Accept-Encoding\r\n\r\n",
	    0, 0, 0));
	STORED(60);
	CHECK_EQ(o.vary_ae, 1);
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nvary: accept-encoding\r\n\r\n",
	    0, 0, 0));
	STORED(60);
	CHECK_EQ(o.vary_ae, 1);
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nVary: Accept-Encoding, "
	    "accept-encoding\r\nVary: ACCEPT-ENCODING\r\n\r\n", 0, 0, 0));
	STORED(60);
	CHECK_EQ(o.vary_ae, 1);
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nVary:\r\n\r\n", 0, 0, 0));
	STORED(60);
	CHECK_EQ(o.vary_ae, 0);
	static const char *const bad[] = {
		"User-Agent", "*", "Accept-Encoding, User-Agent", "Cookie,Accept-Encoding",
		"Accept-Encodings", "Accept", "Accept-Encoding\r\nVary: Origin",
	};
	char head[256];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(head, sizeof head, OK200 "Cache-Control: max-age=60\r\n"
		    "Vary: %s\r\n\r\n", bad[i]);
		CALL(resp(head, 0, 0, 0));
		REFUSED("Vary");
	}
}

static void cc_response_status(void)
{
	static const int refused[] = { 100, 103, 206, 304 };
	char head[256];

	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nCache-Control: public, max-age=60\r\n"
		    "ETag: \"a\"\r\n\r\n", refused[i]);
		CALL(resp(head, 0, 600, 0));
		REFUSED("status");
	}
	/* a 302 needs explicit freshness; the route's ttl is not enough */
	CALL(resp("HTTP/1.1 302 Found\r\nLocation: /x\r\nETag: \"a\"\r\n\r\n", 0, 600, 0));
	REFUSED("status without explicit freshness");
	CALL(resp("HTTP/1.1 302 Found\r\nLocation: /x\r\nCache-Control: max-age=60\r\n\r\n",
	    0, 600, 0));
	STORED(60);
	CALL(resp("HTTP/1.1 307 Temporary Redirect\r\nLocation: /x\r\nExpires: Sun, 06 Nov 1994 "
	    "09:49:37 GMT\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n", 0, 600, 0));
	STORED(3600);
	CALL(resp("HTTP/1.1 500 Oops\r\nETag: \"a\"\r\n\r\n", 0, 600, 0));
	REFUSED("status without explicit freshness");
	CALL(resp("HTTP/1.1 503 Busy\r\nCache-Control: max-age=5\r\n\r\n", 0, 600, 0));
	STORED(5);
}

static void cc_response_ttl(void)
{
	static const int heuristic[] = { 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501 };
	static const int other[] = { 201, 202, 302, 303, 307, 400, 403, 500, 502, 503 };
	char head[256];

	for (size_t i = 0; i < sizeof heuristic / sizeof heuristic[0]; i++) {
		snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
		    heuristic[i]);
		CALL(resp(head, 0, 600, 0));
		STORED(600);
		CHECK_EQ(o.explicit_fresh, 0);
		/* without a ttl it is neither fresh nor validatable */
		CALL(resp(head, 0, 0, 0));
		REFUSED("neither fresh nor validatable");
		CHECK_EQ(o.lifetime, 0);
	}
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++) {
		snprintf(head, sizeof head, "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n", other[i]);
		CALL(resp(head, 0, 600, 0));
		CHECK(o.why != NULL);
		CHECK_EQ(o.lifetime, 0);
	}
	/* explicit freshness wins over the ttl, even a shorter one */
	CALL(resp(OK200 "Cache-Control: max-age=5\r\n\r\n", 0, 600, 0));
	STORED(5);
	CALL(resp(OK200 "Cache-Control: max-age=0\r\nETag: \"a\"\r\n\r\n", 0, 600, 0));
	STORED(0);
	/* a validator keeps a response without freshness or ttl */
	CALL(resp(OK200 "ETag: \"a\"\r\n\r\n", 0, 0, 0));
	STORED(0);
	CHECK_EQ(o.explicit_fresh, 0);
}

static void cc_response_age(void)
{
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nAge: 30\r\n\r\n", 0, 0, 0));
	STORED(60);
	CHECK_EQ(o.age, 30);
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nAge: 59\r\n\r\n", 0, 0, 0));
	STORED(60);
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nAge: 60\r\n\r\n", 0, 0, 0));
	REFUSED("neither fresh nor validatable");
	CHECK_EQ(o.age, 60);
	CALL(resp(OK200 "Age: 601\r\n\r\n", 0, 600, 0));
	REFUSED("neither fresh nor validatable");
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nAge: 100\r\nETag: \"a\"\r\n\r\n",
	    0, 0, 0));
	STORED(60);
	CHECK_EQ(o.age, 100);
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nAge: 100\r\n"
	    "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n", 0, 0, 0));
	STORED(60);
	/* an invalid Age is none; a huge one is 2^31 - 1 */
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nAge: soon\r\n\r\n", 0, 0, 0));
	STORED(60);
	CHECK_EQ(o.age, 0);
	CALL(resp(OK200 "Cache-Control: max-age=60\r\nAge: 99999999999999\r\n"
	    "ETag: \"a\"\r\n\r\n", 0, 0, 0));
	STORED(60);
	CHECK_EQ(o.age, 2147483647u);
}

static void cc_response_validators(void)
{
	static const char head[] = OK200 "ETag: \"v1\"\r\n"
	    "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n";
	static const char weak[] = OK200 "Last-Modified: soon\r\netag:  W/\"v1\" \r\n\r\n";

	CALL(resp(head, 0, 0, 0));
	STORED(0);
	CHECK(o.etag == tag("\"v1\""));
	CHECK_MEM(head + o.etag_text.off, o.etag_text.len, "\"v1\"");
	CHECK_EQ(o.lm, NOV94);
	CALL(resp(weak, 0, 0, 0));
	CHECK(o.etag == tag("\"v1\""));
	CHECK_MEM(weak + o.etag_text.off, o.etag_text.len, "W/\"v1\"");
	CHECK_EQ(o.lm, -1);
	/* an empty ETag is none */
	CALL(resp(OK200 "ETag:\r\n\r\n", 0, 0, 0));
	CHECK(o.etag == 0);
	CHECK_EQ(o.etag_text.len, 0);
	REFUSED("neither fresh nor validatable");
}

static const struct t_case cases[] = {
	T(cc_date_forms), T(cc_date_rfc850_years), T(cc_date_invalid), T(cc_date_fmt_round_trip),
	T(cc_request_plain), T(cc_request_inm_one), T(cc_request_inm_list),
	T(cc_request_inm_star), T(cc_request_inm_malformed), T(cc_request_ims),
	T(cc_request_accept_encoding), T(cc_request_bypass), T(cc_request_auth),
	T(cc_not_modified_cases),
	T(cc_response_max_age), T(cc_response_s_maxage), T(cc_response_fields_combined),
	T(cc_response_quoted), T(cc_response_max_age_malformed), T(cc_response_expires),
	T(cc_response_expires_no_date), T(cc_response_expires_invalid),
	T(cc_response_no_store_private), T(cc_response_no_cache), T(cc_response_auth),
	T(cc_response_set_cookie), T(cc_response_vary), T(cc_response_status), T(cc_response_ttl),
	T(cc_response_age), T(cc_response_validators),
};

T_MAIN(cases)
