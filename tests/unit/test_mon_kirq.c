/* tests/unit/test_mon_kirq.c — the in-kernel irqchip (monitor/mon-kirq.c)
 * under the system-mode vCPU (monitor/mon-sys.c), in userland exactly as
 * hvmm.ko runs them: a real-mode guest programs the PIC and PIT and sleeps;
 * its timer tick is delivered and acknowledged with no exit but HLT, whose
 * exit carries the PIT deadline; userland's lines reach the PIC; the state
 * image moves both ways without kernel pointers and is made safe. */
#include "tests/unit/unit.h"
#include "tests/unit/mon-sys-bed.h"
#include "devices/devices.h"
#include "monitor/mon-kirq.h"
#include "monitor/mon-sys.h"

#include <stdlib.h>
#include <string.h>

#define NPAGES 16

static uint8_t *ram;
static void *pages[NPAGES];
static struct mon_sys *ms;
static struct mon_kirq *kq;
static void *cpu;
static unsigned long long now = 1000;

static unsigned long long test_now(void)
{
	return now;
}

/* The board's power-on PIC and PIT as an image, chip on, clock start 0. */
static void kirq_power_on(void)
{
	struct hvmm_kirq_state st = { .flags = HVMM_KIRQ_ON };
	struct pic pic;
	struct pit pit;

	pic__init(&pic, NULL);
	pit__init(&pit, NULL, NULL);
	st.pic_size = sizeof(pic);
	st.pit_size = sizeof(pit);
	memcpy(st.pic, &pic, sizeof(pic));
	memcpy(st.pit, &pit, sizeof(pit));
	CU_ASSERT_EQUAL(mon_kirq__set_state(kq, &st), 0);
}

/* Real mode at 0000:1000, interrupts off; the IRQ0 handler (vector 0x20,
 * 0000:1100) counts in [0x2001] and sends a non-specific EOI. */
static void setup(const uint8_t *code, size_t len)
{
	static const uint8_t handler[] = { 0xfe, 0x06, 0x01, 0x20,	/* inc byte [0x2001] */
					   0xb0, 0x20, 0xe6, 0x20,	/* mov al,0x20; out 0x20,al */
					   0xcf };			/* iret */
	struct hvmm_sregs s;

	now = 1000;
	mon_sys_bed__alloc(NPAGES, test_now, &ram, pages, &ms, &cpu);
	kq = calloc(1, mon_kirq__size());
	mon_kirq__init(kq, test_now);
	mon_sys__attach_kirq(ms, kq);
	memcpy(ram + 0x1000, code, len);
	ram[0x80] = 0x00; ram[0x81] = 0x11; ram[0x82] = 0; ram[0x83] = 0;
	memcpy(ram + 0x1100, handler, sizeof(handler));
	mon_sys_bed__real_mode(&s, 0x2);
	mon_sys__set_state(ms, &s);
}

static void teardown(void)
{
	free(ram);
	free(ms);
	free(kq);
	free(cpu);
}

/* ICW1-4 (vector base 0x20), only IRQ0 unmasked; PIT channel 0 mode 2 with
 * count 11932 (10 ms); an io-delay write and read of port 0x80; sti; then
 * hlt; jmp back to the hlt. */
static const uint8_t timer_guest[] = {
	0xb0, 0x11, 0xe6, 0x20, 0xb0, 0x20, 0xe6, 0x21, 0xb0, 0x04, 0xe6, 0x21,
	0xb0, 0x01, 0xe6, 0x21, 0xb0, 0xfe, 0xe6, 0x21,
	0xb0, 0x34, 0xe6, 0x43, 0xb0, 0x9c, 0xe6, 0x40, 0xb0, 0x2e, 0xe6, 0x40,
	0xe6, 0x80, 0xe4, 0x80, 0xa2, 0x02, 0x20,
	0xfb, 0xf4, 0xeb, 0xfd,
};

