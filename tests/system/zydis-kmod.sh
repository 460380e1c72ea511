#!/bin/sh
# The Kbuild recipe (scripts/monitor.kbuild) links the freestanding archives
# into a real module, and the code runs in kernel context: builds
# hvmm-fstest.ko (tests/kmod/: the tests/fs/ groups — Zydis decode table,
# fs-libc — plus build/monitor-fs.a and build/zydis-fs.a) against the test
# host's kernel headers, checks that modpost accepted it and that it needs
# only kernel symbols, then loads it in the test host (Debian's amd64 kernel
# under qemu-system-x86_64 TCG, no vmx/svm) and reads its verdict from dmesg.
. "$(dirname "$0")/lib.inc"
CACHE=$BUILD/cache
KVER=$(cat "$CACHE/testhost-kernel.version" 2>/dev/null)
KDIR=/usr/src/linux-headers-$KVER
kernel=$(ls "$CACHE"/testhost-kernel/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
[ -n "$KVER" ] && [ -d "$KDIR" ] && [ -n "$kernel" ] ||
	{ _bad "test-host kernel or headers missing (./scripts/deps.sh)"; finish; }
for f in "$BUILD/monitor-fs.a" "$BUILD/zydis-fs.a" "$BUILD/fs/tests/fs/zydis-decode.o"; do
	[ -s "$f" ] || { _bad "$f missing (make all)"; finish; }
done

# Build in a copy, so no kbuild output lands in the source tree.
M=$BUILD/kmod-fstest
rm -rf "$M" && mkdir -p "$M" && cp "$ROOT"/tests/kmod/Kbuild "$ROOT"/tests/kmod/*.c "$M"/
if make -C "$KDIR" M="$M" HVMM_ROOT="$ROOT" HVMM_BUILD="$BUILD" KCFLAGS=-Werror \
	modules >"$M/build.log" 2>&1 && [ -f "$M/hvmm-fstest.ko" ]; then
	_ok "kbuild + modpost built hvmm-fstest.ko"
else
	_bad "kbuild failed:"; tail -15 "$M/build.log"; finish
fi
grep -iE 'warning|undefined' "$M/build.log" && _bad "kbuild warnings" || _ok "no kbuild/modpost warning"
# Undefined symbols of the module must be kernel exports.
missing=$(nm -u "$M/hvmm-fstest.ko" | awk '{ print $2 }' | while read -r s; do
	grep -qE "^0x[0-9a-f]+[[:space:]]$s[[:space:]]" "$KDIR/Module.symvers" || echo "$s"
done | tr '\n' ' ')
[ -z "$missing" ] && _ok "module needs only exported kernel symbols" ||
	_bad "not exported by the kernel: $missing"

# Boot the test host with an initramfs holding busybox and the module.
root=$M/initramfs
mkdir -p "$root/bin" "$root/proc"
cp /bin/busybox "$root/bin/" && cp "$M/hvmm-fstest.ko" "$root/"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox insmod /hvmm-fstest.ko
echo "fstest: insmod rc=$?"
/bin/busybox dmesg | /bin/busybox grep -E 'hvmm.fstest|WARNING|BUG|Oops|Call Trace' |
	/bin/busybox sed 's/^/fstest: dmesg: /'
/bin/busybox rmmod hvmm-fstest && echo "fstest: rmmod ok"
/bin/busybox poweroff -f
INIT
chmod +x "$root/init"
( cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1 ) >"$M/initrd.gz"
timeout 120 qemu-system-x86_64 -M q35 -cpu max,-svm,-vmx,-la57 -m 512M -nographic \
	-no-reboot -kernel "$kernel" -initrd "$M/initrd.gz" \
	-append "console=ttyS0 panic=-1 quiet" </dev/null 2>&1 |
	tr -d '\r' | grep -a -o 'fstest: .*' >"$M/console.log"
cat "$M/console.log"
grep -qx 'fstest: insmod rc=0' "$M/console.log" && _ok "module loads" || _bad "insmod failed"
grep -q 'hvmm-fstest: all checks passed' "$M/console.log" &&
	_ok "decode table and fs-libc pass in kernel context" || _bad "no pass verdict in dmesg"
grep -qE 'FAIL|WARNING|BUG|Oops|Call Trace' "$M/console.log" &&
	_bad "failures or kernel warnings in dmesg" || _ok "no failure or kernel warning"
grep -qx 'fstest: rmmod ok' "$M/console.log" && _ok "module unloads" || _bad "rmmod failed"
finish
