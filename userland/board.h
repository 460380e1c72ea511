/* userland/board.h — the PC board: guest RAM, the device placement table,
 * interrupt routing, the console backend and the virtual clock. Engines see
 * the board through board__pio/board__mmio/board__ram_page/board__intr_ack
 * and the poll/wait helpers; devices see only their bus offsets.
 *
 * Guest-physical map:
 *   0x00000000-0x0009ffff  RAM (base memory; EBDA at 0x9fc00 reserved)
 *   0x000a0000-0x000bffff  VGA window: unclaimed MMIO (reads all-ones)
 *   0x000c0000-0x000fffff  BIOS area: RAM-backed, read-only to the guest,
 *                          ACPI tables + RSDP at 0xe0000
 *   0x00100000-mem         RAM
 *   0xe0000000-0xfebfffff  PCI memory BARs (assigned by the board)
 *   0xfec00000             I/O APIC          0xfee00000  local APIC
 *
 * Interrupts: ISA IRQ n -> PIC input n and I/O APIC pin n (IRQ 0 -> pin 2);
 * PIC INTR -> LAPIC LINT0 (ExtINT virtual wire); CPU INTR = LAPIC has_intr.
 * In-kernel irqchip (docs/kirq.md): while b->kirq is set, the engine runs
 * the PIC pair, the PIT, port 0x61 and port 0x80 (b->pic and b->pit are
 * stale until board__kirq_take); ISA lines of the other devices collect in
 * kirq_levels/kirq_edges for the engine to pass on.
 * PCI: virtio-blk disk i at 00:(3+i).0, INTA# -> IRQ 11 (even i) or 10,
 * level-triggered (ELCR). ACPI: tables at 0xe0000, PM block at 0x600, SCI 9.
 */
#ifndef HVMM_BOARD_H
#define HVMM_BOARD_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devices.h"
#include "userland/cli.h"
#include "userland/loader.h"

/* Why a VM stopped, as the board or the engine saw it. */
enum vm_stop {
	VM_RUNNING = 0,
	VM_POWEROFF,		/* ACPI S5 */
	VM_REBOOT,		/* i8042 pulse reset, port 0x92, port 0xcf9, ACPI reset */
	VM_DEBUG_EXIT,		/* guest wrote V to port 0xf4: status (V<<1)|1 */
	VM_TRIPLE_FAULT,	/* CPU shutdown */
	VM_ERROR,		/* engine or device failure */
	VM_QUIT,		/* user: Ctrl-A x, SIGINT/SIGTERM, console EOF rule */
};

#define BOARD_ESCAPE 0x01	/* Ctrl-A, then x quits (as QEMU's -nographic) */

struct board {
	struct guest_ram ram;
	int ram_fd;			/* memfd backing ram (the module pins it) */
	struct e820_map e820;
	struct bus bus;
	struct vclock clock;
	uint64_t clock_start_ns;

	/* devices */
	struct pic pic;
	struct irq_line pic_intr;	/* PIC INTR output -> CPU */
	struct irq_line isa_irq[16];	/* ISA IRQ n -> PIC (and I/O APIC) */
	struct pit pit;
	struct rtc rtc;
	struct i8042 kbc;
	struct debug_exit dbgexit;
	struct pci_host pci;
	struct lapic lapic;
	struct ioapic ioapic;
	struct acpi_pm acpi;
	struct guest_mem gmem;		/* RAM for DMA and table builders */
	struct virtio_blk *disks;	/* [ndisks], from --disk */
	unsigned ndisks;
	bool disks_open;
	const struct run_opts *opts;
	bool a20;			/* as the i8042/port 0x92 last set it */
	struct serial com1;
	struct chardev con;
	bool con_stdio;			/* Ctrl-A escape and EOF handling */
	bool con_in_eof;
	bool escape_seen;
	uint8_t in_buf[256];
	unsigned in_len, in_off;

	/* CPU side, set by the engine */
	void (*set_intr)(void *cpu, bool level);
	void *cpu;
	bool intr_level;
	/* Called after a device reaches guest RAM by DMA (gmem), so the CPU can
	 * drop decoded code and TLB entries of those pages; may be NULL. */
	void (*dma_written)(void *cpu, uint64_t gpa, uint64_t len);

