/*
 * tls.c: BearSSL server engines driven from the poll loop, never blocking. Each TLS
 * slot holds one br_ssl_server_context and its full-duplex record buffer (records can
 * flow both ways at once, as a WebSocket needs). Every engine shares: one session
 * cache (resumption by session ID), one HMAC-DRBG seeded from getrandom() at start
 * (each handshake draws its entropy from it, no syscall), and the certificate sets.
 *
 * Certificates come in two generations so SIGHUP can load new files while handshakes
 * in progress finish on the old ones; a handshake pins its generation in the policy's
 * choose() and lets go once the handshake completes (a finished session needs no
 * certificate). The SNI policy is stateless: choose() picks the certificate by server
 * name, installs BearSSL's own single-certificate policy for it in the same context,
 * and lets that one choose the suite and sign.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "stats.h"
#include "tls.h"
#include "tlscert.h"

struct tls {
	br_ssl_server_context sc;
	const br_ssl_server_policy_class *policy;       /* the SNI policy, per engine */
	int8_t gen;             /* certificate generation pinned by the handshake, or -1 */
	uint8_t configured;     /* the engine's settings are in place */
	uint8_t done;           /* the handshake completed */
	uint8_t heard;          /* bytes came from the client */
	uint8_t old;            /* refused a ClientHello below TLS 1.2 ourselves */
	uint8_t named;          /* name_pad holds the ClientHello's server name */
	unsigned char name_pad[32];     /* session ID mask for that name */
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

_Static_assert(sizeof(struct tls) <= TLS_SLOT_BYTES, "TLS_SLOT_BYTES is too small");
_Static_assert(TLS_SESSION_BYTES == 100, "BearSSL's LRU entries are 100 bytes");

/* ECDHE only, AEAD only; the client's order decides (it knows whether it has AES) */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/* the Makefile builds BearSSL with room for 8 suites (BSSL_SUITES), not 48 */
_Static_assert(sizeof(suites) / sizeof(suites[0]) <= BR_MAX_CIPHER_SUITES,
    "more suites than BR_MAX_CIPHER_SUITES: raise BSSL_SUITES in the Makefile");

static const char *alpn[] = { "http/1.1" };

static br_ssl_session_cache_lru cache;

static unsigned char name_secret[32];  /* keys session IDs to server names */

/*
 * The LRU cache, seen through a class that files each session under its ID masked
 * with a hash of the server name it was made for: a session resumes only under the
 * same name (RFC 6066, section 3), and the hits are counted.
 */
static void
name_pad(const char *name, size_t len, unsigned char pad[32])
{
	br_sha256_context h;

	br_sha256_init(&h);
	br_sha256_update(&h, name_secret, sizeof(name_secret));
	br_sha256_update(&h, name, len);
	br_sha256_out(&h, pad);
}

static void
masked(const unsigned char pad[32], const br_ssl_session_parameters *in,
    br_ssl_session_parameters *out)
{
	*out = *in;
	for (size_t i = 0; i < sizeof(out->session_id); i++)
		out->session_id[i] ^= pad[i];
}

static void
counted_save(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
    const br_ssl_session_parameters *params)
{
	/* by now the engine has parsed the server name */
	const char *name = br_ssl_engine_get_server_name(&sc->eng);
	br_ssl_session_parameters m;
	unsigned char pad[32];

	(void)ctx;
	name_pad(name, strlen(name), pad);
	masked(pad, params, &m);
	cache.vtable->save(&cache.vtable, sc, &m);
}

static int
counted_load(const br_ssl_session_cache_class **ctx, br_ssl_server_context *sc,
    br_ssl_session_parameters *params)
{
	/* the engine looks sessions up before it parses the server name: use ours */
	struct tls *t = (struct tls *)(void *)sc;
	br_ssl_session_parameters m;
	int hit;

	(void)ctx;
	if (!t->named)
		return 0;               /* a hello we could not read: no resumption */
	masked(t->name_pad, params, &m);
	if ((hit = cache.vtable->load(&cache.vtable, sc, &m)) != 0) {
		params->version = m.version;
		params->cipher_suite = m.cipher_suite;
		memcpy(params->master_secret, m.master_secret, sizeof(m.master_secret));
		stats.tls_resumed++;
	}
	return hit;
}

static const br_ssl_session_cache_class counted_class = {
	.context_size = sizeof(const br_ssl_session_cache_class *),
	.save = counted_save,
	.load = counted_load,
};
static const br_ssl_session_cache_class *counted = &counted_class;
static br_hmac_drbg_context drbg;
static br_ec_impl curves;               /* the default EC code, limited to our curves */
static struct tls_gen gens[2];
static int active;                      /* the generation new handshakes use */
static int reload_pending;

