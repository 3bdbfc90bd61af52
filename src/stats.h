/*
 * stats.h: the counters an operator reads (the stats listener, SIGUSR1). Plain
 * integers bumped where things happen; rendered on demand into one static page.
 */
#ifndef POLLUX_STATS_H
#define POLLUX_STATS_H

#include <stddef.h>
#include <stdint.h>

struct stats {
	int64_t start;                  /* monotonic ms at start */
	uint64_t accepted;              /* client connections taken */
	uint64_t refused;               /* client connections turned away (503) */
	uint64_t reclaimed;             /* slots taken back from idle or slow clients */
	uint64_t requests[6];           /* by status class: [1] 1xx ... [5] 5xx, [0] other */
	uint64_t bytes_in, bytes_out;   /* client side, after TLS */
	uint64_t spliced_in, spliced_out;       /* of those, the bytes that went by splice */
	uint64_t tls_handshakes;        /* completed */
	uint64_t tls_resumed;           /* of those, by session ID */
	uint64_t tls_failed;            /* failed or timed out */
	uint64_t cache[5];              /* requests by X-Cache (enum x_cache; [0]: none) */
};

extern struct stats stats;

/* a request was answered with this status */
void stats_request(int status);

/* the page for a stats request: "/metrics" is Prometheus text, anything else a short
 * human-readable summary. Returns the static page, its length in *len, and its media
 * type in *type. */
const char *stats_page(const char *path, size_t plen, size_t *len, const char **type);

#endif
