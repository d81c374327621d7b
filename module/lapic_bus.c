// SPDX-License-Identifier: GPL-2.0
/*
 * The APIC bus: interrupt messages between local APICs (IPIs through the
 * ICR, SDM Vol 3 11.6) and from devices (MSIs, 11.11), and the kick that
 * makes the receiving vCPU notice.
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/minmax.h>

#include "lapic.h"
#include "compat.h"

/*
 * Make @vcpu notice what was just posted for it: wake it if it blocks, and
 * if it is in guest mode on another CPU, interrupt that CPU, which forces
 * an exit. The barrier pairs with the one between "mode = IN_GUEST" and
 * the event checks in vcpu_enter_guest(): either the vCPU sees the event
 * before it enters, or this sees IN_GUEST.
 */
void hvx_vcpu_kick(struct hvx_vcpu *vcpu)
{
	int cpu, me;

	wake_up_interruptible(&vcpu->wq);
	/* The posted event before the mode (see above). */
	smp_mb();
	if (READ_ONCE(vcpu->mode) != HVX_IN_GUEST)
		return;
	me = get_cpu();
	cpu = READ_ONCE(vcpu->cpu);
	/* On this CPU a vCPU in guest mode is not running: it got interrupted. */
	if (cpu >= 0 && cpu != me)
		hvx_send_kick(cpu);
	put_cpu();
}

/*
 * One interrupt message arriving at @vcpu's APIC (11.6.1 delivery modes).
 * Returns 1 if the APIC took it, 0 if it dropped it (a fixed interrupt
 * at a software-disabled APIC, SMI, ExtINT, an INIT de-assert), which
 * KVM counts the same way.
 */
int lapic_accept(struct hvx_vcpu *vcpu, u8 mode, u8 vector, bool level,
		 bool assert)
{
	struct hvx_lapic *apic = vcpu->lapic;

	switch (mode << 8) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* A software-disabled APIC takes no fixed interrupts (11.4.7.2). */
		if (!apic_sw_enabled(apic))
			return 0;
		lapic_post(apic, vector, level);
		break;
	case APIC_DM_NMI:
		atomic_inc(&apic->nmis);
		break;
	case APIC_DM_INIT:
		/* The level de-assert INIT of old MP protocols does nothing. */
		if (level && !assert)
			return 0;
		set_bit(HVX_APIC_EV_INIT, &apic->events);
		break;
	case APIC_DM_STARTUP:
		WRITE_ONCE(apic->sipi_vector, vector);
		/* The vector before the bit (pairs with test_and_clear_bit()). */
		smp_mb__before_atomic();
		set_bit(HVX_APIC_EV_SIPI, &apic->events);
		break;
	default:
		/* SMI (no SMM in hvx); ExtINT comes from the PIC, not as a message. */
		return 0;
	}
	hvx_vcpu_kick(vcpu);
	return 1;
}

/*
 * Whether @vcpu's APIC is a destination of @ipi sent by @src (NULL: a
 * message from the bus, e.g. an MSI). Other vCPUs' ID, LDR and DFR are
 * read without their owner's lock: a racing write is one the guest
 * itself did not order against the IPI.
 */
static bool apic_is_dest(struct hvx_vcpu *vcpu, struct hvx_vcpu *src,
			 const struct hvx_lapic_ipi *ipi)
{
	if (!vcpu->lapic || !apic_hw_enabled(vcpu))
		return false;
	switch (ipi->shorthand << 18) {
	case APIC_DEST_SELF:
		return vcpu == src;
	case APIC_DEST_ALLINC:
		return true;
	case APIC_DEST_ALLBUT:
		return vcpu != src;
	}
	return hvx_lapic_match_dest(vcpu->lapic->regs, apic_x2apic(vcpu),
				    ipi->dest, ipi->logical);
}

