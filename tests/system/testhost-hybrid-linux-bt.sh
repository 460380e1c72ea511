#!/bin/sh
# testhost-hybrid-linux.sh with `--bt`: the default Linux guest with its
# kernel code translated at CPL 1 (docs/bt.md) runs the same session (disk,
# file, poweroff) with the same guest-visible results as the interp engine,
# and --stats shows translated stays and blocks. About 3-4 min.
HVMM_HYBRID_ARGS=--bt exec sh "$(dirname "$0")/testhost-hybrid-linux.sh"
