/*
 * tlsload: the HTTPS handshake load generator of tests/bench/run. Each of P worker
 * processes loops: connect, a TLS 1.2 handshake (OpenSSL), one GET with
 * "Connection: close", read the whole response, read to the server's close, close.
 * So every request is one handshake. With -r a worker offers the session of its
 * previous connection (session-ID resumption; tickets are turned off on the client so
 * no server can issue one); without -r it never offers one and keeps no session cache:
 * every handshake is a full one. Prints wrk's summary format (tests/bench/run reads it
 * with the same parser) plus the handshake counts as the client saw them.
 *
 *   tlsload [-c P] [-d SECONDS] [-n REQUESTS] [-r] [-s SNI] [-C CIPHERS] [-G GROUPS]
 *           [-e BODY_BYTES] HOST PORT PATH
 *
 * -n: stop after that many requests in all (a check: -n 1); -e: a response whose body
 * is not that long counts as an error. Built by tests/bench/run with the system's
 * OpenSSL (libssl-dev): cc -O2 -o tlsload tlsload.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define FINE    100000          /* 1-us bins up to 100 ms */
#define COARSE  10000           /* then 1-ms bins up to 10 s */

struct shared {
	uint64_t requests, full, resumed;
	uint64_t e_connect, e_handshake, e_read, e_write, e_timeout, e_status, e_length;
	uint64_t hs_out, hs_in;         /* handshake bytes on the wire, first connection */
	char cipher[64], version[16], group[32], cert[32];
	uint32_t fine[FINE], coarse[COARSE + 1];
	int64_t stop_ns;                /* no new connection after this */
	uint64_t limit;                 /* -n, or 0 */
	uint64_t taken;                 /* connections started, against limit */
};

static struct shared *sh;
static const char *host, *path, *sni, *ciphers = NULL, *groups = "P-256";
static int port, resume, want_len = -1;

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
add(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

static void
record(int64_t ns)
{
	int64_t us = ns / 1000;

	if (us < FINE)
		__atomic_fetch_add(&sh->fine[us], 1, __ATOMIC_RELAXED);
	else
		__atomic_fetch_add(&sh->coarse[us / 1000 < COARSE ? us / 1000 : COARSE], 1,
		    __ATOMIC_RELAXED);
}

/* the microseconds below which a share q of the recorded latencies lies */
static double
quantile(double q, uint64_t total)
{
	uint64_t want = (uint64_t)(q * (double)total + 0.5), seen = 0;

	if (want == 0)
		want = 1;
	for (int i = 0; i < FINE; i++)
		if ((seen += sh->fine[i]) >= want)
			return i + 0.5;
	for (int i = 0; i <= COARSE; i++)
		if ((seen += sh->coarse[i]) >= want)
			return i * 1000.0 + 500;
	return 0;
}

static void
put_lat(const char *label, double us)
{
	if (us < 1000)
		printf("    %s %8.2fus\n", label, us);
	else if (us < 1000000)
		printf("    %s %8.2fms\n", label, us / 1000);
	else
		printf("    %s %8.2fs\n", label, us / 1000000);
}

static SSL_CTX *
context(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	/* sessions are kept by hand (-r) or not at all: no client cache either way */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);  /* self-signed bench certificates */
	if (ciphers && !SSL_CTX_set_cipher_list(ctx, ciphers))
		return NULL;
	if (groups && !SSL_CTX_set1_groups_list(ctx, groups))
		return NULL;
	return ctx;
}

