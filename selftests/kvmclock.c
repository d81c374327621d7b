// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock (Documentation/virt/kvm/x86/msr.rst, cpuid.rst) and
 * KVM_GET/SET_CLOCK (api.rst): the paravirtual leaves, the time page a
 * guest reads with RDTSC alone, its agreement with KVM_GET_CLOCK and
 * with the host's time, the wall clock, and one TSC for all vCPUs.
 */
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define KVM_CPUID_SIGNATURE	0x40000000
#define KVM_CPUID_FEATURES	0x40000001
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01

#define NSEC_PER_SEC		1000000000ULL
#define NSEC_PER_MSEC		1000000ULL

/* struct pvclock_vcpu_time_info and pvclock_wall_clock (asm/pvclock-abi.h). */
struct pvclock {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;
	uint64_t system_time;
	uint32_t mul;
	int8_t shift;
	uint8_t flags;
	uint8_t pad[2];
} __attribute__((packed));

struct wall_clock {
	uint32_t version;
	uint32_t sec;
	uint32_t nsec;
} __attribute__((packed));

static struct pvclock pvti __attribute__((aligned(64)));
static struct wall_clock wall __attribute__((aligned(64)));

static uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	delta = shift >= 0 ? delta << shift : delta >> -shift;
	return (uint64_t)(((unsigned __int128)delta * mul) >> 32);
}

/* The guest's read: retry while the version is odd or changed under us. */
static uint64_t pvclock_read(volatile struct pvclock *p)
{
	uint32_t v;
	uint64_t ns;

	do {
		v = p->version;
		asm volatile("" ::: "memory");
		ns = p->system_time +
		     pvclock_scale(rdtsc() - p->tsc_timestamp, p->mul, p->shift);
		asm volatile("" ::: "memory");
	} while ((v & 1) || v != p->version);
	return ns;
}

static uint64_t get_clock(struct vm *vm)
{
	struct kvm_clock_data d = { 0 };

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_GET_CLOCK, &d));
	return d.clock;
}

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * NSEC_PER_MSEC };

	nanosleep(&ts, NULL);
}

/*
 * KVM's signature leaf and, among the features, kvmclock in both MSR
 * generations; KVM_CAP_ADJUST_CLOCK names the kvm_clock_data flags.
 */
static void kvm_leaves(void)
{
	struct kvm_cpuid2 *sup = (struct kvm_cpuid2 *)kvm_get_supported_cpuid();
	const struct kvm_cpuid_entry2 *e = cpuid_find(sup, KVM_CPUID_SIGNATURE, 0);
	char sig[13] = { 0 };

	TEST_ASSERT(e, "no leaf 0x40000000");
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	TEST_ASSERT(!memcmp(sig, "KVMKVMKVM\0\0\0", 12), "signature %s", sig);
	TEST_ASSERT(e->eax >= KVM_CPUID_FEATURES, "max leaf %#x", e->eax);
	e = cpuid_find(sup, KVM_CPUID_FEATURES, 0);
	TEST_ASSERT(e, "no leaf 0x40000001");
	/* KVM_FEATURE_CLOCKSOURCE, _CLOCKSOURCE2, _CLOCKSOURCE_STABLE_BIT */
	TEST_ASSERT_EQ(e->eax & 0x01000009, 0x01000009);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_ADJUST_CLOCK),
		       KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC);
}

static void guest_pvclock(void)
{
	uint64_t msr = (uint64_t)&pvti | 1;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, msr);
	GUEST_ASSERT_EQ(rdmsr(MSR_KVM_SYSTEM_TIME_NEW), msr);
	GUEST_SYNC(0);
	for (;;)
		GUEST_SYNC(pvclock_read(&pvti));
}

/*
 * The page: an even version, the TSC's rate (KVM_GET_TSC_KHZ) in its
 * multiplier and shift; what the guest reads lies between two
 * KVM_GET_CLOCKs around it, and follows the host's time.
 */
static void pvclock_page(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	const struct pvclock *p = addr_gpa2hva(vm, (uint64_t)&pvti);
	long khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ);
	uint64_t c0, c1, t0, t1, page_khz;
	struct ucall uc;

	vcpu_set_entry(vcpu, guest_pvclock);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT(p->version && !(p->version & 1), "version %u", p->version);
	TEST_ASSERT(p->mul, "no multiplier");
	/* kHz from ns per tick: 1e6 / (ns for one tick, in 2^-32 units). */
	page_khz = (NSEC_PER_MSEC << 32) / pvclock_scale(1ULL << 32, p->mul, p->shift);
	test_diag("KVM_GET_TSC_KHZ %ld, page %lu kHz, flags %#x", khz,
		  (unsigned long)page_khz, p->flags);
	TEST_ASSERT(page_khz * 1000 > (uint64_t)khz * 999 &&
		    page_khz * 1000 < (uint64_t)khz * 1001,
		    "page says %lu kHz, KVM_GET_TSC_KHZ %ld", (unsigned long)page_khz, khz);

	c0 = get_clock(vm);
	TEST_ASSERT_EQ(vcpu_run_ucall(vcpu, &uc), UCALL_SYNC);
	t0 = uc.args[0];
	c1 = get_clock(vm);
	/* 100 us of slack for KVM's clock pairing. */
	TEST_ASSERT(t0 + 100000 >= c0 && t0 <= c1 + 100000,
		    "guest %lu outside KVM_GET_CLOCK [%lu, %lu]", (unsigned long)t0,
		    (unsigned long)c0, (unsigned long)c1);
	sleep_ms(200);
	TEST_ASSERT_EQ(vcpu_run_ucall(vcpu, &uc), UCALL_SYNC);
	t1 = uc.args[0];
	TEST_ASSERT(t1 - t0 >= 190 * NSEC_PER_MSEC && t1 - t0 < 5 * NSEC_PER_SEC,
		    "200 ms of host sleep were %lu ns of kvmclock", (unsigned long)(t1 - t0));
	vm_free(vm);
}

