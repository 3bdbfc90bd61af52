/*
 * test_cache.c: cache.h against its contract. Every case gives the store a small arena,
 * entry table and chain array of its own, each from malloc so ASan sees a block index
 * that runs off either end. Bytes are always read back through cache_seek/cache_read in
 * pieces of varying size and compared with what was appended. The last case is a long
 * seeded random run against a shadow of every slot, checking the store's invariants
 * after each step.
 */
#include <stdint.h>

#include "cache.h"
#include "t.h"

static unsigned char *arena;
static struct cache_entry *ents;
static int32_t *nexts;
static unsigned nblk, nent;
static uint32_t maxobj;

static uint32_t xs(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* a fresh store of nb blocks, ne entries, objects up to mo bytes */
static void setup(unsigned nb, unsigned ne, uint32_t mo)
{
	free(arena);
	free(ents);
	free(nexts);
	nblk = nb;
	nent = ne;
	maxobj = mo;
	arena = malloc((size_t)nb * CACHE_BLOCK);
	ents = malloc(ne * sizeof *ents);
	nexts = malloc(nb * sizeof *nexts);
	CHECK(arena && ents && nexts);
	memset(arena, 0xee, (size_t)nb * CACHE_BLOCK);
	memset(ents, 0xa5, ne * sizeof *ents);
	memset(nexts, 0xa5, nb * sizeof *nexts);
	cache_init(arena, (size_t)nb * CACHE_BLOCK, ents, ne, nexts, mo);
	CHECK_EQ(cache_bytes(), 0);
	CHECK_EQ(cache_entries(), 0);
}

/* n bytes that depend on seed and on their place */
static void pattern(char *p, size_t n, uint32_t seed)
{
	uint32_t s = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++)
		p[i] = (char)(xs(&s) >> 24);
}

static size_t blocks(size_t len)
{
	return (len + CACHE_BLOCK - 1) / CACHE_BLOCK;
}

/*
 * entry i holds want[0..n) from byte off on: read in pieces of varying size, the first
 * one ending a byte short of a block's end, the others often a few bytes long
 */
static void check_bytes(int i, uint32_t off, const char *want, size_t n)
{
	static char got[65536];
	static uint32_t s = 12345;
	struct cache_cursor c;
	size_t done = 0, k, piece = CACHE_BLOCK - 1 - off % CACHE_BLOCK;

	CHECK(n <= sizeof got);
	cache_seek(i, off, (uint32_t)n, &c);
	while (done < n) {
		if (piece == 0)
			piece = 1;
		k = cache_read(&c, got + done, piece);
		CHECK(k > 0 && k <= piece);
		done += k;
		piece = xs(&s) % 3 ? 1 + xs(&s) % 5 : xs(&s) % 3000;
	}
	CHECK_EQ(cache_read(&c, got, sizeof got), 0);
	if (memcmp(got, want, n) != 0) {
		for (k = 0; k < n && got[k] == want[k]; k++)
			;
		t_fail(__FILE__, __LINE__, "entry %d: byte %zu of %zu from %u differs", i, k, n,
		    off);
	}
}

/* a FILLING entry for key with Accept-Encoding hash ae */
static void begin(const char *key, uint32_t ae, int *i)
{
	*i = cache_begin(key, strlen(key), ae);
	CHECK(*i >= 0 && (unsigned)*i < nent);
	CHECK_EQ(cache_get(*i)->state, E_FILLING);
	CHECK_EQ(cache_get(*i)->key_len, strlen(key));
	CHECK_EQ(cache_get(*i)->len, strlen(key));
	CHECK_EQ(cache_get(*i)->ae, ae);
}

/* appends p[0..n) in pieces */
static void put(int i, const char *p, size_t n)
{
	size_t k, piece = 1;

	for (; n > 0; p += k, n -= k, piece = piece * 5 + 3) {
		k = piece < n ? piece : n;
		CHECK_EQ(cache_append(i, p, k), 0);
	}
}

/* a READY entry: key, head, body (nb bytes), vary set as the caller does */
static void store(const char *key, uint32_t ae, int vary, const char *head, const char *body,
    size_t nb, int *i)
{
	CALL(begin(key, ae, i));
	CALL(put(*i, head, strlen(head)));
	cache_head_done(*i);
	CHECK_EQ(cache_get(*i)->head_len, strlen(head));
	CALL(put(*i, body, nb));
	cache_get(*i)->vary_ae = (uint8_t)vary;
	cache_commit(*i, 1000);
	CHECK_EQ(cache_get(*i)->state, E_READY);
	CHECK_EQ(cache_get(*i)->len, strlen(key) + strlen(head) + nb);
}

/* a READY entry of about len bytes in all (key included), body from seed */
static void store_n(const char *key, uint32_t ae, int vary, size_t len, uint32_t seed, int *i)
{
	static char body[65536];

	CHECK(len >= strlen(key) + 2 && len - strlen(key) - 2 <= sizeof body);
	pattern(body, len - strlen(key) - 2, seed);
	CALL(store(key, ae, vary, "H\n", body, len - strlen(key) - 2, i));
}

/* entry i is READY with key and the body of store_n(len, seed) */
static void check_n(int i, const char *key, size_t len, uint32_t seed)
{
	static char body[65536];
	size_t kl = strlen(key);

	CHECK_EQ(cache_get(i)->state, E_READY);
	CHECK_EQ(cache_get(i)->len, len);
	pattern(body, len - kl - 2, seed);
	CALL(check_bytes(i, 0, key, kl));
	CALL(check_bytes(i, (uint32_t)kl, "H\n", 2));
	CALL(check_bytes(i, (uint32_t)kl + 2, body, len - kl - 2));
}

/* the hash a key gets, found the way the store finds it: from a fill of it */
static uint64_t cc_hash_of(const char *key)
{
	int i = cache_begin(key, strlen(key), 0);
	uint64_t h = i >= 0 ? cache_get(i)->hash : 0;

	if (i >= 0)
		cache_abort(i);
	return h;
}

static int lookup(const char *key, uint32_t ae)
{
	return cache_lookup(key, strlen(key), ae);
}

/* ---- cases ------------------------------------------------------------------------ */

