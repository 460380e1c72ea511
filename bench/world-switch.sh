#!/bin/sh
# bench/world-switch.sh [CPU-MODEL] — the world-switch figures of issue 5,
# measured inside the test host (TCG: emulation costs, not silicon):
#   compute loop hybrid vs native (goal: ratio <= 1.05), int 0x80 round trip
#   to the userland process (a full world switch both ways), first touch of a
#   page (hybrid: a shadow fault handled inside the monitor).
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cpu=${1:-max,-svm,-vmx,-la57}
exec "$ROOT/tests/testhost/run" --timeout 300 --cpu "$cpu" \
	--add "$ROOT/bench/ws-inner.sh:/bench/ws-inner.sh" -- sh /bench/ws-inner.sh
