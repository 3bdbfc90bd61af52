/*
 * log.c: formats each line into one stack buffer and hands it over in one call: a
 * write(2) to stderr or the log file (opened with O_APPEND, reopened on SIGHUP so log
 * rotation works), or one datagram to /dev/log with the daemon facility
 * ("<PRI>pollux[pid]: message"; the syslog daemon adds the time, so no time zone code
 * is linked in). Access lines, one per request, are the exception: they are built
 * without printf and gathered in a static buffer (8 KiB, some 50 lines) that is
 * written when it is full and at every sweep of the loop (log_flush): a busy second
 * costs a few writes instead of one per request, and a line is never more than a
 * sweep (100 ms) late. Any other line flushes them first,
 * so the order holds. Nothing is allocated.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

static int target = LOG_TO_STDERR;
static int fd = 2;              /* stderr, the log file, or the /dev/log socket */

enum { FAC_DAEMON = 3 << 3, PRI_ERR = 3, PRI_WARNING = 4, PRI_INFO = 6 };

#define LINE_MAX_BYTES 1024
#define PENDING_BYTES 8192

static char pending[PENDING_BYTES];     /* access lines not yet written */
static size_t npending;

static void
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;         /* nowhere to complain to */
		p += w;
		n -= (size_t)w;
	}
}

void
log_flush(void)
{
	if (npending)
		write_all(pending, npending);
	npending = 0;
}

static int
priority(const char *prefix)
{
	if (prefix[0] == 'e' || prefix[0] == 'p')
		return PRI_ERR;
	return prefix[0] == 'w' ? PRI_WARNING : PRI_INFO;
}

/* connects a datagram socket to /dev/log; -1 when there is no syslog daemon */
static int
syslog_socket(void)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(s);
		s = -1;
	}
	return s;
}

static void
to_syslog(const char *prefix, const char *msg, int len)
{
	char dgram[LINE_MAX_BYTES + 64];
	int n = snprintf(dgram, sizeof(dgram), "<%d>pollux[%ld]: %.*s",
	    FAC_DAEMON | priority(prefix), (long)getpid(), len, msg);

	if (n > (int)sizeof(dgram) - 1)
		n = (int)sizeof(dgram) - 1;
	if (send(fd, dgram, (size_t)n, MSG_NOSIGNAL) < 0 && (fd = syslog_socket()) >= 0)
		send(fd, dgram, (size_t)n, MSG_NOSIGNAL);      /* syslogd restarted */
}

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
	if (target == LOG_TO_SYSLOG) {
		to_syslog(prefix, line, n);
		return;
	}
	line[n++] = '\n';
	log_flush();
	write_all(line, (size_t)n);
}

void
log_open(int to, const char *file)
{
	if (to == LOG_TO_SYSLOG) {
		int s = syslog_socket();
		if (s < 0)
			log_fatal_errno("syslog: /dev/log (no syslog daemon?)");
		fd = s;
	} else if (to == LOG_TO_FILE) {
		int f = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (f < 0)
			log_fatal_errno("log file %s", file);
		if (fd > 2)
			close(fd);
		fd = f;
	}
	target = to;
}

void
log_reopen(void)
{
	int f;

	if (target != LOG_TO_FILE)
		return;
	f = open(conf.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (f < 0) {
		log_err("cannot reopen the log file %s: %s", conf.log_file, strerror(errno));
		return;
	}
	close(fd);
	fd = f;
	log_info("log file reopened");
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
	log_flush();
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
	log_flush();
	exit(1);
}

/* "26/Nov/2026:17:25:00 +0000", made again only when the second changes; by hand,
 * from gmtime, so no time zone code is linked in */
static const char *
clf_date(void)
{
	static const char month[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
		"Aug", "Sep", "Oct", "Nov", "Dec" };
	static char text[32];
	static time_t last = -1;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last && gmtime_r(&now, &tm)) {
		snprintf(text, sizeof(text), "%02d/%s/%d:%02d:%02d:%02d +0000", tm.tm_mday,
		    month[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		last = now;
	}
	return text;
}

/* appends to a line being built, cut at its end */
struct line {
	char *p;
	size_t n, cap;
};

static void
put(struct line *l, const char *s)
{
	size_t k = strlen(s);

	if (k > l->cap - l->n)
		k = l->cap - l->n;
	memcpy(l->p + l->n, s, k);
	l->n += k;
}

static void
put_num(struct line *l, unsigned long long v)
{
	char d[24];
	int i = (int)sizeof(d);

	d[--i] = '\0';
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	put(l, d + i);
}

/* the Combined Log Format, then the time taken, the backend and the Host */
void
log_access(const struct log_req *r)
{
	char buf[LINE_MAX_BYTES];
	struct line l = { buf, 0, sizeof(buf) - 1 };
	const char *parts[] = { "access: ", r->client, " - ", r->user, " [", clf_date(), "] \"",
		r->method, " ", r->target, " ", r->version, "\" " };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		put(&l, parts[i]);
	put_num(&l, (unsigned)r->status);
	put(&l, " ");
	put_num(&l, (unsigned long long)r->bytes);
	const char *rest[] = { " \"", r->referer, "\" \"", r->agent, "\" " };
	for (size_t i = 0; i < sizeof(rest) / sizeof(rest[0]); i++)
		put(&l, rest[i]);
	put_num(&l, (unsigned long long)(r->ms > 0 ? r->ms : 0));
	const char *tail[] = { "ms ", r->backend, " \"", r->host, "\"" };
	for (size_t i = 0; i < sizeof(tail) / sizeof(tail[0]); i++)
		put(&l, tail[i]);
	if (target == LOG_TO_SYSLOG) {
		to_syslog("", buf, (int)l.n);
		return;
	}
	buf[l.n++] = '\n';
	if (l.n > sizeof(pending) - npending)
		log_flush();
	memcpy(pending + npending, buf, l.n);
	npending += l.n;
}
