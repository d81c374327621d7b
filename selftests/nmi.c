// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_NMI: an NMI reaches the guest's vector-2 handler whatever RFLAGS.IF
 * says, a second one waits until the handler's IRET, and NMIs queued
 * while none is being handled collapse into at most two, as on hardware
 * and KVM (KVM_CAP_USER_NMI).
 */
#include <sys/ioctl.h>

#include "kvm_util.h"

#define NMI_VECTOR	2

/* Guest side: NMIs handled, how deeply nested, and the deepest nesting. */
static volatile uint64_t nmis, depth, max_depth;
/* The handler stops for the host at its first NMI when this is set. */
static volatile uint64_t stop_in_first;

static void guest_nmi_handler(struct ex_regs *regs)
{
	(void)regs;
	if (++depth > max_depth)
		max_depth = depth;
	nmis++;
	if (stop_in_first && nmis == 1)
		GUEST_SYNC(1000);
	depth--;
}

static struct vcpu *nmi_vm(void *guest_fn)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vm_install_exception_handler(vm, NMI_VECTOR, guest_nmi_handler);
	vcpu_set_entry(vcpu, guest_fn);
	return vcpu;
}

static void nmi(struct vcpu *vcpu)
{
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_NMI));
}

static void guest_report_with_if_clear(void)
{
	asm volatile("cli");
	GUEST_SYNC(0);
	GUEST_SYNC(nmis);
}

/* An NMI is delivered with RFLAGS.IF clear. */
static void delivered_with_if_clear(void)
{
	struct vcpu *vcpu = nmi_vm(guest_report_with_if_clear);

	vcpu_run_expect_sync(vcpu, 0);
	nmi(vcpu);
	vcpu_run_expect_sync(vcpu, 1);
	vm_free(vcpu->vm);
}

static void guest_stop_in_handler(void)
{
	stop_in_first = 1;
	GUEST_SYNC(0);
	GUEST_SYNC(nmis << 8 | max_depth);
}

/*
 * A second NMI queued while the first one's handler runs is delivered
 * only after that handler's IRET: two NMIs handled, never nested.
 */
static void blocked_until_iret(void)
{
	struct vcpu *vcpu = nmi_vm(guest_stop_in_handler);

	vcpu_run_expect_sync(vcpu, 0);
	nmi(vcpu);
	vcpu_run_expect_sync(vcpu, 1000);
	nmi(vcpu);
	vcpu_run_expect_sync(vcpu, 2 << 8 | 1);
	vm_free(vcpu->vm);
}

static void guest_report(void)
{
	GUEST_SYNC(0);
	GUEST_SYNC(nmis << 8 | max_depth);
}

/* Three NMIs queued at once: one delivered, one pending behind it. */
static void three_collapse_into_two(void)
{
	struct vcpu *vcpu = nmi_vm(guest_report);

	vcpu_run_expect_sync(vcpu, 0);
	nmi(vcpu);
	nmi(vcpu);
	nmi(vcpu);
	vcpu_run_expect_sync(vcpu, 2 << 8 | 1);
	vm_free(vcpu->vm);
}

/* KVM_CAP_USER_NMI says KVM_NMI works. */
static void user_nmi_capability(void)
{
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_USER_NMI), 1);
}

static const struct test_case cases[] = {
	TEST_CASE(user_nmi_capability, "KVM_CAP_USER_NMI is 1"),
	TEST_CASE(delivered_with_if_clear, "KVM_NMI reaches the guest's handler with IF clear"),
	TEST_CASE(blocked_until_iret, "a second NMI waits for the first handler's IRET"),
	TEST_CASE(three_collapse_into_two, "three NMIs queued at once are handled twice"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
