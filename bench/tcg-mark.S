/* bench/tcg-mark.S — a static amd64 program whose only code sits at
 * 0x13570000 (linked with -Ttext): bench/tcg-prof.c's plugin snapshots its
 * counters whenever a TB there runs. Exits 0 at once. */
	.text
	.globl _start
_start:
	mov $60, %eax
	xor %edi, %edi
	syscall
