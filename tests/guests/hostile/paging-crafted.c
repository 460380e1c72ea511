/* tests/guests/hostile/paging-crafted.c — crafted 2-level page tables used
 * from CPL 3 (user pages: native code under the hybrid engine's stage 2,
 * i.e. through shadow page tables) and CPL 0: a PSE page with a reserved bit
 * (#PF with RSVD), a self-map (the page directory used as a page table, so
 * user code reads and WRITES page-directory entries: it maps a new 4 MiB
 * page, uses it without INVLPG as the SDM allows for a not-present entry,
 * and unmaps it, after which the kernel's INVLPG must make it fault), a page
 * table outside RAM, 4 MiB pages above RAM, over the top-of-4-GiB MMIO and,
 * with PSE-36 address bits, above 4 GiB, a page table of random words; last
 * CR3 above RAM: no fetch can be translated and the VM triple-faults.
 * Values read where no RAM is are NOTE lines (the bus differs between
 * engines and QEMU); QEMU -no-reboot: status 0. */
#include "hostile.h"

const char rt_test_name[] = "paging-crafted";

#define VA(pde)		((uint32_t)(pde) << 22)
#define PDE_RSVD	8	/* 4 MiB page with bit 21 set */
#define PDE_SELF	9	/* -> the page directory itself */
#define PDE_NEW		10	/* written by user code through the self-map */
#define PDE_PT_OUT	11	/* page table above RAM */
#define PDE_TOP		12	/* 4 MiB page at 0xffc00000 (MMIO/ROM) */
#define PDE_ABOVE	13	/* 4 MiB page at 0x10000000 (above RAM) */
#define PDE_4G		14	/* 4 MiB page at 0x1_0000_0000 (PSE-36) */
#define PDE_RANDOM	15	/* page table of random words */
#define SELF_PD		(VA(PDE_SELF) + PDE_SELF * 0x1000)	/* the PD, as a page */

static uint32_t random_pt[1024] __attribute__((aligned(4096)));

uint32_t t_rd(uint32_t), t_wr(uint32_t), t_map_new(uint32_t), t_unmap_new(uint32_t);
ASM_FN(t_rd, "mov 4(%esp),%ecx\n mov (%ecx),%eax\n ret");
ASM_FN(t_wr, "mov 4(%esp),%ecx\n movl $0x6a6a6a6a,(%ecx)\n mov (%ecx),%eax\n ret");

/* user code: PDE_NEW = phys 0 as a 4 MiB user page, then read through it
 * (spinning first, so that a native stay covers the write and the read) */
uint32_t t_map_new(uint32_t pde)
{
	volatile uint32_t *self = (volatile uint32_t *)SELF_PD;

	self[PDE_NEW] = pde;
	for (volatile int i = 0; i < 20000; i++)
		;
	return *(volatile uint32_t *)(VA(PDE_NEW) + 0x2000);
}

uint32_t t_unmap_new(uint32_t unused)
{
	volatile uint32_t *self = (volatile uint32_t *)SELF_PD;

	self[PDE_NEW] = 0;
	return self[PDE_NEW];
}

static void note_access(const char *what, int ring, uint32_t va, int write)
{
	struct rt_fault f;
	int v = rt_try(ring, write ? t_wr : t_rd, va, &f);

	if (v < 0)
		rt_printf("NOTE %s cpl%d %s 0x%x: value 0x%x\n", what, ring, write ? "write" : "read",
			  va, f.ret);
	else
		rt_printf("NOTE %s cpl%d %s 0x%x: vector %d err 0x%x cr2 0x%x\n", what, ring,
			  write ? "write" : "read", va, v, f.err, f.cr2);
}

