/*
 * route.h: the compile-time route table and its pure matcher. A rule matches on Host
 * (exact or "*.suffix", case-insensitive, port ignored; NULL matches any) and on a path
 * prefix taken on segment boundaries: "/api/" and "/api" both match "/api", "/api/x"
 * and "/api?q" but never "/apix". The first matching rule wins.
 */
#ifndef POLLUX_ROUTE_H
#define POLLUX_ROUTE_H

#include <stddef.h>
#include <stdint.h>

enum { R_STRIP = 1 << 0 };      /* remove the prefix before forwarding */

struct route_rule {
	const char *host;           /* NULL: any host */
	const char *prefix;         /* starts with '/' */
	uint8_t pool;               /* index into the pool table */
	uint8_t flags;              /* R_* */
	const char *const *add;     /* NULL-terminated "Name: value" lines to add, or NULL */
	const char *const *del;     /* NULL-terminated header names to remove, or NULL */
	uint64_t max_body;          /* request body bytes (413 above); 0: no limit */
	const char *const *allow;   /* client addresses or CIDRs let in; NULL: everyone */
	const char *const *deny;    /* client addresses or CIDRs refused (403), first */
	const char *const *users;   /* basic auth "name:pbkdf2-sha256$iter$salt$hash"; NULL:
	                             * none */
	const char *realm;          /* basic auth realm; NULL: "pollux" */
	uint16_t rate;              /* requests per second per client address (429); 0: any */
	uint16_t burst;             /* requests at once before the rate applies; 0: rate */
	uint8_t cache;              /* 1: store cacheable GET responses, serve hits */
	uint32_t cache_ttl;         /* seconds of freshness for a response that names none
	                             * (200, 301, 404...); 0: store only what says so */
};

/*
 * Returns the index of the first rule in r[0..n) matching host[0..host_len) (host is
 * never NULL; an empty host matches only rules without a host) and
 * path[0..path_len) (the path may carry a query; it is not matched), or -1.
 */
int route_match(const struct route_rule *r, unsigned n, const char *host, size_t host_len,
    const char *path, size_t path_len);

/* bytes to remove from the front of a matching path for rule r: 0 unless R_STRIP */
size_t route_strip_len(const struct route_rule *r);

/* the length of host[0..n) without its port: "[::1]:80" -> 5, "a.test:80" -> 6 */
size_t route_host_len(const char *h, size_t n);

/* 1 when host[0..len) (port ignored) matches pattern (exact or "*.suffix") */
int route_host_match(const char *pattern, const char *host, size_t len);

#endif
