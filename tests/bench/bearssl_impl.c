/*
 * bearssl_impl: which BearSSL implementations pollux's handshakes use on this build and
 * this CPU, as the names of BearSSL's speed tool (test/test_speed.c) that measure them.
 * Compiled by tests/bench/run with the flags of pollux's BearSSL build and linked with
 * the same libbearssl.a. It asks the same defaults src/tls.c asks: br_ec_get_default()
 * (ECDHE and the ECDSA point multiplication), br_ecdsa_sign_asn1_get_default(),
 * br_rsa_private_get_default() (under br_rsa_pkcs1_sign_get_default()) and what
 * br_ssl_engine_set_default_aes_gcm() installs in an engine (AES-CTR and GHASH, picked
 * at run time from the CPU's features). SHA-256 and SHA-384 (SHA-512's code) have one
 * implementation each. Prints one line: the speed tool's test names.
 */
#include <stdio.h>

#include <bearssl.h>

int main(void);

int
main(void)
{
	static br_ssl_server_context sc;
	const br_ec_impl *ec = br_ec_get_default();
	br_ecdsa_sign sign = br_ecdsa_sign_asn1_get_default();
	br_rsa_private priv = br_rsa_private_get_default();
	const char *n_ec = "?", *n_ecdsa = "?", *n_rsa = "?", *n_aes = "?", *n_gh = "?";

	/* ec_all_m31 and ec_all_m15 hand P-256 to ec_p256_m31 and ec_p256_m15 */
	if (ec == &br_ec_all_m31)
		n_ec = "ec_p256_m31";
	else if (ec == &br_ec_all_m15)
		n_ec = "ec_p256_m15";
	/* the speed tool's ECDSA tests pair i31 signing with p256_m31, i15 with p256_m15 */
	if (sign == &br_ecdsa_i31_sign_asn1 && ec == &br_ec_all_m31)
		n_ecdsa = "ecdsa_p256_m31";
	else if (sign == &br_ecdsa_i15_sign_asn1 && ec == &br_ec_all_m15)
		n_ecdsa = "ecdsa_p256_m15";
	if (priv == &br_rsa_i15_private)
		n_rsa = "rsa_i15";
	else if (priv == &br_rsa_i31_private)
		n_rsa = "rsa_i31";
	else if (priv == &br_rsa_i32_private)
		n_rsa = "rsa_i32";
	else if (priv == br_rsa_i62_private_get())
		n_rsa = "rsa_i62";
	br_ssl_engine_set_default_aes_gcm(&sc.eng);
	if (sc.eng.iaes_ctr == br_aes_x86ni_ctr_get_vtable() && sc.eng.iaes_ctr)
		n_aes = "aes128_x86ni_ctr";
	else if (sc.eng.iaes_ctr == &br_aes_ct64_ctr_vtable)
		n_aes = "aes128_ct64_ctr";
	else if (sc.eng.iaes_ctr == &br_aes_ct_ctr_vtable)
		n_aes = "aes128_ct_ctr";
	if (sc.eng.ighash == br_ghash_pclmul_get() && sc.eng.ighash)
		n_gh = "ghash_pclmul";
	else if (sc.eng.ighash == &br_ghash_ctmul64)
		n_gh = "ghash_ctmul64";
	else if (sc.eng.ighash == &br_ghash_ctmul32)
		n_gh = "ghash_ctmul32";
	else if (sc.eng.ighash == &br_ghash_ctmul)
		n_gh = "ghash_ctmul";
	printf("%s %s %s sha256 sha512 %s %s\n", n_ec, n_ecdsa, n_rsa, n_aes, n_gh);
	return 0;
}
