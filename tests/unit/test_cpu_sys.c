/* tests/unit/test_cpu_sys.c — system-level behaviour of the interpreter:
 * paging walks (PSE, 4 KiB, A/D bits, CR0.WP, INVLPG) and #PF error codes,
 * IRET to ring 3 and INT back through the TSS stack switch, SYSENTER/
 * SYSEXIT, #DF through a task gate, triple fault, external interrupts with
 * HLT, real mode with the IVT and the switch to protected mode.
 * The tables (GDT, IDT, TSS, page tables) are written from C into guest
 * memory; the guest code is assembled into this binary. */
#include "tests/unit/unit.h"
#include "tests/unit/cpu-bed.h"
#include "monitor/cpu-internal.h"

#include <string.h>

#define GUEST(name, code)                                                      \
	__asm__(".pushsection .rodata\n.balign 16\n" #name "_start:\n"         \
		".code32\n" code "\n.code64\n" #name "_end:\n.popsection\n");   \
	extern const uint8_t name##_start[] __asm__(#name "_start");            \
	extern const uint8_t name##_end[] __asm__(#name "_end")
#define LABEL(sym) extern const uint8_t sym[] __asm__(#sym)

#define LOAD	0x1000
#define GDT	0x500
#define TSS1	0x600
#define TSS2	0x700
#define IDT	0x800
#define RES	0x2000	/* results written by guests */

static uint32_t rd32(struct bed *b, uint32_t a)
{
	uint32_t v;
	memcpy(&v, b->ram + a, 4);
	return v;
}

static void wr32(struct bed *b, uint32_t a, uint32_t v)
{
	memcpy(b->ram + a, &v, 4);
}

static void wr64(struct bed *b, uint32_t a, uint64_t v)
{
	memcpy(b->ram + a, &v, 8);
}

static uint64_t desc(uint32_t base, uint32_t limit, unsigned access,
		     unsigned flags)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static void gate(struct bed *b, unsigned vec, uint32_t off, uint16_t sel,
		 unsigned type, unsigned dpl)
{
	uint64_t g = (off & 0xffff) | ((uint64_t)sel << 16) |
		     ((uint64_t)(0x80 | dpl << 5 | type) << 40) |
		     ((uint64_t)(off >> 16) << 48);
	wr64(b, IDT + vec * 8, g);
}

/* A bed with GDT (0x08/0x10 ring 0, 0x1b/0x23 ring 3, 0x28/0x30 TSS),
 * an empty IDT, TR = 0x28 with ESP0 = 0x90000, and the guest at LOAD. */
static struct bed *sys_bed(const uint8_t *s, const uint8_t *e)
{
	struct bed *b = bed__new(16 << 20, LOAD);
	struct cpu *c = b->cpu;

	wr64(b, GDT + 0x08, desc(0, 0xfffff, 0x9a, 0xc));
	wr64(b, GDT + 0x10, desc(0, 0xfffff, 0x92, 0xc));
	wr64(b, GDT + 0x18, desc(0, 0xfffff, 0xfa, 0xc));
	wr64(b, GDT + 0x20, desc(0, 0xfffff, 0xf2, 0xc));
	wr64(b, GDT + 0x28, desc(TSS1, 0x67, 0x8b, 0));	/* busy */
	wr64(b, GDT + 0x30, desc(TSS2, 0x67, 0x89, 0));
	c->gdtr.base = GDT;
	c->gdtr.limit = 0x37;
	c->idtr.base = IDT;
	c->idtr.limit = 0x7ff;
	wr32(b, TSS1 + 4, 0x90000);	/* ESP0 */
	wr32(b, TSS1 + 8, 0x10);	/* SS0 */
	wr32(b, TSS1 + 102, 0x68 << 16);
	c->tr.sel = 0x28;
	c->tr.base = TSS1;
	c->tr.limit = 0x67;
	c->tr.attr = 0x8b;
	c->r[R_ESP] = 0xa0000;
	bed__load(b, LOAD, s, (size_t)(e - s));
	return b;
}

static uint32_t at(const uint8_t *start, const uint8_t *label)
{
	return LOAD + (uint32_t)(label - start);
}

static void expect_exit(struct bed *b, enum cpu_exit r, enum cpu_exit want)
{
	if (r != want)
		bed__dump(b);
	CU_ASSERT_EQUAL(r, want);
}

/* ---- Ring 3 and back -------------------------------------------------- */

GUEST(g_ring,
	"pushl $0x23\n"
	"pushl $0x80000\n"
	"pushl $0x202\n"
	"pushl $0x1b\n"
	"pushl $(r_user - g_ring_start + 0x1000)\n"
	"iret\n"
	"r_user: mov $0x23, %eax\n mov %eax, %ds\n mov %eax, %es\n"
	"mov $0x1234, %eax\n"
	"mov %cs, %ebx\n"
	"int $0x80\n"
	"r_after: hlt\n"
	"r_kernel: mov $5, %ecx\n"
	"mov %esp, %esi\n"
	"mov $0x2000, %edi\n"
	"rep movsl\n"
	"mov %esp, 0x2014\n"
	"mov %ss, %eax\n"
	"mov %eax, 0x2018\n"
	"mov %cs, %eax\n"
	"mov %eax, 0x201c\n"
	"mov %ebx, 0x2020\n"
	"out %eax, $0xf4\n");
LABEL(r_kernel);
LABEL(r_after);

static void test_ring3_int(void)
{
	struct bed *b = sys_bed(g_ring_start, g_ring_end);
	gate(b, 0x80, at(g_ring_start, r_kernel), 0x08, 0xe, 3);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(rd32(b, RES + 0), at(g_ring_start, r_after));	/* EIP */
	CU_ASSERT_EQUAL(rd32(b, RES + 4), 0x1b);			/* CS */
	CU_ASSERT_EQUAL(rd32(b, RES + 8) & 0x3ff, 0x202);		/* EFLAGS */
	CU_ASSERT_EQUAL(rd32(b, RES + 12), 0x80000);			/* ESP */
	CU_ASSERT_EQUAL(rd32(b, RES + 16), 0x23);			/* SS */
	CU_ASSERT_EQUAL(rd32(b, RES + 0x14), 0x90000 - 20);
	CU_ASSERT_EQUAL(rd32(b, RES + 0x18), 0x10);
	CU_ASSERT_EQUAL(rd32(b, RES + 0x1c), 0x08);
	CU_ASSERT_EQUAL(rd32(b, RES + 0x20), 0x1b);	/* CS seen at ring 3 */
	CU_ASSERT_FALSE(b->cpu->eflags & FL_IF);	/* interrupt gate */
	bed__free(b);
}

/* A DPL-0 gate is not reachable by INT n from ring 3: #GP(vec*8+2). */
GUEST(g_ringgp,
	"pushl $0x23\n"
	"pushl $0x80000\n"
	"pushl $0x2\n"
	"pushl $0x1b\n"
	"pushl $(rg_user - g_ringgp_start + 0x1000)\n"
	"iret\n"
	"rg_user: mov $0x23, %eax\n mov %eax, %ds\n"
	"rg_int: int $0x81\n"
	"hlt\n"
	"rg_gp: pop %eax\n"
	"mov %eax, 0x2000\n"
	"pop %eax\n"
	"mov %eax, 0x2004\n"
	"out %eax, $0xf4\n");
LABEL(rg_gp);
LABEL(rg_int);

static void test_int_dpl(void)
{
	struct bed *b = sys_bed(g_ringgp_start, g_ringgp_end);
	gate(b, 0x81, at(g_ringgp_start, rg_gp), 0x08, 0xe, 0);
	gate(b, 13, at(g_ringgp_start, rg_gp), 0x08, 0xe, 0);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(rd32(b, RES), 0x81 * 8 + 2);
	CU_ASSERT_EQUAL(rd32(b, RES + 4), at(g_ringgp_start, rg_int));
	bed__free(b);
}

/* ---- SYSENTER / SYSEXIT --------------------------------------------- */

GUEST(g_sysenter,
	"mov $0x174, %ecx\n xor %edx, %edx\n mov $0x08, %eax\n wrmsr\n"
	"mov $0x175, %ecx\n mov $0x70000, %eax\n wrmsr\n"
	"mov $0x176, %ecx\n mov $(se_kernel - g_sysenter_start + 0x1000), %eax\n wrmsr\n"
	"mov $(se_user - g_sysenter_start + 0x1000), %edx\n"
	"mov $0x60000, %ecx\n"
	"sysexit\n"
	"se_user: mov %cs, %ebx\n"
	"mov %esp, %esi\n"
	"sysenter\n"
	"se_kernel: mov %ebx, 0x2000\n"
	"mov %esi, 0x2004\n"
	"mov %cs, %eax\n mov %eax, 0x2008\n"
	"mov %ss, %eax\n mov %eax, 0x200c\n"
	"mov %esp, 0x2010\n"
	"out %eax, $0xf4\n");

static void test_sysenter(void)
{
	struct bed *b = sys_bed(g_sysenter_start, g_sysenter_end);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(rd32(b, RES), 0x1b);
	CU_ASSERT_EQUAL(rd32(b, RES + 4), 0x60000);
	CU_ASSERT_EQUAL(rd32(b, RES + 8), 0x08);
	CU_ASSERT_EQUAL(rd32(b, RES + 12), 0x10);
	CU_ASSERT_EQUAL(rd32(b, RES + 16), 0x70000);
	bed__free(b);
}

/* ---- Paging --------------------------------------------------------- */

#define PD 0x10000
#define PT 0x11000

GUEST(g_paging,
	"mov $0x10000, %eax\n mov %eax, %cr3\n"
	"mov %cr4, %eax\n or $0x10, %eax\n mov %eax, %cr4\n"
	"mov %cr0, %eax\n or $0x80010000, %eax\n mov %eax, %cr0\n"
	"movl $0xdeadbeef, 0x400010\n"		/* RW page: sets A, D */
	"mov 0x401000, %ebx\n"			/* RO page: sets A only */
	"mov $10, %esi\n"
	"movl $1, 0x401004\n"			/* #PF 3 (P|W, supervisor, WP) */
	"mov $6, %esi\n"
	"mov 0x402000, %ecx\n"			/* #PF 0 (not present) */
	"movl $0x300003, 0x11000\n"		/* remap 0x400000 -> 0x300000 */
	"invlpg 0x400000\n"
	"mov 0x400010, %edx\n"
	"out %eax, $0xf4\n"
	"pf_handler: push %eax\n push %edx\n"
	"mov 0x2100, %edx\n"
	"mov %cr2, %eax\n mov %eax, 0x2000(,%edx,8)\n"
	"mov 8(%esp), %eax\n mov %eax, 0x2004(,%edx,8)\n"
	"incl 0x2100\n"
	"pop %edx\n pop %eax\n"
	"add $4, %esp\n"
	"add %esi, (%esp)\n"
	"iret\n");
LABEL(pf_handler);

static void test_paging(void)
{
	struct bed *b = sys_bed(g_paging_start, g_paging_end);
	wr32(b, PD + 0, 0x00000083);		/* 4 MiB identity, supervisor */
	wr32(b, PD + 4, PT | 0x7);		/* 0x400000: page table */
	wr32(b, PT + 0, 0x200000 | 0x3);
	wr32(b, PT + 4, 0x201000 | 0x1);	/* read-only */
	wr32(b, 0x201000, 0x11223344);
	wr32(b, 0x300010, 0xcafef00d);
	gate(b, 14, at(g_paging_start, pf_handler), 0x08, 0xe, 0);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(rd32(b, 0x200010), 0xdeadbeef);
	CU_ASSERT_EQUAL(b->cpu->r[R_EBX], 0x11223344);
	CU_ASSERT_EQUAL(rd32(b, 0x2100), 2);
	CU_ASSERT_EQUAL(rd32(b, RES + 0), 0x401004);
	CU_ASSERT_EQUAL(rd32(b, RES + 4), 3);
	CU_ASSERT_EQUAL(rd32(b, RES + 8), 0x402000);
	CU_ASSERT_EQUAL(rd32(b, RES + 12), 0);
	CU_ASSERT_EQUAL(b->cpu->r[R_EDX], 0xcafef00d);	/* after INVLPG */
	/* A/D bits (SDM Vol. 3 §4.8): PDE.A, PTE0 A|D was rewritten by the
	 * guest; PTE1 A only; the PSE PDE A after code fetch. */
	CU_ASSERT_EQUAL(rd32(b, PD + 4) & 0x60, 0x20);
	CU_ASSERT_EQUAL(rd32(b, PT + 4) & 0x60, 0x20);
	CU_ASSERT_EQUAL(rd32(b, PD + 0) & 0x20, 0x20);
	bed__free(b);
}

/* A load that faults must leave its destination (here also its address
 * register) unchanged: the #PF handler maps the page and the load restarts
 * (Linux maps the vDSO's vvar page this way). */
GUEST(g_restart,
	"mov $0x10000, %eax\n mov %eax, %cr3\n"
	"mov %cr4, %eax\n or $0x10, %eax\n mov %eax, %cr4\n"
	"mov %cr0, %eax\n or $0x80010000, %eax\n mov %eax, %cr0\n"
	"mov $0x402000, %eax\n"
	"mov (%eax), %eax\n"
	"mov $0x402004, %ebx\n"
	"movzwl (%ebx), %ebx\n"
	"out %eax, $0xf4\n"
	"rs_pf: movl $0x202003, 0x11008\n"	/* map the page, no INVLPG needed */
	"incl 0x2000\n"
	"add $4, %esp\n"
	"iret\n");
LABEL(rs_pf);

static void test_fault_restart(void)
{
	struct bed *b = sys_bed(g_restart_start, g_restart_end);
	wr32(b, PD + 0, 0x00000083);
	wr32(b, PD + 4, PT | 0x7);
	wr32(b, 0x202000, 0x5eed1234);
	wr32(b, 0x202004, 0xbeef);
	gate(b, 14, at(g_restart_start, rs_pf), 0x08, 0xe, 0);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(b->cpu->r[R_EAX], 0x5eed1234);
	CU_ASSERT_EQUAL(b->cpu->r[R_EBX], 0xbeef);
	CU_ASSERT_EQUAL(rd32(b, RES), 1);
	bed__free(b);
}

/* ---- #DF through a task gate, triple fault ------------------------- */

GUEST(g_df,
	"mov $0x1234, %eax\n"
	"df_fault: mov %eax, %ds\n"	/* #GP(0x1234); IDT[13] absent: #NP */
	"hlt\n"
	"df_task: pop %eax\n"		/* the #DF error code (0) */
	"mov %eax, 0x2000\n"
	"str %eax\n mov %eax, 0x2004\n"
	"pushf\n pop %eax\n mov %eax, 0x2008\n"
	"out %eax, $0xf4\n");
LABEL(df_task);
LABEL(df_fault);

static void test_double_fault_task(void)
{
	struct bed *b = sys_bed(g_df_start, g_df_end);
	wr32(b, TSS2 + 0x1c, 0);		/* CR3 */
	wr32(b, TSS2 + 0x20, at(g_df_start, df_task));
	wr32(b, TSS2 + 0x24, 0x2);
	wr32(b, TSS2 + 0x38, 0x70000);		/* ESP */
	wr32(b, TSS2 + 0x48, 0x10);		/* ES */
	wr32(b, TSS2 + 0x4c, 0x08);		/* CS */
	wr32(b, TSS2 + 0x50, 0x10);		/* SS */
	wr32(b, TSS2 + 0x54, 0x10);		/* DS */
	gate(b, 8, 0, 0x30, 0x5, 0);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(rd32(b, RES), 0);
	CU_ASSERT_EQUAL(rd32(b, RES + 4), 0x30);
	CU_ASSERT(rd32(b, RES + 8) & FL_NT);
	CU_ASSERT_EQUAL(rd32(b, TSS2) & 0xffff, 0x28);		/* back link */
	CU_ASSERT_EQUAL(rd32(b, TSS1 + 0x20), at(g_df_start, df_fault));
	CU_ASSERT_EQUAL(b->cpu->nexc[EXC_GP], 1);
	/* The #NP met while delivering #GP is never delivered: it becomes
	 * the #DF (contributory + contributory, SDM Vol. 3 Table 6-5). */
	CU_ASSERT_EQUAL(b->cpu->nexc[EXC_NP], 0);
	CU_ASSERT_EQUAL(b->cpu->nexc[EXC_DF], 1);
	bed__free(b);
}

GUEST(g_triple, "int3\nhlt\n");

static void test_triple_fault(void)
{
	struct bed *b = sys_bed(g_triple_start, g_triple_end);
	b->cpu->idtr.limit = 0;
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_SHUTDOWN);
	bed__free(b);
}

