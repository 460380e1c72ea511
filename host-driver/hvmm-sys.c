// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-sys.c — system mode of a vCPU (ABI 4, issue 6): a whole
 * guest OS. The interpreter state (monitor/mon-sys.c, struct cpu and its
 * decoded-instruction cache) is allocated here with vmalloc, RAM is reached
 * through the direct-map addresses of the VM's pinned pages, and each
 * HVMM_VCPU_SYS_RUN interprets a bounded number of instructions in the
 * ioctl's process context with interrupts and preemption points intact, so
 * host timers, signals and the scheduler keep working (docs/hybrid.md). */
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <asm/fpu/api.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "host-driver/hvmm-kern.h"
#include "monitor/mon-sys.h"

/* Instructions per SYS_RUN at most: a stay stays in the milliseconds. */
#define SYS_MAX_BUDGET 1000000ull
/* Wall time of one SYS_RUN at most when it alternates between native user
 * code and the interpreter: userland polls its timers after each run. */
#define SYS_MAX_RUN_NS 2000000ull
/* With the in-kernel irqchip on, a run also goes on across budgets and host
 * interrupts (the guest's timer is in here), up to this long or until
 * userland's own next deadline (docs/kirq.md). */
#define SYS_KIRQ_RUN_NS 8000000ull

static unsigned long long sys_now_ns(void)
{
	return ktime_get_ns();
}

void hvmm__sys_free(struct hvmm_vcpu *vc)
{
	hvmm__bt_free(vc);
	hvmm__kirq_free(vc);
	kvfree(vc->sys_frames);
	vc->sys_frames = NULL;
	vfree(vc->sys_cpu);
	kvfree(vc->sys);
	kvfree(vc->sys_pages);
	vc->sys_cpu = NULL;
	vc->sys = NULL;
	vc->sys_pages = NULL;
}

/* MXCSR bits the host's FXRSTOR accepts (SDM Vol. 1 §11.6.6: a zero
 * MXCSR_MASK in the FXSAVE image means 0xffbf). */
static u32 host_mxcsr_mask(void)
{
	static u8 img[512] __aligned(16);
	static DEFINE_MUTEX(lock);
	u32 m;

	mutex_lock(&lock);
	kernel_fpu_begin();
	asm volatile("fxsave %0" : "=m"(img));
	kernel_fpu_end();
	m = *(u32 *)(img + 28);
	mutex_unlock(&lock);
	return m ? m : 0xffbf;
}

/* Every shadow entry goes (the next entry's CR3 load flushes the TLB). */
void hvmm__sys_shadow_drop(struct mon_world *w)
{
	struct mon_shadow *s = w->shadow;

	mon__shadow_flush(w);
	s->wlog_n = 0;
	if (s->wbits)
		memset(s->wbits, 0, s->wbits_n * sizeof(u32));
}

/* Before a stay: the shadow is the guest's TLB (SDM Vol. 3A 4.10.4). A
 * translation may be used until the guest invalidates it, so only the
 * guest's invalidations since the last stay count (mon_sys__tlb_events):
 * INVLPG drops the shadow of its 4 MiB region; a CR3 load drops every
 * shadow but those of guest-global pages (4.10.4.1: the guest's kernel
 * stays mapped across its context switches, as in a CPU's TLB); a
 * paging-mode or CR4.PGE change, or many INVLPGs, drop every shadow.
 * Table writes alone do not: a
 * guest must invalidate after any change but a not-present entry becoming
 * present, which the shadow never holds, and a permission gain, which a
 * shadow fault re-walks. Then the world takes the guest's CR0/3/4. */
