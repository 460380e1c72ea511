/* tests/unit/test_bt_inval.c — invalidation per page (bt__code_written,
 * bt__invlpg): only the blocks whose bytes came from the written frame or
 * the invalidated linear page are dropped; chained jumps into them go back
 * to their miss stubs and chain again; the indirect-branch hash forgets
 * them; the frame and page bitmaps stay exact. Also the spread of the
 * indirect-branch hash. */
#include "tests/unit/bt-bed.h"
#include "tests/unit/unit.h"

#include <stdio.h>
#include <string.h>

static struct bt_stats stats(struct btbed *bb)
{
	struct bt_stats s;
	bt__stats(bb->bt, &s);
	return s;
}

static uint32_t lookup(struct btbed *bb, uint32_t eip)
{
	uint32_t tc = 0;

	CU_ASSERT_EQUAL(bt__lookup(bb->bt, &bb->env, eip, &tc), 0);
	return tc;
}

/* Where the jmp rel32 at TC address @at (opcode e9 there) goes. */
static uint32_t jmp_dest(struct btbed *bb, uint32_t at)
{
	uint32_t rel;

	CU_ASSERT_FATAL(at >= BB_WIN + BT_TC_OFF && at < BB_WIN + BT_WIN_BYTES - 5);
	CU_ASSERT_EQUAL(bb->tc->ram[at], 0xe9);
	memcpy(&rel, bb->tc->ram + at + 1, 4);
	return at + 5 + rel;
}

static bool is_miss_for(struct btbed *bb, uint32_t tc, uint32_t eip)
{
	struct bt_site s;

	return !bt__site(bb->bt, tc, &s) && s.kind == BT_SITE_MISS &&
	       s.eip == eip;
}

static const struct bt_hent *hent(struct btbed *bb, uint32_t eip)
{
	const struct bt_hent *h =
		(const struct bt_hent *)(bb->tc->ram + BB_WIN + BT_HASH_OFF);

	return &h[bt_hash_slot(eip)];
}

/* Frame 0x10 is also mapped at linear 0x20000 (an alias, as Linux's
 * text_poke maps kernel text a second time). */
static int alias_code_page(void *opaque, uint32_t lin, const uint8_t **host,
			   uint32_t *gfn)
{
	struct btbed *bb = opaque;

	if (lin == 0x20000) {
		*host = bb->tc->ram + 0x10000;
		*gfn = 0x10;
		return 0;
	}
	if (lin < BB_CODE || lin >= BB_CODE_END)
		return -14;
	*host = bb->tc->ram + lin;
	*gfn = lin >> 12;
	return 0;
}

/* Blocks over three frames, chained across them, one straddling two:
 *   X 0x10000: jmp Y		Y 0x11000: jmp Z	Z 0x12100: hlt
 *   S 0x11ffe: mov $imm32, %eax (ends in frame 0x12) ; hlt */
