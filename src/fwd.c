/*
 * fwd.c: head rewriting in place. A rewrite is first written down as an edit list:
 * spans of the old head to keep, in order, and text to insert between them (generated
 * text lives in a static scratch, never in the buffer being rewritten). Applying it
 * moves every kept span to its new offset: spans moving left are moved first, front to
 * back, then spans moving right, back to front, and the inserts are written last. No
 * span overwrites bytes not yet moved, so one buffer holds old head, new head and the
 * body bytes behind them. Single-threaded: one rewrite at a time owns the statics.
 */
#include <string.h>

#include "fwd.h"
#include "util.h"

#define FWD_MAX_EDITS 128

struct edit {
	const char *text;       /* NULL: keep buf[src..src+len) */
	size_t src, len, dst;
};

static struct edit ed[FWD_MAX_EDITS];
static unsigned ned;
static int overflow;
static char scratch[2 * FWD_GROWTH];    /* an authority may appear twice */
static size_t nscratch;

static void
edit_reset(void)
{
	ned = 0;
	nscratch = 0;
	overflow = 0;
}

static void
push(const char *text, size_t src, size_t len)
{
	if (ned == FWD_MAX_EDITS)
		overflow = 1;
	else
		ed[ned++] = (struct edit){ .text = text, .src = src, .len = len };
}

static void
keep(size_t src, size_t len)
{
	if (len && ned && !ed[ned - 1].text && ed[ned - 1].src + ed[ned - 1].len == src)
		ed[ned - 1].len += len;         /* adjacent: one span */
	else if (len)
		push(NULL, src, len);
}

static void
insert(const char *text, size_t len)
{
	if (len)
		push(text, 0, len);
}

static void
insert_str(const char *s)
{
	insert(s, strlen(s));
}

/* inserts pre, a[0..alen) and post, joined in the scratch (a may lie in the buffer
 * being rewritten; the scratch never moves) */
static void
insert_cat(const char *pre, const char *a, size_t alen, const char *post)
{
	size_t lp = strlen(pre), lq = strlen(post), n = lp + alen + lq;
	char *d = scratch + nscratch;

	if (n > sizeof(scratch) - nscratch) {
		overflow = 1;
		return;
	}
	memcpy(d, pre, lp);
	memcpy(d + lp, a, alen);
	memcpy(d + lp + alen, post, lq);
	insert(d, n);
	nscratch += n;
}

/* places every edit; returns the total length, or 0 when it exceeds cap */
static size_t
edit_apply(char *buf, size_t cap)
{
	size_t out = 0;
	unsigned i;

	for (i = 0; i < ned; i++) {
		ed[i].dst = out;
		out += ed[i].len;
	}
	if (overflow || out > cap)
		return 0;
	for (i = 0; i < ned; i++)
		if (!ed[i].text && ed[i].dst < ed[i].src)
			memmove(buf + ed[i].dst, buf + ed[i].src, ed[i].len);
	for (i = ned; i-- > 0;)
		if (!ed[i].text && ed[i].dst > ed[i].src)
			memmove(buf + ed[i].dst, buf + ed[i].src, ed[i].len);
	for (i = 0; i < ned; i++)
		if (ed[i].text)
			memcpy(buf + ed[i].dst, ed[i].text, ed[i].len);
	return out;
}

/* 1 when the field's name is in the NULL-terminated list */
static int
listed(const char *buf, const struct http_field *f, const char *const *names)
{
	for (; names && *names; names++)
		if (util_caseeq(buf + f->name.off, f->name.len, *names))
			return 1;
	return 0;
}

/* keeps a field line, appending ", a" to its value (just a when the value is empty) */
static void
keep_appended(const struct http_field *f, const char *a)
{
	size_t vend = (size_t)f->value.off + f->value.len;

	keep(f->line.off, vend - f->line.off);
	insert_cat(f->value.len ? ", " : "", a, strlen(a), "");
	keep(vend, (size_t)f->line.off + f->line.len - vend);
}

/* ---- requests --------------------------------------------------------------------- */

