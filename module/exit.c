// SPDX-License-Identifier: GPL-2.0
/*
 * Common exit handlers: every backend decodes its exit into struct
 * hvx_exit and the logic for CPUID, MSRs, HLT, XSETBV, shutdown and
 * failures lives here once. I/O is in pio.c, MMIO in mmio.c.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/kernel.h>
#include <asm/trapnr.h>

#include "hvx.h"
#include "backend.h"
#include "exits.h"

void hvx_internal_error(struct hvx_vcpu *vcpu, u32 suberror,
			const u64 *data, int ndata)
{
	struct kvm_run *run = vcpu->run;
	int i;

	ndata = min_t(int, ndata, ARRAY_SIZE(run->internal.data));
	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = ndata;
	for (i = 0; i < ndata; i++)
		run->internal.data[i] = data[i];
}

void hvx_inject_gp(struct hvx_vcpu *vcpu)
{
	hvx_ops->inject_exception(vcpu, X86_TRAP_GP, true, 0);
}

static int handle_cpuid(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	u32 fn = vcpu->regs[HVX_RAX], idx = vcpu->regs[HVX_RCX];
	const struct kvm_cpuid_entry2 *e = hvx_find_cpuid(vcpu, fn, idx);

	/* A leaf userspace did not set reads as zeros. */
	vcpu->regs[HVX_RAX] = e ? e->eax : 0;
	vcpu->regs[HVX_RBX] = e ? e->ebx : 0;
	vcpu->regs[HVX_RCX] = e ? e->ecx : 0;
	vcpu->regs[HVX_RDX] = e ? e->edx : 0;
	/*
	 * CPUID.1:EDX.APIC follows the in-kernel APIC's global enable in
	 * IA32_APIC_BASE (SDM Vol 3 11.4.3), as KVM keeps it.
	 */
	if (fn == 1 && vcpu->lapic && !(vcpu->apic_base & MSR_IA32_APICBASE_ENABLE))
		vcpu->regs[HVX_RDX] &= ~BIT(X86_FEATURE_APIC & 31);
	/*
	 * CPUID.1:ECX.OSXSAVE is CR4.OSXSAVE (SDM Vol 2, CPUID), which is
	 * how user space learns it may use XGETBV and AVX.
	 */
	if (fn == 1 && e && (e->ecx & BIT(X86_FEATURE_XSAVE & 31))) {
		vcpu->regs[HVX_RCX] &= ~BIT(X86_FEATURE_OSXSAVE & 31);
		if (hvx_ops->get_cr(vcpu, 4) & X86_CR4_OSXSAVE)
			vcpu->regs[HVX_RCX] |= BIT(X86_FEATURE_OSXSAVE & 31);
	}
	hvx_skip_insn(vcpu, exit->insn_len ?: 2);
	return 1;
}

static int handle_rdmsr(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	u64 data;

	if (hvx_get_msr(vcpu, vcpu->regs[HVX_RCX], &data, false)) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	vcpu->regs[HVX_RAX] = (u32)data;
	vcpu->regs[HVX_RDX] = data >> 32;
	hvx_skip_insn(vcpu, exit->insn_len ?: 2);
	return 1;
}

static int handle_wrmsr(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	u64 data = (u32)vcpu->regs[HVX_RAX] | vcpu->regs[HVX_RDX] << 32;

	if (hvx_set_msr(vcpu, vcpu->regs[HVX_RCX], data, false)) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	hvx_skip_insn(vcpu, exit->insn_len ?: 2);
	return 1;
}

static int handle_xsetbv(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	u64 xcr0 = (u32)vcpu->regs[HVX_RAX] | vcpu->regs[HVX_RDX] << 32;

	/* SDM Vol 2 XSETBV: #GP(0) unless CPL 0, ECX 0 and a valid value. */
	if (hvx_ops->get_cpl(vcpu) || (u32)vcpu->regs[HVX_RCX] ||
	    hvx_fpu_set_xcr0(vcpu, xcr0)) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	hvx_skip_insn(vcpu, exit->insn_len ?: 3);
	return 1;
}

/*
 * An access to MMIO at exit->npf.gpa: emulate the instruction at RIP,
 * unless the access was not the instruction's own but event delivery's
 * (IDT, stack) or the guest's page walk: nothing to emulate then. Like
 * KVM, report an emulation failure and drop the event, so a VMM that
 * resets the vCPU does not get it back.
 */
