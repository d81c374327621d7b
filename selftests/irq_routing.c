// SPDX-License-Identifier: GPL-2.0
/*
 * GSI routing (KVM_SET_GSI_ROUTING), irqfds (KVM_IRQFD, with resample)
 * and the split irqchip's EOI exits (KVM_EXIT_IOAPIC_EOI), as api.rst
 * describes them; and what KVM reports for the in-kernel APIC: the
 * capabilities, CPUID's APIC, x2APIC and ARAT, IA32_TSC_DEADLINE in the
 * MSR list.
 */
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "apic.h"
#include "guest_irq.h"
#include "ioapic.h"
#include "pic.h"
#include "kvm_util.h"

#define EDGE_PIN	17
#define LEVEL_PIN	18
#define EDGE_VEC	0x61
#define LEVEL_VEC	0x62
#define MSI_VEC		0x71
#define PIC_BASE	0x20
#define PIC_LEVEL_IRQ	3	/* master IR3: level in the ELCR */

/* An MSI to APIC ID @dest, physical (SDM Vol 3 11.11.1); level trigger. */
#define MSI_ADDR(dest)	(0xfee00000u | (dest) << 12)
#define MSI_LEVEL	(1u << 15)

#define IRQCHIP_ROUTE(g, chip, p) \
	{ .gsi = (g), .type = KVM_IRQ_ROUTING_IRQCHIP, \
	  .u.irqchip = { .irqchip = (chip), .pin = (p) } }
#define MSI_ROUTE(g, d) \
	{ .gsi = (g), .type = KVM_IRQ_ROUTING_MSI, \
	  .u.msi = { .address_lo = MSI_ADDR(0), .data = (d) } }

/* A VM with KVM_CREATE_IRQCHIP, or a split irqchip, and vCPU 0 at @fn. */
static struct vcpu *irq_vm(bool split, void *fn)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	if (split)
		TEST_ASSERT_OK(ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	else
		TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	vcpu = vm_vcpu_add(vm, 0);
	vm_install_exception_handler(vm, EDGE_VEC, guest_irq_eoi);
	vm_install_exception_handler(vm, MSI_VEC, guest_irq_eoi);
	vm_install_exception_handler(vm, LEVEL_VEC, split ? guest_irq_eoi : guest_irq);
	vm_install_exception_handler(vm, PIC_BASE + PIC_LEVEL_IRQ, guest_irq);
	vcpu_set_entry(vcpu, fn);
	return vcpu;
}

static int set_routing_flags(struct vm *vm, const struct kvm_irq_routing_entry *e,
			     uint32_t nr, uint32_t flags)
{
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + nr * sizeof(*e));
	int ret;

	TEST_ASSERT(r, "calloc");
	r->nr = nr;
	r->flags = flags;
	if (nr)
		memcpy(r->entries, e, nr * sizeof(*e));
	ret = ioctl(vm->fd, KVM_SET_GSI_ROUTING, r);
	free(r);
	return ret;
}

static int set_routing(struct vm *vm, const struct kvm_irq_routing_entry *e, uint32_t nr)
{
	return set_routing_flags(vm, e, nr, 0);
}

#define SET_ROUTES(vm, ...) ({						\
	const struct kvm_irq_routing_entry __e[] = { __VA_ARGS__ };	\
	set_routing(vm, __e, sizeof(__e) / sizeof(__e[0]));		\
})

static int irq_line(struct vm *vm, uint32_t gsi, uint32_t level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_IRQ_LINE_STATUS, &irq));
	return irq.status;
}

static int irqfd(struct vm *vm, int fd, uint32_t gsi, uint32_t flags, int resamplefd)
{
	struct kvm_irqfd a = {
		.fd = fd, .gsi = gsi, .flags = flags, .resamplefd = resamplefd,
	};

	return ioctl(vm->fd, KVM_IRQFD, &a);
}

