// SPDX-License-Identifier: GPL-2.0
/*
 * VM and vCPU fds: vCPU creation limits, unknown ioctls, bad pointers,
 * use from another process, fd lifetimes, the power-on register state.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define KVM_UNKNOWN_IOCTL	_IO(KVMIO, 0xfe)

/* KVM_CAP_MAX_VCPU_ID, or KVM_CAP_MAX_VCPUS where it is not reported. */
static int max_vcpu_id(void)
{
	int r = kvm_check_cap(KVM_CAP_MAX_VCPU_ID);

	return r > 0 ? r : kvm_check_cap(KVM_CAP_MAX_VCPUS);
}

static void vcpu_id_limit(void)
{
	int max = max_vcpu_id();
	struct vm *vm = vm_create_bare();
	int fd;

	test_diag("max vCPU id (exclusive) %d", max);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, max), EINVAL);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, -1), EINVAL);
	fd = ioctl(vm->fd, KVM_CREATE_VCPU, max - 1);
	TEST_ASSERT_OK(fd);
}

static void vcpu_duplicate_id(void)
{
	struct vm *vm = vm_create_bare();

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_VCPU, 3));
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, 3), EEXIST);
	/* The failed attempt did not use up the id space. */
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_VCPU, 0));
}

/*
 * One vCPU more than KVM_CAP_MAX_VCPUS is EINVAL, whatever its id. A vCPU
 * whose fd was closed still counts: it lives as long as its VM.
 */
static void vcpu_count_limit(void)
{
	int max = kvm_check_cap(KVM_CAP_MAX_VCPUS), max_id = max_vcpu_id();
	struct vm *vm;

	if (max > 1024)
		test_skip("KVM_CAP_MAX_VCPUS is %d: too many vCPUs to create here", max);
	vm = vm_create_bare();
	for (int i = 0; i < max; i++) {
		int fd = ioctl(vm->fd, KVM_CREATE_VCPU, i);

		TEST_ASSERT(fd >= 0, "KVM_CREATE_VCPU(%d): %s", i, strerror(errno));
		close(fd);
	}
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_CREATE_VCPU, max_id - 1 > max ? max_id - 1 : max),
			  EINVAL);
}

/*
 * KVM: an unknown ioctl on a VM fd is -ENOTTY (kvm_arch_vm_ioctl), on a
 * vCPU fd -EINVAL (kvm_arch_vcpu_ioctl; also for a non-KVMIO type).
 */
static void unknown_vm_ioctl(void)
{
	struct vm *vm = vm_create_bare();

	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_UNKNOWN_IOCTL, 0), ENOTTY);
	/* System and vCPU ioctls are unknown on a VM fd. */
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_GET_VCPU_MMAP_SIZE, 0), ENOTTY);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_RUN, 0), ENOTTY);
}

static void unknown_vcpu_ioctl(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);

	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_UNKNOWN_IOCTL, 0), EINVAL);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, _IO('T', 0x01), 0), EINVAL);
	/* VM and system ioctls are unknown on a vCPU fd. */
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_CREATE_VCPU, 1), EINVAL);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_CREATE_VM, 0), EINVAL);
}

static void vcpu_ioctl_bad_pointer(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	void *bad = (void *)8;

	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_GET_REGS, bad), EFAULT);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_REGS, bad), EFAULT);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_GET_SREGS, bad), EFAULT);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_SREGS, NULL), EFAULT);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_GET_FPU, bad), EFAULT);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_CPUID2, bad), EFAULT);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_GET_MSRS, bad), EFAULT);
	/* A header that reads fine but entries that do not. */
	struct kvm_msrs *m = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(m != MAP_FAILED, "mmap");
	munmap((char *)m + PAGE_SIZE, PAGE_SIZE);
	m = (struct kvm_msrs *)((char *)m + PAGE_SIZE - sizeof(*m));
	m->nmsrs = 1;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_GET_MSRS, m), EFAULT);
}

