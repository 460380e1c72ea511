/* monitor/mon-sys.c — the system-mode vCPU of the hybrid engine: the IA-32
 * interpreter on the VM's pinned frames, inside hvmm.ko (docs/hybrid.md).
 *
 * Bus accesses become exits to userland, one per exit:
 *  - a write (OUT, OUTS, MMIO store) completes in the guest, is recorded and
 *    the callback answers CPU_BUS_STOP: cpu__run returns after the
 *    instruction, the run reports HVMM_SX_IO/MMIO with the value, userland
 *    performs it on its device before the next run (a posted write);
 *  - a read (IN, INS, MMIO load) that has no data yet is recorded and
 *    answered CPU_BUS_RETRY: the instruction aborts without side effects and
 *    re-executes on the next run, when userland supplied the value
 *    (HVMM_SRUN_DATA), which the callback hands over (an instruction
 *    with several reads collects them one exit at a time: struct mon_sys);
 *  - any access after one is recorded in the same run answers RETRY too.
 * Interrupts: the INTR line level comes with each run; when the interpreter
 * takes the interrupt (intr_ack) and userland has not injected a vector yet,
 * the run ends with HVMM_SX_INTR_WINDOW: userland acknowledges its PIC and
 * injects the vector on the next run, which intr_ack then returns.
 * With the in-kernel irqchip on (mon-kirq.c, docs/kirq.md) its ports never
 * exit, its PIC's INTR is ORed into the line and its PIC answers intr_ack
 * (after an injected vector), and its PIT is polled at each run.
 * Compiled into userland too (plain C): the kernel half is only the caller.
 */
#include "monitor/mon-sys-int.h"
#include "monitor/fs-libc.h"
#include "monitor/mon-kirq.h"
#include "monitor/mon-native.h"
#include "shadowmm/sm.h"


unsigned long mon_sys__size(void)
{
	return sizeof(struct mon_sys);
}

unsigned long mon_sys__cpu_size(void)
{
	return CPU_ALLOC_SIZE;
}

static uint8_t *sys_ram_page(void *opaque, uint64_t gpa, bool *writable)
{
	struct mon_sys *ms = opaque;
	uint64_t pfn = gpa >> 12;

	*writable = false;
	if (pfn >= ms->npages || (gpa >= ms->mmio_start && gpa < ms->mmio_end))
		return NULL;
	*writable = !(gpa >= ms->rom_start && gpa < ms->rom_end);
	return ms->pages[pfn];
}

/* One bus access from the interpreter: see the file comment. */
static int sys_access(struct mon_sys *ms, int kind, uint64_t addr, void *data,
		      unsigned len, bool write)
{
	if (ms->pend != ACC_NONE) {
		ms->st.retries++;
		return CPU_BUS_RETRY;
	}
	if (!write && ms->read_pos < ms->nread) {
		struct sys_read *r = &ms->reads[ms->read_pos];
		if (r->kind == kind && r->addr == addr && r->len == len) {
			memcpy(data, &r->data, len);
			ms->read_pos++;
			return 0;
		}
		ms->nread = ms->read_pos;	/* another path: forget the rest */
	}
	if (!write && ms->nread == SYS_READS) {
		/* an instruction with more device reads than the list holds
		 * (none known): the rest read as a floating bus, so that it
		 * still ends */
		memset(data, 0xff, len);
		return 0;
	}
	ms->pend = kind;
	ms->pend_write = write;
	ms->pend_addr = addr;
	ms->pend_len = len;
	ms->pend_wdata = 0;
	if (write) {
		memcpy(&ms->pend_wdata, data, len);
		return CPU_BUS_STOP;
	}
	ms->st.retries++;
	return CPU_BUS_RETRY;
}

static int sys_mmio(void *opaque, uint64_t gpa, void *data, unsigned len,
		    bool is_write)
{
	return sys_access(opaque, ACC_MMIO, gpa, data, len, is_write);
}

