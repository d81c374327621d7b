// SPDX-License-Identifier: GPL-2.0
/*
 * Create and destroy many VMs and vCPUs. Nothing to assert but success:
 * leaks show up in the rig's dmesg scan ("hvx: ... leaked").
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kvm_util.h"

#define NR_VMS		64
#define NR_VCPUS	4
#define ROUNDS		10

static void raise_fd_limit(void)
{
	struct rlimit rl;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* 64 VMs x 4 vCPUs (kvm_run mapped, one memslot each), 10 rounds. */
static void many_vms(void)
{
	static struct vm *vms[NR_VMS];

	raise_fd_limit();
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < NR_VMS; i++) {
			vms[i] = vm_create_bare();
			vm_add_memslot(vms[i], 0, 0, 0, 0x10000);
			for (int j = 0; j < NR_VCPUS; j++)
				vm_vcpu_add_raw(vms[i], j);
		}
		/* Free in an order other than creation. */
		for (int i = 0; i < NR_VMS; i++)
			vm_free(vms[(i * 7) % NR_VMS]);
	}
}

/* Teardown in every fd order: VM first, vCPUs first, mappings last. */
static void teardown_orders(void)
{
	for (int order = 0; order < 3; order++) {
		struct vm *vm = vm_create_bare();
		struct vcpu *v[2];

		for (int j = 0; j < 2; j++)
			v[j] = vm_vcpu_add_raw(vm, j);
		switch (order) {
		case 0:
			close(vm->fd);
			close(vm->dev_fd);
			for (int j = 0; j < 2; j++)
				close(v[j]->fd);
			break;
		case 1:
			for (int j = 0; j < 2; j++)
				close(v[j]->fd);
			close(vm->fd);
			close(vm->dev_fd);
			break;
		case 2:
			close(vm->fd);
			for (int j = 0; j < 2; j++)
				close(v[j]->fd);
			close(vm->dev_fd);
			break;
		}
		for (int j = 0; j < 2; j++)
			munmap(v[j]->run, vm->run_size);
	}
}

static void guest_done(void)
{
}

/* VMs that ran a guest, destroyed right after. */
static void run_and_destroy(void)
{
	for (int i = 0; i < 16; i++) {
		struct vm *vm = vm_create();
		struct vcpu *vcpu = vm_vcpu_add(vm, 0);

		vcpu_set_entry(vcpu, guest_done);
		vcpu_run_expect_done(vcpu);
		vm_free(vm);
	}
}

/* A guest stopped in the middle of an MMIO read, then torn down. */
static void guest_mmio_read(void)
{
	(void)*(volatile uint32_t *)MMIO_GPA;
}

static void destroy_with_pending_io(void)
{
	for (int i = 0; i < 8; i++) {
		struct vm *vm = vm_create();
		struct vcpu *vcpu = vm_vcpu_add(vm, 0);

		vcpu_set_entry(vcpu, guest_mmio_read);
		vcpu_run(vcpu);
		ASSERT_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
		vm_free(vm);
	}
}

/* Add and delete memslots over and over on one VM. */
static void memslot_churn(void)
{
	struct vm *vm = vm_create_bare();
	int nr = kvm_check_cap(KVM_CAP_NR_MEMSLOTS);

	if (nr > 16)
		nr = 16;
	for (int round = 0; round < 20; round++) {
		for (int s = 0; s < nr; s++)
			vm_add_memslot(vm, s, 0, (uint64_t)s << 24, 0x10000);
		for (int s = 0; s < nr; s++)
			vm_delete_memslot(vm, s);
	}
}

/* 4 vCPUs of one VM run at once in their own threads. */
#define THREAD_VCPUS	4
#define THREAD_ROUNDS	200

static void guest_count(uint64_t id)
{
	for (uint64_t i = 0; i < THREAD_ROUNDS; i++)
		GUEST_SYNC(id * 1000 + i);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;

	for (uint64_t i = 0; i < THREAD_ROUNDS; i++)
		vcpu_run_expect_sync(vcpu, vcpu->id * 1000 + i);
	vcpu_run_expect_done(vcpu);
	return NULL;
}

static void vcpus_in_threads(void)
{
	struct vm *vm = vm_create();
	pthread_t t[THREAD_VCPUS];

	for (int i = 0; i < THREAD_VCPUS; i++) {
		struct vcpu *vcpu = vm_vcpu_add(vm, i);

		vcpu_set_entry(vcpu, guest_count, i);
	}
	for (int i = 0; i < THREAD_VCPUS; i++)
		TEST_ASSERT_EQ(pthread_create(&t[i], NULL, vcpu_thread, vm->vcpus[i]), 0);
	for (int i = 0; i < THREAD_VCPUS; i++)
		pthread_join(t[i], NULL);
}

static const struct test_case cases[] = {
	TEST_CASE_TIMEOUT(many_vms, "64 VMs x 4 vCPUs created and destroyed, 10 rounds", 90),
	TEST_CASE(teardown_orders, "VM, vCPU fds and mappings closed in any order"),
	TEST_CASE(run_and_destroy, "16 VMs run a guest and are destroyed"),
	TEST_CASE(destroy_with_pending_io, "VMs destroyed with an MMIO read pending"),
	TEST_CASE(memslot_churn, "memslots added and deleted 20 times"),
	TEST_CASE(vcpus_in_threads, "4 vCPUs of one VM run in parallel threads"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
