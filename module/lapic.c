// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC (SDM Vol 3 ch. 11), one per vCPU of a VM with
 * an in-kernel irqchip: its xAPIC MMIO page and x2APIC MSRs, TPR/CR8,
 * interrupt injection, KVM_GET/SET_LAPIC and its life cycle. Register
 * semantics are lapic_regs.c's; the timer, the bus and the run states
 * have files of their own (lapic.h).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/slab.h>

#include "lapic.h"
#include "backend.h"
#include "compat.h"
#include "alloc.h"

/*
 * A fixed interrupt for @apic from any thread (lapic.h): the trigger mode
 * goes straight into the TMR, which the CPU never writes, the request into
 * the descriptor. The TMR bit is in place before the PIR bit can be seen,
 * so the vCPU thread never finds the vector in its IRR with a stale
 * trigger mode. The caller kicks the vCPU.
 */
void lapic_post(struct hvx_lapic *apic, u8 vector, bool level)
{
	unsigned long flags;

	spin_lock_irqsave(&apic->lock, flags);
	hvx_lapic_set_trigger(apic->regs, vector, level);
	spin_unlock_irqrestore(&apic->lock, flags);
	set_bit(vector, apic->pi.pir);
	/* The request before ON: the vCPU thread clears ON, then reads the PIR. */
	smp_mb__before_atomic();
	set_bit(HVX_PI_ON, &apic->pi.control);
}

/*
 * In the vCPU thread: move the posted requests into the IRR (SDM Vol 3
 * 29.6: clear ON, then take each PIR word atomically and OR it into the
 * VIRR). A request posted after ON was cleared sets ON again and is
 * taken next time.
 */
static void apic_sync_pir(struct hvx_lapic *apic)
{
	unsigned long pir[ARRAY_SIZE(apic->pi.pir)], flags;
	unsigned int i, reg;

	if (!test_bit(HVX_PI_ON, &apic->pi.control) ||
	    !test_and_clear_bit(HVX_PI_ON, &apic->pi.control))
		return;
	for (i = 0; i < ARRAY_SIZE(pir); i++)
		pir[i] = READ_ONCE(apic->pi.pir[i]) ? xchg(&apic->pi.pir[i], 0) : 0;
	spin_lock_irqsave(&apic->lock, flags);
	/* IRR word n (at APIC_IRR + n * 0x10) holds vectors 32n..32n+31. */
	for (i = 0; i < 8; i++) {
		u32 bits = pir[i / (BITS_PER_LONG / 32)] >> (32 * (i % (BITS_PER_LONG / 32)));

		reg = APIC_IRR + i * 0x10;
		if (bits)
			reg_set(apic, reg, reg_get(apic, reg) | bits);
	}
	spin_unlock_irqrestore(&apic->lock, flags);
}

/* Nothing posted stays behind: INIT, reset and KVM_SET_LAPIC drop it. */
static void apic_clear_pir(struct hvx_lapic *apic)
{
	unsigned int i;

	clear_bit(HVX_PI_ON, &apic->pi.control);
	for (i = 0; i < ARRAY_SIZE(apic->pi.pir); i++)
		WRITE_ONCE(apic->pi.pir[i], 0);
}

/*
 * Turn posted interrupts, expiries and posted NMIs into state the
 * injection path sees.
 */