/*
 * Deliver @ipi to every destination; lowest priority goes to the first
 * one found. Returns how many APICs took it, as KVM's
 * kvm_irq_delivery_to_apic() counts for KVM_SIGNAL_MSI and the IOAPIC:
 * 0 if every destination dropped it or, for a message to one
 * destination (KVM's APIC-map path), if none matched; -1 if a broadcast
 * or shorthand found no APIC.
 */
int hvx_lapic_deliver(struct hvx_vm *vm, struct hvx_vcpu *src,
		      const struct hvx_lapic_ipi *ipi)
{
	int i, n = atomic_read(&vm->online_vcpus), hits;
	u32 bcast = src && apic_x2apic(src) ? 0xffffffff : 0xff;

	hits = ipi->shorthand || ipi->dest == bcast ? -1 : 0;

	/* Pairs with the smp_wmb() between storing vcpus[] and online_vcpus++. */
	smp_rmb();
	for (i = 0; i < n; i++) {
		struct hvx_vcpu *vcpu = vm->vcpus[i];

		if (!apic_is_dest(vcpu, src, ipi))
			continue;
		hits = max(hits, 0) +
		       lapic_accept(vcpu, ipi->mode, ipi->vector, ipi->level, ipi->assert);
		if ((ipi->mode << 8) == APIC_DM_LOWEST)
			break;
	}
	return hits;
}

/* ICR written (11.6.1): send. The delivery status never reads as pending. */
void lapic_send_ipi(struct hvx_vcpu *vcpu, u32 low, u32 high)
{
	struct hvx_lapic_ipi ipi;

	hvx_lapic_decode_icr(low, high, apic_x2apic(vcpu), &ipi);
	reg_set(vcpu->lapic, APIC_ICR, low & ~APIC_ICR_BUSY);
	reg_set(vcpu->lapic, APIC_ICR2, high);
	hvx_lapic_deliver(vcpu->vm, vcpu, &ipi);
}

/*
 * MSI (the address/data format of SDM Vol 3 11.11): destination ID in
 * address bits 19:12, logical destination mode in bit 2; vector, delivery
 * mode and trigger mode in the data. Without KVM_CAP_X2APIC_API, which
 * hvx does not offer, the high address half carries nothing, as in KVM.
 */
static void msi_decode(u32 address_lo, u32 data, struct hvx_lapic_ipi *ipi)
{
	*ipi = (struct hvx_lapic_ipi){
		.dest = (address_lo >> 12) & 0xff,
		.logical = address_lo & BIT(2),
		.vector = data & 0xff,
		.mode = (data >> 8) & 7,
		.level = data & BIT(15),
		.assert = true,
	};
}

/* Send an MSI; returns as hvx_lapic_deliver(). */
int hvx_lapic_deliver_msi(struct hvx_vm *vm, u32 address_lo, u32 data)
{
	struct hvx_lapic_ipi ipi;

	msi_decode(address_lo, data, &ipi);
	return hvx_lapic_deliver(vm, NULL, &ipi);
}

/*
 * Whether @vcpu is a destination of the level-triggered MSI
 * (@address_lo, @data), for the split irqchip's EOI exits.
 */
bool hvx_lapic_level_msi_targets(struct hvx_vcpu *vcpu, u32 address_lo, u32 data)
{
	struct hvx_lapic_ipi ipi;

	msi_decode(address_lo, data, &ipi);
	return ipi.level && apic_is_dest(vcpu, NULL, &ipi);
}

/* KVM_SIGNAL_MSI: a device ID (KVM_MSI_VALID_DEVID) is accepted, unused. */
int hvx_vm_signal_msi(struct hvx_vm *vm, const struct kvm_msi *msi)
{
	if (vm->irqchip == HVX_IRQCHIP_NONE || (msi->flags & ~KVM_MSI_VALID_DEVID))
		return -EINVAL;
	return hvx_lapic_deliver_msi(vm, msi->address_lo, msi->data);
}
