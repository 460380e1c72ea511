#!/bin/sh
# scripts/run-default.sh — the README's first command: install dependencies,
# build hvmm and the default guest (Debian's i386 686 kernel + a busybox
# initramfs), then boot it to a shell on this terminal. Extra arguments go to
# `hvmm run` (e.g. --engine hybrid inside a host with the module loaded).
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
make -s -j"$(nproc)" all
make -s guest
echo "hvmm: booting the default guest (quit with Ctrl-A x)" >&2
exec ./build/hvmm run "$@"
