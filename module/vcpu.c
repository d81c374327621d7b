// SPDX-License-Identifier: GPL-2.0
/*
 * vCPUs: creation, the vCPU fd (ioctls and the kvm_run mmap) and the
 * KVM_RUN loop.
 *
 * Each vCPU is driven by whichever thread issues its ioctls; vcpu->mutex
 * serialises them. While an ioctl runs, the vCPU is "loaded" on the
 * thread's CPU and preempt notifiers follow the thread when it migrates.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>
#include <asm/cpufeature.h>
#include <asm/tsc.h>

#include "hvx.h"
#include "compat.h"
#include "backend.h"
#include "alloc.h"

/* KVM's own limit on KVM_GET/SET_MSRS entries. */
#define HVX_MAX_IO_MSRS		256

static inline struct hvx_vcpu *pn_to_vcpu(struct preempt_notifier *pn)
{
	return container_of(pn, struct hvx_vcpu, pn);
}

static void hvx_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct hvx_vcpu *vcpu = pn_to_vcpu(pn);

	vcpu->cpu = cpu;
	hvx_ops->vcpu_load(vcpu, cpu);
}

static void hvx_sched_out(struct preempt_notifier *pn, struct task_struct *next)
{
	struct hvx_vcpu *vcpu = pn_to_vcpu(pn);

	hvx_ops->vcpu_put(vcpu);
	vcpu->cpu = -1;
}

static struct preempt_ops hvx_preempt_ops = {
	.sched_in	= hvx_sched_in,
	.sched_out	= hvx_sched_out,
};

static void vcpu_load(struct hvx_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_register(&vcpu->pn);
	vcpu->cpu = cpu;
	hvx_ops->vcpu_load(vcpu, cpu);
	put_cpu();
}

static void vcpu_put(struct hvx_vcpu *vcpu)
{
	preempt_disable();
	hvx_ops->vcpu_put(vcpu);
	vcpu->cpu = -1;
	preempt_notifier_unregister(&vcpu->pn);
	preempt_enable();
}

void hvx_vcpu_request(struct hvx_vcpu *vcpu, int req)
{
	set_bit(req, &vcpu->requests);
}

/*
 * Power-on state: SDM Vol 3 Table 10-1 / APM Vol 2 14.1.3. INIT (@init)
 * leaves the x87/SSE state, IA32_APIC_BASE and the other MSRs alone.
 */
static void vcpu_reset(struct hvx_vcpu *vcpu, bool init)
{
	u64 apic_base = vcpu->apic_base, misc_enable = vcpu->misc_enable;

	memset(vcpu->regs, 0, sizeof(vcpu->regs));
	/* EDX holds the processor signature after reset; KVM reports 0x600. */
	vcpu->regs[HVX_RDX] = 0x600;
	vcpu->rip = 0xfff0;
	vcpu->rflags = X86_EFLAGS_FIXED;
	vcpu->apic_base = 0xfee00000ULL | MSR_IA32_APICBASE_ENABLE |
			  (vcpu->id == 0 ? MSR_IA32_APICBASE_BSP : 0);
	/* KVM's reset value: no BTS, no PEBS (SDM Vol 4 Table 2-2). */
	vcpu->misc_enable = MSR_IA32_MISC_ENABLE_BTS_UNAVAIL |
			    MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL;
	memset(&vcpu->pending, 0, sizeof(vcpu->pending));
	vcpu->irq_queued = false;
	vcpu->nmi_pending = 0;
	hvx_dr_reset(vcpu);
	if (init) {
		vcpu->apic_base = apic_base;
		vcpu->misc_enable = misc_enable;
	} else {
		hvx_fpu_reset(vcpu);
		hvx_lapic_reset(vcpu);
		/* With the APIC in the kernel, APs wait for INIT and SIPI. */
		vcpu->mp_state = vcpu->lapic && vcpu->id ?
				 KVM_MP_STATE_UNINITIALIZED : KVM_MP_STATE_RUNNABLE;
	}
	hvx_ops->vcpu_reset(vcpu);
}

void hvx_vcpu_reset(struct hvx_vcpu *vcpu)
{
	vcpu_reset(vcpu, false);
}

void hvx_vcpu_init_reset(struct hvx_vcpu *vcpu)
{
	vcpu_reset(vcpu, true);
}

void hvx_skip_insn(struct hvx_vcpu *vcpu, unsigned int len)
{
	u64 rip = vcpu->rip + len;
	struct kvm_segment cs;

	hvx_ops->get_segment(vcpu, &cs, HVX_SEG_CS);
	/* Outside 64-bit mode the instruction pointer wraps at 32 bits. */
	if (!(cs.l && (hvx_ops->get_efer(vcpu) & EFER_LMA)))
		rip = (u32)rip;
	vcpu->rip = rip;
	/* The STI or MOV SS shadow covers only the instruction after it. */
	hvx_ops->set_interrupt_shadow(vcpu, 0);
}

