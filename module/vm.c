// SPDX-License-Identifier: GPL-2.0
/*
 * VM lifetime and the VM file descriptor (KVM_CREATE_VM's result).
 *
 * A VM is reference counted: the VM file holds the first reference and
 * every vCPU file one more, so the VM (and its vCPUs) go away when the
 * last of those files is closed.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/anon_inodes.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kref.h>
#include <linux/kvm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>

#include "hvx.h"
#include "backend.h"
#include "memslot.h"
#include "mmu/mmu.h"

void hvx_vm_get(struct hvx_vm *vm)
{
	kref_get(&vm->ref);
}

static void hvx_vm_free(struct kref *ref)
{
	struct hvx_vm *vm = container_of(ref, struct hvx_vm, ref);
	int i, n = atomic_read(&vm->online_vcpus);
	long leaked;

	/* First: an eventfd's wake-up must not reach vCPUs or chips going away. */
	hvx_irqfd_release(vm);
	/* Waits for statistics readers, which look into vm->mmu. */
	hvx_vm_debugfs_destroy(vm);
	/*
	 * The MMU goes first, as in KVM: unregistering the mmu notifier waits
	 * for running invalidations, which may kick vCPUs through
	 * hvx_vm_request_all() and so must not see vCPUs being freed.
	 */
	hvx_mmu_destroy(vm);
	for (i = 0; i < n; i++) {
		hvx_vcpu_destroy(vm->vcpus[i]);
		vm->vcpus[i] = NULL;
	}
	atomic_set(&vm->online_vcpus, 0);
	hvx_ops->vm_destroy(vm);
	hvx_ioeventfd_free(vm);
	hvx_irqchip_free(vm);
	hvx_irq_routing_free(vm);
	hvx_memslots_free(vm);
	cleanup_srcu_struct(&vm->srcu);
	mmdrop(vm->mm);

	leaked = atomic_long_read(&vm->pages);
	if (leaked)
		pr_err("vm leaked %ld pages\n", leaked);
	mutex_destroy(&vm->irq_lock);
	mutex_destroy(&vm->lock);
	kfree(vm);
	hvx_disable_virt();
}

void hvx_vm_put(struct hvx_vm *vm)
{
	kref_put(&vm->ref, hvx_vm_free);
}

static void hvx_kick_nop(void *info)
{
	/* The IPI itself is the point: it forces the target out of the guest. */
}

void hvx_vm_request_all(struct hvx_vm *vm, int req)
{
	struct hvx_vcpu *vcpu;
	cpumask_var_t mask;
	bool have_mask, kick = false;
	int i, n, cpu, me;

	/*
	 * Callers include the mmu notifier, so nothing here may sleep. If the
	 * atomic allocation fails, fall back to kicking every online CPU, as
	 * KVM's kvm_make_all_cpus_request() does.
	 */
	have_mask = zalloc_cpumask_var(&mask, GFP_ATOMIC);

	n = atomic_read(&vm->online_vcpus);
	/* Pairs with the smp_wmb() between storing vcpus[] and online_vcpus++. */
	smp_rmb();
	for (i = 0; i < n; i++)
		set_bit(req, &vm->vcpus[i]->requests);

	/*
	 * Requests before modes. Pairs with the vCPU's "mode = IN_GUEST;
	 * smp_mb(); check requests": either it sees our bit and does not
	 * enter, or we see IN_GUEST and the IPI makes it exit.
	 */
	smp_mb__after_atomic();

	me = get_cpu();
	for (i = 0; i < n; i++) {
		vcpu = vm->vcpus[i];
		if (READ_ONCE(vcpu->mode) != HVX_IN_GUEST)
			continue;
		cpu = READ_ONCE(vcpu->cpu);
		/* A vCPU in guest mode cannot be on the CPU running this. */
		if (cpu < 0 || cpu == me)
			continue;
		kick = true;
		if (have_mask)
			__cpumask_set_cpu(cpu, mask);
	}
	/* Never the calling CPU: smp_call_function_many() skips it. */
	if (kick)
		smp_call_function_many(have_mask ? mask : cpu_online_mask,
				       hvx_kick_nop, NULL, true);
	put_cpu();

	if (have_mask)
		free_cpumask_var(mask);
}

