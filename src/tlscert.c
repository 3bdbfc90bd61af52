/*
 * tlscert.c: PEM files to BearSSL structures. The PEM decoder streams each object's DER
 * bytes straight into the arena (the file is read in small stack chunks, never whole);
 * certificates stay there as the chain, and a private key is decoded from a scratch copy
 * at the arena's end, then its components are copied down and the scratch dropped.
 * Before a key is accepted its public half is computed and compared with the leaf
 * certificate's, so a mismatched pair fails here and not in a client's handshake.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "route.h"
#include "tlscert.h"

struct arena {
	unsigned char *mem;
	size_t cap, used;
	int full;
};

static unsigned char *
take(struct arena *a, size_t len)
{
	if (a->cap - a->used < len) {
		a->full = 1;
		return NULL;
	}
	a->used += len;
	return a->mem + a->used - len;
}

static void
append(void *ctx, const void *src, size_t len)
{
	unsigned char *p = take(ctx, len);

	if (p)
		memcpy(p, src, len);
}

/* what to do with each PEM object of a file */
struct pem_walk {
	struct arena *a;
	int (*begin)(struct pem_walk *w, const char *name);     /* 1: keep its bytes */
	void (*end)(struct pem_walk *w, size_t start);
	struct tls_cert *cert;
	size_t key_start, key_len;
	int nkeys;
	char *err;
	size_t errlen;
};

static int
pem_event(struct pem_walk *w, br_pem_decoder_context *pc, size_t *start, int *keep)
{
	switch (br_pem_decoder_event(pc)) {
	case BR_PEM_BEGIN_OBJ:
		*start = w->a->used;
		*keep = w->begin(w, br_pem_decoder_name(pc));
		br_pem_decoder_setdest(pc, *keep ? append : NULL, w->a);
		return 0;
	case BR_PEM_END_OBJ:
		if (*keep)
			w->end(w, *start);
		*keep = 0;
		return 0;
	case BR_PEM_ERROR:
		snprintf(w->err, w->errlen, "not valid PEM");
		return -1;
	}
	return 0;
}

/* streams a PEM file through the decoder; 0 or -1 with w->err set */
static int
pem_file(const char *path, struct pem_walk *w)
{
	br_pem_decoder_context pc;
	unsigned char chunk[1024];
	size_t start = 0;
	int keep = 0, fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		snprintf(w->err, w->errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	br_pem_decoder_init(&pc);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		for (size_t off = 0; off < (size_t)n;) {
			off += br_pem_decoder_push(&pc, chunk + off, (size_t)n - off);
			if (pem_event(w, &pc, &start, &keep) < 0)
				break;
		}
	}
	/* the decoder needs a line end after the last line */
	br_pem_decoder_push(&pc, "\n", 1);
	pem_event(w, &pc, &start, &keep);
	close(fd);
	if (n < 0) {
		snprintf(w->err, w->errlen, "%s: %s", path, strerror(errno));
	} else if (w->err[0] && strncmp(w->err, path, strlen(path)) != 0) {
		char why[128];
		snprintf(why, sizeof(why), "%s", w->err);
		snprintf(w->err, w->errlen, "%s: %s", path, why);    /* name the file */
	}
	return n < 0 || w->err[0] ? -1 : 0;
}

/* ---- chains ----------------------------------------------------------------------- */

static int
chain_begin(struct pem_walk *w, const char *name)
{
	(void)w;
	return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0;
}

static void
chain_end(struct pem_walk *w, size_t start)
{
	struct tls_cert *c = w->cert;

	if (c->chain_len == TLS_MAX_CHAIN) {
		snprintf(w->err, w->errlen, "more than %d certificates in a chain", TLS_MAX_CHAIN);
		return;
	}
	c->chain[c->chain_len].data = w->a->mem + start;
	c->chain[c->chain_len].data_len = w->a->used - start;
	c->chain_len++;
}

/* ---- keys ------------------------------------------------------------------------- */

static int
key_begin(struct pem_walk *w, const char *name)
{
	int is_key = strcmp(name, "PRIVATE KEY") == 0 || strcmp(name, "EC PRIVATE KEY") == 0 ||
	    strcmp(name, "RSA PRIVATE KEY") == 0;

	return is_key && w->nkeys++ == 0;
}

static void
key_end(struct pem_walk *w, size_t start)
{
	w->key_start = start;
	w->key_len = w->a->used - start;
}

static unsigned char *
copy(struct arena *a, const unsigned char *src, size_t len)
{
	unsigned char *p = take(a, len);

	if (p)
		memcpy(p, src, len);
	return p;
}

/* copies the decoded key's components into the arena, in place of its DER */
static int
key_store(struct tls_cert *c, const br_skey_decoder_context *kd, struct arena *a)
{
	if (br_skey_decoder_key_type(kd) == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *k = br_skey_decoder_get_rsa(kd);
		c->key_type = BR_KEYTYPE_RSA;
		c->rsa = *k;
		c->rsa.p = copy(a, k->p, k->plen);
		c->rsa.q = copy(a, k->q, k->qlen);
		c->rsa.dp = copy(a, k->dp, k->dplen);
		c->rsa.dq = copy(a, k->dq, k->dqlen);
		c->rsa.iq = copy(a, k->iq, k->iqlen);
	} else {
		const br_ec_private_key *k = br_skey_decoder_get_ec(kd);
		c->key_type = BR_KEYTYPE_EC;
		c->ec = *k;
		c->ec.x = copy(a, k->x, k->xlen);
	}
	return a->full ? -1 : 0;
}

