// SPDX-License-Identifier: GPL-2.0
/*
 * Cross-CPU kicks: the VMM changes what backs guest memory on one CPU
 * while the vCPU runs, or last ran, on the other. The hypervisor must
 * reach the other CPU: zap the second-level translation, send an IPI that
 * forces the vCPU out of guest mode (KVM: kvm_flush_remote_tlbs(); hvx:
 * hvx_vm_request_all()) and flush its TLB before it enters again, all
 * before the VMM's call returns. A missed zap or flush shows old memory;
 * a missed IPI lets the guest go on with the old translation until it
 * exits for some other reason.
 *
 * The vCPU thread is pinned to CPU 1, the VMM's thread to CPU 0. Needs two
 * online CPUs (the rig's SMP boot); every case skips otherwise.
 *
 * What the rig can tell: QEMU's TCG flushes its whole TLB at every VMRUN,
 * so a missing flush request goes unseen. When the host mm changes
 * (madvise, mmap), the kernel's own TLB shootdown IPIs CPU 1, where the
 * VMM's mm is live, and that interrupts the guest too; only a memslot
 * deletion (memslot_delete_under_guest) depends on the hypervisor's IPI
 * alone.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "smp_util.h"

#define VMM_CPU		0
#define VCPU_CPU	1

#define DATA_GPA	0x10000000UL	/* slot 1 */
#define WATCH_GPA	DATA_GPA		/* the page the guest spins on */
#define STATUS_GPA	(DATA_GPA + PAGE_SIZE)	/* where it says so */
#define DATA_SIZE	(2 * PAGE_SIZE)

#define ROUNDS		5
#define OLD_VALUE(r)	(0x1111111111111100ULL + (r))

/* One KVM_RUN of @vcpu in a thread pinned to VCPU_CPU, ending in GUEST_SYNC. */
struct vcpu_thread {
	pthread_t t;
	struct vcpu *vcpu;
	uint64_t sync;		/* the GUEST_SYNC argument */
};

