#!/bin/sh
# Translated guest kernel code (docs/bt.md) in the test host: bt.elf
# (tests/guests/mb/bt.c: CPL-0 code on its own flat selectors under global
# pages: calls, jump tables, loops, FS per-CPU data, PUSHF/POPF/CLI/STI,
# timer interrupts, caught exceptions, patched code, a remapped code page, a
# rewritten GDT entry) under `--engine hybrid --bt` gives exactly interp's
# lines (PASS/FAIL/INFO/SUMMARY) and status, and really ran translated
# (blocks translated, chained, exit sites taken, stays > 0); every other
# multiboot kernel under `--bt` still equals interp (most of them run on
# selector 0x10, which the world keeps, so they stay interpreted: the flag
# must change nothing there); `kill -9` during translated stays leaves
# nothing pinned; dmesg stays clean. On both test-host CPU models.
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
OUT=$BUILD/test-logs/hybrid-bt
rm -rf "$OUT"; mkdir -p "$OUT/interp"
ls "$BUILD"/guests/mb/*.elf >/dev/null 2>&1 || { _bad "no kernels in build/guests/mb"; finish; }
res() { tr -d '\r' | grep -aE '^(PASS|FAIL|SKIP|SUMMARY|INFO) '; }
for k in "$BUILD"/guests/mb/*.elf; do
	n=$(basename "$k" .elf)
	timeout 60 "$HVMM" run --engine interp --mem 32M --kernel "$k" </dev/null >"$OUT/interp/$n.log" 2>&1
	{ echo "rc $?"; res <"$OUT/interp/$n.log"; } >"$OUT/interp/$n.res"
done
grep -q '^SUMMARY bt: [0-9]* passed, 0 failed' "$OUT/interp/bt.res" &&
	_ok "interp: bt.elf passes" || _bad "interp: bt.elf: $(tail -1 "$OUT/interp/bt.res")"
inner=$OUT/inner.sh
cat >"$inner" <<'IN'
for n in $(cat /kernels); do
	timeout 90 hvmm run --engine hybrid --bt --mem 32M --stats --kernel /guests/mb/$n.elf </dev/null >/tmp/o 2>&1
	echo "BG $n rc $?"
	tr -d '\r' </tmp/o | grep -aE '^(PASS|FAIL|SKIP|SUMMARY|INFO) ' | sed "s/^/BG $n /"
	tr -d '\r' </tmp/o | grep -aE '^(bt|native|cpu)\.' | sed "s/^/BS $n /"
	[ $n = bt ] && tr -d '\r' </tmp/o | grep -av '^[a-z0-9_]*\.[^ ]* [0-9]' | tail -40 | sed "s/^/BL /"
done
i=0
while [ $i -lt 10 ]; do
	hvmm run --engine hybrid --bt --mem 16M --kernel /guests/mb/bt.elf </dev/null >/dev/null 2>&1 & p=$!
	usleep $((150000 + i * 53000)) 2>/dev/null || sleep 1
	kill -9 $p; wait $p 2>/dev/null
	i=$((i + 1))
done
hvmm info | grep -q 'pinned pages: 0' && echo "BK-PINNED-OK"
IN
all=$(cd "$BUILD/guests/mb" && ls *.elf | sed 's/\.elf$//' | tr '\n' ' ')
echo "$all" >"$OUT/kernels"
for cpu in max,-svm,-vmx,-la57 Skylake-Client-v4; do
	log=$OUT/console.$cpu
	$TH --quiet --cpu $cpu --timeout 400 --log "$log" --add "$inner:/t.sh" \
		--add "$OUT/kernels:/kernels" -- sh /t.sh >/dev/null 2>&1
	rc=$?
	[ $rc -eq 0 ] && _ok "$cpu: test host run clean (dmesg clean)" || _bad "$cpu: test host exit $rc (see $log)"
	tr -d '\r' <"$log" >"$OUT/log.$cpu"
	same=0 diff=0
	for n in $all; do
		grep -a "^BG $n " "$OUT/log.$cpu" | sed "s/^BG $n //" >"$OUT/$n.$cpu.res"
		if cmp -s "$OUT/interp/$n.res" "$OUT/$n.$cpu.res"; then same=$((same + 1))
		else diff=$((diff + 1)); _bad "[$cpu] $n --bt differs from interp:"
			diff "$OUT/interp/$n.res" "$OUT/$n.$cpu.res" | head -10 | sed 's/^/      /'
			[ $n = bt ] && grep -a '^BL ' "$OUT/log.$cpu" | tail -25 | sed 's/^BL /      | /'
		fi
	done
	[ $diff -eq 0 ] && [ $same -ge 17 ] && _ok "[$cpu] $same kernels under --bt: results equal to interp"
	st() { grep -a "^BS bt $1 " "$OUT/log.$cpu" | cut -d' ' -f4; }
	sy=$(st bt.stays) bl=$(st bt.blocks) ch=$(st bt.chains) ex=$(st bt.exit_sites) ns=$(st bt.ns)
	[ "${sy:-0}" -gt 10 ] && [ "${bl:-0}" -gt 20 ] && [ "${ch:-0}" -gt 10 ] && [ "${ex:-0}" -gt 10 ] &&
		_ok "[$cpu] bt.elf ran translated: $sy stays, $bl blocks, $ch chains, $ex exit sites, $ns ns inside" ||
		_bad "[$cpu] bt.elf translated counters: stays=$sy blocks=$bl chains=$ch exit_sites=$ex"
	grep -a "^BS bt bt\." "$OUT/log.$cpu" | sed 's/^BS bt /      /'
	grep -aq BK-PINNED-OK "$OUT/log.$cpu" && _ok "[$cpu] kill -9 during translated stays x10: nothing pinned" ||
		_bad "[$cpu] pages left pinned after kill -9"
done
finish
