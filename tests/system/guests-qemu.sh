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
# again on a CPU with NX, SSE2 and more (-cpu max): the PAE kernel's NX checks
# run only there; nothing may be skipped for lack of NX
export GUEST_LOGS=$BUILD/test-logs/guests-qemu-max
out=$(sh "$ROOT/tests/guests/run-all.sh" qemu-system-i386 -cpu max -m 128 \
	-device isa-debug-exit,iobase=0xf4,iosize=4 -nographic -no-reboot -kernel)
rc=$?
echo "$out"
[ $rc -eq 0 ] && _ok "every kernel passes on qemu-system-i386 -cpu max" || _bad "some kernel fails with -cpu max"
grep -q '^PASS nx-fetch-user$' "$GUEST_LOGS/pae.log.lines" && _ok "NX checks ran" || _bad "NX checks did not run"
# the runner must notice an engine that runs nothing
export GUEST_LOGS=$BUILD/test-logs/guests-qemu-empty
expect_fail 1 "runner fails on an engine that prints nothing" \
	env GUESTS=exceptions sh "$ROOT/tests/guests/run-all.sh" true
finish
