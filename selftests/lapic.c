// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel local APIC of a split irqchip (KVM_CAP_SPLIT_IRQCHIP: the
 * local APICs in the kernel, IOAPIC and PIC left to userspace), as the
 * guest and the VMM see it: the xAPIC page and x2APIC MSRs, the timer in
 * its three modes, HLT waiting in the kernel, self-IPIs, MSIs, INIT/SIPI,
 * KVM_GET/SET_LAPIC and KVM_GET/SET_MP_STATE (SDM Vol 3 ch. 11,
 * Documentation/virt/kvm/api.rst).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>

#include "apic.h"
#include "kvm_util.h"

#define LVT_MASKED		(1u << 16)
#define LVTT_PERIODIC		(1u << 17)
#define LVTT_TSC_DEADLINE	(2u << 17)
#define TDCR_DIV_1		0xb
#define ICR_SELF		(1u << 18)
#define ICR_INIT		(5u << 8)
#define ICR_STARTUP		(6u << 8)
#define ICR_ASSERT		(1u << 14)

#define MSR_TSC_DEADLINE	0x6e0
#define MSR_X2APIC_SELF_IPI	0x83f

#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)

#define TIMER_VEC	0xee
#define IPI_VEC		0x51
#define MSI_VEC		0x52

/* What the guest's interrupt handlers saw. */
static volatile uint64_t nirqs, last_vector;

static void guest_irq(struct ex_regs *regs)
{
	nirqs++;
	last_vector = regs->vector;
	apic_write(APIC_EOI, 0);
}

static void guest_irq_x2apic(struct ex_regs *regs)
{
	nirqs++;
	last_vector = regs->vector;
	wrmsr(X2APIC_MSR(APIC_EOI), 0);
}

/* A VM whose local APICs are in the kernel, and its vCPU 0 running @fn. */
static struct vcpu *split_vm(void *fn)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	vcpu = vm_vcpu_add(vm, 0);
	vm_install_exception_handler(vm, TIMER_VEC, guest_irq);
	vm_install_exception_handler(vm, IPI_VEC, guest_irq);
	vm_install_exception_handler(vm, MSI_VEC, guest_irq);
	vcpu_set_entry(vcpu, fn);
	return vcpu;
}

/* Offer @ecx bits of CPUID leaf 1 (x2APIC, TSC deadline) to the guest. */
static void cpuid_add_leaf1_ecx(struct vcpu *vcpu, uint32_t ecx)
{
	const struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
	struct kvm_cpuid2 *c = cpuid_alloc(sup->nent);

	memcpy(c->entries, sup->entries, sup->nent * sizeof(sup->entries[0]));
	c->nent = sup->nent;
	cpuid_find(c, 1, 0)->ecx |= ecx;
	vcpu_set_cpuid(vcpu, c);
	free(c);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint32_t get_mp_state(struct vcpu *vcpu)
{
	struct kvm_mp_state mp;

	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp));
	return mp.mp_state;
}

static void set_mp_state(struct vcpu *vcpu, uint32_t state)
{
	struct kvm_mp_state mp = { .mp_state = state };

	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp));
}

static void get_lapic(struct vcpu *vcpu, struct kvm_lapic_state *s)
{
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_LAPIC, s));
}

static uint32_t lapic_reg(const struct kvm_lapic_state *s, unsigned int reg)
{
	uint32_t v;

	memcpy(&v, s->regs + reg, 4);
	return v;
}

static void guest_nothing(void)
{
	GUEST_DONE();
}

/*
 * KVM_CAP_SPLIT_IRQCHIP goes on before any vCPU exists, once, with at
 * most KVM_MAX_IRQ_ROUTES (4096) reserved pins.
 */
static void split_irqchip_enable_rules(void)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 4097 } };
	struct vm *vm = vm_create();

	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_ENABLE_CAP, &cap), EINVAL);
	cap.args[0] = 24;
	cap.flags = 1;
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_ENABLE_CAP, &cap), EINVAL);
	cap.flags = 0;
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_ENABLE_CAP, &cap), EEXIST);
	vm_free(vm);

	vm = vm_create();
	vm_vcpu_add(vm, 0);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_ENABLE_CAP, &cap), EEXIST);
	vm_free(vm);
}

/* Without an in-kernel APIC there is no KVM_GET_LAPIC, and MSIs have nowhere to go. */
static void no_lapic_without_irqchip(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_lapic_state s;
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = MSI_VEC };
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_HALTED };

	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_GET_LAPIC, &s), EINVAL);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_SIGNAL_MSI, &msi), EINVAL);
	TEST_ASSERT_EQ(get_mp_state(vcpu), KVM_MP_STATE_RUNNABLE);
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_MP_STATE, &mp), EINVAL);
	vm_free(vm);
}

