/*
 * conf.c: the one file that includes the user's config.h. It checks the limits with
 * #error and _Static_assert, instantiates every config-sized array (slots, buffers,
 * poll table), and publishes all of it as `conf`. Built with -DCONF_CHECK it becomes
 * a host program the Makefile runs before linking: it checks each table entry and
 * fails the build with a message naming the entry, so a broken table never boots.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "check.h"
#include "conf.h"
#include "conn.h"
#include "fwd.h"
#include "guard.h"
#include "http.h"
#include "loop.h"
#include "pool.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

#include CONFIG_FILE

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- limits that must hold at compile time ---------------------------------------- */
#if !defined(SLOTS) || !defined(UP_SLOTS) || !defined(BUF_BYTES) || !defined(MAX_FIELDS)
#error "config.h: SLOTS, UP_SLOTS, BUF_BYTES and MAX_FIELDS must be defined"
#endif
#if !defined(T_HEADER) || !defined(T_IDLE) || !defined(T_CONNECT) || !defined(T_FIRST_BYTE) \
    || !defined(T_BODY) || !defined(T_UP_IDLE) || !defined(T_DOWN)
#error "config.h: every T_* timeout must be defined (milliseconds)"
#endif
_Static_assert(SLOTS >= 1 && SLOTS <= 60000, "config.h: SLOTS must be 1..60000");
_Static_assert(UP_SLOTS >= 1 && UP_SLOTS <= 60000, "config.h: UP_SLOTS must be 1..60000");
_Static_assert(BUF_BYTES >= 4096 && BUF_BYTES <= 65535,
    "config.h: BUF_BYTES must be 4096..65535 (a head must fit one buffer)");
_Static_assert(MAX_FIELDS >= 8 && MAX_FIELDS <= 250, "config.h: MAX_FIELDS must be 8..250");
_Static_assert(IDLE_PER_BACKEND >= 0 && IDLE_PER_BACKEND <= 4096 && IDLE_PER_BACKEND <= UP_SLOTS,
    "config.h: IDLE_PER_BACKEND must be 0..4096 and at most UP_SLOTS");
_Static_assert(NELEM(listeners) >= 1, "config.h: at least one listener");
_Static_assert(NELEM(routes) >= 1 && NELEM(routes) <= 255, "config.h: 1..255 routes");
_Static_assert(NELEM(backends) >= 1 && NELEM(backends) <= 1024, "config.h: 1..1024 backends");
_Static_assert(NELEM(pools) == NPOOLS, "config.h: the pools table must name every pool of "
    "enum pool_name, in order");
_Static_assert(BUF_BYTES > FWD_GROWTH * 4, "config.h: BUF_BYTES too small for head rewrites");
_Static_assert(T_HEADER > 0 && T_IDLE > 0 && T_CONNECT > 0 && T_FIRST_BYTE > 0 && T_BODY > 0
    && T_UP_IDLE > 0 && T_DOWN > 0, "config.h: timeouts must be positive (milliseconds)");

#ifdef TLS_SLOTS
_Static_assert(TLS_SLOTS >= 1 && TLS_SLOTS <= SLOTS, "config.h: TLS_SLOTS must be 1..SLOTS");
_Static_assert(NELEM(certs) >= 1 && NELEM(certs) <= TLS_MAX_CERTS,
    "config.h: the certs table needs 1..16 entries");
_Static_assert(TLS_SESSIONS >= 1 && TLS_SESSIONS <= 100000, "config.h: TLS_SESSIONS 1..100000");
_Static_assert(TLS_CERT_BYTES >= 4096, "config.h: TLS_CERT_BYTES must be at least 4096");
#define NCERTS NELEM(certs)
#else
/* no TLS: no certs table, no TLS slots */
#define TLS_SLOTS 0
#define TLS_SESSIONS 0
#define TLS_CERT_BYTES 0
#define NCERTS 0
static const struct conf_cert certs[1];
#endif