/* VM and vCPU ioctls from a process other than the VM's creator: -EIO. */
static void ioctl_from_other_process(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	struct kvm_regs regs;
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork");
	if (pid == 0) {
		if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) != -1 || errno != EIO)
			_exit(1);
		if (ioctl(vcpu->fd, KVM_RUN, 0) != -1 || errno != EIO)
			_exit(2);
		if (ioctl(vm->fd, KVM_CREATE_VCPU, 1) != -1 || errno != EIO)
			_exit(3);
		_exit(0);
	}
	TEST_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	TEST_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		    "child check %d failed (1: GET_REGS, 2: RUN, 3: CREATE_VCPU not EIO)",
		    WEXITSTATUS(status));
	/* The creator still can. */
	vcpu_get_regs(vcpu, &regs);
}

/* The power-on state of a new vCPU (SDM 9.1.1 / APM 14.1.3). */
static void reset_state(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rip, 0xfff0);
	TEST_ASSERT_EQ(regs.rflags, 0x2);
	TEST_ASSERT_EQ(regs.rax, 0);
	TEST_ASSERT_EQ(regs.rsp, 0);
	/* RDX: family/model/stepping; KVM uses 0x600 without a CPUID leaf 1. */
	TEST_ASSERT_EQ(regs.rdx, 0x600);

	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cs.selector, 0xf000);
	TEST_ASSERT_EQ(sregs.cs.base, 0xffff0000);
	TEST_ASSERT_EQ(sregs.cs.limit, 0xffff);
	/* Execute/read; KVM on VMX sets the accessed bit, VM entry wants it. */
	TEST_ASSERT_EQ(sregs.cs.type, host_is_intel() ? 0xb : 0xa);
	TEST_ASSERT_EQ(sregs.cs.present, 1);
	TEST_ASSERT_EQ(sregs.cs.s, 1);
	TEST_ASSERT_EQ(sregs.ds.selector, 0);
	TEST_ASSERT_EQ(sregs.ds.base, 0);
	TEST_ASSERT_EQ(sregs.ds.limit, 0xffff);
	TEST_ASSERT_EQ(sregs.ds.type, 0x3);
	TEST_ASSERT_EQ(sregs.ss.limit, 0xffff);
	TEST_ASSERT_EQ(sregs.tr.limit, 0xffff);
	/* A busy TSS: 32-bit on VMX (entry requires it), 16-bit on SVM. */
	TEST_ASSERT_EQ(sregs.tr.type, host_is_intel() ? 0xb : 0x3);
	TEST_ASSERT_EQ(sregs.ldt.limit, 0xffff);
	TEST_ASSERT_EQ(sregs.ldt.type, 0x2);
	TEST_ASSERT_EQ(sregs.gdt.base, 0);
	TEST_ASSERT_EQ(sregs.gdt.limit, 0xffff);
	TEST_ASSERT_EQ(sregs.idt.base, 0);
	TEST_ASSERT_EQ(sregs.idt.limit, 0xffff);
	TEST_ASSERT_EQ(sregs.cr0, 0x60000010);
	TEST_ASSERT_EQ(sregs.cr2, 0);
	TEST_ASSERT_EQ(sregs.cr3, 0);
	TEST_ASSERT_EQ(sregs.cr4, 0);
	TEST_ASSERT_EQ(sregs.efer, 0);
	/* xAPIC enabled at 0xfee00000, vCPU 0 is the BSP. */
	TEST_ASSERT_EQ(sregs.apic_base, 0xfee00900);
}

/* Only the first vCPU is the bootstrap processor. */
static void apic_base_bsp_bit(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *v0 = vm_vcpu_add_raw(vm, 0);
	struct vcpu *v1 = vm_vcpu_add_raw(vm, 1);
	struct kvm_sregs sregs;

	vcpu_get_sregs(v0, &sregs);
	TEST_ASSERT_EQ(sregs.apic_base, 0xfee00900);
	vcpu_get_sregs(v1, &sregs);
	TEST_ASSERT_EQ(sregs.apic_base, 0xfee00800);
}

static void guest_nop(void)
{
}

/* A vCPU keeps its VM alive: closing the VM and device fds first is fine. */
static void vcpu_outlives_vm_fd(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_nop);
	close(vm->fd);
	close(vm->dev_fd);
	vcpu_run_expect_done(vcpu);
}

