// SPDX-License-Identifier: GPL-2.0
/*
 * NMI blocking on SVM. Without the vNMI extension the processor keeps no
 * guest-visible record of an NMI being handled, so hvx keeps it: an NMI
 * hvx injects masks further NMIs until the guest's IRET has completed.
 * The IRET intercept fires before the IRET executes (APM Vol 2 15.9), so
 * its exit only arms the check: the mask lifts at the first later exit
 * with RIP elsewhere (a faulting IRET leaves RIP on it). When an NMI waits
 * and nothing else would exit soon (the IRET about to complete, an
 * interrupt shadow, another event in EVENTINJ), hvx sets RFLAGS.TF and
 * intercepts #DB to get an exit after one instruction, then hides the TF
 * again; a guest that single-steps itself keeps its own #DB.
 */
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "backend.h"
#include "svm.h"

#define SVM_STEP_BITS	(X86_EFLAGS_TF | X86_EFLAGS_RF)

bool svm_nmi_blocked(struct hvx_vcpu *vcpu)
{
	return to_svm(vcpu)->nmi_masked;
}

/* KVM_SET_VCPU_EVENTS: a masked NMI waits for the IRET it implies. */
void svm_set_nmi_blocked(struct hvx_vcpu *vcpu, bool blocked)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	svm->nmi_masked = blocked;
	svm->awaiting_iret = false;
	svm_set_intercept(svm->vmcb, INTERCEPT_IRET, blocked);
}

void svm_inject_nmi(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	svm->vmcb->control.event_inj = X86_TRAP_NMI | SVM_EVTINJ_VALID |
				       SVM_EVTINJ_TYPE_NMI;
	svm->nmi_masked = true;
	svm->awaiting_iret = false;
	svm_set_intercept(svm->vmcb, INTERCEPT_IRET, true);
}

void svm_enable_nmi_window(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	/* In the handler: its IRET exits first. */
	if ((svm->nmi_masked && !svm->awaiting_iret) || svm->nmi_singlestep)
		return;
	svm->nmi_singlestep = true;
	svm->singlestep_guest_bits = vcpu->rflags & SVM_STEP_BITS;
	svm_set_intercept(svm->vmcb, INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_DB, true);
}

/* The RFLAGS the guest runs with: its own, plus TF for a single step. */
void svm_nmi_before_entry(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	if (svm->nmi_singlestep)
		svm->vmcb->save.rflags |= SVM_STEP_BITS;
}

/* After every exit, with vcpu->rip and vcpu->rflags read back. */
void svm_nmi_after_exit(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	if (svm->nmi_singlestep)
		vcpu->rflags &= ~SVM_STEP_BITS | svm->singlestep_guest_bits;
	if (svm->awaiting_iret && vcpu->rip != svm->iret_rip) {
		svm->awaiting_iret = false;
		svm->nmi_masked = false;
	}
}

/* SVM_EXIT_IRET: the IRET runs when the guest re-enters. */
void svm_iret_exit(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	svm_set_intercept(svm->vmcb, INTERCEPT_IRET, false);
	svm->awaiting_iret = true;
	svm->iret_rip = vcpu->rip;
}

/*
 * A #DB intercept: the end of hvx's single step. Returns true if the
 * guest was single-stepping itself too, so the #DB is its own.
 */
bool svm_singlestep_exit(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	svm->nmi_singlestep = false;
	svm_set_intercept(svm->vmcb, INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_DB, false);
	return svm->singlestep_guest_bits & X86_EFLAGS_TF;
}
