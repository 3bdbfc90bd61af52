/*
 * log.c: formats each line into one stack buffer and writes it with a single write(2),
 * so lines from one process never interleave and nothing is buffered or allocated.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LINE_MAX_BYTES 1024

static void
emit(const char *prefix, const char *suffix, const char *fmt, va_list ap)
{
	char line[LINE_MAX_BYTES];
	int n = snprintf(line, sizeof(line), "%s", prefix);

	n += vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	if (suffix)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ": %s", suffix);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	while (write(2, line, (size_t)n) < 0 && errno == EINTR)
		;
}

#define LOGFN(name, prefix)                     \
	void name(const char *fmt, ...)         \
	{                                       \
		va_list ap;                     \
		va_start(ap, fmt);              \
		emit(prefix, NULL, fmt, ap);    \
		va_end(ap);                     \
	}

LOGFN(log_err, "error: ")
LOGFN(log_warn, "warn: ")
LOGFN(log_info, "info: ")

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("pollux: ", NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

void
log_fatal_errno(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	emit("pollux: ", e, fmt, ap);
	va_end(ap);
	exit(1);
}

static void
emitf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("", NULL, fmt, ap);
	va_end(ap);
}

void
log_access(const struct log_req *r)
{
	emitf("access: %s \"%s\" \"%s %s\" %d %llu %lldms %s", r->client, r->host, r->method,
	    r->target, r->status, (unsigned long long)r->bytes, (long long)r->ms, r->backend);
}
