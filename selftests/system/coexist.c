// SPDX-License-Identifier: GPL-2.0
/*
 * hvx and KVM share the CPU's virtualization extensions (EFER.SVME and
 * VM_HSAVE_PA): each turns them on while it has a VM. While a VM of one
 * exists, the other's KVM_CREATE_VM fails with EBUSY (KVM 6.1: kvm_amd's
 * hardware enable finds SVME already set and returns -EBUSY); once that
 * VM is gone it succeeds.
 *
 * Runs without argument in the rig's system phase (hvx and KVM loaded).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"

static int open_dev(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT)
		test_skip("%s does not exist", path);
	TEST_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

static void hvx_busy_while_kvm_vm(void)
{
	int kvm = open_dev("/dev/kvm"), hvx = open_dev("/dev/hvx");
	int kvm_vm, hvx_vm;

	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(kvm_vm);
	TEST_ASSERT_ERRNO(ioctl(hvx, KVM_CREATE_VM, 0), EBUSY);
	close(kvm_vm);
	hvx_vm = ioctl(hvx, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(hvx_vm);
	close(hvx_vm);
}

static void kvm_busy_while_hvx_vm(void)
{
	int kvm = open_dev("/dev/kvm"), hvx = open_dev("/dev/hvx");
	int kvm_vm, hvx_vm;

	hvx_vm = ioctl(hvx, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(hvx_vm);
	TEST_ASSERT_ERRNO(ioctl(kvm, KVM_CREATE_VM, 0), EBUSY);
	close(hvx_vm);
	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(kvm_vm);
	close(kvm_vm);
}

/* A VM is held by its vCPUs too: the other stays refused until the last goes. */
static void vcpu_keeps_it_busy(void)
{
	int kvm = open_dev("/dev/kvm"), hvx = open_dev("/dev/hvx");
	int hvx_vm, hvx_vcpu, kvm_vm;

	hvx_vm = ioctl(hvx, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(hvx_vm);
	hvx_vcpu = ioctl(hvx_vm, KVM_CREATE_VCPU, 0);
	TEST_ASSERT_OK(hvx_vcpu);
	close(hvx_vm);
	TEST_ASSERT_ERRNO(ioctl(kvm, KVM_CREATE_VM, 0), EBUSY);
	close(hvx_vcpu);
	kvm_vm = ioctl(kvm, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(kvm_vm);
	close(kvm_vm);
}

/* Back and forth, each side running a guest in between. */
static void guest_done(void)
{
}

static void run_guest_on(const char *path)
{
	struct vm *vm;
	struct vcpu *vcpu;

	test_dev_path = path;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	vcpu_set_entry(vcpu, guest_done);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

static void alternate(void)
{
	close(open_dev("/dev/kvm"));
	close(open_dev("/dev/hvx"));
	for (int i = 0; i < 5; i++) {
		run_guest_on("/dev/kvm");
		run_guest_on("/dev/hvx");
	}
}

static const struct test_case cases[] = {
	TEST_CASE(hvx_busy_while_kvm_vm, "hvx KVM_CREATE_VM is EBUSY while a KVM VM exists"),
	TEST_CASE(kvm_busy_while_hvx_vm, "KVM's KVM_CREATE_VM is EBUSY while an hvx VM exists"),
	TEST_CASE(vcpu_keeps_it_busy, "an hvx vCPU fd alone keeps KVM out"),
	TEST_CASE(alternate, "KVM and hvx run guests alternately, 5 rounds"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