static int sys_pio(void *opaque, uint16_t port, void *data, unsigned len,
		   bool is_write)
{
	struct mon_sys *ms = opaque;

	/* the in-kernel chip's ports complete here, unless an access of this
	 * instruction already waits for userland (it goes first) */
	if (ms->kirq && ms->pend == ACC_NONE &&
	    mon_kirq__pio(ms->kirq, port, data, len, is_write))
		return 0;
	return sys_access(opaque, ACC_PIO, port, data, len, is_write);
}

/* The in-kernel PIC's INTR changed (during a port access, a poll, an ack). */
static void sys_kirq_intr(void *opaque, int level)
{
	struct mon_sys *ms = opaque;

	cpu__set_irq_pending(ms->cpu, ms->have_inject || ms->user_irq || level);
}

void mon_sys__attach_kirq(struct mon_sys *ms, struct mon_kirq *k)
{
	ms->kirq = k;
	if (k)
		mon_kirq__connect(k, sys_kirq_intr, ms);
}

static int sys_intr_ack(void *opaque)
{
	struct mon_sys *ms = opaque;

	if (ms->have_inject) {
		ms->have_inject = false;
		ms->st.interrupts++;
		return ms->inject;
	}
	if (ms->kirq && mon_kirq__has_intr(ms->kirq)) {
		ms->st.interrupts++;
		return mon_kirq__ack(ms->kirq);
	}
	ms->want_window = true;
	ms->cpu->exit_req = 1;
	return -1;
}

static uint64_t sys_read_tsc(void *opaque)
{
	struct mon_sys *ms = opaque;

	return ms->now_ns() - ms->clock_start;
}

/* May the guest run natively now? CPL 3 under 2-level paging with nothing
 * the native CPU would do differently: IF=1 and IOPL=0 (PUSHF shows them),
 * no TF, no VM86, no pending event, no interrupt shadow, no guest DR7
 * breakpoint, CR0.TS/EM clear, A20 on, every segment satisfiable by a world
 * GDT slot, MXCSR valid for the host. */
static bool native_ok(struct mon_sys *ms)
{
	struct cpu *cpu = ms->cpu;
	uint32_t fl;

	if (!ms->native_on || cpu->cpl != 3 || ms->have_inject ||
	    ms->read_pos < ms->nread || ms->pend != ACC_NONE)
		return false;
	if ((cpu->cr0 & (CR0_PE | CR0_PG | CR0_TS | CR0_EM)) != (CR0_PE | CR0_PG) ||
	    (cpu->cr4 & CR4_PAE) || !cpu->a20 || (cpu->dr[7] & 0xff) ||
	    cpu->shadow || cpu->halted || cpu->pending_exc >= 0 || cpu->nmi_pending ||
	    cpu->irq_pending || (cpu->fpu.mxcsr & ~ms->mxcsr_mask))
		return false;
	if (ms->hold && cpu->icount == ms->hold_icount)
		return false;
	fl = cpu__eflags(cpu);
	if ((fl & (FL_IF | FL_IOPL | FL_TF | FL_VM | FL_RF)) != FL_IF)
		return false;
	for (int i = 0; i < SEG_NSEGS; i++) {
		const struct seg *sg = &cpu->seg[i];
		uint64_t d;

		if ((sg->sel & ~3) == 0 && i != SEG_CS && i != SEG_SS)
			continue;
		if (!mon_native__sel_ok(sg->sel) ||
		    mon_native__desc(i, sg->attr, sg->base, sg->limit, &d))
			return false;
	}
	return (cpu->seg[SEG_CS].sel & 3) == 3;
}

static bool sys_user_boundary(void *opaque)
{
	struct mon_sys *ms = opaque;

	if (native_ok(ms)) {
		ms->go_native = true;
		return true;
	}
	if (ms->bt && mon_sys__bt_ok(ms)) {
		ms->go_bt = true;
		return true;
	}
	return false;
}

static void sys_code_written(void *opaque, uint32_t gpa_page)
{
	mon_sys__bt_code_written(opaque, gpa_page);
}

static void sys_tlb_event(void *opaque, uint32_t lin, bool all)
{
	mon_sys__bt_tlb_event(opaque, lin, all);
}

static const struct cpu_bus_ops sys_bus_ops = {
	.user_boundary = sys_user_boundary,
	.code_written = sys_code_written,
	.tlb_event = sys_tlb_event,
	.ram_page = sys_ram_page,
	.mmio = sys_mmio,
	.pio = sys_pio,
	.intr_ack = sys_intr_ack,
	.read_tsc = sys_read_tsc,
};

