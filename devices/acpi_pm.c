/* devices/acpi_pm.c — ACPI fixed-feature hardware (ACPI 6.4 ch. 4.8):
 * PM1_STS: TMR_STS 0, BM_STS 4, GBL_STS 5, PWRBTN_STS 8, SLPBTN_STS 9,
 *          RTC_STS 10, WAK_STS 15 — write 1 to clear.
 * PM1_EN:  TMR_EN 0, GBL_EN 5, PWRBTN_EN 8, SLPBTN_EN 9, RTC_EN 10.
 * PM1_CNT: SCI_EN 0, BM_RLD 1, GBL_RLS 2, SLP_TYP 12:10, SLP_EN 13 (write-only).
 * PM_TMR:  3.579545 MHz free-running, 24 bits here (FADT TMR_VAL_EXT = 0);
 *          TMR_STS is set whenever bit 23 changes.
 * SCI is level: asserted while any STS bit has its EN bit set.
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

enum {
	STS_TMR = 0x0001, STS_PWRBTN = 0x0100, STS_WAK = 0x8000,
	EN_MASK = 0x0721, STS_MASK = 0x8731,
	CNT_SCI_EN = 0x0001, CNT_SLP_EN = 0x2000, CNT_WMASK = 0x1c07,
};

static uint64_t ticks(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * ACPI_PM_TMR_HZ) / 1000000000u);
}

uint32_t acpi_pm__timer(const struct acpi_pm *pm, uint64_t now)
{
	return ticks(now) & 0xffffff;
}

static void update_sci(struct acpi_pm *pm)
{
	int level = (pm->sts & pm->en) != 0;
	if (level != pm->sci_level) {
		pm->sci_level = level;
		irq_line__set(pm->sci, level);
	}
}

static void catch_up(struct acpi_pm *pm, uint64_t now)
{
	if (now > pm->last_ns && (ticks(now) >> 23) != (ticks(pm->last_ns) >> 23))
		pm->sts |= STS_TMR;
	if (now > pm->last_ns)
		pm->last_ns = now;
}

void acpi_pm__init(struct acpi_pm *pm, const struct vclock *clock,
		   const struct irq_line *sci, acpi_poweroff_fn poweroff, void *ctx)
{
	memset(pm, 0, sizeof(*pm));
	pm->clock = clock;
	pm->sci = sci;
	pm->poweroff = poweroff;
	pm->ctx = ctx;
	pm->cnt = CNT_SCI_EN;
	pm->last_ns = vclock__now(clock);
}

static void cnt_written(struct acpi_pm *pm, uint16_t v)
{
	pm->cnt = (v & CNT_WMASK) | CNT_SCI_EN;	/* SCI_EN stays set: no SMI_CMD */
	if (!(v & CNT_SLP_EN))
		return;
	if (((v >> 10) & 7) == ACPI_SLP_TYP_S5) {
		pm->powered_off = true;
		if (pm->poweroff)
			pm->poweroff(pm->ctx);
	}
}

int acpi_pm__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct acpi_pm *pm = dev;
	uint8_t *b = data;
	if (offset >= ACPI_PM_IO_LEN || len > ACPI_PM_IO_LEN - offset)
		return -EINVAL;
	catch_up(pm, vclock__now(pm->clock));
	uint32_t tmr = acpi_pm__timer(pm, vclock__now(pm->clock));
	uint8_t img[ACPI_PM_IO_LEN] = {
		pm->sts, pm->sts >> 8, pm->en, pm->en >> 8, pm->cnt, pm->cnt >> 8, 0, 0,
		tmr, tmr >> 8, tmr >> 16, tmr >> 24,
	};
	if (!is_write) {
		memcpy(b, img + offset, len);
		return 0;
	}
	uint16_t w1c = 0;
	bool cnt_touched = false;
	for (unsigned i = 0; i < len; i++) {
		unsigned o = offset + i;
		if (o < 2)
			w1c |= (uint16_t)b[i] << (8 * o);
		else if (o < 6)
			img[o] = b[i];
		cnt_touched |= o == 4 || o == 5;
	}
	pm->sts &= ~(w1c & STS_MASK);
	pm->en = (img[2] | img[3] << 8) & EN_MASK;
	if (cnt_touched)
		cnt_written(pm, img[4] | img[5] << 8);
	update_sci(pm);
	return 0;
}

void acpi_pm__power_button(struct acpi_pm *pm)
{
	pm->sts |= STS_PWRBTN;
	update_sci(pm);
}

uint64_t acpi_pm__next_deadline_ns(const struct acpi_pm *pm)
{
	if (!(pm->en & STS_TMR) || (pm->sts & STS_TMR))
		return VCLOCK_NEVER;
	uint64_t next = ((ticks(pm->last_ns) >> 23) + 1) << 23;
	return (uint64_t)(((unsigned __int128)next * 1000000000u + ACPI_PM_TMR_HZ - 1) /
			  ACPI_PM_TMR_HZ);
}

void acpi_pm__poll(struct acpi_pm *pm, uint64_t now)
{
	catch_up(pm, now);
	update_sci(pm);
}
