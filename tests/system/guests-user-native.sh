#!/bin/sh
# The user-mode test programs (tests/guests/user/) run natively here as
# 32-bit Linux processes: the ones that finish print the right results and
# exit status; the fault programs die by the signal Linux maps their fault to.
# This proves the programs before hvmm --user-program runs them.
. "$(dirname "$0")/lib.inc"
make -s -C "$ROOT" guests || exit 1
U=$BUILD/guests/user

# run NAME: output in $out, status in $rc (no shell job-control messages)
run() { out=$(timeout 30 "$U/$1" 2>&1); rc=$?; }

run hello
[ $rc -eq 7 ] && _ok "hello exits 7" || _bad "hello exit $rc, wanted 7"
echo "$out" | grep -q '^hello from a 32-bit user program$' && _ok "hello output" || _bad "hello output: $out"

run compute
[ $rc -eq 0 ] && _ok "compute exits 0" || _bad "compute exit $rc: $out"
echo "$out" | grep -q '^compute: checksum 0x5379f2cb expected 0x5379f2cb ok$' \
	&& _ok "compute checksum" || _bad "compute output: $out"

run touch64m
[ $rc -eq 0 ] && _ok "touch64m exits 0" || _bad "touch64m exit $rc: $out"
echo "$out" | grep -q '^touch64m: touched 16384 pages, 0 wrong, sum 0x98c9e000 ok$' \
	&& _ok "touch64m output" || _bad "touch64m output: $out"

run syscall-loop
[ $rc -eq 0 ] && echo "$out" | grep -q '^syscall-loop: 20000 calls, 0 bad ok$' \
	&& _ok "syscall-loop" || _bad "syscall-loop exit $rc: $out"

out=$(timeout 1 "$U/spin" 2>&1); rc=$?
[ $rc -eq 124 ] && _ok "spin runs until killed" || _bad "spin exit $rc, wanted 124 (timeout)"
echo "$out" | grep -q '^spin: looping until killed$' && _ok "spin output" || _bad "spin output: $out"

# fault programs: 128 + signal (SIGTRAP 5, SIGFPE 8, SIGSEGV 11)
for spec in int3:133:3 divzero:136:0 pf-unmapped:139:14 pf-readonly:139:14 \
	    priv-cli:139:13 priv-hlt:139:13 priv-cr3:139:13 priv-lgdt:139:13 \
	    priv-in:139:13 priv-out:139:13; do
	name=${spec%%:*}; rest=${spec#*:}; want=${rest%%:*}; vec=${rest#*:}
	run "$name"
	[ $rc -eq "$want" ] && _ok "$name killed (status $rc)" || _bad "$name status $rc, wanted $want: $out"
	echo "$out" | grep -q "^EXPECT vector=$vec " && _ok "$name states vector $vec" \
		|| _bad "$name EXPECT line: $out"
	echo "$out" | grep -q "FAIL" && _bad "$name survived its fault"
done
finish