static void *vcpu_fn(void *arg)
{
	struct vcpu_thread *vt = arg;
	struct ucall uc;

	pin_self(VCPU_CPU);
	TEST_ASSERT_EQ(vcpu_run_ucall(vt->vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT_EQ(sched_getcpu(), VCPU_CPU);
	vt->sync = uc.args[0];
	return NULL;
}

static void vcpu_start(struct vcpu_thread *vt, struct vcpu *vcpu)
{
	vt->vcpu = vcpu;
	TEST_ASSERT_EQ(pthread_create(&vt->t, NULL, vcpu_fn, vt), 0);
}

/* Wait for the run to end; returns its GUEST_SYNC argument. */
static uint64_t vcpu_join(struct vcpu_thread *vt)
{
	TEST_ASSERT_EQ(pthread_join(vt->t, NULL), 0);
	return vt->sync;
}

/*
 * Each round: check the value the host put in the watched page, say so
 * in the status page, spin until the watched page changes, report it.
 */
static void guest_spin(volatile uint64_t *watch, volatile uint64_t *status)
{
	for (uint64_t r = 1; r <= ROUNDS; r++) {
		uint64_t first = *watch;

		GUEST_ASSERT_EQ(first, OLD_VALUE(r));
		*status = r;
		while (*watch == first)
			;
		GUEST_SYNC(*watch);
	}
}

/*
 * MADV_DONTNEED on CPU 0 of the page the guest spins on, on CPU 1, five
 * times: each time the guest reads the fresh zero page while its
 * KVM_RUN is still going on.
 */
static void madvise_from_other_cpu(void)
{
	struct vm *vm;
	struct vcpu *vcpu;
	struct vcpu_thread vt;
	uint64_t *host;

	require_two_cpus();
	pin_self(VMM_CPU);
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	host = vm_add_memslot(vm, 1, 0, DATA_GPA, DATA_SIZE);
	vcpu_set_entry(vcpu, guest_spin, WATCH_GPA, STATUS_GPA);

	for (uint64_t r = 1; r <= ROUNDS; r++) {
		volatile uint64_t *status = addr_gpa2hva(vm, STATUS_GPA);

		host[0] = OLD_VALUE(r);
		vcpu_start(&vt, vcpu);
		wait_for_value(status, r, "guest status");
		/* Let it spin a while: it is in guest mode on CPU 1 now. */
		usleep(20 * 1000);
		TEST_ASSERT_EQ(sched_getcpu(), VMM_CPU);
		TEST_ASSERT_OK(madvise(host, PAGE_SIZE, MADV_DONTNEED));
		TEST_ASSERT_EQ(vcpu_join(&vt), 0);
		TEST_ASSERT_EQ(host[0], 0);
		TEST_ASSERT_EQ(*status, r);
	}
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

#define STOP(r)		(0x570f000000000000ULL + (r))

/* Each round: count into word 0 until word 1 says STOP(r), report the count. */
static void guest_count_until_stop(volatile uint64_t *page)
{
	for (uint64_t r = 1; r <= ROUNDS; r++) {
		uint64_t n = 0;

		while (page[1] != STOP(r))
			page[0] = ++n;
		GUEST_SYNC(n);
	}
}

/* A memfd page, and a second view of it that the guest does not use. */
static int memfd_page(uint64_t **view, uint64_t stop)
{
	int fd = memfd_create("kick", MFD_CLOEXEC);

	TEST_ASSERT(fd >= 0, "memfd_create: %s", strerror(errno));
	TEST_ASSERT_OK(ftruncate(fd, PAGE_SIZE));
	*view = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	TEST_ASSERT(*view != MAP_FAILED, "mmap memfd: %s", strerror(errno));
	(*view)[1] = stop;
	return fd;
}

/*
 * The slot's memory replaced under the guest: the VMM on CPU 0 maps a new
 * memfd page over the slot's address (MAP_FIXED) while the guest counts
 * into the old page on CPU 1, five times. Once mmap() has returned, the
 * guest must never write the old page again (the invalidation reached
 * CPU 1 and made the vCPU leave guest mode before it returned); its next
 * write lands in the new page, which tells it to stop. The old page stays
 * visible through a second mapping, so a late write shows.
 */
static void remap_from_other_cpu(void)
{
	uint64_t *slot, *old_view, *new_view, before, after, n;
	struct vcpu_thread vt;
	struct vcpu *vcpu;
	struct vm *vm;
	int old_fd, new_fd;

	require_two_cpus();
	pin_self(VMM_CPU);
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	old_fd = memfd_page(&old_view, 0);
	slot = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, old_fd, 0);
	TEST_ASSERT(slot != MAP_FAILED, "mmap memfd: %s", strerror(errno));
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 1, 0, DATA_GPA, PAGE_SIZE, slot));
	vcpu_set_entry(vcpu, guest_count_until_stop, DATA_GPA);

	for (uint64_t r = 1; r <= ROUNDS; r++) {
		new_fd = memfd_page(&new_view, STOP(r));
		old_view[0] = 0;
		vcpu_start(&vt, vcpu);
		wait_for_change(&old_view[0], 0, "guest counter");
		TEST_ASSERT(mmap(slot, PAGE_SIZE, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_FIXED, new_fd, 0) == slot,
			    "mmap MAP_FIXED over the slot: %s", strerror(errno));
		before = old_view[0];
		n = vcpu_join(&vt);
		after = old_view[0];
		TEST_ASSERT(after == before,
			    "the guest wrote the old page after mmap() returned: %lu, then %lu",
			    (unsigned long)before, (unsigned long)after);
		/* The last write went to the new page, or the one before it. */
		if (new_view[0] == n)
			TEST_ASSERT_EQ(after, n - 1);
		else
			TEST_ASSERT_EQ(after, n);
		TEST_ASSERT(new_view[0] == n || new_view[0] == 0,
			    "new page holds %lu, guest count %lu",
			    (unsigned long)new_view[0], (unsigned long)n);
		munmap(old_view, PAGE_SIZE);
		close(old_fd);
		old_view = new_view;
		old_fd = new_fd;
	}
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

static void guest_read(volatile uint64_t *p)
{
	for (uint64_t r = 1; r <= ROUNDS; r++)
		GUEST_SYNC(*p);
}

#define SLOT_VALUE(r)	(0x5100000000000000ULL + (r))
#define STALE_VALUE	0xdeaddeaddeaddeadULL

/*
 * Slot 1 deleted and added again, backed by new memory, by the VMM on
 * CPU 0 while the vCPU, which read the old memory on CPU 1, is out of
 * KVM_RUN; five times. The old memory stays mapped in the VMM and is
 * scribbled over, so a translation left over from before shows.
 */
static void memslot_readd_from_other_cpu(void)
{
	uint64_t *mem[ROUNDS + 1];
	struct vcpu_thread vt;
	struct vcpu *vcpu;
	struct vm *vm;

	require_two_cpus();
	pin_self(VMM_CPU);
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	vcpu_set_entry(vcpu, guest_read, DATA_GPA);

	for (int r = 1; r <= ROUNDS; r++) {
		mem[r] = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		TEST_ASSERT(mem[r] != MAP_FAILED, "mmap: %s", strerror(errno));
		mem[r][0] = SLOT_VALUE(r);
		TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 1, 0, DATA_GPA,
							   PAGE_SIZE, mem[r]));
		vcpu_start(&vt, vcpu);
		TEST_ASSERT_EQ(vcpu_join(&vt), SLOT_VALUE(r));
		TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 1, 0, DATA_GPA,
							   0, mem[r]));
		mem[r][0] = STALE_VALUE;
	}
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