static void test_drop_page_api(void)
{
	static const uint8_t x[] = { 0xe9, 0xfb, 0x0f, 0x00, 0x00 };
	static const uint8_t y[] = { 0xe9, 0xfb, 0x10, 0x00, 0x00 };
	static const uint8_t z[] = { 0xf4 };
	static const uint8_t sx[] = { 0xb8, 1, 2, 3, 4, 0xf4 };
	static const uint8_t z2[] = { 0x90, 0xf4 };
	struct btbed *bb = bb__new(z, 0);
	uint32_t tx, ty, tz, ts, ty2, tz2, tx2, ta, n0;
	struct bt_site s;

	bb->env.code_page = alias_code_page;
	bb__load(bb, 0x10000, x, sizeof(x));
	bb__load(bb, 0x11000, y, sizeof(y));
	bb__load(bb, 0x12100, z, sizeof(z));
	bb__load(bb, 0x11ffe, sx, sizeof(sx));
	/* Z first, then Y and X: their jumps link at once. */
	tz = lookup(bb, 0x12100);
	ty = lookup(bb, 0x11000);
	tx = lookup(bb, 0x10000);
	ts = lookup(bb, 0x11ffe);
	CU_ASSERT_EQUAL(stats(bb).blocks, 4);
	CU_ASSERT_EQUAL(jmp_dest(bb, tx), ty);
	CU_ASSERT_EQUAL(jmp_dest(bb, ty), tz);
	CU_ASSERT_EQUAL(hent(bb, 0x11000)->tc, ty);

	/* Writing frame 0x11 drops Y and S (S starts there), not X or Z. */
	CU_ASSERT(bt__code_written(bb->bt, 0x11));
	CU_ASSERT_EQUAL(stats(bb).dropped, 2);
	CU_ASSERT_EQUAL(stats(bb).unchained, 1);	/* X -> Y */
	CU_ASSERT_EQUAL(stats(bb).invalidations, 1);
	CU_ASSERT(!bt__gfn_translated(bb->bt, 0x11));
	CU_ASSERT(bt__gfn_translated(bb->bt, 0x10));
	CU_ASSERT(bt__gfn_translated(bb->bt, 0x12));	/* Z lives */
	CU_ASSERT(!bt__invlpg(bb->bt, 0x11000));	/* nothing left there */
	CU_ASSERT(!bt__code_written(bb->bt, 0x11));
	CU_ASSERT(is_miss_for(bb, jmp_dest(bb, tx), 0x11000));
	CU_ASSERT_NOT_EQUAL(hent(bb, 0x11000)->eip, 0x11000);
	CU_ASSERT_NOT_EQUAL(hent(bb, 0x11ffe)->eip, 0x11ffe);
	/* The dropped blocks' sites stay known. */
	CU_ASSERT_EQUAL(bt__site(bb->bt, ts, &s), 0);
	CU_ASSERT_EQUAL(s.eip, 0x11ffe);
	/* The survivors are not translated again. */
	n0 = (uint32_t)stats(bb).blocks;
	CU_ASSERT_EQUAL(lookup(bb, 0x10000), tx);
	CU_ASSERT_EQUAL(lookup(bb, 0x12100), tz);
	CU_ASSERT_EQUAL(stats(bb).blocks, n0);

	/* X's jump misses and chains to a new Y, whose jump links Z. */
	CU_ASSERT_EQUAL(bt__chain(bb->bt, &bb->env, jmp_dest(bb, tx), &ty2), 0);
	CU_ASSERT(ty2 > ts);
	CU_ASSERT_EQUAL(jmp_dest(bb, tx), ty2);
	CU_ASSERT_EQUAL(jmp_dest(bb, ty2), tz);
	CU_ASSERT_EQUAL(stats(bb).blocks, n0 + 1);
	CU_ASSERT_EQUAL(hent(bb, 0x11000)->tc, ty2);
	CU_ASSERT(bt__gfn_translated(bb->bt, 0x11));
	/* A second chain of the same stub (a stale jump) adds nothing. */
	CU_ASSERT(is_miss_for(bb, tx + 5, 0x11000));
	CU_ASSERT_EQUAL(bt__chain(bb->bt, &bb->env, tx + 5, &tz2), 0);
	CU_ASSERT_EQUAL(tz2, ty2);
	CU_ASSERT_EQUAL(stats(bb).chains, 1);

	/* Frame 0x12: Z (and S's dead membership): the new Y unchains. */
	bb__load(bb, 0x12100, z2, sizeof(z2));
	CU_ASSERT(bt__code_written(bb->bt, 0x12));
	CU_ASSERT_EQUAL(stats(bb).dropped, 3);
	CU_ASSERT_EQUAL(stats(bb).unchained, 2);
	CU_ASSERT(!bt__gfn_translated(bb->bt, 0x12));
	CU_ASSERT(is_miss_for(bb, jmp_dest(bb, ty2), 0x12100));
	/* Z again, with the new bytes: a copied nop, not the hlt's exit. */
	tz2 = lookup(bb, 0x12100);
	CU_ASSERT_NOT_EQUAL(tz2, tz);
	CU_ASSERT_EQUAL(bt__site(bb->bt, tz2, &s), 0);
	CU_ASSERT_EQUAL(s.kind, BT_SITE_INSN);
	CU_ASSERT_EQUAL(bb->tc->ram[tz2], 0x90);

	/* The alias: frame 0x10 at linear 0x20000 too. INVLPG of one
	 * linear page drops its block only; a write to the frame both. */
	ta = lookup(bb, 0x20000);
	CU_ASSERT_NOT_EQUAL(ta, tx);
	CU_ASSERT(bt__invlpg(bb->bt, 0x20abc));
	CU_ASSERT_EQUAL(stats(bb).dropped, 4);
	CU_ASSERT(bt__gfn_translated(bb->bt, 0x10));	/* X lives */
	CU_ASSERT_EQUAL(lookup(bb, 0x10000), tx);
	ta = lookup(bb, 0x20000);
	CU_ASSERT(bt__code_written(bb->bt, 0x10));
	CU_ASSERT_EQUAL(stats(bb).dropped, 6);
	CU_ASSERT(!bt__gfn_translated(bb->bt, 0x10));
	CU_ASSERT(!bt__invlpg(bb->bt, 0x20000));
	CU_ASSERT(!bt__invlpg(bb->bt, 0x10000));
	/* A new X links the live Y at once. */
	tx2 = lookup(bb, 0x10000);
	CU_ASSERT_EQUAL(jmp_dest(bb, tx2), ty2);
	CU_ASSERT_EQUAL(jmp_dest(bb, tx), ty2);		/* dead X's jump */
	/* Dropping Y unchains the new X's jump (counted) and the dead X's
	 * (not counted): no jump reaches a dead block. */
	n0 = (uint32_t)stats(bb).unchained;
	CU_ASSERT(bt__code_written(bb->bt, 0x11));
	CU_ASSERT_EQUAL(stats(bb).unchained, n0 + 1);
	CU_ASSERT(is_miss_for(bb, jmp_dest(bb, tx2), 0x11000));
	CU_ASSERT(is_miss_for(bb, jmp_dest(bb, tx), 0x11000));
	CU_ASSERT_EQUAL(stats(bb).resets, 0);
	CU_ASSERT_EQUAL(stats(bb).invalidations, 5);
	bb__free(bb);
}

