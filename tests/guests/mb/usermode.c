/* tests/guests/mb/usermode.c — a tiny kernel running a real user-mode
 * workload at CPL 3 with IF=1 under 2-level paging, the case the hybrid
 * engine runs natively (docs/hybrid.md, issue 6 stage 2): demand-zero page
 * faults handled by this kernel, int 0x80 system calls, a long compute loop
 * with the PIT ticking underneath, x87/SSE state kept across system calls
 * that use the FPU in the kernel, #PF error codes and CR2 for a write to a
 * read-only page and a read of a supervisor page, accessed/dirty bits, a
 * page-table change followed by INVLPG and by a CR3 reload seen by user code,
 * and a user segment load (a TLS-like GS base). SDM Vol. 3A §4.3, §4.7,
 * §4.8, §6.12; Vol. 1 §10.5 (FXSAVE), §10.2.3 (MXCSR). */
#include "rt.h"

const char rt_test_name[] = "usermode";

#define P	0x001
#define W	0x002
#define U	0x004
#define A	0x020
#define D	0x040

#define UVA	0x40000000u		/* demand-zero pages, PDE 256 */
#define NDZ	64
#define ROVA	(UVA + 0x100000u)	/* read-only user page */
#define SVVA	(UVA + 0x101000u)	/* supervisor page */
#define SWVA	(UVA + 0x102000u)	/* remapped by the kernel (frames 0..2) */
#define VEC_IRQ0 0x20
#define TLS_IDX	9
#define SEL_TLS	SEL(TLS_IDX, 3)

enum { SYS_TWICE = 1, SYS_FPU = 2, SYS_EXIT = 3, SYS_REMAP_INVLPG = 4, SYS_REMAP_CR3 = 5 };
#define FAULTED	0xfa000000u

static volatile uint32_t pd[1024] __attribute__((aligned(4096)));
static volatile uint32_t pt_id[2][1024] __attribute__((aligned(4096)));
static volatile uint32_t pt_u[1024] __attribute__((aligned(4096)));
static uint8_t pool[NDZ][4096] __attribute__((aligned(4096)));
static uint8_t fr_ro[4096] __attribute__((aligned(4096)));
static uint8_t fr_sv[4096] __attribute__((aligned(4096)));
static uint8_t fr_sw[3][4096] __attribute__((aligned(4096)));
uint8_t kfx[512] __attribute__((aligned(16)));
static uint32_t tls_block[4] = { 0x7105a, 0x7105b, 0, 0 };

uint32_t kctx_esp;
static volatile uint32_t ticks, uticks, nsys, ndz;
static struct { uint32_t vec, err, cr2, eip; } lastf;
volatile uint32_t u_ticks0, u_ticks1;
volatile uint32_t u_out[16] __attribute__((aligned(16)));

uint32_t uenter(uint32_t (*fn)(uint32_t), uint32_t arg);
void uleave(uint32_t v) __attribute__((noreturn));
uint32_t u_ro(uint32_t), u_sv(uint32_t), u_tls(uint32_t), u_fpu(uint32_t);
uint32_t u_sysenter(uint32_t), u_tf(uint32_t), u_ljmp(uint32_t);
uint32_t u_jmp_kdata(uint32_t), u_jmp_far_sel(uint32_t), u_ds_kdata(uint32_t);
extern char u_jmp_kdata_i[], u_jmp_far_sel_i[], u_ds_kdata_i[];
extern char u_ro_i[], u_sv_i[], u_tls_i[], u_tf_i[], se_entry[], se_stack_top[];
volatile uint32_t se_count;

/* Enter CPL 3 with IF=1 at fn(arg) on the user stack; fn's return value
 * comes back through SYS_EXIT (or FAULTED through a fault hook). */
