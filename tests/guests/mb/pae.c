/* tests/guests/mb/pae.c — PAE paging with 4 KiB and 2 MiB pages, A/D bits in
 * 64-bit entries, NX (EFER.NXE) and the I/D bit of the #PF error code, the
 * NX bit as a reserved bit when NXE=0, physical-address reserved bits.
 * SDM Vol. 3A 4.4 (PAE paging), 4.6 (access rights), 4.7 (#PF error code). */
#include "rt.h"

const char rt_test_name[] = "pae";

#define P	0x001ull
#define W	0x002ull
#define U	0x004ull
#define A	0x020ull
#define D	0x040ull
#define PS	0x080ull
#define NX	(1ull << 63)

#define PF_P	1
#define PF_W	2
#define PF_U	4
#define PF_RSVD	8
#define PF_ID	16

#define TVA(i)	(0x40000000u + (i) * 4096u)	/* 4 KiB pages: PDPTE 1, PDE 0 */
#define BIGVA	0x40200000u			/* 2 MiB page: PDPTE 1, PDE 1 */
#define BIGPA	0x00600000u			/* also identity mapped */
#define NXPDVA	0x40400000u			/* PDE 2 (NX) -> table with X entries */

static volatile uint64_t pdpt[4] __attribute__((aligned(32)));
static volatile uint64_t pd0[512] __attribute__((aligned(4096)));
static volatile uint64_t pd1[512] __attribute__((aligned(4096)));
static volatile uint64_t pt0[512] __attribute__((aligned(4096)));
static volatile uint64_t ptt[512] __attribute__((aligned(4096)));
static volatile uint64_t ptx[512] __attribute__((aligned(4096)));
static uint8_t frames[4][4096] __attribute__((aligned(4096)));

uint32_t t_rd(uint32_t), t_wr(uint32_t), t_call(uint32_t);
extern char t_rd_i[], t_wr_i[];
ASM_FN(t_rd, "mov 4(%esp),%ecx\n t_rd_i: mov (%ecx),%eax\n ret");
ASM_FN(t_wr, "mov 4(%esp),%ecx\n t_wr_i: movl $0x77777777,(%ecx)\n mov $1,%eax\n ret");
ASM_FN(t_call, "call *4(%esp)\n ret");

static struct rt_fault f;
static int have_nx;
static unsigned maxphy = 36;

static volatile uint64_t *pte(uint32_t va) { return &ptt[(va >> 12) & 511]; }
static uint64_t pa(int i) { return (uint32_t)frames[i]; }
static void set_pte(uint32_t va, uint64_t v) { *pte(va) = v; invlpg(va); }

static void pae_on(void)
{
	uint32_t r[4];

	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		have_nx = (r[3] >> 20) & 1;
	}
	cpuid(0x80000000, 0, r);
	if (r[0] >= 0x80000008) {
		cpuid(0x80000008, 0, r);
		maxphy = r[0] & 0xff;
	}
	for (int i = 0; i < 512; i++)
		pt0[i] = (uint64_t)(i * 4096) | P | W | U | A | D;
	pd0[0] = (uint32_t)pt0 | P | W | U | A;
	for (int i = 1; i < 4; i++)	/* 2-8 MiB identity, 2 MiB pages */
		pd0[i] = (uint64_t)(i * 0x200000) | PS | P | W | U | A | D;
	pd1[0] = (uint32_t)ptt | P | W | U;
	pd1[2] = (uint32_t)ptx | P | W | U | NX;
	for (int i = 0; i < 4; i++) {
		rt_memset(frames[i], 0, 4096);
		*(uint32_t *)frames[i] = 0x2000 + i;
		frames[i][16] = 0xc3;		/* ret: a function at offset 16 */
		ptx[i] = pa(i) | P | W | U;
	}
	pdpt[0] = (uint32_t)pd0 | P;
	pdpt[1] = (uint32_t)pd1 | P;
	write_cr4(read_cr4() | (1u << 5));		/* PAE */
	write_cr3((uint32_t)pdpt);
	write_cr0(read_cr0() | 0x80000000u);
}

static void check_basics(void)
{
	rt_check((read_cr4() & (1u << 5)) && (read_cr0() & 0x80000000u), "pae-enabled",
		 "cr0 0x%x cr4 0x%x", read_cr0(), read_cr4());
	set_pte(TVA(0), pa(0) | P | W | U);
	rt_expect_eq("pae-4k-read", *(volatile uint32_t *)TVA(0), 0x2000);
	rt_expect_eq("pae-4k-read-sets-a", (uint32_t)(*pte(TVA(0)) & (A | D)), A);
	*(volatile uint32_t *)(TVA(0) + 4) = 9;
	rt_expect_eq("pae-4k-write-sets-d", (uint32_t)(*pte(TVA(0)) & (A | D)), A | D);
	rt_expect_eq("pae-pde-a-set", (uint32_t)(pd1[0] & (A | D)), A);

	*(volatile uint32_t *)(BIGPA + 0x1abcd4) = 0x2b16;
	pd1[1] = BIGPA | PS | P | W | U;
	invlpg(BIGVA);
	rt_expect_eq("pae-2m-read", *(volatile uint32_t *)(BIGVA + 0x1abcd4), 0x2b16);
	rt_expect_eq("pae-2m-read-sets-a", (uint32_t)(pd1[1] & (A | D)), A);
	*(volatile uint32_t *)(BIGVA + 0x10) = 1;
	rt_expect_eq("pae-2m-write-sets-d", (uint32_t)(pd1[1] & (A | D)), A | D);

	int v = rt_try(3, t_wr, TVA(1), &f);
	rt_expect_fault("pae-user-write-not-present", v, &f, 14, PF_W | PF_U, (uint32_t)t_wr_i);
	rt_expect_eq("pae-cr2", f.cr2, TVA(1));
	set_pte(TVA(1), pa(1) | P | U);
	write_cr0(read_cr0() | (1u << 16));
	v = rt_try(0, t_wr, TVA(1), &f);
	write_cr0(read_cr0() & ~(1u << 16));
	rt_expect_fault("pae-wp-kernel-write-readonly", v, &f, 14, PF_P | PF_W, (uint32_t)t_wr_i);
	/* an address with bits 31:30 = 3: PDPTE 3 is not present */
	v = rt_try(0, t_rd, 0xc0001000u, &f);
	rt_expect_fault("pae-pdpte-not-present", v, &f, 14, 0, (uint32_t)t_rd_i);
}

