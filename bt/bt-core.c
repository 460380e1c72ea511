/* bt/bt-core.c — the translator's bookkeeping: life cycle, the block index
 * (guest EIP -> block), the indirect-branch hash in the window, sites (TC
 * address -> guest state), chaining of direct branches, invalidation and
 * counters. The per-instruction work is bt-xlate.c. docs/bt.md.
 */
#include "bt/bt-int.h"

size_t bt__size(void)
{
	return sizeof(struct bt);
}

/* Every hash entry empty: hent[i].eip = ~i can never match, since a guest
 * EIP lives only at index eip & (BT_HASH_ENTRIES - 1) (and ~i & mask != i). */
static void hash_clear(struct bt *bt)
{
	struct bt_hent *h = (struct bt_hent *)(void *)(bt->win + BT_HASH_OFF);

	for (uint32_t k = 0; k < BT_HASH_ENTRIES; k++) {
		h[k].eip = ~k;
		h[k].tc = 0;
	}
}

static void drop_all(struct bt *bt)
{
	bt->tc_used = 0;
	bt->nblocks = 0;
	bt->nsites = 0;
	memset(bt->index, 0, sizeof(bt->index));
	if (bt->any_code) {
		memset(bt->gfnbits, 0, sizeof(bt->gfnbits));
		memset(bt->linbits, 0, sizeof(bt->linbits));
		bt->any_code = false;
	}
	hash_clear(bt);
}

/* iftab[vif + b] = b with EFLAGS bit 9 (bit 1 of byte 1) from vif (0 or
 * 256): PUSHF's image gets the guest's IF, not the real one. */
static void wdata_init(struct bt *bt)
{
	struct bt_wdata *w = bt__wdata(bt);

	memset(w, 0, sizeof(*w));
	for (unsigned b = 0; b < 256; b++) {
		w->iftab[b] = (uint8_t)(b & ~2u);
		w->iftab[256 + b] = (uint8_t)(b | 2u);
	}
}

int bt__init(struct bt *bt, void *win, uint32_t win_lin, uint32_t ngfn)
{
	if (!bt || !win || (win_lin & (BT_WIN_ALIGN - 1)) ||
	    win_lin > 0u - BT_WIN_ALIGN || ngfn > BT_MAX_GFN)
		return -BT_EINVAL;
	bt->win = win;
	bt->win_lin = win_lin;
	bt->ngfn = ngfn;
	bt->tc_limit = BT_TC_BYTES;
	bt->any_code = true;	/* the caller's zeroing is not relied on */
	memset(&bt->st, 0, sizeof(bt->st));
	if (!ZYAN_SUCCESS(ZydisDecoderInit(&bt->dec,
					   ZYDIS_MACHINE_MODE_LEGACY_32,
					   ZYDIS_STACK_WIDTH_32)))
		return -BT_EINVAL;
	wdata_init(bt);
	drop_all(bt);
	return 0;
}

void bt__reset(struct bt *bt, uint32_t win_lin)
{
	bt->win_lin = win_lin;
	bt->st.resets++;
	drop_all(bt);
}

int bt__set_tc_limit(struct bt *bt, uint32_t bytes)
{
	if (bytes < 4096 || bytes > BT_TC_BYTES)
		return -BT_EINVAL;
	bt->tc_limit = bytes;
	bt__reset(bt, bt->win_lin);
	return 0;
}

uint32_t bt__win_lin(const struct bt *bt)
{
	return bt->win_lin;
}

struct bt_wdata *bt__wdata(struct bt *bt)
{
	return (struct bt_wdata *)(void *)(bt->win + BT_WDATA_OFF);
}

/* ---- Block index ---------------------------------------------------------- */

static inline uint32_t index_slot(uint32_t eip)
{
	return (eip * 0x9e3779b1u) >> (32 - 15);	/* log2(BT_INDEX_SIZE) */
}

_Static_assert(BT_INDEX_SIZE == 1u << 15, "index_slot's shift");

int64_t bt_find_block(const struct bt *bt, uint32_t eip)
{
	for (uint32_t s = index_slot(eip);; s = (s + 1) & (BT_INDEX_SIZE - 1)) {
		uint32_t v = bt->index[s];

		if (!v)
			return -1;
		if (bt->blocks[v - 1].eip == eip)
			return bt->blocks[v - 1].tc;
	}
}

static void hash_put(struct bt *bt, uint32_t eip, uint32_t tc)
{
	struct bt_hent *h = (struct bt_hent *)(void *)(bt->win + BT_HASH_OFF);
	uint32_t k = eip & (BT_HASH_ENTRIES - 1);

	h[k].eip = eip;
	h[k].tc = bt_tc_lin(bt, tc);
}

/* The index holds at most BT_MAX_BLOCKS of BT_INDEX_SIZE slots: probing
 * always ends at an empty one. */
