#!/bin/sh
# scripts/test.sh — the README's "run every test" command: installs
# dependencies, builds everything with warnings as errors, runs all tests.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
make -j"$(nproc)" WERROR=1 all build/hvmm-unit
exec ./tests/run-all "$@"
