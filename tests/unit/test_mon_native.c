/* tests/unit/test_mon_native.c — the pure logic of native guest user mode
 * from system mode (issue 6 stage 2): sanitised world GDT descriptors and
 * selectors (monitor/mon-native.c), EFLAGS in and out, the FXSAVE image of
 * the interpreter's FPU state, and the system-mode vCPU's side of a native
 * stay (monitor/mon-sys.c): when it asks to go native, what it exports, how
 * it takes the state back, direct #PF delivery through the guest IDT, and
 * dropping decoded code of natively written pages. Plain memory only. */
#include "tests/unit/unit.h"
#include "tests/unit/mon-sys-bed.h"
#include "monitor/mon-native.h"
#include "monitor/mon-sys.h"
#include "monitor/monitor.h"

#include <stdlib.h>
#include <string.h>

/* ---- descriptors ---- */

static void test_desc(void)
{
	uint64_t d;

	/* flat 32-bit user code and data, as a Linux or rt guest has them */
	CU_ASSERT_EQUAL(mon_native__desc(1, 0xc0fb, 0, 0xffffffff, &d), 0);
	CU_ASSERT_EQUAL(d, 0x00cffb000000ffffull);
	CU_ASSERT_EQUAL(mon_native__desc(2, 0xc0f3, 0, 0xffffffff, &d), 0);
	CU_ASSERT_EQUAL(d, 0x00cff3000000ffffull);
	/* a TLS-like data segment: base split over three fields, byte limit */
	CU_ASSERT_EQUAL(mon_native__desc(5, 0x40f3, 0x12345678, 0xfff, &d), 0);
	CU_ASSERT_EQUAL(d, 0x1240f3345678ull << 16 | 0xfff);
	/* L=1 (a 64-bit code descriptor from a crafted guest GDT): never L */
	CU_ASSERT_EQUAL(mon_native__desc(1, 0xa0fb, 0, 0xffffffff, &d), 0);
	CU_ASSERT_EQUAL(d & (1ull << 53), 0);
	CU_ASSERT_EQUAL((d >> 45) & 3, 3);
	CU_ASSERT_EQUAL(mon_native__desc(3, 0x20f3 | 0x8000, 0, 0xffffffff, &d), 0);
	CU_ASSERT_EQUAL(d & (1ull << 53), 0);
	/* a conforming DPL-0 code segment in CS: non-conforming DPL 3 copy */
	CU_ASSERT_EQUAL(mon_native__desc(1, 0xc09f, 0, 0xffffffff, &d), 0);
	CU_ASSERT_EQUAL((d >> 40) & 0xff, 0xfb);
	/* a DPL-0 readable code segment left in DS: DPL 3 copy, readable */
	CU_ASSERT_EQUAL(mon_native__desc(3, 0xc09a, 0, 0xffffffff, &d), 0);
	CU_ASSERT_EQUAL((d >> 40) & 0xff, 0xfb);
	/* 16-bit code (D=0) keeps D=0 */
	CU_ASSERT_EQUAL(mon_native__desc(1, 0x00fb, 0x10000, 0xffff, &d), 0);
	CU_ASSERT_EQUAL(d, 0x0000fb010000ffffull);
	/* refused: not present, system (TSS, call gate), data in CS, code in
	 * SS, read-only data in SS, execute-only code in DS, DPL-0 CS/SS */
	CU_ASSERT_EQUAL(mon_native__desc(3, 0xc073, 0, 0xffffffff, &d), -1);
	CU_ASSERT_EQUAL(mon_native__desc(1, 0x00eb, 0, 0x67, &d), -1);
	CU_ASSERT_EQUAL(mon_native__desc(1, 0x00ec, 0, 0, &d), -1);
	CU_ASSERT_EQUAL(mon_native__desc(1, 0xc0f3, 0, 0xffffffff, &d), -1);
	CU_ASSERT_EQUAL(mon_native__desc(2, 0xc0fb, 0, 0xffffffff, &d), -1);
	CU_ASSERT_EQUAL(mon_native__desc(2, 0xc0f1, 0, 0xffffffff, &d), -1);
	CU_ASSERT_EQUAL(mon_native__desc(3, 0xc0f9, 0, 0xffffffff, &d), -1);
	CU_ASSERT_EQUAL(mon_native__desc(1, 0xc09b, 0, 0xffffffff, &d), -1);
	CU_ASSERT_EQUAL(mon_native__desc(2, 0xc093, 0, 0xffffffff, &d), -1);
}

