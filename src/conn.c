/*
 * conn.c: the client side of the proxy and the story of a request:
 *
 *   C_READ_HEAD -> C_PROXY (connect, send head and body, read the response) ->
 *   C_READ_HEAD again (keep-alive) | C_TUNNEL (after a 101) | C_CLOSING
 *
 * Within C_PROXY the request side (rq) and the response side (rs) move on their own,
 * so bodies stream both ways at once. A pump runs after every poll event: it reads what
 * poll reported, delimits, writes wherever bytes are due, and repeats while anything
 * moves; then it sets the poll events and the slot's deadline from what it waits for.
 * Bytes read are parsed and rewritten in place and written from the same buffer; the
 * only copies are the few bytes of log fields and pollux's own short responses.
 * Invariants: a slot is either free or has an fd in the poll table; `up` points at a
 * backend side whose `c` points back; a response byte reaches the client only after a
 * complete, valid response head.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "cache.h"
#include "cacheio.h"
#include "conf.h"
#include "conn.h"
#include "fwd.h"
#include "guard.h"
#include "log.h"
#include "loop.h"
#include "path.h"
#include "pipes.h"
#include "pool.h"
#include "route.h"
#include "stats.h"
#include "tls.h"
#include "upstream.h"

enum {
	CF_KEEP = 1 << 0,       /* the client connection may stay open after this response */
	CF_HTTP10 = 1 << 1,     /* the client spoke HTTP/1.0 */
	CF_UPGRADE = 1 << 2,    /* the request asked for a protocol upgrade */
	CF_EXPECT = 1 << 3,     /* a 100 Continue is owed once the backend is connected */
	CF_REPLAY = 1 << 4,     /* the request from req_start is still whole in `in` */
	CF_RETRIED = 1 << 5,    /* one retry was spent */
	CF_UP_KEEP = 1 << 6,    /* the backend connection may be reused */
	CF_HEAD_BYTES = 1 << 7, /* a request head has begun: T_HEADER runs */
	CF_CEOF = 1 << 8,       /* the client sent EOF */
	CF_UEOF = 1 << 9,       /* the backend sent EOF (tunnel) */
	CF_CSHUT = 1 << 10,     /* writing to the client is shut down */
	CF_USHUT = 1 << 11,     /* writing to the backend is shut down */
	CF_CMOVED = 1 << 12,    /* bytes moved on the client socket in this pump */
	CF_UMOVED = 1 << 13,    /* bytes moved on the backend socket in this pump */
	CF_CBLOCK = 1 << 14,    /* the client socket refused a write: wait for POLLOUT */
	CF_UBLOCK = 1 << 15,    /* the backend socket refused a write */
	CF_LOGGED = 1 << 16,    /* the access line of this request is written */
	CF_TLS_CLOSE = 1 << 17, /* close_notify started */
	CF_SERVED = 1 << 18,    /* a request was answered: idle now means keep-alive */
	CF_SWALLOW = 1 << 19,   /* the response body goes to the cache only (after a 304) */
	CF_BYE = 1 << 20,       /* the client said Connection: close (or spoke plain 1.0) */
	CF_NO_LINGER = 1 << 21  /* closing: nothing more can come from the client */
};

#define NO_BACKEND 0xffff
#define CACHE_VALIDATORS 400    /* bytes of If-None-Match and If-Modified-Since lines */
#define LINGER_MS 2000

/* a pump step's outcome */
enum { GONE = -1, IDLE = 0, MOVED = 1 };

int conn_draining;               /* SIGTERM: finish what is in flight, take nothing new */
static int32_t free_plain = -1;  /* free slots without a TLS engine */
static int32_t free_tls = -1;    /* free slots with one */
static uint32_t head_limit;     /* buffer bytes a head may fill, leaving rewrite room */
static struct http_msg msg;     /* one parse at a time */
static char busy503[256];       /* the answer when no slot is free */
static size_t busy503_len;

static int cache_woke;           /* a fill or revalidation ended: look at the waiters */

static int pump(struct conn *c, short crev, short urev);

/* ---- slots ------------------------------------------------------------------------ */

static size_t
max_route_growth(void)
{
	size_t max = 0;

	for (unsigned i = 0; i < conf.nroutes; i++) {
		size_t n = 0;
		for (const char *const *l = conf.routes[i].add; l && *l; l++)
			n += strlen(*l) + 2;
		max = n > max ? n : max;
	}
	return max;
}

static int32_t *
free_list(const struct conn *c)
{
	return c->eng ? &free_tls : &free_plain;
}

/* slots are set up on first use: the table and buffers stay untouched .bss (no
 * resident pages) until a connection needs them; below these marks they are set up */
static unsigned hwm_tls, hwm_plain;

/* the first slot at or after i that was ever set up (nconns: none); scans skip the
 * rest, so an idle table's pages stay untouched */
unsigned
conn_next_used(unsigned i)
{
	if (i < hwm_tls)
		return i;
	if (i < conf.ntls)
		i = conf.ntls;
	return i < hwm_plain ? i : conf.nconns;
}

void
conn_init(void)
{
	free_plain = free_tls = -1;
	hwm_tls = 0;                    /* TLS-capable slots are [0, ntls) */
	hwm_plain = conf.ntls;          /* plain-only slots [ntls, nconns) */
	/* room for the rewrite: its growth, the route's lines, the cache's validators */
	head_limit = conf.buf_len - (uint32_t)(FWD_GROWTH + max_route_growth() +
	    (conf.cache_len ? CACHE_VALIDATORS : 0));
	if (conf.cache_len)
		cache_init(conf.cache_mem, conf.cache_len, conf.cache_ents, conf.ncache_ents,
		    conf.cache_next, conf.cache_max_object);
	msg.f = conf.fields;
	msg.fcap = (uint16_t)conf.max_fields;
	busy503_len = http_error(busy503, sizeof(busy503), S_UNAVAILABLE, 0,
	    "Retry-After: 1\r\n");
}

/* the next never-used slot below end, set up; NULL when there is none */
static struct conn *
slot_fresh(unsigned *hwm, unsigned end)
{
	struct conn *c;
	unsigned i = *hwm;

	if (i >= end)
		return NULL;
	(*hwm)++;
	c = &conf.conns[i];
	memset(c, 0, sizeof(*c));
	c->in.p = conf.conn_mem + (size_t)i * 2 * conf.buf_len;
	c->out.p = c->in.p + conf.buf_len;
	c->in.cap = c->out.cap = conf.buf_len;
	c->state = C_FREE;
	c->fd = -1;
	c->rqp.id = c->rsp.id = -1;
	c->eng = i < conf.ntls ? tls_slot(i) : NULL;
	return c;
}

int
conn_room(int tls)
{
	return (!tls && (free_plain >= 0 || hwm_plain < conf.nconns)) || free_tls >= 0 ||
	    hwm_tls < conf.ntls;
}

static void
slot_free(struct conn *c)
{
	if (c->tls)
		tls_end(c->tls);
	c->state = C_FREE;
	c->fd = -1;
	c->up = NULL;
	c->tls = NULL;
	c->next_free = *free_list(c);
	*free_list(c) = (int32_t)(c - conf.conns);
}

static struct conn *
pop(int32_t *l)
{
	struct conn *c = &conf.conns[*l];

	*l = c->next_free;
	return c;
}

/* a free slot for a listener: TLS needs an engine; plain takes a plain slot first */
static struct conn *
slot_take(int tls)
{
	struct conn *c;

	if (!tls) {
		if (free_plain >= 0)
			return pop(&free_plain);
		if ((c = slot_fresh(&hwm_plain, conf.nconns)) != NULL)
			return c;
	}
	if (free_tls >= 0)
		return pop(&free_tls);
	return slot_fresh(&hwm_tls, conf.ntls);
}

static void
request_reset(struct conn *c)
{
	c->state = C_READ_HEAD;
	c->flags &= CF_CEOF | CF_SERVED;
	c->since = loop_now;
	c->scan_in = 0;
	c->scan_out = 0;
	c->be = NO_BACKEND;
	c->method = M_OTHER;
	c->t0 = 0;
	c->status = 0;
	c->resp_bytes = 0;
	c->cache.mode = CM_NONE;
	c->cache.x = X_NONE;
	c->cache.entry = -1;
	c->deadline = loop_now + conf.t_idle;
	strcpy(c->log.method, "-");
	strcpy(c->log.host, "-");
	strcpy(c->log.target, "-");
	strcpy(c->log.referer, "-");
	strcpy(c->log.agent, "-");
	strcpy(c->log.user, "-");
	c->log.version = 0;
}

/* no slot: read what the client sent (so close does not reset), answer 503 (in plain
 * HTTP only: a TLS client cannot be answered without an engine), close */
