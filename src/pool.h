/*
 * pool.h: backend pools: which backend of a pool takes the next request, and which
 * backends are down. Policies and active health checks grow here.
 */
#ifndef POLLUX_POOL_H
#define POLLUX_POOL_H

#include <stdint.h>
#include "util.h"

struct pool_be {
	union addr addr;            /* where to connect */
	char name[ADDR_TEXT];       /* "ip:port" for logs */
	int64_t down_until;         /* left out until then (monotonic ms); 0: up */
	int32_t cw;                 /* smooth weighted round robin: current weight */
	uint32_t nbusy;             /* connections carrying a request now */
};

/* resolves every backend address; before the loop, exits on a bad one */
void pool_init(void);

/* picks a backend of pool for a client; returns its index, or -1 when all are down */
int pool_pick(unsigned pool, const union addr *client, int64_t now);

/* leaves backend be out for the configured time and logs why */
void pool_down(unsigned be, int64_t now, const char *why);

/* the backend's runtime record */
struct pool_be *pool_be(unsigned be);

#endif
