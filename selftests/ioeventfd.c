// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_IOEVENTFD: guest writes to a registered port or MMIO address signal
 * an eventfd and never reach userspace as an exit; DATAMATCH and the
 * length select which writes; reads and non-matching writes exit as
 * before; deassigning restores the exit; bad registrations fail with
 * KVM's errors.
 */
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"

#define PORT		0xe0
#define DOORBELL	(MMIO_GPA + 0x100)

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	TEST_ASSERT(fd >= 0, "eventfd: %s", strerror(errno));
	return fd;
}

/* Signals so far (and reset the counter); 0 if none. */
static uint64_t signals(int efd)
{
	uint64_t n = 0;

	if (read(efd, &n, sizeof(n)) != sizeof(n))
		TEST_ASSERT(errno == EAGAIN, "read eventfd: %s", strerror(errno));
	return n;
}

static int __ioeventfd(struct vm *vm, uint64_t addr, uint32_t len, int fd,
		       uint32_t flags, uint64_t datamatch)
{
	struct kvm_ioeventfd args = {
		.datamatch = datamatch, .addr = addr, .len = len, .fd = fd,
		.flags = flags,
	};

	return ioctl(vm->fd, KVM_IOEVENTFD, &args);
}

static void guest_out_three(void)
{
	outb(PORT, 1);
	outb(PORT, 2);
	outb(PORT, 3);
	GUEST_SYNC(0);
}

static void capabilities(void)
{
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_IOEVENTFD), 1);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_IOEVENTFD_NO_LENGTH), 1);
}

/* Three OUTs to a registered port: three signals, no KVM_EXIT_IO. */
static void pio_writes_signal(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	int efd = new_eventfd();

	TEST_ASSERT_OK(__ioeventfd(vm, PORT, 1, efd, KVM_IOEVENTFD_FLAG_PIO, 0));
	vcpu_set_entry(vcpu, guest_out_three);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(signals(efd), 3);
	vm_free(vm);
	close(efd);
}

static void guest_out_words(void)
{
	outw(PORT, 0x1234);
	outw(PORT, 0x5678);
	outb(PORT, 0x34);
	GUEST_SYNC(0);
}

/*
 * DATAMATCH 0x1234 on a 2-byte port: the matching OUTW signals, another
 * value and another width exit to userspace.
 */
static void pio_datamatch(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	int efd = new_eventfd();
	uint16_t *w;

	TEST_ASSERT_OK(__ioeventfd(vm, PORT, 2, efd, KVM_IOEVENTFD_FLAG_PIO |
				   KVM_IOEVENTFD_FLAG_DATAMATCH, 0x1234));
	vcpu_set_entry(vcpu, guest_out_words);
	vcpu_run(vcpu);
	w = assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, PORT, 2);
	TEST_ASSERT_EQ(*w, 0x5678);
	TEST_ASSERT_EQ(signals(efd), 1);
	vcpu_run(vcpu);
	assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, PORT, 1);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(signals(efd), 0);
	vm_free(vm);
	close(efd);
}

static void guest_mmio(volatile uint8_t *db)
{
	*(volatile uint32_t *)db = 0xcafe;
	*(volatile uint64_t *)db = 7;
	*db = 1;
	GUEST_SYNC(*(volatile uint32_t *)db);
}

/* Length 4: the 4-byte write signals, the others and the read exit. */
static void mmio_len4(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	int efd = new_eventfd();

	TEST_ASSERT_OK(__ioeventfd(vm, DOORBELL, 4, efd, 0, 0));
	vcpu_set_entry(vcpu, guest_mmio, DOORBELL);
	vcpu_run_expect_mmio(vcpu, DOORBELL, 8, 1, 7);
	TEST_ASSERT_EQ(signals(efd), 1);
	vcpu_run_expect_mmio(vcpu, DOORBELL, 1, 1, 1);
	vcpu_run_expect_mmio(vcpu, DOORBELL, 4, 0, 0x55);
	vcpu_run_expect_sync(vcpu, 0x55);
	TEST_ASSERT_EQ(signals(efd), 0);
	vm_free(vm);
	close(efd);
}

