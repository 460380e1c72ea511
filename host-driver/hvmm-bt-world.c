// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-bt-world.c — what a translated stay does inside the
 * monitor world (docs/hybrid.md "The stay loop"): mon__trap hands a #UD at
 * CPL 1 (an exit site) and a #GP(0) at CPL 3 of a translated stay to
 * hvmm__bt_world_trap, which runs with interrupts off on the monitor stack
 * and the host GS base, and does what needs no host service on the frame:
 * translation misses, RDTSC, in-module irqchip ports, CMPXCHG8B, and the
 * guest's SYSENTER, SYSEXIT and IRET between translated kernel code and
 * native user code. The functions here are pure C on module memory; the
 * only host-kernel calls are ktime_get_ns (through the interpreter's clock)
 * and hrtimer_start (hvmm__kirq_arm), see docs/ARCHITECTURE.md. What
 * this handler declines leaves the world to the stay loop (hvmm-bt.c). */
#include <linux/mm.h>

#include "host-driver/hvmm-bt-int.h"

/* The guest's registers (EAX..EDI) and EFLAGS at site @site: the frame's
 * with the site's fix-ups applied. */
static void site_regs(struct hvmm_vcpu *vc, const struct bt_site *site, u32 gpr[8], u32 *fl)
{
	struct mon_frame *f = mon__frame(vc->world.w);

	*fl = (u32)f->rflags;
	hvmm__frame_gprs(f, gpr);
	bt__fixup(vc->bt->bt, site, gpr, fl);
}

/* An indirect branch whose target missed the hash: the branch is done,
 * the guest state is the target's after the site's fix-ups. Translate the
 * target (bt__lookup also enters it in the hash), apply the fix-ups to the
 * frame and go on there, without the interpreter. False when the target
 * cannot be translated (the interpreter goes there instead). */
static bool bt_resume_dyn(struct hvmm_vcpu *vc, const struct bt_site *site)
{
	struct hvmm_bt *b = vc->bt;
	struct mon_frame *f = mon__frame(vc->world.w);
	u32 target = bt__wdata(b->bt)->target, tc, gpr[8], fl;

	site_regs(vc, site, gpr, &fl);
	if (hvmm__bt_lookup(b, mon_sys__bt_env(vc->sys), target, &tc))
		return false;
	f->rax = gpr[0];
	f->rcx = gpr[1];
	f->rflags = fl;
	f->rip = tc;
	return true;
}

/* An exit site (@n code bytes at @code) whose instruction the module
 * performs itself (RDTSC, the in-kernel irqchip's ports): fix-ups applied,
 * the instruction done on the frame's registers, resume at the translation
 * of the next instruction, which is looked up first. 0: done; -1: not such
 * an instruction, or the next one cannot run translated: nothing done (the
 * interpreter runs it). */
static int bt_fast_exit(struct hvmm_vcpu *vc, const struct bt_site *site, const u8 *code,
			u32 n)
{
	struct hvmm_bt *b = vc->bt;
	struct mon_frame *f = mon__frame(vc->world.w);
	u32 gpr[8], fl, len, tc;

	site_regs(vc, site, gpr, &fl);
	if (mon_sys__bt_fast_exit(vc->sys, code, n, gpr, &len, 1) ||
	    hvmm__bt_lookup(b, mon_sys__bt_env(vc->sys), site->eip + len, &tc))
		return -1;
	/* cannot fail now: same bytes, same chip state as the dry run (and
	 * the frame's RIP may point into a TC that bt_lookup just reset) */
	mon_sys__bt_fast_exit(vc->sys, code, n, gpr, &len, 0);
	f->rax = gpr[0]; f->rcx = gpr[1]; f->rdx = gpr[2];
	f->rflags = fl;
	f->rip = tc;
	return 0;
}

/* Inside the world: the irqchip's host timer armed for the PIT deadline
 * when it moved (an in-world PIT write) or the stay began without it.
 * Before guest user mode runs natively there, or a guest tick could wait
 * for a host interrupt. See hvmm__bt_world_trap on calling hrtimer_start
 * inside the world. */
static void bt_timer_rearm(struct hvmm_vcpu *vc)
{
	if (hvmm__kirq_timer_stale(vc))
		hvmm__kirq_arm(vc);
}

/* SYSEXIT at exit site @site, inside the world: the guest goes to user
 * mode (EIP = EDX, ESP = ECX, CS/SS = SYSENTER_CS + 16/24 at RPL 3, flat
 * in the mirror: mon_sys__bt_sysenter) and runs natively in this stay, as
 * in a native one (real IF set). Only with the guest's IF set (Linux's
 * STI; SYSEXIT) and no interrupt waiting, which the interpreter delivers
 * at that boundary. 0: done; -1: not SYSEXIT, or not now. */
static int bt_world_sysexit(struct hvmm_vcpu *vc, const struct bt_site *site, const u8 *code,
			    u32 n)
{
	struct hvmm_bt *b = vc->bt;
	struct mon_frame *f = mon__frame(vc->world.w);
	struct bt_wdata *wd = bt__wdata(b->bt);
	u32 gpr[8], fl;

	if (!b->se.ok || !wd->vif || wd->pend || n < 2 || code[0] != 0x0f || code[1] != 0x35)
		return -1;
	site_regs(vc, site, gpr, &fl);
	if (fl & (X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_IOPL | X86_EFLAGS_VM))
		return -1;
	hvmm__frame_put_gprs(f, gpr);
	f->rip = gpr[2];
	f->rsp = gpr[1];
	f->cs = (b->se.cs + 16) | 3;
	f->ss = (b->se.cs + 24) | 3;
	f->rflags = fl | X86_EFLAGS_IF;
	bt_timer_rearm(vc);
	b->s.bt_syscalls++;
	return 0;
}

/* CMPXCHG8B at exit site @site, done by the module (translated code
 * leaves it out: QEMU 7.2 TCG corrupts EFLAGS after one at CPL 1, docs/
 * bt.md): the operand (8 bytes in one page) walked as a supervisor write
 * (A/D set as the CPU would), RAM and not a watched frame, then compared
 * and exchanged atomically (SDM Vol. 2A CMPXCHG8B: only ZF changes).
 * 0: done, resume at the next instruction's translation; -1: the
 * interpreter runs it (a fault, MMIO, a watched frame, another form). */
static int bt_world_cx8(struct hvmm_vcpu *vc, const struct bt_site *site, const u8 *code,
			u32 n)
{
	struct hvmm_bt *b = vc->bt;
	struct mon_world *w = vc->world.w;
	struct mon_frame *f = mon__frame(w);
	u32 gpr[8], fl, lin, len, tc;
	u16 sel[6];
	struct sm_walk walk;
	u64 *p, old, want;

	site_regs(vc, site, gpr, &fl);
	hvmm__frame_sels(f, sel);
	if (mon_sys__bt_cx8_addr(vc->sys, code, n, gpr, sel, &lin, &len) ||
	    (lin & 0xfff) > 0xff8 ||
	    sm__walk32(&w->gmem, w->guest_cr3, w->guest_cr4 & X86_CR4_PSE,
		       w->guest_cr0 & X86_CR0_WP, lin, SM_PF_W, false, &walk) != SM_WALK_OK ||
	    (walk.gpa >> PAGE_SHIFT) >= vc->vm->nframes ||
	    w->gmem.frames[walk.gpa >> PAGE_SHIFT] == SM_NO_FRAME ||
	    mon__shadow_watched(w, walk.gpa >> PAGE_SHIFT) ||
	    hvmm__bt_lookup(b, mon_sys__bt_env(vc->sys), site->eip + len, &tc))
		return -1;
	/* now with A/D: the access happens */
	sm__walk32(&w->gmem, w->guest_cr3, w->guest_cr4 & X86_CR4_PSE,
		   w->guest_cr0 & X86_CR0_WP, lin, SM_PF_W, true, &walk);
	p = (u64 *)((u8 *)vc->sys_pages[walk.gpa >> PAGE_SHIFT] + (walk.gpa & 0xfff));
	want = (u64)gpr[2] << 32 | gpr[0];
	old = cmpxchg64(p, want, (u64)gpr[1] << 32 | gpr[3]);
	if (old == want) {
		fl |= X86_EFLAGS_ZF;
	} else {
		fl &= ~X86_EFLAGS_ZF;
		gpr[0] = (u32)old;
		gpr[2] = (u32)(old >> 32);
	}
	hvmm__frame_put_gprs(f, gpr);
	f->rflags = fl;
	f->rip = tc;
	b->s.bt_fast_exits++;
	return 0;
}

/* The EFLAGS bits an in-world IRET takes from the stack: the arithmetic
 * ones, DF, IF and ID; any other bit set (TF, NT, IOPL, RF, VM, AC...)
 * leaves the IRET to the interpreter. */
#define BT_IRET_FLAGS (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
		       X86_EFLAGS_SF | X86_EFLAGS_OF | X86_EFLAGS_DF | X86_EFLAGS_IF | \
		       X86_EFLAGS_ID | X86_EFLAGS_FIXED)

