// SPDX-License-Identifier: GPL-2.0
/*
 * GSI routing (KVM_SET_GSI_ROUTING, api.rst): a GSI is a name userspace
 * and irqfds drive; its routes say where that goes, to a pin of the
 * IOAPIC or a PIC, or as an MSI to the local APICs. A GSI may reach
 * several chips (KVM's default table sends GSIs 0-15 to the PICs and
 * the IOAPIC alike) but an MSI route is alone on its GSI.
 *
 * The table is replaced whole and read under RCU, so the paths that
 * drive lines may run anywhere, an eventfd's wake-up included.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/kvm.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>

#include "irqchip.h"

#define HVX_PIC_LINES		16

static struct hvx_irq_routing *routing_alloc(u32 nr)
{
	struct hvx_irq_routing *rt;
	int c, p;

	rt = kvzalloc(struct_size(rt, routes, nr), GFP_KERNEL_ACCOUNT);
	if (!rt)
		return NULL;
	for (c = 0; c < KVM_NR_IRQCHIPS; c++)
		for (p = 0; p < KVM_IOAPIC_NUM_PINS; p++)
			rt->chip_gsi[c][p] = -1;
	rt->nr = nr;
	return rt;
}

/* The table's first route of @gsi, or its end if there is none. */
static const struct hvx_irq_route *route_first(const struct hvx_irq_routing *rt, u32 gsi)
{
	u32 lo = 0, hi = rt->nr;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (rt->routes[mid].gsi < gsi)
			lo = mid + 1;
		else
			hi = mid;
	}
	return &rt->routes[lo];
}

/*
 * One entry from userspace, into @e, with KVM's checks: flags only as an
 * MSI's device ID (which x86 ignores), irqchip routes only with the
 * in-kernel chips, pins within their chip.
 */