ASM_FN(uenter,
       "push %ebp\n push %ebx\n push %esi\n push %edi\n"
       "mov %esp, kctx_esp\n mov 20(%esp), %esi\n mov 24(%esp), %edi\n"
       "mov $0x23, %ax\n mov %ax, %ds\n mov %ax, %es\n mov %ax, %fs\n mov %ax, %gs\n"
       "push $0x23\n push $u_stack_top\n push $0x202\n push $0x1b\n push $1f\n iret\n"
       "1: push %edi\n call *%esi\n mov %eax, %ebx\n mov $3, %eax\n int $0x80\n ud2\n"
       ".bss\n.p2align 4\n.skip 16384\n.globl u_stack_top\nu_stack_top:\n.text");
/* From a CPL-0 hook: drop the trap frame, return v from uenter. */
ASM_FN(uleave,
       "mov 4(%esp), %eax\n mov kctx_esp, %esp\n"
       "mov $0x10, %cx\n mov %cx, %ds\n mov %cx, %es\n mov %cx, %fs\n mov %cx, %gs\n"
       "pop %edi\n pop %esi\n pop %ebx\n pop %ebp\n ret");
ASM_FN(u_ro, "mov $" "0x40100008" ", %ecx\n u_ro_i: movl $1, (%ecx)\n xor %eax, %eax\n ret");
ASM_FN(u_sv, "mov $" "0x40101010" ", %ecx\n u_sv_i: mov (%ecx), %eax\n ret");
/* A segment load at CPL 3 (TLS-like): GS with a base, then two reads. */
ASM_FN(u_tls, "mov $0x4b, %ax\n u_tls_i: mov %ax, %gs\n mov %gs:0, %eax\n"
	      "mov %gs:4, %edx\n mov $0x23, %cx\n mov %cx, %gs\n sub %edx, %eax\n ret");
/* x87 and SSE state across a system call that uses the FPU in the kernel and
 * a spin with timer interrupts: MXCSR round-toward-zero, FCW, xmm0/xmm7, two
 * x87 stack entries; results in u_out. */
ASM_FN(u_fpu,
       "push %ebx\n"
       "movl $0x7f80, u_out+0\n ldmxcsr u_out+0\n"			/* RC = toward zero */
       "movl $1, u_out+0\n movl $2, u_out+4\n movl $3, u_out+8\n movl $4, u_out+12\n"
       "movdqu u_out, %xmm0\n"
       "movl $10, u_out+0\n movl $20, u_out+4\n movl $30, u_out+8\n movl $40, u_out+12\n"
       "movdqu u_out, %xmm1\n paddd %xmm1, %xmm0\n"
       "movl $0x13579bdf, u_out+0\n movl $0x2468ace0, u_out+4\n"
       "movl $0x0f1e2d3c, u_out+8\n movl $0x4b5a6978, u_out+12\n movdqu u_out, %xmm7\n"
       "movl $3, u_out+0\n fildl u_out+0\n movl $7, u_out+0\n fildl u_out+0\n"
       "mov $2, %eax\n int $0x80\n"
       "mov $200000, %ecx\n 1: dec %ecx\n jnz 1b\n"
       "fmulp\n fistpl u_out+16\n"					/* 21 */
       "movdqu %xmm0, u_out+20\n movdqu %xmm7, u_out+36\n"
       "stmxcsr u_out+52\n"
       "movl $1, u_out+0\n cvtsi2ss u_out+0, %xmm2\n movl $3, u_out+0\n"
       "cvtsi2ss u_out+0, %xmm3\n divss %xmm3, %xmm2\n movss %xmm2, u_out+56\n"	/* 1/3, RZ */
       "movl $2, u_out+0\n fildl u_out+0\n fsqrt\n movl $1000000, u_out+0\n"
       "fimull u_out+0\n fistpl u_out+60\n"				/* 1414214 */
       "fnstsw %ax\n movzwl %ax, %eax\n movl %eax, u_out+0\n"
       "movl $0x1f80, u_out+4\n ldmxcsr u_out+4\n"
       "pop %ebx\n mov $1, %eax\n ret");

/* SYSENTER from CPL 3 (SDM Vol. 2B SYSENTER/SYSEXIT): EAX = 2 * EBX + 1,
 * back with STI; SYSEXIT to EDX/ECX (CS 0x1b, SS 0x23 from SYSENTER_CS 8). */
