/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of the in-kernel IOAPIC (Intel 82093AA datasheet): its
 * MMIO window at KVM's default base, the indirect registers, and the
 * redirection entry bits (datasheet 3.2).
 */
#ifndef SELFTEST_IOAPIC_H
#define SELFTEST_IOAPIC_H

#include <stdint.h>

#define IOAPIC_GPA		0xfec00000UL
#define IOAPIC_ID		0x00
#define IOAPIC_VER		0x01
#define IOAPIC_REDIR(pin)	(0x10 + 2 * (pin))

#define REDIR_REMOTE_IRR	(1u << 14)
#define REDIR_LEVEL		(1u << 15)
#define REDIR_MASKED		(1u << 16)

static inline uint32_t ioapic_read(uint32_t reg)
{
	*(volatile uint32_t *)IOAPIC_GPA = reg;
	return *(volatile uint32_t *)(IOAPIC_GPA + 0x10);
}

static inline void ioapic_write(uint32_t reg, uint32_t val)
{
	*(volatile uint32_t *)IOAPIC_GPA = reg;
	*(volatile uint32_t *)(IOAPIC_GPA + 0x10) = val;
}

/* Pin @pin to APIC ID 0, physical, with the low half @low (vector, bits). */
static inline void ioapic_route(int pin, uint32_t low)
{
	ioapic_write(IOAPIC_REDIR(pin) + 1, 0);
	ioapic_write(IOAPIC_REDIR(pin), low);
}

#endif