#ifndef MAX_LINE
#define MAX_LINE 8192           /* default: request line bytes */
#endif
#ifndef DEFER_ACCEPT
#define DEFER_ACCEPT 1          /* default: s the kernel holds a new connection that is silent */
#endif
#ifndef MAX_PER_ADDR
#define MAX_PER_ADDR 0          /* default: no per-address connection limit */
#endif
#ifndef RATE_TABLE
#define RATE_TABLE 1024         /* default: rate buckets (addresses x limited routes) */
#endif
#ifndef RUN_USER
#define RUN_USER NULL
#endif
#ifndef RUN_GROUP
#define RUN_GROUP NULL
#endif
#ifndef RUN_CHROOT
#define RUN_CHROOT NULL
#endif
#ifndef ALLOW_ROOT
#define ALLOW_ROOT 0
#endif
_Static_assert(MAX_LINE >= 256 && MAX_LINE < BUF_BYTES, "config.h: MAX_LINE 256..BUF_BYTES");
_Static_assert(DEFER_ACCEPT >= 0 && DEFER_ACCEPT <= 600, "config.h: DEFER_ACCEPT 0..600 (s)");
_Static_assert(MAX_PER_ADDR >= 0 && MAX_PER_ADDR <= SLOTS, "config.h: MAX_PER_ADDR 0..SLOTS");
_Static_assert(RATE_TABLE >= 0 && RATE_TABLE <= 1000000, "config.h: RATE_TABLE 0..1000000");

#ifndef T_DRAIN
#define T_DRAIN 10000           /* default: ms in-flight requests get at SIGTERM */
#endif
#ifndef LOG_TO
#define LOG_TO LOG_TO_STDERR
#endif
#ifndef LOG_FILE
#define LOG_FILE NULL
#endif
#ifndef ACCESS_LOG
#define ACCESS_LOG 1
#endif
#ifndef PIDFILE
#define PIDFILE "/var/run/pollux.pid"
#endif

#ifndef T_TUNNEL
#define T_TUNNEL 600000         /* default: ten minutes */
#endif

#ifndef CACHE_BYTES
#define CACHE_BYTES 0           /* default: no cache */
#endif
#ifndef CACHE_ENTRIES
#define CACHE_ENTRIES 256
#endif
#ifndef CACHE_MAX_OBJECT
#define CACHE_MAX_OBJECT (CACHE_BYTES / 4)
#endif
#ifndef CACHE_PURGE_FROM
#define CACHE_PURGE_FROM NULL
#endif
#ifndef T_CACHE_WAIT
#define T_CACHE_WAIT 5000       /* default: ms a request waits for another's fetch */
#endif
_Static_assert(CACHE_BYTES % CACHE_BLOCK == 0, "config.h: CACHE_BYTES must be a multiple of "
    "1024 (the arena's block)");
_Static_assert(CACHE_BYTES == 0 || (CACHE_ENTRIES >= 1 && CACHE_ENTRIES <= 65535),
    "config.h: CACHE_ENTRIES must be 1..65535");
_Static_assert(CACHE_BYTES == 0 || (CACHE_MAX_OBJECT >= 1024 && CACHE_MAX_OBJECT <= CACHE_BYTES),
    "config.h: CACHE_MAX_OBJECT must be 1024..CACHE_BYTES");
_Static_assert((unsigned long long)CACHE_BYTES / CACHE_BLOCK < 0x7fffffff,
    "config.h: CACHE_BYTES too large");
#define NCACHE_ENTRIES (CACHE_BYTES ? CACHE_ENTRIES : 1)

#ifndef SPLICE_PIPES
#define SPLICE_PIPES 0          /* default: bodies always go through the buffers */
#endif
_Static_assert(SPLICE_PIPES >= 0 && SPLICE_PIPES <= 4096, "config.h: SPLICE_PIPES must be 0..4096");
#define NPIPES (SPLICE_PIPES ? SPLICE_PIPES : 1)

/* poll entries: listeners, client slots, backend slots, one check slot per backend */
#define NPFD (NELEM(listeners) + SLOTS + UP_SLOTS + NELEM(backends))
_Static_assert(NPFD <= 65535, "config.h: SLOTS + UP_SLOTS + backends + listeners must be at "
    "most 65,535 (poll entries are indexed by 16 bits)");

#ifndef CONF_CHECK
/* ---- storage ---------------------------------------------------------------------- */
static struct conn conn_tab[SLOTS];
static char conn_mem[(size_t)SLOTS * 2 * BUF_BYTES];
static struct up up_tab[UP_SLOTS];
static struct up *idle_tab[NELEM(backends) * (IDLE_PER_BACKEND ? IDLE_PER_BACKEND : 1)];
static uint16_t nidle_tab[NELEM(backends)];
static struct pool_be be_tab[NELEM(backends)];
static struct check check_tab[NELEM(backends)];
static struct guard_bucket bucket_tab[RATE_TABLE ? RATE_TABLE : 1];
static struct pollfd pfd_tab[NPFD];
static struct loop_own own_tab[NPFD];
static struct http_field field_tab[MAX_FIELDS];
static unsigned char tls_tab[TLS_SLOTS ? TLS_SLOTS : 1][TLS_SLOT_BYTES]
    __attribute__((aligned(16)));
