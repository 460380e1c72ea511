// SPDX-License-Identifier: GPL-2.0
/* host-driver/hvmm-world.c — building a vCPU's monitor world (GDT, IDT, TSS,
 * page tables, shadow pool) and entering it once. The switch itself is in
 * hvmm-switch.S; what is saved and restored where is in docs/world-switch.md. */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <asm/desc.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/pgtable.h>
#include <asm/processor.h>
#include <asm/segment.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "host-driver/hvmm-kern.h"

static_assert(offsetof(struct mon_world, host_rsp) == W_HOST_RSP);
static_assert(offsetof(struct mon_world, host_cr3) == W_HOST_CR3);
static_assert(offsetof(struct mon_world, mon_cr3) == W_MON_CR3);
static_assert(offsetof(struct mon_world, host_gs_base) == W_HOST_GSBASE);
static_assert(offsetof(struct mon_world, host_ss) == W_HOST_SS);
static_assert(offsetof(struct mon_world, host_tr) == W_HOST_TR);
static_assert(offsetof(struct mon_world, host_gdtr) == W_HOST_GDTR);
static_assert(offsetof(struct mon_world, host_idtr) == W_HOST_IDTR);
static_assert(offsetof(struct mon_world, mon_gdtr) == W_MON_GDTR);
static_assert(offsetof(struct mon_world, mon_idtr) == W_MON_IDTR);
static_assert(offsetof(struct mon_world, host_gdtr_rw) == W_HOST_GDTR_RW);
static_assert(offsetof(struct mon_world, host_ldt) == W_HOST_LDT);
static_assert(offsetof(struct mon_world, host_cr4) == W_HOST_CR4);
static_assert(offsetof(struct mon_world, mon_cr4) == W_MON_CR4);
static_assert(sizeof(struct mon_world) <= MON_OFF_GDT);
static_assert(sizeof(struct mon_frame) == MON_FRAME_SIZE);
static_assert(offsetof(struct mon_frame, ds) == F_DS);
static_assert(offsetof(struct mon_frame, gs) == F_GS);
static_assert(offsetof(struct mon_frame, cs) == F_CS);
static_assert(MON_SEL_CS == __KERNEL_CS && MON_SEL_DS == __KERNEL_DS);
static_assert(MON_SEL_GCODE == HVMM_SEL_CODE && MON_SEL_GDATA == HVMM_SEL_DATA);
static_assert((MON_SEL_TSS >> 3) + 1 < MON_GDT_ENTRIES);
static_assert(MON_GDT_ENTRIES * 8 <= MON_OFF_IDT - MON_OFF_GDT);
static_assert(MON_X_SYSCALL == HVMM_EXIT_SYSCALL && MON_X_IO == HVMM_EXIT_IO &&
	      MON_X_HLT == HVMM_EXIT_HLT && MON_X_FAULT == HVMM_EXIT_FAULT &&
	      MON_X_BAD_MEMORY == HVMM_EXIT_BAD_MEMORY &&
	      MON_X_MONITOR_ERROR == HVMM_EXIT_MONITOR_ERROR &&
	      MON_X_HOST_IRQ == HVMM_EXIT_HOST_IRQ && MON_X_HOST_NMI == HVMM_EXIT_HOST_NMI &&
	      MON_X_BT_YIELD == HVMM_EXIT_BT_YIELD);
static_assert(MON_EXITS == HVMM_EXIT_REASONS);

#define PTE_TABLE	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER)

static u64 *alloc_table(u64 *phys)
{
	struct page *p = alloc_page(GFP_KERNEL | __GFP_ZERO);

	if (!p)
		return NULL;
	*phys = page_to_phys(p);
	return page_address(p);
}

static void free_table(u64 *t)
{
	if (t)
		free_page((unsigned long)t);
}

/* Segment descriptors (SDM Vol. 3A §3.4.5). Accessed bits preset so the CPU
 * never writes them. */
