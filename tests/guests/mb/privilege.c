/* tests/guests/mb/privilege.c — interrupt vs trap gates, CPL changes through
 * IRET, interrupts from CPL 3 (TSS stack switch), call gates with parameter
 * copying, far RET to an outer ring, conforming code.
 * SDM Vol. 3A 5.8 (call gates), 6.12 (exception and interrupt handling). */
#include "rt.h"

const char rt_test_name[] = "privilege";

#define CG_IDX		(GDT_FREE)		/* call gate DPL 3 -> kernel, 2 params */
#define CG0_IDX		(GDT_FREE + 1)		/* call gate DPL 0 */
#define CGU_IDX		(GDT_FREE + 2)		/* DPL 3 gate to DPL 3 code, from CPL 0 */
#define CONF_IDX	(GDT_FREE + 3)		/* conforming DPL 0 code */

uint32_t t_int50(uint32_t), t_int51(uint32_t), t_int52_user(uint32_t), t_int52_k(uint32_t);
uint32_t t_iret_null(uint32_t), t_callgate(uint32_t), t_callgate0(uint32_t);
uint32_t t_callgate_up(uint32_t), t_conforming(uint32_t);
void t_cg_target(void);
void t_conf_target(void);
extern char t_callgate0_i[], t_callgate_up_i[];

/* what the gate targets saw */
uint32_t cg_stack[7];		/* new ESP, then 6 dwords at it */
uint32_t cg_cs, cg_ss;
uint32_t cg_after[6];		/* ESP delta, CS, DS, ES, FS, GS back at CPL 3 */
uint32_t conf_cs, cg_caller_esp;
static uint8_t iret_ustack[4096] __attribute__((aligned(16)));
uint32_t iret_ustack_top;

ASM_FN(t_int50, "pushf\n orl $0x200,(%esp)\n popf\n int $0x50\n cli\n ret");
ASM_FN(t_int51, "pushf\n orl $0x200,(%esp)\n popf\n int $0x51\n cli\n ret");
/* EAX carries the ESP the interrupt saw */
ASM_FN(t_int52_user, "push %ebx\n mov %esp,%eax\n int $0x52\n pop %ebx\n ret");
ASM_FN(t_int52_k, "push %ebx\n mov %esp,%eax\n int $0x52\n pop %ebx\n ret");
/* IRET to CPL 3 with DS, FS, GS = DPL 0 data and ES = DPL 3 data: the DPL 0
 * ones must read as null at CPL 3 (SDM Vol. 2A IRET, RETURN-TO-OUTER-PRIVILEGE) */
ASM_FN(t_iret_null,
	"mov $0x10,%ax\n mov %ax,%fs\n mov %ax,%gs\n mov $0x23,%ax\n mov %ax,%es\n"
	"push $0x23\n push iret_ustack_top\n pushf\n andl $~0x4700,(%esp)\n"
	"push $0x1b\n push $1f\n iret\n"
	"1: mov %ds,%ecx\n mov %es,%edx\n mov %fs,%esi\n mov %gs,%edi\n"
	"mov %cs,%ebx\n int $0x52\n"
	"mov $0x52455455,%eax\n xor %ebx,%ebx\n int $0x81");
/* CPL 3: two parameters through a call gate, then back by RET 8 */
ASM_FN(t_callgate,
	"push %ebx\n push %esi\n mov $0x23,%ax\n mov %ax,%es\n mov %ax,%fs\n mov %ax,%gs\n"
	"push $0x22222222\n push $0x11111111\n mov %esp,%esi\n mov %esi,cg_caller_esp\n"
	"lcall $" "0x4b" ",$0x12345678\n"
	"mov %esp,%eax\n sub %esi,%eax\n mov %eax,cg_after\n"
	"mov %cs,%eax\n mov %eax,cg_after+4\n mov %ds,%eax\n mov %eax,cg_after+8\n"
	"mov %es,%eax\n mov %eax,cg_after+12\n mov %fs,%eax\n mov %eax,cg_after+16\n"
	"mov %gs,%eax\n mov %eax,cg_after+20\n"
	"mov $0x23,%ax\n mov %ax,%es\n"
	"pop %esi\n pop %ebx\n ret");
