# report.awk: turns tests/bench/run's tables into the results table, the targets and
# the footprint, as text (-v fmt=text) or markdown (-v fmt=md); -v pcpu=N names the
# proxy's CPU.
# Files, in order: scenarios.tsv (name scheme path conns opts cpu rss rps),
# results.tsv (scenario proxy state rps p50_us p99_us requests cpu_us_per_req hwm_kb
# errors others_pct), footprint.tsv (proxy version bytes nlibs). Targets apply to pollux rows;
# ratios compare a proxy with the others measured in the same run.
BEGIN { FS = "\t" }
FNR == 1 { file++ }
file == 1 {
	ns++; sname[ns] = $1; sconns[$1] = $4; scpu[$1] = $6; srss[$1] = $7; srps[$1] = $8
	next
}
file == 2 {
	nr++; rs[nr] = $1; rp[nr] = $2; st[nr] = $3; rps[nr] = $4; p50[nr] = $5
	p99[nr] = $6; cpu[nr] = $8; hwm[nr] = $9; err[nr] = $10; oth[nr] = $11
	idx[$1, $2] = nr
	if (!($2 in seen)) { seen[$2] = 1; np++; proxy[np] = $2 }
	next
}
file == 3 {
	nf++; fp[nf] = $1; fv[nf] = $2; fb[nf] = $3; fl[nf] = $4
	next
}

function ok(i) { return i && st[i] == "ok" }
function lat(u) {
	if (u == "-" || u == "") return "-"
	if (u < 1000) return sprintf("%.0fus", u)
	if (u < 1000000) return sprintf("%.2fms", u / 1000)
	return sprintf("%.2fs", u / 1000000)
}
function mib(k) { return k == "-" || k == "" ? "-" : sprintf("%.1f MiB", k / 1024) }
function num(x, f) { return x == "-" || x == "" ? "-" : sprintf(f, x) }
# the lowest CPU/req of the other proxies in scenario s, or 0
function best_other(s, me,   j, i, b) {
	b = 0
	for (j = 1; j <= np; j++) {
		if (proxy[j] == me) continue
		i = idx[s, proxy[j]]
		if (ok(i) && cpu[i] > 0 && (b == 0 || cpu[i] < b)) b = cpu[i]
	}
	return b
}
function ratio(a, b) { return b > 0 && a != "-" ? sprintf("%.2f", a / b) : "-" }

# check one target: appends to the row's verdict and to the targets list
function check(i, what, val, op, lim, detail,   pass) {
	if (val == "-") { verdict[i] = verdict[i] "?"; tl[++nt] = what ": not measured"; return }
	pass = op == "<=" ? val + 0 <= lim + 0 : val + 0 >= lim + 0
	if (err[i] != "-") pass = 0
	verdict[i] = verdict[i] (pass ? "P" : "F")
	tl[++nt] = sprintf("%s: %s %s %s: %s%s%s", what, val, op, lim, pass ? "PASS" : "FAIL",
	    err[i] != "-" ? " (run had errors: " err[i] ")" : "", detail)
}

function targets(   k, s, i, h, n, b, base, lim, j, d, o) {
	for (k = 1; k <= ns; k++) {
		s = sname[k]; i = idx[s, "pollux"]
		if (!i) continue
		if (!ok(i)) { verdict[i] = "FAIL"; tl[++nt] = s ": pollux " st[i] " (" err[i] ")"; continue }
		if (scpu[s] != "-") {
			h = idx[s, "haproxy"]
			check(i, s " pollux CPU/req vs HAProxy", ok(h) ? ratio(cpu[i], cpu[h]) : "-", "<=", scpu[s], "")
		}
		if (srss[s] != "-") {
			n = idx[s, "nginx"]
			check(i, s " pollux peak RSS vs nginx", ok(n) ? ratio(hwm[i], hwm[n]) : "-", "<=", srss[s], "")
		}
		if (srps[s] != "-") {
			split(srps[s], b, ":"); base = b[1]; lim = b[2]
			j = idx[base, "pollux"]
			d = ""
			for (o = 1; o <= np; o++) {
				if (proxy[o] == "pollux") continue
				if (ok(idx[s, proxy[o]]) && ok(idx[base, proxy[o]]))
					d = d sprintf("%s%s %.2f", d == "" ? "; for comparison " : ", ", proxy[o],
					    rps[idx[s, proxy[o]]] / rps[idx[base, proxy[o]]])
			}
			check(i, s " pollux req/s vs " base, ok(j) ? ratio(rps[i], rps[j]) : "-", ">=", lim, d)
		}
		if (verdict[i] == "") verdict[i] = "-"
		else if (verdict[i] ~ /F/) verdict[i] = "FAIL"
		else if (verdict[i] ~ /\?/) verdict[i] = "n/a"
		else if (verdict[i] ~ /P/) verdict[i] = "PASS"
	}
	for (k = 1; k <= nr; k++)
		if (rp[k] == "pollux" && verdict[k] == "") verdict[k] = "-"
}

function row(c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12) {
	if (fmt == "md")
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
		    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12
	else
		printf "%-16s %-8s %7s %8s %8s %8s %6s %6s %9s %6s %-6s %s\n",
		    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12
}
function pct(x) { return x == "-" || x == "" ? "-" : x "%" }

END {
	targets()
	if (fmt == "md") print "### Results\n"
	row("scenario", "proxy", "req/s", "p50", "p99", fmt == "md" ? "CPU us/req" : "us/req",
	    "x best", fmt == "md" ? "x HAProxy" : "x HAP", "peak RSS",
	    fmt == "md" ? "CPU" pcpu " others" : "others", "target", "errors")
	if (fmt == "md") print "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|---|"
	for (k = 1; k <= ns; k++) {
		s = sname[k]
		for (j = 1; j <= np; j++) {
			i = idx[s, proxy[j]]
			if (!i) continue
			h = idx[s, "haproxy"]
			if (!ok(i)) {
				row(s, rp[i], st[i], "-", "-", "-", "-", "-", mib(hwm[i]), "-",
				    verdict[i] == "" ? "-" : verdict[i], err[i])
				continue
			}
			row(s, rp[i], num(rps[i], "%.0f"), lat(p50[i]), lat(p99[i]), num(cpu[i], "%.2f"),
			    ratio(cpu[i], best_other(s, rp[i])), ok(h) ? ratio(cpu[i], cpu[h]) : "-",
			    mib(hwm[i]), pct(oth[i]), verdict[i] == "" ? "" : verdict[i], err[i])
		}
	}
	print ""
	if (fmt == "md") print "### Targets (pollux, ratios measured in the same run)\n"
	else print "targets (pollux, ratios measured in the same run):"
	for (k = 1; k <= nt; k++) printf "%s%s\n", fmt == "md" ? "- " : "  ", tl[k]
	print ""
	if (fmt == "md") {
		print "### Footprint: binary plus the shared libraries ldd lists\n"
		print "| proxy | version | bytes | libraries |"
		print "|---|---|--:|--:|"
	} else print "footprint (binary plus the shared libraries ldd lists):"
	for (k = 1; k <= nf; k++)
		if (fmt == "md") printf "| %s | %s | %d | %d |\n", fp[k], fv[k], fb[k], fl[k]
		else printf "  %-8s %-28s %10d bytes (%.2f MiB), %d libraries\n", fp[k], fv[k], fb[k], fb[k] / 1048576, fl[k]
}