static void check_reserved(void)
{
	/* the first physical-address bit past MAXPHYADDR is reserved */
	set_pte(TVA(2), pa(2) | P | W | (1ull << maxphy));
	int v = rt_try(0, t_rd, TVA(2), &f);
	if (v == 14 && f.err == PF_RSVD)
		rt_printf("NOTE pae-reserved-phys-bit: error code 0x8 without P (QEMU TCG)\n");
	rt_expect_fault("pae-reserved-phys-bit", v, &f, 14,
			v == 14 && f.err == PF_RSVD ? PF_RSVD : PF_P | PF_RSVD, (uint32_t)t_rd_i);
	/* with EFER.NXE=0, bit 63 is reserved too */
	set_pte(TVA(2), pa(2) | P | W | NX);
	v = rt_try(0, t_rd, TVA(2), &f);
	rt_expect_fault("pae-nx-bit-reserved-without-nxe", v, &f, 14,
			v == 14 && f.err == PF_RSVD ? PF_RSVD : PF_P | PF_RSVD, (uint32_t)t_rd_i);
	set_pte(TVA(2), 0);
}

static void check_nx(void)
{
	if (!have_nx) {
		rt_skip("nx", "CPUID.80000001H:EDX.NX is clear (run with a CPU that has NX)");
		return;
	}
	wrmsr(0xc0000080, rdmsr(0xc0000080) | (1u << 11));	/* EFER.NXE */
	rt_check(rdmsr(0xc0000080) & (1u << 11), "nx-efer-nxe-set", "%s", "EFER.NXE reads 0");

	set_pte(TVA(3), pa(3) | P | W | U);
	int v = rt_try(0, t_call, TVA(3) + 16, &f);
	rt_expect_fault("nx-clear-executes", v, &f, -1, 0, 0);
	set_pte(TVA(3), pa(3) | P | W | U | NX);
	v = rt_try(0, t_rd, TVA(3), &f);
	rt_expect_fault("nx-page-readable", v, &f, -1, 0, 0);
	rt_expect_eq("nx-page-read-value", f.ret, 0x2003);
	v = rt_try(0, t_call, TVA(3) + 16, &f);
	rt_expect_fault("nx-fetch-kernel", v, &f, 14, PF_P | PF_ID, TVA(3) + 16);
	rt_expect_eq("nx-fetch-cr2", f.cr2, TVA(3) + 16);
	v = rt_try(3, t_call, TVA(3) + 16, &f);
	rt_expect_fault("nx-fetch-user", v, &f, 14, PF_P | PF_ID | PF_U, TVA(3) + 16);
	/* with NXE the I/D bit is reported for not-present fetches too */
	set_pte(TVA(3), 0);
	v = rt_try(0, t_call, TVA(3) + 16, &f);
	rt_expect_fault("nx-fetch-not-present-id", v, &f, 14, PF_ID, TVA(3) + 16);
	/* NX in the PDE covers its whole table */
	v = rt_try(0, t_call, NXPDVA + 4096 + 16, &f);
	rt_expect_fault("nx-in-pde", v, &f, 14, PF_P | PF_ID, NXPDVA + 4096 + 16);
	v = rt_try(0, t_rd, NXPDVA + 4096, &f);
	rt_expect_fault("nx-in-pde-readable", v, &f, -1, 0, 0);
	rt_expect_eq("nx-in-pde-read-value", f.ret, 0x2001);
	/* NX on a 2 MiB page */
	pd1[1] = BIGPA | PS | P | W | NX;
	invlpg(BIGVA);
	*(volatile uint8_t *)(BIGPA + 0x100) = 0xc3;
	v = rt_try(0, t_call, BIGVA + 0x100, &f);
	rt_expect_fault("nx-2m-page", v, &f, 14, PF_P | PF_ID, BIGVA + 0x100);
	pd1[1] = BIGPA | PS | P | W;
	invlpg(BIGVA);
	v = rt_try(0, t_call, BIGVA + 0x100, &f);
	rt_expect_fault("nx-2m-page-cleared-executes", v, &f, -1, 0, 0);
	wrmsr(0xc0000080, rdmsr(0xc0000080) & ~(1ull << 11));
}

void test_main(void)
{
	pae_on();
	check_basics();
	check_reserved();
	check_nx();
}
