/*
 * check.h: active health checks. Each backend of a pool with a check_path has one
 * reserved check slot: every check_every ms it connects, sends a GET for the path and
 * reads the status line; the verdict goes to pool_check(). Checks run in the main poll
 * loop on their own slots, so they never wait on client traffic nor hold it up.
 */
#ifndef POLLUX_CHECK_H
#define POLLUX_CHECK_H

#include <stdint.h>

struct check {
	int fd;                 /* -1 between checks */
	uint8_t state;          /* K_IDLE, K_CONNECT, K_READ in check.c */
	uint8_t len;            /* status line bytes read */
	uint16_t pfd;           /* poll entry while a check runs */
	int64_t next;           /* when the next check starts */
	int64_t deadline;       /* when the running check fails */
	char line[16];          /* "HTTP/1.1 200 " */
};

/* schedules the first checks; before the loop */
void check_init(void);

/* poll reported revents on a running check */
void check_event(struct check *k, short revents);

/* starts the checks that are due and fails the ones out of time */
void check_sweep(int64_t now);

#endif
