/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest interrupt handlers that count what arrives, and the two ways a
 * guest lets interrupts in: a short window, or halting until enough came.
 * Static per test binary: each has its own count.
 */
#ifndef SELFTEST_GUEST_IRQ_H
#define SELFTEST_GUEST_IRQ_H

#include <stdint.h>

#include "apic.h"
#include "kvm_util.h"

/* What the guest's interrupt handlers saw. */
static volatile uint64_t nirqs, last_vector;

/* Edge interrupts: the handler ends them at the (xAPIC) APIC. */
static inline void guest_irq_eoi(struct ex_regs *regs)
{
	nirqs++;
	last_vector = regs->vector;
	apic_write(APIC_EOI, 0);
}

/* Level and PIC interrupts: the guest's main code sends the EOI. */
static inline void guest_irq(struct ex_regs *regs)
{
	nirqs++;
	last_vector = regs->vector;
}

/* Let pending interrupts in for a few instructions, without waiting. */
static inline void irq_window(void)
{
	asm volatile("sti; nop; nop; nop; cli" ::: "memory");
}

/* Halt with interrupts on until @n have arrived in all. */
static inline void wait_irqs(uint64_t n)
{
	while (nirqs < n)
		asm volatile("sti; hlt; cli" ::: "memory");
}

#endif
