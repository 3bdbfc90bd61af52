/*
 * log.h: one line per event on stderr: "error: ", "warn: ", "info: " and "access: "
 * lines. Formatting uses the stack only; nothing is allocated.
 */
#ifndef POLLUX_LOG_H
#define POLLUX_LOG_H

#include <stdint.h>

/* sends lines to stderr, syslog or a file (enum log_to); before the loop */
void log_open(int to, const char *file);

/* SIGHUP: reopens the log file (after rotation); nothing for the other targets */
void log_reopen(void);

/* before the loop: prints "pollux: msg" and exits 1 */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* like log_fatal with ": strerror(errno)" appended */
void log_fatal_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct log_req {
	const char *client;        /* ip text */
	const char *user;          /* basic auth user, or "-" */
	const char *host, *method, *target, *version;   /* already made log-safe */
	const char *referer, *agent;
	int status;
	uint64_t bytes;            /* body and head bytes sent to the client */
	int64_t ms;                /* duration */
	const char *backend;       /* "ip:port" or "-" */
};

/* Combined Log Format, then the duration, the backend and the Host:
 * access: CLIENT - USER [DATE] "METHOD TARGET VERSION" STATUS BYTES "REFERER" "AGENT"
 *         DURATIONms BACKEND "HOST" */
void log_access(const struct log_req *r);

/* writes the access lines gathered so far; the loop calls it after every poll round,
 * and at exit */
void log_flush(void);

#endif
