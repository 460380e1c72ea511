#!/bin/sh
# Issue 6 stage 1 in the test host: every multiboot test kernel
# (build/guests/mb/*.elf, docs/guest-tests.md) under `--engine hybrid` (the
# interpreter inside hvmm.ko, I/O and interrupts through exits to userland)
# gives exactly the PASS/FAIL/SKIP lines and exit status of `--engine interp`
# run on this machine, on both test-host CPU models; the module's exit
# counters show that I/O exits, interrupt windows and injections happened.
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
OUT=$BUILD/test-logs/hybrid-guests
rm -rf "$OUT"; mkdir -p "$OUT/interp"
ls "$BUILD"/guests/mb/*.elf >/dev/null 2>&1 || { _bad "no kernels in build/guests/mb"; finish; }
# The oracle: the interp engine here.
for k in "$BUILD"/guests/mb/*.elf; do
	n=$(basename "$k" .elf)
	timeout 60 "$HVMM" run --engine interp --kernel "$k" </dev/null >"$OUT/interp/$n.log" 2>&1
	echo "rc $?" >"$OUT/interp/$n.res"
	tr -d '\r' <"$OUT/interp/$n.log" | grep -aE '^(PASS|FAIL|SKIP|SUMMARY) ' >>"$OUT/interp/$n.res"
done
inner=$OUT/inner.sh
cat >"$inner" <<'IN'
for n in $(cat /kernels); do
	k=/guests/mb/$n.elf
	timeout 60 hvmm run --engine hybrid --stats --kernel $k </dev/null >/tmp/o 2>&1
	echo "HG $n rc $?"
	tr -d '\r' </tmp/o | grep -aE '^(PASS|FAIL|SKIP|SUMMARY) ' | sed "s/^/HG $n /"
	tr -d '\r' </tmp/o | grep -aE '^(hybrid|cpu)\.' | sed "s/^/HS $n /"
done
hvmm info | grep -q 'pinned pages: 0' && echo "HG-PINNED-OK"
IN
# All kernels on the default model; the PTI model (Skylake) runs the ones
# with the most exits and mode changes (time: ~90 s in all).
all=$(cd "$BUILD/guests/mb" && ls *.elf | sed 's/\.elf$//' | tr '\n' ' ')
for cpu in max,-svm,-vmx,-la57 Skylake-Client-v4; do
	log=$OUT/console.$cpu
	case $cpu in
	max*) echo "$all" >"$OUT/kernels" ;;
	*) echo "interrupts realmode" >"$OUT/kernels" ;;
	esac
	$TH --quiet --cpu $cpu --timeout 150 --log "$log" --add "$inner:/t.sh" \
		--add "$OUT/kernels:/kernels" -- sh /t.sh >/dev/null 2>&1
	rc=$?
	[ $rc -eq 0 ] && _ok "$cpu: test host run clean" || _bad "$cpu: test host exit $rc (see $log)"
	same=0 diff=0
	for n in $(cat "$OUT/kernels"); do
		r=$OUT/interp/$n.res
		tr -d '\r' <"$log" | grep -a "^HG $n " | sed "s/^HG $n //" >"$OUT/$n.$cpu.res"
		if cmp -s "$r" "$OUT/$n.$cpu.res"; then same=$((same + 1))
		else diff=$((diff + 1)); _bad "[$cpu] $n differs from interp:"
			diff "$r" "$OUT/$n.$cpu.res" | head -8 | sed 's/^/      /'
		fi
	done
	[ $diff -eq 0 ] && [ $same -gt 0 ] && _ok "[$cpu] $same kernels: results equal to interp"
	st() { tr -d '\r' <"$log" | grep -a "^HS $1 $2 " | cut -d' ' -f4; }
	io=$(st interrupts hybrid.exit.io) win=$(st interrupts hybrid.exit.intr_window)
	inj=$(st interrupts cpu.interrupts) rt=$(st interrupts hybrid.bus_retries)
	[ "${io:-0}" -gt 100 ] && [ "${win:-0}" -gt 0 ] && [ "${inj:-0}" -gt 0 ] && [ "${rt:-0}" -gt 0 ] &&
		_ok "[$cpu] interrupts.elf: $io I/O exits, $rt re-executed reads, $win windows, $inj injected" ||
		_bad "[$cpu] counters: io=$io retries=$rt windows=$win injected=$inj"
	grep -aq HG-PINNED-OK "$log" && _ok "[$cpu] no page left pinned" || _bad "[$cpu] pages left pinned"
done
finish
