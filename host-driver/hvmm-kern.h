/* SPDX-License-Identifier: GPL-2.0 */
/* host-driver/hvmm-kern.h — the module's internal interfaces: VM and vCPU
 * objects (hvmm-vm.c) and the monitor world (hvmm-world.c). */
#ifndef HVMM_KERN_H
#define HVMM_KERN_H

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>

#include "host-driver/hvmm-abi.h"
#include "monitor/mon.h"

struct mon_sys;

/* Module-wide counters (reported by HVMM_IOC_INFO; non-zero pinned pages at
 * unload is reported as a leak). */
extern atomic64_t hvmm_pinned_pages;
extern atomic_t hvmm_nr_vms, hvmm_nr_vcpus;

struct hvmm_vm {
	struct mutex lock;
	struct page **pages;		/* pinned guest RAM, nframes entries */
	u64 *frames;			/* host-physical address of each frame */
	u32 nframes;
	bool has_vcpu;
};

/* A vCPU: its world block and the host-side state around it. */
struct hvmm_world {
	struct mon_world *w;		/* the MON_BLOCK_SIZE block */
	struct mon_shadow *shadow;
	u64 *root;			/* monitor page root (PML4 or PML5) */
	u64 *mid[2];			/* PML4 (5-level only), PDPT */
	int levels;
	/* system mode (hvmm__world_set_system) */
	bool sys_mode, cpuid_fault;
	int nslots;			/* world GDT slots holding guest segments */
	u16 slots[6];
	u32 mirror_n;			/* entries 1..mirror_n-1 hold a guest GDT mirror */
};

struct hvmm_vcpu {
	struct mutex run_lock;
	struct file *vm_file;		/* holds the VM (and its pinned RAM) */
	struct hvmm_vm *vm;
	struct hvmm_world world;
	u64 world_switches, guest_tsc, run_calls;
	/* system mode (hvmm-sys.c): NULL until HVMM_VCPU_SET_SYSTEM */
	struct mon_sys *sys;
	void *sys_cpu;
	void **sys_pages;
	u64 *sys_frames;		/* frames with MMIO/ROM pages as holes */
	struct hvmm_sys_stats nst;	/* native-mode counters (ABI 5 part) */
	u64 nat_icount;			/* interpreter icount at the last stay */
	u32 mxcsr_mask;			/* host FXSAVE MXCSR_MASK */
	struct hvmm_kirq *kirq;		/* in-kernel irqchip (hvmm-kirq.c) */
	struct hvmm_bt *bt;		/* translated kernel code (hvmm-bt.c) */
	u64 code_marks_seen;		/* mon_sys__code_marks at the last watched check */
};

/* System-mode ioctls of a vCPU (run_lock held); -ENOIOCTLCMD for others. */
long hvmm__sys_ioctl(struct hvmm_vcpu *vc, unsigned int cmd, void __user *uarg);
void hvmm__sys_free(struct hvmm_vcpu *vc);

/* In-kernel irqchip (hvmm-kirq.c, docs/kirq.md), created with system mode
 * (after vc->sys), freed before it; reset by HVMM_VCPU_SET_SYSTEM. */
/* The world frame and the guest's registers (EAX..EDI order) and
 * selectors (ES, CS, SS, DS, FS, GS), both ways. */
static inline void hvmm__frame_put_gprs(struct mon_frame *f, const u32 gpr[8])
{
	f->rax = gpr[0]; f->rcx = gpr[1]; f->rdx = gpr[2]; f->rbx = gpr[3];
	f->rsp = gpr[4]; f->rbp = gpr[5]; f->rsi = gpr[6]; f->rdi = gpr[7];
}

static inline void hvmm__frame_put(struct mon_frame *f, const u32 gpr[8], u32 eip,
				   u32 eflags, const u16 sel[6])
{
	hvmm__frame_put_gprs(f, gpr);
	f->r8 = f->r9 = f->r10 = f->r11 = f->r12 = f->r13 = f->r14 = f->r15 = 0;
	f->rip = eip;
	f->rflags = eflags;
	f->es = sel[0]; f->cs = sel[1]; f->ss = sel[2];
	f->ds = sel[3]; f->fs = sel[4]; f->gs = sel[5];
}

static inline void hvmm__frame_gprs(const struct mon_frame *f, u32 gpr[8])
{
	gpr[0] = f->rax; gpr[1] = f->rcx; gpr[2] = f->rdx; gpr[3] = f->rbx;
	gpr[4] = f->rsp; gpr[5] = f->rbp; gpr[6] = f->rsi; gpr[7] = f->rdi;
}

