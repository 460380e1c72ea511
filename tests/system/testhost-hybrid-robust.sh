#!/bin/sh
# Issue 5 robustness in the test host, on both CPU models: 50 x kill -9 at
# varied moments (while pinning, while spinning) leave no pinned page and
# the module unloads; a guest spinning for 10 s does not stall the host
# (timers and the other CPU keep working; the runner fails on any soft
# lockup or RCU stall warning); SIGSTOP stops a spinning guest (the run
# ioctl returns -EINTR) and SIGCONT resumes it; NMIs (sysrq l) during a
# guest reach Linux's NMI handler.
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
mkdir -p "$BUILD/test-logs"
make -s -C "$ROOT" ws-guests >/dev/null || { _bad "building the ws-* guests"; finish; }
inner=$BUILD/test-logs/testhost-hybrid-robust.inner.sh
cat >"$inner" <<'IN'
H="hvmm run --engine hybrid --mem 16 --user-program /guests/user/ws-spin"
fail=0
chk() { if [ "$1" = ok ]; then echo "ok   - $2"; else echo "FAIL - $2"; fail=1; fi; }
state() { sed 's/^[0-9]* ([^)]*) \(.\).*/\1/' /proc/$1/stat 2>/dev/null; }
i=0
while [ $i -lt 50 ]; do
	$H >/dev/null 2>&1 &
	pid=$!
	usleep $(( (i * 7919) % 400000 ))
	kill -9 $pid
	wait $pid 2>/dev/null
	i=$((i + 1))
done
chk ok "50 x kill -9 done"
hvmm info >/tmp/i
grep -q '^pinned pages: 0$' /tmp/i && chk ok "no pinned page left" || chk bad "$(grep pinned /tmp/i)"
grep -q '^vms: 0 vcpus: 0$' /tmp/i && chk ok "no VM left" || chk bad "$(grep vms /tmp/i)"

# 10 s of spinning: the shell keeps time on the other CPU
$H >/tmp/spin.out 2>&1 &
pid=$!
t0=$(date +%s); n=0
while [ $n -lt 10 ]; do sleep 1; n=$((n + 1)); done
t1=$(date +%s)
[ $((t1 - t0)) -ge 9 ] && [ $((t1 - t0)) -le 13 ] && chk ok "10 x sleep 1 took $((t1 - t0)) s" ||
	chk bad "10 x sleep 1 took $((t1 - t0)) s"
grep -q spinning /tmp/spin.out && chk ok "guest is spinning" || chk bad "guest did not start: $(cat /tmp/spin.out)"
st=$(cut -d' ' -f15 /proc/$pid/stat)
[ "${st:-0}" -ge 500 ] && chk ok "spinner used $st ticks of system time" || chk bad "spinner system time $st ticks"
kill -STOP $pid; usleep 500000
s=$(state $pid); [ "$s" = T ] && chk ok "SIGSTOP stops the guest" || chk bad "state after SIGSTOP: $s"
kill -CONT $pid; usleep 500000
s=$(state $pid); [ "$s" = R ] && chk ok "SIGCONT resumes it" || chk bad "state after SIGCONT: $s"
kill -9 $pid; wait $pid 2>/dev/null
hvmm info | grep -q '^pinned pages: 0$' && chk ok "released after kill" || chk bad "pinned after kill"

# NMIs while a guest spins (sysrq l: an NMI to every CPU): handed back to
# Linux (its NMI backtrace shows our host-side frame), nothing else logged.
dmesg -c >/dev/null
$H >/dev/null 2>&1 &
pid=$!
sleep 1
for n in 1 2 3; do echo l >/proc/sysrq-trigger; usleep 300000; done
kill -TERM $pid; wait $pid 2>/dev/null
dmesg -c >/tmp/nmi
c=$(grep -c 'NMI backtrace for cpu' /tmp/nmi)
[ "$c" -ge 6 ] && chk ok "$c NMI backtraces" || chk bad "$c NMI backtraces, wanted 6"
grep -q 'hvmm__world_run_once' /tmp/nmi && chk ok "an NMI reached Linux from the world switch" ||
	chk bad "no NMI seen in hvmm__world_run_once"
grep -Eq 'WARNING:|BUG:|Oops|stall|lockup' /tmp/nmi && chk bad "kernel trouble around NMIs" || chk ok "no warning around NMIs"
hvmm info | grep -q '^pinned pages: 0$' && chk ok "released after SIGTERM" || chk bad "pinned after SIGTERM"
rmmod hvmm && chk ok "rmmod" || chk bad "rmmod failed"
exit $fail
IN
for cpu in max,-svm,-vmx,-la57 Skylake-Client-v4; do
	log=$BUILD/test-logs/testhost-hybrid-robust.$cpu.console
	$TH --quiet --cpu $cpu --timeout 240 --log "$log" --add "$inner:/t.sh" -- sh /t.sh >/dev/null 2>&1
	rc=$?
	grep -a -E '^(ok  |FAIL)' "$log" | sed "s/^/[$cpu] /"
	[ $rc -eq 0 ] && _ok "$cpu: all in-host checks, dmesg clean" || _bad "$cpu: exit $rc (see $log)"
done
finish
