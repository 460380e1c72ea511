/* devices/pic.h — i8259A programmable interrupt controller pair (master at
 * 0x20-0x21, slave at 0xa0-0xa1 cascaded on master IR2) with the PIIX edge/
 * level control registers ELCR1/ELCR2 at 0x4d0-0x4d1.
 *
 * Board wiring:
 *	pic__init(&pic, intr_line);	intr_line (may be NULL) follows INTR
 *	bus__register(bus, BUS_PIO, 0x20, 2, pic__io_master, &pic, "pic1");
 *	bus__register(bus, BUS_PIO, 0xa0, 2, pic__io_slave, &pic, "pic2");
 *	bus__register(bus, BUS_PIO, 0x4d0, 2, pic__io_elcr, &pic, "elcr");
 *	device IRQ lines:	pic__set_irq(&pic, irq, level)   (irq 0-15)
 *	CPU, when IF=1:		if (pic__has_intr(&pic)) vec = pic__ack(&pic);
 * pic__irq_line(&pic, n, &line) fills an irq_line for device n.
 */
#ifndef HVMM_DEVICES_PIC_H
#define HVMM_DEVICES_PIC_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line;

struct pic_chip {
	uint8_t irr, imr, isr;
	uint8_t lines;		/* current input levels (edge sense) */
	uint8_t elcr, elcr_mask;	/* 1 = level-triggered input */
	uint8_t priority_add;	/* IR with lowest priority is (priority_add-1)&7 */
	uint8_t irq_base;	/* ICW2 */
	uint8_t init_state;	/* 0 = operational, 1..3 = expecting ICW2..ICW4 */
	bool init4, single, auto_eoi, rotate_on_aeoi, special_fully_nested;
	bool read_isr, poll, special_mask;
	bool is_master;
};

struct pic {
	struct pic_chip chip[2];	/* [0] master, [1] slave */
	int intr;			/* INTR output level */
	const struct irq_line *intr_line;
	uint64_t spurious;		/* acks that found nothing */
};

/* Power-on state (IMR 0, edge triggered, vector base 0); intr_line may be NULL. */
void pic__init(struct pic *p, const struct irq_line *intr_line);

/* Wires a PIC whose state was copied in from elsewhere (the in-kernel
 * irqchip moves it between hvmm.ko and the board): its INTR line (NULL for
 * an image that leaves), and the INTR level recomputed from the state. */
void pic__attach(struct pic *p, const struct irq_line *intr_line);

/* Drives ISA IRQ line irq (0-15; 2 is the cascade input and is ignored). */
void pic__set_irq(struct pic *p, unsigned irq, int level);

/* Whether INTR is asserted (an unmasked request beats the in-service level). */
bool pic__has_intr(const struct pic *p);

/* The INTA cycle: returns the vector to deliver and updates IRR/ISR. With
 * nothing pending it returns the spurious vector (IR7 of the master). */
uint8_t pic__ack(struct pic *p);

/* Fills *line so that irq_line__set(line, level) drives PIC input irq. */
void pic__irq_line(struct pic *p, unsigned irq, struct irq_line *line);

int pic__io_master(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);
int pic__io_slave(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);
int pic__io_elcr(void *dev, uint64_t offset, void *data, unsigned len, bool is_write);

#endif
