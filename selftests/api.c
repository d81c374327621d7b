// SPDX-License-Identifier: GPL-2.0
/*
 * System ioctls on the device fd: API version, capabilities, vCPU mmap
 * size, supported CPUID and MSR index list, unknown ioctls.
 */
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"

/* Not a KVM ioctl in <linux/kvm.h> 6.1. */
#define KVM_UNKNOWN_IOCTL	_IO(KVMIO, 0xfe)

static void api_version(void)
{
	int fd = dev_open();

	TEST_ASSERT_EQ(ioctl(fd, KVM_GET_API_VERSION, 0), 12);
	close(fd);
}

static void core_capabilities(void)
{
	static const struct { long cap; const char *name; } caps[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_NR_VCPUS, "KVM_CAP_NR_VCPUS" },
		{ KVM_CAP_MAX_VCPUS, "KVM_CAP_MAX_VCPUS" },
		{ KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS" },
	};

	for (unsigned int i = 0; i < ARRAY_SIZE(caps); i++) {
		int r = kvm_check_cap(caps[i].cap);

		TEST_ASSERT(r > 0, "%s reports %d", caps[i].name, r);
	}
}

static void vcpu_limits_consistent(void)
{
	int nr = kvm_check_cap(KVM_CAP_NR_VCPUS);
	int max = kvm_check_cap(KVM_CAP_MAX_VCPUS);

	test_diag("NR_VCPUS %d MAX_VCPUS %d MAX_VCPU_ID %d NR_MEMSLOTS %d", nr, max,
		  kvm_check_cap(KVM_CAP_MAX_VCPU_ID), kvm_check_cap(KVM_CAP_NR_MEMSLOTS));
	TEST_ASSERT(nr <= max, "NR_VCPUS %d > MAX_VCPUS %d", nr, max);
}

static void unknown_extension_is_zero(void)
{
	TEST_ASSERT_EQ(kvm_check_cap(100000), 0);
	TEST_ASSERT_EQ(kvm_check_cap(-1), 0);
}

static void vcpu_mmap_size(void)
{
	int fd = dev_open();
	int size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	/*
	 * At least the kvm_run page and the PIO data page (KVM_PIO_PAGE_OFFSET
	 * is 1). hvx returns exactly 2 pages; KVM more (coalesced MMIO ring).
	 */
	test_diag("KVM_GET_VCPU_MMAP_SIZE = %d", size);
	TEST_ASSERT(size >= 2 * (int)PAGE_SIZE, "size %d", size);
	TEST_ASSERT_EQ(size % PAGE_SIZE, 0);
	if (!dev_is_kvm())
		TEST_ASSERT_EQ(size, 2 * PAGE_SIZE);
	close(fd);
}

static void create_vm_bad_type(void)
{
	int fd = dev_open();

	TEST_ASSERT_ERRNO(ioctl(fd, KVM_CREATE_VM, 1), EINVAL);
	TEST_ASSERT_ERRNO(ioctl(fd, KVM_CREATE_VM, 0xffffffffUL), EINVAL);
	close(fd);
}

static void supported_cpuid(void)
{
	struct kvm_cpuid2 *c = cpuid_alloc(256);
	struct kvm_cpuid_entry2 *e;
	int fd = dev_open();

	TEST_ASSERT_OK(ioctl(fd, KVM_GET_SUPPORTED_CPUID, c));
	TEST_ASSERT(c->nent > 0 && c->nent <= 256, "nent %u", c->nent);
	e = cpuid_find(c, 0, 0);
	TEST_ASSERT(e, "leaf 0 missing");
	TEST_ASSERT(e->eax >= 1, "max basic leaf %u", e->eax);
	e = cpuid_find(c, 0x80000000, 0);
	TEST_ASSERT(e && e->eax >= 0x80000001, "leaf 0x80000000 missing or too low");
	e = cpuid_find(c, 0x80000001, 0);
	TEST_ASSERT(e && (e->edx & (1U << 29)), "leaf 0x80000001 without LM");
	close(fd);
}

/*
 * KVM: nent < 1 or too small for the table is -E2BIG and nent is left as
 * it was (kvm_dev_ioctl_get_cpuid fails before the copy-out); a huge nent
 * is clamped to KVM_MAX_CPUID_ENTRIES and succeeds.
 */
static void supported_cpuid_nent(void)
{
	struct kvm_cpuid2 *c = cpuid_alloc(256);
	int fd = dev_open();
	uint32_t n;

	TEST_ASSERT_OK(ioctl(fd, KVM_GET_SUPPORTED_CPUID, c));
	n = c->nent;

	c->nent = 0;
	TEST_ASSERT_ERRNO(ioctl(fd, KVM_GET_SUPPORTED_CPUID, c), E2BIG);
	TEST_ASSERT_EQ(c->nent, 0);
	c->nent = 1;
	TEST_ASSERT_ERRNO(ioctl(fd, KVM_GET_SUPPORTED_CPUID, c), E2BIG);
	TEST_ASSERT_EQ(c->nent, 1);
	c->nent = n - 1;
	TEST_ASSERT_ERRNO(ioctl(fd, KVM_GET_SUPPORTED_CPUID, c), E2BIG);
	TEST_ASSERT_EQ(c->nent, n - 1);

	c->nent = 100000;
	TEST_ASSERT_OK(ioctl(fd, KVM_GET_SUPPORTED_CPUID, c));
	TEST_ASSERT_EQ(c->nent, n);
	close(fd);
}