static unsigned char session_tab[TLS_SESSIONS ? TLS_SESSIONS * TLS_SESSION_BYTES : 1];
static unsigned char cert_tab[2][TLS_CERT_BYTES ? TLS_CERT_BYTES : 1];
static unsigned char cache_tab[CACHE_BYTES ? CACHE_BYTES : 1];
static struct cache_entry cache_ent_tab[NCACHE_ENTRIES];
static int pipe_fd_tab[NPIPES * 2];
static uint16_t pipe_stack_tab[NPIPES];
static int32_t cache_next_tab[CACHE_BYTES ? CACHE_BYTES / CACHE_BLOCK : 1];

const struct conf conf = {
	.listeners = listeners, .nlisteners = NELEM(listeners),
	.pools = pools, .npools = NELEM(pools),
	.backends = backends, .nbackends = NELEM(backends),
	.routes = routes, .nroutes = NELEM(routes),
	.certs = certs, .ncerts = NCERTS, .ntls = TLS_SLOTS,
	.nconns = SLOTS, .nups = UP_SLOTS, .npfd = NPFD,
	.buf_len = BUF_BYTES, .max_fields = MAX_FIELDS, .idle_per_backend = IDLE_PER_BACKEND,
	.t_header = T_HEADER, .t_idle = T_IDLE, .t_connect = T_CONNECT,
	.t_first_byte = T_FIRST_BYTE, .t_body = T_BODY, .t_up_idle = T_UP_IDLE,
	.t_down = T_DOWN, .t_tunnel = T_TUNNEL, .t_drain = T_DRAIN,
	.log_to = LOG_TO, .log_file = LOG_FILE, .access_log = ACCESS_LOG, .pidfile = PIDFILE,
	.conns = conn_tab, .conn_mem = conn_mem, .ups = up_tab, .idle = idle_tab,
	.nidle = nidle_tab, .be = be_tab, .checks = check_tab,
	.buckets = bucket_tab, .nbuckets = RATE_TABLE,
	.max_line = MAX_LINE, .max_per_addr = MAX_PER_ADDR, .defer_accept = DEFER_ACCEPT, .user = RUN_USER,
	.group = RUN_GROUP, .chroot = RUN_CHROOT, .allow_root = ALLOW_ROOT,
	.pfd = pfd_tab, .own = own_tab, .fields = field_tab,
	.tls_mem = &tls_tab[0][0], .session_mem = session_tab,
	.session_len = sizeof(session_tab), .cert_mem = &cert_tab[0][0],
	.cert_len = TLS_CERT_BYTES,
	.pipe_fds = pipe_fd_tab, .pipe_stack = pipe_stack_tab, .npipes = SPLICE_PIPES,
	.cache_mem = cache_tab, .cache_len = CACHE_BYTES, .cache_ents = cache_ent_tab,
	.ncache_ents = NCACHE_ENTRIES, .cache_next = cache_next_tab,
	.cache_max_object = CACHE_MAX_OBJECT, .purge_from = CACHE_PURGE_FROM,
	.t_cache_wait = T_CACHE_WAIT,
};
#else
/* ---- the build-time table check --------------------------------------------------- */
static int nerr;
static const char *cfgname = "config.h";

static void
bad(const char *table, unsigned i, const char *what)
{
	fprintf(stderr, "%s: %s[%u]: %s\n", cfgname, table, i, what);
	nerr++;
}

static size_t
route_growth(const struct route_rule *r)
{
	size_t n = 0;

	for (const char *const *l = r->add; l && *l; l++)
		n += strlen(*l) + 2;
	return n;
}

static void
check_routes(void)
{
	for (unsigned i = 0; i < NELEM(routes); i++) {
		const struct route_rule *r = &routes[i];
		if (!r->prefix || r->prefix[0] != '/')
			bad("routes", i, "prefix must start with '/'");
		if (r->pool >= NPOOLS)
			bad("routes", i, "pool does not name a pool");
		if (r->host && (!r->host[0] || strchr(r->host, ':') || strchr(r->host, '/')))
			bad("routes", i, "host must be a name or *.suffix, without port");
		if (route_growth(r) + FWD_GROWTH > BUF_BYTES / 4)
			bad("routes", i, "added header lines too long for BUF_BYTES");
		for (const char *const *l = r->add; l && *l; l++)
			if (!strchr(*l, ':') || strchr(*l, '\r') || strchr(*l, '\n'))
				bad("routes", i, "an added line must be \"Name: value\" on one line");
		for (const char *const *l = r->allow; l && *l; l++)
			if (!guard_cidr_valid(*l))
				bad("routes", i, "an allow entry is not an address or CIDR");
		for (const char *const *l = r->deny; l && *l; l++)
			if (!guard_cidr_valid(*l))
				bad("routes", i, "a deny entry is not an address or CIDR");
		for (const char *const *l = r->users; l && *l; l++)
			if (!guard_user_valid(*l))
				bad("routes", i, "a user must be \"name:pbkdf2-sha256$iter$salt$hash\" "
				    "(make one with pollux -p)");
		if (r->burst && !r->rate)
			bad("routes", i, "burst needs a rate");
		if (r->cache && CACHE_BYTES == 0)
			bad("routes", i, ".cache needs CACHE_BYTES");
		if (r->cache_ttl && !r->cache)
			bad("routes", i, ".cache_ttl needs .cache = 1");
	}
}

