// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-bench: the cost of the basic exits and of interrupt delivery on
 * /dev/kvm and /dev/hvx, measured in the same boot, printed with the
 * hvx/KVM ratio. A benchmark, not a test: it has no thresholds. Absolute
 * numbers under emulation mean little; the ratios are the point.
 *
 *   hvx-bench [iterations]     (default 2000; the interrupt rows use a
 *                               quarter of it, each round costs several
 *                               exits and a host context switch or two)
 *
 * Guest code is plain C, run by the selftests library (selftests/lib).
 * The interrupt rows use a split irqchip (local APICs in the kernel).
 */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "apic.h"
#include "kvm_util.h"

#define BENCH_PORT	0x80
#define DOORBELL_PORT	0x82	/* the irqfd row's ioeventfd */
#define TOUCH_GPA	0x40000000UL	/* a slot of its own, 1 GiB up */
#define TOUCH_SIZE	(32UL << 20)	/* 8192 pages */

#define TIMER_VEC	0xee
#define PING_VEC	0x51	/* vCPU 0 -> vCPU 1 */
#define PONG_VEC	0x52	/* vCPU 1 -> vCPU 0 */
#define IRQFD_VEC	0x71
#define IRQFD_GSI	5

#define LVTT_TSC_DEADLINE	(2u << 17)
#define MSR_TSC_DEADLINE	0x6e0
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)

/* Rounds of an interrupt row that are not timed (first-use costs). */
#define WARMUP		16

enum { B_CPUID, B_PIO, B_MMIO, B_NPF, B_TIMER, B_IPI, B_IRQFD, NR_BENCH };

static const char *const bench_name[NR_BENCH] = {
	"CPUID exit, handled in the kernel",
	"PIO exit to userspace (OUT)",
	"MMIO exit to userspace (write)",
	"RAM first touch (NPT/EPT), per page",
	"APIC timer expiry -> guest handler",
	"IPI round trip, vCPU 0 -> 1 -> 0",
	"irqfd -> handler -> ioeventfd, RT",
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

/*
 * ---- Interrupt rows ----------------------------------------------------
 *
 * Every VM below has a split irqchip (KVM_CAP_SPLIT_IRQCHIP): the local
 * APICs, their timers, IPIs and MSI routing are in the kernel, as a VMM
 * with its own IOAPIC has them. Interrupts are fixed, edge, xAPIC; the
 * handlers end them with an EOI write after they took their timestamp.
 * Each waiting vCPU halts (STI; HLT), so the hypervisor's path includes
 * blocking the vCPU thread and waking it again, which is what a real idle
 * guest costs. On one host CPU (the rigs' bench boots) the IPI and irqfd
 * rows also include the host's switch between the two threads involved.
 */

/* What the guest's handlers saw; guest memory, shared by its vCPUs. */
static volatile uint64_t irqs, irq_tsc, pings, pongs, irq_stop;

/*
 * A stalled interrupt row (an interrupt lost by the hypervisor, or by
 * the emulator under it) would block in KVM_RUN until the rig kills the
 * whole bench. The watchdog ends it sooner, with the guest's counters:
 * @progress (guest memory seen from the host, or a host counter) must
 * move at least every WATCHDOG_S seconds.
 */
#define WATCHDOG_S	30

struct watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t stop;
	const char *what;
	struct vm *vm;
	volatile uint64_t *progress;
	int done;
};

static uint64_t guest_counter(struct vm *vm, volatile uint64_t *g)
{
	return *(volatile uint64_t *)addr_gpa2hva(vm, (uint64_t)g);
}

