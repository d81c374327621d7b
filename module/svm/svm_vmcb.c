// SPDX-License-Identifier: GPL-2.0
/*
 * Guest state in the VMCB: the reset state, KVM's segment/sregs view of
 * it and the MSRs whose home is the save area.
 */
#include <linux/string.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "backend.h"
#include "svm.h"

/* What makes the guest exit (see svm_exit.c for how each is handled). */
static const unsigned int svm_intercepts[] = {
	INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_CPUID,
	INTERCEPT_HLT, INTERCEPT_INVD, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
	INTERCEPT_SHUTDOWN, INTERCEPT_VMRUN, INTERCEPT_VMMCALL,
	INTERCEPT_VMLOAD, INTERCEPT_VMSAVE, INTERCEPT_STGI, INTERCEPT_CLGI,
	INTERCEPT_SKINIT, INTERCEPT_INVLPGA, INTERCEPT_MONITOR,
	INTERCEPT_MWAIT, INTERCEPT_XSETBV, INTERCEPT_RDTSCP,
	/* The performance counters are the host's. */
	INTERCEPT_RDPMC,
	/* The debug registers are emulated (dr.c): DR0-DR3 are the host's. */
	INTERCEPT_DR0_READ, INTERCEPT_DR1_READ, INTERCEPT_DR2_READ,
	INTERCEPT_DR3_READ, INTERCEPT_DR4_READ, INTERCEPT_DR5_READ,
	INTERCEPT_DR6_READ, INTERCEPT_DR7_READ,
	INTERCEPT_DR0_WRITE, INTERCEPT_DR1_WRITE, INTERCEPT_DR2_WRITE,
	INTERCEPT_DR3_WRITE, INTERCEPT_DR4_WRITE, INTERCEPT_DR5_WRITE,
	INTERCEPT_DR6_WRITE, INTERCEPT_DR7_WRITE,
	/* A host machine check must reach the host (svm_exit.c). */
	INTERCEPT_EXCEPTION_OFFSET + X86_TRAP_MC,
};

static void seg_init(struct vmcb_seg *s, u16 selector, u64 base, u16 attrib)
{
	s->selector = selector;
	s->base = base;
	s->limit = 0xffff;
	s->attrib = attrib;
}

/* Power-on state (APM Vol 2 14.1.3); the VMRUN rule EFER.SVME=1 applies. */
void svm_vmcb_reset(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_vmcb(vcpu);
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *s = &vmcb->save;
	u16 data = SVM_SELECTOR_P_MASK | SVM_SELECTOR_S_MASK | 0x3;
	unsigned int i;

	memset(vmcb, 0, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(svm_intercepts); i++)
		svm_set_intercept(vmcb, svm_intercepts[i], true);
	c->iopm_base_pa = svm_iopm_pa;
	c->msrpm_base_pa = svm_msrpm_pa;
	c->int_ctl = V_INTR_MASKING_MASK;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
	c->nested_cr3 = svm_npt_ncr3(vcpu->vm->mmu.root_pa);

	/* Execute/read code, read/write data, busy 16-bit TSS: KVM's choice. */
	seg_init(&s->cs, 0xf000, 0xffff0000, SVM_SELECTOR_P_MASK |
		 SVM_SELECTOR_S_MASK | SVM_SELECTOR_CODE_MASK | SVM_SELECTOR_READ_MASK);
	seg_init(&s->ds, 0, 0, data);
	seg_init(&s->es, 0, 0, data);
	seg_init(&s->fs, 0, 0, data);
	seg_init(&s->gs, 0, 0, data);
	seg_init(&s->ss, 0, 0, data);
	seg_init(&s->ldtr, 0, 0, SVM_SELECTOR_P_MASK | 0x2);
	seg_init(&s->tr, 0, 0, SVM_SELECTOR_P_MASK | 0x3);
	s->gdtr.limit = 0xffff;
	s->idtr.limit = 0xffff;
	s->cr0 = X86_CR0_NW | X86_CR0_CD | X86_CR0_ET;
	s->efer = EFER_SVME;
	s->dr6 = 0xffff0ff0;
	s->dr7 = 0x400;
	s->rflags = X86_EFLAGS_FIXED;
	s->rip = 0xfff0;
	s->g_pat = 0x0007040600070406ULL;
}

