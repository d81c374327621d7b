// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU's run state with the APIC in the kernel (KVM_MP_STATE_*): HLT
 * waits in the kernel until an interrupt the vCPU can take, application
 * processors wait for INIT and SIPI (SDM Vol 3 9.4), and the VMM reads
 * and sets the state with KVM_GET/SET_MP_STATE.
 */
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "lapic.h"
#include "backend.h"

/* Whether INIT or SIPI waits to be processed, or NMIs to be made pending. */
static bool apic_has_events(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;

	return READ_ONCE(apic->events) || atomic_read(&apic->nmis);
}

/*
 * In the vCPU thread: INIT resets the vCPU into wait-for-SIPI; a SIPI
 * there starts it at vector << 12 in real mode (SDM Vol 3 9.4.4.1). A
 * SIPI in any other state is dropped, as a CPU not waiting ignores it.
 */
void hvx_lapic_process_events(struct hvx_vcpu *vcpu)
{
	struct hvx_lapic *apic = vcpu->lapic;
	struct kvm_sregs *sregs;

	if (!apic)
		return;
	lapic_sync_posted(vcpu);
	if (test_and_clear_bit(HVX_APIC_EV_INIT, &apic->events)) {
		hvx_vcpu_init_reset(vcpu);
		lapic_init_reset(vcpu);
		vcpu->mp_state = KVM_MP_STATE_INIT_RECEIVED;
	}
	if (!test_and_clear_bit(HVX_APIC_EV_SIPI, &apic->events) ||
	    vcpu->mp_state != KVM_MP_STATE_INIT_RECEIVED)
		return;
	sregs = kmalloc(sizeof(*sregs), GFP_KERNEL);
	if (!sregs)
		return;
	hvx_ops->get_sregs(vcpu, sregs);
	sregs->cs.selector = READ_ONCE(apic->sipi_vector) << 8;
	sregs->cs.base = (u64)sregs->cs.selector << 4;
	hvx_ops->set_sregs(vcpu, sregs);
	kfree(sregs);
	vcpu->rip = 0;
	vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
}

/* Whether a vCPU that blocks (HLT, wait for SIPI) must run again. */
static bool vcpu_wakes(struct hvx_vcpu *vcpu)
{
	if (apic_has_events(vcpu))
		return true;
	if (vcpu->mp_state != KVM_MP_STATE_HALTED)
		return false;
	/* An NMI waiting behind the one being handled wakes nothing yet. */
	if (vcpu->nmi_pending && !hvx_ops->nmi_blocked(vcpu))
		return true;
	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       (vcpu->irq_queued || hvx_pic_has_extint(vcpu) ||
		hvx_lapic_has_interrupt(vcpu));
}

/*
 * Block a vCPU that is not runnable until something wakes it (see
 * vcpu_wakes()) or the thread must go back to userspace; a halted vCPU
 * that wakes is runnable again. Returns -EINTR for a signal.
 */
int hvx_vcpu_block(struct hvx_vcpu *vcpu)
{
	DEFINE_WAIT(wait);
	int r = 0;

	for (;;) {
		prepare_to_wait(&vcpu->wq, &wait, TASK_INTERRUPTIBLE);
		if (vcpu_wakes(vcpu))
			break;
		if (signal_pending(current) || hvx_is_rebooting()) {
			r = -EINTR;
			break;
		}
		schedule();
	}
	finish_wait(&vcpu->wq, &wait);
	if (!r)
		hvx_lapic_process_events(vcpu);
	if (!r && vcpu->mp_state == KVM_MP_STATE_HALTED)
		vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
	return r;
}

/*
 * HLT with the APIC in the kernel: the vCPU blocks in KVM_RUN until an
 * interrupt it can take arrives (or runs on, if one already has).
 */
void hvx_lapic_halt(struct hvx_vcpu *vcpu)
{
	vcpu->mp_state = KVM_MP_STATE_HALTED;
	if (vcpu_wakes(vcpu))
		vcpu->mp_state = KVM_MP_STATE_RUNNABLE;
}

u32 hvx_vcpu_get_mp_state(struct hvx_vcpu *vcpu)
{
	hvx_lapic_process_events(vcpu);
	return vcpu->mp_state;
}

/*
 * KVM_SET_MP_STATE: without an in-kernel APIC only RUNNABLE; with one,
 * the x86 states, SIPI_RECEIVED meaning "INIT received, SIPI pending"
 * as in KVM.
 */
int hvx_vcpu_set_mp_state(struct hvx_vcpu *vcpu, u32 state)
{
	switch (state) {
	case KVM_MP_STATE_RUNNABLE:
		break;
	case KVM_MP_STATE_UNINITIALIZED:
	case KVM_MP_STATE_INIT_RECEIVED:
	case KVM_MP_STATE_HALTED:
		if (!vcpu->lapic)
			return -EINVAL;
		break;
	case KVM_MP_STATE_SIPI_RECEIVED:
		if (!vcpu->lapic)
			return -EINVAL;
		state = KVM_MP_STATE_INIT_RECEIVED;
		set_bit(HVX_APIC_EV_SIPI, &vcpu->lapic->events);
		break;
	default:
		return -EINVAL;
	}
	vcpu->mp_state = state;
	return 0;
}