static void
request_line(const char *buf, const struct http_msg *m, const struct fwd_req *o)
{
	size_t ps = m->path.off + o->strip, pe = (size_t)m->path.off + m->path.len;

	keep(m->mtok.off, (size_t)m->mtok.len + 1);     /* method and SP */
	if (ps > pe)
		ps = pe;
	if (ps == pe || buf[ps] == '?')
		insert_str("/");
	keep(ps, pe - ps);
	insert_str(o->http10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
}

/* whether a request field goes on to the backend unchanged */
static int
request_drops(const char *buf, const struct http_msg *m, const struct http_field *f,
    const struct fwd_req *o)
{
	if (f->cls == H_UPGRADE && o->tunnel)
		return 0;
	if (f->hop || f->cls == H_EXPECT || f->cls == H_X_FORWARDED_PROTO ||
	    f->cls == H_X_FORWARDED_HOST)
		return 1;
	if (f->cls == H_HOST && (m->flags & HF_ABSOLUTE))
		return 1;               /* replaced by the target's authority */
	if (o->no_cond && f->cls == H_OTHER &&
	    (util_caseeq(buf + f->name.off, f->name.len, "if-none-match") ||
	    util_caseeq(buf + f->name.off, f->name.len, "if-modified-since")))
		return 1;
	return listed(buf, f, o->del);
}

static void
request_fields(const char *buf, const struct http_msg *m, const struct fwd_req *o)
{
	int last_xff = -1, last_via = -1;
	const char *via = o->http10 ? "1.0 pollux" : "1.1 pollux";  /* the received version */

	for (int i = 0; i < m->nf; i++) {
		if (m->f[i].cls == H_X_FORWARDED_FOR && !request_drops(buf, m, &m->f[i], o))
			last_xff = i;
		if (m->f[i].cls == H_VIA && !request_drops(buf, m, &m->f[i], o))
			last_via = i;
	}
	for (int i = 0; i < m->nf; i++) {
		const struct http_field *f = &m->f[i];
		if (request_drops(buf, m, f, o))
			continue;
		if (i == last_xff)
			keep_appended(f, o->client_ip);
		else if (i == last_via)
			keep_appended(f, via);
		else
			keep(f->line.off, f->line.len);
	}
	if (m->flags & HF_ABSOLUTE)
		insert_cat("Host: ", buf + m->host.off, m->host.len, "\r\n");
	if (last_xff < 0)
		insert_cat("X-Forwarded-For: ", o->client_ip, strlen(o->client_ip), "\r\n");
	if (last_via < 0)
		insert_cat("Via: ", via, strlen(via), "\r\n");
}

static void
insert_lines(const char *const *lines)
{
	for (; lines && *lines; lines++) {
		insert_str(*lines);
		insert_str("\r\n");
	}
}

size_t
fwd_request(char *buf, size_t cap, size_t tail_len, const struct http_msg *m,
    const struct fwd_req *o)
{
	edit_reset();
	request_line(buf, m, o);
	request_fields(buf, m, o);
	insert_cat("X-Forwarded-Proto: ", o->proto, strlen(o->proto), "\r\n");
	if (m->host.len)
		insert_cat("X-Forwarded-Host: ", buf + m->host.off, m->host.len, "\r\n");
	if (o->tunnel)
		insert_str("Connection: upgrade\r\n");
	insert_lines(o->add);
	if (o->extra)
		insert_str(o->extra);
	insert_str("\r\n");
	size_t head = 0;
	for (unsigned i = 0; i < ned; i++)
		head += ed[i].len;
	keep(m->head_len, tail_len);
	return edit_apply(buf, cap) ? head : 0;
}

/* ---- responses -------------------------------------------------------------------- */

size_t
fwd_response(char *buf, size_t cap, size_t tail_len, const struct http_msg *m,
    const struct fwd_resp *o)
{
	edit_reset();
	insert_str("HTTP/1.1");         /* our version, then the backend's status and reason */
	keep(8, (size_t)m->line.len + 2 - 8);
	for (int i = 0; i < m->nf; i++) {
		const struct http_field *f = &m->f[i];
		if (f->hop && !(f->cls == H_UPGRADE && o->tunnel))
			continue;
		keep(f->line.off, f->line.len);
	}
	if (o->tunnel)
		insert_str("Connection: upgrade\r\n");
	else if (!o->keepalive)
		insert_str("Connection: close\r\n");
	else if (o->http10)
		insert_str("Connection: keep-alive\r\n");
	if (o->extra)
		insert_str(o->extra);
	insert_str("\r\n");
	size_t head = 0;
	for (unsigned i = 0; i < ned; i++)
		head += ed[i].len;
	keep(m->head_len, tail_len);
	return edit_apply(buf, cap) ? head : 0;
}
