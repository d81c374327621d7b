// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: the device, the VM, its RAM and its interrupt controllers.
 * Everything here is plain KVM API, so /dev/kvm and /dev/hvx take the same
 * path; what hvx-run needs is checked with KVM_CHECK_EXTENSION first, so a
 * device that lacks something says so in one line.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvx-run.h"

#define SZ_2M	0x200000UL

/* The capabilities a Linux guest of hvx-run cannot boot without. */
static const struct {
	int cap;
	const char *name, *why;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", "guest RAM" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", "the guest's CPUID" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", "the in-kernel APIC, IOAPIC and PIC" },
	{ KVM_CAP_IRQ_INJECT_STATUS, "KVM_CAP_IRQ_INJECT_STATUS", "device interrupts" },
	{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", "APs started by INIT/SIPI" },
	/* With a TSC-deadline timer and kvmclock Linux needs no PIT. */
	{ KVM_CAP_TSC_DEADLINE_TIMER, "KVM_CAP_TSC_DEADLINE_TIMER", "the guest's timer" },
	{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", "stopping vCPU threads" },
};

static void check_device(struct vm *vm)
{
	size_t i;
	int r;

	r = ioctl(vm->sys_fd, KVM_GET_API_VERSION, 0);
	if (r != KVM_API_VERSION)
		die("%s: KVM API version %d, hvx-run speaks %d", vm->dev, r, KVM_API_VERSION);
	for (i = 0; i < sizeof(required_caps) / sizeof(required_caps[0]); i++) {
		if (ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0)
			die("%s: no %s (needed for %s)", vm->dev, required_caps[i].name,
			    required_caps[i].why);
	}
	r = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (r <= 0)
		r = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (r > 0 && vm->nr_vcpus > (unsigned int)r)
		die("-c %u: %s allows at most %d vCPUs", vm->nr_vcpus, vm->dev, r);
}

static void add_slot(struct vm *vm, unsigned int slot, uint64_t gpa, uint64_t size,
		     void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};

	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
		die("%s: KVM_SET_USER_MEMORY_REGION (%#llx bytes at %#llx): %s", vm->dev,
		    (unsigned long long)size, (unsigned long long)gpa, strerror(errno));
}

/*
 * One anonymous mapping, 2 MiB aligned so that the host can back it with
 * huge pages (and the hypervisor map it with 2 MiB leaves). RAM beyond
 * GPA_PCI_HOLE goes to 4 GiB, leaving the hole for the APICs.
 */
static void setup_ram(struct vm *vm)
{
	uint64_t low = ram_top_below_4g(vm);
	uint8_t *p;
	uintptr_t a;

	p = mmap(NULL, vm->mem_size + SZ_2M, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		die("-m: cannot map %llu MiB of guest RAM: %s",
		    (unsigned long long)(vm->mem_size >> 20), strerror(errno));
	a = ((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1);
	vm->mem = (uint8_t *)a;
	madvise(vm->mem, vm->mem_size, MADV_HUGEPAGE);

	add_slot(vm, 0, 0, low, vm->mem);
	if (vm->mem_size > low)
		add_slot(vm, 1, GPA_4G, vm->mem_size - low, vm->mem + low);

	/* The BIOS area holds the ACPI tables; the EBDA-less low RAM is free. */
	e820_add(&vm->e820, 0, GPA_LOW_RAM_END, E820_TYPE_RAM);
	e820_add(&vm->e820, GPA_BIOS, GPA_HIGH_RAM - GPA_BIOS, E820_TYPE_RESERVED);
	e820_add(&vm->e820, GPA_HIGH_RAM, low - GPA_HIGH_RAM, E820_TYPE_RAM);
	if (vm->mem_size > low)
		e820_add(&vm->e820, GPA_4G, vm->mem_size - low, E820_TYPE_RAM);
}

void vm_create(struct vm *vm, const struct options *opt)
{
	vm->dev = opt->dev;
	vm->mem_size = opt->mem_size;
	vm->nr_vcpus = opt->nr_vcpus;

	vm->sys_fd = open(vm->dev, O_RDWR | O_CLOEXEC);
	if (vm->sys_fd < 0)
		die("%s: %s%s", vm->dev, strerror(errno),
		    errno == ENOENT ? " (is the module loaded?)" : "");
	check_device(vm);

	vm->mmap_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->mmap_size < (int)sizeof(struct kvm_run))
		die("%s: KVM_GET_VCPU_MMAP_SIZE: %s", vm->dev, strerror(errno));

	vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		die("%s: KVM_CREATE_VM: %s%s", vm->dev, strerror(errno),
		    errno == EBUSY ? " (another hypervisor holds the CPU; see dmesg)" : "");

	/*
	 * Real-mode support without unrestricted guest wants three pages of
	 * its own (KVM on older Intel CPUs); only a device that has the
	 * capability is asked. The AP trampoline is the only real mode here.
	 */
	if (ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
	    ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL) < 0)
		die("%s: KVM_SET_TSS_ADDR: %s", vm->dev, strerror(errno));

	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		die("%s: KVM_CREATE_IRQCHIP: %s", vm->dev, strerror(errno));

	setup_ram(vm);
}
