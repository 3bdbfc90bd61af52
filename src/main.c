/*
 * main.c: start-up. Everything that can fail for lack of a resource fails here, loudly,
 * before the loop: addresses, listeners, the descriptor limit. Then the loop runs.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "guard.h"
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

/*
 * Listeners are bound and keys loaded: now give up root. Not root: nothing to do.
 * Root without RUN_USER: refuse, unless the build says ALLOW_ROOT.
 */
static void
privileges(void)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;

	if (geteuid() != 0)
		return;
	if (!conf.user) {
		if (conf.allow_root)
			return;
		log_fatal("refusing to run as root: set RUN_USER in config.h "
		    "(or ALLOW_ROOT 1 to accept the risk)");
	}
	if (!(pw = getpwnam(conf.user)))
		log_fatal("RUN_USER %s: no such user", conf.user);
	gid = pw->pw_gid;
	if (conf.group) {
		if (!(gr = getgrnam(conf.group)))
			log_fatal("RUN_GROUP %s: no such group", conf.group);
		gid = gr->gr_gid;
	}
	if (conf.chroot && (chroot(conf.chroot) < 0 || chdir("/") < 0))
		log_fatal_errno("chroot %s", conf.chroot);
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0)
		log_fatal_errno("cannot drop to user %s", conf.user);
	if (setuid(0) == 0)
		log_fatal("still able to become root after dropping privileges");
	log_info("running as %s (uid %u, gid %u)%s%s", conf.user, (unsigned)pw->pw_uid,
	    (unsigned)gid, conf.chroot ? " in " : "", conf.chroot ? conf.chroot : "");
}

/* -p: a password from the first line of standard input, hashed for config.h */
static int
hash_password(void)
{
	char pw[256], out[256];
	size_t n;

	if (!fgets(pw, sizeof(pw), stdin))
		return 1;
	n = strcspn(pw, "\r\n");
	if (n == 0 || guard_hash(pw, n, out, sizeof(out)) < 0) {
		fprintf(stderr, "pollux: no password, or no randomness for the salt\n");
		return 1;
	}
	printf("%s\n", out);
	return 0;
}

static void
usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-f] [-p] [-V] [-h]\n"
	    "  -f  stay in the foreground (the default), log to stderr\n"
	    "  -p  read a password on standard input, print its hash for config.h\n"
	    "  -V  print the version and exit\n"
	    "  -h  this text\n", argv0);
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			continue;
		if (strcmp(argv[i], "-p") == 0)
			return hash_password();
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
	privileges();
	return loop_run();
}
