/*
 * fuzz_chunked.c: a chunked body through http_body_scan, whole and in two pieces split
 * where the first input byte says. Both ways must agree on the bytes taken, on the end
 * and on an error, and a decoder that is not done must take every byte it is given.
 */
#include <stdint.h>
#include <stdlib.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

/* feeds p[0..n) as p[0..k) then the rest; returns bytes taken or -1; *done as left */
static long feed(const char *p, size_t n, size_t k, int *done)
{
	struct http_body b;
	long r1, r2;

	http_body_init(&b, HB_CHUNKED, 0);
	r1 = http_body_scan(&b, p, k);
	if (r1 < 0 || b.done) {
		*done = b.done;
		return r1;
	}
	if ((size_t)r1 != k)
		abort();
	r2 = http_body_scan(&b, p + k, n - k);
	*done = b.done;
	if (r2 >= 0 && !b.done && (size_t)r2 != n - k)
		abort();
	return r2 < 0 ? -1 : r1 + r2;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const char *p = (const char *)d + 1;
	long whole, split;
	int dw, ds;

	if (n < 1)
		return 0;
	whole = feed(p, n - 1, n - 1, &dw);
	split = feed(p, n - 1, d[0] % n, &ds);
	if (whole != split || (whole >= 0 && dw != ds) || whole > (long)(n - 1))
		abort();
	return 0;
}