/* IRET at exit site @site, inside the world (SDM Vol. 2A IRET, protected
 * mode, NT clear): to guest kernel code (the same CS; the translation of
 * the new EIP, the guest's IF as vif) or to guest user mode (CS/SS the
 * flat user pair SYSEXIT loads, IF set; run natively in this stay as after
 * SYSEXIT). Not with an interrupt waiting (the interpreter delivers it at
 * that boundary) or NMIs blocked. 0: done; -1:
 * not IRET, or not now (the interpreter performs it). */
static int bt_world_iret(struct hvmm_vcpu *vc, const struct bt_site *site, const u8 *code,
			 u32 n)
{
	struct hvmm_bt *b = vc->bt;
	struct mon_frame *f = mon__frame(vc->world.w);
	struct bt_wdata *wd = bt__wdata(b->bt);
	u32 gpr[8], fl, fr[5], tc;

	if (!b->se.iret_ok || wd->pend || n < 1 || code[0] != 0xcf)
		return -1;
	site_regs(vc, site, gpr, &fl);
	if ((fl & (X86_EFLAGS_NT | X86_EFLAGS_TF)) ||
	    mon_sys__bt_read(vc->sys, gpr[4], fr, 12) || (fr[2] & ~BT_IRET_FLAGS))
		return -1;
	if ((fr[1] & 3) == 3) {
		if (!b->se.ok || fr[1] != ((b->se.cs + 16) | 3) || !(fr[2] & X86_EFLAGS_IF) ||
		    mon_sys__bt_read(vc->sys, gpr[4] + 12, fr + 3, 8) ||
		    fr[4] != ((b->se.cs + 24) | 3))
			return -1;
		hvmm__frame_put_gprs(f, gpr);
		f->cs = fr[1];
		f->rsp = fr[3];
		f->ss = fr[4];
		bt_timer_rearm(vc);
	} else {
		if (fr[1] != wd->cs_sel || hvmm__bt_lookup(b, mon_sys__bt_env(vc->sys), fr[0], &tc))
			return -1;
		hvmm__frame_put_gprs(f, gpr);
		f->rsp = gpr[4] + 12;
		wd->vif = (fr[2] & X86_EFLAGS_IF) ? 256 : 0;	/* bt_wdata.vif */
		fr[0] = tc;
	}
	f->rip = fr[0];
	f->rflags = fr[2] | X86_EFLAGS_IF;
	b->s.bt_syscalls++;
	return 0;
}

