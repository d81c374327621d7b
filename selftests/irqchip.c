// SPDX-License-Identifier: GPL-2.0
/*
 * The full in-kernel irqchip (KVM_CREATE_IRQCHIP): the IOAPIC at
 * 0xfec00000 (82093AA datasheet), the dual 8259A PIC on ports 0x20/0xa0
 * with its ELCR, KVM_IRQ_LINE(_STATUS) into both (GSI n is IOAPIC pin n
 * and, below 16, PIC line n), level-triggered EOIs from the local APIC
 * back to the IOAPIC, the PIC's ExtINT through vCPU 0's LINT0, and
 * KVM_GET/SET_IRQCHIP (Documentation/virt/kvm/api.rst).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "apic.h"
#include "guest_irq.h"
#include "ioapic.h"
#include "pic.h"
#include "kvm_util.h"

#define EDGE_PIN	17
#define LEVEL_PIN	18
#define MASKED_PIN	19
#define EDGE_VEC	0x61
#define LEVEL_VEC	0x62
#define MASKED_VEC	0x63

#define PIC_BASE_M	0x20
#define PIC_BASE_S	0x28
#define PIC_IRQ_M	3	/* master IR3: vector 0x23 */
#define PIC_IRQ_S	10	/* slave IR2: vector 0x2a */

static struct vcpu *irqchip_vm(void *fn)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	vcpu = vm_vcpu_add(vm, 0);
	vm_install_exception_handler(vm, EDGE_VEC, guest_irq_eoi);
	vm_install_exception_handler(vm, LEVEL_VEC, guest_irq);
	vm_install_exception_handler(vm, MASKED_VEC, guest_irq);
	vm_install_exception_handler(vm, PIC_BASE_M + PIC_IRQ_M, guest_irq);
	vm_install_exception_handler(vm, PIC_BASE_S + (PIC_IRQ_S & 7), guest_irq);
	vcpu_set_entry(vcpu, fn);
	return vcpu;
}

static int irq_line(struct vm *vm, uint32_t gsi, uint32_t level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_IRQ_LINE_STATUS, &irq));
	return irq.status;
}

static void get_irqchip(struct vm *vm, uint32_t id, struct kvm_irqchip *c)
{
	memset(c, 0, sizeof(*c));
	c->chip_id = id;
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_GET_IRQCHIP, c));
}

/*
 * KVM_CREATE_IRQCHIP once, before vCPUs: -EEXIST for a second irqchip
 * (split included), -EINVAL once a vCPU exists. Without it, the
 * irqchip ioctls are -ENXIO; with it, KVM_INTERRUPT is.
 */
static void create_rules(void)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct kvm_irq_level irq = { .irq = 1, .level = 1 };
	struct kvm_interrupt intr = { .irq = 0x30 };
	struct kvm_lapic_state lapic;
	struct kvm_irqchip c = { .chip_id = KVM_IRQCHIP_IOAPIC };
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_IRQCHIP), 1);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_IRQ_INJECT_STATUS), 1);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_IRQ_LINE, &irq), ENXIO);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_IRQ_LINE_STATUS, &irq), ENXIO);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_GET_IRQCHIP, &c), ENXIO);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_SET_IRQCHIP, &c), ENXIO);
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0), EEXIST);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_ENABLE_CAP, &cap), EEXIST);
	vcpu = vm_vcpu_add(vm, 0);
	/* The vCPU got a local APIC. */
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_LAPIC, &lapic));
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_INTERRUPT, &intr), ENXIO);
	/* No chip behind GSI 24 and up (KVM's default routes end at 23). */
	TEST_ASSERT_EQ(irq_line(vm, 24, 1), -1);
	TEST_ASSERT_EQ(irq_line(vm, 1000, 1), -1);
	c.chip_id = 3;
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_GET_IRQCHIP, &c), EINVAL);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_SET_IRQCHIP, &c), EINVAL);
	vm_free(vm);

	vm = vm_create();
	vm_vcpu_add(vm, 0);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0), EINVAL);
	vm_free(vm);

	vm = vm_create();
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0), EEXIST);
	/* A split irqchip has no routes for KVM_IRQ_LINE: status -1. */
	TEST_ASSERT_EQ(irq_line(vm, 1, 1), -1);
	c.chip_id = KVM_IRQCHIP_IOAPIC;
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_GET_IRQCHIP, &c), ENXIO);
	vm_free(vm);
}