static void guest_mmio_writes(volatile uint8_t *db)
{
	*(volatile uint32_t *)db = 0xcafe;
	*(volatile uint64_t *)db = 7;
	*db = 1;
	GUEST_SYNC(0);
}

/*
 * Length 0: every write at the address signals, whatever its width. (No
 * read here: KVM on VMX takes such an address's EPT misconfiguration as a
 * write whatever the access, its "fast MMIO" path, so a read would not
 * exit there.)
 */
static void mmio_any_length(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	int efd = new_eventfd();

	TEST_ASSERT_OK(__ioeventfd(vm, DOORBELL, 0, efd, 0, 0));
	vcpu_set_entry(vcpu, guest_mmio_writes, DOORBELL);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(signals(efd), 3);
	vm_free(vm);
	close(efd);
}

/* After KVM_IOEVENTFD_FLAG_DEASSIGN the port exits to userspace again. */
static void deassign_restores_exit(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	int efd = new_eventfd();

	TEST_ASSERT_OK(__ioeventfd(vm, PORT, 1, efd, KVM_IOEVENTFD_FLAG_PIO, 0));
	TEST_ASSERT_OK(__ioeventfd(vm, PORT, 1, efd, KVM_IOEVENTFD_FLAG_PIO |
				   KVM_IOEVENTFD_FLAG_DEASSIGN, 0));
	TEST_ASSERT_ERRNO(__ioeventfd(vm, PORT, 1, efd, KVM_IOEVENTFD_FLAG_PIO |
				      KVM_IOEVENTFD_FLAG_DEASSIGN, 0), ENOENT);
	vcpu_set_entry(vcpu, guest_out_three);
	vcpu_run(vcpu);
	assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, PORT, 1);
	TEST_ASSERT_EQ(signals(efd), 0);
	vm_free(vm);
	close(efd);
}

/* KVM's errors for malformed or conflicting registrations. */
static void bad_registrations(void)
{
	struct vm *vm = vm_create_bare();
	int efd = new_eventfd();

	TEST_ASSERT_ERRNO(__ioeventfd(vm, DOORBELL, 3, efd, 0, 0), EINVAL);
	TEST_ASSERT_ERRNO(__ioeventfd(vm, DOORBELL, 0, efd,
				      KVM_IOEVENTFD_FLAG_DATAMATCH, 0), EINVAL);
	TEST_ASSERT_ERRNO(__ioeventfd(vm, ~0ULL - 1, 4, efd, 0, 0), EINVAL);
	TEST_ASSERT_ERRNO(__ioeventfd(vm, DOORBELL, 4, efd, 1u << 30, 0), EINVAL);
	TEST_ASSERT_ERRNO(__ioeventfd(vm, DOORBELL, 4, -1, 0, 0), EBADF);
	TEST_ASSERT_OK(__ioeventfd(vm, DOORBELL, 4, efd, 0, 0));
	TEST_ASSERT_ERRNO(__ioeventfd(vm, DOORBELL, 4, efd, 0, 0), EEXIST);
	/* Length 0 overlaps every length at the same address. */
	TEST_ASSERT_ERRNO(__ioeventfd(vm, DOORBELL, 0, efd, 0, 0), EEXIST);
	/* Another value under DATAMATCH at another length is distinct. */
	TEST_ASSERT_OK(__ioeventfd(vm, DOORBELL, 2, efd,
				   KVM_IOEVENTFD_FLAG_DATAMATCH, 5));
	vm_free(vm);
	close(efd);
}

static const struct test_case cases[] = {
	TEST_CASE(capabilities, "KVM_CAP_IOEVENTFD and KVM_CAP_IOEVENTFD_NO_LENGTH are 1"),
	TEST_CASE(pio_writes_signal, "OUTs to a registered port signal without exits"),
	TEST_CASE(pio_datamatch, "DATAMATCH: only the matching value and width signal"),
	TEST_CASE(mmio_len4, "MMIO length 4: the 4-byte write signals, others and reads exit"),
	TEST_CASE(mmio_any_length, "MMIO length 0: writes of any width signal"),
	TEST_CASE(deassign_restores_exit, "DEASSIGN brings the exit back; twice is ENOENT"),
	TEST_CASE(bad_registrations, "bad length, flags, fd, overflow, duplicates: KVM's errors"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