/* ---- KVM_RUN ---------------------------------------------------------- */

/* Whether the loop must give the thread back to userspace (NVMM's shape). */
static bool vcpu_need_return(struct hvx_vcpu *vcpu)
{
	return signal_pending(current) || hvx_is_rebooting();
}

/*
 * One guest entry. Preemption and interrupts go off only here, after any
 * sleeping work (faults, copies) has been done by the exit handlers.
 */
static void vcpu_enter_guest(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	exit->reason = HVX_EXIT_NONE;

	preempt_disable();
	hvx_fpu_load_guest(vcpu);
	local_irq_disable();

	WRITE_ONCE(vcpu->mode, HVX_IN_GUEST);
	/*
	 * Publish IN_GUEST before reading requests: a remote CPU that sets a
	 * request and then sees IN_GUEST sends an IPI, which either arrives
	 * before entry (the request is seen below) or forces an exit (pairs
	 * with the barrier in hvx_vm_request_all()).
	 */
	smp_mb();

	/*
	 * Rebooting: the notifier's IPI has turned (or, pending behind the
	 * disabled interrupts, will turn) virtualization off on this CPU.
	 */
	if (need_resched() || signal_pending(current) || hvx_is_rebooting())
		goto out;
	/* Requests the loop handles (a clock update, say) came in late. */
	if (READ_ONCE(vcpu->requests) & ~BIT(HVX_REQ_TLB_FLUSH))
		goto out;
	if (test_and_clear_bit(HVX_REQ_TLB_FLUSH, &vcpu->requests))
		hvx_ops->flush_tlb(vcpu);
	hvx_inject_events(vcpu);

	hvx_ops->run(vcpu, exit);
	/* Before interrupts: a host handler may rely on its watchpoints. */
	hvx_restore_host_debugregs();
out:
	WRITE_ONCE(vcpu->mode, HVX_OUTSIDE_GUEST);
	local_irq_enable();
	hvx_fpu_put_guest(vcpu);
	preempt_enable();
}

static int vcpu_run(struct hvx_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct hvx_exit exit;
	int r, idx;

	idx = srcu_read_lock(&vcpu->vm->srcu);
	/* Finish the I/O userspace just completed, as KVM does, even if
	 * immediate_exit is set: that is how VMMs sync state before saving.
	 */
	r = hvx_complete_userspace_io(vcpu);
	if (r <= 0)
		goto out;
	/* Like KVM, leave exit_reason as the last exit set it. */
	if (READ_ONCE(run->immediate_exit)) {
		r = -EINTR;
		goto out;
	}

	/* From here on the CPUID table is frozen (KVM_SET_CPUID2 rules). */
	vcpu->has_run = true;
	for (;;) {
		if (test_and_clear_bit(HVX_REQ_CLOCK_UPDATE, &vcpu->requests))
			hvx_kvmclock_update(vcpu);
		/* Split irqchip: a level EOI for userspace's IOAPIC (lapic.c). */
		if (test_and_clear_bit(HVX_REQ_IOAPIC_EOI, &vcpu->requests)) {
			run->exit_reason = KVM_EXIT_IOAPIC_EOI;
			run->eoi.vector = vcpu->ioapic_eoi_vector;
			r = 0;
			break;
		}
		if (vcpu_need_return(vcpu)) {
			run->exit_reason = KVM_EXIT_INTR;
			r = -EINTR;
			break;
		}
		hvx_lapic_process_events(vcpu);
		if (vcpu->mp_state != KVM_MP_STATE_RUNNABLE) {
			srcu_read_unlock(&vcpu->vm->srcu, idx);
			r = hvx_vcpu_block(vcpu);
			idx = srcu_read_lock(&vcpu->vm->srcu);
			continue;
		}
		srcu_read_unlock(&vcpu->vm->srcu, idx);
		cond_resched();
		vcpu_enter_guest(vcpu, &exit);
		idx = srcu_read_lock(&vcpu->vm->srcu);

		r = hvx_handle_exit(vcpu, &exit);
		if (r > 0)
			r = hvx_check_irq_window(vcpu);
		if (r <= 0)
			break;
	}
out:
	srcu_read_unlock(&vcpu->vm->srcu, idx);
	hvx_sync_run_state(vcpu);
	return r;
}

/* ---- Register state ---------------------------------------------------- */