static void cache_round_trip(void)
{
	static const char key[] = "GET example.com/a/b?c=d";
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "Content-Length: 5000\r\nETag: \"x\"\r\n\r\n";
	static char body[5000], all[6000];
	size_t kl = strlen(key), hl = strlen(head), len = kl + hl + sizeof body;
	int i;

	CALL(setup(16, 4, 8192));
	pattern(body, sizeof body, 7);
	CALL(store(key, 3, 0, head, body, sizeof body, &i));
	CHECK_EQ(cache_entries(), 1);
	CHECK_EQ(cache_bytes(), blocks(len) * CACHE_BLOCK);
	CHECK_EQ(cache_get(i)->key_len, kl);
	CHECK_EQ(cache_get(i)->head_len, hl);
	CHECK_EQ(cache_get(i)->stored, 1000);
	CHECK_EQ(lookup(key, 3), i);
	CALL(check_bytes(i, 0, key, kl));
	CALL(check_bytes(i, (uint32_t)kl, head, hl));
	CALL(check_bytes(i, (uint32_t)(kl + hl), body, sizeof body));
	/* from every offset near a block boundary, to the end */
	memcpy(all, key, kl);
	memcpy(all + kl, head, hl);
	memcpy(all + kl + hl, body, sizeof body);
	for (uint32_t b = 0; b <= len / CACHE_BLOCK; b++)
		for (uint32_t d = 0; d < 3; d++) {
			uint32_t off = b * CACHE_BLOCK + d - (b ? 1 : 0);
			if (off < len) {
				CALL(check_bytes(i, off, all + off, len - off));
				CALL(check_bytes(i, off, all + off, (len - off) / 2));
			}
		}
	/* a cursor stops at what the entry holds */
	struct cache_cursor c;
	char x[16];
	cache_seek(i, (uint32_t)len - 3, 3, &c);
	CHECK_EQ(cache_read(&c, x, sizeof x), 3);
	CHECK_MEM(x, 3, all + len - 3);
	CHECK_EQ(cache_read(&c, x, sizeof x), 0);
	cache_seek(i, 0, 10, &c);
	CHECK_EQ(cache_read(&c, x, 0), 0);
	CHECK_EQ(cache_read(&c, x, 4), 4);
	CHECK_MEM(x, 4, "GET ");
}

static void cache_lookup_by_key(void)
{
	static char longk[2500], other[2500], third[2500];
	int a, b, c, d, e;

	CALL(setup(32, 8, 8192));
	CALL(store_n("GET a/1", 0, 0, 100, 1, &a));
	CALL(store_n("GET a/2", 0, 0, 100, 2, &b));
	memset(longk, 'k', sizeof longk - 1);
	memcpy(other, longk, sizeof other);
	other[1500] = 'K';      /* differs in its second block only */
	memcpy(third, longk, sizeof third);
	third[1020] = 'K';      /* at the end of its first block */
	CALL(store_n(longk, 0, 0, 3000, 3, &c));
	CALL(store_n(other, 0, 0, 3000, 4, &d));
	CALL(store_n(third, 0, 0, 3000, 5, &e));
	CHECK(a != b && c != d);
	CHECK_EQ(lookup("GET a/1", 0), a);
	CHECK_EQ(lookup("GET a/2", 0), b);
	CHECK_EQ(lookup(longk, 0), c);
	CHECK_EQ(lookup(other, 0), d);
	CHECK_EQ(lookup(third, 0), e);
	CHECK_EQ(lookup("GET a/3", 0), -1);
	CHECK_EQ(lookup("GET a/", 0), -1);
	CHECK_EQ(lookup("GET a/11", 0), -1);
	CHECK_EQ(cache_lookup("GET a/1", 7, 0), a);
	CHECK_EQ(cache_lookup("GET a/1x", 7, 0), a);
	CHECK_EQ(cache_lookup(longk, 2000, 0), -1);
	CALL(check_n(c, longk, 3000, 3));
	CALL(check_n(d, other, 3000, 4));
	CALL(check_n(e, third, 3000, 5));
	CHECK_EQ(cache_entries(), 5);
	CHECK_EQ(cache_purge(third, strlen(third)), 1);
	CHECK_EQ(lookup(longk, 0), c);
	CHECK_EQ(lookup(third, 0), -1);
}

/*
 * keys are compared byte for byte after their hash: a collision, made by hand, never
 * mixes two keys (even when one key and the next bytes of the other's head read alike)
 */
static void cache_hash_collision(void)
{
	int a, b, c, d;

	CALL(setup(32, 8, 8192));
	CALL(store("GET a", 0, 0, "bH\n", "x", 1, &a));
	CALL(store("GET ab", 0, 0, "H\n", "y", 1, &b));
	CALL(store("GET c", 0, 0, "H\n", "z", 1, &c));
	cache_get(a)->hash = cache_get(b)->hash;
	CHECK_EQ(lookup("GET ab", 0), b);
	cache_get(b)->hash ^= 1;
	CHECK_EQ(lookup("GET ab", 0), -1);
	cache_get(b)->hash ^= 1;
	/* a new fill of "GET ab" replaces b only */
	d = cache_begin("GET ab", 6, 0);
	CHECK(d >= 0);
	cache_get(d)->hash = cache_get(b)->hash;
	cache_commit(d, 0);
	CHECK_EQ(cache_get(b)->state, E_FREE);
	CHECK_EQ(cache_get(a)->state, E_READY);
	CHECK_EQ(cache_get(c)->state, E_READY);
	/* purge takes the key, not the hash */
	cache_get(d)->hash = cc_hash_of("GET c");
	CHECK_EQ(cache_purge("GET c", 5), 1);
	CHECK_EQ(cache_get(d)->state, E_READY);
	CHECK_EQ(cache_get(c)->state, E_FREE);
	CHECK_EQ(cache_entries(), 2);
	/* long keys alike but for a byte near a block's end, or their last one */
	static char k1[1500], k2[1500], k3[1500];
	memset(k1, 'k', sizeof k1);
	memcpy(k2, k1, sizeof k2);
	memcpy(k3, k1, sizeof k3);
	k2[1020] = 'K';
	k3[1499] = 'K';
	int i1 = cache_begin(k1, sizeof k1, 0), i2 = cache_begin(k2, sizeof k2, 0),
	    i3 = cache_begin(k3, sizeof k3, 0);
	CHECK(i1 >= 0 && i2 >= 0 && i3 >= 0);
	cache_get(i2)->hash = cache_get(i3)->hash = cache_get(i1)->hash;
	cache_commit(i1, 0);
	cache_commit(i2, 0);
	cache_commit(i3, 0);
	CHECK_EQ(cache_get(i1)->state, E_READY);
	CHECK_EQ(cache_get(i2)->state, E_READY);
	CHECK_EQ(cache_get(i3)->state, E_READY);
	CHECK_EQ(cache_lookup(k1, sizeof k1, 0), i1);
	cache_get(i1)->hash ^= 1;
	CHECK_EQ(cache_lookup(k1, sizeof k1, 0), -1);
	cache_get(i1)->hash ^= 1;
	cache_get(i2)->hash = cache_get(i3)->hash = cache_get(i1)->hash ^ 1;
	CHECK_EQ(cache_lookup(k1, sizeof k1, 0), i1);
	cache_get(i1)->hash ^= 1;
	CHECK_EQ(cache_lookup(k1, sizeof k1, 0), -1);
}

