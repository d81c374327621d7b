// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory follows the host's mm: when the VMM's mapping behind a
 * memslot changes (madvise, a new mapping on top, munmap), the guest sees
 * the change, even while it runs, and never keeps a stale page. This is
 * what KVM_CAP_SYNC_MMU promises (the mmu notifier).
 */
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

#define DATA_GPA	0x10000000UL	/* slot 1, well above the library's RAM */
#define DATA_SIZE	(2 * PAGE_SIZE)
#define OLD_VALUE	0x1111111111111111ULL
#define NEW_VALUE	0x2222222222222222ULL

/* Report the first value, then spin until the page changes, report it. */
static void guest_watch(volatile uint64_t *p)
{
	uint64_t first = *p;

	GUEST_SYNC(first);
	while (*p == first)
		;
	GUEST_SYNC(*p);
}

static struct vcpu *watch_vm(struct vm **vmp, uint64_t **hostp)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	*hostp = vm_add_memslot(vm, 1, 0, DATA_GPA, DATA_SIZE);
	**hostp = OLD_VALUE;
	vcpu_set_entry(vcpu, guest_watch, DATA_GPA);
	*vmp = vm;
	return vcpu;
}

static void *drop_page_later(void *host)
{
	usleep(200 * 1000);
	TEST_ASSERT_OK(madvise(host, PAGE_SIZE, MADV_DONTNEED));
	return NULL;
}

/*
 * MADV_DONTNEED while the guest spins on the page: the host frees the page
 * and the next access reads a fresh zero page. A stale translation would
 * keep the guest spinning on the freed page forever (the case times out).
 */
static void madvise_while_running(void)
{
	struct vm *vm;
	uint64_t *host;
	struct vcpu *vcpu = watch_vm(&vm, &host);
	pthread_t t;

	vcpu_run_expect_sync(vcpu, OLD_VALUE);
	TEST_ASSERT_EQ(pthread_create(&t, NULL, drop_page_later, host), 0);
	vcpu_run_expect_sync(vcpu, 0);
	pthread_join(t, NULL);
	vm_free(vm);
}

/* A new mapping placed over the slot's memory between two runs. */
static void remap_between_runs(void)
{
	struct vm *vm;
	uint64_t *host, *fresh;
	struct vcpu *vcpu = watch_vm(&vm, &host);

	vcpu_run_expect_sync(vcpu, OLD_VALUE);
	fresh = mmap(host, PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	TEST_ASSERT(fresh == host, "MAP_FIXED over the slot failed");
	*fresh = NEW_VALUE;
	vcpu_run_expect_sync(vcpu, NEW_VALUE);
	vm_free(vm);
}

/* Guest writes land in the host's page, and host writes reach the guest. */
static void guest_write_then_read(volatile uint64_t *p)
{
	p[0] = OLD_VALUE;
	GUEST_SYNC(0);
	GUEST_SYNC(p[1]);
}

static void shared_both_ways(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint64_t *host = vm_add_memslot(vm, 1, 0, DATA_GPA, DATA_SIZE);

	vcpu_set_entry(vcpu, guest_write_then_read, DATA_GPA);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(host[0], OLD_VALUE);
	host[1] = NEW_VALUE;
	vcpu_run_expect_sync(vcpu, NEW_VALUE);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

static void guest_touch(volatile uint64_t *p)
{
	GUEST_SYNC(*p);
	GUEST_SYNC(*p);
}

/*
 * The slot's memory unmapped behind the VM's back: the next guest access
 * cannot be backed, and KVM_RUN fails with EFAULT (KVM does the same).
 */
static void munmap_then_access(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint64_t *host = vm_add_memslot(vm, 1, 0, DATA_GPA, DATA_SIZE);

	*host = OLD_VALUE;
	vcpu_set_entry(vcpu, guest_touch, DATA_GPA);
	vcpu_run_expect_sync(vcpu, OLD_VALUE);
	TEST_ASSERT_OK(munmap(host, DATA_SIZE));
	TEST_ASSERT_ERRNO(__vcpu_run(vcpu), EFAULT);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE(shared_both_ways, "guest and VMM see each other's writes to a slot"),
	TEST_CASE(madvise_while_running, "MADV_DONTNEED while the guest runs: guest sees the new page"),
	TEST_CASE(remap_between_runs, "a MAP_FIXED mapping over a slot reaches the guest"),
	TEST_CASE(munmap_then_access, "slot memory unmapped: KVM_RUN fails with EFAULT"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