static void vcpu_get_regs(struct hvx_vcpu *vcpu, struct kvm_regs *regs)
{
	const u64 *r = vcpu->regs;

	regs->rax = r[HVX_RAX];
	regs->rbx = r[HVX_RBX];
	regs->rcx = r[HVX_RCX];
	regs->rdx = r[HVX_RDX];
	regs->rsi = r[HVX_RSI];
	regs->rdi = r[HVX_RDI];
	regs->rsp = r[HVX_RSP];
	regs->rbp = r[HVX_RBP];
	regs->r8 = r[HVX_R8];
	regs->r9 = r[HVX_R9];
	regs->r10 = r[HVX_R10];
	regs->r11 = r[HVX_R11];
	regs->r12 = r[HVX_R12];
	regs->r13 = r[HVX_R13];
	regs->r14 = r[HVX_R14];
	regs->r15 = r[HVX_R15];
	regs->rip = vcpu->rip;
	regs->rflags = vcpu->rflags;
}

static void vcpu_set_regs(struct hvx_vcpu *vcpu, const struct kvm_regs *regs)
{
	u64 *r = vcpu->regs;

	r[HVX_RAX] = regs->rax;
	r[HVX_RBX] = regs->rbx;
	r[HVX_RCX] = regs->rcx;
	r[HVX_RDX] = regs->rdx;
	r[HVX_RSI] = regs->rsi;
	r[HVX_RDI] = regs->rdi;
	r[HVX_RSP] = regs->rsp;
	r[HVX_RBP] = regs->rbp;
	r[HVX_R8] = regs->r8;
	r[HVX_R9] = regs->r9;
	r[HVX_R10] = regs->r10;
	r[HVX_R11] = regs->r11;
	r[HVX_R12] = regs->r12;
	r[HVX_R13] = regs->r13;
	r[HVX_R14] = regs->r14;
	r[HVX_R15] = regs->r15;
	vcpu->rip = regs->rip;
	/* Bit 1 always reads as 1 (SDM Vol 1 3.4.3). */
	vcpu->rflags = regs->rflags | X86_EFLAGS_FIXED;
}

static int vcpu_get_msrs(struct hvx_vcpu *vcpu, struct kvm_msrs __user *umsrs,
			 bool set)
{
	struct kvm_msr_entry *entries;
	struct kvm_msrs msrs;
	unsigned int i;
	int r;

	if (copy_from_user(&msrs, umsrs, sizeof(msrs)))
		return -EFAULT;
	if (msrs.nmsrs >= HVX_MAX_IO_MSRS)
		return -E2BIG;
	entries = memdup_user(umsrs->entries, msrs.nmsrs * sizeof(*entries));
	if (IS_ERR(entries))
		return PTR_ERR(entries);
	for (i = 0; i < msrs.nmsrs; i++) {
		if (set) {
			if (hvx_set_msr(vcpu, entries[i].index, entries[i].data, true))
				break;
		} else if (hvx_get_msr(vcpu, entries[i].index, &entries[i].data, true)) {
			break;
		}
	}
	r = i;
	if (!set && copy_to_user(umsrs->entries, entries, i * sizeof(*entries)))
		r = -EFAULT;
	kfree(entries);
	return r;
}

/* ---- The vCPU fd -------------------------------------------------------- */