static void guest_count_forever(volatile uint64_t *counter)
{
	for (uint64_t n = 1;; n++)
		*counter = n;
}

static void *mmio_vcpu_fn(void *arg)
{
	struct vcpu_thread *vt = arg;

	pin_self(VCPU_CPU);
	vcpu_run(vt->vcpu);
	TEST_ASSERT_EQ(sched_getcpu(), VCPU_CPU);
	return NULL;
}

/*
 * Slot 1 deleted by the VMM on CPU 0 while the guest counts into it on
 * CPU 1, five times (re-added with new memory in between). Once the
 * ioctl has returned the guest must not reach the old memory: its next
 * store is an MMIO exit, and the memory holds exactly the store before.
 * Nothing in the host mm changes here, so only the hypervisor's own kick
 * can make the vCPU drop the old translation in time.
 */
static void memslot_delete_under_guest(void)
{
	uint64_t *mem, n, last = 0, before;
	struct vcpu_thread vt;
	struct kvm_run *run;
	struct vm *vm;

	require_two_cpus();
	pin_self(VMM_CPU);
	vm = vm_create();
	vt.vcpu = vm_vcpu_add(vm, 0);
	run = vt.vcpu->run;
	vcpu_set_entry(vt.vcpu, guest_count_forever, DATA_GPA);

	for (int r = 1; r <= ROUNDS; r++) {
		mem = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		TEST_ASSERT(mem != MAP_FAILED, "mmap: %s", strerror(errno));
		TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 1, 0, DATA_GPA,
							   PAGE_SIZE, mem));
		TEST_ASSERT_EQ(pthread_create(&vt.t, NULL, mmio_vcpu_fn, &vt), 0);
		wait_for_change(&mem[0], 0, "guest counter");
		TEST_ASSERT_OK(__vm_set_user_memory_region(vm, 1, 0, DATA_GPA,
							   0, mem));
		before = mem[0];
		TEST_ASSERT_EQ(pthread_join(vt.t, NULL), 0);

		ASSERT_EXIT_REASON(vt.vcpu, KVM_EXIT_MMIO);
		TEST_ASSERT_EQ(run->mmio.phys_addr, DATA_GPA);
		TEST_ASSERT_EQ(run->mmio.len, 8);
		TEST_ASSERT_EQ(run->mmio.is_write, 1);
		memcpy(&n, run->mmio.data, 8);
		TEST_ASSERT(mem[0] == before,
			    "the guest wrote the deleted slot's memory after the ioctl returned: %lu, then %lu",
			    (unsigned long)before, (unsigned long)mem[0]);
		TEST_ASSERT_EQ(mem[0], n - 1);
		TEST_ASSERT(n > last + 1, "count %lu after %lu",
			    (unsigned long)n, (unsigned long)last);
		last = n;
		munmap(mem, PAGE_SIZE);
	}
	vm_free(vm);
}

