/*
 * nomalloc.c: linked into a test build with -Wl,--wrap=malloc,... Any allocation once
 * the loop runs aborts the process with a message, so the integration suite run on this
 * build proves pollux allocates nothing after start-up.
 */
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

extern int loop_running;
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);

static void
refuse(const char *what)
{
	static const char pre[] = "nomalloc: allocation after start-up: ";
	(void)!write(2, pre, sizeof(pre) - 1);
	(void)!write(2, what, strlen(what));
	(void)!write(2, "\n", 1);
	abort();
}

void *__wrap_malloc(size_t n) { if (loop_running) refuse("malloc"); return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { if (loop_running) refuse("calloc"); return __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { if (loop_running) refuse("realloc"); return __real_realloc(p, n); }
void __wrap_free(void *p) { if (loop_running && p) refuse("free"); __real_free(p); }