static void test_sel_and_flags(void)
{
	CU_ASSERT_TRUE(mon_native__sel_ok(0x1b));
	CU_ASSERT_TRUE(mon_native__sel_ok(0x73));
	CU_ASSERT_TRUE(mon_native__sel_ok(0x18));	/* the old monitor DS slot is free */
	CU_ASSERT_FALSE(mon_native__sel_ok(0x3));	/* null */
	CU_ASSERT_FALSE(mon_native__sel_ok(0x13));	/* index 2: the monitor's CS */
	CU_ASSERT_FALSE(mon_native__sel_ok(0x0f));	/* LDT */
	CU_ASSERT_FALSE(mon_native__sel_ok(0xff3));	/* the TSS */
	CU_ASSERT_FALSE(mon_native__sel_ok(0xfffb));
	/* in: IF forced, IOPL/TF/VM/RF/VIF dropped, arithmetic/DF/AC/ID/NT kept */
	CU_ASSERT_EQUAL(mon_native__eflags_in(0x0002), 0x0202);
	CU_ASSERT_EQUAL(mon_native__eflags_in(0x3fffff), 0x244cd7 | 0x200);
	/* out: the guest keeps IF/IOPL; the native arithmetic flags and TF win */
	CU_ASSERT_EQUAL(mon_native__eflags_out(0x3202, 0x10ad7 | 0x100), 0x3202 | 0x8d5 | 0x100);
	CU_ASSERT_EQUAL(mon_native__eflags_out(0x0246, 0x0202), 0x0202);
}

/* ---- FXSAVE image ---- */

