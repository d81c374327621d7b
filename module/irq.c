// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_CREATE_IRQCHIP, KVM_IRQ_LINE(_STATUS), which drives a GSI through
 * its routes (irq_routing.c), and KVM_GET/SET_IRQCHIP, which save and
 * restore the chips (api.rst).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/slab.h>

#include "irqchip.h"

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
	r = hvx_irq_routing_default(vm);
	if (r)
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
 * KVM_IRQ_LINE(_STATUS): userspace's part of GSI irq->irq goes to
 * irq->level on every route of the GSI; the status is hvx_irq_set()'s.
 */
int hvx_vm_irq_line(struct hvx_vm *vm, struct kvm_irq_level *irq)
{
	/* KVM: -ENXIO without an irqchip; a split one has only MSI routes. */
	if (READ_ONCE(vm->irqchip) == HVX_IRQCHIP_NONE)
		return -ENXIO;
	irq->status = hvx_irq_set(vm, HVX_IRQ_SRC_USER, irq->irq, irq->level);
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