static struct vmcb_seg *svm_seg(struct vmcb *vmcb, int seg)
{
	struct vmcb_save_area *s = &vmcb->save;

	switch (seg) {
	case HVX_SEG_ES: return &s->es;
	case HVX_SEG_CS: return &s->cs;
	case HVX_SEG_SS: return &s->ss;
	case HVX_SEG_DS: return &s->ds;
	case HVX_SEG_FS: return &s->fs;
	case HVX_SEG_GS: return &s->gs;
	case HVX_SEG_TR: return &s->tr;
	default: return &s->ldtr;
	}
}

void svm_get_segment(struct hvx_vcpu *vcpu, struct kvm_segment *var, int seg)
{
	struct vmcb_seg *s = svm_seg(to_vmcb(vcpu), seg);

	memset(var, 0, sizeof(*var));
	var->base = s->base;
	var->limit = s->limit;
	var->selector = s->selector;
	var->type = s->attrib & SVM_SELECTOR_TYPE_MASK;
	var->s = !!(s->attrib & SVM_SELECTOR_S_MASK);
	var->dpl = (s->attrib & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT;
	var->present = !!(s->attrib & SVM_SELECTOR_P_MASK);
	var->avl = !!(s->attrib & SVM_SELECTOR_AVL_MASK);
	var->l = !!(s->attrib & SVM_SELECTOR_L_MASK);
	var->db = !!(s->attrib & SVM_SELECTOR_DB_MASK);
	var->g = !!(s->attrib & SVM_SELECTOR_G_MASK);
	/* SVM has no "unusable" flag: a not-present segment is unusable. */
	var->unusable = !var->present;
}

static void svm_set_segment(struct vmcb *vmcb, const struct kvm_segment *var,
			    int seg)
{
	struct vmcb_seg *s = svm_seg(vmcb, seg);

	s->base = var->base;
	s->limit = var->limit;
	s->selector = var->selector;
	s->attrib = 0;
	if (var->unusable)
		return;
	s->attrib = (var->type & SVM_SELECTOR_TYPE_MASK) |
		    (var->s << SVM_SELECTOR_S_SHIFT) |
		    ((var->dpl & 3) << SVM_SELECTOR_DPL_SHIFT) |
		    (var->present << SVM_SELECTOR_P_SHIFT) |
		    (var->avl << SVM_SELECTOR_AVL_SHIFT) |
		    (var->l << SVM_SELECTOR_L_SHIFT) |
		    (var->db << SVM_SELECTOR_DB_SHIFT) |
		    (var->g << SVM_SELECTOR_G_SHIFT);
}

void svm_get_sregs(struct hvx_vcpu *vcpu, struct kvm_sregs *sregs)
{
	struct vmcb *vmcb = to_vmcb(vcpu);
	struct vmcb_save_area *s = &vmcb->save;

	memset(sregs, 0, sizeof(*sregs));
	svm_get_segment(vcpu, &sregs->cs, HVX_SEG_CS);
	svm_get_segment(vcpu, &sregs->ds, HVX_SEG_DS);
	svm_get_segment(vcpu, &sregs->es, HVX_SEG_ES);
	svm_get_segment(vcpu, &sregs->fs, HVX_SEG_FS);
	svm_get_segment(vcpu, &sregs->gs, HVX_SEG_GS);
	svm_get_segment(vcpu, &sregs->ss, HVX_SEG_SS);
	svm_get_segment(vcpu, &sregs->tr, HVX_SEG_TR);
	svm_get_segment(vcpu, &sregs->ldt, HVX_SEG_LDTR);
	sregs->gdt.base = s->gdtr.base;
	sregs->gdt.limit = s->gdtr.limit;
	sregs->idt.base = s->idtr.base;
	sregs->idt.limit = s->idtr.limit;
	sregs->cr0 = s->cr0;
	sregs->cr2 = s->cr2;
	sregs->cr3 = s->cr3;
	sregs->cr4 = s->cr4;
	sregs->cr8 = vmcb->control.int_ctl & V_TPR_MASK;
	sregs->efer = s->efer & ~EFER_SVME;
}

void svm_set_sregs(struct hvx_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	struct vmcb *vmcb = to_vmcb(vcpu);
	struct vmcb_save_area *s = &vmcb->save;

	svm_set_segment(vmcb, &sregs->cs, HVX_SEG_CS);
	svm_set_segment(vmcb, &sregs->ds, HVX_SEG_DS);
	svm_set_segment(vmcb, &sregs->es, HVX_SEG_ES);
	svm_set_segment(vmcb, &sregs->fs, HVX_SEG_FS);
	svm_set_segment(vmcb, &sregs->gs, HVX_SEG_GS);
	svm_set_segment(vmcb, &sregs->ss, HVX_SEG_SS);
	svm_set_segment(vmcb, &sregs->tr, HVX_SEG_TR);
	svm_set_segment(vmcb, &sregs->ldt, HVX_SEG_LDTR);
	s->gdtr.base = sregs->gdt.base;
	s->gdtr.limit = sregs->gdt.limit;
	s->idtr.base = sregs->idt.base;
	s->idtr.limit = sregs->idt.limit;
	s->cr0 = sregs->cr0;
	s->cr2 = sregs->cr2;
	s->cr3 = sregs->cr3;
	s->cr4 = sregs->cr4;
	s->efer = sregs->efer | EFER_SVME;
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~V_TPR_MASK) |
				(sregs->cr8 & V_TPR_MASK);
	/* VMRUN requires CPL to match the mode (APM Vol 2 15.5.1). */
	if (!(s->cr0 & X86_CR0_PE))
		s->cpl = 0;
	else if (vcpu->rflags & X86_EFLAGS_VM)
		s->cpl = 3;
	else
		s->cpl = sregs->ss.dpl & 3;
}

