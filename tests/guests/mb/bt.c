/* tests/guests/mb/bt.c — kernel code as a binary translator sees it
 * (docs/bt.md): CPL-0 code under 2-level paging with global 4 MiB pages,
 * on its own flat selectors (not 0x08/0x10: index 2 is the monitor's in the
 * hybrid engine's world), doing what a kernel does: calls and returns,
 * recursion, jump tables, indirect calls, loops, string moves, per-CPU data
 * through FS, PUSHF/POPF/CLI/STI, timer interrupts while computing and
 * across STI;HLT, exceptions caught and resumed, code patched after it ran,
 * a global code page remapped (INVLPG and CR4.PGE), a descriptor changed in
 * the GDT and reloaded, CPUID/RDTSC/port I/O in the middle of hot code.
 * Every result is printed, so the engines can be compared line by line
 * (interp is the oracle). SDM Vol. 3A §4.10.2.4 (global pages), §6.8.3
 * (STI), §11.6 (self-modifying code). */
#include "rt.h"

const char rt_test_name[] = "bt";

#define KCS	SEL(GDT_FREE, 0)
#define KDS	SEL(GDT_FREE + 1, 0)
#define PCPU	SEL(GDT_FREE + 2, 0)
#define VEC_IRQ0 0x20
#define P	0x001u
#define W	0x002u
#define PS	0x080u
#define G	0x100u
#define XVA	0x40000000u	/* a global 4 KiB code page, remapped */

static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt_x[1024] __attribute__((aligned(4096)));
static uint8_t frame_a[4096] __attribute__((aligned(4096)));
static uint8_t frame_b[4096] __attribute__((aligned(4096)));
static uint32_t pcpu_a[16], pcpu_b[16];
static uint8_t cx_page[4096] __attribute__((aligned(4096)));
static uint8_t cx_page2[4096] __attribute__((aligned(4096)));
static struct rt_fault f;
volatile uint32_t ticks;
static volatile uint32_t sink;

/* ---- helpers in assembly: forms a translator treats specially ---------- */
uint32_t t_loop(uint32_t), t_jecxz(uint32_t);
uint32_t __attribute__((stdcall)) t_retimm(uint32_t, uint32_t);
uint32_t t_callmem(uint32_t), t_pushf(uint32_t), t_popf_if(uint32_t);
uint32_t t_imm(uint32_t), t_hotpatch(uint32_t), t_straddle(uint32_t);
uint32_t t_div0(uint32_t), t_pf(uint32_t), t_fs(uint32_t), t_segs(uint32_t);
uint32_t t_sti_hlt(uint32_t), t_cx8(uint32_t), t_cx8_fresh(uint32_t), t_cx8_gs(uint32_t);
extern char t_imm_p[], t_hot_p[];

/* LOOP counts ECX down: sum arg..1 */
ASM_FN(t_loop, "mov 4(%esp),%ecx\n xor %eax,%eax\n 1: add %ecx,%eax\n loop 1b\n ret");
/* JECXZ taken for 0, not taken otherwise */
ASM_FN(t_jecxz, "mov 4(%esp),%ecx\n mov $7,%eax\n jecxz 1f\n mov $9,%eax\n 1: ret");
/* stdcall: RET imm16 pops the arguments */
ASM_FN(t_retimm, "mov 4(%esp),%eax\n sub 8(%esp),%eax\n ret $8");
/* CALL through memory relative to ESP, and through a register */
ASM_FN(t_callmem, "push %ebx\n mov $t_retimm,%ebx\n push 8(%esp)\n push $100\n"
		  "call *%ebx\n push %eax\n push $1000\n call *(bt_fnptr)\n pop %ebx\n ret");
/* PUSHF under CLI and STI: the IF bits the guest sees, and a POPF round trip */
ASM_FN(t_pushf, "pushf\n cli\n pushf\n pop %eax\n and $0x200,%eax\n sti\n pushf\n pop %ecx\n"
		"and $0x200,%ecx\n shl $1,%ecx\n or %ecx,%eax\n popf\n pushf\n pop %ecx\n"
		"and $0x200,%ecx\n shl $2,%ecx\n or %ecx,%eax\n ret");
/* POPF setting IF with a timer interrupt pending (IRR bit 0, read with
 * OCW3 until set): it is taken right after the POPF */
ASM_FN(t_popf_if, "cli\n mov ticks,%edx\n 1: mov $0x0a,%al\n out %al,$0x20\n in $0x20,%al\n"
		  "test $1,%al\n jz 1b\n push $0x202\n popf\n mov ticks,%eax\n sub %edx,%eax\n"
		  "cli\n ret");
