/*
 * The integration suite's config: the default one's shape on other ports (so a running
 * `make run` does not collide), short timeouts, few slots, and routes for every case.
 */
enum pool_name {
	POOL_WEB, POOL_API, POOL_HOSTED, POOL_DEAD, POOL_SINK,
	POOL_WEIGHTED, POOL_LC, POOL_HASH, POOL_BACKUP, POOL_CHECKED, POOL_UNIX, POOL_CACHE, NPOOLS
};

static const struct conf_pool pools[] = {
	/* pool                 name             policy */
	[POOL_WEB]    = { .name = "web",    .policy = LB_ROUND_ROBIN },
	[POOL_API]    = { .name = "api",    .policy = LB_ROUND_ROBIN },
	[POOL_HOSTED] = { .name = "hosted", .policy = LB_ROUND_ROBIN },
	[POOL_DEAD]   = { .name = "dead",   .policy = LB_ROUND_ROBIN },
	[POOL_SINK]   = { .name = "sink",   .policy = LB_ROUND_ROBIN },
	/* the pool tests start these backends themselves (tests/integration/test_pools.py) */
	[POOL_WEIGHTED] = { .name = "weighted", .policy = LB_ROUND_ROBIN },
	[POOL_LC]     = { .name = "lc",     .policy = LB_LEAST_CONN },
	[POOL_HASH]   = { .name = "hash",   .policy = LB_IP_HASH },
	[POOL_BACKUP] = { .name = "backup", .policy = LB_ROUND_ROBIN },
	[POOL_CHECKED] = { .name = "checked", .policy = LB_ROUND_ROBIN, .check_path = "/health",
	                   .check_every = 500, .check_fall = 2, .check_rise = 2 },
	[POOL_UNIX]   = { .name = "unix",   .policy = LB_ROUND_ROBIN },
	/* the cache tests start this backend themselves (tests/integration/test_cache.py) */
	[POOL_CACHE]  = { .name = "cache",  .policy = LB_ROUND_ROBIN },
};

static const struct conf_backend backends[] = {
	/* pool                  address             port           weight */
	{ .pool = POOL_WEB,    .addr = "127.0.0.1", .port = 19001, .weight = 1 },
	{ .pool = POOL_WEB,    .addr = "127.0.0.1", .port = 19002, .weight = 1 },
	{ .pool = POOL_API,    .addr = "127.0.0.1", .port = 19003, .weight = 1 },
	{ .pool = POOL_HOSTED, .addr = "::1",       .port = 19004, .weight = 1 },
	{ .pool = POOL_DEAD,   .addr = "127.0.0.1", .port = 19009, .weight = 1 },
	{ .pool = POOL_SINK,   .addr = "127.0.0.1", .port = 19005, .weight = 1 },
	{ .pool = POOL_WEIGHTED, .addr = "127.0.0.1", .port = 19011, .weight = 3 },
	{ .pool = POOL_WEIGHTED, .addr = "127.0.0.1", .port = 19012, .weight = 1 },
	{ .pool = POOL_LC,     .addr = "127.0.0.1", .port = 19013, .weight = 1 },
	{ .pool = POOL_LC,     .addr = "127.0.0.1", .port = 19014, .weight = 1 },
	{ .pool = POOL_HASH,   .addr = "127.0.0.1", .port = 19015, .weight = 1 },
	{ .pool = POOL_HASH,   .addr = "127.0.0.1", .port = 19016, .weight = 1 },
	{ .pool = POOL_BACKUP, .addr = "127.0.0.1", .port = 19017, .weight = 1 },
	{ .pool = POOL_BACKUP, .addr = "127.0.0.1", .port = 19018, .weight = 1, .backup = 1 },
	{ .pool = POOL_CHECKED, .addr = "127.0.0.1", .port = 19019, .weight = 1 },
	{ .pool = POOL_CHECKED, .addr = "127.0.0.1", .port = 19020, .weight = 1 },
	{ .pool = POOL_UNIX,   .addr = "/tmp/pollux-test-19021.sock", .weight = 1 },
	{ .pool = POOL_CACHE,  .addr = "127.0.0.1", .port = 19022, .weight = 1 },
};

static const char *const hdr_add[] = { "X-Added: yes", "X-Route: hdr", NULL };
static const char *const hdr_del[] = { "X-Secret", "User-Agent", NULL };

static const char *const admin_users[] = {
	"admin:pbkdf2-sha256$10000$026c6c390acd01fe7b4a376de158aac1$72248eaf56cc4eccebabc3c159d583721833a8c4920f047f7aaf1a21ebe2d10d",     /* admin / pollux */
	NULL
};
static const char *const loopback[] = { "127.0.0.0/8", "::1", NULL };
static const char *const deny_two[] = { "127.0.0.2", NULL };
static const char *const only_three[] = { "127.0.0.3/32", "::1", NULL };