/*
 * Power-on state (SDM Vol 3 11.4.7.1): xAPIC ID = vCPU id in bits 31:24,
 * every LVT masked but LINT0 on the BSP (ExtINT, KVM's LINT0 quirk), SVR
 * 0xff, DFR flat, the BSP runnable and APs waiting for INIT/SIPI.
 */
static void reset_state(void)
{
	struct vcpu *vcpu = split_vm(guest_nothing), *ap;
	struct kvm_lapic_state s;

	get_lapic(vcpu, &s);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_ID), 0);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVR) & 0xff, 0x14);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_SPIV), 0xff);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_DFR), 0xffffffff);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_TASKPRI), 0);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVTT), LVT_MASKED);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVT0), 0x700);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVT1), LVT_MASKED);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVTERR), LVT_MASKED);
	TEST_ASSERT_EQ(get_mp_state(vcpu), KVM_MP_STATE_RUNNABLE);

	ap = vm_vcpu_add(vcpu->vm, 3);
	get_lapic(ap, &s);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_ID), 3u << 24);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LVT0), LVT_MASKED);
	TEST_ASSERT_EQ(get_mp_state(ap), KVM_MP_STATE_UNINITIALIZED);
	TEST_ASSERT_EQ(vcpu_get_msr(ap, MSR_IA32_APICBASE), APIC_GPA | APICBASE_ENABLE);
	vm_free(vcpu->vm);
}

/* The guest reads its APIC through the xAPIC page; TPR sets PPR. */
static void guest_xapic_regs(void)
{
	GUEST_ASSERT_EQ(apic_read(APIC_ID), 0);
	GUEST_ASSERT_EQ(apic_read(APIC_LVR) & 0xff, 0x14);
	/*
	 * A TPR with a sub-class (bits 3:0) would read back without it on
	 * KVM/SVM, which rebuilds the TPR from V_TPR at every exit.
	 */
	apic_write(APIC_TASKPRI, 0x30);
	GUEST_ASSERT_EQ(apic_read(APIC_TASKPRI), 0x30);
	GUEST_ASSERT_EQ(apic_read(APIC_PROCPRI), 0x30);
	/* CR8 is TPR[7:4] (SDM Vol 3 10.8.6.1). */
	GUEST_ASSERT_EQ(({ uint64_t c; asm volatile("mov %%cr8, %0" : "=r"(c)); c; }), 3);
	asm volatile("mov %0, %%cr8" : : "r"(5UL));
	GUEST_ASSERT_EQ(apic_read(APIC_TASKPRI), 0x50);
	apic_write(APIC_TASKPRI, 0);
	GUEST_DONE();
}

static void xapic_page_in_kernel(void)
{
	struct vcpu *vcpu = split_vm(guest_xapic_regs);

	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

/*
 * One-shot timer (11.5.4): TMICT counts down at the bus clock over the
 * divisor (KVM's bus: 1 GHz), TMCCT shows what is left, and the vector
 * arrives once, no earlier than programmed, while the vCPU waits in HLT
 * inside the kernel.
 */
#define ONESHOT_NS	20000000u	/* 20 ms */

static void guest_oneshot(void)
{
	uint32_t c1, c2;

	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_TDCR, TDCR_DIV_1);
	apic_write(APIC_LVTT, TIMER_VEC);
	apic_write(APIC_TMICT, ONESHOT_NS);
	c1 = apic_read(APIC_TMCCT);
	c2 = apic_read(APIC_TMCCT);
	GUEST_ASSERT(c1 > 0 && c1 <= ONESHOT_NS);
	GUEST_ASSERT(c2 <= c1);
	asm volatile("sti; hlt; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_ASSERT_EQ(last_vector, TIMER_VEC);
	GUEST_ASSERT_EQ(apic_read(APIC_TMCCT), 0);
	GUEST_DONE();
}

static void timer_oneshot(void)
{
	struct vcpu *vcpu = split_vm(guest_oneshot);
	uint64_t t0 = now_ns();

	vcpu_run_expect_done(vcpu);
	/* KVM may fire a few microseconds early (lapic_timer_advance). */
	TEST_ASSERT(now_ns() - t0 >= ONESHOT_NS * 9ULL / 10,
		    "fired after %llu ns", (unsigned long long)(now_ns() - t0));
	vm_free(vcpu->vm);
}

/* Periodic mode: the vector comes back every period until stopped. */
#define PERIOD_NS	2000000u	/* 2 ms */
#define PERIODS		10

static void guest_periodic(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_TDCR, TDCR_DIV_1);
	apic_write(APIC_LVTT, TIMER_VEC | LVTT_PERIODIC);
	apic_write(APIC_TMICT, PERIOD_NS);
	while (nirqs < PERIODS)
		asm volatile("sti; hlt; cli");
	apic_write(APIC_TMICT, 0);
	GUEST_ASSERT_EQ(last_vector, TIMER_VEC);
	GUEST_DONE();
}

