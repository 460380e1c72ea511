/* tests/guests/mb/sysenter.c — SYSENTER/SYSEXIT (used by Linux i386 through
 * the vDSO): the segments derived from IA32_SYSENTER_CS, ESP/EIP from the
 * MSRs, IF cleared on entry, SYSEXIT to CPL 3 at EDX with ESP = ECX, and the
 * #GP(0) cases. SDM Vol. 2B SYSENTER, SYSEXIT. */
#include "rt.h"

const char rt_test_name[] = "sysenter";

#define MSR_CS	0x174
#define MSR_ESP	0x175
#define MSR_EIP	0x176

uint32_t t_se_user(uint32_t), t_se_k(uint32_t), t_sysexit(uint32_t), t_se_plain(uint32_t);
void se_entry(void);
extern char t_se_user_back[], t_se_plain_i[], t_sysexit_i[], se_user_land[];

/* what the entry point and the user side saw */
uint32_t se_cs, se_ss, se_esp, se_eflags, se_count;
uint32_t su_cs, su_ss, su_esp, su_want_esp;

/* CPL 3: SYSENTER with ECX = our ESP and EDX = the return point */
ASM_FN(t_se_user, "push %ebx\n push %esi\n mov %esp,%ecx\n mov %ecx,su_want_esp\n"
		  "mov $t_se_user_back,%edx\n sysenter\n"
		  "t_se_user_back: mov %cs,%eax\n mov %eax,su_cs\n mov %ss,%eax\n mov %eax,su_ss\n"
		  "mov %esp,su_esp\n pop %esi\n pop %ebx\n mov $0x600d,%eax\n ret");
/* CPL 0 with IF=1: SYSENTER clears IF; SYSEXIT lands at CPL 3 in se_user_land */
ASM_FN(t_se_k, "push %ebx\n mov $se_ustack_top,%ecx\n mov $se_user_land,%edx\n sti\n sysenter\n"
	       "se_user_land: mov %cs,%eax\n mov %eax,su_cs\n"
	       "mov $0x52455455,%eax\n mov $0x5e5e,%ebx\n int $0x81\n"
	       ".bss\n.p2align 4\n.skip 1024\nse_ustack_top:\n.text");
ASM_FN(se_entry, "mov %cs,%eax\n mov %eax,se_cs\n mov %ss,%eax\n mov %eax,se_ss\n"
		 "mov %esp,se_esp\n pushf\n pop se_eflags\n incl se_count\n"
		 "mov $0x23,%ax\n mov %ax,%ds\n mov %ax,%es\n sysexit");
ASM_FN(t_se_plain, "t_se_plain_i: sysenter\n ret");
ASM_FN(t_sysexit, "t_sysexit_i: sysexit\n ret");

static struct rt_fault f;
static uint8_t se_stack[4096] __attribute__((aligned(16)));

void test_main(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	if (!((r[3] >> 11) & 1)) {
		rt_skip("sysenter", "CPUID.1:EDX.SEP clear");
		return;
	}
	uint32_t top = (uint32_t)(se_stack + sizeof(se_stack));
	wrmsr(MSR_CS, SEL_KCODE);
	wrmsr(MSR_ESP, top);
	wrmsr(MSR_EIP, (uint32_t)se_entry);
	rt_expect_eq("msr-sysenter-cs-reads-back", (uint32_t)rdmsr(MSR_CS), SEL_KCODE);
	rt_expect_eq("msr-sysenter-esp-reads-back", (uint32_t)rdmsr(MSR_ESP), top);

	int v = rt_try(3, t_se_user, 0, &f);
	rt_expect_fault("sysenter-from-cpl3-returns", v, &f, -1, 0, 0);
	rt_expect_eq("sysenter-return-value", f.ret, 0x600d);
	rt_expect_eq("sysenter-entry-cs", se_cs & 0xffff, SEL_KCODE);
	rt_expect_eq("sysenter-entry-ss-is-cs-plus-8", se_ss & 0xffff, SEL_KDATA);
	rt_expect_eq("sysenter-entry-esp-from-msr", se_esp, top);
	rt_expect_eq("sysexit-cs-is-cs-plus-16-rpl3", su_cs & 0xffff, SEL_UCODE);
	rt_expect_eq("sysexit-ss-is-cs-plus-24-rpl3", su_ss & 0xffff, SEL_UDATA);
	rt_expect_eq("sysexit-esp-from-ecx", su_esp, su_want_esp);

	se_count = 0;
	v = rt_try(0, t_se_k, 0, &f);
	write_eflags(read_eflags() & ~EFL_IF);
	rt_expect_fault("sysenter-from-cpl0-returns", v, &f, -1, 0, 0);
	rt_expect_eq("sysenter-from-cpl0-ran", se_count, 1);
	rt_check(!(se_eflags & EFL_IF), "sysenter-clears-if", "eflags 0x%x", se_eflags);
	rt_expect_eq("sysexit-lands-cpl3", su_cs & 0xffff, SEL_UCODE);
	rt_expect_eq("sysexit-user-code-ran", f.ret, 0x5e5e);

	v = rt_try(3, t_sysexit, 0, &f);
	rt_expect_fault("sysexit-at-cpl3-gp", v, &f, 13, 0, (uint32_t)t_sysexit_i);
	wrmsr(MSR_CS, 0);
	v = rt_try(3, t_se_plain, 0, &f);
	rt_expect_fault("sysenter-cs-msr-zero-gp", v, &f, 13, 0, (uint32_t)t_se_plain_i);
	v = rt_try(0, t_sysexit, 0, &f);
	rt_expect_fault("sysexit-cs-msr-zero-gp", v, &f, 13, 0, (uint32_t)t_sysexit_i);
}
