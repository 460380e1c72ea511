/* devices/rtc.c — MC146818A real-time clock and CMOS.
 * Register facts (Motorola MC146818A datasheet):
 *   0-9 seconds, sec alarm, minutes, min alarm, hours, hour alarm, weekday
 *   (1 = Sunday), day, month, year; 0x32 century (IBM PC convention).
 *   A: bit 7 UIP (read-only, set 244 us before each update), bits 6:4
 *      divider (010 = 32.768 kHz time base running), bits 3:0 periodic rate.
 *   B: SET, PIE, AIE, UIE, SQWE, DM (1 = binary), 24/12, DSE. SET stops
 *      updates (and clears UIE) so software can write a consistent time.
 *   C: IRQF, PF, AF, UF — read-only, cleared by reading; IRQF = any enabled.
 *   D: bit 7 VRT (battery good).
 * Alarm bytes with the two high bits set (0xc0-0xff) match any value.
 * Periodic rate r (1-15) with the 32.768 kHz base: period = 2^(r-1)/32768 s
 * for r >= 3; r = 1, 2 behave as 8, 9.
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>
#include <time.h>

enum {
	R_SEC = 0, R_SEC_ALARM, R_MIN, R_MIN_ALARM, R_HOUR, R_HOUR_ALARM,
	R_WDAY, R_MDAY, R_MON, R_YEAR, R_A, R_B, R_C, R_D, R_CENTURY = 0x32,
	A_UIP = 0x80, B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10,
	B_DM = 0x04, B_24H = 0x02, C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20,
	C_UF = 0x10,
};

#define NS 1000000000ll

static bool running(const struct rtc *r)
{
	return ((r->cmos[R_A] >> 4) & 7) == 2;
}

static int64_t rtc_ns(const struct rtc *r, uint64_t now)
{
	return r->base_ns + (int64_t)now;
}

static uint8_t enc(const struct rtc *r, unsigned v)
{
	return (r->cmos[R_B] & B_DM) ? v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned dec(const struct rtc *r, uint8_t v)
{
	return (r->cmos[R_B] & B_DM) ? v : (v >> 4) * 10 + (v & 0xf);
}

static uint8_t enc_hour(const struct rtc *r, unsigned h)
{
	if (r->cmos[R_B] & B_24H)
		return enc(r, h);
	unsigned h12 = h % 12 ? h % 12 : 12;
	return enc(r, h12) | (h >= 12 ? 0x80 : 0);
}

static unsigned dec_hour(const struct rtc *r, uint8_t v)
{
	if (r->cmos[R_B] & B_24H)
		return dec(r, v);
	unsigned h = dec(r, v & 0x7f) % 12;
	return (v & 0x80) ? h + 12 : h;
}

/* Writes the calendar for time t (seconds since the epoch) into regs 0-9, 0x32. */
static void fill_time(struct rtc *r, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	r->cmos[R_SEC] = enc(r, tm.tm_sec);
	r->cmos[R_MIN] = enc(r, tm.tm_min);
	r->cmos[R_HOUR] = enc_hour(r, tm.tm_hour);
	r->cmos[R_WDAY] = enc(r, tm.tm_wday + 1);
	r->cmos[R_MDAY] = enc(r, tm.tm_mday);
	r->cmos[R_MON] = enc(r, tm.tm_mon + 1);
	r->cmos[R_YEAR] = enc(r, tm.tm_year % 100);
	r->cmos[R_CENTURY] = enc(r, (tm.tm_year + 1900) / 100);
}

/* Latest time a guest may set: 2200-01-01 (keeps ns arithmetic in int64). */
#define RTC_MAX_SECONDS 7258118400ll

/* The time the registers 0-9, 0x32 describe, in seconds since the epoch,
 * clamped to [1970, 2200): a guest may write any byte, BCD or not. */
static int64_t regs_time(const struct rtc *r)
{
	struct tm tm = {
		.tm_sec = dec(r, r->cmos[R_SEC]), .tm_min = dec(r, r->cmos[R_MIN]),
		.tm_hour = dec_hour(r, r->cmos[R_HOUR]),
		.tm_mday = dec(r, r->cmos[R_MDAY]), .tm_mon = dec(r, r->cmos[R_MON]) - 1,
		.tm_year = dec(r, r->cmos[R_CENTURY]) * 100 + dec(r, r->cmos[R_YEAR]) - 1900,
	};
	int64_t t = (int64_t)timegm(&tm);
	if (t < 0)
		return 0;
	return t < RTC_MAX_SECONDS ? t : RTC_MAX_SECONDS - 1;
}