int mon_sys__init(struct mon_sys *ms, void *cpu, void *const *pages,
		  unsigned long npages, unsigned long long (*now_ns)(void))
{
	int r;

	memset(ms, 0, sizeof(*ms));
	ms->cpu = cpu;
	ms->pages = pages;
	ms->npages = npages;
	ms->now_ns = now_ns;
	r = cpu__init(ms->cpu, &sys_bus_ops, ms);
	if (r)
		return r < 0 ? r : -1;
	cpu__reset(ms->cpu);
	return 0;
}

static void seg_in(struct seg *s, const struct hvmm_seg *h)
{
	s->sel = h->sel;
	s->attr = h->attr;
	s->base = h->base;
	s->limit = h->limit;
}

static void seg_out(struct hvmm_seg *h, const struct seg *s)
{
	h->sel = s->sel;
	h->attr = s->attr;
	h->base = s->base;
	h->limit = s->limit;
}

void mon_sys__set_state(struct mon_sys *ms, const struct hvmm_sregs *r)
{
	struct cpu *cpu = ms->cpu;

	for (int i = 0; i < 8; i++)
		cpu->r[i] = r->gpr[i];
	for (int i = 0; i < 8; i++)
		cpu->dr[i] = r->dr[i];
	cpu->eip = r->eip;
	cpu->cr0 = r->cr0 | CR0_ET;
	cpu->cr2 = r->cr2;
	cpu->cr3 = r->cr3;
	cpu->cr4 = r->cr4;
	cpu->efer = r->efer;
	cpu->sysenter_cs = r->sysenter_cs;
	cpu->sysenter_esp = r->sysenter_esp;
	cpu->sysenter_eip = r->sysenter_eip;
	cpu->pat = r->pat;
	cpu->gdtr.base = r->gdt_base;
	cpu->gdtr.limit = (uint16_t)r->gdt_limit;
	cpu->idtr.base = r->idt_base;
	cpu->idtr.limit = (uint16_t)r->idt_limit;
	seg_in(&cpu->ldtr, &r->ldtr);
	seg_in(&cpu->tr, &r->tr);
	for (int s = 0; s < SEG_NSEGS; s++)
		seg_in(&cpu->seg[s], &r->seg[s]);
	cpu__set_eflags(cpu, r->eflags);
	cpu->halted = !!(r->flags & HVMM_SF_HALTED);
	cpu__set_a20(cpu, r->flags & HVMM_SF_A20);
	cpu__mode_changed(cpu);
	if (cpu_pmode(cpu) && !cpu_v86(cpu))
		cpu->cpl = r->cpl & 3;
	cpu__mode_changed(cpu);
	cpu__flush_all(cpu);
	ms->clock_start = r->clock_start_ns;
	ms->mmio_start = r->mmio_start;
	ms->mmio_end = r->mmio_end;
	ms->rom_start = r->rom_start;
	ms->rom_end = r->rom_end;
	ms->pend = ACC_NONE;
	ms->nread = 0;
	ms->have_inject = false;
	ms->want_window = false;
	ms->shutdown = false;
	ms->hold = false;
}

__u32 mon_sys__eflags(struct mon_sys *ms)
{
	return cpu__eflags(ms->cpu);
}