static void test_fx_image(void)
{
	struct fpu_state f, g;
	uint8_t img[512] __attribute__((aligned(16)));

	memset(&f, 0, sizeof(f));
	f.fcw = 0x0f7f;
	f.fsw = 6 << 11 | 0x0001;	/* TOP = 6, IE */
	f.ftw = 0xffff;
	/* ST(0) = physical 6 = 1.0, ST(1) = physical 7 = 0.0 */
	f.st[6] = (struct fpu_reg80){ 0x8000000000000000ull, 0x3fff };
	f.st[7] = (struct fpu_reg80){ 0, 0 };
	f.ftw = (uint16_t)(0x0fff | 0 << 12 | 1 << 14);	/* R6 valid, R7 zero */
	f.fop = 0x123;
	f.fip = 0x8048000;
	f.fcs = 0x73;
	f.fdp = 0xbffff000;
	f.fds = 0x7b;
	f.mxcsr = 0x7fc0;		/* DAZ set */
	for (int i = 0; i < 8; i++)
		f.xmm[i].d[0] = 0x11111111u * (unsigned)i, f.xmm[i].d[3] = ~(unsigned)i;

	mon_native__fx_from_fpu(img, &f, 0xffff);
	CU_ASSERT_EQUAL(img[0] | img[1] << 8, 0x0f7f);
	CU_ASSERT_EQUAL(img[2] | img[3] << 8, 6 << 11 | 1);
	CU_ASSERT_EQUAL(img[4], 0xc0);			/* abridged: R6, R7 not empty */
	CU_ASSERT_EQUAL(img[6] | img[7] << 8, 0x123);
	CU_ASSERT_EQUAL(*(uint32_t *)(img + 8), 0x8048000);
	CU_ASSERT_EQUAL(img[12], 0x73);
	CU_ASSERT_EQUAL(img[20], 0x7b);
	CU_ASSERT_EQUAL(*(uint32_t *)(img + 24), 0x7fc0);
	CU_ASSERT_EQUAL(*(uint64_t *)(img + 32), 0x8000000000000000ull);	/* ST(0) */
	CU_ASSERT_EQUAL(img[40] | img[41] << 8, 0x3fff);
	CU_ASSERT_EQUAL(*(uint32_t *)(img + 160 + 16 * 3), 0x33333333);
	CU_ASSERT_EQUAL(*(uint32_t *)(img + 160 + 16 * 5 + 12), ~5u);
	/* a host without DAZ: MXCSR outside the mask does not reach FXRSTOR */
	mon_native__fx_from_fpu(img, &f, 0xffbf);
	CU_ASSERT_EQUAL(*(uint32_t *)(img + 24), 0x7f80);

	mon_native__fx_from_fpu(img, &f, 0xffff);
	memset(&g, 0xa5, sizeof(g));
	mon_native__fx_to_fpu(&g, img);
	CU_ASSERT_EQUAL(g.fcw, f.fcw);
	CU_ASSERT_EQUAL(g.fsw, f.fsw);
	CU_ASSERT_EQUAL(g.ftw, f.ftw);		/* full tags recomputed from values */
	CU_ASSERT_EQUAL(g.fop, f.fop);
	CU_ASSERT_EQUAL(g.fip, f.fip);
	CU_ASSERT_EQUAL(g.fcs, f.fcs);
	CU_ASSERT_EQUAL(g.fdp, f.fdp);
	CU_ASSERT_EQUAL(g.fds, f.fds);
	CU_ASSERT_EQUAL(g.mxcsr, f.mxcsr);
	CU_ASSERT_EQUAL(g.st[6].m, f.st[6].m);
	CU_ASSERT_EQUAL(g.st[6].se, f.st[6].se);
	CU_ASSERT_EQUAL(g.st[7].m, 0);
	CU_ASSERT_EQUAL(memcmp(g.xmm, f.xmm, sizeof(f.xmm)), 0);
}

/* ---- the system-mode vCPU's side of a native stay ---- */

#define NPAGES 16
static uint8_t *ram;
static void *pages[NPAGES];
static struct mon_sys *ms;
static void *cpu;

static void put32(uint32_t gpa, uint32_t v)
{
	memcpy(ram + gpa, &v, 4);
}

static void put64(uint32_t gpa, uint64_t v)
{
	memcpy(ram + gpa, &v, 8);
}

/* Protected mode, 2-level paging identity-mapping 64 KiB for CPL 3, the
 * guest at CPL 3 at 0x4000 (flat 0x1b/0x23, IF=1). GDT at 0x500, IDT at
 * 0x600 (vector 14: interrupt gate to 0x3000), TSS at 0x700 (esp0 0x9000). */
