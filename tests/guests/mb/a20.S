/* tests/guests/mb/a20.S — the part of a20.c that runs while the A20 gate
 * may be off. The kernel sits at 1 MiB, where every address has bit 20
 * set: with A20 off the CPU fetches from address - 1 MiB. a20.c copies
 * [a20_blob, a20_blob_end) to that alias, so execution goes on in the same
 * code whichever way the gate is. While the gate may be off this code
 * touches no stack and no memory but the test words below 2 MiB.
 *
 *	void a20_blob(uint32_t method)
 * method 0: port 0x92 bit 1 (fast A20); 1: i8042 command 0xd1 (write the
 * output port, bit 1 = A20); 2: i8042 commands 0xdd / 0xdf.
 * 1. turns the other source off (the gate is the OR of both on PIIX, and
 *    the last write on QEMU: the blob works either way), the tested one on;
 * 2. A20 on: stores 0xa0a0a0a0 at HI, loads LO -> RES+0, runs the fetch
 *    probe -> RES+4;
 * 3. tested source off: stores 0x33333333 at HI, loads LO -> RES+8, loads
 *    HI+4 -> RES+12, fetch probe -> RES+16, port 0x92 -> RES+20, i8042
 *    output port (command 0xd0) -> RES+24;
 * 4. tested source on again; returns with the gate on.
 */
#define LO	0x80000
#define HI	0x180000		/* LO + 1 MiB: the same word when A20 is off */
#define RES	0x90000

	.text
	.globl a20_blob, a20_blob_end, a20_probe_imm
	.p2align 4
a20_blob:
	push %ebx
	push %esi
	mov 12(%esp), %ebx		/* method */

.macro kbc_wait			/* input buffer empty (status bit 1) */
	mov $100000, %edx
101:	in $0x64, %al
	test $2, %al
	jz 102f
	dec %edx
	jnz 101b
102:
.endm
.macro kbc_cmd c
	kbc_wait
	mov $\c, %al
	out %al, $0x64
.endm
.macro kbc_data d
	kbc_wait
	mov $\d, %al
	out %al, $0x60
.endm
.macro p92 on			/* bit 0 stays 0: it is the fast reset */
	in $0x92, %al
	and $0xfc, %al
	.if \on
	or $2, %al
	.endif
	out %al, $0x92
.endm
/* source(method in %ebx, on): the tested source */
.macro source on
	cmp $0, %ebx
	jne 111f
	p92 \on
	jmp 119f
111:	cmp $1, %ebx
	jne 112f
	kbc_cmd 0xd1
	.if \on
	kbc_data 0xdf
	.else
	kbc_data 0xdd
	.endif
	kbc_wait
	jmp 119f
112:	.if \on
	kbc_cmd 0xdf
	.else
	kbc_cmd 0xdd
	.endif
	kbc_wait
119:
.endm

	/* 1. the other source off, the tested one on */
	cmp $0, %ebx
	jne 1f
	kbc_cmd 0xdd
	kbc_wait
	jmp 2f
1:	p92 0
2:	source 1

	/* 2. A20 on */
	movl $0xa0a0a0a0, HI
	mov LO, %eax
	mov %eax, RES
	mov $3f, %esi
	jmp a20_probe
3:	mov %eax, RES + 4

	/* 3. A20 off */
	source 0
	movl $0x33333333, HI
	mov LO, %eax
	mov %eax, RES + 8
	mov HI + 4, %eax
	mov %eax, RES + 12
	mov $4f, %esi
	jmp a20_probe
4:	mov %eax, RES + 16
	in $0x92, %al
	movzbl %al, %eax
	mov %eax, RES + 20
	kbc_cmd 0xd0
	mov $100000, %edx		/* output buffer full (status bit 0) */
5:	in $0x64, %al
	test $1, %al
	jnz 6f
	dec %edx
	jnz 5b
6:	in $0x60, %al
	movzbl %al, %eax
	mov %eax, RES + 24

	/* 4. A20 on again */
	source 1
	pop %esi
	pop %ebx
	ret

/* Returns to %esi with EAX = the immediate: 1 here, 2 in the alias copy. */
a20_probe:
	.byte 0xb8			/* mov $imm32, %eax */
a20_probe_imm:
	.long 1
	jmp *%esi
a20_blob_end:
