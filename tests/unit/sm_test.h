/* tests/unit/sm_test.h — fake guest RAM and a malloc-based page pool for
 * the shadowmm suites. Guest frame i lives at host frame i^1 of the buffer
 * and its "machine address" is SMT_MA_BASE + (i^1)*4096, so a walker or a
 * shadow that used gfn*4096 instead of the frames[] table would be caught.
 * Shadow pages get machine addresses from SMT_POOL_MA up. */
#ifndef HVMM_TESTS_SM_TEST_H
#define HVMM_TESTS_SM_TEST_H

#include <stdlib.h>
#include <string.h>

#include "shadowmm/shadowmm.h"

#define SMT_FRAMES	1024			/* 4 MiB of guest RAM */
#define SMT_MA_BASE	0x0000000123400000ull
#define SMT_POOL_MA	0x0000004000000000ull
#define SMT_POOL_MAX	2100

struct smt {
	uint8_t *ram;
	uint64_t frames[SMT_FRAMES];
	struct sm_gmem gmem;
	/* page pool */
	void *pool[SMT_POOL_MAX];
	bool used[SMT_POOL_MAX];
	int outstanding, limit;
	struct sm sm;
};

static inline void *smt_page_alloc(void *opaque, uint64_t *ma)
{
	struct smt *t = opaque;

	if (t->outstanding >= t->limit)
		return NULL;
	for (int i = 0; i < SMT_POOL_MAX; i++) {
		if (t->used[i])
			continue;
		if (!t->pool[i])
			t->pool[i] = malloc(4096);
		memset(t->pool[i], 0xa5, 4096);	/* sm must zero it */
		t->used[i] = true;
		t->outstanding++;
		*ma = SMT_POOL_MA + (uint64_t)i * 4096;
		return t->pool[i];
	}
	return NULL;
}

static inline void smt_page_free(void *opaque, void *page, uint64_t ma)
{
	struct smt *t = opaque;
	int i = (int)((ma - SMT_POOL_MA) / 4096);

	if (i < 0 || i >= SMT_POOL_MAX || !t->used[i] || t->pool[i] != page)
		abort();	/* a double free or a wrong page: a shadowmm bug */
	t->used[i] = false;
	t->outstanding--;
}

/* Fresh guest RAM (zeroed) and shadow MMU with @max_pages and @nroots. */
static inline struct smt *smt_new(uint32_t max_pages, uint32_t nroots)
{
	struct smt *t = calloc(1, sizeof(*t));
	struct sm_alloc a = { smt_page_alloc, smt_page_free, t };

	t->ram = calloc(SMT_FRAMES, 4096);
	for (int i = 0; i < SMT_FRAMES; i++)
		t->frames[i] = SMT_MA_BASE + (uint64_t)(i ^ 1) * 4096;
	t->gmem.dmap_base = (uint64_t)(uintptr_t)t->ram - SMT_MA_BASE;
	t->gmem.frames = t->frames;
	t->gmem.nframes = SMT_FRAMES;
	t->limit = SMT_POOL_MAX;
	if (sm__init(&t->sm, &t->gmem, &a, max_pages, nroots) != 0)
		abort();
	return t;
}

static inline void smt_free(struct smt *t)
{
	sm__destroy(&t->sm);
	for (int i = 0; i < SMT_POOL_MAX; i++)
		free(t->pool[i]);
	free(t->ram);
	free(t);
}

static inline void *smt_host(struct smt *t, uint64_t gpa)
{
	return t->ram + ((gpa >> 12) ^ 1) * 4096 + (gpa & 0xfff);
}

static inline void smt_w32(struct smt *t, uint64_t gpa, uint32_t v)
{
	memcpy(smt_host(t, gpa), &v, 4);
}

static inline uint32_t smt_r32(struct smt *t, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, smt_host(t, gpa), 4);
	return v;
}

static inline void smt_w64(struct smt *t, uint64_t gpa, uint64_t v)
{
	memcpy(smt_host(t, gpa), &v, 8);
}

static inline uint64_t smt_r64(struct smt *t, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, smt_host(t, gpa), 8);
	return v;
}

/* Machine address the shadow must put in an spte for guest frame @gfn. */
static inline uint64_t smt_ma(uint32_t gfn)
{
	return SMT_MA_BASE + (uint64_t)(gfn ^ 1) * 4096;
}

/* 2-level helpers: PD at @pd (gpa), map @va -> @gpa with PTE flags @f via
 * the PT at @pt (PDE flags @pdef). */
static inline void smt_map32(struct smt *t, uint32_t pd, uint32_t pt, uint32_t pdef, uint32_t va,
			     uint32_t gpa, uint32_t f)
{
	smt_w32(t, pd + 4 * (va >> 22), pt | pdef);
	smt_w32(t, pt + 4 * ((va >> 12) & 1023), gpa | f);
}

/* The shadow page with machine address @ma (NULL if it is not ours). */
static inline uint64_t *smt_spage(struct smt *t, uint64_t ma)
{
	int i = (int)(((ma & SM_SPTE_ADDR) - SMT_POOL_MA) / 4096);

	if ((ma & SM_SPTE_ADDR) < SMT_POOL_MA || i >= SMT_POOL_MAX || !t->used[i])
		return NULL;
	return t->pool[i];
}

/* The leaf spte for @va under the current root, as the CPU would find it
 * from PML4[0] (0 when some level is not present). */
static inline uint64_t smt_spte(struct smt *t, uint32_t va)
{
	uint64_t e = sm__root_entry(&t->sm), *p;

	if (!(e & SM_SPTE_P) || !(p = smt_spage(t, e)))
		return 0;
	e = p[va >> 30];
	if (!(e & SM_SPTE_P) || !(p = smt_spage(t, e)))
		return 0;
	e = p[(va >> 21) & 511];
	if (!(e & SM_SPTE_P) || !(p = smt_spage(t, e)))
		return 0;
	return p[(va >> 12) & 511];
}

#endif