static void cache_lookup_variants(void)
{
	int g, b, n;

	CALL(setup(32, 8, 8192));
	CALL(store_n("GET v", 1, 1, 300, 1, &g));
	CALL(store_n("GET v", 2, 1, 400, 2, &b));
	CHECK(g != b);
	CHECK_EQ(cache_entries(), 2);
	CHECK_EQ(lookup("GET v", 1), g);
	CHECK_EQ(lookup("GET v", 2), b);
	CHECK_EQ(lookup("GET v", 3), -1);
	CALL(check_n(g, "GET v", 300, 1));
	CALL(check_n(b, "GET v", 400, 2));
	/* an entry without Vary answers every Accept-Encoding */
	CALL(store_n("GET n", 1, 0, 300, 3, &n));
	CHECK_EQ(lookup("GET n", 1), n);
	CHECK_EQ(lookup("GET n", 7), n);
	CHECK_EQ(lookup("GET n", 0), n);
}

static void cache_lookup_filling(void)
{
	int x, r, f, k;

	CALL(setup(32, 8, 8192));
	CALL(begin("GET f", 1, &f));
	CHECK_EQ(lookup("GET f", 1), f);
	CHECK_EQ(lookup("GET f", 2), -1);       /* a fill is for its own ae only */
	cache_abort(f);
	CHECK_EQ(lookup("GET f", 1), -1);
	/* a READY entry wins over a FILLING one, wherever they sit in the table */
	CALL(begin("GET x", 0, &x));
	CALL(store_n("GET k", 1, 0, 100, 1, &r));
	cache_abort(x);
	CALL(begin("GET k", 1, &f));
	CHECK(f < r);
	CHECK_EQ(lookup("GET k", 1), r);
	CALL(begin("GET k", 1, &k));
	CHECK(k > r);
	CHECK_EQ(lookup("GET k", 1), r);
	/* the fills of other ae are not found, the READY one without Vary is */
	CHECK_EQ(lookup("GET k", 5), r);
	cache_remove(r);
	CHECK_EQ(cache_get(r)->state, E_FREE);
	x = lookup("GET k", 1);
	CHECK(x == f || x == k);
	CHECK_EQ(cache_get(x)->state, E_FILLING);
	CHECK_EQ(lookup("GET k", 5), -1);
}

/* four 2-block entries fill 8 blocks; a new one evicts the least recently used */
static void cache_lru_blocks(void)
{
	int a, b, c, d, e, f;

	CALL(setup(8, 8, 8192));
	CALL(store_n("A", 0, 0, 2048, 1, &a));
	CALL(store_n("B", 0, 0, 2048, 2, &b));
	CALL(store_n("C", 0, 0, 2048, 3, &c));
	CALL(store_n("D", 0, 0, 2048, 4, &d));
	CHECK_EQ(cache_bytes(), 8 * CACHE_BLOCK);
	CHECK_EQ(lookup("A", 0), a);
	CHECK_EQ(lookup("C", 0), c);
	/* LRU now: B, D, A, C */
	CALL(store_n("E", 0, 0, 2048, 5, &e));
	CHECK_EQ(lookup("B", 0), -1);
	CHECK_EQ(cache_get(b)->state, E_FREE);
	CHECK_EQ(cache_entries(), 4);
	CALL(check_n(a, "A", 2048, 1));
	CALL(check_n(c, "C", 2048, 3));
	CALL(check_n(d, "D", 2048, 4));
	CALL(check_n(e, "E", 2048, 5));
	CHECK_EQ(lookup("D", 0), d);
	/* LRU now: A, C, E, D; a 3-block fill takes A and C */
	CALL(store_n("F", 0, 0, 2100, 6, &f));
	CHECK_EQ(lookup("A", 0), -1);
	CHECK_EQ(lookup("C", 0), -1);
	CHECK_EQ(lookup("E", 0), e);
	CHECK_EQ(lookup("D", 0), d);
	CALL(check_n(f, "F", 2100, 6));
	CHECK_EQ(cache_entries(), 3);
	CHECK_EQ(cache_bytes(), 7 * CACHE_BLOCK);
}

static void cache_lru_entries(void)
{
	int a, b, c, d, e;
	uint32_t gen;

	CALL(setup(64, 4, 8192));
	CALL(store_n("A", 0, 0, 10, 1, &a));
	CALL(store_n("B", 0, 0, 10, 2, &b));
	CALL(store_n("C", 0, 0, 10, 3, &c));
	CALL(store_n("D", 0, 0, 10, 4, &d));
	CHECK_EQ(lookup("A", 0), a);
	CHECK_EQ(lookup("B", 0), b);
	CHECK_EQ(lookup("D", 0), d);
	gen = cache_get(c)->gen;
	CALL(begin("E", 0, &e));
	CHECK_EQ(e, c);                 /* C was the least recently used */
	CHECK_EQ(cache_get(e)->gen, gen + 1);
	CHECK_EQ(lookup("C", 0), -1);
	CHECK_EQ(cache_entries(), 3);
	CHECK_EQ(cache_bytes(), 4 * CACHE_BLOCK);
	cache_commit(e, 0);
	CHECK_EQ(lookup("A", 0), a);
	/* LRU now: B, D, E, A */
	CALL(begin("F", 0, &e));
	CHECK_EQ(e, b);
}

