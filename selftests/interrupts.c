// SPDX-License-Identifier: GPL-2.0
/*
 * External interrupts with the interrupt controller in userspace (no
 * KVM_CREATE_IRQCHIP): KVM_INTERRUPT, the kvm_run fields if_flag and
 * ready_for_interrupt_injection, and request_interrupt_window with its
 * KVM_EXIT_IRQ_WINDOW_OPEN exit (Documentation/virt/kvm/api.rst). The
 * VMM injects only when kvm_run says the guest is ready, as the API asks.
 */
#include <sys/ioctl.h>

#include "kvm_util.h"

#define VEC_A	0x40
#define VEC_B	0x41

/* Vectors the guest's handler saw, in order, and how many. */
static volatile uint64_t seen[4];
static volatile uint64_t nseen;

static void guest_irq_handler(struct ex_regs *regs)
{
	if (nseen < 4)
		seen[nseen] = regs->vector;
	nseen++;
}

static struct vcpu *irq_vm(void *guest_fn)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vm_install_exception_handler(vm, VEC_A, guest_irq_handler);
	vm_install_exception_handler(vm, VEC_B, guest_irq_handler);
	vcpu_set_entry(vcpu, guest_fn);
	return vcpu;
}

static void inject(struct vcpu *vcpu, uint32_t vector)
{
	struct kvm_interrupt irq = { .irq = vector };

	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_INTERRUPT, &irq));
}

/* Stop with IF set, then report what the handler saw. */
static void guest_sync_with_if(void)
{
	asm volatile("sti; nop");
	GUEST_SYNC(0);
	GUEST_SYNC(nseen);
	GUEST_SYNC(seen[0]);
}

/*
 * With IF set and nothing queued the VMM may inject; the vector reaches
 * the guest's handler before the next instruction.
 */
static void injected_when_ready(void)
{
	struct vcpu *vcpu = irq_vm(guest_sync_with_if);

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(vcpu->run->if_flag, 1);
	TEST_ASSERT_EQ(vcpu->run->ready_for_interrupt_injection, 1);
	inject(vcpu, VEC_A);
	vcpu_run_expect_sync(vcpu, 1);
	vcpu_run_expect_sync(vcpu, VEC_A);
	vm_free(vcpu->vm);
}

/* With IF clear, kvm_run says the guest cannot take an interrupt. */
static void guest_sync_without_if(void)
{
	asm volatile("cli");
	GUEST_SYNC(0);
}

static void not_ready_with_if_clear(void)
{
	struct vcpu *vcpu = irq_vm(guest_sync_without_if);

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(vcpu->run->if_flag, 0);
	TEST_ASSERT_EQ(vcpu->run->ready_for_interrupt_injection, 0);
	vm_free(vcpu->vm);
}

/*
 * IF clear, then STI: the window opens only after the instruction that
 * follows STI (its interrupt shadow), where the guest is stopped.
 */
extern const char sti_shadow_end[];

static void guest_sti_later(void)
{
	asm volatile("cli");
	GUEST_SYNC(0);
	asm volatile("cli\n\t"
		     "mov $1, %%eax\n\t"
		     "sti\n\t"
		     "mov $2, %%eax\n\t"
		     ".global sti_shadow_end\n"
		     "sti_shadow_end:\n\t"
		     "mov $3, %%eax\n\t"
		     : : : "eax");
	GUEST_SYNC(nseen);
	GUEST_SYNC(seen[0]);
}

static void window_opens_after_sti_shadow(void)
{
	struct vcpu *vcpu = irq_vm(guest_sti_later);
	struct kvm_regs regs;

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(vcpu->run->ready_for_interrupt_injection, 0);
	vcpu->run->request_interrupt_window = 1;
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_IRQ_WINDOW_OPEN);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rip, (uint64_t)sti_shadow_end);
	TEST_ASSERT_EQ(regs.rax, 2);
	TEST_ASSERT_EQ(vcpu->run->if_flag, 1);
	TEST_ASSERT_EQ(vcpu->run->ready_for_interrupt_injection, 1);

	vcpu->run->request_interrupt_window = 0;
	inject(vcpu, VEC_B);
	vcpu_run_expect_sync(vcpu, 1);
	vcpu_run_expect_sync(vcpu, VEC_B);
	vm_free(vcpu->vm);
}

/*
 * A window asked for while the guest is ready opens at once: right after
 * the ucall's OUT (one byte, "out %eax, %dx"), which KVM_RUN completes
 * first.
 */
