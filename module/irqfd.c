// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IRQFD (api.rst): a write to an eventfd raises a GSI in the kernel,
 * so a device backend in another thread or process interrupts the guest
 * without a KVM_RUN exit. hvx's chips and routes need no sleeping lock,
 * so the interrupt goes out from the eventfd's wake-up itself, in the
 * writer's context; nothing waits for a worker.
 *
 * A plain irqfd pulses its GSI (raise, lower). With
 * KVM_IRQFD_FLAG_RESAMPLE it raises a level line and holds it until the
 * guest's EOI of it at the IOAPIC (or the PIC): then the line goes down
 * and the resamplefd is signalled, so the backend, if its device still
 * wants service, writes the eventfd again (how VFIO passes INTx). The
 * irqfds of one GSI share one resampler, which holds their part of the
 * line (HVX_IRQ_SRC_RESAMPLE).
 *
 * Lifetime: an irqfd is on vm->irqfds while active. Deassigning it,
 * closing its eventfd (EPOLLHUP) or the VM's end takes it off the list
 * and queues its shutdown, which unhooks it from the eventfd's wait
 * queue (after which no wake-up can run) and frees it; deassign and the
 * VM's end wait for that.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/poll.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "irqchip.h"
#include "compat.h"

struct hvx_resampler {
	struct list_head node;		/* vm->resamplers */
	struct list_head irqfds;	/* its irqfds, by resample_node */
	u32 gsi;
	struct rcu_head rcu;
};

struct hvx_irqfd {
	struct hvx_vm *vm;
	struct eventfd_ctx *eventfd;
	u32 gsi;
	struct hvx_resampler *resampler;	/* NULL: a plain irqfd */
	struct eventfd_ctx *resamplefd;
	struct list_head node;		/* vm->irqfds; empty once deactivated */
	struct list_head resample_node;
	wait_queue_entry_t wait;
	poll_table pt;
	int busy;			/* -EBUSY: the eventfd was taken */
	struct work_struct shutdown;
};

static struct workqueue_struct *hvx_irqfd_wq;

void hvx_irqfd_vm_init(struct hvx_vm *vm)
{
	spin_lock_init(&vm->irqfds_lock);
	INIT_LIST_HEAD(&vm->irqfds);
	INIT_LIST_HEAD(&vm->resamplers);
}

static void irqfd_inject(struct hvx_irqfd *irqfd)
{
	struct hvx_vm *vm = irqfd->vm;

	if (irqfd->resampler) {
		hvx_irq_set(vm, HVX_IRQ_SRC_RESAMPLE, irqfd->gsi, true);
		return;
	}
	hvx_irq_set(vm, HVX_IRQ_SRC_USER, irqfd->gsi, true);
	hvx_irq_set(vm, HVX_IRQ_SRC_USER, irqfd->gsi, false);
}

/* vm->irqfds_lock held. */
static void irqfd_deactivate(struct hvx_irqfd *irqfd)
{
	list_del_init(&irqfd->node);
	queue_work(hvx_irqfd_wq, &irqfd->shutdown);
}

/*
 * The eventfd's wake-up, under its wait queue's lock with interrupts
 * off: EPOLLIN for a write, EPOLLHUP when the eventfd is released.
 */
static int irqfd_wakeup(wait_queue_entry_t *wait, unsigned int mode, int sync, void *key)
{
	struct hvx_irqfd *irqfd = container_of(wait, struct hvx_irqfd, wait);
	__poll_t events = key_to_poll(key);
	struct hvx_vm *vm = irqfd->vm;
	unsigned long flags;
	u64 cnt;

	if (events & EPOLLIN) {
		/* One interrupt however many writes came; the count is spent. */
		eventfd_ctx_do_read(irqfd->eventfd, &cnt);
		irqfd_inject(irqfd);
	}
	if (events & EPOLLHUP) {
		spin_lock_irqsave(&vm->irqfds_lock, flags);
		if (!list_empty(&irqfd->node))
			irqfd_deactivate(irqfd);
		spin_unlock_irqrestore(&vm->irqfds_lock, flags);
	}
	return 0;
}

/*
 * vfs_poll()'s callback: join the list and the eventfd's wait queue in
 * one step, under the wait queue's lock, so that neither a racing
 * deassign nor EPOLLHUP can see half an irqfd (lock order: the wait
 * queue's, then vm->irqfds_lock, as in irqfd_wakeup()).
 */
