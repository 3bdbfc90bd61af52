/*
 * cachectl.h: what RFC 9111 (HTTP caching) and RFC 9110's conditionals say about one
 * request or one response, for a shared cache. Pure: it reads parsed heads (views into
 * the caller's buffer) and fills small structs; no clock but the one passed in, no
 * storage. Dates are seconds since the epoch as the origin wrote them; pollux never
 * compares them with its own clock (a router often boots with a wrong one), except
 * for an Expires sent without a Date.
 */
#ifndef POLLUX_CACHECTL_H
#define POLLUX_CACHECTL_H

#include <stddef.h>
#include <stdint.h>
#include "http.h"

#define CC_INM_ANY 0xfe         /* If-None-Match: * */
#define CC_INM_MANY 0xff        /* more tags than kept: never matches (a 200 is right) */
#define CC_INM_KEEP 4           /* entity tags of an If-None-Match kept per request */

/* a request's facts for the cache, taken before its head is rewritten */
struct cc_req {
	uint64_t inm[CC_INM_KEEP];  /* If-None-Match tags, hashed without W/ */
	int64_t ims;                /* If-Modified-Since; -1: none or invalid */
	uint32_t ae;                /* hash of the Accept-Encoding value ("" when absent) */
	uint8_t ninm;               /* tags in inm, or CC_INM_ANY / CC_INM_MANY */
	uint8_t auth;               /* it carries Authorization */
	const char *bypass;         /* why the cache must stay out of it; NULL: it may not */
};

/* a response's facts for the cache */
struct cc_resp {
	uint32_t lifetime;          /* seconds fresh, counted from age 0 */
	uint32_t age;               /* the Age it arrived with, seconds */
	int64_t lm;                 /* Last-Modified; -1: none */
	uint64_t etag;              /* hash of the ETag without W/; 0: none */
	struct http_span etag_text; /* the ETag value as sent (len 0: none) */
	uint8_t vary_ae;            /* Vary: Accept-Encoding (stored per value) */
	uint8_t explicit_fresh;     /* Cache-Control max-age/s-maxage or Expires given one */
	const char *why;            /* NULL: a shared cache may store it; else why not */
};

/*
 * Reads request m (head at p): the conditionals, Accept-Encoding and Authorization,
 * and whether the cache must be bypassed (a method other than GET and HEAD, a body,
 * Range, Cache-Control: no-store).
 */
void cc_request(const char *p, const struct http_msg *m, struct cc_req *r);

/*
 * Reads response m (head at p) to a GET: may a shared cache store it, and for how
 * long. auth: the request carried Authorization; ttl: the route's default freshness
 * in seconds for responses that give none (0: none); now: the wall clock, used only
 * for an Expires without a Date.
 */
void cc_response(const char *p, const struct http_msg *m, int auth, uint32_t ttl,
    int64_t now, struct cc_resp *out);

/* 1 when a stored response with ETag hash etag (0: none) and Last-Modified lm (-1:
 * none) satisfies the request's conditionals, so a 304 is the answer */
int cc_not_modified(const struct cc_req *r, uint64_t etag, int64_t lm);

/* an HTTP-date (IMF-fixdate, RFC 850 or asctime form) as seconds since the epoch;
 * -1 when s[0..n) is none of them */
int64_t cc_date(const char *s, size_t n);

/* writes t as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes and a NUL)
 * into dst[30] */
void cc_date_fmt(int64_t t, char dst[30]);

/* FNV-1a over s[0..n), continuing from h (start with CC_HASH0) */
#define CC_HASH0 0xcbf29ce484222325ull
uint64_t cc_hash(const char *s, size_t n, uint64_t h);

#endif