static void setup(uint32_t eflags, uint32_t cr4)
{
	struct hvmm_sregs s;
	struct hvmm_seg ucode = { 0x1b, 0xc0fb, 0, 0xffffffff }, udata = { 0x23, 0xc0f3, 0, 0xffffffff };

	mon_sys_bed__alloc(NPAGES, mon_sys_bed__fixed_now, &ram, pages, &ms, &cpu);
	put64(0x508, 0x00cf9b000000ffffull);		/* 0x08 kernel code */
	put64(0x510, 0x00cf93000000ffffull);		/* 0x10 kernel data */
	put64(0x518, 0x00cffb000000ffffull);		/* 0x1b user code */
	put64(0x520, 0x00cff3000000ffffull);		/* 0x23 user data */
	put64(0x528, 0x0000890007000067ull);		/* 0x28 TSS at 0x700 */
	put64(0x600 + 14 * 8, 0x00008e0000083000ull);	/* #PF -> 0x08:0x3000 */
	put32(0x704, 0x9000);				/* esp0 */
	put32(0x708, 0x10);				/* ss0 */
	put32(0x1000, 0x2000 | 7);			/* PDE 0 */
	for (uint32_t i = 0; i < NPAGES; i++)
		put32(0x2000 + 4 * i, i << 12 | 7);
	memcpy(ram + 0x3000, "\xf4", 1);		/* the #PF handler: hlt */
	memcpy(ram + 0x4000, "\x90\x90\xeb\xfe", 4);	/* nop; nop; jmp $ */
	memset(&s, 0, sizeof(s));
	s.eip = 0x4000;
	s.eflags = eflags;
	s.gpr[4] = 0x8000;
	for (int i = 0; i < 6; i++)
		s.seg[i] = udata;
	s.seg[1] = ucode;
	s.seg[4] = (struct hvmm_seg){ 0, 0, 0, 0 };	/* FS, GS null */
	s.seg[5] = s.seg[4];
	s.ldtr = (struct hvmm_seg){ .attr = 0x82, .limit = 0xffff };
	s.tr = (struct hvmm_seg){ 0x28, 0x8b, 0x700, 0x67 };
	s.gdt_base = 0x500;
	s.gdt_limit = 0x2f;
	s.idt_base = 0x600;
	s.idt_limit = 0xff;
	s.cr0 = 0x80000011;
	s.cr3 = 0x1000;
	s.cr4 = cr4;
	s.cpl = 3;
	s.flags = HVMM_SF_A20;
	mon_sys__set_state(ms, &s);
	mon_sys__set_native(ms, 1, 0xffff);
}

static void teardown(void)
{
	free(ram);
	free(ms);
	free(cpu);
}

static unsigned run1(struct hvmm_sys_run *r, uint64_t budget)
{
	memset(r, 0, sizeof(*r));
	r->budget = budget;
	return mon_sys__run(ms, r);
}

static void test_when_native(void)
{
	struct hvmm_sys_run r;

	setup(0x202, 0);
	CU_ASSERT_EQUAL(run1(&r, 100), MON_SYS_NATIVE);
	CU_ASSERT_EQUAL(r.icount, 0);
	mon_sys__set_native(ms, 0, 0xffff);		/* --no-native */
	CU_ASSERT_EQUAL(run1(&r, 100), HVMM_SX_BUDGET);
	teardown();
	/* IF=0 at CPL 3 (PUSHF would show IF=1 natively), IOPL 3, TF, PAE:
	 * interpreted */
	static const uint32_t fl[] = { 0x002, 0x3202, 0x302 };
	for (unsigned i = 0; i < 3; i++) {
		setup(fl[i], 0);
		CU_ASSERT_NOT_EQUAL(run1(&r, 100), MON_SYS_NATIVE);
		CU_ASSERT(r.icount > 0);
		teardown();
	}
	setup(0x202, 0x20);
	CU_ASSERT_NOT_EQUAL(run1(&r, 100), MON_SYS_NATIVE);
	teardown();
}