static long vcpu_ioctl_locked(struct hvx_vcpu *vcpu, unsigned int ioctl,
			      void __user *argp, unsigned long arg)
{
	union {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		struct kvm_fpu fpu;
		struct kvm_lapic_state lapic;
	} *u;
	struct kvm_mp_state mp;
	u64 old;
	long r;

	switch (ioctl) {
	case KVM_RUN:
		if (arg)
			return -EINVAL;
		return vcpu_run(vcpu);
	case KVM_SET_CPUID2:
		return hvx_vcpu_set_cpuid2(vcpu, argp);
	case KVM_GET_CPUID2:
		return hvx_vcpu_get_cpuid2(vcpu, argp);
	case KVM_NMI:
		return hvx_vcpu_nmi(vcpu);
	case KVM_GET_TSC_KHZ:
		/* No TSC scaling: the guest's TSC ticks at the host's rate. */
		return tsc_khz;
	case KVM_GET_DEBUGREGS: {
		struct kvm_debugregs d;

		hvx_get_debugregs(vcpu, &d);
		return copy_to_user(argp, &d, sizeof(d)) ? -EFAULT : 0;
	}
	case KVM_SET_DEBUGREGS: {
		struct kvm_debugregs d;

		if (copy_from_user(&d, argp, sizeof(d)))
			return -EFAULT;
		return hvx_set_debugregs(vcpu, &d);
	}
	case KVM_GET_VCPU_EVENTS: {
		struct kvm_vcpu_events ev;

		hvx_get_vcpu_events(vcpu, &ev);
		return copy_to_user(argp, &ev, sizeof(ev)) ? -EFAULT : 0;
	}
	case KVM_SET_VCPU_EVENTS: {
		struct kvm_vcpu_events ev;

		if (copy_from_user(&ev, argp, sizeof(ev)))
			return -EFAULT;
		return hvx_set_vcpu_events(vcpu, &ev);
	}
	case KVM_INTERRUPT: {
		struct kvm_interrupt irq;

		if (copy_from_user(&irq, argp, sizeof(irq)))
			return -EFAULT;
		/* KVM: the PIC is in the kernel, so no userspace ExtINT. */
		if (vcpu->vm->irqchip == HVX_IRQCHIP_KERNEL)
			return -ENXIO;
		return hvx_vcpu_interrupt(vcpu, &irq);
	}
	case KVM_GET_MP_STATE:
		mp.mp_state = hvx_vcpu_get_mp_state(vcpu);
		return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
	case KVM_SET_MP_STATE:
		if (copy_from_user(&mp, argp, sizeof(mp)))
			return -EFAULT;
		return hvx_vcpu_set_mp_state(vcpu, mp.mp_state);
	case KVM_GET_MSRS:
		return vcpu_get_msrs(vcpu, argp, false);
	case KVM_SET_MSRS:
		return vcpu_get_msrs(vcpu, argp, true);
	}

	u = kzalloc(sizeof(*u), GFP_KERNEL_ACCOUNT);
	if (!u)
		return -ENOMEM;
	r = 0;
	switch (ioctl) {
	case KVM_GET_REGS:
		vcpu_get_regs(vcpu, &u->regs);
		if (copy_to_user(argp, &u->regs, sizeof(u->regs)))
			r = -EFAULT;
		break;
	case KVM_SET_REGS:
		if (copy_from_user(&u->regs, argp, sizeof(u->regs)))
			r = -EFAULT;
		else
			vcpu_set_regs(vcpu, &u->regs);
		break;
	case KVM_GET_SREGS:
		hvx_ops->get_sregs(vcpu, &u->sregs);
		u->sregs.apic_base = vcpu->apic_base;
		hvx_get_interrupt_bitmap(vcpu, u->sregs.interrupt_bitmap);
		if (copy_to_user(argp, &u->sregs, sizeof(u->sregs)))
			r = -EFAULT;
		break;
	case KVM_SET_SREGS:
		if (copy_from_user(&u->sregs, argp, sizeof(u->sregs))) {
			r = -EFAULT;
			break;
		}
		if (!hvx_sregs_valid(&u->sregs) ||
		    !hvx_apic_base_valid(vcpu, u->sregs.apic_base, true)) {
			r = -EINVAL;
			break;
		}
		hvx_ops->set_sregs(vcpu, &u->sregs);
		old = vcpu->apic_base;
		vcpu->apic_base = u->sregs.apic_base;
		hvx_lapic_set_base(vcpu, old);
		hvx_lapic_set_cr8(vcpu, u->sregs.cr8);
		hvx_set_interrupt_bitmap(vcpu, u->sregs.interrupt_bitmap);
		/* New paging state: cached translations are stale. */
		hvx_vcpu_request(vcpu, HVX_REQ_TLB_FLUSH);
		break;
	case KVM_GET_LAPIC:
		/* KVM: -EINVAL without an in-kernel APIC. */
		if (!vcpu->lapic) {
			r = -EINVAL;
			break;
		}
		hvx_lapic_get_state(vcpu, &u->lapic);
		if (copy_to_user(argp, &u->lapic, sizeof(u->lapic)))
			r = -EFAULT;
		break;
	case KVM_SET_LAPIC:
		if (!vcpu->lapic)
			r = -EINVAL;
		else if (copy_from_user(&u->lapic, argp, sizeof(u->lapic)))
			r = -EFAULT;
		else
			r = hvx_lapic_set_state(vcpu, &u->lapic);
		break;
	case KVM_GET_FPU:
		hvx_fpu_get(vcpu, &u->fpu);
		if (copy_to_user(argp, &u->fpu, sizeof(u->fpu)))
			r = -EFAULT;
		break;
	case KVM_SET_FPU:
		if (copy_from_user(&u->fpu, argp, sizeof(u->fpu)))
			r = -EFAULT;
		else
			hvx_fpu_set(vcpu, &u->fpu);
		break;
	default:
		/* KVM's x86 vCPU ioctl returns -EINVAL for what it does not know. */
		r = -EINVAL;
	}
	kfree(u);
	return r;
}

