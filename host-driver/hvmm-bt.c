// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-bt.c — stays of translated guest kernel code (bt/,
 * docs/bt.md). The translator's state and its window (data page, hash
 * table, translation cache: BT_WIN_BYTES of vmalloc memory) belong to the
 * vCPU; the monitor maps the window's pages at the guest-linear window
 * base on demand (mon-shadow.c window_fault), read-only except the data
 * page, supervisor only. Translated code runs at CPL 1 with the guest's
 * registers. Misses, cheap exit sites and system calls are done inside
 * the world (hvmm-bt-world.c); every other exit lands here in process
 * context, where a site (bt__site) says what the guest state is. */
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/io.h>

#include "host-driver/hvmm-bt-int.h"

/* Single steps from a host interrupt inside a sequence to the next site. */
#define BT_MAX_STEPS 64

int hvmm__bt_create(struct hvmm_vcpu *vc)
{
	struct hvmm_bt *b = kvzalloc(sizeof(*b), GFP_KERNEL);
	u32 i, n = BT_WIN_BYTES >> PAGE_SHIFT;

	if (!b)
		return -ENOMEM;
	vc->bt = b;
	b->bt = vzalloc(bt__size());
	b->win = vzalloc(BT_WIN_BYTES);
	b->win_pa = kvcalloc(n, sizeof(u64), GFP_KERNEL);
	if (!b->bt || !b->win || !b->win_pa) {
		hvmm__bt_free(vc);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		b->win_pa[i] = page_to_phys(vmalloc_to_page((u8 *)b->win + ((size_t)i << PAGE_SHIFT)));
	if (bt__init(b->bt, b->win, 0, vc->vm->nframes)) {
		hvmm__bt_free(vc);
		return -EINVAL;
	}
	return 0;
}

void hvmm__bt_free(struct hvmm_vcpu *vc)
{
	struct hvmm_bt *b = vc->bt;

	if (!b)
		return;
	if (vc->world.w) {
		vc->world.w->bt = NULL;
		vc->world.w->bt_win = 0;
		vc->world.w->bt_win_pa = NULL;
		vc->world.w->bt_trap = NULL;
	}
	vfree(b->bt);
	vfree(b->win);
	kvfree(b->win_pa);
	kvfree(b);
	vc->bt = NULL;
}

/* Per run: translated kernel code on or off (HVMM_SRUN_BT). */
void hvmm__bt_attach(struct hvmm_vcpu *vc, bool on)
{
	struct mon_world *w = vc->world.w;

	mon_sys__attach_bt(vc->sys, on && vc->bt ? vc->bt->bt : NULL);
	/* frames translated code came from stay watched for native stays */
	w->bt = vc->bt ? vc->bt->bt : NULL;
	w->bt_win_pa = vc->bt ? vc->bt->win_pa : NULL;
	w->bt_trap = vc->bt ? hvmm__bt_world_trap : NULL;
	w->bt_ctx = vc;
}

/* The guest's page directory at @cr3 (2-level), or NULL outside RAM. */
static const u32 *guest_pd(struct hvmm_vcpu *vc, u32 cr3)
{
	return (cr3 >> PAGE_SHIFT) < vc->vm->nframes ? vc->sys_pages[cr3 >> PAGE_SHIFT] : NULL;
}

/* A window base (4 MiB, one guest PDE) the guest's page directory at @cr3
 * leaves not present, from the top of the kernel half down (the last PDE,
 * Linux's fixmap, is skipped); 0 when there is none. */
static u32 bt_pick_window(struct hvmm_vcpu *vc, u32 cr3)
{
	const u32 *pd = guest_pd(vc, cr3);
	int i;

	for (i = 1022; pd && i >= 768; i--)
		if (!(pd[i] & 1))
			return (u32)i << 22;
	return 0;
}

static bool bt_window_free(struct hvmm_vcpu *vc, u32 cr3, u32 win)
{
	const u32 *pd = guest_pd(vc, cr3);

	return win && pd && !(pd[win >> 22] & 1);
}

/* The guest state at site @site (guest EIP @eip) back into the
 * interpreter. */
static void bt_convert(struct hvmm_vcpu *vc, const struct bt_site *site, u32 eip, int vector)
{
	struct hvmm_bt *b = vc->bt;
	struct mon_world *w = vc->world.w;
	struct mon_frame *f = mon__frame(w);
	struct mon_bt_state *st = &b->st;
	u32 fl = (u32)f->rflags & ~X86_TF;

	hvmm__frame_gprs(f, st->gpr);
	bt__fixup(b->bt, site, st->gpr, &fl);
	st->eip = eip;
	st->eflags = fl;
	st->vif = bt__wdata(b->bt)->vif;
	hvmm__frame_sels(f, st->sel);
	mon_sys__bt_import(vc->sys, st, (u8 *)w + MON_OFF_FPU, vector);
}

int hvmm__bt_lookup(struct hvmm_bt *b, const struct bt_env *env, u32 eip, u32 *tc)
{
	int r = bt__lookup(b->bt, env, eip, tc);

	if (r == -ENOSPC) {
		bt__reset(b->bt, bt__win_lin(b->bt));
		r = bt__lookup(b->bt, env, eip, tc);
	}
	return r;
}

/* The guest EIP a site's state belongs to. */
static u32 site_eip(struct hvmm_vcpu *vc, const struct bt_site *s)
{
	return s->kind == BT_SITE_EXIT_DYN ? bt__wdata(vc->bt->bt)->target : s->eip;
}

/* Should the state go back to the interpreter at the next site? A guest
 * interrupt it must deliver now, or the run's time is up. */
static bool bt_want_out(struct hvmm_vcpu *vc, u64 end_ns)
{
	struct bt_wdata *wd = bt__wdata(vc->bt->bt);

	wd->pend = mon_sys__irq_pending(vc->sys) ? 1 : 0;
	return (wd->pend && wd->vif) || ktime_get_ns() >= end_ns || need_resched() ||
	       signal_pending(current);
}

/* The stay ended in guest user mode (reached by an in-world SYSEXIT), as a
 * native stay ends (sys_native): 1 for a host interrupt or NMI, else 0 with
 * the exception the interpreter re-executes (or the #PF the guest's tables
 * give, delivered). Counted with the native stays' exits. */
static int bt_user_exit(struct hvmm_vcpu *vc, u32 reason)
{
	struct mon_world *w = vc->world.w;
	struct mon_frame *f = mon__frame(w);
	struct hvmm_sys_stats *ns = &vc->nst;
	struct mon_bt_state *st = &vc->bt->st;
	u32 vec = w->exit_vector;
	int r = reason == MON_X_HOST_IRQ || reason == MON_X_HOST_NMI;
	bool pf = !r && reason == MON_X_FAULT && vec == 14;

	if (r)
		ns->native_exits[reason == MON_X_HOST_IRQ ? HVMM_NX_IRQ : HVMM_NX_NMI]++;
	else
		ns->native_exits[vec < 32 ? vec : HVMM_NX_SLICE]++;
	if (pf)
		ns->reflected_pf++;
	vc->bt->s.bt_user_exits++;
	hvmm__frame_gprs(f, st->gpr);
	st->eip = (u32)f->rip;
	st->eflags = (u32)f->rflags;
	hvmm__frame_sels(f, st->sel);
	mon_sys__bt_import(vc->sys, st, (u8 *)w + MON_OFF_FPU, r ? -1 : (int)vec);
	if (pf)
		mon_sys__native_pf(vc->sys, w->exit_error, w->exit_cr2);
	return r;
}

int hvmm__bt_stay(struct hvmm_vcpu *vc, u64 icount, u64 end_ns)
{
	struct hvmm_bt *b = vc->bt;
	struct hvmm_world *hw = &vc->world;
	struct mon_world *w = hw->w;
	struct mon_frame *f = mon__frame(w);
	struct mon_bt_state *st = &b->st;
	const struct bt_env *env = mon_sys__bt_env(vc->sys);
	struct bt_wdata *wd;
	struct bt_site site;
	u32 tc, win, reason, steps = 0;
	bool out = false;
	int r;

	if (mon_sys__bt_export(vc->sys, st, (u8 *)w + MON_OFF_FPU)) {
		b->s.bt_refused++;
		return 0;
	}
	hvmm__sys_shadow_check(vc, st->cr0, st->cr3, st->cr4, icount);
	win = bt__win_lin(b->bt);
	if (!bt_window_free(vc, st->cr3, win)) {
		win = bt_pick_window(vc, st->cr3);
		if (!win) {
			b->s.bt_refused++;
			mon_sys__bt_refused(vc->sys);
			return 0;
		}
		bt__reset(b->bt, win);
		hvmm__sys_shadow_drop(w);	/* window pages at the old place */
		b->s.bt_window_moves++;
	}
	w->bt_win = win;
	if (hvmm__bt_lookup(b, env, st->eip, &tc)) {
		b->s.bt_refused++;
		mon_sys__bt_refused(vc->sys);
		return 0;
	}
	hvmm__sys_check_watched(vc, st->gdt_gfn);
	mon_sys__bt_sysenter(vc->sys, &b->se);
	b->s.bt_stays++;

	hvmm__world_set_bt(hw, st->gdt, st->gdt_n, st->cr4);
	hvmm__frame_put(f, st->gpr, tc, st->eflags, st->sel);
	wd = bt__wdata(b->bt);
	wd->vif = st->vif;
	/* the guest's own CS and SS (RPL 0: mon_sys__bt_ok), for PUSH CS/SS */
	wd->cs_sel = st->sel[1] & ~3u;
	wd->ss_sel = st->sel[2] & ~3u;
	wd->cr2 = st->cr2;	/* MOV r32, CR2 (a guest #PF ends the stay) */
	wd->pend = mon_sys__irq_pending(vc->sys) ? 1 : 0;

	for (;;) {
		b->s.bt_entries++;
		if (out)
			f->rflags |= X86_TF;
		/* the irqchip's timer only serves to end the stay for a guest
		 * interrupt: not needed once one is pending (the TC's STI and
		 * POPF exit on wdata.pend) or while stepping out */
		reason = hvmm__sys_enter(vc, &b->s.bt_ns, out || wd->pend);
		f->rflags &= ~X86_TF;
		if (reason == MON_X_MONITOR_ERROR) {
			pr_err("hvmm: monitor error (translated code): vector %u error %#x cr2 %#x at %pS\n",
			       w->exit_vector, w->exit_error, w->exit_cr2, (void *)w->exit_rip);
			return -1;
		}
		if ((f->cs & 3) == 3)
			return bt_user_exit(vc, reason);
		r = bt__site(b->bt, (u32)f->rip, &site);
		if (reason == MON_X_HOST_IRQ || reason == MON_X_HOST_NMI ||
		    (reason == MON_X_FAULT && w->exit_vector == 1 && out)) {
			if (reason != MON_X_FAULT)
				b->s.bt_host_irqs++;
			else
				b->s.bt_steps++;
			out = out || bt_want_out(vc, end_ns);
			/* not in an STI's shadow: the interpreter would deliver
			 * the interrupt before the instruction STI covers */
			if (out && r == 0 && !(site.flags & BT_SF_SHADOW)) {
				bt_convert(vc, &site, site_eip(vc, &site), -1);
				return 1;
			}
			/* only real steps count: host interrupts may end an
			 * entry before one instruction ran */
			if (out && reason == MON_X_FAULT && ++steps > BT_MAX_STEPS) {
				u32 off = (u32)f->rip - bt__win_lin(b->bt) - BT_TC_OFF;

				pr_err("hvmm: translated code: no site within %d steps of %#llx (flags %#llx)\n",
				       BT_MAX_STEPS, f->rip, f->rflags);
				if (off < BT_TC_BYTES - 64 && off >= 64)
					print_hex_dump(KERN_ERR, "hvmm tc: ", DUMP_PREFIX_OFFSET, 16, 1,
						       (u8 *)b->win + BT_TC_OFF + off - 64, 96, false);
				return -1;
			}
			continue;
		}
		if (r) {
			/* a fault inside a sequence: a translator bug */
			pr_err("hvmm: translated code: exit %u vector %u at %#llx, not a site\n",
			       reason, w->exit_vector, f->rip);
			return -1;
		}
		if (reason == MON_X_BT_YIELD) {
			/* an in-world irqchip access made a guest interrupt
			 * deliverable: the state is precise at the site after it */
			if (bt_want_out(vc, end_ns) && wd->vif) {
				if (!(site.flags & BT_SF_SHADOW)) {
					bt_convert(vc, &site, site_eip(vc, &site), -1);
					return 0;
				}
				out = true;
			}
			continue;
		}
		if (reason == MON_X_FAULT && w->exit_vector == 6 && site.kind != BT_SITE_INSN) {
			/* what hvmm__bt_world_trap declined (hvmm-bt-world.c): an
			 * exit site, or a miss whose target cannot be translated;
			 * the interpreter runs it */
			b->s.bt_exit_sites++;
			bt_convert(vc, &site, site_eip(vc, &site), -1);
			return 0;
		}
		/* a guest exception, an MMIO access, a write to a watched frame:
		 * the interpreter re-executes the instruction */
		b->s.bt_faults++;
		bt_convert(vc, &site, site.eip,
			   reason == MON_X_FAULT && w->exit_vector < 32 ? (int)w->exit_vector : -1);
		return 0;
	}
}

void hvmm__bt_stats(struct hvmm_vcpu *vc, struct hvmm_sys_stats *st)
{
	struct hvmm_bt *b = vc->bt;
	struct bt_stats bs;

	if (!b)
		return;
	bt__stats(b->bt, &bs);
	st->bt_stays = b->s.bt_stays;
	st->bt_entries = b->s.bt_entries;
	st->bt_ns = b->s.bt_ns;
	st->bt_exit_sites = b->s.bt_exit_sites;
	st->bt_chains = b->s.bt_chains;
	st->bt_faults = b->s.bt_faults;
	st->bt_host_irqs = b->s.bt_host_irqs;
	st->bt_steps = b->s.bt_steps;
	st->bt_blocks = bs.blocks;
	st->bt_insns = bs.insns;
	st->bt_resets = bs.resets;
	st->bt_window_moves = b->s.bt_window_moves;
	st->bt_refused = b->s.bt_refused;
	st->bt_indirect_misses = b->s.bt_indirect_misses;
	st->bt_fast_exits = b->s.bt_fast_exits;
	st->bt_world_traps = b->s.bt_world_traps;
	st->bt_yields = b->s.bt_yields;
	st->bt_syscalls = b->s.bt_syscalls;
	st->bt_user_exits = b->s.bt_user_exits;
}
