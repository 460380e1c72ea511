#!/bin/sh
# The machine issue's end-to-end test: the default guest (Debian's 686
# kernel + busybox initramfs) boots under `hvmm run --engine interp`; the
# console session of guest-session.inc runs commands, makes an ext2
# filesystem on a virtio-blk disk, writes a file, syncs and powers off (exit
# 0); the file is then read from the image on the host with debugfs.
# The same session runs on QEMU in guest-qemu-reference.sh.
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/guest.inc"
. "$(dirname "$0")/guest-session.inc"
trap vm_cleanup EXIT
make -s -C "$ROOT" guest >/dev/null || { _bad "make guest"; finish; }
DISK=$VM_DIR/disk.img
truncate -s 8M "$DISK"
BOOT_TMO=${HVMM_BOOT_TIMEOUT:-400}
vm_start "$HVMM" run --engine interp --mem 256M --disk "$DISK" --stats="$VM_DIR/stats" \
	--append "console=ttyS0 panic=-1"
guest_session "$DISK" "$BOOT_TMO"
[ -s "$VM_DIR/stats" ] && grep -q "^cpu.instructions [1-9]" "$VM_DIR/stats" &&
	_ok "--stats file written" || _bad "--stats file written"
grep -q "^disk0.requests [1-9]" "$VM_DIR/stats" && _ok "disk requests counted" ||
	_bad "disk requests counted"
finish