static void irqfd_queue_proc(struct file *file, wait_queue_head_t *wqh, poll_table *pt)
{
	struct hvx_irqfd *irqfd = container_of(pt, struct hvx_irqfd, pt);
	struct hvx_vm *vm = irqfd->vm;
	struct hvx_irqfd *other;
	unsigned long flags;

	spin_lock_irqsave(&wqh->lock, flags);
	spin_lock(&vm->irqfds_lock);
	/* KVM: one eventfd drives one GSI of a VM. */
	list_for_each_entry(other, &vm->irqfds, node) {
		if (other->eventfd == irqfd->eventfd) {
			irqfd->busy = -EBUSY;
			goto out;
		}
	}
	list_add_tail(&irqfd->node, &vm->irqfds);
	__add_wait_queue(wqh, &irqfd->wait);
out:
	spin_unlock(&vm->irqfds_lock);
	spin_unlock_irqrestore(&wqh->lock, flags);
}

/* Join (or found) the resampler of the irqfd's GSI. */
static int irqfd_resampler_attach(struct hvx_irqfd *irqfd)
{
	struct hvx_vm *vm = irqfd->vm;
	struct hvx_resampler *r;
	int ret = 0;

	mutex_lock(&vm->irq_lock);
	list_for_each_entry(r, &vm->resamplers, node)
		if (r->gsi == irqfd->gsi)
			goto found;
	r = kzalloc(sizeof(*r), GFP_KERNEL_ACCOUNT);
	if (!r) {
		ret = -ENOMEM;
		goto out;
	}
	r->gsi = irqfd->gsi;
	INIT_LIST_HEAD(&r->irqfds);
	list_add_rcu(&r->node, &vm->resamplers);
found:
	irqfd->resampler = r;
	list_add_rcu(&irqfd->resample_node, &r->irqfds);
out:
	mutex_unlock(&vm->irq_lock);
	return ret;
}

/*
 * Leave the resampler; the last one out ends it and lowers the line it
 * held, as nobody will answer that line's EOI any more.
 */
static void irqfd_resampler_detach(struct hvx_irqfd *irqfd)
{
	struct hvx_resampler *r = irqfd->resampler;
	struct hvx_vm *vm = irqfd->vm;

	mutex_lock(&vm->irq_lock);
	list_del_rcu(&irqfd->resample_node);
	if (list_empty(&r->irqfds)) {
		list_del_rcu(&r->node);
		hvx_irq_set(vm, HVX_IRQ_SRC_RESAMPLE, r->gsi, false);
		kfree_rcu(r, rcu);
	}
	mutex_unlock(&vm->irq_lock);
	/* An EOI may still be signalling through the irqfd's resamplefd. */
	synchronize_rcu();
	irqfd->resampler = NULL;
}

static void irqfd_free(struct hvx_irqfd *irqfd)
{
	if (irqfd->resampler)
		irqfd_resampler_detach(irqfd);
	if (irqfd->resamplefd)
		eventfd_ctx_put(irqfd->resamplefd);
	if (irqfd->eventfd)
		eventfd_ctx_put(irqfd->eventfd);
	kfree(irqfd);
}

static void irqfd_shutdown(struct work_struct *work)
{
	struct hvx_irqfd *irqfd = container_of(work, struct hvx_irqfd, shutdown);
	u64 cnt;

	/* Takes the wait queue's lock: a wake-up in flight finishes first. */
	eventfd_ctx_remove_wait_queue(irqfd->eventfd, &irqfd->wait, &cnt);
	irqfd_free(irqfd);
}

/*
 * The EOI of a line that @gsi drives: its resampler, if it has one,
 * lowers its part and tells every backend on the GSI through the
 * resamplefds. Called without chip locks.
 */
void hvx_irqfd_resample_acked(struct hvx_vm *vm, u32 gsi)
{
	struct hvx_resampler *r;
	struct hvx_irqfd *irqfd;

	rcu_read_lock();
	list_for_each_entry_rcu(r, &vm->resamplers, node) {
		if (r->gsi != gsi)
			continue;
		hvx_irq_set(vm, HVX_IRQ_SRC_RESAMPLE, gsi, false);
		list_for_each_entry_rcu(irqfd, &r->irqfds, resample_node)
			hvx_eventfd_signal(irqfd->resamplefd);
	}
	rcu_read_unlock();
}

bool hvx_irqfd_have_resamplers(struct hvx_vm *vm)
{
	return !list_empty(&vm->resamplers);
}