static void timer_periodic(void)
{
	struct vcpu *vcpu = split_vm(guest_periodic);
	uint64_t t0 = now_ns();

	vcpu_run_expect_done(vcpu);
	TEST_ASSERT(now_ns() - t0 >= PERIODS * (PERIOD_NS * 9ULL / 10),
		    "%d periods in %llu ns", PERIODS, (unsigned long long)(now_ns() - t0));
	vm_free(vcpu->vm);
}

/*
 * TSC-deadline mode (11.5.4.1): the interrupt comes when the guest's TSC
 * passes IA32_TSC_DEADLINE, which then reads 0; a deadline in the past
 * fires at once; outside that mode the MSR reads 0 and ignores writes.
 */
static void guest_tsc_deadline(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 1000000);
	GUEST_ASSERT_EQ(rdmsr(MSR_TSC_DEADLINE), 0);
	apic_write(APIC_LVTT, TIMER_VEC | LVTT_TSC_DEADLINE);
	wrmsr(MSR_TSC_DEADLINE, rdtsc() + 20000000);
	GUEST_ASSERT(rdmsr(MSR_TSC_DEADLINE) != 0);
	while (!nirqs)
		asm volatile("sti; hlt; cli");
	GUEST_ASSERT_EQ(last_vector, TIMER_VEC);
	GUEST_ASSERT_EQ(rdmsr(MSR_TSC_DEADLINE), 0);
	wrmsr(MSR_TSC_DEADLINE, 1);
	while (nirqs < 2)
		asm volatile("sti; hlt; cli");
	GUEST_DONE();
}

