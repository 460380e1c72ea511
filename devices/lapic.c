/* devices/lapic.c — local APIC, xAPIC MMIO mode, one CPU.
 * Facts (Intel SDM vol. 3A ch. 10, "Advanced Programmable Interrupt
 * Controller"):
 * - 10.8.3.1 PPR = TPR if TPR[7:4] >= ISRV[7:4], else ISRV & 0xf0; a vector
 *   in IRR is dispatched only if its class (bits 7:4) is above PPR[7:4].
 * - 10.8.5 EOI clears the highest ISR bit; for a level-triggered vector (TMR
 *   set) the EOI is broadcast to the I/O APICs.
 * - 10.9 With SVR bit 8 clear every LVT mask bit is set and cannot be cleared.
 * - 10.5.3 ESR is updated from the internal error latch by a write to ESR.
 * - 10.5.4 timer: current count decrements at bus clock / divisor (divide
 *   config bits 3,1:0: 111 = 1, else 2^(n+1)); one-shot stops at 0,
 *   periodic reloads from the initial count; writing 0 stops it.
 * - Vectors 0-15 are illegal: "receive illegal vector" (ESR bit 6), "send
 *   illegal vector" (bit 5).
 */
#include "devices/devices.h"

#include <errno.h>
#include <string.h>

#define LAPIC_VERSION	0x00050014u	/* version 0x14, max LVT entry 5 */
#define LVT_MASKED	0x00010000u
#define SVR_ENABLE	0x100u
#define BASE_ENABLE	0x800u
#define BASE_BSP	0x100u

/* LVT offsets 0x320..0x370 map to these entries; writable bits of each */
static const unsigned lvt_at[6] = {LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0,
				   LVT_LINT1, LVT_ERROR};
