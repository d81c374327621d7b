// SPDX-License-Identifier: GPL-2.0
/*
 * Local APIC registers and priority logic: see lapic_regs.h. Section
 * numbers are the SDM's Vol 3 chapter 11.
 */
#ifdef __KERNEL__
#include <linux/bitops.h>
#include <linux/kernel.h>
#endif

#include "lapic_regs.h"

/* IRR, ISR and TMR are eight 32-bit registers, 16 bytes apart. */
#define VEC_REG(base, v)	((base) + ((v) >> 5) * 0x10)
#define VEC_BIT(v)		(1u << ((v) & 31))

/* The LVT entries in register order, and what software may write. */
#define LVT_BASE_MASK	(APIC_LVT_MASKED | APIC_VECTOR_MASK)
#define LVT_LINT_MASK	(LVT_BASE_MASK | APIC_MODE_MASK | APIC_INPUT_POLARITY | \
			 APIC_LVT_LEVEL_TRIGGER)

static const struct {
	unsigned int reg;
	u32 writable;
} lvt_regs[HVX_LAPIC_MAX_LVT + 1] = {
	{ APIC_LVTT,	LVT_BASE_MASK | APIC_LVT_TIMER_TSCDEADLINE | APIC_LVT_TIMER_PERIODIC },
	{ APIC_LVTTHMR,	LVT_BASE_MASK | APIC_MODE_MASK },
	{ APIC_LVTPC,	LVT_BASE_MASK | APIC_MODE_MASK },
	{ APIC_LVT0,	LVT_LINT_MASK },
	{ APIC_LVT1,	LVT_LINT_MASK },
	{ APIC_LVTERR,	LVT_BASE_MASK },
};

static int top_bit(u32 v)
{
	return 31 - __builtin_clz(v);
}

static int highest_vector(const void *page, unsigned int base)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 v = hvx_lapic_get(page, base + i * 0x10);

		if (v)
			return i * 32 + top_bit(v);
	}
	return -1;
}

static void vec_set(void *page, unsigned int base, u8 v, bool on)
{
	u32 r = hvx_lapic_get(page, VEC_REG(base, v));

	hvx_lapic_set(page, VEC_REG(base, v), on ? r | VEC_BIT(v) : r & ~VEC_BIT(v));
}

static bool vec_test(const void *page, unsigned int base, u8 v)
{
	return hvx_lapic_get(page, VEC_REG(base, v)) & VEC_BIT(v);
}

void hvx_lapic_regs_reset(void *page, u32 apic_id, bool x2apic)
{
	unsigned int i;
	u8 *p = page;

	for (i = 0; i < HVX_LAPIC_PAGE_SIZE; i++)
		p[i] = 0;
	hvx_lapic_set(page, APIC_ID, x2apic ? apic_id : apic_id << 24);
	hvx_lapic_set(page, APIC_LVR, HVX_LAPIC_VERSION | HVX_LAPIC_MAX_LVT << 16);
	hvx_lapic_set(page, APIC_DFR, APIC_DFR_FLAT);
	hvx_lapic_set(page, APIC_SPIV, 0xff);
	if (x2apic)
		hvx_lapic_set(page, APIC_LDR, hvx_lapic_x2apic_ldr(apic_id));
	for (i = 0; i < ARRAY_SIZE(lvt_regs); i++)
		hvx_lapic_set(page, lvt_regs[i].reg, APIC_LVT_MASKED);
}

int hvx_lapic_highest_irr(const void *page)
{
	return highest_vector(page, APIC_IRR);
}

int hvx_lapic_highest_isr(const void *page)
{
	return highest_vector(page, APIC_ISR);
}

int hvx_lapic_irr_count(const void *page)
{
	int i, n = 0;

	for (i = 0; i < 8; i++)
		n += hweight32(hvx_lapic_get(page, APIC_IRR + i * 0x10));
	return n;
}

/*
 * PPR (11.8.3.1): the TPR if its class is at least that of the highest
 * in-service vector, else that vector's class.
 */
u32 hvx_lapic_update_ppr(void *page)
{
	u32 tpr = hvx_lapic_get(page, APIC_TASKPRI) & APIC_TPRI_MASK;
	int isrv = hvx_lapic_highest_isr(page);
	u32 isr_class = isrv < 0 ? 0 : isrv & 0xf0;
	u32 ppr = (tpr & 0xf0) >= isr_class ? tpr : isr_class;

	hvx_lapic_set(page, APIC_PROCPRI, ppr);
	return ppr;
}

/* 11.8.3: a vector is delivered only if its class is above the PPR's. */
int hvx_lapic_pending_vector(const void *page)
{
	int v = hvx_lapic_highest_irr(page);

	if (v < 0 || (u32)(v & 0xf0) <= (hvx_lapic_get(page, APIC_PROCPRI) & 0xf0))
		return -1;
	return v;
}

void hvx_lapic_accept(void *page, u8 vector, bool level)
{
	vec_set(page, APIC_IRR, vector, true);
	vec_set(page, APIC_TMR, vector, level);
}

void hvx_lapic_set_trigger(void *page, u8 vector, bool level)
{
	vec_set(page, APIC_TMR, vector, level);
}

bool hvx_lapic_level(const void *page, u8 vector)
{
	return vec_test(page, APIC_TMR, vector);
}