u64 svm_get_cr(struct hvx_vcpu *vcpu, int cr)
{
	struct vmcb_save_area *s = &to_vmcb(vcpu)->save;

	switch (cr) {
	case 0: return s->cr0;
	case 2: return s->cr2;
	case 3: return s->cr3;
	case 4: return s->cr4;
	/* CR8 is the virtual TPR (APM Vol 2 15.21.1). */
	case 8: return to_vmcb(vcpu)->control.int_ctl & V_TPR_MASK;
	default: return 0;
	}
}

void svm_set_cr8(struct hvx_vcpu *vcpu, u8 cr8)
{
	struct vmcb_control_area *c = &to_vmcb(vcpu)->control;

	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) | (cr8 & V_TPR_MASK);
}

u64 svm_get_efer(struct hvx_vcpu *vcpu)
{
	return to_vmcb(vcpu)->save.efer & ~EFER_SVME;
}

int svm_get_cpl(struct hvx_vcpu *vcpu)
{
	return to_vmcb(vcpu)->save.cpl;
}

/* The save-area MSRs; the VMCB is current because VMSAVE follows VMRUN. */
static u64 *svm_msr_slot(struct vmcb_save_area *s, u32 index)
{
	switch (index) {
	case MSR_STAR:			return &s->star;
	case MSR_LSTAR:			return &s->lstar;
	case MSR_CSTAR:			return &s->cstar;
	case MSR_SYSCALL_MASK:		return &s->sfmask;
	case MSR_KERNEL_GS_BASE:	return &s->kernel_gs_base;
	case MSR_IA32_SYSENTER_CS:	return &s->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP:	return &s->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP:	return &s->sysenter_eip;
	case MSR_FS_BASE:		return &s->fs.base;
	case MSR_GS_BASE:		return &s->gs.base;
	case MSR_IA32_CR_PAT:		return &s->g_pat;
	default:			return NULL;
	}
}

int svm_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmcb_save_area *s = &to_vmcb(vcpu)->save;
	u64 *slot;

	if (index == MSR_EFER) {
		*data = s->efer & ~EFER_SVME;
		return 0;
	}
	slot = svm_msr_slot(s, index);
	if (!slot)
		return 1;
	*data = *slot;
	return 0;
}

int svm_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data)
{
	struct vmcb_save_area *s = &to_vmcb(vcpu)->save;
	u64 *slot;

	if (index == MSR_EFER) {
		/* SVME stays set under the guest: VMRUN requires it. */
		s->efer = data | EFER_SVME;
		return 0;
	}
	slot = svm_msr_slot(s, index);
	if (!slot)
		return 1;
	/* SYSENTER_CS is 32 bits wide on AMD (APM Vol 2 6.1.1). */
	*slot = index == MSR_IA32_SYSENTER_CS ? (u32)data : data;
	return 0;
}

