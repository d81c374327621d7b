// SPDX-License-Identifier: GPL-2.0
/*
 * hvx holds a module reference for as long as userspace holds anything of
 * it: a /dev/hvx fd, a VM fd, a vCPU fd, or a kvm_run mapping. While it
 * does, delete_module("hvx", O_NONBLOCK) fails with EWOULDBLOCK (the
 * kernel's answer for a module in use); once all are gone it succeeds.
 * The last case unloads hvx and loads /hvx.ko again, so the rig's later
 * steps find it as before.
 *
 * Runs without argument in the rig's system phase (hvx and KVM loaded).
 */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm_util.h"

#define HVX_DEV		"/dev/hvx"
#define HVX_KO		"/hvx.ko"

static void require_hvx(void)
{
	if (access(HVX_DEV, F_OK))
		test_skip("%s does not exist (hvx not loaded)", HVX_DEV);
}

static int unload_hvx(void)
{
	return syscall(SYS_delete_module, "hvx", O_NONBLOCK);
}

static int open_hvx(void)
{
	int fd = open(HVX_DEV, O_RDWR | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open %s: %s", HVX_DEV, strerror(errno));
	return fd;
}

static void busy_while_dev_fd_open(void)
{
	int fd;

	require_hvx();
	fd = open_hvx();
	TEST_ASSERT_ERRNO(unload_hvx(), EWOULDBLOCK);
	close(fd);
}

static void busy_while_vm_fd_open(void)
{
	int fd, vm;

	require_hvx();
	fd = open_hvx();
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(vm);
	close(fd);
	TEST_ASSERT_ERRNO(unload_hvx(), EWOULDBLOCK);
	close(vm);
}

static void busy_while_vcpu_fd_open(void)
{
	int fd, vm, vcpu;

	require_hvx();
	fd = open_hvx();
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(vm);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	TEST_ASSERT_OK(vcpu);
	close(vm);
	close(fd);
	TEST_ASSERT_ERRNO(unload_hvx(), EWOULDBLOCK);
	close(vcpu);
}

static void busy_while_run_mapped(void)
{
	int fd, vm, vcpu, size;
	void *run;

	require_hvx();
	fd = open_hvx();
	size = ioctl(fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	TEST_ASSERT_OK(size);
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	TEST_ASSERT_OK(vm);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	TEST_ASSERT_OK(vcpu);
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	TEST_ASSERT(run != MAP_FAILED, "mmap: %s", strerror(errno));
	close(vcpu);
	close(vm);
	close(fd);
	TEST_ASSERT_ERRNO(unload_hvx(), EWOULDBLOCK);
	munmap(run, size);
}

/* Nothing held: unload succeeds; then load /hvx.ko again. */
static void unload_and_reload(void)
{
	int fd, r_unload, e_unload, r_load = -1, e_load = 0;

	require_hvx();
	fd = open(HVX_KO, O_RDONLY | O_CLOEXEC);
	TEST_ASSERT(fd >= 0, "open %s: %s", HVX_KO, strerror(errno));

	r_unload = unload_hvx();
	e_unload = errno;
	if (r_unload == 0) {
		r_load = syscall(SYS_finit_module, fd, "", 0);
		e_load = errno;
	}
	close(fd);
	TEST_ASSERT(r_unload == 0, "delete_module(hvx): %s", strerror(e_unload));
	TEST_ASSERT(r_load == 0, "finit_module(%s) after the unload: %s", HVX_KO,
		    strerror(e_load));

	/* The reloaded module works. */
	fd = open_hvx();
	TEST_ASSERT_EQ(ioctl(fd, KVM_GET_API_VERSION, 0), 12);
	close(fd);
}

static const struct test_case cases[] = {
	TEST_CASE(busy_while_dev_fd_open, "rmmod hvx refused while a /dev/hvx fd is open"),
	TEST_CASE(busy_while_vm_fd_open, "rmmod hvx refused while a VM fd is open"),
	TEST_CASE(busy_while_vcpu_fd_open, "rmmod hvx refused while a vCPU fd is open"),
	TEST_CASE(busy_while_run_mapped, "rmmod hvx refused while kvm_run is mapped"),
	TEST_CASE(unload_and_reload, "rmmod hvx succeeds when nothing is held; reload works"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
