/*
 * upstream.c: the backend connection slots and the per-backend idle lists. The idle
 * list is a stack: the most recently used connection is reused first, the least
 * recently used is closed first when the list is full or the idle time runs out.
 * An idle connection is parked in the poll table (poll skips it, so a busy loop does
 * not scan it every round). Any sign of life on it means the backend closed it (or
 * broke protocol): every sweep looks at all idle connections at once without waiting
 * and closes those, and one idle for a second or more is looked at again, with a
 * non-blocking peek, before it is reused. What is left is the race every proxy has
 * (a backend that closes just as a request goes out), which conn.c's retry covers.
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "pool.h"
#include "upstream.h"

#define PROBE_AFTER_MS 1000     /* idle this long: peek before reuse */
#define REAP_BATCH 64           /* idle connections looked at per poll(2) */

static int32_t free_head = -1;

static struct up **
idle_list(unsigned be)
{
	return conf.idle + (size_t)be * conf.idle_per_backend;
}

void
up_init(void)
{
	free_head = -1;
	for (unsigned i = conf.nups; i-- > 0;) {
		conf.ups[i].state = U_FREE;
		conf.ups[i].fd = -1;
		conf.ups[i].next_free = free_head;
		free_head = (int32_t)i;
	}
}

static struct up *
slot_take(void)
{
	if (free_head < 0)
		return NULL;
	struct up *u = &conf.ups[free_head];
	free_head = u->next_free;
	return u;
}

static void
slot_give(struct up *u)
{
	u->state = U_FREE;
	u->fd = -1;
	u->c = NULL;
	u->next_free = free_head;
	free_head = (int32_t)(u - conf.ups);
}

static struct up *
idle_pop(unsigned be)
{
	uint16_t *n = &conf.nidle[be];

	return *n ? idle_list(be)[--*n] : NULL;
}

/* removes u from its backend's idle list, wherever it is */
static void
idle_remove(struct up *u)
{
	struct up **l = idle_list(u->be);
	uint16_t *n = &conf.nidle[u->be];

	for (unsigned i = 0; i < *n; i++) {
		if (l[i] == u) {
			for (; i + 1 < *n; i++)
				l[i] = l[i + 1];
			--*n;
			return;
		}
	}
}

static struct up *
connect_new(unsigned be, struct conn *c)
{
	struct pool_be *b = pool_be(be);
	struct up *u = slot_take();
	int fd;

	if (!u) {
		errno = EAGAIN;
		return NULL;
	}
	fd = util_socket(b->sa.ip.sa.sa_family);
	if (fd < 0 || (connect(fd, &b->sa.ip.sa, b->salen) < 0 && errno != EINPROGRESS &&
	    errno != EAGAIN) || loop_add(fd, POLLOUT, LK_UP, u, &u->pfd) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		slot_give(u);
		errno = e;
		return NULL;
	}
	u->fd = fd;
	u->be = (uint16_t)be;
	u->state = U_CONNECTING;
	b->nbusy++;
	u->reused = 0;
	u->c = c;
	u->deadline = loop_now + conf.t_connect;
	return u;
}

struct up *
up_get_fresh(unsigned be, struct conn *c)
{
	return connect_new(be, c);
}

void
up_drop_idle(unsigned be)
{
	while (conf.nidle[be])
		up_close(idle_list(be)[0], 0);
}

/* an idle connection the backend has not closed, as far as a look can tell */
static int
still_open(const struct up *u)
{
	char b;

	if (loop_now - (u->deadline - conf.t_up_idle) < PROBE_AFTER_MS)
		return 1;       /* the last sweep saw it open */
	return recv(u->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK);
}

struct up *
up_get(unsigned be, struct conn *c)
{
	struct up *u;

	while ((u = idle_pop(be)) && !still_open(u))
		up_close(u, 0);
	if (!u)
		return connect_new(be, c);
	u->state = U_BUSY;
	u->reused = 1;
	u->c = c;
	u->deadline = 0;
	pool_be(be)->nbusy++;
	return u;
}

int
up_connected(struct up *u)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		errno = err;
		return -1;
	}
	u->state = U_BUSY;
	return 0;
}

/* a connection stops counting as busy for its backend */
static void
unbusy(struct up *u)
{
	if ((u->state == U_CONNECTING || u->state == U_BUSY) && pool_be(u->be)->nbusy)
		pool_be(u->be)->nbusy--;
}

void
up_close(struct up *u, int abort)
{
	unbusy(u);
	if (u->state == U_IDLE)
		idle_remove(u);
	loop_del(u->pfd);
	if (abort)
		util_abort_close(u->fd);
	else
		close(u->fd);
	slot_give(u);
}

void
up_release(struct up *u, int reusable)
{
	uint16_t *n = &conf.nidle[u->be];

	if (!reusable || conf.idle_per_backend == 0) {
		up_close(u, 0);
		return;
	}
	if (*n == conf.idle_per_backend)
		up_close(idle_list(u->be)[0], 0);       /* the least recently used */
	unbusy(u);
	u->state = U_IDLE;
	u->c = NULL;
	u->deadline = loop_now + conf.t_up_idle;
	loop_want(u->pfd, 0);
	idle_list(u->be)[(*n)++] = u;
}

/* closes the idle connections of backend be that show any event: EOF, an error, or
 * bytes nobody asked for; one poll(2) without waiting per REAP_BATCH of them */
static void
reap_closed(unsigned be)
{
	struct up **l = idle_list(be);
	struct pollfd p[REAP_BATCH];

	for (unsigned i = 0; i < conf.nidle[be];) {
		unsigned n = conf.nidle[be] - i, gone = 0;
		if (n > REAP_BATCH)
			n = REAP_BATCH;
		for (unsigned k = 0; k < n; k++)
			p[k] = (struct pollfd){ .fd = l[i + k]->fd, .events = POLLIN };
		if (poll(p, n, 0) > 0) {
			/* backwards: closing one moves those after it down */
			for (unsigned k = n; k-- > 0;)
				if (p[k].revents) {
					up_close(l[i + k], 0);
					gone++;
				}
		}
		i += n - gone;
	}
}

void
up_sweep(int64_t now)
{
	for (unsigned be = 0; be < conf.nbackends; be++) {
		/* the oldest idle connections sit at the bottom of the stack */
		while (conf.nidle[be] && idle_list(be)[0]->deadline <= now)
			up_close(idle_list(be)[0], 0);
		reap_closed(be);
	}
}