/* CPL 0 gate target: record the new stack, load a DPL 0 selector into ES and
 * FS, keep DS and GS at the caller's DPL 3 one, return popping 8 bytes */
ASM_FN(t_cg_target,
	"mov %esp,cg_stack\n"
	"mov 0(%esp),%eax\n mov %eax,cg_stack+4\n mov 4(%esp),%eax\n mov %eax,cg_stack+8\n"
	"mov 8(%esp),%eax\n mov %eax,cg_stack+12\n mov 12(%esp),%eax\n mov %eax,cg_stack+16\n"
	"mov 16(%esp),%eax\n mov %eax,cg_stack+20\n mov 20(%esp),%eax\n mov %eax,cg_stack+24\n"
	"mov %cs,%eax\n mov %eax,cg_cs\n mov %ss,%eax\n mov %eax,cg_ss\n"
	"mov $0x10,%ax\n mov %ax,%es\n mov %ax,%fs\n"
	"lret $8");
ASM_FN(t_callgate0, "t_callgate0_i: lcall $0x53,$0\n ret");
ASM_FN(t_callgate_up, "t_callgate_up_i: lcall $0x58,$0\n ret");
ASM_FN(t_conforming, "lcall $0x60,$t_conf_target\n ret");
ASM_FN(t_conf_target, "mov %cs,%eax\n mov %eax,conf_cs\n lret");

/* IRET forms (SDM Vol. 2A IRET): same privilege, 16-bit, and the checks on
 * the popped CS and SS */
uint32_t t_iret_same(uint32_t), t_iretw(uint32_t), t_iret_bad_ss(uint32_t);
uint32_t t_iret_bad_cs(uint32_t), t_iret_inner(uint32_t), t_iret_np(uint32_t);
extern char t_iret_bad_ss_i[], t_iret_bad_cs_i[], t_iret_inner_i[], t_iret_np_i[];
/* returns the ESP difference across the IRET (0 when the frame was popped) */
ASM_FN(t_iret_same, "mov %esp,%edx\n pushf\n push %cs\n push $1f\n iret\n 1: mov %esp,%eax\n"
		    "sub %edx,%eax\n ret");
/* IRETW pops IP, CS, FLAGS as words; IP 0x7000 holds "jmp *%ecx" */
ASM_FN(t_iretw, "mov %esp,%edx\n mov $1f,%ecx\n pushfw\n pushw $0x08\n pushw $0x7000\n iretw\n"
		"1: mov %esp,%eax\n sub %edx,%eax\n ret");
ASM_FN(t_iret_bad_ss, "push $0x20\n push %esp\n pushf\n push $0x1b\n push $0\n"
		      "t_iret_bad_ss_i: iret");
ASM_FN(t_iret_bad_cs, "push $0x23\n push %esp\n pushf\n push $0x0b\n push $0\n"
		      "t_iret_bad_cs_i: iret");
ASM_FN(t_iret_inner, "pushf\n push $0x08\n push $0\n t_iret_inner_i: iret");
ASM_FN(t_iret_np, "pushf\n push $0x48\n push $0\n t_iret_np_i: iret");

static struct rt_fault f;
static struct rt_frame last;
static uint32_t last_hflags, last_frame_addr;

static int on_record(struct rt_frame *fr)
{
	last = *fr;
	last_hflags = read_eflags();
	last_frame_addr = (uint32_t)fr;
	return 1;
}

static void check_gates_if(void)
{
	rt_idt_set(0x50, SEL_KCODE, rt_idt_stub(0x50), GATE_INT32, 0, 1);
	rt_idt_set(0x51, SEL_KCODE, rt_idt_stub(0x51), GATE_TRAP32, 0, 1);
	rt_set_handler(0x50, on_record);
	rt_set_handler(0x51, on_record);
	int v = rt_try(0, t_int50, 0, &f);
	rt_expect_fault("int-gate-no-fault", v, &f, -1, 0, 0);
	rt_check(!(last_hflags & EFL_IF), "int-gate-clears-if", "handler eflags 0x%x", last_hflags);
	rt_check(last.eflags & EFL_IF, "int-gate-saved-if", "saved eflags 0x%x", last.eflags);
	v = rt_try(0, t_int51, 0, &f);
	rt_expect_fault("trap-gate-no-fault", v, &f, -1, 0, 0);
	rt_check(last_hflags & EFL_IF, "trap-gate-keeps-if", "handler eflags 0x%x", last_hflags);
	rt_check(!(read_eflags() & EFL_IF), "if-clear-after", "eflags 0x%x", read_eflags());
}

