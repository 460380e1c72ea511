/* shadowmm/sm-int.h — internals shared by the shadow files (sm-shadow.c,
 * sm-track.c); not part of the interface. */
#ifndef HVMM_SM_INT_H
#define HVMM_SM_INT_H

#include "shadowmm/shadowmm.h"

/* Flags of every non-leaf spte: permissions are decided at the leaf. */
#define SM_SPTE_TABLE	(SM_SPTE_P | SM_SPTE_W | SM_SPTE_U | SM_SPTE_A)

static inline uint16_t sm__child_index(uint64_t e)
{
	return (uint16_t)((e >> SM_SPTE_IDX_SHIFT) & SM_SPTE_IDX_MASK);
}

_Static_assert(SM_HASH == 1024, "sm__hash gives 10 bits");
_Static_assert(SM_MAX_PAGES <= SM_SPTE_IDX_MASK + 1 && SM_MAX_PAGES < SM_NIL,
	       "a page index must fit bits 62:52 of a non-leaf spte");

static inline unsigned int sm__hash(uint32_t gfn)
{
	return (gfn * 2654435761u) >> 22;	/* SM_HASH == 1024 buckets */
}

/* Enter page @idx (gfn set) into the gfn hash; write-protect the sptes that
 * map its gfn when it was not tracked yet. */
void sm__track_add(struct sm *sm, uint16_t idx);

/* Remove page @idx from the gfn hash. */
void sm__track_del(struct sm *sm, uint16_t idx);

/* Leaf spte @index of shadow PT @pt was just made writable for guest frame
 * @gfn: remember it in the reverse map. */
void sm__rmap_add(struct sm *sm, uint16_t pt, unsigned int index, uint32_t gfn);

/* Empty the reverse map (the shadow has no PT left). */
void sm__rmap_reset(struct sm *sm);

/* Clear entry @index of shadow page @parent and free the subtree below it. */
void sm__drop_child(struct sm *sm, uint16_t parent, unsigned int index);

#endif
