/*
 * test_route.c: route.h against its contract. Hosts and paths are handed over as views
 * (pointer and length, with more bytes behind them), the way the parser gives them.
 */
#include "route.h"
#include "t.h"

/*
 * host and path given as views into longer strings: the bytes past len must not count.
 * A request without Host has a host of length 0 (still a pointer into the head).
 */
static int match(const struct route_rule *r, unsigned n, const char *host, const char *path)
{
	char hb[128], pb[256];
	size_t hl = host ? strlen(host) : 0, pl = strlen(path);

	snprintf(hb, sizeof hb, "%sx.y:1/", host ? host : "");
	snprintf(pb, sizeof pb, "%sx/y?", path);
	return route_match(r, n, hb, hl, pb, pl);
}

static int host_match(const char *pattern, const char *host)
{
	char hb[128];

	snprintf(hb, sizeof hb, "%s.x:1", host);
	return route_host_match(pattern, hb, strlen(host));
}

struct hm { const char *pattern, *host; int want; };

static void host_cases(const struct hm *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		T_NOTES(t[i].host);
		CHECK_EQ(host_match(t[i].pattern, t[i].host), t[i].want);
	}
}
#define HOSTS(tab) CALL(host_cases(tab, sizeof(tab) / sizeof(tab[0])))

static void route_host_exact(void)
{
	static const struct hm tab[] = {
		{ "a.test", "a.test", 1 }, { "a.test", "A.TEST", 1 }, { "A.Test", "a.test", 1 },
		{ "a.test", "a.test:8080", 1 }, { "a.test", "A.test:1", 1 },
		{ "a.test", "b.test", 0 }, { "a.test", "a.tes", 0 }, { "a.test", "a.test.x", 0 },
		{ "a.test", "aa.test", 0 }, { "a.test", "", 0 }, { "a.test", ":8080", 0 },
		{ "a.test", "x.a.test", 0 }, { "127.0.0.1", "127.0.0.1:18080", 1 },
		{ "localhost", "localhost", 1 },
	};
	HOSTS(tab);
}

static void route_host_wild(void)
{
	static const struct hm tab[] = {
		{ "*.wild.test", "x.wild.test", 1 }, { "*.wild.test", "a.b.wild.test", 1 },
		{ "*.wild.test", "X.WILD.Test:8080", 1 }, { "*.Wild.Test", "x.wild.test", 1 },
		{ "*.wild.test", "wild.test", 0 }, { "*.wild.test", "xwild.test", 0 },
		{ "*.wild.test", "wild.test:80", 0 }, { "*.wild.test", "x.wild.test.evil", 0 },
		{ "*.wild.test", "x.wild.tes", 0 }, { "*.wild.test", "", 0 },
		{ "*.wild.test", "x.wild.test:", 1 },
	};
	HOSTS(tab);
}

/* the port is cut at the last ':' after a bracketed IPv6 literal, never inside it */
static void route_host_ipv6(void)
{
	static const struct hm tab[] = {
		{ "[::1]", "[::1]", 1 }, { "[::1]", "[::1]:18080", 1 }, { "[::1]", "[::2]:80", 0 },
		{ "localhost", "[::1]:80", 0 },
	};
	HOSTS(tab);
}

static const struct route_rule order[] = {
	{ .host = "a.test", .prefix = "/api/", .pool = 1, .flags = R_STRIP },
	{ .host = "*.wild.test", .prefix = "/", .pool = 2 },
	{ .host = NULL, .prefix = "/api", .pool = 3 },
	{ .host = "a.test", .prefix = "/", .pool = 4 },
	{ .host = NULL, .prefix = "/", .pool = 5 },
};
#define NORDER (unsigned)(sizeof order / sizeof order[0])

static void route_match_first_wins(void)
{
	CHECK_EQ(match(order, NORDER, "a.test", "/api/x"), 0);
	CHECK_EQ(match(order, NORDER, "A.TEST:8080", "/api"), 0);
	CHECK_EQ(match(order, NORDER, "a.test", "/apix"), 3);
	CHECK_EQ(match(order, NORDER, "a.test", "/"), 3);
	CHECK_EQ(match(order, NORDER, "x.wild.test", "/api/x"), 1);
	CHECK_EQ(match(order, NORDER, "b.test", "/api/x"), 2);
	CHECK_EQ(match(order, NORDER, "b.test", "/other"), 4);
	CHECK_EQ(match(order, NORDER, "wild.test", "/z"), 4);
	/* n limits the table */
	CHECK_EQ(match(order, 2, "b.test", "/api/x"), -1);
	CHECK_EQ(match(order, 1, "x.wild.test", "/"), -1);
	CHECK_EQ(match(order, 0, "a.test", "/api/x"), -1);
}

