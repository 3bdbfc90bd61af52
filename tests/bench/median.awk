# median.awk: tests/bench/run's rounds. Every scenario runs BENCH_ROUNDS times for each
# proxy; rounds.tsv holds every run's row (round, then results.tsv's columns, see
# report.awk); -v hsfile=FILE names the handshake cost of each round (lines "ROUND CASE
# RATIO", from hscost.awk). -v mode= picks the job:
#   pick    rounds.tsv -> DIR/results.tsv, DIR/chosen.tsv (-v dir=DIR). Per scenario,
#           one round stands for it, the same for every proxy, so that its ratios stay
#           those of proxies measured minutes apart at most: the round of the median
#           handshake cost in the full-handshake cases, else of the median ratio of
#           pollux's CPU per request to HAProxy's, else of pollux's median CPU per
#           request (with an even count, the lower one). A proxy that failed in any round
#           shows that failure; errors of the other rounds are added to the shown row's
#           errors as rN:what. chosen.tsv: scenario proxy round.
#   tls     chosen.tsv tls.rounds.tsv -> the tls.tsv rows of the chosen rounds, in the
#           order of chosen.tsv
#   speed   chosen.tsv speed.rounds.txt -> speed.txt: the brackets "# run rN SCENARIO
#           WHEN" of the round chosen for pollux, labelled "# run SCENARIO WHEN", and
#           the runs not tied to a round ("# impl", "# run all")
#   report  rounds.tsv, -v fmt=text|md: CPU per request of each proxy in each round,
#           pollux's ratio to HAProxy and its handshake cost in each round
BEGIN {
	FS = OFS = "\t"
	while (hsfile != "" && (getline l < hsfile) > 0) {
		split(l, w, " ")
		hs[w[2], w[1]] = w[3]
		hsany[w[2]] = 1
	}
}
FNR == 1 { file++ }

