/*
 * The benchmark's config (tests/bench/run): a plain and a TLS listener, a stats
 * listener (the run reads the TLS handshake counters from /metrics), one pool with the
 * one fast backend, one catch-all route. Slots for the 1,000-connection case; the
 * timeouts of the default config.h. Ports 38080, 38083, 38089 and 39001 are the
 * benchmark's own. The certificates are made by the run (openssl) in build/bench/tls.
 */
enum pool_name { POOL_FAST, NPOOLS };

static const struct conf_pool pools[] = {
	/* pool               name           policy */
	[POOL_FAST] = { .name = "fast", .policy = LB_ROUND_ROBIN },
};

static const struct conf_backend backends[] = {
	/* pool                address             port           weight */
	{ .pool = POOL_FAST, .addr = "127.0.0.1", .port = 39001, .weight = 1 },
};

static const struct route_rule routes[] = {
	/* host           prefix          pool */
	{ .host = NULL, .prefix = "/",  .pool = POOL_FAST },
};

static const struct conf_listener listeners[] = {
	/* address            port */
	{ .addr = "127.0.0.1", .port = 38080 },
	{ .addr = "127.0.0.1", .port = 38083, .tls = 1 },
	{ .addr = "127.0.0.1", .port = 38089, .stats = 1 },     /* /metrics */
};

/* the same files nginx and HAProxy get: ECDSA P-256 by default, RSA-2048 by SNI */
static const struct conf_cert certs[] = {
	/* names (SNI)          chain                          key */
	{ .names = "ecdsa.bench", .chain = "build/bench/tls/ecdsa.pem", .key = "build/bench/tls/ecdsa.key" },
	{ .names = "rsa.bench",   .chain = "build/bench/tls/rsa.pem",   .key = "build/bench/tls/rsa.key" },
};

#define SLOTS            1100    /* client connections: the 1,000-connection case fits */
#define UP_SLOTS         1100    /* backend connections, busy and idle */
#define BUF_BYTES        16384   /* bytes, per direction, per client connection */
#define MAX_FIELDS       64      /* header fields per request or response */
#define IDLE_PER_BACKEND 1100    /* idle backend connections kept (HAProxy keeps every one) */
#define TLS_SLOTS        128     /* of SLOTS: the HTTPS cases use at most 64 at once */
#define SPLICE_PIPES     64      /* pipes for long plain-HTTP bodies, 2 descriptors each (0: none) */
#define TLS_SESSIONS     1024    /* sessions kept for resumption */
#define TLS_CERT_BYTES   16384   /* bytes for certificates and keys (twice: reload) */
#define DEFER_ACCEPT     1       /* TCP_DEFER_ACCEPT, as nginx (deferred) and HAProxy (defer-accept) here */

#define T_HEADER         10000   /* client: whole request head */
#define T_IDLE           60000   /* client: idle keep-alive between requests */
#define T_CONNECT        5000    /* backend: connect (504 when it expires) */
#define T_FIRST_BYTE     60000   /* backend: request sent to first response byte (504) */
#define T_BODY           60000   /* either side: no progress while a body moves */
#define T_UP_IDLE        30000   /* backend: idle keep-alive connection kept */
#define T_DOWN           10000   /* backend: left out after a failed connect */
#define ALLOW_ROOT       1       /* the benchmark runs as root */
