#!/bin/sh
# insmod/rmmod hvmm.ko 100 times in the test host, asking the device for its
# facts each time; the kernel log must stay clean (the runner checks dmesg).
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
mkdir -p "$BUILD/test-logs"
$TH --quiet --log "$BUILD/test-logs/testhost-loadunload.console" --timeout 120 -- sh -c '
	rmmod hvmm || exit 10
	i=0
	while [ $i -lt 100 ]; do
		insmod /hvmm.ko || exit 11
		hvmm info >/dev/null || exit 12
		rmmod hvmm || exit 13
		i=$((i + 1))
	done
	[ ! -e /dev/hvmm ] || exit 14
	grep -q "^hvmm " /proc/modules && exit 15
	echo "loadunload: $i rounds"' >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] && _ok "100 x insmod/info/rmmod, dmesg clean" || _bad "loadunload (exit $rc)"
grep -q "loadunload: 100 rounds" "$BUILD/test-logs/testhost-loadunload.console" && _ok "100 rounds done" || _bad "rounds marker missing"
finish