void lapic_sync_posted(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned long flags;
	u32 lvtt;

	apic_sync_pir(apic);
	if (atomic_read(&apic->timer_pending) && atomic_xchg(&apic->timer_pending, 0)) {
		lvtt = reg_get(apic, APIC_LVTT);
		if (lapic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
			apic->tsc_deadline = 0;
		if (!(lvtt & APIC_LVT_MASKED)) {
			spin_lock_irqsave(&apic->lock, flags);
			hvx_lapic_accept(apic->regs, lvtt & APIC_VECTOR_MASK, false);
			spin_unlock_irqrestore(&apic->lock, flags);
		}
	}
	while (atomic_read(&apic->nmis) && atomic_add_unless(&apic->nmis, -1, 0))
		hvx_vcpu_nmi(vcpu);
}

static void apic_set_tpr(struct hvx_lapic *apic, u32 tpr)
{
	unsigned long flags;

	spin_lock_irqsave(&apic->lock, flags);
	hvx_lapic_write_plain(apic->regs, APIC_TASKPRI, tpr, false);
	spin_unlock_irqrestore(&apic->lock, flags);
}

/*
 * CR8 is the TPR's bits 7:4 (SDM Vol 3 10.8.6.1). The backend keeps the
 * guest's CR8 (written by MOV to CR8 exits or, on SVM, by the guest
 * directly into V_TPR); the APIC keeps the TPR. Whichever changed since
 * the last sync wins: a CR8 that differs from what was last written to
 * the backend was written by the guest (or KVM_SET_SREGS).
 */
static void apic_sync_tpr(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;
	u8 cr8, tpr8;

	/* With a TPR shadow, CR8 is the page's TPR (SDM Vol 3 29.3). */
	if (vcpu->apicv)
		return;
	cr8 = hvx_ops->get_cr(vcpu, 8);
	tpr8 = reg_get(apic, APIC_TASKPRI) >> 4;
	/* A MOV to CR8 clears TPR[3:0] (10.8.6.1); a CR8 in step keeps them. */
	if (cr8 != apic->cr8_synced && cr8 != tpr8)
		apic_set_tpr(apic, cr8 << 4);
	tpr8 = reg_get(apic, APIC_TASKPRI) >> 4;
	if (tpr8 != cr8)
		hvx_ops->set_cr8(vcpu, tpr8);
	apic->cr8_synced = tpr8;
}

static u32 lapic_read(struct hvx_lapic *apic, unsigned int reg)
{
	if (reg == APIC_TMCCT)
		return lapic_timer_current_count(apic);
	/* What was posted has reached the APIC as far as the guest can tell. */
	if (reg >= APIC_IRR && reg < APIC_IRR + 0x80)
		apic_sync_pir(apic);
	return reg_get(apic, reg);
}

/*
 * An EOI beyond the APIC (SDM Vol 3 11.8.5): a level-triggered one to
 * the in-kernel IOAPIC. With a split irqchip, userspace's IOAPIC hears
 * of the EOIs of the level MSIs it sends (KVM_EXIT_IOAPIC_EOI, once the
 * EOI's instruction is done), whatever the TMR says, as in KVM.
 */
static void lapic_eoi_broadcast(struct hvx_vcpu *vcpu, u8 vector, bool level)
{
	switch (READ_ONCE(vcpu->vm->irqchip)) {
	case HVX_IRQCHIP_KERNEL:
		if (level)
			hvx_ioapic_eoi(vcpu->vm, vector);
		break;
	case HVX_IRQCHIP_SPLIT:
		if (hvx_irq_split_eoi_exits(vcpu, vector)) {
			vcpu->ioapic_eoi_vector = vector;
			set_bit(HVX_REQ_IOAPIC_EOI, &vcpu->requests);
		}
		break;
	case HVX_IRQCHIP_NONE:
		break;
	}
}

/*
 * A guest write to register @reg; x2APIC MSR writes arrive here too
 * (ICR with its destination in @high). Returns 1 if the write must fault
 * (x2APIC only: xAPIC ignores writes to read-only registers).
 */
static int lapic_write(struct hvx_vcpu *vcpu, unsigned int reg, u32 val, u32 high)
{
	struct hvx_lapic *apic = vcpu->lapic;
	bool x2apic = apic_x2apic(vcpu);
	u32 old_mode = apic->timer_mode;
	enum hvx_lapic_write w;
	unsigned long flags;
	bool level;
	int v;

	spin_lock_irqsave(&apic->lock, flags);
	w = hvx_lapic_write_plain(apic->regs, reg, val, x2apic);
	spin_unlock_irqrestore(&apic->lock, flags);

	switch (w) {
	case HVX_LAPIC_READONLY:
		return x2apic;
	case HVX_LAPIC_STORED:
		if (reg == APIC_LVTT)
			lapic_timer_lvtt_written(apic, old_mode);
		return 0;
	case HVX_LAPIC_COMMAND:
		break;
	}
	switch (reg) {
	case APIC_EOI:
		spin_lock_irqsave(&apic->lock, flags);
		v = hvx_lapic_eoi(apic->regs, &level);
		spin_unlock_irqrestore(&apic->lock, flags);
		if (v >= 0)
			lapic_eoi_broadcast(vcpu, v, level);
		break;
	case APIC_ICR:
		lapic_send_ipi(vcpu, val, x2apic ? high : reg_get(apic, APIC_ICR2));
		break;
	case APIC_ICR2:
		reg_set(apic, APIC_ICR2, val & 0xff000000);
		break;
	case APIC_TMICT:
		reg_set(apic, APIC_TMICT, val);
		lapic_timer_start_count(apic);
		break;
	case APIC_SELF_IPI:
		lapic_accept(vcpu, APIC_DM_FIXED >> 8, val & APIC_VECTOR_MASK, false, true);
		break;
	}
	return 0;
}

/*
 * An EOI-induced exit (VMX virtual-interrupt delivery, SDM Vol 3 29.1.4):
 * the CPU has already taken @vector out of the ISR and updated the PPR;
 * what is left is the EOI's effect outside the APIC. The EOI-exit bitmap
 * covers every vector whose TMR bit is set; the TMR decides here, as it
 * does for an EOI hvx handles itself.
 */
void hvx_lapic_eoi_exit(struct hvx_vcpu *vcpu, u8 vector)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned long flags;
	bool level;

	spin_lock_irqsave(&apic->lock, flags);
	level = hvx_lapic_level(apic->regs, vector);
	spin_unlock_irqrestore(&apic->lock, flags);
	lapic_eoi_broadcast(vcpu, vector, level);
}