/*
 * KVM_SET_CLOCK moves kvmclock for the VM and its running guests;
 * KVM_CLOCK_REALTIME adds the wall-clock time since data.realtime;
 * unknown flags are refused.
 */
static void set_clock(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_clock_data d = { .clock = 1000 * NSEC_PER_SEC };
	struct ucall uc;
	uint64_t c;

	vcpu_set_entry(vcpu, guest_pvclock);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_SET_CLOCK, &d));
	c = get_clock(vm);
	TEST_ASSERT(c >= d.clock && c < d.clock + NSEC_PER_SEC, "clock %lu", (unsigned long)c);
	TEST_ASSERT_EQ(vcpu_run_ucall(vcpu, &uc), UCALL_SYNC);
	TEST_ASSERT(uc.args[0] >= d.clock && uc.args[0] < d.clock + NSEC_PER_SEC,
		    "guest reads %lu after KVM_SET_CLOCK", (unsigned long)uc.args[0]);

	d.flags = KVM_CLOCK_REALTIME;
	d.realtime = real_ns() - 5 * NSEC_PER_SEC;
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_SET_CLOCK, &d));
	c = get_clock(vm);
	TEST_ASSERT(c >= d.clock + 5 * NSEC_PER_SEC && c < d.clock + 6 * NSEC_PER_SEC,
		    "clock %lu", (unsigned long)c);
	d.flags = 1;
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_SET_CLOCK, &d), EINVAL);
	vm_free(vm);
}

static void guest_wall_clock(void)
{
	wrmsr(MSR_KVM_WALL_CLOCK_NEW, (uint64_t)&wall);
	GUEST_DONE();
}

/* The wall clock: when kvmclock read 0, in the host's real time. */
static void wall_clock(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	const struct wall_clock *w = addr_gpa2hva(vm, (uint64_t)&wall);
	uint64_t boot;

	vcpu_set_entry(vcpu, guest_wall_clock);
	vcpu_run_expect_done(vcpu);
	TEST_ASSERT(w->version && !(w->version & 1), "version %u", w->version);
	TEST_ASSERT(w->nsec < NSEC_PER_SEC, "nsec %u", w->nsec);
	boot = (real_ns() - get_clock(vm)) / NSEC_PER_SEC;
	TEST_ASSERT(w->sec + 2 >= boot && w->sec <= boot + 2,
		    "wall clock says kvmclock 0 was at %u s, the host %lu s", w->sec,
		    (unsigned long)boot);
	vm_free(vm);
}

/*
 * vCPUs created apart share one TSC (KVM matches the TSCs of a new VM's
 * vCPUs), so a guest finds it synchronized across CPUs.
 */
static void tsc_shared(void)
{
	struct vm *vm = vm_create();
	struct vcpu *v0 = vm_vcpu_add(vm, 0), *v1;
	long khz = ioctl(v0->fd, KVM_GET_TSC_KHZ);
	uint64_t t0, t1, diff;

	sleep_ms(100);
	v1 = vm_vcpu_add(vm, 1);
	t0 = vcpu_get_msr(v0, MSR_IA32_TSC);
	t1 = vcpu_get_msr(v1, MSR_IA32_TSC);
	diff = t1 > t0 ? t1 - t0 : t0 - t1;
	/* Far less than the 100 ms between the two creations. */
	TEST_ASSERT(diff < (uint64_t)khz * 20, "TSCs %lu apart (%ld kHz)",
		    (unsigned long)diff, khz);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE(kvm_leaves, "CPUID 0x40000000/1: KVM signature, kvmclock; KVM_CAP_ADJUST_CLOCK"),
	TEST_CASE(pvclock_page, "kvmclock page: TSC rate, agrees with KVM_GET_CLOCK and host time"),
	TEST_CASE(set_clock, "KVM_SET_CLOCK moves kvmclock, REALTIME adds elapsed time"),
	TEST_CASE(wall_clock, "MSR_KVM_WALL_CLOCK_NEW: the real time of kvmclock 0"),
	TEST_CASE(tsc_shared, "vCPUs created 100 ms apart read one TSC"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
