#!/bin/sh
# `hvmm run` on bad input: one clear line on stderr, exit status 2, never a
# crash or a hang (each run has a 20 s timeout in expect_fail).
. "$(dirname "$0")/lib.inc"
K=$(ls "$BUILD"/cache/guest-kernel/boot/vmlinuz-* 2>/dev/null | head -1)
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT

expect_out  "usage: hvmm run"            "$HVMM" run --help
expect_fail 2 "unknown flag"             "$HVMM" run --frobnicate
expect_err  "unknown option '--frob'"    "$HVMM" run --frob
expect_fail 2 "missing argument"         "$HVMM" run --kernel
expect_err  "needs an argument"          "$HVMM" run --initrd
expect_fail 2 "stray argument"           "$HVMM" run vmlinuz
expect_fail 2 "bad size"                 "$HVMM" run --mem lots
expect_err  "not a size"                 "$HVMM" run --mem 12Q
expect_err  "out of range"               "$HVMM" run --mem 1M
expect_err  "out of range"               "$HVMM" run --mem 16G
expect_err  "expected interp or hybrid"  "$HVMM" run --engine kvm
expect_err  "--irqchip apic: expected user or module"  "$HVMM" run --engine hybrid --irqchip apic
expect_fail 2 "bad --irqchip: usage error" "$HVMM" run --engine hybrid --irqchip=apic
expect_err  "expected stdio"             "$HVMM" run --serial pty
expect_fail 2 "missing kernel"           "$HVMM" run --kernel "$T/none"
expect_err  "No such file"               "$HVMM" run --kernel "$T/none"
expect_err  "Is a directory"             "$HVMM" run --kernel "$T"
expect_fail 2 "not a kernel"             "$HVMM" run --kernel /bin/sh
expect_err  "neither a bzImage nor a Multiboot" "$HVMM" run --kernel /bin/sh
: >"$T/empty"
expect_err  "neither a bzImage nor a Multiboot" "$HVMM" run --kernel "$T/empty"
expect_err  "/dev/hvmm is missing"       "$HVMM" run --engine hybrid --kernel /bin/sh
expect_fail 2 "hybrid without module"    "$HVMM" run --engine hybrid
if [ "$(id -u)" -ne 0 ]; then
	echo x >"$T/noread"; chmod 000 "$T/noread"
	expect_err "Permission denied"   "$HVMM" run --kernel "$T/noread"
fi
if [ -n "$K" ]; then
	expect_err  "--initrd"                "$HVMM" run --kernel "$K" --initrd "$T/none"
	expect_err  "--disk $T/none"          "$HVMM" run --kernel "$K" --disk "$T/none"
	head -c 200000 "$K" >"$T/trunc"
	expect_fail 2 "truncated bzImage"     "$HVMM" run --kernel "$T/trunc"
	expect_err  "malformed image"         "$HVMM" run --kernel "$T/trunc"
	expect_err  "does not fit in guest RAM" "$HVMM" run --kernel "$K" --mem 16M
	long=$(head -c 5000 /dev/zero | tr '\0' a)
	expect_err  "command line too long"   "$HVMM" run --kernel "$K" --append "$long"
	expect_err  "--serial"                "$HVMM" run --kernel "$K" --serial "unix:$T/no/such/dir/s"
else
	_bad "guest kernel missing from build/cache (run scripts/deps.sh)"
fi
finish