static void efd_write(int fd)
{
	uint64_t one = 1;

	TEST_ASSERT_EQ(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

/* The eventfd's count, 0 if nothing was signalled (@fd is non-blocking). */
static uint64_t efd_read(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

static uint32_t ioapic_irr(struct vm *vm)
{
	struct kvm_irqchip c = { .chip_id = KVM_IRQCHIP_IOAPIC };

	TEST_ASSERT_OK(ioctl(vm->fd, KVM_GET_IRQCHIP, &c));
	return c.chip.ioapic.irr;
}

/*
 * KVM_SET_GSI_ROUTING's rules: an in-kernel irqchip first; no flags;
 * at most 4096 entries and GSIs below 4096; pins within their chip;
 * several routes on a GSI only to different chips, never with an MSI;
 * MSI flags only KVM_MSI_VALID_DEVID; a split irqchip takes MSIs only.
 */
static void routing_rules(void)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	struct kvm_irq_routing big = { .nr = 4097 };
	struct kvm_irq_routing_entry e = MSI_ROUTE(1, MSI_VEC);
	struct vm *vm = vm_create();

	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_IRQ_ROUTING), 4096);
	TEST_ASSERT_ERRNO(set_routing(vm, NULL, 0), EINVAL);
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	TEST_ASSERT_OK(set_routing(vm, NULL, 0));
	TEST_ASSERT_ERRNO(set_routing_flags(vm, &e, 1, 1), EINVAL);
	TEST_ASSERT_ERRNO(ioctl(vm->fd, KVM_SET_GSI_ROUTING, &big), EINVAL);
	TEST_ASSERT_ERRNO(SET_ROUTES(vm, MSI_ROUTE(4096, MSI_VEC)), EINVAL);
	TEST_ASSERT_OK(SET_ROUTES(vm, MSI_ROUTE(4095, MSI_VEC)));
	TEST_ASSERT_ERRNO(SET_ROUTES(vm, IRQCHIP_ROUTE(1, KVM_IRQCHIP_PIC_MASTER, 8)), EINVAL);
	TEST_ASSERT_OK(SET_ROUTES(vm, IRQCHIP_ROUTE(1, KVM_IRQCHIP_PIC_SLAVE, 7)));
	TEST_ASSERT_ERRNO(SET_ROUTES(vm, IRQCHIP_ROUTE(1, KVM_IRQCHIP_IOAPIC, 24)), EINVAL);
	TEST_ASSERT_ERRNO(SET_ROUTES(vm, IRQCHIP_ROUTE(1, 3, 0)), EINVAL);
	e.type = 99;
	TEST_ASSERT_ERRNO(set_routing(vm, &e, 1), EINVAL);
	e = (struct kvm_irq_routing_entry)IRQCHIP_ROUTE(1, KVM_IRQCHIP_IOAPIC, 1);
	e.flags = KVM_MSI_VALID_DEVID;
	TEST_ASSERT_ERRNO(set_routing(vm, &e, 1), EINVAL);
	e = (struct kvm_irq_routing_entry)MSI_ROUTE(1, MSI_VEC);
	e.flags = KVM_MSI_VALID_DEVID;
	TEST_ASSERT_OK(set_routing(vm, &e, 1));
	e.flags = 2;
	TEST_ASSERT_ERRNO(set_routing(vm, &e, 1), EINVAL);
	/* Two chips on one GSI, as the default table has; never twice one. */
	TEST_ASSERT_OK(SET_ROUTES(vm, IRQCHIP_ROUTE(9, KVM_IRQCHIP_IOAPIC, 9),
				  IRQCHIP_ROUTE(9, KVM_IRQCHIP_PIC_SLAVE, 1)));
	TEST_ASSERT_ERRNO(SET_ROUTES(vm, IRQCHIP_ROUTE(9, KVM_IRQCHIP_IOAPIC, 9),
				     IRQCHIP_ROUTE(9, KVM_IRQCHIP_IOAPIC, 10)), EINVAL);
	TEST_ASSERT_ERRNO(SET_ROUTES(vm, IRQCHIP_ROUTE(9, KVM_IRQCHIP_IOAPIC, 9),
				     MSI_ROUTE(9, MSI_VEC)), EINVAL);
	TEST_ASSERT_ERRNO(SET_ROUTES(vm, MSI_ROUTE(9, MSI_VEC), MSI_ROUTE(9, EDGE_VEC)),
			  EINVAL);
	vm_free(vm);

	vm = vm_create();
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	TEST_ASSERT_OK(SET_ROUTES(vm, MSI_ROUTE(1, MSI_VEC)));
	TEST_ASSERT_ERRNO(SET_ROUTES(vm, IRQCHIP_ROUTE(1, KVM_IRQCHIP_IOAPIC, 1)), EINVAL);
	vm_free(vm);
}

