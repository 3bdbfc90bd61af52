/*
 * loop.c: one poll() over a dense table of entries. Removing an entry during dispatch
 * only marks it dead (fd -1, no events), so indices never shift under the dispatcher
 * and stale events never reach a slot's next owner; dead entries are packed away after
 * each dispatch. An entry that wants no events is parked with a negative fd, which
 * poll() ignores, so a hang-up we are not waiting on cannot spin the loop. Deadlines
 * are swept a few times a second; at this size a scan beats a timer heap.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "stats.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

#define LK_DEAD 0xff
#define SWEEP_MS 100
#define ACCEPT_BATCH 64
#define ACCEPT_STREAK 8

static uint32_t rounds;         /* poll rounds so far */

int loop_running;
int64_t loop_now;

static unsigned npfd;
static unsigned ndead;
static int fds[64];             /* listener sockets, indexed like conf.listeners */
static uint8_t deferred[64];    /* TCP_DEFER_ACCEPT is on: accepted sockets have data */
static uint16_t lpfd[64];       /* their poll entries */
static volatile sig_atomic_t stop;
static volatile sig_atomic_t hup;
static volatile sig_atomic_t usr1;

int
loop_add(int fd, short events, int kind, void *obj, uint16_t *back)
{
	if (npfd == conf.npfd)
		return -1;
	conf.pfd[npfd] = (struct pollfd){ .fd = events ? fd : ~fd, .events = events };
	conf.own[npfd] = (struct loop_own){ .kind = (uint8_t)kind, .obj = obj, .back = back };
	*back = (uint16_t)npfd;
	npfd++;
	return 0;
}

void
loop_want(uint16_t i, short events)
{
	struct pollfd *p = &conf.pfd[i];
	int fd = p->fd < 0 ? ~p->fd : p->fd;

	p->events = events;
	p->fd = events ? fd : ~fd;
}

short
loop_wanted(uint16_t i)
{
	return conf.pfd[i].events;
}

void
loop_del(uint16_t i)
{
	conf.pfd[i].fd = -1;
	conf.pfd[i].events = 0;
	conf.pfd[i].revents = 0;
	conf.own[i].kind = LK_DEAD;
	ndead++;
}

/* packs dead entries away, moving live ones from the end into the holes */
static void
pack(void)
{
	for (unsigned i = 0; ndead && i < npfd;) {
		if (conf.own[i].kind != LK_DEAD) {
			i++;
			continue;
		}
		npfd--;
		ndead--;
		if (i == npfd)
			break;
		conf.pfd[i] = conf.pfd[npfd];
		conf.own[i] = conf.own[npfd];
		if (conf.own[i].kind != LK_DEAD)
			*conf.own[i].back = (uint16_t)i;
	}
	ndead = 0;
}

/*
 * TCP_DEFER_ACCEPT: the kernel wakes the listener once a new connection has sent data,
 * so the request is read right after accept(2), not a poll round later, and a client
 * that connects and says nothing takes no slot (it is accepted after about
 * conf.defer_accept seconds, then T_HEADER applies). Returns whether it is on.
 */
static int
defer(int fd, const char *text)
{
	int secs = (int)conf.defer_accept;

	if (secs == 0)
		return 0;
	if (setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs)) == 0)
		return 1;
	log_warn("listener %s: TCP_DEFER_ACCEPT: %s; accepting on the handshake", text,
	    strerror(errno));
	return 0;
}

