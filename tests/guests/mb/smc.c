/* tests/guests/mb/smc.c — self-modifying code: a patched immediate, a store
 * into the very next instruction, patching inside a hot loop, a function
 * replaced by REP MOVSB, code written through a second (data) mapping of the
 * same frame, and the same linear address remapped to other code (INVLPG,
 * CR3). A decoded-instruction cache or translation cache must notice every
 * one of these. SDM Vol. 3A 11.6 (self-modifying code). */
#include "rt.h"

const char rt_test_name[] = "smc";

uint32_t t_imm(uint32_t), t_next(uint32_t), t_loop(uint32_t), t_call(uint32_t);
void t_imm_end(void);
extern char t_imm_p[], t_next_p[], t_loop_p[];

/* code lives in .text, which is writable here (one RWX segment) */
ASM_FN(t_imm, "t_imm_p: mov $0x11111111,%eax\n ret");
/* the store rewrites the immediate of the next instruction */
ASM_FN(t_next, "movl $0x33333333,t_next_p+1\n t_next_p: mov $0,%eax\n ret");
/* 4 passes over "add $k,%eax", each pass patching k for the next one */
ASM_FN(t_loop, "push %ebx\n xor %eax,%eax\n mov $1,%ebx\n movb $1,t_loop_p+2\n"
	       "1: t_loop_p: add $1,%eax\n inc %ebx\n movb %bl,t_loop_p+2\n cmp $5,%ebx\n jne 1b\n"
	       "pop %ebx\n ret");
ASM_FN(t_call, "call *4(%esp)\n ret");

static struct rt_fault f;

#define P	1u
#define W	2u
#define PS	0x80u
#define XVA	0x40000000u	/* executed */
#define DVA	0x40001000u	/* written: the same frame as XVA */

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pd2[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));
static uint32_t pt2[1024] __attribute__((aligned(4096)));
static uint8_t frame_a[4096] __attribute__((aligned(4096)));
static uint8_t frame_b[4096] __attribute__((aligned(4096)));
static uint8_t fnbuf[64] __attribute__((aligned(16)));

/* writes "mov $v,%eax; ret" at p */
static void emit_mov_ret(volatile uint8_t *p, uint32_t v)
{
	p[0] = 0xb8;
	p[1] = (uint8_t)v;
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)(v >> 16);
	p[4] = (uint8_t)(v >> 24);
	p[5] = 0xc3;
}

static void check_flat(void)
{
	int v = rt_try(0, t_imm, 0, &f);
	rt_expect_eq("imm-before", f.ret, 0x11111111);
	*(volatile uint32_t *)(t_imm_p + 1) = 0x22222222;
	v = rt_try(0, t_imm, 0, &f);
	rt_expect_fault("imm-patched-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("imm-patched", f.ret, 0x22222222);

	v = rt_try(0, t_next, 0, &f);
	rt_expect_fault("next-insn-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("next-insn-patched-before-run", f.ret, 0x33333333);
	*(volatile uint32_t *)(t_next_p + 1) = 0;

	v = rt_try(0, t_loop, 0, &f);
	rt_expect_fault("loop-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("loop-patched-each-pass", f.ret, 1 + 2 + 3 + 4);

	/* a whole function replaced by a string copy, then called again */
	emit_mov_ret(fnbuf, 0x44444444);
	v = rt_try(0, t_call, (uint32_t)fnbuf, &f);
	rt_expect_eq("copied-fn-first", f.ret, 0x44444444);
	uint8_t tmp[8];
	const uint8_t *src = tmp;
	uint8_t *dst = fnbuf;
	uint32_t n = 6;
	emit_mov_ret(tmp, 0x55555555);
	asm volatile("rep movsb" : "+S"(src), "+D"(dst), "+c"(n) :: "memory");
	v = rt_try(0, t_call, (uint32_t)fnbuf, &f);
	rt_expect_fault("copied-fn-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("copied-fn-replaced-by-rep-movs", f.ret, 0x55555555);
}

static void check_paged(void)
{
	pd[0] = 0 | PS | P | W;				/* the kernel, 4 MiB */
	pd[XVA >> 22] = (uint32_t)pt | P | W;
	pt[0] = (uint32_t)frame_a | P | W;		/* XVA -> A */
	pt[1] = (uint32_t)frame_a | P | W;		/* DVA -> A */
	pd2[0] = pd[0];
	pd2[XVA >> 22] = (uint32_t)pt2 | P | W;
	pt2[0] = (uint32_t)frame_b | P | W;		/* XVA -> B in the 2nd space */
	emit_mov_ret(frame_a, 0xa0a0a0a0);
	emit_mov_ret(frame_b, 0xb0b0b0b0);
	write_cr4(read_cr4() | (1u << 4));
	write_cr3((uint32_t)pd);
	write_cr0(read_cr0() | 0x80000000u);

	int v = rt_try(0, t_call, XVA, &f);
	rt_expect_fault("alias-first-run", v, &f, -1, 0, 0);
	rt_expect_eq("alias-first-value", f.ret, 0xa0a0a0a0);
	emit_mov_ret((volatile uint8_t *)DVA, 0xa1a1a1a1);
	v = rt_try(0, t_call, XVA, &f);
	rt_expect_eq("alias-write-seen-by-fetch", f.ret, 0xa1a1a1a1);

	/* the same linear address, other code: after INVLPG ... */
	pt[0] = (uint32_t)frame_b | P | W;
	invlpg(XVA);
	v = rt_try(0, t_call, XVA, &f);
	rt_expect_eq("remap-invlpg-new-code", f.ret, 0xb0b0b0b0);
	pt[0] = (uint32_t)frame_a | P | W;
	invlpg(XVA);
	v = rt_try(0, t_call, XVA, &f);
	rt_expect_eq("remap-back-old-code", f.ret, 0xa1a1a1a1);
	/* ... and in another address space after a CR3 load */
	write_cr3((uint32_t)pd2);
	v = rt_try(0, t_call, XVA, &f);
	rt_expect_eq("cr3-switch-new-code", f.ret, 0xb0b0b0b0);
	write_cr3((uint32_t)pd);
	v = rt_try(0, t_call, XVA, &f);
	rt_expect_eq("cr3-switch-back-old-code", f.ret, 0xa1a1a1a1);
	/* a write to the frame while it is mapped elsewhere (physical alias) */
	emit_mov_ret(frame_b, 0xb2b2b2b2);		/* identity address of B */
	write_cr3((uint32_t)pd2);
	v = rt_try(0, t_call, XVA, &f);
	rt_expect_eq("physical-alias-write-seen", f.ret, 0xb2b2b2b2);
	write_cr0(read_cr0() & ~0x80000000u);
}

void test_main(void)
{
	check_flat();
	check_paged();
}
