/*
 * buf.h: socket I/O on a struct buf. Reads append at wr, writes send [rd, fwd); space
 * is reclaimed by compaction only when it runs short, never after each write.
 */
#ifndef POLLUX_BUF_H
#define POLLUX_BUF_H

#include <stdint.h>
#include "conn.h"

/* I/O results besides a byte count */
enum { IO_AGAIN = -1, IO_EOF = -2, IO_ERR = -3 };

/* moves [from, wr) to the front; rd, fwd, wr and *mark (if not NULL) shift with it */
void buf_compact(struct buf *b, uint32_t from, uint32_t *mark);

/* reads from fd into b up to limit; returns bytes read, IO_AGAIN, IO_EOF or IO_ERR */
long buf_read(int fd, struct buf *b, uint32_t limit);

/* writes [rd, fwd) to fd; returns bytes written (0 when none pending), IO_AGAIN or
 * IO_ERR. more: the message goes on and its next bytes are due soon (MSG_MORE: the
 * kernel may hold a partial segment until they come, as HAProxy does) */
long buf_write(int fd, struct buf *b, int more);

/* appends len bytes at wr and makes them forwardable; returns 0, or -1 when no room */
int buf_put(struct buf *b, const char *s, uint32_t len);

#endif