/* one connection, one request; returns 0, or -1 with the error counted */
static int
one(SSL_CTX *ctx, SSL_SESSION **sess, int first)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char req[512], buf[16384];
	int fd, n, one_ = 1, got = 0, head_end = -1, status = 0;
	long clen = -1, body;
	int64_t t0 = now_ns();
	SSL *ssl;
	struct timeval tv = { .tv_sec = 5 };

	inet_pton(AF_INET, host, &sa.sin_addr);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		add(&sh->e_connect);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one_, sizeof(one_));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		add(&sh->e_connect);
		close(fd);
		return -1;
	}
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if (resume && *sess)
		SSL_set_session(ssl, *sess);
	if (SSL_connect(ssl) != 1) {
		add(errno == EAGAIN ? &sh->e_timeout : &sh->e_handshake);
		if (first)
			ERR_print_errors_fp(stderr);
		goto fail;
	}
	if (SSL_session_reused(ssl))
		add(&sh->resumed);
	else
		add(&sh->full);
	if (first) {
		BIO *b = SSL_get_rbio(ssl);
		X509 *c = SSL_get1_peer_certificate(ssl);
		EVP_PKEY *k = c ? X509_get0_pubkey(c) : NULL;
		char g[32] = "?";
		int nid = SSL_get_negotiated_group(ssl);

		if (nid != NID_undef)
			snprintf(g, sizeof(g), "%s", OBJ_nid2sn(nid));
		sh->hs_in = BIO_number_read(b);
		sh->hs_out = BIO_number_written(b);
		snprintf(sh->cipher, sizeof(sh->cipher), "%s", SSL_get_cipher_name(ssl));
		snprintf(sh->version, sizeof(sh->version), "%s", SSL_get_version(ssl));
		snprintf(sh->group, sizeof(sh->group), "%s", g);
		if (k)
			snprintf(sh->cert, sizeof(sh->cert), "%s-%d", EVP_PKEY_get0_type_name(k),
			    EVP_PKEY_get_bits(k));
		X509_free(c);
	}
	if (resume) {
		SSL_SESSION_free(*sess);
		*sess = SSL_get1_session(ssl);
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
	    path, sni ? sni : host);
	if (SSL_write(ssl, req, n) != n) {
		add(&sh->e_write);
		goto fail;
	}
	/* the response: head, then Content-Length bytes of body */
	for (;;) {
		n = SSL_read(ssl, buf + got, (int)(sizeof(buf) - 1 - (size_t)got));
		if (n <= 0) {
			add(errno == EAGAIN ? &sh->e_timeout : &sh->e_read);
			goto fail;
		}
		got += n;
		buf[got] = 0;
		if (head_end < 0) {
			char *e = strstr(buf, "\r\n\r\n"), *cl;
			if (!e) {
				if (got >= (int)sizeof(buf) - 1) {
					add(&sh->e_read);
					goto fail;
				}
				continue;
			}
			head_end = (int)(e - buf) + 4;
			sscanf(buf, "HTTP/1.%*d %d", &status);
			cl = strcasestr(buf, "\r\ncontent-length:");
			clen = cl && cl < e ? strtol(cl + 17, NULL, 10) : -1;
		}
		body = got - head_end;
		if (clen >= 0 && body >= clen)
			break;
		if (got > head_end) {           /* a long body: keep only the count */
			clen -= body;
			got = head_end = 0;
			if (clen <= 0)
				break;
		}
	}
	record(now_ns() - t0);
	add(&sh->requests);
	if (status < 200 || status > 399)
		add(&sh->e_status);
	else if (want_len >= 0 && clen != want_len)
		add(&sh->e_length);
	/* the server closes (Connection: close): read to its close_notify or FIN */
	while (SSL_read(ssl, buf, sizeof(buf)) > 0)
		;
	SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(ssl);
	close(fd);
	return 0;
fail:
	SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(ssl);
	close(fd);
	return -1;
}

