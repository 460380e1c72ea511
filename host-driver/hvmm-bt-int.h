/* SPDX-License-Identifier: GPL-2.0 */
/* host-driver/hvmm-bt-int.h — shared by hvmm-bt.c (the stays of translated
 * guest kernel code) and hvmm-bt-world.c (what of them is done inside the
 * monitor world). Module-internal. */
#ifndef HVMM_BT_INT_H
#define HVMM_BT_INT_H

#include "host-driver/hvmm-kern.h"
#include "monitor/mon-sys.h"
#include "bt/bt.h"

#define X86_TF 0x100u

struct hvmm_bt {
	struct bt *bt;
	void *win;			/* BT_WIN_BYTES, vmalloc */
	u64 *win_pa;			/* host-physical address of each page */
	struct mon_bt_state st;		/* too large for the stack */
	struct mon_bt_sysenter se;	/* the guest's SYSENTER targets (this stay) */
	struct hvmm_sys_stats s;	/* the bt_* counters */
};

/* bt__lookup; a full TC is reset once and the lookup retried. */
int hvmm__bt_lookup(struct hvmm_bt *b, const struct bt_env *env, u32 eip, u32 *tc);

/* mon_world.bt_trap (see mon.h), the in-world handler. */
int hvmm__bt_world_trap(struct mon_world *w, struct mon_frame *f);

#endif