/* ---- the SNI policy --------------------------------------------------------------- */

static struct tls *
of_policy(const br_ssl_server_policy_class **pctx)
{
	return (struct tls *)(void *)((char *)pctx - offsetof(struct tls, policy));
}

static int
sni_choose(const br_ssl_server_policy_class **pctx, const br_ssl_server_context *cc,
    br_ssl_server_choices *choices)
{
	struct tls *t = of_policy(pctx);
	br_ssl_server_context *sc = &t->sc;     /* cc, without the const */
	const struct tls_cert *c = cert_pick(&gens[active],
	    br_ssl_engine_get_server_name(&cc->eng));

	t->gen = (int8_t)active;
	gens[active].refs++;
	if (c->key_type == BR_KEYTYPE_RSA)
		br_ssl_server_set_single_rsa(sc, c->chain, c->chain_len, &c->rsa,
		    BR_KEYTYPE_SIGN, br_rsa_private_get_default(), br_rsa_pkcs1_sign_get_default());
	else
		br_ssl_server_set_single_ec(sc, c->chain, c->chain_len, &c->ec, BR_KEYTYPE_SIGN,
		    BR_KEYTYPE_EC, &curves, br_ecdsa_sign_asn1_get_default());
	return (*sc->policy_vtable)->choose(sc->policy_vtable, cc, choices);
}

static uint32_t
sni_keyx(const br_ssl_server_policy_class **pctx, unsigned char *data, size_t *len)
{
	(void)pctx; (void)data; (void)len;
	return 0;               /* never called: choose() hands over to another policy */
}

static size_t
sni_sign(const br_ssl_server_policy_class **pctx, unsigned algo_id, unsigned char *data,
    size_t hv_len, size_t len)
{
	(void)pctx; (void)algo_id; (void)data; (void)hv_len; (void)len;
	return 0;
}

static const br_ssl_server_policy_class sni_policy = {
	.context_size = sizeof(struct tls),
	.choose = sni_choose,
	.do_keyx = sni_keyx,
	.do_sign = sni_sign,
};

/* ---- set-up ----------------------------------------------------------------------- */

static void
seed(void)
{
	unsigned char s[48];
	size_t got = 0;

	while (got < sizeof(s)) {
		ssize_t n = getrandom(s + got, sizeof(s) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof(s)) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, s, sizeof(s)) : -1;
		if (fd >= 0)
			close(fd);
		if (n != (ssize_t)sizeof(s))
			log_fatal("cannot seed the TLS random generator: no getrandom(), "
			    "no /dev/urandom");
	}
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, s, sizeof(s));
	memset(s, 0, sizeof(s));
}