static void timer_tsc_deadline(void)
{
	struct vcpu *vcpu = split_vm(guest_tsc_deadline);

	cpuid_add_leaf1_ecx(vcpu, CPUID1_ECX_TSC_DEADLINE);
	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

/*
 * HLT with nothing to wake it does not come back to userspace: KVM_RUN
 * waits in the kernel until a signal ends it (EINTR), and the vCPU stays
 * halted, as KVM_GET_MP_STATE shows.
 */
static void guest_hlt_forever(void)
{
	asm volatile("cli; hlt");
	GUEST_DONE();
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void hlt_waits_in_kernel(void)
{
	struct vcpu *vcpu = split_vm(guest_hlt_forever);
	struct itimerval it = { .it_value = { .tv_usec = 50000 } };
	struct sigaction sa = { .sa_handler = on_alarm };

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	TEST_ASSERT_ERRNO(__vcpu_run(vcpu), EINTR);
	TEST_ASSERT_EQ(vcpu->run->exit_reason, KVM_EXIT_INTR);
	TEST_ASSERT_EQ(get_mp_state(vcpu), KVM_MP_STATE_HALTED);
	vm_free(vcpu->vm);
}

/* A self-IPI through the ICR's "self" shorthand (11.6.1). */
static void guest_self_ipi(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_ICR, ICR_SELF | IPI_VEC);
	asm volatile("sti; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_ASSERT_EQ(last_vector, IPI_VEC);
	GUEST_ASSERT_EQ(apic_read(APIC_ICR) & 0xff, IPI_VEC);
	GUEST_DONE();
}

static void self_ipi(void)
{
	struct vcpu *vcpu = split_vm(guest_self_ipi);

	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

/*
 * The TPR holds back vectors of its class and below (11.8.3): a self-IPI
 * stays in the IRR until the TPR drops under it.
 */
static void guest_tpr_blocks(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_TASKPRI, IPI_VEC & 0xf0);
	apic_write(APIC_ICR, ICR_SELF | IPI_VEC);
	asm volatile("sti; nop; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 0);
	GUEST_ASSERT(apic_read(APIC_IRR + (IPI_VEC >> 5) * 0x10) & (1u << (IPI_VEC & 31)));
	apic_write(APIC_TASKPRI, 0);
	asm volatile("sti; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_DONE();
}

static void tpr_blocks_lower_classes(void)
{
	struct vcpu *vcpu = split_vm(guest_tpr_blocks);

	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

/*
 * CR8 is TPR[7:4] (10.8.6.1): a TPR written through the page shows in
 * CR8; MOV to CR8 writes TPR = CR8 << 4, and the PPR follows (11.8.3.1).
 * (TPR[3:0] is left at 0: kvm_amd rewrites the TPR from CR8 after exits
 * and loses it.) A vector held back by the TPR comes in once
 * CR8 drops below its class, and while it is in service the PPR is its
 * class. With VMX APIC virtualization CR8 and the page are the
 * virtual-APIC page's VTPR and VPPR (SDM Vol 3 29.1), without it they
 * are kept in step by hvx.
 */
#define TPR_VEC	0x41

static volatile uint64_t ppr_in_service, isr_in_service;

static void guest_irq_ppr(struct ex_regs *regs)
{
	nirqs++;
	last_vector = regs->vector;
	ppr_in_service = apic_read(APIC_PROCPRI);
	isr_in_service = apic_read(APIC_ISR + (TPR_VEC >> 5) * 0x10);
	apic_write(APIC_EOI, 0);
}

static inline uint64_t read_cr8(void)
{
	uint64_t v;

	asm volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static inline void write_cr8(uint64_t v)
{
	asm volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

static void guest_cr8_tpr(void)
{
	uint32_t a, b, c, d;

	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_TASKPRI, 0x50);
	GUEST_ASSERT_EQ(read_cr8(), 5);
	GUEST_ASSERT_EQ(apic_read(APIC_TASKPRI), 0x50);
	GUEST_ASSERT_EQ(apic_read(APIC_PROCPRI), 0x50);
	apic_write(APIC_ICR, ICR_SELF | TPR_VEC);
	asm volatile("sti; nop; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 0);
	write_cr8(4);
	GUEST_ASSERT_EQ(apic_read(APIC_TASKPRI), 0x40);
	GUEST_ASSERT_EQ(apic_read(APIC_PROCPRI), 0x40);
	asm volatile("sti; nop; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 0);
	GUEST_ASSERT(apic_read(APIC_IRR + (TPR_VEC >> 5) * 0x10) & (1u << (TPR_VEC & 31)));
	write_cr8(3);
	/* An exit: hvx on SVM sees a lowered CR8 only then (api.md). */
	cpuid(0, 0, &a, &b, &c, &d);
	asm volatile("sti; nop; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_ASSERT_EQ(last_vector, TPR_VEC);
	GUEST_ASSERT_EQ(ppr_in_service, TPR_VEC & 0xf0);
	GUEST_ASSERT_EQ(isr_in_service, 1u << (TPR_VEC & 31));
	GUEST_ASSERT_EQ(read_cr8(), 3);
	GUEST_ASSERT_EQ(apic_read(APIC_PROCPRI), 0x30);
	GUEST_ASSERT_EQ(apic_read(APIC_IRR + (TPR_VEC >> 5) * 0x10), 0);
	GUEST_ASSERT_EQ(apic_read(APIC_ISR + (TPR_VEC >> 5) * 0x10), 0);
	GUEST_DONE();
}

static void cr8_tpr_ppr(void)
{
	struct vcpu *vcpu = split_vm(guest_cr8_tpr);
	struct kvm_sregs sregs;

	vm_install_exception_handler(vcpu->vm, TPR_VEC, guest_irq_ppr);
	vcpu_run_expect_done(vcpu);
	/* The VMM sees the same: CR8 in the sregs, the TPR in the state. */
	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cr8, 3);
	vm_free(vcpu->vm);
}

/*
 * x2APIC mode (11.12): entered through IA32_APIC_BASE; the ID is the
 * 32-bit vCPU id, LDR derives from it, registers are MSRs, the SELF IPI
 * register works, and the xAPIC page reads as all ones (KVM's
 * KVM_X86_QUIRK_LAPIC_MMIO_HOLE, on by default).
 */
static void guest_x2apic(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) | APICBASE_X2APIC);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_ID)), 0);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_LDR)), 1);
	wrmsr(X2APIC_MSR(APIC_SPIV), APIC_SPIV_ENABLE | 0xff);
	wrmsr(MSR_X2APIC_SELF_IPI, IPI_VEC);
	asm volatile("sti; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_ASSERT_EQ(last_vector, IPI_VEC);
	GUEST_SYNC(apic_read(APIC_ID));
	GUEST_DONE();
}

/*
 * x2APIC registers that VMX APIC virtualization serves without exits
 * (SDM Vol 3 29.5), against those it must not: TPR and PPR through MSRs
 * and CR8, the SELF IPI register held back by the TPR, and the 64-bit
 * ICR, whose upper half (the destination) is not where a virtualized
 * RDMSR would read it.
 */
static void guest_x2apic_regs(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) | APICBASE_X2APIC);
	wrmsr(X2APIC_MSR(APIC_SPIV), APIC_SPIV_ENABLE | 0xff);
	wrmsr(X2APIC_MSR(APIC_TASKPRI), 0x60);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_TASKPRI)), 0x60);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_PROCPRI)), 0x60);
	GUEST_ASSERT_EQ(read_cr8(), 6);
	wrmsr(MSR_X2APIC_SELF_IPI, IPI_VEC);
	asm volatile("sti; nop; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 0);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_IRR + (IPI_VEC >> 5) * 0x10)),
			1u << (IPI_VEC & 31));
	wrmsr(X2APIC_MSR(APIC_TASKPRI), 0);
	asm volatile("sti; nop; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_ASSERT_EQ(last_vector, IPI_VEC);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_PROCPRI)), 0);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_ISR + (IPI_VEC >> 5) * 0x10)), 0);
	/* A fixed IPI to APIC ID 5, which no vCPU has: it goes nowhere. */
	wrmsr(X2APIC_MSR(APIC_ICR), (5ULL << 32) | IPI_VEC);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_ICR)), (5ULL << 32) | IPI_VEC);
	asm volatile("sti; nop; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_DONE();
}

