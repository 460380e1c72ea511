#!/bin/sh
# bench/guest-profile.sh [QEMU-CPU] — where the GUEST KERNEL's instructions
# go while a guest user program runs: the default guest (Debian 686 +
# busybox) under qemu-system-i386 (TCG) with the TB-counting plugin
# bench/tcg-prof.c (lo=0xc0000000: the guest kernel's TBs), snapshotted by
# /tcg-mark32 (added to the initramfs) around two phases: a busybox sh loop
# (the kernel's part is timer ticks) and `dd bs=4096` from /dev/zero to
# /dev/null (system calls). Exact counts, not samples; attributed to the
# guest's own /proc/kallsyms. This is the work the hybrid engine's
# interpreter has to do for the guest kernel (the CPU model defaults to one
# without an APIC, so that Linux uses the PIT and 8259s as under hvmm).
# Not a test: prints guest kernel functions by instructions, per phase.
# Environment: LOOP (default 100000), DD (default 10000), TOP (default 30).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
CPU=${1:-max,-apic,-x2apic}
LOOP=${LOOP:-100000} DD=${DD:-10000} TOP=${TOP:-30}
OUT=$BUILD/test-logs/guest-profile
mkdir -p "$OUT/extra"
rm -f "$OUT"/counts* "$OUT/con" "$OUT/in"
make -s -C "$ROOT" guest >/dev/null || exit 2
cc -O2 -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror -o "$OUT/tcg-prof.so" \
	"$ROOT/bench/tcg-prof.c" || exit 2
cc -m32 -nostdlib -static -Wl,-Ttext=0x13570000 -o "$OUT/extra/tcg-mark32" \
	"$ROOT/bench/tcg-mark32.S" || exit 2
(cd "$OUT/extra" && echo tcg-mark32 | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$OUT/extra.gz"
cat "$BUILD/guest/initrd.gz" "$OUT/extra.gz" >"$OUT/initrd.gz"
mkfifo "$OUT/in"
qemu-system-i386 -cpu "$CPU" -m 128 -nographic -no-reboot -monitor none \
	-kernel "$BUILD/guest/vmlinuz" -initrd "$OUT/initrd.gz" \
	-append "console=ttyS0 panic=-1 cryptomgr.notests" \
	-plugin "$OUT/tcg-prof.so,out=$OUT/counts,lo=c0000000,mark=13570000" \
	<"$OUT/in" >"$OUT/con" 2>&1 &
p=$!
exec 9>"$OUT/in"
w() { i=0; while ! grep -aq "^$1" "$OUT/con"; do sleep 0.2; i=$((i+1)); [ $i -ge $(($2 * 5)) ] && return 1; kill -0 $p 2>/dev/null || return 1; done; return 0; }
s() { printf '%s\r' "$1" >&9; }
w "/ # " 300 || { echo "no guest prompt ($OUT/con)"; kill $p; exit 1; }
s "echo KSYMS-BEGIN; grep ' [tT] ' /proc/kallsyms; echo KSYMS-END"
w KSYMS-END 300 || { echo "no kallsyms ($OUT/con)"; kill $p; exit 1; }
s "/tcg-mark32; busybox sh -c 'i=0; while [ \$i -lt $LOOP ]; do i=\$((i+1)); done'; /tcg-mark32; echo LO''OP-DONE"
w LOOP-DONE 900
s "/tcg-mark32; dd if=/dev/zero of=/dev/null bs=4096 count=$DD; /tcg-mark32; echo D''D-DONE"
w DD-DONE 900
s poweroff
i=0; while kill -0 $p 2>/dev/null && [ $i -lt 60 ]; do sleep 1; i=$((i+1)); done
kill $p 2>/dev/null
tr -d '\r' <"$OUT/con" | sed -n '/^KSYMS-BEGIN/,/^KSYMS-END/p' | grep -a '^[0-9a-f]\{8\} [tT] ' |
	awk '{ print $1, $3 }' | LC_ALL=C sort >"$OUT/symtab"
for ph in 1:loop 3:dd; do
	k=${ph%%:*} name=${ph#*:}
	echo "== phase $name: guest kernel instructions by function (top $TOP)"
	awk -v a="$OUT/counts.$k" -v b="$OUT/counts.$((k + 1))" -v st="$OUT/symtab" \
		-v top="$TOP" -v width=8 -v key=insns -f "$ROOT/bench/tb-by-symbol.awk" /dev/null
done