/* The IOAPIC's registers through its MMIO window (datasheet 3.2). */
static void guest_ioapic_regs(void)
{
	/* Version 0x11, 24 entries (maximum redirection entry 23). */
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_VER), 0x170011);
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_ID), 0);
	ioapic_write(IOAPIC_ID, 0x0a000000);
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_ID), 0x0a000000);
	/* Every pin comes up masked. */
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_REDIR(0)), REDIR_MASKED);
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_REDIR(23) + 1), 0);
	/* Remote IRR and delivery status are read-only. */
	ioapic_write(IOAPIC_REDIR(5), 0x1ffff);
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_REDIR(5)), 0x1afff);
	ioapic_write(IOAPIC_REDIR(5) + 1, 0xff000000);
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_REDIR(5) + 1), 0xff000000);
	/* Past the last entry: all ones. */
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_REDIR(24)), 0xffffffff);
	GUEST_DONE();
}

static void ioapic_regs(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_ioapic_regs);
	struct kvm_irqchip c;

	vcpu_run_expect_done(vcpu);
	get_irqchip(vcpu->vm, KVM_IRQCHIP_IOAPIC, &c);
	TEST_ASSERT_EQ(c.chip.ioapic.id, 0xa);
	TEST_ASSERT_EQ(c.chip.ioapic.redirtbl[5].bits, 0xff0000000001afffULL);
	vm_free(vcpu->vm);
}

/* An edge pin: one interrupt per rising edge, with the programmed vector. */
static void guest_ioapic_edge(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	ioapic_route(EDGE_PIN, EDGE_VEC);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_ASSERT_EQ(last_vector, EDGE_VEC);
	GUEST_SYNC(1);
	irq_window();
	GUEST_ASSERT_EQ(nirqs, 1);
	GUEST_DONE();
}

static void ioapic_edge(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_ioapic_edge);
	struct vm *vm = vcpu->vm;

	vcpu_run_expect_sync(vcpu, 0);
	/* Delivered to one APIC; a second raise while high is coalesced. */
	TEST_ASSERT_EQ(irq_line(vm, EDGE_PIN, 1), 1);
	TEST_ASSERT_EQ(irq_line(vm, EDGE_PIN, 1), 0);
	TEST_ASSERT_EQ(irq_line(vm, EDGE_PIN, 0), 1);
	vcpu_run_expect_sync(vcpu, 1);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

/*
 * A level pin: Remote IRR from delivery until the APIC's EOI; an EOI
 * with the line still high delivers again, one with it low does not.
 */
static void guest_ioapic_level(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	ioapic_route(LEVEL_PIN, LEVEL_VEC | REDIR_LEVEL);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_ASSERT_EQ(last_vector, LEVEL_VEC);
	GUEST_SYNC(ioapic_read(IOAPIC_REDIR(LEVEL_PIN)));
	/* The line is still high: the EOI brings the interrupt back. */
	apic_write(APIC_EOI, 0);
	wait_irqs(2);
	GUEST_SYNC(2);
	/* Now the line is low: the EOI ends it. */
	apic_write(APIC_EOI, 0);
	GUEST_SYNC(ioapic_read(IOAPIC_REDIR(LEVEL_PIN)));
	irq_window();
	GUEST_ASSERT_EQ(nirqs, 2);
	GUEST_DONE();
}

