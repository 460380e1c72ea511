/* tests/unit/test_dev_acpi.c — ACPI PM registers (SCI, PM timer, S5
 * poweroff) and the table builder (layout, checksums, FADT fields, MADT
 * entries, the AML of the DSDT, hostile configurations). */
#include "tests/unit/dev_test.h"
#include "tests/unit/unit.h"

#include <errno.h>
#include <string.h>

#define PM 0x600

static struct bus bus;
static struct acpi_pm pm;
static struct irq_rec rec;
static struct fake_clock clk;
static unsigned poweroffs;

static void on_poweroff(void *ctx) { poweroffs++; }

static void setup(void)
{
	bus__init(&bus);
	irq_rec__init(&rec);
	fake_clock__init(&clk);
	poweroffs = 0;
	acpi_pm__init(&pm, &clk.vc, &rec.line[9], on_poweroff, NULL);
	bus__register(&bus, BUS_PIO, PM, ACPI_PM_IO_LEN, acpi_pm__io, &pm, "pm");
}

static void test_pm_timer(void)
{
	setup();
	CU_ASSERT_EQUAL(io_in(&bus, PM + 8, 4), 0);
	clk.now = 1000000000;			/* 1 s */
	CU_ASSERT_EQUAL(io_in(&bus, PM + 8, 4), 3579545);
	clk.now = 5000000000ull;		/* wraps at 24 bits */
	CU_ASSERT_EQUAL(io_in(&bus, PM + 8, 4), (5ull * 3579545) & 0xffffff);
	/* TMR_STS after bit 23 toggled; SCI only with TMR_EN */
	CU_ASSERT_EQUAL(io_in(&bus, PM, 2) & 1, 1);
	CU_ASSERT_EQUAL(rec.level[9], 0);
	io_out(&bus, PM, 1, 2);			/* clear */
	CU_ASSERT_EQUAL(io_in(&bus, PM, 2) & 1, 0);
	io_out(&bus, PM + 2, 1, 2);		/* TMR_EN */
	uint64_t d = acpi_pm__next_deadline_ns(&pm);
	uint64_t t = ((5ull * 3579545 >> 23) + 1) << 23;
	CU_ASSERT_EQUAL(d, (t * 1000000000ull + 3579544) / 3579545);
	acpi_pm__poll(&pm, d - 1);
	CU_ASSERT_EQUAL(rec.level[9], 0);
	acpi_pm__poll(&pm, d);
	CU_ASSERT_EQUAL(rec.level[9], 1);
	io_out(&bus, PM, 1, 2);
	CU_ASSERT_EQUAL(rec.level[9], 0);
	/* timer is read-only */
	io_out(&bus, PM + 8, 0, 4);
	clk.now = d;
	CU_ASSERT_EQUAL(io_in(&bus, PM + 8, 4), t & 0xffffff);
}

static void test_power_button_and_sleep(void)
{
	setup();
	CU_ASSERT_EQUAL(io_in(&bus, PM + 4, 2) & 1, 1);	/* SCI_EN */
	acpi_pm__power_button(&pm);
	CU_ASSERT_EQUAL(rec.level[9], 0);
	io_out(&bus, PM + 2, 0x100, 2);			/* PWRBTN_EN */
	CU_ASSERT_EQUAL(rec.level[9], 1);
	CU_ASSERT_EQUAL(io_in(&bus, PM, 4), 0x01000100u);
	io_out(&bus, PM, 0x0100, 2);			/* w1c */
	CU_ASSERT_EQUAL(rec.level[9], 0);
	/* byte-wide w1c on the high byte works too */
	acpi_pm__power_button(&pm);
	outb(&bus, PM + 1, 0x01);
	CU_ASSERT_EQUAL(io_in(&bus, PM, 2), 0);
	/* SLP_TYP without SLP_EN: nothing; S1-like type: ignored; S5: off */
	io_out(&bus, PM + 4, 5 << 10, 2);
	CU_ASSERT_EQUAL(poweroffs, 0);
	CU_ASSERT_EQUAL(io_in(&bus, PM + 4, 2), (5 << 10) | 1);
	io_out(&bus, PM + 4, (1 << 10) | 0x2000, 2);
	CU_ASSERT_EQUAL(poweroffs, 0);
	io_out(&bus, PM + 4, (5 << 10) | 0x2000, 2);
	CU_ASSERT_EQUAL(poweroffs, 1);
	CU_ASSERT_TRUE(pm.powered_off);
	CU_ASSERT_EQUAL(io_in(&bus, PM + 4, 2) & 0x2000, 0);	/* SLP_EN write-only */
	uint32_t v;
	CU_ASSERT_NOT_EQUAL(acpi_pm__io(&pm, 10, &v, 4, false), 0);
}

static uint8_t ram[1 << 20];

static uint32_t rd32(uint64_t a)
{
	return ram[a] | ram[a + 1] << 8 | ram[a + 2] << 16 | (uint32_t)ram[a + 3] << 24;
}

static uint8_t sum(uint64_t a, unsigned len)
{
	uint8_t s = 0;
	for (unsigned i = 0; i < len; i++)
		s += ram[a + i];
	return s;
}

