/* tests/guests/mb/a20.c — the A20 gate: with it off the CPU masks bit 20
 * of every physical address (data and instruction fetch), so 1 MiB + x is
 * x, as on an 8086; with it on the two are distinct. Driven three ways:
 * port 0x92 bit 1 (fast A20), the i8042's output port (command 0xd1) and
 * its 0xdd/0xdf commands; read back through port 0x92 and command 0xd0.
 * The code that runs with the gate off is in a20.S (mirrored to its alias
 * below 1 MiB). SDM Vol. 3A 8.7.13.4 (A20M#), 22.33.1 (8086 wraparound). */
#include "rt.h"

const char rt_test_name[] = "a20";

#define LO	0x80000u
#define HI	0x180000u
#define RES	((volatile uint32_t *)0x90000)
#define ALIAS(p) ((uint8_t *)((uint32_t)(p) & ~0x100000u))

void a20_blob(uint32_t method);
extern uint8_t a20_blob_end[], a20_probe_imm[];

static volatile uint32_t *word(uint32_t a)
{
	return (volatile uint32_t *)a;
}

static void run(uint32_t method, const char *name)
{
	char n[64];
	const char *s;
	unsigned k;
#define CHECK(what, got, want) do {					\
		for (k = 0, s = name; *s && k < 30; )			\
			n[k++] = *s++;					\
		n[k++] = '-';						\
		for (s = what; *s && k < 62; )				\
			n[k++] = *s++;					\
		n[k] = 0;						\
		rt_expect_eq(n, got, want);				\
	} while (0)

	*word(LO) = 0x11111111, *word(LO + 4) = 0x44444444;
	*word(HI) = 0x22222222, *word(HI + 4) = 0x55555555;
	for (k = 0; k < 8; k++)
		RES[k] = 0xdeadbeef;
	a20_blob(method);
	CHECK("on-no-wrap", RES[0], 0x11111111);
	CHECK("on-fetch-high", RES[1], 1);
	CHECK("off-store-wraps", RES[2], 0x33333333);
	CHECK("off-load-wraps", RES[3], 0x44444444);
	CHECK("off-fetch-wraps", RES[4], 2);
	if (method == 0)
		CHECK("off-port92-bit1", RES[5] & 2, 0);
	else
		CHECK("off-outport-bit1", RES[6] & 2, 0);
	/* gate on again: the high words kept what A20-on stores put there */
	CHECK("on-again-low", *word(LO), 0x33333333);
	CHECK("on-again-high", *word(HI), 0xa0a0a0a0);
	CHECK("on-again-high4", *word(HI + 4), 0x55555555);
	*word(HI + 8) = 1, *word(LO + 8) = 2;
	CHECK("on-again-distinct", *word(HI + 8), 1);
}

void test_main(void)
{
	uint8_t *blob = (uint8_t *)a20_blob;
	uint32_t len = (uint32_t)(a20_blob_end - blob);

	rt_check((uint32_t)blob >= 0x100000 && (uint32_t)a20_blob_end < 0x180000,
		 "blob-placement", "blob at %p", (void *)blob);
	rt_memcpy(ALIAS(blob), blob, len);
	*(volatile uint32_t *)ALIAS(a20_probe_imm) = 2;
	run(0, "port92");
	run(1, "kbc-outport");
	run(2, "kbc-cmd");
	rt_finish();
}