static void *watchdog_fn(void *arg)
{
	struct watchdog *w = arg;
	uint64_t last = *w->progress;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	pthread_mutex_lock(&w->lock);
	for (int idle = 0; !w->done; idle++) {
		ts.tv_sec++;
		pthread_cond_timedwait(&w->stop, &w->lock, &ts);
		if (w->done)
			break;
		if (*w->progress != last) {
			last = *w->progress;
			idle = 0;
		} else if (idle >= WATCHDOG_S) {
			printf("# %s on %s: no progress for %d s at %llu; guest: irqs %llu pings %llu pongs %llu stop %llu\n",
			       w->what, test_dev_path, WATCHDOG_S, (unsigned long long)last,
			       (unsigned long long)guest_counter(w->vm, &irqs),
			       (unsigned long long)guest_counter(w->vm, &pings),
			       (unsigned long long)guest_counter(w->vm, &pongs),
			       (unsigned long long)guest_counter(w->vm, &irq_stop));
			fflush(stdout);
			_exit(1);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void watchdog_start(struct watchdog *w, const char *what, struct vm *vm,
			   volatile uint64_t *progress)
{
	*w = (struct watchdog){ .what = what, .vm = vm, .progress = progress };
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->stop, NULL);
	TEST_ASSERT_OK(-pthread_create(&w->thread, NULL, watchdog_fn, w));
}

static void watchdog_stop(struct watchdog *w)
{
	pthread_mutex_lock(&w->lock);
	w->done = 1;
	pthread_cond_signal(&w->stop);
	pthread_mutex_unlock(&w->lock);
	TEST_ASSERT_OK(-pthread_join(w->thread, NULL));
}

static void guest_apic_on(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
}

/* Halt until the counter @c passes @n (STI; HLT: no wakeup is lost). */
static void guest_wait(volatile uint64_t *c, uint64_t n)
{
	while (*c < n)
		asm volatile("sti; hlt; cli" ::: "memory");
}

/* A VM with the local APICs in the kernel, and its vCPU 0. */
static struct vcpu *split_vm(struct vm **vmp)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct vm *vm = vm_create();

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	*vmp = vm;
	return vm_vcpu_add(vm, 0);
}

/* Run until GUEST_SYNC(value); returns the value. */
static uint64_t run_to_sync(struct vcpu *vcpu)
{
	struct ucall uc;

	TEST_ASSERT_EQ(vcpu_run_ucall(vcpu, &uc), UCALL_SYNC);
	return uc.args[0];
}

static void *run_to_done(void *arg)
{
	vcpu_run_expect_done(arg);
	return NULL;
}

/*
 * APIC timer: the guest arms the TSC-deadline timer @delta TSC ticks
 * ahead, halts, and its handler reads the TSC. What is timed, per
 * interrupt, is from the deadline itself (the TSC value written to
 * IA32_TSC_DEADLINE) to the first statement of the guest's handler: the
 * host timer's expiry, the hypervisor's timer callback, waking the
 * vCPU thread, VM entry with the vector injected, and the guest's IDT
 * stub. The guest's own cost of arming (the WRMSR exit) and of halting
 * is not in it. KVM's own means to shorten this path (its early timer
 * and busy wait up to the deadline, lapic_timer_advance_ns; halt
 * polling) are part of what KVM does, so they are in its number.
 *
 * @delta is 1 ms, far more than arming and halting take in either rig
 * (a few exits), so the timer expires with the vCPU waiting in the
 * hypervisor's HLT (blocked, or in KVM's halt polling). A round in which the guest got to its HLT only
 * after a quarter of @delta (the emulator thread was preempted, say)
 * may have raced the expiry: it is run again and @delta doubled.
 * Returns the summed latencies, in TSC ticks, of @n rounds.
 * (KVM's busy wait is bounded by its advance, so it may inject a little
 * before the deadline: such a round counts as negative, as it was.)
 *
 * Under QEMU TCG the host's timer is itself QEMU's, woken by the real
 * host's scheduler: the same for both devices, but most of the time
 * measured, and noisy: this row's ratio moved between 0.65 and 1.33
 * over eight boots. Under Bochs, time follows the instruction count.
 */
static void guest_timer_irq(struct ex_regs *regs)
{
	(void)regs;
	irq_tsc = rdtsc();
	irqs++;
	apic_write(APIC_EOI, 0);
}

static void guest_timer(uint64_t n, uint64_t delta)
{
	uint64_t armed, deadline;
	int64_t sum = 0;	/* an early interrupt counts as negative */

	guest_apic_on();
	apic_write(APIC_LVTT, TIMER_VEC | LVTT_TSC_DEADLINE);
	for (uint64_t i = 0; i < WARMUP + n;) {
		uint64_t seen = irqs;

		armed = rdtsc();
		deadline = armed + delta;
		wrmsr(MSR_TSC_DEADLINE, deadline);
		if (rdtsc() - armed > delta / 4) {
			guest_wait(&irqs, seen + 1);
			delta *= 2;
			GUEST_ASSERT(delta < (1ULL << 40));
			continue;
		}
		guest_wait(&irqs, seen + 1);
		if (i++ >= WARMUP)
			sum += (int64_t)(irq_tsc - deadline);
	}
	GUEST_SYNC(sum);
	GUEST_DONE();
}

/* ns per timer interrupt, expiry to handler. */
static double bench_timer(uint64_t n)
{
	const struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
	struct kvm_cpuid2 *c = cpuid_alloc(sup->nent);
	struct vm *vm;
	struct vcpu *vcpu = split_vm(&vm);
	long khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ);
	struct watchdog w;
	int64_t ticks;

	TEST_ASSERT(khz > 0, "KVM_GET_TSC_KHZ: %ld", khz);
	/* TSC-deadline mode is offered to the guest in CPUID, not by default. */
	memcpy(c->entries, sup->entries, sup->nent * sizeof(sup->entries[0]));
	c->nent = sup->nent;
	cpuid_find(c, 1, 0)->ecx |= CPUID1_ECX_TSC_DEADLINE;
	vcpu_set_cpuid(vcpu, c);
	free(c);
	vm_install_exception_handler(vm, TIMER_VEC, guest_timer_irq);
	vcpu_set_entry(vcpu, guest_timer, n, (uint64_t)khz);	/* 1 ms */
	watchdog_start(&w, "timer", vm, addr_gpa2hva(vm, (uint64_t)&irqs));
	ticks = (int64_t)run_to_sync(vcpu);
	watchdog_stop(&w);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
	return ticks * 1e6 / khz / n;
}