static void build_gdt(struct mon_world *w)
{
	u64 *gdt = (u64 *)((char *)w + MON_OFF_GDT);
	u64 tss = (u64)w + MON_OFF_TSS, lim = 0x67;

	gdt[MON_SEL_CS >> 3] = 0x00af9b000000ffffull;		/* 64-bit code, DPL 0 */
	gdt[MON_SEL_DS >> 3] = 0x00cf93000000ffffull;		/* data, DPL 0 */
	gdt[MON_SEL_GCODE >> 3] = 0x00cffb000000ffffull;	/* 32-bit code, DPL 3 */
	gdt[MON_SEL_GDATA >> 3] = 0x00cff3000000ffffull;	/* 32-bit data, DPL 3 */
	/* 64-bit TSS descriptor, type 9 (available), DPL 0, present */
	gdt[MON_SEL_TSS >> 3] = (lim & 0xffff) | ((tss & 0xffffff) << 16) |
		(0x89ull << 40) | (((lim >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	gdt[(MON_SEL_TSS >> 3) + 1] = tss >> 32;
	w->mon_gdtr.limit = MON_GDT_ENTRIES * 8 - 1;
	w->mon_gdtr.base = (u64)gdt;
}

/* 64-bit interrupt gates to the stubs (SDM Vol. 3A §6.14.1). DPL 3 only for
 * int3, into and int 0x80: any other `int n` from the guest is #GP. */
static void build_idt(struct mon_world *w)
{
	u64 *idt = (u64 *)((char *)w + MON_OFF_IDT);
	int v;

	for (v = 0; v < 256; v++) {
		u64 off = (u64)hvmm_trap_stubs + 16 * v;
		u64 dpl = (v == 3 || v == 4 || v == 0x80) ? 3 : 0;
		u64 ist = v == 8 ? 1 : v == 2 ? 2 : v == 18 ? 4 : 0;

		idt[2 * v] = (off & 0xffff) | ((u64)MON_SEL_CS << 16) | (ist << 32) |
			(0x8eull << 40) | (dpl << 45) | (((off >> 16) & 0xffff) << 48);
		idt[2 * v + 1] = off >> 32;
	}
	w->mon_idtr.limit = 256 * 16 - 1;
	w->mon_idtr.base = (u64)idt;
}

/* TSS: RSP0 is the top of the monitor stack; Linux's IST numbering (DF 1,
 * NMI 2, MC 4); I/O map base beyond the limit, so every IN/OUT at CPL 3
 * with IOPL 0 raises #GP (SDM Vol. 1 §19.5.2). */
static void build_tss(struct mon_world *w)
{
	struct x86_hw_tss *t = (struct x86_hw_tss *)((char *)w + MON_OFF_TSS);

	t->sp0 = (u64)w + MON_OFF_STACK;
	t->ist[0] = (u64)w + MON_OFF_IST_DF;
	t->ist[1] = (u64)w + MON_OFF_IST_NMI;
	t->ist[3] = (u64)w + MON_OFF_IST_MC;
	t->io_bitmap_base = 0x68;
}

void hvmm__world_sync_kernel(struct hvmm_world *hw)
{
	u64 *host = __va(__read_cr3() & CR3_ADDR_MASK);

	memcpy(hw->root + 256, host + 256, 256 * sizeof(u64));
}

void hvmm__world_free(struct hvmm_world *hw)
{
	struct mon_shadow *s = hw->shadow;
	int i;

	if (s) {
		for (i = 0; i < MON_POOL_PAGES; i++)
			free_table(s->pool_kva[i]);
		for (i = 0; i < 4; i++)
			free_table(s->pd[i]);
		vfree(s->wbits);
		vfree(s);
	}
	free_table(hw->mid[0]);
	free_table(hw->mid[1]);
	free_table(hw->root);
	if (hw->w)
		free_pages((unsigned long)hw->w, get_order(MON_BLOCK_SIZE));
	memset(hw, 0, sizeof(*hw));
}

int hvmm__world_alloc(struct hvmm_world *hw, struct hvmm_vm *vm)
{
	struct mon_world *w;
	struct mon_shadow *s;
	struct mon_frame *f;
	u64 root_pa, pdpt_pa, pml4_pa = 0, pa;
	u8 *fpu;
	int i;

	memset(hw, 0, sizeof(*hw));
	/* order-4 pages are 64 KiB aligned physically, hence in the direct map */
	w = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO, get_order(MON_BLOCK_SIZE));
	if (!w)
		return -ENOMEM;
	hw->w = w;
	s = vzalloc(sizeof(*s));
	if (!s)
		goto nomem;
	hw->shadow = s;
	w->shadow = s;
	/* frames mapped writable since the last drop, one bit each */
	s->wbits_n = DIV_ROUND_UP(vm->nframes, 32);
	s->wbits = vzalloc(s->wbits_n * sizeof(u32));
	if (!s->wbits)
		goto nomem;
	for (i = 0; i < 4; i++)
		if (!(s->pd[i] = alloc_table(&pa)))
			goto nomem;
	for (i = 0; i < MON_POOL_PAGES; i++)
		if (!(s->pool_kva[i] = alloc_table(&s->pool_hpa[i])))
			goto nomem;

	/* root (PML4, or PML5 on a 5-level host: CR4.LA57 cannot change in long
	 * mode, so the monitor's tables have the host's depth) */
	hw->levels = pgtable_l5_enabled() ? 5 : 4;
	if (!(hw->root = alloc_table(&root_pa)))
		goto nomem;
	if (!(hw->mid[1] = alloc_table(&pdpt_pa)))
		goto nomem;
	if (hw->levels == 5) {
		if (!(hw->mid[0] = alloc_table(&pml4_pa)))
			goto nomem;
		hw->root[0] = pml4_pa | PTE_TABLE;
		hw->mid[0][0] = pdpt_pa | PTE_TABLE;
	} else {
		hw->root[0] = pdpt_pa | PTE_TABLE;
	}
	for (i = 0; i < 4; i++)
		hw->mid[1][i] = virt_to_phys(s->pd[i]) | PTE_TABLE;
	hvmm__world_sync_kernel(hw);
	w->mon_cr3 = root_pa;

	build_gdt(w);
	build_idt(w);
	build_tss(w);

	w->resume_sregs = (u64)hvmm_resume_sregs;
	w->resume_add = (u64)hvmm_resume_add;
	w->resume_iret = (u64)hvmm_resume_iret;
	w->gmem.dmap_base = (u64)PAGE_OFFSET;
	w->gmem.frames = vm->frames;
	w->gmem.nframes = vm->nframes;

	/* FPU: as after FNINIT, SSE exceptions masked (SDM Vol. 1 §10.5.1) */
	fpu = (u8 *)w + MON_OFF_FPU;
	*(u16 *)(fpu + 0) = 0x037f;
	*(u32 *)(fpu + 24) = 0x1f80;

	f = mon__frame(w);
	f->cs = MON_SEL_GCODE;
	f->ss = f->ds = f->es = MON_SEL_GDATA;
	f->rflags = X86_EFLAGS_IF | X86_EFLAGS_FIXED;
	w->guest_cr0 = X86_CR0_PG | X86_CR0_PE | X86_CR0_WP;
	return 0;
nomem:
	hvmm__world_free(hw);
	return -ENOMEM;
}

struct fxarea { u8 b[512]; } __aligned(16);

u32 hvmm__world_run_once(struct hvmm_world *hw)
{
	struct mon_world *w = hw->w;
	struct fxarea *fx = (struct fxarea *)((u8 *)w + MON_OFF_FPU);
	unsigned short ds, es, fs, gs;
	u64 fsbase, gsbase, kgsbase, sysenter_cs, efer, misc = 0;
	u32 reason;

	lockdep_assert_irqs_disabled();
	savesegment(ds, ds);
	savesegment(es, es);
	savesegment(fs, fs);
	savesegment(gs, gs);
	rdmsrl(MSR_FS_BASE, fsbase);
	rdmsrl(MSR_GS_BASE, gsbase);
	rdmsrl(MSR_KERNEL_GS_BASE, kgsbase);
	rdmsrl(MSR_IA32_SYSENTER_CS, sysenter_cs);
	rdmsrl(MSR_EFER, efer);

	w->host_gs_base = gsbase;
	w->host_gdtr_rw.limit = GDT_SIZE - 1;
	w->host_gdtr_rw.base = (u64)get_cpu_gdt_rw(smp_processor_id());
	w->exit_reason = 0;

	/* A guest sysenter/syscall must not reach Linux's entry code with the
	 * monitor's state: SYSENTER_CS = 0 makes sysenter #GP, EFER.SCE = 0
	 * makes syscall #UD (SDM Vol. 2B SYSENTER, SYSCALL). */
	if (sysenter_cs)
		wrmsrl(MSR_IA32_SYSENTER_CS, 0);
	if (efer & EFER_SCE)
		wrmsrl(MSR_EFER, efer & ~EFER_SCE);
	if (hw->sys_mode) {
		/* 32-bit FXSAVE format (FCS/FDS, the guest's view) */
		asm volatile("fxrstor %0" : : "m"(*fx));
		if (hw->cpuid_fault) {
			rdmsrl(MSR_MISC_FEATURES_ENABLES, misc);
			if (!(misc & MSR_MISC_FEATURES_ENABLES_CPUID_FAULT))
				wrmsrl(MSR_MISC_FEATURES_ENABLES,
				       misc | MSR_MISC_FEATURES_ENABLES_CPUID_FAULT);
		}
	} else {
		asm volatile("fxrstor64 %0" : : "m"(*fx));
	}

	hvmm_world_enter(w);

	if (hw->sys_mode) {
		asm volatile("fxsave %0" : "=m"(*fx));
		if (hw->cpuid_fault && !(misc & MSR_MISC_FEATURES_ENABLES_CPUID_FAULT))
			wrmsrl(MSR_MISC_FEATURES_ENABLES, misc);
	} else {
		asm volatile("fxsave64 %0" : "=m"(*fx));
	}
	if (efer & EFER_SCE)
		wrmsrl(MSR_EFER, efer);
	if (sysenter_cs)
		wrmsrl(MSR_IA32_SYSENTER_CS, sysenter_cs);
	/* guest segment loads changed the selectors and FS/GS bases */
	loadsegment(ds, ds);
	loadsegment(es, es);
	loadsegment(fs, fs);
	wrmsrl(MSR_FS_BASE, fsbase);
	load_gs_index(gs);
	wrmsrl(MSR_KERNEL_GS_BASE, kgsbase);

	reason = w->exit_reason;
	if (reason == MON_X_HOST_IRQ)
		hvmm_raise_vector(w->exit_vector);
	if (reason == MON_X_HOST_NMI || w->nmi_pending) {
		w->nmi_pending = 0;
		hvmm_raise_vector(2);
	}
	return reason;
}

/* Switches a vCPU's world to system mode for good (issue 6 stage 2): the
 * guest's own selectors get world GDT slots (hvmm__world_set_segs), so the
 * user-program slots and the DPL-0 data slot go; int3, into and int 0x80
 * gates become DPL 0 (every `int n` from guest user code is a #GP at the
 * instruction, which the interpreter re-executes through the guest's IDT);
 * CR4 inside the world: TSD (RDTSC traps: the guest's TSC is the
 * interpreter's), no PCE, no OSXSAVE (VEX/XGETBV #UD as on the guest's CPU,
 * which has no AVX); OSFXSR/OSXMMEXCPT follow the guest (set per entry).
 * CPUID faults (CPUID faulting) when the host CPU has it. */
void hvmm__world_set_system(struct hvmm_world *hw, const u64 *frames)
{
	struct mon_world *w = hw->w;
	u64 *gdt = (u64 *)((char *)w + MON_OFF_GDT);
	u64 *idt = (u64 *)((char *)w + MON_OFF_IDT);
	static const int vecs[] = { 3, 4, 0x80 };
	int i;

	for (i = 0; i < ARRAY_SIZE(vecs); i++)
		idt[2 * vecs[i]] &= ~(3ull << 45);
	gdt[MON_SEL_DS >> 3] = 0;
	gdt[MON_SEL_GCODE >> 3] = 0;
	gdt[MON_SEL_GDATA >> 3] = 0;
	w->gmem.frames = frames;
	w->sys_mode = 1;
	hw->sys_mode = true;
	hw->cpuid_fault = boot_cpu_has(X86_FEATURE_CPUID_FAULT);
	hw->nslots = 0;
}

/* Guest entries of the world GDT go: native slots and a BT mirror. */
static void world_clear_guest_gdt(struct hvmm_world *hw, u64 *gdt)
{
	u32 i;

	for (i = 0; i < hw->nslots; i++)
		gdt[hw->slots[i]] = 0;
	hw->nslots = 0;
	for (i = 1; i < hw->mirror_n; i++)
		if (i != (MON_SEL_CS >> 3))
			gdt[i] = 0;
	hw->mirror_n = 0;
}

/* The world's CR4 in system mode from the host's @cr4: TSD (RDTSC traps),
 * no PCE, no OSXSAVE; OSFXSR/OSXMMEXCPT as the guest's. */
static u64 world_guest_cr4(u64 cr4, u32 guest_cr4)
{
	cr4 = (cr4 | X86_CR4_TSD) & ~(X86_CR4_PCE | X86_CR4_OSXSAVE |
				      X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT);
	if (guest_cr4 & X86_CR4_OSFXSR)
		cr4 |= X86_CR4_OSFXSR;
	if (guest_cr4 & X86_CR4_OSXMMEXCPT)
		cr4 |= X86_CR4_OSXMMEXCPT;
	return cr4;
}

/* Loads the guest user segments of the next native stay: the slots of the
 * previous stay are cleared, desc[i] goes to index sel[i] >> 3 (the caller
 * checked the indexes: not 0, not 2, below the TSS). CR4 for the world. */
void hvmm__world_set_segs(struct hvmm_world *hw, const u16 *sel, const u64 *desc,
			  int n, u32 guest_cr4)
{
	struct mon_world *w = hw->w;
	u64 *gdt = (u64 *)((char *)w + MON_OFF_GDT);
	u64 cr4 = __read_cr4();
	int i;

	world_clear_guest_gdt(hw, gdt);
	for (i = 0; i < n; i++) {
		unsigned int idx = sel[i] >> 3;

		if (!desc[i] || idx == 0 || idx == (MON_SEL_CS >> 3) ||
		    idx >= (MON_SEL_TSS >> 3))
			continue;
		gdt[idx] = desc[i];
		hw->slots[hw->nslots++] = idx;
	}
	w->mon_cr4 = world_guest_cr4(cr4, guest_cr4);
	w->bt_stay = 0;
}

/* Loads the world GDT for a stay of translated guest kernel code (CPL 1):
 * entries 1..n-1 from the sanitised mirror @gdt (mon_sys__bt_export; index
 * 2, the monitor's 64-bit CS, is never taken: the mirror has it empty).
 * CR4 as for native stays, but without SMAP: the guest's kernel (CPL 1
 * here) reaches its user pages like a CPU without SMAP; SMEP stays, so
 * CPL 1 never executes a user page. */
void hvmm__world_set_bt(struct hvmm_world *hw, const u64 *gdt_mirror, u32 n,
			u32 guest_cr4)
{
	struct mon_world *w = hw->w;
	u64 *gdt = (u64 *)((char *)w + MON_OFF_GDT);
	u32 i;

	world_clear_guest_gdt(hw, gdt);
	if (n > MON_SEL_TSS >> 3)
		n = MON_SEL_TSS >> 3;
	for (i = 1; i < n; i++)
		if (i != (MON_SEL_CS >> 3))
			gdt[i] = gdt_mirror[i];
	hw->mirror_n = n;
	w->mon_cr4 = world_guest_cr4(__read_cr4(), guest_cr4) & ~X86_CR4_SMAP;
	w->bt_stay = 1;
}
