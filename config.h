/*
 * pollux configuration: the only file a user edits. Everything is fixed at compile
 * time; a mistake in a table fails the build with a message naming the entry.
 * Settings come in the order people change them. Units are in the comments.
 */

/* ---- pools: name each, then list its backends ---------------------------------- */
enum pool_name { POOL_WEB, POOL_API, NPOOLS };

/* policy: LB_ROUND_ROBIN (smooth, by weight), LB_LEAST_CONN, LB_IP_HASH (a client
 * stays on one backend while it is up). check_path turns on active health checks:
 * every check_every ms a GET; check_fall failures in a row take a backend out,
 * check_rise good ones bring it back; statuses check_min..check_max are good
 * (defaults: 2000 ms, 2, 2, 200..399). */
static const struct conf_pool pools[] = {
	/* pool              name          policy                 health checks */
	[POOL_WEB] = { .name = "web", .policy = LB_ROUND_ROBIN,
	               .check_path = "/", .check_every = 2000, .check_fall = 2, .check_rise = 2 },
	[POOL_API] = { .name = "api", .policy = LB_ROUND_ROBIN },
};

/* address: numeric IPv4 or IPv6 with a port, or a Unix socket path ("/run/app.sock").
 * .backup = 1: only used while every other backend of the pool is out. */
static const struct conf_backend backends[] = {
	/* pool               address             port          weight */
	{ .pool = POOL_WEB, .addr = "127.0.0.1", .port = 9001, .weight = 1 },
	{ .pool = POOL_WEB, .addr = "127.0.0.1", .port = 9002, .weight = 1 },
	{ .pool = POOL_API, .addr = "127.0.0.1", .port = 9003, .weight = 1 },
};

/* ---- routes: first match wins ---------------------------------------------------- */
/* host: NULL (any), "name" or "*.suffix" (port ignored). prefix: on segment
 * boundaries, "/api/" matches /api, /api/x and /api?q, never /apix.
 * R_STRIP removes the prefix: /api/x?q=1 reaches the backend as /x?q=1. */
/* Access rules per route: .allow / .deny list addresses or CIDRs (403 otherwise);
 * .users turns on basic auth with "name:hash" lines (401 otherwise): make a hash with
 *     echo 'your password' | ./pollux -p
 * (or openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:PW -kdfopt hexsalt:SALT
 *  -kdfopt iter:10000 PBKDF2, written as pbkdf2-sha256$10000$SALT$HASH in lower case).
 * .rate / .burst: requests per second per client address (429 above); .max_body: request
 * body bytes (413 above). .cache = 1 stores cacheable GET responses in the arena (see
 * CACHE_BYTES) and answers from it; .cache_ttl (seconds) gives responses that carry no
 * freshness of their own one (off by default; meant for static assets). */
/* WARNING: admin / pollux is a loopback demo. Replace it before the box faces anyone. */
static const char *const admin_users[] = {
	"admin:pbkdf2-sha256$10000$026c6c390acd01fe7b4a376de158aac1$72248eaf56cc4eccebabc3c159d583721833a8c4920f047f7aaf1a21ebe2d10d",
	NULL
};
static const char *const loopback[] = { "127.0.0.0/8", "::1", NULL };

static const struct route_rule routes[] = {
	/* host           prefix               pool               flags and rules */
	{ .host = NULL, .prefix = "/admin/", .pool = POOL_WEB, .allow = loopback,
	  .users = admin_users, .realm = "pollux admin", .rate = 5, .burst = 20 },
	{ .host = NULL, .prefix = "/api/",   .pool = POOL_API, .flags = R_STRIP },
	{ .host = NULL, .prefix = "/",       .pool = POOL_WEB, .cache = 1 },
};

/* ---- listeners ------------------------------------------------------------------- */
/* .tls = 1 terminates TLS; .hsts_max_age (seconds) adds Strict-Transport-Security to
 * its responses; .redirect_port = 443 on a plain listener answers every request with
 * 301 to https://host:443/same/target instead of proxying it. .stats = 1 answers with
 * the counters instead: /metrics (Prometheus) and / (a summary); keep it on loopback. */
