// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_GET_VCPU_EVENTS / KVM_SET_VCPU_EVENTS (KVM_CAP_VCPU_EVENTS): queued interrupts and NMIs show in the events,
 * events set from userspace reach the guest, NMI masking and the
 * interrupt shadow round-trip, and malformed events are EINVAL.
 */
#include <sys/ioctl.h>

#include "kvm_util.h"

#define NMI_VECTOR	2
#define VEC_A		0x40

static volatile uint64_t nmis, last_vector, last_error;

static void guest_nmi(struct ex_regs *regs)
{
	(void)regs;
	nmis++;
}

/* #GP from userspace's event: record it and go on after the OUT. */
static void guest_gp(struct ex_regs *regs)
{
	last_vector = regs->vector;
	last_error = regs->error_code;
}

static struct vcpu *events_vm(void *guest_fn)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vm_install_exception_handler(vm, NMI_VECTOR, guest_nmi);
	vm_install_exception_handler(vm, GP_VECTOR, guest_gp);
	vcpu_set_entry(vcpu, guest_fn);
	return vcpu;
}

static void get_events(struct vcpu *vcpu, struct kvm_vcpu_events *ev)
{
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, ev));
}

static int set_events(struct vcpu *vcpu, const struct kvm_vcpu_events *ev)
{
	return ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, ev);
}

/* IRET to the next instruction: ends NMI blocking like a handler's IRET. */
static inline void self_iret(void)
{
	asm volatile("mov %%ss, %%eax\n\t"
		     "push %%rax\n\t"
		     "push %%rsp\n\t"
		     "addq $8, (%%rsp)\n\t"
		     "pushfq\n\t"
		     "mov %%cs, %%eax\n\t"
		     "push %%rax\n\t"
		     "lea 1f(%%rip), %%rax\n\t"
		     "push %%rax\n\t"
		     "iretq\n"
		     "1:"
		     : : : "rax", "memory");
}

static void guest_syncs(void)
{
	asm volatile("sti; nop");
	GUEST_SYNC(0);
	GUEST_SYNC(nmis);
	self_iret();
	GUEST_SYNC(nmis);
	GUEST_SYNC(last_vector << 32 | last_error);
}

/* The shadow travels in the events: KVM x86 answers 0 for INTR_SHADOW. */
static void capabilities(void)
{
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_VCPU_EVENTS), 1);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_INTR_SHADOW), 0);
}

/* A fresh vCPU: nothing queued, nothing masked; the flags say what is valid. */
static void fresh_vcpu_has_no_events(void)
{
	struct vcpu *vcpu = events_vm(guest_syncs);
	struct kvm_vcpu_events ev;

	get_events(vcpu, &ev);
	TEST_ASSERT_EQ(ev.exception.injected, 0);
	TEST_ASSERT_EQ(ev.interrupt.injected, 0);
	TEST_ASSERT_EQ(ev.interrupt.shadow, 0);
	TEST_ASSERT_EQ(ev.nmi.injected, 0);
	TEST_ASSERT_EQ(ev.nmi.pending, 0);
	TEST_ASSERT_EQ(ev.nmi.masked, 0);
	TEST_ASSERT(ev.flags & KVM_VCPUEVENT_VALID_NMI_PENDING, "flags %#x", ev.flags);
	TEST_ASSERT(ev.flags & KVM_VCPUEVENT_VALID_SHADOW, "flags %#x", ev.flags);
	vm_free(vcpu->vm);
}

/* KVM_INTERRUPT and KVM_NMI show up before the next KVM_RUN. */
static void queued_events_show(void)
{
	struct vcpu *vcpu = events_vm(guest_syncs);
	struct kvm_interrupt irq = { .irq = VEC_A };
	struct kvm_vcpu_events ev;

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_INTERRUPT, &irq));
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_NMI));
	get_events(vcpu, &ev);
	TEST_ASSERT_EQ(ev.interrupt.injected, 1);
	TEST_ASSERT_EQ(ev.interrupt.nr, VEC_A);
	TEST_ASSERT_EQ(ev.nmi.pending, 1);
	vm_free(vcpu->vm);
}

/* An NMI made pending through KVM_SET_VCPU_EVENTS is delivered. */
static void pending_nmi_is_delivered(void)
{
	struct vcpu *vcpu = events_vm(guest_syncs);
	struct kvm_vcpu_events ev;

	vcpu_run_expect_sync(vcpu, 0);
	get_events(vcpu, &ev);
	ev.nmi.pending = 1;
	ev.flags = KVM_VCPUEVENT_VALID_NMI_PENDING;
	TEST_ASSERT_OK(set_events(vcpu, &ev));
	vcpu_run_expect_sync(vcpu, 1);
	vm_free(vcpu->vm);
}

