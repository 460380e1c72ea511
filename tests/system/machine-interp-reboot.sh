#!/bin/sh
# A Linux guest's reboot under --engine interp with --no-reboot: the kernel
# resets the machine (ACPI reset register, port 0xcf9) and hvmm exits with
# status 4 and says so. (Restarting without --no-reboot is tested with a tiny
# kernel in run-exits.sh.)
. "$(dirname "$0")/lib.inc"
make -s -C "$ROOT" guest >/dev/null || { _bad "make guest"; finish; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
timeout "${HVMM_BOOT_TIMEOUT:-400}" "$HVMM" run --engine interp --no-reboot \
	--serial "file:$T/console" --append "console=ttyS0 hvmm_reboot" </dev/null 2>"$T/err"
rc=$?
grep -q "hvmm-guest: rebooting" "$T/console" && _ok "guest reached /init and rebooted" ||
	{ _bad "guest reached /init and rebooted"; tail -5 "$T/console"; }
[ $rc -eq 4 ] && _ok "exit status 4 under --no-reboot" || _bad "exit status 4 under --no-reboot (got $rc)"
grep -q "rebooted" "$T/err" && _ok "reboot reported" || _bad "reboot reported"
finish
