/*
 * pipes.h: a fixed pool of kernel pipes, made at start-up, through which the long
 * part of a plain-HTTP body goes from one socket to the other by splice(2): the bytes
 * never pass through user space, so the proxy copies nothing and makes fewer calls.
 * A connection borrows a pipe for one body and gives it back empty.
 */
#ifndef POLLUX_PIPES_H
#define POLLUX_PIPES_H

#include <stddef.h>

/* makes the pool's conf.npipes pipes; a kernel that refuses some leaves fewer */
void pipes_init(void);

/* a free pipe, or -1 when the pool is empty (the body then goes through the buffer) */
int pipes_take(void);

/* returns pipe p to the pool; `left` bytes still in it are dropped first */
void pipes_give(int p, size_t left);

/* socket fd -> pipe p, at most max bytes; returns bytes moved, IO_AGAIN, IO_EOF or
 * IO_ERR (buf.h) */
long pipes_in(int p, int fd, size_t max);

/* pipe p -> socket fd, at most n bytes; more: the message goes on (SPLICE_F_MORE, as
 * MSG_MORE in buf_write); returns bytes moved, IO_AGAIN or IO_ERR */
long pipes_out(int p, int fd, size_t n, int more);

/* pipes in the pool, and of those free now (for the stats page) */
unsigned pipes_count(void);
unsigned pipes_idle(void);

#endif