/*
 * IPI round trip: vCPU 0 sends a fixed IPI (physical destination 1) to
 * vCPU 1, which halts on a thread of its own; vCPU 1's handler sends one
 * back, and vCPU 0 halts until it arrives. Timed in the guest, on vCPU
 * 0's TSC, over @n round trips after WARMUP: per trip, two ICR writes,
 * two wakeups of a halted vCPU in another thread, two VM entries with an
 * injected vector (plus the EOIs and HLTs around them). On one host CPU
 * the two threads take turns, so each trip also holds two host context
 * switches: the ratio still compares the hypervisors, but it says
 * nothing of cross-CPU kicks (selftests/smp/ covers those for
 * correctness; their boot with two CPUs is too short-lived for a
 * benchmark).
 */
static void guest_send_ipi(uint32_t dest, uint32_t vec)
{
	apic_write(APIC_ICR2, dest << 24);
	apic_write(APIC_ICR, vec);
}

static void guest_ping_irq(struct ex_regs *regs)	/* on vCPU 1 */
{
	(void)regs;
	pings++;
	guest_send_ipi(0, PONG_VEC);
	apic_write(APIC_EOI, 0);
}

static void guest_pong_irq(struct ex_regs *regs)	/* on vCPU 0 */
{
	(void)regs;
	pongs++;
	apic_write(APIC_EOI, 0);
}

static void guest_ipi_responder(void)
{
	guest_apic_on();
	guest_send_ipi(0, PONG_VEC);	/* "ready": vCPU 0 may ping now */
	while (!irq_stop)
		asm volatile("sti; hlt; cli" ::: "memory");
	GUEST_DONE();
}

static void guest_ipi_initiator(uint64_t n)
{
	uint64_t t0 = 0;

	guest_apic_on();
	GUEST_SYNC(0);			/* the host starts vCPU 1 now */
	guest_wait(&pongs, 1);
	for (uint64_t i = 0; i < WARMUP + n; i++) {
		if (i == WARMUP)
			t0 = rdtsc();
		guest_send_ipi(1, PING_VEC);
		guest_wait(&pongs, i + 2);
	}
	t0 = rdtsc() - t0;
	irq_stop = 1;
	guest_send_ipi(1, PING_VEC);	/* wakes vCPU 1 to see irq_stop */
	guest_wait(&pongs, WARMUP + n + 2);
	GUEST_SYNC(t0);
	GUEST_DONE();
}

