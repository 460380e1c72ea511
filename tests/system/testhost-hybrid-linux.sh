#!/bin/sh
# Issue 6's Linux test: the default guest (Debian's 686 kernel + busybox
# initramfs, make guest) under `hvmm run --engine hybrid` inside the test
# host runs the interp engine's session (guest-session.inc, as in
# machine-interp-linux.sh: shell commands, mke2fs on a virtio-blk disk, a
# file written and synced, poweroff -> exit 0) with the same command line
# (cryptomgr.notests) and the same expected results; the disk image comes
# back out of the test host (gzip + base64 on the console) and is checked
# here with debugfs and e2fsck like the interp engine's. The test host's
# dmesg must stay clean; `hvmm run --stats` goes to
# build/test-logs/hybrid-linux/stats.
# `--stats` must show guest user code running natively (native.stays) and,
# unless --no-bt, guest kernel code running translated (bt.stays,
# bt.blocks; docs/bt.md). About 1.5-2 min (one test-host boot).
# HVMM_HYBRID_ARGS adds `hvmm run` options and names the log directory
# (testhost-hybrid-linux-nobt.sh: --no-bt, the kernel interpreted).
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/guest-session.inc"
TH=$ROOT/tests/testhost/run
HARGS=${HVMM_HYBRID_ARGS:-}
OUT=$BUILD/test-logs/hybrid-linux$(echo "$HARGS" | tr -c 'a-z0-9\n' '-' | sed 's/^-*/-/;s/-*$//;s/^-$//')
rm -rf "$OUT"; mkdir -p "$OUT"
make -s -C "$ROOT" guest >/dev/null || { _bad "make guest"; finish; }
BOOT_TMO=${HVMM_BOOT_TIMEOUT:-900}
CMD_TMO=${HVMM_CMD_TIMEOUT:-240}
cat >"$OUT/inner.sh" <<IN
BOOT_TMO=$BOOT_TMO CMD_TMO=$CMD_TMO HARGS="$HARGS"
IN
cat >>"$OUT/inner.sh" <<'IN'
. /ts/lib.inc
. /ts/guest.inc
. /ts/guest-session.inc
up() { cut -d' ' -f1 /proc/uptime; }
_ok()  { echo "LT ok   - $1 (at $(up) s)"; }
_bad() { echo "LT FAIL - $1 (at $(up) s)"; }
# busybox ps has no -p: a live, non-zombie child has a /proc entry not in state Z
vm_alive() { [ -n "$VM_PID" ] && [ -e /proc/$VM_PID ] && ! grep -q '^State:.*Z' /proc/$VM_PID/status 2>/dev/null; }
DISK=/tmp/disk.img
truncate -s 8M $DISK
echo "LT start $(up) s"
vm_start hvmm run --engine hybrid $HARGS --mem 128M --disk $DISK --stats=/tmp/stats \
	--kernel /g/vmlinuz --initrd /g/initrd.gz \
	--append "console=ttyS0 panic=-1 cryptomgr.notests"
guest_session_console $DISK $BOOT_TMO $CMD_TMO
vm_kill
echo "LT end $(up) s"
echo LT-IMAGE-BEGIN; gzip -c $DISK | base64; echo LT-IMAGE-END
sed 's/^/LS /' /tmp/stats
tr -d '\r' <$VM_LOG | grep -av '^[a-z0-9_]*\.[^ ]* [0-9]' | sed 's/^/LC /'
IN
mkdir -p "$OUT/ts"
cp "$ROOT/tests/system/lib.inc" "$ROOT/tests/system/guest.inc" "$ROOT/tests/system/guest-session.inc" "$OUT/ts/"
start=$(date +%s)
$TH --quiet --timeout $((BOOT_TMO + 8 * CMD_TMO + 120)) --log "$OUT/console" \
	--add "$OUT/inner.sh:/t.sh" --add "$OUT/ts:/ts" --add "$BUILD/guest:/g" \
	-- sh /t.sh >/dev/null 2>"$OUT/runner.err"
rc=$?
secs=$(( $(date +%s) - start ))
tr -d '\r' <"$OUT/console" >"$OUT/console.txt"
[ $rc -eq 0 ] && _ok "test host: exit 0, dmesg clean ($secs s)" ||
	{ _bad "test host: exit $rc ($secs s)"; sed 's/^/    /' "$OUT/runner.err" | tail -20; }
grep -a '^LT ' "$OUT/console.txt" | sed 's/^LT //' >"$OUT/session"
while IFS= read -r l; do
	case "$l" in
	"ok   - "*) _ok "hybrid: ${l#ok   - }" ;;
	"FAIL - "*) _bad "hybrid: ${l#FAIL - }" ;;
	*) echo "     $l" ;;
	esac
done <"$OUT/session"
n=$(grep -c '^ok ' "$OUT/session")
[ "$n" = 8 ] && _ok "all 8 console checks of the session passed" || _bad "console checks passed: $n of 8"
grep -a '^LC ' "$OUT/console.txt" | sed 's/^LC //' >"$OUT/guest-console.log"
grep -a '^LS ' "$OUT/console.txt" | sed 's/^LS //' >"$OUT/stats"
sed -n '/^LT-IMAGE-BEGIN/,/^LT-IMAGE-END/p' "$OUT/console.txt" | sed '1d;$d' | base64 -d 2>/dev/null |
	gunzip >"$OUT/disk.img" 2>/dev/null
[ "$(stat -c %s "$OUT/disk.img" 2>/dev/null)" = 8388608 ] && _ok "disk image out of the test host" ||
	_bad "disk image out of the test host"
guest_session_disk "$OUT/disk.img"
grep -q "^cpu.instructions [1-9]" "$OUT/stats" && _ok "--stats written" || _bad "--stats written"
grep -q "^disk0.requests [1-9]" "$OUT/stats" && _ok "disk requests counted" || _bad "disk requests counted"
grep -q "^hybrid.dma_syncs [1-9]" "$OUT/stats" && _ok "DMA ranges handed to the module" ||
	_bad "DMA ranges handed to the module"
n=$(sed -n 's/^native\.stays \([0-9]*\).*/\1/p' "$OUT/stats")
[ "${n:-0}" -gt 0 ] && _ok "guest user code ran natively ($n native stays)" ||
	_bad "guest user code ran natively (native.stays: ${n:-none})"
grep -E "^(cpu\.instructions|hybrid\.exit\.|hybrid\.run_calls|native\.(stays|ns|hidden_faults))" \
	"$OUT/stats" | sed 's/^/     /'
case " $HARGS " in *" --no-bt "*) ;; *)
	n=$(sed -n 's/^bt\.stays \([0-9]*\).*/\1/p' "$OUT/stats")
	b=$(sed -n 's/^bt\.blocks \([0-9]*\).*/\1/p' "$OUT/stats")
	[ "${n:-0}" -gt 1000 ] && [ "${b:-0}" -gt 1000 ] &&
		_ok "guest kernel code ran translated ($n stays, $b blocks)" ||
		_bad "guest kernel code ran translated (bt.stays ${n:-none}, bt.blocks ${b:-none})"
	grep -E "^bt\." "$OUT/stats" | sed 's/^/     /' ;;
esac
finish
