#!/bin/sh
# tests/oracle/linux-check.sh — end-to-end oracle (about 2 minutes, not in
# run-all): boots Debian's 686 kernel on the interp engine with an
# initramfs whose /init runs tests/oracle/linux-check.cmds (hashes, gzip,
# sort, awk, shell arithmetic, printf...) under busybox, and compares the
# output with the same commands run natively by the same i386 busybox.
# Exit 0 when identical.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
BB=$BUILD/cache/busybox-i386/bin/busybox
KERNEL=${KERNEL:-$BUILD/guest/vmlinuz}
INITRD=${INITRD:-$BUILD/guest/initrd.gz}
[ -x "$BB" ] && [ -f "$KERNEL" ] && [ -f "$INITRD" ] ||
	{ echo "needs $BB, $KERNEL, $INITRD (make guest)"; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/root" "$tmp/nat"
(cd "$tmp/root" && zcat "$INITRD" | "$BB" cpio -id 2>/dev/null)
cp "$ROOT/tests/oracle/linux-check.cmds" "$tmp/root/check.sh"
cat >"$tmp/root/init" <<'EOS'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t devtmpfs devtmpfs /dev
echo "CHECK-START"
sh /check.sh
echo "CHECK-END"
poweroff -f
EOS
chmod +x "$tmp/root/init"
(cd "$tmp/root" && find . | "$BB" cpio -o -H newc 2>/dev/null | gzip >"$tmp/initrd.gz")
for a in $("$BB" --list); do ln -sf "$BB" "$tmp/nat/$a"; done
PATH=$tmp/nat "$BB" sh "$ROOT/tests/oracle/linux-check.cmds" >"$tmp/native.out" 2>&1
timeout 600 "$BUILD/hvmm" run --engine interp --kernel "$KERNEL" --initrd "$tmp/initrd.gz" \
	--append "console=ttyS0 quiet" --no-reboot >"$tmp/guest.log" 2>&1
tr -d '\r' <"$tmp/guest.log" | sed -n '/^CHECK-START/,/^CHECK-END/p' | sed '1d;$d' >"$tmp/guest.out"
if diff "$tmp/guest.out" "$tmp/native.out"; then
	echo "linux-check: $(wc -l <"$tmp/native.out") output lines identical to native"
	exit 0
fi
echo "linux-check: guest output differs from native"
exit 1
