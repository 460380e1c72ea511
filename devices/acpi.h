/* devices/acpi.h — ACPI fixed hardware (PM1a event/control, PM timer) and
 * the table builder (RSDP, RSDT, FADT, FACS, MADT, DSDT).
 *
 * Board wiring:
 *	acpi_pm__init(&pm, &clock, sci_line, poweroff_fn, ctx);
 *	bus__register(bus, BUS_PIO, 0x600, ACPI_PM_IO_LEN, acpi_pm__io, &pm, "acpi-pm");
 *	run loop: if (now >= acpi_pm__next_deadline_ns(&pm)) acpi_pm__poll(&pm, now);
 *	host "power button": acpi_pm__power_button(&pm)
 *	tables: struct acpi_config c = { .base = 0xe0000, .size = 0x10000,
 *		.pm_base = 0x600, .sci_irq = 9, .prt = {{3, 0, 11}}, .nprt = 1 };
 *		acpi__build_tables(&guest_mem, &c, &rsdp);  (RSDP at c.base)
 *	The board marks [base, base+size) reserved in the e820 map.
 * Reset: FADT's RESET_REG is I/O port 0xcf9 value 6, served by pci_host__io.
 * Sleep: SLP_EN with SLP_TYP = ACPI_SLP_TYP_S5 (the DSDT's _S5) powers off;
 * other SLP_TYP values are ignored (no _S1-_S4 objects are offered).
 */
#ifndef HVMM_DEVICES_ACPI_H
#define HVMM_DEVICES_ACPI_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line;
struct vclock;
struct guest_mem;

#define ACPI_PM_IO_LEN		12	/* PM1a_EVT (4), PM1a_CNT (2) + pad, PM_TMR (4) */
#define ACPI_PM_TMR_HZ		3579545u
#define ACPI_SLP_TYP_S5		5

typedef void (*acpi_poweroff_fn)(void *ctx);

struct acpi_pm {
	uint16_t sts, en, cnt;
	const struct vclock *clock;
	const struct irq_line *sci;
	int sci_level;
	uint64_t last_ns;	/* TMR_STS is brought up to date from here */
	acpi_poweroff_fn poweroff;
	void *ctx;
	bool powered_off;
};

/* PM1 status 0, enables 0, SCI_EN set (no SMI_CMD: always in ACPI mode). */
void acpi_pm__init(struct acpi_pm *pm, const struct vclock *clock,
		   const struct irq_line *sci, acpi_poweroff_fn poweroff, void *ctx);

/* Offsets: 0 PM1_STS (w1c), 2 PM1_EN, 4 PM1_CNT, 8 PM_TMR (24-bit, RO). */
int acpi_pm__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* Sets PWRBTN_STS (an SCI if PWRBTN_EN): the guest's orderly shutdown. */
void acpi_pm__power_button(struct acpi_pm *pm);

/* Next PM-timer carry (bit 23 toggle) while TMR_EN is set, else never. */
uint64_t acpi_pm__next_deadline_ns(const struct acpi_pm *pm);
void acpi_pm__poll(struct acpi_pm *pm, uint64_t now_ns);

/* PM timer value at now. */
uint32_t acpi_pm__timer(const struct acpi_pm *pm, uint64_t now_ns);

struct acpi_prt_entry {
	uint8_t slot;		/* PCI device number on bus 0 */
	uint8_t pin;		/* 0 = INTA# .. 3 = INTD# */
	uint8_t gsi;		/* I/O APIC input (= ISA IRQ number below 16) */
};

#define ACPI_MAX_PRT 16

struct acpi_config {
	uint64_t base;		/* guest-physical, 16-byte aligned; RSDP lands here */
	uint32_t size;		/* bytes available at base */
	uint16_t pm_base;	/* I/O base of the acpi_pm block */
	uint8_t sci_irq;	/* 9 */
	uint8_t ioapic_id;	/* 0 means 1 */
	uint32_t pci_mem_lo, pci_mem_hi;	/* PCI0 _CRS memory window [lo, hi);
						   0, 0 = 0xe0000000-0xfec00000 */
	struct acpi_prt_entry prt[ACPI_MAX_PRT];
	unsigned nprt;
};

/* Writes every table into guest memory and checksums them. *rsdp gets the
 * RSDP address (= c->base). Returns bytes used, -EINVAL for a bad config,
 * -ENOSPC if size is too small, -EFAULT if the area is not guest RAM. */
int acpi__build_tables(const struct guest_mem *m, const struct acpi_config *c,
		       uint64_t *rsdp);

#endif