/*
 * NMIs masked from userspace stay masked until the guest executes an IRET
 * (any IRET: the CPU cannot tell whose); the queued NMI then arrives.
 */
static void masked_nmi_waits_for_iret(void)
{
	struct vcpu *vcpu = events_vm(guest_syncs);
	struct kvm_vcpu_events ev;

	vcpu_run_expect_sync(vcpu, 0);
	get_events(vcpu, &ev);
	ev.nmi.masked = 1;
	ev.flags = 0;
	TEST_ASSERT_OK(set_events(vcpu, &ev));
	get_events(vcpu, &ev);
	TEST_ASSERT_EQ(ev.nmi.masked, 1);

	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_NMI));
	vcpu_run_expect_sync(vcpu, 0);
	get_events(vcpu, &ev);
	TEST_ASSERT_EQ(ev.nmi.pending, 1);
	vcpu_run_expect_sync(vcpu, 1);
	vm_free(vcpu->vm);
}

/* An exception with an error code, injected by userspace. */
static void injected_exception_reaches_guest(void)
{
	struct vcpu *vcpu = events_vm(guest_syncs);
	struct kvm_vcpu_events ev;

	vcpu_run_expect_sync(vcpu, 0);
	vcpu_run_expect_sync(vcpu, 0);
	vcpu_run_expect_sync(vcpu, 0);
	get_events(vcpu, &ev);
	ev.exception.injected = 1;
	ev.exception.nr = GP_VECTOR;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = 0x1234;
	ev.flags = 0;
	TEST_ASSERT_OK(set_events(vcpu, &ev));
	vcpu_run_expect_sync(vcpu, (uint64_t)GP_VECTOR << 32 | 0x1234);
	vm_free(vcpu->vm);
}

/* The interrupt shadow round-trips (SVM reports both kinds for either). */
static void shadow_round_trip(void)
{
	struct vcpu *vcpu = events_vm(guest_syncs);
	struct kvm_vcpu_events ev;

	vcpu_run_expect_sync(vcpu, 0);
	get_events(vcpu, &ev);
	ev.interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
	TEST_ASSERT_OK(set_events(vcpu, &ev));
	get_events(vcpu, &ev);
	TEST_ASSERT(ev.interrupt.shadow & KVM_X86_SHADOW_INT_MOV_SS,
		    "shadow %#x", ev.interrupt.shadow);
	ev.interrupt.shadow = 0;
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW;
	TEST_ASSERT_OK(set_events(vcpu, &ev));
	get_events(vcpu, &ev);
	TEST_ASSERT_EQ(ev.interrupt.shadow, 0);
	vm_free(vcpu->vm);
}

/* Unknown flags and impossible exception vectors are EINVAL. */
static void malformed_events_einval(void)
{
	struct vcpu *vcpu = events_vm(guest_syncs);
	struct kvm_vcpu_events ev, bad;

	get_events(vcpu, &ev);
	bad = ev;
	bad.flags = 0x80000000;
	TEST_ASSERT_ERRNO(set_events(vcpu, &bad), EINVAL);
	bad = ev;
	bad.flags = 0;
	bad.exception.injected = 1;
	bad.exception.nr = NMI_VECTOR;
	TEST_ASSERT_ERRNO(set_events(vcpu, &bad), EINVAL);
	bad.exception.nr = 32;
	TEST_ASSERT_ERRNO(set_events(vcpu, &bad), EINVAL);
	vm_free(vcpu->vm);
}

static const struct test_case cases[] = {
	TEST_CASE(capabilities, "KVM_CAP_VCPU_EVENTS is 1, KVM_CAP_INTR_SHADOW 0"),
	TEST_CASE(fresh_vcpu_has_no_events, "a new vCPU has no events; NMI_PENDING and SHADOW valid"),
	TEST_CASE(queued_events_show, "KVM_INTERRUPT and KVM_NMI show in KVM_GET_VCPU_EVENTS"),
	TEST_CASE(pending_nmi_is_delivered, "nmi.pending set by userspace is delivered"),
	TEST_CASE(masked_nmi_waits_for_iret, "nmi.masked holds an NMI back until the guest's IRET"),
	TEST_CASE(injected_exception_reaches_guest, "an injected #GP with error code reaches the guest"),
	TEST_CASE(shadow_round_trip, "the interrupt shadow round-trips"),
	TEST_CASE(malformed_events_einval, "unknown flags, vector 2 or 32 as exception: EINVAL"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