/* ---- External interrupts and HLT ----------------------------------- */

GUEST(g_irq,
	"sti\n"
	"hlt\n"
	"irq_after: jmp irq_after\n"
	"irq_handler: mov (%esp), %eax\n mov %eax, 0x2000\n"
	"pushf\n pop %eax\n mov %eax, 0x2004\n"
	"out %eax, $0xf4\n");
LABEL(irq_handler);
LABEL(irq_after);

static void test_irq_hlt(void)
{
	struct bed *b = sys_bed(g_irq_start, g_irq_end);
	gate(b, 0x20, at(g_irq_start, irq_handler), 0x08, 0xe, 0);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_HALT);
	CU_ASSERT(b->cpu->halted);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_HALT);	/* still */
	bed__irq(b, 0x20);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(rd32(b, RES), at(g_irq_start, irq_after));
	CU_ASSERT_FALSE(rd32(b, RES + 4) & FL_IF);
	CU_ASSERT_EQUAL(b->cpu->nirq, 1);
	bed__free(b);
}

/* CLI; HLT is a dead end: the board hears HALT_DEAD. */
GUEST(g_dead, "cli\nhlt\n");

static void test_hlt_dead(void)
{
	struct bed *b = sys_bed(g_dead_start, g_dead_end);
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_HALT_DEAD);
	bed__free(b);
}