static double bench_ipi(uint64_t n)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	struct vm *vm;
	struct vcpu *bsp = split_vm(&vm), *ap = vm_vcpu_add(vm, 1);
	long khz = ioctl(bsp->fd, KVM_GET_TSC_KHZ);
	struct watchdog w;
	uint64_t ticks;
	pthread_t t;

	TEST_ASSERT(khz > 0, "KVM_GET_TSC_KHZ: %ld", khz);
	vm_install_exception_handler(vm, PING_VEC, guest_ping_irq);
	vm_install_exception_handler(vm, PONG_VEC, guest_pong_irq);
	vcpu_set_entry(bsp, guest_ipi_initiator, n);
	vcpu_set_entry(ap, guest_ipi_responder);
	/* Set up by the VMM, the AP need not wait for INIT/SIPI. */
	TEST_ASSERT_OK(ioctl(ap->fd, KVM_SET_MP_STATE, &mp));
	/* vCPU 0's APIC must be on before vCPU 1's "ready" IPI. */
	TEST_ASSERT_EQ(run_to_sync(bsp), 0);
	watchdog_start(&w, "IPI", vm, addr_gpa2hva(vm, (uint64_t)&pongs));
	TEST_ASSERT_OK(pthread_create(&t, NULL, run_to_done, ap));
	ticks = run_to_sync(bsp);
	vcpu_run_expect_done(bsp);
	TEST_ASSERT_OK(pthread_join(t, NULL));
	watchdog_stop(&w);
	vm_free(vm);
	return ticks * 1e6 / khz / n;
}

/*
 * irqfd: an eventfd bound with KVM_IRQFD to GSI IRQFD_GSI, routed
 * (KVM_SET_GSI_ROUTING) as an MSI to APIC 0. The guest's vCPU halts on
 * a thread of its own; its handler answers with an OUT to a port bound
 * to a second eventfd with KVM_IOEVENTFD, which signals that eventfd in
 * the kernel without an exit to userspace. The host's main thread
 * writes the irqfd and blocks in read() on the ioeventfd: timed on the
 * host's CLOCK_MONOTONIC over @n such round trips (after WARMUP), each
 * holding the irqfd's injection (eventfd wakeup, MSI to the APIC, kick
 * of the halted vCPU), VM entry with the vector, the guest's handler,
 * and the ioeventfd's exit and eventfd signal. The guest cannot stamp
 * its arrival on a clock the host shares (KVM may move the TSC offset
 * when it loads a vCPU), hence a round trip; its second half is the
 * same for both devices in kind, and it is the hypervisor's too. On one
 * host CPU each trip also holds two switches between the threads.
 */
static void guest_irqfd_irq(struct ex_regs *regs)
{
	(void)regs;
	irqs++;
	outb(DOORBELL_PORT, 1);
	apic_write(APIC_EOI, 0);
}

static void guest_irqfd(void)
{
	guest_apic_on();
	GUEST_SYNC(0);
	while (!irq_stop)
		asm volatile("sti; hlt; cli" ::: "memory");
	GUEST_DONE();
}

