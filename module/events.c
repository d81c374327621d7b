// SPDX-License-Identifier: GPL-2.0
/*
 * External interrupts with the interrupt controller in userspace (no
 * KVM_CREATE_IRQCHIP), as Documentation/virt/kvm/api.rst describes
 * KVM_INTERRUPT and the kvm_run fields if_flag,
 * ready_for_interrupt_injection and request_interrupt_window.
 *
 * KVM_INTERRUPT queues one vector. It is injected at the first entry where
 * the guest accepts an external interrupt: RFLAGS.IF set, no STI or MOV SS
 * shadow, and no other event (a re-delivered one, an exception) taking the
 * entry's single event slot. Until then the backend's interrupt window
 * (VMX interrupt-window exiting, SVM V_IRQ with the VINTR intercept)
 * makes the guest exit as soon as it would accept one. KVM injects the
 * vector at the next entry whatever the guest's state and relies on
 * userspace to have waited for ready_for_interrupt_injection; hvx waits
 * instead, which is the same for a VMM that follows the protocol and
 * cannot make VM entry fail for one that does not.
 *
 * A VMM that has an interrupt to deliver but must wait sets
 * request_interrupt_window: KVM_RUN then returns KVM_EXIT_IRQ_WINDOW_OPEN
 * once the guest can take one.
 *
 * KVM_NMI queues an NMI. NMIs ignore RFLAGS.IF but not NMI blocking: from
 * the delivery of one NMI until the IRET that ends its handler, the next
 * one waits (SDM Vol 3 "NMI Handling While in VMX Non-Root Operation",
 * APM Vol 2 8.2.5), and so does an NMI behind a MOV SS or STI shadow or
 * another event. The backend's NMI window (VMX NMI-window exiting; on SVM
 * the IRET intercept and a single step) exits when it can go in. NMIs are
 * injected before external interrupts.
 */
#include <linux/bitops.h>
#include <linux/kvm.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/irq_vectors.h>

#include "hvx.h"
#include "backend.h"

int hvx_vcpu_interrupt(struct hvx_vcpu *vcpu, const struct kvm_interrupt *irq)
{
	if (irq->irq >= KVM_NR_INTERRUPTS)
		return -EINVAL;
	/* As KVM without an in-kernel irqchip: a second call replaces the first. */
	vcpu->irq_queued = true;
	vcpu->irq_vector = irq->irq;
	return 0;
}

/*
 * KVM_GET/SET_SREGS carry the queued vector as a 256-bit bitmap, so that
 * saving and restoring a vCPU keeps it: one bit at most on the way out,
 * the lowest set bit queued on the way in (none set: nothing changes).
 */
void hvx_get_interrupt_bitmap(struct hvx_vcpu *vcpu, __u64 *bitmap)
{
	if (vcpu->irq_queued)
		__set_bit(vcpu->irq_vector, (unsigned long *)bitmap);
}

void hvx_set_interrupt_bitmap(struct hvx_vcpu *vcpu, const __u64 *bitmap)
{
	unsigned long v = find_first_bit((const unsigned long *)bitmap,
					 KVM_NR_INTERRUPTS);

	if (v < KVM_NR_INTERRUPTS) {
		vcpu->irq_queued = true;
		vcpu->irq_vector = v;
	}
}

/*
 * KVM_NMI. As on hardware and KVM, at most one NMI waits behind the one
 * being handled (or about to be delivered): two when none is, more
 * collapse into those.
 */
int hvx_vcpu_nmi(struct hvx_vcpu *vcpu)
{
	unsigned int limit = hvx_ops->nmi_blocked(vcpu) ? 1 : 2;

	if (vcpu->nmi_pending < limit)
		vcpu->nmi_pending++;
	return 0;
}

/* Whether the guest would take an external interrupt at the next entry. */
static bool hvx_interrupt_allowed(struct hvx_vcpu *vcpu)
{
	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !hvx_ops->interrupt_shadow(vcpu) &&
	       !hvx_ops->event_queued(vcpu);
}

