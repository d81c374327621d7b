// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory backed by host huge pages is mapped with 2 MiB second-level
 * pages, and only where the host maps 2 MiB itself: a 2 MiB-aligned slot
 * over a transparent huge page or a hugetlb page gets one leaf per 2 MiB,
 * a slot whose guest and host addresses disagree within 2 MiB gets 4 KiB
 * leaves, and when the host splits or drops a huge page the guest's 2 MiB
 * leaf goes with it. The leaf counts come from the VM's debugfs statistics
 * (pages_4k, pages_2m), which KVM and hvx lay out alike.
 *
 * Counts are compared before and after the guest walks the slot, so the
 * library's own memory (slot 0, mapped however the host backs it) drops
 * out: the same walk runs once over a page of another slot before the
 * first sample, to fault in the guest's code, stack and page tables.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

#define SZ_2M		0x200000UL
#define SLOT		1
#define SLOT_GPA	0x40000000UL	/* 2 MiB-aligned, above slot 0 */
#define SLOT_SIZE	(2 * SZ_2M)
#define SLOT_PAGES	(SLOT_SIZE / PAGE_SIZE)
#define MAGIC		0x4855474550414745ULL
/*
 * One page (slot 2) for the warm-up walk, in the same 1 GiB as slot 1 so
 * that the guest's own page walk uses the same page-table pages.
 */
#define WARMUP_SLOT	2
#define WARMUP_GPA	(SLOT_GPA + 0x10000000UL)

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << 26)	/* MAP_HUGE_SHIFT */
#endif

/* The value the host writes at the start of page @i. */
static uint64_t page_tag(uint64_t i)
{
	return MAGIC + i;
}

/* What the next walk covers; the host sets it between walks. */
static struct {
	uint64_t gpa;		/* SLOT_GPA, or WARMUP_GPA */
	uint64_t npages;
	uint64_t zero_page;	/* the page the host dropped, or -1 */
} walk_args;

/*
 * Check the tag of each page of the slot (zero for the one the host
 * dropped) and leave its complement behind it for the host to check.
 */
static void guest_walk(void)
{
	for (;;) {
		uint64_t npages = walk_args.npages;

		for (uint64_t i = 0; i < npages; i++) {
			volatile uint64_t *p = (volatile uint64_t *)(walk_args.gpa + i * PAGE_SIZE);

			GUEST_ASSERT_EQ(p[0], i == walk_args.zero_page ? 0 : page_tag(i));
			p[1] = ~page_tag(i);
		}
		GUEST_SYNC(npages);
	}
}

static void tag_pages(void *host, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++)
		*(uint64_t *)((char *)host + i * PAGE_SIZE) = page_tag(i);
}

struct stats {
	uint64_t pages_4k, pages_2m;
};

static struct stats stats_read(struct vm *vm)
{
	return (struct stats){ vm_get_stat(vm, "pages_4k"),
			       vm_get_stat(vm, "pages_2m") };
}

/* Run one walk over @npages of the slot and return the leaves it added. */
static struct stats walk(struct vcpu *vcpu, uint64_t npages, uint64_t zero_page)
{
	struct stats before = stats_read(vcpu->vm), after;

	walk_args.gpa = SLOT_GPA;
	walk_args.npages = npages;
	walk_args.zero_page = zero_page;
	sync_global_to_guest(vcpu->vm, walk_args);
	vcpu_run_expect_sync(vcpu, npages);
	after = stats_read(vcpu->vm);
	return (struct stats){ after.pages_4k - before.pages_4k,
			       after.pages_2m - before.pages_2m };
}

/*
 * A VM with @host as slot 1, whose vCPU has walked the warm-up page
 * already: the walks that follow find everything but slot 1 mapped.
 */
static struct vcpu *walker_vm(void *host, uint32_t flags, uint64_t size)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, SLOT, flags, SLOT_GPA,
						   size, host));
	tag_pages(vm_add_memslot(vm, WARMUP_SLOT, 0, WARMUP_GPA, PAGE_SIZE), 1);
	walk_args.gpa = WARMUP_GPA;
	walk_args.npages = 1;
	walk_args.zero_page = -1;
	sync_global_to_guest(vm, walk_args);
	vcpu_set_entry(vcpu, guest_walk);
	vcpu_run_expect_sync(vcpu, 1);
	return vcpu;
}

static void check_marks(void *host, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++)
		TEST_ASSERT_EQ(((uint64_t *)((char *)host + i * PAGE_SIZE))[1],
			       ~page_tag(i));
}

