/*
 * fuzz_request.c: a request head through http_head_len and http_parse_request; a head that
 * parses is rewritten by fwd_request with the rest of the input as its body, and what
 * comes out must frame, parse with the same framing, and keep the body bytes unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"
#include "http.h"

static const char *const add[] = { "X-Route: fuzz", NULL };
static const char *const del[] = { "X-Secret", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static char buf[65536];
	static struct http_field f[128], g[256];
	struct http_msg m = { .f = f, .fcap = 128 }, o = { .f = g, .fcap = 256 };
	struct fwd_req r = { .client_ip = "192.0.2.1", .proto = "http", .add = add, .del = del };
	size_t scan = 0, len;
	long hl;

	if (n > 16384)
		return 0;
	hl = http_head_len((const char *)d, n, &scan);
	if (hl <= 0 || http_parse_request((const char *)d, (size_t)hl, &m) != S_NONE)
		return 0;
	memcpy(buf, d, n);
	r.http10 = m.version == 10;
	r.tunnel = (m.flags & HF_UPGRADE) != 0;
	r.strip = m.path.len > 4 && memcmp(d + m.path.off, "/api/", 5) == 0 ? 4 : 0;
	len = fwd_request(buf, sizeof buf, n - (size_t)hl, &m, &r);
	scan = 0;
	if (len == 0 || http_head_len(buf, len + n - (size_t)hl, &scan) != (long)len ||
	    http_parse_request(buf, len, &o) != S_NONE || o.framing != m.framing ||
	    o.length != m.length || memcmp(buf + len, d + hl, n - (size_t)hl) != 0)
		abort();
	return 0;
}
