/* monitor/mon-trap.c — the monitor's trap dispatcher: every exception and
 * interrupt taken in the monitor world comes here (from the stubs in
 * host-driver/hvmm-switch.S) with the host's GS base restored, interrupts
 * off, on the monitor stack (or an IST stack for NMI, #DF, #MC).
 *
 * Guest #PF that the guest's own tables allow: build the shadow entry and
 * resume, without leaving the world. The exit sites of translated code
 * that need no host service, and guest SYSENTER/SYSEXIT/IRET between
 * translated kernel code and native user code: the module's bt_trap
 * finishes them here (host-driver/hvmm-bt-world.c). Everything else
 * leaves the world: host interrupts and NMIs (the module re-raises them
 * through Linux's IDT), int 0x80, port I/O and HLT (decoded from the #GP
 * they raise at CPL 3 with IOPL 0 and no I/O bitmap), every other guest
 * exception with its vector, error code and CR2, and any trap from CPL 0
 * (a monitor bug).
 * Only the module and the freestanding check build compile it: it uses
 * privileged instructions and runs inside the monitor world only. */
#include "monitor/mon.h"

#if defined(__KERNEL__) || defined(HVMM_FREESTANDING)

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	asm volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline void invlpg(uint64_t va)
{
	asm volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void reload_cr3(void)
{
	uint64_t v;

	asm volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(v) : : "memory");
}

/* Copy up to @n bytes of guest code at linear @va; returns the count read
 * before the first untranslatable byte. */
static unsigned int fetch_code(struct mon_world *w, uint32_t va, uint8_t *buf, unsigned int n)
{
	struct sm_walk walk;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint8_t *p;

		if (sm__walk32(&w->gmem, w->guest_cr3, (w->guest_cr4 & 0x10) != 0,
			       true, va + i, SM_PF_U | SM_PF_I, false, &walk) != SM_WALK_OK)
			break;
		p = sm__gpa_ptr(&w->gmem, walk.gpa);
		if (!p)
			break;
		buf[i] = *p;
	}
	return i;
}

/* A #GP(0) at CPL 3: port I/O or HLT become their own exits; anything else
 * (CLI, STI, privileged instructions, far transfers...) stays a #GP fault.
 * Legacy prefixes are skipped; 0x66 selects a 16-bit operand. */
static void classify_gp(struct mon_world *w, struct mon_frame *f)
{
	uint8_t b[15];
	unsigned int n = fetch_code(w, (uint32_t)f->rip, b, sizeof(b)), i = 0;
	bool opsize16 = false;

	while (i < n) {
		uint8_t p = b[i];

		if (p == 0x66)
			opsize16 = true;
		else if (!(p == 0x67 || p == 0xf0 || p == 0xf2 || p == 0xf3 || p == 0x26 ||
			   p == 0x2e || p == 0x36 || p == 0x3e || p == 0x64 || p == 0x65))
			break;
		i++;
	}
	if (i >= n)
		return;
	switch (b[i]) {
	case 0xf4:
		w->exit_reason = MON_X_HLT;
		w->insn_len = i + 1;
		return;
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:
		if (i + 1 >= n)
			return;
		w->io_port = b[i + 1];
		w->insn_len = i + 2;
		break;
	case 0xec: case 0xed: case 0xee: case 0xef:
		w->io_port = (uint16_t)f->rdx;
		w->insn_len = i + 1;
		break;
	case 0x6c: case 0x6d: case 0x6e: case 0x6f:
		w->io_port = (uint16_t)f->rdx;
		w->io_string = 1;
		w->insn_len = i + 1;
		break;
	default:
		return;
	}
	w->exit_reason = MON_X_IO;
	w->io_size = (b[i] & 1) ? (opsize16 ? 2 : 4) : 1;
	w->io_in = (b[i] == 0xe4 || b[i] == 0xe5 || b[i] == 0xec || b[i] == 0xed ||
		    b[i] == 0x6c || b[i] == 0x6d);
}

/* An NMI that interrupted the guest-segment reloads before iretq replaced
 * GS_BASE (the stub restores the host's): restart the reloads. The labels
 * of that sequence (host-driver/hvmm-switch.S) are in the header. */
static void nmi_fixup_resume(struct mon_world *w, struct mon_frame *f)
{
	if (f->rip >= w->resume_sregs && f->rip <= w->resume_add) {
		f->rip = w->resume_sregs;
	} else if (f->rip == w->resume_iret) {
		f->rip = w->resume_sregs;
		f->rsp -= 48;
	}
}

/* The module's in-world handler of translated stays (w->bt_trap): MON_RESUME
 * or MON_EXIT when it took the trap, -1 when the ordinary path goes on. */
