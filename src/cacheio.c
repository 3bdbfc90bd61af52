/*
 * cacheio.c: a request's way through the cache. The key is the Host (lower case,
 * without port) and the normalised path with its query; requests that differ in
 * Accept-Encoding are variants of a key when the response says Vary: Accept-Encoding.
 * An entry stores the response as it will be served: "HTTP/1.1 <status> <reason>",
 * the end-to-end fields (no hop-by-hop fields, no framing, Age, X-Cache or
 * Set-Cookie), then the body without chunked framing; a hit is served with
 * Content-Length, a fresh Age and X-Cache. The client's conditionals are answered here
 * and never forwarded by a caching route, so whatever the backend sends can be stored.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cacheio.h"
#include "conf.h"
#include "loop.h"
#include "route.h"

#define KEY_MAX 2048

static char key[KEY_MAX];
static const char line304[] = "HTTP/1.1 304 Not Modified\r\n";
static const char *const x_text[] = { "", "HIT", "MISS", "REVALIDATED", "BYPASS" };

/* host without port, lower case, a space, the path and query */
static size_t
make_key(const char *p, const struct http_msg *m)
{
	size_t hl = route_host_len(p + m->host.off, m->host.len);

	if (hl + 1 + m->path.len > sizeof(key))
		return 0;
	for (size_t i = 0; i < hl; i++) {
		char ch = p[m->host.off + i];
		key[i] = ch >= 'A' && ch <= 'Z' ? (char)(ch + 32) : ch;
	}
	key[hl] = ' ';
	memcpy(key + hl + 1, p + m->path.off, m->path.len);
	return hl + 1 + m->path.len;
}

static int
is_purge(const char *p, const struct http_msg *m)
{
	return m->mtok.len == 5 && memcmp(p + m->mtok.off, "PURGE", 5) == 0;
}

/* a stale entry with a validator: ask the backend, pinned meanwhile */
static int
revalidate(struct conn *c, int e)
{
	struct cache_entry *ce = cache_get(e);

	if (!ce->etag_len && ce->lm < 0) {
		cache_remove(e);
		return -1;
	}
	cache_pin(e);
	ce->reval = 1;
	c->cache.entry = e;
	c->cache.mode = CM_REVAL;
	c->cache.x = X_REVALIDATED;
	return CD_REVAL;
}

/* an entry for the key exists: serve it, wait for it, or revalidate it */
static int
found(struct conn *c, int e)
{
	struct cache_entry *ce = cache_get(e);

	c->cache.entry = e;
	if (ce->state == E_FILLING || ce->reval) {
		c->cache.mode = CM_WAIT;
		c->cache.gen = ce->gen;
		c->cache.x = X_MISS;
		return CD_WAIT;
	}
	if (cache_fresh(e, loop_now)) {
		c->cache.x = X_HIT;
		return CD_HIT;
	}
	c->cache.entry = -1;
	return revalidate(c, e);
}

int
cio_decide(struct conn *c, const char *p, const struct http_msg *m)
{
	const struct route_rule *r = &conf.routes[c->route];
	size_t klen;
	int e, d;

	c->cache.mode = CM_NONE;
	c->cache.x = X_NONE;
	c->cache.entry = -1;
	if (!conf.cache_len)
		return CD_NONE;
	if (is_purge(p, m))
		return CD_PURGE;        /* on any route: the key may be another route's */
	if (!r->cache)
		return CD_NONE;
	cc_request(p, m, &c->cache.req);
	if ((m->flags & HF_UPGRADE) && !c->cache.req.bypass)
		c->cache.req.bypass = "Upgrade";
	if (c->cache.req.bypass || (klen = make_key(p, m)) == 0) {
		c->cache.x = X_BYPASS;
		return CD_BYPASS;
	}
	if ((e = cache_lookup(key, klen, c->cache.req.ae)) >= 0 && (d = found(c, e)) >= 0)
		return d;
	c->cache.x = X_MISS;
	if (m->method == M_HEAD)
		return CD_FETCH;        /* a HEAD answer has no body to store */
	if ((e = cache_begin(key, klen, c->cache.req.ae)) >= 0) {
		c->cache.entry = e;
		c->cache.mode = CM_FILL;
	}
	return CD_FETCH;
}