static int
key_load(struct tls_cert *c, const char *path, struct pem_walk *w)
{
	br_skey_decoder_context kd;
	size_t mark = w->a->used;

	w->begin = key_begin;
	w->end = key_end;
	w->nkeys = 0;
	w->key_len = 0;
	if (pem_file(path, w) < 0)
		return -1;
	if (w->key_len == 0 || w->a->full) {
		snprintf(w->err, w->errlen, "%s: %s", path, w->a->full ?
		    "TLS_CERT_BYTES too small" : "no private key");
		return -1;
	}
	br_skey_decoder_init(&kd);
	br_skey_decoder_push(&kd, w->a->mem + w->key_start, w->key_len);
	if (br_skey_decoder_last_error(&kd) != 0) {
		snprintf(w->err, w->errlen, "%s: cannot decode the private key", path);
		return -1;
	}
	memset(w->a->mem + mark, 0, w->a->used - mark);  /* the key's DER, no longer needed */
	w->a->used = mark;
	if (key_store(c, &kd, w->a) < 0) {
		snprintf(w->err, w->errlen, "%s: TLS_CERT_BYTES too small", path);
		return -1;
	}
	return 0;
}

/* ---- the pair --------------------------------------------------------------------- */

/* strips leading zero bytes of a big-endian integer */
static const unsigned char *
trim(const unsigned char *p, size_t *len)
{
	while (*len > 0 && *p == 0) {
		p++;
		(*len)--;
	}
	return p;
}

static int
rsa_matches(const br_rsa_public_key *pub, const br_rsa_private_key *sk)
{
	unsigned char n[512];
	br_rsa_compute_modulus modulus = br_rsa_compute_modulus_get_default();
	size_t len = modulus(NULL, sk), plen = pub->nlen;
	const unsigned char *a, *b;

	if (len == 0 || len > sizeof(n) || modulus(n, sk) != len)
		return 0;
	a = trim(n, &len);
	b = trim(pub->n, &plen);
	return len == plen && memcmp(a, b, len) == 0;
}

static int
ec_matches(const br_ec_public_key *pub, const br_ec_private_key *sk)
{
	unsigned char kbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	br_ec_public_key pk;

	if (pub->curve != sk->curve)
		return 0;
	if (br_ec_compute_pub(br_ec_get_default(), &pk, kbuf, sk) == 0)
		return 0;
	return pk.qlen == pub->qlen && memcmp(pk.q, pub->q, pk.qlen) == 0;
}

/* checks the key's kind and size, and that it is the leaf certificate's */
static const char *
pair_check(const struct tls_cert *c)
{
	br_x509_decoder_context xd;
	const br_x509_pkey *pk;

	br_x509_decoder_init(&xd, NULL, NULL);
	br_x509_decoder_push(&xd, c->chain[0].data, c->chain[0].data_len);
	pk = br_x509_decoder_get_pkey(&xd);
	if (!pk || br_x509_decoder_last_error(&xd) != 0)
		return "cannot decode the certificate";
	if (c->key_type == BR_KEYTYPE_RSA) {
		if (c->rsa.n_bitlen < 2048 || c->rsa.n_bitlen > 4096)
			return "RSA keys must have 2048 to 4096 bits";
		if (pk->key_type != BR_KEYTYPE_RSA || !rsa_matches(&pk->key.rsa, &c->rsa))
			return "the key does not match the certificate";
		return NULL;
	}
	if (c->ec.curve != BR_EC_secp256r1 && c->ec.curve != BR_EC_secp384r1)
		return "ECDSA keys must be on P-256 or P-384";
	if (pk->key_type != BR_KEYTYPE_EC || !ec_matches(&pk->key.ec, &c->ec))
		return "the key does not match the certificate";
	return NULL;
}

static int
cert_one(struct tls_cert *c, const struct conf_cert *cc, struct pem_walk *w)
{
	const char *why;

	memset(c, 0, sizeof(*c));
	c->names = cc->names;
	w->cert = c;
	w->begin = chain_begin;
	w->end = chain_end;
	if (pem_file(cc->chain, w) < 0)
		return -1;
	if (w->a->full || c->chain_len == 0) {
		snprintf(w->err, w->errlen, "%s: %s", cc->chain, w->a->full ?
		    "TLS_CERT_BYTES too small" : "no certificate");
		return -1;
	}
	if (key_load(c, cc->key, w) < 0)
		return -1;
	if ((why = pair_check(c)) != NULL) {
		snprintf(w->err, w->errlen, "%s and %s: %s", cc->chain, cc->key, why);
		return -1;
	}
	return 0;
}

int
cert_load(struct tls_gen *g, const struct conf_cert *c, unsigned n,
    unsigned char *arena, size_t cap, char *err, size_t errlen)
{
	struct arena a = { .mem = arena, .cap = cap };
	struct pem_walk w = { .a = &a, .err = err, .errlen = errlen };

	err[0] = '\0';
	memset(arena, 0, cap);
	g->n = 0;
	for (unsigned i = 0; i < n; i++) {
		if (cert_one(&g->cert[i], &c[i], &w) < 0)
			return -1;
		g->n++;
	}
	return 0;
}

/* 1 when one of the space-separated patterns matches name */
static int
names_match(const char *patterns, const char *name)
{
	char one[256];

	while (patterns && *patterns) {
		size_t len = strcspn(patterns, " ");
		if (len > 0 && len < sizeof(one)) {
			memcpy(one, patterns, len);
			one[len] = '\0';
			if (route_host_match(one, name, strlen(name)))
				return 1;
		}
		patterns += len;
		patterns += strspn(patterns, " ");
	}
	return 0;
}

const struct tls_cert *
cert_pick(const struct tls_gen *g, const char *name)
{
	if (name && name[0])
		for (unsigned i = 0; i < g->n; i++)
			if (names_match(g->cert[i].names, name))
				return &g->cert[i];
	return &g->cert[0];
}