static void ioapic_level(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_ioapic_level);
	struct vm *vm = vcpu->vm;
	struct kvm_irqchip c;

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(irq_line(vm, LEVEL_PIN, 1), 1);
	/* Remote IRR set: a second raise is not delivered again. */
	TEST_ASSERT_EQ(irq_line(vm, LEVEL_PIN, 1), -1);
	vcpu_run_expect_sync(vcpu, LEVEL_VEC | REDIR_LEVEL | REDIR_REMOTE_IRR);
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &c);
	TEST_ASSERT_EQ(c.chip.ioapic.irr, 1u << LEVEL_PIN);
	TEST_ASSERT_EQ(c.chip.ioapic.redirtbl[LEVEL_PIN].fields.remote_irr, 1);
	vcpu_run_expect_sync(vcpu, 2);
	TEST_ASSERT_EQ(irq_line(vm, LEVEL_PIN, 0), 1);
	vcpu_run_expect_sync(vcpu, LEVEL_VEC | REDIR_LEVEL);
	vcpu_run_expect_done(vcpu);
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &c);
	TEST_ASSERT_EQ(c.chip.ioapic.irr, 0);
	vm_free(vm);
}

/*
 * In x2APIC mode the EOI is an MSR write (SDM Vol 3 11.12.1.2); a level
 * EOI there reaches the IOAPIC just the same.
 */
static void guest_ioapic_level_x2apic(void)
{
	wrmsr(MSR_IA32_APICBASE, rdmsr(MSR_IA32_APICBASE) | APICBASE_X2APIC);
	wrmsr(X2APIC_MSR(APIC_SPIV), APIC_SPIV_ENABLE | 0xff);
	ioapic_route(LEVEL_PIN, LEVEL_VEC | REDIR_LEVEL);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_REDIR(LEVEL_PIN)) & REDIR_REMOTE_IRR,
			REDIR_REMOTE_IRR);
	GUEST_SYNC(1);
	wrmsr(X2APIC_MSR(APIC_EOI), 0);
	GUEST_ASSERT_EQ(ioapic_read(IOAPIC_REDIR(LEVEL_PIN)), LEVEL_VEC | REDIR_LEVEL);
	GUEST_DONE();
}

static void ioapic_level_x2apic(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_ioapic_level_x2apic);
	const struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
	struct kvm_cpuid2 *cpuid = cpuid_alloc(sup->nent);
	struct vm *vm = vcpu->vm;

	memcpy(cpuid->entries, sup->entries, sup->nent * sizeof(sup->entries[0]));
	cpuid->nent = sup->nent;
	cpuid_find(cpuid, 1, 0)->ecx |= 1u << 21;	/* x2APIC */
	vcpu_set_cpuid(vcpu, cpuid);
	free(cpuid);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(irq_line(vm, LEVEL_PIN, 1), 1);
	vcpu_run_expect_sync(vcpu, 1);
	TEST_ASSERT_EQ(irq_line(vm, LEVEL_PIN, 0), 1);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

/*
 * A masked pin sends nothing; a level pin unmasked while its line is
 * high sends then.
 */
static void guest_ioapic_masked(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	ioapic_route(MASKED_PIN, MASKED_VEC | REDIR_LEVEL | REDIR_MASKED);
	GUEST_SYNC(0);
	irq_window();
	GUEST_ASSERT_EQ(nirqs, 0);
	ioapic_route(MASKED_PIN, MASKED_VEC | REDIR_LEVEL);
	wait_irqs(1);
	GUEST_ASSERT_EQ(last_vector, MASKED_VEC);
	GUEST_SYNC(ioapic_read(IOAPIC_REDIR(MASKED_PIN)));
	apic_write(APIC_EOI, 0);
	GUEST_DONE();
}

