/*
 * loop.h: the poll() table and the event loop. Every socket has one entry; its owner
 * (a listener, a client side, a backend side) is recorded beside it, and the owner
 * keeps its entry's index, which the loop updates when entries move.
 */
#ifndef POLLUX_LOOP_H
#define POLLUX_LOOP_H

#include <stdint.h>

enum loop_kind { LK_LISTEN, LK_CONN, LK_UP, LK_CHECK };

struct loop_own {
	uint8_t kind;           /* enum loop_kind */
	void *obj;              /* struct conn, struct up, struct check, or a listener */
	uint16_t *back;         /* where the owner keeps its entry index */
};

extern int loop_running;        /* 1 once start-up is over: no allocation from then on */
extern int64_t loop_now;        /* the time of the current iteration (monotonic ms) */

/* adds fd with events; stores the entry index in *back; returns -1 when full */
int loop_add(int fd, short events, int kind, void *obj, uint16_t *back);

/* changes the events wanted on entry i */
void loop_want(uint16_t i, short events);

/* the events entry i waits for */
short loop_wanted(uint16_t i);

/* removes entry i (the fd is not closed) */
void loop_del(uint16_t i);

/* binds every listener of the config; exits with a message when one fails */
void loop_listen(void);

/* one round of the loop (poll for at most timeout ms, dispatch, sweep); for the
 * state-machine fuzzer, which drives the loop itself */
void loop_step(int timeout);

/* runs until SIGINT or SIGTERM; returns the exit status */
int loop_run(void);

#endif
