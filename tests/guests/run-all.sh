#!/bin/sh
# tests/guests/run-all.sh ENGINE-COMMAND... — runs every multiboot test kernel
# (build/guests/mb/*.elf) through ENGINE-COMMAND with the kernel's path
# appended, e.g.
#   tests/guests/run-all.sh qemu-system-i386 -device isa-debug-exit,iobase=0xf4,iosize=4 \
#       -nographic -no-reboot -kernel
#   tests/guests/run-all.sh build/hvmm run --engine interp --kernel
# A kernel passes when its serial output has no FAIL line, a SUMMARY line with
# "0 failed", and the engine exits with status 1 (debug-exit value 0).
# Environment: GUESTS="name ..." to run only some kernels; GUEST_TIMEOUT
# seconds per kernel (default 60); GUEST_LOGS directory for the outputs
# (default build/guest-logs). Exits non-zero if any kernel failed.
# Kernels that need a device the plain command line does not give (dma: a
# virtio-blk disk) run only when named in GUESTS; their own system test
# (testhost-hybrid-dma.sh) runs them with the device, on interp and hybrid.
set -u
[ $# -ge 1 ] || { echo "usage: $0 ENGINE-COMMAND..." >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
LOGS=${GUEST_LOGS:-$BUILD/guest-logs}
TMO=${GUEST_TIMEOUT:-60}
mkdir -p "$LOGS"
ok=0 bad=0 failed=""
kernels=$(ls "$BUILD"/guests/mb/*.elf 2>/dev/null)
[ -n "$kernels" ] || { echo "no kernels in $BUILD/guests/mb: run 'make guests'" >&2; exit 2; }
for k in $kernels; do
	name=$(basename "$k" .elf)
	if [ -n "${GUESTS:-}" ]; then
		case " $GUESTS " in *" $name "*) ;; *) continue ;; esac
	else
		case "$name" in dma) continue ;; esac
	fi
	log=$LOGS/$name.log
	start=$(date +%s)
	timeout "$TMO" "$@" "$k" </dev/null >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	tr -d '\r' <"$log" | grep -aE '^(PASS|FAIL|SKIP|NOTE|SUMMARY) ' >"$log.lines"
	sum=$(grep -a '^SUMMARY ' "$log.lines" | tail -1)
	nfail=$(grep -ac '^FAIL ' "$log.lines")
	why=""
	if [ -z "$sum" ]; then why="no SUMMARY line (exit $rc)"
	elif [ "$nfail" -ne 0 ]; then why="$nfail FAIL line(s)"
	elif ! echo "$sum" | grep -q ' 0 failed'; then why="summary: $sum"
	elif [ $rc -ne 1 ]; then why="exit status $rc, wanted 1"
	fi
	if [ -z "$why" ]; then
		ok=$((ok + 1))
		printf '  %-16s PASS  %s (%ss)\n' "$name" "${sum#SUMMARY $name: }" "$secs"
	else
		bad=$((bad + 1)); failed="$failed $name"
		printf '  %-16s FAIL  %s (%ss)\n' "$name" "$why" "$secs"
		grep -a '^FAIL ' "$log.lines" | head -20 | sed 's/^/      /'
		[ -n "$sum" ] || tail -5 "$log" | sed 's/^/      | /'
	fi
done
echo "guest kernels: $ok passed, $bad failed${failed:+ ($failed )}"
[ $bad -eq 0 ] && [ $ok -gt 0 ]