static void ioapic_masked(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_ioapic_masked);
	struct vm *vm = vcpu->vm;
	struct kvm_irqchip c;

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(irq_line(vm, MASKED_PIN, 1), -1);
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &c);
	TEST_ASSERT_EQ(c.chip.ioapic.irr, 1u << MASKED_PIN);
	vcpu_run_expect_sync(vcpu, MASKED_VEC | REDIR_LEVEL | REDIR_REMOTE_IRR);
	TEST_ASSERT_EQ(irq_line(vm, MASKED_PIN, 0), 1);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

/*
 * What the APIC bus answers, from the VMM alone: a level pin routed to
 * vCPU 0's APIC, software-disabled after reset, is dropped there (status
 * 0, no Remote IRR); to an APIC ID no vCPU has it counts 0 too (KVM's
 * APIC-map path), and so does an MSI to the disabled APIC.
 */
static void ioapic_dropped(void)
{
	struct vm *vm = vm_create();
	struct kvm_msi msi = { .address_lo = 0xfee00000, .data = LEVEL_VEC };
	struct kvm_irqchip c;

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	vm_vcpu_add(vm, 0);
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &c);
	c.chip.ioapic.redirtbl[LEVEL_PIN].bits = LEVEL_VEC | REDIR_LEVEL;
	c.chip.ioapic.redirtbl[EDGE_PIN].bits = EDGE_VEC | (5ULL << 56);
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_SET_IRQCHIP, &c));
	TEST_ASSERT_EQ(irq_line(vm, LEVEL_PIN, 1), 0);
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &c);
	TEST_ASSERT_EQ(c.chip.ioapic.redirtbl[LEVEL_PIN].fields.remote_irr, 0);
	TEST_ASSERT_EQ(c.chip.ioapic.irr, 1u << LEVEL_PIN);
	TEST_ASSERT_EQ(irq_line(vm, EDGE_PIN, 1), 0);
	TEST_ASSERT_EQ(ioctl(vm->fd, KVM_SIGNAL_MSI, &msi), 0);
	vm_free(vm);
}

/*
 * KVM's default routing: GSI n is IOAPIC pin n (all 24) and, below 16,
 * PIC line n (the slave's from 8). With every pin masked and the PICs
 * unmasked after power-on, a raise counts 1 below 16 (the PIC) and -1
 * above; the requests show in both chips' IRR. A lowered line counts 1
 * per chip.
 */
static void default_routing(void)
{
	struct vm *vm = vm_create();
	struct kvm_irqchip c;
	uint32_t gsi;

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	for (gsi = 0; gsi < 24; gsi++)
		TEST_ASSERT_EQ(irq_line(vm, gsi, 1), gsi < 16 ? 1 : -1);
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &c);
	TEST_ASSERT_EQ(c.chip.ioapic.irr, 0xffffff);
	get_irqchip(vm, KVM_IRQCHIP_PIC_MASTER, &c);
	TEST_ASSERT_EQ(c.chip.pic.irr, 0xff);
	get_irqchip(vm, KVM_IRQCHIP_PIC_SLAVE, &c);
	TEST_ASSERT_EQ(c.chip.pic.irr, 0xff);
	for (gsi = 0; gsi < 24; gsi++)
		TEST_ASSERT_EQ(irq_line(vm, gsi, 0), gsi < 16 ? 2 : 1);
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &c);
	TEST_ASSERT_EQ(c.chip.ioapic.irr, 0);
	vm_free(vm);
}

/*
 * The PIC programmed by the guest: IR3 of the master, then IR2 of the
 * slave (master IR2), arrive as ExtINT with vector base + line, only
 * with IF set; ISR until the guest's EOI (OCW2).
 */
