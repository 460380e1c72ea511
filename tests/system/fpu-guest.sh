#!/bin/sh
# The FPU inside the default Linux guest on the interp engine: the kernel
# finds the x87 FPU and FXSAVE, /proc/cpuinfo lists fpu mmx fxsr sse sse2,
# and busybox's floating-point formatting and parsing (glibc printf through
# the x87; string functions glibc picks for SSE2) give the same output as
# the same i386 busybox run natively on the host. (The VM is killed at the
# end: shutting down is the machine tests' business.)
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/guest.inc"
trap vm_cleanup EXIT
make -s -C "$ROOT" guest >/dev/null || { _bad "make guest"; finish; }
BB=$BUILD/cache/busybox-i386/bin/busybox
CMD="printf '%.10f %e %g %.3f %.20Lg|' 3.25 1e-5 123456789 2.0005 0.1; seq -s ' ' 0 0.25 2"
want=$(sh -c "$(echo "$CMD" | sed "s|printf|$BB printf|; s|seq|$BB seq|")")
[ -n "$want" ] || { _bad "native i386 busybox runs ($BB)"; finish; }
vm_start "$HVMM" run --engine interp --no-reboot --append "console=ttyS0 panic=-1"
vm_wait "x86/fpu: x87 FPU will use FXSAVE" 240 && _ok "kernel uses the FPU with FXSAVE" ||
	_bad "kernel uses the FPU with FXSAVE"
vm_wait "/ # " 300 && _ok "shell prompt" || { _bad "shell prompt"; finish; }
# markers are split in the typed line so that its echo does not match
vm_send "for f in fpu mmx fxsr sse sse2; do grep -qw \$f /proc/cpuinfo && echo -n \"\$f \"; done; echo FLAGS-E''ND"
vm_wait "FLAGS-END" 60
grep -q "fpu mmx fxsr sse sse2 FLAGS-END" "$VM_LOG" && _ok "cpuinfo: fpu mmx fxsr sse sse2" ||
	{ _bad "cpuinfo: fpu mmx fxsr sse sse2"; grep -a FLAGS-END "$VM_LOG"; }
vm_send "$CMD; echo; echo FP-E''ND"
vm_wait "FP-END" 60
grep -qF -- "$want" "$VM_LOG" && _ok "float output as native: $want" ||
	_bad "float output differs from native: $want"
finish
