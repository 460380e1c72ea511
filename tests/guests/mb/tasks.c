/* tests/guests/mb/tasks.c — hardware task switches: a double fault through an
 * IDT task gate (as Linux i386 handles #DF) and back by IRET, CALL through a
 * GDT task gate (NT, back link, busy bits), JMP to a TSS (busy bit moves, no
 * link), and the #GP/#TS checks on busy/not-busy targets.
 * SDM Vol. 3A chapter 7 (7.3 task switching, 7.4 task linking), 6.15 #DF. */
#include "rt.h"

const char rt_test_name[] = "tasks";

#define TG_IDX	(GDT_FREE)		/* task gate to rt_tss2 in the GDT */
#define TG_SEL	SEL(TG_IDX, 0)
#define TSS_IDX	(SEL_TSS >> 3)
#define TSS2_IDX (SEL_TSS2 >> 3)

uint32_t t_df(uint32_t), t_call_task(uint32_t), t_jmp_task(uint32_t);
uint32_t t_call_busy(uint32_t), t_iret_nt(uint32_t);
void df_task(void), call_task(void), jmp_task(void);
extern char t_df_resume[], t_call_task_n[], t_call_busy_i[], t_iret_nt_i[];

/* what the tasks saw */
uint32_t df_err, df_tr, df_eflags, df_link, df_gdt_main, df_gdt_df, df_count, df_resume_esp;
uint32_t ct_eax, ct_tr, ct_eflags, ct_link, ct_gdt_main, ct_gdt_new, ct_main_ebx, ct_main_eip;
uint32_t ct_ebx_after;
uint32_t jt_eflags, jt_link, jt_gdt_main, jt_gdt_new;

/* the main task: divide by zero with a not-present #DE gate: #DE, then #NP
 * while delivering it, two contributory faults: #DF (SDM Vol. 3A table 6-5) */
ASM_FN(t_df, "push %ebx\n push %esi\n push %edi\n push %ebp\n mov %esp,df_resume_esp\n"
	     "xor %ecx,%ecx\n mov $1,%eax\n xor %edx,%edx\n div %ecx\n ud2\n"
	     "t_df_resume: pop %ebp\n pop %edi\n pop %esi\n pop %ebx\n mov df_count,%eax\n ret");
/* the #DF task: error code on its own stack, then back by IRET (NT=1),
 * after pointing the main task at t_df_resume; runs again from the top */
ASM_FN(df_task, "pop %eax\n mov %eax,df_err\n str %ax\n movzwl %ax,%eax\n mov %eax,df_tr\n"
		"pushf\n pop df_eflags\n movzwl rt_tss2,%eax\n mov %eax,df_link\n"
		"mov rt_gdt+0x2c,%eax\n mov %eax,df_gdt_main\n mov rt_gdt+0x34,%eax\n"
		"mov %eax,df_gdt_df\n incl df_count\n"
		"movl $t_df_resume,rt_tss+32\n mov df_resume_esp,%eax\n mov %eax,rt_tss+56\n"
		"iret\n jmp df_task");
ASM_FN(t_call_task, "push %ebx\n mov $0x12345678,%ebx\n lcall $0x48,$0\n"
		    "t_call_task_n: mov %ebx,ct_ebx_after\n pop %ebx\n ret");
ASM_FN(call_task, "mov %eax,ct_eax\n str %ax\n movzwl %ax,%eax\n mov %eax,ct_tr\n"
		  "pushf\n pop ct_eflags\n movzwl rt_tss2,%eax\n mov %eax,ct_link\n"
		  "mov rt_gdt+0x2c,%eax\n mov %eax,ct_gdt_main\n mov rt_gdt+0x34,%eax\n"
		  "mov %eax,ct_gdt_new\n mov rt_tss+52,%eax\n mov %eax,ct_main_ebx\n"
		  "mov rt_tss+32,%eax\n mov %eax,ct_main_eip\n"
		  "xor %ebx,%ebx\n iret\n jmp call_task");
ASM_FN(t_jmp_task, "push %ebx\n push %esi\n push %edi\n push %ebp\n ljmp $0x30,$0\n"
		   "pop %ebp\n pop %edi\n pop %esi\n pop %ebx\n ret");
ASM_FN(jmp_task, "pushf\n pop jt_eflags\n movzwl rt_tss2,%eax\n mov %eax,jt_link\n"
		 "mov rt_gdt+0x2c,%eax\n mov %eax,jt_gdt_main\n mov rt_gdt+0x34,%eax\n"
		 "mov %eax,jt_gdt_new\n ljmp $0x28,$0\n jmp jmp_task");
ASM_FN(t_call_busy, "t_call_busy_i: lcall $0x28,$0\n ret");
ASM_FN(t_iret_nt, "pushf\n orl $0x4000,(%esp)\n popf\n t_iret_nt_i: iret");

static struct rt_fault f;
static uint8_t task_stack[8192] __attribute__((aligned(16)));

static void task_init(void (*entry)(void))
{
	rt_memset(&rt_tss2, 0, sizeof(rt_tss2));
	rt_tss2.eip = (uint32_t)entry;
	rt_tss2.esp = (uint32_t)(task_stack + sizeof(task_stack));
	rt_tss2.eflags = 2;
	rt_tss2.cs = SEL_KCODE;
	rt_tss2.ss = rt_tss2.ds = rt_tss2.es = rt_tss2.fs = rt_tss2.gs = SEL_KDATA;
	rt_tss2.cr3 = read_cr3();
	rt_tss2.iomap = sizeof(rt_tss2);
	rt_gdt_tss(TSS2_IDX, &rt_tss2, sizeof(rt_tss2) - 1, 0);
}