/* ---- Real mode ------------------------------------------------------ */

GUEST(g_real,
	".code16\n"
	"xor %ax, %ax\n mov %ax, %ds\n mov %ax, %ss\n mov $0x7000, %sp\n"
	"movw $(rm_int - g_real_start + 0x1000), 0x40\n"	/* IVT[0x10] */
	"movw $0, 0x42\n"
	"mov $0x1234, %ax\n"
	"int $0x10\n"
	"mov %bx, 0x2000\n"
	"lgdtl (rm_gdtr - g_real_start + 0x1000)\n"
	"mov %cr0, %eax\n or $1, %al\n mov %eax, %cr0\n"
	"ljmpl $0x08, $(rm_pm - g_real_start + 0x1000)\n"
	"rm_int: mov %ax, %bx\n add $1, %bx\n iret\n"
	"rm_gdtr: .word 0x37\n .long 0x500\n"
	".code32\n"
	"rm_pm: mov $0x10, %eax\n mov %eax, %ds\n"
	"movl $0x600d, 0x2004\n"
	"out %eax, $0xf4\n");

static void test_real_mode(void)
{
	struct bed *b = sys_bed(g_real_start, g_real_end);
	cpu__reset(b->cpu);
	seg__load_raw(b->cpu, SEG_CS, 0, 0, 0xffff, 0x9b);
	b->cpu->eip = LOAD;
	expect_exit(b, bed__run(b, 1000), CPU_EXIT_STOP);
	CU_ASSERT_EQUAL(rd32(b, RES) & 0xffff, 0x1235);
	CU_ASSERT_EQUAL(rd32(b, RES + 4), 0x600d);
	CU_ASSERT_EQUAL(b->cpu->seg[SEG_CS].sel, 0x08);
	CU_ASSERT(b->cpu->cr0 & CR0_PE);
	bed__free(b);
}

static CU_TestInfo cpu_sys_tests[] = {
	{ "iret to ring 3, int 0x80 back via TSS", test_ring3_int },
	{ "int n through DPL-0 gate from ring 3", test_int_dpl },
	{ "sysenter/sysexit", test_sysenter },
	{ "paging, A/D bits, #PF, WP, invlpg", test_paging },
	{ "faulting load restarts with its registers intact", test_fault_restart },
	{ "#DF through a task gate", test_double_fault_task },
	{ "triple fault shuts down", test_triple_fault },
	{ "external interrupt wakes HLT", test_irq_hlt },
	{ "cli; hlt is dead", test_hlt_dead },
	{ "real mode IVT, switch to protected mode", test_real_mode },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(cpu_sys, .tests = cpu_sys_tests);