static void test_export_import(void)
{
	struct mon_native_state st;
	struct hvmm_sys_run r;
	struct hvmm_sregs s;
	uint8_t fx[512] __attribute__((aligned(16)));

	setup(0x202, 0);
	CU_ASSERT_EQUAL_FATAL(run1(&r, 100), MON_SYS_NATIVE);
	mon_sys__native_export(ms, &st, fx);
	CU_ASSERT_EQUAL(st.eip, 0x4000);
	CU_ASSERT_EQUAL(st.eflags, 0x202);
	CU_ASSERT_EQUAL(st.gpr[4], 0x8000);
	CU_ASSERT_EQUAL(st.sel[1], 0x1b);
	CU_ASSERT_EQUAL(st.desc[1], 0x00cffb000000ffffull);
	CU_ASSERT_EQUAL(st.sel[2], 0x23);
	CU_ASSERT_EQUAL(st.desc[2], 0x00cff3000000ffffull);
	CU_ASSERT_EQUAL(st.desc[4], 0);
	CU_ASSERT_EQUAL(st.cr3, 0x1000);
	CU_ASSERT_EQUAL(fx[0] | fx[1] << 8, 0x037f);	/* FNINIT state after reset */
	CU_ASSERT_EQUAL(*(uint32_t *)(fx + 24), 0x1f80);

	/* the native stay: two nops ran, EAX changed, FS loaded with the DS
	 * selector, CF set, xmm0 changed; then a #GP (vector 13) */
	st.eip = 0x4002;
	st.gpr[0] = 0x1234;
	st.sel[4] = 0x23;
	st.eflags = 0x203;
	fx[160] = 0x5a;
	mon_sys__native_import(ms, &st, fx, 13);
	mon_sys__get_state(ms, &s);
	CU_ASSERT_EQUAL(s.eip, 0x4002);
	CU_ASSERT_EQUAL(s.gpr[0], 0x1234);
	CU_ASSERT_EQUAL(s.eflags & 0xfff, 0x203);
	CU_ASSERT_EQUAL(s.seg[4].sel, 0x23);
	CU_ASSERT_EQUAL(s.seg[4].attr, 0xc0f3);
	CU_ASSERT_EQUAL(s.seg[4].limit, 0xffffffff);
	CU_ASSERT_EQUAL(s.cpl, 3);
	/* after a guest exception the interpreter runs at least one
	 * instruction before the next native stay */
	CU_ASSERT_EQUAL(run1(&r, 100), MON_SYS_NATIVE);
	CU_ASSERT(r.icount >= 1);
	teardown();
}

static void test_native_pf(void)
{
	struct mon_native_state st;
	struct hvmm_sys_run r;
	struct hvmm_sregs s;
	uint8_t fx[512] __attribute__((aligned(16)));
	uint32_t err;

	setup(0x202, 0);
	CU_ASSERT_EQUAL_FATAL(run1(&r, 100), MON_SYS_NATIVE);
	mon_sys__native_export(ms, &st, fx);
	mon_sys__native_import(ms, &st, fx, 14);
	mon_sys__native_pf(ms, 0x17, 0xdead000);	/* I/D is dropped: 2-level guest */
	mon_sys__get_state(ms, &s);
	CU_ASSERT_EQUAL(s.cpl, 0);
	CU_ASSERT_EQUAL(s.eip, 0x3000);
	CU_ASSERT_EQUAL(s.cr2, 0xdead000);
	CU_ASSERT_EQUAL(s.gpr[4], 0x9000 - 24);		/* ss, esp, eflags, cs, eip, err */
	memcpy(&err, ram + 0x9000 - 24, 4);
	CU_ASSERT_EQUAL(err, 0x7);
	memcpy(&err, ram + 0x9000 - 20, 4);
	CU_ASSERT_EQUAL(err, 0x4000);			/* the faulting EIP */
	teardown();

	/* no #PF gate, no #DF gate: the delivery triple-faults, and the vCPU
	 * stays shut down instead of going native again */
	setup(0x202, 0);
	put64(0x600 + 14 * 8, 0);
	CU_ASSERT_EQUAL_FATAL(run1(&r, 100), MON_SYS_NATIVE);
	mon_sys__native_export(ms, &st, fx);
	mon_sys__native_import(ms, &st, fx, 14);
	mon_sys__native_pf(ms, 0x4, 0x10000000);
	CU_ASSERT_EQUAL(run1(&r, 100), HVMM_SX_SHUTDOWN);
	CU_ASSERT_EQUAL(run1(&r, 100), HVMM_SX_SHUTDOWN);
	teardown();
}

/* The interpreter has decoded the code page; guest user code then rewrites
 * it natively ("jmp $" at 0x4002 becomes "mov $0x99, %al"). Without
 * mon_sys__code_written the stale decode runs (the control), with it the
 * new code does. */