static void guest_pic(void)
{
	pic_init(0x20, PIC_BASE_M, 0x04);
	pic_init(0xa0, PIC_BASE_S, 0x02);
	outb(0x21, (uint8_t)~((1u << PIC_IRQ_M) | (1u << 2)));
	outb(0xa1, (uint8_t)~(1u << (PIC_IRQ_S & 7)));
	GUEST_ASSERT_EQ(inb(0x21), (uint8_t)~((1u << PIC_IRQ_M) | (1u << 2)));
	GUEST_SYNC(0);
	/* Raised while IF is clear: it waits. */
	asm volatile("nop; nop; nop" ::: "memory");
	GUEST_ASSERT_EQ(nirqs, 0);
	outb(0x20, 0x0a);		/* OCW3: read IRR */
	GUEST_ASSERT_EQ(inb(0x20), 1u << PIC_IRQ_M);
	wait_irqs(1);
	GUEST_ASSERT_EQ(last_vector, PIC_BASE_M + PIC_IRQ_M);
	GUEST_ASSERT_EQ(pic_isr(0x20), 1u << PIC_IRQ_M);
	outb(0x20, 0x20);		/* OCW2: non-specific EOI */
	GUEST_ASSERT_EQ(pic_isr(0x20), 0);
	GUEST_SYNC(1);
	wait_irqs(2);
	GUEST_ASSERT_EQ(last_vector, PIC_BASE_S + (PIC_IRQ_S & 7));
	GUEST_ASSERT_EQ(pic_isr(0x20), 1u << 2);
	GUEST_ASSERT_EQ(pic_isr(0xa0), 1u << (PIC_IRQ_S & 7));
	outb(0xa0, 0x20);
	outb(0x20, 0x20);
	GUEST_ASSERT_EQ(pic_isr(0xa0), 0);
	GUEST_ASSERT_EQ(pic_isr(0x20), 0);
	GUEST_DONE();
}

static void pic_extint(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_pic);
	struct vm *vm = vcpu->vm;
	struct kvm_irqchip c;

	vcpu_run_expect_sync(vcpu, 0);
	/* The PIC takes it (1); IOAPIC pin 3 is masked (not counted). */
	TEST_ASSERT_EQ(irq_line(vm, PIC_IRQ_M, 1), 1);
	TEST_ASSERT_EQ(irq_line(vm, PIC_IRQ_M, 0), 2);
	vcpu_run_expect_sync(vcpu, 1);
	TEST_ASSERT_EQ(irq_line(vm, PIC_IRQ_S, 1), 1);
	TEST_ASSERT_EQ(irq_line(vm, PIC_IRQ_S, 0), 2);
	vcpu_run_expect_done(vcpu);
	get_irqchip(vm, KVM_IRQCHIP_PIC_MASTER, &c);
	TEST_ASSERT_EQ(c.chip.pic.irq_base, PIC_BASE_M);
	TEST_ASSERT_EQ(c.chip.pic.imr, (uint8_t)~((1u << PIC_IRQ_M) | (1u << 2)));
	TEST_ASSERT_EQ(c.chip.pic.isr, 0);
	TEST_ASSERT_EQ(c.chip.pic.init_state, 0);
	get_irqchip(vm, KVM_IRQCHIP_PIC_SLAVE, &c);
	TEST_ASSERT_EQ(c.chip.pic.irq_base, PIC_BASE_S);
	vm_free(vm);
}

/*
 * String I/O on the PIC's ports is the PIC's too: ICW2-4 and OCW1 as one
 * REP OUTSB to port 0x21, the mask read back with INSB.
 */
static void guest_pic_string_io(void)
{
	static const uint8_t icw[] = { 0x30, 0x04, 0x01, 0xa5 };
	static uint8_t imr[2];
	const void *src = icw;
	void *dst = imr;
	uint64_t n = sizeof(icw);

	outb(0x20, 0x11);
	asm volatile("cld; rep outsb" : "+S"(src), "+c"(n) : "d"(0x21) : "memory");
	GUEST_ASSERT_EQ(n, 0);
	n = 2;
	asm volatile("cld; rep insb" : "+D"(dst), "+c"(n) : "d"(0x21) : "memory");
	GUEST_ASSERT_EQ(imr[0], 0xa5);
	GUEST_ASSERT_EQ(imr[1], 0xa5);
	GUEST_DONE();
}