	/* stop request from a device or the user */
	volatile enum vm_stop stop;
	volatile int dump_req;		/* SIGUSR1: the engine prints its state */
	volatile int stats_req;		/* SIGUSR2: print the counters now */
	/* Prints every counter to stderr (set by `hvmm run`); board__poll calls
	 * it on a SIGUSR2, so a benchmark can take counters per phase. */
	void (*print_stats)(void *ctx);
	void *stats_ctx;
	uint32_t debug_exit_status;	/* (V << 1) | 1 */

	/* in-kernel irqchip (board__kirq_give / board__kirq_take) */
	bool kirq;
	bool kirq_dirty;		/* lines changed since the engine took them */
	uint16_t kirq_levels, kirq_edges;	/* ISA lines now / rose since */
	uint64_t kirq_deadline;		/* the engine's PIT deadline (HLT), board ns */

	/* counters */
	uint64_t *pio_count;		/* [65536] accesses per port */
	uint64_t mmio_count, ram_faults, halts, polls, resets;
};

/* Builds a board for opts: RAM (memfd of opts->mem bytes), e820, devices,
 * console. Returns 0 or -errno with a one-line reason in err. */
int board__create(struct board *b, const struct run_opts *opts, char *err, size_t errlen);

/* A guest reset: RAM zeroed, every device back to its power-on state; the
 * console, clock and counters go on. The engine must be re-created (and
 * re-connected) after it. Returns 0 or -errno with a reason in err. */
int board__reset(struct board *b, char *err, size_t errlen);

/* Frees everything board__create made and restores the terminal. */
void board__destroy(struct board *b);

/* Connects the CPU's INTR input: set_intr(cpu, level) is called on changes. */
void board__connect_cpu(struct board *b, void (*set_intr)(void *cpu, bool level), void *cpu);

/* Makes every device access to guest RAM (b->gmem: virtio DMA, table
 * builders) call dma_written(cpu, gpa, len) afterwards, so that an engine
 * that caches decoded guest code stays coherent with DMA writes. */
void board__connect_dma(struct board *b, void (*dma_written)(void *cpu, uint64_t gpa, uint64_t len));

/* Host page for the guest-physical page holding gpa, or NULL (MMIO/hole).
 * *writable is false for the BIOS area. */
uint8_t *board__ram_page(struct board *b, uint64_t gpa, bool *writable);

/* Port I/O and MMIO from an engine. Return 0, or 1 when the VM must stop
 * (b->stop says why). */
int board__pio(struct board *b, uint16_t port, void *data, unsigned len, bool is_write);
int board__mmio(struct board *b, uint64_t gpa, void *data, unsigned len, bool is_write);

/* Interrupt acknowledge: the vector to deliver, or -1. */
int board__intr_ack(struct board *b);

/* Virtual time in ns since the board was created. */
uint64_t board__now(struct board *b);

/* Runs device timers that are due and moves console input into the UART.
 * Returns the earliest future deadline (ns, VCLOCK_NEVER if none). */
uint64_t board__poll(struct board *b);

/* Sleeps until the next device deadline, console input, or timeout_ns,
 * whichever comes first (the HLT path). */
void board__wait(struct board *b, uint64_t deadline_ns);

/* The HLT path of every engine: runs due timers and sleeps until the INTR
 * line is high or the VM is asked to stop (true), or until a register dump
 * is asked for while halted (false: the engine prints it, clears
 * b->dump_req and calls again). */
bool board__halt(struct board *b);

/* The engine takes the PIC and PIT over (in-kernel irqchip): from now on
 * ISA lines only collect in kirq_levels/kirq_edges (kirq_dirty set on a
 * change), the board neither polls its PIT nor routes its PIC, and
 * board__halt also returns once kirq_deadline passed or a line changed. */
void board__kirq_give(struct board *b);

/* Gives the PIC and PIT back with the engine's state (same structs; their
 * pointer members are the board's own again) and routes as before. */
void board__kirq_take(struct board *b, const struct pic *pic, const struct pit *pit);

/* Asks the VM to stop (signal handlers may call it: it only sets a flag). */
void board__request_stop(struct board *b, enum vm_stop why);

/* Prints the board's counters (I/O by port) to f; as "name value" lines
 * when plot is true. */
void board__stats(struct board *b, void *f);

#endif