static bool contains(uint64_t a, unsigned len, const void *pat, unsigned plen)
{
	for (unsigned i = 0; i + plen <= len; i++)
		if (memcmp(ram + a + i, pat, plen) == 0)
			return true;
	return false;
}

static void test_tables(void)
{
	struct guest_ram gr = {ram, sizeof(ram)};
	struct guest_mem m = {guest_ram__translate, &gr};
	struct acpi_config c = {.base = 0xe0000, .size = 0x10000, .pm_base = PM,
				.sci_irq = 9, .prt = {{3, 0, 11}}, .nprt = 1};
	memset(ram, 0, sizeof(ram));
	uint64_t rsdp = 0;
	int used = acpi__build_tables(&m, &c, &rsdp);
	CU_ASSERT_TRUE_FATAL(used > 0);
	CU_ASSERT_EQUAL(rsdp, 0xe0000);
	/* RSDP: signature on a 16-byte boundary in the BIOS area, checksum over 20 */
	CU_ASSERT_EQUAL(memcmp(ram + rsdp, "RSD PTR ", 8), 0);
	CU_ASSERT_EQUAL(sum(rsdp, 20), 0);
	CU_ASSERT_EQUAL(ram[rsdp + 15], 0);
	uint32_t rsdt = rd32(rsdp + 16);
	CU_ASSERT_EQUAL(memcmp(ram + rsdt, "RSDT", 4), 0);
	CU_ASSERT_EQUAL(rd32(rsdt + 4), 44);
	CU_ASSERT_EQUAL(sum(rsdt, 44), 0);
	uint32_t fadt = rd32(rsdt + 36), madt = rd32(rsdt + 40);
	CU_ASSERT_EQUAL(memcmp(ram + fadt, "FACP", 4), 0);
	CU_ASSERT_EQUAL(rd32(fadt + 4), 244);
	CU_ASSERT_EQUAL(sum(fadt, 244), 0);
	CU_ASSERT_EQUAL(rd32(fadt + 56), PM);
	CU_ASSERT_EQUAL(rd32(fadt + 64), PM + 4);
	CU_ASSERT_EQUAL(rd32(fadt + 76), PM + 8);
	CU_ASSERT_EQUAL(ram[fadt + 46], 9);
	CU_ASSERT_EQUAL(ram[fadt + 91], 4);
	CU_ASSERT_EQUAL(rd32(fadt + 120), 0xcf9);	/* RESET_REG address */
	CU_ASSERT_EQUAL(ram[fadt + 128], 6);
	CU_ASSERT_EQUAL(rd32(fadt + 112) & (1u << 10), 1u << 10);
	CU_ASSERT_EQUAL(rd32(fadt + 152), PM);		/* X_PM1a_EVT agrees */
	uint32_t facs = rd32(fadt + 36), dsdt = rd32(fadt + 40);
	CU_ASSERT_EQUAL(facs & 63, 0);
	CU_ASSERT_EQUAL(memcmp(ram + facs, "FACS", 4), 0);
	CU_ASSERT_EQUAL(rd32(fadt + 140), dsdt);
	/* DSDT: checksum, _S5 package {5, 5, 0, 0}, PCI0 with PNP0A03 and _PRT */
	uint32_t dlen = rd32(dsdt + 4);
	CU_ASSERT_EQUAL(memcmp(ram + dsdt, "DSDT", 4), 0);
	CU_ASSERT_EQUAL(sum(dsdt, dlen), 0);
	static const uint8_t s5[] = {0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				     0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00};
	CU_ASSERT_TRUE(contains(dsdt, dlen, s5, sizeof(s5)));
	static const uint8_t hid[] = {0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03};
	CU_ASSERT_TRUE(contains(dsdt, dlen, hid, sizeof(hid)));
	static const uint8_t prt[] = {0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x03, 0x00,
				      0x00, 0x00, 0x0a, 0x0b};
	CU_ASSERT_TRUE(contains(dsdt, dlen, prt, sizeof(prt)));
	/* _CRS: bus 0-0xff window and the default PCI memory window */
	static const uint8_t crs[] = {0x08, '_', 'C', 'R', 'S', 0x11};
	CU_ASSERT_TRUE(contains(dsdt, dlen, crs, sizeof(crs)));
	static const uint8_t busw[] = {0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00,
				       0x00, 0x00, 0xff, 0x00};
	CU_ASSERT_TRUE(contains(dsdt, dlen, busw, sizeof(busw)));
	static const uint8_t memw[] = {0x00, 0x00, 0x00, 0xe0, 0xff, 0xff, 0xbf, 0xfe};
	CU_ASSERT_TRUE(contains(dsdt, dlen, memw, sizeof(memw)));
	/* MADT: LAPIC address, PCAT_COMPAT, LAPIC, IOAPIC, ISOs, NMI */
	uint32_t mlen = rd32(madt + 4);
	CU_ASSERT_EQUAL(memcmp(ram + madt, "APIC", 4), 0);
	CU_ASSERT_EQUAL(sum(madt, mlen), 0);
	CU_ASSERT_EQUAL(rd32(madt + 36), 0xfee00000u);
	CU_ASSERT_EQUAL(rd32(madt + 40), 1);
	unsigned types[8] = {0}, n = 0;
	bool iso0 = false, iso9 = false;
	for (uint32_t o = madt + 44; o < madt + mlen; o += ram[o + 1]) {
		CU_ASSERT_FATAL(ram[o + 1] >= 2);
		if (n < 8)
			types[n++] = ram[o];
		if (ram[o] == 1)
			CU_ASSERT_EQUAL(rd32(o + 4), 0xfec00000u);
		if (ram[o] == 2 && ram[o + 3] == 0)
			iso0 = rd32(o + 4) == 2;
		if (ram[o] == 2 && ram[o + 3] == 9)
			iso9 = rd32(o + 4) == 9 && (ram[o + 8] & 0x0f) == 0x0d;
	}
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(types[0], 0);
	CU_ASSERT_EQUAL(types[1], 1);
	CU_ASSERT_EQUAL(types[4], 4);
	CU_ASSERT_TRUE(iso0);
	CU_ASSERT_TRUE(iso9);
	CU_ASSERT_TRUE((uint64_t)used <= c.size);
	CU_ASSERT_TRUE(rsdt + 44 <= c.base + (unsigned)used);
}