mode == "pick" || mode == "report" {
	if (!(($2) in sseen)) { sseen[$2] = 1; ns++; sname[ns] = $2 }
	if (!(($3) in pseen)) { pseen[$3] = 1; np++; pname[np] = $3 }
	if ($1 > nr) nr = $1
	row[$2, $3, $1] = $0; st[$2, $3, $1] = $4; cpu[$2, $3, $1] = $9; er[$2, $3, $1] = $11
	next
}
mode == "tls" && file == 1 { chosen[$1, $2] = $3; nc++; ck[nc] = $1 SUBSEP $2; next }
mode == "tls" { if (chosen[$2, $3] == $1) trow[$2, $3] = strip($0); next }
mode == "speed" && file == 1 { chosen[$1, $2] = $3; next }
mode == "speed" {
	if ($0 ~ /^# run r[0-9]+ /) {
		split($0, w, " ")
		keep = chosen[w[4], "pollux"] == substr(w[3], 2)
		if (keep) print "# run " w[4] " " w[5]
		next
	}
	if ($0 ~ /^# /) keep = 1
	if (keep) print
	next
}

function strip(s) { sub(/^[^\t]*\t/, "", s); return s }

function isnum(x) { return x ~ /^[0-9.]+$/ }
function ok(S, P, R) { return st[S, P, R] == "ok" && isnum(cpu[S, P, R]) }

# the round that stands for scenario S: see pick at the top; 0 when none ran well
function round_of(S,    r, m, t, i, j, ord, val) {
	m = 0
	for (r = 1; r <= nr; r++) {
		if (S in hsany) {
			if (!isnum(hs[S, r])) continue
			val[r] = hs[S, r]
		} else if (("haproxy" in pseen) && ("pollux" in pseen)) {
			if (!ok(S, "pollux", r) || !ok(S, "haproxy", r) || cpu[S, "haproxy", r] <= 0) continue
			val[r] = cpu[S, "pollux", r] / cpu[S, "haproxy", r]
		} else {
			if (!ok(S, "pollux" in pseen ? "pollux" : pname[1], r)) continue
			val[r] = cpu[S, "pollux" in pseen ? "pollux" : pname[1], r]
		}
		ord[++m] = r
	}
	for (i = 2; i <= m; i++)         # insertion sort: a handful of rounds
		for (j = i; j > 1 && val[ord[j]] + 0 < val[ord[j - 1]] + 0; j--) {
			t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t
		}
	return m ? ord[int((m + 1) / 2)] : 0
}

# the round to show for proxy P in scenario S, chosen round C
function show(S, P, C,    r) {
	for (r = 1; r <= nr; r++)
		if (st[S, P, r] == "failed") return r
	if (C && ((S, P, C) in row)) return C
	for (r = 1; r <= nr; r++)
		if ((S, P, r) in row) return r
	return 0
}

function emit(S, P, c,    f, j, r, more, line) {
	split(row[S, P, c], f, "\t")
	more = f[11]
	for (r = 1; r <= nr; r++)
		if (r != c && ((S, P, r) in row) && er[S, P, r] != "-" && er[S, P, r] != "")
			more = (more == "-" ? "" : more ";") "r" r ":" er[S, P, r]
	if (st[S, P, c] == "failed") more = more ";r" c
	line = f[2]
	for (j = 3; j <= 12; j++) line = line OFS (j == 11 ? more : f[j])
	print line >(dir "/results.tsv")
	print S, P, c >(dir "/chosen.tsv")
}

function cell(S, P, R) { return ok(S, P, R) ? cpu[S, P, R] : ((S, P, R) in st ? st[S, P, R] : "-") }

END {
	if (mode == "pick")
		for (s = 1; s <= ns; s++) {
			c = round_of(sname[s])
			for (p = 1; p <= np; p++)
				if ((q = show(sname[s], pname[p], c))) emit(sname[s], pname[p], q)
		}
	if (mode == "report") report()
	if (mode == "tls")               # in the order of the scenarios, not of the rounds
		for (i = 1; i <= nc; i++)
			if (ck[i] in trow) print trow[ck[i]]
}

# the values of scenario S in every round, the round shown in brackets
function series(S, P, C, kind,    r, a, x) {
	a = ""
	for (r = 1; r <= nr; r++) {
		if (kind == "cpu") x = num(cell(S, P, r))
		else if (kind == "ratio") x = ratio(cell(S, "pollux", r), cell(S, "haproxy", r))
		else x = isnum(hs[S, r]) ? hs[S, r] : "-"
		a = a (r > 1 ? " " : "") (r == C ? "[" x "]" : x)
	}
	return a
}

function report(    s, p, line, hap, hsc, c, S) {
	hap = ("haproxy" in pseen) && ("pollux" in pseen)
	hsc = length(hsany) > 0
	if (fmt == "md") {
		print "Every round, in run order (the round in brackets is the one the tables show:" \
		    " for each scenario the round of the median " (hap ? "pollux / HAProxy ratio" : \
		    "pollux CPU per request") (hsc ? ", or of the median handshake cost" : "") \
		    "). CPU per request in us, per handshake in the handshake cases" \
		    (hsc ? "; handshake cost: pollux's CPU per full handshake over the BearSSL" \
		    " primitives measured right around that run" : "") ".\n"
		line = "| scenario |"
		for (p = 1; p <= np; p++) line = line " " pname[p] " |"
		print line (hap ? " pollux / HAProxy |" : "") (hsc ? " handshake cost |" : "")
		line = "|---|"
		for (p = 1; p <= np; p++) line = line "---|"
		print line (hap ? "---|" : "") (hsc ? "---|" : "")
	} else {
		print ""
		print "every round (in brackets the one shown; CPU us per request" \
		    (hap ? "; pollux / HAProxy" : "") (hsc ? "; handshake cost" : "") "):"
	}
	for (s = 1; s <= ns; s++) {
		S = sname[s]; c = round_of(S)
		line = fmt == "md" ? "| " S " |" : sprintf("  %-17s", S)
		for (p = 1; p <= np; p++)
			line = line (fmt == "md" ? " " series(S, pname[p], c, "cpu") " |" : \
			    sprintf(" %-8s %-24s", pname[p], series(S, pname[p], c, "cpu")))
		if (hap) line = line (fmt == "md" ? " " : "  ") series(S, "", c, "ratio") (fmt == "md" ? " |" : "")
		if (hsc) line = line (fmt == "md" ? " " (S in hsany ? series(S, "", c, "hs") : "") " |" : \
		    (S in hsany ? "  cost " series(S, "", c, "hs") : ""))
		print line
	}
}

function num(x) { return isnum(x) ? sprintf("%.1f", x) : x }
function ratio(a, b) { return isnum(a) && isnum(b) && b > 0 ? sprintf("%.2f", a / b) : "-" }