void hvmm__sys_shadow_check(struct hvmm_vcpu *vc, u32 cr0, u32 cr3, u32 cr4, u64 icount)
{
	struct mon_world *w = vc->world.w;
	u32 lin[8];
	int i, local, n = mon_sys__tlb_events(vc->sys, lin, ARRAY_SIZE(lin), &local);

	if (n < 0 || ((cr4 ^ w->guest_cr4) & (X86_CR4_PSE | X86_CR4_PGE))) {
		hvmm__sys_shadow_drop(w);
		vc->nst.shadow_flushes++;
	} else {
		/* a new CR3 without a recorded load cannot happen (the
		 * interpreter counts every one); dropped as one all the same.
		 * The write log keeps the frames of the global entries kept. */
		if (local || cr3 != w->guest_cr3) {
			mon__shadow_drop_local(w);
			vc->nst.shadow_local_drops++;
		}
		for (i = 0; i < n; i++)
			mon__shadow_invlpg(w, lin[i]);
		if (icount != vc->nat_icount)
			vc->nst.shadow_kept++;
	}
	w->guest_cr0 = cr0;
	w->guest_cr3 = cr3;
	w->guest_cr4 = cr4;
}

/* One native stay of guest user code (the interpreter said MON_SYS_NATIVE):
 * export the state into the world (frame, GDT slots, FXSAVE image, guest
 * CR0/3/4), enter it once, take the state back. Shadows are dropped when
 * the guest tables they derive from changed (docs/hybrid.md). Returns 0
 * when the interpreter must handle a guest exception now, 1 when the stay
 * ended for the host (interrupt, NMI), -1 on a monitor error (the vCPU is
 * dead). */
static int sys_native(struct hvmm_vcpu *vc, u64 icount)
{
	struct hvmm_world *hw = &vc->world;
	struct mon_world *w = hw->w;
	struct mon_frame *f = mon__frame(w);
	struct hvmm_sys_stats *ns = &vc->nst;
	void *fx = (u8 *)w + MON_OFF_FPU;
	struct mon_native_state st;
	u32 reason, vec = 0;
	bool pf = false;
	int r;

	mon_sys__native_export(vc->sys, &st, fx);
	ns->native_stays++;
	hvmm__sys_shadow_check(vc, st.cr0, st.cr3, st.cr4, icount);
	hvmm__sys_check_watched(vc, NULL);
	hvmm__world_set_segs(hw, st.sel, st.desc, 6, st.cr4);
	hvmm__frame_put(f, st.gpr, st.eip, st.eflags, st.sel);

	ns->native_entries++;
	reason = hvmm__sys_enter(vc, &ns->native_ns, false);

	if (reason == MON_X_MONITOR_ERROR) {
		pr_err("hvmm: monitor error (native user mode): vector %u error %#x cr2 %#x at %pS\n",
		       w->exit_vector, w->exit_error, w->exit_cr2, (void *)w->exit_rip);
		return -1;
	}
	if (reason == MON_X_HOST_IRQ || reason == MON_X_HOST_NMI) {
		ns->native_exits[reason == MON_X_HOST_IRQ ? HVMM_NX_IRQ : HVMM_NX_NMI]++;
		r = 1;
	} else {
		vec = w->exit_vector;
		ns->native_exits[vec < 32 ? vec : HVMM_NX_SLICE]++;
		/* a #PF the guest's own tables give: delivered directly; any
		 * other exit (holes, #GP, #UD...) re-executes in the interpreter */
		pf = reason == MON_X_FAULT && vec == 14;
		if (pf)
			ns->reflected_pf++;
		r = 0;
	}

	hvmm__frame_gprs(f, st.gpr);
	st.eip = f->rip;
	st.eflags = f->rflags;
	hvmm__frame_sels(f, st.sel);
	mon_sys__native_import(vc->sys, &st, fx, r == 0 ? (int)vec : -1);
	if (pf)
		mon_sys__native_pf(vc->sys, w->exit_error, w->exit_cr2);

	return r;
}

/* Frames written in the world must be watched ones' never (the shadow maps
 * watched frames read-only: code the interpreter decoded or bt translated,
 * the guest GDT). A frame that became watched since its shadow entry was
 * made writable is found in the write log or its bitmap (every frame
 * mapped writable since the last drop, mon__shadow_wrote_watched): then
 * every shadow goes. Checked only when the set
 * of watched frames grew. */
