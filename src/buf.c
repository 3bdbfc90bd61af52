/*
 * buf.c: the only place that moves bytes between sockets and buffers. Everything is
 * non-blocking: EINTR retries, EAGAIN is reported for the caller to wait on poll().
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"

void
buf_compact(struct buf *b, uint32_t from, uint32_t *mark)
{
	if (from == 0)
		return;
	memmove(b->p, b->p + from, b->wr - from);
	b->rd -= from;
	b->fwd -= from;
	b->wr -= from;
	if (mark)
		*mark = *mark >= from ? *mark - from : 0;
}

long
buf_read(int fd, struct buf *b, uint32_t limit)
{
	ssize_t n;

	if (b->wr >= limit)
		return 0;
	do
		n = read(fd, b->p + b->wr, limit - b->wr);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		b->wr += (uint32_t)n;
		return n;
	}
	if (n == 0)
		return IO_EOF;
	return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
}

long
buf_write(int fd, struct buf *b, int more)
{
	ssize_t n;

	if (b->rd == b->fwd)
		return 0;
	do
		n = send(fd, b->p + b->rd, b->fwd - b->rd, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
	b->rd += (uint32_t)n;
	return n;
}

int
buf_put(struct buf *b, const char *s, uint32_t len)
{
	if (b->cap - b->wr < len)
		buf_compact(b, b->rd, NULL);
	if (b->cap - b->wr < len)
		return -1;
	memcpy(b->p + b->wr, s, len);
	b->wr += len;
	b->fwd = b->wr;
	return 0;
}