/* @size bytes of anonymous memory at a 2 MiB-aligned address. */
static void *mmap_aligned(uint64_t size)
{
	char *p = mmap(NULL, size + SZ_2M, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *start;

	TEST_ASSERT(p != MAP_FAILED, "mmap: %s", strerror(errno));
	start = (char *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
	if (start > p)
		munmap(p, start - p);
	munmap(start + size, p + SZ_2M - start);
	return start;
}

/*
 * Kilobytes of AnonHugePages in the mapping holding @addr (madvise() gave
 * it VM_HUGEPAGE, so it does not merge with its neighbours).
 */
static long smaps_anon_huge_kb(void *addr)
{
	unsigned long a = (unsigned long)addr, start, end;
	char line[256];
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	TEST_ASSERT(f, "/proc/self/smaps: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		/* "start-end perms ..." opens a mapping, "Name: value" lines follow. */
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2)
			in = start <= a && a < end;
		else if (in && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/*
 * @size bytes of 2 MiB-aligned anonymous memory backed by transparent huge
 * pages and tagged, or a skip if the host has none to give.
 */
static void *thp_memory(uint64_t size)
{
	char mode[128] = "";
	void *host;
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);

	if (fd < 0)
		test_skip("no transparent huge pages in this kernel");
	TEST_ASSERT(read(fd, mode, sizeof(mode) - 1) > 0, "read THP mode");
	close(fd);
	if (strstr(mode, "[never]"))
		test_skip("transparent huge pages are disabled (%s)", "never");

	host = mmap_aligned(size);
	TEST_ASSERT_OK(madvise(host, size, MADV_HUGEPAGE));
	tag_pages(host, size / PAGE_SIZE);
	if (smaps_anon_huge_kb(host) != (long)(size >> 10))
		test_skip("the host backed only %ld of %lu KiB with huge pages",
			  smaps_anon_huge_kb(host), (unsigned long)(size >> 10));
	return host;
}

/* Each 2 MiB of a THP-backed slot is one 2 MiB leaf. */
static void thp_slot_maps_2m(void)
{
	void *host = thp_memory(SLOT_SIZE);
	struct vcpu *vcpu = walker_vm(host, 0, SLOT_SIZE);
	struct stats added = walk(vcpu, SLOT_PAGES, -1);

	TEST_ASSERT_EQ(added.pages_2m, 2);
	TEST_ASSERT_EQ(added.pages_4k, 0);
	check_marks(host, SLOT_PAGES);
	vm_free(vcpu->vm);
	munmap(host, SLOT_SIZE);
}

/*
 * MADV_DONTNEED of one 4 KiB page splits the host's huge page: the guest's
 * 2 MiB leaf goes at once, the guest sees the hole as a fresh zero page
 * and the rest of the 2 MiB unchanged, now through 4 KiB leaves.
 */
static void thp_split_drops_2m_leaf(void)
{
	void *host = thp_memory(SLOT_SIZE);
	struct vcpu *vcpu = walker_vm(host, 0, SLOT_SIZE);
	struct stats before, added;
	uint64_t hole = 7;

	TEST_ASSERT_EQ(walk(vcpu, SLOT_PAGES, -1).pages_2m, 2);
	before = stats_read(vcpu->vm);
	TEST_ASSERT_OK(madvise((char *)host + hole * PAGE_SIZE, PAGE_SIZE,
			       MADV_DONTNEED));
	TEST_ASSERT_EQ(stats_read(vcpu->vm).pages_2m, before.pages_2m - 1);

	added = walk(vcpu, SLOT_PAGES, hole);
	TEST_ASSERT_EQ(added.pages_2m, 0);
	TEST_ASSERT_EQ(added.pages_4k, SZ_2M / PAGE_SIZE);
	check_marks(host, SLOT_PAGES);
	vm_free(vcpu->vm);
	munmap(host, SLOT_SIZE);
}

/* Dropping all of the slot's memory drops its 2 MiB leaves. */
static void thp_dontneed_drops_all(void)
{
	void *host = thp_memory(SLOT_SIZE);
	struct vcpu *vcpu = walker_vm(host, 0, SLOT_SIZE);
	struct stats before;

	before = stats_read(vcpu->vm);
	TEST_ASSERT_EQ(walk(vcpu, SLOT_PAGES, -1).pages_2m, 2);
	TEST_ASSERT_OK(madvise(host, SLOT_SIZE, MADV_DONTNEED));
	TEST_ASSERT_EQ(stats_read(vcpu->vm).pages_2m, before.pages_2m);
	/* Fresh zero-filled huge pages: tag them again for the next walk. */
	tag_pages(host, SLOT_PAGES);
	TEST_ASSERT_EQ(walk(vcpu, SLOT_PAGES, -1).pages_2m, 2);
	check_marks(host, SLOT_PAGES);
	vm_free(vcpu->vm);
	munmap(host, SLOT_SIZE);
}

/*
 * Deleting the slot removes its 2 MiB leaves. KVM drops every leaf of the
 * VM when a slot goes away (kvm_mmu_zap_all_fast()), slot 0's included;
 * hvx drops the slot's own and keeps the rest, so only hvx's count comes
 * back exactly to where it was.
 */
static void slot_delete_drops_2m(void)
{
	void *host = thp_memory(SLOT_SIZE);
	struct vcpu *vcpu = walker_vm(host, 0, SLOT_SIZE);
	struct stats before = stats_read(vcpu->vm);
	uint64_t after;

	TEST_ASSERT_EQ(walk(vcpu, SLOT_PAGES, -1).pages_2m, 2);
	TEST_ASSERT_OK(__vm_set_user_memory_region(vcpu->vm, SLOT, 0, SLOT_GPA,
						   0, host));
	after = stats_read(vcpu->vm).pages_2m;
	if (dev_is_kvm())
		TEST_ASSERT(after <= before.pages_2m, "%lu 2 MiB leaves left, %lu before",
			    (unsigned long)after, (unsigned long)before.pages_2m);
	else
		TEST_ASSERT_EQ(after, before.pages_2m);
	vm_free(vcpu->vm);
	munmap(host, SLOT_SIZE);
}

/*
 * Host and guest addresses 4 KiB apart modulo 2 MiB: no 2 MiB of guest
 * memory lies in one host huge page, so every page is a 4 KiB leaf.
 */
static void misaligned_slot_maps_4k(void)
{
	char *host = thp_memory(SLOT_SIZE + SZ_2M);
	uint64_t npages = SLOT_PAGES;
	struct vcpu *vcpu;
	struct stats added;

	tag_pages(host + PAGE_SIZE, npages);
	vcpu = walker_vm(host + PAGE_SIZE, 0, SLOT_SIZE);
	added = walk(vcpu, npages, -1);
	TEST_ASSERT_EQ(added.pages_2m, 0);
	TEST_ASSERT_EQ(added.pages_4k, npages);
	check_marks(host + PAGE_SIZE, npages);
	vm_free(vcpu->vm);
	munmap(host, SLOT_SIZE + SZ_2M);
}

/*
 * A read-only slot gets read-only 2 MiB leaves: reads are served, a write
 * is an MMIO exit at the written address.
 */
static void guest_write_readonly(uint64_t gpa)
{
	GUEST_SYNC(0);
	GUEST_SYNC(*(volatile uint64_t *)gpa);
	*(volatile uint64_t *)(gpa + 8) = MAGIC;
	GUEST_DONE();
}

static void readonly_slot_maps_2m(void)
{
	void *host = thp_memory(SLOT_SIZE);
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct stats before;

	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, SLOT, KVM_MEM_READONLY,
						   SLOT_GPA, SLOT_SIZE, host));
	vcpu_set_entry(vcpu, guest_write_readonly, SLOT_GPA);
	/* The first stop faults in the guest's code and stack. */
	vcpu_run_expect_sync(vcpu, 0);
	before = stats_read(vm);
	vcpu_run_expect_sync(vcpu, page_tag(0));
	vcpu_run_expect_mmio(vcpu, SLOT_GPA + 8, 8, 1, MAGIC);
	TEST_ASSERT_EQ(stats_read(vm).pages_2m - before.pages_2m, 1);
	vm_free(vm);
	munmap(host, SLOT_SIZE);
}

/*
 * hugetlbfs pages (MAP_HUGETLB): the same 2 MiB leaves. The case reserves
 * two pages in the pool for itself and gives them back.
 */
static long nr_hugepages(long set)
{
	FILE *f = fopen("/proc/sys/vm/nr_hugepages", set < 0 ? "r" : "w");
	long n = -1;

	if (!f)
		return -1;
	if (set < 0) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
	} else {
		fprintf(f, "%ld\n", set);
	}
	fclose(f);
	return set < 0 ? n : set;
}