static inline void hvmm__frame_sels(const struct mon_frame *f, u16 sel[6])
{
	sel[0] = f->es; sel[1] = f->cs; sel[2] = f->ss;
	sel[3] = f->ds; sel[4] = f->fs; sel[5] = f->gs;
}

/* hvmm-sys.c helpers shared with hvmm-bt.c */
void hvmm__sys_shadow_check(struct hvmm_vcpu *vc, u32 cr0, u32 cr3, u32 cr4, u64 icount);
void hvmm__sys_shadow_drop(struct mon_world *w);
void hvmm__sys_check_watched(struct hvmm_vcpu *vc, const u32 gdt_gfn[2]);
u32 hvmm__sys_enter(struct hvmm_vcpu *vc, u64 *ns, bool no_timer);

/* Translated guest kernel code (hvmm-bt.c, docs/bt.md): created with
 * system mode, freed before it. hvmm__bt_stay runs one translated stay
 * after mon_sys__run said MON_SYS_BT: 0 when the interpreter goes on (an
 * exit site, a guest exception, or nothing could be translated), 1 when
 * the stay ended for the host (slice, reschedule, signal), -1 on a monitor
 * error. */
int hvmm__bt_create(struct hvmm_vcpu *vc);
void hvmm__bt_free(struct hvmm_vcpu *vc);
void hvmm__bt_attach(struct hvmm_vcpu *vc, bool on);
int hvmm__bt_stay(struct hvmm_vcpu *vc, u64 icount, u64 start_ns);
void hvmm__bt_stats(struct hvmm_vcpu *vc, struct hvmm_sys_stats *st);

int hvmm__kirq_create(struct hvmm_vcpu *vc);
void hvmm__kirq_free(struct hvmm_vcpu *vc);
void hvmm__kirq_reset(struct hvmm_vcpu *vc);
bool hvmm__kirq_on(struct hvmm_vcpu *vc);
/* Userland's next device deadline (CLOCK_MONOTONIC ns, ~0 none). */
u64 hvmm__kirq_wake_ns(struct hvmm_vcpu *vc);
/* Interrupts off, before a native stay: a host timer at the PIT deadline. */
void hvmm__kirq_arm(struct hvmm_vcpu *vc);
/* The PIT deadline moved since hvmm__kirq_arm armed the host timer for it
 * (a port write done inside the world): the timer must be re-armed. */
bool hvmm__kirq_timer_stale(struct hvmm_vcpu *vc);
/* HVMM_VCPU_KIRQ_SET/GET/LINES. */
long hvmm__kirq_ioctl(struct hvmm_vcpu *vc, unsigned int cmd, void __user *uarg);

/* /dev/hvmm ioctls that create objects (HVMM_IOC_CREATE_VM). */
long hvmm__vm_dev_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* Build the monitor world of a vCPU over the VM's pinned frames.
 * 0 or -errno; hvmm__world_free undoes it (also after a partial build). */
int hvmm__world_alloc(struct hvmm_world *hw, struct hvmm_vm *vm);
void hvmm__world_free(struct hvmm_world *hw);

/* One entry into the monitor world and back. Interrupts and preemption off,
 * FPU owned (kernel_fpu_begin). Returns the exit reason (MON_X_*); host
 * interrupts and NMIs that ended it have been re-raised through Linux. */
u32 hvmm__world_run_once(struct hvmm_world *hw);

/* System mode: see hvmm-world.c. */
void hvmm__world_set_system(struct hvmm_world *hw, const u64 *frames);
void hvmm__world_set_segs(struct hvmm_world *hw, const u16 *sel, const u64 *desc,
			  int n, u32 guest_cr4);
void hvmm__world_set_bt(struct hvmm_world *hw, const u64 *gdt_mirror, u32 n,
			u32 guest_cr4);

/* Refresh the kernel half of the monitor root from the current host root. */
void hvmm__world_sync_kernel(struct hvmm_world *hw);

/* Assembly (hvmm-switch.S). */
int hvmm_world_enter(struct mon_world *w);
void hvmm_raise_vector(unsigned int vec);
extern const u8 hvmm_trap_stubs[];
extern const u8 hvmm_resume_sregs[], hvmm_resume_add[], hvmm_resume_iret[];

#endif
