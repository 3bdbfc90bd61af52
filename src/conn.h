/*
 * conn.h: client connections. A `struct conn` owns two buffers: `in` carries the
 * request direction (client -> backend), `out` the response direction (backend ->
 * client). Its backend side (`up`) points back at it. Each buffer has three offsets:
 * rd (next byte to send), fwd (end of the bytes delimited and allowed to go on) and wr
 * (end of the bytes read); a head is parsed and rewritten in place at fwd.
 */
#ifndef POLLUX_CONN_H
#define POLLUX_CONN_H

#include <stdint.h>
#include "cache.h"
#include "cachectl.h"
#include "http.h"
#include "util.h"

struct up;
struct tls;

struct buf {
	char *p;
	uint32_t rd, fwd, wr, cap;
};

/* the pipe a long plain body borrows to go socket to socket by splice (pipes.h) */
struct conn_pipe {
	int16_t id;             /* index in the pool, or -1 */
	uint32_t queued;        /* bytes in it, on their way out */
};

/* the story of a client connection */
enum conn_state {
	C_FREE,         /* in the free list */
	C_READ_HEAD,    /* idle or reading a request head */
	C_PROXY,        /* a request in flight: see rq and rs */
	C_TUNNEL,       /* after a 101: bytes both ways until both sides close */
	C_CLOSING       /* flushing the last response, then a lingering close */
};

/* the cache's part in the request in flight */
enum cache_mode {
	CM_NONE,        /* none */
	CM_FILL,        /* fetching from the backend, storing the response */
	CM_REVAL,       /* asking the backend whether the stale entry still holds */
	CM_WAIT,        /* waiting for another request's fetch of the same key */
	CM_SERVE        /* answering from the entry */
};
enum x_cache { X_NONE, X_HIT, X_MISS, X_REVALIDATED, X_BYPASS };  /* what X-Cache says */

enum rq_state { RQ_BODY, RQ_DONE };                /* request side within C_PROXY */
enum rs_state { RS_HEAD, RS_BODY, RS_DONE };       /* response side within C_PROXY */

struct conn {
	int fd;
	uint8_t state;          /* enum conn_state */
	uint8_t rq, rs;         /* enum rq_state, enum rs_state */
	uint8_t method;         /* enum http_method of the request in flight */
	uint32_t flags;         /* CF_* in conn.c */
	uint16_t pfd;           /* poll entry */
	uint16_t route;         /* route of the request in flight */
	uint16_t be;            /* backend chosen for it */
	uint16_t status;        /* status sent for it */
	int32_t next_free;      /* free list link */
	int64_t deadline;       /* 0: none; checked by conn_sweep */
	int64_t t0;             /* when the request began (its first head byte) */
	int64_t since;          /* when it began waiting for a request head */
	struct up *up;          /* backend side, or NULL */
	struct tls *tls;        /* the TLS engine in use on this connection, or NULL */
	struct tls *eng;        /* the slot's TLS engine, or NULL for a plain-only slot */
	uint8_t listener;       /* index in the listener table */
	struct buf in, out;
	struct http_body rqb, rsb;
	struct conn_pipe rqp, rsp;      /* the request body's pipe, the response body's */
	size_t scan_in, scan_out;       /* head-end search progress */
	uint32_t req_start;     /* in: where the forwarded request starts (for a retry) */
	uint32_t req_head_len;  /* its rewritten head's length */
	uint64_t resp_bytes;    /* response bytes passed on, for the access log */
	union addr peer;
	struct {                /* the cache's part (cacheio.c) */
		struct cc_req req;      /* the request's conditionals and variant */
		struct cache_cursor cur;        /* what is left to serve */
		int32_t entry;          /* the entry filled, revalidated, waited on or served */
		uint32_t gen;           /* its generation when waiting began */
		uint8_t mode;           /* enum cache_mode */
		uint8_t x;              /* enum x_cache */
	} cache;
	struct {                /* the request's fields, kept for the access log */
		char method[12], host[40], target[80], referer[48], agent[48], user[20];
		uint8_t version;        /* 10 or 11; 0 before a request line was read */
	} log;
};

/* empties the free lists and sizes request heads; slots are set up on first use */
void conn_init(void);
/* the first slot at or after i ever set up, or conf.nconns: scans skip the others */
unsigned conn_next_used(unsigned i);
/* every slot ever set up, in table order: the others' pages stay untouched */
#define CONN_EACH(i) \
	for (unsigned i = conn_next_used(0); i < conf.nconns; i = conn_next_used(i + 1))

/* a slot is free for a connection from a listener (TLS or not): no reclaim needed */
int conn_room(int tls);

/* a new client socket from a listener; answers 503 and closes when no slot is free.
 * readable: the first bytes are known to be there (a deferred accept): read them now */
void conn_accept(int fd, const union addr *peer, unsigned listener, int readable);

/* poll reported revents on the client socket of c */
void conn_event(struct conn *c, short revents);

/* poll reported revents on the backend socket of c */
void conn_up_event(struct conn *c, short revents);

/* handles expired deadlines of every client and its backend side */
void conn_sweep(int64_t now);

/* SIGTERM: from now on no keep-alive; idle connections are closed at once */
void conn_drain(void);
extern int conn_draining;

/* client slots in use */
unsigned conn_busy(void);

/* closes every connection; at exit */
void conn_shutdown(void);

#endif