/*
 * KVM's rules: a resampling irqfd needs the full in-kernel irqchip (its
 * EOIs come from the in-kernel IOAPIC or PIC), a plain one any in-kernel
 * irqchip (a split one routes MSIs); -EINVAL otherwise. A bad fd is
 * -EBADF, one that is not an eventfd -EINVAL, an eventfd already
 * driving a GSI of this VM -EBUSY.
 */
static int irqfd_assign(struct hvx_vm *vm, const struct kvm_irqfd *args)
{
	bool resample = args->flags & KVM_IRQFD_FLAG_RESAMPLE;
	enum hvx_irqchip chip = READ_ONCE(vm->irqchip);
	struct hvx_irqfd *irqfd;
	struct eventfd_ctx *ctx;
	struct file *file;
	__poll_t events;
	int r;

	if (resample ? chip != HVX_IRQCHIP_KERNEL : chip == HVX_IRQCHIP_NONE)
		return -EINVAL;
	irqfd = kzalloc(sizeof(*irqfd), GFP_KERNEL_ACCOUNT);
	if (!irqfd)
		return -ENOMEM;
	irqfd->vm = vm;
	irqfd->gsi = args->gsi;
	INIT_LIST_HEAD(&irqfd->node);
	INIT_WORK(&irqfd->shutdown, irqfd_shutdown);
	init_waitqueue_func_entry(&irqfd->wait, irqfd_wakeup);
	init_poll_funcptr(&irqfd->pt, irqfd_queue_proc);

	file = fget(args->fd);
	if (!file) {
		r = -EBADF;
		goto out_free;
	}
	ctx = eventfd_ctx_fileget(file);
	if (IS_ERR(ctx)) {
		r = PTR_ERR(ctx);
		goto out_fput;
	}
	irqfd->eventfd = ctx;
	if (resample) {
		ctx = eventfd_ctx_fdget(args->resamplefd);
		if (IS_ERR(ctx)) {
			r = PTR_ERR(ctx);
			goto out_fput;
		}
		irqfd->resamplefd = ctx;
		r = irqfd_resampler_attach(irqfd);
		if (r)
			goto out_fput;
	}

	events = vfs_poll(file, &irqfd->pt);
	r = irqfd->busy;
	if (r)
		goto out_fput;
	/* A write before the irqfd existed raises the GSI now, as on KVM. */
	if (events & EPOLLIN)
		irqfd_inject(irqfd);
	fput(file);
	return 0;

out_fput:
	fput(file);
out_free:
	irqfd_free(irqfd);
	return r;
}

/*
 * Deassign: every irqfd of this eventfd on @args->gsi. As KVM, finding
 * none is no error; on return, no interrupt from them is in flight.
 */
static int irqfd_deassign(struct hvx_vm *vm, const struct kvm_irqfd *args)
{
	struct hvx_irqfd *irqfd, *tmp;
	struct eventfd_ctx *ctx;

	ctx = eventfd_ctx_fdget(args->fd);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	spin_lock_irq(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, node)
		if (irqfd->eventfd == ctx && irqfd->gsi == args->gsi)
			irqfd_deactivate(irqfd);
	spin_unlock_irq(&vm->irqfds_lock);
	eventfd_ctx_put(ctx);
	flush_workqueue(hvx_irqfd_wq);
	return 0;
}

int hvx_vm_irqfd(struct hvx_vm *vm, const struct kvm_irqfd *args)
{
	if (args->flags & ~(KVM_IRQFD_FLAG_DEASSIGN | KVM_IRQFD_FLAG_RESAMPLE))
		return -EINVAL;
	if (args->flags & KVM_IRQFD_FLAG_DEASSIGN)
		return irqfd_deassign(vm, args);
	return irqfd_assign(vm, args);
}

/* The VM's end, before its vCPUs and chips go: no wake-up may reach them. */
void hvx_irqfd_release(struct hvx_vm *vm)
{
	struct hvx_irqfd *irqfd, *tmp;

	spin_lock_irq(&vm->irqfds_lock);
	list_for_each_entry_safe(irqfd, tmp, &vm->irqfds, node)
		irqfd_deactivate(irqfd);
	spin_unlock_irq(&vm->irqfds_lock);
	flush_workqueue(hvx_irqfd_wq);
}

int hvx_irqfd_module_init(void)
{
	hvx_irqfd_wq = alloc_workqueue("hvx-irqfd", 0, 0);
	return hvx_irqfd_wq ? 0 : -ENOMEM;
}

void hvx_irqfd_module_exit(void)
{
	destroy_workqueue(hvx_irqfd_wq);
}