const char *
cio_validators(const struct conn *c)
{
	static char v[400];
	const struct cache_entry *ce = cache_get(c->cache.entry);
	struct cache_cursor cur;
	size_t n = 0;

	if (ce->etag_len) {
		memcpy(v, "If-None-Match: ", 15);
		n = 15;
		cache_seek(c->cache.entry, (uint32_t)ce->key_len + ce->etag_off, ce->etag_len, &cur);
		n += cache_read(&cur, v + n, ce->etag_len);
		memcpy(v + n, "\r\n", 2);
		n += 2;
	}
	if (ce->lm >= 0) {
		char date[30];
		cc_date_fmt(ce->lm, date);
		n += (size_t)snprintf(v + n, sizeof(v) - n, "If-Modified-Since: %s\r\n", date);
	}
	v[n] = '\0';
	return v;
}

const char *
cio_xcache_line(const struct conn *c)
{
	static char line[32];

	if (c->cache.x == X_NONE)
		return "";
	snprintf(line, sizeof(line), "X-Cache: %s\r\n", x_text[c->cache.x]);
	return line;
}

/* ---- storing ---------------------------------------------------------------------- */

/* fields an entry does not keep: framing, hop-by-hop, what pollux sets when serving,
 * and cookies meant for the one client who fetched it */
static int
not_stored(const char *p, const struct http_field *f)
{
	static const char *const names[] = { "age", "x-cache", "set-cookie", NULL };

	if (f->hop || f->cls == H_CONTENT_LENGTH || f->cls == H_TRANSFER_ENCODING)
		return 1;
	for (const char *const *n = names; *n; n++)
		if (util_caseeq(p + f->name.off, f->name.len, *n))
			return 1;
	return 0;
}

/* the status line and the kept fields; the ETag's place is noted on the way */
static int
append_head(int e, const char *p, const struct http_msg *m, const struct cc_resp *f)
{
	struct cache_entry *ce = cache_get(e);

	if (cache_append(e, "HTTP/1.1", 8) < 0 ||
	    cache_append(e, p + m->line.off + 8, (size_t)m->line.len - 8) < 0 ||
	    cache_append(e, "\r\n", 2) < 0)
		return -1;
	for (int i = 0; i < m->nf; i++) {
		const struct http_field *fl = &m->f[i];
		if (not_stored(p, fl))
			continue;
		if (f->etag_text.len && f->etag_text.len <= 255 &&
		    fl->value.off == f->etag_text.off) {
			ce->etag_off = (uint16_t)(ce->len - ce->key_len + fl->value.off - fl->line.off);
			ce->etag_len = (uint8_t)f->etag_text.len;
		}
		if (cache_append(e, p + fl->line.off, fl->line.len) < 0)
			return -1;
	}
	cache_head_done(e);
	return 0;
}

int
cio_store_head(struct conn *c, const char *p, const struct http_msg *m)
{
	int e = c->cache.entry;
	struct cache_entry *ce = cache_get(e);
	struct cc_resp f;

	cc_response(p, m, c->cache.req.auth, conf.routes[c->route].cache_ttl, time(NULL), &f);
	if (f.why || (m->framing == HB_LENGTH &&
	    (uint64_t)ce->len + m->head_len + m->length > conf.cache_max_object) ||
	    append_head(e, p, m, &f) < 0) {
		cache_abort(e);
		c->cache.mode = CM_NONE;
		c->cache.entry = -1;
		return 0;
	}
	ce->status = m->status;
	ce->lifetime = f.lifetime;
	ce->age0 = f.age;
	ce->etag = f.etag;
	ce->lm = f.lm;
	ce->vary_ae = f.vary_ae;
	return 1;
}

void
cio_refresh(struct conn *c, const char *p, const struct http_msg *m)
{
	struct cache_entry *ce = cache_get(c->cache.entry);
	struct cc_resp f;

	cc_response(p, m, c->cache.req.auth, conf.routes[c->route].cache_ttl, time(NULL), &f);
	if (f.explicit_fresh)
		ce->lifetime = f.lifetime;
	ce->age0 = f.age;
	ce->stored = loop_now;
	ce->reval = 0;
}