static int rewritten_runs(bool notify)
{
	struct mon_native_state st;
	struct hvmm_sys_run r;
	struct hvmm_sregs s;
	uint8_t fx[512] __attribute__((aligned(16)));

	setup(0x002, 0);				/* IF=0: stays interpreted */
	CU_ASSERT_EQUAL(run1(&r, 50), HVMM_SX_BUDGET);
	memcpy(ram + 0x4002, "\xb0\x99\xeb\xfe", 4);
	if (notify)
		mon_sys__code_written(ms, 4);
	/* EIP back to the rewritten bytes, the way a native stay hands it over */
	mon_sys__native_export(ms, &st, fx);
	st.eip = 0x4002;
	mon_sys__native_import(ms, &st, fx, -1);
	CU_ASSERT_EQUAL(run1(&r, 50), HVMM_SX_BUDGET);
	mon_sys__get_state(ms, &s);
	teardown();
	return (s.gpr[0] & 0xff) == 0x99;
}

static void test_code_written(void)
{
	CU_ASSERT_FALSE(rewritten_runs(false));
	CU_ASSERT_TRUE(rewritten_runs(true));
}


/* Enters the #PF handler at 0x3000 (CPL 0, CS 0x08) from the native user
 * state, the way a native stay's #PF does, with @code placed there. */
static void enter_kernel(const char *code, size_t len)
{
	struct mon_native_state st;
	struct hvmm_sys_run r;
	uint8_t fx[512] __attribute__((aligned(16)));

	memcpy(ram + 0x3000, code, len);
	CU_ASSERT_EQUAL_FATAL(run1(&r, 100), MON_SYS_NATIVE);
	mon_sys__native_export(ms, &st, fx);
	mon_sys__native_import(ms, &st, fx, 14);
	mon_sys__native_pf(ms, 0x4, 0x10000000);
}

/* GDT entries 8-11 (0x40 kernel code, 0x48 kernel data, 0x50 user code,
 * 0x58 user data: a SYSENTER layout) and the kernel state (from
 * enter_kernel) moved onto 0x40/0x48: index 2 (0x10) is the monitor's own
 * slot, never mirrored for translated code. */
static void kernel_on_bt_selectors(struct hvmm_sregs *s)
{
	put64(0x540, 0x00cf9b000000ffffull);
	put64(0x548, 0x00cf93000000ffffull);
	put64(0x550, 0x00cffb000000ffffull);
	put64(0x558, 0x00cff3000000ffffull);
	mon_sys__get_state(ms, s);
	s->gdt_limit = 0x5f;
	s->seg[1] = (struct hvmm_seg){ 0x40, 0xc09b, 0, 0xffffffff };
	s->seg[2] = (struct hvmm_seg){ 0x48, 0xc093, 0, 0xffffffff };
	mon_sys__set_state(ms, s);
}

/* The shadow acts as the guest's TLB: only the guest's invalidations since
 * the last look count. The first look drops all; INVLPGs come as their
 * addresses; a CR3 load is a flush of non-global pages (local); a CR4.PGE
 * change or too many INVLPGs drop all. */
static void test_tlb_events(void)
{
	struct hvmm_sys_run r;
	uint32_t lin[4];
	int local;

	setup(0x202, 0);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), -1);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), 0);
	CU_ASSERT_EQUAL(local, 0);
	/* invlpg 0x5000; invlpg 0x6000; hlt */
	enter_kernel("\x0f\x01\x3d\x00\x50\x00\x00\x0f\x01\x3d\x00\x60\x00\x00\xf4", 15);
	run1(&r, 100);
	CU_ASSERT_EQUAL_FATAL(mon_sys__tlb_events(ms, lin, 4, &local), 2);
	CU_ASSERT_EQUAL(lin[0], 0x5000);
	CU_ASSERT_EQUAL(lin[1], 0x6000);
	CU_ASSERT_EQUAL(local, 0);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), 0);
	teardown();

	/* more INVLPGs than the caller takes: all */
	setup(0x202, 0);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), -1);
	enter_kernel("\x0f\x01\x3d\x00\x50\x00\x00\x0f\x01\x3d\x00\x60\x00\x00\xf4", 15);
	run1(&r, 100);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 1, &local), -1);
	teardown();

	/* mov %cr3, %eax; mov %eax, %cr3; hlt: the same CR3, still a flush,
	 * one that spares global pages (SDM Vol. 3A 4.10.4.1) */
	setup(0x202, 0);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), -1);
	enter_kernel("\x0f\x20\xd8\x0f\x22\xd8\xf4", 7);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), 0);
	CU_ASSERT_EQUAL(local, 0);
	run1(&r, 100);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), 0);
	CU_ASSERT_EQUAL(local, 1);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), 0);
	CU_ASSERT_EQUAL(local, 0);
	teardown();

	/* mov %cr4, %eax; xor $0x80, %eax; mov %eax, %cr4 (PGE toggled);
	 * hlt: global pages go too, so every translation */
	setup(0x202, 0);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), -1);
	enter_kernel("\x0f\x20\xe0\x35\x80\x00\x00\x00\x0f\x22\xe0\xf4", 12);
	run1(&r, 100);
	CU_ASSERT_EQUAL(mon_sys__tlb_events(ms, lin, 4, &local), -1);
	teardown();
}