/* pinned and FILLING entries are never evicted; when nothing can go, fills fail */
static void cache_evict_spares_pinned(void)
{
	static char junk[4096];
	int a, b, c, d, e;

	CALL(setup(4, 8, 8192));
	CALL(store_n("A", 0, 0, 2048, 1, &a));
	cache_pin(a);
	CALL(begin("B", 0, &b));        /* FILLING, 1 block */
	CALL(store_n("C", 0, 0, 100, 3, &c));
	CHECK_EQ(cache_bytes(), 4 * CACHE_BLOCK);
	CHECK_EQ(lookup("A", 0), a);    /* A most recent, yet pinned */
	/* D's key needs a block: only C can go */
	CALL(begin("D", 0, &d));
	CHECK_EQ(lookup("C", 0), -1);
	CHECK_EQ(cache_get(b)->state, E_FILLING);
	/* D and B need one more block each: nothing can go */
	CHECK_EQ(cache_append(d, junk, CACHE_BLOCK), -1);
	CHECK_EQ(cache_append(b, junk, CACHE_BLOCK), -1);
	CHECK_EQ(cache_get(b)->state, E_FILLING);
	CHECK_EQ(cache_get(d)->state, E_FILLING);
	CALL(check_n(a, "A", 2048, 1));
	cache_abort(d);
	cache_abort(b);
	CHECK_EQ(cache_bytes(), 2 * CACHE_BLOCK);
	/* once A is unpinned it goes */
	cache_unpin(a);
	CALL(begin("E", 0, &e));
	CHECK_EQ(cache_append(e, junk, 3 * CACHE_BLOCK - 1), 0);
	CHECK_EQ(lookup("A", 0), -1);
	CHECK_EQ(cache_bytes(), 3 * CACHE_BLOCK);
	cache_abort(e);
	CHECK_EQ(cache_bytes(), 0);

	/* entries: a pinned READY and a FILLING one, no slot for a third */
	CALL(setup(64, 2, 8192));
	CALL(store_n("A", 0, 0, 100, 1, &a));
	cache_pin(a);
	CALL(begin("B", 0, &b));
	CHECK_EQ(cache_begin("E", 1, 0), -1);
	CHECK_EQ(cache_bytes(), 2 * CACHE_BLOCK);
	CHECK_EQ(cache_get(a)->state, E_READY);
	CHECK_EQ(cache_get(b)->state, E_FILLING);
	/* an entry being revalidated is not evicted either */
	cache_unpin(a);
	cache_get(a)->reval = 1;
	CHECK_EQ(cache_begin("E", 1, 0), -1);
	cache_get(a)->reval = 0;
	CALL(begin("E", 0, &e));
	CHECK_EQ(e, a);
}

/* every block pinned: a fill cannot even hold its key */
static void cache_all_pinned(void)
{
	int a, b;

	CALL(setup(4, 4, 8192));
	CALL(store_n("A", 0, 0, 4096, 1, &a));
	cache_pin(a);
	CHECK_EQ(cache_begin("B", 1, 0), -1);
	CHECK_EQ(cache_bytes(), 4 * CACHE_BLOCK);
	for (unsigned k = 0; k < nent; k++)
		CHECK(cache_get((int)k)->state != E_FILLING);
	CALL(check_n(a, "A", 4096, 1));
	cache_unpin(a);
	CALL(begin("B", 0, &b));
	CHECK_EQ(lookup("A", 0), -1);
	CHECK_EQ(cache_bytes(), CACHE_BLOCK);
}

static void cache_max_object(void)
{
	static char junk[9000];
	int a;

	CALL(setup(16, 4, 8192));
	CALL(begin("0123456789", 0, &a));
	CHECK_EQ(cache_append(a, junk, 8182), 0);       /* exactly max_object */
	CHECK_EQ(cache_get(a)->len, 8192);
	CHECK_EQ(cache_append(a, junk, 1), -1);
	CHECK_EQ(cache_append(a, junk, 0), 0);
	cache_abort(a);
	CHECK_EQ(cache_bytes(), 0);
	CALL(begin("0123456789", 0, &a));
	CHECK_EQ(cache_append(a, junk, 9000), -1);
	cache_abort(a);
	CHECK_EQ(cache_bytes(), 0);
	/* a key over max_object cannot even begin */
	CALL(setup(16, 4, 100));
	memset(junk, 'k', 101);
	CHECK_EQ(cache_begin(junk, 101, 0), -1);
	CHECK_EQ(cache_begin(junk, 100, 0) >= 0, 1);
	CHECK_EQ(cache_bytes(), CACHE_BLOCK);
}

static void cache_abort_frees(void)
{
	static char junk[8 * CACHE_BLOCK];
	size_t before;
	int a, b;

	CALL(setup(16, 4, 8192));
	CALL(store_n("A", 0, 0, 1500, 1, &a));
	before = cache_bytes();
	CALL(begin("B", 0, &b));
	CALL(put(b, junk, 5000));
	CHECK_EQ(cache_bytes(), before + 5 * CACHE_BLOCK);
	cache_abort(b);
	CHECK_EQ(cache_bytes(), before);
	CHECK_EQ(cache_get(b)->state, E_FREE);
	CHECK_EQ(lookup("B", 0), -1);
	CHECK_EQ(cache_entries(), 1);
	/* the blocks come back usable: the whole arena fills without an eviction */
	CALL(begin("C", 0, &b));
	CALL(put(b, junk, 8 * CACHE_BLOCK - 1));
	CALL(begin("D", 0, &b));
	CALL(put(b, junk, 6 * CACHE_BLOCK - 1));
	CALL(check_n(a, "A", 1500, 1));
	CHECK_EQ(cache_bytes(), 16 * CACHE_BLOCK);
}

static void cache_remove_pinned(void)
{
	int a;

	CALL(setup(16, 4, 8192));
	CALL(store_n("A", 0, 0, 3000, 1, &a));
	cache_pin(a);
	cache_pin(a);
	cache_remove(a);
	CHECK_EQ(cache_get(a)->state, E_DEAD);
	CHECK_EQ(lookup("A", 0), -1);
	CHECK_EQ(cache_entries(), 0);
	CHECK_EQ(cache_bytes(), 3 * CACHE_BLOCK);
	CALL(check_bytes(a, 0, "AH\n", 3));     /* its readers still read it */
	cache_unpin(a);
	CHECK_EQ(cache_get(a)->state, E_DEAD);
	CHECK_EQ(cache_bytes(), 3 * CACHE_BLOCK);
	cache_unpin(a);
	CHECK_EQ(cache_get(a)->state, E_FREE);
	CHECK_EQ(cache_bytes(), 0);
	/* not pinned: gone at once */
	CALL(store_n("A", 0, 0, 3000, 1, &a));
	cache_remove(a);
	CHECK_EQ(cache_get(a)->state, E_FREE);
	CHECK_EQ(cache_bytes(), 0);
}

