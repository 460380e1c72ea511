/* tests/guests/mb/debugregs.c — debug registers: instruction breakpoints
 * (faults, resumed with RF), data write and read/write watchpoints (traps
 * after the access), DR6 status bits, the DR4/DR5 aliases and CR4.DE, MOV DR
 * at CPL 3. SDM Vol. 3A 17.2 (DR0-DR7), 17.3.1 (#DB conditions). */
#include "rt.h"

const char rt_test_name[] = "debugregs";

uint32_t t_bp_target(uint32_t), t_wr_watch(uint32_t), t_rd_watch(uint32_t);
uint32_t t_mov_dr7(uint32_t), t_dr4(uint32_t), t_dr5(uint32_t);
extern char t_wr_watch_n[], t_rd_watch_n[], t_mov_dr7_i[], t_dr4_i[];

ASM_FN(t_bp_target, "mov $0x1234,%eax\n ret");
ASM_FN(t_wr_watch, "mov $0x55,%eax\n movl $7,watched+4\n t_wr_watch_n: movl $9,watched\n ret");
ASM_FN(t_rd_watch, "mov watched+8,%eax\n t_rd_watch_n: ret");
ASM_FN(t_mov_dr7, "t_mov_dr7_i: mov %dr7,%eax\n ret");
ASM_FN(t_dr4, "t_dr4_i: mov %dr4,%eax\n ret");
ASM_FN(t_dr5, "mov %dr5,%eax\n ret");

uint32_t watched[4] __attribute__((aligned(16)));
static struct rt_fault f;
static uint32_t hits, hit_eip[4], hit_dr6[4], rf_mode;

static uint32_t get_dr6(void) { uint32_t v; asm volatile("mov %%dr6,%0" : "=r"(v)); return v; }
static void set_dr6(uint32_t v) { asm volatile("mov %0,%%dr6" :: "r"(v)); }
static void set_dr7(uint32_t v) { asm volatile("mov %0,%%dr7" :: "r"(v)); }
static void set_dr(int n, uint32_t v)
{
	switch (n) {
	case 0: asm volatile("mov %0,%%dr0" :: "r"(v)); break;
	case 1: asm volatile("mov %0,%%dr1" :: "r"(v)); break;
	case 2: asm volatile("mov %0,%%dr2" :: "r"(v)); break;
	default: asm volatile("mov %0,%%dr3" :: "r"(v)); break;
	}
}

static int on_db(struct rt_frame *fr)
{
	if (hits < 4) {
		hit_eip[hits] = fr->eip;
		hit_dr6[hits] = get_dr6();
	}
	hits++;
	set_dr6(0);
	if (rf_mode)
		fr->eflags |= EFL_RF;	/* resume past the instruction breakpoint */
	else
		set_dr7(0);
	return 1;
}

static void check_exec_bp(void)
{
	hits = 0;
	rf_mode = 0;
	set_dr6(0);
	set_dr(0, (uint32_t)t_bp_target);
	set_dr7(1);				/* L0, execute, length 1 */
	int v = rt_try(0, t_bp_target, 0, &f);
	set_dr7(0);
	rt_expect_fault("exec-bp-no-stray-fault", v, &f, -1, 0, 0);
	rt_expect_eq("exec-bp-hits", hits, 1);
	rt_expect_eq("exec-bp-fault-eip", hit_eip[0], (uint32_t)t_bp_target);
	rt_expect_eq("exec-bp-dr6-b0", hit_dr6[0] & 1, 1);
	rt_expect_eq("exec-bp-instruction-ran", f.ret, 0x1234);

	/* RF: the breakpoint stays armed, fires once per execution */
	hits = 0;
	rf_mode = 1;
	set_dr(2, (uint32_t)t_bp_target);
	set_dr7(1u << 4);			/* L2 */
	rt_try(0, t_bp_target, 0, &f);
	rt_try(0, t_bp_target, 0, &f);
	set_dr7(0);
	rt_expect_eq("exec-bp-rf-once-per-run", hits, 2);
	/* B0-B3 may also be set for matching but disabled breakpoints (SDM 17.2.3):
	 * DR0 still points here, so only B2 is checked */
	rt_expect_eq("exec-bp-dr6-b2", hit_dr6[1] & 4, 4);
}

static void check_watchpoints(void)
{
	hits = 0;
	rf_mode = 0;
	watched[0] = watched[1] = 0;
	set_dr(1, (uint32_t)&watched[1]);
	/* L1, R/W1 = 01 (write), LEN1 = 11 (4 bytes) */
	set_dr7((1u << 2) | (1u << 20) | (3u << 22));
	int v = rt_try(0, t_wr_watch, 0, &f);
	set_dr7(0);
	rt_expect_fault("write-watch-no-stray-fault", v, &f, -1, 0, 0);
	rt_expect_eq("write-watch-hits", hits, 1);
	rt_expect_eq("write-watch-trap-eip-next", hit_eip[0], (uint32_t)t_wr_watch_n);
	rt_expect_eq("write-watch-dr6-b1", hit_dr6[0] & 2, 2);
	rt_expect_eq("write-watch-write-done", watched[1], 7);
	rt_expect_eq("write-watch-unwatched-write-done", watched[0], 9);

	/* R/W = 11: reads trigger as well; a write-only watch ignores reads */
	hits = 0;
	set_dr(3, (uint32_t)&watched[2]);
	set_dr7((1u << 6) | (3u << 28) | (3u << 30));
	v = rt_try(0, t_rd_watch, 0, &f);
	rt_expect_eq("rw-watch-read-hits", hits, 1);
	rt_expect_eq("rw-watch-trap-eip-next", hit_eip[0], (uint32_t)t_rd_watch_n);
	rt_expect_eq("rw-watch-dr6-b3", hit_dr6[0] & 8, 8);
	hits = 0;
	set_dr7((1u << 6) | (1u << 28) | (3u << 30));
	v = rt_try(0, t_rd_watch, 0, &f);
	set_dr7(0);
	rt_expect_eq("write-watch-ignores-read", hits, 0);
}

static void check_access(void)
{
	int v = rt_try(3, t_mov_dr7, 0, &f);
	rt_expect_fault("mov-dr-cpl3-gp", v, &f, 13, 0, (uint32_t)t_mov_dr7_i);
	/* CR4.DE=0: DR4/DR5 alias DR6/DR7; CR4.DE=1: #UD */
	set_dr7(0x401);
	v = rt_try(0, t_dr5, 0, &f);
	set_dr7(0);
	rt_expect_fault("dr5-alias-no-fault", v, &f, -1, 0, 0);
	rt_expect_eq("dr5-aliases-dr7", f.ret & 0xff, 0x01);
	write_cr4(read_cr4() | (1u << 3));
	v = rt_try(0, t_dr4, 0, &f);
	write_cr4(read_cr4() & ~(1u << 3));
	rt_expect_fault("dr4-with-cr4-de-ud", v, &f, 6, 0, (uint32_t)t_dr4_i);
}

void test_main(void)
{
	rt_set_handler(1, on_db);
	check_exec_bp();
	check_watchpoints();
	check_access();
	rt_set_handler(1, 0);
}
