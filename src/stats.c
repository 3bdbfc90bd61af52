/*
 * stats.c: counters and their two renderings. Connection states and backend health are
 * read from the slot tables at render time, so nothing needs counting twice. The page
 * is written into one static buffer with bounded appends; a config with so many
 * backends that it would not fit is cut short, never overrun.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "conf.h"
#include "conn.h"
#include "loop.h"
#include "pool.h"
#include "pipes.h"
#include "stats.h"

#define PAGE_BYTES 12288

struct stats stats;

static char page[PAGE_BYTES];
static size_t used;

static void
put(const char *fmt, ...)
{
	va_list ap;
	int n;

	if (used >= sizeof(page) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(page + used, sizeof(page) - used, fmt, ap);
	va_end(ap);
	if (n > 0)
		used += (size_t)n < sizeof(page) - used ? (size_t)n : sizeof(page) - used - 1;
}

void
stats_request(int status)
{
	int k = status / 100;

	stats.requests[k >= 1 && k <= 5 ? k : 0]++;
}

static const char *const state_name[] = { "free", "reading", "proxying", "tunnel", "closing" };

static void
count_states(unsigned n[5])
{
	unsigned seen = 0;

	memset(n, 0, 5 * sizeof(n[0]));
	CONN_EACH(i) {
		n[conf.conns[i].state]++;
		seen++;
	}
	n[C_FREE] += conf.nconns - seen;        /* never set up: free */
}

static const char *
be_state(unsigned i)
{
	const struct pool_be *b = pool_be(i);

	return b->check_down ? "down (checks)" : b->down_until > loop_now ? "down (failures)" :
	    "up";
}

/* one group per metric family, every backend in it (the text format asks for that) */
static void
backend_metrics(void)
{
	static const char *const family[] = { "up", "busy", "requests_total", "failures_total",
		"down_total" };
	static const char *const type[] = { "gauge", "gauge", "counter", "counter", "counter" };

	for (unsigned f = 0; f < 5; f++) {
		put("# TYPE pollux_backend_%s %s\n", family[f], type[f]);
		for (unsigned i = 0; i < conf.nbackends; i++) {
			const struct pool_be *b = pool_be(i);
			unsigned long long v = f == 0 ? be_state(i)[0] == 'u' : f == 1 ? b->nbusy :
			    f == 2 ? b->nreq : f == 3 ? b->nfail : b->ndown;
			put("pollux_backend_%s{pool=\"%s\",backend=\"%s\"} %llu\n", family[f],
			    conf.pools[conf.backends[i].pool].name, b->name, v);
		}
	}
}

static const char *const x_name[] = { "", "hit", "miss", "revalidated", "bypass" };

static void
cache_metrics(void)
{
	if (!conf.cache_len)
		return;
	put("# TYPE pollux_cache_requests_total counter\n");
	for (int x = X_HIT; x <= X_BYPASS; x++)
		put("pollux_cache_requests_total{result=\"%s\"} %llu\n", x_name[x],
		    (unsigned long long)stats.cache[x]);
	put("# TYPE pollux_cache_entries gauge\npollux_cache_entries %u\n"
	    "# TYPE pollux_cache_bytes gauge\npollux_cache_bytes %zu\n"
	    "# TYPE pollux_cache_capacity_bytes gauge\npollux_cache_capacity_bytes %zu\n",
	    cache_entries(), cache_bytes(), conf.cache_len);
}