static uint64_t period_ticks(const struct rtc *r)
{
	unsigned rate = r->cmos[R_A] & 0x0f;
	if (!rate)
		return 0;
	if (rate < 3)
		rate += 7;
	return 1ull << (rate - 1);	/* in 32.768 kHz ticks */
}

static uint64_t ns_to_32k(uint64_t ns)
{
	return (uint64_t)(((unsigned __int128)ns * 32768) / NS);
}

static uint64_t k32_to_ns(uint64_t t)
{
	return (uint64_t)(((unsigned __int128)t * NS + 32767) / 32768);
}

static bool alarm_match(const struct rtc *r, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	uint8_t s = r->cmos[R_SEC_ALARM], m = r->cmos[R_MIN_ALARM], h = r->cmos[R_HOUR_ALARM];
	return (s >= 0xc0 || dec(r, s) == (unsigned)tm.tm_sec) &&
	       (m >= 0xc0 || dec(r, m) == (unsigned)tm.tm_min) &&
	       (h >= 0xc0 || dec_hour(r, h) == (unsigned)tm.tm_hour);
}

static void update_irq(struct rtc *r)
{
	uint8_t b = r->cmos[R_B], c = r->cmos[R_C] & 0x70;
	bool irqf = (c & C_PF && b & B_PIE) || (c & C_AF && b & B_AIE) ||
		    (c & C_UF && b & B_UIE);
	r->cmos[R_C] = c | (irqf ? C_IRQF : 0);
	if (irqf != r->irq_level) {
		r->irq_level = irqf;
		irq_line__set(r->irq, irqf);
	}
}

/* Latches PF/UF/AF for every event in (last_ns, now]. */
static void catch_up(struct rtc *r, uint64_t now)
{
	uint64_t last = r->last_ns;
	if (now <= last)
		return;
	r->last_ns = now;
	if (!running(r))
		return;
	uint64_t p = period_ticks(r);
	if (p && ns_to_32k(now) / p != ns_to_32k(last) / p)
		r->cmos[R_C] |= C_PF;
	if (r->cmos[R_B] & B_SET)
		return;
	int64_t s0 = rtc_ns(r, last) / NS, s1 = rtc_ns(r, now) / NS;
	if (s1 == s0)
		return;
	r->cmos[R_C] |= C_UF;
	/* alarm: look at each second crossed (a day covers every pattern) */
	int64_t from = s1 - s0 > 86400 ? s1 - 86400 : s0 + 1;
	for (int64_t s = from; s <= s1; s++)
		if (alarm_match(r, s)) {
			r->cmos[R_C] |= C_AF;
			break;
		}
}

void rtc__init(struct rtc *r, const struct vclock *clock, const struct irq_line *irq8,
	       int64_t host_realtime_ns)
{
	memset(r, 0, sizeof(*r));
	r->clock = clock;
	r->irq = irq8;
	r->last_ns = vclock__now(clock);
	r->base_ns = host_realtime_ns - (int64_t)r->last_ns;
	r->cmos[R_A] = 0x26;
	r->cmos[R_B] = B_24H;
	r->cmos[R_D] = 0x80;
	r->cmos[0x14] = 0x06;	/* equipment: math coprocessor, EGA/VGA display */
	rtc__set_memory_size(r, 0);
}

static void checksum(struct rtc *r)
{
	unsigned sum = 0;
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += r->cmos[i];
	r->cmos[0x2e] = sum >> 8;
	r->cmos[0x2f] = sum & 0xff;
}

void rtc__set_cmos(struct rtc *r, unsigned idx, uint8_t v)
{
	if (idx >= 0x0e && idx < 128)
		r->cmos[idx] = v;
	checksum(r);
}

void rtc__set_memory_size(struct rtc *r, uint64_t ram)
{
	uint64_t ext_kb = ram > (1 << 20) ? (ram - (1 << 20)) >> 10 : 0;
	uint64_t above16 = ram > (16 << 20) ? (ram - (16 << 20)) >> 16 : 0;
	if (ext_kb > 0xffff)
		ext_kb = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	r->cmos[0x15] = 640 & 0xff;		/* base memory in KiB */
	r->cmos[0x16] = 640 >> 8;
	r->cmos[0x17] = r->cmos[0x30] = ext_kb & 0xff;
	r->cmos[0x18] = r->cmos[0x31] = ext_kb >> 8;
	r->cmos[0x34] = above16 & 0xff;		/* 64 KiB units above 16 MiB */
	r->cmos[0x35] = above16 >> 8;
	checksum(r);
}

