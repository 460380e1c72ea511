#!/bin/sh
# The hostile guests (tests/guests/hostile/) on qemu-system-i386 and on the
# interp engine here: each prints its HOSTILE line and ends as
# tests/system/hostile.inc says (QEMU -no-reboot: a triple fault or reset is
# status 0, the self-checking kernels status 1; hvmm --no-reboot: 8 / 4 / 1)
# - never a hang, never a crash. The interpreter must pass every check the
# kernels make, and so must QEMU except its known deviations; the two give
# the same PASS lines. NOTE lines (values read where no RAM is) may differ.
# The hybrid engine is held to the interp engine's exact output in the test
# host (testhost-hostile-sys.sh).
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/hostile.inc"
command -v qemu-system-i386 >/dev/null || { echo "qemu-system-i386 missing"; exit 1; }
make -s -C "$ROOT" guests || exit 1
logs=$BUILD/test-logs/guests-hostile
mkdir -p "$logs"
n=0
for name in $(hostile_list); do
	k=$BUILD/guests/hostile/$name.elf
	n=$((n + 1))
	timeout 30 qemu-system-i386 -m 32 -device isa-debug-exit,iobase=0xf4,iosize=4 \
		-nographic -no-reboot -kernel "$k" </dev/null >"$logs/$name.qemu.log" 2>&1
	rc=$?
	timeout 30 "$HVMM" run --engine interp --mem 32M --no-reboot --kernel "$k" \
		</dev/null >"$logs/$name.interp.log" 2>&1
	irc=$?
	want=$(hostile_qemu_want "$name") iwant=$(hostile_want "$name")
	[ $rc -eq "$want" ] && [ $irc -eq "$iwant" ] && _ok "$name ends (QEMU status $rc, interp $irc)" ||
		{ _bad "$name: QEMU status $rc (want $want), interp $irc (want $iwant)"; tail -3 "$logs/$name.qemu.log"; }
	grep -aq "^HOSTILE $name: " "$logs/$name.qemu.log" && grep -aq "^HOSTILE $name: " "$logs/$name.interp.log" &&
		_ok "$name started" || _bad "$name printed no HOSTILE line"
	hostile_lines "$logs/$name.interp.log" | grep -a '^FAIL ' | sed "s/^/$name interp: /" >"$logs/$name.fails"
	hostile_lines "$logs/$name.qemu.log" | grep -a '^FAIL ' | grep -avE "^FAIL ($HOSTILE_QEMU_KNOWN):" |
		sed "s/^/$name QEMU: /" >>"$logs/$name.fails"
	[ -s "$logs/$name.fails" ] && { _bad "$name: FAIL lines"; cat "$logs/$name.fails"; }
	np=$(hostile_lines "$logs/$name.interp.log" | grep -ac '^PASS ')
	# a known deviation: the interpreter must pass it, QEMU may fail it
	hostile_lines "$logs/$name.interp.log" | grep -a '^PASS ' | grep -avE "^PASS ($HOSTILE_QEMU_KNOWN)$" >"$logs/$name.ip"
	hostile_lines "$logs/$name.qemu.log" | grep -a '^PASS ' | grep -avE "^PASS ($HOSTILE_QEMU_KNOWN)$" >"$logs/$name.qp"
	if [ "$np" -gt 0 ]; then
		cmp -s "$logs/$name.ip" "$logs/$name.qp" && _ok "$name: $np checks, QEMU passes the same" ||
			{ _bad "$name: PASS lines differ from QEMU's"; diff "$logs/$name.ip" "$logs/$name.qp" | head -5; }
	fi
done
[ $n -ge 12 ] && _ok "$n hostile guests" || _bad "only $n hostile guests built"
finish
