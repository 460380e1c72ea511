#!/bin/sh
# scripts/deps.sh — install everything hvmm needs on Debian 12, idempotently.
#   apt packages (build, libraries, test host), the i386 guest packages and the
#   amd64 test-host kernel matching the installed linux-headers-amd64.
# Quiet when everything is present; tolerant of the known flaky i386 security
# index (apt-get update may fail); loud and non-zero when a package truly fails.
set -eu

HERE=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${HVMM_CACHE:-$HERE/build/cache}
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

PKGS="build-essential pkg-config gcc-multilib libzydis-dev libcunit1-dev \
libnl-3-dev libnl-route-3-dev libpciaccess-dev qemu-system-x86 linux-headers-amd64 \
busybox-static e2fsprogs kmod xz-utils zstd dpkg-dev"

say() { echo "deps: $*"; }

need_update=0
have_i386() { dpkg --print-foreign-architectures | grep -qx i386; }
if ! have_i386; then
	$SUDO dpkg --add-architecture i386
	need_update=1
fi

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done

update() { $SUDO apt-get update -qq >/dev/null 2>&1 || say "apt-get update reported errors (tolerated)"; }

if [ -n "$missing" ]; then
	say "installing:$missing"
	update; need_update=0
	$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
		{ say "FAILED to install:$missing"; exit 1; }
fi

# Fetch a .deb into the cache and extract it once. $1 = package[:arch], $2 = dir
fetch_extract() {
	dest=$2
	[ -f "$dest/.done" ] && return 0
	mkdir -p "$CACHE/debs" "$dest"
	( cd "$CACHE/debs" && apt-get download -qq "$1" >/dev/null 2>&1 ) || {
		[ $need_update -eq 0 ] || { update; need_update=0; }
		( cd "$CACHE/debs" && apt-get download -qq "$1" ) || { say "FAILED to download $1"; exit 1; }
	}
	deb=$(ls -t "$CACHE/debs/$(echo "$1" | sed 's/:.*//')"_*.deb | head -1)
	dpkg -x "$deb" "$dest"
	touch "$dest/.done"
}

[ $need_update -eq 0 ] || { update; need_update=0; }

# Test-host kernel: the amd64 image matching the installed headers.
HDR=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
[ -n "$HDR" ] || { say "linux-headers-amd64 not installed"; exit 1; }
KVER=${HDR#/usr/src/linux-headers-}
fetch_extract "linux-image-$KVER" "$CACHE/testhost-kernel-$KVER"
ln -sfn "testhost-kernel-$KVER" "$CACHE/testhost-kernel"
echo "$KVER" >"$CACHE/testhost-kernel.version"

# Guest: Debian's i386 686 kernel (through the metapackage) and static busybox.
GVER=$(apt-cache depends linux-image-686:i386 2>/dev/null | sed -n 's/.*Depends: linux-image-\(.*-686\).*/\1/p' | head -1)
[ -n "$GVER" ] || { update; GVER=$(apt-cache depends linux-image-686:i386 | sed -n 's/.*Depends: linux-image-\(.*-686\).*/\1/p' | head -1); }
[ -n "$GVER" ] || { say "cannot resolve linux-image-686:i386"; exit 1; }
fetch_extract "linux-image-$GVER:i386" "$CACHE/guest-kernel-$GVER"
ln -sfn "guest-kernel-$GVER" "$CACHE/guest-kernel"
echo "$GVER" >"$CACHE/guest-kernel.version"
fetch_extract "busybox-static:i386" "$CACHE/busybox-i386"
exit 0