static void
refuse(int fd, const union addr *peer, int tls, const char *why)
{
	char junk[2048], ip[ADDR_TEXT];

	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	if (!tls && send(fd, busy503, busy503_len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		(void)0;
	shutdown(fd, SHUT_WR);
	close(fd);
	log_warn("%s: 503: %s", util_ip(peer, ip), why);
	struct log_req r = { .client = ip, .user = "-", .host = "-", .method = "-", .target = "-",
		.version = "-", .referer = "-", .agent = "-", .status = S_UNAVAILABLE,
		.bytes = busy503_len, .ms = 0, .backend = "-" };
	stats.refused++;
	stats.bytes_out += tls ? 0 : busy503_len;
	stats_request(S_UNAVAILABLE);
	if (conf.access_log)
		log_access(&r);
}

static int
conn_close(struct conn *c, int abort);

/* the connections open from this address */
static unsigned
from_addr(const union addr *a)
{
	unsigned n = 0;

	CONN_EACH(i)
		n += conf.conns[i].state != C_FREE && util_same_ip(&conf.conns[i].peer, a);
	return n;
}

/*
 * Every slot is taken: the oldest idle keep-alive connection gives way, or else the
 * connection that has been reading a request head (or a TLS handshake) the longest.
 * A connection with input waiting in this poll round is sending, not stalling: it is
 * spared (under a flood of reconnects every slot is young, and a client whose request
 * has just arrived must not lose to the flood). Thousands of slow clients cannot lock
 * others out; they only lose their slots.
 */
static struct conn *
reclaim(int tls)
{
	struct conn *idle = NULL, *slow = NULL, *v;
	char ip[ADDR_TEXT];

	CONN_EACH(i) {
		struct conn *c = &conf.conns[i];
		if (c->state != C_READ_HEAD || (tls && !c->eng) ||
		    (conf.pfd[c->pfd].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		int waiting = (c->flags & CF_SERVED) && c->in.wr == c->in.fwd &&
		    c->out.rd == c->out.fwd;
		struct conn **best = waiting ? &idle : &slow;
		if (!*best || c->since < (*best)->since)
			*best = c;
	}
	if (!(v = idle ? idle : slow))
		return NULL;
	stats.reclaimed++;
	log_info("%s: slot reclaimed from %s %s", util_ip(&v->peer, ip),
	    idle ? "an idle keep-alive connection" : "a slow request head", "for a new client");
	conn_close(v, 0);
	return slot_take(tls);
}

void
conn_accept(int fd, const union addr *peer, unsigned listener, int readable)
{
	int tls = conf.listeners[listener].tls;
	struct conn *c;

	if (conf.max_per_addr && from_addr(peer) >= conf.max_per_addr) {
		refuse(fd, peer, tls, "too many connections from this address");
		return;
	}
	c = slot_take(tls);
	if (!c)
		c = reclaim(tls);
	if (!c || loop_add(fd, POLLIN, LK_CONN, c, &c->pfd) < 0) {
		if (c) {
			c->next_free = *free_list(c);
			*free_list(c) = (int32_t)(c - conf.conns);
		}
		refuse(fd, peer, tls, "all client slots busy");
		return;
	}
	stats.accepted++;
	c->fd = fd;
	c->listener = (uint8_t)listener;
	c->tls = tls ? c->eng : NULL;
	if (c->tls)
		tls_start(c->tls);
	c->peer = *peer;
	c->up = NULL;
	c->flags = 0;
	c->in.rd = c->in.fwd = c->in.wr = 0;
	c->out.rd = c->out.fwd = c->out.wr = 0;
	request_reset(c);
	c->flags &= (uint32_t)~CF_SERVED;
	c->deadline = loop_now + conf.t_header;
	if (readable)
		conn_event(c, POLLIN);  /* not a poll round later: one scan of the table less */
}

/* ---- logging ---------------------------------------------------------------------- */

static const char *
backend_name(const struct conn *c)
{
	return c->be == NO_BACKEND ? "-" : pool_be(c->be)->name;
}

static void
access_log(struct conn *c)
{
	char ip[ADDR_TEXT];

	struct log_req r = {
		.client = util_ip(&c->peer, ip), .host = c->log.host, .method = c->log.method,
		.target = c->log.target, .user = c->log.user, .referer = c->log.referer,
		.agent = c->log.agent, .version = c->log.version == 10 ? "HTTP/1.0" :
		c->log.version == 11 ? "HTTP/1.1" : "-", .status = c->status, .bytes = c->resp_bytes,
		.ms = c->t0 ? loop_now - c->t0 : 0, .backend = backend_name(c),
	};

	if (c->flags & CF_LOGGED)
		return;
	c->flags |= CF_LOGGED;
	stats_request(c->status);
	stats.cache[c->cache.x]++;
	if (conf.access_log)
		log_access(&r);
}

static void
warn(struct conn *c, int status, const char *why)
{
	char ip[ADDR_TEXT];

	log_warn("%s: %d \"%s %s\" backend %s: %s", util_ip(&c->peer, ip), status, c->log.method,
	    c->log.target, backend_name(c), why);
}

/* copies a field's value for the access log, when the request has the field */
static void
log_field(char *dst, size_t cap, const char *p, const struct http_msg *m, const char *name)
{
	int i = http_find_name(m, p, name, 0);

	if (i >= 0)
		util_logcpy(dst, cap, p + m->f[i].value.off, m->f[i].value.len);
}

/* copies the request's method, host, target, Referer and User-Agent for the log */
static void
log_fields(struct conn *c, const struct http_msg *m)
{
	const char *p = c->in.p + c->in.fwd;

	util_logcpy(c->log.method, sizeof(c->log.method), p + m->mtok.off, m->mtok.len);
	util_logcpy(c->log.target, sizeof(c->log.target), p + m->target.off, m->target.len);
	if (m->host.len)
		util_logcpy(c->log.host, sizeof(c->log.host), p + m->host.off, m->host.len);
	log_field(c->log.referer, sizeof(c->log.referer), p, m, "referer");
	log_field(c->log.agent, sizeof(c->log.agent), p, m, "user-agent");
	c->log.version = m->version;
}

/* ---- splice ----------------------------------------------------------------------- */

/* gives a body's pipe back, dropping what it still holds */
static void
pipe_drop(struct conn_pipe *p)
{
	if (p->id >= 0)
		pipes_give(p->id, p->queued);
	p->id = -1;
	p->queued = 0;
}

/* the rest of a long plain body goes by splice once the buffer b has passed on all it
 * read: no TLS, no cache, a known length of more than a buffer still to come. Takes
 * the pipe then; 1 while the body has one. */
static int
pipe_begin(struct conn *c, struct conn_pipe *p, const struct http_body *hb,
    const struct buf *b)
{
	if (p->id >= 0)
		return 1;
	if (c->tls || c->state != C_PROXY || c->cache.mode != CM_NONE || hb->mode != HB_LENGTH ||
	    hb->done || hb->left < conf.buf_len || b->rd != b->wr)
		return 0;
	p->id = (int16_t)pipes_take();
	return p->id >= 0;
}

/* socket -> the body's pipe, only into an empty one: at most what the body has left */
static long
pipe_fill(struct conn_pipe *p, int fd, const struct http_body *hb)
{
	long n = pipes_in(p->id, fd, hb->left);

	if (n > 0)
		p->queued = (uint32_t)n;
	return n;
}

/* the body's pipe -> socket. Spliced bytes are delimited as they leave, so the body is
 * done only once its pipe is empty, and the pipe goes back then. fin: our FIN follows
 * the body at once (see fin_follows), so its last bytes may wait for it too. */
static long
pipe_flush(struct conn_pipe *p, int fd, struct http_body *hb, int fin)
{
	long n = pipes_out(p->id, fd, p->queued, hb->left > p->queued || fin);

	if (n <= 0)
		return n;
	p->queued -= (uint32_t)n;
	http_body_skip(hb, (uint64_t)n);
	if (hb->done)
		pipe_drop(p);
	return n;
}

/* ---- endings ---------------------------------------------------------------------- */

static void
drop_up(struct conn *c, int reusable)
{
	if (!c->up)
		return;
	if (reusable)
		up_release(c->up, 1);
	else
		up_close(c->up, 0);
	c->up = NULL;
}

/* the request's part in the cache ends: a complete fill is stored, anything else
 * is let go; waiters are looked at after this event */
static void
cache_end(struct conn *c, int complete)
{
	int e = c->cache.entry;

	switch (c->cache.mode) {
	case CM_FILL:
		if (complete && c->state == C_PROXY && c->rs == RS_DONE)
			cache_commit(e, loop_now);
		else
			cache_abort(e);
		cache_woke = 1;
		break;
	case CM_REVAL:
		cache_get(e)->reval = 0;
		cache_unpin(e);
		cache_woke = 1;
		break;
	case CM_SERVE:
		cache_unpin(e);
		break;
	}
	c->cache.mode = CM_NONE;
	c->cache.entry = -1;
}

/* closes the client at once; RST when the stream must look broken */
static int
conn_close(struct conn *c, int abort)
{
	cache_end(c, 0);
	drop_up(c, 0);
	pipe_drop(&c->rqp);
	pipe_drop(&c->rsp);
	loop_del(c->pfd);
	if (abort)
		util_abort_close(c->fd);
	else
		close(c->fd);
	slot_free(c);
	return GONE;
}

/* a response already under way cannot become an error: cut the client off */
static int
conn_abort(struct conn *c, const char *why)
{
	if (c->flags & CF_LOGGED)
		return conn_close(c, 1);        /* answered and logged already */
	if (c->status)
		access_log(c);
	warn(c, c->status, why);
	return conn_close(c, 1);
}

/* everything queued for the client, in the buffer or in the engine, has left */
static int
out_flushed(const struct conn *c)
{
	return c->out.rd == c->out.fwd && !c->rsp.queued && !(c->tls && tls_pending(c->tls));
}

/* flush what is queued, send FIN, read and drop until EOF, then close. When the
 * client said it would close, sent its whole request and nothing after it, there is
 * nothing to drain: the close follows the FIN at once (as HAProxy and nginx do), a
 * read and a poll round sooner. TLS still waits for the client's close_notify. */
static void
closing(struct conn *c)
{
	if ((c->flags & CF_BYE) && c->state == C_PROXY && c->rq == RQ_DONE &&
	    c->in.wr == c->in.fwd && !c->tls)
		c->flags |= CF_NO_LINGER;
	drop_up(c, 0);
	pipe_drop(&c->rqp);             /* what the backend did not take of the body */
	c->state = C_CLOSING;
	c->in.rd = c->in.fwd = c->in.wr = 0;
	c->flags &= (uint32_t)~CF_REPLAY;
	c->deadline = loop_now + LINGER_MS;
}

/* the Strict-Transport-Security line of the connection's listener, or "" */
static const char *
hsts(const struct conn *c, char *line, size_t cap)
{
	uint32_t age = conf.listeners[c->listener].hsts_max_age;

	line[0] = '\0';
	if (c->tls && age)
		snprintf(line, cap, "Strict-Transport-Security: max-age=%u\r\n", (unsigned)age);
	return line;
}

/* one of pollux's own responses in place of the backend's, then a close */
static int
respond(struct conn *c, int status, const char *extra)
{
	static char resp[2560];
	size_t n = http_error(resp, sizeof(resp), status, c->method == M_HEAD, extra);

	cache_end(c, 0);
	c->out.wr = c->out.fwd;
	if (c->t0 == 0)
		c->t0 = loop_now;
	c->status = (uint16_t)status;
	if (n == 0 || buf_put(&c->out, resp, (uint32_t)n) < 0)
		return conn_abort(c, "no room for the response");
	c->resp_bytes = n;
	access_log(c);
	closing(c);
	return MOVED;
}

/*
 * Answers the request in flight with an error and closes. Any partial backend
 * response is discarded; one already passed on cannot be replaced.
 */
static int
conn_refuse(struct conn *c, int status, const char *why, const char *lines)
{
	char extra[256], line[64];

	if (c->state == C_TUNNEL || (c->state == C_PROXY && c->rs != RS_HEAD))
		return conn_abort(c, why);
	snprintf(extra, sizeof(extra), "%s%s%s%s", status == S_UNAVAILABLE ? "Retry-After: 1\r\n" :
	    "", lines, hsts(c, line, sizeof(line)), cio_xcache_line(c));
	warn(c, status, why);
	return respond(c, status, extra);
}

static int
conn_error(struct conn *c, int status, const char *why)
{
	return conn_refuse(c, status, why, "");
}

/* a stats listener: the counters page for GET and HEAD */
static int
stats_answer(struct conn *c, const struct http_msg *m)
{
	static char head[256];
	const char *type, *body;
	size_t blen;
	int n;

	if (m->method != M_GET && m->method != M_HEAD)
		return conn_error(c, S_NOT_IMPLEMENTED, "the stats listener answers GET and HEAD");
	body = stats_page(c->in.p + c->in.fwd + m->path.off, m->path.len, &blen, &type);
	n = snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
	    type, blen);
	c->status = S_OK;
	c->out.wr = c->out.fwd;
	if (buf_put(&c->out, head, (uint32_t)n) < 0 ||
	    (m->method == M_GET && buf_put(&c->out, body, (uint32_t)blen) < 0))
		return conn_abort(c, "stats page larger than the buffer");
	c->resp_bytes = (uint64_t)n + (m->method == M_GET ? blen : 0);
	access_log(c);
	closing(c);
	return MOVED;
}

/* a plain listener that sends everyone to HTTPS: 301 to the same host and target */
static int
redirect(struct conn *c, const struct http_msg *m)
{
	static char loc[2048];
	const char *p = c->in.p + c->in.fwd;
	unsigned port = conf.listeners[c->listener].redirect_port;
	struct http_span t = (m->flags & HF_ABSOLUTE) ? m->path : m->target;
	size_t hl = route_host_len(p + m->host.off, m->host.len);
	char ptext[8] = "";
	int n;

	if (port != 443)
		snprintf(ptext, sizeof(ptext), ":%u", port);
	n = snprintf(loc, sizeof(loc), "Location: https://%.*s%s%.*s%s\r\n", (int)hl,
	    p + m->host.off, ptext, (int)t.len, p + t.off, t.len ? "" : "/");
	if (n < 0 || (size_t)n >= sizeof(loc))
		return conn_error(c, S_URI_TOO_LONG, "target too long to redirect");
	return respond(c, 301, loc);
}

/* ---- the request head ------------------------------------------------------------- */

static int
connect_backend(struct conn *c)
{
	int be = pool_pick(conf.routes[c->route].pool, &c->peer, loop_now);

	if (be < 0)
		return conn_error(c, S_UNAVAILABLE, "every backend of the pool is down");
	c->be = (uint16_t)be;
	c->up = up_get((unsigned)be, c);
	if (!c->up) {
		if (errno == EAGAIN)
			return conn_error(c, S_UNAVAILABLE, "no free backend slot");
		pool_down((unsigned)be, loop_now, strerror(errno));
		return conn_error(c, S_BAD_GATEWAY, "connect failed");
	}
	return MOVED;
}

/* puts the path (before any query) in normal form in place, the query after it, so
 * routing, access rules and the backend all see one spelling; -1 when it has none */
static int
normalize_path(struct conn *c, struct http_msg *m)
{
	char *p = c->in.p + c->in.fwd + m->path.off;
	char *q = memchr(p, '?', m->path.len);
	size_t plen = q ? (size_t)(q - p) : m->path.len, qlen = m->path.len - plen;
	long n;

	if (plen == 0)
		return 0;               /* "http://host?q": forwarded as "/?q" */
	if ((n = path_normalize(p, plen)) < 0)
		return -1;
	memmove(p + n, p + plen, qlen);
	m->path.len = (uint16_t)((size_t)n + qlen);
	return 0;
}

/* the user name of an accepted basic auth header, for the access log */
static void
auth_user(struct conn *c, const char *v, size_t n)
{
	char up[64];
	long len = util_b64dec(v + 6, n - 6, up, sizeof(up));
	const char *colon = len > 0 ? memchr(up, ':', (size_t)len) : NULL;

	if (colon)
		util_logcpy(c->log.user, sizeof(c->log.user), up, (size_t)(colon - up));
}

/* the route's access rules: S_NONE, or the status to answer with, why, and the extra
 * header lines it needs (written to extra[0..cap)) */
static int
guarded(struct conn *c, const struct http_msg *m, const char **why, char *extra, size_t cap)
{
	const struct route_rule *r = &conf.routes[c->route];
	const char *p = c->in.p + c->in.fwd;
	int a = http_find(m, H_AUTHORIZATION, 0);
	unsigned retry;

	*why = "address not allowed on this route";
	if (!guard_addr(r, &c->peer))
		return S_FORBIDDEN;
	*why = "request rate exceeded";
	if (!guard_rate(r, c->route, &c->peer, loop_now, &retry)) {
		snprintf(extra, cap, "Retry-After: %u\r\n", retry);
		return S_TOO_MANY;
	}
	*why = a < 0 ? "no credentials" : "wrong credentials";
	if (r->users && (a < 0 || !guard_auth(r, c->route, p + m->f[a].value.off,
	    m->f[a].value.len, loop_now))) {
		snprintf(extra, cap, "WWW-Authenticate: Basic realm=\"%s\", charset=\"UTF-8\"\r\n",
		    r->realm ? r->realm : "pollux");
		return S_UNAUTHORIZED;
	}
	if (r->users && a >= 0)
		auth_user(c, p + m->f[a].value.off, m->f[a].value.len);
	*why = "request body larger than the route allows";
	if (r->max_body && m->framing == HB_LENGTH && m->length > r->max_body)
		return S_PAYLOAD_TOO_LARGE;
	return S_NONE;
}

/* what the route and the request allow before anything is forwarded: S_NONE, or the
 * status to answer with and why */
static int
admit(struct conn *c, const struct http_msg *m, const char **why, char *extra, size_t cap)
{
	const char *p = c->in.p + c->in.fwd;
	int r = route_match(conf.routes, conf.nroutes, p + m->host.off, m->host.len,
	    p + m->path.off, m->path.len);

	*why = "no route";
	if (r < 0)
		return S_NOT_FOUND;
	c->route = (uint16_t)r;
	if (conf.routes[r].cache && conf.cache_len)
		c->cache.x = X_BYPASS;  /* a refusal on a caching route says so too */
	*why = "unsupported Expect";
	if (m->flags & HF_EXPECT_OTHER)
		return S_EXPECTATION_FAILED;
	*why = "CONNECT is not supported";
	if (m->method == M_CONNECT)
		return S_NOT_IMPLEMENTED;
	return guarded(c, m, why, extra, cap);
}

/* rewrites the head in place and starts delimiting the body behind it; 0 when the
 * rewritten head does not fit */
static int
forward_head(struct conn *c, const struct http_msg *m, int cached)
{
	char ip[ADDR_TEXT];
	const struct route_rule *r = &conf.routes[c->route];
	struct fwd_req o = {
		.client_ip = util_ip(&c->peer, ip), .proto = c->tls ? "https" : "http",
		.strip = route_strip_len(r), .add = r->add, .del = r->del,
		.tunnel = (m->flags & HF_UPGRADE) != 0, .http10 = m->version == 10,
		.no_cond = cached == CD_FETCH || cached == CD_REVAL || cached == CD_WAIT,
		.extra = cached == CD_REVAL ? cio_validators(c) : NULL,
	};
	uint32_t tail = c->in.wr - c->in.fwd - m->head_len;
	size_t nh = fwd_request(c->in.p + c->in.fwd, c->in.cap - c->in.fwd, tail, m, &o);

	if (nh == 0)
		return 0;
	c->req_start = c->in.fwd;
	c->req_head_len = (uint32_t)nh;
	c->in.fwd += (uint32_t)nh;
	c->in.wr = c->in.fwd + tail;
	c->flags |= CF_REPLAY;
	http_body_init(&c->rqb, m->framing, m->length);
	return 1;
}

/* ---- the cache ------------------------------------------------------------------- */

/* a fresh entry answers the request: the head is not forwarded, no backend is asked */
static int
hit(struct conn *c, const struct http_msg *m)
{
	c->in.fwd += m->head_len;
	c->in.rd = c->in.fwd;
	c->state = C_PROXY;
	c->rq = RQ_DONE;
	c->rs = RS_HEAD;
	c->cache.mode = CM_SERVE;
	cache_pin(c->cache.entry);
	return MOVED;
}

/* PURGE from an address CACHE_PURGE_FROM allows: drop one key, or all of them for
 * the target "/" "*" */
static int
purge(struct conn *c, const struct http_msg *m)
{
	struct route_rule from = { .allow = conf.purge_from };
	unsigned n;

	if (!conf.purge_from || !guard_addr(&from, &c->peer))
		return conn_error(c, S_FORBIDDEN, "PURGE from an address CACHE_PURGE_FROM does "
		    "not allow");
	n = cio_purge(c->in.p + c->in.fwd, m);
	cache_woke = 1;
	log_info("PURGE %s: %u cache entries removed", c->log.target, n);
	return respond(c, n ? S_OK : S_NOT_FOUND, "");
}

/* writes the served entry's head, then its body, into out as room allows */
static int
serve(struct conn *c)
{
	char line[64];
	int status, r = IDLE;
	uint32_t n;

	if (c->rs == RS_HEAD) {
		if (c->flags & CF_CEOF || conn_draining)
			c->flags &= (uint32_t)~CF_KEEP;
		n = cio_serve_head(c, &c->out, (c->flags & CF_KEEP) != 0,
		    (c->flags & CF_HTTP10) != 0, hsts(c, line, sizeof(line)), &status);
		if (n == 0)
			return IDLE;    /* the previous response still fills out */
		if (c->t0 == 0)
			c->t0 = loop_now;
		c->status = (uint16_t)status;
		c->resp_bytes = n;
		c->rs = RS_BODY;
		r = MOVED;
	}
	if ((n = cio_serve_body(c, &c->out)) > 0) {
		c->resp_bytes += n;
		r = MOVED;
	}
	if (c->cache.cur.left == 0) {
		c->rs = RS_DONE;
		r = MOVED;
	}
	return r;
}

/* a backend's 304 says the stale entry holds: serve it, keep the backend connection */
static int
revalidated(struct conn *c, const struct http_msg *m, size_t tail)
{
	int keep = !(m->flags & HF_CLOSE) && tail == 0 && c->in.rd == c->in.fwd;

	cio_refresh(c, c->out.p + c->out.fwd, m);
	c->out.wr = c->out.fwd;
	drop_up(c, keep);
	c->flags &= (uint32_t)~CF_REPLAY;
	c->cache.mode = CM_SERVE;       /* the revalidation's pin serves */
	cache_woke = 1;
	c->rs = RS_HEAD;
	return MOVED;
}

/* the stale entry changed: its fill replaces it, and its waiters wait for that */
static void
replaced(struct conn *c)
{
	int old = c->cache.entry;
	uint32_t gen = cache_get(old)->gen;
	int e;

	cache_get(old)->reval = 0;
	e = cache_replace(old);
	cache_unpin(old);
	c->cache.x = X_MISS;
	c->cache.mode = e >= 0 ? CM_FILL : CM_NONE;
	c->cache.entry = e;
	CONN_EACH(i) {
		struct conn *w = &conf.conns[i];
		if (e >= 0 && w->state == C_PROXY && w->cache.mode == CM_WAIT && w->cache.entry == old &&
		    w->cache.gen == gen) {
			w->cache.entry = e;
			w->cache.gen = cache_get(e)->gen;
		}
	}
	cache_woke = 1;
}

/* the response head for a fill or a revalidation: 0 to go on forwarding it, or the
 * pump's result when the cache answers instead */
static int
cache_response(struct conn *c, const struct http_msg *m, size_t tail)
{
	if (c->cache.mode == CM_REVAL) {
		if (m->status == S_NOT_MODIFIED)
			return revalidated(c, m, tail);
		replaced(c);
	}
	if (c->cache.mode == CM_FILL && !cio_store_head(c, c->out.p + c->out.fwd, m))
		cache_woke = 1;
	return 0;
}

/* the client's conditionals hold for the response a fill fetched: the client gets a
 * 304 made from the stored head, and the body is read into the entry, not passed on */
static int
fill_not_modified(struct conn *c, const struct http_msg *m, size_t tail)
{
	static char head[4096];
	struct buf h = { .p = head, .cap = sizeof(head) };
	const struct cache_entry *ce = cache_get(c->cache.entry);
	struct buf *b = &c->out;
	char line[64];
	int status;
	uint32_t n;

	if (m->status < 200 || m->status > 299 || !cc_not_modified(&c->cache.req, ce->etag,
	    ce->lm))
		return 0;
	n = cio_serve_head(c, &h, (c->flags & CF_KEEP) != 0, (c->flags & CF_HTTP10) != 0,
	    hsts(c, line, sizeof(line)), &status);
	if (n == 0 || b->fwd + n + tail > b->cap)
		return 0;               /* a 200 is a right answer too */
	memmove(b->p + b->fwd + n, b->p + b->fwd + m->head_len, tail);
	memcpy(b->p + b->fwd, head, n);
	b->fwd += n;
	b->wr = b->fwd + (uint32_t)tail;
	c->status = (uint16_t)status;
	c->resp_bytes = n;
	c->flags = (c->flags & (uint32_t)~CF_REPLAY) | CF_SWALLOW;
	http_body_init(&c->rsb, m->framing, m->length);
	c->rs = RS_BODY;
	return 1;
}

/* a waiter's key was fetched, or not (or it waited long enough: may_hit 0): serve
 * the entry, or ask the backend itself */
static void
stop_wait(struct conn *c, int may_hit)
{
	const struct cache_entry *ce = cache_get(c->cache.entry);

	if (may_hit && ce->gen == c->cache.gen && ce->state == E_READY &&
	    cache_fresh(c->cache.entry, loop_now)) {
		c->in.rd = c->in.fwd;   /* the rewritten head is not sent */
		c->flags &= (uint32_t)~CF_REPLAY;
		c->rq = RQ_DONE;
		c->cache.mode = CM_SERVE;
		c->cache.x = X_HIT;
		cache_pin(c->cache.entry);
	} else {
		c->cache.mode = CM_NONE;
		c->cache.entry = -1;
		if (connect_backend(c) == GONE)
			return;
	}
	pump(c, 0, 0);
}

static int
still_waits(const struct conn *c)
{
	const struct cache_entry *ce = cache_get(c->cache.entry);

	return ce->gen == c->cache.gen && (ce->state == E_FILLING ||
	    (ce->state == E_READY && ce->reval));
}

/* after an event that ended a fill: every waiter whose fill ended goes on */
static void
wake_waiters(void)
{
	while (cache_woke) {
		cache_woke = 0;
		CONN_EACH(i) {
			struct conn *c = &conf.conns[i];
			if (c->state == C_PROXY && c->cache.mode == CM_WAIT && !still_waits(c))
				stop_wait(c, 1);
		}
	}
}

static void
request_flags(struct conn *c, const struct http_msg *m)
{
	c->method = m->method;
	if (m->version == 10)
		c->flags |= CF_HTTP10;
	if (!(m->flags & HF_CLOSE))
		c->flags |= CF_KEEP;
	else
		c->flags |= CF_BYE;
	if (m->flags & HF_UPGRADE)
		c->flags |= CF_UPGRADE;
	if ((m->flags & HF_EXPECT_100) && m->framing != HB_NONE)
		c->flags |= CF_EXPECT;
}

static int
start_request(struct conn *c, long hlen)
{
	int st = http_parse_request(c->in.p + c->in.fwd, (size_t)hlen, &msg), d;
	const char *why;
	char extra[160] = "";

	if (st != S_NONE)
		return conn_error(c, st, "malformed request");
	log_fields(c, &msg);
	request_flags(c, &msg);
	if (conf.listeners[c->listener].redirect_port)
		return redirect(c, &msg);
	if (conf.listeners[c->listener].stats)
		return stats_answer(c, &msg);
	if (normalize_path(c, &msg) < 0)
		return conn_error(c, S_BAD_REQUEST, "path with no normal form");
	if ((st = admit(c, &msg, &why, extra, sizeof(extra))) != S_NONE)
		return conn_refuse(c, st, why, extra);
	if ((d = cio_decide(c, c->in.p + c->in.fwd, &msg)) == CD_PURGE)
		return purge(c, &msg);
	if (d == CD_HIT)
		return hit(c, &msg);
	if (!forward_head(c, &msg, d))
		return conn_error(c, S_HEADERS_TOO_LARGE, "request head too large to forward");
	c->state = C_PROXY;
	c->rq = RQ_BODY;
	c->rs = RS_HEAD;
	if (d == CD_WAIT) {
		c->deadline = loop_now + conf.t_cache_wait;
		return MOVED;
	}
	return connect_backend(c);
}

/* the request line (or what came of it) is longer than MAX_LINE */
static int
line_too_long(const struct buf *b)
{
	const char *p = b->p + b->fwd;
	size_t n = b->wr - b->fwd;
	const char *nl = memchr(p, '\n', n < conf.max_line + 2 ? n : conf.max_line + 2);

	return nl ? (size_t)(nl - p) > conf.max_line + 1 : n > conf.max_line + 1;
}

/* looks for a complete head at in.fwd; answers 414/431/400 when none can come */
static int
read_head(struct conn *c)
{
	struct buf *b = &c->in;
	long n = http_head_len(b->p + b->fwd, b->wr - b->fwd, &c->scan_in);

	if (b->wr > b->fwd && !(c->flags & CF_HEAD_BYTES)) {
		c->flags |= CF_HEAD_BYTES;
		c->deadline = loop_now + conf.t_header;
		c->t0 = loop_now;
	}
	if (n < 0)
		return conn_error(c, S_BAD_REQUEST, "malformed request head");
	if (line_too_long(b))
		return conn_error(c, S_URI_TOO_LONG, "request line too long");
	if (n > 0)
		return start_request(c, n);
	if (b->wr - b->fwd >= head_limit) {
		if (!memchr(b->p + b->fwd, '\n', b->wr - b->fwd))
			return conn_error(c, S_URI_TOO_LONG, "request line too long");
		return conn_error(c, S_HEADERS_TOO_LARGE, "request head too large");
	}
	return IDLE;
}

/* ---- the response head ------------------------------------------------------------ */

/* drops an interim response the client must not see */
static void
drop_head(struct buf *b, size_t len)
{
	memmove(b->p + b->fwd, b->p + b->fwd + len, b->wr - b->fwd - len);
	b->wr -= (uint32_t)len;
}

static int
interim(struct conn *c, const struct http_msg *m)
{
	struct fwd_resp o = { .keepalive = 1 };
	struct buf *b = &c->out;
	size_t nh, tail = b->wr - b->fwd - m->head_len;

	/* pollux answered Expect itself; HTTP/1.0 clients get no 1xx at all */
	if (m->status == 100 || (c->flags & CF_HTTP10)) {
		drop_head(b, m->head_len);
		return MOVED;
	}
	nh = fwd_response(b->p + b->fwd, b->cap - b->fwd, tail, m, &o);
	if (nh == 0)
		return conn_error(c, S_BAD_GATEWAY, "interim response too large");
	b->fwd += (uint32_t)nh;
	b->wr = b->fwd + (uint32_t)tail;        /* the bytes behind the head moved with it */
	return MOVED;
}

static void
enter_tunnel(struct conn *c)
{
	c->state = C_TUNNEL;
	c->in.fwd = c->in.wr;
	c->out.fwd = c->out.wr;
	c->flags &= (uint32_t)~(CF_KEEP | CF_UP_KEEP | CF_REPLAY);
}

static int
final_head(struct conn *c, const struct http_msg *m)
{
	int tunnel = m->status == 101;
	struct buf *b = &c->out;
	size_t nh, tail = b->wr - b->fwd - m->head_len;

	if (tunnel && !(c->flags & CF_UPGRADE))
		return conn_error(c, S_BAD_GATEWAY, "101 to a request without Upgrade");
	if ((c->cache.mode == CM_REVAL || c->cache.mode == CM_FILL) &&
	    (nh = (size_t)cache_response(c, m, tail)) != 0)
		return (int)nh;
	if (m->framing == HB_CLOSE || (c->flags & CF_CEOF) || conn_draining)
		c->flags &= (uint32_t)~CF_KEEP;
	if (!(m->flags & HF_CLOSE) && m->framing != HB_CLOSE && !tunnel)
		c->flags |= CF_UP_KEEP;
	if (c->cache.mode == CM_FILL && fill_not_modified(c, m, tail))
		return MOVED;
	char line[64], extra[96];
	const char *more = hsts(c, line, sizeof(line));
	if (c->cache.x != X_NONE) {     /* joined only on a caching route: no printf else */
		snprintf(extra, sizeof(extra), "%s%s", more, cio_xcache_line(c));
		more = extra;
	}
	struct fwd_resp o = {
		.keepalive = (c->flags & CF_KEEP) != 0, .http10 = (c->flags & CF_HTTP10) != 0,
		.tunnel = tunnel, .extra = more,
	};
	nh = fwd_response(b->p + b->fwd, b->cap - b->fwd, tail, m, &o);
	if (nh == 0)
		return conn_error(c, S_BAD_GATEWAY, "response head too large");
	c->status = m->status;
	c->flags &= (uint32_t)~CF_REPLAY;
	b->fwd += (uint32_t)nh;
	b->wr = b->fwd + (uint32_t)tail;        /* the bytes behind the head moved with it */
	c->resp_bytes = nh;
	if (tunnel) {
		enter_tunnel(c);
		return MOVED;
	}
	http_body_init(&c->rsb, m->framing, m->length);
	c->rs = RS_BODY;
	return MOVED;
}

static int
response_head(struct conn *c)
{
	struct buf *b = &c->out;
	long n = http_head_len(b->p + b->fwd, b->wr - b->fwd, &c->scan_out);

	if (n < 0)
		return conn_error(c, S_BAD_GATEWAY, "malformed response head");
	if (n == 0) {
		if (b->rd == b->fwd && b->wr - b->fwd >= head_limit)
			return conn_error(c, S_BAD_GATEWAY, "response head too large");
		return IDLE;
	}
	c->scan_out = 0;
	if (http_parse_response(b->p + b->fwd, (size_t)n, c->method, &msg) != S_NONE)
		return conn_error(c, S_BAD_GATEWAY, "malformed response");
	if (msg.status < 200 && msg.status != 101)
		return interim(c, &msg);
	return final_head(c, &msg);
}

/* ---- bodies and the end of a request ---------------------------------------------- */

/* delimits newly read body bytes in b; -1 on malformed chunked framing */
static int
scan(struct http_body *hb, struct buf *b, uint64_t *count)
{
	long n;

	if (hb->done || b->fwd == b->wr)
		return 0;
	n = http_body_scan(hb, b->p + b->fwd, b->wr - b->fwd);
	if (n < 0)
		return -1;
	b->fwd += (uint32_t)n;
	if (count)
		*count += (uint64_t)n;
	return 0;
}

/* delimits the response body read so far; a fill stores its data on the way */
static int
body_scan(struct conn *c)
{
	int r;

	struct buf *b = &c->out;
	uint32_t from = b->fwd;
	uint64_t sent = c->resp_bytes;

	if (c->cache.mode != CM_FILL && !(c->flags & CF_SWALLOW))
		return scan(&c->rsb, b, &c->resp_bytes);
	if ((r = cio_tee(c, b)) > 0)
		cache_woke = 1;         /* the fill was dropped: its waiters fetch for themselves */
	if (c->flags & CF_SWALLOW) {    /* the client had its 304: drop what was stored */
		memmove(b->p + from, b->p + b->fwd, b->wr - b->fwd);
		b->wr -= b->fwd - from;
		b->fwd = from;
		c->resp_bytes = sent;
	}
	return r < 0 ? -1 : 0;
}

/* the client connection ends once this response is out */
static int
closes_after(const struct conn *c)
{
	return !(c->flags & CF_KEEP) || c->rq != RQ_DONE || conn_draining;
}

/* the request and its response are both complete: log, recycle, go on */
static int
finish(struct conn *c)
{
	int reuse = (c->flags & CF_UP_KEEP) && c->in.rd == c->in.fwd && c->out.wr == c->out.fwd;

	access_log(c);
	cache_end(c, 1);
	drop_up(c, reuse);
	c->in.rd = c->in.fwd;           /* request bytes the backend did not take */
	c->out.wr = c->out.fwd;         /* bytes after the response: not ours to pass */
	if (closes_after(c)) {
		closing(c);
		return MOVED;
	}
	c->flags |= CF_SERVED;
	request_reset(c);
	return MOVED;
}

/* ---- the pump --------------------------------------------------------------------- */

static uint32_t
in_keep_from(const struct conn *c)
{
	return (c->flags & CF_REPLAY) ? c->req_start : c->in.rd;
}

/* makes room in `in` before a read; a request too long to keep loses its replay */
static void
in_room(struct conn *c, uint32_t limit)
{
	struct buf *b = &c->in;

	if (b->wr == in_keep_from(c)) {
		buf_compact(b, b->wr, &c->req_start);
		return;
	}
	if (b->wr < limit && b->wr < b->cap / 2)
		return;
	if ((c->flags & CF_REPLAY) && c->req_start == 0 && b->wr >= limit)
		c->flags &= (uint32_t)~CF_REPLAY;       /* too long to keep for a retry */
	buf_compact(b, in_keep_from(c), &c->req_start);
}

static void
out_room(struct buf *b, uint32_t limit)
{
	if (b->rd == b->wr || b->wr >= b->cap / 2 || b->wr >= limit)
		buf_compact(b, b->rd, NULL);
}

static int
client_reads(const struct conn *c)
{
	switch (c->state) {
	case C_READ_HEAD:
		return !(c->flags & CF_CEOF);
	case C_PROXY:
		return c->rq == RQ_BODY && !(c->flags & CF_CEOF);
	case C_TUNNEL:
		return !(c->flags & CF_CEOF);
	case C_CLOSING:
		return 1;
	}
	return 0;
}

static uint32_t
in_limit(const struct conn *c)
{
	return c->state == C_READ_HEAD ? head_limit : c->in.cap;
}

static int
up_reads(const struct conn *c)
{
	if (!c->up || c->up->state != U_BUSY || (c->flags & CF_UEOF))
		return 0;
	if (c->state == C_TUNNEL)
		return 1;
	return c->state == C_PROXY && c->rs != RS_DONE;
}

static uint32_t
out_limit(const struct conn *c)
{
	return c->state == C_PROXY && c->rs == RS_HEAD ? head_limit : c->out.cap;
}

/* the client closed its side */
static int
client_eof(struct conn *c)
{
	c->flags |= CF_CEOF;
	if (c->tls && tls_handshaking(c->tls) && tls_heard(c->tls)) {
		char ip[ADDR_TEXT];
		stats.tls_failed++;
		log_warn("%s: TLS handshake failed: the client closed in the middle",
		    util_ip(&c->peer, ip));
		return conn_close(c, 0);
	}
	switch (c->state) {
	case C_READ_HEAD:
		if (c->in.wr > c->in.fwd)
			log_info("client closed in the middle of a request head");
		return conn_close(c, 0);
	case C_PROXY:
		if (c->rq == RQ_DONE)
			return MOVED;
		c->status = c->status ? c->status : S_BAD_REQUEST;
		return conn_abort(c, "client closed during the request body");
	case C_CLOSING:
		return out_flushed(c) ? conn_close(c, 0) : MOVED;
	}
	return MOVED;
}

/* reads from the client into b up to limit, through the TLS engine when there is one */
static long
cread(struct conn *c, struct buf *b, uint32_t limit)
{
	long n;

	if (!c->tls)
		n = buf_read(c->fd, b, limit);
	else if (b->wr >= limit)
		return 0;
	else if ((n = tls_read(c->tls, c->fd, b->p + b->wr, limit - b->wr)) > 0)
		b->wr += (uint32_t)n;
	if (n > 0)
		stats.bytes_in += (uint64_t)n;
	return n;
}

/* the response has more bytes of a known length to come than what is queued now */
static int
response_goes_on(const struct conn *c)
{
	if (c->state != C_PROXY || c->rs != RS_BODY)
		return 0;
	if (c->cache.mode == CM_SERVE)
		return c->cache.cur.left > 0;
	return c->rsb.mode == HB_LENGTH && !c->rsb.done && !(c->flags & CF_SWALLOW);
}

/*
 * what is queued now is the last the client gets before our FIN: the response is
 * complete and the connection ends after it (finish), or it is closing already. Sent
 * with MSG_MORE, the tail stays in the socket until the FIN, which close(2) or
 * shutdown(2) sends as soon as the buffer has left (settle), and the FIN rides on the
 * last data segment: one segment less for the client to take and acknowledge. Over
 * TLS the close_notify (client_shut) joins them: one segment where there were three.
 */
static int
fin_follows(const struct conn *c)
{
	if (c->state == C_CLOSING)
		return 1;
	return c->state == C_PROXY && c->rs == RS_DONE && closes_after(c);
}

static long
cwrite(struct conn *c, struct buf *b)
{
	long n;

	if (c->rsp.queued) {            /* the buffer was empty when the pipe began */
		if ((n = pipe_flush(&c->rsp, c->fd, &c->rsb, closes_after(c))) > 0) {
			c->resp_bytes += (uint64_t)n;
			stats.spliced_out += (uint64_t)n;
		}
	} else if (!c->tls)
		n = buf_write(c->fd, b, response_goes_on(c) || fin_follows(c));
	else if (b->rd == b->fwd)
		return tls_flush(c->tls, c->fd, fin_follows(c));
	else if ((n = tls_write(c->tls, c->fd, b->p + b->rd, b->fwd - b->rd, fin_follows(c))) > 0)
		b->rd += (uint32_t)n;
	if (n > 0)
		stats.bytes_out += (uint64_t)n;
	return n;
}

/* a TLS error that ends the connection: the handshake failed, or a record was bad */
static int
tls_failed(struct conn *c)
{
	char ip[ADDR_TEXT];

	if (tls_handshaking(c->tls)) {
		stats.tls_failed++;
		log_warn("%s: TLS handshake failed: %s", util_ip(&c->peer, ip), tls_error(c->tls));
		return conn_close(c, 0);
	}
	return conn_abort(c, tls_error(c->tls));
}

static int
client_read(struct conn *c)
{
	long n;

	if (c->state == C_CLOSING) {
		c->in.rd = c->in.fwd = c->in.wr = 0;   /* lingering: read and drop */
		n = cread(c, &c->in, c->in.cap);
	} else {
		in_room(c, in_limit(c));
		n = cread(c, &c->in, in_limit(c));
	}
	if (n > 0) {
		c->flags |= CF_CMOVED;
		return MOVED;
	}
	if (n == IO_EOF)
		return client_eof(c);
	if (n == IO_ERR && c->tls && tls_error(c->tls)[0])
		return tls_failed(c);
	if (n == IO_ERR)
		return c->state == C_READ_HEAD && c->in.wr == c->in.fwd ? conn_close(c, 0) :
		    conn_abort(c, "client connection reset");
	return IDLE;
}

/* the request body goes by splice, once the backend is connected. Its bytes then pass
 * without a copy kept, so the request can no longer be replayed on a retry (one with
 * more than a buffer of body left could not have been anyway). */
static int
rq_piping(struct conn *c)
{
	if (c->rq != RQ_BODY || (c->flags & CF_UPGRADE) || !c->up || c->up->state != U_BUSY ||
	    !pipe_begin(c, &c->rqp, &c->rqb, &c->in))
		return 0;
	c->flags &= (uint32_t)~CF_REPLAY;
	return 1;
}

/* client -> the request body's pipe */
static int
client_splice(struct conn *c)
{
	long n = pipe_fill(&c->rqp, c->fd, &c->rqb);

	if (n > 0) {
		stats.bytes_in += (uint64_t)n;
		c->flags |= CF_CMOVED;
		return MOVED;
	}
	if (n == IO_EOF)
		return client_eof(c);
	if (n == IO_ERR)
		return conn_abort(c, "client connection reset");
	return IDLE;
}

static int
idempotent(int method)
{
	return method == M_GET || method == M_HEAD || method == M_OPTIONS || method == M_PUT ||
	    method == M_DELETE || method == M_TRACE;
}

/* once more on another connection: only before any response byte, with the request
 * still whole in the buffer, and for a request that may be repeated (idempotent, or no
 * body byte sent, or a connect that failed so nothing was sent at all) */
static int
may_retry(const struct conn *c, int connect_failed)
{
	if ((c->flags & (CF_RETRIED | CF_REPLAY)) != CF_REPLAY)
		return 0;
	if (c->rs != RS_HEAD || c->out.wr != c->out.fwd)
		return 0;
	return connect_failed || idempotent(c->method) ||
	    c->in.rd <= c->req_start + c->req_head_len;
}

/* once more, to another live backend when there is one, on a new connection; the
 * failed backend's idle connections go too (it may have restarted) */
static int
retry(struct conn *c, const char *why)
{
	int failed = c->be, be;

	c->flags |= CF_RETRIED;
	if (c->up && c->up->reused)
		up_drop_idle((unsigned)failed);
	drop_up(c, 0);
	c->in.rd = c->req_start;
	be = pool_pick_other(conf.routes[c->route].pool, &c->peer, loop_now, failed);
	if (be < 0 && pool_be((unsigned)failed)->down_until == 0 && !pool_be((unsigned)failed)->check_down)
		be = failed;            /* the only live one: a fresh connection to it */
	if (be < 0)
		return conn_error(c, S_BAD_GATEWAY, why);
	log_info("retrying \"%s %s\" on %s after: %s", c->log.method, c->log.target,
	    pool_be((unsigned)be)->name, why);
	c->be = (uint16_t)be;
	c->up = up_get_fresh((unsigned)be, c);
	if (!c->up)
		return conn_error(c, S_BAD_GATEWAY, why);
	return MOVED;
}

/* a backend failure: before the response, retry or answer 502; after it began, the
 * client can only be cut off */
static int
up_failed(struct conn *c, const char *why, int err, int connect_failed)
{
	if (c->state == C_TUNNEL)
		return conn_close(c, err);
	/* a fresh connection dropped before any response byte: the backend is at fault
	 * (a reused one may just have been closed while idle) */
	if (c->rs == RS_HEAD && c->out.wr == c->out.fwd && c->up && !c->up->reused &&
	    !connect_failed)
		pool_down(c->be, loop_now, why);
	if (may_retry(c, connect_failed))
		return retry(c, why);
	if (c->rs != RS_HEAD || c->out.wr != c->out.fwd)
		return conn_abort(c, why);
	return conn_error(c, S_BAD_GATEWAY, why);
}

static int
up_eof(struct conn *c)
{
	if (c->state == C_TUNNEL) {
		c->flags |= CF_UEOF;
		return MOVED;
	}
	if (c->rs == RS_BODY && c->rsb.mode == HB_CLOSE) {
		c->rsb.done = 1;
		c->flags &= (uint32_t)~CF_UP_KEEP;
		return MOVED;
	}
	return up_failed(c, c->rs == RS_BODY ? "backend closed in the middle of the body" :
	    "backend closed before responding", 0, 0);
}

static int
up_read(struct conn *c)
{
	long n;

	out_room(&c->out, out_limit(c));
	n = buf_read(c->up->fd, &c->out, out_limit(c));
	if (n > 0) {
		c->flags |= CF_UMOVED;
		return MOVED;
	}
	if (n == IO_EOF)
		return up_eof(c);
	if (n == IO_ERR) {
		if (c->state == C_PROXY && c->rs == RS_BODY && c->rsb.mode == HB_CLOSE)
			return conn_abort(c, "backend reset a close-delimited body");
		return up_failed(c, strerror(errno), 1, 0);
	}
	return IDLE;
}

/* the response body goes by splice (not one the cache takes after a 304) */
static int
rs_piping(struct conn *c)
{
	return c->rs == RS_BODY && !(c->flags & CF_SWALLOW) &&
	    pipe_begin(c, &c->rsp, &c->rsb, &c->out);
}

/* backend -> the response body's pipe */
static int
up_splice(struct conn *c)
{
	long n = pipe_fill(&c->rsp, c->up->fd, &c->rsb);

	if (n > 0) {
		c->flags |= CF_UMOVED;
		return MOVED;
	}
	if (n == IO_EOF)
		return up_eof(c);
	if (n == IO_ERR)
		return up_failed(c, strerror(errno), 1, 0);
	return IDLE;
}

static int
up_write(struct conn *c)
{
	long n;

	if (c->rqp.queued) {            /* the buffer was empty when the pipe began */
		if ((n = pipe_flush(&c->rqp, c->up->fd, &c->rqb, 0)) > 0)
			stats.spliced_in += (uint64_t)n;
	} else
		n = buf_write(c->up->fd, &c->in, c->state == C_PROXY && c->rq == RQ_BODY &&
		    c->rqb.mode == HB_LENGTH && !c->rqb.done);
	if (n > 0) {
		c->flags |= CF_UMOVED;
		return MOVED;
	}
	if (n == IO_AGAIN)
		c->flags |= CF_UBLOCK;
	if (n == IO_ERR) {
		/* the backend may have answered early and closed: read what it sent */
		if (c->state == C_PROXY && c->rs != RS_HEAD)
			return conn_abort(c, "backend stopped reading the request");
		return up_failed(c, strerror(errno), 1, 0);
	}
	return IDLE;
}

static int
client_write(struct conn *c)
{
	long n = cwrite(c, &c->out);

	if (n > 0) {
		c->flags |= CF_CMOVED;
		return MOVED;
	}
	if (n == IO_AGAIN)
		c->flags |= CF_CBLOCK;
	if (n == IO_ERR && c->tls && tls_error(c->tls)[0])
		return tls_failed(c);
	if (n == IO_ERR)
		return conn_abort(c, "client went away");
	return IDLE;
}

/* ends writing to the client: close_notify first on TLS, FIN once it has left */
static void
client_shut(struct conn *c)
{
	if (c->flags & CF_CSHUT)
		return;
	if (c->tls && !(c->flags & CF_TLS_CLOSE)) {
		c->flags |= CF_TLS_CLOSE;
		tls_close(c->tls);
		tls_flush(c->tls, c->fd, 1);    /* the shutdown below sends it with the FIN */
	}
	if (c->tls && tls_pending(c->tls))
		return;
	shutdown(c->fd, SHUT_WR);
	c->flags |= CF_CSHUT;
}

/* sends the owed 100 Continue once the backend is reachable */
static void
expect_continue(struct conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

	if (!(c->flags & CF_EXPECT) || !c->up || c->up->state != U_BUSY)
		return;
	c->flags &= (uint32_t)~CF_EXPECT;
	if (c->rs == RS_HEAD && c->out.wr == c->out.fwd && !c->rqb.done)
		buf_put(&c->out, cont, sizeof(cont) - 1);
}

/* advances parsing on both sides; returns GONE, IDLE or MOVED */
static int
process(struct conn *c)
{
	int r = IDLE;

	if (c->state == C_READ_HEAD && c->in.wr > c->in.fwd)
		if ((r = read_head(c)) == GONE)
			return GONE;
	if (c->state == C_PROXY && c->rq == RQ_BODY) {
		uint64_t max = conf.routes[c->route].max_body;
		if (scan(&c->rqb, &c->in, NULL) < 0)
			return conn_error(c, S_BAD_REQUEST, "malformed chunked request body");
		if (max && c->rqb.data > max)
			return conn_error(c, S_PAYLOAD_TOO_LARGE, "request body over the route's limit");
		if (c->rqb.done) {
			c->rq = RQ_DONE;
			c->flags &= (uint32_t)~CF_EXPECT;
		}
	}
	if (c->state == C_PROXY && c->cache.mode == CM_SERVE) {
		if (c->rs != RS_DONE)
			r |= serve(c);
	} else if (c->state == C_PROXY && c->rs == RS_HEAD && c->out.wr > c->out.fwd) {
		int s = response_head(c);
		if (s == GONE)
			return GONE;
		r |= s;
	}
	if (c->state == C_PROXY && c->rs == RS_BODY && c->cache.mode != CM_SERVE) {
		if (body_scan(c) < 0)
			return conn_abort(c, "malformed chunked response body");
		if (c->rsb.done)
			c->rs = RS_DONE;
	}
	if (c->state == C_TUNNEL) {
		c->in.fwd = c->in.wr;
		c->out.fwd = c->out.wr;
	}
	expect_continue(c);
	return r;
}

/* the end of a request, a tunnel or a lingering close */
static int
settle(struct conn *c)
{
	if (c->state == C_PROXY && c->rs == RS_DONE &&
	    (c->rq == RQ_DONE || c->out.rd == c->out.fwd))
		return finish(c);
	if (c->state == C_TUNNEL) {
		if ((c->flags & CF_CEOF) && !(c->flags & CF_USHUT) && c->in.rd == c->in.fwd) {
			shutdown(c->up->fd, SHUT_WR);
			c->flags |= CF_USHUT;
		}
		if ((c->flags & CF_UEOF) && out_flushed(c))
			client_shut(c);
		if ((c->flags & CF_USHUT) && (c->flags & CF_CSHUT))
			return conn_close(c, 0);
	}
	if (c->state == C_CLOSING && c->out.rd == c->out.fwd) {
		if (c->flags & CF_NO_LINGER)
			return conn_close(c, 0);        /* close(2) sends the FIN itself */
		client_shut(c);
	}
	return IDLE;
}

static int
on_connect(struct conn *c)
{
	char why[96];

	if (up_connected(c->up) == 0)
		return MOVED;
	strcpy(why, "connect: ");
	strncat(why, strerror(errno), sizeof(why) - 10);
	pool_down(c->be, loop_now, why);
	return up_failed(c, why, 0, 1);
}

/* one pass over both sockets */
static int
step(struct conn *c, short *crev, short *urev)
{
	int r = IDLE, s;

	if (c->up && c->up->state == U_CONNECTING) {
		if (!(*urev & (POLLOUT | POLLERR | POLLHUP)))
			goto client;
		*urev = 0;
		if ((r = on_connect(c)) == GONE)
			return GONE;
	}
	if ((*urev & (POLLIN | POLLHUP | POLLERR)) && up_reads(c) && !c->rsp.queued) {
		*urev = 0;
		if ((s = rs_piping(c) ? up_splice(c) : up_read(c)) == GONE)
			return GONE;
		r |= s;
	}
client:
	if (c->tls && (*crev & POLLOUT) && tls_flush(c->tls, c->fd, fin_follows(c)) == IO_ERR)
		return conn_abort(c, "client went away");
	if (((*crev & (POLLIN | POLLHUP | POLLERR)) || (c->tls && tls_ready(c->tls))) &&
	    client_reads(c) && !c->rqp.queued) {
		*crev = 0;
		if ((s = rq_piping(c) ? client_splice(c) : client_read(c)) == GONE)
			return GONE;
		r |= s;
	}
	if ((s = process(c)) == GONE)
		return GONE;
	r |= s;
	if (c->up && c->up->state == U_BUSY && (c->in.rd < c->in.fwd || c->rqp.queued) &&
	    !(c->flags & CF_UBLOCK)) {
		if ((s = up_write(c)) == GONE)
			return GONE;
		r |= s;
	}
	if ((c->out.rd < c->out.fwd || c->rsp.queued || (c->tls && tls_pending(c->tls))) &&
	    !(c->flags & CF_CBLOCK)) {
		if ((s = client_write(c)) == GONE)
			return GONE;
		r |= s;
	}
	if ((s = settle(c)) == GONE)
		return GONE;
	return r | s;
}

/* ---- poll events and deadlines ---------------------------------------------------- */

/* the request is sent (or on its way) and nothing of the response has come yet */
static int
waits_for_head(const struct conn *c)
{
	return c->state == C_PROXY && c->rs == RS_HEAD && !client_reads(c) &&
	    c->out.wr == c->out.fwd;
}

static int
client_waits(const struct conn *c)
{
	return c->state == C_READ_HEAD || c->state == C_CLOSING || c->out.rd < c->out.fwd ||
	    c->rsp.queued || c->state == C_TUNNEL || (c->state == C_PROXY && c->rq == RQ_BODY &&
	    c->in.wr < c->in.cap && !c->rqp.queued);
}

static void
arm_client(struct conn *c)
{
	int rd = client_reads(c) && !c->rqp.queued && (c->state == C_CLOSING ||
	    c->in.wr < in_limit(c) || c->in.rd > 0);
	int wr = c->out.rd < c->out.fwd || c->rsp.queued;
	short ev = (short)((rd ? POLLIN : 0) | (wr ? POLLOUT : 0));
	uint32_t t = conf.t_body;

	if (c->tls)
		ev = tls_events(c->tls, rd, wr);
	loop_want(c->pfd, ev);      /* waiting for a response head: parked, see watch_hangup */
	if (c->state == C_READ_HEAD || c->state == C_CLOSING || c->cache.mode == CM_WAIT)
		return;                 /* set when the head began, the close, or the wait */
	if (c->state == C_TUNNEL)
		t = conf.t_tunnel;
	if (!client_waits(c))
		c->deadline = 0;
	else if ((c->flags & CF_CMOVED) || c->deadline == 0)
		c->deadline = loop_now + t;
}

static void
arm_up(struct conn *c)
{
	struct up *u = c->up;
	short ev = 0;
	uint32_t t = c->rs == RS_HEAD ? conf.t_first_byte : conf.t_body;

	if (!u || u->state == U_CONNECTING)
		return;
	if (up_reads(c) && !c->rsp.queued && (c->out.wr < out_limit(c) || c->out.rd > 0))
		ev |= POLLIN;
	if (c->in.rd < c->in.fwd || c->rqp.queued)
		ev |= POLLOUT;
	loop_want(u->pfd, ev);
	if (c->state == C_TUNNEL)
		t = conf.t_tunnel;
	if (!ev)
		u->deadline = 0;
	else if ((c->flags & CF_UMOVED) || u->deadline == 0)
		u->deadline = loop_now + t;
}

static int
pump(struct conn *c, short crev, short urev)
{
	int r;

	c->flags &= (uint32_t)~(CF_CMOVED | CF_UMOVED | CF_CBLOCK | CF_UBLOCK);
	do
		if ((r = step(c, &crev, &urev)) == GONE)
			return GONE;
	while (r == MOVED);
	arm_client(c);
	arm_up(c);
	return IDLE;
}

void
conn_event(struct conn *c, short revents)
{
	if ((revents & (POLLHUP | POLLERR | POLLRDHUP)) && !client_reads(c) &&
	    c->out.rd == c->out.fwd && !c->rsp.queued) {
		if (c->state == C_PROXY && !c->status)
			c->status = 499;        /* for the log: the client gave up */
		conn_abort(c, "client connection closed");
		wake_waiters();
		return;
	}
	pump(c, revents, 0);
	wake_waiters();
}

void
conn_up_event(struct conn *c, short revents)
{
	pump(c, 0, revents);
	wake_waiters();
}

/* ---- deadlines -------------------------------------------------------------------- */

static void
client_timeout(struct conn *c)
{
	char ip[ADDR_TEXT];

	if (c->tls && tls_handshaking(c->tls)) {
		stats.tls_failed++;
		log_warn("%s: TLS handshake not complete in time", util_ip(&c->peer, ip));
		conn_close(c, 0);
	} else if (c->state == C_READ_HEAD && c->in.wr > c->in.fwd)
		conn_error(c, 408, "request head not complete in time");
	else if (c->state == C_READ_HEAD || c->state == C_CLOSING)
		conn_close(c, 0);
	else if (c->cache.mode == CM_WAIT) {
		log_info("\"%s %s\": waited %ums for another request's fetch; fetching itself",
		    c->log.method, c->log.target, conf.t_cache_wait);
		stop_wait(c, 0);
	} else
		conn_abort(c, "client made no progress in time");
}

static void
up_timeout(struct conn *c)
{
	if (c->up->state == U_CONNECTING) {
		pool_down(c->be, loop_now, "connect timed out");
		conn_error(c, S_GATEWAY_TIMEOUT, "backend connect timed out");
	} else if (c->state == C_PROXY && c->rs == RS_HEAD) {
		pool_down(c->be, loop_now, "no response in time");
		conn_error(c, S_GATEWAY_TIMEOUT, "backend sent no response in time");
	} else {
		conn_abort(c, "backend made no progress in time");
	}
}

/*
 * A client whose response head is awaited is not polled at first: most answers come
 * within a sweep, and a busy loop would scan its socket every round for nothing. The
 * sweep then watches it for a hang-up (POLLRDHUP), so a client that gives up frees its
 * slot within a sweep or two instead of holding it until the backend's timeout.
 */
static void
watch_hangup(struct conn *c)
{
	if (waits_for_head(c))
		loop_want(c->pfd, loop_wanted(c->pfd) | POLLRDHUP);
}

void
conn_sweep(int64_t now)
{
	CONN_EACH(i) {
		struct conn *c = &conf.conns[i];
		if (c->state == C_FREE)
			continue;
		if (c->deadline && c->deadline <= now) {
			client_timeout(c);
			if (c->state == C_FREE)
				continue;
			if (c->state == C_CLOSING)
				pump(c, 0, 0);
		} else if (c->up && c->up->deadline && c->up->deadline <= now) {
			up_timeout(c);
			if (c->state == C_CLOSING)
				pump(c, 0, 0);
		} else
			watch_hangup(c);
	}
	wake_waiters();
}

void
conn_drain(void)
{
	conn_draining = 1;
	CONN_EACH(i) {
		struct conn *c = &conf.conns[i];
		if (c->state == C_READ_HEAD && c->in.wr == c->in.fwd && c->out.rd == c->out.fwd &&
		    !(c->tls && tls_handshaking(c->tls)))
			conn_close(c, 0);       /* idle: nothing in flight */
	}
}

unsigned
conn_busy(void)
{
	unsigned n = 0;

	CONN_EACH(i)
		n += conf.conns[i].state != C_FREE;
	return n;
}

void
conn_shutdown(void)
{
	CONN_EACH(i)
		if (conf.conns[i].state != C_FREE)
			conn_close(&conf.conns[i], 0);
}
