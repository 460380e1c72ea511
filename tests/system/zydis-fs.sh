#!/bin/sh
# The freestanding build: build/zydis-fs.a (Zydis from Debian's source
# package) and build/monitor-fs.a must link into hvmm.ko. Checks:
#  - build/fs-test (tests/fs/, -nostdlib -static, own _start) decodes its
#    table of IA-32 instructions and checks fs-libc; exits 0
#  - the two archives together need no symbol outside ALLOWED (what the
#    kernel exports); relocations in code/data are ones the x86-64 module
#    loader applies (apply_relocate_add: 64, 32S, PC32, PLT32, PC64 — a
#    R_X86_64_32 cannot reach a module address above -2 GiB)
#  - no SSE/x87/MMX register in the code (the monitor does not own the FPU),
#    no TLS or constructor sections
#  - the freestanding headers are those of the source package
. "$(dirname "$0")/lib.inc"
ALLOWED="memcpy memmove memset memcmp"
ARCHIVES="$BUILD/monitor-fs.a $BUILD/zydis-fs.a"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for a in $ARCHIVES "$BUILD/fs-test"; do
	[ -s "$a" ] || { _bad "$a missing (make all)"; finish; }
done

expect_out "fs-test: all checks passed" "$BUILD/fs-test"
expect_ok "fs-test exits 0" "$BUILD/fs-test"

# Undefined symbols of the archives together, minus what they define.
nm -u $ARCHIVES | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u >"$tmp/undef"
nm --defined-only -g $ARCHIVES | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/def"
comm -23 "$tmp/undef" "$tmp/def" >"$tmp/needed"
printf '%s\n' $ALLOWED | sort -u >"$tmp/allowed"
extra=$(comm -23 "$tmp/needed" "$tmp/allowed" | tr '\n' ' ')
[ -z "$extra" ] && _ok "archives need only: $(tr '\n' ' ' <"$tmp/needed")(allowed: $ALLOWED)" ||
	_bad "archives need symbols the kernel module cannot provide: $extra"
[ "$(wc -l <"$tmp/def")" -gt 100 ] && grep -qx ZydisDecoderDecodeFull "$tmp/def" &&
	_ok "archives define ZydisDecoderDecodeFull" || _bad "archive symbol list looks wrong"

# Relocation types outside debug sections.
bad=$(for a in $ARCHIVES; do readelf -rW "$a"; done | awk '
	/^Relocation section/ { dbg = ($3 ~ /debug/) }
	/R_X86_64_/ && !dbg { print $3 }' | sort -u |
	grep -vxE 'R_X86_64_(64|32S|PC32|PLT32|PC64)' | tr '\n' ' ')
[ -z "$bad" ] && _ok "relocations: module loader types only" ||
	_bad "relocations the module loader rejects: $bad"

# No FPU/SSE register operand anywhere in the code.
fpu=$(objdump -d --no-show-raw-insn $ARCHIVES | grep -cE '%(x|y|z)mm[0-9]|%st(\(|$|,)|%mm[0-7]')
[ "$fpu" -eq 0 ] && _ok "no SSE/x87/MMX instructions" || _bad "$fpu SSE/x87/MMX instructions"

secs=$(readelf -SW $ARCHIVES | grep -oE '\.(tdata|tbss|init_array|fini_array|ctors|dtors|preinit_array)\b' | sort -u | tr '\n' ' ')
[ -z "$secs" ] && _ok "no TLS or constructor sections" || _bad "sections: $secs"

inc=$(readlink "$BUILD/fs-include/Zydis")
case $inc in
*/cache/src/zydis/include/Zydis) _ok "fs-include/Zydis is the source package's" ;;
*) _bad "fs-include/Zydis -> $inc, not the source package" ;;
esac
finish