/* STI;HLT: the interrupt wakes HLT */
ASM_FN(t_sti_hlt, "cli\n mov ticks,%edx\n sti\n hlt\n cli\n mov ticks,%eax\n sub %edx,%eax\n ret");
ASM_FN(t_imm, "t_imm_p: mov $0x11111111,%eax\n ret");
/* a hot loop whose add immediate is patched by its own body (SDM 11.6) */
ASM_FN(t_hotpatch, "push %ebx\n xor %eax,%eax\n mov $1,%ebx\n movb $1,t_hot_p+2\n"
		   "1: t_hot_p: add $1,%eax\n inc %ebx\n movb %bl,t_hot_p+2\n cmp $6,%ebx\n jne 1b\n"
		   "pop %ebx\n ret");
ASM_FN(t_div0, "xor %edx,%edx\n mov $5,%eax\n xor %ecx,%ecx\n div %ecx\n ret");
ASM_FN(t_pf, "mov 4(%esp),%ecx\n mov (%ecx),%eax\n ret");
/* per-CPU data through FS, and a write there */
ASM_FN(t_fs, "mov %fs:8,%eax\n addl $5,%fs:8\n add %fs:8,%eax\n ret");
/* CMPXCHG8B on per-CPU data (SLUB's fast path), a success then a failure;
 * returns ZF of each in bits 0-1 and the EFLAGS bits a POPF restores
 * (NT, TF, AC: must stay clear) in the rest */
ASM_FN(t_cx8, "push %ebx\n push %esi\n xor %esi,%esi\n movl $5,%fs:32\n movl $6,%fs:36\n"
	      "mov $5,%eax\n mov $6,%edx\n mov $7,%ebx\n mov $8,%ecx\n lock cmpxchg8b %fs:32(%esi)\n"
	      "setz %cl\n movzbl %cl,%esi\n mov $7,%ebx\n mov $8,%ecx\n cmpxchg8b %fs:32\n setz %cl\n"
	      "movzbl %cl,%ecx\n shl $1,%ecx\n or %ecx,%esi\n pushf\n pop %eax\n and $0x44100,%eax\n"
	      "or %esi,%eax\n add %fs:32,%eax\n pop %esi\n pop %ebx\n ret");
/* CMPXCHG8B as the first write to a page read before (the hybrid engine's
 * shadow maps it read-only until then: a hidden fault in the middle of
 * the instruction); the same return convention as t_cx8 */
ASM_FN(t_cx8_fresh, "push %ebx\n push %esi\n mov 12(%esp),%esi\n mov (%esi),%eax\n mov 4(%esi),%edx\n"
		    "mov $7,%ebx\n mov $8,%ecx\n cmpxchg8b (%esi)\n setz %cl\n movzbl %cl,%ecx\n"
		    "pushf\n pop %eax\n and $0x44100,%eax\n or %ecx,%eax\n add (%esi),%eax\n"
		    "pop %esi\n pop %ebx\n ret");
/* CMPXCHG8B through GS (a based segment) on a page never touched: the
 * access faults in the shadow (not present) in the middle of it */
ASM_FN(t_cx8_gs, "push %ebx\n push %esi\n mov 12(%esp),%eax\n mov %eax,%gs\n xor %esi,%esi\n"
		 "xor %eax,%eax\n xor %edx,%edx\n mov $0xc2205262,%ebx\n xor $1,%ebx\n mov $7,%ebx\n mov $8,%ecx\n cmpxchg8b %gs:(%esi)\n"
		 "setz %cl\n movzbl %cl,%ecx\n pushf\n pop %eax\n and $0x44100,%eax\n or %ecx,%eax\n"
		 "add %gs:(%esi),%eax\n xor %esi,%esi\n mov %esi,%gs\n pop %esi\n pop %ebx\n ret");
/* segment register traffic: push/pop, mov, and a reload */
ASM_FN(t_segs, "push %ds\n push %es\n mov %ds,%eax\n mov %eax,%es\n pop %es\n pop %ds\n"
	       "mov %es,%ecx\n shl $16,%eax\n or %ecx,%eax\n ret");
/* an instruction that straddles a page: the movl's immediate is split */
asm(".text\n.p2align 12\n.skip 4093\n.globl t_straddle\nt_straddle:\n"
    "movl $0x12345678,%eax\n add 4(%esp),%eax\n ret\n");

uint32_t (__attribute__((stdcall)) *volatile bt_fnptr)(uint32_t, uint32_t) = t_retimm;