/* In the kernel (CS 0x40) the state mirrors for a translated stay.
 * SYSENTER_CS 0x40 finds the flat kernel code/data and user code/data at
 * 0x40..0x58 (ok); a user data segment of DPL 0 is not what SYSEXIT loads
 * (not ok); nor is user mode possible with --no-native. */
static void test_bt_sysenter(void)
{
	struct mon_bt_state *st = calloc(1, sizeof(*st));
	struct mon_bt_sysenter se;
	struct hvmm_sregs s;
	uint8_t fx[512] __attribute__((aligned(16)));

	setup(0x202, 0);
	enter_kernel("\xf4", 1);
	kernel_on_bt_selectors(&s);
	s.sysenter_cs = 0x40;
	s.sysenter_esp = 0x9000;
	s.sysenter_eip = 0x3000;
	mon_sys__set_state(ms, &s);
	CU_ASSERT_EQUAL_FATAL(mon_sys__bt_export(ms, st, fx), 0);
	mon_sys__bt_sysenter(ms, &se);
	CU_ASSERT_EQUAL(se.ok, 1);
	CU_ASSERT_EQUAL(se.iret_ok, 1);
	CU_ASSERT_EQUAL(se.cs, 0x40);
	CU_ASSERT_EQUAL(se.esp, 0x9000);
	CU_ASSERT_EQUAL(se.eip, 0x3000);
	put64(0x558, 0x00cf93000000ffffull);		/* 0x58: DPL 0 */
	CU_ASSERT_EQUAL_FATAL(mon_sys__bt_export(ms, st, fx), 0);
	mon_sys__bt_sysenter(ms, &se);
	CU_ASSERT_EQUAL(se.ok, 0);
	mon_sys__set_native(ms, 0, 0xffff);		/* --no-native: no user mode */
	put64(0x558, 0x00cff3000000ffffull);
	CU_ASSERT_EQUAL_FATAL(mon_sys__bt_export(ms, st, fx), 0);
	mon_sys__bt_sysenter(ms, &se);
	CU_ASSERT_EQUAL(se.ok, 0);

	/* a translated stay that ended in user mode (in-world SYSEXIT): taken
	 * back at CPL 3 with IF set; after a host interrupt (no vector) the
	 * vCPU may go native at once */
	mon_sys__set_native(ms, 1, 0xffff);
	CU_ASSERT_EQUAL_FATAL(mon_sys__bt_export(ms, st, fx), 0);
	st->sel[1] = 0x53;
	st->sel[2] = 0x5b;
	st->eip = 0x4000;
	st->gpr[4] = 0x7ff0;
	st->eflags = 0x202;
	st->vif = 0;
	mon_sys__bt_import(ms, st, fx, -1);
	mon_sys__get_state(ms, &s);
	CU_ASSERT_EQUAL(s.cpl, 3);
	CU_ASSERT_EQUAL(s.seg[1].sel, 0x53);
	CU_ASSERT_EQUAL(s.seg[1].attr & 0xff, 0xfb);
	CU_ASSERT_EQUAL(s.seg[2].sel, 0x5b);
	CU_ASSERT(s.eflags & 0x200);
	{
		struct hvmm_sys_run r;

		CU_ASSERT_EQUAL(run1(&r, 100), MON_SYS_NATIVE);
		CU_ASSERT_EQUAL(r.icount, 0);
	}
	free(st);
	teardown();
}

