/*
 * main.c: start-up. Everything that can fail for lack of a resource fails here, loudly,
 * before the loop: addresses, listeners, the descriptor limit. Then the loop runs.
 */
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "conf.h"
#include "conn.h"
#include "guard.h"
#include "log.h"
#include "loop.h"
#include "pipes.h"
#include "pool.h"
#include "stats.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

#ifndef POLLUX_VERSION
#define POLLUX_VERSION "0.2"
#endif
#ifndef POLLUX_BOARD
#define POLLUX_BOARD "unknown"
#endif

/* exit statuses an init script can act on */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* every poll entry is a descriptor; raise the soft limit to cover them */
static void
fd_limit(void)
{
	struct rlimit rl;
	rlim_t need = conf.npfd + 2 * conf.npipes + 16;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_fatal_errno("getrlimit");
	if (rl.rlim_cur >= need)
		return;
	rl.rlim_cur = rl.rlim_max >= need ? need : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		log_fatal("descriptor limit %llu is below the %llu the config needs "
		    "(SLOTS + UP_SLOTS + listeners + 2 x SPLICE_PIPES + 16)", (unsigned long long)rl.rlim_cur,
		    (unsigned long long)need);
}

/*
 * Listeners are bound and keys loaded: now give up root. Not root: nothing to do.
 * Root without RUN_USER: refuse, unless the build says ALLOW_ROOT.
 */
/* RUN_USER's uid and gid (RUN_GROUP's gid when set), from /etc/passwd and /etc/group */
static void
lookup_user(unsigned *uid, unsigned *gid)
{
	if (util_db_lookup("/etc/passwd", conf.user, uid, gid) < 0)
		log_fatal("RUN_USER %s: no such user in /etc/passwd", conf.user);
	if (conf.group && util_db_lookup("/etc/group", conf.group, gid, NULL) < 0)
		log_fatal("RUN_GROUP %s: no such group in /etc/group", conf.group);
}

