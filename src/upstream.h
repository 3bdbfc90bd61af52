/*
 * upstream.h: backend connections. A `struct up` is one TCP connection to a backend:
 * connecting, carrying a client's request (its `c` points at that client), or idle in
 * its backend's keep-alive list. Backend sides own no buffers: they read into and
 * write from their client's.
 */
#ifndef POLLUX_UPSTREAM_H
#define POLLUX_UPSTREAM_H

#include <stdint.h>

struct conn;

enum up_state { U_FREE, U_CONNECTING, U_BUSY, U_IDLE };

struct up {
	int fd;
	uint8_t state;          /* enum up_state */
	uint8_t reused;         /* taken from the idle list: may have been closed meanwhile */
	uint16_t be;            /* backend index */
	uint16_t pfd;           /* poll entry */
	int32_t next_free;      /* free list link */
	int64_t deadline;       /* 0: none */
	struct conn *c;         /* the client it works for (U_CONNECTING, U_BUSY) */
};

/* builds the free list; before the loop */
void up_init(void);

/*
 * A connection to backend be for client c: the most recent idle one still open (reused
 * = 1), or a new non-blocking connect (U_CONNECTING). Returns NULL with errno set when no slot is
 * left (EAGAIN) or the connect failed at once.
 */
struct up *up_get(unsigned be, struct conn *c);

/* like up_get, but always a new connection */
struct up *up_get_fresh(unsigned be, struct conn *c);

/* closes every idle connection to backend be (it broke one: the rest are suspect) */
void up_drop_idle(unsigned be);

/* the connect finished: 0 and U_BUSY, or -1 with errno from the socket */
int up_connected(struct up *u);

/* the request is over: keeps the connection idle when reusable and there is room,
 * otherwise closes it */
void up_release(struct up *u, int reusable);

/* closes and frees u at once (abort = RST) */
void up_close(struct up *u, int abort);

/* closes idle connections kept longer than T_UP_IDLE, and those the backend closed */
void up_sweep(int64_t now);

#endif
