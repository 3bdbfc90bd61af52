/*
 * The state-machine fuzzer's config: no TLS, no TCP listener (the harness hands
 * connections to conn_accept itself), one pool whose backend is a Unix socket the
 * harness listens on, short limits so edge cases come quickly.
 */
enum pool_name { POOL_ONE, POOL_TWO, NPOOLS };

static const struct conf_pool pools[] = {
	[POOL_ONE] = { .name = "one", .policy = LB_ROUND_ROBIN },
	[POOL_TWO] = { .name = "two", .policy = LB_LEAST_CONN },
};

static const struct conf_backend backends[] = {
	{ .pool = POOL_ONE, .addr = "/tmp/pollux-fuzz-backend.sock", .weight = 1 },
	{ .pool = POOL_TWO, .addr = "/tmp/pollux-fuzz-backend.sock", .weight = 1 },
};

static const char *const add[] = { "X-Fuzz: 1", NULL };
static const char *const del[] = { "Cookie", NULL };
static const char *const users[] = {
	"admin:pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
	"5a0b6c3a6e0c7b4e1f4b7d4f5c0b7a0e8f8f3c3e6c1b0a2d3f4e5d6c7b8a9f00",
	NULL
};
static const char *const local[] = { "127.0.0.0/8", NULL };

static const struct route_rule routes[] = {
	{ .host = NULL, .prefix = "/a/", .pool = POOL_ONE, .flags = R_STRIP, .add = add, .del = del },
	{ .host = NULL, .prefix = "/auth/", .pool = POOL_ONE, .users = users, .allow = local },
	{ .host = NULL, .prefix = "/small/", .pool = POOL_TWO, .max_body = 64, .rate = 100 },
	{ .host = "*.x", .prefix = "/", .pool = POOL_TWO },
	{ .host = NULL, .prefix = "/", .pool = POOL_ONE },
};

static const struct conf_listener listeners[] = {
	{ .addr = "127.0.0.1", .port = 1 },     /* never bound: the harness accepts */
};

#define SLOTS            4
#define UP_SLOTS         8
#define BUF_BYTES        4096
#define MAX_FIELDS       16
#define IDLE_PER_BACKEND 2
#define MAX_LINE         512
#define ALLOW_ROOT       1
#define ACCESS_LOG       0

#define T_HEADER         1000
#define T_IDLE           1000
#define T_CONNECT        1000
#define T_FIRST_BYTE     1000
#define T_BODY           1000
#define T_UP_IDLE        1000
#define T_DOWN           1