static int handle_mmio_access(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	if (exit->vectoring || exit->npf.walk) {
		u64 data[3] = { exit->hw_reason, exit->info[0], exit->npf.gpa };

		hvx_ops->cancel_event(vcpu);
		hvx_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION,
				   data, ARRAY_SIZE(data));
		return 0;
	}
	return hvx_handle_mmio(vcpu, exit);
}

static int handle_npf(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	switch (hvx_mmu_page_fault(vcpu, exit->npf.gpa, exit->npf.write,
				   exit->npf.fetch)) {
	case HVX_FAULT_RETRY:
		return 1;
	case HVX_FAULT_MMIO:
		if (vcpu->apicv && hvx_ops->apic_access_map(vcpu, exit->npf.gpa))
			return 1;
		return handle_mmio_access(vcpu, exit);
	case HVX_FAULT_ERROR:
	default:
		/* The slot's host memory is gone: KVM_RUN fails like KVM's. */
		return -EFAULT;
	}
}

int hvx_handle_exit(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	struct kvm_run *run = vcpu->run;

	switch (exit->reason) {
	case HVX_EXIT_NONE:
	case HVX_EXIT_INTR:
	case HVX_EXIT_IRQ_WINDOW:	/* events.c injects at the next entry */
	case HVX_EXIT_NMI_WINDOW:
		return 1;
	case HVX_EXIT_CPUID:
		return handle_cpuid(vcpu, exit);
	case HVX_EXIT_HLT:
		hvx_skip_insn(vcpu, exit->insn_len ?: 1);
		/* With the APIC in the kernel, the vCPU waits in the kernel. */
		if (vcpu->lapic) {
			hvx_lapic_halt(vcpu);
			return 1;
		}
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	case HVX_EXIT_IO:
		return hvx_handle_io(vcpu, exit);
	case HVX_EXIT_MSR_READ:
		return handle_rdmsr(vcpu, exit);
	case HVX_EXIT_MSR_WRITE:
		return handle_wrmsr(vcpu, exit);
	case HVX_EXIT_NPF:
		return handle_npf(vcpu, exit);
	case HVX_EXIT_SHUTDOWN:
		/*
		 * Where the hardware leaves the guest state undefined (SVM),
		 * start the vCPU afresh, as KVM does; on VMX the state of the
		 * triple fault stays for userspace to debug, as on KVM.
		 */
		if (hvx_ops->shutdown_loses_state)
			hvx_vcpu_reset(vcpu);
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case HVX_EXIT_UD:
		hvx_ops->inject_exception(vcpu, X86_TRAP_UD, false, 0);
		return 1;
	case HVX_EXIT_GP:
		hvx_inject_gp(vcpu);
		return 1;
	case HVX_EXIT_NOP:
		hvx_skip_insn(vcpu, exit->insn_len);
		return 1;
	case HVX_EXIT_XSETBV:
		return handle_xsetbv(vcpu, exit);
	case HVX_EXIT_CR:
		return hvx_handle_cr(vcpu, exit);
	case HVX_EXIT_DR:
		return hvx_handle_dr(vcpu, exit);
	case HVX_EXIT_EOI:
		hvx_lapic_eoi_exit(vcpu, exit->info[0]);
		return 1;
	case HVX_EXIT_APIC_WRITE:
		hvx_lapic_write_exit(vcpu, exit->info[0]);
		return 1;
	case HVX_EXIT_APIC_ACCESS:
		/* The APIC page as if it had no translation: mmio.c serves it. */
		return handle_mmio_access(vcpu, exit);
	case HVX_EXIT_FAIL_ENTRY:
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = exit->hw_reason;
		run->fail_entry.cpu = raw_smp_processor_id();
		return 0;
	case HVX_EXIT_UNKNOWN:
	default: {
		u64 data[3] = { exit->hw_reason, exit->info[0], exit->info[1] };

		pr_warn_ratelimited("unexpected exit 0x%llx\n", exit->hw_reason);
		hvx_internal_error(vcpu, KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
				   data, ARRAY_SIZE(data));
		return 0;
	}
	}
}

/*
 * Finish what the last exit to userspace left open: 1 when done, 0 when
 * that produced another exit to userspace (the next MMIO fragment).
 */
int hvx_complete_userspace_io(struct hvx_vcpu *vcpu)
{
	struct hvx_pending *p = &vcpu->pending;

	if (p->mmio_nfrags)
		return hvx_complete_mmio(vcpu);
	if (p->insn_len)
		return hvx_complete_pio(vcpu);
	return 1;
}
