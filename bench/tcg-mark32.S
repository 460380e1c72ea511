/* bench/tcg-mark32.S — bench/tcg-mark for a 32-bit Linux guest: a static
 * i386 program whose only code sits at 0x13570000; exits 0 at once. */
	.text
	.globl _start
_start:
	mov $1, %eax
	xor %ebx, %ebx
	int $0x80
