/* monitor/cpu-exec.c — CPU life cycle and the run loop.
 *
 * The loop works on decoded blocks (monitor/cpu-decode.c). Before each
 * block it checks events (NMI, INTR with EFLAGS.IF, HLT, stop requests);
 * inside a block it runs handlers back to back. EIP is advanced to the next
 * instruction before the handler runs (relative branches add to it); a
 * handler that faults returns CPU_ABORT with the exception queued by
 * cpu__raise, and the loop rewinds EIP to the faulting instruction and
 * delivers it (fault semantics, SDM Vol. 3 §6.5).
 */
#include "monitor/cpu-internal.h"

int cpu__init_sized(struct cpu *cpu, const struct cpu_bus_ops *ops,
		    void *opaque, size_t icache_bytes)
{
	if (!cpu || !ops || !ops->ram_page || icache_bytes < CPU_ICACHE_MIN)
		return -22;
	cpu->ops = ops;
	cpu->opaque = opaque;
	cpu->icache_bytes = icache_bytes;
	icache__init(cpu);
	cpu__reset(cpu);
	return 0;
}

int cpu__init(struct cpu *cpu, const struct cpu_bus_ops *ops, void *opaque)
{
	return cpu__init_sized(cpu, ops, opaque, CPU_ICACHE_BYTES);
}

void cpu__set_seg(struct cpu *cpu, int seg, uint16_t sel, uint32_t base,
		  uint32_t limit, uint16_t attr)
{
	seg__load_raw(cpu, seg, sel, base, limit, attr);
}

void cpu__state_changed(struct cpu *cpu)
{
	cpu->eflags |= FL_1;
	if (cpu_pmode(cpu) && !cpu_v86(cpu))
		cpu->cpl = cpu->seg[SEG_CS].sel & 3;
	cpu__mode_changed(cpu);
	dbg__update(cpu);	/* also flushes the TLB */
}

static void reset_common(struct cpu *cpu)
{
	for (int k = 0; k < 8; k++)
		cpu->r[k] = 0;
	cpu->lf.op = LF_NONE;
	cpu->eflags = FL_1;
	cpu->cr0 = CR0_ET | CR0_CD | CR0_NW;
	cpu->cr2 = cpu->cr3 = cpu->cr4 = 0;
	for (int k = 0; k < 8; k++)
		cpu->dr[k] = 0;
	cpu->dr[6] = 0xffff0ff0u;
	cpu->dr[7] = 0x400;
	cpu->efer = 0;
	cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
	cpu->apic_base = 0xfee00900ull;
	cpu->pat = 0x0007040600070406ull;
	cpu->misc_enable = 1;
	cpu->gdtr.base = cpu->idtr.base = 0;
	cpu->gdtr.limit = cpu->idtr.limit = 0xffff;
	seg__load_raw(cpu, -1, 0, 0, 0xffff, 0x82);	/* LDTR */
	seg__load_raw(cpu, -2, 0, 0, 0xffff, 0x8b);	/* TR */
	cpu->a20 = true;
	cpu->a20_mask = ~0u;
	cpu->halted = false;
	cpu->shadow = 0;
	cpu->nmi_pending = 0;
	cpu->nmi_blocked = false;
	cpu->pending_exc = -1;
	cpu->exc_nest = 0;
	fpu__reset(&cpu->fpu);
	mem__tlb_flush(cpu, true);
	icache__flush(cpu);
}

void cpu__reset(struct cpu *cpu)
{
	reset_common(cpu);
	cpu->r[R_EDX] = 0x00000633;	/* family 6, model 3, stepping 3 */
	cpu->eip = 0xfff0;
	for (int s = 0; s < SEG_NSEGS; s++)
		seg__load_raw(cpu, s, 0, 0, 0xffff, 0x93);
	seg__load_raw(cpu, SEG_CS, 0xf000, 0xffff0000u, 0xffff, 0x9b);
	cpu__mode_changed(cpu);
}

