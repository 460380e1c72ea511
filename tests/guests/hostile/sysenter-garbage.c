/* tests/guests/hostile/sysenter-garbage.c — SYSENTER and SYSEXIT with
 * garbage in the SYSENTER MSRs (SDM Vol. 2B SYSENTER/SYSEXIT: no descriptor
 * is read, the hidden parts are fixed flat values): SYSENTER_CS = 0 is
 * #GP(0); SYSENTER_CS = 0x4b over a garbage GDT entry enters CPL 0 with
 * CS = 0x48, SS = 0x50; SYSENTER_CS = 0xfff8 gives SS = 0 (the +8 wraps in
 * 16 bits); SYSENTER_EIP unmapped is a #PF at CPL 0 with CS from the MSR;
 * SYSEXIT with SYSENTER_CS = 0x48 runs CPL 3 code with CS = 0x5b, SS = 0x63
 * over garbage entries, and with 0xfff0 with CS = 3 (a null selector) and
 * SS = 0xb: user code that a native engine must run with selectors that
 * have no valid descriptor (paging on, user pages; the code spins first).
 * Last, SYSENTER_ESP unmapped: the handler's push faults, #PF and #DF
 * cannot be pushed either: a triple fault. QEMU -no-reboot: status 0. */
#include "hostile.h"

const char rt_test_name[] = "sysenter-garbage";

#define MSR_CS	0x174
#define MSR_ESP	0x175
#define MSR_EIP	0x176

static uint8_t k_stack[4096] __attribute__((aligned(16)));
static uint8_t u_stack[4096] __attribute__((aligned(16)));
uint32_t seen_ss;

uint32_t t_sysenter(uint32_t), t_sysexit(uint32_t);
void sys_handler(void), sys_pusher(void), u_after_exit(void);
ASM_FN(t_sysenter, "mov $0xabcd0000,%eax\n sysenter\n ud2");
/* at CPL 0 with CS/SS from SYSENTER_CS: record them, put the runtime's
 * back, end the rt_try as vector 200 with CS as its error code */
ASM_FN(sys_handler, "mov %cs,%eax\n mov %ss,%edx\n ljmp $0x08,$1f\n"
		    "1: mov $0x10,%cx\n mov %cx,%ss\n mov %cx,%ds\n mov %cx,%es\n"
		    "mov %edx,seen_ss\n push $0\n push %eax\n push $200\n call rt_abort_try");
ASM_FN(sys_pusher, "push $0x1234\n ud2");
/* SYSEXIT to u_after_exit with ESP = arg */
ASM_FN(t_sysexit, "mov 4(%esp),%ecx\n mov $u_after_exit,%edx\n sysexit");
/* CPL 3 with SYSEXIT's selectors: spin, then report CS and SS through the
 * runtime's return vector */
ASM_FN(u_after_exit, "mov $100000,%ecx\n1: loop 1b\n mov %ss,%edx\n shl $16,%edx\n"
		     "mov %cs,%ebx\n or %edx,%ebx\n mov $0x52455455,%eax\n int $0x81");

static void sysenter_case(const char *name, uint32_t cs, uint32_t eip, int want_vec,
			  uint32_t want_err, uint32_t want_ss, int ring)
{
	struct rt_fault f;
	int v;

	wrmsr(MSR_CS, cs);
	wrmsr(MSR_ESP, (uint32_t)(k_stack + sizeof(k_stack)));
	wrmsr(MSR_EIP, eip);
	seen_ss = 0xdead;
	v = rt_try(ring, t_sysenter, 0, &f);
	if (rt_expect_fault(name, v, &f, want_vec, want_err, 0) && want_vec == 200)
		rt_expect_eq(name, seen_ss, want_ss);
	if (want_vec == 14) {
		rt_expect_eq(name, f.cr2, eip);
		rt_expect_eq(name, f.cs, cs & 0xfffc);
	}
}

void test_main(void)
{
	struct rt_fault f;
	int v;

	rt_printf("HOSTILE sysenter-garbage: SYSENTER/SYSEXIT with garbage MSRs, selectors "
		  "without descriptors at CPL 3, then a triple fault\n");
	hostile_paging_on();
	for (int i = GDT_FREE; i < GDT_ENTRIES; i++)
		rt_gdt[i] = ((uint64_t)hostile_rand() << 32) | hostile_rand();
	sysenter_case("sysenter-cs0-cpl3", 0, (uint32_t)sys_handler, 13, 0, 0, 3);
	sysenter_case("sysenter-cs0-cpl0", 0, (uint32_t)sys_handler, 13, 0, 0, 0);
	sysenter_case("sysenter-cs-garbage-cpl3", 0x4b, (uint32_t)sys_handler, 200, 0x48, 0x50, 3);
	sysenter_case("sysenter-cs-garbage-cpl0", 0x4b, (uint32_t)sys_handler, 200, 0x48, 0x50, 0);
	sysenter_case("sysenter-cs-fff8-ss-wraps", 0xfff8, (uint32_t)sys_handler, 200, 0xfff8, 0, 3);
	sysenter_case("sysenter-eip-unmapped", 0x08, 0x20000000, 14, 0, 0, 3);
	sysenter_case("sysenter-eip-unmapped-cs-garbage", 0x60, 0x20000000, 14, 0, 0, 3);
	asm volatile("ljmp $0x08,$1f\n1:");	/* the #PF came in with CS 0x60 */

	wrmsr(MSR_CS, 0x48);
	v = rt_try(0, t_sysexit, (uint32_t)(u_stack + sizeof(u_stack)), &f);
	rt_expect_fault("sysexit-cs-garbage", v, &f, -1, 0, 0);
	rt_expect_eq("sysexit-cs-garbage-selectors", f.ret, (0x63u << 16) | 0x5b);
	wrmsr(MSR_CS, 0xfff0);
	v = rt_try(0, t_sysexit, (uint32_t)(u_stack + sizeof(u_stack)), &f);
	rt_expect_fault("sysexit-cs-null", v, &f, -1, 0, 0);
	rt_expect_eq("sysexit-cs-null-selectors", f.ret, (0x0bu << 16) | 0x03);

	rt_printf("NOTE sysenter-garbage: SYSENTER_ESP unmapped, then a push\n");
	wrmsr(MSR_CS, 0x08);
	wrmsr(MSR_ESP, 0x20001000);
	wrmsr(MSR_EIP, (uint32_t)sys_pusher);
	v = rt_try(3, t_sysenter, 0, &f);
	rt_printf("FAIL sysenter-garbage: still running (%d)\n", v);
}
