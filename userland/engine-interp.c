/* userland/engine-interp.c — the interp engine: the IA-32 interpreter
 * (monitor/) on the board. The run loop executes the CPU in batches of
 * instructions; between batches it runs device timers that are due and
 * pumps console input; a HLT sleeps until the next timer deadline or input.
 * Interrupts reach the CPU as a level (board -> cpu__set_irq_pending) and
 * are acknowledged through the board at the instruction boundary where the
 * CPU takes them. */
#include "userland/engine.h"
#include "monitor/monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Instructions per batch: about 0.2-1 ms of guest time at interpreter
 * speeds, so timers fire close to their deadline. */
#define INTERP_BUDGET 20000

struct interp {
	struct board *b;
	struct cpu *cpu;
	uint64_t batches, halts, halt_wakeups, stops;
	uint64_t audit_seen;	/* cpu->audit_bad already printed */
};

static uint8_t *op_ram_page(void *opaque, uint64_t gpa, bool *writable)
{
	struct interp *in = opaque;
	return board__ram_page(in->b, gpa, writable);
}

static int op_mmio(void *opaque, uint64_t gpa, void *data, unsigned len, bool w)
{
	struct interp *in = opaque;
	return board__mmio(in->b, gpa, data, len, w) ? CPU_BUS_STOP : 0;
}

/* A port write that moved the A20 gate (i8042 output port, port 0x92) stops
 * the CPU after the instruction; the run loop then applies it (a20_sync). */
static int op_pio(void *opaque, uint16_t port, void *data, unsigned len, bool w)
{
	struct interp *in = opaque;
	if (board__pio(in->b, port, data, len, w))
		return CPU_BUS_STOP;
	return in->b->a20 != in->cpu->a20 ? CPU_BUS_STOP : 0;
}

/* The A20 gate as the board last set it (monitor/cpu-mem.c applies the
 * mask after paging, to page-table reads, and with paging off). */
static void a20_sync(struct interp *in)
{
	cpu__set_a20(in->cpu, in->b->a20);
}

static int op_intr_ack(void *opaque)
{
	struct interp *in = opaque;
	return board__intr_ack(in->b);
}

/* The TSC runs at 1 GHz of virtual time, so Linux's calibration against the
 * PIT finds a stable clock whatever the interpreter's speed. */
static uint64_t op_read_tsc(void *opaque)
{
	struct interp *in = opaque;
	return board__now(in->b);
}

static const struct cpu_bus_ops interp_bus_ops = {
	.ram_page = op_ram_page,
	.mmio = op_mmio,
	.pio = op_pio,
	.intr_ack = op_intr_ack,
	.read_tsc = op_read_tsc,
};

/* DMA into guest RAM: drop the interpreter's decoded code and TLB entries
 * for those pages (monitor.h: cpu__invalidate_phys). */
static void interp_dma_written(void *cpu, uint64_t gpa, uint64_t len)
{
	cpu__invalidate_phys(cpu, gpa, len);
}

static void set_intr(void *cpu, bool level)
{
	cpu__set_irq_pending(cpu, level);
}

static int interp_create(struct board *b, const struct boot_entry *e,
			 const struct run_opts *opts, void **state, char *err, size_t n)
{
	(void)opts;
	struct interp *in = calloc(1, sizeof(*in));
	struct cpu *cpu = aligned_alloc(64, (CPU_ALLOC_SIZE + 63) & ~(size_t)63);
	if (!in || !cpu) {
		free(in);
		free(cpu);
		snprintf(err, n, "out of memory for the CPU");
		return -ENOMEM;
	}
	memset(cpu, 0, CPU_ALLOC_SIZE);
	in->b = b;
	in->cpu = cpu;
	int rc = cpu__init(cpu, &interp_bus_ops, in);
	if (rc) {
		snprintf(err, n, "cpu__init failed (%d)", rc);
		free(cpu);
		free(in);
		return rc < 0 ? rc : -EINVAL;
	}
	cpu__reset(cpu);
	{
		const char *a = getenv("HVMM_INTERP_AUDIT");
		if (a && atoi(a) > 0)
			cpu->audit_every = cpu->audit_left = (uint32_t)atoi(a);
	}
	/* The loader's entry state: flat 32-bit protected mode, paging and
	 * interrupts off, GDT in guest memory (Linux boot.rst "32-bit boot
	 * protocol"; Multiboot spec §3.2). */
	cpu__setup_flat32(cpu, e->cs, e->ds, e->eip);
	cpu->gdtr.base = e->gdt_base;
	cpu->gdtr.limit = e->gdt_limit;
	memset(cpu->r, 0, sizeof(cpu->r));
	cpu->r[R_EAX] = e->eax;
	cpu->r[R_EBX] = e->ebx;
	cpu->r[R_ESI] = e->esi;
	cpu->r[R_ESP] = e->esp;
	board__connect_cpu(b, set_intr, cpu);
	board__connect_dma(b, interp_dma_written);
	a20_sync(in);
	*state = in;
	return 0;
}