static void x2apic_tpr_self_ipi_icr(void)
{
	struct vcpu *vcpu = split_vm(guest_x2apic_regs);

	vm_install_exception_handler(vcpu->vm, IPI_VEC, guest_irq_x2apic);
	cpuid_add_leaf1_ecx(vcpu, CPUID1_ECX_X2APIC);
	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

static void x2apic_mode(void)
{
	struct vcpu *vcpu = split_vm(guest_x2apic);
	struct kvm_lapic_state s;

	vm_install_exception_handler(vcpu->vm, IPI_VEC, guest_irq_x2apic);
	cpuid_add_leaf1_ecx(vcpu, CPUID1_ECX_X2APIC);
	vcpu_run_expect_sync(vcpu, 0xffffffff);
	/* Without KVM_CAP_X2APIC_API the state keeps the ID in bits 31:24. */
	get_lapic(vcpu, &s);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_ID), 0);
	TEST_ASSERT_EQ(lapic_reg(&s, APIC_LDR), 1);
	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

/*
 * KVM_SET_LAPIC then KVM_GET_LAPIC gives the registers back; the guest
 * sees what was set.
 */
static void guest_sees_tpr(void)
{
	GUEST_SYNC(apic_read(APIC_TASKPRI));
	GUEST_DONE();
}

static void set_get_lapic_roundtrip(void)
{
	struct vcpu *vcpu = split_vm(guest_sees_tpr);
	struct kvm_lapic_state s, t;
	uint32_t v;

	get_lapic(vcpu, &s);
	v = 0x40;
	memcpy(s.regs + APIC_TASKPRI, &v, 4);
	v = APIC_SPIV_ENABLE | 0xfe;
	memcpy(s.regs + APIC_SPIV, &v, 4);
	v = TIMER_VEC | LVT_MASKED;
	memcpy(s.regs + APIC_LVTT, &v, 4);
	v = 0x01000000;
	memcpy(s.regs + APIC_LDR, &v, 4);
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_SET_LAPIC, &s));
	get_lapic(vcpu, &t);
	TEST_ASSERT_EQ(lapic_reg(&t, APIC_TASKPRI), 0x40);
	TEST_ASSERT_EQ(lapic_reg(&t, APIC_PROCPRI), 0x40);
	TEST_ASSERT_EQ(lapic_reg(&t, APIC_SPIV), APIC_SPIV_ENABLE | 0xfe);
	TEST_ASSERT_EQ(lapic_reg(&t, APIC_LVTT), TIMER_VEC | LVT_MASKED);
	TEST_ASSERT_EQ(lapic_reg(&t, APIC_LDR), 0x01000000);
	vcpu_run_expect_sync(vcpu, 0x40);
	vm_free(vcpu->vm);
}

/*
 * KVM_SIGNAL_MSI (11.11): address 0xfee<dest>000, data = vector, fixed;
 * the guest takes it at its next instruction boundary with IF set. The
 * ioctl returns how many APICs took it.
 */
static void guest_waits_for_msi(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	GUEST_SYNC(0);
	while (!nirqs)
		asm volatile("sti; hlt; cli");
	GUEST_ASSERT_EQ(last_vector, MSI_VEC);
	GUEST_DONE();
}

static void msi_reaches_vcpu(void)
{
	struct vcpu *vcpu = split_vm(guest_waits_for_msi);
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = MSI_VEC };

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(ioctl(vcpu->vm->fd, KVM_SIGNAL_MSI, &msi), 1);
	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

/*
 * INIT then SIPI (SDM Vol 3 9.4.4): an AP waiting for SIPI starts in real
 * mode at CS = vector << 8, IP = 0. The BSP sends both; the AP's first
 * instruction there is an OUT the VMM sees.
 */
