#!/bin/sh
# Issue 6 robustness, system mode (`hvmm run --engine hybrid --kernel`), in
# the test host on both CPU models (one boot each):
# 1. every hostile kernel (tests/guests/hostile/, docs/guest-tests.md):
#    its exit status (hostile.inc: 1 its own checks passed, 4 guest reset,
#    8 triple fault) and every HOSTILE/PASS/FAIL/SKIP/NOTE/SUMMARY line equal
#    those of `--engine interp` on this machine (the oracle); the kernel log
#    is checked after each kernel, so a warning names its guest;
# 2. kill -9 of hvmm at a random moment (0-500 ms after the start, seeded
#    LCG, delays logged) of busy.elf (kernel spin, user spin, I/O storm,
#    HLT; the starting phase comes from the TSC), 50 times: every other
#    delay counts from the guest's first serial line, the rest from the
#    start of hvmm (VM creation, pinning, loading);
# 3. then `hvmm info`: 0 pinned pages, 0 VMs, 0 vCPUs; `rmmod hvmm`
#    succeeds; the runner fails the boot on any WARNING/BUG/Oops/leak
#    (status 125).
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/hostile.inc"
TH=$ROOT/tests/testhost/run
OUT=$BUILD/test-logs/testhost-hostile-sys
rm -rf "$OUT"; mkdir -p "$OUT/interp"
make -s -C "$ROOT" guests >/dev/null || { _bad "building the guests"; finish; }
[ -f "$BUILD/guests/hostile/busy.elf" ] || { _bad "no busy.elf"; finish; }
names=$(hostile_list | tr '\n' ' ')
echo "$names" >"$OUT/kernels"
for n in $names; do
	timeout 60 "$HVMM" run --engine interp --mem 32M --no-reboot --kernel "$BUILD/guests/hostile/$n.elf" \
		</dev/null >"$OUT/interp/$n.log" 2>&1
	rc=$?
	[ $rc -eq "$(hostile_want "$n")" ] || _bad "interp: $n ended with $rc, want $(hostile_want "$n")"
	{ echo "rc $rc"; hostile_lines "$OUT/interp/$n.log"; } >"$OUT/interp/$n.res"
done
inner=$OUT/inner.sh
cat >"$inner" <<'IN'
bad='WARNING:|BUG:|Oops|RCU stall|rcu_sched detected|rcu_preempt detected|soft lockup|hard LOCKUP|general protection fault|double fault|Call Trace:|leaked'
for n in $(cat /kernels); do
	t0=$(cut -d' ' -f1 /proc/uptime)
	timeout 150 hvmm run --engine hybrid --mem 32M --no-reboot --kernel /guests/hostile/$n.elf \
		</dev/null >/tmp/o 2>/tmp/e
	echo "HH $n rc $?"
	tr -d '\r' </tmp/o | grep -aE '^(HOSTILE|PASS|FAIL|SKIP|NOTE|SUMMARY) ' | sed "s/^/HH $n /"
	echo "HT $n $t0 $(cut -d' ' -f1 /proc/uptime)"
	dmesg | grep -Eq "$bad" && { echo "HD $n dirty"; dmesg | grep -E "$bad" | head -5 | sed "s/^/HD $n /"; dmesg -c >/dev/null; }
	hvmm info | grep -q '^pinned pages: 0$' || echo "HD $n pinned: $(hvmm info | grep pinned)"
done
# 50 x kill -9 at random moments
r=$(( $(date +%s) % 65536 + 1 ))
t0=$(cut -d' ' -f1 /proc/uptime)
i=0 started=0
while [ $i -lt 50 ]; do
	r=$(( (r * 1103515245 + 12345) % 2147483648 ))
	d=$(( (r / 65536) % 501 ))
	hvmm run --engine hybrid --mem 16M --kernel /guests/hostile/busy.elf </dev/null >/tmp/busy 2>&1 &
	pid=$!
	# odd runs: the delay counts from the guest's first serial line (its
	# vCPU is busy), even runs: from the start (creating, pinning, loading)
	w=0
	while [ $((i % 2)) -eq 1 ] && [ $w -lt 250 ] && ! grep -q '^HOSTILE busy' /tmp/busy; do
		usleep 20000; w=$((w + 1))
	done
	usleep $((d * 1000))
	kill -9 $pid
	wait $pid 2>/dev/null
	b=$(tr -d '\r' </tmp/busy | grep -c '^BUSY ')
	grep -q '^HOSTILE busy' /tmp/busy && started=$((started + 1))
	echo "HK $i delay ${d}ms busy-rounds $b"
	i=$((i + 1))
