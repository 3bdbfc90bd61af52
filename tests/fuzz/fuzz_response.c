/*
 * fuzz_response.c: a response head (the first input byte picks the request method) through
 * http_head_len and http_parse_response; a head that parses is rewritten by fwd_response,
 * and what comes out must frame, parse with the same framing, and keep the body unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static char buf[65536];
	static struct http_field f[128], g[256];
	struct http_msg m = { .f = f, .fcap = 128 }, o = { .f = g, .fcap = 256 };
	struct fwd_resp r = { .extra = "X-Cache: MISS\r\n" };
	const char *p = (const char *)d + 1;
	size_t scan = 0, len;
	long hl;
	int method;

	if (n < 1 || n > 16384)
		return 0;
	method = d[0] % (M_PATCH + 1);
	hl = http_head_len(p, n - 1, &scan);
	if (hl <= 0 || http_parse_response(p, (size_t)hl, method, &m) != S_NONE)
		return 0;
	memcpy(buf, p, n - 1);
	r.keepalive = d[0] >> 7;
	r.http10 = (d[0] >> 6) & 1;
	r.tunnel = m.status == 101 && (m.flags & HF_UPGRADE);
	len = fwd_response(buf, sizeof buf, n - 1 - (size_t)hl, &m, &r);
	scan = 0;
	if (len == 0 || http_head_len(buf, len + n - 1 - (size_t)hl, &scan) != (long)len ||
	    http_parse_response(buf, len, method, &o) != S_NONE || o.framing != m.framing ||
	    o.length != m.length || memcmp(buf + len, p + hl, n - 1 - (size_t)hl) != 0)
		abort();
	return 0;
}