/* Three pages: the loop in page A calls fB (page B) directly and
 * indirectly; fB jumps to cC (page C), which returns. Phase 1 runs the
 * loop; phase 2 patches fB's immediate from page A (a store to a
 * translated frame) and runs the loop again. */
BB_GUEST(g_pages,
	"xor %esi, %esi\n mov $3, %edi\n mov $" A(gp_fB) ", %ebx\n jmp 1f\n"
	"gp_loop:\n"
	"1: call *%ebx\n add %eax, %esi\n call gp_fB\n add %eax, %esi\n"
	"dec %edi\n jnz 1b\n"
	"hlt\n"
	"addl $0x01010101, " A(gp_fB) "+1\n"
	"mov $3, %edi\n jmp 1b\n"
	".skip 0x1000 - (. - g_pages_start), 0x90\n"
	"gp_fB: mov $0x10000001, %eax\n jmp gp_cC\n"
	".skip 0x2000 - (. - g_pages_start), 0x90\n"
	"gp_cC: add $1, %eax\n ret\n");
extern const uint8_t gp_loop[] __asm__("gp_loop");
extern const uint8_t gp_fB[] __asm__("gp_fB");
extern const uint8_t gp_cC[] __asm__("gp_cC");

#define GP(l) (BB_CODE + (uint32_t)((l) - g_pages_start))

static void test_write_other_page(void)
{
	struct btbed *bb = bb__new(g_pages_start,
				   (size_t)(g_pages_end - g_pages_start));
	uint32_t tl, tb, tcc, nb;
	struct bt_stats s1, s2;

	bb__run_both_and_compare(bb, 100000);
	CU_ASSERT_EQUAL(bb->t.r[R_ESI], 6 * 0x10000002u);
	CU_ASSERT_EQUAL(bb->ncodewr, 0);
	s1 = stats(bb);
	tl = lookup(bb, GP(gp_loop));
	tb = lookup(bb, GP(gp_fB));
	tcc = lookup(bb, GP(gp_cC));
	CU_ASSERT_EQUAL(stats(bb).blocks, s1.blocks);
	CU_ASSERT_EQUAL(hent(bb, GP(gp_fB))->tc, tb);

	/* Phase 2, from after the hlt in both beds. */
	bb->orig->cpu->halted = false;
	bb->tc->cpu->halted = false;
	bb__run_both_and_compare(bb, 100000);
	CU_ASSERT_EQUAL(bb->t.r[R_ESI],
			6 * 0x10000002u + 6 * 0x11010103u);
	s2 = stats(bb);
	CU_ASSERT_EQUAL(bb->ncodewr, 1);
	CU_ASSERT_EQUAL(s2.dropped - s1.dropped, 1);	/* fB only */
	CU_ASSERT_EQUAL(s2.unchained - s1.unchained, 1);	/* call gp_fB */
	/* The indirect call finds no stale hash entry (an EXIT_DYN miss),
	 * the direct one misses its unchained jump and chains again. */
	CU_ASSERT_EQUAL(bb->ndyn, 1);
	CU_ASSERT_EQUAL(bb->nmiss, 1);
	/* New blocks: the store's, the one after it, fB's. */
	CU_ASSERT_EQUAL(s2.blocks - s1.blocks, 3);
	CU_ASSERT_EQUAL(s2.resets, 0);
	nb = (uint32_t)s2.blocks;
	CU_ASSERT_EQUAL(lookup(bb, GP(gp_loop)), tl);
	CU_ASSERT_EQUAL(lookup(bb, GP(gp_cC)), tcc);
	CU_ASSERT_NOT_EQUAL(lookup(bb, GP(gp_fB)), tb);
	CU_ASSERT_EQUAL(stats(bb).blocks, nb);
	bb__free(bb);
}

