#!/bin/sh
# The hostile guests (tests/guests/hostile/) end on qemu-system-i386: each
# prints its HOSTILE line, then the VM stops within the timeout by a triple
# fault, reset or power-off (-no-reboot: status 0) or by the debug-exit port
# (status 1) - never a hang, never a QEMU crash. hvmm's engines are held to
# the same (and the host must stay clean): see docs/guest-tests.md.
. "$(dirname "$0")/lib.inc"
command -v qemu-system-i386 >/dev/null || { echo "qemu-system-i386 missing"; exit 1; }
make -s -C "$ROOT" guests || exit 1
logs=$BUILD/test-logs/guests-hostile
mkdir -p "$logs"
n=0
for k in "$BUILD"/guests/hostile/*.elf; do
	name=$(basename "$k" .elf); n=$((n + 1))
	timeout 30 qemu-system-i386 -m 128 -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-nographic -no-reboot -kernel "$k" </dev/null >"$logs/$name.log" 2>&1
	rc=$?
	case $name in
	garbage-pt) want=1 ;;	# finishes and reports
	*) want=0 ;;		# shutdown or reset
	esac
	[ $rc -eq $want ] && _ok "$name ends (status $rc)" || { _bad "$name status $rc, wanted $want"; tail -3 "$logs/$name.log"; }
	grep -aq "^HOSTILE $name: " "$logs/$name.log" && _ok "$name started" || _bad "$name printed no HOSTILE line"
	grep -aq '^FAIL ' "$logs/$name.log" && _bad "$name: a FAIL line"
done
[ $n -ge 5 ] && _ok "$n hostile guests" || _bad "only $n hostile guests built"
finish