/* SYSENTER from guest user code (a #GP(0) at CPL 3: SYSENTER_CS is 0 in
 * the world), inside the world: to the translation of SYSENTER_EIP with
 * CS/SS = SYSENTER_CS/+8 (RPL 1 in the world), ESP = SYSENTER_ESP, the
 * guest's IF, VM and RF clear (SDM Vol. 2B SYSENTER). 0: done; -1: not
 * SYSENTER, or the entry cannot run translated. */
static int bt_world_sysenter(struct hvmm_vcpu *vc, struct mon_frame *f)
{
	struct hvmm_bt *b = vc->bt;
	struct bt_wdata *wd = bt__wdata(b->bt);
	u32 tc;
	u8 c[2];

	if (!b->se.ok || (f->rflags & (X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_IOPL |
				       X86_EFLAGS_VM)) ||
	    mon_sys__bt_peek(vc->sys, (u32)f->rip, c, 2) != 2 || c[0] != 0x0f || c[1] != 0x34 ||
	    hvmm__bt_lookup(b, mon_sys__bt_env(vc->sys), b->se.eip, &tc))
		return -1;
	f->cs = b->se.cs | 1;
	f->ss = (b->se.cs + 8) | 1;
	f->rsp = b->se.esp;
	f->rip = tc;
	f->rflags &= ~(u64)(X86_EFLAGS_VM | X86_EFLAGS_RF);
	wd->vif = 0;
	wd->cs_sel = b->se.cs;
	wd->ss_sel = b->se.cs + 8;
	b->s.bt_syscalls++;
	return 0;
}