static int hvx_vm_ioctl_create_vcpu(struct hvx_vm *vm, unsigned long arg)
{
	/* KVM takes the id as a u32 (kvm_vm_ioctl_create_vcpu(kvm, arg)). */
	u32 id = arg;
	int i, n, r;

	if (id >= HVX_MAX_VCPU_ID)
		return -EINVAL;

	mutex_lock(&vm->lock);
	n = atomic_read(&vm->online_vcpus);
	/* KVM checks the count before the id: a full VM is -EINVAL first. */
	r = -EINVAL;
	if (n >= HVX_MAX_VCPUS)
		goto out;
	r = -EEXIST;
	for (i = 0; i < n; i++)
		if (vm->vcpus[i]->id == id)
			goto out;
	/*
	 * Under vm->lock, so ids and slots stay as checked: vcpu.c stores the
	 * vCPU at vcpus[online_vcpus], then smp_wmb(), then online_vcpus++.
	 */
	r = hvx_vcpu_create(vm, id);
out:
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * KVM_CAP_SPLIT_IRQCHIP: local APICs in the kernel, for vCPUs created
 * after this; the IOAPIC and PICs stay in userspace, which sends their
 * interrupts as MSIs (KVM_SIGNAL_MSI, or MSI routes for KVM_IRQ_LINE and
 * irqfds) and hears of level EOIs through KVM_EXIT_IOAPIC_EOI. The
 * routing table starts empty.
 */
static int vm_enable_split_irqchip(struct hvx_vm *vm, const struct kvm_enable_cap *cap)
{
	int r;

	if (cap->args[0] > HVX_MAX_IRQ_ROUTES)
		return -EINVAL;
	mutex_lock(&vm->lock);
	/* KVM: -EEXIST for a second irqchip and once vCPUs exist. */
	r = -EEXIST;
	if (vm->irqchip == HVX_IRQCHIP_NONE && !atomic_read(&vm->online_vcpus)) {
		vm->irqchip = HVX_IRQCHIP_SPLIT;
		vm->nr_reserved_ioapic_pins = cap->args[0];
		r = 0;
	}
	mutex_unlock(&vm->lock);
	return r;
}

static int hvx_vm_ioctl_enable_cap(struct hvx_vm *vm, void __user *argp)
{
	struct kvm_enable_cap cap;

	if (copy_from_user(&cap, argp, sizeof(cap)))
		return -EFAULT;
	if (cap.flags)
		return -EINVAL;
	switch (cap.cap) {
	case KVM_CAP_SPLIT_IRQCHIP:
		return vm_enable_split_irqchip(vm, &cap);
	default:
		/* KVM's answer for a capability it cannot enable on a VM. */
		return -EINVAL;
	}
}

/* KVM copies the whole struct in for both, and out for GET. */
static int hvx_vm_ioctl_irqchip(struct hvx_vm *vm, unsigned int ioctl,
				void __user *argp)
{
	struct kvm_irqchip *chip;
	int r;

	chip = kmalloc(sizeof(*chip), GFP_KERNEL);
	if (!chip)
		return -ENOMEM;
	r = -EFAULT;
	if (copy_from_user(chip, argp, sizeof(*chip)))
		goto out;
	if (ioctl == KVM_SET_IRQCHIP) {
		r = hvx_vm_set_irqchip(vm, chip);
		goto out;
	}
	r = hvx_vm_get_irqchip(vm, chip);
	if (!r && copy_to_user(argp, chip, sizeof(*chip)))
		r = -EFAULT;
out:
	kfree(chip);
	return r;
}

static long hvx_vm_ioctl(struct file *filp, unsigned int ioctl,
			 unsigned long arg)
{
	struct hvx_vm *vm = filp->private_data;
	void __user *argp = (void __user *)arg;

	/* As KVM: the guest memory is vm->mm's, so only that mm may drive it. */
	if (vm->mm != current->mm)
		return -EIO;

	switch (ioctl) {
	case KVM_CREATE_VCPU:
		return hvx_vm_ioctl_create_vcpu(vm, arg);
	case KVM_SET_USER_MEMORY_REGION: {
		struct kvm_userspace_memory_region mem;

		if (copy_from_user(&mem, argp, sizeof(mem)))
			return -EFAULT;
		return hvx_set_memory_region(vm, &mem);
	}
	case KVM_CHECK_EXTENSION:
		return hvx_check_extension(vm, arg);
	case KVM_ENABLE_CAP:
		return hvx_vm_ioctl_enable_cap(vm, argp);
	case KVM_SIGNAL_MSI: {
		struct kvm_msi msi;

		if (copy_from_user(&msi, argp, sizeof(msi)))
			return -EFAULT;
		return hvx_vm_signal_msi(vm, &msi);
	}
	case KVM_CREATE_IRQCHIP:
		return hvx_vm_create_irqchip(vm);
	case KVM_IRQ_LINE:
	case KVM_IRQ_LINE_STATUS: {
		struct kvm_irq_level irq;
		int r;

		if (copy_from_user(&irq, argp, sizeof(irq)))
			return -EFAULT;
		r = hvx_vm_irq_line(vm, &irq);
		if (!r && ioctl == KVM_IRQ_LINE_STATUS &&
		    copy_to_user(argp, &irq, sizeof(irq)))
			return -EFAULT;
		return r;
	}
	case KVM_GET_IRQCHIP:
	case KVM_SET_IRQCHIP:
		return hvx_vm_ioctl_irqchip(vm, ioctl, argp);
	case KVM_GET_CLOCK: {
		struct kvm_clock_data data;

		hvx_vm_get_clock(vm, &data);
		return copy_to_user(argp, &data, sizeof(data)) ? -EFAULT : 0;
	}
	case KVM_SET_CLOCK: {
		struct kvm_clock_data data;

		if (copy_from_user(&data, argp, sizeof(data)))
			return -EFAULT;
		return hvx_vm_set_clock(vm, &data);
	}
	case KVM_SET_GSI_ROUTING:
		return hvx_vm_set_gsi_routing(vm, argp);
	case KVM_IRQFD: {
		struct kvm_irqfd args;

		if (copy_from_user(&args, argp, sizeof(args)))
			return -EFAULT;
		return hvx_vm_irqfd(vm, &args);
	}
	case KVM_IOEVENTFD: {
		struct kvm_ioeventfd args;

		if (copy_from_user(&args, argp, sizeof(args)))
			return -EFAULT;
		return hvx_vm_ioeventfd(vm, &args);
	}
	default:
		/* kvm_arch_vm_ioctl()'s answer to an unknown VM ioctl. */
		return -ENOTTY;
	}
}

static int hvx_vm_release(struct inode *inode, struct file *filp)
{
	hvx_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations hvx_vm_fops = {
	.owner		= THIS_MODULE,
	.release	= hvx_vm_release,
	.unlocked_ioctl	= hvx_vm_ioctl,
	/* Every VM ioctl argument has the same layout for 32-bit callers. */
	.compat_ioctl	= hvx_vm_ioctl,
	.llseek		= noop_llseek,
};

int hvx_create_vm(unsigned long type)
{
	struct hvx_vm *vm;
	struct file *file;
	int r, fd;

	/* KVM x86 knows only machine type 0 (kvm_arch_init_vm()). */
	if (type)
		return -EINVAL;

	r = hvx_enable_virt();
	if (r)
		return r;

	r = -ENOMEM;
	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		goto out_disable;

	kref_init(&vm->ref);
	mutex_init(&vm->lock);
	mutex_init(&vm->irq_lock);
	hvx_irqfd_vm_init(vm);
	vm->tsc_base = rdtsc();
	hvx_kvmclock_vm_init(vm);
	atomic_set(&vm->online_vcpus, 0);
	atomic_long_set(&vm->pages, 0);
	hvx_ioeventfd_init(vm);
	/* Keep the mm_struct (not the address space) for the VM's lifetime. */
	mmgrab(current->mm);
	vm->mm = current->mm;

	r = init_srcu_struct(&vm->srcu);
	if (r)
		goto out_mm;
	r = hvx_memslots_init(vm);
	if (r)
		goto out_srcu;
	r = hvx_ops->vm_init(vm);
	if (r)
		goto out_memslots;
	r = hvx_mmu_init(vm, hvx_ops->pte_fmt);
	if (r)
		goto out_backend;

	/* The fd number first: it names the VM's statistics directory. */
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		hvx_vm_put(vm);	/* the full teardown, hvx_disable_virt() included */
		return fd;
	}
	file = anon_inode_getfile("hvx-vm", &hvx_vm_fops, vm, O_RDWR);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		hvx_vm_put(vm);
		return PTR_ERR(file);
	}
	hvx_vm_debugfs_create(vm, fd);
	fd_install(fd, file);
	return fd;

out_backend:
	hvx_ops->vm_destroy(vm);
out_memslots:
	hvx_memslots_free(vm);
out_srcu:
	cleanup_srcu_struct(&vm->srcu);
out_mm:
	mmdrop(vm->mm);
	mutex_destroy(&vm->irq_lock);
	mutex_destroy(&vm->lock);
	kfree(vm);
out_disable:
	hvx_disable_virt();
	return r;
}