static void cache_replace_cases(void)
{
	static char longk[1500];
	int a, b, c;

	CALL(setup(16, 4, 8192));
	CALL(store_n("GET r", 5, 1, 3000, 1, &a));
	b = cache_replace(a);
	CHECK(b >= 0 && b != a);
	CHECK_EQ(cache_get(b)->state, E_FILLING);
	CHECK_EQ(cache_get(b)->ae, 5);
	CHECK_EQ(cache_get(b)->key_len, 5);
	CHECK_EQ(cache_get(b)->len, 5);
	CALL(check_bytes(b, 0, "GET r", 5));
	CHECK_EQ(cache_get(a)->state, E_FREE);
	CHECK_EQ(cache_bytes(), CACHE_BLOCK);
	CHECK_EQ(lookup("GET r", 5), b);
	/* the old one pinned: DEAD until its last reader goes */
	CALL(put(b, "H\nbody", 6));
	cache_head_done(b);
	cache_commit(b, 0);
	cache_pin(b);
	c = cache_replace(b);
	CHECK(c >= 0 && c != b);
	CHECK_EQ(cache_get(b)->state, E_DEAD);
	CHECK_EQ(cache_get(b)->refs, 1);
	CHECK_EQ(lookup("GET r", 5), c);
	cache_unpin(b);
	CHECK_EQ(cache_get(b)->state, E_FREE);
	cache_abort(c);
	CHECK_EQ(cache_bytes(), 0);
	/* a key longer than a block is copied whole */
	pattern(longk, sizeof longk, 9);
	a = cache_begin(longk, sizeof longk, 0);
	CHECK(a >= 0);
	cache_commit(a, 0);
	b = cache_replace(a);
	CHECK(b >= 0);
	CHECK_EQ(cache_get(b)->key_len, sizeof longk);
	CALL(check_bytes(b, 0, longk, sizeof longk));
	CHECK_EQ(cache_lookup(longk, sizeof longk, 0), b);
}

static void cache_commit_purged(void)
{
	int a, b;

	CALL(setup(16, 4, 8192));
	CALL(begin("GET p", 0, &a));
	CALL(put(a, "H\nbody", 6));
	CHECK_EQ(cache_purge("GET p", 5), 0);   /* a fill is not a stored entry */
	CHECK_EQ(cache_get(a)->state, E_DEAD);
	CHECK_EQ(lookup("GET p", 0), -1);
	CHECK_EQ(cache_append(a, "more", 4), 0);        /* its filler goes on */
	cache_commit(a, 0);
	CHECK_EQ(cache_get(a)->state, E_FREE);
	CHECK_EQ(lookup("GET p", 0), -1);
	CHECK_EQ(cache_entries(), 0);
	CHECK_EQ(cache_bytes(), 0);
	/* removed, then aborted */
	CALL(begin("GET p", 0, &b));
	cache_remove(b);
	CHECK_EQ(cache_get(b)->state, E_DEAD);
	cache_abort(b);
	CHECK_EQ(cache_get(b)->state, E_FREE);
	CHECK_EQ(cache_bytes(), 0);
	/* purged by purge_all */
	CALL(begin("GET p", 0, &b));
	CHECK_EQ(cache_purge_all(), 0);
	cache_commit(b, 0);
	CHECK_EQ(cache_get(b)->state, E_FREE);
	CHECK_EQ(cache_bytes(), 0);
}

/* the READY entries of key, as a bit set of slots */
static unsigned ready_of(const char *key)
{
	unsigned set = 0;

	for (unsigned k = 0; k < nent; k++) {
		const struct cache_entry *e = cache_get((int)k);
		if (e->state != E_READY || e->key_len != strlen(key))
			continue;
		char got[64];
		struct cache_cursor c;
		cache_seek((int)k, 0, e->key_len, &c);
		if (cache_read(&c, got, sizeof got) == e->key_len &&
		    memcmp(got, key, e->key_len) == 0)
			set |= 1u << k;
	}
	return set;
}

static void cache_commit_supersedes(void)
{
	int n1, v2, v3, v1, x1, w, o, p;

	CALL(setup(64, 16, 8192));
	CALL(store_n("GET o", 1, 0, 50, 20, &o));        /* another key, same length */
	CALL(store_n("GET s", 1, 0, 100, 1, &n1));
	CALL(store_n("GET s", 2, 1, 100, 2, &v2));      /* vary replaces the non-vary one */
	CHECK_EQ(ready_of("GET s"), 1u << v2);
	CALL(store_n("GET s", 3, 1, 100, 3, &v3));
	CALL(store_n("GET s", 1, 1, 100, 4, &v1));
	CHECK_EQ(ready_of("GET s"), (1u << v2) | (1u << v3) | (1u << v1));
	/* a vary fill replaces only its own ae */
	CALL(store_n("GET s", 1, 1, 200, 5, &x1));
	CHECK_EQ(ready_of("GET s"), (1u << v2) | (1u << v3) | (1u << x1));
	CHECK_EQ(lookup("GET s", 1), x1);
	CALL(check_n(x1, "GET s", 200, 5));
	CALL(check_n(v2, "GET s", 100, 2));
	/* a pinned variant that goes is DEAD, still readable */
	cache_pin(v3);
	/* a non-vary fill replaces every variant */
	CALL(store_n("GET s", 7, 0, 300, 6, &w));
	CHECK_EQ(ready_of("GET s"), 1u << w);
	CHECK_EQ(cache_get(v3)->state, E_DEAD);
	CALL(check_bytes(v3, 0, "GET sH\n", 7));
	cache_unpin(v3);
	CHECK_EQ(cache_get(v3)->state, E_FREE);
	CHECK_EQ(lookup("GET s", 2), w);
	/* and the next non-vary fill replaces it */
	CALL(store_n("GET s", 7, 0, 300, 7, &p));
	CHECK_EQ(ready_of("GET s"), 1u << p);
	CALL(check_n(o, "GET o", 50, 20));
	CHECK_EQ(cache_entries(), 2);
	(void)n1;
}

