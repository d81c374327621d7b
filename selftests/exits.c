// SPDX-License-Identifier: GPL-2.0
/*
 * Exits that are not I/O: HLT, triple fault (shutdown), KVM_RUN
 * interrupted by a signal or by immediate_exit; and guest exceptions
 * delivered through the guest's own IDT.
 */
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/time.h>

#include "kvm_util.h"

extern char guest_hlt_next[];

static void __attribute__((noinline)) guest_hlt(void)
{
	__asm__ __volatile__("hlt\n"
			     ".globl guest_hlt_next\n"
			     "guest_hlt_next:\n" ::: "memory");
	GUEST_SYNC(1);
	hlt();
	GUEST_SYNC(2);
}

/* Without an in-kernel LAPIC, HLT exits to userspace with RIP past it. */
static void hlt_exit(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs regs;

	vcpu_set_entry(vcpu, guest_hlt);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rip, (uintptr_t)guest_hlt_next);
	/* KVM_RUN again resumes after the HLT. */
	vcpu_run_expect_sync(vcpu, 1);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_run_expect_sync(vcpu, 2);
	vcpu_run_expect_done(vcpu);
}

/* An exception with no usable IDT entry: #UD -> #GP -> #DF -> shutdown. */
static void guest_empty_idt(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { 0, 0 };

	__asm__ __volatile__("lidt %0\n\t"
			     ".globl empty_idt_ud2\n"
			     "empty_idt_ud2: ud2" : : "m"(idtr));
	GUEST_SYNC(0xbad);
}

/*
 * After the shutdown, what a VMM can read of the vCPU: on Intel the state
 * of the triple fault (RIP at the UD2; the VM exit saves it, SDM 27.3),
 * which KVM leaves for userspace to debug; on AMD the power-on state, as
 * KVM resets the vCPU because the VMCB is undefined after a SHUTDOWN
 * intercept (APM Vol 2 15.12).
 */
static void triple_fault_empty_idt(void)
{
	extern char empty_idt_ud2[];
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	vcpu_set_entry(vcpu, guest_empty_idt);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_SHUTDOWN);
	vcpu_get_regs(vcpu, &regs);
	vcpu_get_sregs(vcpu, &sregs);
	if (host_is_intel()) {
		TEST_ASSERT_EQ(regs.rip, (uint64_t)empty_idt_ud2);
		TEST_ASSERT_EQ(sregs.idt.limit, 0);
	} else {
		TEST_ASSERT_EQ(regs.rip, 0xfff0);
		TEST_ASSERT_EQ(sregs.cs.selector, 0xf000);
	}
}

/*
 * A valid IDT but a non-canonical stack: the #BP frame cannot be pushed
 * (#SS), nor the #SS frame (#DF), nor the #DF frame: shutdown.
 */
static void guest_bad_stack(void)
{
	__asm__ __volatile__("mov %0, %%rsp; int3" : : "r"(0x8000000000000000ULL));
}

static void triple_fault_bad_stack(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_bad_stack);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_SHUTDOWN);
}

/* Guest exceptions go through the guest's IDT to the installed handlers. */
static volatile uint64_t bp_count, de_count, ud_rip;

static void bp_handler(struct ex_regs *regs)
{
	(void)regs;
	bp_count++;	/* #BP is a trap: RIP is already past INT3 */
}

static void de_handler(struct ex_regs *regs)
{
	de_count++;
	regs->rip += 2;		/* div %ecx: f7 f1 */
}

static void ud_handler(struct ex_regs *regs)
{
	ud_rip = regs->rip;
	regs->rip += 2;		/* ud2: 0f 0b */
}

extern char guest_ud2[];

static void guest_exceptions(void)
{
	uint32_t q = 7;

	__asm__ __volatile__("int3");
	__asm__ __volatile__("int3");
	GUEST_ASSERT_EQ(bp_count, 2);
	__asm__ __volatile__("xor %%edx, %%edx; div %%ecx"
			     : "+a"(q) : "c"(0) : "rdx");
	GUEST_ASSERT_EQ(de_count, 1);
	__asm__ __volatile__(".globl guest_ud2\nguest_ud2: ud2");
	GUEST_ASSERT_EQ(ud_rip, (uintptr_t)guest_ud2);
}