static void dump(struct interp *in, const char *why)
{
	static char buf[16384];
	cpu__dump(in->cpu, buf, sizeof(buf));
	fprintf(stderr, "\r\nhvmm: %s\n%s\n", why, buf);
}

/* HLT with IF=1: sleep until a device deadline or console input raises an
 * interrupt (or the VM is asked to stop); SIGUSR1 meanwhile prints a dump. */
static void wait_for_interrupt(struct interp *in)
{
	in->halts++;
	while (!board__halt(in->b)) {
		in->b->dump_req = 0;
		dump(in, "register dump (SIGUSR1, halted: waiting for an interrupt)");
	}
	in->halt_wakeups++;
}

/* HVMM_INTERP_AUDIT=N (debug): the interpreter's consistency checks
 * (docs/interpreter.md "Audit"); mismatches found in a batch are printed. */
static void audit_print(struct interp *in)
{
	const struct cpu *c = in->cpu;
	static const char *const kinds[] = { "?", "tlb-frame", "tlb-write",
					     "tlb-user-unmapped", "block" };
	fprintf(stderr, "hvmm: audit: %llu new mismatch(es), last %s lin=%08x "
		"cached=%08x now=%08x cr3=%08x eip=%08x icount=%llu\n",
		(unsigned long long)(c->audit_bad - in->audit_seen),
		kinds[c->audit_last.kind < 5 ? c->audit_last.kind : 0],
		c->audit_last.lin, c->audit_last.gpa, c->audit_last.now,
		c->audit_last.cr3, c->audit_last.eip,
		(unsigned long long)c->icount);
	in->audit_seen = c->audit_bad;
}

static enum vm_stop interp_run(void *state)
{
	struct interp *in = state;
	struct board *b = in->b;
	for (;;) {
		if (b->stop != VM_RUNNING)
			return b->stop;
		if (b->dump_req) {		/* SIGUSR1: registers, keep going */
			b->dump_req = 0;
			dump(in, "register dump (SIGUSR1)");
		}
		in->batches++;
		enum cpu_exit e = cpu__run(in->cpu, INTERP_BUDGET);
		a20_sync(in);
		if (in->cpu->audit_bad != in->audit_seen)
			audit_print(in);
		switch (e) {
		case CPU_EXIT_BUDGET:
			board__poll(b);
			break;
		case CPU_EXIT_HALT:
			wait_for_interrupt(in);
			break;
		case CPU_EXIT_HALT_DEAD:
			/* cli; hlt: nothing but NMI or reset wakes the CPU, and this
			 * board has neither source. QEMU would hang here; we stop. */
			dump(in, "guest halted with interrupts disabled (cli; hlt)");
			return VM_ERROR;
		case CPU_EXIT_SHUTDOWN:
			dump(in, "triple fault: CPU shutdown");
			return VM_TRIPLE_FAULT;
		case CPU_EXIT_STOP:
			in->stops++;
			if (b->stop != VM_RUNNING)
				return b->stop;
			break;
		case CPU_EXIT_ERROR:
		default:
			dump(in, in->cpu->error ? in->cpu->error : "interpreter error");
			return VM_ERROR;
		}
	}
}

static void interp_stats(void *state, FILE *f)
{
	struct interp *in = state;
	const struct cpu *c = in->cpu;
	fprintf(f, "cpu.instructions %llu\ncpu.interrupts %llu\ncpu.unimplemented_ud %llu\n"
		"cpu.tlb_flushes %llu\ncpu.decodes %llu\n",
		(unsigned long long)c->icount, (unsigned long long)c->nirq,
		(unsigned long long)c->nud_unimpl, (unsigned long long)c->ntlb_flush,
		(unsigned long long)c->ndecode);
	for (int v = 0; v < 32; v++)
		if (c->nexc[v])
			fprintf(f, "cpu.exception.%d %llu\n", v, (unsigned long long)c->nexc[v]);
	fprintf(f, "engine.batches %llu\nengine.halts %llu\nengine.halt_wakeups %llu\n"
		"engine.bus_stops %llu\n",
		(unsigned long long)in->batches, (unsigned long long)in->halts,
		(unsigned long long)in->halt_wakeups, (unsigned long long)in->stops);
}

static void interp_destroy(void *state)
{
	struct interp *in = state;
	if (!in)
		return;
	in->b->set_intr = NULL;
	free(in->cpu);
	free(in);
}

const struct engine_ops engine_interp = {
	.name = "interp",
	.create = interp_create,
	.run = interp_run,
	.stats = interp_stats,
	.destroy = interp_destroy,
};
