/*
 * cache.c: the arena. Blocks are all one size and chained per entry, so the arena
 * never fragments: a free block fits anywhere, and an entry wastes less than one block.
 * Free blocks form a list through next[]. When a fill needs a block or an entry and
 * none is free, the least recently used READY entry that nobody reads is evicted
 * (a scan of the entry table for the lowest stamp: the table is small, and a scan
 * needs no list to keep right). Keys are compared byte for byte after their hash.
 */
#include <string.h>

#include "cache.h"
#include "cachectl.h"

static unsigned char *mem;
static struct cache_entry *ent;
static unsigned nent;
static int32_t *next;
static int32_t free_blk = -1;
static size_t nfree_blk, nblk;
static uint32_t max_obj;
static uint64_t clock_stamp;

void
cache_init(unsigned char *arena, size_t len, struct cache_entry *e, unsigned n,
    int32_t *nx, uint32_t max_object)
{
	mem = arena;
	ent = e;
	nent = n;
	next = nx;
	max_obj = max_object;
	nblk = len / CACHE_BLOCK;
	free_blk = -1;
	for (size_t b = nblk; b-- > 0;) {
		next[b] = free_blk;
		free_blk = (int32_t)b;
	}
	nfree_blk = nblk;
	for (unsigned i = 0; i < n; i++)
		ent[i] = (struct cache_entry){ .state = E_FREE, .first = -1, .last = -1 };
}

struct cache_entry *
cache_get(int i)
{
	return &ent[i];
}

static unsigned char *
block(int32_t b)
{
	return mem + (size_t)b * CACHE_BLOCK;
}

/* ---- freeing and eviction --------------------------------------------------------- */

static void
release(struct cache_entry *e)
{
	int32_t b = e->first;

	while (b >= 0) {
		int32_t n = next[b];
		next[b] = free_blk;
		free_blk = b;
		nfree_blk++;
		b = n;
	}
	e->first = e->last = -1;
	e->len = 0;
	e->state = E_FREE;
	e->refs = 0;
	e->reval = 0;
}

/* the least recently used READY entry nobody reads, other than keep; -1 when none */
static int
victim(int keep)
{
	int best = -1;

	for (unsigned i = 0; i < nent; i++) {
		const struct cache_entry *e = &ent[i];
		if (e->state != E_READY || e->refs || e->reval || (int)i == keep)
			continue;
		if (best < 0 || e->used < ent[best].used)
			best = (int)i;
	}
	return best;
}

static int
evict(int keep)
{
	int v = victim(keep);

	if (v < 0)
		return -1;
	release(&ent[v]);
	return 0;
}

static int32_t
take_block(int keep)
{
	int32_t b;

	while (free_blk < 0)            /* an entry may hold no block: evict until one is free */
		if (evict(keep) < 0)
			return -1;
	b = free_blk;
	free_blk = next[b];
	next[b] = -1;
	nfree_blk--;
	return b;
}

/* ---- keys ------------------------------------------------------------------------- */

static int
key_eq(const struct cache_entry *e, const char *key, size_t klen)
{
	int32_t b = e->first;

	if (e->key_len != klen)
		return 0;
	for (size_t off = 0; off < klen; off += CACHE_BLOCK, b = next[b]) {
		size_t n = klen - off < CACHE_BLOCK ? klen - off : CACHE_BLOCK;
		if (b < 0 || memcmp(block(b), key + off, n) != 0)
			return 0;
	}
	return 1;
}

static int
same_key(const struct cache_entry *a, const struct cache_entry *e)
{
	char k[CACHE_BLOCK];
	struct cache_cursor c = { .blk = e->first, .off = 0, .left = e->key_len };
	int32_t b = a->first;

	if (a->hash != e->hash || a->key_len != e->key_len)
		return 0;
	for (size_t n; (n = cache_read(&c, k, sizeof(k))) > 0; b = next[b])
		if (b < 0 || memcmp(block(b), k, n) != 0)
			return 0;
	return 1;
}

int
cache_lookup(const char *key, size_t klen, uint32_t ae)
{
	uint64_t h = cc_hash(key, klen, CC_HASH0);
	int filling = -1;

	for (unsigned i = 0; i < nent; i++) {
		struct cache_entry *e = &ent[i];
		if (e->hash != h || (e->state != E_READY && e->state != E_FILLING))
			continue;
		if (e->state == E_READY ? e->vary_ae && e->ae != ae : e->ae != ae)
			continue;
		if (!key_eq(e, key, klen))
			continue;
		if (e->state == E_FILLING) {
			filling = (int)i;
			continue;
		}
		e->used = ++clock_stamp;
		return (int)i;
	}
	return filling;
}

/* ---- filling ---------------------------------------------------------------------- */

static int
free_entry(void)
{
	for (unsigned i = 0; i < nent; i++)
		if (ent[i].state == E_FREE)
			return (int)i;
	int v = victim(-1);
	if (v >= 0)
		release(&ent[v]);
	return v;
}

static int
start(uint64_t hash, uint32_t ae, size_t klen)
{
	int i = klen <= max_obj ? free_entry() : -1;

	if (i < 0)
		return -1;
	struct cache_entry *e = &ent[i];
	uint32_t gen = e->gen + 1;
	*e = (struct cache_entry){ .hash = hash, .ae = ae, .state = E_FILLING, .first = -1,
		.last = -1, .gen = gen, .lm = -1, .key_len = (uint16_t)klen,
		.used = ++clock_stamp };
	return i;
}

