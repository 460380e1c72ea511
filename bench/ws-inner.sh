#!/bin/sh
# bench/ws-inner.sh — runs INSIDE the test host (see bench/world-switch.sh):
# the same 32-bit programs natively and under the hybrid engine.
H="hvmm run --engine hybrid --mem 64 --user-program"
G=/guests/user
cyc() { grep '^cycles' "$1" | cut -d' ' -f2; }
# TCG's TSC follows host time, and the build machine is shared: take the
# minimum of several interleaved runs of each.
nmin=0 hmin=0
for i in 1 2 3 4 5; do
	$G/ws-compute >/tmp/n.out 2>/tmp/n.err || exit 1
	$H $G/ws-compute >/tmp/h.out 2>/tmp/h.err || exit 2
	cmp -s /tmp/n.out /tmp/h.out || { echo "checksums differ"; exit 3; }
	n=$(cyc /tmp/n.err); h=$(cyc /tmp/h.err)
	echo "compute run $i: native $n cycles, hybrid $h cycles, ratio $(awk "BEGIN{printf \"%.4f\", $h/$n}")"
	[ $nmin = 0 ] || [ $n -lt $nmin ] && nmin=$n
	[ $hmin = 0 ] || [ $h -lt $hmin ] && hmin=$h
done
echo "compute best: native $nmin, hybrid $hmin, ratio $(awk "BEGIN{printf \"%.4f\", $hmin/$nmin}")"
echo "native ws-bench:"; $G/ws-bench | sed 's/^/  /'
echo "hybrid ws-bench:"
hvmm run --engine hybrid --mem 64 --stats --user-program $G/ws-bench >/tmp/b.out 2>&1
grep -E 'cycles|world_switches|exits_syscall|shadow_faults|guest_tsc' /tmp/b.out | sed 's/^/  /'
awk '/stats world_switches/ { n = $3 } /stats guest_tsc/ { t = $3 }
     END { if (n) printf "  module round trip (TSC from entry to exit, incl. MSRs/FPU/IRQ handback) %d cycles\n", t / n }' /tmp/b.out
