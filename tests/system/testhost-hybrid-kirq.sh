#!/bin/sh
# The in-kernel irqchip (docs/kirq.md) with the default Linux guest under
# `--engine hybrid`, in one test-host boot: the guest boots to its shell
# once with --irqchip=user and once with --irqchip=module, and runs the
# same phase (a CPU-bound busybox loop, then `sleep 4`) between two
# SIGUSR2 counter snapshots. Checks:
# - with the module's chip, SYS_RUN calls per guest interrupt in that phase
#   are far below (at most a third of) the user chip's, there is no
#   interrupt window, every interrupt is acknowledged in the module and no
#   PIC/PIT/0x80 access reaches userland;
# - guest time tracks the host's with the module's chip: between two console
#   lines printed before and after the phase (each seen by 50 ms polls)
#   /proc/uptime advances as much as the test host's uptime (within 4 % +
#   0.3 s of console latency), and the phase lasts at least 4 s of guest time;
# - both guests power off with exit 0; the test host's dmesg stays clean.
# About 2.5-3 min (two guest boots under TCG).
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
OUT=$BUILD/test-logs/hybrid-kirq
rm -rf "$OUT"; mkdir -p "$OUT/ts"
make -s -C "$ROOT" guest >/dev/null || { _bad "make guest"; finish; }
cat >"$OUT/inner.sh" <<'IN'
. /ts/lib.inc
. /ts/guest.inc
# busybox ps has no -p: a live, non-zombie child has a /proc entry not in state Z
vm_alive() { [ -n "$VM_PID" ] && [ -e /proc/$VM_PID ] && ! grep -q '^State:.*Z' /proc/$VM_PID/status 2>/dev/null; }
up() { cut -d' ' -f1 /proc/uptime; }
G='$(cut -d" " -f1 /proc/uptime)'
# wl TAG: waits for a console line "TAG guest_uptime", prints the test
# host's uptime when it was first seen (50 ms polls) and the guest's value
wl() {
	i=0
	while :; do
		l=$(tr -d '\r' <$VM_LOG | grep -a "^$1 [0-9]" | tail -1)
		[ -n "$l" ] && { echo "$(up) ${l#"$1 "}"; return 0; }
		i=$((i + 1)); [ $i -ge 6000 ] && return 1
		sleep 0.05
	done
}
for chip in user module; do
	vm_start hvmm run --engine hybrid --irqchip=$chip --mem 128M --kernel /g/vmlinuz \
		--initrd /g/initrd.gz --append "console=ttyS0 panic=-1 cryptomgr.notests"
	if ! vm_wait "/ # " 900; then echo "KT $chip no-prompt"; vm_kill; continue; fi
	sleep 1
	kill -USR2 $VM_PID; sleep 0.5
	vm_send "echo T''0 $G"
	t0=$(wl T0)
	vm_send "busybox sh -c 'i=0; while [ \$i -lt 20000 ]; do i=\$((i+1)); done'; sleep 4; echo T''1 $G"
	t1=$(wl T1)
	kill -USR2 $VM_PID; sleep 0.5
	echo "KT $chip phase $t0 $t1"
	vm_send "poweroff"
	vm_exit_status 120
	echo "KT $chip exit $VM_RC"
	# KV chip snapshot counter value (1, 2: SIGUSR2; 3: at exit)
	tr -d '\r' <$VM_LOG | awk -v c=$chip '/^--- hvmm statistics/ { n++ }
		/^(cpu|hybrid|kirq|pio)\.[^ ]* [0-9]/ { print "KV", c, n, $1, $2 }'
	rm -f $VM_LOG
done
IN
cp "$ROOT/tests/system/lib.inc" "$ROOT/tests/system/guest.inc" "$OUT/ts/"
start=$(date +%s)
$TH --quiet --timeout 2400 --log "$OUT/console" --add "$OUT/inner.sh:/t.sh" \
	--add "$OUT/ts:/ts" --add "$BUILD/guest:/g" -- sh /t.sh >/dev/null 2>"$OUT/runner.err"