static int bt_trap(struct mon_world *w, struct mon_frame *f)
{
	int r;

	if (!w->bt_stay || !w->bt_trap)
		return -1;
	r = w->bt_trap(w, f);
	if (r < 0)
		return -1;
	if (r > 0) {
		w->exit_reason = MON_X_BT_YIELD;
		return MON_EXIT;
	}
	w->n_bt_traps++;
	if (w->nmi_pending) {
		w->exit_reason = MON_X_HOST_NMI;
		return MON_EXIT;
	}
	return MON_RESUME;
}

int mon__trap(struct mon_world *w, struct mon_frame *f)
{
	uint32_t vec = (uint32_t)f->vector;

	if ((f->cs & 3) == 0) {
		/* From CPL 0: the monitor itself, or the switch code. An NMI
		 * waits for the next exit; anything else is a monitor bug. */
		if (vec == 2) {
			nmi_fixup_resume(w, f);
			w->nmi_pending = 1;
			w->n_nmis_deferred++;
			return MON_RESUME;
		}
		w->exit_reason = MON_X_MONITOR_ERROR;
		w->exit_vector = vec;
		w->exit_error = (uint32_t)f->error_code;
		w->exit_cr2 = (uint32_t)read_cr2();
		w->exit_rip = f->rip;
		w->dead = 1;
		return MON_EXIT;
	}

	w->exit_vector = vec;
	w->exit_error = (uint32_t)f->error_code;
	w->exit_cr2 = 0;
	w->io_string = 0;
	w->insn_len = 0;
	w->exit_watched = 0;

	switch (vec) {
	case 14: {
		uint64_t cr2 = read_cr2();
		int r;

		/* System mode: two faults from guest user code that no shadow
		 * entry can fix, so resuming would fault forever. (1) A
		 * supervisor-mode access (U=0): QEMU TCG makes the stack
		 * accesses of far RET/IRET/CALL at CPL 3 with its kernel MMU
		 * index, which SMAP (the host's CR4, on in the world) refuses
		 * on a user page; hardware makes them as user accesses, and
		 * the world's own tables never fault. (2) An address above
		 * 4 GiB: a compatibility-mode fetch TCG did not truncate. The
		 * stay ends as if by a #GP at the instruction: the interpreter
		 * re-executes it (found by the hostile kernels far-crafted and
		 * idt-crafted, docs/hostile.md). */
		if (w->sys_mode && (((f->cs & 3) == 3 && !(f->error_code & 4)) || (cr2 >> 32))) {
			w->exit_reason = MON_X_FAULT;
			w->exit_vector = 13;
			w->exit_error = 0;
			w->n_monitor_traps++;
			return MON_EXIT;
		}
		w->guest_cr2 = (uint32_t)cr2;
		r = mon__shadow_fault(w, (uint32_t)cr2, (uint32_t)f->error_code);
		if (r == 0) {
			if (w->shadow_flushed) {
				w->shadow_flushed = 0;
				reload_cr3();
			} else {
				invlpg(cr2);
			}
			w->n_monitor_traps++;
			if (w->nmi_pending) {
				w->exit_reason = MON_X_HOST_NMI;
				return MON_EXIT;
			}
			return MON_RESUME;
		}
		return MON_EXIT;	/* guest fault or bad memory, exit_* set */
	}
	case 2:
		w->exit_reason = MON_X_HOST_NMI;
		return MON_EXIT;
	case 0x80:
		w->exit_reason = MON_X_SYSCALL;
		return MON_EXIT;
	case 13:
		/* guest user code in a translated stay: SYSENTER (SYSENTER_CS
		 * is 0 in the world) may go on inside it (docs/bt.md) */
		if ((f->cs & 3) == 3 && f->error_code == 0) {
			int r = bt_trap(w, f);

			if (r >= 0)
				return r;
		}
		w->exit_reason = MON_X_FAULT;
		/* CPL 1 is translated code: its exits are sites (docs/bt.md) */
		if (f->error_code == 0 && (f->cs & 3) == 3)
			classify_gp(w, f);
		return MON_EXIT;
	case 6:
		/* ud2 at CPL 1: an exit site of translated code (docs/bt.md).
		 * The module's handler does in the world what needs no host
		 * service (chains, indirect-branch misses, RDTSC, in-module
		 * irqchip ports), so such a site costs a trap, not a switch. */
		if ((f->cs & 3) == 1) {
			int r = bt_trap(w, f);

			if (r >= 0)
				return r;
		}
		w->exit_reason = MON_X_FAULT;
		return MON_EXIT;
	case 18:	/* #MC: the host's business */
		w->exit_reason = MON_X_HOST_IRQ;
		return MON_EXIT;
	default:
		if (vec >= 32) {
			w->exit_reason = MON_X_HOST_IRQ;
			return MON_EXIT;
		}
		w->exit_reason = MON_X_FAULT;
		return MON_EXIT;
	}
}

#endif
