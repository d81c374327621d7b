// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_SET_USER_MEMORY_REGION: argument checks with KVM's exact errnos,
 * and what the guest sees after slots are added, moved and deleted.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

#define SLOT_GPA	0x10000000UL	/* identity-mapped, free in vm_create() */
#define SLOT_SIZE	0x200000UL

static void *anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	TEST_ASSERT(p != MAP_FAILED, "mmap: %s", strerror(errno));
	return p;
}

/* KVM 6.1 accepts KVM_MEM_LOG_DIRTY_PAGES | KVM_MEM_READONLY on x86. */
static void unknown_flags(void)
{
	struct vm *vm = vm_create_bare();
	void *mem = anon(PAGE_SIZE);

	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 1U << 2, 0, PAGE_SIZE, mem), EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 1U << 31, 0, PAGE_SIZE, mem), EINVAL);
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 0, 0, 0, PAGE_SIZE, mem));
}

static void unaligned(void)
{
	struct vm *vm = vm_create_bare();
	char *mem = anon(2 * PAGE_SIZE);

	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, 0x800, PAGE_SIZE, mem), EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, 0, PAGE_SIZE + 1, mem), EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, 0, 0x800, mem), EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, 0, PAGE_SIZE, mem + 8), EINVAL);
}

/* userspace_addr must be a user address (access_ok), gpa + size must not wrap. */
static void bad_ranges(void)
{
	struct vm *vm = vm_create_bare();

	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, 0, PAGE_SIZE,
						      (void *)0xffff888000000000UL), EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, -PAGE_SIZE, 2 * PAGE_SIZE,
						      anon(2 * PAGE_SIZE)), EINVAL);
}

/* Slot ids 0 .. KVM_CAP_NR_MEMSLOTS - 1 are valid. */
static void slot_id_limit(void)
{
	int nr = kvm_check_cap(KVM_CAP_NR_MEMSLOTS);
	struct vm *vm = vm_create_bare();
	void *mem = anon(2 * PAGE_SIZE);

	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, nr, 0, 0, PAGE_SIZE, mem), EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0xffff, 0, 0, PAGE_SIZE, mem), EINVAL);
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, nr - 1, 0, 0, PAGE_SIZE, mem));
}

/*
 * The slot's upper 16 bits are the address space. KVM x86 has two (the
 * second is SMM) and reports KVM_CAP_MULTI_ADDRESS_SPACE = 2; hvx has one
 * and does not report the capability, so it refuses as_id 1. Intended
 * difference; as_id >= the count is EINVAL on both.
 */
static void address_space_id(void)
{
	int nr_as = kvm_check_cap(KVM_CAP_MULTI_ADDRESS_SPACE);
	struct vm *vm = vm_create_bare();
	void *mem = anon(PAGE_SIZE);

	test_diag("KVM_CAP_MULTI_ADDRESS_SPACE = %d", nr_as);
	if (nr_as < 1)
		nr_as = 1;
	if (nr_as > 1)
		TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 1 << 16, 0, 0, PAGE_SIZE, mem));
	else
		TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 1 << 16, 0, 0, PAGE_SIZE, mem),
				  EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, (uint32_t)nr_as << 16, 0, 0,
						      PAGE_SIZE, mem), EINVAL);
	if (!dev_is_kvm())
		TEST_ASSERT_EQ(nr_as, 1);
}

