// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CREATE_IRQCHIP and the GSI layer over its chips: KVM_IRQ_LINE(_STATUS)
 * drives GSI n into IOAPIC pin n and, for n < 16, into PIC line n, as
 * KVM's default routing does; KVM_GET/SET_IRQCHIP save and restore the
 * chips (api.rst).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/slab.h>

#include "irqchip.h"

#define HVX_PIC_LINES	16

/*
 * KVM_CREATE_IRQCHIP: an IOAPIC and two PICs, and local APICs for the
 * vCPUs created afterwards. KVM: -EEXIST if an irqchip exists (split
 * included), -EINVAL once a vCPU exists.
 */
int hvx_vm_create_irqchip(struct hvx_vm *vm)
{
	struct hvx_ioapic *io;
	struct hvx_pic *pic;
	int r;

	io = kzalloc(sizeof(*io), GFP_KERNEL_ACCOUNT);
	pic = kzalloc(sizeof(*pic), GFP_KERNEL_ACCOUNT);
	if (!io || !pic) {
		r = -ENOMEM;
		goto out_free;
	}
	spin_lock_init(&io->lock);
	ioapic_reset(io);
	spin_lock_init(&pic->lock);
	pic_init(pic);

	mutex_lock(&vm->lock);
	r = -EEXIST;
	if (vm->irqchip != HVX_IRQCHIP_NONE)
		goto out_unlock;
	r = -EINVAL;
	if (atomic_read(&vm->online_vcpus))
		goto out_unlock;
	vm->ioapic = io;
	vm->pic = pic;
	/* The chips before the mode: readers test the mode, then use them. */
	smp_wmb();
	WRITE_ONCE(vm->irqchip, HVX_IRQCHIP_KERNEL);
	mutex_unlock(&vm->lock);
	return 0;

out_unlock:
	mutex_unlock(&vm->lock);
out_free:
	kfree(io);
	kfree(pic);
	return r;
}

void hvx_irqchip_free(struct hvx_vm *vm)
{
	kfree(vm->ioapic);
	kfree(vm->pic);
	vm->ioapic = NULL;
	vm->pic = NULL;
}

/*
 * KVM_IRQ_LINE(_STATUS): GSI @gsi to @level on every chip it is routed
 * to. The status is KVM's sum over the chips that did not refuse (-1 if
 * all did or none is routed): 0 means the interrupt was coalesced into
 * one already pending, above 0 delivered or newly requested.
 */
int hvx_vm_irq_line(struct hvx_vm *vm, struct kvm_irq_level *irq)
{
	int status = -1, r;

	/* KVM: -ENXIO without an irqchip; a split one has no routes here. */
	if (READ_ONCE(vm->irqchip) == HVX_IRQCHIP_NONE)
		return -ENXIO;
	if (READ_ONCE(vm->irqchip) == HVX_IRQCHIP_KERNEL) {
		/* Pairs with the smp_wmb() in hvx_vm_create_irqchip(). */
		smp_rmb();
		if (irq->irq < HVX_PIC_LINES) {
			r = pic_set_irq(vm, irq->irq, irq->level);
			if (r >= 0)
				status = r;
		}
		if (irq->irq < HVX_IOAPIC_PINS) {
			r = ioapic_set_irq(vm, irq->irq, irq->level);
			if (r >= 0)
				status = r + (status < 0 ? 0 : status);
		}
	}
	irq->status = status;
	return 0;
}

/* KVM_GET/SET_IRQCHIP: KVM answers -ENXIO without a full in-kernel irqchip. */
int hvx_vm_get_irqchip(struct hvx_vm *vm, struct kvm_irqchip *chip)
{
	if (READ_ONCE(vm->irqchip) != HVX_IRQCHIP_KERNEL)
		return -ENXIO;
	/* Pairs with the smp_wmb() in hvx_vm_create_irqchip(). */
	smp_rmb();
	switch (chip->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		pic_get_state(vm, chip->chip_id, &chip->chip.pic);
		return 0;
	case KVM_IRQCHIP_IOAPIC:
		ioapic_get_state(vm, &chip->chip.ioapic);
		return 0;
	}
	return -EINVAL;
}

int hvx_vm_set_irqchip(struct hvx_vm *vm, const struct kvm_irqchip *chip)
{
	if (READ_ONCE(vm->irqchip) != HVX_IRQCHIP_KERNEL)
		return -ENXIO;
	/* Pairs with the smp_wmb() in hvx_vm_create_irqchip(). */
	smp_rmb();
	switch (chip->chip_id) {
	case KVM_IRQCHIP_PIC_MASTER:
	case KVM_IRQCHIP_PIC_SLAVE:
		pic_set_state(vm, chip->chip_id, &chip->chip.pic);
		return 0;
	case KVM_IRQCHIP_IOAPIC:
		ioapic_set_state(vm, &chip->chip.ioapic);
		return 0;
	}
	return -EINVAL;
}
