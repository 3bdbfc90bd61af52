/*
 * fuzz_path.c: path_normalize on any bytes. What it accepts must come out no longer,
 * starting with '/', without "//", "/./" or "/../", and be its own normal form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static char buf[4096], again[4096];
	long r, r2;

	if (n > sizeof(buf))
		return 0;
	memcpy(buf, d, n);
	r = path_normalize(buf, n);
	if (r < 0 || (r == 1 && buf[0] == '*'))
		return 0;
	if ((size_t)r > n || r == 0 || buf[0] != '/')
		abort();
	for (long i = 0; i + 1 < r; i++)
		if (buf[i] == '/' && buf[i + 1] == '/')
			abort();
	memcpy(again, buf, (size_t)r);
	r2 = path_normalize(again, (size_t)r);
	if (r2 != r || memcmp(again, buf, (size_t)r) != 0)
		abort();
	return 0;
}
