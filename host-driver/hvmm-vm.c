// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-vm.c — VM and vCPU objects behind /dev/hvmm: pinned guest
 * RAM, guest registers, the run loop (preemption, signals, host interrupts),
 * counters. Closing the fds (or the process dying) releases everything. */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <asm/fpu/api.h>
#include <asm/io.h>
#include <asm/processor-flags.h>

#include "host-driver/hvmm-kern.h"

atomic64_t hvmm_pinned_pages = ATOMIC64_INIT(0);
atomic_t hvmm_nr_vms = ATOMIC_INIT(0), hvmm_nr_vcpus = ATOMIC_INIT(0);

/* ---- VM ------------------------------------------------------------------ */

static void vm_unpin(struct hvmm_vm *vm)
{
	if (vm->pages) {
		unpin_user_pages_dirty_lock(vm->pages, vm->nframes, true);
		atomic64_sub(vm->nframes, &hvmm_pinned_pages);
	}
	kvfree(vm->pages);
	kvfree(vm->frames);
	vm->pages = NULL;
	vm->frames = NULL;
	vm->nframes = 0;
}

static int vm_set_ram(struct hvmm_vm *vm, struct hvmm_ram __user *uarg)
{
	struct hvmm_ram ram;
	unsigned long n, done = 0;
	int r;

	if (copy_from_user(&ram, uarg, sizeof(ram)))
		return -EFAULT;
	if (!ram.size || (ram.uaddr | ram.size) & ~PAGE_MASK || ram.size > HVMM_MAX_RAM)
		return -EINVAL;
	mutex_lock(&vm->lock);
	if (vm->pages || vm->has_vcpu) {
		r = -EBUSY;
		goto out;
	}
	n = ram.size >> PAGE_SHIFT;
	vm->pages = kvcalloc(n, sizeof(*vm->pages), GFP_KERNEL);
	vm->frames = kvcalloc(n, sizeof(*vm->frames), GFP_KERNEL);
	if (!vm->pages || !vm->frames) {
		r = -ENOMEM;
		goto fail;
	}
	while (done < n) {
		r = pin_user_pages_fast(ram.uaddr + (done << PAGE_SHIFT), n - done,
					FOLL_WRITE | FOLL_LONGTERM, vm->pages + done);
		if (r <= 0) {
			r = r ? r : -EFAULT;
			goto fail;
		}
		atomic64_add(r, &hvmm_pinned_pages);
		done += r;
		if (fatal_signal_pending(current)) {
			r = -EINTR;
			goto fail;
		}
	}
	for (done = 0; done < n; done++)
		vm->frames[done] = page_to_phys(vm->pages[done]);
	vm->nframes = n;
	r = 0;
	goto out;
fail:
	if (done) {
		unpin_user_pages(vm->pages, done);
		atomic64_sub(done, &hvmm_pinned_pages);
	}
	kvfree(vm->pages);
	kvfree(vm->frames);
	vm->pages = NULL;
	vm->frames = NULL;
out:
	mutex_unlock(&vm->lock);
	return r;
}

/* ---- vCPU ---------------------------------------------------------------- */

static bool sel_ok(u32 sel, bool null_ok)
{
	return (null_ok && sel == 0) || sel == HVMM_SEL_CODE || sel == HVMM_SEL_DATA;
}

/* The user-settable part of EFLAGS: CF PF AF ZF SF TF DF OF AC ID. */
#define GUEST_FLAGS (X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | \
		     X86_EFLAGS_SF | X86_EFLAGS_TF | X86_EFLAGS_DF | X86_EFLAGS_OF | \
		     X86_EFLAGS_AC | X86_EFLAGS_ID)

static void vcpu_get_regs(struct hvmm_vcpu *vc, struct hvmm_regs *r)
{
	struct mon_world *w = vc->world.w;
	struct mon_frame *f = mon__frame(w);

	memset(r, 0, sizeof(*r));
	r->eax = f->rax; r->ebx = f->rbx; r->ecx = f->rcx; r->edx = f->rdx;
	r->esi = f->rsi; r->edi = f->rdi; r->ebp = f->rbp; r->esp = f->rsp;
	r->eip = f->rip; r->eflags = f->rflags;
	r->cs = f->cs; r->ss = f->ss; r->ds = f->ds; r->es = f->es; r->fs = f->fs; r->gs = f->gs;
	r->cr0 = w->guest_cr0; r->cr2 = w->guest_cr2; r->cr3 = w->guest_cr3; r->cr4 = w->guest_cr4;
}