int hvx_lapic_ack(void *page)
{
	int v = hvx_lapic_pending_vector(page);

	if (v < 0)
		return -1;
	vec_set(page, APIC_IRR, v, false);
	vec_set(page, APIC_ISR, v, true);
	hvx_lapic_update_ppr(page);
	return v;
}

int hvx_lapic_eoi(void *page, bool *level)
{
	int v = hvx_lapic_highest_isr(page);

	*level = false;
	if (v < 0)
		return -1;
	vec_set(page, APIC_ISR, v, false);
	*level = vec_test(page, APIC_TMR, v);
	hvx_lapic_update_ppr(page);
	return v;
}

/*
 * Physical: the APIC ID, or the broadcast ID. Logical (11.6.2.2): x2APIC
 * cluster (bits 31:16) and member bits; xAPIC flat (any common bit of the
 * 8-bit logical ID) or cluster (high nibble equal, a common low bit).
 */
bool hvx_lapic_match_dest(const void *page, bool x2apic, u32 dest, bool logical)
{
	u32 ldr = hvx_lapic_get(page, APIC_LDR);
	u32 id = hvx_lapic_get(page, APIC_ID);

	if (!x2apic)
		dest &= 0xff;
	if (dest == (x2apic ? 0xffffffffu : 0xffu))
		return true;
	if (!logical)
		return dest == (x2apic ? id : id >> 24);
	if (x2apic)
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xffff);
	ldr >>= 24;
	if ((hvx_lapic_get(page, APIC_DFR) >> 28) == 0xf)
		return ldr & dest;
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf);
}

void hvx_lapic_decode_icr(u32 low, u32 high, bool x2apic, struct hvx_lapic_ipi *ipi)
{
	ipi->vector = low & APIC_VECTOR_MASK;
	ipi->mode = (low & APIC_DM_FIXED_MASK) >> 8;
	ipi->logical = low & APIC_DEST_LOGICAL;
	ipi->level = low & APIC_INT_LEVELTRIG;
	ipi->assert = low & APIC_INT_ASSERT;
	ipi->shorthand = (low >> 18) & 3;
	ipi->dest = x2apic ? high : high >> 24;
}

static void mask_all_lvts(void *page)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lvt_regs); i++)
		hvx_lapic_set(page, lvt_regs[i].reg,
			      hvx_lapic_get(page, lvt_regs[i].reg) | APIC_LVT_MASKED);
}

static bool sw_enabled(const void *page)
{
	return hvx_lapic_get(page, APIC_SPIV) & APIC_SPIV_APIC_ENABLED;
}

enum hvx_lapic_write hvx_lapic_write_plain(void *page, unsigned int reg, u32 val,
					   bool x2apic)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lvt_regs); i++) {
		u32 old;

		if (lvt_regs[i].reg != reg)
			continue;
		/* Remote IRR and delivery status are the APIC's to set. */
		old = hvx_lapic_get(page, reg);
		val = (val & lvt_regs[i].writable) |
		      (old & (APIC_LVT_REMOTE_IRR | APIC_SEND_PENDING));
		if (!sw_enabled(page))
			val |= APIC_LVT_MASKED;
		hvx_lapic_set(page, reg, val);
		return HVX_LAPIC_STORED;
	}

	switch (reg) {
	case APIC_ID:
		/* Read-only in x2APIC mode (11.12.5.1). */
		if (x2apic)
			return HVX_LAPIC_READONLY;
		hvx_lapic_set(page, reg, val & 0xff000000);
		return HVX_LAPIC_STORED;
	case APIC_TASKPRI:
		hvx_lapic_set(page, reg, val & APIC_TPRI_MASK);
		hvx_lapic_update_ppr(page);
		return HVX_LAPIC_STORED;
	case APIC_LDR:
		if (x2apic)
			return HVX_LAPIC_READONLY;
		hvx_lapic_set(page, reg, val & APIC_LDR_MASK);
		return HVX_LAPIC_STORED;
	case APIC_DFR:
		/* No DFR in x2APIC mode; bits 27:0 read as ones. */
		if (x2apic)
			return HVX_LAPIC_READONLY;
		hvx_lapic_set(page, reg, val | APIC_DFR_CLUSTER);
		return HVX_LAPIC_STORED;
	case APIC_SPIV:
		/* Vector, enable, focus; no directed EOI offered. */
		hvx_lapic_set(page, reg, val & 0x3ff);
		if (!(val & APIC_SPIV_APIC_ENABLED))
			mask_all_lvts(page);
		return HVX_LAPIC_STORED;
	case APIC_TDCR:
		hvx_lapic_set(page, reg, val & 0xb);
		return HVX_LAPIC_STORED;
	case APIC_ESR:
		/* A write latches the errors seen since; the caller keeps those. */
		hvx_lapic_set(page, reg, 0);
		return HVX_LAPIC_STORED;
	case APIC_EOI:
	case APIC_ICR:
	case APIC_TMICT:
		return HVX_LAPIC_COMMAND;
	case APIC_ICR2:
		/* x2APIC has one 64-bit ICR at 0x300 (11.12.9). */
		return x2apic ? HVX_LAPIC_READONLY : HVX_LAPIC_COMMAND;
	case APIC_SELF_IPI:
		return x2apic ? HVX_LAPIC_COMMAND : HVX_LAPIC_READONLY;
	default:
		return HVX_LAPIC_READONLY;
	}
}