void mon_sys__get_state(struct mon_sys *ms, struct hvmm_sregs *r)
{
	struct cpu *cpu = ms->cpu;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 8; i++)
		r->gpr[i] = cpu->r[i];
	for (int i = 0; i < 8; i++)
		r->dr[i] = cpu->dr[i];
	r->eip = cpu->eip;
	r->eflags = cpu__eflags(cpu);
	for (int s = 0; s < SEG_NSEGS; s++)
		seg_out(&r->seg[s], &cpu->seg[s]);
	seg_out(&r->ldtr, &cpu->ldtr);
	seg_out(&r->tr, &cpu->tr);
	r->gdt_base = cpu->gdtr.base;
	r->gdt_limit = cpu->gdtr.limit;
	r->idt_base = cpu->idtr.base;
	r->idt_limit = cpu->idtr.limit;
	r->cr0 = cpu->cr0;
	r->cr2 = cpu->cr2;
	r->cr3 = cpu->cr3;
	r->cr4 = cpu->cr4;
	r->cpl = cpu->cpl;
	r->flags = (cpu->halted ? HVMM_SF_HALTED : 0) | (cpu->a20 ? HVMM_SF_A20 : 0);
	r->efer = cpu->efer;
	r->sysenter_cs = cpu->sysenter_cs;
	r->sysenter_esp = cpu->sysenter_esp;
	r->sysenter_eip = cpu->sysenter_eip;
	r->pat = cpu->pat;
	r->mmio_start = ms->mmio_start;
	r->mmio_end = ms->mmio_end;
	r->rom_start = ms->rom_start;
	r->rom_end = ms->rom_end;
	r->clock_start_ns = ms->clock_start;
}

static unsigned int sys_reason(struct mon_sys *ms, enum cpu_exit e)
{
	if (ms->pend != ACC_NONE)
		return ms->pend == ACC_PIO ? HVMM_SX_IO : HVMM_SX_MMIO;
	switch (e) {
	case CPU_EXIT_SHUTDOWN:
		return HVMM_SX_SHUTDOWN;
	case CPU_EXIT_ERROR:
		return HVMM_SX_ERROR;
	default:
		break;
	}
	if (ms->want_window)
		return HVMM_SX_INTR_WINDOW;
	if (e == CPU_EXIT_HALT)
		return HVMM_SX_HLT;
	if (e == CPU_EXIT_HALT_DEAD)
		return HVMM_SX_HLT_DEAD;
	return HVMM_SX_BUDGET;	/* budget, or a stop with nothing to report */
}

unsigned int mon_sys__run(struct mon_sys *ms, struct hvmm_sys_run *run)
{
	struct cpu *cpu = ms->cpu;
	uint64_t budget = run->budget ? run->budget : SYS_DEFAULT_BUDGET;
	enum cpu_exit e;
	unsigned int reason;

	uint64_t fp[5] = { cpu->icount, cpu->eip, cpu->r[R_ECX], cpu->r[R_ESI], cpu->r[R_EDI] };
	if (memcmp(fp, ms->read_fp, sizeof(fp))) {	/* progress: a new list */
		ms->nread = 0;
		memcpy(ms->read_fp, fp, sizeof(fp));
	}
	if (run->flags & HVMM_SRUN_DATA && ms->pend != ACC_NONE &&
	    !ms->pend_write && ms->nread < SYS_READS) {
		struct sys_read *r = &ms->reads[ms->nread++];
		r->kind = ms->pend;
		r->addr = ms->pend_addr;
		r->len = ms->pend_len;
		r->data = run->data;
	}
	ms->read_pos = 0;
	ms->pend = ACC_NONE;
	if (run->flags & HVMM_SRUN_INJECT) {
		ms->have_inject = true;
		ms->inject = run->inject & 0xff;
	}
	ms->want_window = false;
	ms->user_irq = run->flags & HVMM_SRUN_IRQ;
	if (ms->kirq)
		mon_kirq__poll(ms->kirq);
	cpu->irq_pending = ms->have_inject || ms->user_irq ||
			   (ms->kirq && mon_kirq__has_intr(ms->kirq));
	/* the board's A20 gate, as the interp engine applies it (a20_sync) */
	cpu__set_a20(cpu, !(run->flags & HVMM_SRUN_A20_OFF));
	ms->st.run_calls++;

	ms->go_native = false;
	ms->go_bt = false;
	if (ms->shutdown) {
		e = CPU_EXIT_SHUTDOWN;	/* sticky, like the CPU's shutdown state */
	} else if (native_ok(ms)) {
		run->icount = cpu->icount;
		run->reason = MON_SYS_NATIVE;
		return MON_SYS_NATIVE;
	} else if (ms->bt && mon_sys__bt_ok(ms)) {
		run->icount = cpu->icount;
		run->reason = MON_SYS_BT;
		return MON_SYS_BT;
	} else {
		e = cpu__run(cpu, budget);
		if ((ms->go_native || ms->go_bt) && e == CPU_EXIT_STOP &&
		    ms->pend == ACC_NONE && !ms->want_window) {
			ms->st.instructions = cpu->icount;
			run->icount = cpu->icount;
			run->reason = ms->go_native ? MON_SYS_NATIVE : MON_SYS_BT;
			return run->reason;
		}
	}
	reason = sys_reason(ms, e);
	ms->st.exits[reason < HVMM_SX_REASONS ? reason : 0]++;
	ms->st.instructions = cpu->icount;
	run->reason = reason;
	run->is_write = ms->pend_write;
	run->addr = ms->pend_addr;
	run->len = ms->pend_len;
	run->wdata = ms->pend_wdata;
	run->eflags = cpu__eflags(cpu);
	run->icount = cpu->icount;
	if (reason != HVMM_SX_IO && reason != HVMM_SX_MMIO) {
		run->is_write = 0;
		run->addr = 0;
		run->len = 0;
		run->wdata = 0;
	}
	if (reason == HVMM_SX_HLT && ms->kirq && mon_kirq__on(ms->kirq))
		run->addr = mon_kirq__deadline(ms->kirq);	/* wake-up time */
	return reason;
}