/*
 * An APIC-write exit (SDM Vol 3 29.4.3.3): the guest wrote the register
 * at @offset of its xAPIC page, the CPU stored the value in the
 * virtual-APIC page, which is this APIC's register page, and left the
 * write's effects to hvx. They are those of the same write through
 * hvx's own MMIO path; only the value is already in place, so it is
 * taken from there and written again with hvx's masks.
 */
void hvx_lapic_write_exit(struct hvx_vcpu *vcpu, u32 offset)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned int reg = offset & 0xff0;
	u32 val = reg_get(apic, reg);

	/*
	 * Delivery status and Remote IRR are the APIC's to set, and hvx's
	 * APIC never sets them: whatever the guest stored there goes.
	 */
	if (reg >= APIC_LVTT && reg <= APIC_LVTERR) {
		val &= ~(APIC_LVT_REMOTE_IRR | APIC_SEND_PENDING);
		reg_set(apic, reg, val);
	}
	lapic_write(vcpu, reg, val, 0);
}

/*
 * The xAPIC page at the APIC base. Writes other than aligned dwords are
 * dropped, reads return the bytes of one register. While the APIC is
 * disabled or in x2APIC mode the page reads as all ones and ignores
 * writes, as KVM's KVM_X86_QUIRK_LAPIC_MMIO_HOLE (on by default) has it.
 * Returns false if @gpa is not this APIC's page.
 */