/* KVM's ready_for_interrupt_injection: userspace may KVM_INTERRUPT now. */
static bool hvx_ready_for_interrupt(struct hvx_vcpu *vcpu)
{
	return !vcpu->irq_queued && hvx_interrupt_allowed(vcpu);
}

/*
 * Before each entry, interrupts off: inject the queued vector if the guest
 * takes it, and open the interrupt window if something still waits.
 */
void hvx_inject_events(struct hvx_vcpu *vcpu)
{
	bool apic_waits = false, extint_waits = false;
	int v;

	if (vcpu->nmi_pending && !hvx_ops->event_queued(vcpu) &&
	    !hvx_ops->interrupt_shadow(vcpu) && !hvx_ops->nmi_blocked(vcpu)) {
		hvx_ops->inject_nmi(vcpu);
		vcpu->nmi_pending--;
	}
	/* KVM_INTERRUPT (a userspace PIC's ExtINT) before the local APIC. */
	if (vcpu->irq_queued && hvx_interrupt_allowed(vcpu)) {
		hvx_ops->inject_irq(vcpu, vcpu->irq_vector);
		vcpu->irq_queued = false;
	}
	/*
	 * The in-kernel PIC's ExtINT next: it bypasses the APIC's priority
	 * (SDM Vol 3 11.6.1), and KVM takes it before the APIC's vectors.
	 */
	if (hvx_pic_has_extint(vcpu)) {
		if (hvx_interrupt_allowed(vcpu)) {
			v = hvx_pic_ack(vcpu);
			if (v >= 0)
				hvx_ops->inject_irq(vcpu, v);
		} else {
			extint_waits = true;
		}
	}
	if (vcpu->lapic) {
		v = hvx_lapic_inject(vcpu, hvx_interrupt_allowed(vcpu), &apic_waits);
		if (v >= 0)
			hvx_ops->inject_irq(vcpu, v);
	}
	if (vcpu->nmi_pending)
		hvx_ops->enable_nmi_window(vcpu);
	if (vcpu->irq_queued || apic_waits || extint_waits ||
	    READ_ONCE(vcpu->run->request_interrupt_window))
		hvx_ops->enable_irq_window(vcpu);
}

/*
 * After a handled exit: end KVM_RUN with KVM_EXIT_IRQ_WINDOW_OPEN if
 * userspace waits for the window and it is open. Returns 0 then.
 */
int hvx_check_irq_window(struct hvx_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (!READ_ONCE(run->request_interrupt_window) ||
	    !hvx_ready_for_interrupt(vcpu))
		return 1;
	run->exit_reason = KVM_EXIT_IRQ_WINDOW_OPEN;
	return 0;
}

/* On every return from KVM_RUN, what kvm_run reports of the guest. */
void hvx_sync_run_state(struct hvx_vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	run->if_flag = !!(vcpu->rflags & X86_EFLAGS_IF);
	run->ready_for_interrupt_injection = hvx_ready_for_interrupt(vcpu);
	run->cr8 = hvx_ops->get_cr(vcpu, 8);
	run->apic_base = vcpu->apic_base;
}

/*
 * KVM_GET_VCPU_EVENTS: the event in the entry slot (an exception, an
 * interrupt or NMI being re-delivered), the KVM_INTERRUPT vector not yet
 * injected, NMI state and the interrupt shadow. hvx has no SMM and no
 * in-kernel APIC, so smi and sipi_vector read as zero.
 */