static const struct conf_listener listeners[] = {
	/* address              port            TLS and redirect */
	{ .addr = "127.0.0.1", .port = 8080 },
	{ .addr = "127.0.0.1", .port = 8443, .tls = 1 },
	{ .addr = "127.0.0.1", .port = 8099, .stats = 1 },   /* /metrics and / */
};

/* ---- certificates ---------------------------------------------------------------- */
/* The first entry is the default (no SNI, or an unknown name). names: SNI patterns,
 * exact or "*.suffix", space-separated. chain: PEM, the certificate then its chain.
 * key: PEM, PKCS#8 or EC/RSA. ECDSA P-256/P-384 and RSA 2048-4096. SIGHUP reloads them.
 * `make run` makes the self-signed development pair below when it is missing. */
static const struct conf_cert certs[] = {
	/* names (SNI)     chain                      key */
	{ .names = NULL, .chain = "build/tls/dev.pem", .key = "build/tls/dev.key" },
};

/* ---- limits ---------------------------------------------------------------------- */
#define SLOTS            256     /* client connections open at once */
#define UP_SLOTS         256     /* backend connections, busy and idle */
#define BUF_BYTES        16384   /* bytes, per direction, per client connection */
#define MAX_FIELDS       64      /* header fields per request or response */
#define IDLE_PER_BACKEND 8       /* idle keep-alive connections kept per backend */
#define TLS_SLOTS        64      /* of SLOTS, how many can carry TLS at once */
#define SPLICE_PIPES     32      /* pipes for long plain-HTTP bodies, 2 descriptors each (0: none) */
#define TLS_SESSIONS     256     /* TLS sessions kept for resumption (100 bytes each) */
#define TLS_CERT_BYTES   16384   /* bytes for certificates and keys (twice: reload) */

#define MAX_LINE         8192    /* bytes of a request line (414 above) */
#define MAX_PER_ADDR     32      /* connections from one client address (0: no limit) */
#define DEFER_ACCEPT     1       /* s the kernel keeps a new connection that has sent
                                    nothing (TCP_DEFER_ACCEPT; 0: off) */
#define RATE_TABLE       1024    /* client addresses tracked for .rate (40 bytes each) */

/* ---- the response cache (routes with .cache = 1) ------------------------------------- */
#define CACHE_BYTES      1048576 /* bytes of the arena, in 1 KiB blocks (0: no cache) */
#define CACHE_ENTRIES    256     /* objects stored at once (64 bytes each) */
#define CACHE_MAX_OBJECT 262144  /* bytes of one response, head included; larger ones
                                    stream through uncached */
static const char *const purgers[] = { "127.0.0.0/8", "::1", NULL };
#define CACHE_PURGE_FROM purgers /* addresses allowed to send PURGE (NULL: nobody) */

/* ---- logs and the daemon ---------------------------------------------------------- */
#define LOG_TO           LOG_TO_STDERR /* or LOG_TO_SYSLOG (daemon facility), LOG_TO_FILE */
/* #define LOG_FILE      "/var/log/pollux.log"  for LOG_TO_FILE; SIGHUP reopens it */
#define ACCESS_LOG       1       /* one line per request (0: errors and events only) */
#define PIDFILE          "/var/run/pollux.pid" /* written with -d */
#define T_DRAIN          10000   /* ms in-flight requests get to finish at SIGTERM */

/* ---- privileges ------------------------------------------------------------------ */
#define RUN_USER         "nobody" /* after binding and loading keys, run as this user */
/* #define RUN_GROUP     "nogroup"   default: the user's group */
/* #define RUN_CHROOT    "/var/empty" certificate reloads then read paths inside it */
/* #define ALLOW_ROOT    1        keep running as root when RUN_USER is not set */

/* ---- timeouts, in milliseconds --------------------------------------------------- */
#define T_HEADER         10000   /* client: whole request head */
#define T_IDLE           60000   /* client: idle keep-alive between requests */
#define T_CONNECT        5000    /* backend: connect (504 when it expires) */
#define T_FIRST_BYTE     60000   /* backend: request sent to first response byte (504) */
#define T_BODY           60000   /* either side: no progress while a body moves */
#define T_UP_IDLE        30000   /* backend: idle keep-alive connection kept */
#define T_DOWN           10000   /* backend: left out after a failed connect, a reset
                                    before any response byte, or no response in time */
#define T_TUNNEL         600000  /* a WebSocket or other upgraded connection, idle */