void
loop_listen(void)
{
	int one = 1;

	if (conf.nlisteners > sizeof(fds) / sizeof(fds[0]))
		log_fatal("too many listeners");
	for (unsigned i = 0; i < conf.nlisteners; i++) {
		const struct conf_listener *l = &conf.listeners[i];
		union addr a;
		char text[ADDR_TEXT];
		if (util_addr(&a, l->addr, l->port) < 0)
			log_fatal("listener %s: not a numeric address", l->addr);
		util_ipport(&a, text);
		int fd = util_socket(a.sa.sa_family);
		if (fd < 0)
			log_fatal_errno("listener %s: socket", text);
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (a.sa.sa_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		/* accepted sockets inherit it (Linux): no setsockopt per connection */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (bind(fd, &a.sa, util_addrlen(&a)) < 0 || listen(fd, 511) < 0)
			log_fatal_errno("listener %s", text);
		deferred[i] = (uint8_t)defer(fd, text);
		fds[i] = fd;
		if (loop_add(fd, POLLIN, LK_LISTEN, &fds[i], &lpfd[i]) < 0)
			log_fatal("poll table too small for the listeners");
		log_info("listening on %s", text);
	}
}

/*
 * Taking connections until accept(2) says EAGAIN costs a failed call per round, and
 * a steady stream brings about one connection a round: so a listener gets one accept
 * per round, and drains up to ACCEPT_BATCH only once it was ready in ACCEPT_STREAK
 * rounds in a row (a burst, or a queue that is not going down). With every slot taken
 * it takes one a round: each new connection then reclaims an older one, and a batch
 * would reclaim the very connections it just took before they were ever read.
 */
static void
accept_some(unsigned li)
{
	static uint32_t last[64];
	static uint8_t streak[64];
	int batch;

	streak[li] = last[li] + 1 == rounds ? (uint8_t)(streak[li] + (streak[li] < 255)) : 0;
	last[li] = rounds;
	batch = streak[li] >= ACCEPT_STREAK ? ACCEPT_BATCH : 1;
	for (int n = 0; n < batch && (n == 0 || conn_room(conf.listeners[li].tls)); n++) {
		union addr peer;
		socklen_t len = sizeof(peer);
		int fd = accept4(fds[li], &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_err("accept: %s", strerror(errno));
			return;
		}
		conn_accept(fd, &peer, li, deferred[li]);
	}
}

static void
dispatch(unsigned i)
{
	struct loop_own *o = &conf.own[i];
	short rev = conf.pfd[i].revents;

	switch (o->kind) {
	case LK_LISTEN:
		accept_some((unsigned)((int *)o->obj - fds));
		break;
	case LK_CONN:
		conn_event(o->obj, rev);
		break;
	case LK_CHECK:
		check_event(o->obj, rev);
		break;
	case LK_UP: {
		struct up *u = o->obj;
		if (u->c)               /* idle ones are parked: up_sweep looks at them */
			conn_up_event(u->c, rev);
		break;
	}
	}
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		hup = 1;
	else if (sig == SIGUSR1)
		usr1 = 1;
	else
		stop++;
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

/* SIGUSR1: the counters, one log line each */
static void
dump_counters(void)
{
	size_t len;
	const char *type, *p = stats_page("/", 1, &len, &type);

	while (len > 0) {
		const char *nl = memchr(p, '\n', len);
		size_t n = nl ? (size_t)(nl - p) : len;
		log_info("%.*s", (int)n, p);
		n += nl != NULL;
		p += n;
		len -= n;
	}
}

/* the first SIGTERM or SIGINT: stop accepting, let what is in flight finish */
static void
drain_start(int64_t *until)
{
	for (unsigned i = 0; i < conf.nlisteners; i++) {
		loop_del(lpfd[i]);
		close(fds[i]);
	}
	conn_drain();
	*until = loop_now + conf.t_drain;
	log_info("stopping: no new connections; %u in flight get up to %ums",
	    conn_busy(), conf.t_drain);
}

/* one round: poll, dispatch, sweep */
static void
round_trip(int64_t *next_sweep, int timeout)
{
	int n = poll(conf.pfd, npfd, timeout);

	rounds++;
	loop_now = util_now();
	if (n < 0 && errno != EINTR)
		log_err("poll: %s", strerror(errno));
	for (unsigned i = 0, m = npfd; n > 0 && i < m; i++) {
		if (!conf.pfd[i].revents || conf.own[i].kind == LK_DEAD)
			continue;
		dispatch(i);
		conf.pfd[i].revents = 0;
	}
	if (loop_now >= *next_sweep) {
		conn_sweep(loop_now);
		up_sweep(loop_now);
		check_sweep(loop_now);
		tls_sweep();
		log_flush();    /* under constant load, lines wait at most a sweep */
		*next_sweep = loop_now + SWEEP_MS;
	}
	if (ndead)
		pack();
}

void
loop_step(int timeout)
{
	static int64_t next_sweep;

	loop_running = 1;
	round_trip(&next_sweep, timeout);
}

int
loop_run(void)
{
	int64_t next_sweep = 0, until = 0;

	signals();
	loop_now = util_now();
	stats.start = loop_now;
	check_init();
	loop_running = 1;
	for (;;) {
		if (stop && !until)
			drain_start(&until);
		if (until && (stop > 1 || loop_now >= until || conn_busy() == 0))
			break;
		if (usr1) {
			usr1 = 0;
			dump_counters();
		}
		if (hup) {
			hup = 0;
			log_reopen();
			log_info("SIGHUP: reloading certificates");
			tls_reload();
		}
		round_trip(&next_sweep, SWEEP_MS);
	}
	if (conn_busy())
		log_warn("stopped with %u connections still open", conn_busy());
	else
		log_info("stopped");
	conn_shutdown();
	log_flush();
	return 0;
}
