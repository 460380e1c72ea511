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
busybox-static e2fsprogs kmod xz-utils zstd dpkg-dev liblzma-dev"

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

# Zydis for the freestanding monitor build (scripts/zydis-fs.mk): Debian's
# source package, the version userland links (libzydis-dev), extracted once
# into $CACHE/src/zydis. Zydis needs only Zycore's headers (no Zycore code):
# those come from libzycore-dev, built from the same zycore-c 1.4.1 source
# (whose tarballs the mirror does not serve; docs/monitor-build.md).
DEBSRC=/etc/apt/sources.list.d/hvmm-deb-src.sources
if ! cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null | grep -qE '^(Types:.*deb-src|deb-src )'; then
	# Same archive, suite and key as the binary entry in debian.sources.
	src=/etc/apt/sources.list.d/debian.sources
	uri=$(sed -n 's/^URIs: *//p' "$src" 2>/dev/null | head -1)
	key=$(sed -n 's/^Signed-By: *//p' "$src" 2>/dev/null | head -1)
	printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: %s\n' \
		"${uri:-http://deb.debian.org/debian}" \
		"${key:-/usr/share/keyrings/debian-archive-keyring.gpg}" |
		$SUDO tee "$DEBSRC" >/dev/null
	update
fi
# $1 = source package, $2 = version wanted (that of the installed -dev package)
fetch_source() {
	dest=$CACHE/src/$1
	[ -f "$dest/.done" ] && return 0
	mkdir -p "$CACHE/src/dl"
	( cd "$CACHE/src/dl" && apt-get source -qq --download-only "$1${2:+=$2}" >/dev/null 2>&1 ) || {
		update
		( cd "$CACHE/src/dl" && apt-get source -qq --download-only "$1${2:+=$2}" ) ||
			{ say "FAILED to download source $1"; exit 1; }
	}
	dsc=$(ls -t "$CACHE/src/dl/$1"_"${2:-}"*.dsc | head -1)
	rm -rf "$dest"
	dpkg-source -x "$dsc" "$dest" >/dev/null 2>&1 || { say "FAILED to extract $dsc"; exit 1; }
	rm -f "$CACHE/src/$1"_*.orig.tar.*	# dpkg-source's copy next to $dest
	touch "$dest/.done"
}
fetch_source zydis "$(dpkg-query -W -f='${source:Version}' libzydis-dev)"
exit 0