int
cache_begin(const char *key, size_t klen, uint32_t ae)
{
	int i = klen <= UINT16_MAX ? start(cc_hash(key, klen, CC_HASH0), ae, klen) : -1;

	if (i >= 0 && cache_append(i, key, klen) < 0) {
		cache_abort(i);
		return -1;
	}
	return i;
}

int
cache_replace(int old)
{
	struct cache_entry *o = &ent[old];
	char k[CACHE_BLOCK];
	struct cache_cursor c;
	int i;

	o->refs++;              /* kept while its key is copied */
	i = start(o->hash, o->ae, o->key_len);
	cache_seek(old, 0, o->key_len, &c);     /* the key leads */
	for (size_t n; i >= 0 && (n = cache_read(&c, k, sizeof(k))) > 0;)
		if (cache_append(i, k, n) < 0) {
			cache_abort(i);
			i = -1;
		}
	o->refs--;
	cache_remove(old);
	return i;
}

int
cache_append(int i, const char *p, size_t n)
{
	struct cache_entry *e = &ent[i];

	if ((uint64_t)e->len + n > max_obj)
		return -1;
	while (n > 0) {
		uint32_t used = e->len % CACHE_BLOCK;
		if (e->last < 0 || (used == 0 && e->len > 0)) {
			int32_t b = take_block(i);
			if (b < 0)
				return -1;
			if (e->last >= 0)
				next[e->last] = b;
			else
				e->first = b;
			e->last = b;
		}
		size_t k = CACHE_BLOCK - used < n ? CACHE_BLOCK - used : n;
		memcpy(block(e->last) + used, p, k);
		e->len += (uint32_t)k;
		p += k;
		n -= k;
	}
	return 0;
}

void
cache_head_done(int i)
{
	ent[i].head_len = (uint16_t)(ent[i].len - ent[i].key_len);
}

/* another READY variant of e's key that e now stands for */
static int
superseded(const struct cache_entry *e, const struct cache_entry *o)
{
	if (o == e || o->state != E_READY || o->hash != e->hash)
		return 0;
	if (e->vary_ae && o->vary_ae && o->ae != e->ae)
		return 0;
	return same_key(o, e);
}

void
cache_commit(int i, int64_t now)
{
	struct cache_entry *e = &ent[i];

	if (e->state != E_FILLING) {
		release(e);             /* purged while it filled */
		return;
	}
	for (unsigned k = 0; k < nent; k++)
		if (superseded(e, &ent[k]))
			cache_remove((int)k);
	e->state = E_READY;
	e->stored = now;
	e->used = ++clock_stamp;
}

void
cache_abort(int i)
{
	release(&ent[i]);
}

void
cache_remove(int i)
{
	struct cache_entry *e = &ent[i];

	if (e->state == E_FILLING) {
		e->state = E_DEAD;      /* its filler finds out at commit */
		return;
	}
	if (e->refs)
		e->state = E_DEAD;
	else
		release(e);
}

void
cache_pin(int i)
{
	ent[i].refs++;
}

void
cache_unpin(int i)
{
	struct cache_entry *e = &ent[i];

	if (e->refs)
		e->refs--;
	if (e->refs == 0 && e->state == E_DEAD)
		release(e);
}

/* ---- reading ---------------------------------------------------------------------- */

void
cache_seek(int i, uint32_t off, uint32_t len, struct cache_cursor *c)
{
	int32_t b = ent[i].first;

	for (uint32_t k = off / CACHE_BLOCK; k > 0 && b >= 0; k--)
		b = next[b];
	*c = (struct cache_cursor){ .blk = b, .off = off % CACHE_BLOCK, .left = len };
}

size_t
cache_read(struct cache_cursor *c, char *dst, size_t cap)
{
	size_t done = 0;

	while (done < cap && c->left > 0 && c->blk >= 0) {
		size_t k = CACHE_BLOCK - c->off;
		if (k > c->left)
			k = c->left;
		if (k > cap - done)
			k = cap - done;
		memcpy(dst + done, block(c->blk) + c->off, k);
		done += k;
		c->left -= (uint32_t)k;
		c->off += (uint32_t)k;
		if (c->off == CACHE_BLOCK) {
			c->off = 0;
			c->blk = next[c->blk];
		}
	}
	return done;
}

uint32_t
cache_age(int i, int64_t now)
{
	const struct cache_entry *e = &ent[i];
	int64_t a = (int64_t)e->age0 + (now - e->stored) / 1000;

	return a < 0 ? 0 : a > 0x7fffffff ? 0x7fffffff : (uint32_t)a;
}

int
cache_fresh(int i, int64_t now)
{
	return cache_age(i, now) < ent[i].lifetime;
}

/* ---- purging and figures ---------------------------------------------------------- */

unsigned
cache_purge(const char *key, size_t klen)
{
	uint64_t h = cc_hash(key, klen, CC_HASH0);
	unsigned n = 0;

	for (unsigned i = 0; i < nent; i++) {
		struct cache_entry *e = &ent[i];
		if (e->hash != h || (e->state != E_READY && e->state != E_FILLING) ||
		    !key_eq(e, key, klen))
			continue;
		n += e->state == E_READY;
		cache_remove((int)i);
	}
	return n;
}

unsigned
cache_purge_all(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nent; i++)
		if (ent[i].state == E_READY || ent[i].state == E_FILLING) {
			n += ent[i].state == E_READY;
			cache_remove((int)i);
		}
	return n;
}

unsigned
cache_entries(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nent; i++)
		n += ent[i].state == E_READY;
	return n;
}

size_t
cache_bytes(void)
{
	return (nblk - nfree_blk) * CACHE_BLOCK;
}