static int route_from_user(struct hvx_vm *vm, struct hvx_irq_route *e,
			   const struct kvm_irq_routing_entry *ue)
{
	u32 chip = ue->u.irqchip.irqchip, pin = ue->u.irqchip.pin;

	e->gsi = ue->gsi;
	e->type = ue->type;
	switch (ue->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		if (ue->flags || vm->irqchip != HVX_IRQCHIP_KERNEL)
			return -EINVAL;
		switch (chip) {
		case KVM_IRQCHIP_PIC_MASTER:
		case KVM_IRQCHIP_PIC_SLAVE:
			if (pin >= HVX_PIC_LINES / 2)
				return -EINVAL;
			pin += chip == KVM_IRQCHIP_PIC_SLAVE ? HVX_PIC_LINES / 2 : 0;
			break;
		case KVM_IRQCHIP_IOAPIC:
			if (pin >= KVM_IOAPIC_NUM_PINS)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
		e->irqchip.chip = chip;
		e->irqchip.pin = pin;
		return 0;
	case KVM_IRQ_ROUTING_MSI:
		if (ue->flags & ~KVM_MSI_VALID_DEVID)
			return -EINVAL;
		e->msi = ue->u.msi;
		return 0;
	}
	/* Hyper-V SynIC and Xen event channel routes: hvx has neither. */
	return -EINVAL;
}

static int route_cmp(const void *a, const void *b)
{
	const struct hvx_irq_route *x = a, *y = b;

	return x->gsi < y->gsi ? -1 : x->gsi > y->gsi;
}

/*
 * KVM allows several routes on one GSI only if all of them are irqchip
 * routes, to different chips. @rt is sorted.
 */
static bool routing_valid(const struct hvx_irq_routing *rt)
{
	u32 i, j;

	for (i = 0; i < rt->nr; i++) {
		const struct hvx_irq_route *a = &rt->routes[i];

		for (j = i + 1; j < rt->nr && rt->routes[j].gsi == a->gsi; j++) {
			const struct hvx_irq_route *b = &rt->routes[j];

			if (a->type != KVM_IRQ_ROUTING_IRQCHIP ||
			    b->type != KVM_IRQ_ROUTING_IRQCHIP ||
			    a->irqchip.chip == b->irqchip.chip)
				return false;
		}
	}
	return true;
}

static void routing_install(struct hvx_vm *vm, struct hvx_irq_routing *rt)
{
	struct hvx_irq_routing *old;

	mutex_lock(&vm->irq_lock);
	old = rcu_replace_pointer(vm->irq_routing, rt, lockdep_is_held(&vm->irq_lock));
	mutex_unlock(&vm->irq_lock);
	/*
	 * As KVM, the ioctl returns only once no injection can still be
	 * using the old routes.
	 */
	if (old) {
		synchronize_rcu();
		kvfree(old);
	}
}

/*
 * The table KVM_CREATE_IRQCHIP starts with: GSI n on IOAPIC pin n, and
 * for n < 16 also on line n of the PICs.
 */
int hvx_irq_routing_default(struct hvx_vm *vm)
{
	struct hvx_irq_routing *rt;
	u32 gsi, i = 0;

	rt = routing_alloc(KVM_IOAPIC_NUM_PINS + HVX_PIC_LINES);
	if (!rt)
		return -ENOMEM;
	for (gsi = 0; gsi < KVM_IOAPIC_NUM_PINS; gsi++) {
		if (gsi < HVX_PIC_LINES) {
			u32 chip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;

			rt->routes[i++] = (struct hvx_irq_route){
				.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
				.irqchip = { .chip = chip, .pin = gsi },
			};
			rt->chip_gsi[chip][gsi] = gsi;
		}
		rt->routes[i++] = (struct hvx_irq_route){
			.gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP,
			.irqchip = { .chip = KVM_IRQCHIP_IOAPIC, .pin = gsi },
		};
		rt->chip_gsi[KVM_IRQCHIP_IOAPIC][gsi] = gsi;
	}
	routing_install(vm, rt);
	return 0;
}

/*
 * KVM_SET_GSI_ROUTING: the whole table at once. KVM's errors: -EINVAL
 * without an in-kernel irqchip (split included: its table is MSIs only),
 * for flags, more than 4096 entries, a GSI from 4096 up, or an entry
 * that breaks the rules above.
 */
int hvx_vm_set_gsi_routing(struct hvx_vm *vm, struct kvm_irq_routing __user *argp)
{
	struct kvm_irq_routing_entry *ue = NULL;
	struct kvm_irq_routing hdr;
	struct hvx_irq_routing *rt;
	u32 i;
	int r;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (READ_ONCE(vm->irqchip) == HVX_IRQCHIP_NONE || hdr.flags ||
	    hdr.nr > HVX_MAX_IRQ_ROUTES)
		return -EINVAL;
	if (hdr.nr) {
		ue = vmemdup_user(argp->entries, array_size(sizeof(*ue), hdr.nr));
		if (IS_ERR(ue))
			return PTR_ERR(ue);
	}
	r = -ENOMEM;
	rt = routing_alloc(hdr.nr);
	if (!rt)
		goto out;
	r = -EINVAL;
	for (i = 0; i < hdr.nr; i++) {
		struct hvx_irq_route *e = &rt->routes[i];

		if (ue[i].gsi >= HVX_MAX_IRQ_ROUTES || route_from_user(vm, e, &ue[i]))
			goto out_free;
		/* In table order, so the last route to a pin names it, as in KVM. */
		if (e->type == KVM_IRQ_ROUTING_IRQCHIP)
			rt->chip_gsi[e->irqchip.chip][e->irqchip.pin] = e->gsi;
	}
	sort(rt->routes, rt->nr, sizeof(rt->routes[0]), route_cmp, NULL);
	if (!routing_valid(rt))
		goto out_free;
	routing_install(vm, rt);
	rt = NULL;
	r = 0;
out_free:
	kvfree(rt);
out:
	kvfree(ue);
	return r;
}

void hvx_irq_routing_free(struct hvx_vm *vm)
{
	kvfree(rcu_dereference_protected(vm->irq_routing, 1));
	RCU_INIT_POINTER(vm->irq_routing, NULL);
}

/* Drive one route. Returns a chip's status, or -1 for a refusal. */
static int route_set(struct hvx_vm *vm, const struct hvx_irq_route *e,
		     unsigned int src, bool level)
{
	if (e->type == KVM_IRQ_ROUTING_MSI) {
		/* A message has no level: only the rising edge sends it. */
		if (!level)
			return -1;
		return hvx_lapic_deliver_msi(vm, e->msi.address_lo, e->msi.data);
	}
	if (e->irqchip.chip == KVM_IRQCHIP_IOAPIC)
		return ioapic_set_irq(vm, e->irqchip.pin, src, level);
	return pic_set_irq(vm, e->irqchip.pin, src, level);
}

/*
 * Driver @src takes its part of @gsi to @level on every route of @gsi.
 * The status is KVM's sum over the routes that did not refuse, -1 if all
 * did or there is none: 0 means coalesced into an interrupt already
 * pending, above 0 delivered or newly requested.
 */
int hvx_irq_set(struct hvx_vm *vm, unsigned int src, u32 gsi, bool level)
{
	const struct hvx_irq_route *e, *end;
	const struct hvx_irq_routing *rt;
	int status = -1, r;

	rcu_read_lock();
	rt = rcu_dereference(vm->irq_routing);
	if (rt) {
		end = rt->routes + rt->nr;
		for (e = route_first(rt, gsi); e < end && e->gsi == gsi; e++) {
			r = route_set(vm, e, src, level);
			if (r >= 0)
				status = r + max(status, 0);
		}
	}
	rcu_read_unlock();
	return status;
}

/*
 * The guest ended the service of @chip's @pin (a level EOI at the
 * IOAPIC, an EOI at a PIC): the GSI routed there hears of it, for irqfd
 * resampling. Called without chip locks.
 */
void hvx_irq_acked(struct hvx_vm *vm, unsigned int chip, unsigned int pin)
{
	const struct hvx_irq_routing *rt;
	int gsi = -1;

	if (!hvx_irqfd_have_resamplers(vm))
		return;
	rcu_read_lock();
	rt = rcu_dereference(vm->irq_routing);
	if (rt)
		gsi = rt->chip_gsi[chip][pin];
	rcu_read_unlock();
	if (gsi >= 0)
		hvx_irqfd_resample_acked(vm, gsi);
}

/*
 * Split irqchip: whether @vcpu's EOI of @vector must reach the IOAPIC
 * in userspace (KVM_EXIT_IOAPIC_EOI). As KVM, those are the vectors of
 * level-triggered MSI routes on the GSIs reserved for the IOAPIC's pins
 * (KVM_CAP_SPLIT_IRQCHIP's argument) whose destination is this vCPU:
 * what userspace's IOAPIC sends for its level pins.
 */
bool hvx_irq_split_eoi_exits(struct hvx_vcpu *vcpu, u8 vector)
{
	struct hvx_vm *vm = vcpu->vm;
	const struct hvx_irq_route *e, *end;
	const struct hvx_irq_routing *rt;
	bool hit = false;

	rcu_read_lock();
	rt = rcu_dereference(vm->irq_routing);
	if (!rt)
		goto out;
	end = rt->routes + rt->nr;
	for (e = rt->routes; e < end && e->gsi < vm->nr_reserved_ioapic_pins; e++) {
		if (e->type == KVM_IRQ_ROUTING_MSI && (e->msi.data & 0xff) == vector &&
		    hvx_lapic_level_msi_targets(vcpu, e->msi.address_lo, e->msi.data)) {
			hit = true;
			break;
		}
	}
out:
	rcu_read_unlock();
	return hit;
}
