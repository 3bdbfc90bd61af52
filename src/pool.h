/*
 * pool.h: backend pools: which backend of a pool takes the next request, and which
 * backends are out. A backend is out while a passive mark lasts (a failed connect, a
 * reset before any response byte, a response timeout) or while active health checks
 * say so.
 */
#ifndef POLLUX_POOL_H
#define POLLUX_POOL_H

#include <stdint.h>
#include <sys/un.h>
#include "util.h"

struct pool_be {
	union {
		union addr ip;
		struct sockaddr_un un;
	} sa;                       /* where to connect */
	socklen_t salen;
	char name[ADDR_TEXT + 48];  /* "ip:port" or "unix:/path", for logs */
	int64_t down_until;         /* passively out until then (monotonic ms); 0: not */
	uint8_t check_down;         /* actively out: `fall` checks failed in a row */
	uint8_t nok, nbad;          /* checks passed / failed in a row */
	int32_t cw;                 /* smooth weighted round robin: current weight */
	uint32_t nbusy;             /* connections connecting or carrying a request */
	/* counters, for the log and the stats page */
	uint64_t nreq;              /* requests sent to it */
	uint64_t nfail;             /* passive failures */
	uint32_t ndown;             /* times it went out */
};

/* resolves every backend address; before the loop, exits on a bad one */
void pool_init(void);

/* picks a backend of pool for a client by the pool's policy, primaries first, backups
 * while every primary is out; returns its index, or -1 when every backend is out */
int pool_pick(unsigned pool, const union addr *client, int64_t now);

/* like pool_pick, but never backend `not`: a retry goes to another backend */
int pool_pick_other(unsigned pool, const union addr *client, int64_t now, int not);

/* a passive failure: leaves backend be out for T_DOWN and logs why */
void pool_down(unsigned be, int64_t now, const char *why);

/* an active check's verdict on backend be; logs when the backend goes out or back */
void pool_check(unsigned be, int ok, const char *why);

/* the backend's runtime record */
struct pool_be *pool_be(unsigned be);

#endif