rc=$?
tr -d '\r' <"$OUT/console" >"$OUT/console.txt"
[ $rc -eq 0 ] && _ok "test host: exit 0, dmesg clean ($(( $(date +%s) - start )) s)" ||
	{ _bad "test host: exit $rc"; tail -20 "$OUT/runner.err" | sed 's/^/    /'; }
grep -a '^KV ' "$OUT/console.txt" | sed 's/^KV //' >"$OUT/counters"
grep -a '^KT ' "$OUT/console.txt" | sed 's/^KT //' >"$OUT/results"
# d CHIP COUNTER: the counter's delta over the phase (snapshot 2 - 1)
d() { awk -v c="$1" -v k="$2" '$1 == c && $3 == k { v[$2] = $4 } END { print v[2] - v[1] }' "$OUT/counters"; }
for chip in user module; do
	[ "$(grep "^$chip exit" "$OUT/results")" = "$chip exit 0" ] && _ok "$chip irqchip: guest powered off (exit 0)" ||
		_bad "$chip irqchip: $(grep "^$chip " "$OUT/results" | tr '\n' ' ')"
done
# hybrid.sys_runs: SYS_RUN ioctls that returned to userland (hybrid.run_calls
# also counts the interpreter runs inside one ioctl)
ru=$(d user hybrid.sys_runs) iu=$(d user cpu.interrupts)
rm=$(d module hybrid.sys_runs) im=$(d module cpu.interrupts)
echo "  phase: user chip $ru SYS_RUN calls for $iu interrupts; module chip $rm for $im"
pu=$(echo "$ru $iu" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 0) }')
pm=$(echo "$rm $im" | awk '{ printf "%.2f", ($2 > 0 ? $1 / $2 : 999) }')
[ "${iu:-0}" -gt 500 ] && [ "${im:-0}" -gt 500 ] && _ok "guest timer ticks in the phase ($iu and $im interrupts)" ||
	_bad "too few interrupts in the phase: user $iu, module $im"
echo "$pm $pu" | awk '{ exit !($1 * 3 <= $2) }' &&
	_ok "SYS_RUN calls per interrupt: module $pm, at most a third of user's $pu" ||
	_bad "SYS_RUN calls per interrupt: module $pm, user $pu"
w=$(d module hybrid.exit.intr_window) acks=$(d module kirq.acks)
[ "$w" = 0 ] && [ "${im:-0}" -gt 0 ] && [ "$acks" = "$im" ] && _ok "module chip: no interrupt window, all $acks acknowledged in the module" ||
	_bad "module chip: $w windows, $acks acks for $im interrupts"
leak=$(awk '$1 == "module" && $2 == 3 && $3 ~ /^pio\.0x00(20|21|40|43|61|80|a0|a1)$/' "$OUT/counters")
[ -z "$leak" ] && [ "$(d module kirq.pio.0x0020)" -gt 0 ] && _ok "module chip: PIC/PIT/0x80 ports never reached userland" ||
	_bad "module chip: userland saw $(echo $leak)"
[ "$(d user hybrid.exit.intr_window)" -gt 500 ] && _ok "user chip: interrupt windows as before ($(d user hybrid.exit.intr_window))" ||
	_bad "user chip: $(d user hybrid.exit.intr_window) interrupt windows"
set -- $(grep "^user phase" "$OUT/results")
[ $# -eq 6 ] && echo "  user chip phase: host $(echo "$5 - $3" | bc) s, guest $(echo "$6 - $4" | bc) s"
set -- $(grep "^module phase" "$OUT/results")
if [ $# -eq 6 ]; then
	host=$(echo "$5 - $3" | bc) guest=$(echo "$6 - $4" | bc)
	echo "  module chip phase: host $host s, guest $guest s"
	dd=$(echo "$guest - $host" | bc); dd=${dd#-}
	[ "$(echo "$guest >= 4" | bc)" = 1 ] && [ "$(echo "$dd <= 0.04 * $host + 0.3" | bc)" = 1 ] &&
		_ok "guest time kept pace with the host (off by $dd s over $host s)" ||
		_bad "guest time: $guest s over $host s of host time"
else
	_bad "module chip phase not timed: $*"
fi
finish
