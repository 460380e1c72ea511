#!/bin/sh
# bench/tcg-profile.sh [CPU] — where the TEST HOST's CPU time goes while a
# guest runs under `--engine hybrid`, by hvmm.ko function: a TCG plugin
# (bench/tcg-prof.c) counts executions of every kernel-half translation
# block of the test host; bench/tcg-mark snapshots the counts around two
# phases (busybox sh loop to LOOP; sha256sum of SIZE_MB MiB), and the TBs
# are attributed to symbols from the test host's /proc/kallsyms. Under TCG each TB executed
# costs a dispatch, so "TB executions" is the figure to cut; "insns" is the
# x86 instructions in those TBs. Not a test: prints two tables.
# Environment: LOOP (default 30000), SIZE_MB (default 4), TOP (default 40),
# HYBRID_FLAGS (extra `hvmm run` flags, e.g. --no-native), LO (hex: count
# TBs at or above it; LO=0 also counts the lower half: guest user code and
# the translation cache's window, shown as "low:" + their 1 MiB region).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
CPU=${1:-max,-svm,-vmx,-la57}
LOOP=${LOOP:-30000} SIZE_MB=${SIZE_MB:-4} TOP=${TOP:-40}
OUT=$BUILD/test-logs/tcg-profile
mkdir -p "$OUT"
rm -f "$OUT"/counts*
make -s -C "$ROOT" guest >/dev/null || exit 2
cc -O2 -shared -fPIC -fvisibility=hidden -Wall -Wextra -Werror -o "$OUT/tcg-prof.so" \
	"$ROOT/bench/tcg-prof.c" || exit 2
cc -nostdlib -static -Wl,-Ttext=0x13570000 -o "$OUT/tcg-mark" "$ROOT/bench/tcg-mark.S" || exit 2
cat >"$OUT/inner.sh" <<IN
LOOP=$LOOP SIZE_MB=$SIZE_MB HYBRID_FLAGS="${HYBRID_FLAGS:-}"
IN
cat >>"$OUT/inner.sh" <<'IN'
# every text symbol (kernel and modules), gzip + base64 over the console
grep ' [tT] ' /proc/kallsyms | gzip -9 | base64 | sed 's/^/KS /'
dd if=/dev/urandom of=/tmp/data bs=1M count=$SIZE_MB 2>/dev/null
mkfifo /tmp/in
hvmm run --engine hybrid $HYBRID_FLAGS --mem 128M --disk /tmp/data,ro --kernel /g/vmlinuz \
	--initrd /g/initrd.gz --append "console=ttyS0 panic=-1 cryptomgr.notests" </tmp/in >/tmp/con 2>&1 &
p=$!
exec 9>/tmp/in
w() { i=0; while ! grep -q "^$1" /tmp/con; do sleep 0.1; i=$((i+1)); [ $i -ge $(($2 * 10)) ] && return 1; kill -0 $p || return 1; done; return 0; }
s() { printf '%s\r' "$1" >&9; }
w "/ # " 1500 || echo "TP no-prompt"
s "cat /dev/vda >/tmp/f && echo CO''PIED"
w COPIED 1200
/tcg-mark
s "busybox sh -c 'i=0; while [ \$i -lt $LOOP ]; do i=\$((i+1)); done'; echo LO''OP-DONE"
w LOOP-DONE 3600
/tcg-mark
s "busybox sha256sum /tmp/f; echo SH''A-DONE"
w SHA-DONE 3600
/tcg-mark
s "poweroff"
i=0; while kill -0 $p 2>/dev/null && [ $i -lt 600 ]; do sleep 1; i=$((i+1)); done
kill $p 2>/dev/null; wait $p; echo "TP hvmm-exit $?"
IN
log=$OUT/console.$CPU
"$ROOT/tests/testhost/run" --quiet --cpu "$CPU" --timeout 5000 --log "$log" \
	--plugin "$OUT/tcg-prof.so,out=$OUT/counts${LO:+,lo=$LO}" \
	--add "$OUT/inner.sh:/t.sh" --add "$OUT/tcg-mark:/tcg-mark" --add "$BUILD/guest:/g" \
	-- sh /t.sh >/dev/null 2>"$OUT/runner.err"
rc=$?
[ -s "$OUT/counts.3" ] || { echo "no snapshots (test host exit $rc, see $log)"; exit 1; }
# symbols: "ADDR NAME" sorted; addresses compare as fixed-width hex strings
tr -d '\r' <"$log" | grep -a '^KS ' | cut -c4- | base64 -d | gunzip |
	awk '{ n = $3; if ($4 != "") n = substr($4, 2, length($4) - 2) ":" n; print $1, n }' |
	LC_ALL=C sort >"$OUT/symtab"
# per phase: (snapshot k+1 - snapshot k) summed per symbol
for ph in 1:loop 2:sha256; do
	k=${ph%%:*} name=${ph#*:}
	echo "== phase $name: test-host kernel TBs executed, by symbol (top $TOP)"
	awk -v a="$OUT/counts.$k" -v b="$OUT/counts.$((k + 1))" -v st="$OUT/symtab" \
		-v top="$TOP" -v width=16 -v key=tb -f "$ROOT/bench/tb-by-symbol.awk" /dev/null
done
echo "test host: exit $rc (console: $log)"
