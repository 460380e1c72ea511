/* tests/unit/test_mon_sys.c — the hybrid engine's system-mode exit protocol
 * (monitor/mon-sys.c), run in userland on plain memory exactly as hvmm.ko
 * runs it over pinned frames: a read exits before its instruction commits
 * and re-executes with userland's value, a write exits after it, a second
 * access in the same run waits for the next run, HLT exits, the interrupt
 * window stops at the boundary and the injected vector is delivered. */
#include "tests/unit/unit.h"
#include "tests/unit/mon-sys-bed.h"
#include "monitor/mon-sys.h"
#include "monitor/monitor.h"

#include <stdlib.h>
#include <string.h>

#define NPAGES 16

static uint8_t *ram;
static void *pages[NPAGES];
static struct mon_sys *ms;
static void *cpu;

/* Real mode at 0000:1000, IF=1, [0x8000, 0x9000) is MMIO. */
static void setup(const uint8_t *code, size_t len)
{
	struct hvmm_sregs s;

	mon_sys_bed__alloc(NPAGES, mon_sys_bed__fixed_now, &ram, pages, &ms, &cpu);
	memcpy(ram + 0x1000, code, len);
	/* IVT[0x20] = 0000:1100: mov byte [0x2001], 0x77; hlt */
	ram[0x80] = 0x00; ram[0x81] = 0x11; ram[0x82] = 0; ram[0x83] = 0;
	memcpy(ram + 0x1100, "\xc6\x06\x01\x20\x77\xf4", 6);
	mon_sys_bed__real_mode(&s, 0x202);
	mon_sys__set_state(ms, &s);
}

static void teardown(void)
{
	free(ram);
	free(ms);
	free(cpu);
}

static uint32_t eip(void)
{
	struct hvmm_sregs s;
	mon_sys__get_state(ms, &s);
	return s.eip;
}

static void test_exit_protocol(void)
{
	/* in al,0x71; mov [0x2000],al; out 0x80,al; out 0x81,al;
	 * mov ax,[0x8004]; mov [0x8008],ax; hlt */
	static const uint8_t code[] = { 0xe4, 0x71, 0xa2, 0x00, 0x20, 0xe6, 0x80,
					0xe6, 0x81, 0xa1, 0x04, 0x80, 0xa3, 0x08,
					0x80, 0xf4 };
	struct hvmm_sys_run r = { 0 };
	struct hvmm_sys_stats st;

	setup(code, sizeof(code));
	/* IN: exits before it commits, EIP still at it */
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_IO);
	CU_ASSERT(!r.is_write && r.addr == 0x71 && r.len == 1);
	CU_ASSERT_EQUAL(eip(), 0x1000);
	/* the value comes back, the IN re-executes; OUT exits after it */
	r = (struct hvmm_sys_run){ .flags = HVMM_SRUN_DATA, .data = 0x5a };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_IO);
	CU_ASSERT(r.is_write && r.addr == 0x80 && r.len == 1 && r.wdata == 0x5a);
	CU_ASSERT_EQUAL(ram[0x2000], 0x5a);
	/* the second OUT of the same block waited for this run */
	r = (struct hvmm_sys_run){ 0 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_IO);
	CU_ASSERT(r.is_write && r.addr == 0x81 && r.wdata == 0x5a);
	/* MMIO read and write */
	r = (struct hvmm_sys_run){ 0 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_MMIO);
	CU_ASSERT(!r.is_write && r.addr == 0x8004 && r.len == 2);
	CU_ASSERT_EQUAL(eip(), 0x1009);
	r = (struct hvmm_sys_run){ .flags = HVMM_SRUN_DATA, .data = 0xbeef };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_MMIO);
	CU_ASSERT(r.is_write && r.addr == 0x8008 && r.len == 2 && r.wdata == 0xbeef);
	CU_ASSERT_EQUAL(ram[0x8008], 0);	/* MMIO: RAM behind it untouched */
	/* HLT, then the INTR line: the window opens at the boundary */
	r = (struct hvmm_sys_run){ 0 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	r = (struct hvmm_sys_run){ .flags = HVMM_SRUN_IRQ };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_INTR_WINDOW);
	CU_ASSERT_EQUAL(ram[0x2001], 0);
	r = (struct hvmm_sys_run){ .flags = HVMM_SRUN_INJECT, .inject = 0x20 };
	/* the handler runs with IF=0 (the interrupt cleared it): its HLT */
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT_DEAD);
	CU_ASSERT_EQUAL(ram[0x2001], 0x77);
	CU_ASSERT_EQUAL(eip(), 0x1106);
	mon_sys__stats(ms, &st);
	CU_ASSERT_EQUAL(st.interrupts, 1);
	CU_ASSERT_EQUAL(st.exits[HVMM_SX_IO], 3);
	CU_ASSERT_EQUAL(st.exits[HVMM_SX_MMIO], 2);
	CU_ASSERT(st.retries >= 2);	/* IN and the MMIO read */
	teardown();
}