static void check_stack_switch(void)
{
	static uint8_t alt[4096] __attribute__((aligned(16)));
	uint32_t esp0 = rt_tss.esp0;

	rt_idt_set(0x52, SEL_KCODE, rt_idt_stub(0x52), GATE_INT32, 3, 1);
	rt_set_handler(0x52, on_record);

	/* from CPL 0: no stack switch, no SS:ESP pushed */
	int v = rt_try(0, t_int52_k, 0, &f);
	rt_expect_fault("int-cpl0-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("int-cpl0-same-stack", (uint32_t)&((struct rt_frame *)last_frame_addr)->esp,
		     last.eax);
	rt_expect_eq("int-cpl0-pushed-cs", last.cs & 0xffff, SEL_KCODE);

	/* from CPL 3: SS:ESP pushed on the TSS.ESP0 stack */
	v = rt_try(3, t_int52_user, 0, &f);
	rt_expect_fault("int-cpl3-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("int-cpl3-frame-at-esp0", last_frame_addr + sizeof(struct rt_frame), esp0);
	rt_expect_eq("int-cpl3-pushed-ss", last.ss & 0xffff, SEL_UDATA);
	rt_expect_eq("int-cpl3-pushed-esp", last.esp, last.eax);
	rt_expect_eq("int-cpl3-pushed-cs", last.cs & 0xffff, SEL_UCODE);

	/* a new TSS.ESP0 moves the frame */
	rt_tss.esp0 = (uint32_t)(alt + sizeof(alt));
	v = rt_try(3, t_int52_user, 0, &f);
	rt_tss.esp0 = esp0;
	rt_expect_fault("int-cpl3-alt-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("int-cpl3-follows-tss-esp0", last_frame_addr + sizeof(struct rt_frame),
		     (uint32_t)(alt + sizeof(alt)));
}

static void check_iret_nulling(void)
{
	iret_ustack_top = (uint32_t)(iret_ustack + sizeof(iret_ustack));
	int v = rt_try(0, t_iret_null, 0, &f);
	rt_expect_fault("iret-outer-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("iret-outer-cs", last.ebx & 0xffff, SEL_UCODE);
	rt_expect_eq("iret-outer-ds-dpl0-nulled", last.ecx & 0xffff, 0);
	rt_expect_eq("iret-outer-es-dpl3-kept", last.edx & 0xffff, SEL_UDATA);
	rt_expect_eq("iret-outer-fs-dpl0-nulled", last.esi & 0xffff, 0);
	rt_expect_eq("iret-outer-gs-dpl0-nulled", last.edi & 0xffff, 0);
}

static void check_call_gates(void)
{
	rt_gdt_gate(CG_IDX, SEL_KCODE, (uint32_t)t_cg_target, GATE_CALL32, 3, 2);
	rt_memset(cg_stack, 0, sizeof(cg_stack));
	int v = rt_try(3, t_callgate, 0, &f);
	rt_expect_fault("callgate-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("callgate-new-esp", cg_stack[0], rt_tss.esp0 - 24);
	rt_expect_eq("callgate-pushed-cs", cg_stack[2] & 0xffff, SEL_UCODE);
	rt_expect_eq("callgate-param-1", cg_stack[3], 0x11111111);
	rt_expect_eq("callgate-param-2", cg_stack[4], 0x22222222);
	rt_expect_eq("callgate-pushed-ss", cg_stack[6] & 0xffff, SEL_UDATA);
	rt_expect_eq("callgate-target-cs", cg_cs & 0xffff, SEL_KCODE);
	rt_expect_eq("callgate-target-ss", cg_ss & 0xffff, SEL_KDATA);
	/* RET 8 to CPL 3 pops the caller's two parameters as well */
	rt_expect_eq("farret-outer-esp", cg_after[0], 8);
	rt_expect_eq("farret-outer-cs", cg_after[1] & 0xffff, SEL_UCODE);
	rt_expect_eq("farret-outer-ds-kept", cg_after[2] & 0xffff, SEL_UDATA);
	rt_expect_eq("farret-outer-es-nulled", cg_after[3] & 0xffff, 0);
	rt_expect_eq("farret-outer-fs-nulled", cg_after[4] & 0xffff, 0);
	rt_expect_eq("farret-outer-gs-kept", cg_after[5] & 0xffff, SEL_UDATA);

	/* the ESP pushed on the new stack is the caller's, after its pushes */
	rt_expect_eq("callgate-pushed-esp", cg_stack[5], cg_caller_esp);

	/* a DPL 0 gate from CPL 3: #GP(gate selector) */
	rt_gdt_gate(CG0_IDX, SEL_KCODE, (uint32_t)t_cg_target, GATE_CALL32, 0, 0);
	v = rt_try(3, t_callgate0, 0, &f);
	rt_expect_fault("callgate-dpl0-from-cpl3", v, &f, 13, SEL(CG0_IDX, 0),
			(uint32_t)t_callgate0_i);
	/* a CALL may not go to a less privileged code segment: #GP(code selector) */
	rt_gdt_gate(CGU_IDX, SEL_UCODE, (uint32_t)t_cg_target, GATE_CALL32, 3, 0);
	v = rt_try(0, t_callgate_up, 0, &f);
	rt_expect_fault("callgate-to-outer-ring", v, &f, 13, SEL_UCODE & ~3,
			(uint32_t)t_callgate_up_i);
	rt_gdt[CG_IDX] = rt_gdt[CG0_IDX] = rt_gdt[CGU_IDX] = 0;
}

static void check_conforming(void)
{
	rt_gdt_set(CONF_IDX, 0, 0xfffff, ACC_P | ACC_S | ACC_CODE | ACC_CODE_R | ACC_CODE_C,
		   FLG_G | FLG_DB);
	conf_cs = 0;
	int v = rt_try(3, t_conforming, 0, &f);
	rt_expect_fault("conforming-no-fault", v, &f, -1, 0, 0);
	/* a conforming segment runs at the caller's CPL: CS.RPL stays 3 */
	rt_expect_eq("conforming-keeps-cpl3", conf_cs & 0xffff, SEL(CONF_IDX, 3));
	rt_gdt[CONF_IDX] = 0;
}

static void check_iret_forms(void)
{
	int v = rt_try(0, t_iret_same, 0, &f);
	rt_expect_fault("iret-same-cpl-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("iret-same-cpl-pops-3-dwords", f.ret, 0);
	asm volatile("movw $0xe1ff,0x7000" ::: "memory");	/* jmp *%ecx */
	v = rt_try(0, t_iretw, 0, &f);
	rt_expect_fault("iretw-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("iretw-pops-3-words", f.ret, 0);
	v = rt_try(0, t_iret_bad_ss, 0, &f);
	rt_expect_fault("iret-outer-ss-rpl-mismatch", v, &f, 13, 0x20, (uint32_t)t_iret_bad_ss_i);
	v = rt_try(0, t_iret_bad_cs, 0, &f);
	rt_expect_fault("iret-outer-cs-dpl-ne-rpl", v, &f, 13, SEL_KCODE, (uint32_t)t_iret_bad_cs_i);
	v = rt_try(3, t_iret_inner, 0, &f);
	rt_expect_fault("iret-to-inner-ring", v, &f, 13, SEL_KCODE, (uint32_t)t_iret_inner_i);
	rt_gdt_set(GDT_FREE, 0, 0xfffff, ACC_S | ACC_CODE | ACC_CODE_R, FLG_G | FLG_DB);
	v = rt_try(0, t_iret_np, 0, &f);
	rt_expect_fault("iret-not-present-cs", v, &f, 11, SEL(GDT_FREE, 0), (uint32_t)t_iret_np_i);
	rt_gdt[GDT_FREE] = 0;
}

void test_main(void)
{
	check_gates_if();
	check_stack_switch();
	check_iret_nulling();
	check_call_gates();
	check_conforming();
	check_iret_forms();
}
