#!/bin/sh
# scripts/mkguest.sh — build hvmm's default guest into OUT (build/guest):
#   OUT/vmlinuz    Debian's i386 686 kernel (build/cache/guest-kernel)
#   OUT/initrd.gz  busybox initramfs: static i386 busybox, scripts/guest/init,
#                  inittab, and the kernel's virtio-blk + ext4 modules
#                  (signatures stripped)
# Inputs come from scripts/deps.sh. `make guest` calls this only when an input
# changed (see userland/Makefile.inc).
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${HVMM_CACHE:-$HERE/build/cache}
OUT=${1:-$HERE/build/guest}

KDIR=$CACHE/guest-kernel
BB=$CACHE/busybox-i386/bin/busybox
KIMG=$(ls "$KDIR"/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$KIMG" ] && [ -x "$BB" ] || {
	echo "mkguest: guest kernel or busybox missing in $CACHE: run scripts/deps.sh" >&2; exit 1; }
KVER=${KIMG##*/vmlinuz-}
HOSTBB=$(command -v busybox || echo /bin/busybox)

mkdir -p "$OUT"
STAGE=$(mktemp -d "$OUT/.stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$STAGE/bin" "$STAGE/sbin" "$STAGE/etc" "$STAGE/proc" "$STAGE/sys" \
	 "$STAGE/dev" "$STAGE/tmp" "$STAGE/mnt" "$STAGE/root"
cp "$BB" "$STAGE/bin/busybox"
ln -s busybox "$STAGE/bin/sh"
ln -s ../bin/busybox "$STAGE/sbin/init"
cp "$HERE/scripts/guest/init" "$STAGE/init"
chmod 755 "$STAGE/init"
cp "$HERE/scripts/guest/inittab" "$STAGE/etc/inittab"
echo "root:x:0:0:root:/root:/bin/sh" >"$STAGE/etc/passwd"
echo "root:x:0:" >"$STAGE/etc/group"

MSRC=$KDIR/lib/modules/$KVER/kernel
MDST=$STAGE/lib/modules/$KVER
mkdir -p "$MDST"
for m in crypto/crc32c_generic lib/crc16 fs/mbcache fs/jbd2/jbd2 fs/ext4/ext4 \
	 drivers/virtio/virtio drivers/virtio/virtio_ring \
	 drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci_modern_dev \
	 drivers/virtio/virtio_pci drivers/block/virtio_blk; do
	# Without the appended signature (strip rewrites the ELF and drops it,
	# as the kernel's INSTALL_MOD_STRIP does): the kernel then skips the
	# RSA-4096 verification of every insmod, which costs the interpreter
	# about 4 s a module; it only notes a "tainted" kernel (no enforcement).
	strip --strip-debug -o "$MDST/${m##*/}.ko" "$MSRC/$m.ko"
done

# Deterministic archive: fixed mtimes, sorted names.
find "$STAGE" -exec touch -h -d @0 {} +
( cd "$STAGE" && find . | LC_ALL=C sort | "$HOSTBB" cpio -o -H newc 2>/dev/null ) |
	gzip -9 -n >"$OUT/initrd.gz.tmp"
mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
cp "$KIMG" "$OUT/vmlinuz.tmp" && mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
echo "mkguest: $OUT/vmlinuz ($KVER), $OUT/initrd.gz ($(wc -c <"$OUT/initrd.gz") bytes)"
