// SPDX-License-Identifier: GPL-2.0
/*
 * Debug registers: the guest reads back what it writes to DR0-DR3, DR6
 * and DR7 (with the architectural fixed bits), KVM_GET/SET_DEBUGREGS see
 * and set the same values, and the host's own hardware breakpoints keep
 * working however the guest uses its debug registers: VM exit leaves DR7
 * at 0x400 (SDM Vol 3 28.5.1) and DR0-DR3 are not switched by hardware.
 */
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm_util.h"

#define DR7_FIXED	0x400ULL
#define DR6_FIXED	0xffff0ff0ULL

static volatile uint64_t watched;

/* The guest writes DR0-DR3, DR6 and DR7, and reads them back. */
static void guest_debugregs(void)
{
	uint64_t v;

	asm volatile("mov %0, %%dr0" : : "r"(0x1000ULL));
	asm volatile("mov %0, %%dr1" : : "r"(0x2000ULL));
	asm volatile("mov %0, %%dr2" : : "r"(0x3000ULL));
	asm volatile("mov %0, %%dr3" : : "r"(0x4000ULL));
	asm volatile("mov %0, %%dr7" : : "r"(0x401ULL));
	asm volatile("mov %0, %%dr7" : : "r"(0x0ULL));
	asm volatile("mov %0, %%dr6" : : "r"(0x1ULL));
	asm volatile("mov %%dr0, %0" : "=r"(v));
	GUEST_ASSERT_EQ(v, 0x1000);
	asm volatile("mov %%dr3, %0" : "=r"(v));
	GUEST_ASSERT_EQ(v, 0x4000);
	asm volatile("mov %%dr7, %0" : "=r"(v));
	GUEST_ASSERT_EQ(v, DR7_FIXED);
	asm volatile("mov %%dr6, %0" : "=r"(v));
	GUEST_ASSERT_EQ(v, DR6_FIXED | 1);
	asm volatile("mov %0, %%dr7" : : "r"(0x402ULL));
	GUEST_SYNC(0);
	asm volatile("mov %%dr1, %0" : "=r"(v));
	GUEST_SYNC(v);
}

/* What the guest wrote shows in KVM_GET_DEBUGREGS, and the reverse. */
static void guest_and_ioctls_agree(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_debugregs d;

	vcpu_set_entry(vcpu, guest_debugregs);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &d));
	TEST_ASSERT_EQ(d.db[0], 0x1000);
	TEST_ASSERT_EQ(d.db[1], 0x2000);
	TEST_ASSERT_EQ(d.db[3], 0x4000);
	TEST_ASSERT_EQ(d.dr6, DR6_FIXED | 1);
	TEST_ASSERT_EQ(d.dr7, 0x402 | DR7_FIXED);
	d.db[1] = 0x5000;
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &d));
	vcpu_run_expect_sync(vcpu, 0x5000);
	vm_free(vm);
}

/* KVM_SET_DEBUGREGS: no flags, nothing above bit 31 of DR6 and DR7. */
static void set_debugregs_checks(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_debugregs d, bad;

	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_DEBUGREGS), 1);
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &d));
	TEST_ASSERT_EQ(d.dr6, DR6_FIXED);
	TEST_ASSERT_EQ(d.dr7, DR7_FIXED);
	bad = d;
	bad.flags = 1;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &bad), EINVAL);
	bad = d;
	bad.dr7 = 1ULL << 32;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &bad), EINVAL);
	bad = d;
	bad.dr6 = 1ULL << 32;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_DEBUGREGS, &bad), EINVAL);
	vm_free(vm);
}

static int watch(volatile uint64_t *addr)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (uint64_t)(uintptr_t)addr,
		.bp_len = HW_BREAKPOINT_LEN_8,
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};
	int fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);

	if (fd < 0)
		test_skip("no hardware breakpoints here: perf_event_open: %s",
			  strerror(errno));
	return fd;
}

static uint64_t hits(int fd)
{
	uint64_t n;

	TEST_ASSERT_EQ(read(fd, &n, sizeof(n)), sizeof(n));
	return n;
}

/*
 * A perf watchpoint of this process on a variable counts a write made
 * after a guest ran that loaded DR0-DR3 and DR7 with its own values.
 */
static void host_watchpoint_survives(void)
{
	int fd = watch(&watched);
	struct vm *vm;
	struct vcpu *vcpu;

	watched = 1;
	if (hits(fd) != 1)
		test_skip("the watchpoint does not fire in this machine: %lu hits",
			  (unsigned long)hits(fd));
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	vcpu_set_entry(vcpu, guest_debugregs);
	vcpu_run_expect_sync(vcpu, 0);
	watched = 2;
	TEST_ASSERT_EQ(hits(fd), 2);
	vm_free(vm);
	close(fd);
}

static const struct test_case cases[] = {
	TEST_CASE(guest_and_ioctls_agree, "guest DR writes read back and show in KVM_GET_DEBUGREGS"),
	TEST_CASE(set_debugregs_checks, "KVM_SET_DEBUGREGS: reset values; flags or high bits EINVAL"),
	TEST_CASE(host_watchpoint_survives, "a host watchpoint still fires after the guest used DRs"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
