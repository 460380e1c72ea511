#!/bin/sh
# scripts/test.sh — the README's "run every test" command: installs
# dependencies, then `make test` with warnings as errors (builds everything,
# runs the unit suites and every system test). Arguments go to
# tests/run-all (e.g. -k testhost) after the same build.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
if [ $# -eq 0 ]; then
	exec make -j"$(nproc)" WERROR=1 test
fi
make -j"$(nproc)" WERROR=1 all build/hvmm-unit
exec ./tests/run-all "$@"
