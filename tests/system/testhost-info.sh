#!/bin/sh
# `hvmm info` inside the test host (hvmm.ko loaded), on both CPU models:
# exits 0, reports the module's ABI version and the host facts; PTI shows on
# Skylake-Client-v4 and off on max; a faked ABI version is refused clearly.
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
mkdir -p "$BUILD/test-logs"
mkdir -p "$BUILD/test-logs"
out=$BUILD/test-logs/testhost-info.out
start=$(date +%s)
if $TH --quiet --log "$BUILD/test-logs/testhost-info.console" --timeout 60 -- hvmm info >/dev/null 2>&1 &&
   cp "$BUILD/test-logs/testhost-info.console" "$out"; then _ok "hvmm info exits 0 in the test host (max)"
else _bad "hvmm info in the test host (max)"; fi
el=$(( $(date +%s) - start ))
[ $el -lt 60 ] && _ok "took ${el}s (< 60 s)" || _bad "took ${el}s (>= 60 s)"
for want in "hvmm module ABI version: " "vmx: absent" "svm: absent" "paging: 4-level" \
	"smep: yes" "smap: yes" "nx: yes" "pti: off" "cpus online: 2"; do
	grep -qF "$want" "$out" && _ok "max: '$want'" || _bad "max: no '$want'"
done
if $TH --quiet --log "$BUILD/test-logs/testhost-info.console" --timeout 60 --cpu Skylake-Client-v4 -- hvmm info >/dev/null 2>&1 &&
   cp "$BUILD/test-logs/testhost-info.console" "$out.sky"; then _ok "hvmm info exits 0 (Skylake-Client-v4)"
else _bad "hvmm info (Skylake-Client-v4)"; fi
for want in "pti: on" "vmx: absent" "paging: 4-level"; do
	grep -qF "$want" "$out.sky" && _ok "skylake: '$want'" || _bad "skylake: no '$want'"
done
# ABI mismatch and missing module, inside the test host
$TH --quiet --log "$BUILD/test-logs/testhost-info.console" --timeout 60 -- sh -c '
	rmmod hvmm && insmod /hvmm.ko abi_override=99 || exit 10
	hvmm info 2>/tmp/e; rc=$?; cat /tmp/e; [ $rc -ne 0 ] || exit 11
	grep -q "ABI version mismatch: module speaks 99" /tmp/e || exit 12
	rmmod hvmm || exit 13
	hvmm info 2>/tmp/e; rc=$?; cat /tmp/e; [ $rc -ne 0 ] || exit 14
	grep -q "is the hvmm kernel module loaded" /tmp/e || exit 15' >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] && _ok "ABI mismatch and unloaded module are clear errors" || _bad "mismatch/unloaded checks (exit $rc)"
finish