static void guest_exception_handlers(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vm_install_exception_handler(vm, BP_VECTOR, bp_handler);
	vm_install_exception_handler(vm, DE_VECTOR, de_handler);
	vm_install_exception_handler(vm, UD_VECTOR, ud_handler);
	vcpu_set_entry(vcpu, guest_exceptions);
	vcpu_run_expect_done(vcpu);
}

/* An exception without a handler is reported by the library. */
static void guest_page_fault(void)
{
	/* Above the 4 GiB the page tables map. */
	(void)*(volatile uint64_t *)0x100000000ULL;
}

static void unhandled_exception_reported(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct ucall uc;

	vcpu_set_entry(vcpu, guest_page_fault);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_UNHANDLED);
	TEST_ASSERT_EQ(uc.args[0], PF_VECTOR);
	TEST_ASSERT_EQ(uc.args[2], 0);	/* not present, read, supervisor */
}

/* KVM_RUN interrupted by a signal: -EINTR and KVM_EXIT_INTR. */
static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static volatile uint64_t spin_flag;

static void guest_spin(void)
{
	while (!spin_flag)
		;
	GUEST_SYNC(spin_flag);
}

static void signal_interrupts_run(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	int r;

	sigaction(SIGALRM, &sa, NULL);
	vcpu_set_entry(vcpu, guest_spin);
	setitimer(ITIMER_REAL, &it, NULL);
	r = __vcpu_run(vcpu);
	TEST_ASSERT_ERRNO(r, EINTR);
	TEST_ASSERT_EQ(vcpu->run->exit_reason, KVM_EXIT_INTR);
	TEST_ASSERT_EQ(alarms, 1);

	/* The guest goes on where it was. */
	spin_flag = 0x5151;
	sync_global_to_guest(vm, spin_flag);
	vcpu_run_expect_sync(vcpu, 0x5151);
	vcpu_run_expect_done(vcpu);
}

/*
 * immediate_exit: KVM_RUN returns -EINTR at once and the guest does not
 * run. KVM leaves run->exit_reason as it was (no KVM_EXIT_INTR).
 */
static void immediate_exit(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs before, after;

	vcpu_set_entry(vcpu, guest_spin);
	vcpu_get_regs(vcpu, &before);
	vcpu->run->exit_reason = 0x1234;
	vcpu->run->immediate_exit = 1;
	TEST_ASSERT_ERRNO(__vcpu_run(vcpu), EINTR);
	TEST_ASSERT_EQ(vcpu->run->exit_reason, 0x1234);
	TEST_ASSERT_ERRNO(__vcpu_run(vcpu), EINTR);
	vcpu_get_regs(vcpu, &after);
	TEST_ASSERT_EQ(after.rip, before.rip);
	TEST_ASSERT_EQ(after.rsp, before.rsp);

	vcpu->run->immediate_exit = 0;
	spin_flag = 1;
	sync_global_to_guest(vm, spin_flag);
	vcpu_run_expect_sync(vcpu, 1);
	vcpu_run_expect_done(vcpu);
}

/* A signal that arrives while the vCPU is outside KVM_RUN is not lost by
 * KVM_RUN: the handler has run, the next KVM_RUN enters the guest. */
static void signal_outside_run(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	sigaction(SIGALRM, &sa, NULL);
	vcpu_set_entry(vcpu, guest_hlt);
	raise(SIGALRM);
	TEST_ASSERT_EQ(alarms, 1);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
}

/*
 * Executing from a GPA without a memslot cannot be emulated: KVM_RUN
 * returns KVM_EXIT_INTERNAL_ERROR with suberror EMULATION. Here a VM
 * with memory only at GPA 0 runs from the reset vector (0xfffffff0).
 * (Not a VM without any memslot: KVM 6.1 fails KVM_RUN there with ENOSPC,
 * as its MMU page budget is derived from the memslots.)
 */
