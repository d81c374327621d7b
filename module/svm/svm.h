/* SPDX-License-Identifier: GPL-2.0 */
/* AMD SVM backend: private state shared by the files of module/svm/. */
#ifndef HVX_SVM_H
#define HVX_SVM_H

#include <asm/svm.h>

#include "hvx.h"
#include "svm_npt.h"

/* Per physical CPU. */
struct hvx_svm_cpu {
	void *hsave;		/* VM_HSAVE_PA: where VMRUN keeps host state */
	void *host_vmcb;	/* VMSAVE/VMLOAD area for the rest of it */
	u64 hsave_pa;
	u64 host_vmcb_pa;
	u32 asid_generation;	/* bumped when the ASID space wraps */
	u32 next_asid;
};

/* Per vCPU. */
struct hvx_svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	u32 asid_generation;	/* 0: needs a fresh ASID before entry */
	int asid_cpu;		/* the CPU the ASID belongs to */
	/*
	 * NMI blocking, which SVM does not track for us: set when hvx
	 * injects an NMI, cleared once the guest's IRET has completed
	 * (svm_events.c).
	 */
	bool nmi_masked;
	bool awaiting_iret;	/* the IRET intercept fired at iret_rip */
	u64 iret_rip;
	bool nmi_singlestep;	/* TF set by hvx to exit after one instruction */
	u64 singlestep_guest_bits;	/* the guest's own TF and RF then */
};

static inline struct hvx_svm_vcpu *to_svm(struct hvx_vcpu *vcpu)
{
	return vcpu->arch;
}

static inline struct vmcb *to_vmcb(struct hvx_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb;
}

/* Set or clear intercept @bit (enum in <asm/svm.h>) in the VMCB. */
static inline void svm_set_intercept(struct vmcb *vmcb, unsigned int bit, bool on)
{
	if (on)
		__set_bit(bit, (unsigned long *)vmcb->control.intercepts);
	else
		__clear_bit(bit, (unsigned long *)vmcb->control.intercepts);
}

extern u64 svm_iopm_pa, svm_msrpm_pa;
extern bool svm_has_decode_assists;

/* svm_entry.S: enter the guest at @vmcb_pa, guest GPRs in @regs. */
void __hvx_svm_vmrun(u64 vmcb_pa, u64 *regs, u64 host_vmcb_pa);

/* svm_vmcb.c */
void svm_vmcb_reset(struct hvx_vcpu *vcpu);
void svm_get_sregs(struct hvx_vcpu *vcpu, struct kvm_sregs *sregs);
void svm_set_sregs(struct hvx_vcpu *vcpu, const struct kvm_sregs *sregs);
void svm_get_segment(struct hvx_vcpu *vcpu, struct kvm_segment *var, int seg);
u64 svm_get_cr(struct hvx_vcpu *vcpu, int cr);
void svm_set_cr8(struct hvx_vcpu *vcpu, u8 cr8);
u64 svm_get_efer(struct hvx_vcpu *vcpu);
int svm_get_cpl(struct hvx_vcpu *vcpu);
int svm_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data);
int svm_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data);
void svm_inject_exception(struct hvx_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error_code);
void svm_cancel_event(struct hvx_vcpu *vcpu);
bool svm_event_queued(struct hvx_vcpu *vcpu);
void svm_inject_irq(struct hvx_vcpu *vcpu, u8 vector);
void svm_enable_irq_window(struct hvx_vcpu *vcpu);
void svm_disable_irq_window(struct hvx_vcpu *vcpu);
u8 svm_interrupt_shadow(struct hvx_vcpu *vcpu);
void svm_set_interrupt_shadow(struct hvx_vcpu *vcpu, u8 shadow);
void svm_get_event(struct hvx_vcpu *vcpu, struct hvx_event *ev);
void svm_set_event(struct hvx_vcpu *vcpu, const struct hvx_event *ev);
bool svm_nmi_blocked(struct hvx_vcpu *vcpu);
void svm_set_nmi_blocked(struct hvx_vcpu *vcpu, bool blocked);
void svm_inject_nmi(struct hvx_vcpu *vcpu);
void svm_enable_nmi_window(struct hvx_vcpu *vcpu);
void svm_nmi_before_entry(struct hvx_vcpu *vcpu);
void svm_nmi_after_exit(struct hvx_vcpu *vcpu);
void svm_iret_exit(struct hvx_vcpu *vcpu);
bool svm_singlestep_exit(struct hvx_vcpu *vcpu);

/* svm_exit.c */
void svm_decode_exit(struct hvx_vcpu *vcpu, struct hvx_exit *exit);

#endif /* HVX_SVM_H */
