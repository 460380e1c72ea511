/* userland/hybrid-sys.c — the hybrid engine for whole guests (issue 6):
 * `hvmm run --engine hybrid --kernel K`. The vCPU lives in hvmm.ko in system
 * mode (ABI 5): the module interprets the guest kernel and runs guest user
 * code natively over the pinned RAM of this process's board, and exits here for port I/O, MMIO, interrupt acknowledge,
 * HLT and the end of each instruction budget; this loop completes them with
 * the board's devices, exactly as the interp engine's callbacks would.
 * See docs/hybrid.md for the exit protocol. With --irqchip=module (the
 * default) the PIC, PIT, port 0x61 and 0x80 run inside the module
 * (docs/kirq.md): this loop passes the other devices' ISA lines and its
 * own next deadline on, and takes the chip back if the guest reaches for
 * the LAPIC or I/O APIC. */
#include "userland/engine.h"
#include "userland/hybrid-dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

/* Instructions per run, as the interp engine's batch: timers fire close to
 * their deadline. */
#define HYBRID_BUDGET 20000

/* DMA ranges (page-aligned, merged) reported by the board since the last
 * run; handed to the module before the next one. */
#define DMA_RANGES 8

struct hybrid {
	struct board *b;
	int dev, vm, vcpu;
	struct hvmm_sys_run run;
	uint64_t last_poll;		/* icount at the last board__poll */
	uint64_t halts, halt_wakeups, stops, eintr;
	uint64_t sys_runs;		/* SYS_RUN ioctls that returned an exit */
	struct hvmm_phys_range dma[DMA_RANGES];
	unsigned ndma;
	uint64_t dma_reports, dma_syncs;
	bool no_native;			/* --no-native */
	bool bt;			/* kernel code translated (not --no-bt) */
	/* in-kernel irqchip: on while b->kirq; kst is its last state read */
	struct hvmm_kirq_state kst;
	bool kirq_used;			/* it was on at some point */
	uint64_t kirq_wake_sent;	/* wake_ns last handed to the module */
	uint64_t kirq_takebacks;
	/* where the time goes: inside SYS_RUN (interpreting, plus the ioctl
	 * round trip) and in this process after each exit, by reason */
	uint64_t ns_module, ns_user[HVMM_SX_REASONS];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void hybrid_set_intr(void *cpu, bool level)
{
	(void)cpu, (void)level;	/* the level is read from b->intr_level per run */
}

/* Hands the DMA ranges collected since the last run to the module, which
 * drops the decoded code of those pages (HVMM_VCPU_INVALIDATE_PHYS). */
static int dma_sync(struct hybrid *h)
{
	for (unsigned i = 0; i < h->ndma; i++) {
		if (ioctl(h->vcpu, HVMM_VCPU_INVALIDATE_PHYS, &h->dma[i]) < 0)
			return -errno;
		h->dma_syncs++;
	}
	h->ndma = 0;
	return 0;
}

/* The board's DMA hook (board__connect_dma): a device model is about to
 * access guest RAM [gpa, gpa+len) through gmem. The vCPU is not running
 * (device models run between SYS_RUN calls), so the range only has to reach
 * the module before the next run; ranges are widened to pages and merged. */
static void range_cover(struct hvmm_phys_range *r, uint64_t start, uint64_t end)
{
	uint64_t e = end > r->gpa + r->len ? end : r->gpa + r->len;

	if (start < r->gpa)
		r->gpa = start;
	r->len = e - r->gpa;
}

static void hybrid_dma_written(void *cpu, uint64_t gpa, uint64_t len)
{
	struct hybrid *h = cpu;
	uint64_t start = gpa & ~0xfffull, end = (gpa + len + 0xfff) & ~0xfffull;

	h->dma_reports++;
	if (!len || end <= start)
		return;
	for (unsigned i = 0; i < h->ndma; i++) {
		struct hvmm_phys_range *r = &h->dma[i];
		if (start <= r->gpa + r->len && end >= r->gpa) {
			range_cover(r, start, end);
			return;
		}
	}
	if (h->ndma == DMA_RANGES)	/* full: widen the last one (a superset is safe) */
		range_cover(&h->dma[DMA_RANGES - 1], start, end);
	else
		h->dma[h->ndma++] = (struct hvmm_phys_range){ .gpa = start, .len = end - start };
}

static void flat_seg(struct hvmm_seg *s, uint16_t sel, uint16_t attr)
{
	s->sel = sel;
	s->attr = attr;
	s->base = 0;
	s->limit = 0xffffffffu;
}

/* The loader's entry state (Linux boot.rst "32-bit boot protocol",
 * Multiboot §3.2): flat 32-bit protected mode, paging and interrupts off;
 * the rest as after RESET (SDM Vol. 3 Table 9-1). */
static void entry_state(struct hvmm_sregs *s, const struct boot_entry *e,
			const struct board *b)
{
	memset(s, 0, sizeof(*s));
	s->gpr[0] = e->eax;	/* EAX */
	s->gpr[3] = e->ebx;	/* EBX */
	s->gpr[4] = e->esp;	/* ESP */
	s->gpr[6] = e->esi;	/* ESI */
	s->eip = e->eip;
	s->eflags = 0x2;
	for (int i = 0; i < 6; i++)
		flat_seg(&s->seg[i], e->ds, 0xc093);
	flat_seg(&s->seg[1], e->cs, 0xc09b);
	s->ldtr = (struct hvmm_seg){ .attr = 0x82, .limit = 0xffff };
	s->tr = (struct hvmm_seg){ .attr = 0x8b, .limit = 0xffff };
	s->gdt_base = e->gdt_base;
	s->gdt_limit = e->gdt_limit;
	s->idt_limit = 0x3ff;
	s->cr0 = 0x11;		/* PE, ET */
	s->dr[6] = 0xffff0ff0;
	s->dr[7] = 0x400;
	s->pat = 0x0007040600070406ull;
	s->flags = b->a20 ? HVMM_SF_A20 : 0;
	s->mmio_start = 0xa0000;	/* userland/board.h: VGA window */
	s->mmio_end = 0xc0000;
	s->rom_start = 0xc0000;		/* BIOS area, read-only */
	s->rom_end = 0x100000;
	s->clock_start_ns = b->clock_start_ns;
}

/* Turns the in-kernel irqchip on with the board's PIC and PIT as they are
 * (power-on, plus the ELCR the board programmed). 0 or -errno. */
static int kirq_give(struct hybrid *h)
{
	struct board *b = h->b;
	struct hvmm_kirq_state *s = &h->kst;

	memset(s, 0, sizeof(*s));
	s->flags = HVMM_KIRQ_ON;
	s->pic_size = sizeof(b->pic);
	s->pit_size = sizeof(b->pit);
	s->clock_start_ns = b->clock_start_ns;
	memcpy(s->pic, &b->pic, sizeof(b->pic));
	memcpy(s->pit, &b->pit, sizeof(b->pit));
	if (ioctl(h->vcpu, HVMM_VCPU_KIRQ_SET, s) < 0)
		return -errno;
	board__kirq_give(b);
	h->kirq_used = true;
	h->kirq_wake_sent = ~0ull;
	return 0;
}

/* Hands the ISA lines that moved, and this process's next deadline, to the
 * module (HVMM_VCPU_KIRQ_LINES). user_next: board ns, VCLOCK_NEVER none. */
static int kirq_sync(struct hybrid *h, uint64_t user_next)
{
	struct board *b = h->b;
	uint64_t wake = user_next == VCLOCK_NEVER ? ~0ull : user_next + b->clock_start_ns;
	struct hvmm_kirq_lines l = { .levels = b->kirq_levels, .edges = b->kirq_edges,
				     .wake_ns = wake };

	if (!b->kirq_dirty && !b->kirq_edges && wake == h->kirq_wake_sent)
		return 0;
	if (ioctl(h->vcpu, HVMM_VCPU_KIRQ_LINES, &l) < 0)
		return -errno;
	b->kirq_edges = 0;
	b->kirq_dirty = false;
	h->kirq_wake_sent = wake;
	return 0;
}

/* Reads the chip's state and counters into h->kst. */
static int kirq_read(struct hybrid *h)
{
	return ioctl(h->vcpu, HVMM_VCPU_KIRQ_GET, &h->kst) < 0 ? -errno : 0;
}

/* The PIC and PIT of a state image read from the module: 0, or -EPROTO
 * when the module was built with other device structs. */
static int kirq_unpack(const struct hvmm_kirq_state *s, struct pic *pic, struct pit *pit)
{
	if (s->pic_size != sizeof(*pic) || s->pit_size != sizeof(*pit))
		return -EPROTO;
	memcpy(pic, s->pic, sizeof(*pic));
	memcpy(pit, s->pit, sizeof(*pit));
	return 0;
}

/* The guest reached for the LAPIC or I/O APIC: the PIC and PIT come back to
 * the board, with the module's state, and stay here (docs/kirq.md). */
static int kirq_take(struct hybrid *h)
{
	struct hvmm_kirq_state off = { .flags = 0 };
	struct pic pic;
	struct pit pit;
	int rc;

	if ((rc = kirq_sync(h, VCLOCK_NEVER)) || (rc = kirq_read(h)) ||
	    (rc = kirq_unpack(&h->kst, &pic, &pit)))
		return rc;
	if (ioctl(h->vcpu, HVMM_VCPU_KIRQ_SET, &off) < 0)
		return -errno;
	board__kirq_take(h->b, &pic, &pit);
	h->kirq_takebacks++;
	return 0;
}

static void hybrid_close(struct hybrid *h)
{
	if (h->vcpu >= 0)
		close(h->vcpu);
	if (h->vm >= 0)
		close(h->vm);
	if (h->dev >= 0)
		close(h->dev);
}

static int hybrid_create(struct board *b, const struct boot_entry *e,
			 const struct run_opts *opts, void **state, char *err, size_t n)
{
	struct hybrid *h = calloc(1, sizeof(*h));
	struct hvmm_ram ram = { .uaddr = (uintptr_t)b->ram.host, .size = b->ram.size };
	struct hvmm_sregs s;

	if (!h) {
		snprintf(err, n, "out of memory");
		return -ENOMEM;
	}
	h->b = b;
	h->no_native = opts && opts->no_native;
	/* guest kernel code runs translated unless --no-bt (docs/bt.md) */
	h->bt = opts && !opts->no_bt;
	h->vm = h->vcpu = -1;
	h->dev = hybrid__open_dev();
	if (h->dev < 0) {
		snprintf(err, n, "cannot use %s", HVMM_DEVICE);
		free(h);
		return -ENODEV;
	}
	h->vm = ioctl(h->dev, HVMM_IOC_CREATE_VM);
	if (h->vm < 0 || ioctl(h->vm, HVMM_VM_SET_RAM, &ram) < 0 ||
	    (h->vcpu = ioctl(h->vm, HVMM_VM_CREATE_VCPU)) < 0) {
		int rc = -errno;
		snprintf(err, n, "creating the VM (%llu MiB of RAM): %s",
			 (unsigned long long)(b->ram.size >> 20), strerror(errno));
		hybrid_close(h);
		free(h);
		return rc;
	}
	entry_state(&s, e, b);
	if (ioctl(h->vcpu, HVMM_VCPU_SET_SYSTEM, &s) < 0) {
		int rc = -errno;
		snprintf(err, n, "HVMM_VCPU_SET_SYSTEM: %s", strerror(errno));
		hybrid_close(h);
		free(h);
		return rc;
	}
	board__connect_cpu(b, hybrid_set_intr, h);
	board__connect_dma(b, hybrid_dma_written);
	if (opts && opts->irqchip && !strcmp(opts->irqchip, "module")) {
		int rc = kirq_give(h);
		if (rc) {
			snprintf(err, n, "--irqchip module: HVMM_VCPU_KIRQ_SET: %s (try --irqchip user)",
				 strerror(-rc));
			board__connect_dma(b, NULL);
			b->set_intr = NULL;
			hybrid_close(h);
			free(h);
			return rc;
		}
	}
	*state = h;
	return 0;
}

/* The in-kernel chip's state (h->kst) in the register dump. */
static void kirq_dump(struct hybrid *h, FILE *f)
{
	struct pic pic;
	struct pit pit;

	if (kirq_unpack(&h->kst, &pic, &pit))
		return;
	fprintf(f, "in-kernel irqchip: INTR %d, ISA lines %04x\n", pic.intr, h->kst.levels);
	for (int i = 0; i < 2; i++) {
		const struct pic_chip *c = &pic.chip[i];
		fprintf(f, "  pic%d irr=%02x imr=%02x isr=%02x elcr=%02x base=%02x init=%u aeoi=%d\n",
			i, c->irr, c->imr, c->isr, c->elcr, c->irq_base, c->init_state, c->auto_eoi);
	}
	for (int i = 0; i < 3; i++) {
		const struct pit_channel *c = &pit.ch[i];
		fprintf(f, "  pit%d mode=%u count=%u gate=%d waiting=%d load_ns=%llu\n", i,
			c->mode, c->count, c->gate, c->waiting, (unsigned long long)c->load_ns);
	}
	fprintf(f, "  pit backlog=%u edges=%llu pulses=%llu lost=%llu port61=%02x\n",
		pit.backlog, (unsigned long long)pit.edges, (unsigned long long)pit.irq_pulses,
		(unsigned long long)pit.lost_edges, pit.port61);
}

static void dump(struct hybrid *h, const char *why)
{
	static char buf[HVMM_DUMP_SIZE];

	if (ioctl(h->vcpu, HVMM_VCPU_GET_DUMP, buf) < 0)
		snprintf(buf, sizeof(buf), "(no dump: %s)", strerror(errno));
	buf[sizeof(buf) - 1] = 0;
	fprintf(stderr, "\r\nhvmm: %s\n%s\n", why, buf);
	if (h->b->kirq && kirq_read(h) == 0)
		kirq_dump(h, stderr);
}

/* HLT with IF=1: sleep until a device raises the INTR line (or a stop);
 * SIGUSR1 meanwhile prints a dump, as in the interp engine. */
static void wait_for_interrupt(struct hybrid *h)
{
	h->halts++;
	while (!board__halt(h->b)) {
		h->b->dump_req = 0;
		dump(h, "register dump (SIGUSR1, halted: waiting for an interrupt)");
	}
	h->halt_wakeups++;
}

/* Completes a port or MMIO access the module reported; a read's value goes
 * back with the next run. */
static void complete_access(struct hybrid *h, bool pio)
{
	struct hvmm_sys_run *r = &h->run;
	uint64_t v = r->is_write ? r->wdata : ~0ull;

	/* the rule of docs/kirq.md: the LAPIC/I/O APIC in use means the PIC
	 * may no longer be the CPU's only interrupt source */
	if (!pio && h->b->kirq && ((r->addr & ~0xfffull) == LAPIC_BASE ||
				   (r->addr & ~0xfffull) == IOAPIC_BASE)) {
		int rc = kirq_take(h);
		if (rc) {
			fprintf(stderr, "hvmm: taking the irqchip back: %s\n", strerror(-rc));
			board__request_stop(h->b, VM_ERROR);
		}
	}
	if (pio)
		board__pio(h->b, (uint16_t)r->addr, &v, r->len, r->is_write);
	else
		board__mmio(h->b, r->addr, &v, r->len, r->is_write);
	if (!r->is_write) {
		r->flags |= HVMM_SRUN_DATA;
		r->data = v;
	}
}

static enum vm_stop hybrid_run(void *state)
{
	struct hybrid *h = state;
	struct board *b = h->b;
	struct hvmm_sys_run *r = &h->run;

