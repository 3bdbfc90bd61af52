/*
 * pipes.c: the splice pool. Each pipe is made once, non-blocking, at start-up; a free
 * stack hands them out. A pipe given back with bytes still in it (the connection was
 * cut off mid-body) is emptied into /dev/null by splice as well, so the next body
 * never sees the last one's bytes; one that cannot be emptied is closed and the pool
 * shrinks by one, with a log line. The kernel holds a queued byte as a reference to
 * the socket buffer's page: a pipe costs two descriptors and no memory while empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "pipes.h"

static unsigned npipes;         /* made */
static unsigned nfree;          /* on the stack */
static int devnull = -1;

void
pipes_init(void)
{
	if (conf.npipes == 0)
		return;
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0) {
		log_warn("splice: /dev/null: %s; bodies go through the buffers", strerror(errno));
		return;
	}
	for (npipes = 0; npipes < conf.npipes; npipes++) {
		if (pipe2(&conf.pipe_fds[2 * npipes], O_NONBLOCK | O_CLOEXEC) < 0) {
			log_warn("splice: %u of %u pipes made: %s", npipes, conf.npipes,
			    strerror(errno));
			break;
		}
		conf.pipe_stack[npipes] = (uint16_t)npipes;
	}
	nfree = npipes;
}

int
pipes_take(void)
{
	return nfree ? conf.pipe_stack[--nfree] : -1;
}

/* drops what is left in pipe p; 0 once it is empty */
static int
drain(int p, size_t left)
{
	while (left > 0) {
		ssize_t n = splice(conf.pipe_fds[2 * p], NULL, devnull, NULL, left,
		    SPLICE_F_NONBLOCK);
		if (n <= 0 && !(n < 0 && errno == EINTR))
			return -1;
		if (n > 0)
			left -= (size_t)n;
	}
	return 0;
}

void
pipes_give(int p, size_t left)
{
	if (drain(p, left) < 0) {
		log_warn("splice: a pipe could not be emptied (%s); %u left in the pool",
		    strerror(errno), npipes - 1);
		close(conf.pipe_fds[2 * p]);
		close(conf.pipe_fds[2 * p + 1]);
		npipes--;
		return;
	}
	conf.pipe_stack[nfree++] = (uint16_t)p;
}

/* a splice result as buf.c reports a read or a write */
static long
result(ssize_t n)
{
	if (n > 0)
		return n;
	if (n == 0)
		return IO_EOF;
	return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
}

long
pipes_in(int p, int fd, size_t max)
{
	ssize_t n;

	do
		n = splice(fd, NULL, conf.pipe_fds[2 * p + 1], NULL, max,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	while (n < 0 && errno == EINTR);
	return result(n);
}

long
pipes_out(int p, int fd, size_t n, int more)
{
	ssize_t w;

	do
		w = splice(conf.pipe_fds[2 * p], NULL, fd, NULL, n, SPLICE_F_MOVE |
		    SPLICE_F_NONBLOCK | (more ? SPLICE_F_MORE : 0));
	while (w < 0 && errno == EINTR);
	if (w == 0)
		return IO_AGAIN;        /* nothing in the pipe: not an end of anything */
	return result(w);
}

unsigned
pipes_count(void)
{
	return npipes;
}

unsigned
pipes_idle(void)
{
	return nfree;
}
