#!/bin/sh
# bench/hybrid-native.sh [CPU] — issue 6's benchmark, manual: in ONE test-host
# boot, the same static i386 busybox (build/cache/busybox-i386, also the
# default guest's /bin/busybox) runs the same CPU-bound user workloads
#   loop    busybox sh -c 'i=0; while [ $i -lt LOOP ]; do i=$((i+1)); done'
#   sha256  busybox sha256sum of SIZE_MB MiB from /dev/urandom (in tmpfs)
# natively on the test host (its amd64 kernel runs i386 binaries) and inside
# the default guest (Debian 686 + busybox) under `--engine hybrid`. The data
# file reaches the guest as a read-only virtio-blk disk and is copied to the
# guest's tmpfs first (not timed), so both sides hash the same bytes from
# RAM; the hashes must match. Guest runs are timed twice: with the guest's
# own clock (/proc/uptime read by the guest) and with the test host's clock
# (when the command was typed and when its end marker appeared on the
# console, read as it comes: no polling), since guest time can lag. Prints a table
# with the times and the ratios hybrid/native.
# Native and hybrid runs alternate in the same test-host boot (the guest
# idles while the native side runs); the best of RUNS is taken on each side.
# hvmm's counters are snapshotted (SIGUSR2) around each phase, and the
# deltas printed: over all RUNS hybrid runs of the phase, idle included.
# Environment: LOOP (default 100000), SIZE_MB (default 16), RUNS (runs of
# each side, alternating; default 3), IRQCHIP (module, the default, or
# user: hvmm's --irqchip, docs/kirq.md), HVMM_ARGS (more `hvmm run` options,
# e.g. --bt: guest kernel code translated, docs/bt.md).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
CPU=${1:-max,-svm,-vmx,-la57}
LOOP=${LOOP:-100000} SIZE_MB=${SIZE_MB:-16} RUNS=${RUNS:-3} IRQCHIP=${IRQCHIP:-module}
HVMM_ARGS=${HVMM_ARGS:-}
BB32=$BUILD/cache/busybox-i386/bin/busybox
[ -x "$BB32" ] || { echo "no $BB32 (scripts/deps.sh)" >&2; exit 2; }
make -s -C "$ROOT" guest >/dev/null || exit 2
OUT=$BUILD/test-logs/hybrid-native-$IRQCHIP
mkdir -p "$OUT"
cat >"$OUT/inner.sh" <<IN
LOOP=$LOOP SIZE_MB=$SIZE_MB RUNS=$RUNS IRQCHIP=$IRQCHIP HVMM_ARGS="$HVMM_ARGS"
IN
cat >>"$OUT/inner.sh" <<'IN'
up() { cut -d' ' -f1 /proc/uptime; }
BB=/bb32/busybox
LOOPCMD="i=0; while [ \$i -lt $LOOP ]; do i=\$((i+1)); done"
dd if=/dev/urandom of=/tmp/data bs=1M count=$SIZE_MB 2>/dev/null
# the guest under --engine hybrid, the data as a read-only disk
mkfifo /tmp/in /tmp/out /tmp/marks
hvmm run --engine hybrid --irqchip=$IRQCHIP $HVMM_ARGS --mem 128M --stats --disk /tmp/data,ro --kernel /g/vmlinuz \
	--initrd /g/initrd.gz --append "console=ttyS0 panic=-1 cryptomgr.notests" </tmp/in >/tmp/out 2>&1 &
p=$!
# The console goes to /tmp/con as it comes (tee), and its marker lines to
# the FIFO /tmp/marks (awk), on which the phases after boot wait with a
# blocking read (wm). They used to grep /tmp/con every 0.1 s: a fork and
# exec ten times a second on the test host, during hybrid runs only (a
# native run is waited for by the shell itself), taking CPU time from the
# QEMU process that runs the guest (8.6% of the test host's TB executions
# in the sha256 phase, bench/tcg-profile.sh with LO=0).
exec 8<>/tmp/marks
tee /tmp/con </tmp/out | awk '/^(LOOP|SHA)-DONE-|^COPIED/ { print > "/tmp/marks"; fflush("/tmp/marks") }' &
exec 9>/tmp/in
# w TEXT SECS: wait for TEXT on the console (a line of its own; boot)
w() { i=0; while ! grep -q "^$1" /tmp/con; do sleep 0.1; i=$((i+1)); [ $i -ge $(($2 * 10)) ] && return 1; kill -0 $p || return 1; done; return 0; }
# wm TEXT SECS: wait for marker line TEXT... (blocking read, no polling);
# the line is left in $l
wm() { while read -t "$2" -r l <&8; do case "$l" in "$1"*) return 0;; esac; done; return 1; }
s() { printf '%s\r' "$1" >&9; }
w "hvmm-guest: /init started" 1500 && echo "NB guest-init $(up)"
w "/ # " 900 || echo "NB no-prompt"
echo "NB guest-prompt $(up)"
s "cat /dev/vda >/tmp/f && echo CO''PIED"
wm COPIED 1200
G='$(cut -d" " -f1 /proc/uptime)'
# Native and hybrid runs alternate (the guest idles in HLT during a native
# run), so both sides see the same machine load; the best of RUNS each.
# SIGUSR2 makes hvmm print its counters: snapshots 1-3 bracket the phases.
kill -USR2 $p; sleep 0.5
for r in $(seq $RUNS); do
	a=$(up); $BB sh -c "$LOOPCMD"; b=$(up); echo "NB nloop $a $b"
	a=$(up); s "a=$G; busybox sh -c '$LOOPCMD'; echo LO''OP-DONE-$r \$a $G"
	wm "LOOP-DONE-$r" 3600; b=$(up)
	echo "NB hloop $a $b $(echo "$l" | tr -d '\r' | cut -d' ' -f2,3)"
