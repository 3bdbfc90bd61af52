/*
 * conf.h: the typed view of the build's configuration. Only conf.c includes config.h;
 * every other file sees the tables, limits and config-sized storage through `conf`.
 */
#ifndef POLLUX_CONF_H
#define POLLUX_CONF_H

#include <stddef.h>
#include <stdint.h>
#include "route.h"

enum lb_policy { LB_ROUND_ROBIN, LB_LEAST_CONN, LB_IP_HASH };
enum log_to { LOG_TO_STDERR, LOG_TO_SYSLOG, LOG_TO_FILE };

struct conf_listener {
	const char *addr;           /* numeric IPv4 or IPv6 address */
	uint16_t port;
	uint8_t tls;                /* terminate TLS here */
	uint16_t redirect_port;     /* answer everything with 301 to https://host:port */
	uint32_t hsts_max_age;      /* seconds; 0: no Strict-Transport-Security */
	uint8_t stats;              /* answer with the counters (/metrics, /) instead */
};

struct conf_cert {
	const char *names;          /* SNI patterns, space-separated; NULL: default only */
	const char *chain;          /* PEM file: the certificate, then its chain */
	const char *key;            /* PEM file: the private key (PKCS#8, EC or RSA) */
};

struct conf_pool {
	const char *name;           /* for logs and stats */
	uint8_t policy;             /* enum lb_policy */
	const char *check_path;     /* active health checks: GET this path; NULL: none */
	uint32_t check_every;       /* ms between checks of a backend (default 2000) */
	uint8_t check_fall;         /* failed checks in a row that take it out (default 2) */
	uint8_t check_rise;         /* good checks in a row that bring it back (default 2) */
	uint16_t check_min;         /* accepted statuses: check_min..check_max */
	uint16_t check_max;         /* (default 200..399) */
};

struct conf_backend {
	uint8_t pool;               /* index into the pool table */
	const char *addr;           /* numeric IPv4 or IPv6 address, or a Unix socket path */
	uint16_t port;              /* 0 for a Unix socket */
	uint8_t weight;             /* 1..255 */
	uint8_t backup;             /* only used while every primary is down */
};

struct conn;
struct up;
struct check;
struct guard_bucket;
struct pollfd;
struct loop_own;
struct cache_entry;

struct conf {
	const struct conf_listener *listeners;
	const struct conf_pool *pools;
	const struct conf_backend *backends;
	const struct route_rule *routes;
	const struct conf_cert *certs;
	unsigned nlisteners, npools, nbackends, nroutes, ncerts;

	/* limits */
	unsigned nconns;            /* client slots */
	unsigned nups;              /* backend connection slots */
	unsigned npfd;              /* poll entries: listeners, client, backend and check slots */
	uint32_t buf_len;           /* bytes per direction per client slot */
	unsigned max_fields;        /* header fields per message */
	unsigned idle_per_backend;  /* idle keep-alive connections kept per backend */
	unsigned ntls;              /* client slots that can carry TLS */
	unsigned max_line;          /* request line bytes (414 above) */
	unsigned max_per_addr;      /* client connections per address; 0: no limit */
	unsigned defer_accept;      /* s a new connection may stay silent in the kernel
	                             * (TCP_DEFER_ACCEPT); 0: accepted on the handshake */
	const char *user, *group;   /* drop to these after binding; NULL: stay */
	const char *chroot;         /* chroot here after loading keys; NULL: none */
	int allow_root;             /* may keep running as root */

	/* timeouts, in milliseconds */
	uint32_t t_header, t_idle, t_connect, t_first_byte, t_body, t_up_idle, t_down;
	uint32_t t_tunnel, t_drain;

	/* logging and the daemon */
	int log_to;                 /* LOG_TO_STDERR, LOG_TO_SYSLOG or LOG_TO_FILE */
	const char *log_file;       /* for LOG_TO_FILE */
	int access_log;             /* one line per request */
	const char *pidfile;        /* written with -d */

	/* storage sized by the config, owned by the modules named */
	struct conn *conns;         /* conn.c */
	char *conn_mem;             /* conn.c: nconns * 2 * buf_len bytes */
	struct up *ups;             /* upstream.c */
	struct up **idle;           /* upstream.c: nbackends * idle_per_backend */
	uint16_t *nidle;            /* upstream.c: nbackends */
	struct pool_be *be;         /* pool.c: nbackends */
	struct check *checks;       /* check.c: nbackends */
	struct guard_bucket *buckets;       /* guard.c: rate buckets */
	unsigned nbuckets;
	struct pollfd *pfd;         /* loop.c: npfd */
	struct loop_own *own;       /* loop.c: npfd */
	struct http_field *fields;  /* conn.c: max_fields, one parse at a time */
	unsigned char *tls_mem;     /* tls.c: ntls * TLS_SLOT_BYTES */
	unsigned char *session_mem; /* tls.c: the session cache */
	size_t session_len;
	unsigned char *cert_mem;    /* tls.c: two generations of cert_len bytes */
	size_t cert_len;
	int *pipe_fds;              /* pipes.c: npipes * 2 (read end, write end) */
	uint16_t *pipe_stack;       /* pipes.c: npipes, the free ones */
	unsigned npipes;            /* splice pipes; 0: bodies always go through buffers */

	/* the response cache (cache.c); cache_len 0: no cache */
	unsigned char *cache_mem;   /* the arena: cache_len bytes in CACHE_BLOCK blocks */
	size_t cache_len;
	struct cache_entry *cache_ents;
	unsigned ncache_ents;
	int32_t *cache_next;        /* one chain link per block */
	uint32_t cache_max_object;  /* bytes of one entry: key, head and body */
	const char *const *purge_from; /* addresses allowed to PURGE; NULL: nobody */
	uint32_t t_cache_wait;      /* ms a request waits for another's fetch of its key */
};

extern const struct conf conf;

#endif