void bt_publish_block(struct bt *bt, uint32_t n)
{
	const struct bt_block *b = &bt->blocks[n];
	uint32_t s = index_slot(b->eip);

	while (bt->index[s])
		s = (s + 1) & (BT_INDEX_SIZE - 1);
	bt->index[s] = n + 1;
	hash_put(bt, b->eip, b->tc);
}

int bt__lookup(struct bt *bt, const struct bt_env *env, uint32_t eip,
	       uint32_t *tc)
{
	int64_t t;
	uint32_t n;
	int r;

	bt->st.lookups++;
	t = bt_find_block(bt, eip);
	if (t < 0) {
		r = bt_translate(bt, env, eip, &n);
		if (r)
			return r;
		t = bt->blocks[n].tc;
	} else {
		/* An indirect branch missed (collision): make the entry
		 * this block's again. */
		hash_put(bt, eip, (uint32_t)t);
	}
	*tc = bt_tc_lin(bt, (uint32_t)t);
	return 0;
}

/* ---- Sites ---------------------------------------------------------------- */

int bt__site(const struct bt *bt, uint32_t tc, struct bt_site *out)
{
	uint32_t off = tc - bt_tc_lin(bt, 0), lo = 0, hi = bt->nblocks;
	const struct bt_block *b;

	if (tc < bt_tc_lin(bt, 0) || off >= bt->tc_used)
		return -BT_ENOENT;
	/* Last block with b->tc <= off. */
	while (hi - lo > 1) {
		uint32_t mid = (lo + hi) / 2;

		if (bt->blocks[mid].tc <= off)
			lo = mid;
		else
			hi = mid;
	}
	b = &bt->blocks[lo];
	if (off < b->tc || off >= b->tc_end)
		return -BT_ENOENT;
	lo = b->site0;
	hi = b->site0 + b->nsites;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2, o = SREC_OFF(bt->sites[mid].w);

		if (o == off) {
			out->eip = bt->sites[mid].eip;
			out->kind = (uint8_t)SREC_KIND(bt->sites[mid].w);
			out->fix = (uint8_t)SREC_FIX(bt->sites[mid].w);
			out->flags = (uint8_t)SREC_FLAGS(bt->sites[mid].w);
			return 0;
		}
		if (o < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -BT_ENOENT;
}

void bt__fixup(const struct bt *bt, const struct bt_site *s, uint32_t gpr[8],
	       uint32_t *eflags)
{
	const struct bt_wdata *w =
		(const struct bt_wdata *)(const void *)(bt->win + BT_WDATA_OFF);

	if (s->fix & BT_FIX_EAX)
		gpr[0] = w->s_eax;
	if (s->fix & BT_FIX_ECX)
		gpr[1] = w->s_ecx;
	if (s->fix & BT_FIX_FLAGS) {
		/* LAHF: AH = SF ZF 0 AF 0 PF 1 CF; SETO: AL = OF. */
		uint32_t ah = (w->s_fl >> 8) & 0xd5u;

		*eflags = (*eflags & ~0x8d5u) | ah |
			  ((w->s_fl & 1) ? 0x800u : 0);
	}
}

/* ---- Chaining --------------------------------------------------------------- */

int bt__chain(struct bt *bt, const struct bt_env *env, uint32_t tc,
	      uint32_t *next)
{
	struct bt_site s;
	uint32_t patch, target, rel;
	uint8_t *p;
	int r;

	if (bt__site(bt, tc, &s) || s.kind != BT_SITE_MISS)
		return -BT_EINVAL;
	p = bt_tc_host(bt, tc - bt_tc_lin(bt, 0) + 2);
	patch = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	r = bt__lookup(bt, env, s.eip, &target);
	if (r)
		return r;
	/* The lookup may have reset the TC (it does not today: translation
	 * only appends) — patch only a stub that is still there. */
	if (patch + 4 <= bt->tc_used) {
		rel = target - bt_tc_lin(bt, patch + 4);
		p = bt_tc_host(bt, patch);
		p[0] = (uint8_t)rel;
		p[1] = (uint8_t)(rel >> 8);
		p[2] = (uint8_t)(rel >> 16);
		p[3] = (uint8_t)(rel >> 24);
		bt->st.chains++;
	}
	*next = target;
	return 0;
}

/* ---- Invalidation and counters ----------------------------------------------- */

bool bt__gfn_translated(const struct bt *bt, uint32_t gfn)
{
	return gfn < BT_MAX_GFN && bt_testbit(bt->gfnbits, gfn);
}

bool bt__code_written(struct bt *bt, uint32_t gfn)
{
	if (!bt__gfn_translated(bt, gfn))
		return false;
	bt->st.invalidations++;
	bt__reset(bt, bt->win_lin);
	return true;
}

bool bt__invlpg(struct bt *bt, uint32_t lin)
{
	if (!bt_testbit(bt->linbits, lin >> 12))
		return false;
	bt->st.invalidations++;
	bt__reset(bt, bt->win_lin);
	return true;
}

void bt__stats(const struct bt *bt, struct bt_stats *out)
{
	*out = bt->st;
	out->tc_used = bt->tc_used;
}
