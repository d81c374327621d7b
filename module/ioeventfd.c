// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IOEVENTFD: a guest write to a registered port or MMIO address
 * signals an eventfd in the kernel and the guest goes on, without an exit
 * to userspace (Documentation/virt/kvm/api.rst, "KVM_IOEVENTFD"). This is
 * how a device backend in another thread learns of a doorbell write.
 *
 * A registration matches a write at exactly its address and, unless its
 * length is 0 ("any length"), of exactly its length; with DATAMATCH the
 * value written must equal datamatch too. Reads are never consumed. The
 * PIO side serves single OUTs; OUTS (string I/O) still exits to
 * userspace. The MMIO side serves writes that do not cross a page.
 *
 * The list changes under vm->lock and is read under vm->srcu by the exit
 * handlers; an entry is freed only after synchronize_srcu().
 */
#include <linux/eventfd.h>
#include <linux/list.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "hvx.h"
#include "compat.h"

/* As KVM's limit of devices on one I/O bus. */
#define HVX_MAX_IOEVENTFDS	1000

#define HVX_IOEVENTFD_FLAGS	(KVM_IOEVENTFD_FLAG_DATAMATCH |		\
				 KVM_IOEVENTFD_FLAG_PIO |		\
				 KVM_IOEVENTFD_FLAG_DEASSIGN)

struct hvx_ioeventfd {
	struct list_head node;
	struct eventfd_ctx *ctx;
	u64 addr;
	u64 datamatch;
	u32 len;		/* 0: any length */
	bool pio;
	bool wildcard;		/* no DATAMATCH: any value */
};

void hvx_ioeventfd_init(struct hvx_vm *vm)
{
	INIT_LIST_HEAD(&vm->ioeventfds);
	vm->nr_ioeventfds = 0;
}

/* Two registrations that one write could both match (KVM's rule). */
static bool hvx_ioeventfd_collide(const struct hvx_ioeventfd *a,
				  const struct hvx_ioeventfd *b)
{
	if (a->pio != b->pio || a->addr != b->addr)
		return false;
	if (!a->len || !b->len)
		return true;
	return a->len == b->len &&
	       (a->wildcard || b->wildcard || a->datamatch == b->datamatch);
}

static int hvx_ioeventfd_assign(struct hvx_vm *vm, const struct kvm_ioeventfd *args)
{
	struct hvx_ioeventfd *p, *q;
	struct eventfd_ctx *ctx;
	int r;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p) {
		eventfd_ctx_put(ctx);
		return -ENOMEM;
	}
	p->ctx = ctx;
	p->addr = args->addr;
	p->len = args->len;
	p->pio = args->flags & KVM_IOEVENTFD_FLAG_PIO;
	p->wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	p->datamatch = p->wildcard ? 0 : args->datamatch;

	mutex_lock(&vm->lock);
	r = -ENOSPC;
	if (vm->nr_ioeventfds >= HVX_MAX_IOEVENTFDS)
		goto fail;
	r = -EEXIST;
	list_for_each_entry(q, &vm->ioeventfds, node)
		if (hvx_ioeventfd_collide(p, q))
			goto fail;
	list_add_tail_rcu(&p->node, &vm->ioeventfds);
	vm->nr_ioeventfds++;
	mutex_unlock(&vm->lock);
	return 0;
fail:
	mutex_unlock(&vm->lock);
	eventfd_ctx_put(ctx);
	kfree(p);
	return r;
}

/* The registration with these exact arguments (eventfd included) goes. */
static int hvx_ioeventfd_deassign(struct hvx_vm *vm, const struct kvm_ioeventfd *args)
{
	bool pio = args->flags & KVM_IOEVENTFD_FLAG_PIO;
	bool wildcard = !(args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH);
	struct hvx_ioeventfd *p, *found = NULL;
	struct eventfd_ctx *ctx;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	mutex_lock(&vm->lock);
	list_for_each_entry(p, &vm->ioeventfds, node) {
		if (p->ctx != ctx || p->pio != pio || p->addr != args->addr ||
		    p->len != args->len || p->wildcard != wildcard ||
		    (!wildcard && p->datamatch != args->datamatch))
			continue;
		list_del_rcu(&p->node);
		vm->nr_ioeventfds--;
		found = p;
		break;
	}
	mutex_unlock(&vm->lock);
	eventfd_ctx_put(ctx);
	if (!found)
		return -ENOENT;
	/* Exit handlers may still be looking at it. */
	synchronize_srcu(&vm->srcu);
	eventfd_ctx_put(found->ctx);
	kfree(found);
	return 0;
}

int hvx_vm_ioeventfd(struct hvx_vm *vm, const struct kvm_ioeventfd *args)
{
	if (args->flags & ~HVX_IOEVENTFD_FLAGS)
		return -EINVAL;
	if (args->flags & KVM_IOEVENTFD_FLAG_DEASSIGN)
		return hvx_ioeventfd_deassign(vm, args);
	switch (args->len) {
	case 0: case 1: case 2: case 4: case 8:
		break;
	default:
		return -EINVAL;
	}
	if (args->addr + args->len < args->addr)
		return -EINVAL;
	/* Without a length there is no value to compare. */
	if (!args->len && (args->flags & KVM_IOEVENTFD_FLAG_DATAMATCH))
		return -EINVAL;
	/* Ports are 16 bits. */
	if ((args->flags & KVM_IOEVENTFD_FLAG_PIO) && args->addr + args->len > 0x10000)
		return -EINVAL;
	return hvx_ioeventfd_assign(vm, args);
}

/*
 * A guest write of @len bytes (1, 2, 4 or 8) of @val at port or GPA
 * @addr: true if a registration took it. Called with vm->srcu held.
 */
bool hvx_ioeventfd_write(struct hvx_vm *vm, bool pio, u64 addr, u32 len, u64 val)
{
	struct hvx_ioeventfd *p;
	u64 mask = len == 8 ? ~0ULL : (1ULL << (len * 8)) - 1;

	list_for_each_entry_srcu(p, &vm->ioeventfds, node,
				 srcu_read_lock_held(&vm->srcu)) {
		if (p->pio != pio || p->addr != addr)
			continue;
		if (p->len && (p->len != len ||
			       (!p->wildcard && p->datamatch != (val & mask))))
			continue;
		hvx_eventfd_signal(p->ctx);
		return true;
	}
	return false;
}

/* VM teardown: no vCPU runs any more. */
void hvx_ioeventfd_free(struct hvx_vm *vm)
{
	struct hvx_ioeventfd *p, *tmp;

	list_for_each_entry_safe(p, tmp, &vm->ioeventfds, node) {
		list_del(&p->node);
		eventfd_ctx_put(p->ctx);
		kfree(p);
	}
	vm->nr_ioeventfds = 0;
}