static void cache_purge_cases(void)
{
	int a, b, c, l, f;

	CALL(setup(64, 8, 8192));
	CALL(store_n("GET k", 1, 1, 100, 1, &a));
	CALL(store_n("GET k", 2, 1, 100, 2, &b));
	CALL(store_n("GET k", 3, 1, 2000, 3, &c));
	CALL(store_n("GET l", 1, 0, 100, 4, &l));
	CALL(begin("GET k", 4, &f));
	cache_pin(b);
	CHECK_EQ(cache_purge("GET k", 5), 3);
	CHECK_EQ(lookup("GET k", 1), -1);
	CHECK_EQ(lookup("GET k", 2), -1);
	CHECK_EQ(lookup("GET k", 3), -1);
	CHECK_EQ(lookup("GET k", 4), -1);
	CHECK_EQ(cache_get(a)->state, E_FREE);
	CHECK_EQ(cache_get(b)->state, E_DEAD);
	CHECK_EQ(cache_get(c)->state, E_FREE);
	CHECK_EQ(cache_get(f)->state, E_DEAD);
	CHECK_EQ(lookup("GET l", 1), l);
	CHECK_EQ(cache_entries(), 1);
	CHECK_EQ(cache_purge("GET k", 5), 0);
	CHECK_EQ(cache_purge("GET", 3), 0);
	CHECK_EQ(cache_purge("GET l", 5), 1);
	CHECK_EQ(cache_entries(), 0);
	cache_abort(f);
	cache_unpin(b);
	CHECK_EQ(cache_bytes(), 0);
	/* purge_all: every READY entry, counted, fills made DEAD, pinned ones DEAD */
	CALL(store_n("GET k", 1, 1, 100, 1, &a));
	CALL(store_n("GET m", 1, 1, 100, 1, &b));
	CALL(store_n("GET n", 1, 0, 100, 1, &c));
	CALL(begin("GET q", 0, &f));
	cache_pin(c);
	CHECK_EQ(cache_purge_all(), 3);
	CHECK_EQ(cache_entries(), 0);
	CHECK_EQ(cache_get(c)->state, E_DEAD);
	CHECK_EQ(cache_get(f)->state, E_DEAD);
	CHECK_EQ(cache_purge_all(), 0);
	cache_unpin(c);
	cache_commit(f, 0);
	CHECK_EQ(cache_bytes(), 0);
}

static void cache_generations(void)
{
	uint32_t g;
	int a, b;

	CALL(setup(8, 2, 8192));
	CALL(begin("A", 0, &a));
	g = cache_get(a)->gen;
	cache_abort(a);
	for (int k = 0; k < 5; k++) {
		CALL(begin("A", 0, &b));
		CHECK_EQ(b, a);
		CHECK_EQ(cache_get(b)->gen, g + 1 + (uint32_t)k);
		cache_abort(b);
	}
	/* reuse by eviction bumps it too */
	CALL(store_n("A", 0, 0, 10, 1, &a));
	CALL(store_n("B", 0, 0, 10, 1, &b));
	g = cache_get(a)->gen;
	CALL(begin("C", 0, &b));
	CHECK_EQ(b, a);
	CHECK_EQ(cache_get(b)->gen, g + 1);
}

static void cache_age_fresh(void)
{
	struct cache_entry *e;
	int a;

	CALL(setup(8, 2, 8192));
	CALL(store_n("A", 0, 0, 10, 1, &a));
	e = cache_get(a);
	e->stored = 10000;
	e->age0 = 5;
	e->lifetime = 60;
	CHECK_EQ(cache_age(a, 10000), 5);
	CHECK_EQ(cache_age(a, 10999), 5);
	CHECK_EQ(cache_age(a, 11000), 6);
	CHECK_EQ(cache_age(a, 10000 + 54999), 59);
	CHECK_EQ(cache_fresh(a, 10000 + 54999), 1);
	CHECK_EQ(cache_age(a, 10000 + 55000), 60);
	CHECK_EQ(cache_fresh(a, 10000 + 55000), 0);
	CHECK_EQ(cache_fresh(a, 10000), 1);
	/* a clock that went back gives age 0 at worst; a huge one is 2^31 - 1 */
	CHECK_EQ(cache_age(a, -100000000), 0);
	CHECK_EQ(cache_age(a, INT64_MAX / 2), 0x7fffffff);
	e->age0 = 0x7fffffff;
	CHECK_EQ(cache_age(a, 10000 + 1000000), 0x7fffffff);
	CHECK_EQ(cache_fresh(a, 10000), 0);
	e->age0 = 0;
	e->lifetime = 0;
	CHECK_EQ(cache_fresh(a, 10000), 0);
	e->lifetime = 1;
	CHECK_EQ(cache_fresh(a, 10999), 1);
	CHECK_EQ(cache_fresh(a, 11000), 0);
}

/* an empty key is a key: its entry holds no block, and evicting it frees none */
static void cache_empty_key(void)
{
	int a, b, c;

	CALL(setup(2, 4, 8192));
	a = cache_begin("", 0, 0);
	CHECK(a >= 0);
	cache_commit(a, 0);
	CHECK_EQ(cache_lookup("", 0, 0), a);
	CALL(store_n("B", 0, 0, 2048, 1, &b));
	cache_pin(b);
	/* the only victim is the empty entry, which frees no block: C cannot begin */
	c = cache_begin("C", 1, 0);
	CHECK_EQ(c, -1);
	CALL(check_n(b, "B", 2048, 1));
	CHECK_EQ(cache_bytes(), 2 * CACHE_BLOCK);
}

/* ---- the random run ------------------------------------------------------------------ */

#define R_NB 16
#define R_NE 6
#define R_MAX (6 * CACHE_BLOCK)
#define R_NKEYS 7

static char *r_key[R_NKEYS];
static size_t r_klen[R_NKEYS];

struct shadow {
	int open;               /* a fill we hold (FILLING, or DEAD after a purge) */
	int key;
	int pins;
	uint32_t ae, gen;
	size_t len, head_len;
	char bytes[R_MAX];
};
static struct shadow sh[R_NE];

/* the slot's key is key k */
static int has_key(int i, int k)
{
	return sh[i].key == k;
}

/* a READY entry that key k with ae would find */
static int matches(int i, int k, uint32_t ae)
{
	const struct cache_entry *e = cache_get(i);

	return e->state == E_READY && has_key(i, k) && (!e->vary_ae || e->ae == ae);
}