static void pic_string_io(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_pic_string_io);
	struct kvm_irqchip c;

	vcpu_run_expect_done(vcpu);
	get_irqchip(vcpu->vm, KVM_IRQCHIP_PIC_MASTER, &c);
	TEST_ASSERT_EQ(c.chip.pic.irq_base, 0x30);
	TEST_ASSERT_EQ(c.chip.pic.imr, 0xa5);
	TEST_ASSERT_EQ(c.chip.pic.init_state, 0);
	vm_free(vcpu->vm);
}

/*
 * A level-triggered PIC line (ELCR): it stays in the IRR while high, so
 * the interrupt comes back after the guest's EOI until the line drops.
 * The guest reads it with the poll command in the second round.
 */
#define PIC_LEVEL_IRQ	5

static void guest_pic_level(void)
{
	pic_init(0x20, PIC_BASE_M, 0x04);
	pic_init(0xa0, PIC_BASE_S, 0x02);
	outb(0x4d0, 1u << PIC_LEVEL_IRQ);
	GUEST_ASSERT_EQ(inb(0x4d0), 1u << PIC_LEVEL_IRQ);
	/* IR0-2 of the master can only be edge-triggered (PIIX ELCR). */
	outb(0x4d0, 0xff);
	GUEST_ASSERT_EQ(inb(0x4d0), 0xf8);
	outb(0x4d0, 1u << PIC_LEVEL_IRQ);
	outb(0x21, (uint8_t)~(1u << PIC_LEVEL_IRQ));
	outb(0xa1, 0xff);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_ASSERT_EQ(last_vector, PIC_BASE_M + PIC_LEVEL_IRQ);
	outb(0x20, 0x60 | PIC_LEVEL_IRQ);	/* OCW2: specific EOI */
	wait_irqs(2);
	GUEST_ASSERT_EQ(last_vector, PIC_BASE_M + PIC_LEVEL_IRQ);
	outb(0x20, 0x20);
	GUEST_SYNC(1);
	/* Line low now: nothing more. Poll finds nothing either (0x07). */
	irq_window();
	GUEST_ASSERT_EQ(nirqs, 2);
	outb(0x20, 0x0c);			/* OCW3: poll */
	GUEST_ASSERT_EQ(inb(0x20), 0x07);
	GUEST_SYNC(2);
	/*
	 * With IF clear, poll reports the request and takes it. KVM answers
	 * the bare line and leaves the ISR clear (the datasheet would add
	 * bit 7 and set the ISR bit).
	 */
	outb(0x20, 0x0c);
	GUEST_ASSERT_EQ(inb(0x20), PIC_LEVEL_IRQ);
	GUEST_ASSERT_EQ(pic_isr(0x20), 0);
	outb(0x20, 0x0a);
	GUEST_ASSERT_EQ(inb(0x20), 0);
	GUEST_DONE();
}

static void pic_level(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_pic_level);
	struct vm *vm = vcpu->vm;

	vm_install_exception_handler(vm, PIC_BASE_M + PIC_LEVEL_IRQ, guest_irq);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(irq_line(vm, PIC_LEVEL_IRQ, 1), 1);
	/* Already requested: coalesced. */
	TEST_ASSERT_EQ(irq_line(vm, PIC_LEVEL_IRQ, 1), 0);
	vcpu_run_expect_sync(vcpu, 1);
	TEST_ASSERT_EQ(irq_line(vm, PIC_LEVEL_IRQ, 0), 2);
	vcpu_run_expect_sync(vcpu, 2);
	TEST_ASSERT_EQ(irq_line(vm, PIC_LEVEL_IRQ, 1), 1);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

/*
 * A vCPU halted inside KVM_RUN wakes when another thread raises a line:
 * first an IOAPIC pin, then a PIC line (ExtINT).
 */
