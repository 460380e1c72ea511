#!/bin/sh
# DMA coherence of the hybrid engine (docs/hybrid.md): build/guests/mb/dma.elf
# runs code from a buffer, has virtio-blk read other code over it, and runs
# it again. Under `--engine hybrid` in the test host (the interpreter inside
# hvmm.ko, which caches decoded instructions per page) every check must pass
# and give the same lines as `--engine interp` here; the module must have
# been told about the DMA (hybrid.dma_syncs). Without HVMM_VCPU_INVALIDATE_PHYS
# the "dma-code-after-*" checks fail (seen once by disabling the hand-over;
# tests/unit/test_mon_sys.c keeps that control at the module's interface).
. "$(dirname "$0")/lib.inc"
TH=$ROOT/tests/testhost/run
OUT=$BUILD/test-logs/hybrid-dma
rm -rf "$OUT"; mkdir -p "$OUT"
K=$BUILD/guests/mb/dma.elf
[ -f "$K" ] || { _bad "no $K (make guests)"; finish; }
truncate -s 1M "$OUT/interp.img"
timeout 60 "$HVMM" run --engine interp --mem 16M --disk "$OUT/interp.img" --kernel "$K" \
	</dev/null >"$OUT/interp.log" 2>&1
echo "rc $?" >"$OUT/interp.res"
tr -d '\r' <"$OUT/interp.log" | grep -aE '^(PASS|FAIL|SKIP|SUMMARY) ' >>"$OUT/interp.res"
grep -q "^SUMMARY dma: 12 passed, 0 failed" "$OUT/interp.res" && _ok "interp: the oracle passes" ||
	_bad "interp: the oracle passes ($(tail -1 "$OUT/interp.res"))"
cat >"$OUT/inner.sh" <<'IN'
dd if=/dev/zero of=/tmp/d.img bs=1024 count=1024 2>/dev/null
timeout 60 hvmm run --engine hybrid --mem 16M --stats --disk /tmp/d.img --kernel /guests/mb/dma.elf \
	</dev/null >/tmp/o 2>&1
echo "HD rc $?"
tr -d '\r' </tmp/o | grep -aE '^(PASS|FAIL|SKIP|SUMMARY) ' | sed 's/^/HD /'
tr -d '\r' </tmp/o | grep -aE '^(hybrid|disk0)\.' | sed 's/^/HS /'
hvmm info | grep -q 'pinned pages: 0' && echo "HD-PINNED-OK"
IN
$TH --quiet --timeout 120 --log "$OUT/console" --add "$OUT/inner.sh:/t.sh" -- sh /t.sh >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] && _ok "test host: clean exit, dmesg clean" || _bad "test host: exit $rc"
tr -d '\r' <"$OUT/console" | grep -a '^HD ' | sed 's/^HD //' >"$OUT/hybrid.res"
if cmp -s "$OUT/interp.res" "$OUT/hybrid.res"; then
	_ok "hybrid: the same lines and exit status as interp"
else
	_bad "hybrid differs from interp:"; diff "$OUT/interp.res" "$OUT/hybrid.res" | sed 's/^/    /'
fi
grep -q "^PASS dma-code-after-2$" "$OUT/hybrid.res" && _ok "hybrid: code rewritten by DMA runs" ||
	_bad "hybrid: code rewritten by DMA runs"
n=$(tr -d '\r' <"$OUT/console" | sed -n 's/^HS hybrid.dma_syncs \([0-9]*\).*/\1/p')
[ "${n:-0}" -ge 4 ] && _ok "hybrid: $n DMA ranges handed to the module" ||
	_bad "hybrid: DMA ranges handed to the module (${n:-none})"
tr -d '\r' <"$OUT/console" | grep -q '^HD-PINNED-OK' && _ok "nothing left pinned" || _bad "nothing left pinned"
finish
