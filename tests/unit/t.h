/*
 * t.h: the unit-test kit. A test file writes each case as `static void name(void)`, lists
 * the cases in a table with T(name) and ends with T_MAIN(table). Every case runs in its own
 * child process (so a crash or a hang is reported against that case and the rest still
 * run) and prints exactly one line: "ok name" or "FAIL name: file:line: why". The binary
 * exits 1 when any case failed.
 *
 * CHECK* macros record the first failure and return from the current function; a helper
 * that checks things is called through CALL(), which returns as well once a check failed.
 * T_NOTE() names the input being tried, so a failure inside a table loop says which one.
 */
#ifndef T_H
#define T_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct t_case {
	const char *name;
	void (*fn)(void);
};
#define T(fn) { #fn, fn }

#ifndef T_TIMEOUT
#define T_TIMEOUT 20            /* seconds a case may run before it counts as hung */
#endif

static char t_why[1024];        /* first failure of the running case, "" while none */
static char t_note[160];        /* the input being tried, "" when none */

/* p[0..n) as a C string literal with escapes, cut after max bytes */
static inline const char *t_esc(const char *p, size_t n, size_t max, char *out, size_t cap)
{
	size_t o = 0, i;

	out[o++] = '"';
	for (i = 0; i < n && i < max && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '\r')
			o += (size_t)snprintf(out + o, cap - o, "\\r");
		else if (c == '\n')
			o += (size_t)snprintf(out + o, cap - o, "\\n");
		else if (c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o++] = '"';
	if (i < n && o + 4 < cap)
		o += (size_t)snprintf(out + o, cap - o, "...");
	out[o] = '\0';
	return out;
}

static inline void t_set_note(const char *p, size_t n)
{
	t_esc(p, n, 100, t_note, sizeof t_note);
}
#define T_NOTE(p, n) t_set_note((p), (n))
#define T_NOTES(s) t_set_note((s), strlen(s))

__attribute__((format(printf, 3, 4)))
static inline void t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	size_t k;

	if (t_why[0])
		return;
	k = (size_t)snprintf(t_why, sizeof t_why, "%s:%d: ", file, line);
	va_start(ap, fmt);
	if (k < sizeof t_why)
		k += (size_t)vsnprintf(t_why + k, sizeof t_why - k, fmt, ap);
	va_end(ap);
	if (t_note[0] && k < sizeof t_why)
		snprintf(t_why + k, sizeof t_why - k, " [input %s]", t_note);
}

static inline int t_mem_is(const char *p, size_t n, const char *s)
{
	return p && s && n == strlen(s) && memcmp(p, s, n) == 0;
}

#define T_FAILED() (t_why[0] != '\0')
#define CALL(x) do { x; if (T_FAILED()) return; } while (0)

#define CHECK(c) do { \
	if (!(c)) { t_fail(__FILE__, __LINE__, "%s", #c); return; } \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long t_a = (long long)(a), t_b = (long long)(b); \
	if (t_a != t_b) { \
		t_fail(__FILE__, __LINE__, "%s == %s: got %lld, want %lld", #a, #b, t_a, t_b); \
		return; \
	} \
} while (0)

/* bytes p[0..n) equal the C string s */
#define CHECK_MEM(p, n, s) do { \
	const char *t_p = (p), *t_s = (s); \
	size_t t_n = (n); \
	if (!t_mem_is(t_p, t_n, t_s)) { \
		char t_g[300], t_w[300]; \
		t_fail(__FILE__, __LINE__, "%s: got %s, want %s", #p, \
		    t_p ? t_esc(t_p, t_n, 120, t_g, sizeof t_g) : "NULL", \
		    t_s ? t_esc(t_s, strlen(t_s), 120, t_w, sizeof t_w) : "NULL"); \
		return; \
	} \
} while (0)

/* C string p equals s; NULL only equals NULL */
#define CHECK_STR(p, s) do { \
	const char *t_q = (p), *t_r = (s); \
	if (!t_q || !t_r) { \
		if (t_q != t_r) { \
			t_fail(__FILE__, __LINE__, "%s: got %s, want %s", #p, \
			    t_q ? t_q : "NULL", t_r ? t_r : "NULL"); \
			return; \
		} \
	} else \
		CHECK_MEM(t_q, strlen(t_q), t_r); \
} while (0)

/* runs one case in a child, which sends back its verdict; returns 1 when it failed */
static inline int t_run1(const struct t_case *c)
{
	char why[sizeof t_why] = "";
	size_t got = 0;
	ssize_t r;
	pid_t pid;
	int fd[2], st;

	fflush(stdout);
	if (pipe(fd) < 0 || (pid = fork()) < 0) {
		printf("FAIL %s: cannot fork\n", c->name);
		return 1;
	}
	if (pid == 0) {
		close(fd[0]);
		alarm(T_TIMEOUT);
		t_why[0] = t_note[0] = '\0';
		c->fn();
		if (write(fd[1], t_why, strlen(t_why)) < 0)
			_exit(4);
		exit(T_FAILED() ? 3 : 0);   /* exit, not _exit: the leak check runs */
	}
	close(fd[1]);
	while (got + 1 < sizeof why) {
		r = read(fd[0], why + got, sizeof why - 1 - got);
		if (r > 0)
			got += (size_t)r;
		else if (r == 0 || errno != EINTR)
			break;
	}
	why[got] = '\0';
	close(fd[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			printf("FAIL %s: lost the child\n", c->name);
			return 1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		printf("ok %s\n", c->name);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
		printf("FAIL %s: %s\n", c->name, why);
	else if (WIFSIGNALED(st))
		printf("FAIL %s: crashed (signal %d%s)\n", c->name, WTERMSIG(st),
		    WTERMSIG(st) == SIGALRM ? ", hung" : "");
	else
		printf("FAIL %s: died with exit %d (a sanitizer report or leak, above)%s%s\n",
		    c->name, WEXITSTATUS(st), why[0] ? ": " : "", why);
	fflush(stdout);
	return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static inline int t_run(const struct t_case *c, size_t n)
{
	size_t i;
	int nfail = 0;

	for (i = 0; i < n; i++)
		nfail += t_run1(&c[i]);
	fflush(stdout);
	return nfail != 0;
}

#define T_MAIN(tab) \
	int main(void) { return t_run(tab, sizeof(tab) / sizeof((tab)[0])); }

#endif