static void guest_halted_wakes(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	ioapic_route(EDGE_PIN, EDGE_VEC);
	pic_init(0x20, PIC_BASE_M, 0x04);
	pic_init(0xa0, PIC_BASE_S, 0x02);
	outb(0x21, (uint8_t)~(1u << PIC_IRQ_M));
	outb(0xa1, 0xff);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_ASSERT_EQ(last_vector, EDGE_VEC);
	wait_irqs(2);
	GUEST_ASSERT_EQ(last_vector, PIC_BASE_M + PIC_IRQ_M);
	outb(0x20, 0x20);
	GUEST_DONE();
}

static void *raise_later(void *arg)
{
	struct vm *vm = arg;

	usleep(50000);
	irq_line(vm, EDGE_PIN, 1);
	irq_line(vm, EDGE_PIN, 0);
	usleep(50000);
	irq_line(vm, PIC_IRQ_M, 1);
	irq_line(vm, PIC_IRQ_M, 0);
	return NULL;
}

static void halted_vcpu_wakes(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_halted_wakes);
	pthread_t t;

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_OK(pthread_create(&t, NULL, raise_later, vcpu->vm));
	vcpu_run_expect_done(vcpu);
	TEST_ASSERT_OK(pthread_join(t, NULL));
	vm_free(vcpu->vm);
}

/*
 * ExtINT bypasses the local APIC's priority (SDM Vol 3 11.6.1): with
 * TPR at 15 holding a self-IPI in the IRR, the PIC's vector still comes
 * in; the APIC's follows once the TPR drops.
 */
#define SELF_VEC	0x51

static void guest_pic_bypasses_tpr(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	pic_init(0x20, PIC_BASE_M, 0x04);
	pic_init(0xa0, PIC_BASE_S, 0x02);
	outb(0x21, (uint8_t)~(1u << PIC_IRQ_M));
	outb(0xa1, 0xff);
	asm volatile("mov %0, %%cr8" : : "r"(15UL));
	apic_write(0x300, SELF_VEC | (1u << 18));	/* ICR: self, fixed */
	irq_window();
	GUEST_ASSERT_EQ(nirqs, 0);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_ASSERT_EQ(last_vector, PIC_BASE_M + PIC_IRQ_M);
	/* Initializing again leaves the ISR (and unmasks every line). */
	pic_init(0x20, PIC_BASE_M, 0x04);
	GUEST_ASSERT_EQ(pic_isr(0x20), 1u << PIC_IRQ_M);
	GUEST_ASSERT_EQ(inb(0x21), 0);
	outb(0x20, 0x20);
	GUEST_ASSERT_EQ(pic_isr(0x20), 0);
	asm volatile("mov %0, %%cr8" : : "r"(0UL));
	wait_irqs(2);
	GUEST_ASSERT_EQ(last_vector, SELF_VEC);
	GUEST_DONE();
}

static void pic_bypasses_tpr(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_pic_bypasses_tpr);
	struct vm *vm = vcpu->vm;

	vm_install_exception_handler(vm, SELF_VEC, guest_irq_eoi);
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(irq_line(vm, PIC_IRQ_M, 1), 1);
	TEST_ASSERT_EQ(irq_line(vm, PIC_IRQ_M, 0), 2);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

/*
 * KVM_GET_IRQCHIP's power-on state and KVM_SET_IRQCHIP/KVM_GET_IRQCHIP
 * round trips of all three chips; the guest sees what was set.
 */
static void guest_read_ioapic_id(void)
{
	GUEST_SYNC(ioapic_read(IOAPIC_ID));
	outb(0xa0, 0x0a);
	GUEST_SYNC(inb(0xa1));
	GUEST_SYNC(inb(0x4d1));
	GUEST_DONE();
}

