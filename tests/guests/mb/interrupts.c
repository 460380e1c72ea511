/* tests/guests/mb/interrupts.c — maskable hardware interrupts as the CPU
 * sees them, with the 8259A PIC (remapped to 0x20) and the 8254 PIT at 1 kHz:
 * HLT wakes on an IRQ; IF=0 holds a pending IRQ back; STI delays it by one
 * instruction (the interrupt shadow) while POPF does not; IRET restores IF;
 * an IRQ at CPL 3 switches to the TSS stack; a REP MOVS may be interrupted
 * between iterations and then resumes. SDM Vol. 3A 6.8.3 (STI shadow), 6.6
 * (interrupts at instruction boundaries), Vol. 2B REP. */
#include "rt.h"

const char rt_test_name[] = "interrupts";

#define VEC_IRQ0	0x20

uint32_t t_hlt(uint32_t), t_sti_shadow(uint32_t), t_popf(uint32_t), t_user_irq(uint32_t);
uint32_t t_rep(uint32_t);
extern char t_hlt_n[], t_sti_1[], t_sti_2[], t_popf_1[], t_rep_i[], irq_ustack_top[];

ASM_FN(t_hlt, "sti\n hlt\n t_hlt_n: cli\n ret");
ASM_FN(t_sti_shadow, "sti\n t_sti_1: nop\n t_sti_2: nop\n cli\n ret");
ASM_FN(t_popf, "push $0x202\n popf\n t_popf_1: nop\n cli\n ret");
/* IRET to CPL 3 with IF=1; spin there until the handler has seen a tick */
ASM_FN(t_user_irq, "push $0x23\n push $irq_ustack_top\n push $0x202\n push $0x1b\n push $1f\n"
		   "mov $0x23,%ax\n mov %ax,%ds\n mov %ax,%es\n iret\n"
		   "1: cmpl $0,user_ticks\n je 1b\n mov $0x52455455,%eax\n mov $1,%ebx\n int $0x81\n"
		   ".bss\n.p2align 4\n.skip 2048\n.globl irq_ustack_top\nirq_ustack_top:\n.text");
/* REP MOVSB of arg bytes with IF=1 (a NOP first, out of STI's shadow) */
ASM_FN(t_rep, "push %esi\n push %edi\n mov $rep_src,%esi\n mov $rep_dst,%edi\n mov 12(%esp),%ecx\n"
	      "sti\n nop\n t_rep_i: rep movsb\n cli\n mov %ecx,%eax\n pop %edi\n pop %esi\n ret");

#define REP_LEN	(2u << 20)
uint8_t rep_src[REP_LEN], rep_dst[REP_LEN];
volatile uint32_t ticks, user_ticks;
static struct rt_frame first;
static uint32_t first_flags, rep_esi, rep_edi, rep_ecx, rep_hits;
static int want_first;

static int on_irq0(struct rt_frame *fr)
{
	if (want_first) {
		first = *fr;
		first_flags = read_eflags();
		want_first = 0;
	}
	if ((fr->cs & 3) == 3)
		user_ticks++;
	/* the first IRQ that finds the REP part-way (one may come before it) */
	if (fr->eip == (uint32_t)t_rep_i && fr->ecx < REP_LEN && !rep_hits++) {
		rep_esi = fr->esi;
		rep_edi = fr->edi;
		rep_ecx = fr->ecx;
	}
	ticks++;
	outb(0x20, 0x20);		/* EOI */
	return 1;
}

/* waits with IF=0 until IRQ0 is pending in the PIC's IRR; 0 on timeout */
static int wait_pending(void)
{
	for (uint32_t i = 0; i < 50000000; i++) {
		outb(0x20, 0x0a);			/* OCW3: read IRR */
		if (inb(0x20) & 1)
			return 1;
	}
	return 0;
}

static struct rt_fault f;

