/* devices/acpi_tables.c — ACPI tables for the board (ACPI 6.4 ch. 5).
 * Layout at c->base: RSDP (rev 0, 20 bytes), FACS (64-byte aligned), DSDT,
 * FADT (rev 3, 244 bytes, legacy and X_ fields agree), MADT, RSDT.
 * MADT: one processor LAPIC (ID 0), the I/O APIC at 0xfec00000 with GSI base
 * 0, ISOs IRQ0 -> GSI 2 and SCI (IRQ 9) level/active-high, LAPIC NMI on
 * LINT1; flag PCAT_COMPAT (8259s present).
 * DSDT, hand-assembled AML:
 *	Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03"))
 *		Name (_ADR, 0)  Name (_UID, 0)
 *		Name (_CRS, ResourceTemplate () { WordBusNumber 0-0xff,
 *			WordIO 0-0xcf7, WordIO 0xd00-0xffff,
 *			DWordMemory 0xa0000-0xbffff, DWordMemory pci_mem_lo-hi })
 *		Name (_PRT, Package () { Package () { 0xSSSSFFFF, pin, 0, gsi }, ... })
 *	} }
 *	Name (_S5, Package () { 5, 5, 0, 0 })
 * Linux with ACPI enumerates PCI only under a PNP0A03 device (pci_acpi_init
 * returns 0, so the legacy probe is skipped): the PCI0 device is needed.
 * _CRS gives the root bus its windows (Linux with pci_use_crs takes the
 * bridge windows only from there; BARs outside them are not claimed).
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

/* ---- a tiny AML writer ---------------------------------------------------- */

struct aml {
	uint8_t b[2048];
	unsigned n;
	bool overflow;
};

static void aml_byte(struct aml *a, uint8_t v)
{
	if (a->n < sizeof(a->b))
		a->b[a->n++] = v;
	else
		a->overflow = true;
}

static void aml_bytes(struct aml *a, const void *p, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		aml_byte(a, ((const uint8_t *)p)[i]);
}

static void aml_nameseg(struct aml *a, const char *seg)
{
	aml_bytes(a, seg, 4);
}

/* Integer with the shortest encoding (ZeroOp, OneOp, Byte/Word/DWordConst). */
static void aml_int(struct aml *a, uint32_t v)
{
	if (v == 0) {
		aml_byte(a, 0x00);
	} else if (v == 1) {
		aml_byte(a, 0x01);
	} else if (v <= 0xff) {
		aml_byte(a, 0x0a);
		aml_byte(a, v);
	} else if (v <= 0xffff) {
		aml_byte(a, 0x0b);
		aml_byte(a, v), aml_byte(a, v >> 8);
	} else {
		aml_byte(a, 0x0c);
		for (unsigned i = 0; i < 4; i++)
			aml_byte(a, v >> (8 * i));
	}
}

/* Appends op, PkgLength (counting itself) and then the body in inner. */
static void aml_pkg(struct aml *a, const uint8_t *op, unsigned oplen, const struct aml *inner)
{
	unsigned len = inner->n;
	aml_bytes(a, op, oplen);
	if (len + 1 <= 63) {
		aml_byte(a, len + 1);
	} else if (len + 2 < (1u << 12)) {
		unsigned t = len + 2;
		aml_byte(a, 0x40 | (t & 0xf));
		aml_byte(a, t >> 4);
	} else {
		unsigned t = len + 3;
		aml_byte(a, 0x80 | (t & 0xf));
		aml_byte(a, t >> 4);
		aml_byte(a, t >> 12);
	}
	aml_bytes(a, inner->b, inner->n);
	a->overflow |= inner->overflow;
}

static void aml_package(struct aml *a, const struct aml *elems, unsigned count)
{
	static const uint8_t op = 0x12;
	struct aml body = {.n = 0};
	aml_byte(&body, count);
	aml_bytes(&body, elems->b, elems->n);
	body.overflow = elems->overflow;
	aml_pkg(a, &op, 1, &body);
}