void test_main(void)
{
	static const uint32_t marker = 0x5eed2000;
	struct rt_fault f;
	uint32_t r[4];
	int v;

	rt_printf("HOSTILE paging-crafted: reserved bits, self-map written from CPL 3, tables "
		  "and pages outside RAM and above 4 GiB, then CR3 above RAM\n");
	hostile_poke(0x2000, &marker, 4);
	hostile_pd[PDE_RSVD] = 0x00000000 | (1u << 21) | 0x87;
	hostile_pd[PDE_SELF] = (uint32_t)hostile_pd | 0x7;
	hostile_pd[PDE_PT_OUT] = 0x10000000 | 0x7;
	hostile_pd[PDE_TOP] = 0xffc00000 | 0x87;
	hostile_pd[PDE_ABOVE] = 0x10000000 | 0x87;
	hostile_pd[PDE_4G] = (1u << 13) | 0x87;		/* PSE-36: bits 39:32 in 20:13 */
	for (int i = 0; i < 1024; i++)
		random_pt[i] = hostile_rand();
	hostile_pd[PDE_RANDOM] = (uint32_t)random_pt | 0x7;
	hostile_paging_on();

	for (int ring = 0; ring <= 3; ring += 3) {
		v = rt_try(ring, t_rd, VA(PDE_RSVD) + 0x2000, &f);
		uint32_t want = ring ? 0xd : 0x9;
		if (v == 14 && f.err == (want & ~1u))
			rt_printf("NOTE reserved-bit-pf-cpl%d: error code without P (QEMU's)\n", ring),
				rt_check(1, ring ? "reserved-bit-pf-cpl3" : "reserved-bit-pf-cpl0", "%s", "");
		else
			rt_expect_fault(ring ? "reserved-bit-pf-cpl3" : "reserved-bit-pf-cpl0", v, &f,
					14, want, 0);
	}
	v = rt_try(3, t_rd, SELF_PD + PDE_SELF * 4, &f);
	rt_expect_fault("self-map-read-cpl3", v, &f, -1, 0, 0);
	rt_expect_eq("self-map-read-cpl3-pde", f.ret & 0xfffff007, (uint32_t)hostile_pd | 7);
	v = rt_try(3, t_map_new, 0x00000000 | 0x87, &f);
	rt_expect_fault("self-map-write-cpl3-maps", v, &f, -1, 0, 0);
	rt_expect_eq("self-map-write-cpl3-new-page", f.ret, marker);
	rt_expect_eq("self-map-write-cpl3-pde", hostile_pd[PDE_NEW] & 0xfffff09f, 0x87);
	v = rt_try(3, t_unmap_new, 0, &f);
	rt_expect_fault("self-map-unmap-cpl3", v, &f, -1, 0, 0);
	invlpg(VA(PDE_NEW) + 0x2000);
	v = rt_try(3, t_rd, VA(PDE_NEW) + 0x2000, &f);
	rt_expect_fault("self-map-unmapped-cpl3-faults", v, &f, 14, 4, 0);
	rt_expect_eq("self-map-unmapped-cpl3-cr2", f.cr2, VA(PDE_NEW) + 0x2000);
	/* a kernel write through the self-map makes the PD entry a user page */
	v = rt_try(0, t_rd, SELF_PD + PDE_RSVD * 4, &f);
	rt_expect_eq("self-map-read-cpl0-rsvd-pde", f.ret & 0xffffff9f, (1u << 21) | 0x87);

	cpuid(1, 0, r);
	rt_printf("NOTE paging-crafted: PSE-36 %s\n", (r[3] >> 17) & 1 ? "yes" : "no");
	for (int ring = 0; ring <= 3; ring += 3) {
		note_access("pt-above-ram", ring, VA(PDE_PT_OUT) + 0x5000, 0);
		note_access("page-above-ram", ring, VA(PDE_ABOVE) + 0x1230, 0);
		note_access("page-above-ram", ring, VA(PDE_ABOVE) + 0x1230, 1);
		note_access("page-top-mmio", ring, VA(PDE_TOP) + 0x3ffff0, 0);
		note_access("page-top-mmio", ring, VA(PDE_TOP) + 0x200300, 1);
		note_access("page-above-4g", ring, VA(PDE_4G) + 0x2000, 0);
		note_access("page-above-4g", ring, VA(PDE_4G) + 0x2000, 1);
	}
	uint32_t reads = 0, faults = 0;
	for (uint32_t p = 0; p < 1024; p++) {
		if (rt_try(3, t_rd, VA(PDE_RANDOM) + p * 0x1000 + 0x10, &f) < 0)
			reads++;
		else
			faults++;
	}
	rt_printf("NOTE random-pt-cpl3: %u reads, %u faults\n", reads, faults);
	rt_check(reads + faults == 1024, "random-pt-cpl3-survived", "%u", reads + faults);

	rt_printf("NOTE paging-crafted: CR3 = 0x10000000 (above RAM)\n");
	write_cr3(0x10000000);
	rt_printf("FAIL paging-crafted: still running\n");
}