/* Both interrupts of routing_remap(), each ended at the APIC. */
static void guest_remap(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	ioapic_route(EDGE_PIN, EDGE_VEC);
	GUEST_SYNC(0);
	wait_irqs(2);
	GUEST_ASSERT_EQ(last_vector, EDGE_VEC);
	GUEST_DONE();
}

/*
 * A new table replaces the default one: the IOAPIC pin now answers to
 * GSI 100 and no longer to its own number, and GSI 101 is an MSI, sent
 * on the rising edge only.
 */
static void routing_remap(void)
{
	struct vcpu *vcpu = irq_vm(false, guest_remap);
	struct vm *vm = vcpu->vm;

	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_OK(SET_ROUTES(vm, IRQCHIP_ROUTE(100, KVM_IRQCHIP_IOAPIC, EDGE_PIN),
				  MSI_ROUTE(101, MSI_VEC)));
	TEST_ASSERT_EQ(irq_line(vm, EDGE_PIN, 1), -1);
	TEST_ASSERT_EQ(irq_line(vm, 101, 1), 1);
	TEST_ASSERT_EQ(irq_line(vm, 101, 0), -1);
	/* The MSI is taken first (higher vector), then the pin's. */
	TEST_ASSERT_EQ(irq_line(vm, 100, 1), 1);
	TEST_ASSERT_EQ(irq_line(vm, 100, 0), 1);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

/*
 * KVM_IRQFD's rules: an in-kernel irqchip (the full one for resample);
 * known flags; an eventfd; one GSI per eventfd. Deassigning what is not
 * assigned is no error.
 */
static void irqfd_rules(void)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { 24 } };
	int efd = eventfd(0, 0), rfd = eventfd(0, 0), efd2, pipefd[2];
	struct vm *vm = vm_create();

	TEST_ASSERT(efd >= 0 && rfd >= 0 && !pipe(pipefd), "eventfd/pipe");
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_IRQFD), 1);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_IRQFD_RESAMPLE), 1);
	TEST_ASSERT_ERRNO(irqfd(vm, efd, 5, 0, 0), EINVAL);
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0));
	TEST_ASSERT_ERRNO(irqfd(vm, efd, 5, 4, 0), EINVAL);
	TEST_ASSERT_ERRNO(irqfd(vm, -1, 5, 0, 0), EBADF);
	TEST_ASSERT_ERRNO(irqfd(vm, pipefd[0], 5, 0, 0), EINVAL);
	TEST_ASSERT_ERRNO(irqfd(vm, efd, 5, KVM_IRQFD_FLAG_RESAMPLE, -1), EBADF);
	TEST_ASSERT_OK(irqfd(vm, efd, 5, 0, 0));
	TEST_ASSERT_ERRNO(irqfd(vm, efd, 6, 0, 0), EBUSY);
	TEST_ASSERT_OK(irqfd(vm, efd, 6, KVM_IRQFD_FLAG_DEASSIGN, 0));
	TEST_ASSERT_ERRNO(irqfd(vm, efd, 5, 0, 0), EBUSY);
	TEST_ASSERT_ERRNO(irqfd(vm, pipefd[0], 5, KVM_IRQFD_FLAG_DEASSIGN, 0), EINVAL);
	TEST_ASSERT_OK(irqfd(vm, efd, 5, KVM_IRQFD_FLAG_DEASSIGN, 0));
	TEST_ASSERT_OK(irqfd(vm, efd, 6, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	/* Closing an assigned eventfd detaches it; its number is free again. */
	efd2 = eventfd(0, 0);
	TEST_ASSERT_OK(irqfd(vm, efd2, 7, 0, 0));
	close(efd2);
	efd2 = eventfd(0, 0);
	TEST_ASSERT_OK(irqfd(vm, efd2, 7, 0, 0));
	vm_free(vm);
	close(efd2);

	vm = vm_create();
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_ENABLE_CAP, &cap));
	TEST_ASSERT_ERRNO(irqfd(vm, efd, 5, KVM_IRQFD_FLAG_RESAMPLE, rfd), EINVAL);
	TEST_ASSERT_OK(irqfd(vm, efd, 5, 0, 0));
	vm_free(vm);
	close(efd);
	close(rfd);
	close(pipefd[0]);
	close(pipefd[1]);
}

