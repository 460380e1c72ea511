#!/bin/sh
# The default guest (make guest) on qemu-system-i386 TCG: it reaches /init,
# its shell runs commands, and poweroff ends QEMU. This is the reference the
# interp engine is compared against (same kernel, initrd and command line).
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/guest.inc"
trap vm_cleanup EXIT
make -s -C "$ROOT" guest >/dev/null || { _bad "make guest"; finish; }
command -v qemu-system-i386 >/dev/null || { _bad "qemu-system-i386 missing"; finish; }
vm_start qemu-system-i386 -m 256 -nographic -no-reboot -monitor none \
	-kernel "$BUILD/guest/vmlinuz" -initrd "$BUILD/guest/initrd.gz" \
	-append "console=ttyS0 panic=-1"
vm_wait "hvmm-guest: /init started" 60 && _ok "reached /init" || _bad "reached /init"
vm_wait "hvmm-guest: Linux" 30 && _ok "banner" || _bad "banner"
vm_wait "# " 30 && _ok "shell prompt" || _bad "shell prompt"
vm_send "echo sum=\$((6 * 7)); cat /proc/cmdline"
vm_wait "sum=42" 20 && _ok "shell runs commands" || _bad "shell runs commands"
vm_send "ls /lib/modules/*/ | grep -c ko"
vm_send "poweroff"
vm_exit_status 40
[ "$VM_RC" = 0 ] && _ok "poweroff ends QEMU (exit 0)" || _bad "poweroff ends QEMU (exit $VM_RC)"
finish
