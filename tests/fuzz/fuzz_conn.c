/*
 * fuzz_conn.c: the whole request path through the connection state machine. The input
 * is what a client sends, then (after the bytes FF FE) what the backend answers; the
 * last byte's low bit says whether the client half-closes after sending, its next bit
 * whether the request is there before conn_accept (as after a deferred accept). The
 * client is one end of a socketpair handed to conn_accept; the backend is a Unix
 * socket this harness listens on (tests/fuzz/config.h points the pools at it); the
 * real poll loop is stepped until things settle, then every slot is closed for the
 * next input.
 */
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "pool.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

#define BACKEND "/tmp/pollux-fuzz-backend.sock"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);

static int listener = -1;

static void
setup(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = BACKEND };

	unlink(BACKEND);
	listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(listener, 16) < 0)
		abort();
	log_open(LOG_TO_FILE, "/dev/null");
	pool_init();
	tls_init();
	up_init();
	conn_init();
}

/* reads and drops whatever is waiting on fd */
static void
drain(int fd)
{
	char junk[4096];

	while (fd >= 0 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
}

static void
settle(int client, int *backend, const uint8_t *resp, size_t rlen, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		loop_step(0);
		if (*backend < 0)
			*backend = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (*backend >= 0 && resp) {
			drain(*backend);
			(void)!send(*backend, resp, rlen, MSG_NOSIGNAL | MSG_DONTWAIT);
			resp = NULL;
		}
		drain(client);
		drain(*backend);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int ready;
	const uint8_t *sep = NULL;
	int sv[2], backend = -1;
	union addr peer;
	size_t clen;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (n == 0 || n > 8192)
		return 0;
	for (size_t i = 0; i + 1 < n && !sep; i++)
		if (d[i] == 0xff && d[i + 1] == 0xfe)
			sep = d + i;
	clen = sep ? (size_t)(sep - d) : n;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	util_addr(&peer, "127.0.0.1", 40000);
	if (d[n - 1] & 2) {     /* a deferred accept: the request is there first */
		(void)!send(sv[1], d, clen, MSG_NOSIGNAL);
		conn_accept(sv[0], &peer, 0, 1);
	} else {
		conn_accept(sv[0], &peer, 0, 0);
		(void)!send(sv[1], d, clen, MSG_NOSIGNAL);
	}
	if (d[n - 1] & 1)
		shutdown(sv[1], SHUT_WR);
	settle(sv[1], &backend, sep ? sep + 2 : NULL, sep ? n - clen - 2 : 0, 12);
	if (backend >= 0)
		shutdown(backend, SHUT_WR);     /* a backend that ends its side */
	settle(sv[1], &backend, NULL, 0, 6);
	/* tear everything down for the next input */
	close(sv[1]);
	if (backend >= 0)
		close(backend);
	settle(-1, &backend, NULL, 0, 2);
	conn_shutdown();
	for (unsigned be = 0; be < conf.nbackends; be++)
		up_drop_idle(be);
	for (int fd; (fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0;)
		close(fd);
	loop_step(0);
	pool_init();
	return 0;
}
