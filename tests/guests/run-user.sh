#!/bin/sh
# tests/guests/run-user.sh [ENGINE-COMMAND...] — runs the user-mode test
# programs (build/guests/user/*) natively (no command) or through
# ENGINE-COMMAND with the program's path appended, e.g.
#   tests/guests/run-user.sh build/hvmm run --engine hybrid --user-program
# Programs that finish must print their exact result line and exit status.
# Fault programs must end: natively by the signal Linux maps the fault to;
# under an engine with a non-zero status and a line (other than the EXPECT
# line) carrying the same vector=/error=/eip=/cr2= fields as the program's
# EXPECT line, e.g. "hvmm: guest fault vector=14 error=0x4 eip=0x8048029
# cr2=0x70000123" (values compared as numbers). spin is not run here.
# Environment: USER_TIMEOUT seconds per program (default 60). Exits non-zero
# if any check failed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
U=${BUILD:-$ROOT/build}/guests/user
TMO=${USER_TIMEOUT:-60}
[ -x "$U/hello" ] || { echo "no user programs in $U: run 'make guests'" >&2; exit 2; }
ok=0 bad=0
pass() { ok=$((ok + 1)); echo "  ok   $1"; }
fail() { bad=$((bad + 1)); echo "  FAIL $1"; }

# run NAME: output (stdout+stderr) in $out, status in $rc
run() { out=$( (timeout "$TMO" "$@" "$U/$name") 2>&1); rc=$?; }

# finishing programs: name, status, exact line
for spec in "hello|7|hello from a 32-bit user program" \
	    "compute|0|compute: checksum 0x5379f2cb expected 0x5379f2cb ok" \
	    "touch64m|0|touch64m: touched 16384 pages, 0 wrong, sum 0x98c9e000 ok" \
	    "syscall-loop|0|syscall-loop: 20000 calls, 0 bad ok"; do
	name=${spec%%|*}; rest=${spec#*|}; want=${rest%%|*}; line=${rest#*|}
	run "$@"
	if [ $rc -eq "$want" ] && printf '%s\n' "$out" | grep -qxF "$line"; then
		pass "$name"
	else
		fail "$name: status $rc (want $want), output: $(printf '%s' "$out" | head -c 300)"
	fi
done

# the value of KEY=... in a line, as a decimal number ("" if absent)
field() { v=$(printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1)
	  [ -n "$v" ] && printf '%d' "$v" 2>/dev/null; }

# fault programs: name, native status (128 + SIGTRAP/SIGFPE/SIGSEGV)
for spec in int3:133 divzero:136 pf-unmapped:139 pf-readonly:139 priv-cli:139 \
	    priv-hlt:139 priv-cr3:139 priv-lgdt:139 priv-in:139 priv-out:139; do
	name=${spec%%:*}; native=${spec#*:}
	run "$@"
	exp=$(printf '%s\n' "$out" | grep -a '^EXPECT ' | head -1)
	if [ -z "$exp" ] || printf '%s\n' "$out" | grep -q '^FAIL'; then
		fail "$name: no EXPECT line or the fault did not happen: $(printf '%s' "$out" | head -c 300)"
		continue
	fi
	if [ $# -eq 0 ]; then
		[ $rc -eq "$native" ] && pass "$name (status $rc)" || fail "$name: status $rc, want $native"
		continue
	fi
	[ $rc -ne 0 ] || { fail "$name: engine exited 0"; continue; }
	found=0
	for l in $(printf '%s\n' "$out" | grep -av '^EXPECT ' | grep -an 'vector=' | cut -d: -f1); do
		rep=$(printf '%s\n' "$out" | grep -av '^EXPECT ' | sed -n "${l}p")
		same=1
		for k in vector error eip cr2; do
			w=$(field "$exp" $k)
			[ -z "$w" ] || [ "$(field "$rep" $k)" = "$w" ] || same=0
		done
		[ $same -eq 1 ] && found=1
	done
	[ $found -eq 1 ] && pass "$name ($exp)" || fail "$name: no report matching '$exp'"
done
echo "user programs: $ok passed, $bad failed"
[ $bad -eq 0 ]
