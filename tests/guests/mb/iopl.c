/* tests/guests/mb/iopl.c — IOPL and the I/O permission bitmap: CLI/STI and
 * IN/OUT at CPL 3 with IOPL 3; POPF and IRET at CPL 3 leave IF and IOPL
 * alone; POPF at CPL 0 sets IOPL; the TSS I/O bitmap allows single ports,
 * multi-byte accesses need every bit clear, and the bitmap must lie within
 * the TSS limit (two bytes are read). SDM Vol. 3A 19.5 (I/O protection),
 * Vol. 2B POPF, Vol. 2A IRET. */
#include "rt.h"

const char rt_test_name[] = "iopl";

uint32_t t_iopl3_user(uint32_t), t_popf_user(uint32_t), t_iret_user(uint32_t);
uint32_t t_inb(uint32_t), t_inw(uint32_t), t_outb(uint32_t);
extern char t_inb_i[], t_inw_i[], t_outb_i[];

/* IRET to CPL 3 with IOPL 3: CLI, STI, IN and OUT are allowed there */
ASM_FN(t_iopl3_user, "push $0x23\n push $iopl_ustack_top\n push $0x3002\n push $0x1b\n push $1f\n"
		     "iret\n 1: cli\n sti\n inb $0x80,%al\n outb %al,$0x80\n pushf\n pop %ebx\n"
		     "cli\n mov $0x52455455,%eax\n int $0x81\n"
		     ".bss\n.p2align 4\n.skip 1024\niopl_ustack_top:\n.text");
/* CPL 3, IOPL 0: POPF of IF|IOPL3|DF|OF changes only DF and OF */
ASM_FN(t_popf_user, "push $0x3e02\n popf\n pushf\n pop %eax\n push $0x202\n popf\n cld\n ret");
/* CPL 3, IOPL 0: a same-privilege IRET with IF|IOPL3 in the image */
ASM_FN(t_iret_user, "pushf\n orl $0x3200,(%esp)\n push %cs\n push $1f\n iret\n 1: pushf\n pop %eax\n ret");
ASM_FN(t_inb, "mov 4(%esp),%edx\n t_inb_i: inb %dx,%al\n ret");
ASM_FN(t_inw, "mov 4(%esp),%edx\n t_inw_i: inw %dx,%ax\n ret");
ASM_FN(t_outb, "mov 4(%esp),%edx\n mov $0,%al\n t_outb_i: outb %al,%dx\n ret");

static struct rt_fault f;

/* reloads TR with the main TSS at limit lim (the busy bit cleared first) */
static void tss_limit(uint32_t lim)
{
	rt_gdt_tss(SEL_TSS >> 3, &rt_tss, lim, 0);
	asm volatile("ltr %w0" :: "r"(SEL_TSS));
}

static void allow(uint16_t port, int yes)
{
	if (yes)
		rt_iobitmap[port >> 3] &= (uint8_t)~(1u << (port & 7));
	else
		rt_iobitmap[port >> 3] |= (uint8_t)(1u << (port & 7));
}

void test_main(void)
{
	int v = rt_try(0, t_iopl3_user, 0, &f);
	rt_expect_fault("iopl3-cli-sti-in-out-at-cpl3", v, &f, -1, 0, 0);
	rt_check((f.ret & EFL_IF) && ((f.ret >> 12) & 3) == 3, "iopl3-sti-sets-if-at-cpl3",
		 "eflags 0x%x", f.ret);

	v = rt_try(3, t_popf_user, 0, &f);
	rt_expect_fault("popf-cpl3-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("popf-cpl3-keeps-if-iopl", f.ret & (EFL_IF | 0x3000), 0);
	rt_expect_eq("popf-cpl3-sets-df-of", f.ret & (EFL_DF | EFL_OF), EFL_DF | EFL_OF);
	v = rt_try(3, t_iret_user, 0, &f);
	rt_expect_fault("iret-cpl3-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("iret-cpl3-keeps-if-iopl", f.ret & (EFL_IF | 0x3000), 0);

	uint32_t fl = read_eflags();
	write_eflags(fl | 0x3000);
	rt_expect_eq("popf-cpl0-sets-iopl", (read_eflags() >> 12) & 3, 3);
	write_eflags(fl);

	/* no bitmap within the limit: every port faults at CPL 3 */
	v = rt_try(3, t_inb, 0x80, &f);
	rt_expect_fault("io-no-bitmap-gp", v, &f, 13, 0, (uint32_t)t_inb_i);

	rt_tss.iomap = 104;
	tss_limit(104 + 8192);
	allow(0x80, 1);
	v = rt_try(3, t_inb, 0x80, &f);
	rt_expect_fault("io-bitmap-allows-port", v, &f, -1, 0, 0);
	v = rt_try(3, t_outb, 0x80, &f);
	rt_expect_fault("io-bitmap-allows-out", v, &f, -1, 0, 0);
	v = rt_try(3, t_inb, 0x81, &f);
	rt_expect_fault("io-bitmap-denies-neighbour", v, &f, 13, 0, (uint32_t)t_inb_i);
	/* a word access needs both bits */
	v = rt_try(3, t_inw, 0x80, &f);
	rt_expect_fault("io-bitmap-word-needs-both", v, &f, 13, 0, (uint32_t)t_inw_i);
	allow(0x81, 1);
	v = rt_try(3, t_inw, 0x80, &f);
	rt_expect_fault("io-bitmap-word-allowed", v, &f, -1, 0, 0);
	/* port 0x87 and 0x88 straddle a byte of the bitmap */
	allow(0x87, 1);
	allow(0x88, 1);
	v = rt_try(3, t_inw, 0x87, &f);
	rt_expect_fault("io-bitmap-word-across-bytes", v, &f, -1, 0, 0);
	allow(0x88, 0);
	v = rt_try(3, t_inw, 0x87, &f);
	rt_expect_fault("io-bitmap-word-across-bytes-denied", v, &f, 13, 0, (uint32_t)t_inw_i);

	/* the bitmap bytes read (0x80 / 8 = 16 and the next) must be in the limit */
	tss_limit(104 + 17);
	v = rt_try(3, t_inb, 0x80, &f);
	rt_expect_fault("io-bitmap-within-limit", v, &f, -1, 0, 0);
	tss_limit(104 + 15);
	v = rt_try(3, t_inb, 0x80, &f);
	rt_expect_fault("io-bitmap-past-limit-gp", v, &f, 13, 0, (uint32_t)t_inb_i);

	allow(0x80, 0);
	allow(0x81, 0);
	allow(0x87, 0);
	rt_tss.iomap = sizeof(rt_tss);
	tss_limit(sizeof(rt_tss) - 1);
}