static void guest_irqfd_msi(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_SYNC(last_vector);
	irq_window();
	GUEST_SYNC(nirqs);
	wait_irqs(2);
	GUEST_DONE();
}

/* Writes the eventfd once the vCPU is (very likely) halted in KVM_RUN. */
static void *late_writer(void *arg)
{
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	efd_write(*(int *)arg);
	return NULL;
}

/*
 * An irqfd on an MSI route: a write from another thread wakes the
 * halted vCPU with the vector and KVM_RUN returns only at the guest's
 * next ucall. After deassign a write sends nothing; assigning again
 * sends what was written meanwhile.
 */
static void irqfd_msi(void)
{
	struct vcpu *vcpu = irq_vm(true, guest_irqfd_msi);
	struct vm *vm = vcpu->vm;
	int efd = eventfd(0, EFD_NONBLOCK);
	pthread_t t;

	TEST_ASSERT_OK(SET_ROUTES(vm, MSI_ROUTE(5, MSI_VEC)));
	TEST_ASSERT_OK(irqfd(vm, efd, 5, 0, 0));
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_OK(pthread_create(&t, NULL, late_writer, &efd));
	vcpu_run_expect_sync(vcpu, MSI_VEC);
	pthread_join(t, NULL);
	/* The irqfd took the count. */
	TEST_ASSERT_EQ(efd_read(efd), 0);
	TEST_ASSERT_OK(irqfd(vm, efd, 5, KVM_IRQFD_FLAG_DEASSIGN, 0));
	efd_write(efd);
	vcpu_run_expect_sync(vcpu, 1);
	TEST_ASSERT_OK(irqfd(vm, efd, 5, 0, 0));
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
	close(efd);
}

/*
 * A level pin driven by a resampling irqfd: the line stays high until
 * the guest's EOI, which lowers it (no second delivery) and signals the
 * resamplefd; the next write raises it again.
 */
static void guest_irqfd_resample(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	ioapic_route(LEVEL_PIN, LEVEL_VEC | REDIR_LEVEL);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_SYNC(ioapic_read(IOAPIC_REDIR(LEVEL_PIN)));
	apic_write(APIC_EOI, 0);
	irq_window();
	GUEST_SYNC(nirqs);
	GUEST_SYNC(ioapic_read(IOAPIC_REDIR(LEVEL_PIN)));
	wait_irqs(2);
	apic_write(APIC_EOI, 0);
	GUEST_DONE();
}

