#!/bin/sh
# The multiboot test kernels pass on qemu-system-i386 (TCG), the reference:
# this checks the test programs themselves before any hvmm engine runs them.
. "$(dirname "$0")/lib.inc"
command -v qemu-system-i386 >/dev/null || { echo "qemu-system-i386 missing"; exit 1; }
make -s -C "$ROOT" guests || exit 1
n=$(ls "$BUILD"/guests/mb/*.elf | wc -l)
[ "$n" -ge 1 ] && _ok "$n kernels built" || _bad "no kernels built"
export GUEST_LOGS=$BUILD/test-logs/guests-qemu
out=$(sh "$ROOT/tests/guests/run-all.sh" qemu-system-i386 -m 128 \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -nographic -no-reboot -kernel)
rc=$?
echo "$out"
[ $rc -eq 0 ] && _ok "every kernel passes on qemu-system-i386" || _bad "some kernel fails on qemu-system-i386"
# the runner must notice an engine that runs nothing
expect_fail 1 "runner fails on an engine that prints nothing" \
	env GUESTS=exceptions sh "$ROOT/tests/guests/run-all.sh" true
finish
