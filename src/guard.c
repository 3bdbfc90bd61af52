/*
 * guard.c: access rules. Addresses compare as 16 bytes (IPv4 as ::ffff:a.b.c.d) so one
 * CIDR routine serves both families. The rate table is open addressing with a short
 * probe; a full neighbourhood gives its stalest bucket to the newcomer, so a flood of
 * addresses cannot grow memory, only forget old clients early. Passwords are checked
 * with PBKDF2-HMAC-SHA256 (BearSSL's HMAC), which is slow on purpose; a successful
 * check is remembered for a while, keyed by a hash of the route and the header, so a
 * browser sending the same credentials on every request pays it once.
 *
 * Built with -DCONF_CHECK (the build's table checker) only the pure parsers remain.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conf.h"
#include "guard.h"

#ifndef CONF_CHECK
#include <bearssl.h>
#endif

#define PROBE 8
#define AUTH_CACHE 16
#define AUTH_TTL_MS (5 * 60 * 1000)

#ifndef CONF_CHECK
static struct {
	unsigned char key[32];
	int64_t until;
} auth_cache[AUTH_CACHE];
#endif

/* ---- addresses -------------------------------------------------------------------- */

static void
key_of(const union addr *a, unsigned char k[16])
{
	if (a->sa.sa_family == AF_INET6) {
		memcpy(k, &a->in6.sin6_addr, 16);
		return;
	}
	memset(k, 0, 10);
	k[10] = k[11] = 0xff;
	memcpy(k + 12, &a->in.sin_addr, 4);
}

/* parses "addr[/bits]" into a 16-byte key and a prefix length over it; 0 or -1 */
static int
cidr_parse(const char *s, unsigned char k[16], unsigned *bits)
{
	char ip[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	union addr a;
	long b;

	if (n == 0 || n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = '\0';
	if (util_addr(&a, ip, 0) < 0)
		return -1;
	key_of(&a, k);
	b = a.sa.sa_family == AF_INET6 ? 128 : 32;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1 || v < 0 || v > b)
			return -1;
		b = v;
	}
	*bits = (unsigned)b + (a.sa.sa_family == AF_INET6 ? 0 : 96);
	return 0;
}

int
guard_cidr_valid(const char *s)
{
	unsigned char k[16];
	unsigned bits;

	return cidr_parse(s, k, &bits) == 0;
}

static int
prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

static int
listed(const char *const *list, const unsigned char k[16])
{
	for (; list && *list; list++) {
		unsigned char rk[16];
		unsigned bits;
		if (cidr_parse(*list, rk, &bits) == 0 && prefix_eq(rk, k, bits))
			return 1;
	}
	return 0;
}

int
guard_addr(const struct route_rule *r, const union addr *a)
{
	unsigned char k[16];

	if (!r->allow && !r->deny)
		return 1;
	key_of(a, k);
	if (listed(r->deny, k))
		return 0;
	return !r->allow || listed(r->allow, k);
}

#ifndef CONF_CHECK
/* ---- rates ------------------------------------------------------------------------ */

static uint32_t
bucket_hash(const unsigned char k[16], unsigned route)
{
	uint32_t h = 2166136261u ^ route;

	for (int i = 0; i < 16; i++)
		h = (h ^ k[i]) * 16777619u;
	return h;
}

/* the bucket of this address and route, taken over from the stalest one if needed */
static struct guard_bucket *
bucket(const unsigned char k[16], unsigned route, int burst, int64_t now)
{
	uint32_t h = bucket_hash(k, route);
	struct guard_bucket *stalest = NULL;

	for (unsigned i = 0; i < PROBE; i++) {
		struct guard_bucket *b = &conf.buckets[(h + i) % conf.nbuckets];
		if (b->used && b->route == route && memcmp(b->key, k, 16) == 0)
			return b;
		if (!b->used || !stalest || (stalest->used && b->last < stalest->last))
			stalest = b;
		if (!b->used)
			break;
	}
	memcpy(stalest->key, k, 16);
	stalest->used = 1;
	stalest->route = (uint8_t)route;
	stalest->milli = burst * 1000;
	stalest->last = now;
	return stalest;
}

int
guard_rate(const struct route_rule *r, unsigned route, const union addr *a, int64_t now,
    unsigned *retry_after)
{
	unsigned char k[16];
	int burst = r->burst ? r->burst : r->rate;
	struct guard_bucket *b;
	int64_t top;

	if (!r->rate || conf.nbuckets == 0)
		return 1;
	key_of(a, k);
	b = bucket(k, route, burst, now);
	/* r->rate tokens a second is r->rate thousandths a millisecond */
	top = b->milli + (now - b->last) * r->rate;
	b->milli = (int32_t)(top > burst * 1000 ? burst * 1000 : top);
	b->last = now;
	if (b->milli >= 1000) {
		b->milli -= 1000;
		return 1;
	}
	*retry_after = (unsigned)((1000 - b->milli) / r->rate / 1000 + 1);
	return 0;
}

#endif

/* ---- basic auth ------------------------------------------------------------------- */