static void overlap(void)
{
	struct vm *vm = vm_create_bare();
	char *mem = anon(8 * PAGE_SIZE);

	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 0, 0, 0x10000, 4 * PAGE_SIZE, mem));
	/* Same range, a range inside, one straddling each end. */
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 1, 0, 0x10000, 4 * PAGE_SIZE,
						      mem + 4 * PAGE_SIZE), EEXIST);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 1, 0, 0x11000, PAGE_SIZE,
						      mem + 4 * PAGE_SIZE), EEXIST);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 1, 0, 0xf000, 2 * PAGE_SIZE,
						      mem + 4 * PAGE_SIZE), EEXIST);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 1, 0, 0x13000, 2 * PAGE_SIZE,
						      mem + 4 * PAGE_SIZE), EEXIST);
	/* Adjacent on both sides is fine. */
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 1, 0, 0x14000, PAGE_SIZE,
						   mem + 4 * PAGE_SIZE));
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 2, 0, 0xf000, PAGE_SIZE,
						   mem + 5 * PAGE_SIZE));
	/* Moving a slot onto another one overlaps too. */
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 1, 0, 0x13000, PAGE_SIZE,
						      mem + 4 * PAGE_SIZE), EEXIST);
}

/*
 * An existing slot keeps its size, host address and READONLY flag: changing
 * any is EINVAL. Re-setting identical values is a no-op that succeeds.
 */
static void modify_existing(void)
{
	struct vm *vm = vm_create_bare();
	char *mem = anon(8 * PAGE_SIZE);

	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 0, 0, 0x10000, 4 * PAGE_SIZE, mem));
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, 0x10000, 8 * PAGE_SIZE, mem),
			  EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, 0x10000, 2 * PAGE_SIZE, mem),
			  EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, 0, 0x10000, 4 * PAGE_SIZE,
						      mem + PAGE_SIZE), EINVAL);
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 0, KVM_MEM_READONLY, 0x10000,
						      4 * PAGE_SIZE, mem), EINVAL);
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 0, 0, 0x10000, 4 * PAGE_SIZE, mem));
}

/* Size 0 deletes; deleting a slot that does not exist is EINVAL. */
static void delete_and_recreate(void)
{
	struct vm *vm = vm_create_bare();
	char *mem = anon(8 * PAGE_SIZE);

	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 3, 0, 0, 0, NULL), EINVAL);
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 3, 0, 0x10000, 4 * PAGE_SIZE, mem));
	/* The other fields of a delete are ignored. */
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 3, 0, 0x7777000, 0, NULL));
	TEST_ASSERT_ERRNO(__vm_set_user_memory_region(vm, 3, 0, 0x10000, 0, mem), EINVAL);
	/* Recreate with another size and place; the old range is free again. */
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 3, 0, 0x20000, 8 * PAGE_SIZE, mem));
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 4, 0, 0x10000, 4 * PAGE_SIZE, mem));
}

static void memslot_bad_pointer(void)
{
	struct vm *vm = vm_create_bare();

	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, NULL), EFAULT);
}

static void guest_read_twice(uint64_t gpa)
{
	GUEST_SYNC(*(volatile uint64_t *)gpa);
	GUEST_SYNC(*(volatile uint64_t *)gpa);
}

/* The guest sees a slot's content at its new place after a move. */
static void move_slot_guest_view(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint64_t *mem = vm_add_memslot(vm, 1, 0, SLOT_GPA, SLOT_SIZE);

	mem[0] = 0x1122334455667788ULL;
	vcpu_set_entry(vcpu, guest_read_twice, SLOT_GPA + 2 * SLOT_SIZE);
	vm_move_memslot(vm, 1, SLOT_GPA + 2 * SLOT_SIZE);
	vcpu_run_expect_sync(vcpu, 0x1122334455667788ULL);
	mem[0] = 0xa5a5a5a5a5a5a5a5ULL;
	vcpu_run_expect_sync(vcpu, 0xa5a5a5a5a5a5a5a5ULL);
	vcpu_run_expect_done(vcpu);
}

/* A slot moved after the guest used it: the old GPA is MMIO now. */
static void move_slot_old_gpa_is_mmio(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint64_t *mem = vm_add_memslot(vm, 1, 0, SLOT_GPA, SLOT_SIZE);

	mem[1] = 42;
	vcpu_set_entry(vcpu, guest_read_twice, SLOT_GPA + 8);
	vcpu_run_expect_sync(vcpu, 42);
	vm_move_memslot(vm, 1, SLOT_GPA + SLOT_SIZE);
	vcpu_run_expect_mmio(vcpu, SLOT_GPA + 8, 8, 0, 7);
	vcpu_run_expect_sync(vcpu, 7);
	vcpu_run_expect_done(vcpu);
}