ASM_FN(se_entry, "lea 1(%ebx,%ebx), %eax\n incl se_count\n sti\n sysexit\n"
		 ".bss\n.p2align 4\n.skip 1024\n.globl se_stack_top\nse_stack_top:\n.text");
ASM_FN(u_sysenter, "push %ebx\n push %esi\n xor %esi, %esi\n mov 12(%esp), %ebx\n"
		   "1: push %ebx\n mov %esp, %ecx\n mov $2f, %edx\n sysenter\n"
		   "2: pop %ebx\n add %eax, %esi\n dec %ebx\n jnz 1b\n"
		   "mov %esi, %eax\n pop %esi\n pop %ebx\n ret");
/* A far jump at CPL 3 to a DPL-3 code descriptor with L=1 (bit 53, which
 * an IA-32 CPU ignores): the code runs as 32-bit code and reports CS. A
 * monitor that loaded this descriptor raw would run it in 64-bit mode. */
#define L1_IDX	10
ASM_FN(u_ljmp, "ljmp $0x53, $1f\n 1: mov %cs, %ebx\n movzwl %bx, %ebx\n"
	       "mov $0x1234, %ecx\n dec %ecx\n add %ecx, %ebx\n mov $3, %eax\n int $0x80\n ud2");

/* Selectors whose world GDT slots belong to the monitor (index 2: its
 * 64-bit code; 0xff0: its TSS) must behave as the guest's GDT says: a data
 * segment (#GP on a far jump), beyond the GDT limit (#GP). */
ASM_FN(u_jmp_kdata, "u_jmp_kdata_i: ljmp $0x13, $0\n ud2");
ASM_FN(u_jmp_far_sel, "u_jmp_far_sel_i: lcall $0xff3, $0\n ud2");
ASM_FN(u_ds_kdata, "mov $0x13, %ax\n u_ds_kdata_i: mov %ax, %ds\n ud2");

/* POPF sets TF at CPL 3: the single-step trap comes after the next
 * instruction (SDM Vol. 3B §17.3.1.4). */
ASM_FN(u_tf, "pushf\n orl $0x100, (%esp)\n popf\n nop\n u_tf_i: nop\n nop\n"
	     "pushf\n andl $~0x100, (%esp)\n popf\n xor %eax, %eax\n ret");

static int on_syscall(struct rt_frame *fr)
{
	uint32_t n;

	switch (fr->eax) {
	case SYS_TWICE:
		fr->eax = fr->ebx * 2 + 1;
		break;
	case SYS_FPU:		/* the kernel uses the FPU: save, clobber, restore */
		asm volatile("fxsave kfx\n fninit\n fldpi\n fldz\n pxor %%xmm0, %%xmm0\n"
			     "pcmpeqd %%xmm7, %%xmm7\n movl $0x1f80, kfx+508\n ldmxcsr kfx+508\n"
			     "movl $0, kfx+508\n fxrstor kfx" ::: "memory");
		break;
	case SYS_EXIT:
		nsys++;
		uleave(fr->ebx);
	case SYS_REMAP_INVLPG:
	case SYS_REMAP_CR3:
		n = fr->ebx % 3;
		pt_u[(SWVA - UVA) >> 12] = (uint32_t)fr_sw[n] | P | W | U;
		if (fr->eax == SYS_REMAP_INVLPG)
			invlpg(SWVA);
		else
			write_cr3(read_cr3());
		fr->eax = 0;
		break;
	default:
		return 0;
	}
	nsys++;
	return 1;
}

/* Faults from CPL 3: demand-zero pages are mapped and the access retried;
 * anything else is recorded and ends the user run. */
