/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The local APIC's registers and its priority logic (SDM Vol 3 ch. 11,
 * "Advanced Programmable Interrupt Controller (APIC)"), as pure code: no
 * locks, timers or delivery, which the in-kernel APIC adds on top. Built
 * into hvx.ko and into the userspace unit tests (selftests/unit/).
 *
 * The registers live in one 4 KiB page laid out as the xAPIC MMIO page,
 * each register at its offset (<asm/apicdef.h>), 16-byte aligned. That is
 * also the layout of VMX's virtual-APIC page, so with APIC virtualization
 * the CPU can read and update this same page.
 */
#ifndef HVX_LAPIC_REGS_H
#define HVX_LAPIC_REGS_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "unit_types.h"	/* selftests/unit: the kernel's integer types */
#endif
#include <asm/apicdef.h>

#define HVX_LAPIC_PAGE_SIZE	4096
/*
 * What the APIC reports in its version register: an integrated xAPIC
 * (0x14) with six LVT entries (timer, thermal, PMC, LINT0/1, error).
 */
#define HVX_LAPIC_VERSION	0x14
#define HVX_LAPIC_MAX_LVT	5
/* The LVT timer's mode field (11.5.4); <asm/apicdef.h> names its values. */
#define HVX_LVTT_MODE_MASK	(3u << 17)

/* A decoded interrupt command (ICR, SDM Vol 3 11.6.1). */
struct hvx_lapic_ipi {
	u32 dest;		/* xAPIC: 8 bits, x2APIC: 32 bits */
	u8 vector;
	u8 mode;		/* APIC_DM_* >> 8: fixed, lowest, SMI, NMI, INIT, SIPI */
	u8 shorthand;		/* APIC_DEST_SELF/ALLINC/ALLBUT >> 18, 0: none */
	bool logical;
	bool level;		/* level-triggered (INIT de-assert) */
	bool assert;
};

static inline u32 hvx_lapic_get(const void *page, unsigned int reg)
{
	return *(const u32 *)((const u8 *)page + reg);
}

static inline void hvx_lapic_set(void *page, unsigned int reg, u32 val)
{
	*(u32 *)((u8 *)page + reg) = val;
}

/* The x2APIC logical ID follows from the APIC ID (11.12.10.2). */
static inline u32 hvx_lapic_x2apic_ldr(u32 id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xf));
}

/* Power-on / INIT state (SDM Vol 3 11.4.7.1) with this APIC ID. */
void hvx_lapic_regs_reset(void *page, u32 apic_id, bool x2apic);
/* Highest vector set in the IRR / ISR (APIC_IRR, APIC_ISR), or -1. */
int hvx_lapic_highest_irr(const void *page);
int hvx_lapic_highest_isr(const void *page);
/* How many vectors the IRR holds. */
int hvx_lapic_irr_count(const void *page);
/* Recompute the processor priority (11.8.3.1) into APIC_PROCPRI. */
u32 hvx_lapic_update_ppr(void *page);
/* The vector the APIC would deliver now (priority above PPR), or -1. */
int hvx_lapic_pending_vector(const void *page);
/* A fixed interrupt accepted: IRR bit set, TMR bit per trigger mode. */
void hvx_lapic_accept(void *page, u8 vector, bool level);
/* Only the TMR half of that (the IRR bit travels separately). */
void hvx_lapic_set_trigger(void *page, u8 vector, bool level);
/* Whether @vector's TMR bit is set (it was accepted level-triggered). */
bool hvx_lapic_level(const void *page, u8 vector);
/* The CPU takes the pending vector: IRR to ISR, PPR updated; or -1. */
int hvx_lapic_ack(void *page);
/*
 * EOI: the highest in-service vector leaves the ISR (PPR updated); its
 * TMR bit says whether it was level-triggered (*@level), which the
 * IOAPIC must hear of. Returns the vector, or -1 if none was in service.
 */
int hvx_lapic_eoi(void *page, bool *level);
/* Whether this APIC is a target of destination @dest (11.6.2). */
bool hvx_lapic_match_dest(const void *page, bool x2apic, u32 dest, bool logical);
/* Decode ICR low/high (x2APIC: the destination is all of @high). */
void hvx_lapic_decode_icr(u32 low, u32 high, bool x2apic, struct hvx_lapic_ipi *ipi);
/* What hvx_lapic_write_plain() did with a write. */
enum hvx_lapic_write {
	HVX_LAPIC_STORED,	/* done: ID, TPR, LDR, DFR, SVR, LVT, TDCR, ESR */
	HVX_LAPIC_COMMAND,	/* EOI, ICR, ICR2, TMICT, SELF_IPI: the caller acts */
	HVX_LAPIC_READONLY,	/* read-only or not a register in this mode */
};

/*
 * A guest write of @val to register @reg (xAPIC offset; x2APIC MSRs map
 * to offset (msr - 0x800) << 4). Registers with no side effect beyond
 * themselves take the writable bits of @val; software-disabling the APIC
 * (SVR bit 8) masks every LVT entry, and the masks stay while disabled
 * (SDM Vol 3 11.4.7.2).
 */
enum hvx_lapic_write hvx_lapic_write_plain(void *page, unsigned int reg, u32 val,
					   bool x2apic);

#endif /* HVX_LAPIC_REGS_H */