done
kill -USR2 $p; sleep 0.5
for r in $(seq $RUNS); do
	a=$(up); $BB sha256sum /tmp/data >/tmp/nsum; b=$(up); echo "NB nsha $a $b"
	a=$(up); s "a=$G; busybox sha256sum /tmp/f >/tmp/s; echo SH''A-DONE-$r \$a $G \$(cut -d' ' -f1 /tmp/s)"
	wm "SHA-DONE-$r" 3600; b=$(up)
	echo "NB hsha $a $b $(echo "$l" | tr -d '\r' | cut -d' ' -f2,3,4)"
done
kill -USR2 $p; sleep 0.5
echo "NB hash $(cut -d' ' -f1 /tmp/nsum)"
s "poweroff"
i=0; while kill -0 $p 2>/dev/null && [ $i -lt 600 ]; do sleep 1; i=$((i+1)); done
kill $p 2>/dev/null; wait $p; echo "NB hvmm-exit $?"
# NS <snapshot> <counter> <value>: 1-3 the SIGUSR2 snapshots, 4 at exit
tr -d '\r' </tmp/con | awk '/^--- hvmm statistics/ { n++ }
	/^(cpu|hybrid|engine|board|pio|native|interp|kirq|bt)\.[^ ]* [0-9]/ { print "NS", n, $1, $2 }'
IN
log=$OUT/console.$CPU
"$ROOT/tests/testhost/run" --quiet --cpu "$CPU" --timeout 9000 --log "$log" \
	--add "$OUT/inner.sh:/t.sh" --add "$BUILD/guest:/g" --add "$BB32:/bb32/busybox" \
	-- sh /t.sh >/dev/null 2>"$OUT/runner.err"
rc=$?
tr -d '\r' <"$log" | grep -a '^NS ' | sed 's/^NS //' >"$OUT/stats.$CPU"
tr -d '\r' <"$log" | grep -a '^NB ' | sed 's/^NB //' >"$OUT/results.$CPU"
awk -v loop="$LOOP" -v mb="$SIZE_MB" '
	function min(a, b) { return (a == "" || b < a) ? b : a }
	$1 == "nloop" { nl = min(nl, $3 - $2) } $1 == "nsha" { ns = min(ns, $3 - $2) }
	$1 == "hash" { nh = $2 }
	$1 == "hloop" { hl_host = min(hl_host, $3 - $2); hl_guest = min(hl_guest, $5 - $4) }
	$1 == "hsha" { hs_host = min(hs_host, $3 - $2); hs_guest = min(hs_guest, $5 - $4); hh = $6 }
	$1 == "guest-prompt" { prompt = $2 } $1 == "hvmm-exit" { ex = $2 }
	END {
		printf "guest shell prompt at %s s of test-host uptime; hvmm exit %s\n", prompt, ex
		printf "%-28s %10s %12s %12s %9s %9s\n", "workload", "native s", "hybrid s", "hybrid s", "ratio", "ratio"
		printf "%-28s %10s %12s %12s %9s %9s\n", "", "", "(guest clk)", "(host clk)", "(guest)", "(host)"
		if (nl > 0) printf "%-28s %10.2f %12.2f %12.2f %9.1f %9.1f\n", "sh loop to " loop, nl, hl_guest, hl_host, hl_guest / nl, hl_host / nl
		if (ns > 0) printf "%-28s %10.2f %12.2f %12.2f %9.1f %9.1f\n", "sha256sum " mb " MiB", ns, hs_guest, hs_host, hs_guest / ns, hs_host / ns
		printf "hash native %s\nhash hybrid %s (%s)\n", nh, hh, (nh != "" && nh == hh) ? "same" : "DIFFERENT"
	}' "$OUT/results.$CPU"
# per phase: counter deltas between the snapshots (1-2 loop, 2-3 sha256)
echo "hvmm counters, deltas over the $RUNS hybrid runs of each phase:"
awk '{ v[$1, $2] = $3; if (!($2 in seen)) { seen[$2] = 1; names[++n] = $2 } }
	END {
		printf "  %-30s %14s %14s %14s\n", "counter (delta)", "sh loop", "sha256sum", "whole run"
		for (i = 1; i <= n; i++) {
			c = names[i]; a = v[2, c] - v[1, c]; b = v[3, c] - v[2, c]
			if (a == 0 && b == 0) continue
			printf "  %-30s %14.0f %14.0f %14.0f\n", c, a, b, v[4, c]
		}
	}' "$OUT/stats.$CPU"
echo "test host: exit $rc (console: $log)"
[ $rc -eq 0 ]