static void
configure(struct tls *t)
{
	br_ssl_engine_context *e = &t->sc.eng;

	br_ssl_server_zero(&t->sc);
#ifdef POLLUX_TLS_LEGACY
	br_ssl_engine_set_versions(e, BR_TLS10, BR_TLS12);
	br_ssl_engine_set_hash(e, br_md5_ID, &br_md5_vtable);
	br_ssl_engine_set_hash(e, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_prf10(e, &br_tls10_prf);
#else
	br_ssl_engine_set_versions(e, BR_TLS12, BR_TLS12);
#endif
	br_ssl_engine_set_suites(e, suites, sizeof(suites) / sizeof(suites[0]));
	br_ssl_engine_set_ec(e, &curves);
	br_ssl_engine_set_hash(e, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(e, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(e, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(e, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(e);
	br_ssl_engine_set_default_chapol(e);
	br_ssl_engine_set_protocol_names(e, alpn, 1);
	br_ssl_engine_add_flags(e, BR_OPT_NO_RENEGOTIATION);
	br_ssl_engine_set_buffer(e, t->iobuf, sizeof(t->iobuf), 1);
	br_ssl_server_set_cache(&t->sc, &counted);
	t->configured = 1;
}

static void
load_into(int g, int fatal)
{
	char err[256];

	if (cert_load(&gens[g], conf.certs, conf.ncerts, conf.cert_mem + (size_t)g * conf.cert_len,
	    conf.cert_len, err, sizeof(err)) == 0) {
		active = g;
		return;
	}
	if (fatal)
		log_fatal("certificate: %s", err);
	log_err("certificate reload failed, keeping the loaded ones: %s", err);
}

void
tls_init(void)
{
	if (conf.ntls == 0)
		return;
	seed();
	curves = *br_ec_get_default();
	curves.supported_curves = (1u << BR_EC_curve25519) | (1u << BR_EC_secp256r1) |
	    (1u << BR_EC_secp384r1);
	br_ssl_session_cache_lru_init(&cache, conf.session_mem, conf.session_len);
	br_hmac_drbg_generate(&drbg, name_secret, sizeof(name_secret));
	load_into(0, 1);
	/* every slot starts unconfigured (zero .bss): its pages stay untouched until used */
}

struct tls *
tls_slot(unsigned i)
{
	return (struct tls *)(void *)(conf.tls_mem + (size_t)i * TLS_SLOT_BYTES);
}

/* ---- per connection --------------------------------------------------------------- */

static void
unpin(struct tls *t)
{
	if (t->gen >= 0) {
		gens[t->gen].refs--;
		t->gen = -1;
	}
}

void
tls_start(struct tls *t)
{
	unsigned char s[32];

	if (!t->configured)
		configure(t);
	br_hmac_drbg_generate(&drbg, s, sizeof(s));
	br_ssl_engine_inject_entropy(&t->sc.eng, s, sizeof(s));
	t->policy = &sni_policy;
	br_ssl_server_set_policy(&t->sc, &t->policy);
	t->gen = -1;
	t->done = 0;
	t->heard = 0;
	t->old = 0;
	t->named = 0;
	br_ssl_server_reset(&t->sc);
}

void
tls_end(struct tls *t)
{
	unpin(t);
}

/* notes the end of the handshake: the certificates are not needed any more */
static unsigned
state(struct tls *t)
{
	unsigned st = br_ssl_engine_current_state(&t->sc.eng);

	if (!t->done && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) {
		t->done = 1;
		stats.tls_handshakes++;
		unpin(t);
	}
	return st;
}

/* one write of pending records: >0 written, IO_AGAIN or IO_ERR; more: the FIN (and
 * maybe a close_notify) follows at once, so the kernel may hold the tail for it */
static long
send_records(struct tls *t, int fd, int more)
{
	size_t len;
	unsigned char *p = br_ssl_engine_sendrec_buf(&t->sc.eng, &len);
	ssize_t n;

	do
		n = send(fd, p, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
	br_ssl_engine_sendrec_ack(&t->sc.eng, (size_t)n);
	return n;
}

/*
 * A ClientHello offering at most TLS 1.1 gets a protocol_version alert in a record of
 * the client's own version (BearSSL's would carry version 0, which clients read as
 * garbage).
 */
static int
refuse_old(struct tls *t, int fd, unsigned char *p, size_t n)
{
	unsigned char alert[7] = { 0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46 };

	/* only a whole first record: answering part of one would meet the rest of it */
	if (n < 11 || p[0] != 0x16 || p[5] != 0x01 || p[9] != 0x03 || p[10] >= 0x03 ||
	    (size_t)(p[3] << 8 | p[4]) + 5 > n)
		return 0;
	alert[2] = p[2] <= 0x03 ? p[2] : 0x01;
	(void)!send(fd, alert, sizeof(alert), MSG_NOSIGNAL);
	/* take in what was only peeked at, so the close is a FIN and not a reset that
	 * could destroy the alert before the client reads it */
	(void)!recv(fd, (void *)p, n, MSG_DONTWAIT);
	t->old = 1;
	return 1;
}

/* big-endian length of n bytes at p[*i], advancing *i; -1 past the end */
static long
take_len(const unsigned char *p, size_t end, size_t *i, int n)
{
	long v = 0;

	if (*i + (size_t)n > end)
		return -1;
	for (int k = 0; k < n; k++)
		v = v << 8 | p[(*i)++];
	return v;
}

/* skips a vector with an n-byte length; 0 or -1 */
static int
skip_vec(const unsigned char *p, size_t end, size_t *i, int n)
{
	long l = take_len(p, end, i, n);

	if (l < 0 || *i + (size_t)l > end)
		return -1;
	*i += (size_t)l;
	return 0;
}

/*
 * The server name of a ClientHello that arrived whole in one record at p[0..n): sets
 * t->name_pad and t->named ("" when there is no SNI). Anything short or odd leaves
 * t->named at 0, which only means no resumption for this connection.
 */
static void
hello_name(struct tls *t, const unsigned char *p, size_t n)
{
	size_t i = 5 + 4 + 2 + 32, end;
	long rl, el;

	if (n < i || p[0] != 0x16 || p[5] != 0x01 || (rl = (long)(p[3] << 8 | p[4])) + 5 > (long)n)
		return;
	end = 5 + (size_t)rl;
	if (skip_vec(p, end, &i, 1) < 0 || skip_vec(p, end, &i, 2) < 0 || skip_vec(p, end, &i, 1) < 0)
		return;
	if (i == end) {                 /* no extensions at all */
		name_pad("", 0, t->name_pad);
		t->named = 1;
		return;
	}
	if ((el = take_len(p, end, &i, 2)) < 0 || i + (size_t)el > end)
		return;
	end = i + (size_t)el;
	while (i + 4 <= end) {
		long type = take_len(p, end, &i, 2), len = take_len(p, end, &i, 2);
		size_t next = i + (size_t)len;
		if (len < 0 || next > end)
			return;
		if (type == 0) {                /* server_name: list, type 0, name */
			long nl;
			i += 3;
			if (i > next || (nl = take_len(p, next, &i, 2)) < 0 || i + (size_t)nl > next)
				return;
			name_pad((const char *)p + i, (size_t)nl, t->name_pad);
			t->named = 1;
			return;
		}
		i = next;
	}
	name_pad("", 0, t->name_pad);
	t->named = 1;
}

/* the first flight, before the engine reads it */
static int
first_look(struct tls *t, int fd)
{
	unsigned char p[2048];
	ssize_t n = recv(fd, p, sizeof(p), MSG_PEEK);

	if (n <= 0)
		return 0;               /* the read that follows reports it */
	t->heard = 1;
	if (refuse_old(t, fd, p, (size_t)n))
		return -1;
	hello_name(t, p, (size_t)n);
	return 0;
}

/* one read of records: >0 read, IO_AGAIN, IO_EOF or IO_ERR */
static long
recv_records(struct tls *t, int fd)
{
	size_t len;
	unsigned char *p = br_ssl_engine_recvrec_buf(&t->sc.eng, &len);
	ssize_t n;

	if (!t->heard && first_look(t, fd) < 0)
		return IO_ERR;
	do
		n = read(fd, p, len);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		br_ssl_engine_recvrec_ack(&t->sc.eng, (size_t)n);
		return n;
	}
	if (n == 0)
		return IO_EOF;
	return errno == EAGAIN || errno == EWOULDBLOCK ? IO_AGAIN : IO_ERR;
}

static long
closed(const struct tls *t)
{
	return br_ssl_engine_last_error(&t->sc.eng) == BR_ERR_OK ? IO_EOF : IO_ERR;
}

long
tls_read(struct tls *t, int fd, char *dst, size_t len)
{
	for (;;) {
		unsigned st = state(t);
		long r;
		if (st & BR_SSL_CLOSED)
			return closed(t);
		if (st & BR_SSL_RECVAPP) {
			size_t n;
			unsigned char *p = br_ssl_engine_recvapp_buf(&t->sc.eng, &n);
			n = n < len ? n : len;
			memcpy(dst, p, n);
			br_ssl_engine_recvapp_ack(&t->sc.eng, n);
			return (long)n;
		}
		if (st & BR_SSL_SENDREC) {
			if ((r = send_records(t, fd, 0)) < 0)
				return r;
			continue;
		}
		if (!(st & BR_SSL_RECVREC))
			return IO_AGAIN;
		if ((r = recv_records(t, fd)) < 0)
			return r;
	}
}

long
tls_flush(struct tls *t, int fd, int more)
{
	for (;;) {
		unsigned st = state(t);
		long r;
		if (!(st & BR_SSL_SENDREC))
			return 0;
		if ((r = send_records(t, fd, more && t->done)) < 0)
			return r;
	}
}

long
tls_write(struct tls *t, int fd, const char *src, size_t len, int more)
{
	for (;;) {
		unsigned st = state(t);
		if (st & BR_SSL_CLOSED)
			return IO_ERR;
		if (st & BR_SSL_SENDAPP) {
			size_t n;
			unsigned char *p = br_ssl_engine_sendapp_buf(&t->sc.eng, &n);
			n = n < len ? n : len;
			memcpy(p, src, n);
			br_ssl_engine_sendapp_ack(&t->sc.eng, n);
			if (n == len)
				br_ssl_engine_flush(&t->sc.eng, 0);     /* all of it: one record */
			long r = tls_flush(t, fd, more);
			return r == IO_ERR ? IO_ERR : (long)n;
		}
		if (!(st & BR_SSL_SENDREC))
			return IO_AGAIN;        /* the handshake needs the peer first */
		long r = send_records(t, fd, 0);
		if (r < 0)
			return r;
	}
}

short
tls_events(const struct tls *t, int want_read, int want_write)
{
	unsigned st = br_ssl_engine_current_state(&t->sc.eng);
	short ev = 0;

	if (st & BR_SSL_SENDREC)
		ev |= POLLOUT;
	if ((st & BR_SSL_RECVREC) && (want_read || !t->done || (want_write &&
	    !(st & (BR_SSL_SENDAPP | BR_SSL_SENDREC)))))
		ev |= POLLIN;
	return ev;
}

int
tls_ready(const struct tls *t)
{
	return (br_ssl_engine_current_state(&t->sc.eng) & (BR_SSL_RECVAPP | BR_SSL_CLOSED)) != 0;
}

int
tls_pending(const struct tls *t)
{
	return (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDREC) != 0;
}

int
tls_handshaking(const struct tls *t)
{
	return !t->done;
}

int
tls_heard(const struct tls *t)
{
	return t->heard != 0;
}

void
tls_close(struct tls *t)
{
	br_ssl_engine_close(&t->sc.eng);
}

/* ---- errors and reload ------------------------------------------------------------ */

static const struct {
	int err;
	const char *text;
} errtab[] = {
	{ BR_ERR_BAD_PARAM, "bad parameter" },
	{ BR_ERR_BAD_STATE, "bad state" },
	{ BR_ERR_UNSUPPORTED_VERSION, "unsupported protocol version" },
	{ BR_ERR_BAD_VERSION, "bad version" },
	{ BR_ERR_BAD_LENGTH, "bad record length" },
	{ BR_ERR_TOO_LARGE, "record too large" },
	{ BR_ERR_BAD_MAC, "bad record MAC" },
	{ BR_ERR_NO_RANDOM, "no entropy" },
	{ BR_ERR_UNKNOWN_TYPE, "unknown record type" },
	{ BR_ERR_UNEXPECTED, "unexpected message" },
	{ BR_ERR_BAD_CCS, "bad ChangeCipherSpec" },
	{ BR_ERR_BAD_ALERT, "bad alert" },
	{ BR_ERR_BAD_HANDSHAKE, "bad handshake message" },
	{ BR_ERR_OVERSIZED_ID, "oversized session ID" },
	{ BR_ERR_BAD_CIPHER_SUITE, "bad cipher suite" },
	{ BR_ERR_BAD_COMPRESSION, "bad compression" },
	{ BR_ERR_BAD_FRAGLEN, "bad fragment length" },
	{ BR_ERR_BAD_SECRENEG, "bad secure renegotiation" },
	{ BR_ERR_EXTRA_EXTENSION, "unexpected extension" },
	{ BR_ERR_BAD_SNI, "bad server name" },
	{ BR_ERR_BAD_HELLO_DONE, "bad ServerHelloDone" },
	{ BR_ERR_LIMIT_EXCEEDED, "limit exceeded" },
	{ BR_ERR_BAD_FINISHED, "bad Finished" },
	{ BR_ERR_RESUME_MISMATCH, "resumption mismatch" },
	{ BR_ERR_INVALID_ALGORITHM, "invalid algorithm" },
	{ BR_ERR_BAD_SIGNATURE, "bad signature" },
	{ BR_ERR_WRONG_KEY_USAGE, "wrong key usage" },
	{ BR_ERR_NO_CLIENT_AUTH, "no client certificate" },
	{ BR_ERR_IO, "I/O error" },
};

const char *
tls_error(const struct tls *t)
{
	int e = br_ssl_engine_last_error(&t->sc.eng);

	if (t->old)
		return "the client offers TLS 1.1 at most (refused with protocol_version)";
	if (e == BR_ERR_OK)
		return "";
	if (e >= BR_ERR_RECV_FATAL_ALERT && e < BR_ERR_SEND_FATAL_ALERT)
		return "the client sent a fatal alert";
	if (e >= BR_ERR_SEND_FATAL_ALERT)
		return "refused with a fatal alert (no common version, suite or curve?)";
	for (size_t i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].err == e)
			return errtab[i].text;
	return "TLS error";
}

void
tls_sweep(void)
{
	if (reload_pending)
		tls_reload();
}

void
tls_reload(void)
{
	int other = !active;

	if (conf.ntls == 0)
		return;
	if (gens[other].refs) {
		/* handshakes from before the last reload still use that set: wait for them */
		reload_pending = 1;
		log_info("certificate reload deferred: %u handshakes still use the old set",
		    gens[other].refs);
		return;
	}
	reload_pending = 0;
	load_into(other, 0);
	if (active == other)
		log_info("certificates reloaded");
}