/* a NULL host in a rule matches any host, an absent one included */
static void route_match_null_host(void)
{
	static const struct route_rule r[] = {
		{ .host = "a.test", .prefix = "/", .pool = 0 },
		{ .host = NULL, .prefix = "/", .pool = 1 },
	};

	CHECK_EQ(match(r, 2, NULL, "/x"), 1);
	CHECK_EQ(match(r, 2, "", "/x"), 1);
	CHECK_EQ(match(r, 2, "zzz", "/x"), 1);
	CHECK_EQ(match(r, 1, NULL, "/x"), -1);
	CHECK_EQ(match(r, 1, "", "/x"), -1);
}

static void segments(const char *prefix)
{
	static const struct { const char *path; int want; } tab[] = {
		{ "/api", 0 }, { "/api/", 0 }, { "/api/x", 0 }, { "/api/x/y?z", 0 },
		{ "/api?q=1", 0 }, { "/api?", 0 }, { "/api/?q", 0 },
		{ "/apix", -1 }, { "/apix/y", -1 }, { "/ap", -1 }, { "/", -1 }, { "", -1 },
		{ "/API", -1 }, { "/API/x", -1 }, { "/x/api/", -1 }, { "/x?/api/", -1 },
		{ "//api/", -1 }, { "api/", -1 }, { "/ap?i/", -1 },
	};
	const struct route_rule r = { .host = NULL, .prefix = prefix, .pool = 0 };
	size_t i;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		T_NOTES(tab[i].path);
		CHECK_EQ(match(&r, 1, "h", tab[i].path), tab[i].want);
	}
}

static void route_match_segment_slash(void)
{
	CALL(segments("/api/"));
}

static void route_match_segment_bare(void)
{
	CALL(segments("/api"));
}

static void route_match_deeper(void)
{
	const struct route_rule r = { .host = NULL, .prefix = "/api/v1/", .pool = 0 };

	CHECK_EQ(match(&r, 1, "h", "/api/v1"), 0);
	CHECK_EQ(match(&r, 1, "h", "/api/v1/x"), 0);
	CHECK_EQ(match(&r, 1, "h", "/api/v1?x"), 0);
	CHECK_EQ(match(&r, 1, "h", "/api/v1x"), -1);
	CHECK_EQ(match(&r, 1, "h", "/api/v2/x"), -1);
	CHECK_EQ(match(&r, 1, "h", "/api/"), -1);
	CHECK_EQ(match(&r, 1, "h", "/api"), -1);
}

static void route_match_root(void)
{
	const struct route_rule r = { .host = NULL, .prefix = "/", .pool = 0 };

	CHECK_EQ(match(&r, 1, "h", "/"), 0);
	CHECK_EQ(match(&r, 1, "h", "/x"), 0);
	CHECK_EQ(match(&r, 1, "h", "/x/y?z=1"), 0);
	CHECK_EQ(match(&r, 1, "h", "/?q"), 0);
	CHECK_EQ(match(&r, 1, NULL, "/anything"), 0);
}

static void route_strip(void)
{
	static const struct { const char *prefix; int flags; size_t want; } tab[] = {
		{ "/api/", R_STRIP, 4 }, { "/api", R_STRIP, 4 }, { "/api/", 0, 0 },
		{ "/api", 0, 0 }, { "/", R_STRIP, 0 }, { "/", 0, 0 },
		{ "/api/v1/", R_STRIP, 7 }, { "/a", R_STRIP, 2 },
	};
	static const char path[] = "/api/x?q=1";
	struct route_rule r = { .host = NULL, .pool = 0 };
	size_t i, k;

	for (i = 0; i < sizeof tab / sizeof tab[0]; i++) {
		T_NOTES(tab[i].prefix);
		r.prefix = tab[i].prefix;
		r.flags = (uint8_t)tab[i].flags;
		CHECK_EQ(route_strip_len(&r), tab[i].want);
	}
	/* what stays of the path is still origin-form */
	r.prefix = "/api/";
	r.flags = R_STRIP;
	k = route_strip_len(&r);
	CHECK_STR(path + k, "/x?q=1");
}

static const struct t_case cases[] = {
	T(route_host_exact), T(route_host_wild), T(route_host_ipv6),
	T(route_match_first_wins), T(route_match_null_host), T(route_match_segment_slash),
	T(route_match_segment_bare), T(route_match_deeper), T(route_match_root), T(route_strip),
};

T_MAIN(cases)