void test_main(void)
{
	rt_set_handler(VEC_IRQ0, on_irq0);
	rt_pic_pit_init(VEC_IRQ0, 1193);

	want_first = 1;
	int v = rt_try(0, t_hlt, 0, &f);
	rt_expect_fault("hlt-no-fault", v, &f, -1, 0, 0);
	rt_check(ticks >= 1, "hlt-woken-by-irq", "ticks %u", ticks);
	rt_expect_eq("irq-after-hlt-eip", first.eip, (uint32_t)t_hlt_n);
	rt_check(!(first_flags & EFL_IF), "irq-gate-clears-if", "eflags 0x%x", first_flags);
	rt_check(first.eflags & EFL_IF, "irq-frame-has-if", "eflags 0x%x", first.eflags);
	rt_check(!(read_eflags() & EFL_IF), "if-clear-after-cli", "eflags 0x%x", read_eflags());

	/* IF=0: a pending IRQ waits */
	uint32_t t0 = ticks;
	int pend = wait_pending();
	rt_check(pend, "irq-pending-in-irr", "%s", "IRR bit 0 never set");
	rt_expect_eq("if0-holds-irq-back", ticks, t0);

	/* STI: the pending IRQ comes after the next instruction */
	want_first = 1;
	v = rt_try(0, t_sti_shadow, 0, &f);
	rt_expect_fault("sti-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("sti-shadow-one-instruction", first.eip, (uint32_t)t_sti_2);

	/* POPF setting IF has no shadow */
	pend = wait_pending();
	want_first = 1;
	v = rt_try(0, t_popf, 0, &f);
	rt_expect_fault("popf-no-fault", v, &f, -1, 0, 0);
	rt_check(pend, "irq-pending-again", "%s", "IRR bit 0 never set");
	rt_expect_eq("popf-no-shadow", first.eip, (uint32_t)t_popf_1);

	/* an IRQ at CPL 3: CS, SS:ESP of the user pushed on the TSS stack */
	want_first = 1;
	v = rt_try(0, t_user_irq, 0, &f);
	rt_expect_fault("user-irq-returns", v, &f, -1, 0, 0);
	rt_expect_eq("user-irq-pushed-cs", first.cs & 0xffff, SEL_UCODE);
	rt_expect_eq("user-irq-pushed-ss", first.ss & 0xffff, SEL_UDATA);
	rt_check(first.esp <= (uint32_t)irq_ustack_top && first.esp > (uint32_t)irq_ustack_top - 2048,
		 "user-irq-pushed-user-esp", "esp 0x%x, stack top 0x%x", first.esp,
		 (uint32_t)irq_ustack_top);
	rt_check(first.eflags & EFL_IF, "user-irq-pushed-if", "eflags 0x%x", first.eflags);

	/* REP MOVSB may be interrupted between iterations: then EIP is the
	 * REP itself and ESI/EDI/ECX show the bytes done so far */
	for (uint32_t i = 0; i < REP_LEN; i += 4096)
		rep_src[i] = (uint8_t)(i >> 12);
	uint32_t tr = ticks;
	v = rt_try(0, t_rep, REP_LEN, &f);
	rt_printf("NOTE rep: %u ticks during the copy, %u part-way through the REP\n",
		  ticks - tr, rep_hits);
	rt_expect_fault("rep-irq-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("rep-irq-completes", f.ret, 0);
	rt_check(!rt_memcmp(rep_src, rep_dst, REP_LEN), "rep-irq-copy-intact", "%s", "differs");
	if (!rep_hits) {
		rt_skip("rep-irq-interrupted-state", "no IRQ arrived inside the REP");
	} else {
		uint32_t done = REP_LEN - rep_ecx;
		rt_check(rep_ecx > 0 && rep_ecx < REP_LEN &&
			 rep_esi == (uint32_t)rep_src + done && rep_edi == (uint32_t)rep_dst + done,
			 "rep-irq-interrupted-state", "ecx 0x%x esi 0x%x edi 0x%x",
			 rep_ecx, rep_esi, rep_edi);
	}
	outb(0x21, 0xff);
	rt_set_handler(VEC_IRQ0, 0);
}