static struct kvm_msr_list *msr_list_alloc(uint32_t n)
{
	struct kvm_msr_list *l = calloc(1, sizeof(*l) + n * sizeof(uint32_t));

	TEST_ASSERT(l, "calloc");
	l->nmsrs = n;
	return l;
}

/* Too small: -E2BIG with nmsrs set to the number needed. */
static void msr_index_list_e2big(void)
{
	struct kvm_msr_list *l = msr_list_alloc(0);
	int fd = dev_open();
	uint32_t n;

	TEST_ASSERT_ERRNO(ioctl(fd, KVM_GET_MSR_INDEX_LIST, l), E2BIG);
	n = l->nmsrs;
	TEST_ASSERT(n > 0, "nmsrs %u", n);
	free(l);

	l = msr_list_alloc(n - 1);
	TEST_ASSERT_ERRNO(ioctl(fd, KVM_GET_MSR_INDEX_LIST, l), E2BIG);
	TEST_ASSERT_EQ(l->nmsrs, n);
	free(l);

	l = msr_list_alloc(n + 10);
	TEST_ASSERT_OK(ioctl(fd, KVM_GET_MSR_INDEX_LIST, l));
	TEST_ASSERT_EQ(l->nmsrs, n);
	close(fd);
}

static void msr_index_list_contents(void)
{
	static const uint32_t want[] = {
		MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
		MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
		MSR_KERNEL_GS_BASE, MSR_IA32_TSC,
	};
	struct kvm_msr_list *l = msr_list_alloc(1024);
	int fd = dev_open();

	TEST_ASSERT_OK(ioctl(fd, KVM_GET_MSR_INDEX_LIST, l));
	for (unsigned int i = 0; i < ARRAY_SIZE(want); i++) {
		uint32_t j;

		for (j = 0; j < l->nmsrs && l->indices[j] != want[i]; j++)
			;
		TEST_ASSERT(j < l->nmsrs, "MSR %#x not in KVM_GET_MSR_INDEX_LIST", want[i]);
	}
	close(fd);
}

/* KVM's system fd answers an unknown ioctl with -EINVAL (kvm_arch_dev_ioctl). */
static void unknown_system_ioctl(void)
{
	int fd = dev_open();

	TEST_ASSERT_ERRNO(ioctl(fd, KVM_UNKNOWN_IOCTL, 0), EINVAL);
	/* Not even KVMIO's type. */
	TEST_ASSERT_ERRNO(ioctl(fd, _IO('T', 0x01), 0), EINVAL);
	close(fd);
}

/* A VM ioctl on the system fd is just an unknown ioctl there. */
static void vm_ioctl_on_system_fd(void)
{
	struct kvm_userspace_memory_region r = { 0 };
	int fd = dev_open();

	TEST_ASSERT_ERRNO(ioctl(fd, KVM_SET_USER_MEMORY_REGION, &r), EINVAL);
	TEST_ASSERT_ERRNO(ioctl(fd, KVM_CREATE_VCPU, 0), EINVAL);
	close(fd);
}

static void system_ioctl_bad_pointer(void)
{
	int fd = dev_open();

	TEST_ASSERT_ERRNO(ioctl(fd, KVM_GET_MSR_INDEX_LIST, NULL), EFAULT);
	TEST_ASSERT_ERRNO(ioctl(fd, KVM_GET_SUPPORTED_CPUID, (void *)8), EFAULT);
	close(fd);
}

static const struct test_case cases[] = {
	TEST_CASE(api_version, "KVM_GET_API_VERSION is 12"),
	TEST_CASE(core_capabilities, "core capabilities are reported"),
	TEST_CASE(vcpu_limits_consistent, "KVM_CAP_NR_VCPUS <= KVM_CAP_MAX_VCPUS"),
	TEST_CASE(unknown_extension_is_zero, "an unknown extension reports 0"),
	TEST_CASE(vcpu_mmap_size, "KVM_GET_VCPU_MMAP_SIZE covers kvm_run and PIO data"),
	TEST_CASE(create_vm_bad_type, "KVM_CREATE_VM with a bad type is EINVAL"),
	TEST_CASE(supported_cpuid, "KVM_GET_SUPPORTED_CPUID has leaves 0, 0x80000000, LM"),
	TEST_CASE(supported_cpuid_nent, "KVM_GET_SUPPORTED_CPUID nent: E2BIG when small, clamped when huge"),
	TEST_CASE(msr_index_list_e2big, "KVM_GET_MSR_INDEX_LIST too small is E2BIG with nmsrs updated"),
	TEST_CASE(msr_index_list_contents, "KVM_GET_MSR_INDEX_LIST lists the syscall MSRs and TSC"),
	TEST_CASE(unknown_system_ioctl, "unknown ioctl on the system fd is EINVAL"),
	TEST_CASE(vm_ioctl_on_system_fd, "VM ioctls on the system fd are EINVAL"),
	TEST_CASE(system_ioctl_bad_pointer, "system ioctl with a bad pointer is EFAULT"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
