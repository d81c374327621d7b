// SPDX-License-Identifier: GPL-2.0
/*
 * System ioctls on /dev/hvx and KVM_CHECK_EXTENSION.
 *
 * Errors follow KVM's kvm_dev_ioctl() and the x86 kvm_arch_dev_ioctl():
 * an ioctl hvx does not know is -EINVAL on this fd (-ENOTTY on a VM fd).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/kvm.h>
#include <linux/minmax.h>
#include <linux/mm.h>

#include "hvx.h"
#include "memslot.h"

/*
 * Only what hvx implements today; everything else is 0, which KVM clients
 * read as "not supported". @vm is NULL on the system fd; no answer depends
 * on the VM yet.
 */
int hvx_check_extension(struct hvx_vm *vm, long ext)
{
	switch (ext) {
	/* KVM_SET_USER_MEMORY_REGION. */
	case KVM_CAP_USER_MEMORY:
	/* A slot is deleted by setting it with memory_size 0. */
	case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
	/* Adjacent slots may abut; KVM has always answered 1. */
	case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
	/* KVM_EXIT_INTERNAL_ERROR carries ndata/data (hvx_internal_error()). */
	case KVM_CAP_INTERNAL_ERROR_DATA:
	/* KVM_CHECK_EXTENSION also works on the VM fd. */
	case KVM_CAP_CHECK_EXTENSION_VM:
	/* KVM_GET_SUPPORTED_CPUID, KVM_{SET,GET}_CPUID2. */
	case KVM_CAP_EXT_CPUID:
	/* Second-level tables follow the host mm through an mmu notifier. */
	case KVM_CAP_SYNC_MMU:
	/* KVM_MEM_READONLY: guest writes to such slots exit as MMIO. */
	case KVM_CAP_READONLY_MEM:
	/* kvm_run->immediate_exit is honoured by KVM_RUN. */
	case KVM_CAP_IMMEDIATE_EXIT:
	/*
	 * KVM_NMI, KVM_GET/SET_VCPU_EVENTS (events.c); the interrupt shadow
	 * travels in the events, and KVM_CAP_INTR_SHADOW stays 0 as on KVM.
	 */
	case KVM_CAP_USER_NMI:
	case KVM_CAP_VCPU_EVENTS:
	/* KVM_GET/SET_DEBUGREGS (dr.c). */
	case KVM_CAP_DEBUGREGS:
	/* KVM_IOEVENTFD, also with length 0 (ioeventfd.c). */
	case KVM_CAP_IOEVENTFD:
	case KVM_CAP_IOEVENTFD_NO_LENGTH:
	/* KVM_GET/SET_MP_STATE (lapic.c), with or without an in-kernel APIC. */
	case KVM_CAP_MP_STATE:
	/* KVM_GET_TSC_KHZ: the host's TSC rate, which the guest's TSC runs at. */
	case KVM_CAP_GET_TSC_KHZ:
	/*
	 * KVM_CREATE_IRQCHIP: IOAPIC, PICs and local APICs in the kernel,
	 * KVM_IRQ_LINE, KVM_GET/SET_IRQCHIP (irq.c), and
	 * KVM_IRQ_LINE_STATUS.
	 */
	case KVM_CAP_IRQCHIP:
	case KVM_CAP_IRQ_INJECT_STATUS:
	/* As KVM's IOAPIC, hvx's takes the line's logical level. */
	case KVM_CAP_IOAPIC_POLARITY_IGNORED:
	/*
	 * KVM_ENABLE_CAP(KVM_CAP_SPLIT_IRQCHIP): in-kernel local APICs,
	 * with KVM_SIGNAL_MSI and KVM_EXIT_IOAPIC_EOI for userspace's IOAPIC.
	 */
	case KVM_CAP_ENABLE_CAP_VM:
	case KVM_CAP_SPLIT_IRQCHIP:
	case KVM_CAP_SIGNAL_MSI:
	/* KVM_IRQFD, with KVM_IRQFD_FLAG_RESAMPLE (irqfd.c). */
	case KVM_CAP_IRQFD:
	case KVM_CAP_IRQFD_RESAMPLE:
	/* The in-kernel APIC timer's TSC-deadline mode (lapic_timer.c). */
	case KVM_CAP_TSC_DEADLINE_TIMER:
		return 1;
	/* KVM_GET/SET_CLOCK (kvmclock.c): the kvm_clock_data flags it knows. */
	case KVM_CAP_ADJUST_CLOCK:
		return KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	/* KVM_SET_GSI_ROUTING (irq_routing.c): the most routes it takes. */
	case KVM_CAP_IRQ_ROUTING:
		return HVX_MAX_IRQ_ROUTES;
	case KVM_CAP_NR_MEMSLOTS:
		return HVX_USER_MEM_SLOTS;
	/* Recommended vCPU count: as KVM x86, no more than the online CPUs. */
	case KVM_CAP_NR_VCPUS:
		return min_t(unsigned int, num_online_cpus(), HVX_MAX_VCPUS);
	case KVM_CAP_MAX_VCPUS:
		return HVX_MAX_VCPUS;
	/* KVM_CREATE_VCPU takes ids below this value. */
	case KVM_CAP_MAX_VCPU_ID:
		return HVX_MAX_VCPU_ID;
	/*
	 * Deliberately 0, among others: KVM_CAP_COALESCED_MMIO (no ring, so
	 * the vCPU mapping is only the run and PIO pages),
	 * KVM_CAP_SET_TSS_ADDR, KVM_CAP_GET_MSR_FEATURES,
	 * KVM_CAP_MULTI_ADDRESS_SPACE (one address space: KVM answers 0
	 * then too), KVM_CAP_X2APIC_API (MSI and LAPIC state carry 8-bit
	 * xAPIC IDs only), KVM_CAP_PIT2 (no in-kernel PIT).
	 */
	default:
		return 0;
	}
}

long hvx_dev_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (ioctl) {
	case KVM_GET_API_VERSION:
		if (arg)
			return -EINVAL;
		return HVX_API_VERSION;
	case KVM_CREATE_VM:
		/* The argument is the machine type; hvx_create_vm() checks it. */
		return hvx_create_vm(arg);
	case KVM_CHECK_EXTENSION:
		return hvx_check_extension(NULL, arg);
	case KVM_GET_VCPU_MMAP_SIZE:
		if (arg)
			return -EINVAL;
		return HVX_VCPU_MMAP_PAGES * PAGE_SIZE;
	case KVM_GET_SUPPORTED_CPUID:
		return hvx_get_supported_cpuid(argp);
	case KVM_GET_MSR_INDEX_LIST:
		return hvx_get_msr_index_list(argp);
#ifdef KVM_TRACE_ENABLE
	/* Long-removed tracing ioctls: KVM still answers -EOPNOTSUPP. */
	case KVM_TRACE_ENABLE:
	case KVM_TRACE_PAUSE:
	case KVM_TRACE_DISABLE:
		return -EOPNOTSUPP;
#endif
	default:
		return -EINVAL;
	}
}