static void window_open_already(void)
{
	struct vcpu *vcpu = irq_vm(guest_sync_with_if);
	struct kvm_regs before, after;

	vcpu_run_expect_sync(vcpu, 0);
	vcpu_get_regs(vcpu, &before);
	vcpu->run->request_interrupt_window = 1;
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_IRQ_WINDOW_OPEN);
	vcpu_get_regs(vcpu, &after);
	TEST_ASSERT_EQ(after.rip, before.rip + 1);
	TEST_ASSERT_EQ(vcpu->run->ready_for_interrupt_injection, 1);
	vm_free(vcpu->vm);
}

/*
 * HLT with no in-kernel APIC exits to the VMM, which injects the wake-up
 * interrupt; the handler runs and the guest goes on after the HLT.
 */
static void guest_sti_hlt(void)
{
	asm volatile("sti; hlt");
	GUEST_SYNC(nseen);
	GUEST_SYNC(seen[0]);
}

static void interrupt_ends_hlt(void)
{
	struct vcpu *vcpu = irq_vm(guest_sti_hlt);

	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	TEST_ASSERT_EQ(vcpu->run->ready_for_interrupt_injection, 1);
	inject(vcpu, VEC_A);
	vcpu_run_expect_sync(vcpu, 1);
	vcpu_run_expect_sync(vcpu, VEC_A);
	vm_free(vcpu->vm);
}

/* Two interrupts, one per window, arrive in order. */
static void guest_two_windows(void)
{
	asm volatile("sti; nop");
	GUEST_SYNC(0);
	GUEST_SYNC(0);
	GUEST_SYNC(nseen);
	GUEST_SYNC(seen[0] << 8 | seen[1]);
}

static void two_interrupts_in_order(void)
{
	struct vcpu *vcpu = irq_vm(guest_two_windows);

	vcpu_run_expect_sync(vcpu, 0);
	inject(vcpu, VEC_B);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(vcpu->run->ready_for_interrupt_injection, 1);
	inject(vcpu, VEC_A);
	vcpu_run_expect_sync(vcpu, 2);
	vcpu_run_expect_sync(vcpu, VEC_B << 8 | VEC_A);
	vm_free(vcpu->vm);
}

/*
 * KVM_GET_SREGS shows a queued, not yet injected vector in
 * interrupt_bitmap; KVM_SET_SREGS queues the bit it finds there instead.
 */
static void interrupt_bitmap_round_trip(void)
{
	struct vcpu *vcpu = irq_vm(guest_sync_with_if);
	struct kvm_sregs sregs;

	vcpu_run_expect_sync(vcpu, 0);
	inject(vcpu, VEC_A);
	vcpu_get_sregs(vcpu, &sregs);
	for (int i = 0; i < 4; i++)
		TEST_ASSERT_EQ(sregs.interrupt_bitmap[i],
			       i == VEC_A / 64 ? 1ULL << (VEC_A % 64) : 0);

	memset(sregs.interrupt_bitmap, 0, sizeof(sregs.interrupt_bitmap));
	sregs.interrupt_bitmap[VEC_B / 64] = 1ULL << (VEC_B % 64);
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_run_expect_sync(vcpu, 1);
	vcpu_run_expect_sync(vcpu, VEC_B);
	vm_free(vcpu->vm);
}

/* KVM_INTERRUPT takes vectors 0..255 (KVM_NR_INTERRUPTS). */
static void vector_out_of_range(void)
{
	struct vcpu *vcpu = irq_vm(guest_sync_with_if);
	struct kvm_interrupt irq = { .irq = 256 };

	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_INTERRUPT, &irq), EINVAL);
	vm_free(vcpu->vm);
}

static const struct test_case cases[] = {
	TEST_CASE(injected_when_ready, "KVM_INTERRUPT with IF set reaches the guest's handler"),
	TEST_CASE(not_ready_with_if_clear, "IF clear: if_flag and ready_for_interrupt_injection are 0"),
	TEST_CASE(window_opens_after_sti_shadow, "request_interrupt_window exits after STI's shadow"),
	TEST_CASE(window_open_already, "request_interrupt_window with IF set exits at once"),
	TEST_CASE(interrupt_ends_hlt, "HLT exits to the VMM; an injected interrupt wakes the guest"),
	TEST_CASE(two_interrupts_in_order, "two interrupts, one per exit, arrive in order"),
	TEST_CASE(interrupt_bitmap_round_trip, "a queued vector shows in, and is set through, interrupt_bitmap"),
	TEST_CASE(vector_out_of_range, "KVM_INTERRUPT with irq 256 is EINVAL"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
