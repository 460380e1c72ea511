#!/bin/sh
# How `hvmm run --engine interp` ends, with tiny Multiboot kernels: the
# debug-exit status (V<<1)|1, a triple fault (register dump, exit 8), cli;hlt
# (exit 8), a keyboard-controller reset under --no-reboot (exit 4) and without
# it (the VM restarts: the kernel's output repeats).
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/mbtiny.inc"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
RUN="$HVMM run --engine interp --mem 16M --serial file:$T/out"

mbtiny "$T/dx" "$MB_SERIAL_X$MB_DEBUG_EXIT_21"
expect_fail 67 "debug-exit 0x21 -> status 67" $RUN --kernel "$T/dx"
grep -q X "$T/out" && _ok "serial output reached the file" || _bad "serial output reached the file"

mbtiny "$T/tf" "$MB_SERIAL_X$MB_TRIPLE"
expect_fail 8 "triple fault -> status 8" $RUN --kernel "$T/tf"
timeout 20 $RUN --kernel "$T/tf" 2>"$T/err"
grep -q "triple fault" "$T/err" && _ok "triple fault reported" || _bad "triple fault reported"
grep -qi "eip" "$T/err" && _ok "register dump on stderr" || _bad "register dump on stderr"

mbtiny "$T/hlt" "$MB_SERIAL_X$MB_CLI_HLT"
expect_fail 8 "cli; hlt -> status 8" $RUN --kernel "$T/hlt"

mbtiny "$T/rb" "$MB_SERIAL_X$MB_KBD_RESET"
expect_fail 4 "reset under --no-reboot -> status 4" $RUN --no-reboot --kernel "$T/rb"
expect_err "rebooted" $RUN --no-reboot --kernel "$T/rb"
# Without --no-reboot the VM restarts from the kernel again and again.
timeout 3 $RUN --kernel "$T/rb"; rc=$?
n=$(tr -cd X <"$T/out" | wc -c)
[ $rc -eq 124 ] && [ "$n" -ge 3 ] && _ok "reset restarts the VM ($n boots in 3 s)" ||
	_bad "reset restarts the VM (exit $rc, $n boots)"
finish
