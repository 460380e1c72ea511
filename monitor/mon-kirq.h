/* monitor/mon-kirq.h — the in-kernel irqchip of the hybrid engine
 * (docs/kirq.md): the i8259 pair, the i8254 PIT with port 0x61, and port
 * 0x80, run inside hvmm.ko by the very devices/pic.c and devices/pit.c that
 * userland runs, so that a guest timer tick needs no exit to userland.
 * monitor/mon-sys.c asks it for port I/O and interrupt acknowledge;
 * host-driver/hvmm-kirq.c owns it and implements its ioctls.
 *
 * Plain C types and the ABI header only (the kernel side includes it too);
 * the object is allocated by the caller (mon_kirq__size bytes, zeroed).
 */
#ifndef HVMM_MON_KIRQ_H
#define HVMM_MON_KIRQ_H

#include "host-driver/hvmm-abi.h"

struct mon_kirq;

unsigned long mon_kirq__size(void);

/* Power-on devices, chip off; now_ns reads CLOCK_MONOTONIC in ns. */
void mon_kirq__init(struct mon_kirq *k, unsigned long long (*now_ns)(void));

/* intr(ctx, level) follows the PIC's INTR output while the chip is on
 * (mon-sys.c connects it to the interpreter's INTR input). */
void mon_kirq__connect(struct mon_kirq *k, void (*intr)(void *ctx, int level), void *ctx);

/* HVMM_VCPU_KIRQ_SET: loads a state image (HVMM_KIRQ_ON) or turns the chip
 * off. Returns 0, or -22 (EINVAL) when the struct sizes do not match; any
 * other content is made safe (pointers replaced, counts/modes clamped). */
int mon_kirq__set_state(struct mon_kirq *k, const struct hvmm_kirq_state *s);

/* HVMM_VCPU_KIRQ_GET: the state image and counters. */
void mon_kirq__get_state(const struct mon_kirq *k, struct hvmm_kirq_state *s);

/* HVMM_VCPU_KIRQ_LINES: userland's ISA lines (see hvmm-abi.h). */
void mon_kirq__set_lines(struct mon_kirq *k, __u16 levels, __u16 edges);

/* Whether the chip is on. */
int mon_kirq__on(const struct mon_kirq *k);

/* 1 if @port is one of the chip's and the chip is on (mon_kirq__pio would
 * take an access to it). */
int mon_kirq__owns(const struct mon_kirq *k, __u16 port);

/* A guest port access: 1 if the chip handled it (data filled for a read),
 * 0 if the port is not its own or the chip is off. */
int mon_kirq__pio(struct mon_kirq *k, __u16 port, void *data, unsigned len, int is_write);

/* Fires the PIT if its deadline passed (call between interpreter chunks). */
void mon_kirq__poll(struct mon_kirq *k);

/* INTR of the PIC; the INTA cycle (vector; PIT catch-up continues after it). */
int mon_kirq__has_intr(const struct mon_kirq *k);
int mon_kirq__ack(struct mon_kirq *k);

/* The PIT's next IRQ0 time as CLOCK_MONOTONIC ns, or ~0ull (none, or off). */
unsigned long long mon_kirq__deadline(const struct mon_kirq *k);

/* Counts a host timer armed for mon_kirq__deadline (stats only). */
void mon_kirq__count_kick(struct mon_kirq *k);

#endif