static void test_tables_bad_config(void)
{
	struct guest_ram gr = {ram, sizeof(ram)};
	struct guest_mem m = {guest_ram__translate, &gr};
	struct acpi_config c = {.base = 0xe0000, .size = 0x10000, .pm_base = PM, .sci_irq = 9};
	uint64_t rsdp;
	CU_ASSERT_TRUE(acpi__build_tables(&m, &c, &rsdp) > 0);	/* no PRT entries is fine */
	c.base = 0xe0008;
	CU_ASSERT_EQUAL(acpi__build_tables(&m, &c, &rsdp), -EINVAL);
	c.base = 0xe0000;
	c.size = 100;
	CU_ASSERT_EQUAL(acpi__build_tables(&m, &c, &rsdp), -ENOSPC);
	c.size = 0x10000;
	c.base = 0x200000;		/* outside the 1 MiB of RAM */
	CU_ASSERT_EQUAL(acpi__build_tables(&m, &c, &rsdp), -EFAULT);
	c.base = 0xffff0;		/* runs off the end of RAM */
	CU_ASSERT_EQUAL(acpi__build_tables(&m, &c, &rsdp), -EFAULT);
	c.base = 0xe0000;
	c.pci_mem_lo = 0xf0000000u;
	c.pci_mem_hi = 0xe0000000u;
	CU_ASSERT_EQUAL(acpi__build_tables(&m, &c, &rsdp), -EINVAL);
	c.pci_mem_lo = c.pci_mem_hi = 0;
	c.nprt = 1;
	c.prt[0] = (struct acpi_prt_entry){.slot = 40, .pin = 0, .gsi = 11};
	CU_ASSERT_EQUAL(acpi__build_tables(&m, &c, &rsdp), -EINVAL);
	c.prt[0] = (struct acpi_prt_entry){.slot = 3, .pin = 4, .gsi = 11};
	CU_ASSERT_EQUAL(acpi__build_tables(&m, &c, &rsdp), -EINVAL);
	/* many entries: multi-byte PkgLength still sums correctly */
	c.nprt = ACPI_MAX_PRT;
	for (unsigned i = 0; i < ACPI_MAX_PRT; i++)
		c.prt[i] = (struct acpi_prt_entry){.slot = i + 1, .pin = i & 3, .gsi = 16 + (i & 3)};
	CU_ASSERT_TRUE_FATAL(acpi__build_tables(&m, &c, &rsdp) > 0);
	uint32_t fadt = rd32(rd32(rsdp + 16) + 36), dsdt = rd32(fadt + 40);
	CU_ASSERT_EQUAL(sum(dsdt, rd32(dsdt + 4)), 0);
	/* Scope opcode then a 2-byte PkgLength (bits 7:6 = 01) */
	CU_ASSERT_EQUAL(ram[dsdt + 36], 0x10);
	CU_ASSERT_EQUAL(ram[dsdt + 37] >> 6, 1);
	unsigned scope_len = (ram[dsdt + 37] & 0x0f) | ram[dsdt + 38] << 4;
	/* the scope ends exactly where Name(_S5) begins */
	CU_ASSERT_EQUAL(ram[dsdt + 37 + scope_len], 0x08);
	CU_ASSERT_EQUAL(memcmp(ram + dsdt + 38 + scope_len, "_S5_", 4), 0);
}

static CU_TestInfo acpi_tests[] = {
	{"pm_timer", test_pm_timer},
	{"power_button_and_sleep", test_power_button_and_sleep},
	{"tables", test_tables},
	{"tables_bad_config", test_tables_bad_config},
	CU_TEST_INFO_NULL,
};
UNIT_SUITE(dev_acpi, .tests = acpi_tests);
