#!/bin/sh
# Issue 5 in the test host, on both CPU models: 32-bit programs run natively
# at CPL 3 in the monitor world. Results equal the native run of the same
# binary; faults come back with the right vector, error code and CR2;
# privileged instructions are never executed (#GP); only write and exit are
# completed; the module's counters move.
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
mkdir -p "$BUILD/test-logs"
make -s -C "$ROOT" ws-guests >/dev/null || { _bad "building the ws-* guests"; finish; }
inner=$BUILD/test-logs/testhost-hybrid.inner.sh
cat >"$inner" <<'IN'
H="hvmm run --engine hybrid --mem 8 --user-program"
G=/guests/user
fail=0
chk() { if [ "$1" = ok ]; then echo "ok   - $2"; else echo "FAIL - $2"; fail=1; fi; }
# expect FAULT-PROGRAM MESSAGE-REGEX
expect() {
	$H $G/ws-fault-$1 >/tmp/o 2>/tmp/e; rc=$?
	if [ $rc -eq 8 ] && grep -q "ws-fault: before" /tmp/o && ! grep -q "NOT TRAPPED" /tmp/o &&
	   grep -Eq "$2" /tmp/e; then chk ok "$1: $(cat /tmp/e)"
	else chk bad "$1 (exit $rc): $(cat /tmp/o /tmp/e)"; fi
}
out=$($H $G/ws-hello); rc=$?
[ $rc -eq 0 ] && [ "$out" = "hello from ws-hello" ] && chk ok hello || chk bad "hello ($rc: $out)"
$H $G/ws-exit 2>/dev/null; rc=$?
[ $rc -eq 42 ] && chk ok "exit status 42" || chk bad "exit status $rc, wanted 42"
$G/ws-compute >/tmp/n 2>/dev/null; $H $G/ws-compute >/tmp/h 2>/dev/null; rc=$?
[ $rc -eq 0 ] && grep -q checksum /tmp/h && cmp -s /tmp/n /tmp/h && chk ok "compute = native: $(cat /tmp/h)" ||
	chk bad "compute: native '$(cat /tmp/n)' hybrid '$(cat /tmp/h)' exit $rc"
$G/ws-touch >/tmp/n; hvmm run --engine hybrid --mem 64 --stats --user-program $G/ws-touch >/tmp/h 2>/tmp/s; rc=$?
sf=$(grep 'stats shadow_faults' /tmp/s | cut -d' ' -f3)
[ $rc -eq 0 ] && cmp -s /tmp/n /tmp/h && chk ok "touch 48 MiB = native: $(cat /tmp/h)" || chk bad "touch: '$(cat /tmp/n)' vs '$(cat /tmp/h)' exit $rc"
[ "${sf:-0}" -ge 12288 ] && chk ok "shadow faults counted: $sf" || chk bad "shadow faults $sf < 12288"
grep -q 'stats world_switches [1-9]' /tmp/s && chk ok "world switches counted" || chk bad "no world switch count"
expect int3 '#BP \(vector 3\) error 0 .*at eip 0x804801a'
expect div0 '#DE \(vector 0\) error 0 '
expect ud2 '#UD \(vector 6\)'
expect pf-unmapped '#PF \(vector 14\) error 0x4 cr2 0x10000000 at eip'
expect pf-write-ro '#PF \(vector 14\) error 0x7 cr2 0x8048000 at eip'
expect pf-null-exec '#PF \(vector 14\) error 0x14 cr2 0 at eip 0$'
expect cli '#GP \(vector 13\) error 0 '
expect movcr3 '#GP \(vector 13\) error 0 '
expect lgdt '#GP \(vector 13\) error 0 '
expect out '#GP \(vector 13\) error 0 .*out port 0x80 size 1'
expect in '#GP \(vector 13\) error 0 .*in port 0x3f8 size 1'
expect hlt '#GP \(vector 13\) error 0 .*hlt at CPL 3'
expect sysenter '#GP \(vector 13\) error 0 '
expect syscall '#UD \(vector 6\)'
# int 0x21 through a DPL-0 gate: #GP(0x21*8+2); QEMU TCG pushes 0x21*16+2
expect int-0x21 '#GP \(vector 13\) error 0x(10a|212) '
expect getpid 'guest system call 20 is not supported'
hvmm info | grep -q 'pinned pages: 0' && chk ok "no page left pinned" || chk bad "pages still pinned: $(hvmm info | grep pinned)"
exit $fail
IN
for cpu in max,-svm,-vmx,-la57 Skylake-Client-v4; do
	log=$BUILD/test-logs/testhost-hybrid.$cpu.console
	$TH --quiet --cpu $cpu --timeout 200 --log "$log" --add "$inner:/t.sh" -- sh /t.sh >/dev/null 2>&1
	rc=$?
	grep -a -E '^(ok  |FAIL)' "$log" | sed "s/^/[$cpu] /"
	[ $rc -eq 0 ] && _ok "$cpu: all in-host checks" || _bad "$cpu: exit $rc (see $log)"
done
finish