/* Never trust the caller: only flat DPL-3 selectors, IOPL 0, IF on. */
static int vcpu_set_regs(struct hvmm_vcpu *vc, const struct hvmm_regs *r)
{
	struct mon_world *w = vc->world.w;
	struct mon_frame *f = mon__frame(w);

	if (r->cs != HVMM_SEL_CODE || r->ss != HVMM_SEL_DATA || !sel_ok(r->ds, true) ||
	    !sel_ok(r->es, true) || !sel_ok(r->fs, true) || !sel_ok(r->gs, true))
		return -EINVAL;
	if (r->cr3 & 0xfff)
		return -EINVAL;
	f->rax = r->eax; f->rbx = r->ebx; f->rcx = r->ecx; f->rdx = r->edx;
	f->rsi = r->esi; f->rdi = r->edi; f->rbp = r->ebp; f->rsp = r->esp;
	f->r8 = f->r9 = f->r10 = f->r11 = f->r12 = f->r13 = f->r14 = f->r15 = 0;
	f->rip = r->eip;
	f->rflags = (r->eflags & GUEST_FLAGS) | X86_EFLAGS_IF | X86_EFLAGS_FIXED;
	f->cs = r->cs; f->ss = r->ss; f->ds = r->ds; f->es = r->es; f->fs = r->fs; f->gs = r->gs;
	w->guest_cr2 = r->cr2;
	if (r->cr3 != w->guest_cr3 || (r->cr4 & X86_CR4_PSE) != w->guest_cr4 ||
	    (r->cr0 & X86_CR0_WP) != (w->guest_cr0 & X86_CR0_WP)) {
		w->guest_cr3 = r->cr3;
		w->guest_cr4 = r->cr4 & X86_CR4_PSE;
		w->guest_cr0 = X86_CR0_PG | X86_CR0_PE | (r->cr0 & X86_CR0_WP);
		mon__shadow_flush(w);	/* the next entry's CR3 load flushes the TLB */
	}
	return 0;
}

/* Enter the world until an exit userland must see. Between entries:
 * signals (-EINTR) and rescheduling; host interrupts were re-raised inside
 * hvmm__world_run_once with interrupts still off. */
static int vcpu_run(struct hvmm_vcpu *vc, struct hvmm_exit *ex)
{
	struct mon_world *w = vc->world.w;
	u64 t0;
	u32 reason;

	vc->run_calls++;
	hvmm__world_sync_kernel(&vc->world);
	for (;;) {
		if (w->dead)
			return -EIO;
		if (signal_pending(current))
			return -EINTR;
		cond_resched();

		kernel_fpu_begin();
		local_irq_disable();
		t0 = rdtsc();
		reason = hvmm__world_run_once(&vc->world);
		vc->guest_tsc += rdtsc() - t0;
		local_irq_enable();
		kernel_fpu_end();

		vc->world_switches++;
		w->n_exits[reason < MON_EXITS ? reason : 0]++;
		if (reason >= HVMM_EXIT_USER_MAX || reason == HVMM_EXIT_NONE)
			continue;
		memset(ex, 0, sizeof(*ex));
		ex->reason = reason;
		ex->vector = w->exit_vector;
		ex->error_code = w->exit_error;
		ex->cr2 = w->exit_cr2;
		ex->eip = mon__frame(w)->rip;
		ex->port = w->io_port;
		ex->io_size = w->io_size;
		ex->io_in = w->io_in;
		ex->io_string = w->io_string;
		ex->insn_len = w->insn_len;
		ex->monitor_rip = w->exit_rip;
		if (reason == HVMM_EXIT_MONITOR_ERROR)
			pr_err("hvmm: monitor error: vector %u error %#x cr2 %#x at %pS\n",
			       w->exit_vector, w->exit_error, w->exit_cr2, (void *)w->exit_rip);
		return 0;
	}
}

static void vcpu_stats(struct hvmm_vcpu *vc, struct hvmm_stats *st)
{
	struct mon_world *w = vc->world.w;
	int i;

	memset(st, 0, sizeof(*st));
	st->world_switches = vc->world_switches;
	for (i = 0; i < HVMM_EXIT_REASONS; i++)
		st->exits[i] = w->n_exits[i];
	st->shadow_faults = w->n_shadow_faults;
	st->shadow_flushes = w->n_shadow_flushes;
	st->monitor_traps = w->n_monitor_traps;
	st->guest_tsc = vc->guest_tsc;
	st->run_calls = vc->run_calls;
	st->nmis_deferred = w->n_nmis_deferred;
}