void hvx_get_vcpu_events(struct hvx_vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	struct hvx_event slot;

	memset(ev, 0, sizeof(*ev));
	hvx_ops->get_event(vcpu, &slot);
	switch (slot.type) {
	case HVX_EVENT_EXCEPTION:
	case HVX_EVENT_SOFT_EXCEPTION:
		ev->exception.injected = 1;
		ev->exception.nr = slot.vector;
		ev->exception.has_error_code = slot.has_error;
		ev->exception.error_code = slot.error_code;
		break;
	case HVX_EVENT_INTR:
	case HVX_EVENT_SOFT_INTR:
		ev->interrupt.injected = 1;
		ev->interrupt.nr = slot.vector;
		ev->interrupt.soft = slot.type == HVX_EVENT_SOFT_INTR;
		break;
	case HVX_EVENT_NMI:
		ev->nmi.injected = 1;
		break;
	case HVX_EVENT_NONE:
		break;
	}
	if (!ev->interrupt.injected && vcpu->irq_queued) {
		ev->interrupt.injected = 1;
		ev->interrupt.nr = vcpu->irq_vector;
	}
	ev->interrupt.shadow = hvx_ops->interrupt_shadow(vcpu);
	ev->nmi.pending = vcpu->nmi_pending;
	ev->nmi.masked = hvx_ops->nmi_blocked(vcpu);
	ev->flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
		    KVM_VCPUEVENT_VALID_SMM;
}

#define HVX_VCPUEVENT_FLAGS (KVM_VCPUEVENT_VALID_NMI_PENDING |		\
			     KVM_VCPUEVENT_VALID_SIPI_VECTOR |		\
			     KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM)

/*
 * KVM_SET_VCPU_EVENTS, all checks before any change. As KVM without
 * KVM_CAP_EXCEPTION_PAYLOAD or KVM_CAP_X86_TRIPLE_FAULT_EVENT enabled:
 * those flags are EINVAL and exception.pending is ignored. hvx differs in
 * three refusals (EINVAL), all of state it cannot hold: SMM (smi.smm or
 * smi.pending), an injected exception together with an injected NMI (one
 * entry delivers one event), and a soft (INT n) interrupt, which only a
 * KVM exit in the middle of its delivery produces.
 */
int hvx_set_vcpu_events(struct hvx_vcpu *vcpu, const struct kvm_vcpu_events *ev)
{
	struct hvx_event slot = { .type = HVX_EVENT_NONE };

	if (ev->flags & ~HVX_VCPUEVENT_FLAGS)
		return -EINVAL;
	if (ev->exception.injected &&
	    (ev->exception.nr > 31 || ev->exception.nr == NMI_VECTOR))
		return -EINVAL;
	if ((ev->flags & KVM_VCPUEVENT_VALID_SMM) &&
	    (ev->smi.smm || ev->smi.pending))
		return -EINVAL;
	if (ev->exception.injected && ev->nmi.injected)
		return -EINVAL;
	if (ev->interrupt.injected && ev->interrupt.soft)
		return -EINVAL;
	if ((ev->flags & KVM_VCPUEVENT_VALID_SHADOW) &&
	    (ev->interrupt.shadow & ~(KVM_X86_SHADOW_INT_MOV_SS | KVM_X86_SHADOW_INT_STI)))
		return -EINVAL;

	if (ev->exception.injected) {
		slot.type = HVX_EVENT_EXCEPTION;
		slot.vector = ev->exception.nr;
		slot.has_error = ev->exception.has_error_code;
		slot.error_code = ev->exception.error_code;
	} else if (ev->nmi.injected) {
		slot.type = HVX_EVENT_NMI;
		slot.vector = NMI_VECTOR;
	}
	hvx_ops->set_event(vcpu, &slot);
	/* As on KVM, an injected interrupt is the queued one. */
	vcpu->irq_queued = ev->interrupt.injected;
	vcpu->irq_vector = ev->interrupt.nr;
	if (ev->flags & KVM_VCPUEVENT_VALID_SHADOW)
		hvx_ops->set_interrupt_shadow(vcpu, ev->interrupt.shadow);
	if (ev->flags & KVM_VCPUEVENT_VALID_NMI_PENDING)
		vcpu->nmi_pending = min_t(unsigned int, ev->nmi.pending, 2);
	/* Delivering an injected NMI sets the blocking itself. */
	hvx_ops->set_nmi_blocked(vcpu, ev->nmi.masked && !ev->nmi.injected);
	return 0;
}