#define SIPI_VECTOR	0x08	/* starts at 0x8000 */
#define AP_PORT		0x77

static void guest_send_init_sipi(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_ICR2, 1u << 24);
	apic_write(APIC_ICR, ICR_INIT | ICR_ASSERT);
	apic_write(APIC_ICR2, 1u << 24);
	apic_write(APIC_ICR, ICR_STARTUP | SIPI_VECTOR);
	GUEST_DONE();
}

static void init_sipi_starts_ap(void)
{
	/* mov al, 0x5a; out AP_PORT, al; hlt */
	static const uint8_t ap_code[] = { 0xb0, 0x5a, 0xe6, AP_PORT, 0xf4 };
	struct vcpu *bsp = split_vm(guest_send_init_sipi);
	struct vcpu *ap = vm_vcpu_add_raw(bsp->vm, 1);
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	vm_write(bsp->vm, SIPI_VECTOR << 12, ap_code, sizeof(ap_code));
	TEST_ASSERT_EQ(get_mp_state(ap), KVM_MP_STATE_UNINITIALIZED);
	vcpu_run_expect_done(bsp);
	TEST_ASSERT_EQ(get_mp_state(ap), KVM_MP_STATE_RUNNABLE);
	TEST_ASSERT_EQ(vcpu_run(ap), KVM_EXIT_IO);
	TEST_ASSERT_EQ(*(uint8_t *)assert_pio_exit(ap, KVM_EXIT_IO_OUT, AP_PORT, 1), 0x5a);
	vcpu_get_sregs(ap, &sregs);
	vcpu_get_regs(ap, &regs);
	TEST_ASSERT_EQ(sregs.cs.selector, SIPI_VECTOR << 8);
	TEST_ASSERT_EQ(sregs.cs.base, SIPI_VECTOR << 12);
	TEST_ASSERT_EQ(regs.rip, 2);
	vm_free(bsp->vm);
}

/*
 * A fixed IPI from vCPU 0 to vCPU 1 (physical destination 1), which
 * waits in HLT on another thread: it wakes and takes the vector.
 */
static volatile uint64_t ap_ready;

static void guest_ipi_receiver(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	ap_ready = 1;
	while (!nirqs)
		asm volatile("sti; hlt; cli");
	GUEST_SYNC(last_vector);
}

static void guest_ipi_sender(void)
{
	while (!ap_ready)
		asm volatile("pause");
	apic_write(APIC_ICR2, 1u << 24);
	apic_write(APIC_ICR, IPI_VEC);
	GUEST_DONE();
}

static void *run_receiver(void *arg)
{
	struct vcpu *vcpu = arg;

	vcpu_run_expect_sync(vcpu, IPI_VEC);
	return NULL;
}

/*
 * The same IPI to a vCPU that does not halt: it spins with interrupts on
 * and makes no exits of its own, so the interrupt must reach it in (or
 * on its way back to) guest mode, as a kick and the posted-interrupt
 * descriptor deliver it.
 */
static void guest_ipi_spinner(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	asm volatile("sti");
	ap_ready = 1;
	while (!nirqs)
		asm volatile("" : : : "memory");
	asm volatile("cli");
	GUEST_SYNC(last_vector);
}

/*
 * vCPU 0 runs guest_ipi_sender; vCPU 1, made runnable by the VMM (it need
 * not wait for SIPI), runs @receiver on a thread of its own.
 */
static void ipi_to_second_vcpu(void (*receiver)(void))
{
	struct vcpu *bsp = split_vm(guest_ipi_sender);
	struct vcpu *ap = vm_vcpu_add(bsp->vm, 1);
	pthread_t t;

	ap_ready = 0;
	sync_global_to_guest(bsp->vm, ap_ready);
	vcpu_set_entry(ap, receiver);
	set_mp_state(ap, KVM_MP_STATE_RUNNABLE);
	TEST_ASSERT_OK(pthread_create(&t, NULL, run_receiver, ap));
	vcpu_run_expect_done(bsp);
	TEST_ASSERT_OK(pthread_join(t, NULL));
	vm_free(bsp->vm);
}

static void ipi_reaches_running_vcpu(void)
{
	ipi_to_second_vcpu(guest_ipi_spinner);
}

static void ipi_wakes_other_vcpu(void)
{
	ipi_to_second_vcpu(guest_ipi_receiver);
}

