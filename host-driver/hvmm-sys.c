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
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "host-driver/hvmm-kern.h"
#include "monitor/mon-sys.h"

/* Instructions per SYS_RUN at most: a stay stays in the milliseconds. */
#define SYS_MAX_BUDGET 1000000ull

static unsigned long long sys_now_ns(void)
{
	return ktime_get_ns();
}

void hvmm__sys_free(struct hvmm_vcpu *vc)
{
	vfree(vc->sys_cpu);
	kvfree(vc->sys);
	kvfree(vc->sys_pages);
	vc->sys_cpu = NULL;
	vc->sys = NULL;
	vc->sys_pages = NULL;
}

static int sys_create(struct hvmm_vcpu *vc)
{
	struct hvmm_vm *vm = vc->vm;
	u32 i;

	vc->sys_pages = kvcalloc(vm->nframes, sizeof(void *), GFP_KERNEL);
	vc->sys = kvzalloc(mon_sys__size(), GFP_KERNEL);
	vc->sys_cpu = vzalloc(mon_sys__cpu_size());
	if (!vc->sys_pages || !vc->sys || !vc->sys_cpu) {
		hvmm__sys_free(vc);
		return -ENOMEM;
	}
	for (i = 0; i < vm->nframes; i++)
		vc->sys_pages[i] = page_address(vm->pages[i]);
	if (mon_sys__init(vc->sys, vc->sys_cpu, vc->sys_pages, vm->nframes, sys_now_ns)) {
		hvmm__sys_free(vc);
		return -EINVAL;
	}
	return 0;
}

static long sys_run(struct hvmm_vcpu *vc, void __user *uarg)
{
	struct hvmm_sys_run run;

	if (copy_from_user(&run, uarg, sizeof(run)))
		return -EFAULT;
	if (run.flags & ~(HVMM_SRUN_IRQ | HVMM_SRUN_INJECT | HVMM_SRUN_DATA))
		return -EINVAL;
	if (run.budget > SYS_MAX_BUDGET)
		run.budget = SYS_MAX_BUDGET;
	if (signal_pending(current))
		return -EINTR;
	vc->run_calls++;
	mon_sys__run(vc->sys, &run);
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
		if (!r)
			mon_sys__set_state(vc->sys, &u->sregs);
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
