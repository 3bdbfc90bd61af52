/*
 * fwd.h: rewrites a parsed head in place into the head sent on: the request to the
 * backend, the response to the client. Pure: no sockets. The rewrite is an edit list
 * (kept spans of the old head, inserted text) applied in one buffer, so the body bytes
 * already read behind the head move with it and nothing is copied elsewhere.
 */
#ifndef POLLUX_FWD_H
#define POLLUX_FWD_H

#include <stddef.h>
#include "http.h"

/* the most a rewrite can grow a head, apart from a route's added lines */
#define FWD_GROWTH 512

struct fwd_req {
	const char *client_ip;    /* text form, appended to X-Forwarded-For */
	const char *proto;        /* "http" or "https": X-Forwarded-Proto */
	size_t strip;             /* bytes of path prefix to remove (0: none) */
	const char *const *add;   /* NULL-terminated "Name: value" lines, or NULL */
	const char *const *del;   /* NULL-terminated names to remove, or NULL */
	int tunnel;               /* keep Upgrade, send Connection: upgrade */
	int http10;               /* forward as HTTP/1.0 (the client spoke 1.0) */
	int no_cond;              /* drop If-None-Match and If-Modified-Since (the cache
	                           * answers them) */
	const char *extra;        /* NULL or "Name: value\r\n" lines to add (the cache's
	                           * validators) */
};

/*
 * Rewrites the request head buf[0..m->head_len), followed by tail_len bytes of body, in
 * place: origin-form target (prefix stripped), HTTP/1.1 (or 1.0), hop-by-hop fields and
 * Expect removed, X-Forwarded-For appended, X-Forwarded-Proto/-Host and Via set, route
 * lines added and removed; an absolute-form target's authority becomes the Host. Returns
 * the new head length (the tail follows it), or 0 when the result would not fit in cap
 * bytes or needs more than 128 edits (buf untouched then).
 */
size_t fwd_request(char *buf, size_t cap, size_t tail_len, const struct http_msg *m,
    const struct fwd_req *o);

struct fwd_resp {
	int keepalive;            /* the client connection stays open after this response */
	int http10;               /* the client spoke HTTP/1.0 */
	int tunnel;               /* a 101 the client asked for: keep Upgrade */
	const char *extra;        /* NULL or "Name: value\r\n" lines to add */
};

/* rewrites a response head in place like fwd_request: hop-by-hop fields removed,
 * Connection set for the client. Returns the new head length, or 0 when it won't fit. */
size_t fwd_response(char *buf, size_t cap, size_t tail_len, const struct http_msg *m,
    const struct fwd_resp *o);

#endif