static void execute_from_mmio(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	char buf[512];

	vm_add_memslot(vm, 0, 0, 0, 0x10000);
	vcpu_run(vcpu);
	test_diag("%s", exit_describe(vcpu, buf, sizeof(buf)));
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_INTERNAL_ERROR);
	TEST_ASSERT_EQ(vcpu->run->internal.suberror, KVM_INTERNAL_ERROR_EMULATION);
}

static void guest_done_at_once(void)
{
	GUEST_DONE();
}

/*
 * Guest state KVM_SET_SREGS accepts but VM entry refuses: a 64-bit code
 * segment with D set (APM Vol 2 15.5.1; SDM Vol 3 26.3.1.2). KVM_RUN
 * reports KVM_EXIT_FAIL_ENTRY, and the vCPU runs once the state is fixed.
 */
static void invalid_state_fail_entry(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs sregs, good;
	struct kvm_regs regs;
	char buf[512];

	vcpu_set_entry(vcpu, guest_done_at_once);
	vcpu_get_regs(vcpu, &regs);
	vcpu_get_sregs(vcpu, &good);
	sregs = good;
	sregs.cs.db = 1;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_run(vcpu);
	test_diag("%s", exit_describe(vcpu, buf, sizeof(buf)));
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_FAIL_ENTRY);
	/*
	 * VMX: exit reason 33 (invalid guest state) with bit 31, entry failed;
	 * SVM: VMEXIT_INVALID, exit code -1 in its 32-bit field.
	 */
	TEST_ASSERT_EQ(vcpu->run->fail_entry.hardware_entry_failure_reason,
		       host_is_intel() ? 0x80000021ULL : 0xffffffffULL);
	/* What a refused entry leaves in the registers is unspecified. */
	vcpu_set_regs(vcpu, &regs);
	vcpu_set_sregs(vcpu, &good);
	vcpu_run_expect_done(vcpu);
}

/* #GP from RDPMC: note it and step over the 2-byte instruction. */
static void rdpmc_gp(struct ex_regs *regs)
{
	regs->rip += 2;
	regs->rax = 0x6767;
}

static void guest_rdpmc(void)
{
	uint32_t lo, hi;

	asm volatile("rdpmc" : "=a"(lo), "=d"(hi) : "c"(0), "a"(0));
	GUEST_SYNC(lo);
}

/*
 * RDPMC reads no host performance counter: hvx has no virtual PMU (its
 * CPUID offers none) and answers #GP, as KVM does with enable_pmu=0. KVM
 * with its default virtual PMU serves the read from a virtual counter.
 */
static void rdpmc_without_pmu(void)
{
	struct vm *vm;
	struct vcpu *vcpu;

	if (dev_is_kvm())
		test_skip("KVM emulates a PMU (kvm.enable_pmu=1): RDPMC reads a virtual counter");
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	vm_install_exception_handler(vm, GP_VECTOR, rdpmc_gp);
	vcpu_set_entry(vcpu, guest_rdpmc);
	vcpu_run_expect_sync(vcpu, 0x6767);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE(hlt_exit, "HLT exits with KVM_EXIT_HLT, RIP after the HLT"),
	TEST_CASE(triple_fault_empty_idt,
		  "exception with an empty IDT: KVM_EXIT_SHUTDOWN; Intel keeps the state, AMD resets"),
	TEST_CASE(triple_fault_bad_stack, "exception on a non-canonical stack: KVM_EXIT_SHUTDOWN"),
	TEST_CASE(guest_exception_handlers, "guest #BP, #DE, #UD reach the guest's handlers"),
	TEST_CASE(unhandled_exception_reported, "a guest #PF without handler is reported"),
	TEST_CASE(invalid_state_fail_entry, "state VM entry refuses: KVM_EXIT_FAIL_ENTRY, then runs when fixed"),
	TEST_CASE(execute_from_mmio, "executing from a GPA without memory: INTERNAL_ERROR"),
	TEST_CASE(signal_interrupts_run, "a signal interrupts KVM_RUN: EINTR, KVM_EXIT_INTR"),
	TEST_CASE(immediate_exit, "immediate_exit: EINTR at once, the guest does not run"),
	TEST_CASE(signal_outside_run, "a signal handled before KVM_RUN does not stop it"),
	TEST_CASE(rdpmc_without_pmu, "RDPMC without a virtual PMU: #GP"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
