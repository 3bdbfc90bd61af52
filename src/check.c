/*
 * check.c: the active health checker. A check is connect, one small GET with
 * "Connection: close", and the first bytes of the answer: "HTTP/1.x NNN" with NNN in
 * the pool's accepted range is good; a refused or failed connect, an error, a close
 * before the status line, or no answer within the interval (at most T_CONNECT for the
 * connect) is bad. First checks are spread over the interval so a restart does not
 * fire them all at once.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "pool.h"

enum { K_IDLE, K_CONNECT, K_READ };

static unsigned
index_of(const struct check *k)
{
	return (unsigned)(k - conf.checks);
}

static const struct conf_pool *
pool_of(unsigned be)
{
	return &conf.pools[conf.backends[be].pool];
}

static uint32_t
every(unsigned be)
{
	uint32_t e = pool_of(be)->check_every;

	return e ? e : 2000;
}

void
check_init(void)
{
	for (unsigned i = 0; i < conf.nbackends; i++) {
		struct check *k = &conf.checks[i];
		memset(k, 0, sizeof(*k));
		k->fd = -1;
		k->state = K_IDLE;
		k->next = pool_of(i)->check_path ? loop_now + every(i) * (i + 1) / (conf.nbackends + 1)
		    : 0;
	}
}

static void
finish(struct check *k, int ok, const char *why)
{
	unsigned be = index_of(k);

	if (k->fd >= 0) {
		loop_del(k->pfd);
		close(k->fd);
	}
	k->fd = -1;
	k->state = K_IDLE;
	k->next = loop_now + every(be);
	pool_check(be, ok, why);
}

static void
start(struct check *k)
{
	struct pool_be *b = pool_be(index_of(k));
	int fd = util_socket(b->sa.ip.sa.sa_family);

	if (fd < 0) {
		finish(k, 0, strerror(errno));
		return;
	}
	k->fd = fd;
	k->len = 0;
	if ((connect(fd, &b->sa.ip.sa, b->salen) < 0 && errno != EINPROGRESS && errno != EAGAIN)
	    || loop_add(fd, POLLOUT, LK_CHECK, k, &k->pfd) < 0) {
		close(fd);
		k->fd = -1;
		finish(k, 0, strerror(errno));
		return;
	}
	k->state = K_CONNECT;
	k->deadline = loop_now + (every(index_of(k)) < conf.t_connect ? every(index_of(k)) :
	    conf.t_connect);
}

/* connected: send the request in one write (it is small) */
static void
send_request(struct check *k)
{
	unsigned be = index_of(k);
	const struct conf_backend *c = &conf.backends[be];
	char req[512];
	int err = 0;
	socklen_t len = sizeof(err);

	getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		finish(k, 0, strerror(err));
		return;
	}
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: "
	    "pollux-check\r\nConnection: close\r\n\r\n", pool_of(be)->check_path,
	    c->addr[0] == '/' ? "localhost" : c->addr);
	if (n < 0 || (size_t)n >= sizeof(req) || send(k->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
		finish(k, 0, "cannot send the check request");
		return;
	}
	k->state = K_READ;
	k->deadline = loop_now + every(be);
	loop_want(k->pfd, POLLIN);
}

static void
read_status(struct check *k)
{
	const struct conf_pool *p = pool_of(index_of(k));
	unsigned min = p->check_min ? p->check_min : 200, max = p->check_max ? p->check_max : 399;
	ssize_t n = read(k->fd, k->line + k->len, 12 - k->len);
	char why[64];

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		finish(k, 0, n == 0 ? "closed before the status line" : strerror(errno));
		return;
	}
	k->len += (uint8_t)n;
	if (k->len < 12)
		return;
	unsigned status = 0;
	for (int i = 9; i < 12; i++)
		status = status * 10 + (unsigned)(k->line[i] - '0');
	if (memcmp(k->line, "HTTP/1.", 7) != 0 || k->line[8] != ' ' || k->line[9] < '1' ||
	    k->line[9] > '5' || k->line[10] < '0' || k->line[10] > '9' || k->line[11] < '0' ||
	    k->line[11] > '9') {
		finish(k, 0, "not an HTTP response");
		return;
	}
	snprintf(why, sizeof(why), "status %u", status);
	finish(k, status >= min && status <= max, why);
}

void
check_event(struct check *k, short revents)
{
	if (k->state == K_CONNECT && (revents & (POLLOUT | POLLERR | POLLHUP)))
		send_request(k);
	else if (k->state == K_READ && (revents & (POLLIN | POLLERR | POLLHUP)))
		read_status(k);
}

void
check_sweep(int64_t now)
{
	for (unsigned i = 0; i < conf.nbackends; i++) {
		struct check *k = &conf.checks[i];
		if (k->state != K_IDLE && k->deadline <= now)
			finish(k, 0, "no answer in time");
		else if (k->state == K_IDLE && k->next && k->next <= now)
			start(k);
	}
}
