/*
 * path.c: path normalisation in one pass over the bytes, writing behind the reading
 * position (the output is never longer than the input). Segments are copied one at a
 * time; "." is dropped, ".." removes the segment written before it, empty segments
 * (repeated slashes) are dropped. A trailing slash is kept ("/a/" and "/a" differ).
 */
#include "path.h"
#include "util.h"

static int
unreserved(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '.' || c == '_' || c == '~';
}

/* decodes one segment src[0..n) to dst (dst <= src); returns its length or -1 */
static long
segment(char *dst, const char *src, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (src[i] != '%') {
			dst[o++] = src[i];
			continue;
		}
		if (i + 2 >= n)
			return -1;      /* a '%' without two digits */
		int h = util_hexval(src[i + 1]), l = util_hexval(src[i + 2]);
		if (h < 0 || l < 0 || (h == 0 && l == 0))
			return -1;      /* a bad encoding, or an encoded NUL */
		int c = h * 16 + l;
		if (unreserved(c)) {
			dst[o++] = (char)c;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[h];
			dst[o++] = hex[l];
		}
		i += 2;
	}
	return (long)o;
}

/* drops the last segment written: out is the length of "/a/b" -> "/a" */
static size_t
pop(const char *p, size_t out)
{
	while (out > 0 && p[out - 1] != '/')
		out--;
	return out > 0 ? out - 1 : 0;
}

long
path_normalize(char *p, size_t len)
{
	size_t in = 0, out = 0;

	if (len == 1 && p[0] == '*')
		return 1;
	if (len == 0 || p[0] != '/')
		return -1;
	while (in < len) {
		size_t s = ++in, e = s;         /* past the '/' */
		while (e < len && p[e] != '/')
			e++;
		in = e;
		/* write "/segment" at out, then see what it was */
		p[out] = '/';
		long n = segment(p + out + 1, p + s, e - s);
		if (n < 0)
			return -1;
		if (n == 0 && e < len)
			continue;                   /* an empty segment: "//" */
		if ((n == 1 && p[out + 1] == '.') || (n == 2 && p[out + 1] == '.' && p[out + 2] == '.')) {
			if (n == 2) {
				if (out == 0)
					return -1;      /* above the root */
				out = pop(p, out);
			}
			if (e == len) {
				p[out++] = '/';         /* "/a/." ends as "/a/" */
				return (long)out;
			}
			continue;
		}
		out += 1 + (size_t)n;
	}
	return (long)out;
}