/* CMPXCHG8B's operand address as the world would form it: registers,
 * displacements, SIB, segment overrides (FS at base 0x1000 here), and
 * the forms the interpreter keeps (register operand, 0x66, another /r). */
static void test_bt_cx8_addr(void)
{
	struct mon_bt_state *st = calloc(1, sizeof(*st));
	uint8_t fx[512] __attribute__((aligned(16)));
	struct hvmm_sregs s;
	static const struct {
		const char *code;
		uint32_t len, lin;
		int r;
	} c[] = {
		{ "\x0f\xc7\x0e", 3, 0x600 , 0 },			/* (%esi) */
		{ "\xf0\x0f\xc7\x0f", 4, 0x700 , 0 },		/* lock (%edi) */
		{ "\x64\x0f\xc7\x0f", 4, 0x1700 , 0 },		/* %fs:(%edi) */
		{ "\x3e\x0f\xc7\x4e\x04", 5, 0x604 , 0 },		/* %ds:4(%esi) */
		{ "\x0f\xc7\x0c\x24", 4, 0x8ff0 , 0 },		/* (%esp) */
		{ "\x0f\xc7\x4c\x8b\x08", 5, 0x308 + 4 * 0x10 , 0 },	/* 8(%ebx,%ecx,4) */
		{ "\x0f\xc7\x0d\x78\x56\x34\x12", 7, 0x12345678 , 0 },	/* abs */
		{ "\x0f\xc7\x8d\x00\x01\x00\x00", 7, 0x8100 , 0 },	/* 0x100(%ebp) */
		{ "\x0f\xc7\xc8", 0, 0, -1 },			/* register operand */
		{ "\x66\x0f\xc7\x0e", 0, 0, -1 },		/* operand size */
		{ "\x0f\xc7\x36", 0, 0, -1 },			/* /6: not CMPXCHG8B */
	};
	/* EAX..EDI */
	const uint32_t gpr[8] = { 0, 0x10, 0, 0x300, 0x8ff0, 0x8000, 0x600, 0x700 };
	const uint16_t sel[6] = { 0x23, 0x41, 0x49, 0x23, 0x30, 0 };

	setup(0x202, 0);
	put64(0x530, 0x00cf93001000ffffull);		/* 0x30: data, base 0x1000 */
	enter_kernel("\xf4", 1);
	kernel_on_bt_selectors(&s);
	CU_ASSERT_EQUAL_FATAL(mon_sys__bt_export(ms, st, fx), 0);
	for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint32_t lin = 0, len = 0;

		uint8_t code[15];
		uint32_t n;

		memcpy(ram + 0x3100, c[i].code, 8);
		n = mon_sys__bt_peek(ms, 0x3100, code, sizeof(code));
		CU_ASSERT_EQUAL(mon_sys__bt_cx8_addr(ms, code, n, gpr, sel, &lin, &len), c[i].r);
		if (c[i].r == 0) {
			CU_ASSERT_EQUAL(lin, c[i].lin);
			CU_ASSERT_EQUAL(len, c[i].len);
		}
	}
	free(st);
	teardown();
}

static CU_TestInfo mon_native_tests[] = {
	{ "desc", test_desc },
	{ "sel_and_flags", test_sel_and_flags },
	{ "fx_image", test_fx_image },
	{ "when_native", test_when_native },
	{ "export_import", test_export_import },
	{ "native_pf", test_native_pf },
	{ "code_written", test_code_written },
	{ "tlb_events", test_tlb_events },
	{ "bt_sysenter", test_bt_sysenter },
	{ "bt_cx8_addr", test_bt_cx8_addr },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(mon_native, .tests = mon_native_tests);