/* The kvm_run mapping keeps working after the vCPU fd is closed. */
static void run_mapping_outlives_fd(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);

	vcpu->run->immediate_exit = 1;
	TEST_ASSERT_EQ(vcpu->run->immediate_exit, 1);
	close(vcpu->fd);
	close(vm->fd);
	vcpu->run->immediate_exit = 0;
	TEST_ASSERT_EQ(vcpu->run->immediate_exit, 0);
	TEST_ASSERT_OK(munmap(vcpu->run, vm->run_size));
}

/* mmap of the vCPU fd: at most KVM_GET_VCPU_MMAP_SIZE, from offset 0. */
static void run_mapping_bounds(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	void *p;

	/* The PIO page on its own, at KVM_PIO_PAGE_OFFSET. */
	p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd,
		 KVM_PIO_PAGE_OFFSET * PAGE_SIZE);
	TEST_ASSERT(p != MAP_FAILED, "mmap of the PIO page: %s", strerror(errno));
	munmap(p, PAGE_SIZE);
	/* Past the end: the mapping works but touching it faults (SIGBUS). */
	p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd,
		 vm->run_size);
	if (p != MAP_FAILED) {
		pid_t pid;
		int status;

		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			(void)*(volatile char *)p;
			_exit(0);
		}
		waitpid(pid, &status, 0);
		TEST_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
			    "touching the page past KVM_GET_VCPU_MMAP_SIZE: status %#x", status);
	}
}

/*
 * KVM_GET_TSC_KHZ is the rate the guest's TSC ticks at: without TSC
 * scaling, the host's. The host measures it against CLOCK_MONOTONIC_RAW
 * over 200 ms and must find the same within 2%.
 */
static void tsc_khz_is_the_tsc_rate(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	struct timespec a, b;
	uint64_t t0, t1, ns;
	long khz, measured;

	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_GET_TSC_KHZ), 1);
	khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ);
	TEST_ASSERT(khz > 0, "KVM_GET_TSC_KHZ: %ld", khz);
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	t0 = rdtsc();
	usleep(200 * 1000);
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	t1 = rdtsc();
	ns = (b.tv_sec - a.tv_sec) * 1000000000ULL + b.tv_nsec - a.tv_nsec;
	measured = (long)((t1 - t0) * 1000000ULL / ns);
	test_diag("KVM_GET_TSC_KHZ %ld, measured %ld kHz", khz, measured);
	TEST_ASSERT(labs(measured - khz) * 50 <= khz, "measured %ld kHz, reported %ld",
		    measured, khz);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE(vcpu_id_limit, "vCPU id >= the max vCPU id is EINVAL"),
	TEST_CASE(vcpu_duplicate_id, "a duplicate vCPU id is EEXIST"),
	TEST_CASE(vcpu_count_limit, "more than KVM_CAP_MAX_VCPUS vCPUs is EINVAL"),
	TEST_CASE(unknown_vm_ioctl, "unknown ioctl on a VM fd is ENOTTY"),
	TEST_CASE(unknown_vcpu_ioctl, "unknown ioctl on a vCPU fd is EINVAL"),
	TEST_CASE(vcpu_ioctl_bad_pointer, "vCPU ioctls with bad pointers are EFAULT"),
	TEST_CASE(ioctl_from_other_process, "VM/vCPU ioctls from another process are EIO"),
	TEST_CASE(reset_state, "a new vCPU has the power-on register state"),
	TEST_CASE(apic_base_bsp_bit, "only vCPU 0 has the BSP bit in APIC_BASE"),
	TEST_CASE(vcpu_outlives_vm_fd, "a vCPU runs after its VM and device fds are closed"),
	TEST_CASE(run_mapping_outlives_fd, "the kvm_run mapping outlives the vCPU fd"),
	TEST_CASE(run_mapping_bounds, "kvm_run mmap: PIO page at offset 1, nothing past the size"),
	TEST_CASE(tsc_khz_is_the_tsc_rate, "KVM_GET_TSC_KHZ is the rate the TSC ticks at"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
