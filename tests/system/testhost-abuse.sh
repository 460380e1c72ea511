#!/bin/sh
# A hostile userland against /dev/hvmm in the test host, on both CPU models
# (build/hvmm-wsprobe, tests/testhost/ws-probe.c): bad arguments get the
# documented errors, accepted registers are sanitized, guests with garbage
# page tables and garbage code end in exits (never a monitor error, host
# oops or hang), and closing releases every pinned page.
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
mkdir -p "$BUILD/test-logs"
[ -x "$BUILD/hvmm-wsprobe" ] || { _bad "$BUILD/hvmm-wsprobe missing (make all)"; finish; }
for cpu in max,-svm,-vmx,-la57 Skylake-Client-v4; do
	log=$BUILD/test-logs/testhost-abuse.$cpu.console
	$TH --quiet --cpu $cpu --timeout 200 --log "$log" -- hvmm-wsprobe 60 >/dev/null 2>&1
	rc=$?
	grep -a -E '^(ok  |FAIL|garbage)' "$log" | sed "s/^/[$cpu] /"
	[ $rc -eq 0 ] && _ok "$cpu: all probes, dmesg clean" || _bad "$cpu: exit $rc (see $log)"
done
finish