void svm_inject_exception(struct hvx_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error_code)
{
	struct vmcb_control_area *c = &to_vmcb(vcpu)->control;

	c->event_inj = vector | SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT |
		       (has_error ? SVM_EVTINJ_VALID_ERR : 0);
	c->event_inj_err = error_code;
}

void svm_cancel_event(struct hvx_vcpu *vcpu)
{
	to_vmcb(vcpu)->control.event_inj = 0;
}

bool svm_event_queued(struct hvx_vcpu *vcpu)
{
	return to_vmcb(vcpu)->control.event_inj & SVM_EVTINJ_VALID;
}

void svm_inject_irq(struct hvx_vcpu *vcpu, u8 vector)
{
	to_vmcb(vcpu)->control.event_inj = vector | SVM_EVTINJ_VALID |
					   SVM_EVTINJ_TYPE_INTR;
}

/*
 * A virtual interrupt of the highest priority, TPR ignored, that the guest
 * can never take: the VINTR intercept fires first, as soon as RFLAGS.IF
 * and the interrupt shadow let it through (APM Vol 2 15.21.4).
 */
void svm_enable_irq_window(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_vmcb(vcpu);

	vmcb->control.int_ctl |= V_IRQ_MASK | V_INTR_PRIO_MASK | V_IGN_TPR_MASK;
	svm_set_intercept(vmcb, INTERCEPT_VINTR, true);
}

/* At the VINTR exit, or whatever exit came first. */
void svm_disable_irq_window(struct hvx_vcpu *vcpu)
{
	struct vmcb *vmcb = to_vmcb(vcpu);

	vmcb->control.int_ctl &= ~V_IRQ_INJECTION_BITS_MASK;
	svm_set_intercept(vmcb, INTERCEPT_VINTR, false);
}

/* SVM does not say whether STI or MOV SS set the shadow: report both, as KVM. */
u8 svm_interrupt_shadow(struct hvx_vcpu *vcpu)
{
	return to_vmcb(vcpu)->control.int_state & SVM_INTERRUPT_SHADOW_MASK ?
	       KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS : 0;
}

void svm_set_interrupt_shadow(struct hvx_vcpu *vcpu, u8 shadow)
{
	struct vmcb_control_area *c = &to_vmcb(vcpu)->control;

	if (shadow)
		c->int_state |= SVM_INTERRUPT_SHADOW_MASK;
	else
		c->int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/* EVENTINJ (APM Vol 2 15.20). */
void svm_get_event(struct hvx_vcpu *vcpu, struct hvx_event *ev)
{
	struct vmcb_control_area *c = &to_vmcb(vcpu)->control;
	u32 inj = c->event_inj;

	memset(ev, 0, sizeof(*ev));
	if (!(inj & SVM_EVTINJ_VALID))
		return;
	ev->vector = inj & SVM_EVTINJ_VEC_MASK;
	switch (inj & SVM_EVTINJ_TYPE_MASK) {
	case SVM_EVTINJ_TYPE_INTR:
		ev->type = HVX_EVENT_INTR;
		break;
	case SVM_EVTINJ_TYPE_NMI:
		ev->type = HVX_EVENT_NMI;
		break;
	case SVM_EVTINJ_TYPE_SOFT:
		ev->type = HVX_EVENT_SOFT_INTR;
		break;
	default:
		ev->type = HVX_EVENT_EXCEPTION;
		break;
	}
	if (inj & SVM_EVTINJ_VALID_ERR) {
		ev->has_error = true;
		ev->error_code = c->event_inj_err;
	}
}

void svm_set_event(struct hvx_vcpu *vcpu, const struct hvx_event *ev)
{
	switch (ev->type) {
	case HVX_EVENT_EXCEPTION:
	case HVX_EVENT_SOFT_EXCEPTION:
		svm_inject_exception(vcpu, ev->vector, ev->has_error, ev->error_code);
		break;
	case HVX_EVENT_INTR:
	case HVX_EVENT_SOFT_INTR:
		svm_inject_irq(vcpu, ev->vector);
		break;
	case HVX_EVENT_NMI:
		svm_inject_nmi(vcpu);
		break;
	case HVX_EVENT_NONE:
		svm_cancel_event(vcpu);
		break;
	}
}
