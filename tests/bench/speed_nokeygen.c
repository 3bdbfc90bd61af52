/*
 * Linked into BearSSL's test/test_speed.c by tests/bench/run, which compiles it with
 * -Dbr_rsa_i62_keygen_get=bench_no_keygen: the RSA test then skips key generation
 * (it reports "KEYGEN UNAVAILABLE"), which a handshake never does and which would add
 * over 20 s of timing loops. Everything else of the tool is as BearSSL ships it.
 */
#include <bearssl.h>

br_rsa_keygen bench_no_keygen(void);

br_rsa_keygen
bench_no_keygen(void)
{
	return 0;
}
