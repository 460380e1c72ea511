#!/bin/sh
# The multiboot test kernels (tests/guests/mb) pass on the interp engine:
# faults, gates, task switches, paging (2-level, PSE, PAE/NX), real mode,
# debug registers and single-step, strings, SMC, SYSENTER... with nothing
# skipped for lack of NX (the interpreter implements it).
. "$(dirname "$0")/lib.inc"
make -s -C "$ROOT" guests userland || exit 1
export GUEST_LOGS=$BUILD/test-logs/interp-guests
out=$(sh "$ROOT/tests/guests/run-all.sh" "$HVMM" run --engine interp --kernel)
rc=$?
echo "$out"
[ $rc -eq 0 ] && _ok "every kernel passes on the interp engine" || _bad "some kernel fails on the interp engine"
grep -q '^PASS nx-fetch-user$' "$GUEST_LOGS/pae.log.lines" && _ok "NX checks ran" || _bad "NX checks did not run"
finish
