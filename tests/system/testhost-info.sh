#!/bin/sh
# `hvmm info` inside the test host (hvmm.ko loaded), on both CPU models:
# exits 0, reports the module's ABI version and the host facts; PTI shows on
# Skylake-Client-v4 and off on max; a faked ABI version and an unloaded
# module are refused clearly.
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
mkdir -p "$BUILD/test-logs"
out=$BUILD/test-logs/testhost-info.console
start=$(date +%s)
$TH --quiet --log "$out" --timeout 60 -- sh -c '
	hvmm info || exit 9
	rmmod hvmm && insmod /hvmm.ko abi_override=99 || exit 10
	hvmm info 2>/tmp/e; rc=$?; cat /tmp/e; [ $rc -ne 0 ] || exit 11
	grep -q "ABI version mismatch: module speaks 99" /tmp/e || exit 12
	rmmod hvmm || exit 13
	hvmm info 2>/tmp/e; rc=$?; cat /tmp/e; [ $rc -ne 0 ] || exit 14
	grep -q "is the hvmm kernel module loaded" /tmp/e || exit 15' >/dev/null 2>&1
rc=$?
el=$(( $(date +%s) - start ))
[ $rc -eq 0 ] && _ok "hvmm info exits 0 in the test host (max); mismatch and unloaded module are clear errors" ||
	_bad "hvmm info / mismatch / unloaded checks (exit $rc)"
[ $el -lt 60 ] && _ok "took ${el}s (< 60 s)" || _bad "took ${el}s (>= 60 s)"
for want in "hvmm module ABI version: " "vmx: absent" "svm: absent" "paging: 4-level" \
	"smep: yes" "smap: yes" "nx: yes" "pti: off" "cpus online: 2" "pinned pages: 0"; do
	grep -qF "$want" "$out" && _ok "max: '$want'" || _bad "max: no '$want'"
done
if $TH --quiet --log "$out.sky" --timeout 60 --cpu Skylake-Client-v4 -- hvmm info >/dev/null 2>&1; then
	_ok "hvmm info exits 0 (Skylake-Client-v4)"
else _bad "hvmm info (Skylake-Client-v4)"; fi
for want in "pti: on" "vmx: absent" "paging: 4-level"; do
	grep -qF "$want" "$out.sky" && _ok "skylake: '$want'" || _bad "skylake: no '$want'"
done
finish
