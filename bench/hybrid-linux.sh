#!/bin/sh
# bench/hybrid-linux.sh [CPU] — manual (about 5-11 minutes): the default guest
# (make guest: Debian's 686 kernel + busybox initramfs) under
# `--engine hybrid` in the test host, stage 1 of issue 6 (all guest code
# interpreted inside hvmm.ko). Prints when /init started, when the shell
# prompt came, that a command ran, the exit status of poweroff and the
# module's and the board's counters (exits by reason, accesses per port;
# all of them are also kept in build/test-logs/hybrid-linux.CPU.stats).
# APPEND (environment) replaces the guest command line's extra options
# (default: cryptomgr.notests, as the interp engine's system test);
# HVMM_ARGS adds options to `hvmm run` (e.g. --guest-decompress: the
# bzImage's own decompressor runs in the guest, as before the loader
# unpacked XZ kernels).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
CPU=${1:-max,-svm,-vmx,-la57}
make -s -C "$ROOT" guest >/dev/null || exit 2
inner=$(mktemp)
APPEND=${APPEND-cryptomgr.notests}
cat >"$inner" <<IN
APPEND="$APPEND"
HVMM_ARGS="${HVMM_ARGS:-}"
IN
cat >>"$inner" <<'IN'
mkfifo /tmp/in
start=$(cut -d' ' -f1 /proc/uptime)
hvmm run --engine hybrid --mem 128M --stats $HVMM_ARGS --kernel /g/vmlinuz --initrd /g/initrd.gz \
	--append "console=ttyS0 panic=-1 $APPEND" </tmp/in >/tmp/con 2>&1 &
p=$!
exec 9>/tmp/in
w() { i=0; while ! grep -q "$1" /tmp/con; do sleep 1; i=$((i+1)); [ $i -ge $2 ] && return 1; kill -0 $p || return 1; done; return 0; }
w "/init started" 1200 && echo "LX /init started $(cut -d' ' -f1 /proc/uptime) s (hvmm started at $start s)"
w "/ # " 600 && { echo "LX shell prompt $(cut -d' ' -f1 /proc/uptime) s"; printf 'echo sum=$((6*7)) pid1=$(cat /proc/1/comm)\r' >&9; }
w "sum=42 pid1=init" 300 && { echo "LX command ran $(cut -d' ' -f1 /proc/uptime) s"; printf 'poweroff\r' >&9; }
i=0; while kill -0 $p 2>/dev/null && [ $i -lt 300 ]; do sleep 1; i=$((i+1)); done
kill -0 $p 2>/dev/null && { echo "LX still running: killed"; kill $p; }
wait $p; echo "LX hvmm exit status $? at $(cut -d' ' -f1 /proc/uptime) s"
tr -d '\r' </tmp/con | grep -aE "^[a-z0-9_]+\.[^ ]+ [0-9]+" | sed 's/^/LS /'
IN
log=$BUILD/test-logs/hybrid-linux.$CPU.console
mkdir -p "$BUILD/test-logs"
"$ROOT/tests/testhost/run" --quiet --cpu "$CPU" --timeout 1800 --log "$log" \
	--add "$inner:/t.sh" --add "$BUILD/guest:/g" -- sh /t.sh >/dev/null 2>&1
rc=$?
rm -f "$inner"
tr -d '\r' <"$log" | grep -a '^LX' | sed 's/^LX //'
tr -d '\r' <"$log" | grep -a '^LS ' | sed 's/^LS //' >"$BUILD/test-logs/hybrid-linux.$CPU.stats"
grep -E "^(cpu\.instructions|hybrid\.|engine\.|board\.)" "$BUILD/test-logs/hybrid-linux.$CPU.stats" | sed 's/^/  /'
echo "  busiest ports:"; grep "^pio\." "$BUILD/test-logs/hybrid-linux.$CPU.stats" | sort -k2 -nr | head -8 | sed 's/^/    /'
echo "test host: exit $rc"
[ $rc -eq 0 ]