static void test_budget_and_shutdown(void)
{
	/* jmp $ (budget), then a triple fault: IDT limit 0 and int3 */
	static const uint8_t spin[] = { 0xeb, 0xfe };
	struct hvmm_sys_run r = { .budget = 1000 };
	struct hvmm_sregs s;
	char buf[4096];

	setup(spin, sizeof(spin));
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_BUDGET);
	CU_ASSERT(r.icount >= 1000 && r.icount < 1100);
	mon_sys__get_state(ms, &s);
	s.idt_limit = 0;
	s.cr0 |= 1;		/* protected mode, no IDT: #GP -> #DF -> shutdown */
	s.seg[1].attr = 0xc09b;
	s.seg[1].limit = 0xffffffff;
	mon_sys__set_state(ms, &s);
	ram[0x1000] = 0xcc;
	r = (struct hvmm_sys_run){ .budget = 1000 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_SHUTDOWN);
	CU_ASSERT(mon_sys__dump(ms, buf, sizeof(buf)) > 0);
	CU_ASSERT(strstr(buf, "EIP") != NULL || strstr(buf, "eip") != NULL);
	teardown();
}

static void test_several_reads(void)
{
	/* mov si,0x8000; mov di,0x8010; cmpsb (two MMIO reads); pushf;
	 * mov cx,3; mov di,0x3000; mov dx,0x60; rep insb; hlt */
	static const uint8_t code[] = { 0xbe, 0x00, 0x80, 0xbf, 0x10, 0x80, 0xa6, 0x9c,
					0xb9, 0x03, 0x00, 0xbf, 0x00, 0x30, 0xba, 0x60,
					0x00, 0xf3, 0x6c, 0xf4 };
	struct hvmm_sys_run r = { 0 };

	setup(code, sizeof(code));
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_MMIO);
	CU_ASSERT(!r.is_write && r.addr == 0x8000 && r.len == 1);
	r = (struct hvmm_sys_run){ .flags = HVMM_SRUN_DATA, .data = 0x11 };
	/* the first read is served again, the second one exits */
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_MMIO);
	CU_ASSERT(!r.is_write && r.addr == 0x8010 && r.len == 1);
	CU_ASSERT_EQUAL(eip(), 0x1006);
	r = (struct hvmm_sys_run){ .flags = HVMM_SRUN_DATA, .data = 0x11 };
	/* CMPSB completes (equal: ZF in the pushed flags); each REP INSB
	 * iteration gets its own value, none replayed from the one before */
	for (int i = 1; i <= 3; i++) {
		CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_IO);
		CU_ASSERT(!r.is_write && r.addr == 0x60);
		r = (struct hvmm_sys_run){ .flags = HVMM_SRUN_DATA, .data = (uint64_t)i };
	}
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	CU_ASSERT(ram[0x7000 - 2] & 0x40);
	CU_ASSERT(ram[0x3000] == 1 && ram[0x3001] == 2 && ram[0x3002] == 3);
	teardown();
}

/* A device's DMA into a page the interpreter has decoded code from: without
 * mon_sys__invalidate_phys the old instructions run again (the control,
 * which shows the check can fail), with it the new ones run. */
static void test_dma_invalidate(void)
{
	/* 1000: call 3000; out 0xf4, al; jmp 1000 -- 3000: mov al, 0x11; ret */
	static const uint8_t code[] = { 0xe8, 0xfd, 0x1f, 0xe6, 0xf4, 0xeb, 0xf9 };
	struct hvmm_sys_run r = { .budget = 1000 };

	setup(code, sizeof(code));
	memcpy(ram + 0x3000, "\xb0\x11\xc3", 3);
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_IO);
	CU_ASSERT_EQUAL(r.addr, 0xf4);
	CU_ASSERT_EQUAL(r.wdata, 0x11);
	ram[0x3001] = 0x22;		/* DMA: behind the interpreter's back */
	r = (struct hvmm_sys_run){ .budget = 1000 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_IO);
	CU_ASSERT_EQUAL(r.wdata, 0x11);	/* stale decoded code: the control */
	mon_sys__invalidate_phys(ms, 0x3000, 1);
	r = (struct hvmm_sys_run){ .budget = 1000 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_IO);
	CU_ASSERT_EQUAL(r.wdata, 0x22);
	/* any range is safe: clamped to RAM */
	mon_sys__invalidate_phys(ms, ~0ull, ~0ull);
	mon_sys__invalidate_phys(ms, 0, ~0ull);
	mon_sys__invalidate_phys(ms, 0x2fff, 0);
	ram[0x3001] = 0x33;
	mon_sys__invalidate_phys(ms, 0x2fff, 2);	/* straddles into the page */
	r = (struct hvmm_sys_run){ .budget = 1000 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_IO);
	CU_ASSERT_EQUAL(r.wdata, 0x33);
	teardown();
}

static CU_TestInfo mon_sys_tests[] = {
	{ "an instruction with two device reads, REP INS", test_several_reads },
	{ "DMA invalidation drops stale decoded code", test_dma_invalidate },
	{ "exit protocol: IN/OUT/MMIO/HLT/interrupt window", test_exit_protocol },
	{ "budget and triple fault", test_budget_and_shutdown },
	CU_TEST_INFO_NULL,
};

UNIT_SUITE(mon_sys, .tests = mon_sys_tests);