/* A write into the page that runs (the store's own block is dropped),
 * repeated: the loop in page A patches an immediate in page A each round;
 * page B's function survives every round. */
BB_GUEST(g_self_page,
	"xor %esi, %esi\n mov $5, %edi\n"
	"1: call gs_fB\n add %eax, %esi\n"
	"gs_imm: mov $0x100, %eax\n add %eax, %esi\n"
	"addl $3, " A(gs_imm) "+1\n"
	"dec %edi\n jnz 1b\n hlt\n"
	".skip 0x1000 - (. - g_self_page_start), 0x90\n"
	"gs_fB: mov $7, %eax\n ret\n");
extern const uint8_t gs_fB[] __asm__("gs_fB");

static void test_write_own_page(void)
{
	struct btbed *bb = bb__new(g_self_page_start,
				   (size_t)(g_self_page_end - g_self_page_start));
	uint32_t fb = BB_CODE + (uint32_t)(gs_fB - g_self_page_start), tb;

	bb__run_both_and_compare(bb, 100000);
	CU_ASSERT_EQUAL(bb->t.r[R_ESI], 5 * 7 + 5 * 0x100 + 3 * 10);
	CU_ASSERT_EQUAL(bb->ncodewr, 5);
	CU_ASSERT_EQUAL(stats(bb).invalidations, 5);
	CU_ASSERT_EQUAL(stats(bb).resets, 0);
	/* fB was translated once and is live. */
	tb = lookup(bb, fb);
	CU_ASSERT_EQUAL(bb->tc->ram[tb], 0xb8);
	CU_ASSERT(bt__gfn_translated(bb->bt, fb >> 12));
	/* Round 1: the first block, fB, the store's block; each store drops
	 * page A's blocks (2, then 3: after-store, call, store) and the
	 * next rounds translate them again; fB never. */
	CU_ASSERT_EQUAL(stats(bb).blocks, 3 + 4 * 3 + 2);
	CU_ASSERT_EQUAL(stats(bb).dropped, 2 + 4 * 3);
	bb__free(bb);
}

/* The indirect-branch hash over function entries aligned to 16 bytes
 * (a kernel's): the slots used, bt_hash_slot against eip & 8191. */
static unsigned slots_used(const uint32_t *eip, unsigned n, bool mix)
{
	static uint8_t used[BT_HASH_ENTRIES];
	unsigned k, u = 0;

	memset(used, 0, sizeof(used));
	for (k = 0; k < n; k++) {
		uint32_t s = mix ? bt_hash_slot(eip[k])
				 : eip[k] & (BT_HASH_ENTRIES - 1);

		u += !used[s];
		used[s] = 1;
	}
	return u;
}

static void test_hash_spread(void)
{
	static uint32_t eip[4096];
	uint32_t x = 0x12345678u;
	unsigned n = 4096, a, b, c, d;

	/* Dense: every 16 bytes of 64 KiB; random: 16-aligned in 9 MiB. */
	for (unsigned k = 0; k < n; k++)
		eip[k] = 0xc1000000u + 16 * k;
	a = slots_used(eip, n, true);
	b = slots_used(eip, n, false);
	for (unsigned k = 0; k < n; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		eip[k] = 0xc1000000u + 16 * (x % (9u << 16));
	}
	c = slots_used(eip, n, true);
	d = slots_used(eip, n, false);
	fprintf(stderr, "[hash: 4096 entries 16-aligned: dense %u vs %u "
		"slots, random %u vs %u] ", a, b, c, d);
	CU_ASSERT(a >= n * 95 / 100);	/* Fibonacci: near perfect */
	CU_ASSERT(b <= 512);
	/* Uniform: 8192 (1 - e^-0.5) ~ 3220 slots for 4096 random keys. */
	CU_ASSERT(c >= 3000);
	CU_ASSERT(d <= 512);
}

static CU_TestInfo bt_inval_tests[] = {
	{ "drop_page_api", test_drop_page_api },
	{ "write_other_page", test_write_other_page },
	{ "write_own_page", test_write_own_page },
	{ "hash_spread", test_hash_spread },
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(bt_inval, .tests = bt_inval_tests);