/* A slot deleted while the vCPU is out: the guest's next access is MMIO. */
static void guest_write_read(uint64_t gpa)
{
	*(volatile uint32_t *)gpa = 0xfeedf00d;
	GUEST_SYNC(*(volatile uint32_t *)gpa);
	*(volatile uint32_t *)gpa = 0xcafe;
	GUEST_SYNC(*(volatile uint32_t *)gpa);
}

static void deleted_slot_is_mmio(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint32_t *mem = vm_add_memslot(vm, 1, 0, SLOT_GPA, SLOT_SIZE);

	vcpu_set_entry(vcpu, guest_write_read, SLOT_GPA + 0x1000);
	vcpu_run_expect_sync(vcpu, 0xfeedf00d);
	TEST_ASSERT_EQ(mem[0x1000 / 4], 0xfeedf00d);
	vm_delete_memslot(vm, 1);

	vcpu_run_expect_mmio(vcpu, SLOT_GPA + 0x1000, 4, 1, 0xcafe);
	vcpu_run_expect_mmio(vcpu, SLOT_GPA + 0x1000, 4, 0, 0x5555aaaa);
	vcpu_run_expect_sync(vcpu, 0x5555aaaa);
	vcpu_run_expect_done(vcpu);
}

/* A slot added while the vCPU is out is visible to its next access. */
static void guest_probe(uint64_t gpa)
{
	GUEST_SYNC(*(volatile uint8_t *)gpa);
	GUEST_SYNC(*(volatile uint8_t *)gpa);
}

static void added_slot_replaces_mmio(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint8_t *mem;

	vcpu_set_entry(vcpu, guest_probe, SLOT_GPA + 3);
	vcpu_run_expect_mmio(vcpu, SLOT_GPA + 3, 1, 0, 0x11);
	vcpu_run_expect_sync(vcpu, 0x11);

	mem = vm_add_memslot(vm, 1, 0, SLOT_GPA, SLOT_SIZE);
	mem[3] = 0x99;
	vcpu_run_expect_sync(vcpu, 0x99);
	vcpu_run_expect_done(vcpu);
}

static const struct test_case cases[] = {
	TEST_CASE(unknown_flags, "unknown memslot flags are EINVAL"),
	TEST_CASE(unaligned, "unaligned gpa, size or userspace_addr is EINVAL"),
	TEST_CASE(bad_ranges, "kernel userspace_addr or wrapping gpa is EINVAL"),
	TEST_CASE(slot_id_limit, "slot id >= KVM_CAP_NR_MEMSLOTS is EINVAL"),
	TEST_CASE(address_space_id, "address space id follows KVM_CAP_MULTI_ADDRESS_SPACE"),
	TEST_CASE(overlap, "overlapping slots are EEXIST, adjacent ones fine"),
	TEST_CASE(modify_existing, "resizing or remapping an existing slot is EINVAL"),
	TEST_CASE(delete_and_recreate, "size 0 deletes a slot, which can be recreated"),
	TEST_CASE(memslot_bad_pointer, "KVM_SET_USER_MEMORY_REGION with NULL is EFAULT"),
	TEST_CASE(move_slot_guest_view, "a moved slot is seen at its new GPA"),
	TEST_CASE(move_slot_old_gpa_is_mmio, "a moved slot's old GPA is MMIO"),
	TEST_CASE(deleted_slot_is_mmio, "a deleted slot's GPA is MMIO for the guest"),
	TEST_CASE(added_slot_replaces_mmio, "a slot added after an MMIO exit is RAM"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
