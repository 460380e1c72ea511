#!/bin/sh
# testhost-hybrid-linux.sh with `--no-bt`: the default Linux guest with its
# kernel code interpreted inside hvmm.ko (user code still native) runs the
# same session (disk, file, poweroff) with the same guest-visible results
# as the interp engine. About 1.5-2 min.
HVMM_HYBRID_ARGS=--no-bt exec sh "$(dirname "$0")/testhost-hybrid-linux.sh"