/* Word Address Space Descriptor (ACPI 6.4 6.4.3.5.3), a producer window
 * with fixed min and max. */
static void res_word(struct aml *a, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	uint16_t f[5] = {0, min, max, 0, (uint16_t)(max - min + 1)};
	aml_byte(a, 0x88);
	aml_byte(a, 13), aml_byte(a, 0);
	aml_byte(a, type);
	aml_byte(a, 0x0c);
	aml_byte(a, tflags);
	for (unsigned i = 0; i < 5; i++)
		aml_byte(a, f[i]), aml_byte(a, f[i] >> 8);
}

/* DWord Memory descriptor (6.4.3.5.2): read-write, cacheable window. */
static void res_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
	uint32_t f[5] = {0, min, max, 0, max - min + 1};
	aml_byte(a, 0x87);
	aml_byte(a, 23), aml_byte(a, 0);
	aml_byte(a, 0);		/* memory range */
	aml_byte(a, 0x0c);
	aml_byte(a, 0x03);
	for (unsigned i = 0; i < 5; i++)
		for (unsigned k = 0; k < 4; k++)
			aml_byte(a, f[i] >> (8 * k));
}

static void build_crs(struct aml *dev, const struct acpi_config *c)
{
	static const uint8_t bufop = 0x11;
	struct aml res = {.n = 0}, body = {.n = 0};
	uint32_t lo = c->pci_mem_lo, hi = c->pci_mem_hi;
	if (!lo && !hi)
		lo = 0xe0000000u, hi = 0xfec00000u;
	res_word(&res, 2, 0, 0x0000, 0x00ff);		/* bus numbers */
	res_word(&res, 1, 3, 0x0000, 0x0cf7);		/* I/O below the config ports */
	res_word(&res, 1, 3, 0x0d00, 0xffff);
	res_dword_mem(&res, 0x000a0000, 0x000bffff);	/* legacy VGA window */
	res_dword_mem(&res, lo, hi - 1);
	aml_byte(&res, 0x79), aml_byte(&res, 0);	/* end tag, checksum 0 */
	aml_int(&body, res.n);				/* BufferSize */
	aml_bytes(&body, res.b, res.n);
	aml_byte(dev, 0x08);
	aml_nameseg(dev, "_CRS");
	aml_pkg(dev, &bufop, 1, &body);
}

static void build_dsdt_body(struct aml *out, const struct acpi_config *c)
{
	struct aml dev = {.n = 0}, entries = {.n = 0}, scope = {.n = 0}, ent;
	/* Name (_HID, EisaId ("PNP0A03")) */
	aml_byte(&dev, 0x08);
	aml_nameseg(&dev, "_HID");
	aml_byte(&dev, 0x0c);
	aml_bytes(&dev, "\x41\xd0\x0a\x03", 4);
	aml_byte(&dev, 0x08);
	aml_nameseg(&dev, "_ADR");
	aml_int(&dev, 0);
	aml_byte(&dev, 0x08);
	aml_nameseg(&dev, "_UID");
	aml_int(&dev, 0);
	build_crs(&dev, c);
	/* Name (_PRT, Package () { Package () { addr, pin, 0, gsi } ... }) */
	for (unsigned i = 0; i < c->nprt; i++) {
		memset(&ent, 0, sizeof(ent));
		aml_int(&ent, (uint32_t)c->prt[i].slot << 16 | 0xffff);
		aml_int(&ent, c->prt[i].pin);
		aml_int(&ent, 0);
		aml_int(&ent, c->prt[i].gsi);
		aml_package(&entries, &ent, 4);
	}
	aml_byte(&dev, 0x08);
	aml_nameseg(&dev, "_PRT");
	aml_package(&dev, &entries, c->nprt);
	/* Device (PCI0) */
	static const uint8_t devop[2] = {0x5b, 0x82};
	struct aml devbody = {.n = 0};
	aml_nameseg(&devbody, "PCI0");
	aml_bytes(&devbody, dev.b, dev.n);
	devbody.overflow = dev.overflow;
	aml_pkg(&scope, devop, 2, &devbody);
	/* Scope (\_SB) */
	static const uint8_t scopeop = 0x10;
	struct aml sbody = {.n = 0};
	aml_byte(&sbody, '\\');
	aml_nameseg(&sbody, "_SB_");
	aml_bytes(&sbody, scope.b, scope.n);
	sbody.overflow = scope.overflow;
	aml_pkg(out, &scopeop, 1, &sbody);
	/* Name (_S5, Package () { 5, 5, 0, 0 }) */
	memset(&ent, 0, sizeof(ent));
	aml_int(&ent, ACPI_SLP_TYP_S5);
	aml_int(&ent, ACPI_SLP_TYP_S5);
	aml_int(&ent, 0);
	aml_int(&ent, 0);
	aml_byte(out, 0x08);
	aml_nameseg(out, "_S5_");
	aml_package(out, &ent, 4);
}