static void r_check(void)
{
	size_t held = 0;
	unsigned ready = 0;

	for (int i = 0; i < R_NE; i++) {
		const struct cache_entry *e = cache_get(i);
		if (e->state == E_FREE) {
			/* only an unpinned READY entry may vanish (evicted) */
			CHECK(!sh[i].open);
			CHECK_EQ(sh[i].pins, 0);
			CHECK_EQ(e->first, -1);
			continue;
		}
		CHECK_EQ(e->gen, sh[i].gen);
		CHECK_EQ(e->len, sh[i].len);
		CHECK_EQ(e->key_len, r_klen[sh[i].key]);
		CHECK_EQ(e->refs, sh[i].pins);
		if (e->state == E_FILLING)
			CHECK(sh[i].open);
		if (e->state == E_READY) {
			CHECK(!sh[i].open);
			CHECK_EQ(e->head_len, sh[i].head_len);
			ready++;
		}
		if (e->state == E_DEAD)
			CHECK(sh[i].open || sh[i].pins > 0);
		held += blocks(e->len);
		CALL(check_bytes(i, 0, sh[i].bytes, sh[i].len));
	}
	CHECK_EQ(cache_bytes(), held * CACHE_BLOCK);
	CHECK(cache_bytes() <= R_NB * CACHE_BLOCK);
	CHECK_EQ(cache_entries(), ready);
	/* READY variants of a key never overlap: one without Vary, or one per ae */
	for (int i = 0; i < R_NE; i++)
		for (int j = i + 1; j < R_NE; j++) {
			const struct cache_entry *a = cache_get(i), *b = cache_get(j);
			if (a->state != E_READY || b->state != E_READY || sh[i].key != sh[j].key)
				continue;
			CHECK(a->vary_ae && b->vary_ae && a->ae != b->ae);
		}
}

/* lookup agrees with the table: a READY match when one exists, else a FILLING one */
static void r_lookup(int k, uint32_t ae)
{
	int got = cache_lookup(r_key[k], r_klen[k], ae), want_ready = 0, want_fill = 0;

	for (int i = 0; i < R_NE; i++) {
		want_ready |= matches(i, k, ae);
		want_fill |= cache_get(i)->state == E_FILLING && has_key(i, k) &&
		    cache_get(i)->ae == ae;
	}
	if (want_ready)
		CHECK(got >= 0 && matches(got, k, ae));
	else if (want_fill)
		CHECK(got >= 0 && cache_get(got)->state == E_FILLING && has_key(got, k) &&
		    cache_get(got)->ae == ae);
	else
		CHECK_EQ(got, -1);
}

/* slots in a state, as indexes; returns how many */
static int slots(int (*want)(int), int *out)
{
	int n = 0;

	for (int i = 0; i < R_NE; i++)
		if (want(i))
			out[n++] = i;
	return n;
}
static int is_open(int i) { return sh[i].open; }
static int is_ready(int i) { return cache_get(i)->state == E_READY; }
static int is_pinned(int i) { return sh[i].pins > 0; }
static int is_evictable(int i)
{
	return cache_get(i)->state == E_READY && !cache_get(i)->refs && !cache_get(i)->reval;
}

/* a new fill at slot i (from begin or replace) */
static void r_started(int i, int k, uint32_t ae)
{
	CHECK(i >= 0 && i < R_NE);
	CHECK(!sh[i].open && sh[i].pins == 0);
	CHECK_EQ(cache_get(i)->state, E_FILLING);
	sh[i].open = 1;
	sh[i].key = k;
	sh[i].ae = ae;
	sh[i].gen = cache_get(i)->gen;
	sh[i].len = r_klen[k];
	sh[i].head_len = 0;
	memcpy(sh[i].bytes, r_key[k], r_klen[k]);
}

static void r_begin(uint32_t *s)
{
	int k = (int)(xs(s) % R_NKEYS), i, pick[R_NE];
	uint32_t ae = xs(s) % 3;
	size_t need = blocks(r_klen[k]), avail = R_NB - cache_bytes() / CACHE_BLOCK;
	int nfree = 0, nevict = slots(is_evictable, pick);

	for (int j = 0; j < R_NE; j++)
		nfree += cache_get(j)->state == E_FREE;
	for (int j = 0; j < nevict; j++)
		avail += blocks(cache_get(pick[j])->len);
	i = cache_begin(r_key[k], r_klen[k], ae);
	if (i < 0) {
		/* fails only when no slot or not enough blocks could be had */
		CHECK((nfree == 0 && nevict == 0) || avail < need);
		return;
	}
	CALL(r_started(i, k, ae));
}

static void r_append(uint32_t *s)
{
	static char data[R_MAX + 4096];
	int pick[R_NE], n = slots(is_open, pick), i, r;
	size_t len;

	if (n == 0)
		return;
	i = pick[xs(s) % (unsigned)n];
	len = xs(s) % 4 == 0 ? xs(s) % 5 : xs(s) % 2600;
	pattern(data, len, xs(s));
	r = cache_append(i, data, len);
	if (sh[i].len + len > R_MAX) {
		CHECK_EQ(r, -1);
	} else if (r < 0) {
		/* no block free, and nothing could be evicted */
		CHECK_EQ(slots(is_evictable, pick), 0);
		CHECK_EQ(cache_bytes(), R_NB * CACHE_BLOCK);
	} else {
		memcpy(sh[i].bytes + sh[i].len, data, len);
		sh[i].len += len;
		if (sh[i].head_len == 0 && xs(s) % 3 == 0) {
			cache_head_done(i);
			sh[i].head_len = sh[i].len - r_klen[sh[i].key];
		}
		return;
	}
	/* what a failed append leaves is aborted */
	cache_abort(i);
	sh[i].open = 0;
}