	memset(r, 0, sizeof(*r));
	uint64_t t_exit = 0, user_next = VCLOCK_NEVER;
	unsigned last = 0;
	for (;;) {
		if (b->stop != VM_RUNNING)
			return b->stop;
		if (b->dump_req) {		/* SIGUSR1: registers, keep going */
			b->dump_req = 0;
			dump(h, "register dump (SIGUSR1)");
		}
		r->flags = (r->flags & ~(HVMM_SRUN_IRQ | HVMM_SRUN_NO_NATIVE | HVMM_SRUN_A20_OFF |
					 HVMM_SRUN_BT)) |
			   (b->a20 ? 0 : HVMM_SRUN_A20_OFF) |
			   (b->intr_level ? HVMM_SRUN_IRQ : 0) |
			   (h->no_native ? HVMM_SRUN_NO_NATIVE : 0) |
			   (h->bt ? HVMM_SRUN_BT : 0);
		r->budget = HYBRID_BUDGET;
		if (b->kirq && kirq_sync(h, user_next) < 0) {
			fprintf(stderr, "hvmm: HVMM_VCPU_KIRQ_LINES: %s\n", strerror(errno));
			return VM_ERROR;
		}
		if (h->ndma && dma_sync(h) < 0) {
			fprintf(stderr, "hvmm: HVMM_VCPU_INVALIDATE_PHYS: %s\n", strerror(errno));
			return VM_ERROR;
		}
		uint64_t t_enter = mono_ns();
		if (t_exit)
			h->ns_user[last] += t_enter - t_exit;
		t_exit = 0;
		if (ioctl(h->vcpu, HVMM_VCPU_SYS_RUN, r) < 0) {
			if (errno == EINTR) {	/* a signal: the handler set b->stop */
				h->eintr++;
				continue;
			}
			fprintf(stderr, "hvmm: HVMM_VCPU_SYS_RUN: %s\n", strerror(errno));
			return VM_ERROR;
		}
		t_exit = mono_ns();
		h->ns_module += t_exit - t_enter;
		h->sys_runs++;
		last = r->reason < HVMM_SX_REASONS ? r->reason : 0;
		r->flags = 0;
		/* BUDGET also ends native stays (host tick, time slice), during
		 * which no instruction is counted */
		if (r->reason == HVMM_SX_BUDGET ||
		    r->icount - h->last_poll >= HYBRID_BUDGET) {
			h->last_poll = r->icount;
			user_next = board__poll(b);
		}
		switch (r->reason) {
		case HVMM_SX_BUDGET:
			break;
		case HVMM_SX_IO:
		case HVMM_SX_MMIO:
			complete_access(h, r->reason == HVMM_SX_IO);
			break;
		case HVMM_SX_INTR_WINDOW: {
			int vec = board__intr_ack(b);
			if (vec >= 0) {
				r->flags |= HVMM_SRUN_INJECT;
				r->inject = (uint32_t)vec;
			}
			break;
		}
		case HVMM_SX_HLT:
			if (b->kirq)	/* the chip's PIT deadline, board ns */
				b->kirq_deadline = r->addr == ~0ull ? VCLOCK_NEVER :
					r->addr > b->clock_start_ns ? r->addr - b->clock_start_ns : 0;
			wait_for_interrupt(h);
			break;
		case HVMM_SX_HLT_DEAD:
			dump(h, "guest halted with interrupts disabled (cli; hlt)");
			return VM_ERROR;
		case HVMM_SX_SHUTDOWN:
			dump(h, "triple fault: CPU shutdown");
			return VM_TRIPLE_FAULT;
		case HVMM_SX_ERROR:
		default:
			dump(h, "interpreter error in the monitor");
			return VM_ERROR;
		}
	}
}

/* The in-kernel chip's counters (kirq.*): live while it is on, else as
 * they were when the board took it back. */
static void kirq_stats(struct hybrid *h, FILE *f)
{
	static const uint16_t ports[HVMM_KIRQ_NPORTS] = HVMM_KIRQ_PORTS;
	struct pic pic;
	struct pit pit;

	fprintf(f, "kirq.on %d\nkirq.takebacks %llu\n", h->b->kirq,
		(unsigned long long)h->kirq_takebacks);
	if (!h->kirq_used || (h->b->kirq && kirq_read(h)) ||
	    h->kst.pic_size != sizeof(pic) || h->kst.pit_size != sizeof(pit))
		return;
	memcpy(&pic, h->kst.pic, sizeof(pic));
	memcpy(&pit, h->kst.pit, sizeof(pit));
	fprintf(f, "kirq.acks %llu\nkirq.line_updates %llu\nkirq.timer_kicks %llu\n"
		"kirq.pic.spurious %llu\nkirq.pit.edges %llu\nkirq.pit.irq_pulses %llu\n"
		"kirq.pit.lost_edges %llu\nkirq.pit.backlog_max %u\n",
		(unsigned long long)h->kst.acks, (unsigned long long)h->kst.line_updates,
		(unsigned long long)h->kst.timer_kicks, (unsigned long long)pic.spurious,
		(unsigned long long)pit.edges, (unsigned long long)pit.irq_pulses,
		(unsigned long long)pit.lost_edges, pit.backlog_max);
	for (int i = 0; i < HVMM_KIRQ_NPORTS; i++)
		if (h->kst.pio[i])
			fprintf(f, "kirq.pio.0x%04x %llu\n", ports[i],
				(unsigned long long)h->kst.pio[i]);
}

/* The translated-code counters (ABI 7, docs/bt.md). */
static void bt_stats(FILE *f, const struct hvmm_sys_stats *st)
{
	const struct { const char *name; __u64 v; } c[] = {
		{ "stays", st->bt_stays }, { "entries", st->bt_entries },
		{ "ns", st->bt_ns }, { "exit_sites", st->bt_exit_sites },
		{ "chains", st->bt_chains }, { "faults", st->bt_faults },
		{ "host_irqs", st->bt_host_irqs }, { "steps", st->bt_steps },
		{ "blocks", st->bt_blocks }, { "insns", st->bt_insns },
		{ "resets", st->bt_resets }, { "window_moves", st->bt_window_moves },
		{ "refused", st->bt_refused },
		{ "indirect_misses", st->bt_indirect_misses },
		{ "fast_exits", st->bt_fast_exits },
		{ "world_traps", st->bt_world_traps }, { "yields", st->bt_yields },
		{ "syscalls", st->bt_syscalls }, { "user_exits", st->bt_user_exits },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		fprintf(f, "bt.%s %llu\n", c[i].name, (unsigned long long)c[i].v);
}

static void hybrid_stats(void *state, FILE *f)
{
	static const char *const names[HVMM_SX_REASONS] = {
		[HVMM_SX_BUDGET] = "budget", [HVMM_SX_IO] = "io", [HVMM_SX_MMIO] = "mmio",
		[HVMM_SX_INTR_WINDOW] = "intr_window", [HVMM_SX_HLT] = "hlt",
		[HVMM_SX_HLT_DEAD] = "hlt_dead", [HVMM_SX_SHUTDOWN] = "shutdown",
		[HVMM_SX_ERROR] = "error",
	};
	struct hybrid *h = state;
	struct hvmm_sys_stats st;

	if (ioctl(h->vcpu, HVMM_VCPU_SYS_STATS, &st) < 0) {
		fprintf(f, "hybrid.stats_error %d\n", errno);
		return;
	}
	fprintf(f, "cpu.instructions %llu\ncpu.interrupts %llu\ncpu.decodes %llu\n"
		"cpu.tlb_flushes %llu\n",
		(unsigned long long)st.instructions, (unsigned long long)st.interrupts,
		(unsigned long long)st.decodes, (unsigned long long)st.tlb_flushes);
	for (int i = 1; i < HVMM_SX_REASONS; i++)
		fprintf(f, "hybrid.exit.%s %llu\n", names[i], (unsigned long long)st.exits[i]);
	fprintf(f, "hybrid.sys_runs %llu\n", (unsigned long long)h->sys_runs);
	fprintf(f, "hybrid.run_calls %llu\nhybrid.bus_retries %llu\n"
		"engine.halts %llu\nengine.halt_wakeups %llu\nengine.eintr %llu\n"
		"hybrid.dma_reports %llu\nhybrid.dma_syncs %llu\n",
		(unsigned long long)st.run_calls, (unsigned long long)st.retries,
		(unsigned long long)h->halts, (unsigned long long)h->halt_wakeups,
		(unsigned long long)h->eintr, (unsigned long long)h->dma_reports,
		(unsigned long long)h->dma_syncs);
	fprintf(f, "native.entries %llu\nnative.stays %llu\nnative.ns %llu\n"
		"interp.ns %llu\nnative.hidden_faults %llu\nnative.reflected_pf %llu\n"
		"native.shadow_flushes %llu\nnative.shadow_local_drops %llu\n"
		"native.shadow_kept %llu\nnative.code_invalidations %llu\n",
		(unsigned long long)st.native_entries, (unsigned long long)st.native_stays,
		(unsigned long long)st.native_ns, (unsigned long long)st.interp_ns,
		(unsigned long long)st.hidden_faults, (unsigned long long)st.reflected_pf,
		(unsigned long long)st.shadow_flushes, (unsigned long long)st.shadow_local_drops,
		(unsigned long long)st.shadow_kept,
		(unsigned long long)st.code_invalidations);
	for (int i = 0; i < HVMM_NX_REASONS; i++) {
		if (!st.native_exits[i])
			continue;
		if (i == HVMM_NX_IRQ)
			fprintf(f, "native.exit.host_irq");
		else if (i == HVMM_NX_NMI)
			fprintf(f, "native.exit.host_nmi");
		else if (i == HVMM_NX_SLICE)
			fprintf(f, "native.exit.other");
		else
			fprintf(f, "native.exit.vector%d", i);
		fprintf(f, " %llu\n", (unsigned long long)st.native_exits[i]);
	}
	fprintf(f, "native.kirq_budgets_kept %llu\nnative.kirq_irqs_kept %llu\n",
		(unsigned long long)st.kirq_budgets_kept, (unsigned long long)st.kirq_irqs_kept);
	kirq_stats(h, f);
	bt_stats(f, &st);
	fprintf(f, "hybrid.ns.module %llu\n", (unsigned long long)h->ns_module);
	for (int i = 1; i < HVMM_SX_REASONS; i++)
		fprintf(f, "hybrid.ns.user.%s %llu\n", names[i], (unsigned long long)h->ns_user[i]);
}

static void hybrid_destroy(void *state)
{
	struct hybrid *h = state;

	if (!h)
		return;
	h->b->set_intr = NULL;
	board__connect_dma(h->b, NULL);
	hybrid_close(h);
	free(h);
}

const struct engine_ops engine_hybrid = {
	.name = "hybrid",
	.create = hybrid_create,
	.run = hybrid_run,
	.stats = hybrid_stats,
	.destroy = hybrid_destroy,
};
