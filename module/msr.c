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

#include "hvx.h"
#include "backend.h"

/* What KVM_GET_MSR_INDEX_LIST reports: every MSR hvx saves and restores. */
static const u32 hvx_msrs[] = {
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
	MSR_FS_BASE, MSR_GS_BASE, MSR_EFER, MSR_IA32_CR_PAT, MSR_IA32_TSC,
	MSR_IA32_APICBASE, MSR_IA32_MISC_ENABLE,
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
 * while paging is on, and LMA is the CPU's to set, not the guest's.
 */
static int set_efer(struct hvx_vcpu *vcpu, u64 efer, bool host)
{
	u64 old = hvx_ops->get_efer(vcpu);

	if (efer & ~(u64)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX))
		return 1;
	if (!host) {
		if ((hvx_ops->get_cr(vcpu, 0) & X86_CR0_PG) &&
		    ((efer ^ old) & EFER_LME))
			return 1;
		efer = (efer & ~(u64)EFER_LMA) | (old & EFER_LMA);
	}
	return hvx_ops->set_msr(vcpu, MSR_EFER, efer);
}

static bool canonical(u64 addr)
{
	return (u64)((s64)addr << 16 >> 16) == addr;
}

int hvx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data, bool host)
{
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
	}
	return hvx_ops->get_msr(vcpu, index, data);
}

int hvx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host)
{
	switch (index) {
	case MSR_IA32_TSC:
		vcpu->tsc_offset = data - rdtsc();
		return 0;
	case MSR_IA32_APICBASE:
		/* Reserved: bits 0-7, 9, 12+ beyond MAXPHYADDR (SDM 10.4.4). */
		if (data & (0xffULL | BIT_ULL(9)) ||
		    data >> boot_cpu_data.x86_phys_bits)
			return 1;
		vcpu->apic_base = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		vcpu->misc_enable = data;
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
