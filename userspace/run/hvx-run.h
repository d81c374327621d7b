/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx-run: a small VMM that boots a Linux kernel on /dev/hvx or /dev/kvm.
 * Declarations shared by its parts; Documentation/hvx-run.md describes
 * the machine it builds.
 */
#ifndef HVX_RUN_H
#define HVX_RUN_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#define HVX_RUN_VERSION	"0.1"
#define MAX_VCPUS	64

/*
 * Exit status of hvx-run: what ended the guest. Documented in
 * Documentation/hvx-run.md and hvx-run.1; the selftests check them.
 */
enum run_status {
	EXIT_POWEROFF	= 0,	/* ACPI S5 (poweroff, halt -p) */
	EXIT_ERROR	= 1,	/* hvx-run itself failed (arguments, files, device) */
	EXIT_REBOOT	= 2,	/* reset through the i8042 or port 0xcf9 */
	EXIT_TRIPLE	= 3,	/* triple fault (KVM_EXIT_SHUTDOWN) */
	EXIT_PANIC	= 4,	/* the guest's pvpanic device reported a panic */
	EXIT_HV_ERROR	= 5,	/* the hypervisor stopped the guest (FAIL_ENTRY, ...) */
	EXIT_USER	= 6,	/* Ctrl-A x on the console */
	/* 128 + N: hvx-run was ended by signal N */
};

/*
 * Guest physical layout below 1 MiB (the kernel, the initrd and the rest
 * of RAM are above). Linux reserves the first MiB for itself and takes
 * its AP trampoline from the RAM here, so everything the boot needs only
 * until the kernel has its own copies lives here too.
 */
#define GPA_GDT			0x1000UL
#define GPA_START_INFO		0x6000UL	/* PVH hvm_start_info + tables */
#define GPA_BOOT_PARAMS		0x7000UL	/* Linux zero page */
#define GPA_PML4		0x9000UL	/* identity map of 4 GiB: 6 pages */
#define GPA_CMDLINE		0x20000UL
#define CMDLINE_MAX		0x10000UL
#define GPA_LOW_RAM_END		0x9f000UL	/* [0, this) is RAM */
#define GPA_BIOS		0xe0000UL	/* [this, 1 MiB): ACPI tables */
#define GPA_HIGH_RAM		0x100000UL
#define GPA_PCI_HOLE		0xc0000000UL	/* RAM above this moves to 4 GiB */
#define GPA_4G			0x100000000UL

#define GPA_IOAPIC		0xfec00000UL
#define GPA_LAPIC		0xfee00000UL

/* Ports of the platform (platform.c, acpi.c). */
#define PORT_COM1		0x3f8
#define IRQ_COM1		4
#define PORT_PM1_EVT		0x600	/* ACPI PM1a event block, 4 bytes */
#define PORT_PM1_CNT		0x604	/* ACPI PM1a control block, 2 bytes */
#define PORT_PM_TMR		0x608	/* ACPI PM timer, 4 bytes */
#define PORT_PVPANIC		0x505
#define IRQ_SCI			9

struct e820_map {
	unsigned int nr;
	struct { uint64_t addr, size; uint32_t type; } e[8];
};
#define E820_TYPE_RAM		1
#define E820_TYPE_RESERVED	2

struct vm {
	int sys_fd, vm_fd;
	const char *dev;
	uint8_t *mem;			/* guest RAM, one host mapping */
	uint64_t mem_size;
	unsigned int nr_vcpus;
	int mmap_size;			/* of each vCPU's kvm_run */
	struct e820_map e820;
	uint64_t rsdp;			/* GPA of the ACPI RSDP */
};

/* How the boot CPU starts: set by a kernel loader, applied by vcpu.c. */
struct boot_entry {
	bool long_mode;			/* 64-bit boot protocol; else PVH (32-bit) */
	uint64_t rip, rsi, rbx;
};

/* Options hvx-run was given. */
struct options {
	const char *kernel, *initrd, *append, *dev;
	void *kernel_img, *initrd_img;
	size_t kernel_len, initrd_len;
	uint64_t mem_size;
	unsigned int nr_vcpus;
};

/* util.c */
void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...);
void __attribute__((format(printf, 1, 2))) warn(const char *fmt, ...);
void *read_file(const char *path, size_t *len);
void *gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len);
void e820_add(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type);
uint64_t ram_top_below_4g(const struct vm *vm);

/* vm.c */
void vm_create(struct vm *vm, const struct options *opt);

/* boot_bzimage.c, boot_pvh.c, boot.c */
bool bzimage_probe(const void *img, size_t len);
void bzimage_check(const void *img, size_t len);
void bzimage_load(struct vm *vm, const void *img, size_t len, const char *cmdline,
		  const void *initrd, size_t initrd_len, struct boot_entry *entry);
bool pvh_probe(const void *img, size_t len);
void pvh_check(const void *img, size_t len);
void pvh_load(struct vm *vm, const void *img, size_t len, const char *cmdline,
	      const void *initrd, size_t initrd_len, struct boot_entry *entry);
void kernel_read(struct options *opt);
void load_kernel(struct vm *vm, const struct options *opt, struct boot_entry *entry);
uint64_t place_initrd(struct vm *vm, size_t len, uint64_t max_addr, uint64_t low);
void write_boot_gdt(struct vm *vm);
void write_identity_map(struct vm *vm);

/* acpi.c */
void acpi_build(struct vm *vm);

/* vcpu.c */
int vcpus_run(struct vm *vm, const struct boot_entry *entry);
void guest_stop(int status, const char *why);

/* platform.c: the port I/O bus and the small devices on it */
void platform_init(struct vm *vm);
void pio_access(uint16_t port, uint8_t *data, unsigned int size, bool write);
void mmio_access(uint64_t gpa, uint8_t *data, unsigned int size, bool write);
void irq_line(unsigned int gsi, bool level);
void bus_lock_take(void);
void bus_lock_release(void);
void bus_lock_wait(pthread_cond_t *cond);

/* serial.c: COM1 on the terminal */
void serial_init(void);
void serial_pio(unsigned int offset, uint8_t *data, bool write);
void terminal_restore(void);

#endif
