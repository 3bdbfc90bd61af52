/*
 * cache.h: the response store. One caller-owned arena cut into CACHE_BLOCK-byte blocks
 * and a fixed table of entries; an entry holds a chain of blocks with its key, the
 * response head as it will be served (status line and end-to-end fields) and the body
 * (decoded from any chunked framing). Nothing here knows HTTP beyond those bytes; the
 * facts the caller needs to serve an entry (status, lengths, validators, freshness)
 * sit in the entry.
 *
 * An entry is filled once (FILLING, owned by the one request fetching it), then READY
 * and immutable but for its freshness; a READY entry in use (pinned) is never evicted;
 * removed while pinned, it is DEAD until the last unpin. Generations tell a waiter
 * whether the entry it waited on is still the one it meant.
 */
#ifndef POLLUX_CACHE_H
#define POLLUX_CACHE_H

#include <stddef.h>
#include <stdint.h>

#define CACHE_BLOCK 1024

enum cache_state { E_FREE, E_FILLING, E_READY, E_DEAD };

struct cache_entry {
	uint64_t hash;          /* of the key */
	uint64_t used;          /* LRU stamp: higher is more recent */
	uint64_t etag;          /* hash of the ETag without W/ (0: none) */
	int64_t lm;             /* Last-Modified, seconds since the epoch (-1: none) */
	int64_t stored;         /* loop clock (ms) when its age was age0 */
	uint32_t gen;           /* bumped at every new fill of this slot */
	uint32_t ae;            /* the Accept-Encoding hash it was fetched with */
	uint32_t lifetime, age0;        /* seconds */
	uint32_t len;           /* bytes stored: key, head, body */
	int32_t first, last;    /* block chain (-1: none) */
	uint16_t key_len, head_len;
	uint16_t etag_off;      /* the ETag value's place in the head, for revalidation */
	uint16_t status;
	uint16_t refs;          /* requests reading it */
	uint8_t etag_len;
	uint8_t state;          /* enum cache_state */
	uint8_t vary_ae;        /* one variant per Accept-Encoding value */
	uint8_t reval;          /* a request is revalidating it with the origin */
};

/* where a reader is in an entry */
struct cache_cursor {
	int32_t blk;
	uint32_t off;           /* in the block */
	uint32_t left;          /* bytes to read */
};

/* takes arena[0..len) (len a multiple of CACHE_BLOCK), n entries and one int32 per
 * block for the chains; max_object caps the bytes of one entry */
void cache_init(unsigned char *arena, size_t len, struct cache_entry *e, unsigned n,
    int32_t *next, uint32_t max_object);

/* the entry i */
struct cache_entry *cache_get(int i);

/* the READY or FILLING entry for key with Accept-Encoding hash ae (a READY one wins),
 * marked as just used; -1 when none */
int cache_lookup(const char *key, size_t klen, uint32_t ae);

/* a new FILLING entry holding key (evicting what it must); -1 when nothing can go */
int cache_begin(const char *key, size_t klen, uint32_t ae);

/* a new FILLING entry with the key of entry old, which is removed; -1 when none */
int cache_replace(int old);

/* appends bytes to a FILLING entry; -1 (the caller aborts it) when it would pass the
 * object limit or no block can be freed */
int cache_append(int i, const char *p, size_t n);

/* the bytes appended so far after the key are the head */
void cache_head_done(int i);

/* a FILLING entry is complete: READY, and it replaces the other variants its Vary
 * says it stands for */
void cache_commit(int i, int64_t now);

/* drops a FILLING entry */
void cache_abort(int i);

/* removes a READY entry (DEAD until unpinned) */
void cache_remove(int i);

/* pin and unpin a READY entry while it is read */
void cache_pin(int i);
void cache_unpin(int i);

/* positions c to read len bytes from byte off of what the entry holds: its key at 0,
 * its head at key_len, its body at key_len + head_len */
void cache_seek(int i, uint32_t off, uint32_t len, struct cache_cursor *c);

/* copies up to cap of the bytes c points at into dst and moves c past them; returns
 * how many */
size_t cache_read(struct cache_cursor *c, char *dst, size_t cap);

/* the entry's age in seconds at now (loop clock, ms), and whether it is still fresh */
uint32_t cache_age(int i, int64_t now);
int cache_fresh(int i, int64_t now);

/* removes the entries of key (every variant); returns how many */
unsigned cache_purge(const char *key, size_t klen);

/* removes every entry; returns how many */
unsigned cache_purge_all(void);

/* entries stored (READY) and the arena bytes they and the fills hold */
unsigned cache_entries(void);
size_t cache_bytes(void);

#endif
