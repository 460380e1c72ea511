# bench/tb-by-symbol.awk — the TB counts of bench/tcg-prof.c between two
# snapshots, summed per symbol (used by tcg-profile.sh, guest-profile.sh).
#   awk -v a=COUNTS.k -v b=COUNTS.k+1 -v st=SYMTAB -v top=N -v width=W \
#       -v key=tb|insns -f bench/tb-by-symbol.awk /dev/null
# COUNTS lines: "vaddr n_insns executions" (a TB translated again has more
# lines); SYMTAB lines: "addr name", sorted. Addresses compare as W-digit
# hex strings (as awk numbers, 64-bit addresses would round to 2 KiB).
# Prints the top symbols by key (TB executions or instructions).
function pad(s) { s = tolower(s); while (length(s) < width) s = "0" s; return s }
BEGIN {
	while ((getline l < st) > 0) { split(l, f, " "); sa[++ns] = pad(f[1]); sn[ns] = f[2] }
	while ((getline l < a) > 0) { split(l, f, " "); c0[f[1]] += f[3] }
	while ((getline l < b) > 0) { split(l, f, " "); c1[f[1]] += f[3]; ni[f[1]] = f[2] }
	for (v in c1) {
		d = c1[v] - c0[v]
		if (d <= 0)
			continue
		x = pad(v); lo = 1; hi = ns
		while (lo < hi) { m = int((lo + hi + 1) / 2); if (sa[m] <= x) lo = m; else hi = m - 1 }
		s = (ns && sa[lo] <= x) ? sn[lo] : "?"
		if (x < "0000800000000000")	# lower half: its 1 MiB region
			s = "low:" substr(x, 1, 11) "00000"
		tb[s] += d; in_[s] += d * ni[v]; tot_tb += d; tot_in += d * ni[v]
	}
	n = 0
	for (s in tb)
		order[++n] = s
	for (i = 1; i <= n; i++)
		for (j = i + 1; j <= n; j++)
			if ((key == "insns" ? in_[order[j]] > in_[order[i]] : tb[order[j]] > tb[order[i]])) {
				t = order[i]; order[i] = order[j]; order[j] = t
			}
	printf "%14s %14s %6s  %s\n", "TB execs", "insns", "% " key, "symbol"
	for (i = 1; i <= n && i <= top; i++) {
		s = order[i]
		printf "%14d %14d %6.2f  %s\n", tb[s], in_[s],
		       100 * (key == "insns" ? in_[s] / tot_in : tb[s] / tot_tb), s
	}
	printf "%14d %14d %6s  total\n", tot_tb, tot_in, ""
}
