/*
 * cacheio.h: the cache's part in a request, between conn.c (which owns the story of a
 * connection) and cache.c (which owns the arena): the key of a request, the decision
 * to serve, fetch, revalidate, wait or stay out, the head stored for a response, the
 * head and body served from an entry, and PURGE. conn.c calls these at the points of
 * its story and moves the states; these never close or answer a connection.
 */
#ifndef POLLUX_CACHEIO_H
#define POLLUX_CACHEIO_H

#include <stdint.h>
#include "conn.h"

/* what the cache decided for a request */
enum cio_decision {
	CD_NONE,        /* the route does not cache: forward as always */
	CD_BYPASS,      /* the request may not use the cache: forward, X-Cache: BYPASS */
	CD_HIT,         /* serve the fresh entry */
	CD_FETCH,       /* forward without the client's conditionals, storing the answer
	                 * when c->cache.mode is CM_FILL */
	CD_REVAL,       /* forward with the entry's validators */
	CD_WAIT,        /* another request is fetching this key: wait for it */
	CD_PURGE        /* a PURGE for this route */
};

/* decides for the request m (head at p) on c's route; fills c->cache */
int cio_decide(struct conn *c, const char *p, const struct http_msg *m);

/* the validator lines ("If-None-Match: ...\r\n...") of the entry c revalidates; static */
const char *cio_validators(const struct conn *c);

/* the X-Cache line for c's response ("" when the route does not cache) */
const char *cio_xcache_line(const struct conn *c);

/* response m (head at p) arrived for c's fill: stores its head when a shared cache
 * may; otherwise drops the fill. Returns 1 when the fill goes on, 0 when dropped. */
int cio_store_head(struct conn *c, const char *p, const struct http_msg *m);

/* a 304 answered c's revalidation: the entry is fresh again, from m's freshness */
void cio_refresh(struct conn *c, const char *p, const struct http_msg *m);

/* delimits the response body bytes newly read in b like a plain scan, appending their
 * data to c's fill; returns -1 on bad framing, 1 when the fill had to be dropped
 * (too large, no room), else 0 */
int cio_tee(struct conn *c, struct buf *b);

/* writes the head of the entry c serves into b (a 304 when the client's conditionals
 * hold) and sets *status to the status sent; returns its length, or 0 when b has no
 * room yet. Positions c's cursor on the body to send (none for HEAD, a 304 or a
 * bodiless status). keepalive, http10 and extra ("Name: value\r\n" lines or "") as
 * for a forwarded response. */
uint32_t cio_serve_head(struct conn *c, struct buf *b, int keepalive, int http10,
    const char *extra, int *status);

/* copies the next body bytes of the entry c serves into b; returns how many. c's
 * cursor says what is left. */
uint32_t cio_serve_body(struct conn *c, struct buf *b);

/* PURGE m (head at p): removes the key, or everything for the target "/" "*"; returns
 * the number of entries removed */
unsigned cio_purge(const char *p, const struct http_msg *m);

#endif