static void
privileges(void)
{
	unsigned uid, gid;
	gid_t g;

	if (geteuid() != 0)
		return;
	if (!conf.user) {
		if (conf.allow_root)
			return;
		log_fatal("refusing to run as root: set RUN_USER in config.h "
		    "(or ALLOW_ROOT 1 to accept the risk)");
	}
	lookup_user(&uid, &gid);
	g = (gid_t)gid;
	if (conf.chroot && (chroot(conf.chroot) < 0 || chdir("/") < 0))
		log_fatal_errno("chroot %s", conf.chroot);
	if (setgroups(1, &g) < 0 || setgid(g) < 0 || setuid((uid_t)uid) < 0)
		log_fatal_errno("cannot drop to user %s", conf.user);
	if (setuid(0) == 0)
		log_fatal("still able to become root after dropping privileges");
	log_info("running as %s (uid %u, gid %u)%s%s", conf.user, uid, gid,
	    conf.chroot ? " in " : "", conf.chroot ? conf.chroot : "");
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

/* ---- -V ---------------------------------------------------------------------------- */

static const char *const policy_name[] = { "round-robin", "least-conn", "ip-hash" };

static void
print_listeners(void)
{
	printf("listeners:\n");
	for (unsigned i = 0; i < conf.nlisteners; i++) {
		const struct conf_listener *l = &conf.listeners[i];
		printf("  %s port %u: %s", l->addr, l->port, l->stats ? "stats" : l->tls ? "https" :
		    l->redirect_port ? "redirect to https" : "http");
		if (l->hsts_max_age)
			printf(", HSTS max-age=%u", (unsigned)l->hsts_max_age);
		printf("\n");
	}
}

static void
print_routes(void)
{
	printf("routes (first match wins):\n");
	for (unsigned i = 0; i < conf.nroutes; i++) {
		const struct route_rule *r = &conf.routes[i];
		printf("  host %s prefix %s -> %s%s%s%s%s%s%s", r->host ? r->host : "*", r->prefix,
		    conf.pools[r->pool].name, (r->flags & R_STRIP) ? ", strip" : "",
		    r->users ? ", basic auth" : "", r->allow || r->deny ? ", address rules" : "",
		    r->rate ? ", rate limit" : "", r->max_body ? ", body limit" : "",
		    r->cache ? ", cache" : "");
		if (r->cache_ttl)
			printf(" %us", (unsigned)r->cache_ttl);
		printf("\n");
	}
}

static void
print_pools(void)
{
	printf("pools:\n");
	for (unsigned p = 0; p < conf.npools; p++) {
		const struct conf_pool *cp = &conf.pools[p];
		printf("  %s: %s", cp->name, policy_name[cp->policy]);
		if (cp->check_path)
			printf(", checks GET %s every %ums", cp->check_path,
			    cp->check_every ? cp->check_every : 2000);
		printf("\n");
		for (unsigned i = 0; i < conf.nbackends; i++) {
			const struct conf_backend *b = &conf.backends[i];
			if (b->pool != p)
				continue;
			if (b->addr[0] == '/')
				printf("    %s", b->addr);     /* a Unix socket: no port */
			else
				printf("    %s port %u", b->addr, b->port);
			printf(" weight %u%s\n", b->weight, b->backup ? " backup" : "");
		}
	}
}

/* the static memory the config sizes, by table */
static void
print_memory(void)
{
	size_t conns = conf.nconns * (sizeof(struct conn) + 2 * (size_t)conf.buf_len);
	size_t tls = conf.ntls * (size_t)TLS_SLOT_BYTES + conf.session_len + 2 * conf.cert_len;
	size_t ups = conf.nups * sizeof(struct up);
	size_t polls = conf.npfd * (sizeof(struct pollfd) + sizeof(struct loop_own));
	size_t pipes = conf.npipes * (2 * sizeof(int) + sizeof(uint16_t));
	size_t cache = conf.cache_len ? conf.cache_len + conf.ncache_ents *
	    sizeof(struct cache_entry) + conf.cache_len / CACHE_BLOCK * sizeof(int32_t) : 0;

	printf("static memory (bytes):\n");
	printf("  client slots  %10zu  (%u x %zu)\n", conns, conf.nconns,
	    sizeof(struct conn) + 2 * (size_t)conf.buf_len);
	printf("  TLS           %10zu  (%u slots x %u, sessions, 2 certificate arenas)\n", tls,
	    conf.ntls, TLS_SLOT_BYTES);
	printf("  backend slots %10zu  (%u x %zu)\n", ups, conf.nups, sizeof(struct up));
	printf("  poll table    %10zu  (%u entries)\n", polls, conf.npfd);
	printf("  cache         %10zu  (arena %zu, %u entries x %zu, block links)\n", cache,
	    conf.cache_len, conf.cache_len ? conf.ncache_ents : 0, sizeof(struct cache_entry));
	printf("  splice pipes  %10zu  (%u pipes, 2 descriptors each)\n", pipes, conf.npipes);
	printf("  total         %10zu  plus small tables\n", conns + tls + ups + polls + cache +
	    pipes);
}

static void
version(void)
{
	printf("pollux %s, board %s\n", POLLUX_VERSION, POLLUX_BOARD);
	print_listeners();
	print_routes();
	print_pools();
	print_memory();
}

/* ---- -t and -d ----------------------------------------------------------------------- */

/* what -t checks beyond start-up itself: the user and the log file */
static void
check_rest(void)
{
	unsigned uid, gid;

	if (conf.user)
		lookup_user(&uid, &gid);
	if (geteuid() == 0 && !conf.user && !conf.allow_root)
		log_fatal("would refuse to run as root: set RUN_USER (or ALLOW_ROOT 1)");
	if (conf.log_to == LOG_TO_FILE) {
		int f = open(conf.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (f < 0)
			log_fatal_errno("log file %s", conf.log_file);
		close(f);
	}
}

static void
write_pidfile(void)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "%ld\n", (long)getpid());
	int f = open(conf.pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (f < 0 || write(f, line, (size_t)n) != n)
		log_fatal_errno("pidfile %s", conf.pidfile);
	close(f);
}

/* -d: into the background once everything that can fail at start has succeeded; the
 * command returns only when the pidfile is written, so an init script can read it */
static void
daemonize(void)
{
	int ready[2], nul;
	pid_t pid;
	char ok;

	if (pipe(ready) < 0 || (pid = fork()) < 0)
		log_fatal_errno("fork");
	if (pid > 0) {
		close(ready[1]);
		_exit(read(ready[0], &ok, 1) == 1 ? EXIT_OK : EXIT_FAIL);
	}
	close(ready[0]);
	setsid();
	if ((pid = fork()) < 0)
		log_fatal_errno("fork");
	if (pid > 0)
		_exit(EXIT_OK);
	umask(027);
	write_pidfile();
	(void)!write(ready[1], "1", 1);
	close(ready[1]);
	if ((nul = open("/dev/null", O_RDWR)) >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
}

static void
usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-f | -d | -t] [-p] [-V] [-h]\n"
	    "  -f  stay in the foreground (the default), for procd, systemd and runit\n"
	    "  -d  go into the background and write the pidfile (%s)\n"
	    "  -t  check the configuration and its files, then exit 0 or 1\n"
	    "  -p  read a password on standard input, print its hash for config.h\n"
	    "  -V  print the version, board, listeners, routes, pools and memory budget\n"
	    "  -h  this text\n", argv0, conf.pidfile);
}

int
main(int argc, char **argv)
{
	int background = 0, check = 0, status;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-f") == 0)
			background = 0;
		else if (strcmp(argv[i], "-d") == 0)
			background = 1;
		else if (strcmp(argv[i], "-t") == 0)
			check = 1;
		else if (strcmp(argv[i], "-p") == 0)
			return hash_password();
		else if (strcmp(argv[i], "-V") == 0) {
			version();
			return EXIT_OK;
		} else {
			usage(argv[0]);
			return strcmp(argv[i], "-h") == 0 ? EXIT_OK : EXIT_USAGE;
		}
	}
	fd_limit();
	pool_init();
	tls_init();
	up_init();
	conn_init();
	loop_listen();
	if (check) {
		check_rest();
		printf("pollux: configuration and files OK\n");
		return EXIT_OK;
	}
	pipes_init();
	/* in the background stderr is gone: an stderr log goes to syslog instead */
	log_open(background && conf.log_to == LOG_TO_STDERR ? LOG_TO_SYSLOG : conf.log_to,
	    conf.log_file);
	if (background)
		daemonize();
	privileges();
	status = loop_run();
	if (background)
		unlink(conf.pidfile);
	return status;
}