static void
worker(int id)
{
	SSL_CTX *ctx = context();
	SSL_SESSION *sess = NULL;
	int first = id == 0;

	if (!ctx) {
		ERR_print_errors_fp(stderr);
		_exit(2);
	}
	while (now_ns() < sh->stop_ns) {
		if (sh->limit && __atomic_fetch_add(&sh->taken, 1, __ATOMIC_RELAXED) >= sh->limit)
			break;
		if (one(ctx, &sess, first) < 0)
			usleep(1000);
		else
			first = 0;
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	int procs = 1, o;
	double secs = 10;
	long limit = 0;
	int64_t t0, t1;
	uint64_t total = 0;

	while ((o = getopt(argc, argv, "c:d:n:rs:C:G:e:")) != -1) {
		switch (o) {
		case 'c': procs = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'n': limit = atol(optarg); break;
		case 'r': resume = 1; break;
		case 's': sni = optarg; break;
		case 'C': ciphers = optarg; break;
		case 'G': groups = optarg; break;
		case 'e': want_len = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (argc - optind != 3 || procs < 1) {
usage:
		fprintf(stderr, "usage: tlsload [-c procs] [-d secs] [-n requests] [-r] [-s sni] "
		    "[-C ciphers] [-G groups] [-e body_bytes] host port path\n");
		return 2;
	}
	host = argv[optind];
	port = atoi(argv[optind + 1]);
	path = argv[optind + 2];
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	sh->limit = (uint64_t)(limit > 0 ? limit : 0);
	signal(SIGPIPE, SIG_IGN);
	if (limit > 0)
		printf("Running %ld request(s) @ https://%s:%d%s (%s)\n", limit, sni ? sni : host, port,
		    path, resume ? "session-ID resumption offered" : "full handshakes, no session offered");
	else
		printf("Running %.0fs test @ https://%s:%d%s (%s)\n", secs, sni ? sni : host, port, path,
		    resume ? "session-ID resumption offered" : "full handshakes, no session offered");
	printf("  %d processes, one connection and one handshake per request\n", procs);
	fflush(stdout);
	t0 = now_ns();
	sh->stop_ns = t0 + (int64_t)(secs * 1e9);
	for (int i = 0; i < procs; i++) {
		pid_t p = fork();
		if (p == 0)
			worker(i);
		if (p < 0) {
			perror("fork");
			return 2;
		}
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	t1 = now_ns();
	for (int i = 0; i < FINE; i++)
		total += sh->fine[i];
	for (int i = 0; i <= COARSE; i++)
		total += sh->coarse[i];
	printf("  Latency Distribution\n");
	put_lat("50%", total ? quantile(0.50, total) : 0);
	put_lat("75%", total ? quantile(0.75, total) : 0);
	put_lat("90%", total ? quantile(0.90, total) : 0);
	put_lat("99%", total ? quantile(0.99, total) : 0);
	printf("  %llu requests in %.2fs\n", (unsigned long long)sh->requests, (t1 - t0) / 1e9);
	if (sh->e_connect || sh->e_read || sh->e_write || sh->e_timeout || sh->e_handshake)
		printf("  Socket errors: connect %llu, read %llu, write %llu, timeout %llu, handshake %llu\n",
		    (unsigned long long)sh->e_connect, (unsigned long long)sh->e_read,
		    (unsigned long long)sh->e_write, (unsigned long long)sh->e_timeout,
		    (unsigned long long)sh->e_handshake);
	if (sh->e_status)
		printf("  Non-2xx or 3xx responses: %llu\n", (unsigned long long)sh->e_status);
	if (sh->e_length)
		printf("  Socket errors: length %llu\n", (unsigned long long)sh->e_length);
	printf("Requests/sec: %.2f\n", sh->requests / ((t1 - t0) / 1e9));
	printf("Handshakes: full %llu, resumed %llu\n", (unsigned long long)sh->full,
	    (unsigned long long)sh->resumed);
	printf("Negotiated: %s %s group %s certificate %s\n", sh->version[0] ? sh->version : "-",
	    sh->cipher[0] ? sh->cipher : "-", sh->group[0] ? sh->group : "-",
	    sh->cert[0] ? sh->cert : "-");
	printf("Handshake bytes: %llu sent, %llu received\n", (unsigned long long)sh->hs_out,
	    (unsigned long long)sh->hs_in);
	return sh->requests ? 0 : 1;
}