static int on_user_fault(struct rt_frame *fr)
{
	uint32_t cr2 = read_cr2();

	if (!(fr->cs & 3))
		return 0;
	if (fr->vector == 14 && !(fr->err & P) && cr2 >= UVA && cr2 < UVA + NDZ * 4096 &&
	    ndz < NDZ) {
		rt_memset(pool[ndz], 0, 4096);
		pt_u[(cr2 - UVA) >> 12] = (uint32_t)pool[ndz] | P | W | U;
		ndz++;
		return 1;
	}
	if (fr->vector == 1) {
		uint32_t dr6;

		asm volatile("mov %%dr6, %0" : "=r"(dr6));
		fr->err = dr6;
	}
	lastf.vec = fr->vector;
	lastf.err = fr->err;
	lastf.cr2 = fr->vector == 14 ? cr2 : 0;
	lastf.eip = fr->eip;
	uleave(FAULTED | fr->vector);
}

static int on_irq0(struct rt_frame *fr)
{
	ticks++;
	if (fr->cs & 3)
		uticks++;
	outb(0x20, 0x20);
	return 1;
}

static uint32_t xorshift_sum(uint32_t n)
{
	uint32_t x = 2463534242u, s = 0;

	while (n--) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		s += x;
	}
	return s;
}

/* ---- user programs (run at CPL 3) ---- */

static uint32_t u_demand(uint32_t n)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i < n; i++) {
		volatile uint32_t *p = (volatile uint32_t *)(UVA + i * 4096);

		sum += p[0] + p[1023];
		if (!(i & 1))
			p[1] = 0x100 + i;
	}
	for (uint32_t i = 0; i < n; i += 2)
		sum += *(volatile uint32_t *)(UVA + i * 4096 + 4) - (0x100 + i);
	return sum;
}

static uint32_t u_syscalls(uint32_t n)
{
	uint32_t acc = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t r;

		asm volatile("int $0x80" : "=a"(r) : "a"(SYS_TWICE), "b"(i) : "memory");
		acc += r;
	}
	return acc;
}

/* At least @n rounds of 100,000 iterations, then on until the timer ticked
 * twice (bounded): long enough to run natively, and the PIT must interrupt
 * it. The number of rounds goes to u_out[0]. */
static uint32_t u_compute(uint32_t n)
{
	uint32_t s = 0, r = 0;

	u_ticks0 = ticks;
	while (r < n || (ticks - u_ticks0 < 2 && r < 200000)) {
		s += xorshift_sum(100000);
		r++;
	}
	u_ticks1 = ticks;
	u_out[0] = r;
	return s;
}

/* RDTSC at CPL 3 reads the guest's TSC (the monitor traps it natively). */
static uint32_t u_rdtsc(uint32_t arg)
{
	uint64_t t = rdtsc();

	u_out[0] = (uint32_t)t;
	u_out[1] = (uint32_t)(t >> 32);
	return 1;
}

static uint32_t u_switch(uint32_t arg)
{
	volatile uint32_t *p = (volatile uint32_t *)SWVA;
	uint32_t a, b, c, r;

	a = *p;
	asm volatile("int $0x80" : "=a"(r) : "a"(SYS_REMAP_INVLPG), "b"(1) : "memory");
	b = *p;
	asm volatile("int $0x80" : "=a"(r) : "a"(SYS_REMAP_CR3), "b"(2) : "memory");
	c = *p;
	*p = 0x77;
	return a | b << 8 | c << 16;
}

/* ---- the kernel ---- */

static void paging_init(void)
{
	for (uint32_t i = 0; i < 2048; i++)	/* identity 0-8 MiB, user-accessible */
		pt_id[i >> 10][i & 1023] = (i << 12) | P | W | U;
	pd[0] = (uint32_t)pt_id[0] | P | W | U;
	pd[1] = (uint32_t)pt_id[1] | P | W | U;
	pd[UVA >> 22] = (uint32_t)pt_u | P | W | U;
	pt_u[(ROVA - UVA) >> 12] = (uint32_t)fr_ro | P | U;
	pt_u[(SVVA - UVA) >> 12] = (uint32_t)fr_sv | P | W;
	pt_u[(SWVA - UVA) >> 12] = (uint32_t)fr_sw[0] | P | W | U;
	for (int i = 0; i < 3; i++)
		*(uint32_t *)fr_sw[i] = i + 1;
	write_cr3((uint32_t)pd);
	write_cr4(read_cr4() | 0x600);		/* OSFXSR, OSXMMEXCPT */
	write_cr0((read_cr0() & ~0xcu) | 0x80000022u);	/* PG, NE, MP; no EM, TS */
	asm volatile("fninit");
}

