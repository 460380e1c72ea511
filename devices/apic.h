/* devices/apic.h — local APIC (xAPIC, one CPU) and I/O APIC (82093AA).
 *
 * Board wiring:
 *	struct lapic_ops ops = { .extint_ack = <pic__ack wrapper>, .nmi = ...,
 *				  .ctx = board };
 *	lapic__init(&lapic, &clock, &ops);
 *	ioapic__init(&ioapic, &lapic);	  (also routes the LAPIC's EOI broadcast)
 *	bus__register(bus, BUS_MMIO, 0xfee00000, 0x1000, lapic__mmio, &lapic, "lapic");
 *	bus__register(bus, BUS_MMIO, 0xfec00000, 0x1000, ioapic__mmio, &ioapic, "ioapic");
 *	PIC INTR -> lapic__set_lint(&lapic, 0, level)	(LINT0, ExtINT virtual wire)
 *	ISA/PCI lines -> ioapic__set_irq(&ioapic, pin, level)  (ISA IRQ0 on pin 2)
 *	CPU, when IF=1: if (lapic__has_intr(&lapic)) vec = lapic__ack(&lapic);
 *	MSR 0x1b: lapic__read_base_msr / lapic__write_base_msr
 *	run loop: if (now >= lapic__next_deadline_ns(&lapic)) lapic__poll(&lapic, now);
 * With the APIC globally disabled (base MSR bit 11 clear) LINT0 is a plain
 * wire: has_intr/ack pass the PIC through, so the board need not care.
 * Timer: the APIC bus clock is LAPIC_BUS_HZ (1 GHz): one count per ns / divisor.
 * Periodic expiries the guest could not take (the previous timer interrupt
 * still in IRR, or several periods due at one poll) are kept as a backlog
 * of at most LAPIC_CATCHUP_NS of periods and delivered one at a time: the
 * next one enters IRR when the CPU acknowledges the previous (it is then
 * taken after the EOI). Reprogramming the timer (LVT, initial count)
 * drops the backlog; periods under LAPIC_CATCHUP_MIN_PERIOD_NS coalesce.
 * Polarity bits are stored but levels passed in are always "asserted = 1".
 */
#ifndef HVMM_DEVICES_APIC_H
#define HVMM_DEVICES_APIC_H

#include <stdbool.h>
#include <stdint.h>

struct vclock;

#define LAPIC_BASE	0xfee00000u
#define IOAPIC_BASE	0xfec00000u
#define LAPIC_BUS_HZ	1000000000ull
#define IOAPIC_PINS	24
#define LAPIC_CATCHUP_NS		2000000000ull
#define LAPIC_CATCHUP_MIN_PERIOD_NS	200000ull

enum apic_dm {
	APIC_DM_FIXED = 0, APIC_DM_LOWEST = 1, APIC_DM_SMI = 2, APIC_DM_NMI = 4,
	APIC_DM_INIT = 5, APIC_DM_SIPI = 6, APIC_DM_EXTINT = 7,
};

struct lapic_ops {
	uint8_t (*extint_ack)(void *ctx);	/* INTA to the 8259: returns the vector */
	void (*nmi)(void *ctx);			/* deliver an NMI to the CPU */
	void (*eoi)(void *ctx, uint8_t vector);	/* EOI of a level interrupt */
	void *ctx;
	void *eoi_ctx;				/* ctx for eoi (the I/O APIC) */
};

enum { LVT_CMCI, LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_N };

struct lapic {
	uint32_t id, tpr, ldr, dfr, svr;
	uint32_t irr[8], isr[8], tmr[8];
	uint32_t esr, esr_pending;
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_N];
	uint32_t timer_initial, timer_divide_reg;
	uint64_t timer_start_ns, timer_next_ns;
	uint32_t timer_backlog;	/* expiries due, not yet delivered */
	uint32_t timer_backlog_max;
	uint64_t timer_lost;	/* expiries dropped (over the bound, one-shot) */
	uint64_t base_msr;
	int lint[2];		/* LINT0/LINT1 input levels */
	bool extint_pending;	/* an ExtINT message from the I/O APIC */
	const struct vclock *clock;
	struct lapic_ops ops;
	uint64_t init_ipis, sipis, timer_fires;
};

/* Power-on/INIT state: ID 0, BSP, globally enabled, software-disabled
 * (SVR 0xff), every LVT masked. */
void lapic__init(struct lapic *a, const struct vclock *clock, const struct lapic_ops *ops);

/* Firmware role (what SeaBIOS leaves behind; there is no BIOS): software
 * enable (SVR 0x1ff), LINT0 = ExtINT (virtual wire to the 8259), LINT1 = NMI.
 * Kernels that never touch the APIC then get PIC interrupts. */
void lapic__firmware_init(struct lapic *a);

int lapic__mmio(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* An interrupt message (from the I/O APIC or an IPI) for this CPU. */
void lapic__deliver(struct lapic *a, uint8_t vector, enum apic_dm mode, bool level);

/* LINT0/LINT1 input pins (n = 0, 1). */
void lapic__set_lint(struct lapic *a, unsigned n, int level);

/* Whether the CPU should take an interrupt (ExtINT or a fixed vector above PPR). */
bool lapic__has_intr(const struct lapic *a);

/* INTA: the vector to deliver (IRR -> ISR), the PIC's for ExtINT, or the
 * spurious vector (SVR[7:0]) when nothing is left. */
uint8_t lapic__ack(struct lapic *a);

/* Whether the 8259's INTR reaches the CPU: the APIC globally disabled, or
 * LINT0 unmasked in ExtINT mode (the virtual wire). */
bool lapic__routes_pic(const struct lapic *a);

/* Whether vector is requested and not yet acknowledged (IRR bit). */
bool lapic__irr_test(const struct lapic *a, uint8_t vector);

uint64_t lapic__read_base_msr(const struct lapic *a);

/* Returns 0, or -EINVAL for a relocation or reserved bits (not supported). */
int lapic__write_base_msr(struct lapic *a, uint64_t v);

uint64_t lapic__next_deadline_ns(const struct lapic *a);
void lapic__poll(struct lapic *a, uint64_t now_ns);

struct ioapic_pin {
	uint64_t redir;
	int level;		/* input level */
	bool pending;		/* edge seen while masked */
};

struct ioapic {
	uint32_t id;
	uint8_t regsel;
	struct ioapic_pin pin[IOAPIC_PINS];
	struct lapic *lapic;
	uint64_t delivered;
};

/* ID 1, every pin masked, edge, active high. Hooks itself to the LAPIC's EOI. */
void ioapic__init(struct ioapic *io, struct lapic *lapic);

int ioapic__mmio(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* Drives input pin (0-23). */
void ioapic__set_irq(struct ioapic *io, unsigned pin, int level);

/* Whether pin is unmasked and its vector waits in the LAPIC's IRR (not yet
 * acknowledged): the PIT's catch-up probe. A masked pin gives false: in
 * PIC mode the I/O APIC is not the path interrupts take. */
bool ioapic__pin_pending(const struct ioapic *io, unsigned pin);

/* EOI broadcast for vector: clears Remote IRR, re-delivers still-high levels. */
void ioapic__eoi(struct ioapic *io, uint8_t vector);

#endif