void hvmm__sys_check_watched(struct hvmm_vcpu *vc, const u32 gdt_gfn[2])
{
	struct mon_world *w = vc->world.w;
	u64 marks = mon_sys__code_marks(vc->sys);

	if (gdt_gfn) {
		if (gdt_gfn[0] != w->bt_gdt_gfn[0] || gdt_gfn[1] != w->bt_gdt_gfn[1])
			vc->code_marks_seen = ~0ull;
		w->bt_gdt_gfn[0] = gdt_gfn[0];
		w->bt_gdt_gfn[1] = gdt_gfn[1];
	}
	if (marks == vc->code_marks_seen)
		return;
	vc->code_marks_seen = marks;
	if (mon__shadow_wrote_watched(w)) {
		hvmm__sys_shadow_drop(w);
		vc->nst.code_invalidations++;
	}
}

/* One entry into the world with the frame and GDT prepared: FPU owned,
 * interrupts off, the irqchip's timer armed unless @no_timer (a stay that
 * single-steps to a site already wants out: a timer whose deadline passed
 * would end every entry before one instruction ran). Adds the time inside
 * to *ns; returns the exit reason. */
u32 hvmm__sys_enter(struct hvmm_vcpu *vc, u64 *ns, bool no_timer)
{
	struct mon_world *w = vc->world.w;
	u32 reason;
	u64 t0;

	kernel_fpu_begin();
	local_irq_disable();
	if (!no_timer)
		hvmm__kirq_arm(vc);
	t0 = local_clock();
	reason = hvmm__world_run_once(&vc->world);
	*ns += local_clock() - t0;
	local_irq_enable();
	kernel_fpu_end();
	vc->world_switches++;
	w->n_exits[reason < MON_EXITS ? reason : 0]++;
	return reason;
}

static int sys_create(struct hvmm_vcpu *vc)
{
	struct hvmm_vm *vm = vc->vm;
	u32 i;

	vc->sys_pages = kvcalloc(vm->nframes, sizeof(void *), GFP_KERNEL);
	vc->sys_frames = kvcalloc(vm->nframes, sizeof(u64), GFP_KERNEL);
	vc->sys = kvzalloc(mon_sys__size(), GFP_KERNEL);
	vc->sys_cpu = vzalloc(mon_sys__cpu_size());
	if (!vc->sys_pages || !vc->sys_frames || !vc->sys || !vc->sys_cpu) {
		hvmm__sys_free(vc);
		return -ENOMEM;
	}
	for (i = 0; i < vm->nframes; i++)
		vc->sys_pages[i] = page_address(vm->pages[i]);
	if (mon_sys__init(vc->sys, vc->sys_cpu, vc->sys_pages, vm->nframes, sys_now_ns)) {
		hvmm__sys_free(vc);
		return -EINVAL;
	}
	if (hvmm__kirq_create(vc) || hvmm__bt_create(vc)) {
		hvmm__sys_free(vc);
		return -ENOMEM;
	}
	vc->mxcsr_mask = host_mxcsr_mask();
	hvmm__world_set_system(&vc->world, vc->sys_frames);
	vc->world.w->code_bits = mon_sys__code_bits(vc->sys);
	vc->code_marks_seen = ~0ull;
	return 0;
}

/* The guest-physical layout changed (SET_SYSTEM): MMIO and ROM pages become
 * holes for the shadow (never mapped natively; the interpreter does those
 * accesses), and every shadow goes. */
static void sys_set_layout(struct hvmm_vcpu *vc, const struct hvmm_sregs *r)
{
	struct hvmm_vm *vm = vc->vm;
	u64 gpa;
	u32 i;

	for (i = 0; i < vm->nframes; i++) {
		gpa = (u64)i << PAGE_SHIFT;
		vc->sys_frames[i] = vm->frames[i];
		if ((gpa + PAGE_SIZE > r->mmio_start && gpa < r->mmio_end) ||
		    (gpa + PAGE_SIZE > r->rom_start && gpa < r->rom_end))
			vc->sys_frames[i] = SM_NO_FRAME;
	}
	vc->nat_icount = ~0ull;
	hvmm__sys_shadow_drop(vc->world.w);
}

/* A run that ends after a native stay: the outputs of an exit without an
 * access (the guest state is back in the interpreter). */