static void on_signal(int sig)
{
	(void)sig;
}

struct intr_runs {
	struct vcpu *vcpu;
	volatile uint64_t go;	/* the round the VMM has started */
	volatile uint64_t done;	/* the last round whose KVM_RUN came back */
};

/* On CPU 1: one KVM_RUN per round, each must end with EINTR. */
static void *intr_vcpu_fn(void *arg)
{
	struct intr_runs *ir = arg;

	pin_self(VCPU_CPU);
	for (uint64_t r = 1; r <= ROUNDS; r++) {
		wait_for_value(&ir->go, r, "VMM round");
		TEST_ASSERT_ERRNO(__vcpu_run(ir->vcpu), EINTR);
		TEST_ASSERT_EQ(ir->vcpu->run->exit_reason, KVM_EXIT_INTR);
		TEST_ASSERT_EQ(sched_getcpu(), VCPU_CPU);
		ir->done = r;
	}
	return NULL;
}

/*
 * A signal sent from CPU 0 to the vCPU thread while its guest counts on
 * CPU 1 ends KVM_RUN with EINTR and KVM_EXIT_INTR (the kernel's own kick
 * of a task in guest mode), five times; each next KVM_RUN continues the
 * count where it stopped.
 */
static void signal_from_other_cpu(void)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct intr_runs ir = { 0 };
	volatile uint64_t *counter;
	uint64_t last = 0, first;
	pthread_t t;
	struct vm *vm;

	require_two_cpus();
	TEST_ASSERT_OK(sigaction(SIGUSR1, &sa, NULL));
	pin_self(VMM_CPU);
	vm = vm_create();
	ir.vcpu = vm_vcpu_add(vm, 0);
	vm_add_memslot(vm, 1, 0, DATA_GPA, PAGE_SIZE);
	counter = addr_gpa2hva(vm, DATA_GPA);
	vcpu_set_entry(ir.vcpu, guest_count_forever, DATA_GPA);
	TEST_ASSERT_EQ(pthread_create(&t, NULL, intr_vcpu_fn, &ir), 0);

	for (uint64_t r = 1; r <= ROUNDS; r++) {
		ir.go = r;
		first = wait_for_change(counter, last, "guest counter");
		TEST_ASSERT(first > last, "guest count went back from %lu to %lu",
			    (unsigned long)last, (unsigned long)first);
		TEST_ASSERT_EQ(pthread_kill(t, SIGUSR1), 0);
		wait_for_value(&ir.done, r, "KVM_RUN ended by the signal");
		last = *counter;
	}
	TEST_ASSERT_EQ(pthread_join(t, NULL), 0);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE(madvise_from_other_cpu, "MADV_DONTNEED on CPU 0 reaches the guest spinning on CPU 1, 5 times"),
	TEST_CASE(remap_from_other_cpu, "mmap over a slot on CPU 0: once it returns, the guest on CPU 1 never writes the old page, 5 times"),
	TEST_CASE(memslot_delete_under_guest, "slot deleted on CPU 0 while the guest stores to it on CPU 1: next store is MMIO, 5 times"),
	TEST_CASE(memslot_readd_from_other_cpu, "slot deleted and re-added on CPU 0: the vCPU on CPU 1 sees the new memory, 5 times"),
	TEST_CASE(signal_from_other_cpu, "a signal from CPU 0 ends KVM_RUN on CPU 1 with EINTR, guest resumes, 5 times"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