static const struct route_rule routes[] = {
	/* host                 prefix               pool                flags */
	{ .host = "api.test",    .prefix = "/",         .pool = POOL_API },
	{ .host = "*.wild.test", .prefix = "/",         .pool = POOL_HOSTED },
	{ .host = NULL,          .prefix = "/api/",     .pool = POOL_API,  .flags = R_STRIP },
	{ .host = NULL,          .prefix = "/dead/",    .pool = POOL_DEAD },
	{ .host = NULL,          .prefix = "/sink/",    .pool = POOL_SINK },
	{ .host = NULL,          .prefix = "/hdr",      .pool = POOL_WEB,
	  .add = hdr_add, .del = hdr_del },
	{ .host = NULL,          .prefix = "/admin/",   .pool = POOL_WEB, .allow = loopback,
	  .users = admin_users, .realm = "pollux admin" },
	{ .host = NULL,          .prefix = "/deny/",    .pool = POOL_WEB, .deny = deny_two },
	{ .host = NULL,          .prefix = "/only3/",   .pool = POOL_WEB, .allow = only_three },
	{ .host = NULL,          .prefix = "/small/",   .pool = POOL_WEB, .max_body = 1024 },
	{ .host = NULL,          .prefix = "/limited/", .pool = POOL_WEB, .rate = 5, .burst = 5 },
	{ .host = NULL,          .prefix = "/weighted/", .pool = POOL_WEIGHTED },
	{ .host = NULL,          .prefix = "/lc/",      .pool = POOL_LC },
	{ .host = NULL,          .prefix = "/hash/",    .pool = POOL_HASH },
	{ .host = NULL,          .prefix = "/backup/",  .pool = POOL_BACKUP },
	{ .host = NULL,          .prefix = "/checked/", .pool = POOL_CHECKED },
	{ .host = NULL,          .prefix = "/unix/",    .pool = POOL_UNIX },
	{ .host = NULL,          .prefix = "/cache/",   .pool = POOL_CACHE, .cache = 1 },
	{ .host = NULL,          .prefix = "/cachettl/", .pool = POOL_CACHE, .cache = 1,
	  .cache_ttl = 2 },
	{ .host = NULL,          .prefix = "/cacheauth/", .pool = POOL_CACHE, .cache = 1,
	  .users = admin_users, .realm = "cache" },
	{ .host = NULL,          .prefix = "/nocache/", .pool = POOL_CACHE },
	{ .host = "127.0.0.1",   .prefix = "/",         .pool = POOL_WEB },
	{ .host = "localhost",   .prefix = "/",         .pool = POOL_WEB },
	/* no catch-all: any other host gets 404 */
};

static const struct conf_listener listeners[] = {
	/* address              port            TLS and redirect */
	{ .addr = "127.0.0.1", .port = 18080 },
	{ .addr = "::1",       .port = 18080 },
	{ .addr = "127.0.0.1", .port = 18443, .tls = 1, .hsts_max_age = 31536000 },
	{ .addr = "127.0.0.1", .port = 18081, .redirect_port = 18443 },
	{ .addr = "127.0.0.1", .port = 18099, .stats = 1 },
};

/* the first certificate is the default; tests/integration/run.py makes these files */
static const struct conf_cert certs[] = {
	/* server names (SNI)        chain (PEM)                       key (PEM) */
	{ .names = NULL,             .chain = "build/test/tls/ecdsa.pem", .key = "build/test/tls/ecdsa.key" },
	{ .names = "rsa.test",       .chain = "build/test/tls/rsa.pem",   .key = "build/test/tls/rsa.key" },
	{ .names = "*.wild.test p384.test", .chain = "build/test/tls/p384.pem", .key = "build/test/tls/p384.key" },
};

#define SLOTS            32
#define UP_SLOTS         64
#define BUF_BYTES        16384
#define MAX_FIELDS       64
#define IDLE_PER_BACKEND 4

#define MAX_LINE         4096
#define MAX_PER_ADDR     24
#define RATE_TABLE       256
#define ALLOW_ROOT       1       /* the suite runs as root in CI */
#define TLS_SLOTS        16
#define SPLICE_PIPES     4       /* pipes for long plain-HTTP bodies, 2 descriptors each (0: none) */
#define CACHE_BYTES      262144
#define CACHE_ENTRIES    64
#define CACHE_MAX_OBJECT 65536
static const char *const purgers[] = { "127.0.0.1", "::1", NULL };
#define CACHE_PURGE_FROM purgers
#define TLS_SESSIONS     64
#define TLS_CERT_BYTES   32768

#define T_HEADER         2000
#define T_IDLE           3000
#define T_CONNECT        1000
#define T_FIRST_BYTE     2000
#define T_BODY           2000
#define T_UP_IDLE        2000
#define T_DOWN           1000
#define T_TUNNEL         5000
#define T_DRAIN          3000