static void sys_run_end(struct hvmm_vcpu *vc, struct hvmm_sys_run *run, u32 reason)
{
	run->reason = reason;
	run->is_write = 0;
	run->addr = 0;
	run->len = 0;
	run->wdata = 0;
	run->eflags = mon_sys__eflags(vc->sys);
	vc->nst.exits[reason]++;
}

/* With the in-kernel irqchip on, may this run go on after a budget or a
 * native stay ended by a host interrupt? Until SYS_KIRQ_RUN_NS or
 * userland's next deadline, and never past a reschedule or a signal. */
static bool sys_kirq_go_on(struct hvmm_vcpu *vc, u64 start)
{
	u64 now = ktime_get_ns();

	return hvmm__kirq_on(vc) && now - start < SYS_KIRQ_RUN_NS &&
	       now < hvmm__kirq_wake_ns(vc) && !need_resched() &&
	       !signal_pending(current);
}

static long sys_run(struct hvmm_vcpu *vc, void __user *uarg)
{
	struct hvmm_sys_run run;
	u64 start, t0;
	u32 reason;
	int r;

	if (copy_from_user(&run, uarg, sizeof(run)))
		return -EFAULT;
	if (run.flags & ~(HVMM_SRUN_IRQ | HVMM_SRUN_INJECT | HVMM_SRUN_DATA |
			  HVMM_SRUN_NO_NATIVE | HVMM_SRUN_A20_OFF | HVMM_SRUN_BT))
		return -EINVAL;
	if (run.budget > SYS_MAX_BUDGET)
		run.budget = SYS_MAX_BUDGET;
	if (signal_pending(current))
		return -EINTR;
	if (vc->world.w->dead)
		return -EIO;
	vc->run_calls++;
	mon_sys__set_native(vc->sys, !(run.flags & HVMM_SRUN_NO_NATIVE), vc->mxcsr_mask);
	hvmm__bt_attach(vc, run.flags & HVMM_SRUN_BT);
	/* the world maps the host's kernel half (its top-level entries are
	 * fixed after boot on x86-64: vmalloc's are preallocated), copied
	 * once per run rather than per stay */
	hvmm__world_sync_kernel(&vc->world);
	/* the statistics use local_clock(), not ktime: under QEMU the test
	 * host's clocksource is the HPET, and each ktime read an emulated MMIO
	 * access; the slice compares with userland's ktime deadlines */
	start = ktime_get_ns();
	for (;;) {
		t0 = local_clock();
		reason = mon_sys__run(vc->sys, &run);
		vc->nst.interp_ns += local_clock() - t0;
		if (reason == HVMM_SX_BUDGET && sys_kirq_go_on(vc, start)) {
			vc->nst.exits[HVMM_SX_BUDGET]--;	/* not an exit after all */
			vc->nst.kirq_budgets_kept++;
			run.flags &= ~(HVMM_SRUN_INJECT | HVMM_SRUN_DATA);
			continue;
		}
		if (reason != MON_SYS_NATIVE && reason != MON_SYS_BT)
			break;
		run.flags &= ~(HVMM_SRUN_INJECT | HVMM_SRUN_DATA);
		if (reason == MON_SYS_BT)
			r = hvmm__bt_stay(vc, run.icount, start + SYS_MAX_RUN_NS);
		else
			r = sys_native(vc, run.icount);
		vc->nat_icount = run.icount;
		if (r == 1 && sys_kirq_go_on(vc, start)) {
			vc->nst.kirq_irqs_kept++;
			continue;	/* the host interrupt may be the guest's tick */
		}
		if (r || ktime_get_ns() - start > SYS_MAX_RUN_NS || need_resched() ||
		    signal_pending(current)) {
			if (r < 0)
				vc->world.w->dead = 1;
			sys_run_end(vc, &run, r < 0 ? HVMM_SX_ERROR : HVMM_SX_BUDGET);
			break;
		}
	}
	cond_resched();
	return copy_to_user(uarg, &run, sizeof(run)) ? -EFAULT : 0;
}

static long sys_dump(struct hvmm_vcpu *vc, void __user *uarg)
{
	char *buf = kvzalloc(HVMM_DUMP_SIZE, GFP_KERNEL);
	long r;

	if (!buf)
		return -ENOMEM;
	mon_sys__dump(vc->sys, buf, HVMM_DUMP_SIZE);
	r = copy_to_user(uarg, buf, HVMM_DUMP_SIZE) ? -EFAULT : 0;
	kvfree(buf);
	return r;
}