bool hvx_lapic_mmio(struct hvx_vcpu *vcpu, u64 gpa, unsigned int len,
		    bool write, u64 *data)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned int off = gpa & (HVX_LAPIC_PAGE_SIZE - 1);
	unsigned int reg = off & ~0xfu, shift = off & 0xf;

	if (!apic ||
	    (gpa & ~(u64)(HVX_LAPIC_PAGE_SIZE - 1)) != (vcpu->apic_base & MSR_IA32_APICBASE_BASE))
		return false;
	if (!apic_hw_enabled(vcpu) || apic_x2apic(vcpu)) {
		if (!write)
			*data = GENMASK_ULL(len * 8 - 1, 0);
		return true;
	}
	/* The guest may have moved CR8 since the last exit (SVM's V_TPR). */
	apic_sync_tpr(vcpu);
	if (write) {
		if (len == 4 && !shift)
			lapic_write(vcpu, reg, *data, 0);
		return true;
	}
	*data = shift + len <= 4 ? (lapic_read(apic, reg) >> (shift * 8)) &
				   GENMASK_ULL(len * 8 - 1, 0) : 0;
	return true;
}

/* x2APIC registers that RDMSR may read (11.12.1.2, Table 11-6). */
static bool x2apic_readable(unsigned int reg)
{
	switch (reg) {
	case APIC_ID: case APIC_LVR: case APIC_TASKPRI: case APIC_PROCPRI:
	case APIC_LDR: case APIC_SPIV: case APIC_ESR: case APIC_ICR:
	case APIC_LVTT: case APIC_LVTTHMR: case APIC_LVTPC: case APIC_LVT0:
	case APIC_LVT1: case APIC_LVTERR: case APIC_TMICT: case APIC_TMCCT:
	case APIC_TDCR:
		return true;
	}
	return (reg >= APIC_ISR && reg < APIC_ISR + 0x80) ||
	       (reg >= APIC_TMR && reg < APIC_TMR + 0x80) ||
	       (reg >= APIC_IRR && reg < APIC_IRR + 0x80);
}

/*
 * MSRs 0x800-0x8ff in x2APIC mode, and IA32_TSC_DEADLINE. Returns 0, 1
 * to fault, or -ENOENT if @msr is not the APIC's (no in-kernel APIC).
 */
int hvx_lapic_get_msr(struct hvx_vcpu *vcpu, u32 msr, u64 *data)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned int reg = (msr - APIC_BASE_MSR) << 4;

	if (!apic)
		return -ENOENT;
	apic_sync_tpr(vcpu);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		lapic_sync_posted(vcpu);
		*data = lapic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE ?
			apic->tsc_deadline : 0;
		return 0;
	}
	if (!apic_x2apic(vcpu) || !x2apic_readable(reg))
		return 1;
	*data = lapic_read(apic, reg);
	if (reg == APIC_ICR)
		*data |= (u64)reg_get(apic, APIC_ICR2) << 32;
	return 0;
}

int hvx_lapic_set_msr(struct hvx_vcpu *vcpu, u32 msr, u64 data)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned int reg = (msr - APIC_BASE_MSR) << 4;

	if (!apic)
		return -ENOENT;
	apic_sync_tpr(vcpu);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		/* Ignored outside TSC-deadline mode (11.5.4.1). */
		if (lapic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE)
			lapic_timer_set_deadline(apic, data);
		return 0;
	}
	if (!apic_x2apic(vcpu))
		return 1;
	/* Only the ICR is 64 bits wide; EOI and ESR take zero (11.12.1.2). */
	if (reg != APIC_ICR && data >> 32)
		return 1;
	if ((reg == APIC_EOI || reg == APIC_ESR) && data)
		return 1;
	if (reg == APIC_TMCCT || reg == APIC_ICR2)
		return 1;
	if (!x2apic_readable(reg) && reg != APIC_EOI && reg != APIC_SELF_IPI)
		return 1;
	return lapic_write(vcpu, reg, data, data >> 32);
}

/*
 * IA32_APIC_BASE changed (already validated, msr.c). Entering x2APIC mode
 * gives the APIC its 32-bit ID and derived logical ID (11.12.5.1);
 * leaving it (to disabled) brings back the xAPIC ID layout.
 */
