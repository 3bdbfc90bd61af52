/*
 * main.c: start-up. Everything that can fail for lack of a resource fails here, loudly,
 * before the loop: addresses, listeners, the descriptor limit. Then the loop runs.
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "conf.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "pool.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

#ifndef POLLUX_VERSION
#define POLLUX_VERSION "0.1"
#endif

/* every poll entry is a descriptor; raise the soft limit to cover them */
static void
fd_limit(void)
{
	struct rlimit rl;
	rlim_t need = conf.npfd + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_fatal_errno("getrlimit");
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max >= need ? need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		log_fatal("descriptor limit %llu is below the %llu the config needs "
		    "(SLOTS + UP_SLOTS + listeners + 16)", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)need);
}

static void
usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-f] [-V] [-h]\n"
	    "  -f  stay in the foreground (the default), log to stderr\n"
	    "  -V  print the version and exit\n"
	    "  -h  this text\n", argv0);
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			continue;
		if (strcmp(argv[i], "-V") == 0) {
			printf("pollux %s\n", POLLUX_VERSION);
			return 0;
		}
		usage(argv[0]);
		return strcmp(argv[i], "-h") == 0 ? 0 : 1;
	}
	fd_limit();
	pool_init();
	tls_init();
	up_init();
	conn_init();
	loop_listen();
	return loop_run();
}
