/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest side of the local APIC (SDM Vol 3 ch. 11): the xAPIC page at its
 * reset address, register offsets, and the x2APIC MSR of a register. The
 * kernel's <asm/apicdef.h> has these too, but is not a uapi header.
 */
#ifndef SELFTEST_APIC_H
#define SELFTEST_APIC_H

#include <stdint.h>

#define APIC_GPA		0xfee00000UL

#define APIC_ID			0x20
#define APIC_LVR		0x30
#define APIC_TASKPRI		0x80
#define APIC_PROCPRI		0xa0
#define APIC_EOI		0xb0
#define APIC_LDR		0xd0
#define APIC_DFR		0xe0
#define APIC_SPIV		0xf0
#define APIC_ISR		0x100
#define APIC_IRR		0x200
#define APIC_ICR		0x300
#define APIC_ICR2		0x310
#define APIC_LVTT		0x320
#define APIC_LVT0		0x350
#define APIC_LVT1		0x360
#define APIC_LVTERR		0x370
#define APIC_TMICT		0x380
#define APIC_TMCCT		0x390
#define APIC_TDCR		0x3e0

#define APIC_SPIV_ENABLE	(1u << 8)

/* IA32_APIC_BASE bits (11.4.4, 11.12.1). */
#define APICBASE_BSP		(1ULL << 8)
#define APICBASE_X2APIC		(1ULL << 10)
#define APICBASE_ENABLE		(1ULL << 11)

/* The MSR of register @reg in x2APIC mode (11.12.1.2). */
#define X2APIC_MSR(reg)		(0x800 + ((reg) >> 4))

static inline uint32_t apic_read(unsigned int reg)
{
	return *(volatile uint32_t *)(APIC_GPA + reg);
}

static inline void apic_write(unsigned int reg, uint32_t val)
{
	*(volatile uint32_t *)(APIC_GPA + reg) = val;
}

#endif
