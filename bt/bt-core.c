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

/* The indirect-branch hash is 2-way set-associative: slots 2s and 2s + 1
 * form set s, and the translated lookup of an eip probes its slot
 * k = bt_hash_slot(eip) and then k ^ 1, so an entry may sit in either slot
 * of its set. An empty entry at slot @k holds an eip whose set is another
 * one (0 has slot 0; 1, whose slot is in another set, for set 0), so
 * neither probe ever matches it; its tc is 0. */
static inline uint32_t hash_empty_eip(uint32_t k)
{
	return k >> 1 ? 0 : 1;
}

_Static_assert((0x9e3779b1u >> 19) >> 1 != 0, "bt_hash_slot(1) not in set 0");

static struct bt_hent *hash_tab(struct bt *bt)
{
	return (struct bt_hent *)(void *)(bt->win + BT_HASH_OFF);
}

static void hash_clear(struct bt *bt)
{
	struct bt_hent *h = hash_tab(bt);

	for (uint32_t k = 0; k < BT_HASH_ENTRIES; k++) {
		h[k].eip = hash_empty_eip(k);
		h[k].tc = 0;
	}
	memset(bt->hash_newer, 0, sizeof(bt->hash_newer));
}

static void drop_all(struct bt *bt)
{
	bt->tc_used = 0;
	bt->nblocks = 0;
	bt->nsites = 0;
	bt->nlinks = 0;
	memset(bt->index, 0, sizeof(bt->index));
	if (bt->any_code) {
		memset(bt->gfnbits, 0, sizeof(bt->gfnbits));
		memset(bt->linbits, 0, sizeof(bt->linbits));
		bt->any_code = false;
	}
	if (bt->npages) {
		memset(bt->pages, 0, sizeof(bt->pages));
		bt->npages = 0;
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
	bt->npages = 1;
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
	return (eip * 0x9e3779b1u) >> (32 - 16);	/* log2(BT_INDEX_SIZE) */
}

_Static_assert(BT_INDEX_SIZE == 1u << 16, "index_slot's shift");

int32_t bt_find_block(const struct bt *bt, uint32_t eip)
{
	for (uint32_t s = index_slot(eip);; s = (s + 1) & (BT_INDEX_SIZE - 1)) {
		uint32_t v = bt->index[s];

		if (!v)
			return -1;
		if (bt->blocks[v - 1].eip == eip)
			return (int32_t)(v - 1);
	}
}

/* Removes block @n from the index: linear probing with backward shift
 * (no tombstones), so every probe sequence stays unbroken. */
static void index_remove(struct bt *bt, uint32_t n)
{
	const uint32_t mask = BT_INDEX_SIZE - 1;
	uint32_t s = index_slot(bt->blocks[n].eip), j;

	while (bt->index[s] != n + 1) {
		if (!bt->index[s])
			return;		/* not published */
		s = (s + 1) & mask;
	}
	bt->index[s] = 0;
	for (j = (s + 1) & mask; bt->index[j]; j = (j + 1) & mask) {
		uint32_t k = index_slot(bt->blocks[bt->index[j] - 1].eip);

		/* The entry at j may move to the hole at s unless its home
		 * slot k lies cyclically in (s, j]. */
		if (((j - k) & mask) >= ((j - s) & mask)) {
			bt->index[s] = bt->index[j];
			bt->index[j] = 0;
			s = j;
		}
	}
}

static bool hash_is_empty(const struct bt_hent *h, uint32_t k)
{
	return h[k].eip == hash_empty_eip(k);
}

/* Enters @eip -> TC offset @tc in its set. The set keeps the two eips
 * entered last (the newer at its home slot k, found by the first probe):
 * an eip already there is updated in place; otherwise the new one goes to
 * k and the entry at k moves to k ^ 1 unless it is the older of two (then
 * it is the one dropped). So two targets that miss alternately both stay
 * after one miss each, whatever the set held; a third one drops the
 * older (no chain of moves: nothing can loop). Hits are not seen (the
 * translated code does not write the table): "newer" is by entry. */
static void hash_put(struct bt *bt, uint32_t eip, uint32_t tc)
{
	struct bt_hent *h = hash_tab(bt);
	uint32_t k = bt_hash_slot(eip), o = k ^ 1, set = k >> 1;

	if (h[k].eip == eip || h[o].eip == eip) {
		uint32_t j = h[k].eip == eip ? k : o;

		h[j].tc = bt_tc_lin(bt, tc);
		k = j;
	} else {
		bool k_newer = bt_testbit(bt->hash_newer, set) == ((k & 1) != 0);

		/* keep the entry at k unless it is the older of two */
		if (!hash_is_empty(h, k) && (hash_is_empty(h, o) || k_newer))
			h[o] = h[k];
		h[k].eip = eip;
		h[k].tc = bt_tc_lin(bt, tc);
	}
	if (k & 1)
		bt_setbit(bt->hash_newer, set);
	else
		bt_clrbit(bt->hash_newer, set);
}

/* Removes @eip from its set (either slot). The remaining entry, if any,
 * needs no "newer" mark: the next entry fills the empty slot. */
static void hash_forget(struct bt *bt, uint32_t eip)
{
	struct bt_hent *h = hash_tab(bt);
	uint32_t k = bt_hash_slot(eip);

	for (unsigned i = 0; i < 2; i++, k ^= 1)
		if (h[k].eip == eip) {
			h[k].eip = hash_empty_eip(k);
			h[k].tc = 0;
		}
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

/* Block number of guest @eip, translating it on a miss. */
static int lookup_block(struct bt *bt, const struct bt_env *env, uint32_t eip,
			uint32_t *n)
{
	int32_t f;

	bt->st.lookups++;
	f = bt_find_block(bt, eip);
	if (f < 0)
		return bt_translate(bt, env, eip, n);
	/* An indirect branch missed (its set held two other eips): enter
	 * this block again. */
	*n = (uint32_t)f;
	hash_put(bt, eip, bt->blocks[*n].tc);
	return 0;
}

int bt__lookup(struct bt *bt, const struct bt_env *env, uint32_t eip,
	       uint32_t *tc)
{
	uint32_t n;
	int r = lookup_block(bt, env, eip, &n);

	if (r)
		return r;
	*tc = bt_tc_lin(bt, bt->blocks[n].tc);
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

static void put_rel32(struct bt *bt, uint32_t patch, uint32_t to)
{
	uint8_t *p = bt_tc_host(bt, patch);
	uint32_t rel = to - (patch + 4);	/* TC offsets: same difference */

	p[0] = (uint8_t)rel;
	p[1] = (uint8_t)(rel >> 8);
	p[2] = (uint8_t)(rel >> 16);
	p[3] = (uint8_t)(rel >> 24);
}

void bt_link_into(struct bt *bt, uint32_t l, uint32_t n)
{
	bt->links[l].tgt = n + 1;
	bt->links[l].next = bt->blocks[n].in;
	bt->blocks[n].in = l + 1;
}

int bt__chain(struct bt *bt, const struct bt_env *env, uint32_t tc,
	      uint32_t *next)
{
	uint32_t off = tc - bt_tc_lin(bt, 0), l, n;
	struct bt_link *k;
	struct bt_site s;
	const uint8_t *p;
	int r;

	if (bt__site(bt, tc, &s) || s.kind != BT_SITE_MISS)
		return -BT_EINVAL;
	p = bt_tc_host(bt, off + 2);
	l = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
	if (l >= bt->nlinks || bt->links[l].stub != off)
		return -BT_EINVAL;
	r = lookup_block(bt, env, s.eip, &n);
	if (r)
		return r;
	*next = bt_tc_lin(bt, bt->blocks[n].tc);
	/* The lookup may have reset the TC (it does not today: translation
	 * only appends) — patch only a stub that is still there. */
	k = &bt->links[l];
	if (l >= bt->nlinks || k->stub != off)
		return 0;
	if (k->tgt) {
		/* Already chained (the stub was reached by a stale jump):
		 * the link is on its target's list once. */
		return 0;
	}
	put_rel32(bt, k->patch, bt->blocks[n].tc);
	bt_link_into(bt, l, n);
	bt->st.chains++;
	return 0;
}

/* ---- Invalidation ------------------------------------------------------------- */

static uint32_t page_slot(uint32_t key)
{
	return (key * 0x9e3779b1u) >> (32 - 15);	/* log2(BT_PAGE_SLOTS) */
}

_Static_assert(BT_PAGE_SLOTS == 1u << 15, "page_slot's shift");
_Static_assert(BT_PAGE_SLOTS < BT_PG_NONE, "bt_block.pg holds a slot");

/* The slot of page @key (BT_PK_* << 20 | page), or -1. */
static int32_t page_find(const struct bt *bt, uint32_t key)
{
	for (uint32_t s = page_slot(key + 1);; s = (s + 1) & (BT_PAGE_SLOTS - 1)) {
		uint32_t v = bt->pages[s].key;

		if (!v)
			return -1;
		if (v == key + 1)
			return (int32_t)s;
	}
}

static uint32_t *page_bits(struct bt *bt, uint32_t key)
{
	return (key >> 20) == BT_PK_LIN ? bt->linbits : bt->gfnbits;
}

/* Page records are never removed before a reset (nlive drops to 0): at
 * most BT_MAX_PAGES of BT_PAGE_SLOTS slots are used. */
void bt_page_add(struct bt *bt, uint32_t n, unsigned pm, uint32_t key)
{
	struct bt_block *b = &bt->blocks[n];
	int32_t f = page_find(bt, key);
	struct bt_page *pg;
	uint32_t s;

	if (f < 0) {
		s = page_slot(key + 1);
		while (bt->pages[s].key)
			s = (s + 1) & (BT_PAGE_SLOTS - 1);
		bt->pages[s].key = key + 1;
		bt->npages++;
	} else {
		s = (uint32_t)f;
	}
	pg = &bt->pages[s];
	b->pg[pm] = (uint16_t)s;
	b->pnext[pm] = pg->head;
	pg->head = (n << 2 | pm) + 1;
	if (!pg->nlive++)
		bt_setbit(page_bits(bt, key), key & 0xfffffu);
	bt->any_code = true;
}

/* Block @n is gone: out of the index and the hash, its pages' counts
 * down. Its list nodes stay (dead) on its pages' lists; unchain_into then
 * sends its incoming jumps back to their stubs. */
static void kill_block(struct bt *bt, uint32_t n)
{
	struct bt_block *b = &bt->blocks[n];

	b->dead = true;
	index_remove(bt, n);
	hash_forget(bt, b->eip);
	for (unsigned pm = 0; pm < BT_PM_N; pm++) {
		struct bt_page *pg;

		if (b->pg[pm] == BT_PG_NONE)
			continue;
		pg = &bt->pages[b->pg[pm]];
		if (!--pg->nlive)
			bt_clrbit(page_bits(bt, pg->key - 1), (pg->key - 1) & 0xfffffu);
	}
	bt->st.dropped++;
}

/* Every chained jump into dead block @n goes back to its miss stub, also
 * the jumps of dead blocks (a monitor resuming inside a dead block then
 * leaves it at its end: no jump anywhere in the TC reaches a dead block).
 * A dead block gets no new links (only live blocks are found by the
 * index), so its list is empty from now on. stats.unchained counts the
 * jumps of live blocks. */
static void unchain_into(struct bt *bt, uint32_t n)
{
	struct bt_block *b = &bt->blocks[n];

	for (uint32_t l = b->in; l; l = bt->links[l - 1].next) {
		struct bt_link *k = &bt->links[l - 1];

		k->tgt = 0;
		put_rel32(bt, k->patch, k->stub);
		if (!bt->blocks[k->src].dead)
			bt->st.unchained++;
	}
	b->in = 0;
}

/* Drops every live block on the list of page @key: kills them all, then
 * unchains the jumps into them (the lists of blocks dropped before are
 * empty, so the second walk touches only this drop's blocks). */
static bool drop_page(struct bt *bt, uint32_t key)
{
	int32_t f = page_find(bt, key);
	struct bt_page *pg;
	uint32_t v;

	if (f < 0)
		return false;
	pg = &bt->pages[f];
	if (!pg->nlive)
		return false;
	for (v = pg->head; v; v = bt->blocks[(v - 1) >> 2].pnext[(v - 1) & 3])
		if (!bt->blocks[(v - 1) >> 2].dead)
			kill_block(bt, (v - 1) >> 2);
	for (v = pg->head; v; v = bt->blocks[(v - 1) >> 2].pnext[(v - 1) & 3])
		unchain_into(bt, (v - 1) >> 2);
	pg->head = 0;	/* every node on it is dead now */
	bt->st.invalidations++;
	return true;
}

bool bt__gfn_translated(const struct bt *bt, uint32_t gfn)
{
	return gfn < BT_MAX_GFN && bt_testbit(bt->gfnbits, gfn);
}

bool bt__code_written(struct bt *bt, uint32_t gfn)
{
	if (!bt__gfn_translated(bt, gfn))
		return false;
	return drop_page(bt, BT_PK_GFN << 20 | gfn);
}

bool bt__invlpg(struct bt *bt, uint32_t lin)
{
	if (!bt_testbit(bt->linbits, lin >> 12))
		return false;
	return drop_page(bt, BT_PK_LIN << 20 | lin >> 12);
}

/* ---- Counters ------------------------------------------------------------------ */

void bt__stats(const struct bt *bt, struct bt_stats *out)
{
	*out = bt->st;
	out->tc_used = bt->tc_used;
}