/* The native-mode part of HVMM_VCPU_SYS_STATS. */
static void sys_stats_native(struct hvmm_vcpu *vc, struct hvmm_sys_stats *st)
{
	const struct hvmm_sys_stats *ns = &vc->nst;
	int i;

	for (i = 0; i < HVMM_SX_REASONS; i++)
		st->exits[i] += ns->exits[i];
	st->native_entries = ns->native_entries;
	st->native_stays = ns->native_stays;
	for (i = 0; i < HVMM_NX_REASONS; i++)
		st->native_exits[i] = ns->native_exits[i];
	st->native_ns = ns->native_ns;
	st->interp_ns = ns->interp_ns;
	st->hidden_faults = vc->world.w->n_shadow_faults;
	st->reflected_pf = ns->reflected_pf;
	st->shadow_flushes = ns->shadow_flushes;
	st->shadow_local_drops = ns->shadow_local_drops;
	st->code_invalidations = ns->code_invalidations;
	st->shadow_kept = ns->shadow_kept;
	st->kirq_budgets_kept = ns->kirq_budgets_kept;
	st->kirq_irqs_kept = ns->kirq_irqs_kept;
	hvmm__bt_stats(vc, st);
}

long hvmm__sys_ioctl(struct hvmm_vcpu *vc, unsigned int cmd, void __user *uarg)
{
	union {
		struct hvmm_sregs sregs;
		struct hvmm_sys_stats st;
		struct hvmm_phys_range pr;
	} *u;
	long r;

	if (cmd == HVMM_VCPU_SYS_RUN)
		return vc->sys ? sys_run(vc, uarg) : -EINVAL;
	if (cmd == HVMM_VCPU_GET_DUMP)
		return vc->sys ? sys_dump(vc, uarg) : -EINVAL;
	if (cmd == HVMM_VCPU_KIRQ_SET || cmd == HVMM_VCPU_KIRQ_GET ||
	    cmd == HVMM_VCPU_KIRQ_LINES)
		return vc->sys ? hvmm__kirq_ioctl(vc, cmd, uarg) : -EINVAL;
	u = kzalloc(sizeof(*u), GFP_KERNEL);
	if (!u)
		return -ENOMEM;
	switch (cmd) {
	case HVMM_VCPU_SET_SYSTEM:
		if (copy_from_user(&u->sregs, uarg, sizeof(u->sregs))) {
			r = -EFAULT;
			break;
		}
		r = vc->sys ? 0 : sys_create(vc);
		if (!r) {
			mon_sys__set_state(vc->sys, &u->sregs);
			sys_set_layout(vc, &u->sregs);
			hvmm__kirq_reset(vc);	/* off, power-on devices */
		}
		break;
	case HVMM_VCPU_GET_SYSTEM:
		if (!vc->sys) {
			r = -EINVAL;
			break;
		}
		mon_sys__get_state(vc->sys, &u->sregs);
		r = copy_to_user(uarg, &u->sregs, sizeof(u->sregs)) ? -EFAULT : 0;
		break;
	case HVMM_VCPU_SYS_STATS:
		if (!vc->sys) {
			r = -EINVAL;
			break;
		}
		mon_sys__stats(vc->sys, &u->st);
		sys_stats_native(vc, &u->st);
		r = copy_to_user(uarg, &u->st, sizeof(u->st)) ? -EFAULT : 0;
		break;
	case HVMM_VCPU_INVALIDATE_PHYS:	/* DMA coherence, docs/hybrid.md */
		if (!vc->sys) {
			r = -EINVAL;
			break;
		}
		r = copy_from_user(&u->pr, uarg, sizeof(u->pr)) ? -EFAULT : 0;
		if (!r)
			mon_sys__invalidate_phys(vc->sys, u->pr.gpa, u->pr.len);
		break;
	default:
		r = -ENOIOCTLCMD;
	}
	kfree(u);
	return r;
}
