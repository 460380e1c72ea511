#!/bin/sh
# The user-mode test programs (tests/guests/user/) run natively here as
# 32-bit Linux processes: the ones that finish print the right results and
# exit status; the fault programs die by the signal Linux maps their fault
# to. Also checks run-user.sh's engine mode against a stand-in engine that
# reports faults right, then one that reports them wrong.
. "$(dirname "$0")/lib.inc"
make -s -C "$ROOT" guests || exit 1
U=$BUILD/guests/user

out=$(sh "$ROOT/tests/guests/run-user.sh" 2>/dev/null); rc=$?
echo "$out"
[ $rc -eq 0 ] && _ok "every user program behaves natively" || _bad "run-user.sh (native) failed"

out=$(timeout 1 "$U/spin" 2>&1); rc=$?
[ $rc -eq 124 ] && _ok "spin runs until killed" || _bad "spin exit $rc, wanted 124 (timeout)"
echo "$out" | grep -q '^spin: looping until killed$' && _ok "spin output" || _bad "spin output: $out"

# a stand-in engine: runs the program natively and reports its EXPECT line
# as the fault (with FAKE_VECTOR, a wrong vector instead)
fake=$(mktemp) || exit 1
trap 'rm -f "$fake"' EXIT
cat >"$fake" <<'X'
#!/bin/sh
out=$("$1" 2>/dev/null); rc=$?
printf '%s\n' "$out"
exp=$(printf '%s\n' "$out" | sed -n 's/^EXPECT //p')
[ -n "$exp" ] || exit $rc
[ -z "${FAKE_VECTOR:-}" ] || exp=$(echo "$exp" | sed "s/vector=[0-9]*/vector=$FAKE_VECTOR/")
echo "fake: guest fault $exp" >&2
exit 1
X
chmod +x "$fake"
expect_ok "run-user.sh accepts a right fault report" sh "$ROOT/tests/guests/run-user.sh" "$fake"
expect_fail 1 "run-user.sh rejects a wrong fault report" \
	env FAKE_VECTOR=99 sh "$ROOT/tests/guests/run-user.sh" "$fake"
finish