static void efd_write(int fd)
{
	uint64_t one = 1;

	TEST_ASSERT_EQ(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

static double bench_irqfd(uint64_t n)
{
	struct vm *vm;
	struct vcpu *vcpu = split_vm(&vm);
	int efd = eventfd(0, EFD_CLOEXEC), bell = eventfd(0, EFD_CLOEXEC);
	struct {
		struct kvm_irq_routing r;
		struct kvm_irq_routing_entry e;
	} routing = {
		.r.nr = 1,
		.e = { .gsi = IRQFD_GSI, .type = KVM_IRQ_ROUTING_MSI,
		       .u.msi = { .address_lo = 0xfee00000, .data = IRQFD_VEC } },
	};
	struct kvm_irqfd irqfd = { .fd = efd, .gsi = IRQFD_GSI };
	struct kvm_ioeventfd ioev = {
		.addr = DOORBELL_PORT, .len = 1, .fd = bell,
		.flags = KVM_IOEVENTFD_FLAG_PIO,
	};
	volatile uint64_t *stop = addr_gpa2hva(vm, (uint64_t)&irq_stop);
	volatile uint64_t sent = 0;
	struct watchdog w;
	uint64_t got;
	double t0 = 0, ns;
	pthread_t t;

	TEST_ASSERT(efd >= 0 && bell >= 0, "eventfd");
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_SET_GSI_ROUTING, &routing));
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_IRQFD, &irqfd));
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_IOEVENTFD, &ioev));
	vm_install_exception_handler(vm, IRQFD_VEC, guest_irqfd_irq);
	vcpu_set_entry(vcpu, guest_irqfd);
	TEST_ASSERT_EQ(run_to_sync(vcpu), 0);	/* its APIC is on */
	watchdog_start(&w, "irqfd", vm, &sent);
	TEST_ASSERT_OK(pthread_create(&t, NULL, run_to_done, vcpu));
	for (uint64_t i = 0; i < WARMUP + n; i++) {
		if (i == WARMUP)
			t0 = now_ns();
		sent++;
		efd_write(efd);
		TEST_ASSERT_EQ(read(bell, &got, sizeof(got)), (ssize_t)sizeof(got));
		TEST_ASSERT_EQ(got, 1);
	}
	ns = (now_ns() - t0) / n;
	*stop = 1;
	efd_write(efd);
	TEST_ASSERT_OK(pthread_join(t, NULL));
	watchdog_stop(&w);
	vm_free(vm);
	close(efd);
	close(bell);
	return ns;
}

/* ns per operation of benchmark @b on the device at test_dev_path. */
static double bench_one(int b, uint64_t n)
{
	struct vm *vm;
	struct vcpu *vcpu;
	double t0, ns;

	/* An interrupt round costs several exits: a quarter of the rounds. */
	switch (b) {
	case B_TIMER:
		return bench_timer(n / 4 ?: 1);
	case B_IPI:
		return bench_ipi(n / 4 ?: 1);
	case B_IRQFD:
		return bench_irqfd(n / 4 ?: 1);
	}
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
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

/*
 * Best of three runs on each device, the least disturbed; KVM and hvx
 * take turns, so that a slow phase of the emulator (or of the other
 * load on the host) does not fall on one device only.
 */
static void bench_best(int b, uint64_t n, double *kvm, double *hvx)
{
	for (int i = 0; i < 3; i++) {
		double ns;

		test_dev_path = "/dev/kvm";
		ns = bench_one(b, n);
		if (!i || ns < *kvm)
			*kvm = ns;
		test_dev_path = "/dev/hvx";
		ns = bench_one(b, n);
		if (!i || ns < *hvx)
			*hvx = ns;
	}
}

/*
 * The parameters hvx.ko is loaded with, as sysfs shows them (those with
 * 0 permissions do not show), so that each table says what it measured.
 */
static void print_hvx_params(void)
{
	const char *dir = "/sys/module/hvx/parameters";
	struct dirent **names;
	int nr = scandir(dir, &names, NULL, alphasort);

	printf("hvx.ko parameters:");
	if (nr < 0)
		printf(" (%s: %s)", dir, strerror(errno));
	for (int i = 0; i < nr; i++) {
		char path[512], val[128] = "";
		FILE *f;

		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
			f = fopen(path, "r");
			if (f) {
				if (!fgets(val, sizeof(val), f))
					val[0] = 0;
				fclose(f);
			}
			val[strcspn(val, "\n")] = 0;
			printf(" %s=%s", names[i]->d_name, val);
		}
		free(names[i]);
	}
	if (nr >= 0)
		free(names);
	printf("\n");
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000;

	printf("hvx-bench: best of 3, %llu exits each (interrupt rows: %llu rounds), %ld host CPU(s); time per operation, lower is better\n",
	       (unsigned long long)n, (unsigned long long)(n / 4 ?: 1),
	       sysconf(_SC_NPROCESSORS_ONLN));
	print_hvx_params();
	printf("%-36s %12s %12s %9s\n", "benchmark", "kvm", "hvx", "hvx/kvm");
	for (int b = 0; b < NR_BENCH; b++) {
		double kvm = 0, hvx = 0;

		bench_best(b, n, &kvm, &hvx);
		printf("%-36s %9.2f us %9.2f us %9.2f\n", bench_name[b],
		       kvm / 1000, hvx / 1000, hvx / kvm);
	}
	return 0;
}