#ifndef CONF_CHECK
static void
pbkdf2(const char *pw, size_t pwlen, const unsigned char *salt, size_t slen, unsigned iter,
    unsigned char out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char u[32];

	br_hmac_key_init(&kc, &br_sha256_vtable, pw, pwlen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, salt, slen);
	br_hmac_update(&hc, "\0\0\0\1", 4);
	br_hmac_out(&hc, u);
	memcpy(out, u, 32);
	for (unsigned i = 1; i < iter; i++) {
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, u, 32);
		br_hmac_out(&hc, u);
		for (int j = 0; j < 32; j++)
			out[j] ^= u[j];
	}
}

#endif

static long
unhex(const char *s, size_t n, unsigned char *dst, size_t cap)
{
	static const char digits[] = "0123456789abcdef";

	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		const char *h = memchr(digits, s[i] | 0x20, 16), *l = memchr(digits, s[i + 1] | 0x20, 16);
		if (!h || !l || !s[i] || !s[i + 1])
			return -1;
		dst[i / 2] = (unsigned char)((h - digits) * 16 + (l - digits));
	}
	return (long)(n / 2);
}

struct hashed {
	unsigned iter;
	unsigned char salt[64], hash[32];
	size_t slen;
};

/* splits "pbkdf2-sha256$iter$salthex$hashhex"; 0 or -1 */
static int
parse_hash(const char *s, struct hashed *h)
{
	static const char tag[] = "pbkdf2-sha256$";
	char *end;
	const char *salt, *hash;
	long sl;

	if (strncmp(s, tag, sizeof(tag) - 1) != 0)
		return -1;
	h->iter = (unsigned)strtoul(s + sizeof(tag) - 1, &end, 10);
	if (*end != '$' || h->iter < 1000 || h->iter > 10000000)
		return -1;
	salt = end + 1;
	hash = strchr(salt, '$');
	if (!hash || (sl = unhex(salt, (size_t)(hash - salt), h->salt, sizeof(h->salt))) < 8)
		return -1;
	h->slen = (size_t)sl;
	return unhex(hash + 1, strlen(hash + 1), h->hash, 32) == 32 ? 0 : -1;
}

int
guard_user_valid(const char *s)
{
	const char *colon = strchr(s, ':');
	struct hashed h;

	return colon && colon > s && parse_hash(colon + 1, &h) == 0;
}

#ifndef CONF_CHECK
/* 1 when "user:password" matches a line of the list */
static int
check_user(const char *const *users, const char *up, size_t n)
{
	const char *colon = memchr(up, ':', n);

	if (!colon)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)up[i] < 0x20 || up[i] == 0x7f)
			return 0;       /* RFC 7617: no control characters */
	for (; *users; users++) {
		const char *uc = strchr(*users, ':');
		size_t ulen = (size_t)(colon - up);
		struct hashed h;
		unsigned char got[32], diff = 0;
		if ((size_t)(uc - *users) != ulen || memcmp(*users, up, ulen) != 0)
			continue;
		if (parse_hash(uc + 1, &h) < 0)
			return 0;
		pbkdf2(colon + 1, n - ulen - 1, h.salt, h.slen, h.iter, got);
		for (int i = 0; i < 32; i++)
			diff |= got[i] ^ h.hash[i];     /* constant time */
		return diff == 0;
	}
	return 0;
}

static void
cache_key(unsigned route, const char *v, size_t n, unsigned char key[32])
{
	br_sha256_context sc;
	unsigned char r = (unsigned char)route;

	br_sha256_init(&sc);
	br_sha256_update(&sc, &r, 1);
	br_sha256_update(&sc, v, n);
	br_sha256_out(&sc, key);
}

int
guard_auth(const struct route_rule *r, unsigned route, const char *value, size_t len,
    int64_t now)
{
	char up[512];
	unsigned char key[32];
	long n;
	int slot = 0;

	if (!r->users)
		return 1;
	if (len < 6 || !util_casecmp(value, "Basic ", 6))
		return 0;
	cache_key(route, value, len, key);
	for (int i = 0; i < AUTH_CACHE; i++) {
		if (auth_cache[i].until > now && memcmp(auth_cache[i].key, key, 32) == 0)
			return 1;
		if (auth_cache[i].until < auth_cache[slot].until)
			slot = i;
	}
	n = util_b64dec(value + 6, len - 6, up, sizeof(up));
	if (n < 0 || !check_user(r->users, up, (size_t)n))
		return 0;
	memcpy(auth_cache[slot].key, key, 32);
	auth_cache[slot].until = now + AUTH_TTL_MS;
	return 1;
}

int
guard_hash(const char *pw, size_t len, char *dst, size_t cap)
{
	unsigned char salt[16], out[32];
	unsigned iter = 10000;  /* ~10 ms on a PC, ~100 ms on a router, once per login */
	int n;

	if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
		return -1;
	pbkdf2(pw, len, salt, sizeof(salt), iter, out);
	n = snprintf(dst, cap, "pbkdf2-sha256$%u$", iter);
	for (size_t i = 0; i < sizeof(salt) && n > 0 && (size_t)n + 3 < cap; i++)
		n += snprintf(dst + n, cap - (size_t)n, "%02x", salt[i]);
	n += snprintf(dst + n, cap - (size_t)n, "$");
	for (size_t i = 0; i < sizeof(out) && (size_t)n + 3 < cap; i++)
		n += snprintf(dst + n, cap - (size_t)n, "%02x", out[i]);
	return (size_t)n < cap ? 0 : -1;
}
#endif
