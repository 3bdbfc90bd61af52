/*
 * route.c: the first-match route table lookup. Pure: strings in, an index out.
 * Hosts compare case-insensitively with any ":port" removed; "*.suffix" matches names
 * that end in ".suffix" with at least one label before it. Prefixes match whole path
 * segments, so "/api/" (or "/api") matches "/api", "/api/x" and "/api?q" only.
 */
#include <string.h>

#include "route.h"
#include "util.h"

size_t
route_host_len(const char *h, size_t n)
{
	if (n && h[0] == '[') {
		const char *e = memchr(h, ']', n);
		return e ? (size_t)(e - h) + 1 : n;
	}
	const char *c = memchr(h, ':', n);
	return c ? (size_t)(c - h) : n;
}

int
route_host_match(const char *pattern, const char *host, size_t len)
{
	size_t pl = strlen(pattern);

	len = route_host_len(host, len);
	if (len && host[len - 1] == '.')
		len--;                  /* a fully qualified name's trailing dot */
	if (pl >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		size_t sl = pl - 1;     /* ".suffix" */
		return len > sl && util_casecmp(host + len - sl, pattern + 1, sl);
	}
	return pl == len && util_casecmp(host, pattern, len);
}

/* the prefix length that must match: without a trailing '/' unless it is "/" alone */
static size_t
prefix_core(const char *prefix)
{
	size_t n = strlen(prefix);

	return n > 1 && prefix[n - 1] == '/' ? n - 1 : n;
}

static int
prefix_match(const char *prefix, const char *path, size_t len)
{
	size_t n = prefix_core(prefix);
	const char *q = memchr(path, '?', len);

	if (q)
		len = (size_t)(q - path);
	if (len < n || memcmp(path, prefix, n) != 0)
		return 0;
	/* on a segment boundary: the end, a '/', or a prefix that is "/" itself */
	return len == n || path[n] == '/' || prefix[n - 1] == '/';
}

int
route_match(const struct route_rule *r, unsigned n, const char *host, size_t host_len,
    const char *path, size_t path_len)
{
	for (unsigned i = 0; i < n; i++) {
		if (r[i].host && !route_host_match(r[i].host, host, host_len))
			continue;
		if (prefix_match(r[i].prefix, path, path_len))
			return (int)i;
	}
	return -1;
}

size_t
route_strip_len(const struct route_rule *r)
{
	if (!(r->flags & R_STRIP))
		return 0;
	size_t n = prefix_core(r->prefix);
	return n == 1 && r->prefix[0] == '/' ? 0 : n;
}