static void r_commit(uint32_t *s)
{
	int pick[R_NE], n = slots(is_open, pick), i, vary;
	unsigned gone = 0;

	if (n == 0)
		return;
	i = pick[xs(s) % (unsigned)n];
	vary = (int)(xs(s) & 1);
	cache_get(i)->vary_ae = (uint8_t)vary;
	if (cache_get(i)->state == E_FILLING)
		for (int j = 0; j < R_NE; j++)
			if (j != i && cache_get(j)->state == E_READY && sh[j].key == sh[i].key &&
			    !(vary && cache_get(j)->vary_ae && cache_get(j)->ae != sh[i].ae))
				gone |= 1u << j;
	int was_dead = cache_get(i)->state == E_DEAD;
	cache_commit(i, (int64_t)xs(s));
	sh[i].open = 0;
	if (was_dead) {
		CHECK_EQ(cache_get(i)->state, E_FREE);
		return;
	}
	CHECK_EQ(cache_get(i)->state, E_READY);
	if (sh[i].head_len == 0)
		sh[i].head_len = cache_get(i)->head_len;
	for (int j = 0; j < R_NE; j++)
		if (gone & (1u << j))
			CHECK_EQ(cache_get(j)->state, sh[j].pins ? E_DEAD : E_FREE);
}

static void r_abort(uint32_t *s)
{
	int pick[R_NE], n = slots(is_open, pick), i;

	if (n == 0)
		return;
	i = pick[xs(s) % (unsigned)n];
	cache_abort(i);
	sh[i].open = 0;
	CHECK_EQ(cache_get(i)->state, E_FREE);
}

static void r_pin(uint32_t *s)
{
	int pick[R_NE], n = slots(is_ready, pick), i;

	if (n == 0)
		return;
	i = pick[xs(s) % (unsigned)n];
	cache_pin(i);
	sh[i].pins++;
}

static void r_unpin(uint32_t *s)
{
	int pick[R_NE], n = slots(is_pinned, pick), i;

	if (n == 0)
		return;
	i = pick[xs(s) % (unsigned)n];
	cache_unpin(i);
	sh[i].pins--;
}

static void r_purge(uint32_t *s)
{
	int k = (int)(xs(s) % R_NKEYS);
	unsigned want = 0;

	for (int i = 0; i < R_NE; i++)
		want += cache_get(i)->state == E_READY && sh[i].key == k;
	CHECK_EQ(cache_purge(r_key[k], r_klen[k]), want);
	for (int i = 0; i < R_NE; i++)
		if (sh[i].key == k && cache_get(i)->state != E_FREE)
			CHECK(cache_get(i)->state == E_DEAD);
}

static void r_remove_or_replace(uint32_t *s)
{
	int pick[R_NE], n = slots(is_ready, pick), i, k, j;

	if (n == 0)
		return;
	i = pick[xs(s) % (unsigned)n];
	if (xs(s) & 1) {
		cache_remove(i);
		CHECK_EQ(cache_get(i)->state, sh[i].pins ? E_DEAD : E_FREE);
		return;
	}
	k = sh[i].key;
	j = cache_replace(i);
	CHECK_EQ(cache_get(i)->state, sh[i].pins ? E_DEAD : E_FREE);
	if (j >= 0)
		CALL(r_started(j, k, sh[i].ae));
}

static void cache_random(void)
{
	static void (*const op[])(uint32_t *) = {
		r_begin, r_begin, r_append, r_append, r_append, r_append, r_commit, r_commit,
		r_abort, r_pin, r_pin, r_unpin, r_unpin, r_purge, r_remove_or_replace,
	};
	static const size_t klens[R_NKEYS] = { 1, 5, 17, 300, 1023, 1024, 1500 };
	uint32_t s = 0x2545f491;
	int pick[R_NE], n;

	for (int k = 0; k < R_NKEYS; k++) {
		r_klen[k] = klens[k];
		r_key[k] = malloc(klens[k]);
		CHECK(r_key[k]);
		memset(r_key[k], 'k', klens[k]);
		r_key[k][klens[k] - 1] = (char)('0' + k);
	}
	CALL(setup(R_NB, R_NE, R_MAX));
	memset(sh, 0, sizeof sh);
	for (int step = 0; step < 30000; step++) {
		char note[32];
		snprintf(note, sizeof note, "step %d", step);
		T_NOTES(note);
		CALL(op[xs(&s) % (sizeof op / sizeof op[0])](&s));
		if (step % 997 == 0 && (xs(&s) & 1)) {
			cache_purge_all();
			for (int i = 0; i < R_NE; i++)
				CHECK(cache_get(i)->state != E_READY &&
				    cache_get(i)->state != E_FILLING);
		}
		CALL(r_lookup((int)(xs(&s) % R_NKEYS), xs(&s) % 3));
		CALL(r_check());
	}
	T_NOTES("after the run");
	/* everything let go: the arena is empty and all of it is usable */
	n = slots(is_open, pick);
	for (int j = 0; j < n; j++) {
		cache_abort(pick[j]);
		sh[pick[j]].open = 0;
	}
	cache_purge_all();
	while ((n = slots(is_pinned, pick)) > 0) {
		cache_unpin(pick[0]);
		sh[pick[0]].pins--;
	}
	CHECK_EQ(cache_bytes(), 0);
	CHECK_EQ(cache_entries(), 0);
	/* full objects, then one for the rest: every block without an eviction */
	size_t size[R_NE];
	int nobj = 0;
	for (size_t left = R_NB * CACHE_BLOCK; left > 0; left -= size[nobj++])
		size[nobj] = left < R_MAX ? left : R_MAX;
	CHECK(nobj <= R_NE);
	for (int j = 0; j < nobj; j++) {
		int i;
		char key[2] = { (char)('a' + j), 0 };
		CALL(store_n(key, 0, 0, size[j], (uint32_t)j, &i));
	}
	CHECK_EQ(cache_bytes(), R_NB * CACHE_BLOCK);
	CHECK_EQ(cache_entries(), nobj);
	for (int j = 0; j < nobj; j++) {
		char key[2] = { (char)('a' + j), 0 };
		int i = lookup(key, 0);
		CHECK(i >= 0);
		CALL(check_n(i, key, size[j], (uint32_t)j));
	}
	for (int k = 0; k < R_NKEYS; k++)
		free(r_key[k]);
}

static const struct t_case cases[] = {
	T(cache_round_trip), T(cache_lookup_by_key), T(cache_hash_collision),
	T(cache_lookup_variants),
	T(cache_lookup_filling), T(cache_lru_blocks), T(cache_lru_entries),
	T(cache_evict_spares_pinned), T(cache_all_pinned), T(cache_max_object),
	T(cache_abort_frees), T(cache_remove_pinned), T(cache_replace_cases),
	T(cache_commit_purged), T(cache_commit_supersedes), T(cache_purge_cases),
	T(cache_generations), T(cache_age_fresh), T(cache_empty_key), T(cache_random),
};

T_MAIN(cases)
