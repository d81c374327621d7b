// SPDX-License-Identifier: GPL-2.0
/*
 * Guest MSR policy, shared by both backends: which MSRs exist, which
 * values are legal, and where each lives (the core, or the backend's
 * VMCB/VMCS). An MSR not handled here reads and writes as #GP in the
 * guest and as a short count from KVM_GET/SET_MSRS, as on KVM.
 */
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include <asm/msr.h>
#include <asm/apicdef.h>
#include <asm/cpufeatures.h>
#include <asm/kvm_para.h>

#include "hvx.h"
#include "backend.h"

/* What KVM_GET_MSR_INDEX_LIST reports: every MSR hvx saves and restores. */
static const u32 hvx_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	MSR_FS_BASE, MSR_GS_BASE, MSR_EFER, MSR_IA32_CR_PAT, MSR_IA32_TSC,
	MSR_IA32_APICBASE, MSR_IA32_MISC_ENABLE, MSR_IA32_TSC_DEADLINE,
	MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK,
	MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW,
};

int hvx_get_msr_index_list(struct kvm_msr_list __user *ulist)
{
	struct kvm_msr_list list;
	u32 n = ARRAY_SIZE(hvx_msrs);

	if (copy_from_user(&list, ulist, sizeof(list)))
		return -EFAULT;
	if (put_user(n, &ulist->nmsrs))
		return -EFAULT;
	if (list.nmsrs < n)
		return -E2BIG;
	if (copy_to_user(ulist->indices, hvx_msrs, sizeof(hvx_msrs)))
		return -EFAULT;
	return 0;
}

/* Each PAT entry must be a defined memory type (SDM Vol 3 11.12.2). */
static bool pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type > 7 || type == 2 || type == 3)
			return false;
	}
	return true;
}

/*
 * EFER writes (APM Vol 2 3.1.7): reserved bits fault, LME cannot change
 * while the guest pages, and LMA is the CPU's to set, not the writer's:
 * not even KVM_SET_MSRS changes it (KVM_SET_SREGS does), as on KVM.
 */
static int set_efer(struct hvx_vcpu *vcpu, u64 efer, bool host)
{
	u64 old = hvx_ops->get_efer(vcpu);

	if (efer & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
		return 1;
	if (!host && (hvx_ops->get_cr(vcpu, 0) & X86_CR0_PG) &&
	    ((efer ^ old) & EFER_LME))
		return 1;
	efer = (efer & ~(u64)EFER_LMA) | (old & EFER_LMA);
	return hvx_ops->set_msr(vcpu, MSR_EFER, efer);
}

/*
 * IA32_APIC_BASE (SDM Vol 3 10.4.4, 10.12.5): bits 0-7 and 9 and those
 * beyond MAXPHYADDR are reserved; x2APIC mode needs the APIC enabled and
 * x2APIC in the guest's CPUID; a guest cannot go from x2APIC straight to
 * xAPIC mode, nor from disabled to x2APIC. KVM's rules, shared by
 * KVM_SET_SREGS and WRMSR.
 */
bool hvx_apic_base_valid(struct hvx_vcpu *vcpu, u64 val, bool host)
{
	const struct kvm_cpuid_entry2 *leaf1 = hvx_find_cpuid(vcpu, 1, 0);
	u64 mode = val & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);
	u64 old = vcpu->apic_base & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE);
	u64 x2apic = MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE;

	if (val & (0xffULL | BIT_ULL(9)) || val >> boot_cpu_data.x86_phys_bits)
		return false;
	if (mode == X2APIC_ENABLE)
		return false;
	if (mode == x2apic && !(leaf1 && (leaf1->ecx & BIT(X86_FEATURE_X2APIC & 31))))
		return false;
	if (host)
		return true;
	if (old == x2apic && mode == MSR_IA32_APICBASE_ENABLE)
		return false;
	if (!old && mode == x2apic)
		return false;
	return true;
}

static bool canonical(u64 addr)
{
	return (u64)((s64)addr << 16 >> 16) == addr;
}

/* The x2APIC MSR range (SDM Vol 3 11.12.1.2) and the TSC deadline. */
static bool lapic_msr(u32 index)
{
	return (index >= APIC_BASE_MSR && index <= APIC_BASE_MSR + 0xff) ||
	       index == MSR_IA32_TSC_DEADLINE;
}

/*
 * Platform MSRs a guest kernel probes that mean nothing in a VM: they read
 * 0 and ignore writes, as on KVM (e.g. Linux's AMD PCI code sets
 * NB_CFG.EnableCf8ExtCfg on every CPU, and warns if the MSR faults).
 */
static bool ignored_msr(u32 index)
{
	switch (index) {
	case MSR_AMD64_NB_CFG:
		return true;
	}
	return false;
}

int hvx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	int r;

	if (lapic_msr(index)) {
		r = hvx_lapic_get_msr(vcpu, index, data);
		if (r != -ENOENT)
			return r;
	}
	if (hvx_kvmclock_msr(index))
		return hvx_kvmclock_get_msr(vcpu, index, data);
	if (ignored_msr(index)) {
		*data = 0;
		return 0;
	}
	switch (index) {
	case MSR_IA32_TSC:
		*data = rdtsc() + vcpu->tsc_offset;
		return 0;
	case MSR_IA32_APICBASE:
		*data = vcpu->apic_base;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = vcpu->misc_enable;
		return 0;
	/* Without an in-kernel APIC: reads 0, writes ignored, as in KVM. */
	case MSR_IA32_TSC_DEADLINE:
		*data = 0;
		return 0;
	}
	return hvx_ops->get_msr(vcpu, index, data);
}

int hvx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host)
{
	u64 old;
	int r;

	if (lapic_msr(index)) {
		r = hvx_lapic_set_msr(vcpu, index, data);
		if (r != -ENOENT)
			return r;
	}
	if (hvx_kvmclock_msr(index))
		return hvx_kvmclock_set_msr(vcpu, index, data);
	if (ignored_msr(index))
		return 0;
	switch (index) {
	case MSR_IA32_TSC:
		vcpu->tsc_offset = data - rdtsc();
		/* kvmclock's page pairs kvmclock with a guest TSC value. */
		set_bit(HVX_REQ_CLOCK_UPDATE, &vcpu->requests);
		return 0;
	case MSR_IA32_APICBASE:
		if (!hvx_apic_base_valid(vcpu, data, host))
			return 1;
		old = vcpu->apic_base;
		vcpu->apic_base = data;
		hvx_lapic_set_base(vcpu, old);
		return 0;
	case MSR_IA32_MISC_ENABLE:
		vcpu->misc_enable = data;
		return 0;
	case MSR_IA32_TSC_DEADLINE:
		return 0;
	case MSR_IA32_CR_PAT:
		if (!pat_valid(data))
			return 1;
		break;
	case MSR_EFER:
		return set_efer(vcpu, data, host);
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
	case MSR_LSTAR:
	case MSR_CSTAR:
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
		/* Non-canonical addresses would fault at VM entry or use. */
		if (!canonical(data))
			return 1;
		break;
	}
	return hvx_ops->set_msr(vcpu, index, data);
}