static const uint32_t lvt_wmask[LVT_N] = {
	[LVT_CMCI] = 0x107ff, [LVT_TIMER] = 0x700ff, [LVT_THERMAL] = 0x107ff,
	[LVT_PERF] = 0x107ff, [LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff,
	[LVT_ERROR] = 0x100ff,
};

static bool globally_enabled(const struct lapic *a)
{
	return a->base_msr & BASE_ENABLE;
}

static int highest(const uint32_t *bits)
{
	for (int i = 7; i >= 0; i--)
		if (bits[i])
			return i * 32 + 31 - __builtin_clz(bits[i]);
	return -1;
}

static void bit_set(uint32_t *bits, unsigned v) { bits[v >> 5] |= 1u << (v & 31); }
static void bit_clr(uint32_t *bits, unsigned v) { bits[v >> 5] &= ~(1u << (v & 31)); }
static bool bit_test(const uint32_t *bits, unsigned v) { return bits[v >> 5] & (1u << (v & 31)); }

static uint32_t ppr(const struct lapic *a)
{
	int isrv = highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

static void signal_error(struct lapic *a, uint32_t bit);
static void timer_deliver(struct lapic *a);

static void accept(struct lapic *a, uint8_t vector, bool level)
{
	if (vector < 16) {
		signal_error(a, 0x40);
		return;
	}
	bit_set(a->irr, vector);
	if (level)
		bit_set(a->tmr, vector);
	else
		bit_clr(a->tmr, vector);
}

static void signal_error(struct lapic *a, uint32_t bit)
{
	bool fresh = !(a->esr_pending & bit);
	a->esr_pending |= bit;
	uint32_t lvt = a->lvt[LVT_ERROR];
	/* an illegal error vector must not recurse */
	if (fresh && !(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		accept(a, lvt & 0xff, false);
}

void lapic__deliver(struct lapic *a, uint8_t vector, enum apic_dm mode, bool level)
{
	switch (mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		accept(a, vector, level);
		break;
	case APIC_DM_NMI:
		if (a->ops.nmi)
			a->ops.nmi(a->ops.ctx);
		break;
	case APIC_DM_EXTINT:
		a->extint_pending = true;
		break;
	case APIC_DM_INIT:
		a->init_ipis++;	/* one CPU: INIT/SIPI are tolerated, not acted on */
		break;
	case APIC_DM_SIPI:
		a->sipis++;
		break;
	default:
		break;		/* SMI: no SMM */
	}
}

/* Delivers an LVT entry (LINT pins, timer) according to its mode. */
static void lvt_fire(struct lapic *a, unsigned idx)
{
	uint32_t lvt = a->lvt[idx];
	if (lvt & LVT_MASKED)
		return;
	unsigned mode = (lvt >> 8) & 7;
	if (idx == LVT_TIMER || idx == LVT_ERROR)
		mode = APIC_DM_FIXED;
	if (mode == APIC_DM_EXTINT)
		return;		/* handled as a level in has_intr */
	if (mode == APIC_DM_FIXED && (lvt & 0x8000)) {
		if (lvt & 0x4000)
			return;	/* remote IRR: level still in service */
		a->lvt[idx] |= 0x4000;
		accept(a, lvt & 0xff, true);
		return;
	}
	lapic__deliver(a, lvt & 0xff, mode, false);
}

static bool extint_wire(const struct lapic *a)
{
	uint32_t lvt = a->lvt[LVT_LINT0];
	return a->lint[0] && !(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == APIC_DM_EXTINT;
}

void lapic__set_lint(struct lapic *a, unsigned n, int level)
{
	if (n > 1)
		return;
	int old = a->lint[n];
	a->lint[n] = !!level;
	if (!globally_enabled(a))
		return;
	uint32_t lvt = a->lvt[LVT_LINT0 + n];
	bool lvl = lvt & 0x8000;
	if (level && (!old || lvl))
		lvt_fire(a, LVT_LINT0 + n);
}

bool lapic__has_intr(const struct lapic *a)
{
	if (!globally_enabled(a))
		return a->lint[0];	/* virtual wire straight from the 8259 */
	if (a->extint_pending || extint_wire(a))
		return true;
	int v = highest(a->irr);
	return v >= 0 && ((uint32_t)v & 0xf0) > (ppr(a) & 0xf0);
}

bool lapic__routes_pic(const struct lapic *a)
{
	uint32_t lvt = a->lvt[LVT_LINT0];
	return !globally_enabled(a) ||
	       (!(lvt & LVT_MASKED) && ((lvt >> 8) & 7) == APIC_DM_EXTINT);
}

bool lapic__irr_test(const struct lapic *a, uint8_t vector)
{
	return bit_test(a->irr, vector);
}

uint8_t lapic__ack(struct lapic *a)
{
	if (!globally_enabled(a) || a->extint_pending || extint_wire(a)) {
		a->extint_pending = false;
		return a->ops.extint_ack ? a->ops.extint_ack(a->ops.ctx) : (a->svr & 0xff);
	}
	int v = highest(a->irr);
	if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(a) & 0xf0))
		return a->svr & 0xff;	/* spurious: no ISR bit */
	bit_clr(a->irr, v);
	bit_set(a->isr, v);
	if (a->timer_backlog && (unsigned)v == (a->lvt[LVT_TIMER] & 0xff))
		timer_deliver(a);	/* reinjection: waits in IRR until the EOI */
	return (uint8_t)v;
}

static void eoi(struct lapic *a)
{
	int v = highest(a->isr);
	if (v < 0)
		return;
	bit_clr(a->isr, v);
	for (unsigned i = LVT_LINT0; i <= LVT_LINT1; i++)
		if ((a->lvt[i] & 0xff) == (unsigned)v)
			a->lvt[i] &= ~0x4000u;
	if (bit_test(a->tmr, v)) {
		bit_clr(a->tmr, v);
		if (a->ops.eoi)
			a->ops.eoi(a->ops.eoi_ctx, (uint8_t)v);
	}
}

/* ---- timer ------------------------------------------------------------ */

static uint64_t timer_div(const struct lapic *a)
{
	unsigned r = a->timer_divide_reg;
	unsigned d = (r & 3) | ((r >> 1) & 4);
	return d == 7 ? 1 : 2ull << d;
}

static bool timer_periodic(const struct lapic *a)
{
	return ((a->lvt[LVT_TIMER] >> 17) & 3) == 1;
}

static uint64_t counts_to_ns(uint64_t c, uint64_t div)
{
	return (uint64_t)(((unsigned __int128)c * div * 1000000000ull) / LAPIC_BUS_HZ);
}

static uint32_t timer_current(const struct lapic *a, uint64_t now)
{
	if (!a->timer_initial || now < a->timer_start_ns)
		return a->timer_initial;
	uint64_t el = (uint64_t)(((unsigned __int128)(now - a->timer_start_ns) * LAPIC_BUS_HZ) /
				 1000000000ull) / timer_div(a);
	if (timer_periodic(a))
		return a->timer_initial - (uint32_t)(el % a->timer_initial);
	return el >= a->timer_initial ? 0 : a->timer_initial - (uint32_t)el;
}

/* Sets timer_next_ns to the first expiry after now (or never). */
static void timer_rearm(struct lapic *a, uint64_t now)
{
	a->timer_next_ns = VCLOCK_NEVER;
	if (!a->timer_initial)
		return;
	uint64_t period = counts_to_ns(a->timer_initial, timer_div(a));
	uint64_t first = a->timer_start_ns + period;
	if (!timer_periodic(a)) {
		if (first > now)
			a->timer_next_ns = first;
		return;
	}
	if (!period)
		period = 1;
	if (first > now)
		a->timer_next_ns = first;
	else
		a->timer_next_ns = first + ((now - first) / period + 1) * period;
}

uint64_t lapic__next_deadline_ns(const struct lapic *a)
{
	if (!globally_enabled(a) || (a->lvt[LVT_TIMER] & LVT_MASKED))
		return VCLOCK_NEVER;
	return a->timer_next_ns;
}

/* Catch-up (see apic.h): the most expiries the timer backlog may hold. */
static uint32_t timer_backlog_limit(const struct lapic *a)
{
	uint64_t period = counts_to_ns(a->timer_initial, timer_div(a));
	if (!timer_periodic(a) || period < LAPIC_CATCHUP_MIN_PERIOD_NS)
		return 1;
	uint64_t n = LAPIC_CATCHUP_NS / period;
	return n > UINT32_MAX ? UINT32_MAX : n ? (uint32_t)n : 1;
}

/* Sends one timer interrupt from the backlog unless the previous one still
 * waits in IRR (they would merge). */
static void timer_deliver(struct lapic *a)
{
	uint32_t lvt = a->lvt[LVT_TIMER];
	if (!a->timer_backlog || (lvt & LVT_MASKED) || bit_test(a->irr, lvt & 0xff))
		return;
	a->timer_backlog--;
	a->timer_fires++;
	lvt_fire(a, LVT_TIMER);
}

void lapic__poll(struct lapic *a, uint64_t now)
{
	if (a->timer_next_ns <= now) {
		uint64_t due = 1;
		if (timer_periodic(a)) {
			uint64_t period = counts_to_ns(a->timer_initial, timer_div(a));
			due = (now - a->timer_next_ns) / (period ? period : 1) + 1;
			timer_rearm(a, now);
		} else {
			a->timer_next_ns = VCLOCK_NEVER;
		}
		tick_backlog__add(&a->timer_backlog, &a->timer_backlog_max, &a->timer_lost,
				  due, timer_backlog_limit(a));
	}
	timer_deliver(a);
}

/* ---- registers ------------------------------------------------------------ */

static void reset_state(struct lapic *a)
{
	uint64_t base = a->base_msr;
	const struct vclock *clock = a->clock;
	struct lapic_ops ops = a->ops;
	memset(a, 0, sizeof(*a));
	a->base_msr = base;
	a->clock = clock;
	a->ops = ops;
	a->dfr = 0xffffffffu;
	a->svr = 0xff;
	for (unsigned i = 0; i < LVT_N; i++)
		a->lvt[i] = LVT_MASKED;
	a->timer_next_ns = VCLOCK_NEVER;
}

void lapic__init(struct lapic *a, const struct vclock *clock, const struct lapic_ops *ops)
{
	memset(a, 0, sizeof(*a));
	a->clock = clock;
	if (ops)
		a->ops = *ops;
	a->base_msr = LAPIC_BASE | BASE_ENABLE | BASE_BSP;
	reset_state(a);
}

void lapic__firmware_init(struct lapic *a)
{
	a->svr = 0x1ff;
	a->lvt[LVT_LINT0] = APIC_DM_EXTINT << 8;
	a->lvt[LVT_LINT1] = APIC_DM_NMI << 8;
}

uint64_t lapic__read_base_msr(const struct lapic *a)
{
	return a->base_msr;
}

int lapic__write_base_msr(struct lapic *a, uint64_t v)
{
	if ((v & ~0xfffu) != LAPIC_BASE || (v & 0x6ff))
		return -EINVAL;	/* relocation, x2APIC (bit 10), reserved bits */
	bool was = globally_enabled(a);
	a->base_msr = v | BASE_BSP;
	if (was && !(v & BASE_ENABLE))
		reset_state(a);	/* SDM 10.4.3: disabling resets to power-up state */
	return 0;
}

static void send_ipi(struct lapic *a)
{
	uint32_t lo = a->icr_lo;
	uint8_t vec = lo & 0xff;
	unsigned mode = (lo >> 8) & 7, sh = (lo >> 18) & 3;
	bool to_self;
	switch (sh) {
	case 1:			/* self */
	case 2:			/* all including self */
		to_self = true;
		break;
	case 3:			/* all excluding self: no other CPU exists */
		to_self = false;
		break;
	default: {
		uint8_t dest = a->icr_hi >> 24;
		if (lo & 0x800)	/* logical, flat model */
			to_self = dest == 0xff || ((a->ldr >> 24) & dest);
		else
			to_self = dest == 0xff || dest == a->id;
		break;
	}
	}
	if (mode == APIC_DM_INIT) {
		a->init_ipis++;
		return;
	}
	if (mode == APIC_DM_SIPI) {
		a->sipis++;
		return;
	}
	if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && vec < 16) {
		signal_error(a, 0x20);
		return;
	}
	if (to_self)
		lapic__deliver(a, vec, mode, false);
}

static uint32_t reg_read(struct lapic *a, unsigned off)
{
	uint64_t now = vclock__now(a->clock);
	if (off >= 0x100 && off < 0x180)
		return a->isr[(off - 0x100) >> 4];
	if (off >= 0x180 && off < 0x200)
		return a->tmr[(off - 0x180) >> 4];
	if (off >= 0x200 && off < 0x280)
		return a->irr[(off - 0x200) >> 4];
	if (off >= 0x320 && off <= 0x370)
		return a->lvt[lvt_at[(off - 0x320) >> 4]];
	switch (off) {
	case 0x020: return a->id << 24;
	case 0x030: return LAPIC_VERSION;
	case 0x080: return a->tpr;
	case 0x090: return 0;		/* APR: no lowest-priority arbitration */
	case 0x0a0: return ppr(a);
	case 0x0d0: return a->ldr;
	case 0x0e0: return a->dfr;
	case 0x0f0: return a->svr;
	case 0x280: return a->esr;
	case 0x300: return a->icr_lo;	/* delivery status always idle */
	case 0x310: return a->icr_hi;
	case 0x380: return a->timer_initial;
	case 0x390: return timer_current(a, now);
	case 0x3e0: return a->timer_divide_reg;
	default: return 0;		/* EOI, reserved */
	}
}

static void reg_write(struct lapic *a, unsigned off, uint32_t v)
{
	uint64_t now = vclock__now(a->clock);
	bool sw_on = a->svr & SVR_ENABLE;
	if (off >= 0x320 && off <= 0x370) {
		unsigned idx = lvt_at[(off - 0x320) >> 4];
		uint32_t keep = a->lvt[idx] & 0x5000;	/* delivery status, remote IRR */
		a->lvt[idx] = (v & lvt_wmask[idx]) | (keep & ~lvt_wmask[idx]);
		if (!sw_on)
			a->lvt[idx] |= LVT_MASKED;
		if (idx == LVT_TIMER) {
			a->timer_backlog = 0;
			timer_rearm(a, now);
		}
		return;
	}
	switch (off) {
	case 0x020:
		a->id = v >> 24;
		break;
	case 0x080:
		a->tpr = v & 0xff;
		break;
	case 0x0b0:
		eoi(a);
		break;
	case 0x0d0:
		a->ldr = v & 0xff000000u;
		break;
	case 0x0e0:
		a->dfr = v | 0x0fffffffu;
		break;
	case 0x0f0:
		a->svr = v & 0x3ff;
		if (!(v & SVR_ENABLE))
			for (unsigned i = 0; i < LVT_N; i++)
				a->lvt[i] |= LVT_MASKED;
		break;
	case 0x280:
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		break;
	case 0x300:
		a->icr_lo = v & 0x000ccfffu;
		send_ipi(a);
		break;
	case 0x310:
		a->icr_hi = v & 0xff000000u;
		break;
	case 0x380:
		a->timer_initial = v;
		a->timer_start_ns = now;
		a->timer_backlog = 0;
		timer_rearm(a, now);
		break;
	case 0x3e0: {
		uint32_t cur = timer_current(a, now);
		a->timer_divide_reg = v & 0xb;
		/* keep the current count, continue at the new rate */
		if (a->timer_initial) {
			uint64_t done = a->timer_initial - cur;
			uint64_t back = counts_to_ns(done, timer_div(a));
			a->timer_start_ns = now > back ? now - back : 0;
			timer_rearm(a, now);
		}
		break;
	}
	default:
		break;		/* read-only or reserved: ignored */
	}
}

int lapic__mmio(void *dev, uint64_t offset, void *data, unsigned len, bool is_write)
{
	struct lapic *a = dev;
	unsigned off = offset & 0xff0, sub = offset & 0xf;
	if (offset >= 0x1000 || sub + len > 4)
		return -EINVAL;	/* registers are the low dword of each 16 bytes */
	if (is_write) {
		if (len != 4)
			return 0;	/* sub-dword writes are undefined: dropped */
		uint32_t v;
		memcpy(&v, data, 4);
		reg_write(a, off, v);
	} else {
		uint32_t v = reg_read(a, off) >> (8 * sub);
		memcpy(data, &v, len);
	}
	return 0;
}