/*
 * RFLAGS.IF = 0 holds back every maskable interrupt for as long as it
 * stays clear (SDM Vol 3 6.8.1), however many host interrupts come and
 * go meanwhile: the guest spins without exits for many host timer ticks
 * (which end guest mode, or not, as the CPU's interrupt handling goes).
 * With VMX virtual-interrupt delivery that is the CPU's rule, not the
 * hypervisor's: hvx must not leave it a vector it could deliver early.
 * Bochs 2.7 does deliver a pending virtual interrupt at IF = 0 when a
 * physical one arrives after a CLI in guest mode (hence the CLIs in the
 * spin below); a Linux guest took its timer interrupt inside a spinlock
 * that way, and deadlocked.
 */
#define HELD_NS		1000000u	/* 1 ms */
#define HELD_SPIN_MS	40

static volatile uint64_t tsc_per_ms, nested_irqs;

/* The guest's TSC rate, from a masked one-shot of HELD_NS. */
static void guest_measure_tsc(void)
{
	uint64_t t0;

	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	apic_write(APIC_TDCR, TDCR_DIV_1);
	apic_write(APIC_LVTT, LVT_MASKED | TIMER_VEC);
	apic_write(APIC_TMICT, HELD_NS);
	t0 = rdtsc();
	while (apic_read(APIC_TMCCT))
		;
	tsc_per_ms = (rdtsc() - t0) * 1000000 / HELD_NS;
}

/*
 * Spin with no exits for HELD_SPIN_MS of guest TSC time, with CLIs on
 * the way as a kernel's nested irqsave sections make them: each leaves
 * IF = 0 as it was.
 */
static void guest_spin_held(void)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < HELD_SPIN_MS * tsc_per_ms)
		asm volatile("cli" : : : "memory");
}

static bool guest_irr_has(unsigned int vec)
{
	return apic_read(APIC_IRR + (vec >> 5) * 0x10) & (1u << (vec & 31));
}