int
cio_tee(struct conn *c, struct buf *b)
{
	int dropped = 0;

	while (!c->rsb.done && b->fwd < b->wr) {
		size_t off, len;
		long n = http_body_next(&c->rsb, b->p + b->fwd, b->wr - b->fwd, &off, &len);
		if (n < 0)
			return -1;
		if (len && c->cache.mode == CM_FILL &&
		    cache_append(c->cache.entry, b->p + b->fwd + off, len) < 0) {
			cache_abort(c->cache.entry);
			c->cache.mode = CM_NONE;
			c->cache.entry = -1;
			dropped = 1;
		}
		b->fwd += (uint32_t)n;
		c->resp_bytes += (uint64_t)n;
		if (n == 0)
			break;
	}
	return dropped;
}

/* ---- serving ---------------------------------------------------------------------- */

static int
no_body_status(unsigned status)
{
	return status < 200 || status == 204 || status == 304;
}

uint32_t
cio_serve_head(struct conn *c, struct buf *b, int keepalive, int http10, const char *extra,
    int *status)
{
	int e = c->cache.entry;
	const struct cache_entry *ce = cache_get(e);
	uint32_t body = ce->len - ce->key_len - ce->head_len, start;
	int nm = ce->status >= 200 && ce->status < 300 && cc_not_modified(&c->cache.req,
	    ce->etag, ce->lm);
	char tail[224];
	struct cache_cursor cur;
	int n;

	if (b->rd == b->wr)
		buf_compact(b, b->rd, NULL);
	start = b->wr;
	n = snprintf(tail, sizeof(tail), "Age: %u\r\nX-Cache: %s\r\n", cache_age(e, loop_now),
	    x_text[c->cache.x]);
	if (!nm && !no_body_status(ce->status))
		n += snprintf(tail + n, sizeof(tail) - (size_t)n, "Content-Length: %u\r\n", body);
	n += snprintf(tail + n, sizeof(tail) - (size_t)n, "%s%s\r\n", !keepalive ?
	    "Connection: close\r\n" : http10 ? "Connection: keep-alive\r\n" : "", extra);
	if ((size_t)b->cap - b->wr < (size_t)ce->head_len + (size_t)n + 32)
		return 0;
	if (nm) {
		memcpy(b->p + b->wr, line304, sizeof(line304) - 1);
		b->wr += sizeof(line304) - 1;
	}
	cache_seek(e, ce->key_len, ce->head_len, &cur);
	b->wr += (uint32_t)cache_read(&cur, b->p + b->wr, ce->head_len);
	if (nm) {               /* the stored status line gives way to the 304's */
		size_t l304 = sizeof(line304) - 1;
		char *line = b->p + start + l304, *eol = memchr(line, '\n', b->wr - start - l304);
		size_t drop = eol ? (size_t)(eol + 1 - line) : 0;
		memmove(line, line + drop, b->wr - start - l304 - drop);
		b->wr -= (uint32_t)drop;
	}
	memcpy(b->p + b->wr, tail, (size_t)n);
	b->wr += (uint32_t)n;
	b->fwd = b->wr;
	*status = nm ? S_NOT_MODIFIED : ce->status;
	cache_seek(e, (uint32_t)ce->key_len + ce->head_len,
	    nm || no_body_status(ce->status) || c->method == M_HEAD ? 0 : body, &c->cache.cur);
	return b->wr - start;
}

uint32_t
cio_serve_body(struct conn *c, struct buf *b)
{
	size_t n;

	if (b->rd == b->wr || b->wr >= b->cap / 2)
		buf_compact(b, b->rd, NULL);
	n = cache_read(&c->cache.cur, b->p + b->wr, b->cap - b->wr);
	b->wr += (uint32_t)n;
	b->fwd = b->wr;
	return (uint32_t)n;
}

/* ---- purging ---------------------------------------------------------------------- */

unsigned
cio_purge(const char *p, const struct http_msg *m)
{
	size_t klen;

	if (m->path.len == 2 && memcmp(p + m->path.off, "/*", 2) == 0)
		return cache_purge_all();
	if ((klen = make_key(p, m)) == 0)
		return 0;
	return cache_purge(key, klen);
}
