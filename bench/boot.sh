#!/bin/sh
# bench/boot.sh — boot time of the default guest, side by side in one run:
# time from start to the guest's /init and to power-off, for qemu-system-i386
# (TCG) and for hvmm's engines, on the same kernel, initramfs and command line
# ("console=ttyS0 hvmm_poweroff": /init powers off as soon as it starts).
#   bench/boot.sh [-n RUNS] [ENGINE...]     engines: qemu interp interp-unpack
#   (default all three). "interp" runs the kernel's own decompressor
#   (--guest-decompress), i.e. the same guest work as QEMU: that row is the
#   comparison. "interp-unpack" is hvmm's default, where the loader unpacks an
#   XZ kernel itself (docs/machine.md): less guest work, shown apart.
#   BENCH_APPEND="..." replaces the command line (keep hvmm_poweroff in it),
#   e.g. "console=ttyS0 hvmm_poweroff cryptomgr.notests" without the kernel's
#   crypto self-tests.
# Prints one line per run and the best of each engine; exits non-zero if a
# run failed to reach /init or to power off.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
RUNS=1
[ "${1:-}" = "-n" ] && { RUNS=$2; shift 2; }
ENGINES=${*:-qemu interp interp-unpack}
TMO=${BENCH_TIMEOUT:-300}
make -s guest >/dev/null || exit 1
K=$BUILD/guest/vmlinuz I=$BUILD/guest/initrd.gz
APPEND=${BENCH_APPEND:-"console=ttyS0 hvmm_poweroff"}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# run_one NAME CMD...: prints "init_ms total_ms rc"
run_one() {
	shift
	rm -f "$T/init"
	start=$(now_ms)
	( timeout "$TMO" "$@" </dev/null 2>&1; echo "rc=$?" >"$T/rc" ) |
	while IFS= read -r line; do
		case $line in
		*"hvmm-guest: /init started"*) now_ms >"$T/init" ;;
		esac
		printf '%s\n' "$line" >>"$T/log"
	done
	end=$(now_ms)
	init=-1
	[ -f "$T/init" ] && init=$(( $(cat "$T/init") - start ))
	echo "$init $(( end - start )) $(sed 's/rc=//' "$T/rc")"
}

fail=0
echo "kernel command line: $APPEND"
printf '%-14s %12s %14s  %s\n' engine "to /init" "to power-off" status
for e in $ENGINES; do
	best_i= best_t=
	for r in $(seq "$RUNS"); do
		: >"$T/log"
		case $e in
		qemu) set -- qemu-system-i386 -m 256 -nographic -no-reboot -monitor none \
			-kernel "$K" -initrd "$I" -append "$APPEND" ;;
		*-unpack) set -- "$BUILD/hvmm" run --engine "${e%-unpack}" --mem 256M \
			--serial stdio --kernel "$K" --initrd "$I" --append "$APPEND" ;;
		*) set -- "$BUILD/hvmm" run --engine "$e" --mem 256M --serial stdio \
			--guest-decompress --kernel "$K" --initrd "$I" --append "$APPEND" ;;
		esac
		set -- $(run_one "$e" "$@")
		i=$1 t=$2 rc=$3
		st=ok
		if [ "$i" -lt 0 ] || [ "$rc" -ne 0 ]; then
			st="FAILED (exit $rc)"; fail=1
			tail -5 "$T/log" | sed 's/^/    | /'
		fi
		printf '%-14s %10d ms %12d ms  %s\n' "$e" "$i" "$t" "$st"
		[ "$st" = ok ] || continue
		[ -z "$best_t" ] || [ "$t" -lt "$best_t" ] && best_t=$t best_i=$i
	done
	[ -n "$best_t" ] && echo "$e $best_i $best_t" >>"$T/best"
done
if [ -f "$T/best" ]; then
	echo "best of $RUNS:"
	q=$(awk '$1=="qemu"{print $3}' "$T/best")
	while read -r e i t; do
		ratio=
		[ -n "$q" ] && [ "$e" != qemu ] && ratio=$(awk -v a="$t" -v b="$q" 'BEGIN{printf "  (%.2fx qemu)", a/b}')
		printf '  %-12s /init %6.2f s   power-off %6.2f s%s\n' "$e" \
			"$(awk -v x="$i" 'BEGIN{print x/1000}')" "$(awk -v x="$t" 'BEGIN{print x/1000}')" "$ratio"
	done <"$T/best"
fi
exit $fail