static void
metrics(void)
{
	unsigned n[5];

	count_states(n);
	put("# TYPE pollux_uptime_seconds gauge\npollux_uptime_seconds %lld\n",
	    (long long)((loop_now - stats.start) / 1000));
	put("# TYPE pollux_connections gauge\n");
	for (int s = 1; s < 5; s++)
		put("pollux_connections{state=\"%s\"} %u\n", state_name[s], n[s]);
	put("# TYPE pollux_connections_accepted_total counter\n"
	    "pollux_connections_accepted_total %llu\n", (unsigned long long)stats.accepted);
	put("# TYPE pollux_connections_refused_total counter\n"
	    "pollux_connections_refused_total %llu\n", (unsigned long long)stats.refused);
	put("# TYPE pollux_connections_reclaimed_total counter\n"
	    "pollux_connections_reclaimed_total %llu\n", (unsigned long long)stats.reclaimed);
	put("# TYPE pollux_requests_total counter\n");
	for (int k = 1; k <= 5; k++)
		put("pollux_requests_total{class=\"%dxx\"} %llu\n", k,
		    (unsigned long long)stats.requests[k]);
	put("# TYPE pollux_bytes_total counter\npollux_bytes_total{direction=\"in\"} %llu\n"
	    "pollux_bytes_total{direction=\"out\"} %llu\n", (unsigned long long)stats.bytes_in,
	    (unsigned long long)stats.bytes_out);
	put("# TYPE pollux_spliced_bytes_total counter\n"
	    "pollux_spliced_bytes_total{direction=\"in\"} %llu\n"
	    "pollux_spliced_bytes_total{direction=\"out\"} %llu\n"
	    "# TYPE pollux_pipes gauge\npollux_pipes{state=\"idle\"} %u\n"
	    "pollux_pipes{state=\"busy\"} %u\n", (unsigned long long)stats.spliced_in,
	    (unsigned long long)stats.spliced_out, pipes_idle(), pipes_count() - pipes_idle());
	put("# TYPE pollux_tls_handshakes_total counter\n"
	    "pollux_tls_handshakes_total{result=\"full\"} %llu\n"
	    "pollux_tls_handshakes_total{result=\"resumed\"} %llu\n"
	    "pollux_tls_handshakes_total{result=\"failed\"} %llu\n",
	    (unsigned long long)(stats.tls_handshakes - stats.tls_resumed),
	    (unsigned long long)stats.tls_resumed, (unsigned long long)stats.tls_failed);
	cache_metrics();
	backend_metrics();
}

static void
summary(void)
{
	unsigned n[5];

	count_states(n);
	put("pollux: up %lld s\n", (long long)((loop_now - stats.start) / 1000));
	put("connections: %u reading, %u proxying, %u tunnels, %u closing, %u free of %u;"
	    " %llu accepted, %llu refused, %llu reclaimed\n", n[1], n[2], n[3], n[4], n[0],
	    conf.nconns, (unsigned long long)stats.accepted, (unsigned long long)stats.refused,
	    (unsigned long long)stats.reclaimed);
	put("requests: 1xx %llu, 2xx %llu, 3xx %llu, 4xx %llu, 5xx %llu\n",
	    (unsigned long long)stats.requests[1], (unsigned long long)stats.requests[2],
	    (unsigned long long)stats.requests[3], (unsigned long long)stats.requests[4],
	    (unsigned long long)stats.requests[5]);
	put("bytes: %llu in, %llu out\n", (unsigned long long)stats.bytes_in,
	    (unsigned long long)stats.bytes_out);
	put("splice: %llu of the bytes in, %llu of those out; %u of %u pipes busy\n",
	    (unsigned long long)stats.spliced_in, (unsigned long long)stats.spliced_out,
	    pipes_count() - pipes_idle(), pipes_count());
	put("tls: %llu handshakes (%llu resumed), %llu failed\n",
	    (unsigned long long)stats.tls_handshakes, (unsigned long long)stats.tls_resumed,
	    (unsigned long long)stats.tls_failed);
	if (conf.cache_len)
		put("cache: %llu hits, %llu misses, %llu revalidated, %llu bypassed; %u entries, "
		    "%zu of %zu bytes\n", (unsigned long long)stats.cache[X_HIT],
		    (unsigned long long)stats.cache[X_MISS],
		    (unsigned long long)stats.cache[X_REVALIDATED],
		    (unsigned long long)stats.cache[X_BYPASS], cache_entries(), cache_bytes(),
		    conf.cache_len);
	for (unsigned i = 0; i < conf.nbackends; i++) {
		const struct pool_be *b = pool_be(i);
		put("backend %s %s: %s, %u busy, %llu requests, %llu failures, out %u times\n",
		    conf.pools[conf.backends[i].pool].name, b->name, be_state(i), b->nbusy,
		    (unsigned long long)b->nreq, (unsigned long long)b->nfail, b->ndown);
	}
}

const char *
stats_page(const char *path, size_t plen, size_t *len, const char **type)
{
	used = 0;
	page[0] = '\0';
	if (plen == 8 && memcmp(path, "/metrics", 8) == 0) {
		metrics();
		*type = "text/plain; version=0.0.4";
	} else {
		summary();
		*type = "text/plain; charset=utf-8";
	}
	*len = used;
	return page;
}
