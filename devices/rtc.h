/* devices/rtc.h — MC146818 RTC + CMOS RAM behind index/data ports 0x70/0x71.
 *
 * Board wiring:
 *	rtc__init(&rtc, &clock, irq8_line, host_realtime_ns);
 *	rtc__set_memory_size(&rtc, ram_bytes);		(CMOS 0x15-0x18, 0x30-0x35)
 *	bus__register(bus, BUS_PIO, 0x70, 2, rtc__io, &rtc, "rtc");
 *	run loop: if (now >= rtc__next_deadline_ns(&rtc)) rtc__poll(&rtc, now);
 *	NMI delivery checks rtc__nmi_masked(&rtc) (port 0x70 bit 7).
 * The clock starts at host_realtime_ns (UTC) and advances with the vclock; a
 * guest that sets the time moves an offset, never the host clock.
 */
#ifndef HVMM_DEVICES_RTC_H
#define HVMM_DEVICES_RTC_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line;
struct vclock;

struct rtc {
	uint8_t cmos[128];	/* RAM and the frozen time registers while SET=1 */
	uint8_t index;
	bool nmi_masked;
	int64_t base_ns;	/* RTC time (ns since the epoch) at vclock 0 */
	uint64_t last_ns;	/* vclock time flags were last brought up to date */
	int irq_level;
	const struct vclock *clock;
	const struct irq_line *irq;
};

/* Starts the clock at host_realtime_ns (UTC ns since 1970) at vclock time now;
 * register B = 24-hour BCD, register A = 32.768 kHz divider, rate 6. */
void rtc__init(struct rtc *r, const struct vclock *clock, const struct irq_line *irq8,
	       int64_t host_realtime_ns);

/* Fills the CMOS memory-size bytes for ram_bytes of RAM and the checksum. */
void rtc__set_memory_size(struct rtc *r, uint64_t ram_bytes);

/* Writes a CMOS byte (0x0e-0x7f) from the board; refreshes the checksum. */
void rtc__set_cmos(struct rtc *r, unsigned idx, uint8_t v);

/* Ports 0x70 (index, bit 7 = NMI disable; reads give 0xff) and 0x71 (data). */
int rtc__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

/* Next periodic/update/alarm event that can raise IRQ 8, or VCLOCK_NEVER. */
uint64_t rtc__next_deadline_ns(const struct rtc *r);

/* Latches the flags due by now and drives IRQ 8. */
void rtc__poll(struct rtc *r, uint64_t now_ns);

bool rtc__nmi_masked(const struct rtc *r);

#endif
