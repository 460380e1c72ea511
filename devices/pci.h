/* devices/pci.h — PCI host bridge (configuration mechanism #1 at 0xcf8/0xcfc,
 * i440FX host bridge 8086:1237 at 00:00.0) and the API PCI devices use.
 *
 * Board wiring:
 *	pci_host__init(&host, bus, reset_fn, ctx);   reset_fn: 0xcf9 bit 2 (may be NULL)
 *	bus__register(bus, BUS_PIO, 0xcf8, 8, pci_host__io, &host, "pci-conf");
 *	for each device: <device>__init(...) fills a struct pci_dev, then
 *		pci_dev__wire_intx(&dev, irq_line, isa_irq);
 *		pci_host__add(&host, &dev, slot);
 *	firmware role (there is no BIOS): pci_host__assign_resources(&host,
 *		0xc000, 0x10000, 0xe0000000, 0xfec00000) places every BAR and
 *		enables I/O and memory decoding.
 * A device describes BARs with pci_dev__set_bar(); its handler is registered
 * on the bus at the BAR's address while the command register enables that
 * space, and re-registered when the guest moves the BAR. Handlers see
 * offsets within the BAR only.
 * Linux with no $PIR table and no ACPI _PRT takes a device's IRQ from the
 * Interrupt Line register (0x3c): no PIIX ISA bridge / IRQ router is modelled;
 * the board chooses the ISA IRQ and writes it through pci_dev__wire_intx().
 */
#ifndef HVMM_DEVICES_PCI_H
#define HVMM_DEVICES_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/devices.h"

#define PCI_CMD_IO		0x0001
#define PCI_CMD_MEM		0x0002
#define PCI_CMD_MASTER		0x0004
#define PCI_CMD_INTX_DISABLE	0x0400
#define PCI_STATUS_INTX		0x0008
#define PCI_STATUS_CAP_LIST	0x0010

struct pci_bar {
	uint32_t size;		/* 0 = not implemented; power of two */
	enum bus_space space;	/* BUS_PIO or BUS_MMIO */
	io_handler_fn fn;
	void *opaque;
	const char *name;
	bool mapped;
	uint64_t mapped_base;
};

struct pci_dev {
	uint8_t cfg[256];
	uint8_t wmask[256];	/* bits the guest may write */
	uint8_t w1c[256];	/* bits a guest write of 1 clears */
	struct pci_bar bar[6];
	uint8_t next_cap;	/* where the next capability goes (0x40 up) */
	uint8_t last_cap;	/* offset of the last capability, 0 if none */
	unsigned slot;
	int intx_level;		/* the device's INTx request */
	int intx_out;		/* what is driven on the line */
	const struct irq_line *intx;
	struct pci_host *host;
	/* optional: called after the guest wrote [off, off+len) of config space */
	void (*cfg_written)(struct pci_dev *d, unsigned off, unsigned len);
	void *owner;		/* the device model owning this function */
};

#define PCI_SLOTS 32

struct pci_host {
	uint32_t addr;		/* 0xcf8 */
	uint8_t rcr;		/* 0xcf9 reset control */
	struct pci_dev *dev[PCI_SLOTS];
	struct pci_dev bridge;
	struct bus *bus;
	void (*reset)(void *ctx);
	void *reset_ctx;
};

/* Empties the bus and adds the i440FX host bridge at 00:00.0. */
void pci_host__init(struct pci_host *h, struct bus *bus, void (*reset)(void *ctx),
		    void *reset_ctx);

/* Ports 0xcf8-0xcff: 0xcf8 (dword) address, 0xcf9 (byte) reset control,
 * 0xcfc-0xcff data. */
int pci_host__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* Puts d at bus 0 slot (function 0). Returns 0, -EINVAL, -EEXIST. */
int pci_host__add(struct pci_host *h, struct pci_dev *d, unsigned slot);

/* Firmware role: assigns naturally aligned addresses to every unassigned
 * BAR of every device from [io_lo, io_hi) and [mem_lo, mem_hi), enables I/O
 * and memory decoding. Returns 0 or -ENOSPC. */
int pci_host__assign_resources(struct pci_host *h, uint32_t io_lo, uint32_t io_hi,
			       uint32_t mem_lo, uint32_t mem_hi);

/* Config-space access for bus 0 (what 0xcfc does); off+len <= 256. */
uint32_t pci_host__cfg_read(struct pci_host *h, unsigned slot, unsigned fn,
			    unsigned off, unsigned len);
void pci_host__cfg_write(struct pci_host *h, unsigned slot, unsigned fn,
			 unsigned off, unsigned len, uint32_t v);

/* Starts a type-0 function: IDs, class (base<<16 | sub<<8 | prog-if), rev,
 * subsystem IDs, interrupt pin (0 none, 1 = INTA#). Standard writable bits. */
void pci_dev__init(struct pci_dev *d, uint16_t vendor, uint16_t device,
		   uint32_t class_code, uint8_t rev, uint16_t sub_vendor,
		   uint16_t sub_device, uint8_t int_pin);

/* Declares BAR idx (0-5) of size bytes (power of two; I/O >= 4, mem >= 16)
 * in space, served by fn(opaque, offset, ...). Returns 0 or -EINVAL. */
int pci_dev__set_bar(struct pci_dev *d, unsigned idx, uint32_t size,
		     enum bus_space space, io_handler_fn fn, void *opaque,
		     const char *name);

/* Appends a capability (id, len bytes incl. the 2-byte header) to the list.
 * Returns its config offset, or -ENOSPC. */
int pci_dev__add_cap(struct pci_dev *d, uint8_t id, unsigned len);

/* Connects INTx to a line and sets the Interrupt Line register to isa_irq. */
void pci_dev__wire_intx(struct pci_dev *d, const struct irq_line *line, uint8_t isa_irq);

/* The device asserts (1) or deasserts (0) its INTx; honours Command bit 10. */
void pci_dev__set_intx(struct pci_dev *d, int level);

/* Address of BAR idx as programmed (without flag bits). */
uint32_t pci_dev__bar_addr(const struct pci_dev *d, unsigned idx);

/* Little-endian config helpers for device models. */
static inline void pci_cfg__set16(struct pci_dev *d, unsigned off, uint16_t v)
{
	d->cfg[off] = v & 0xff;
	d->cfg[off + 1] = v >> 8;
}

static inline uint16_t pci_cfg__get16(const struct pci_dev *d, unsigned off)
{
	return d->cfg[off] | d->cfg[off + 1] << 8;
}

static inline void pci_cfg__set32(struct pci_dev *d, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		d->cfg[off + i] = v >> (8 * i);
}

static inline uint32_t pci_cfg__get32(const struct pci_dev *d, unsigned off)
{
	return d->cfg[off] | d->cfg[off + 1] << 8 | d->cfg[off + 2] << 16 |
	       (uint32_t)d->cfg[off + 3] << 24;
}

#endif