void hvx_lapic_set_base(struct hvx_vcpu *vcpu, u64 old)
{
	struct hvx_lapic *apic = vcpu->lapic;
	u64 now = vcpu->apic_base;

	if (!apic)
		return;
	/* Which accesses the CPU may virtualize depends on mode and address. */
	if (vcpu->apicv && old != now)
		hvx_ops->apic_base_changed(vcpu);
	if (!((old ^ now) & (X2APIC_ENABLE | MSR_IA32_APICBASE_ENABLE)))
		return;
	if (now & X2APIC_ENABLE) {
		reg_set(apic, APIC_ID, vcpu->id);
		reg_set(apic, APIC_LDR, hvx_lapic_x2apic_ldr(vcpu->id));
	} else if (!(now & MSR_IA32_APICBASE_ENABLE)) {
		/* Disabling resets the APIC but for its ID (11.4.3). */
		lapic_timer_stop(apic);
		hvx_lapic_regs_reset(apic->regs, vcpu->id, false);
		apic->timer_mode = 0;
	}
}

/*
 * KVM_SET_SREGS's CR8. Without a TPR shadow the next apic_sync_tpr()
 * sees the new CR8; with one, CR8 is the TPR, and a different class
 * replaces the TPR as a MOV to CR8 would.
 */
void hvx_lapic_set_cr8(struct hvx_vcpu *vcpu, u8 cr8)
{
	struct hvx_lapic *apic = vcpu->lapic;

	if (apic && vcpu->apicv && (reg_get(apic, APIC_TASKPRI) >> 4) != (cr8 & 0xf))
		apic_set_tpr(apic, (cr8 & 0xf) << 4);
}

/* The register page, which VMX uses as the virtual-APIC page; or NULL. */
void *hvx_lapic_page(struct hvx_vcpu *vcpu)
{
	return vcpu->lapic ? vcpu->lapic->regs : NULL;
}

/* The vector the APIC would deliver now (priority above PPR), or -1. */
static int apic_pending(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned long flags;
	int v;

	lapic_sync_posted(vcpu);
	apic_sync_tpr(vcpu);
	if (!apic_hw_enabled(vcpu))
		return -1;
	spin_lock_irqsave(&apic->lock, flags);
	v = hvx_lapic_pending_vector(apic->regs);
	spin_unlock_irqrestore(&apic->lock, flags);
	return v;
}

/*
 * With virtual-interrupt delivery the CPU takes interrupts from the
 * virtual-APIC page itself (SDM Vol 3 29.2): before each entry it needs
 * RVI and SVI, the highest vectors in the IRR and ISR, which VM entry
 * loads from the guest interrupt status before it evaluates pending
 * virtual interrupts (27.3.2.5), and the EOI-exit bitmap, which makes
 * the EOI of each level-triggered vector exit to hvx (29.1.4). The TMR
 * marks exactly those, so the bitmap starts as the TMR.
 *
 * The CPU is left only a vector the guest can take at this entry
 * (@allowed: RFLAGS.IF set, no shadow, no event in the entry slot). A
 * pending virtual interrupt waits for IF by the SDM's rules, but Bochs
 * 2.7 delivers it at IF = 0 as soon as a host interrupt arrives after a
 * CLI in guest mode: its interrupt acknowledge tests only that a virtual
 * interrupt is pending, not that it is unmasked. So hvx holds the vector
 * back itself: RVI stays 0 (the vector stays in the IRR, where the guest
 * reads it) and an interrupt-window exit brings it in once the guest can
 * take it. Nor may the CPU find one later in guest mode, which it does
 * at an EOI: after the vector it delivers at entry, or if that waits
 * for the PPR, every EOI exits while the IRR holds another. x2APIC
 * SELF IPI writes exit for the same reason (vmx.c). What the guest
 * still does without an exit, lowering its TPR or a self-IPI through
 * the xAPIC ICR, both at IF = 0, is left to the CPU. On a CPU without
 * the flaw this costs an exit per interrupt that comes in while the
 * guest has IF clear, and per burst of several.
 */