void cpu__setup_flat32(struct cpu *cpu, uint16_t cs_sel, uint16_t ds_sel,
		       uint32_t eip)
{
	cpu->cr0 |= CR0_PE;
	cpu->cr0 &= ~(CR0_PG | CR0_CD | CR0_NW);
	cpu->eflags = FL_1;
	cpu->lf.op = LF_NONE;
	cpu->eip = eip;
	for (int s = 0; s < SEG_NSEGS; s++)
		seg__load_raw(cpu, s, ds_sel, 0, 0xffffffffu, 0xc093);
	seg__load_raw(cpu, SEG_CS, cs_sel, 0, 0xffffffffu, 0xc09b);
	cpu__mode_changed(cpu);
	mem__tlb_flush(cpu, true);
}

void cpu__flush_all(struct cpu *cpu)
{
	mem__tlb_flush(cpu, true);
	icache__flush(cpu);
}

void cpu__set_a20(struct cpu *cpu, bool on)
{
	if (cpu->a20 == on)
		return;
	cpu->a20 = on;
	cpu->a20_mask = on ? ~0u : ~(1u << 20);
	cpu__flush_all(cpu);
}

void cpu__set_irq_pending(struct cpu *cpu, bool level)
{
	cpu->irq_pending = level;
	if (level)
		cpu->smc = true;	/* leave the current block soon */
}

void cpu__raise_nmi(struct cpu *cpu)
{
	cpu->nmi_pending = 1;
	cpu->smc = true;
}

/* Recomputes everything derived from CR0.PE, EFLAGS.VM and CS. */
void cpu__mode_changed(struct cpu *cpu)
{
	cpu->mode = (cpu_pmode(cpu) && !cpu_v86(cpu) &&
		     (cpu->seg[SEG_CS].attr & SEGA_DB)) ? 1 : 0;
	if (!cpu_pmode(cpu))
		cpu->cpl = 0;
	else if (cpu_v86(cpu))
		cpu->cpl = 3;
	for (int s = 0; s < SEG_NSEGS; s++)
		mem__seg_update(cpu, s);
}

static bool exc_has_err(int vec)
{
	return vec == EXC_DF || (vec >= EXC_TS && vec <= EXC_PF) ||
	       vec == EXC_AC;
}

int cpu__raise(struct cpu *cpu, int vector, uint32_t errcode)
{
	cpu->pending_exc = vector;
	cpu->pending_err = errcode;
	cpu->pending_has_err = exc_has_err(vector);
	return CPU_ABORT;
}

int insn_unimpl(struct cpu *cpu, const struct insn *i)
{
	uint32_t lin = cpu->seg[SEG_CS].base + cpu->insn_eip;

	cpu->nud_unimpl++;
	cpu->last_unimpl_eip = cpu->insn_eip;
	cpu_memset(cpu->last_unimpl_bytes, 0, 15);
	if (mem__lin_read(cpu, lin, cpu->last_unimpl_bytes, 15, ACC_X))
		cpu->pending_exc = -1;
	return cpu__raise(cpu, EXC_UD, 0);
}

/* x87/MMX/SSE: the #NM/#UD checks of SDM Vol. 3 Table 2-1 (CR0.EM, TS, MP),
 * then the fpu part executes it from a full Zydis re-decode. */
