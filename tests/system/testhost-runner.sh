#!/bin/sh
# The test-host runner itself must detect failure: a command's exit status
# comes back, a hang is a timeout (124, qemu killed), a missing marker is not
# success, and --add files arrive.
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
mkdir -p "$BUILD/test-logs"
$TH --quiet --timeout 60 -- sh -c 'exit 3' >/dev/null 2>&1
rc=$?; [ $rc -eq 3 ] && _ok "exit 3 gives 3" || _bad "exit 3 gave $rc"
start=$(date +%s)
$TH --quiet --timeout 8 -- sleep 1000 >/dev/null 2>"$BUILD/test-logs/testhost-runner.err"
rc=$?; el=$(( $(date +%s) - start ))
[ $rc -eq 124 ] && _ok "hang gives 124" || _bad "hang gave $rc"
[ $el -lt 20 ] && _ok "killed after ${el}s" || _bad "took ${el}s to kill"
grep -q "timeout after 8s" "$BUILD/test-logs/testhost-runner.err" && _ok "timeout is reported" || _bad "no timeout message"
# the guest kernel panics (init dies): no exit marker, must not pass
$TH --quiet --timeout 60 -- sh -c 'echo c >/proc/sysrq-trigger' >/dev/null 2>&1
rc=$?; [ $rc -eq 126 ] || [ $rc -eq 125 ] && _ok "crash gives $rc" || _bad "crash gave $rc"
# a kernel warning after boot fails the run even when the command succeeds
$TH --quiet --timeout 60 -- sh -c 'echo "WARNING: CPU: 0 PID: 1 at fake.c:1 (test)" >/dev/kmsg' >/dev/null 2>&1
rc=$?; [ $rc -eq 125 ] && _ok "kernel WARNING gives 125" || _bad "kernel WARNING gave $rc"
tmp=$(mktemp); echo "payload-$$" >"$tmp"
$TH --quiet --timeout 60 --add "$tmp:/x/y.txt" -- grep -q "payload-$$" /x/y.txt >/dev/null 2>&1
rc=$?; rm -f "$tmp"; [ $rc -eq 0 ] && _ok "--add delivers a file, exit 0 gives 0" || _bad "--add (exit $rc)"
finish
