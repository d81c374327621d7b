/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of the dual 8259A PIC (Intel 8259A datasheet): the
 * initialization sequence and the ISR read.
 */
#ifndef SELFTEST_PIC_H
#define SELFTEST_PIC_H

#include <stdint.h>

#include "processor.h"

/* ICW1-4 for one 8259A (datasheet "Initialization Command Words"). */
static inline void pic_init(uint16_t port, uint8_t base, uint8_t icw3)
{
	outb(port, 0x11);		/* ICW1: edge, cascade, ICW4 follows */
	outb(port + 1, base);		/* ICW2: vector base */
	outb(port + 1, icw3);		/* ICW3: cascade wiring */
	outb(port + 1, 0x01);		/* ICW4: 8086 mode, normal EOI */
}

static inline uint8_t pic_isr(uint16_t port)
{
	outb(port, 0x0b);		/* OCW3: read ISR */
	return inb(port);
}

#endif
