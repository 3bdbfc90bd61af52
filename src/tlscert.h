/*
 * tlscert.h: certificate chains and private keys, decoded from PEM files into one
 * caller-owned arena (no allocation), and the SNI choice among them. Seen only by the
 * TLS modules: it carries BearSSL types.
 */
#ifndef POLLUX_TLSCERT_H
#define POLLUX_TLSCERT_H

#include <bearssl.h>
#include <stddef.h>

#include "conf.h"
#include "tls.h"

#define TLS_MAX_CHAIN 8

struct tls_cert {
	const char *names;              /* the config's SNI patterns, NULL for default only */
	br_x509_certificate chain[TLS_MAX_CHAIN];
	size_t chain_len;
	int key_type;                   /* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	br_rsa_private_key rsa;
	br_ec_private_key ec;
};

/* one loaded set of certificates; `refs` counts handshakes still using it */
struct tls_gen {
	struct tls_cert cert[TLS_MAX_CERTS];
	unsigned n;
	unsigned refs;
};

/*
 * Loads every entry of the certs table into g, with its DER and key bytes in
 * arena[0..cap). Returns 0, or -1 with the reason in err[0..errlen) (a file that cannot
 * be read, no certificate, a key that is not ECDSA P-256/P-384 or RSA 2048-4096 or does
 * not match its certificate, an arena too small).
 */
int cert_load(struct tls_gen *g, const struct conf_cert *c, unsigned n,
    unsigned char *arena, size_t cap, char *err, size_t errlen);

/* the certificate for a server name (NULL or "" for none): the first whose patterns
 * match, else the first of all */
const struct tls_cert *cert_pick(const struct tls_gen *g, const char *name);

#endif