done
echo "HK done $started started $t0 $(cut -d' ' -f1 /proc/uptime)"
hvmm info | sed 's/^/HI /'
rmmod hvmm && echo "HR rmmod ok" || echo "HR rmmod failed"
lsmod | grep -q '^hvmm ' && echo "HR still loaded"
exit 0
IN
for cpu in max,-svm,-vmx,-la57 Skylake-Client-v4; do
	log=$OUT/console.$cpu
	t0=$(date +%s)
	$TH --quiet --cpu $cpu --timeout 400 --log "$log" --add "$inner:/t.sh" \
		--add "$OUT/kernels:/kernels" -- sh /t.sh >/dev/null 2>&1
	rc=$?
	t1=$(date +%s)
	[ $rc -eq 0 ] && _ok "[$cpu] test host run clean ($((t1 - t0)) s, dmesg clean)" ||
		_bad "[$cpu] test host exit $rc (see $log)"
	tr -d '\r' <"$log" | grep -a '^HD ' | sed "s/^/[$cpu] kernel log: /"
	same=0
	for n in $(cat "$OUT/kernels"); do
		tr -d '\r' <"$log" | grep -a "^HH $n " | sed "s/^HH $n //" >"$OUT/$n.$cpu.res"
		tm=$(tr -d '\r' <"$log" | grep -a "^HT $n " | awk '{ printf "%.1f", $4 - $3 }')
		if cmp -s "$OUT/interp/$n.res" "$OUT/$n.$cpu.res"; then
			same=$((same + 1))
			_ok "[$cpu] $n: $(head -1 "$OUT/$n.$cpu.res"), $(grep -c '^PASS' "$OUT/$n.$cpu.res") checks, as interp (${tm} s)"
		else
			_bad "[$cpu] $n differs from interp:"
			diff "$OUT/interp/$n.res" "$OUT/$n.$cpu.res" | head -8 | sed 's/^/      /'
		fi
	done
	[ $same -ge 12 ] && _ok "[$cpu] $same hostile kernels as interp" || _bad "[$cpu] only $same kernels as interp"
	k=$(tr -d '\r' <"$log" | grep -ac '^HK [0-9]')
	st=$(tr -d '\r' <"$log" | grep -a '^HK done' | awk '{ print $3 }')
	kt=$(tr -d '\r' <"$log" | grep -a '^HK done' | awk '{ printf "%.0f", $6 - $5 }')
	ran=$(tr -d '\r' <"$log" | grep -a '^HK [0-9]' | awk '$6 > 0' | wc -l)
	[ "$k" -eq 50 ] && [ "${st:-0}" -ge 25 ] &&
		_ok "[$cpu] 50 x kill -9 in $kt s ($st with the guest running, $ran after its first round)" ||
		_bad "[$cpu] $k kills, $st with the guest running"
	tr -d '\r' <"$log" | grep -aq '^HI pinned pages: 0$' && _ok "[$cpu] no pinned page left" ||
		_bad "[$cpu] pinned: $(tr -d '\r' <"$log" | grep -a '^HI pinned')"
	tr -d '\r' <"$log" | grep -aq '^HI vms: 0 vcpus: 0$' && _ok "[$cpu] no VM left" ||
		_bad "[$cpu] $(tr -d '\r' <"$log" | grep -a '^HI vms')"
	tr -d '\r' <"$log" | grep -aq '^HR rmmod ok' && ! tr -d '\r' <"$log" | grep -aq '^HR still' &&
		_ok "[$cpu] rmmod hvmm" || _bad "[$cpu] rmmod failed"
done
finish