static long hvx_vcpu_ioctl(struct file *filp, unsigned int ioctl,
			   unsigned long arg)
{
	struct hvx_vcpu *vcpu = filp->private_data;
	long r;

	/* Guest memory is the creator's address space (as KVM: -EIO). */
	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	vcpu_load(vcpu);
	r = vcpu_ioctl_locked(vcpu, ioctl, (void __user *)arg, arg);
	vcpu_put(vcpu);
	mutex_unlock(&vcpu->mutex);
	return r;
}

static vm_fault_t hvx_vcpu_fault(struct vm_fault *vmf)
{
	struct hvx_vcpu *vcpu = vmf->vma->vm_file->private_data;
	void *addr;

	if (vmf->pgoff == 0)
		addr = vcpu->run;
	else if (vmf->pgoff == HVX_PIO_PAGE_OFFSET)
		addr = vcpu->pio_data;
	else
		return VM_FAULT_SIGBUS;
	vmf->page = virt_to_page(addr);
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct hvx_vcpu_vm_ops = {
	.fault = hvx_vcpu_fault,
};

static int hvx_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	vma->vm_ops = &hvx_vcpu_vm_ops;
	return 0;
}

static int hvx_vcpu_release(struct inode *inode, struct file *filp)
{
	struct hvx_vcpu *vcpu = filp->private_data;

	/* The vCPU itself lives as long as its VM. */
	hvx_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations hvx_vcpu_fops = {
	.owner		= THIS_MODULE,
	.release	= hvx_vcpu_release,
	.unlocked_ioctl	= hvx_vcpu_ioctl,
	.compat_ioctl	= hvx_vcpu_ioctl,
	.mmap		= hvx_vcpu_mmap,
	.llseek		= noop_llseek,
};

static void vcpu_free(struct hvx_vcpu *vcpu)
{
	struct hvx_vm *vm = vcpu->vm;

	hvx_lapic_free(vcpu);
	if (vcpu->arch)
		hvx_ops->vcpu_free(vcpu);
	hvx_fpu_free(vcpu);
	hvx_free_page(vm, vcpu->pio_data);
	hvx_free_page(vm, vcpu->run);
	kvfree(vcpu->cpuid);
	kfree(vcpu);
}

/*
 * Create vCPU @id (validated by the caller, who holds vm->lock) and return
 * its fd.
 */
int hvx_vcpu_create(struct hvx_vm *vm, u32 id)
{
	struct hvx_vcpu *vcpu;
	int r, index = atomic_read(&vm->online_vcpus);

	vcpu = kzalloc(sizeof(*vcpu), GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->index = index;
	vcpu->cpu = -1;
	mutex_init(&vcpu->mutex);
	init_waitqueue_head(&vcpu->wq);
	preempt_notifier_init(&vcpu->pn, &hvx_preempt_ops);

	r = -ENOMEM;
	vcpu->run = hvx_alloc_page(vm);
	vcpu->pio_data = hvx_alloc_page(vm);
	if (!vcpu->run || !vcpu->pio_data)
		goto err;
	r = hvx_fpu_alloc(vcpu);
	if (r)
		goto err;
	r = hvx_ops->vcpu_create(vcpu);
	if (r)
		goto err;
	if (vm->irqchip != HVX_IRQCHIP_NONE) {
		r = hvx_lapic_create(vcpu);
		if (r)
			goto err;
	}
	/*
	 * Every vCPU's TSC reads 0 at the VM's creation, so they agree, as
	 * KVM's TSC matching makes the vCPUs of a new VM agree.
	 */
	vcpu->tsc_offset = -vm->tsc_base;
	/* The reset writes backend state that may need the CPU (a VMCS). */
	vcpu_load(vcpu);
	hvx_vcpu_reset(vcpu);
	vcpu_put(vcpu);

	hvx_vm_get(vm);
	r = anon_inode_getfd("hvx-vcpu", &hvx_vcpu_fops, vcpu,
			     O_RDWR | O_CLOEXEC);
	if (r < 0) {
		hvx_vm_put(vm);
		goto err;
	}
	vm->vcpus[index] = vcpu;
	/* Readers iterate up to online_vcpus: publish the pointer first. */
	smp_wmb();
	atomic_inc(&vm->online_vcpus);
	return r;
err:
	vcpu_free(vcpu);
	return r;
}

/* Called once the VM's last reference is gone. */
void hvx_vcpu_destroy(struct hvx_vcpu *vcpu)
{
	vcpu_free(vcpu);
}
