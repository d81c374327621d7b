// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-bench: the cost of the basic exits on /dev/kvm and /dev/hvx, measured
 * in the same boot, printed with the hvx/KVM ratio. A benchmark, not a
 * test: it has no thresholds. Absolute numbers under emulation mean
 * little; the ratios are the point.
 *
 *   hvx-bench [iterations]     (default 2000)
 *
 * Guest code is plain C, run by the selftests library (selftests/lib).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvm_util.h"

#define BENCH_PORT	0x80
#define TOUCH_GPA	0x40000000UL	/* a slot of its own, 1 GiB up */
#define TOUCH_SIZE	(32UL << 20)	/* 8192 pages */

enum { B_CPUID, B_PIO, B_MMIO, B_NPF, NR_BENCH };

static const char *const bench_name[NR_BENCH] = {
	"CPUID exit, handled in the kernel",
	"PIO exit to userspace (OUT)",
	"MMIO exit to userspace (write)",
	"RAM first touch (NPT/EPT), per page",
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void guest_cpuid(uint64_t n)
{
	uint32_t a, b, c, d;

	for (uint64_t i = 0; i < n; i++)
		cpuid(0, 0, &a, &b, &c, &d);
	GUEST_DONE();
}

static void guest_pio(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		outb(BENCH_PORT, i);
	GUEST_DONE();
}

static void guest_mmio(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		*(volatile uint32_t *)MMIO_GPA = i;
	GUEST_DONE();
}

static void guest_touch(uint64_t base, uint64_t size)
{
	for (uint64_t off = 0; off < size; off += PAGE_SIZE)
		*(volatile uint64_t *)(base + off) = off;
	GUEST_DONE();
}

/* Run until GUEST_DONE, answering @expect exits; returns ns per exit. */
static double run_exits(struct vcpu *vcpu, uint32_t expect, uint64_t n)
{
	double t0 = now_ns();
	uint64_t seen = 0;

	for (;;) {
		vcpu_run(vcpu);
		if (get_ucall(vcpu, NULL) == UCALL_DONE)
			break;
		ASSERT_EXIT_REASON(vcpu, expect);
		seen++;
	}
	TEST_ASSERT_EQ(seen, n);
	return (now_ns() - t0) / (n ? n : 1);
}

/* ns per operation of benchmark @b on the device at test_dev_path. */
static double bench_one(int b, uint64_t n)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	double t0, ns;

	switch (b) {
	case B_CPUID:
		vcpu_set_entry(vcpu, guest_cpuid, n);
		t0 = now_ns();
		vcpu_run_expect_done(vcpu);
		ns = (now_ns() - t0) / n;
		break;
	case B_PIO:
		vcpu_set_entry(vcpu, guest_pio, n);
		ns = run_exits(vcpu, KVM_EXIT_IO, n);
		break;
	case B_MMIO:
		vcpu_set_entry(vcpu, guest_mmio, n);
		ns = run_exits(vcpu, KVM_EXIT_MMIO, n);
		break;
	default:
		vm_add_memslot(vm, 1, 0, TOUCH_GPA, TOUCH_SIZE);
		vcpu_set_entry(vcpu, guest_touch, TOUCH_GPA, TOUCH_SIZE);
		t0 = now_ns();
		vcpu_run_expect_done(vcpu);
		ns = (now_ns() - t0) / (TOUCH_SIZE / PAGE_SIZE);
		break;
	}
	vm_free(vm);
	return ns;
}

/* Best of three: the least disturbed run. */
static double bench_best(const char *dev, int b, uint64_t n)
{
	double best = 0;

	test_dev_path = dev;
	for (int i = 0; i < 3; i++) {
		double ns = bench_one(b, n);

		if (!i || ns < best)
			best = ns;
	}
	return best;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000;

	printf("hvx-bench: best of 3, %llu exits each; time per operation, lower is better\n",
	       (unsigned long long)n);
	printf("%-36s %12s %12s %9s\n", "benchmark", "kvm", "hvx", "hvx/kvm");
	for (int b = 0; b < NR_BENCH; b++) {
		double kvm = bench_best("/dev/kvm", b, n);
		double hvx = bench_best("/dev/hvx", b, n);

		printf("%-36s %9.2f us %9.2f us %9.2f\n", bench_name[b],
		       kvm / 1000, hvx / 1000, hvx / kvm);
	}
	return 0;
}
