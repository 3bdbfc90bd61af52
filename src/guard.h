/*
 * guard.h: who may use a route. Address rules (allow and deny lists of addresses and
 * CIDRs, IPv4 and IPv6), a per-address request rate (a token bucket per address and
 * route, in a fixed table), and HTTP basic authentication against compiled-in
 * PBKDF2-SHA256 password hashes, never plain text.
 */
#ifndef POLLUX_GUARD_H
#define POLLUX_GUARD_H

#include <stddef.h>
#include <stdint.h>
#include "route.h"
#include "util.h"

struct guard_bucket {
	unsigned char key[16];  /* the client address (IPv4 mapped into IPv6 form) */
	uint8_t used;
	uint8_t route;
	int32_t milli;          /* tokens, in thousandths */
	int64_t last;           /* when the tokens were last topped up */
};

/* 1 when the client address may use the route: not denied, and allowed when the
 * route has an allow list */
int guard_addr(const struct route_rule *r, const union addr *a);

/* 1 when the request is within the route's rate for this address; otherwise 0 and
 * *retry_after says in how many seconds a token is back */
int guard_rate(const struct route_rule *r, unsigned route, const union addr *a, int64_t now,
    unsigned *retry_after);

/* 1 when value[0..len), an Authorization header value, names a user of the route with
 * the right password */
int guard_auth(const struct route_rule *r, unsigned route, const char *value, size_t len,
    int64_t now);

/* 1 when s is a valid "a.b.c.d[/n]" or IPv6 "[/n]" rule */
int guard_cidr_valid(const char *s);

/* 1 when s is a valid "name:pbkdf2-sha256$iter$salthex$hashhex" line */
int guard_user_valid(const char *s);

/* writes "pbkdf2-sha256$iter$salt$hash" for password pw with a fresh salt into dst;
 * returns 0, or -1 without randomness */
int guard_hash(const char *pw, size_t len, char *dst, size_t cap);

#endif