static void
check_backends(void)
{
	union addr a;

	for (unsigned i = 0; i < NELEM(backends); i++) {
		const struct conf_backend *b = &backends[i];
		if (b->pool >= NPOOLS)
			bad("backends", i, "pool does not name a pool");
		if (b->addr && b->addr[0] == '/') {
			if (strlen(b->addr) >= 108)
				bad("backends", i, "Unix socket path too long");
			if (b->port)
				bad("backends", i, "a Unix socket has no port");
		} else if (!b->addr || util_addr(&a, b->addr, b->port) < 0) {
			bad("backends", i, "address must be a numeric IPv4 or IPv6 address, or a path");
		} else if (b->port == 0) {
			bad("backends", i, "port must be set");
		}
		if (b->weight == 0)
			bad("backends", i, "weight must be 1..255");
	}
	for (unsigned p = 0; p < NPOOLS; p++) {
		unsigned n = 0, primaries = 0;
		for (unsigned i = 0; i < NELEM(backends); i++) {
			n += backends[i].pool == p;
			primaries += backends[i].pool == p && !backends[i].backup;
		}
		if (n == 0)
			bad("pools", p, "pool has no backend");
		else if (primaries == 0)
			bad("pools", p, "pool has only backup backends");
		if (!pools[p].name)
			bad("pools", p, "pool has no name");
		if (pools[p].check_path && pools[p].check_path[0] != '/')
			bad("pools", p, "check_path must start with '/'");
		if (pools[p].check_min > pools[p].check_max)
			bad("pools", p, "check_min must not exceed check_max");
		if (pools[p].policy > LB_IP_HASH)
			bad("pools", p, "policy must be LB_ROUND_ROBIN, LB_LEAST_CONN or LB_IP_HASH");
	}
}

static void
check_listeners(void)
{
	union addr a;

	for (unsigned i = 0; i < NELEM(listeners); i++) {
		const struct conf_listener *l = &listeners[i];
		if (!l->addr || util_addr(&a, l->addr, l->port) < 0 || l->port == 0)
			bad("listeners", i, "needs a numeric address and a port");
		if (l->tls && TLS_SLOTS == 0)
			bad("listeners", i, "TLS needs TLS_SLOTS and a certs table");
		if (l->tls && l->redirect_port)
			bad("listeners", i, "a TLS listener cannot redirect to HTTPS");
		if (!l->tls && l->hsts_max_age)
			bad("listeners", i, "HSTS only goes on TLS listeners");
		if (l->stats && l->redirect_port)
			bad("listeners", i, "a stats listener cannot also redirect");
	}
}

static void
check_certs(void)
{
	unsigned n = NCERTS;    /* 0 without TLS */

	for (unsigned i = 0; i < n; i++) {
		if (!certs[i].chain || !certs[i].chain[0] || !certs[i].key || !certs[i].key[0])
			bad("certs", i, "needs .chain and .key files");
		if (i > 0 && !certs[i].names)
			bad("certs", i, "only the first (default) certificate may have no names");
	}
}

static void
check_cache(void)
{
	const char *const *from = CACHE_PURGE_FROM;

	for (unsigned i = 0; from && from[i]; i++)
		if (!guard_cidr_valid(from[i]))
			bad("CACHE_PURGE_FROM", i, "not an address or CIDR");
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		cfgname = argv[1];
	check_routes();
	check_backends();
	check_listeners();
	check_certs();
	check_cache();
	if (LOG_TO == LOG_TO_FILE && !LOG_FILE)
		bad("LOG_FILE", 0, "LOG_TO_FILE needs LOG_FILE");
	if (nerr) {
		fprintf(stderr, "%s: %d error(s); fix the table entries named above\n",
		    cfgname, nerr);
		return 1;
	}
	return 0;
}
#endif