static long vcpu_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvmm_vcpu *vc = file->private_data;
	void __user *uarg = (void __user *)arg;
	union {
		struct hvmm_regs regs;
		struct hvmm_run run;
		struct hvmm_stats stats;
	} u;
	long r;

	if (!mutex_trylock(&vc->run_lock))
		return -EBUSY;
	r = hvmm__sys_ioctl(vc, cmd, uarg);
	if (r != -ENOIOCTLCMD) {
		mutex_unlock(&vc->run_lock);
		return r;
	}
	if (vc->sys && cmd != HVMM_VCPU_GET_STATS) {
		mutex_unlock(&vc->run_lock);
		return -EINVAL;	/* user-program ioctls: not in system mode */
	}
	switch (cmd) {
	case HVMM_VCPU_GET_REGS:
		vcpu_get_regs(vc, &u.regs);
		r = copy_to_user(uarg, &u.regs, sizeof(u.regs)) ? -EFAULT : 0;
		break;
	case HVMM_VCPU_SET_REGS:
		r = copy_from_user(&u.regs, uarg, sizeof(u.regs)) ? -EFAULT
								  : vcpu_set_regs(vc, &u.regs);
		break;
	case HVMM_VCPU_RUN:
		if (copy_from_user(&u.run, uarg, sizeof(u.run))) {
			r = -EFAULT;
			break;
		}
		if (u.run.flags & ~HVMM_RUN_SET_REGS) {
			r = -EINVAL;
			break;
		}
		if (u.run.flags & HVMM_RUN_SET_REGS) {
			r = vcpu_set_regs(vc, &u.run.regs);
			if (r)
				break;
		}
		r = vcpu_run(vc, &u.run.exit);
		if (!r) {
			vcpu_get_regs(vc, &u.run.regs);
			if (copy_to_user(uarg, &u.run, sizeof(u.run)))
				r = -EFAULT;
		}
		break;
	case HVMM_VCPU_GET_STATS:
		vcpu_stats(vc, &u.stats);
		r = copy_to_user(uarg, &u.stats, sizeof(u.stats)) ? -EFAULT : 0;
		break;
	default:
		r = -ENOTTY;
	}
	mutex_unlock(&vc->run_lock);
	return r;
}

static int vcpu_release(struct inode *inode, struct file *file)
{
	struct hvmm_vcpu *vc = file->private_data;

	hvmm__sys_free(vc);
	hvmm__world_free(&vc->world);
	fput(vc->vm_file);
	kfree(vc);
	atomic_dec(&hvmm_nr_vcpus);
	return 0;
}

static const struct file_operations vcpu_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vcpu_ioctl,
	.release = vcpu_release,
	.llseek = noop_llseek,
};

static int vm_create_vcpu(struct file *vm_file)
{
	struct hvmm_vm *vm = vm_file->private_data;
	struct hvmm_vcpu *vc;
	int r;

	mutex_lock(&vm->lock);
	if (!vm->pages) {
		r = -ENOMEM;	/* no RAM yet */
		goto out;
	}
	if (vm->has_vcpu) {
		r = -EEXIST;
		goto out;
	}
	vc = kzalloc(sizeof(*vc), GFP_KERNEL);
	if (!vc) {
		r = -ENOMEM;
		goto out;
	}
	mutex_init(&vc->run_lock);
	vc->vm = vm;
	r = hvmm__world_alloc(&vc->world, vm);
	if (r) {
		kfree(vc);
		goto out;
	}
	vc->vm_file = get_file(vm_file);
	r = anon_inode_getfd("hvmm-vcpu", &vcpu_fops, vc, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		fput(vm_file);
		hvmm__world_free(&vc->world);
		kfree(vc);
		goto out;
	}
	vm->has_vcpu = true;
	atomic_inc(&hvmm_nr_vcpus);
out:
	mutex_unlock(&vm->lock);
	return r;
}

static long vm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvmm_vm *vm = file->private_data;

	switch (cmd) {
	case HVMM_VM_SET_RAM:
		return vm_set_ram(vm, (struct hvmm_ram __user *)arg);
	case HVMM_VM_CREATE_VCPU:
		return vm_create_vcpu(file);
	default:
		return -ENOTTY;
	}
}

static int vm_release(struct inode *inode, struct file *file)
{
	struct hvmm_vm *vm = file->private_data;

	vm_unpin(vm);
	kfree(vm);
	atomic_dec(&hvmm_nr_vms);
	return 0;
}

static const struct file_operations vm_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = vm_ioctl,
	.release = vm_release,
	.llseek = noop_llseek,
};

long hvmm__vm_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct hvmm_vm *vm;
	int r;

	if (cmd != HVMM_IOC_CREATE_VM)
		return -ENOTTY;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return -ENOMEM;
	mutex_init(&vm->lock);
	r = anon_inode_getfd("hvmm-vm", &vm_fops, vm, O_RDWR | O_CLOEXEC);
	if (r < 0) {
		kfree(vm);
		return r;
	}
	atomic_inc(&hvmm_nr_vms);
	return r;
}
