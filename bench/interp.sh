#!/bin/sh
# bench/interp.sh — guest MIPS of the interp engine on an integer loop, next
# to qemu-system-i386 (TCG) running the same loop as a Multiboot kernel,
# measured in the same run. Not a test: prints figures.
#   bench/interp.sh [ITERATIONS]        (default 50,000,000; 7 insns each)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${1:-50000000}
make -s "$BUILD/interp-bench"
out=$("$BUILD/interp-bench" "$N")
echo "$out"
interp_mips=$(echo "$out" | sed 's/.*= \([0-9.]*\) MIPS/\1/')

command -v qemu-system-i386 >/dev/null || { echo "qemu-system-i386 missing: no comparison"; exit 0; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The loop of bench/interp-bench.c (same 7 instructions per iteration),
# entered by QEMU's Multiboot loader in flat protected mode; it ends by
# writing to the isa-debug-exit port.
mk() {
	cat >"$tmp/loop.S" <<EOS
	.section .text
	.globl _start
	.align 4
mb:	.long 0x1badb002, 0x00010000, -(0x1badb002 + 0x00010000)
	.long mb, mb, 0, 0, _start
_start:
	mov \$$1, %ecx
	xor %eax, %eax
	mov \$0x3000, %edi
1:	add %ecx, %eax
	xor %eax, %ebx
	mov %eax, (%edi)
	mov 4(%edi), %esi
	sub \$3, %edx
	dec %ecx
	jnz 1b
	mov \$0xf4, %dx
	out %eax, %dx
	hlt
EOS
	as --32 -o "$tmp/loop.o" "$tmp/loop.S"
	ld -m elf_i386 -Ttext 0x100000 -e _start -o "$tmp/loop.elf" "$tmp/loop.o"
}
run_qemu() {
	start=$(date +%s.%N)
	qemu-system-i386 -M pc -accel tcg -m 32 -display none -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "$tmp/loop.elf" \
		>/dev/null 2>&1 || true
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}
# QEMU's JIT is fast: 10x the iterations so the loop dominates its startup.
QN=$((N * 10))
mk 1000; t0=$(run_qemu); t0b=$(run_qemu)
[ "$(echo "$t0b < $t0" | bc)" = 1 ] && t0=$t0b
mk "$QN"; t1=$(run_qemu)
q_mips=$(echo "7 * $QN / ($t1 - $t0) / 1000000" | bc -l)
printf 'qemu-system-i386 TCG: %d iterations in %.3f s (startup %.3f s subtracted) = %.1f MIPS\n' \
	"$QN" "$(echo "$t1 - $t0" | bc -l)" "$t0" "$q_mips"
printf 'interp / qemu-tcg = %.2f\n' "$(echo "$interp_mips / $q_mips" | bc -l)"
