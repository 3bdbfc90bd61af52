/*
 * test_path.c: path_normalize. Every spelling of a path that reaches the same resource
 * must come out the same, so a rule on "/admin/" sees "/admin/" however it was written;
 * paths with no normal form are refused. Each case is also fed through twice: the
 * normal form is a fixed point.
 */
#include "path.h"
#include "t.h"

struct pcase {
	const char *in, *out;   /* out NULL: refused */
};

static void
run(const struct pcase *tab, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char buf[256];
		size_t len = strlen(tab[i].in);
		memcpy(buf, tab[i].in, len);
		T_NOTE(tab[i].in, len);
		long r = path_normalize(buf, len);
		if (!tab[i].out) {
			CHECK(r == -1);
			continue;
		}
		CHECK_EQ(r >= 0, 1);
		CHECK_MEM(buf, (size_t)r, tab[i].out);
		/* the normal form normalises to itself */
		long again = path_normalize(buf, (size_t)r);
		CHECK(again == r);
		CHECK_MEM(buf, (size_t)again, tab[i].out);
	}
}

static void
path_plain(void)
{
	static const struct pcase tab[] = {
		{ "/", "/" }, { "/a", "/a" }, { "/a/", "/a/" }, { "/a/b.c", "/a/b.c" },
		{ "*", "*" }, { "/~user/x-y_z", "/~user/x-y_z" },
	};
	run(tab, sizeof(tab) / sizeof(tab[0]));
}

static void
path_bypass_spellings(void)
{
	static const struct pcase tab[] = {
		{ "/./admin/", "/admin/" }, { "//admin/", "/admin/" }, { "/%61dmin/", "/admin/" },
		{ "/x/../admin/", "/admin/" }, { "/%2e/admin/", "/admin/" },
		{ "/%2E%2E/", NULL }, { "/a/%2e%2e/admin/x", "/admin/x" },
		{ "///admin///x", "/admin/x" }, { "/ADMIN/", "/ADMIN/" },
		{ "/adm%69n/./", "/admin/" }, { "/admin/.", "/admin/" }, { "/admin/..", "/" },
		{ "/a/b/../../admin", "/admin" }, { "/a/./b/./", "/a/b/" },
	};
	run(tab, sizeof(tab) / sizeof(tab[0]));
}

static void
path_reserved_stay_encoded(void)
{
	static const struct pcase tab[] = {
		{ "/a%2fb", "/a%2Fb" }, { "/a%2Fb", "/a%2Fb" }, { "/%3f", "/%3F" },
		{ "/%20x", "/%20x" }, { "/%c3%a9", "/%C3%A9" },
	};
	run(tab, sizeof(tab) / sizeof(tab[0]));
}

static void
path_refused(void)
{
	static const struct pcase tab[] = {
		{ "/..", NULL }, { "/../x", NULL }, { "/a/../..", NULL }, { "/%", NULL },
		{ "/%4", NULL }, { "/%zz", NULL }, { "/%00", NULL }, { "a/b", NULL }, { "", NULL },
		{ "/x%", NULL }, { "/x%g1", NULL },
	};
	run(tab, sizeof(tab) / sizeof(tab[0]));
}

static const struct t_case cases[] = {
	T(path_plain), T(path_bypass_spellings), T(path_reserved_stay_encoded), T(path_refused),
};

T_MAIN(cases)
