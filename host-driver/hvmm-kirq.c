// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-kirq.c — the in-kernel irqchip of a system-mode vCPU
 * (ABI 6, docs/kirq.md): owns the struct mon_kirq (monitor/mon-kirq.c, the
 * shared devices/pic.c and pit.c), its ioctls, and a host hrtimer at the
 * PIT's next deadline so that a native stay of guest user code ends in
 * time for the guest's tick (a host interrupt ends every native stay). */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>

#include "host-driver/hvmm-kern.h"
#include "monitor/mon-kirq.h"
#include "monitor/mon-sys.h"

struct hvmm_kirq {
	struct mon_kirq *mk;
	struct hrtimer timer;
	u64 armed_ns;			/* expiry last programmed */
	int armed_cpu;
	u64 wake_ns;			/* userland's next deadline (KIRQ_LINES) */
};

static unsigned long long kirq_now_ns(void)
{
	return ktime_get_ns();
}

/* Nothing to do: the interrupt itself ends the native stay. */
static enum hrtimer_restart kirq_timer_fn(struct hrtimer *t)
{
	return HRTIMER_NORESTART;
}

int hvmm__kirq_create(struct hvmm_vcpu *vc)
{
	struct hvmm_kirq *k = kzalloc(sizeof(*k), GFP_KERNEL);

	if (!k)
		return -ENOMEM;
	k->mk = kzalloc(mon_kirq__size(), GFP_KERNEL);
	if (!k->mk) {
		kfree(k);
		return -ENOMEM;
	}
	mon_kirq__init(k->mk, kirq_now_ns);
	hrtimer_init(&k->timer, CLOCK_MONOTONIC, HRTIMER_MODE_ABS_PINNED);
	k->timer.function = kirq_timer_fn;
	k->armed_cpu = -1;
	k->wake_ns = ~0ull;
	vc->kirq = k;
	mon_sys__attach_kirq(vc->sys, k->mk);
	return 0;
}

void hvmm__kirq_free(struct hvmm_vcpu *vc)
{
	struct hvmm_kirq *k = vc->kirq;

	if (!k)
		return;
	hrtimer_cancel(&k->timer);
	if (vc->sys)
		mon_sys__attach_kirq(vc->sys, NULL);
	kfree(k->mk);
	kfree(k);
	vc->kirq = NULL;
}

void hvmm__kirq_reset(struct hvmm_vcpu *vc)
{
	struct hvmm_kirq *k = vc->kirq;

	if (!k)
		return;
	hrtimer_cancel(&k->timer);
	k->armed_cpu = -1;
	k->wake_ns = ~0ull;
	mon_kirq__init(k->mk, kirq_now_ns);
}

bool hvmm__kirq_on(struct hvmm_vcpu *vc)
{
	return vc->kirq && mon_kirq__on(vc->kirq->mk);
}

u64 hvmm__kirq_wake_ns(struct hvmm_vcpu *vc)
{
	return vc->kirq ? vc->kirq->wake_ns : ~0ull;
}

void hvmm__kirq_arm(struct hvmm_vcpu *vc)
{
	struct hvmm_kirq *k = vc->kirq;
	int cpu = smp_processor_id();
	u64 d;

	if (!k || !mon_kirq__on(k->mk))
		return;
	d = mon_kirq__deadline(k->mk);
	if (d == ~0ull || d > (u64)KTIME_MAX)
		return;
	/* armed here for this deadline and not yet due: it will fire */
	if (d == k->armed_ns && cpu == k->armed_cpu && d > ktime_get_ns())
		return;
	/* Slack of one host tick: the guest's tick rides on the host's own
	 * timer interrupt when one comes after the deadline (hrtimers run
	 * every timer whose soft expiry passed), instead of leaving the
	 * world a second time. Under TCG each world switch flushes the
	 * softmmu TLB and jump cache; a busy host ticks anyway, so a guest
	 * tick then costs no switch of its own. A guest timer is at most
	 * one host tick late, never early (docs/kirq.md). */
	hrtimer_start_range_ns(&k->timer, ns_to_ktime(d), TICK_NSEC, HRTIMER_MODE_ABS_PINNED);
	k->armed_ns = d;
	k->armed_cpu = cpu;
	mon_kirq__count_kick(k->mk);
}

bool hvmm__kirq_timer_stale(struct hvmm_vcpu *vc)
{
	struct hvmm_kirq *k = vc->kirq;
	u64 d;

	if (!k || !mon_kirq__on(k->mk))
		return false;
	d = mon_kirq__deadline(k->mk);
	return d != ~0ull && d != k->armed_ns;
}

long hvmm__kirq_ioctl(struct hvmm_vcpu *vc, unsigned int cmd, void __user *uarg)
{
	struct hvmm_kirq *k = vc->kirq;
	struct hvmm_kirq_state *st;
	struct hvmm_kirq_lines l;
	long r;

	if (!k)
		return -EINVAL;		/* before HVMM_VCPU_SET_SYSTEM */
	if (cmd == HVMM_VCPU_KIRQ_LINES) {
		if (copy_from_user(&l, uarg, sizeof(l)))
			return -EFAULT;
		mon_kirq__set_lines(k->mk, l.levels, l.edges);
		k->wake_ns = l.wake_ns;
		return 0;
	}
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	if (cmd == HVMM_VCPU_KIRQ_SET) {
		r = copy_from_user(st, uarg, sizeof(*st)) ? -EFAULT : 0;
		if (!r)
			r = mon_kirq__set_state(k->mk, st);
	} else {
		mon_kirq__get_state(k->mk, st);
		r = copy_to_user(uarg, st, sizeof(*st)) ? -EFAULT : 0;
	}
	kfree(st);
	return r;
}
