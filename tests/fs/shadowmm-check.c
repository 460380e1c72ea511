/* tests/fs/shadowmm-check.c — the shadow MMU (shadowmm/) in the freestanding
 * executable and, through tests/kmod/, in kernel context: a 2-level and a
 * PAE guest in a static fake RAM, shadow built on fault, U/S and D policy,
 * guest faults, write tracking, INVLPG, CR3 switch and flush, A/D set with
 * compare-and-swap. Shadow pages come from a static pool (as the module's
 * pinned pool); nothing here touches CR3 or the TLB. */
#include "shadowmm/shadowmm.h"
#include "tests/fs/harness.h"

#define NFR	64
#define NPOOL	24
#define POOL_MA	0x0000000500000000ull

static uint8_t ram[NFR * 4096] __attribute__((aligned(4096)));
static uint8_t pool[NPOOL][4096] __attribute__((aligned(4096)));
static uint64_t frames[NFR];
static bool used[NPOOL];
static int outstanding;
static struct sm sm;

static void *pool_alloc(void *opaque, uint64_t *ma)
{
	for (int i = 0; i < NPOOL; i++) {
		if (!used[i]) {
			used[i] = true;
			outstanding++;
			*ma = POOL_MA + (uint64_t)i * 4096;
			return pool[i];
		}
	}
	return NULL;
}

static void pool_free(void *opaque, void *page, uint64_t ma)
{
	used[(ma - POOL_MA) / 4096] = false;
	outstanding--;
}

static void w32(uint32_t gpa, uint32_t v)
{
	*(uint32_t *)(ram + gpa) = v;
}

static void w64(uint32_t gpa, uint64_t v)
{
	*(uint64_t *)(ram + gpa) = v;
}

/* The leaf spte for va, read as the CPU would from the root entry. */
static uint64_t spte(uint32_t va)
{
	uint64_t e = sm__root_entry(&sm);
	int sh[3] = { 30, 21, 12 };

	for (int l = 0; l < 3; l++) {
		uint64_t *t;

		if (!(e & SM_SPTE_P))
			return 0;
		t = (uint64_t *)pool[((e & SM_SPTE_ADDR) - POOL_MA) / 4096];
		e = t[(va >> sh[l]) & 511];
	}
	return e;
}

static int check(const char *what, uint64_t got, uint64_t want)
{
	return got == want ? 0 : fs_harness__fail("shadowmm", what, got, want);
}

int fs_test__shadowmm(void)
{
	struct sm_alloc a = { pool_alloc, pool_free, 0 };
	struct sm_gmem gm = { (uint64_t)(uintptr_t)ram, frames, NFR };
	struct sm_fault_out o;
	struct sm_gwalk g;
	int fails = 0;

	for (int i = 0; i < NFR; i++)
		frames[i] = (uint64_t)i * 4096;
	for (unsigned int i = 0; i < sizeof(ram); i++)
		ram[i] = 0;
	fails += check("init", (uint64_t)sm__init(&sm, &gm, &a, NPOOL, 2), 0);

	/* 2-level: PD 0x1000, PT 0x2000; user page 0x5000 at 0x3000 (D=0),
	 * kernel page 0x6000 at 0x4000 */
	w32(0x1000, 0x2000 | 0x7);
	w32(0x2000 + 4 * 3, 0x5000 | 0x7);
	w32(0x2000 + 4 * 4, 0x6000 | 0x3);
	fails += check("set_paging", (uint64_t)sm__set_paging(&sm, 0x80010001u, 0x1000, 0x10, 0, 0), 0);
	fails += check("user read", sm__fault(&sm, 0x3000, 0x4, &o), SM_FIXED);
	fails += check("ro until D", spte(0x3000), 0x5000 | 0x25);
	fails += check("user write", sm__fault(&sm, 0x3000, 0x7, &o), SM_FIXED);
	fails += check("gpte A|D", *(uint32_t *)(ram + 0x200c), 0x5000 | 0x67);
	fails += check("writable", spte(0x3000), 0x5000 | 0x67);
	fails += check("kernel page from user", sm__fault(&sm, 0x4000, 0x4, &o), SM_GUEST_FAULT);
	fails += check("error code", o.error_code, 0x5);
	fails += check("kernel read", sm__fault(&sm, 0x4000, 0, &o), SM_FIXED);
	fails += check("kernel spte U=0", spte(0x4000), 0x6000 | 0x21);
	fails += check("not present", sm__fault(&sm, 0x00400000, 0x6, &o), SM_GUEST_FAULT);
	fails += check("np error code", o.error_code, 0x6);

	/* write tracking: the guest PT is tracked; a PTE write drops its spte */
	fails += check("PT tracked", sm__gfn_tracked(&sm, 2), 1);
	w32(0x2000 + 4 * 3, 0x7000 | 0x67);
	sm__guest_write(&sm, 0x200c, 4);
	fails += check("dropped", spte(0x3000), 0);
	fails += check("rebuilt", sm__fault(&sm, 0x3000, 0x4, &o), SM_FIXED);
	fails += check("new frame", spte(0x3000), 0x7000 | 0x67);
	sm__invlpg(&sm, 0x3000);
	fails += check("invlpg", spte(0x3000), 0);

	/* PAE with NX: PDPT 0x8000 -> PD 0x9000 -> PT 0xa000 -> 0xb000, XD */
	w64(0x8000, 0x9000 | 1);
	w64(0x9000, 0xa000 | 7);
	w64(0xa000 + 8 * 2, 0xb000 | 7 | (1ull << 63));
	fails += check("pae", (uint64_t)sm__set_paging(&sm, 0x80010001u, 0x8000, 0x20, 0x800, 0), 0);
	fails += check("mode flush", sm.stats.flushes[SM_FLUSH_MODE], 1);
	fails += check("pae fault", sm__fault(&sm, 0x2000, 0x4, &o), SM_FIXED);
	fails += check("xd spte", spte(0x2000), 0xb000 | 0x25 | (1ull << 63));
	fails += check("xd fetch", sm__fault(&sm, 0x2000, 0x15, &o), SM_GUEST_FAULT);
	fails += check("xd error code", o.error_code, 0x15);
	fails += check("gpte A, XD kept", *(uint64_t *)(ram + 0xa010), 0xb000 | 0x27 | (1ull << 63));
	fails += check("walk", (uint64_t)sm__walk(&gm, &sm.paging, 0x2abc, 0x2, SM_WALK_SET_AD, &g), 0);
	fails += check("walk gpa", g.gpa, 0xbabc);
	fails += check("gpte D", *(uint64_t *)(ram + 0xa010), 0xb000 | 0x67 | (1ull << 63));

	sm__destroy(&sm);
	fails += check("pool empty", (uint64_t)outstanding, 0);
	return fails;
}