void test_main(void)
{
	uint32_t v, bad;

	rt_idt_set(0x80, SEL_KCODE, rt_idt_stub(0x80), GATE_INT32, 3, 1);
	rt_set_handler(0x80, on_syscall);
	rt_set_handler(VEC_IRQ0, on_irq0);
	for (int vec = 0; vec < 20; vec++)
		if (vec != 2 && vec != 8)
			rt_set_handler(vec, on_user_fault);
	rt_gdt_set(TLS_IDX, (uint32_t)tls_block, 0xfff, ACC_P | ACC_S | ACC_DPL(3) | ACC_DATA_W,
		   FLG_DB);
	paging_init();
	rt_pic_pit_init(VEC_IRQ0, 11932);

	/* demand-zero: every page zero-filled by the kernel on first touch */
	v = uenter(u_demand, NDZ);
	rt_expect_eq("demand-zero-sum", v, 0);
	rt_expect_eq("demand-zero-faults", ndz, NDZ);
	bad = 0;
	for (uint32_t i = 0; i < NDZ; i++) {
		uint32_t e = pt_u[i], want = A | ((i & 1) ? 0 : D);

		if ((e & (A | D)) != want || (e & ~0xfffu) != (uint32_t)pool[i] ||
		    *(uint32_t *)(pool[i] + 4) != ((i & 1) ? 0 : 0x100 + i))
			bad++;
	}
	rt_expect_eq("demand-zero-ad-bits-and-frames", bad, 0);

	v = uenter(u_syscalls, 1000);
	rt_expect_eq("int80-results", v, 1000 * 999 + 1000);
	rt_check(nsys >= 1001, "int80-count", "nsys %u", nsys);

	v = uenter(u_compute, 30);
	rt_expect_eq("compute-checksum", v, u_out[0] * xorshift_sum(100000));
	rt_check(u_ticks1 > u_ticks0, "timer-ticks-during-user-loop", "ticks %u -> %u",
		 u_ticks0, u_ticks1);
	rt_check(uticks > 0, "timer-irq-from-cpl3", "uticks %u", uticks);

	wrmsr(0x174, SEL_KCODE);
	wrmsr(0x175, (uint32_t)se_stack_top);
	wrmsr(0x176, (uint32_t)se_entry);
	v = uenter(u_sysenter, 500);
	rt_expect_eq("sysenter-results", v, 500 * 501 + 500);
	rt_expect_eq("sysenter-count", se_count, 500);

	v = uenter(u_tf, 0);
	rt_expect_eq("popf-tf-single-step", v, FAULTED | 1);
	rt_expect_eq("popf-tf-trap-eip", lastf.eip, (uint32_t)u_tf_i);
	rt_check(lastf.err & 0x4000, "popf-tf-dr6-bs", "dr6 0x%x", lastf.err);

	rt_gdt_set(L1_IDX, 0, 0xfffff, ACC_P | ACC_S | ACC_DPL(3) | ACC_CODE | ACC_CODE_R,
		   FLG_G | FLG_DB | 0x2);
	v = uenter(u_ljmp, 0);
	rt_expect_eq("far-jmp-to-l1-code-runs-32-bit", v, 0x53 + 0x1233);

	v = uenter(u_jmp_kdata, 0);
	rt_check(v == (FAULTED | 13) && lastf.err == 0x10 && lastf.eip == (uint32_t)u_jmp_kdata_i,
		 "far-jmp-to-index-2-gp", "v 0x%x err 0x%x eip 0x%x", v, lastf.err, lastf.eip);
	v = uenter(u_jmp_far_sel, 0);
	rt_check(v == (FAULTED | 13) && lastf.err == 0xff0 && lastf.eip == (uint32_t)u_jmp_far_sel_i,
		 "far-call-beyond-gdt-limit-gp", "v 0x%x err 0x%x eip 0x%x", v, lastf.err, lastf.eip);
	v = uenter(u_ds_kdata, 0);
	rt_check(v == (FAULTED | 13) && lastf.err == 0x10 && lastf.eip == (uint32_t)u_ds_kdata_i,
		 "ds-load-dpl0-data-gp", "v 0x%x err 0x%x eip 0x%x", v, lastf.err, lastf.eip);

	v = uenter(u_fpu, 0);
	rt_expect_eq("fpu-user-returns", v, 1);
	rt_expect_eq("x87-after-syscall", u_out[4], 21);
	rt_expect_eq("sse-paddd-0", u_out[5], 11);
	rt_expect_eq("sse-paddd-3", u_out[8], 44);
	rt_expect_eq("sse-xmm7-kept", u_out[9] ^ u_out[12], 0x13579bdf ^ 0x4b5a6978);
	rt_expect_eq("mxcsr-kept", u_out[13] & 0xffbf, 0x7f80);
	rt_expect_eq("divss-round-toward-zero", u_out[14], 0x3eaaaaaa);
	rt_expect_eq("x87-fsqrt", u_out[15], 1414214);
	rt_expect_eq("x87-stack-empty", (u_out[0] >> 11) & 7, 0);

	v = uenter(u_ro, 0);
	rt_expect_eq("ro-write-faults", v, FAULTED | 14);
	rt_expect_eq("ro-write-error-code", lastf.err, P | W | U);
	rt_expect_eq("ro-write-cr2", lastf.cr2, ROVA + 8);
	rt_expect_eq("ro-write-eip", lastf.eip, (uint32_t)u_ro_i);
	rt_expect_eq("ro-page-unchanged", fr_ro[8], 0);

	v = uenter(u_sv, 0);
	rt_expect_eq("supervisor-read-faults", v, FAULTED | 14);
	rt_expect_eq("supervisor-read-error-code", lastf.err, P | U);
	rt_expect_eq("supervisor-read-cr2", lastf.cr2, SVVA + 0x10);
	rt_expect_eq("supervisor-read-eip", lastf.eip, (uint32_t)u_sv_i);

	v = uenter(u_switch, 0);
	rt_expect_eq("pt-change-invlpg-cr3-seen", v, 0x030201);
	rt_expect_eq("pt-change-write-lands-in-new-frame",
		     *(uint32_t *)fr_sw[2] | *(uint32_t *)fr_sw[1] << 8 |
		     *(uint32_t *)fr_sw[0] << 16, 0x77 | 2 << 8 | 1 << 16);

	{
		uint64_t t0 = rdtsc(), t1, tu;

		v = uenter(u_rdtsc, 0);
		t1 = rdtsc();
		tu = (uint64_t)u_out[1] << 32 | u_out[0];
		rt_check(v == 1 && tu >= t0 && tu <= t1, "rdtsc-cpl3-between-cpl0-reads",
			 "0x%x%08x not in [0x%x%08x, 0x%x%08x]", u_out[1], u_out[0],
			 (uint32_t)(t0 >> 32), (uint32_t)t0, (uint32_t)(t1 >> 32), (uint32_t)t1);
	}

	v = uenter(u_tls, 0);
	rt_expect_eq("user-segment-load-base", v, 0x7105a - 0x7105b);

	rt_gdt_set(TLS_IDX, 0, 0xfff, ACC_P | ACC_S | ACC_DPL(0) | ACC_DATA_W, FLG_DB);
	v = uenter(u_tls, 0);
	rt_expect_eq("user-segment-load-dpl0-gp", v, FAULTED | 13);
	rt_expect_eq("user-segment-load-gp-error", lastf.err, SEL_TLS & ~3u);
	rt_expect_eq("user-segment-load-gp-eip", lastf.eip, (uint32_t)u_tls_i);

	outb(0x21, 0xff);	/* PIT off again */
	rt_finish();
}