static void apicv_load(struct hvx_vcpu *vcpu, bool allowed, bool *waits)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned long flags;
	u64 eoi_exit[4];
	int irr, isr, i;
	bool others;

	lapic_sync_posted(vcpu);
	spin_lock_irqsave(&apic->lock, flags);
	irr = hvx_lapic_highest_irr(apic->regs);
	isr = hvx_lapic_highest_isr(apic->regs);
	/* The PPR the CPU will compute at entry (29.1.3). */
	hvx_lapic_update_ppr(apic->regs);
	others = hvx_lapic_irr_count(apic->regs) >
		 (hvx_lapic_pending_vector(apic->regs) >= 0 ? 1 : 0);
	for (i = 0; i < 4; i++)
		eoi_exit[i] = reg_get(apic, APIC_TMR + i * 0x20) |
			      (u64)reg_get(apic, APIC_TMR + i * 0x20 + 0x10) << 32;
	spin_unlock_irqrestore(&apic->lock, flags);
	if (irr >= 0 && !allowed) {
		irr = -1;
		*waits = true;
	} else if (others) {
		memset(eoi_exit, 0xff, sizeof(eoi_exit));
	}
	hvx_ops->apicv_load(vcpu, irr, isr, eoi_exit);
}

/*
 * Before an entry (interrupts off): the highest-priority pending vector
 * goes in if the guest takes interrupts (@allowed); it moves from IRR to
 * ISR as the CPU's INTA would. Returns the vector injected, or -1; @waits
 * says whether one is pending that must wait for an interrupt window.
 */
int hvx_lapic_inject(struct hvx_vcpu *vcpu, bool allowed, bool *waits)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned long flags;
	int v;

	*waits = false;
	if (vcpu->apicv) {
		apicv_load(vcpu, allowed, waits);
		return -1;
	}
	if (apic_pending(vcpu) < 0)
		return -1;
	if (!allowed) {
		*waits = true;
		return -1;
	}
	spin_lock_irqsave(&apic->lock, flags);
	v = hvx_lapic_ack(apic->regs);
	spin_unlock_irqrestore(&apic->lock, flags);
	return v;
}

bool hvx_lapic_has_interrupt(struct hvx_vcpu *vcpu)
{
	return vcpu->lapic && apic_pending(vcpu) >= 0;
}

/*
 * KVM's LINT0 quirk (KVM_X86_QUIRK_LINT0_REENABLED, on by default): the
 * BSP's LINT0 comes out of reset unmasked, in ExtINT mode, where a PIC
 * would be wired. hvx matches it, since VMMs written for KVM expect it.
 */
static void apic_lint0_quirk(struct hvx_vcpu *vcpu)
{
	if (vcpu->id == 0)
		reg_set(vcpu->lapic, APIC_LVT0, APIC_DM_EXTINT);
}

/* Registers at their reset values with APIC ID @id, the timer stopped. */
static void apic_reset(struct hvx_vcpu *vcpu, u32 id)
{
	struct hvx_lapic *apic = vcpu->lapic;

	lapic_timer_stop(apic);
	apic->tsc_deadline = 0;
	apic_clear_pir(apic);
	hvx_lapic_regs_reset(apic->regs, id, apic_x2apic(vcpu));
	apic->timer_mode = 0;
	apic_lint0_quirk(vcpu);
	apic->cr8_synced = 0;
}

/* INIT (SDM Vol 3 9.1, 11.4.7.3): reset, keeping the APIC ID and base. */
void lapic_init_reset(struct hvx_vcpu *vcpu)
{
	u32 id = reg_get(vcpu->lapic, APIC_ID);

	apic_reset(vcpu, apic_x2apic(vcpu) ? id : id >> 24);
}

/*
 * The first KiB of the register page. Without KVM_CAP_X2APIC_API, KVM
 * keeps an x2APIC's ID in the xAPIC position (bits 31:24) here, and the
 * current count is filled in.
 */