static uint8_t data_read(struct rtc *r, unsigned idx, uint64_t now)
{
	catch_up(r, now);
	update_irq(r);
	if (idx <= R_YEAR || idx == R_CENTURY) {
		if (!(r->cmos[R_B] & B_SET))
			fill_time(r, rtc_ns(r, now) / NS);	/* leaves alarms alone */
		return r->cmos[idx];
	}
	if (idx == R_A) {
		int64_t frac = rtc_ns(r, now) % NS;
		bool uip = running(r) && !(r->cmos[R_B] & B_SET) && frac >= NS - 244000;
		return (r->cmos[R_A] & 0x7f) | (uip ? A_UIP : 0);
	}
	if (idx == R_C) {
		uint8_t v = r->cmos[R_C];
		r->cmos[R_C] = 0;
		update_irq(r);
		return v;
	}
	return r->cmos[idx];
}

static void data_write(struct rtc *r, unsigned idx, uint8_t v, uint64_t now)
{
	catch_up(r, now);
	bool set = r->cmos[R_B] & B_SET;
	if (idx <= R_YEAR || idx == R_CENTURY) {
		bool alarm = idx == R_SEC_ALARM || idx == R_MIN_ALARM || idx == R_HOUR_ALARM;
		if (!set && !alarm) {
			/* a running clock: change one field of the current time */
			int64_t frac = rtc_ns(r, now) % NS;
			fill_time(r, rtc_ns(r, now) / NS);
			r->cmos[idx] = v;
			r->base_ns = regs_time(r) * NS + frac - (int64_t)now;
		} else {
			r->cmos[idx] = v;
		}
		return;
	}
	switch (idx) {
	case R_A: {
		bool was = running(r);
		r->cmos[R_A] = v & 0x7f;
		if (!was && running(r)) {
			/* divider chain leaves reset: the first update is 500 ms away */
			int64_t t = rtc_ns(r, now) / NS;
			r->base_ns = t * NS + NS / 2 - (int64_t)now;
		}
		break;
	}
	case R_B:
		/* DM/24h changes do not convert stored values (as on the chip) */
		if (!set && (v & B_SET)) {
			fill_time(r, rtc_ns(r, now) / NS);	/* freeze */
			v &= ~B_UIE;
		}
		r->cmos[R_B] = v;
		if (set && !(v & B_SET))	/* restart from what was written */
			r->base_ns = regs_time(r) * NS - (int64_t)now;
		break;
	case R_C:
	case R_D:
		return;		/* read-only */
	default:
		r->cmos[idx] = v;
		break;
	}
	update_irq(r);
}

int rtc__io(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct rtc *r = dev;
	uint8_t *b = data;
	if (offset >= 2 || len != 1)
		return -EINVAL;
	if (offset == 0) {
		if (is_write) {
			r->index = b[0] & 0x7f;
			r->nmi_masked = b[0] & 0x80;
		} else {
			b[0] = 0xff;	/* the index register is write-only */
		}
		return 0;
	}
	uint64_t now = vclock__now(r->clock);
	if (is_write)
		data_write(r, r->index, b[0], now);
	else
		b[0] = data_read(r, r->index, now);
	return 0;
}

uint64_t rtc__next_deadline_ns(const struct rtc *r)
{
	uint64_t best = VCLOCK_NEVER, now = r->last_ns;
	uint8_t b = r->cmos[R_B];
	if (!running(r) || (r->cmos[R_C] & C_IRQF))
		return VCLOCK_NEVER;	/* the line is already up until C is read */
	uint64_t p = period_ticks(r);
	if ((b & B_PIE) && p)
		best = k32_to_ns((ns_to_32k(now) / p + 1) * p);
	if ((b & (B_UIE | B_AIE)) && !(b & B_SET)) {
		int64_t t = rtc_ns(r, now);
		int64_t next = (t / NS + 1) * NS - r->base_ns;
		if ((uint64_t)next < best)
			best = next;
	}
	return best;
}

void rtc__poll(struct rtc *r, uint64_t now_ns)
{
	catch_up(r, now_ns);
	update_irq(r);
}

bool rtc__nmi_masked(const struct rtc *r)
{
	return r->nmi_masked;
}