int insn_fpu(struct cpu *cpu, const struct insn *i)
{
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand zo[ZYDIS_MAX_OPERAND_COUNT];
	bool wait = i->mnem == ZYDIS_MNEMONIC_FWAIT;
	int r;

	if (wait) {
		if ((cpu->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
			return cpu__raise(cpu, EXC_NM, 0);
	} else {
		if (cpu->cr0 & CR0_EM) {
			if (i->mnem >= ZYDIS_MNEMONIC_F2XM1 &&
			    i->mnem <= ZYDIS_MNEMONIC_FYL2XP1)
				return cpu__raise(cpu, EXC_NM, 0);
			return cpu__raise(cpu, EXC_UD, 0);
		}
		if (cpu->cr0 & CR0_TS)
			return cpu__raise(cpu, EXC_NM, 0);
	}
	if (icache__redecode(cpu, &zi, zo))
		return insn_unimpl(cpu, i);
	cpu->eip = cpu->insn_eip;
	r = fpu__exec(cpu, &zi, zo);
	if (r == 0) {
		cpu->eip = cpu->insn_eip + i->len;
		if (cpu->mode == 0)
			cpu->eip &= 0xffff;
		return 0;
	}
	if (r == CPU_NOT_FPU)
		return insn_unimpl(cpu, i);
	return r;
}

/* Delivers NMI or INTR if one is pending and allowed. Returns 1 if one was
 * delivered, 0 if none, -1 on triple fault. */
static int deliver_events(struct cpu *cpu)
{
	if (cpu->nmi_pending && !cpu->nmi_blocked) {
		cpu->nmi_pending = 0;
		cpu->nmi_blocked = true;
		cpu->halted = false;
		if (exc__deliver(cpu, EXC_NMI, INT_NMI, false, 0) &&
		    exc__deliver_pending(cpu))
			return -1;
		return 1;
	}
	if (cpu->irq_pending && (cpu->eflags & FL_IF)) {
		int vec = cpu->ops->intr_ack ? cpu->ops->intr_ack(cpu->opaque)
					     : -1;
		if (vec < 0)
			return 0;
		cpu->halted = false;
		cpu->nirq++;
		if (exc__deliver(cpu, vec & 0xff, INT_EXT, false, 0) &&
		    exc__deliver_pending(cpu))
			return -1;
		return 1;
	}
	return 0;
}

enum cpu_exit cpu__run(struct cpu *cpu, uint64_t max_instructions)
{
	struct block *b, *prev = NULL;
	uint64_t end = cpu->icount + max_instructions;
	/* Loop turns are bounded too: a guest whose exception handlers fault
	 * before retiring anything (e.g. a #PF handler on an unmapped page)
	 * delivers exceptions forever without an instruction counted; in
	 * hvmm.ko that would be a host soft lockup. */
	uint64_t turns = max_instructions + 64;

	cpu->exit_req = 0;
	cpu->error = NULL;
	for (;;) {
		unsigned n, k;
		int r;
		bool inhibit, dbgmode, tf = false, rf = false;

		if (unlikely(turns-- == 0))
			return CPU_EXIT_BUDGET;

		if (unlikely(cpu->exit_req)) {
			cpu->exit_req = 0;
			return CPU_EXIT_STOP;
		}
		if (unlikely(cpu->icount >= end))
			return CPU_EXIT_BUDGET;
		if (unlikely(cpu__boundary_hooked(cpu)) &&
		    cpu->ops->user_boundary(cpu->opaque))
			return CPU_EXIT_STOP;
		inhibit = cpu->shadow;
		cpu->shadow = 0;
		if (unlikely(!inhibit && (cpu->nmi_pending || cpu->halted ||
					  (cpu->irq_pending &&
					   (cpu->eflags & FL_IF))))) {
			int d = deliver_events(cpu);
			if (d < 0)
				return CPU_EXIT_SHUTDOWN;
			/* intr_ack may ask to stop at this very boundary (the
			 * hybrid engine fetches the vector from userland). */
			if (unlikely(cpu->exit_req)) {
				cpu->exit_req = 0;
				return CPU_EXIT_STOP;
			}
			if (cpu->halted)
				return (cpu->eflags & FL_IF) ? CPU_EXIT_HALT
							     : CPU_EXIT_HALT_DEAD;
			prev = NULL;
			if (d) {
				end--;	/* deliveries count against the budget */
				continue;
			}
		}
		if (prev && chain_ok(cpu, prev, 0)) {
			b = prev->succ[0];
		} else if (prev && chain_ok(cpu, prev, 1)) {
			b = prev->succ[1];
		} else {
			uint32_t gen0 = cpu->gen;

			b = jc_find(cpu);
			if (!b)
				b = icache__lookup(cpu);
			if (unlikely(!b)) {
				prev = NULL;
				if (cpu->pending_exc < 0) {
					if (!cpu->error)
						cpu->error = "decode failed";
					return CPU_EXIT_ERROR;
				}
				if (exc__deliver_pending(cpu))
					return CPU_EXIT_SHUTDOWN;
				end--;
				continue;
			}
			/* Never chain to the scratch block of a straddling
			 * instruction: it is reused for the next one. The
			 * newest successor goes to slot 0, the other moves
			 * to slot 1. Nor link from prev when the lookup
			 * dropped decoded code (gen moved): a full cache
			 * flush recycles the arena, and prev's memory may
			 * now hold b itself or another new block, whose
			 * instructions the link would overwrite. */
			if (b->gpa != ~0u)
				jc_put(cpu, b);
			if (prev && b->gpa != ~0u && cpu->gen == gen0) {
				prev->succ[1] = prev->succ[0];
				prev->succ_eip[1] = prev->succ_eip[0];
				prev->succ_gen[1] = prev->succ_gen[0];
				prev->succ[0] = b;
				prev->succ_eip[0] = cpu->eip;
				prev->succ_gen[0] = cpu->gen;
			}
		}
		if (unlikely(cpu->audit_every) && --cpu->audit_left == 0) {
			cpu->audit_left = cpu->audit_every;
			icache__audit_block(cpu, b);
		}
		cpu->trace[cpu->ntrace++ & 31] = cpu->eip;
		cpu->smc = false;
		n = b->ninsn;
		if (inhibit || n > end - cpu->icount)
			n = inhibit ? 1 : (unsigned)(end - cpu->icount);
		dbgmode = unlikely(cpu->dbg || (cpu->eflags & (FL_TF | FL_RF)));
		if (dbgmode) {
			tf = cpu->eflags & FL_TF;
			rf = cpu->eflags & FL_RF;
			cpu->step_one = tf;
			n = 1;
			if (cpu->dbg && dbg__before(cpu)) {
				if (exc__deliver_pending(cpu))
					return CPU_EXIT_SHUTDOWN;
				prev = NULL;
				end--;
				continue;
			}
		}
		/* monitor/cpu-fast.c runs the block: 0 = ran k instructions,
		 * 1 = left after instruction k-1 (decoded code dropped or an
		 * event raised), CPU_RET_EXIT = instruction k-1 asked to leave
		 * the loop, CPU_ABORT = instruction k faulted (EIP at it); all
		 * of b, which may be a successor of the block passed in (the
		 * executor follows block links itself; not in debug mode nor
		 * in an interrupt shadow). */
		r = fast__run_block(cpu, &b, n,
				    inhibit || dbgmode ? 0 : end, &k);
		if (unlikely(r)) {
			if (r == CPU_ABORT) {
				cpu->eip = cpu->insn_eip;
				cpu->icount += k;
				end--;	/* a fault loop must end */
				if (exc__deliver_pending(cpu))
					return CPU_EXIT_SHUTDOWN;
				k = 0;
				b = NULL;
			} else if (r == 1) {
				b = NULL;
			}
		}
		cpu->icount += k;
		prev = (b && b->gpa != ~0u) ? b : NULL;
		if (unlikely(dbgmode)) {
			cpu->step_one = false;
			prev = NULL;
			if (k == 1 && b &&
			    dbg__after(cpu, tf, rf, &b->insns[0]) &&
			    exc__deliver_pending(cpu))
				return CPU_EXIT_SHUTDOWN;
		}
	}
}