void hvx_lapic_get_state(struct hvx_vcpu *vcpu, struct kvm_lapic_state *s)
{
	struct hvx_lapic *apic = vcpu->lapic;
	unsigned long flags;

	lapic_sync_posted(vcpu);
	apic_sync_tpr(vcpu);
	spin_lock_irqsave(&apic->lock, flags);
	memcpy(s->regs, apic->regs, sizeof(s->regs));
	spin_unlock_irqrestore(&apic->lock, flags);
	hvx_lapic_set(s->regs, APIC_TMCCT, lapic_timer_current_count(apic));
	if (apic_x2apic(vcpu))
		hvx_lapic_set(s->regs, APIC_ID, hvx_lapic_get(s->regs, APIC_ID) << 24);
}

int hvx_lapic_set_state(struct hvx_vcpu *vcpu, const struct kvm_lapic_state *s)
{
	struct hvx_lapic *apic = vcpu->lapic;
	u32 id = hvx_lapic_get(s->regs, APIC_ID);
	unsigned long flags;

	if (apic_x2apic(vcpu)) {
		/* KVM insists that the x2APIC ID is the vCPU's. */
		if (id >> 24 != (vcpu->id & 0xff))
			return -EINVAL;
		id = vcpu->id;
	}
	lapic_timer_stop(apic);
	/* The saved IRR is the whole truth: what was posted goes. */
	apic_clear_pir(apic);
	spin_lock_irqsave(&apic->lock, flags);
	memcpy(apic->regs, s->regs, sizeof(s->regs));
	reg_set(apic, APIC_ID, id);
	reg_set(apic, APIC_LVR, HVX_LAPIC_VERSION | HVX_LAPIC_MAX_LVT << 16);
	if (apic_x2apic(vcpu))
		reg_set(apic, APIC_LDR, hvx_lapic_x2apic_ldr(id));
	reg_set(apic, APIC_TMCCT, 0);
	hvx_lapic_update_ppr(apic->regs);
	spin_unlock_irqrestore(&apic->lock, flags);
	apic->timer_mode = lapic_timer_mode(apic);
	apic->periodic = apic->timer_mode == APIC_LVT_TIMER_PERIODIC;
	apic->tsc_deadline = 0;
	lapic_timer_start_count(apic);
	/* The TPR came in with the page: CR8 follows it. */
	apic->cr8_synced = reg_get(apic, APIC_TASKPRI) >> 4;
	hvx_ops->set_cr8(vcpu, apic->cr8_synced);
	return 0;
}

/* Power-on state (11.4.7.1): xAPIC mode, ID = vCPU id, everything masked. */
void hvx_lapic_reset(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;

	if (!apic)
		return;
	apic->events = 0;
	atomic_set(&apic->nmis, 0);
	/* vcpu_reset() has put IA32_APIC_BASE back in xAPIC mode. */
	apic_reset(vcpu, vcpu->id);
}

int hvx_lapic_create(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic;

	apic = kzalloc(sizeof(*apic), GFP_KERNEL_ACCOUNT);
	if (!apic)
		return -ENOMEM;
	apic->regs = hvx_alloc_page(vcpu->vm);
	if (!apic->regs) {
		kfree(apic);
		return -ENOMEM;
	}
	apic->vcpu = vcpu;
	spin_lock_init(&apic->lock);
	hvx_hrtimer_setup(&apic->timer, lapic_timer_fn, CLOCK_MONOTONIC,
			  HRTIMER_MODE_ABS_HARD);
	apic->divisor = 2;
	vcpu->lapic = apic;
	return 0;
}

void hvx_lapic_free(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;

	if (!apic)
		return;
	hrtimer_cancel(&apic->timer);
	hvx_free_page(vcpu->vm, apic->regs);
	kfree(apic);
	vcpu->lapic = NULL;
}