unsigned long mon_sys__dump(struct mon_sys *ms, char *buf, unsigned long size)
{
	return cpu__dump(ms->cpu, buf, size);
}

void mon_sys__stats(struct mon_sys *ms, struct hvmm_sys_stats *st)
{
	*st = ms->st;
	st->instructions = ms->cpu->icount;
	st->decodes = ms->cpu->ndecode;
	st->tlb_flushes = ms->cpu->ntlb_flush;
}

void mon_sys__invalidate_phys(struct mon_sys *ms, unsigned long long gpa,
			      unsigned long long len)
{
	uint64_t ram = (uint64_t)ms->npages << 12;

	if (gpa >= ram || !len)
		return;
	if (len > ram - gpa)
		len = ram - gpa;
	cpu__invalidate_phys(ms->cpu, gpa, len);
}

void mon_sys__set_native(struct mon_sys *ms, int on, __u32 mxcsr_mask)
{
	ms->native_on = on != 0;
	if (ms->mxcsr_mask != mxcsr_mask)
		ms->fpu_seen_valid = false;	/* the image depends on it */
	ms->mxcsr_mask = mxcsr_mask;
}

void mon_sys__fx_export(struct mon_sys *ms, void *fx)
{
	struct cpu *cpu = ms->cpu;

	if (ms->fpu_seen_valid && !memcmp(&cpu->fpu, &ms->fpu_seen, sizeof(ms->fpu_seen)))
		return;
	mon_native__fx_from_fpu(fx, &cpu->fpu, ms->mxcsr_mask);
	memcpy(&ms->fpu_seen, &cpu->fpu, sizeof(ms->fpu_seen));
	ms->fpu_seen_valid = true;
}

void mon_sys__fx_import(struct mon_sys *ms, const void *fx)
{
	struct cpu *cpu = ms->cpu;

	mon_native__fx_to_fpu(&cpu->fpu, fx);
	memcpy(&ms->fpu_seen, &cpu->fpu, sizeof(ms->fpu_seen));
	ms->fpu_seen_valid = true;
}

int mon_sys__tlb_events(struct mon_sys *ms, uint32_t *lin, int max, int *local)
{
	struct cpu *cpu = ms->cpu;
	uint64_t n = cpu->ninvlpg - ms->seen_invlpg;
	bool all = !ms->seen_valid || cpu->ntlb_flush_global != ms->seen_flush_global ||
		   n > (uint64_t)max || n > CPU_INVLPG_LOG;
	int i;

	*local = cpu->ntlb_flush != ms->seen_flush;
	ms->seen_valid = true;
	ms->seen_flush = cpu->ntlb_flush;
	ms->seen_flush_global = cpu->ntlb_flush_global;
	ms->seen_invlpg = cpu->ninvlpg;
	if (all)
		return -1;
	for (i = 0; i < (int)n; i++)
		lin[i] = cpu->invlpg_log[(cpu->ninvlpg - n + i) % CPU_INVLPG_LOG];
	return (int)n;
}

