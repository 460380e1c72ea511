/* tests/unit/mon-sys-bed.h — the system-mode vCPU (monitor/mon-sys.c) on
 * plain memory, as hvmm.ko runs it over pinned frames: shared set-up of
 * test_mon_sys.c, test_mon_kirq.c and test_mon_native.c. */
#ifndef HVMM_TESTS_MON_SYS_BED_H
#define HVMM_TESTS_MON_SYS_BED_H

#include <stdint.h>

#include "tests/unit/unit.h"
#include "monitor/mon-sys.h"

#include <stdlib.h>
#include <string.h>

/* A clock that stands still at 1000 ns (tests that need no time). */
static inline unsigned long long mon_sys_bed__fixed_now(void)
{
	return 1000;
}

/* npages zeroed pages of RAM (*ram, pages[] their addresses) and an
 * initialised vCPU (*ms, its interpreter area *cpu) with clock now(). */
static inline void mon_sys_bed__alloc(unsigned npages, unsigned long long (*now)(void),
				      uint8_t **ram, void **pages, struct mon_sys **ms,
				      void **cpu)
{
	*ram = aligned_alloc(4096, npages * 4096);
	memset(*ram, 0, npages * 4096);
	for (unsigned i = 0; i < npages; i++)
		pages[i] = *ram + i * 4096;
	*ms = calloc(1, mon_sys__size());
	*cpu = aligned_alloc(64, (mon_sys__cpu_size() + 63) & ~63ul);
	memset(*cpu, 0, mon_sys__cpu_size());
	CU_ASSERT_FATAL(mon_sys__init(*ms, *cpu, pages, npages, now) == 0);
}

/* Real mode at 0000:1000 with SP 0x7000 and the given EFLAGS, A20 on,
 * [0x8000, 0x9000) MMIO. */
static inline void mon_sys_bed__real_mode(struct hvmm_sregs *s, uint32_t eflags)
{
	const struct hvmm_seg data = { .attr = 0x93, .limit = 0xffff };

	memset(s, 0, sizeof(*s));
	s->eip = 0x1000;
	s->eflags = eflags;
	s->gpr[4] = 0x7000;
	for (int i = 0; i < 6; i++)
		s->seg[i] = data;
	s->seg[1].attr = 0x9b;
	s->ldtr = (struct hvmm_seg){ .attr = 0x82, .limit = 0xffff };
	s->tr = (struct hvmm_seg){ .attr = 0x8b, .limit = 0xffff };
	s->idt_limit = 0x3ff;
	s->cr0 = 0x10;
	s->flags = HVMM_SF_A20;
	s->mmio_start = 0x8000;
	s->mmio_end = 0x9000;
}

#endif