static uint32_t tss_type(uint32_t hi) { return (hi >> 8) & 0xf; }

static void check_double_fault(void)
{
	task_init(df_task);
	rt_idt_set(8, SEL_TSS2, 0, GATE_TASK, 0, 1);
	rt_idt_set(0, SEL_KCODE, rt_idt_stub(0), GATE_INT32, 0, 0);
	int v = rt_try(0, t_df, 0, &f);
	rt_idt_default(0);
	rt_expect_fault("df-task-returns", v, &f, -1, 0, 0);
	rt_expect_eq("df-task-ran-once", f.ret, 1);
	rt_expect_eq("df-error-code-zero", df_err, 0);
	rt_expect_eq("df-task-tr", df_tr, SEL_TSS2);
	rt_check(df_eflags & EFL_NT, "df-task-nt-set", "eflags 0x%x", df_eflags);
	rt_expect_eq("df-back-link", df_link, SEL_TSS);
	rt_expect_eq("df-main-tss-busy", tss_type(df_gdt_main), 0xb);
	rt_expect_eq("df-new-tss-busy", tss_type(df_gdt_df), 0xb);
	rt_expect_eq("df-after-iret-new-tss-free", tss_type(rt_gdt[TSS2_IDX] >> 32), 0x9);
	rt_expect_eq("df-after-iret-main-tss-busy", tss_type(rt_gdt[TSS_IDX] >> 32), 0xb);
	uint16_t tr;
	asm volatile("str %0" : "=r"(tr));
	rt_expect_eq("df-after-iret-tr", tr, SEL_TSS);
	rt_check(!(read_eflags() & EFL_NT), "df-after-iret-nt-clear", "eflags 0x%x", read_eflags());
	/* the task saved its state: the next #DF resumes after its IRET */
	rt_check(rt_tss2.eip > (uint32_t)df_task && rt_tss2.eip < (uint32_t)df_task + 200,
		 "df-task-state-saved", "tss2.eip 0x%x", rt_tss2.eip);

	/* a second double fault reuses the same task (now free again) */
	rt_idt_set(0, SEL_KCODE, rt_idt_stub(0), GATE_INT32, 0, 0);
	v = rt_try(0, t_df, 0, &f);
	rt_idt_default(0);
	rt_expect_fault("df-again-returns", v, &f, -1, 0, 0);
	rt_expect_eq("df-again-ran-twice", f.ret, 2);
	rt_idt_default(8);
}

static void check_call_task(void)
{
	task_init(call_task);
	rt_tss2.eax = 0xcafe0001;
	rt_gdt_gate(TG_IDX, SEL_TSS2, 0, GATE_TASK, 0, 0);
	int v = rt_try(0, t_call_task, 0, &f);
	rt_expect_fault("call-task-returns", v, &f, -1, 0, 0);
	rt_expect_eq("call-task-loads-eax", ct_eax, 0xcafe0001);
	rt_expect_eq("call-task-tr", ct_tr, SEL_TSS2);
	rt_check(ct_eflags & EFL_NT, "call-task-nt-set", "eflags 0x%x", ct_eflags);
	rt_expect_eq("call-task-back-link", ct_link, SEL_TSS);
	rt_expect_eq("call-task-main-busy", tss_type(ct_gdt_main), 0xb);
	rt_expect_eq("call-task-new-busy", tss_type(ct_gdt_new), 0xb);
	rt_expect_eq("call-task-saved-ebx", ct_main_ebx, 0x12345678);
	rt_expect_eq("call-task-saved-eip", ct_main_eip, (uint32_t)t_call_task_n);
	rt_expect_eq("call-task-ebx-restored", ct_ebx_after, 0x12345678);
	rt_expect_eq("call-task-after-new-free", tss_type(rt_gdt[TSS2_IDX] >> 32), 0x9);

	/* CALL to a busy task (ourselves): #GP(selector) */
	v = rt_try(0, t_call_busy, 0, &f);
	rt_expect_fault("call-busy-task-gp", v, &f, 13, SEL_TSS, (uint32_t)t_call_busy_i);
	rt_gdt[TG_IDX] = 0;
}

static void check_jmp_task(void)
{
	task_init(jmp_task);
	rt_tss2.link = 0x1234;
	int v = rt_try(0, t_jmp_task, 0, &f);
	rt_expect_fault("jmp-task-returns", v, &f, -1, 0, 0);
	rt_check(!(jt_eflags & EFL_NT), "jmp-task-nt-clear", "eflags 0x%x", jt_eflags);
	rt_expect_eq("jmp-task-link-untouched", jt_link, 0x1234);
	rt_expect_eq("jmp-task-old-freed", tss_type(jt_gdt_main), 0x9);
	rt_expect_eq("jmp-task-new-busy", tss_type(jt_gdt_new), 0xb);
	rt_expect_eq("jmp-back-new-freed", tss_type(rt_gdt[TSS2_IDX] >> 32), 0x9);
	rt_expect_eq("jmp-back-main-busy", tss_type(rt_gdt[TSS_IDX] >> 32), 0xb);
}

static void check_iret_nt(void)
{
	/* IRET with NT=1 returns to the back link, which must be busy: #TS(link) */
	task_init(jmp_task);
	rt_tss.link = SEL_TSS2;
	int v = rt_try(0, t_iret_nt, 0, &f);
	rt_tss.link = 0;
	rt_expect_fault("iret-nt-to-free-tss-ts", v, &f, 10, SEL_TSS2, (uint32_t)t_iret_nt_i);
	rt_check(!(read_eflags() & EFL_NT), "nt-cleared-after", "eflags 0x%x", read_eflags());
}

void test_main(void)
{
	check_double_fault();
	check_call_task();
	check_jmp_task();
	check_iret_nt();
}