/* mon_world.bt_trap: a #UD at CPL 1 or a #GP(0) at CPL 3 in a translated
 * stay, inside the world (interrupts off, host GS base, monitor stack).
 * Does what needs no host service and resumes: a MISS chains, an
 * indirect-branch miss is resolved, RDTSC, irqchip ports and CMPXCHG8B are
 * done, SYSENTER/SYSEXIT/IRET pass between translated kernel code and
 * native user code. 0: resume; 1: resumable, but the module must look
 * first (an irqchip access made a guest interrupt deliverable); -1: the
 * module's ordinary exit path (frame untouched). While the module steps
 * out (TF) the guest stays in kernel mode: SYSENTER, SYSEXIT and IRET
 * refuse a frame with TF; the rest resume and the step traps after one
 * instruction, as before. */
int hvmm__bt_world_trap(struct mon_world *w, struct mon_frame *f)
{
	struct hvmm_vcpu *vc = w->bt_ctx;
	struct hvmm_bt *b = vc->bt;
	struct bt_wdata *wd = bt__wdata(b->bt);
	struct bt_site site;
	u8 code[15];
	u32 next, n;

	if ((f->cs & 3) == 3) {
		if (bt_world_sysenter(vc, f))
			return -1;
		b->s.bt_world_traps++;
		return 0;
	}
	if (bt__site(b->bt, (u32)f->rip, &site))
		return -1;
	switch (site.kind) {
	case BT_SITE_MISS:
		if (bt__chain(b->bt, mon_sys__bt_env(vc->sys), (u32)f->rip, &next))
			return -1;
		b->s.bt_chains++;
		f->rip = next;
		break;
	case BT_SITE_EXIT_DYN:
		if (!bt_resume_dyn(vc, &site))
			return -1;
		b->s.bt_indirect_misses++;
		break;
	case BT_SITE_EXIT:
		/* the instruction's bytes, read once for every handler */
		n = mon_sys__bt_peek(vc->sys, site.eip, code, sizeof(code));
		if (bt_fast_exit(vc, &site, code, n)) {
			if (bt_world_sysexit(vc, &site, code, n) && bt_world_iret(vc, &site, code, n) &&
			    bt_world_cx8(vc, &site, code, n))
				return -1;
			break;
		}
		b->s.bt_fast_exits++;
		b->s.bt_world_traps++;
		wd->pend = mon_sys__irq_pending(vc->sys) ? 1 : 0;
		/* a PIT write moved the deadline: the host timer is re-armed
		 * here, inside the world. hrtimer_start is callable with
		 * interrupts off from any context, and everything it touches
		 * (per-CPU data through the host GS base, the clock event
		 * device's MMIO or MSR) is in the kernel half the world maps;
		 * a leave and re-entry per guest tick cost more than the
		 * guest's whole tick handler under TCG (docs/bt.md). */
		bt_timer_rearm(vc);
		if (wd->pend && wd->vif) {
			b->s.bt_yields++;
			return 1;
		}
		return 0;
	default:
		return -1;
	}
	b->s.bt_world_traps++;
	return 0;
}