void mon_sys__native_export(struct mon_sys *ms, struct mon_native_state *st, void *fx)
{
	struct cpu *cpu = ms->cpu;

	for (int i = 0; i < 8; i++)
		st->gpr[i] = cpu->r[i];
	st->eip = cpu->eip;
	st->eflags = mon_native__eflags_in(cpu__eflags(cpu));
	for (int i = 0; i < SEG_NSEGS; i++) {
		const struct seg *sg = &cpu->seg[i];
		uint64_t d = 0;

		ms->nat_seg[i] = *sg;
		st->sel[i] = sg->sel;
		if ((sg->sel & ~3) != 0 && mon_native__desc(i, sg->attr, sg->base, sg->limit, &d))
			d = 0;	/* not reached: native_ok checked it */
		st->desc[i] = d;
	}
	st->cr0 = cpu->cr0;
	st->cr3 = cpu->cr3;
	st->cr4 = cpu->cr4;
	mon_sys__fx_export(ms, fx);
}

void mon_sys__native_import(struct mon_sys *ms, const struct mon_native_state *st,
			    const void *fx, int vector)
{
	struct cpu *cpu = ms->cpu;
	uint32_t fl = mon_native__eflags_out(cpu__eflags(cpu), st->eflags);

	for (int i = 0; i < 8; i++)
		cpu->r[i] = st->gpr[i];
	cpu->eip = st->eip;
	/* A native segment load could only find the slots of the exported
	 * selectors (or null): take that register's hidden part. */
	for (int i = 0; i < SEG_NSEGS; i++) {
		const struct seg *from = NULL;

		if (st->sel[i] == ms->nat_seg[i].sel)
			continue;
		for (int j = 0; j < SEG_NSEGS && !from; j++)
			if ((ms->nat_seg[j].sel & ~3) && (ms->nat_seg[j].sel & ~3) == (st->sel[i] & ~3))
				from = &ms->nat_seg[j];
		if (from)
			seg__load_raw(cpu, i, st->sel[i], from->base, from->limit, from->attr);
		else
			seg__load_raw(cpu, i, st->sel[i], 0, 0, 0);
	}
	mon_sys__fx_import(ms, fx);
	cpu__set_eflags(cpu, fl);
	mon_sys__native_end(ms, fl, vector);
}

void mon_sys__native_end(struct mon_sys *ms, uint32_t fl, int vector)
{
	struct cpu *cpu = ms->cpu;

	ms->hold = vector >= 0;
	ms->hold_icount = cpu->icount;
	if (vector == EXC_DB) {
		/* a native #DB trap: single step after a POPF set TF, or ICEBP */
		if (fl & FL_TF) {
			cpu->dr[6] |= 0x4000;	/* DR6.BS (SDM Vol. 3B §17.2.3) */
			cpu__raise(cpu, EXC_DB, 0);
			ms->shutdown |= exc__deliver_pending(cpu) != 0;
		} else if (exc__deliver(cpu, EXC_DB, INT_ICEBP, false, 0) &&
			   cpu->pending_exc >= 0) {
			ms->shutdown |= exc__deliver_pending(cpu) != 0;
		}
	}
}

void mon_sys__native_pf(struct mon_sys *ms, __u32 err, __u32 cr2)
{
	struct cpu *cpu = ms->cpu;

	cpu->cr2 = cr2;
	cpu__raise(cpu, EXC_PF, err & (SM_PF_P | SM_PF_W | SM_PF_U | SM_PF_RSVD));
	ms->shutdown |= exc__deliver_pending(cpu) != 0;
}

const __u32 *mon_sys__code_bits(struct mon_sys *ms)
{
	return cpu__code_bits(ms->cpu);
}

unsigned long long mon_sys__code_marks(struct mon_sys *ms)
{
	return ms->cpu->code_marks;
}

void mon_sys__code_written(struct mon_sys *ms, __u32 gfn)
{
	if (gfn == ~0u)
		cpu__flush_all(ms->cpu);
	else
		cpu__invalidate_phys(ms->cpu, (uint64_t)gfn << 12, 4096);
}