static void irqfd_resample(void)
{
	struct vcpu *vcpu = irq_vm(false, guest_irqfd_resample);
	struct vm *vm = vcpu->vm;
	int efd = eventfd(0, EFD_NONBLOCK), rfd = eventfd(0, EFD_NONBLOCK);

	TEST_ASSERT_OK(irqfd(vm, efd, LEVEL_PIN, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	vcpu_run_expect_sync(vcpu, 0);
	efd_write(efd);
	TEST_ASSERT_EQ(ioapic_irr(vm), 1u << LEVEL_PIN);
	vcpu_run_expect_sync(vcpu, LEVEL_VEC | REDIR_LEVEL | REDIR_REMOTE_IRR);
	TEST_ASSERT_EQ(efd_read(rfd), 0);
	vcpu_run_expect_sync(vcpu, 1);
	TEST_ASSERT_EQ(efd_read(rfd), 1);
	TEST_ASSERT_EQ(ioapic_irr(vm), 0);
	vcpu_run_expect_sync(vcpu, LEVEL_VEC | REDIR_LEVEL);
	efd_write(efd);
	vcpu_run_expect_done(vcpu);
	TEST_ASSERT_EQ(efd_read(rfd), 1);
	vm_free(vm);
	close(efd);
	close(rfd);
}

/* The same through the PIC: its EOI (OCW2) ends the line's service. */
static void guest_irqfd_resample_pic(void)
{
	pic_init(0x20, PIC_BASE, 0x04);
	pic_init(0xa0, PIC_BASE + 8, 0x02);
	outb(0x4d0, 1u << PIC_LEVEL_IRQ);
	outb(0x21, (uint8_t)~(1u << PIC_LEVEL_IRQ));
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_SYNC(last_vector);
	outb(0x20, 0x20);		/* OCW2: non-specific EOI */
	irq_window();
	GUEST_SYNC(nirqs);
	GUEST_DONE();
}

static void irqfd_resample_pic(void)
{
	struct vcpu *vcpu = irq_vm(false, guest_irqfd_resample_pic);
	struct kvm_irqchip c = { .chip_id = KVM_IRQCHIP_PIC_MASTER };
	struct vm *vm = vcpu->vm;
	int efd = eventfd(0, EFD_NONBLOCK), rfd = eventfd(0, EFD_NONBLOCK);

	TEST_ASSERT_OK(irqfd(vm, efd, PIC_LEVEL_IRQ, KVM_IRQFD_FLAG_RESAMPLE, rfd));
	vcpu_run_expect_sync(vcpu, 0);
	efd_write(efd);
	vcpu_run_expect_sync(vcpu, PIC_BASE + PIC_LEVEL_IRQ);
	TEST_ASSERT_EQ(efd_read(rfd), 0);
	vcpu_run_expect_sync(vcpu, 1);
	TEST_ASSERT_EQ(efd_read(rfd), 1);
	TEST_ASSERT_OK(ioctl(vm->fd, KVM_GET_IRQCHIP, &c));
	TEST_ASSERT_EQ(c.chip.pic.irr, 0);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
	close(efd);
	close(rfd);
}

static void guest_split_eoi(void)
{
	apic_write(APIC_SPIV, APIC_SPIV_ENABLE | 0xff);
	GUEST_SYNC(0);
	wait_irqs(1);
	GUEST_SYNC(1);
	wait_irqs(2);
	GUEST_SYNC(2);
	wait_irqs(3);
	GUEST_DONE();
}

/*
 * Split irqchip: the EOI of a level MSI that a GSI reserved for the
 * IOAPIC (KVM_CAP_SPLIT_IRQCHIP's 24) sends to this vCPU exits with
 * KVM_EXIT_IOAPIC_EOI and the vector, after the EOI's write; an edge
 * one does not, nor a level one on a GSI past the reserved pins.
 */
static void split_eoi_exit(void)
{
	struct vcpu *vcpu = irq_vm(true, guest_split_eoi);
	struct vm *vm = vcpu->vm;

	TEST_ASSERT_OK(SET_ROUTES(vm, MSI_ROUTE(2, LEVEL_VEC | MSI_LEVEL),
				  MSI_ROUTE(3, EDGE_VEC),
				  MSI_ROUTE(30, MSI_VEC | MSI_LEVEL)));
	vcpu_run_expect_sync(vcpu, 0);
	TEST_ASSERT_EQ(irq_line(vm, 2, 1), 1);
	TEST_ASSERT_EQ(vcpu_run(vcpu), KVM_EXIT_IOAPIC_EOI);
	TEST_ASSERT_EQ(vcpu->run->eoi.vector, LEVEL_VEC);
	vcpu_run_expect_sync(vcpu, 1);
	TEST_ASSERT_EQ(irq_line(vm, 3, 1), 1);
	vcpu_run_expect_sync(vcpu, 2);
	TEST_ASSERT_EQ(irq_line(vm, 30, 1), 1);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

/*
 * What KVM reports with an in-kernel APIC: the capabilities, CPUID's
 * APIC, x2APIC (emulated) and ARAT but not TSC-deadline (api.rst:
 * KVM_CAP_TSC_DEADLINE_TIMER says it), and IA32_TSC_DEADLINE among the
 * MSRs to save.
 */
static void apic_reporting(void)
{
	struct kvm_cpuid2 *sup = (struct kvm_cpuid2 *)kvm_get_supported_cpuid();
	struct kvm_msr_list head = { .nmsrs = 0 }, *list;
	const struct kvm_cpuid_entry2 *e;
	int fd = dev_open();
	uint32_t i;
	bool found = false;

	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_TSC_DEADLINE_TIMER), 1);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_SPLIT_IRQCHIP), 1);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_SIGNAL_MSI), 1);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_ENABLE_CAP_VM), 1);
	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_IOAPIC_POLARITY_IGNORED), 1);
	e = cpuid_find(sup, 1, 0);
	TEST_ASSERT_EQ(e->edx & (1u << 9), 1u << 9);
	TEST_ASSERT_EQ(e->ecx & (1u << 21), 1u << 21);
	TEST_ASSERT_EQ(e->ecx & (1u << 24), 0);
	e = cpuid_find(sup, 6, 0);
	TEST_ASSERT_EQ(e->eax, 1u << 2);

	TEST_ASSERT_ERRNO(ioctl(fd, KVM_GET_MSR_INDEX_LIST, &head), E2BIG);
	list = calloc(1, sizeof(*list) + head.nmsrs * sizeof(list->indices[0]));
	TEST_ASSERT(list, "calloc");
	list->nmsrs = head.nmsrs;
	TEST_ASSERT_OK(ioctl(fd, KVM_GET_MSR_INDEX_LIST, list));
	for (i = 0; i < list->nmsrs; i++)
		found |= list->indices[i] == 0x6e0;
	TEST_ASSERT(found, "IA32_TSC_DEADLINE (0x6e0) in KVM_GET_MSR_INDEX_LIST");
	free(list);
	close(fd);
}

static const struct test_case cases[] = {
	TEST_CASE(routing_rules, "KVM_SET_GSI_ROUTING: irqchip first, limits, pins, one MSI per GSI"),
	TEST_CASE(routing_remap, "a new table: a pin under another GSI, an MSI route on the edge"),
	TEST_CASE(irqfd_rules, "KVM_IRQFD: irqchip, flags, eventfd, one GSI per eventfd, deassign"),
	TEST_CASE(irqfd_msi, "irqfd on an MSI route wakes a halted vCPU; none after deassign"),
	TEST_CASE(irqfd_resample, "resampling irqfd: level line held until EOI, resamplefd signalled"),
	TEST_CASE(irqfd_resample_pic, "resampling irqfd on a PIC level line: the OCW2 EOI ends it"),
	TEST_CASE(split_eoi_exit, "split irqchip: KVM_EXIT_IOAPIC_EOI for reserved level MSI routes"),
	TEST_CASE(apic_reporting, "caps, CPUID APIC/x2APIC/ARAT, IA32_TSC_DEADLINE in the MSR list"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