/* ---- tables ------------------------------------------------------------------ */

static void put16(uint8_t *p, uint16_t v) { p[0] = v, p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }

static uint8_t checksum(const uint8_t *p, unsigned len)
{
	uint8_t s = 0;
	for (unsigned i = 0; i < len; i++)
		s += p[i];
	return (uint8_t)-s;
}

/* The 36-byte System Description Table header; checksum is filled last. */
static void header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "HVMM  ", 6);
	memcpy(t + 16, "HVMMPC  ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "HVMM", 4);
	put32(t + 32, 1);
}

static void finish(uint8_t *t)
{
	uint32_t len = t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24;
	t[9] = 0;
	t[9] = checksum(t, len);
}

/* Generic Address Structure: system I/O space */
static void gas_io(uint8_t *p, uint8_t bits, uint64_t addr)
{
	p[0] = addr ? 1 : 0;
	p[1] = addr ? bits : 0;
	p[2] = 0;
	p[3] = 0;
	put64(p + 4, addr);
}

static unsigned align(unsigned v, unsigned a)
{
	return (v + a - 1) & ~(a - 1);
}

int acpi__build_tables(const struct guest_mem *m, const struct acpi_config *c,
		       uint64_t *rsdp)
{
	struct aml body = {.n = 0};
	if (!c || (c->base & 15) || c->base + c->size > 0x100000000ull ||
	    c->nprt > ACPI_MAX_PRT || c->sci_irq >= 16 ||
	    ((c->pci_mem_lo || c->pci_mem_hi) && c->pci_mem_hi <= c->pci_mem_lo))
		return -EINVAL;
	for (unsigned i = 0; i < c->nprt; i++)
		if (c->prt[i].slot >= 32 || c->prt[i].pin > 3 || c->prt[i].gsi >= IOAPIC_PINS)
			return -EINVAL;
	build_dsdt_body(&body, c);
	if (body.overflow)
		return -ENOSPC;

	unsigned o_rsdp = 0, o_facs = 64, o_dsdt = o_facs + 64;
	unsigned dsdt_len = 36 + body.n;
	unsigned o_fadt = align(o_dsdt + dsdt_len, 16), fadt_len = 244;
	unsigned madt_len = 44 + 8 + 12 + 2 * 10 + 6;
	unsigned o_madt = align(o_fadt + fadt_len, 16);
	unsigned o_rsdt = align(o_madt + madt_len, 16), rsdt_len = 36 + 2 * 4;
	unsigned total = o_rsdt + rsdt_len;
	if (total > c->size)
		return -ENOSPC;
	uint8_t *t = guest_mem__ptr(m, c->base, total);
	if (!t)
		return -EFAULT;
	memset(t, 0, total);
	uint32_t base = (uint32_t)c->base;
	uint16_t pm = c->pm_base;

	/* FACS: signature, length 64, no waking vector, version 1 */
	uint8_t *facs = t + o_facs;
	memcpy(facs, "FACS", 4);
	put32(facs + 4, 64);
	facs[32] = 1;

	uint8_t *dsdt = t + o_dsdt;
	header(dsdt, "DSDT", dsdt_len, 2);
	memcpy(dsdt + 36, body.b, body.n);
	finish(dsdt);

	uint8_t *f = t + o_fadt;
	header(f, "FACP", fadt_len, 3);
	put32(f + 36, base + o_facs);
	put32(f + 40, base + o_dsdt);
	put16(f + 46, c->sci_irq);
	put32(f + 56, pm);		/* PM1a_EVT_BLK */
	put32(f + 64, pm + 4);		/* PM1a_CNT_BLK */
	put32(f + 76, pm + 8);		/* PM_TMR_BLK */
	f[88] = 4;			/* PM1_EVT_LEN */
	f[89] = 2;			/* PM1_CNT_LEN */
	f[91] = 4;			/* PM_TMR_LEN */
	put16(f + 96, 101);		/* C2 latency > 100: no C2 */
	put16(f + 98, 1001);		/* C3 latency > 1000: no C3 */
	f[108] = 0x32;			/* RTC century register */
	put16(f + 109, 0x0003);		/* IAPC_BOOT_ARCH: legacy devices, 8042 */
	/* flags: WBINVD, PROC_C1, SLP_BUTTON (none), RESET_REG_SUP */
	put32(f + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
	gas_io(f + 116, 8, 0xcf9);	/* RESET_REG */
	f[128] = 0x06;			/* RESET_VALUE */
	put64(f + 132, base + o_facs);
	put64(f + 140, base + o_dsdt);
	gas_io(f + 148, 32, pm);
	gas_io(f + 172, 16, pm + 4);
	gas_io(f + 208, 32, pm + 8);
	finish(f);

	uint8_t *a = t + o_madt, *e;
	header(a, "APIC", madt_len, 1);
	put32(a + 36, LAPIC_BASE);
	put32(a + 40, 1);		/* PCAT_COMPAT */
	e = a + 44;
	e[0] = 0, e[1] = 8, e[2] = 0, e[3] = 0;		/* processor 0, APIC ID 0 */
	put32(e + 4, 1);				/* enabled */
	e += 8;
	e[0] = 1, e[1] = 12, e[2] = c->ioapic_id ? c->ioapic_id : 1;
	put32(e + 4, IOAPIC_BASE);
	put32(e + 8, 0);				/* GSI base */
	e += 12;
	e[0] = 2, e[1] = 10, e[2] = 0, e[3] = 0;	/* ISA IRQ0 -> GSI 2 */
	put32(e + 4, 2);
	put16(e + 8, 0);
	e += 10;
	e[0] = 2, e[1] = 10, e[2] = 0, e[3] = c->sci_irq;	/* SCI: level, high */
	put32(e + 4, c->sci_irq);
	put16(e + 8, 0x000d);
	e += 10;
	e[0] = 4, e[1] = 6, e[2] = 0xff;		/* NMI on LINT1, all CPUs */
	put16(e + 3, 0);
	e[5] = 1;
	finish(a);

	uint8_t *r = t + o_rsdt;
	header(r, "RSDT", rsdt_len, 1);
	put32(r + 36, base + o_fadt);
	put32(r + 40, base + o_madt);
	/* FACS and DSDT are reached through the FADT, not listed here */
	finish(r);

	uint8_t *p = t + o_rsdp;
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "HVMM  ", 6);
	p[15] = 0;			/* revision 0: RSDT only */
	put32(p + 16, base + o_rsdt);
	p[8] = checksum(p, 20);

	if (rsdp)
		*rsdp = c->base + o_rsdp;
	return (int)total;
}