static void irqchip_roundtrip(void)
{
	struct vcpu *vcpu = irqchip_vm(guest_read_ioapic_id);
	struct vm *vm = vcpu->vm;
	struct kvm_irqchip c, back;
	int i;

	get_irqchip(vm, KVM_IRQCHIP_PIC_MASTER, &c);
	TEST_ASSERT_EQ(c.chip.pic.elcr_mask, 0xf8);
	TEST_ASSERT_EQ(c.chip.pic.imr, 0);
	TEST_ASSERT_EQ(c.chip.pic.irq_base, 0);
	get_irqchip(vm, KVM_IRQCHIP_PIC_SLAVE, &c);
	TEST_ASSERT_EQ(c.chip.pic.elcr_mask, 0xde);
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &c);
	TEST_ASSERT_EQ(c.chip.ioapic.base_address, IOAPIC_GPA);
	TEST_ASSERT_EQ(c.chip.ioapic.id, 0);
	TEST_ASSERT_EQ(c.chip.ioapic.irr, 0);
	for (i = 0; i < KVM_IOAPIC_NUM_PINS; i++)
		TEST_ASSERT_EQ(c.chip.ioapic.redirtbl[i].bits, REDIR_MASKED);

	c.chip.ioapic.id = 3;
	c.chip.ioapic.ioregsel = 0x12;
	c.chip.ioapic.redirtbl[7].bits = 0x0300000000018a45ULL;
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_SET_IRQCHIP, &c));
	get_irqchip(vm, KVM_IRQCHIP_IOAPIC, &back);
	TEST_ASSERT(!memcmp(&back, &c, sizeof(c)), "IOAPIC state differs after SET/GET");

	get_irqchip(vm, KVM_IRQCHIP_PIC_SLAVE, &c);
	c.chip.pic.imr = 0x5a;
	c.chip.pic.irq_base = 0x70;
	c.chip.pic.elcr = 0x02;
	c.chip.pic.read_reg_select = 1;
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_SET_IRQCHIP, &c));
	get_irqchip(vm, KVM_IRQCHIP_PIC_SLAVE, &back);
	TEST_ASSERT(!memcmp(&back, &c, sizeof(c)), "PIC state differs after SET/GET");

	vcpu_run_expect_sync(vcpu, 3u << 24);
	vcpu_run_expect_sync(vcpu, 0x5a);
	vcpu_run_expect_sync(vcpu, 0x02);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE(create_rules, "KVM_CREATE_IRQCHIP: once, before vCPUs; ENXIO without it"),
	TEST_CASE(ioapic_regs, "IOAPIC: ID, version, redirection entries through MMIO"),
	TEST_CASE(ioapic_edge, "IOAPIC edge pin: one interrupt with the vector, coalesced raise"),
	TEST_CASE(ioapic_level, "IOAPIC level pin: Remote IRR until EOI, re-delivered while high"),
	TEST_CASE(ioapic_level_x2apic, "IOAPIC level pin: an x2APIC's EOI MSR clears Remote IRR"),
	TEST_CASE(ioapic_masked, "IOAPIC masked pin: nothing, delivered on unmask while high"),
	TEST_CASE(ioapic_dropped, "IOAPIC: a disabled APIC drops (0, no Remote IRR), so does no APIC"),
	TEST_CASE(default_routing, "GSI n: IOAPIC pin n and PIC line n below 16, status per chip"),
	TEST_CASE(pic_extint, "PIC programmed by the guest: ExtINT vectors via master and slave"),
	TEST_CASE(pic_bypasses_tpr, "PIC ExtINT comes in over a TPR that holds an APIC vector"),
	TEST_CASE(pic_string_io, "REP OUTSB / REP INSB on the PIC's ports, in the kernel"),
	TEST_CASE(pic_level, "PIC level line (ELCR): back after EOI while high; poll command"),
	TEST_CASE(halted_vcpu_wakes, "a vCPU halted in KVM_RUN wakes for an IOAPIC pin and a PIC line"),
	TEST_CASE(irqchip_roundtrip, "KVM_GET/SET_IRQCHIP: power-on state and round trips"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
