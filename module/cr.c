// SPDX-License-Identifier: GPL-2.0
/*
 * Control registers: the rules KVM_SET_SREGS and a guest's MOV to CR share
 * (SDM Vol 3 2.5, 9.8.5; APM Vol 2 3.1), and the common handler for CR
 * accesses a backend intercepts. Only the backend knows how a value is
 * stored (VMCS fields and read shadows, or the VMCB); what is legal is
 * decided here once.
 */
#include <asm/cpufeature.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/msr-index.h>

#include "hvx.h"
#include "backend.h"
#include "exits.h"

/* CR4 bits a guest may hold: what this CPU implements, minus VMXE. */
u64 hvx_cr4_valid_bits(void)
{
	u64 bits = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		   X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		   X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;

	if (boot_cpu_has(X86_FEATURE_UMIP))
		bits |= X86_CR4_UMIP;
	if (boot_cpu_has(X86_FEATURE_FSGSBASE))
		bits |= X86_CR4_FSGSBASE;
	if (boot_cpu_has(X86_FEATURE_PCID))
		bits |= X86_CR4_PCIDE;
	if (boot_cpu_has(X86_FEATURE_XSAVE))
		bits |= X86_CR4_OSXSAVE;
	if (boot_cpu_has(X86_FEATURE_SMEP))
		bits |= X86_CR4_SMEP;
	if (boot_cpu_has(X86_FEATURE_SMAP))
		bits |= X86_CR4_SMAP;
	if (boot_cpu_has(X86_FEATURE_PKU))
		bits |= X86_CR4_PKE;
	return bits;
}

/*
 * The consistency rules KVM_SET_SREGS enforces (KVM returns -EINVAL for
 * the same inputs): SDM Vol 3 2.5 / 9.8.5, APM Vol 2 3.1 and 14.6.
 */
bool hvx_sregs_valid(const struct kvm_sregs *s)
{
	u64 efer_bits = EFER_SCE | EFER_LME | EFER_LMA | EFER_NX;

	if (s->cr0 >> 32 || s->cr4 & ~hvx_cr4_valid_bits())
		return false;
	if ((s->cr0 & X86_CR0_PG) && !(s->cr0 & X86_CR0_PE))
		return false;
	if ((s->cr0 & X86_CR0_NW) && !(s->cr0 & X86_CR0_CD))
		return false;
	if (s->efer & ~efer_bits)
		return false;
	if ((s->efer & EFER_LME) && (s->cr0 & X86_CR0_PG)) {
		if (!(s->cr4 & X86_CR4_PAE) || !(s->efer & EFER_LMA))
			return false;
		if (s->cr3 >> boot_cpu_data.x86_phys_bits)
			return false;
	} else if ((s->efer & EFER_LMA) || s->cs.l) {
		return false;
	}
	return true;
}

static bool cr0_valid(struct hvx_vcpu *vcpu, u64 cr0)
{
	u64 efer = hvx_ops->get_efer(vcpu);

	if (cr0 >> 32)
		return false;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return false;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return false;
	/* Long mode needs PAE before paging (SDM Vol 3 9.8.5). */
	if ((cr0 & X86_CR0_PG) && (efer & EFER_LME) &&
	    !(hvx_ops->get_cr(vcpu, 4) & X86_CR4_PAE))
		return false;
	return true;
}

static bool cr4_valid(struct hvx_vcpu *vcpu, u64 cr4)
{
	if (cr4 & ~hvx_cr4_valid_bits())
		return false;
	/* PAE cannot be cleared in long mode. */
	if ((hvx_ops->get_efer(vcpu) & EFER_LMA) && !(cr4 & X86_CR4_PAE))
		return false;
	return true;
}

static int write_cr(struct hvx_vcpu *vcpu, int cr, u64 val)
{
	switch (cr) {
	case 0:
		if (!cr0_valid(vcpu, val))
			return 1;
		break;
	case 4:
		if (!cr4_valid(vcpu, val))
			return 1;
		break;
	case 3:
		if (val >> boot_cpu_data.x86_phys_bits)
			return 1;
		break;
	case 8:
		if (val & ~0xfULL)
			return 1;
		break;
	default:
		return 1;
	}
	return hvx_ops->set_cr(vcpu, cr, val);
}

int hvx_handle_cr(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	u64 cr0 = hvx_ops->get_cr(vcpu, 0);
	int r;

	switch (exit->cr.type) {
	case HVX_CR_MOV_TO:
		r = write_cr(vcpu, exit->cr.cr, vcpu->regs[exit->cr.gpr]);
		break;
	case HVX_CR_MOV_FROM:
		vcpu->regs[exit->cr.gpr] = hvx_ops->get_cr(vcpu, exit->cr.cr);
		r = 0;
		break;
	case HVX_CR_CLTS:
		r = write_cr(vcpu, 0, cr0 & ~X86_CR0_TS);
		break;
	case HVX_CR_LMSW:
		/* LMSW sets MP/EM/TS and can set but not clear PE (SDM Vol 2). */
		r = write_cr(vcpu, 0, (cr0 & ~0xeULL) | (exit->cr.lmsw & 0xf));
		break;
	default:
		r = 1;
	}
	if (r) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	hvx_skip_insn(vcpu, exit->insn_len);
	return 1;
}
