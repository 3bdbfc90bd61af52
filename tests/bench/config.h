/*
 * The benchmark's config (tests/bench/run): one listener, one pool with the one fast
 * backend, one catch-all route. Slots for the 1,000-connection case; the timeouts of
 * the default config.h. Ports 38080 and 39001 are the benchmark's own.
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
};

#define SLOTS            1100    /* client connections: the 1,000-connection case fits */
#define UP_SLOTS         1100    /* backend connections, busy and idle */
#define BUF_BYTES        16384   /* bytes, per direction, per client connection */
#define MAX_FIELDS       64      /* header fields per request or response */
#define IDLE_PER_BACKEND 64      /* idle keep-alive connections kept per backend */

#define T_HEADER         10000   /* client: whole request head */
#define T_IDLE           60000   /* client: idle keep-alive between requests */
#define T_CONNECT        5000    /* backend: connect (504 when it expires) */
#define T_FIRST_BYTE     60000   /* backend: request sent to first response byte (504) */
#define T_BODY           60000   /* either side: no progress while a body moves */
#define T_UP_IDLE        30000   /* backend: idle keep-alive connection kept */
#define T_DOWN           10000   /* backend: left out after a failed connect */
#define ALLOW_ROOT       1       /* the benchmark runs as root */
