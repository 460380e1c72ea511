#!/bin/sh
# The --serial backends with a tiny echo kernel (mbtiny.inc): stdio from a
# pipe (input reaches the guest, its output reaches stdout), Ctrl-A x quits,
# Ctrl-A Ctrl-A sends one Ctrl-A, unix:PATH waits for its client and talks to
# it, file:PATH gets the output.
. "$(dirname "$0")/lib.inc"
. "$(dirname "$0")/mbtiny.inc"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mbtiny "$T/echo" "$MB_ECHO_Q"
RUN="$HVMM run --engine interp --mem 16M --kernel $T/echo"

out=$(printf 'hello q' | timeout 20 $RUN --serial stdio 2>/dev/null); rc=$?
[ "$out" = "hello q" ] && _ok "stdio: input echoed to stdout" || _bad "stdio: input echoed ('$out')"
[ $rc -eq 67 ] && _ok "stdio: guest's debug-exit status" || _bad "stdio: exit $rc, wanted 67"

(printf 'ab\001\001c'; sleep 1; printf '\001xq') | timeout 20 $RUN >"$T/esc" 2>"$T/err"
rc=$?
out=$(od -An -c "$T/esc" | tr -s ' ')
[ "$out" = " a b 001 c" ] && _ok "Ctrl-A Ctrl-A sends Ctrl-A, Ctrl-A x quits before 'q'" ||
	_bad "escape handling (got '$out')"
[ $rc -eq 0 ] && _ok "Ctrl-A x exits 0" || _bad "Ctrl-A x exit $rc"

# A pipe that ends without 'q': the VM keeps running (no busy loop, no exit).
timeout 2 sh -c "printf 'xy' | $RUN >/dev/null 2>&1"; rc=$?
[ $rc -eq 124 ] && _ok "stdin EOF does not stop the VM" || _bad "stdin EOF: exit $rc"

( timeout 20 $RUN --serial "unix:$T/sock" 2>"$T/uerr"; echo $? >"$T/urc" ) &
i=0; while [ ! -S "$T/sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
got=$(perl -MIO::Socket::UNIX -e '
	my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "connect: $!";
	syswrite($s, "via socket q"); my ($b, $all) = ("", "");
	while (sysread($s, $b, 100)) { $all .= $b } print $all;' "$T/sock")
wait
[ "$got" = "via socket q" ] && _ok "unix: client gets the echo" || _bad "unix: got '$got'"
[ "$(cat "$T/urc")" = 67 ] && _ok "unix: exit 67" || _bad "unix: exit $(cat "$T/urc")"
grep -q "waiting for a client" "$T/uerr" && _ok "unix: waits for the client" || _bad "unix: waits for the client"

# file: is output only: stdin's 'q' must not reach the guest, which keeps polling.
printf 'q' | timeout 2 $RUN --serial "file:$T/out" >/dev/null 2>&1; rc=$?
[ $rc -eq 124 ] && [ ! -s "$T/out" ] && _ok "file: no input reaches the guest" ||
	_bad "file: no input reaches the guest (exit $rc)"
mbtiny "$T/x" "$MB_SERIAL_X$MB_DEBUG_EXIT_21"
timeout 20 $HVMM run --mem 16M --kernel "$T/x" --serial "file:$T/out" >/dev/null 2>&1
[ "$(cat "$T/out")" = X ] && _ok "file: output written" || _bad "file: output '$(cat "$T/out")'"
finish
