#!/bin/sh
# The default guest (make guest) on qemu-system-i386 TCG, driven through the
# same session as the interp engine's machine test (guest-session.inc): it
# reaches /init, runs commands, makes an ext2 filesystem on a virtio-blk disk,
# writes a file, powers off — and the file is in the image. This is the
# reference the interp engine is compared against (same kernel, initrd,
# command line).
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/guest.inc"
. "$(dirname "$0")/guest-session.inc"
trap vm_cleanup EXIT
make -s -C "$ROOT" guest >/dev/null || { _bad "make guest"; finish; }
command -v qemu-system-i386 >/dev/null || { _bad "qemu-system-i386 missing"; finish; }
DISK=$VM_DIR/disk.img
truncate -s 8M "$DISK"
vm_start qemu-system-i386 -m 256 -nographic -no-reboot -monitor none \
	-kernel "$BUILD/guest/vmlinuz" -initrd "$BUILD/guest/initrd.gz" \
	-append "console=ttyS0 panic=-1" \
	-drive "file=$DISK,if=virtio,format=raw"
guest_session "$DISK" 60
finish