/* The timer fires while IF = 0; its vector waits until STI. */
static void guest_timer_held(void)
{
	guest_measure_tsc();
	apic_write(APIC_LVTT, TIMER_VEC);
	apic_write(APIC_TMICT, HELD_NS);
	while (!guest_irr_has(TIMER_VEC))
		;
	guest_spin_held();
	GUEST_ASSERT_EQ(nirqs, 0);
	GUEST_ASSERT(guest_irr_has(TIMER_VEC));
	asm volatile("sti; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_ASSERT_EQ(last_vector, TIMER_VEC);
	GUEST_DONE();
}

static void if_clear_holds_timer(void)
{
	struct vcpu *vcpu = split_vm(guest_timer_held);

	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

/*
 * The same for self-IPIs, which VMX can virtualize without an exit
 * (SDM Vol 3 29.1.5): through the x2APIC SELF IPI register, and through
 * the xAPIC ICR. The Bochs rig skips the xAPIC case on hvx (bochs/
 * config.sh, RIG_BOCHS_FLAW_SKIP): Bochs virtualizes that write, and no
 * VM exit lets hvx hold the vector back from its flawed delivery. It
 * runs there with enable_apic_access=0, where the write exits.
 */
static void guest_x2apic_self_ipi_held(void)
{
	guest_measure_tsc();
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) | APICBASE_X2APIC);
	wrmsr(MSR_X2APIC_SELF_IPI, IPI_VEC);
	guest_spin_held();
	GUEST_ASSERT_EQ(nirqs, 0);
	GUEST_ASSERT_EQ(rdmsr(X2APIC_MSR(APIC_IRR + (IPI_VEC >> 5) * 0x10)),
			1u << (IPI_VEC & 31));
	asm volatile("sti; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_ASSERT_EQ(last_vector, IPI_VEC);
	GUEST_DONE();
}

static void if_clear_holds_x2apic_selfipi(void)
{
	struct vcpu *vcpu = split_vm(guest_x2apic_self_ipi_held);

	vm_install_exception_handler(vcpu->vm, IPI_VEC, guest_irq_x2apic);
	cpuid_add_leaf1_ecx(vcpu, CPUID1_ECX_X2APIC);
	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

static void guest_xapic_self_ipi_held(void)
{
	guest_measure_tsc();
	apic_write(APIC_ICR, ICR_SELF | IPI_VEC);
	guest_spin_held();
	GUEST_ASSERT_EQ(nirqs, 0);
	GUEST_ASSERT(guest_irr_has(IPI_VEC));
	asm volatile("sti; nop; cli");
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_ASSERT_EQ(last_vector, IPI_VEC);
	GUEST_DONE();
}

static void if_clear_holds_xapic_selfipi(void)
{
	struct vcpu *vcpu = split_vm(guest_xapic_self_ipi_held);

	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

/*
 * The same after an EOI: in TIMER_VEC's handler (IF = 0) a lower vector
 * waits behind the PPR (11.8.3); the EOI lowers the PPR, and the vector
 * still waits, now for the IRET, not for the EOI. A second entry into a
 * handler before the first returned counts in nested_irqs.
 */
static volatile uint64_t in_handler;

static void guest_irq_eoi_held(struct ex_regs *regs)
{
	if (in_handler)
		nested_irqs++;
	in_handler = 1;
	nirqs++;
	last_vector = regs->vector;
	if (regs->vector == TIMER_VEC) {
		apic_write(APIC_LVTT, IPI_VEC);
		apic_write(APIC_TMICT, HELD_NS);
		while (!guest_irr_has(IPI_VEC))
			;
		apic_write(APIC_EOI, 0);
		guest_spin_held();
		GUEST_ASSERT(guest_irr_has(IPI_VEC));
	} else {
		apic_write(APIC_EOI, 0);
	}
	in_handler = 0;
}

static void guest_eoi_held(void)
{
	guest_measure_tsc();
	apic_write(APIC_LVTT, TIMER_VEC);
	apic_write(APIC_TMICT, HELD_NS);
	while (!guest_irr_has(TIMER_VEC))
		;
	asm volatile("sti; nop; cli");
	GUEST_ASSERT_EQ(nested_irqs, 0);
	GUEST_ASSERT_EQ(nirqs, 2);
	GUEST_ASSERT_EQ(last_vector, IPI_VEC);
	GUEST_DONE();
}

static void eoi_with_if_clear_holds_vector(void)
{
	struct vcpu *vcpu = split_vm(guest_eoi_held);

	vm_install_exception_handler(vcpu->vm, TIMER_VEC, guest_irq_eoi_held);
	vm_install_exception_handler(vcpu->vm, IPI_VEC, guest_irq_eoi_held);
	vcpu_run_expect_done(vcpu);
	vm_free(vcpu->vm);
}

static const struct test_case cases[] = {
	TEST_CASE(split_irqchip_enable_rules, "KVM_CAP_SPLIT_IRQCHIP: before vCPUs, once, at most 4096 pins"),
	TEST_CASE(no_lapic_without_irqchip, "without an irqchip: no KVM_GET_LAPIC or MSIs, only RUNNABLE"),
	TEST_CASE(reset_state, "power-on APIC registers and MP states of the BSP and an AP"),
	TEST_CASE(xapic_page_in_kernel, "xAPIC page: ID, version, TPR/PPR and CR8 in the kernel"),
	TEST_CASE(timer_oneshot, "one-shot timer: TMCCT counts down, one interrupt, not early"),
	TEST_CASE(timer_periodic, "periodic timer: ten periods, not early"),
	TEST_CASE(timer_tsc_deadline, "TSC-deadline timer: fires, MSR reads 0 after, past deadline at once"),
	TEST_CASE(hlt_waits_in_kernel, "HLT with nothing pending: KVM_RUN waits until a signal, vCPU halted"),
	TEST_CASE(self_ipi, "self-IPI through the ICR"),
	TEST_CASE(tpr_blocks_lower_classes, "TPR holds a vector of its class in the IRR"),
	TEST_CASE(x2apic_mode, "x2APIC: MSRs, ID, LDR, SELF IPI; the xAPIC page reads as ones"),
	TEST_CASE(set_get_lapic_roundtrip, "KVM_SET_LAPIC / KVM_GET_LAPIC round trip"),
	TEST_CASE(msi_reaches_vcpu, "KVM_SIGNAL_MSI wakes the halted vCPU with the vector"),
	TEST_CASE(init_sipi_starts_ap, "INIT + SIPI start an AP in real mode at the SIPI page"),
	TEST_CASE(ipi_wakes_other_vcpu, "a fixed IPI wakes another vCPU halted on another thread"),
	TEST_CASE(cr8_tpr_ppr, "CR8 and TPR/PPR in step; a held vector comes in once CR8 drops"),
	TEST_CASE(x2apic_tpr_self_ipi_icr, "x2APIC: TPR/PPR via MSRs and CR8, SELF IPI held by the TPR, 64-bit ICR"),
	TEST_CASE(ipi_reaches_running_vcpu, "a fixed IPI reaches another vCPU spinning in guest mode"),
	TEST_CASE(if_clear_holds_timer, "IF=0 holds the timer's vector through host interrupts until STI"),
	TEST_CASE(if_clear_holds_x2apic_selfipi, "IF=0 holds an x2APIC self-IPI through host interrupts"),
	TEST_CASE(if_clear_holds_xapic_selfipi, "IF=0 holds an xAPIC self-IPI through host interrupts"),
	TEST_CASE(eoi_with_if_clear_holds_vector, "after an EOI at IF=0 a lower vector waits for the IRET"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
