/* tests/guests/mb/realmode.c — 16-bit protected mode, the switch from
 * protected to real mode and back (SDM Vol. 3A 9.9), real-mode arithmetic,
 * segment arithmetic, the hidden segment base kept across the switch, and
 * interrupts/exceptions through the real-mode IVT (SDM Vol. 3A 20.1.4).
 * The code itself is in realmode.S. */
#include "rt.h"

const char rt_test_name[] = "realmode";

#define LOW_BASE	0x8000
extern char low_start[], low_end[], rm_results[], rm_after_int40[], rm_div[];
extern char rm_int40[], rm_int0[];
void rm_run(void);
uint32_t pm16_func(void);
uint32_t t_pm16(uint32_t);

/* a far call into a 16-bit code segment, back by a 32-bit RETF */
ASM_FN(t_pm16, "push %ebx\n lcall *pm16_ptr\n pop %ebx\n ret");
ASM_FN(t_int3, "int3\n ret");
uint32_t t_int3(uint32_t);

#define LOW(sym)	(LOW_BASE + (uint32_t)((char *)(sym) - low_start))
#define RES(i)		(((volatile uint16_t *)LOW(rm_results))[i])

static struct rt_fault f;

/* a store to a small physical address (gcc objects to literal pointers there) */
static void poke32(uint32_t addr, uint32_t v)
{
	asm volatile("movl %1,(%0)" :: "r"(addr), "r"(v) : "memory");
}

void test_main(void)
{
	uint32_t len = (uint32_t)(low_end - low_start);

	rt_check(len < 0x1000, "low-blob-fits", "%u bytes", len);
	rt_memcpy((void *)LOW_BASE, low_start, len);
	*(volatile uint16_t *)0x9010 = 0;
	/* IVT entries are offset:segment pairs at vector * 4 */
	poke32(0x40 * 4, LOW(rm_int40));
	poke32(0, LOW(rm_int0));
	/* 16-bit data segment with base 1 MiB for the hidden-base check */
	rt_gdt_set(GDT_FREE, 0x100000, 0xffff, ACC_P | ACC_S | ACC_DATA_W, 0);

	int v = rt_try(0, t_pm16, 0, &f);
	rt_expect_fault("pm16-far-call-returns", v, &f, -1, 0, 0);
	rt_expect_eq("pm16-operand-size-16", f.ret, 0x12340000);

	rm_run();
	rt_check(read_cr0() & 1, "back-in-protected-mode", "cr0 0x%x", read_cr0());
	rt_expect_eq("pm16-push-2-bytes", RES(0), 2);
	rt_expect_eq("pm16-address-wraps-64k", RES(1), 0x55aa);
	rt_expect_eq("rm-add-16bit-wraps", RES(2), 0);
	rt_expect_eq("rm-add-flags-cf-zf", RES(3) & 0x41, 0x41);
	rt_expect_eq("rm-32bit-operand", RES(4) | (uint32_t)RES(5) << 16, 0x2468acf0);
	rt_expect_eq("rm-segment-times-16", *(volatile uint16_t *)0x9010, 0xbeef);
	rt_expect_eq("rm-hidden-base-kept", RES(6) | (uint32_t)RES(7) << 16, 0x1badb002);
	rt_expect_eq("rm-segment-reload-base", RES(8), 0xbeef);
	rt_expect_eq("rm-int-stack-balanced", RES(9), 0);
	rt_expect_eq("rm-int-pushed-ip", RES(12), LOW(rm_after_int40));
	rt_expect_eq("rm-int-pushed-cs", RES(13), 0);
	rt_check(RES(14) & EFL_IF, "rm-int-pushed-flags-if", "flags 0x%x", RES(14));
	rt_check(!(RES(15) & EFL_IF), "rm-int-clears-if", "flags 0x%x", RES(15));
	rt_expect_eq("rm-de-pushed-ip-of-div", RES(16), LOW(rm_div));
	rt_expect_eq("rm-de-handler-resumed", RES(10), 0x4242);
	rt_expect_eq("rm-far-call", RES(11), 0x1f1f);
	rt_gdt[GDT_FREE] = 0;

	/* the protected-mode IDT works again */
	v = rt_try(0, t_int3, 0, &f);
	rt_expect_fault("pm-idt-restored", v, &f, 3, 0, 0);
}