static void test_tick_without_exits(void)
{
	struct hvmm_sys_run r = { 0 };
	struct hvmm_sys_stats st;
	struct hvmm_kirq_state ks;
	static const uint16_t ports[HVMM_KIRQ_NPORTS] = HVMM_KIRQ_PORTS;
	uint64_t period = 11932ull * 1000000000ull / PIT_HZ;

	setup(timer_guest, sizeof(timer_guest));
	kirq_power_on();
	/* every port is the chip's: the first exit is the HLT, with the deadline */
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	CU_ASSERT_EQUAL(ram[0x2002], 0xff);		/* port 0x80 reads as nobody's */
	CU_ASSERT(r.addr >= 1000 + period && r.addr <= 1000 + period + 2);
	/* not due yet: HLT again */
	now = r.addr - 1;
	r = (struct hvmm_sys_run){ 0 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	CU_ASSERT_EQUAL(ram[0x2001], 0);
	/* due: the tick is taken and acknowledged in the module, EOI too */
	now = r.addr;
	r = (struct hvmm_sys_run){ 0 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	CU_ASSERT_EQUAL(ram[0x2001], 1);
	CU_ASSERT(r.addr >= now + period - 1 && r.addr <= now + period + 2);
	/* three periods later: three ticks owed, one now, the others after each EOI */
	now += 3 * period + 10;
	r = (struct hvmm_sys_run){ 0 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	CU_ASSERT_EQUAL(ram[0x2001], 4);
	mon_sys__stats(ms, &st);
	CU_ASSERT_EQUAL(st.exits[HVMM_SX_IO], 0);
	CU_ASSERT_EQUAL(st.exits[HVMM_SX_INTR_WINDOW], 0);
	CU_ASSERT_EQUAL(st.interrupts, 4);
	mon_kirq__get_state(kq, &ks);
	CU_ASSERT_EQUAL(ks.acks, 4);
	for (int i = 0; i < HVMM_KIRQ_NPORTS; i++) {
		uint64_t want = ports[i] == 0x20 ? 5 : ports[i] == 0x21 ? 4 :
				ports[i] == 0x43 ? 1 : ports[i] == 0x40 ? 2 : ports[i] == 0x80 ? 2 : 0;
		CU_ASSERT_EQUAL(ks.pio[i], want);
	}
	/* the image holds no pointer of the module's */
	struct pic pic;
	struct pit pit;
	memcpy(&pic, ks.pic, sizeof(pic));
	memcpy(&pit, ks.pit, sizeof(pit));
	CU_ASSERT(pic.intr_line == NULL && pit.clock == NULL && pit.irq0 == NULL &&
		  pit.irq_pending == NULL && pit.probe_ctx == NULL);
	CU_ASSERT_EQUAL(pic.chip[0].irq_base, 0x20);
	CU_ASSERT_EQUAL(pic.chip[0].imr, 0xfe);
	CU_ASSERT_EQUAL(pit.ch[0].mode, 2);
	CU_ASSERT_EQUAL(pit.edges, 4);
	CU_ASSERT_EQUAL(pit.irq_pulses, 4);
	teardown();
}

/* Userland's lines: an edge on a masked input latches in IRR only; once
 * unmasked (chip off: the port exits) it is delivered... by the module
 * again when the chip is back on with the state userland read. */
static void test_lines_and_handover(void)
{
	struct hvmm_sys_run r = { 0 };
	struct hvmm_kirq_state ks, off = { .flags = 0 };
	struct pic pic;

	setup(timer_guest, sizeof(timer_guest));
	kirq_power_on();
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	mon_kirq__set_lines(kq, 1u << 4, 1u << 4);	/* COM1 rises (masked) */
	mon_kirq__set_lines(kq, 0, 1u << 4);		/* pulsed again, now low */
	r = (struct hvmm_sys_run){ 0 };
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	mon_kirq__get_state(kq, &ks);
	memcpy(&pic, ks.pic, sizeof(pic));
	CU_ASSERT_EQUAL(pic.chip[0].irr & 0x10, 0x10);
	CU_ASSERT_EQUAL(ks.levels, 0);
	CU_ASSERT_EQUAL(ks.line_updates, 2);
	/* IRQ 0 and 2 are not userland's to drive */
	mon_kirq__set_lines(kq, 0x5, 0x5);
	mon_kirq__get_state(kq, &ks);
	memcpy(&pic, ks.pic, sizeof(pic));
	CU_ASSERT_EQUAL(pic.chip[0].lines & 0x5, 0);
	/* chip off: its ports exit to userland again */
	CU_ASSERT_EQUAL(mon_kirq__set_state(kq, &off), 0);
	CU_ASSERT_FALSE(mon_kirq__on(kq));
	CU_ASSERT_EQUAL(mon_kirq__deadline(kq), ~0ull);
	ram[0x1029] = 0xe6; ram[0x102a] = 0x21;	/* out 0x21,al instead of jmp */
	now += 100;
	r = (struct hvmm_sys_run){ 0 };
	/* (the HLT is left by an injected-free run: the CPU stays halted) */
	CU_ASSERT_EQUAL(mon_sys__run(ms, &r), HVMM_SX_HLT);
	/* back on with the image read before: the PIC keeps IRR bit 4 */
	ks.flags = HVMM_KIRQ_ON;
	CU_ASSERT_EQUAL(mon_kirq__set_state(kq, &ks), 0);
	CU_ASSERT(mon_kirq__on(kq));
	mon_kirq__get_state(kq, &ks);
	memcpy(&pic, ks.pic, sizeof(pic));
	CU_ASSERT_EQUAL(pic.chip[0].irr & 0x10, 0x10);
	teardown();
}

/* Whatever image userland sends, the models stay safe to run. */
static void test_image_sanitized(void)
{
	struct hvmm_kirq_state st = { .flags = HVMM_KIRQ_ON };
	struct pit pit;
	uint8_t v;

	setup(timer_guest, sizeof(timer_guest));
	st.pic_size = sizeof(struct pic);
	st.pit_size = sizeof(struct pit) + 1;
	CU_ASSERT_EQUAL(mon_kirq__set_state(kq, &st), -22);
	CU_ASSERT_FALSE(mon_kirq__on(kq));
	st.pit_size = sizeof(struct pit);
	memset(st.pic, 0xa5, sizeof(st.pic));
	memset(st.pit, 0xff, sizeof(st.pit));	/* count 0xffffffff, mode 255 */
	CU_ASSERT_EQUAL(mon_kirq__set_state(kq, &st), 0);
	for (uint16_t p = 0x40; p <= 0x43; p++) {
		mon_kirq__pio(kq, p, &v, 1, 0);
		mon_kirq__pio(kq, p, &v, 1, 0);
	}
	mon_kirq__pio(kq, 0x61, &v, 1, 0);
	mon_kirq__pio(kq, 0x20, &v, 1, 0);
	mon_kirq__poll(kq);
	if (mon_kirq__has_intr(kq))
		mon_kirq__ack(kq);
	mon_kirq__get_state(kq, &st);
	memcpy(&pit, st.pit, sizeof(pit));
	for (int i = 0; i < 3; i++)
		CU_ASSERT(pit.ch[i].count >= 1 && pit.ch[i].count <= 0x10000 && pit.ch[i].mode <= 5);
	/* ports that are not the chip's */
	CU_ASSERT_EQUAL(mon_kirq__pio(kq, 0x71, &v, 1, 0), 0);
	CU_ASSERT_EQUAL(mon_kirq__pio(kq, 0x3f8, &v, 1, 1), 0);
	/* an access the device rejects reads all-ones, as the board's bus */
	uint32_t w = 0;
	CU_ASSERT_EQUAL(mon_kirq__pio(kq, 0x61, &w, 2, 0), 1);
	CU_ASSERT_EQUAL(w, 0xffff);
	teardown();
}

static CU_TestInfo mon_kirq_tests[] = {
	{"tick_without_exits", test_tick_without_exits},
	{"lines_and_handover", test_lines_and_handover},
	{"image_sanitized", test_image_sanitized},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(mon_kirq, .tests = mon_kirq_tests);