/* ---- C workloads ------------------------------------------------------- */
static uint32_t fib(uint32_t n)
{
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static uint32_t primes(uint32_t n)
{
	static uint8_t comp[5000];
	uint32_t s = 0;

	for (uint32_t i = 2; i < n; i++)
		comp[i] = 0;
	for (uint32_t i = 2; i < n; i++) {
		if (comp[i])
			continue;
		s += i;
		for (uint32_t j = i * 2; j < n; j += i)
			comp[j] = 1;
	}
	return s;
}

static uint32_t __attribute__((noinline)) op(uint32_t k, uint32_t a)
{
	switch (k & 7) {	/* a jump table at -O2 */
	case 0: return a + 3;
	case 1: return a ^ 0x5a5a;
	case 2: return a * 7;
	case 3: return a >> 3;
	case 4: return a - 11;
	case 5: return ~a;
	case 6: return a << 2;
	default: return a | 1;
	}
}

static uint32_t sw_mix(uint32_t n)
{
	uint32_t a = 1;

	for (uint32_t i = 0; i < n; i++)
		a = op(i * 13 + (a & 3), a);
	return a;
}

static uint32_t add1(uint32_t x) { return x + 1; }
static uint32_t dbl(uint32_t x) { return x * 2; }
static uint32_t (*const tab[2])(uint32_t) = { add1, dbl };

static uint32_t indir(uint32_t n)
{
	uint32_t a = 3;

	for (uint32_t i = 0; i < n; i++)
		a = tab[(a ^ i) & 1](a) & 0xffffff;
	return a;
}

static uint8_t big_a[65536], big_b[65536];

static uint32_t strings(void)
{
	uint32_t s = 0;

	for (uint32_t i = 0; i < sizeof(big_a); i++)
		big_a[i] = (uint8_t)(i * 31 + (i >> 8));
	const uint8_t *src = big_a;
	uint8_t *dst = big_b;
	uint32_t n = sizeof(big_a) / 4;

	asm volatile("rep movsl" : "+S"(src), "+D"(dst), "+c"(n) : : "memory");
	for (uint32_t i = 0; i < sizeof(big_b); i++)
		s = s * 33 + big_b[i];
	return s;
}

static int on_irq0(struct rt_frame *fr)
{
	ticks++;
	outb(0x20, 0x20);
	return 1;
}

static void load_gdt(void)
{
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdtr = {
		sizeof(rt_gdt) - 1, (uint32_t)rt_gdt
	};

	asm volatile("lgdt %0" : : "m"(gdtr));
}

/* Data segments on our selectors (GS null): none on index 2, which the
 * hybrid engine's world keeps for itself (the runtime's stubs load 0x10). */
static void kseg(void)
{
	asm volatile("mov %0, %%ds\n mov %0, %%es\n mov %0, %%ss\n mov %1, %%fs\n mov %2, %%gs"
		     : : "r"(KDS), "r"(PCPU), "r"(0) : "memory");
}

/* Our own flat selectors (index 9-11) and paging with global 4 MiB pages
 * over the first 64 MiB, plus one global 4 KiB page at XVA. */
static void setup(void)
{
	rt_gdt_set(GDT_FREE, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R, FLG_G | FLG_DB);
	rt_gdt_set(GDT_FREE + 1, 0, 0xfffff, ACC_P | ACC_S | ACC_DATA_W, FLG_G | FLG_DB);
	rt_gdt_set(GDT_FREE + 2, (uint32_t)pcpu_a, sizeof(pcpu_a) - 1, ACC_P | ACC_S | ACC_DATA_W, FLG_DB);
	load_gdt();
	for (uint32_t i = 0; i < 16; i++)
		pd[i] = (i << 22) | P | W | PS | G;
	pd[XVA >> 22] = (uint32_t)pt_x | P | W;
	pt_x[0] = (uint32_t)frame_a | P | W | G;
	frame_a[0] = 0xb8; frame_a[1] = 1; frame_a[5] = 0xc3;	/* mov $1,%eax; ret */
	frame_b[0] = 0xb8; frame_b[1] = 2; frame_b[5] = 0xc3;	/* mov $2,%eax; ret */
	write_cr4(read_cr4() | 0x10 | 0x80);		/* PSE, PGE */
	write_cr3((uint32_t)pd);
	write_cr0(read_cr0() | 0x80000000u | 0x10000u);	/* PG, WP */
	asm volatile("ljmp %0, $1f\n 1:" : : "i"(KCS) : "memory");
	kseg();
	rt_set_handler(VEC_IRQ0, on_irq0);
}

static uint32_t call_x(void)
{
	return ((uint32_t (*)(void))XVA)();
}

void test_main(void)
{
	uint32_t v, a, b;

	setup();
	rt_expect_eq("fib-20", fib(20), 6765);
	rt_expect_eq("primes-5000", primes(5000), 1548136);
	rt_printf("INFO switch-mix %08x\n", sw_mix(5000));
	rt_printf("INFO indirect %08x\n", indir(5000));
	rt_printf("INFO strings %08x\n", strings());
	rt_expect_eq("loop-sum", t_loop(100), 5050);
	rt_expect_eq("jecxz-taken", t_jecxz(0), 7);
	rt_expect_eq("jecxz-not-taken", t_jecxz(3), 9);
	rt_expect_eq("ret-imm16", t_retimm(50, 8), 42);
	rt_expect_eq("call-indirect-mem", t_callmem(7), 1000 - (100 - 7));
	rt_expect_eq("pushf-if-bits", t_pushf(0), 0x400);
	rt_expect_eq("straddle", t_straddle(1), 0x12345679);
	pcpu_a[2] = 10;
	rt_expect_eq("fs-percpu", t_fs(0), 25);
	rt_expect_eq("fs-percpu-written", pcpu_a[2], 15);
	rt_printf("INFO segs %08x\n", t_segs(0));
	rt_expect_eq("cmpxchg8b-fs", t_cx8(0), 1 + 7);
	rt_expect_eq("cmpxchg8b-first-write", t_cx8_fresh((uint32_t)cx_page), 1 + 7);
	rt_gdt_set(GDT_FREE + 3, (uint32_t)cx_page2, 4095, ACC_P | ACC_S | ACC_DATA_W, FLG_DB);
	rt_expect_eq("cmpxchg8b-gs-untouched", t_cx8_gs(SEL(GDT_FREE + 3, 0)), 1 + 7);

	/* code patched after it ran (translated) */
	rt_expect_eq("smc-before", t_imm(0), 0x11111111);
	*(volatile uint32_t *)(t_imm_p + 1) = 0x22222222;
	rt_expect_eq("smc-after", t_imm(0), 0x22222222);
	rt_expect_eq("smc-hot-loop", t_hotpatch(0), 1 + 2 + 3 + 4 + 5);

	/* a global code page remapped: INVLPG, then a CR4.PGE toggle */
	rt_expect_eq("remap-before", call_x(), 1);
	pt_x[0] = (uint32_t)frame_b | P | W | G;
	invlpg(XVA);
	rt_expect_eq("remap-invlpg", call_x(), 2);
	pt_x[0] = (uint32_t)frame_a | P | W | G;
	write_cr4(read_cr4() & ~0x80u);
	write_cr4(read_cr4() | 0x80u);
	rt_expect_eq("remap-pge-toggle", call_x(), 1);

	/* a descriptor rewritten in the GDT, then reloaded */
	rt_gdt_set(GDT_FREE + 2, (uint32_t)pcpu_b, sizeof(pcpu_b) - 1, ACC_P | ACC_S | ACC_DATA_W, FLG_DB);
	asm volatile("mov %0, %%fs" : : "r"(PCPU));
	pcpu_b[2] = 100;
	rt_expect_eq("gdt-rewrite-reload", t_fs(0), 205);

	/* exceptions caught and resumed */
	v = rt_try(0, t_div0, 0, &f);
	rt_expect_fault("div0", v, &f, 0, -1, 0);
	v = rt_try(0, t_pf, 0x80000010u, &f);
	rt_expect_fault("pf-unmapped", v, &f, 14, 0, 0);
	rt_expect_eq("pf-cr2", f.cr2, 0x80000010u);
	kseg();

	/* CPUID, RDTSC and port I/O inside hot code */
	cpuid(0, 0, (uint32_t[4]){ 0 });
	a = (uint32_t)rdtsc();
	sink = primes(2000);
	b = (uint32_t)rdtsc();
	rt_check(b != a, "rdtsc-moves", "%08x %08x", a, b);

	/* timer interrupts while translated code runs */
	rt_pic_pit_init(VEC_IRQ0, 1193);
	asm volatile("sti");
	while (ticks < 5)
		sink += fib(10);
	asm volatile("cli");
	rt_check(ticks >= 5, "ticks-while-computing", "%u", ticks);
	v = t_popf_if(0);
	rt_check(v >= 1, "popf-if-delivers", "%u", v);
	v = t_sti_hlt(0);
	rt_check(v >= 1, "sti-hlt-wakes", "%u", v);
	outb(0x21, 0xff);
	rt_expect_eq("fib-20-again", fib(20), 6765);
}
