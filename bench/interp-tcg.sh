#!/bin/sh
# bench/interp-tcg.sh — the interpreter's speed INSIDE the test host (QEMU
# x86_64 TCG), where the hybrid engine runs the guest kernel through it.
# Manual, not a test: prints figures. In one test-host boot:
#   bench    build/interp-bench ITERS (the 7-instruction integer loop)
#   boot     `hvmm run --engine interp` of the default guest to power-off
#            (cryptomgr.notests hvmm_poweroff): mostly guest kernel code;
#            MIPS = cpu.instructions / (user + sys CPU s of hvmm)
#   kernel   (HYBRID=1) the default guest under `--engine hybrid`: at the
#            shell prompt, a `sh` loop to LOOP (timer ticks, fork/exec-free
#            user work) and `dd bs=4096 count=DD` from a tmpfs file to
#            /dev/null, one dd: DD read()s of 4 KiB (copy_to_user) and writes; for each phase the
#            deltas of cpu.instructions and interp.ns (time inside the
#            module's interpreter) give the interpreter's MIPS on the
#            guest kernel's steady-state paths: the figure issue 6 needs.
# Environment: ITERS (default 5,000,000; 0 skips it), BOOT (1; 0 skips
# it), HYBRID (0), LOOP (20000), DD (4000), CPU model as $1 (default
# max,-svm,-vmx,-la57). Times inside the test host stretch when the build
# machine is loaded (TCG's clocks follow the host's); the last line gives
# the host CPU seconds of the whole test-host run, the figure to compare
# A/B on a shared machine (it includes the test host's own boot, ~10 s).
# NOBUILD=1 uses $BUILD as it is (A/B of binaries built elsewhere).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
CPU=${1:-max,-svm,-vmx,-la57}
ITERS=${ITERS:-5000000} HYBRID=${HYBRID:-0} LOOP=${LOOP:-20000} DD=${DD:-4000}
BOOT=${BOOT:-1}
[ -n "${NOBUILD:-}" ] || make -s -C "$ROOT" guest "$BUILD/interp-bench" >/dev/null || exit 2
OUT=$BUILD/test-logs/interp-tcg
mkdir -p "$OUT"
cat >"$OUT/inner.sh" <<IN
ITERS=$ITERS HYBRID=$HYBRID LOOP=$LOOP DD=$DD BOOT=$BOOT
IN
cat >>"$OUT/inner.sh" <<'IN'
[ "$ITERS" = 0 ] || /ib $ITERS | sed 's/^/NB bench /'
if [ "$BOOT" != 0 ]; then
time -p hvmm run --engine interp --mem 128M --stats --kernel /g/vmlinuz --initrd /g/initrd.gz \
	--append "console=ttyS0 panic=-1 cryptomgr.notests hvmm_poweroff" >/tmp/boot 2>/tmp/time
echo "NB boot-exit $?"
echo "NB boot-insns $(cat /tmp/boot /tmp/time | tr -d "\r" | grep '^cpu.instructions ' | cut -d' ' -f2)"
echo "NB boot-time $(grep -E '^(user|sys) ' /tmp/time | awk '{s += $2} END {print s}')"
fi
[ "$HYBRID" = 1 ] || exit 0
mkfifo /tmp/in
hvmm run --engine hybrid --mem 128M --stats --kernel /g/vmlinuz --initrd /g/initrd.gz \
	--append "console=ttyS0 panic=-1 cryptomgr.notests" </tmp/in >/tmp/con 2>&1 &
p=$!
exec 9>/tmp/in
w() { i=0; while ! tr -d '\r' </tmp/con | grep -q "^$1"; do sleep 0.1; i=$((i+1)); [ $i -ge $(($2 * 10)) ] && return 1; kill -0 $p || return 1; done; return 0; }
s() { printf '%s\r' "$1" >&9; }
w "/ # " 900 || echo "NB no-prompt"
s "dd if=/dev/zero of=/tmp/f bs=4096 count=$DD 2>/dev/null; echo RE''ADY"
w READY 600
kill -USR2 $p; sleep 0.5
s "busybox sh -c 'i=0; while [ \$i -lt $LOOP ]; do i=\$((i+1)); done'; echo LO''OP-DONE"
w "LOOP-DONE" 3600; kill -USR2 $p; sleep 0.5
s "dd if=/tmp/f of=/dev/null bs=4096 2>/dev/null; echo D''D-DONE"
w "DD-DONE" 3600; kill -USR2 $p; sleep 0.5
s "poweroff"
i=0; while kill -0 $p 2>/dev/null && [ $i -lt 600 ]; do sleep 1; i=$((i+1)); done
kill $p 2>/dev/null; wait $p; echo "NB hvmm-exit $?"
tr -d '\r' </tmp/con | awk '/^--- hvmm statistics/ { n++ }
	/^(cpu|native|interp)\.[^ ]* [0-9]/ { print "NS", n, $1, $2 }'
IN
log=$OUT/console
/usr/bin/time -f "%U %S" -o "$OUT/host-cpu" "$ROOT/tests/testhost/run" --quiet --cpu "$CPU" --timeout 3000 --log "$log" \
	--add "$OUT/inner.sh:/t.sh" --add "$BUILD/guest:/g" --add "$BUILD/interp-bench:/ib" \
	-- sh /t.sh >/dev/null 2>"$OUT/runner.err"
rc=$?
tr -d '\r' <"$log" | grep -a '^NB ' | sed 's/^NB //'
tr -d '\r' <"$log" | grep -a '^NB ' | sed 's/^NB //' | awk '
	$1 == "boot-insns" { n = $2 } $1 == "boot-time" { t = $2 }
	END { if (t > 0) printf "boot: %.0f M instructions in %.2f CPU s = %.1f MIPS\n", n / 1e6, t, n / t / 1e6 }'
if [ "$HYBRID" = 1 ]; then
	tr -d '\r' <"$log" | grep -a '^NS ' | sed 's/^NS //' | awk '
		{ v[$1, $2] = $3 }
		END {
			split("loop dd", ph, " ")
			for (k = 1; k <= 2; k++) {
				di = v[k + 1, "cpu.instructions"] - v[k, "cpu.instructions"]
				dn = v[k + 1, "interp.ns"] - v[k, "interp.ns"]
				dw = v[k + 1, "native.ns"] - v[k, "native.ns"]
				if (dn > 0) printf "hybrid %s: %.2f M insns interpreted in %.3f s = %.1f MIPS (native %.3f s)\n", ph[k], di / 1e6, dn / 1e9, di / dn * 1e3, dw / 1e9
			}
		}'
fi
echo "test host: exit $rc (console: $log); host CPU of the whole run (qemu): $(awk '{print $1 + $2}' "$OUT/host-cpu") s"
[ $rc -eq 0 ]