static void hugetlb_slot_maps_2m(void)
{
	long pool = nr_hugepages(-1);
	struct vcpu *vcpu;
	void *host;

	if (pool < 0 || nr_hugepages(pool + 2) < 0 || nr_hugepages(-1) < pool + 2) {
		if (pool >= 0)
			nr_hugepages(pool);
		test_skip("no two free 2 MiB hugetlb pages");
	}
	host = mmap(NULL, SLOT_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB, -1, 0);
	TEST_ASSERT(host != MAP_FAILED, "mmap MAP_HUGETLB: %s", strerror(errno));
	tag_pages(host, SLOT_PAGES);

	vcpu = walker_vm(host, 0, SLOT_SIZE);
	TEST_ASSERT_EQ(walk(vcpu, SLOT_PAGES, -1).pages_2m, 2);
	check_marks(host, SLOT_PAGES);
	vm_free(vcpu->vm);
	munmap(host, SLOT_SIZE);
	nr_hugepages(pool);
}

static const struct test_case cases[] = {
	TEST_CASE(thp_slot_maps_2m, "a THP-backed slot is mapped with 2 MiB pages"),
	TEST_CASE(thp_split_drops_2m_leaf, "a host split of the huge page drops the 2 MiB leaf"),
	TEST_CASE(thp_dontneed_drops_all, "MADV_DONTNEED of the slot drops its 2 MiB leaves"),
	TEST_CASE(slot_delete_drops_2m, "deleting the slot drops its 2 MiB leaves"),
	TEST_CASE(misaligned_slot_maps_4k, "guest and host 2 MiB boundaries apart: 4 KiB pages"),
	TEST_CASE(readonly_slot_maps_2m, "a read-only slot: 2 MiB read-only pages, writes exit"),
	TEST_CASE(hugetlb_slot_maps_2m, "a hugetlb-backed slot is mapped with 2 MiB pages"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
