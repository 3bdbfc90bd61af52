# hscost.awk: the HTTPS part of tests/bench/run's report, as text (-v fmt=text) or
# markdown (-v fmt=md): the handshakes each HTTPS run made (as the client counted them,
# and as pollux's /metrics did), and the handshake cost: pollux's CPU per full
# handshake against the BearSSL primitives such a handshake needs, measured by
# BearSSL's own speed tool, with the sum written out. -v target=1.3 is the target ratio.
# Files, in order: speed.txt (the tool's output, first line "# impl NAMES"), tls.tsv
# (scenario proxy client-full client-resumed pollux-full pollux-resumed pollux-failed
# requests cpu_us handshake-bytes negotiated), results.tsv (see report.awk).
#
# The model of a full TLS 1.2 ECDHE handshake on the server (BearSSL's ssl_hs_server):
#   ECDHE: one P-256 mulgen (the server's key share) and one P-256 mul (the secret);
#   signature: one ECDSA P-256 sign (its RFC 6979 nonce included) or one RSA-2048
#     private-key operation (PKCS#1 v1.5 padding is nothing next to it);
#   hashing: the transcript (the handshake bytes both ways, record headers included,
#     from tlsload) through SHA-256 and SHA-384 at once (pollux's engines carry both
#     hashes until the suite is known, BearSSL hashes with every configured one), plus
#     SHA_BLOCKS SHA-256 compressions counted from the code: the TLS 1.2 PRF (master
#     secret 15, key block 15, the two Finished 9 each), HMAC-DRBG (pollux's draw and the
#     engine's reseed with it, then the server random, the session ID and the ECDHE key:
#     about 12 each), the session cache's ID index (HMAC) and pollux's name pad: 120;
#   AES-128-GCM: the two Finished, the request and the response, AES_BYTES in all,
#     through AES-CTR and GHASH.
# Everything else (the record layer's framing, the state machine, the X.509 chain
# already encoded, copying) is not a primitive: it is what the ratio leaves to pollux.
BEGIN {
	FS = "\t"
	SHA_BLOCKS = 120
	AES_BYTES = 512
	if (target == "") target = 1.3
}
# by name: speed.txt is empty when the tool did not run (no FNR == 1 line for it)
FNR == 1 { file = FILENAME == ARGV[1] ? 1 : FILENAME == ARGV[2] ? 2 : 3 }
# speed.txt: "# run LABEL" starts each run of the tool: "all" (every test, at the end)
# or "SCENARIO before" / "SCENARIO after" (the EC and signature tests around pollux's
# measured run of that case); rates go to rate[LABEL, key]
file == 1 {
	if ($0 ~ /^# impl /) { impl = substr($0, 8); next }
	if ($0 ~ /^# run /) { run = substr($0, 7); next }
	n = split($0, f, " +")
	if (n < 3) next
	unit = f[n]; v = f[n - 1] + 0
	name = $0; sub(/ +[0-9.]+ [a-zA-Z\/]+$/, "", name)
	k = ""
	if (name ~ /^EC / && name ~ /\(FP\)/ && unit == "mul/s") { k = "mulgen"; n_ec = name; sub(/ \(FP\)/, "", n_ec) }
	else if (name ~ /^EC / && unit == "mul/s") k = "mul"
	else if (name ~ /^ECDSA/ && unit == "sign/s") { k = "sign"; n_ecdsa = name }
	else if (name ~ /^RSA/ && unit == "priv/s") { k = "rsa"; n_rsa = name }
	else if (name ~ /^SHA-256/) k = "sha256"
	else if (name ~ /^SHA-512/) k = "sha512"
	else if (name ~ /^AES-128/) { k = "aes"; n_aes = name }
	else if (name ~ /^GHASH/) { k = "ghash"; n_gh = name }
	if (k != "") rate[run, k] = v
	next
}
file == 2 {
	nt++; ts[nt] = $1; tp[nt] = $2; cf[nt] = $3; cr[nt] = $4; pf[nt] = $5; pr[nt] = $6
	pfail[nt] = $7; treq[nt] = $8; tcpu[nt] = $9; hsb[nt] = $10; neg[nt] = $11
	tidx[$1, $2] = nt
	next
}
file == 3 {
	st[$1, $2] = $3; cpu[$1, $2] = $8; err[$1, $2] = $10
	next
}

# bus(S, K): microseconds of primitive K for case S: the mean of the runs just before
# and after pollux's measured run when both are there, else the run at the end; the
# text of what was used goes to bwhy
function bus(S, K,    b, a) {
	b = rate[S " before", K] + 0; a = rate[S " after", K] + 0
	if (b > 0 && a > 0) {
		bwhy = sprintf("%.1f before, %.1f after", us(b), us(a))
		return (us(b) + us(a)) / 2
	}
	bwhy = "the run at the end"
	return us(rate["all", K])
}

# cost(S, K, I): microseconds of primitives per full handshake of case S (K: 1 ECDSA,
# 2 RSA; I its tls.tsv row); leaves the parts in T ugen umul sg h256 h384 gcm and where
# EC and the signature came from in wgen wmul wsg
function cost(S, K, I) {
	T = hsb[I] + 0
	ugen = bus(S, "mulgen"); wgen = bwhy
	umul = bus(S, "mul"); wmul = bwhy
	sg = bus(S, K == 1 ? "sign" : "rsa"); wsg = bwhy
	h256 = (T + SHA_BLOCKS * 64) / sha256
	h384 = T / sha512
	gcm = AES_BYTES / aes + AES_BYTES / ghash
	return ugen + umul + sg + h256 + h384 + gcm
}

# -v fmt=ratio: one line per full-handshake case pollux ran, "CASE RATIO" (- when not
# measured); tests/bench/run prints it for each round
function ratios(    k, s, i, P) {
	for (k = 1; k <= 2; k++) {
		s = k == 1 ? "https-full-ecdsa" : "https-full-rsa"
		i = tidx[s, "pollux"]
		if (!i) continue
		P = cost(s, k, i)
		print s, (st[s, "pollux"] == "ok" && P > 0 ? sprintf("%.2f", cpu[s, "pollux"] / P) : "-")
	}
}

function share(r, f) { return (r + f) > 0 ? sprintf("%.2f%%", 100 * r / (r + f)) : "-" }
function us(rate) { return rate > 0 ? 1e6 / rate : 0 }
function line(s) { printf "%s%s\n", fmt == "md" ? "    " : "  ", s }

END {
	mul = rate["all", "mul"]; mulgen = rate["all", "mulgen"]; sign = rate["all", "sign"]
	rsa = rate["all", "rsa"]; sha256 = rate["all", "sha256"]; sha512 = rate["all", "sha512"]
	aes = rate["all", "aes"]; ghash = rate["all", "ghash"]
	if (fmt == "ratio") {
		if (mul && mulgen && sha256) ratios()
		exit
	}
	# ---- the handshakes of each HTTPS run ----
	if (nt == 0) exit
	if (fmt == "md") {
		print "### HTTPS handshakes\n"
		print "Negotiated is what the check request got (the same client options as the load)." \
		    " Client counts are tlsload's (SSL_session_reused), over the measured run; pollux's" \
		    " are the change in pollux_tls_handshakes_total of its /metrics over the same run." \
		    " wrk (keep-alive) does not count; its 64 connections are new at the start of the" \
		    " measured run.\n"
		print "| scenario | proxy | negotiated | client full / resumed | resumed share | pollux /metrics full / resumed / failed | CPU us per handshake |"
		print "|---|---|---|--:|--:|--:|--:|"
	} else
		print "HTTPS handshakes (client: tlsload's counts; pollux: /metrics over the measured run):"
	for (i = 1; i <= nt; i++) {
		per = (cf[i] != "-" && st[ts[i], tp[i]] == "ok") ? sprintf("%.1f", tcpu[i]) : "-"
		c = cf[i] == "-" ? "-" : cf[i] " / " cr[i]
		p = pf[i] == "-" ? "-" : pf[i] " / " pr[i] " / " pfail[i]
		sh = cf[i] == "-" ? (pf[i] == "-" ? "-" : share(pr[i], pf[i])) : share(cr[i], cf[i])
		if (fmt == "md")
			printf "| %s | %s | %s | %s | %s | %s | %s |\n", ts[i], tp[i], neg[i], c, sh, p, per
		else {
			split(neg[i], w, " ")      # TLSv1.2 SUITE group G certificate C
			printf "  %-16s %-8s %-29s %-10s %-8s client %-13s resumed %-7s pollux %-17s %s us/hs\n",
			    ts[i], tp[i], w[2], w[4], w[6], c, sh, p, per
		}
	}
	print ""

	# ---- the handshake cost ----
	if (fmt == "md") print "### Handshake cost: pollux against the BearSSL primitives\n"
	else print "handshake cost (pollux CPU per full handshake / the BearSSL primitives it needs):"
	if (mul == 0 || mulgen == 0 || sha256 == 0) {
		line("not computed: BearSSL's speed tool did not run (see bench's messages)")
		print ""
		exit
	}
	if (fmt == "md")
		print "BearSSL's speed tool (its test/test_speed.c, compiled with the flags of pollux's" \
		    " BearSSL build and linked with the same libbearssl.a; RSA key generation left out)," \
		    " pinned to the proxy's CPU, on the implementations pollux's handshakes use here" \
		    " (this table: its run at the end of the bench; the sums below take EC and the" \
		    " signature from runs right before and after pollux's measured run of each case)" \
		    " (" impl "):\n"
	line(sprintf("%-24s %10.2f /s  = %8.1f us", n_ec " mul", mul, us(mul)))
	line(sprintf("%-24s %10.2f /s  = %8.1f us", n_ec " mulgen", mulgen, us(mulgen)))
	if (sign) line(sprintf("%-24s %10.2f /s  = %8.1f us", n_ecdsa " sign", sign, us(sign)))
	if (rsa) line(sprintf("%-24s %10.2f /s  = %8.1f us", n_rsa " private", rsa, us(rsa)))
	line(sprintf("%-24s %10.2f MB/s = %8.4f us/byte", "SHA-256", sha256, 1 / sha256))
	line(sprintf("%-24s %10.2f MB/s = %8.4f us/byte", "SHA-384 (SHA-512)", sha512, 1 / sha512))
	line(sprintf("%-24s %10.2f MB/s = %8.5f us/byte", n_aes, aes, 1 / aes))
	line(sprintf("%-24s %10.2f MB/s = %8.5f us/byte", n_gh, ghash, 1 / ghash))
	print ""
	if (fmt == "md")
		print "Per full handshake: ECDHE = mulgen + mul; the signature; SHA-256 over the" \
		    " transcript T plus " SHA_BLOCKS " compressions (PRF, HMAC-DRBG, session index: " \
		    SHA_BLOCKS * 64 " bytes), SHA-384 over T; AES-128-GCM over " AES_BYTES " bytes" \
		    " (both Finished, the request, the response). T is the handshake's bytes both" \
		    " ways (tlsload). pollux's CPU per full handshake is its CPU per request in that" \
		    " case (one handshake per request, none resumed: see above), so it includes" \
		    " accepting the connection and proxying the request; \"net\" takes off pollux's" \
		    " CPU per request over plain HTTP with a new connection per request" \
		    " (newconn-100b, when it ran).\n"
	for (k = 1; k <= 2; k++) {
		s = k == 1 ? "https-full-ecdsa" : "https-full-rsa"
		i = tidx[s, "pollux"]
		if (!i) continue
		P = cost(s, k, i)
		line(sprintf("%s: %.1f + %.1f (ECDHE) + %.1f (%s) + (%d + %d) / %.2f (SHA-256) + %d / %.2f (SHA-384) + %d / %.0f + %d / %.0f (AES-GCM)",
		    s, ugen, umul, sg, k == 1 ? "ECDSA sign" : "RSA private", T, SHA_BLOCKS * 64, sha256,
		    T, sha512, AES_BYTES, aes, AES_BYTES, ghash))
		line(sprintf("%*s= %.1f + %.1f + %.1f + %.1f + %.1f + %.2f = %.1f us of primitives per handshake",
		    length(s) + 2, "", ugen, umul, sg, h256, h384, gcm, P))
		if (wgen ~ /before/ && wmul ~ /before/ && wsg ~ /before/)
			line(sprintf("%*s(around pollux's measured run, each the mean of the two: mulgen %s;" \
			    " mul %s; %s %s)", length(s) + 2, "", wgen, wmul, k == 1 ? "sign" : "private", wsg))
		else
			line(sprintf("%*s(EC and signature from the run at the end: no runs around this case)",
			    length(s) + 2, ""))
		ok = st[s, "pollux"] == "ok"
		C = cpu[s, "pollux"] + 0
		if (!ok) {
			line(sprintf("%*spollux: %s: not measured", length(s) + 2, "", st[s, "pollux"]))
			tl[++nt2] = sprintf("%s pollux CPU per full handshake vs BearSSL primitives: not measured", s)
			continue
		}
		R = C / P
		valid = pr[i] == "0" && cr[i] == "0" && err[s, "pollux"] == "-"
		line(sprintf("%*spollux: %.1f us CPU per full handshake (%s handshakes, %s resumed) / %.1f = %.2f",
		    length(s) + 2, "", C, pf[i], pr[i], P, R))
		q = st["newconn-100b", "pollux"] == "ok" ? cpu["newconn-100b", "pollux"] + 0 : 0
		if (q > 0)
			line(sprintf("%*snet of a plain new-connection request (%.1f us): (%.1f - %.1f) / %.1f = %.2f",
			    length(s) + 2, "", q, C, q, P, (C - q) / P))
		for (o = 1; o <= 2; o++) {
			pn = o == 1 ? "nginx" : "haproxy"
			if (st[s, pn] == "ok")
				line(sprintf("%*sfor comparison %s (OpenSSL): %.1f us per full handshake", length(s) + 2, "",
				    pn, cpu[s, pn]))
		}
		tl[++nt2] = sprintf("%s pollux CPU per full handshake vs BearSSL primitives: %.2f <= %s: %s%s", s, R,
		    target, valid && R <= target ? "PASS" : "FAIL",
		    valid ? "" : " (run had errors or resumed handshakes)")
		print ""
	}
	if (fmt == "md") print "Target:\n"
	else print "  target:"
	for (k = 1; k <= nt2; k++) printf "%s%s\n", fmt == "md" ? "- " : "    ", tl[k]
	print ""
}
