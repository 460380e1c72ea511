#!/bin/sh
# `hvmm info` on this machine (no hvmm module): non-zero, one-line explanation.
. "$(dirname "$0")/lib.inc"
if [ -e /dev/hvmm ]; then echo "skip: /dev/hvmm exists here"; finish; fi
expect_fail 1 "hvmm info without the module" "$HVMM" info
expect_err "hvmm: /dev/hvmm not found: is the hvmm kernel module loaded? (insmod host-driver/hvmm.ko)" "$HVMM" info
n=$("$HVMM" info 2>&1 | wc -l)
[ "$n" -eq 1 ] && _ok "one line" || _bad "$n lines of output"
finish
