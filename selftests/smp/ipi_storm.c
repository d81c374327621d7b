// SPDX-License-Identifier: GPL-2.0
/*
 * IPIs among vCPUs on their own threads, with the local APICs in the
 * kernel (KVM_CAP_SPLIT_IRQCHIP): none may be lost or delivered twice.
 * vCPU i pings vCPU i+1 (mod n) and waits in HLT for the pong its handler
 * sends back before the next ping, so every IPI finds its vector clear in
 * the receiver's IRR (no coalescing is allowed to hide a loss), and a
 * lost IPI stops the ring: its counters stand still and the host fails
 * the case. At the end each vCPU must have taken exactly as many pings
 * and pongs as there were rounds.
 *
 * The Bochs rig runs 8 vCPUs x 1000 rounds in its boot with two CPUs,
 * on kvm_intel and hvx. The QEMU rig leaves it out (RIG_SMP2_SKIP in
 * scripts/rig/config.sh): under TCG the oracle fails it too, now and
 * then, one vCPU short of a ping its predecessor had the pong for,
 * which looks like a guest store lost by the emulator. The full
 * storm, HVX_IPI_VCPUS=8 HVX_IPI_ROUNDS=100000 (with HVX_TEST_TIMEOUT
 * raised for the harness), passed on hvx under Bochs in 64 s of emulated
 * time; kvm_intel, without APIC virtualization there, takes ~6x longer.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "apic.h"
#include "kvm_util.h"
#include "smp_util.h"

#define MAX_VCPUS	8
#define PING_VEC	0x60
#define PONG_VEC	0x61

static uint64_t rounds = 1000, nr_vcpus = 8;
static volatile uint64_t pings[MAX_VCPUS], pongs[MAX_VCPUS];

static uint32_t my_id(void)
{
	return apic_read(APIC_ID) >> 24;
}

/* Interrupts are off around the ICR2/ICR pair: handlers send too. */
static void send_ipi(uint32_t dest, uint8_t vector)
{
	apic_write(APIC_ICR2, dest << 24);
	apic_write(APIC_ICR, vector);
}

static void guest_ping(struct ex_regs *regs)
{
	uint32_t me = my_id();

	(void)regs;
	pings[me]++;
	send_ipi((me + nr_vcpus - 1) % nr_vcpus, PONG_VEC);
	apic_write(APIC_EOI, 0);
}

static void guest_pong(struct ex_regs *regs)
{
	(void)regs;
	pongs[my_id()]++;
	apic_write(APIC_EOI, 0);
}

/*
 * Touch the GDT and IDT, which interrupt delivery reads: under QEMU's
 * TCG, an interrupt whose delivery exits on a nested page fault there
 * and is injected again (as APM Vol 2 15.7.2 asks) can reach the guest
 * twice. KVM maps neighbouring pages on a fault and never meets it.
 */
static void touch_descriptor_tables(void)
{
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) gdtr, idtr;

	asm volatile("sgdt %0; sidt %1" : "=m"(gdtr), "=m"(idtr));
	(void)*(volatile uint64_t *)gdtr.base;
	(void)*(volatile uint64_t *)(idtr.base + PING_VEC * 16);
}

static void guest_ring(void)
{
	uint32_t me = my_id(), next = (me + 1) % nr_vcpus;

	touch_descriptor_tables();
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	GUEST_SYNC(0);
	asm volatile("cli");
	for (uint64_t k = 1; k <= rounds; k++) {
		send_ipi(next, PING_VEC);
		while (pongs[me] < k)
			asm volatile("sti; hlt; cli");
	}
	/* Keep answering the predecessor until it is done too. */
	while (pings[me] < rounds)
		asm volatile("sti; hlt; cli");
	GUEST_SYNC(pings[me] << 32 | pongs[me]);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;

	vcpu_run_expect_sync(vcpu, rounds << 32 | rounds);
	return NULL;
}

static uint64_t env_or(const char *name, uint64_t def, uint64_t max)
{
	const char *v = getenv(name);
	uint64_t n = v ? strtoull(v, NULL, 0) : def;

	TEST_ASSERT(n >= 1 && n <= max, "%s=%s: 1..%llu", name, v, (unsigned long long)max);
	return n;
}

/*
 * Join vCPU @i's thread. The ring stops only if an IPI was lost, so the
 * wait ends when its counters stop moving for RING_STALL_S seconds: then
 * the host prints them, from guest memory, and fails.
 */
#define RING_STALL_S	30

static uint64_t ring_progress(volatile uint64_t *gp, volatile uint64_t *go, unsigned int n)
{
	uint64_t sum = 0;

	for (unsigned int j = 0; j < n; j++)
		sum += gp[j] + go[j];
	return sum;
}

static void wait_ring(struct vm *vm, pthread_t t, unsigned int i, unsigned int n)
{
	volatile uint64_t *gp = addr_gpa2hva(vm, (uint64_t)pings);
	volatile uint64_t *go = addr_gpa2hva(vm, (uint64_t)pongs);
	uint64_t last = ring_progress(gp, go, n), now;
	unsigned int still = 0;
	struct timespec deadline;

	for (;;) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 1;
		if (!pthread_timedjoin_np(t, NULL, &deadline))
			return;
		now = ring_progress(gp, go, n);
		if (now != last) {
			last = now;
			still = 0;
		} else if (++still >= RING_STALL_S) {
			break;
		}
	}
	for (unsigned int j = 0; j < n; j++)
		test_diag("vCPU %u: %llu pings, %llu pongs", j,
			  (unsigned long long)gp[j], (unsigned long long)go[j]);
	TEST_FAIL("vCPU %u: the ring stood still for %u s: an IPI was lost", i, RING_STALL_S);
}

static void ipi_ring(void)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct kvm_mp_state runnable = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct vcpu *vcpus[MAX_VCPUS];
	pthread_t threads[MAX_VCPUS];
	struct vm *vm = vm_create();
	unsigned int i, n;

	rounds = env_or("HVX_IPI_ROUNDS", rounds, 1ULL << 31);
	nr_vcpus = n = env_or("HVX_IPI_VCPUS", nr_vcpus, MAX_VCPUS);
	sync_global_to_guest(vm, rounds);
	sync_global_to_guest(vm, nr_vcpus);
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	for (i = 0; i < n; i++) {
		vcpus[i] = vm_vcpu_add(vm, i);
		vcpu_set_entry(vcpus[i], guest_ring);
		/* The VMM starts the APs itself, as it set up their state. */
		TEST_ASSERT_OK(ioctl(vcpus[i]->fd, KVM_SET_MP_STATE, &runnable));
	}
	vm_install_exception_handler(vm, PING_VEC, guest_ping);
	vm_install_exception_handler(vm, PONG_VEC, guest_pong);
	/* Every APIC is enabled before the first ping goes out. */
	for (i = 0; i < n; i++)
		vcpu_run_expect_sync(vcpus[i], 0);
	for (i = 0; i < n; i++)
		TEST_ASSERT_OK(pthread_create(&threads[i], NULL, vcpu_thread, vcpus[i]));
	for (i = 0; i < n; i++)
		wait_ring(vm, threads[i], i, n);
	test_diag("%u vCPUs x %llu IPI round trips", n, (unsigned long long)rounds);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE_TIMEOUT(ipi_ring, "vCPUs ping-pong IPIs in a ring: none lost, none twice", 240),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
