/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VM and vCPU helpers over the KVM ioctl ABI; work on /dev/kvm and
 * /dev/hvx alike (the device is test_dev_path, argv[1]).
 *
 * Guest memory model of vm_create():
 *   slot 0, GPA 0 .. vm->ram_size: anonymous memory holding
 *     0x0000_0000 .. 0x000f_ffff  free for tests (real-mode code, data)
 *     0x0010_0000 .. 0x003f_ffff  library pages: page tables, GDT, IDT,
 *                                 TSS, vCPU stacks, vm_alloc() pages
 *     0x0040_0000 ..              this binary's PT_LOAD segments at
 *                                 GPA == their virtual address
 *   Page tables identity-map GPA 0 .. 4 GiB with 2 MiB pages, so any GPA
 *   below 4 GiB without a slot is MMIO to the guest.
 * Guest code is plain C in this binary: vcpu_set_entry(vcpu, fn, args...)
 * starts fn in 64-bit mode; returning from fn is GUEST_DONE().
 */
#ifndef SELFTEST_KVM_UTIL_H
#define SELFTEST_KVM_UTIL_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "processor.h"
#include "test_util.h"
#include "ucall.h"

#define VM_MAX_SLOTS	16
#define VM_MAX_VCPUS	64

#define VM_FREE_LOW_END		0x100000UL	/* tests own 0 .. 1 MiB */
#define VM_LIB_START		0x100000UL
#define VM_LIB_END		0x400000UL
#define VM_STACK_SIZE		0x8000UL

/* A GPA below 4 GiB (identity-mapped) with no memslot: guest MMIO. */
#define MMIO_GPA		0xc0000000UL

struct vm_slot {
	uint32_t slot;
	uint32_t flags;
	uint64_t gpa;
	uint64_t size;
	void *host;
	int in_use;
};

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	uint64_t stack_top;	/* guest stack for vcpu_set_entry() */
};

struct vm {
	int dev_fd;
	int fd;
	int run_size;		/* KVM_GET_VCPU_MMAP_SIZE */
	uint64_t ram_size;	/* slot 0 (0 for vm_create_bare()) */
	uint64_t lib_next;	/* bump allocator in [VM_LIB_START, VM_LIB_END) */
	uint64_t pml4, gdt, idt, tss;
	struct vm_slot slots[VM_MAX_SLOTS];
	struct vcpu *vcpus[VM_MAX_VCPUS];
};

/* Open the device under test, asserting success. */
int dev_open(void);
/* KVM_CHECK_EXTENSION on the device (a fresh fd if dev_fd < 0). */
int kvm_check_cap(long cap);
/* True if the device under test is KVM (for documented differences). */
int dev_is_kvm(void);
/* True on an Intel (VMX) host, false on AMD (SVM): where KVM itself differs. */
int host_is_intel(void);

/* A VM with no memory: device fd + VM fd only. */
struct vm *vm_create_bare(void);
/* A VM ready for 64-bit C guests (see the memory model above). */
struct vm *vm_create(void);
void vm_free(struct vm *vm);

/* KVM_SET_USER_MEMORY_REGION; returns the ioctl's result (errno set). */
/*
 * A VM statistic from debugfs, where KVM and hvx both keep them:
 * /sys/kernel/debug/{kvm,hvx}/<pid>-<vm fd>/@name (e.g. "pages_2m").
 */
uint64_t vm_get_stat(struct vm *vm, const char *name);

int __vm_set_user_memory_region(struct vm *vm, uint32_t slot, uint32_t flags,
				uint64_t gpa, uint64_t size, void *host);
/* Map anonymous memory and add it as @slot; returns the host address. */
void *vm_add_memslot(struct vm *vm, uint32_t slot, uint32_t flags,
		     uint64_t gpa, uint64_t size);
void vm_delete_memslot(struct vm *vm, uint32_t slot);
void vm_move_memslot(struct vm *vm, uint32_t slot, uint64_t new_gpa);

/* Host address of guest-physical @gpa (asserts a slot holds it). */
void *addr_gpa2hva(struct vm *vm, uint64_t gpa);
/* Zeroed, page-aligned guest memory from the library area; returns the GPA. */
uint64_t vm_alloc(struct vm *vm, uint64_t size);
/* Copy bytes into guest memory. */
void vm_write(struct vm *vm, uint64_t gpa, const void *src, size_t len);

/*
 * Globals of this binary live at the same address in the guest; the guest
 * got a copy at vm_create() time. Sync one either way.
 */
#define sync_global_to_guest(vm, g) \
	vm_write(vm, (uint64_t)&(g), (const void *)&(g), sizeof(g))
#define sync_global_from_guest(vm, g) \
	memcpy((void *)&(g), addr_gpa2hva(vm, (uint64_t)&(g)), sizeof(g))

/*
 * Map one 4 KiB page at guest virtual @va (outside the identity-mapped
 * 0 .. 4 GiB, e.g. at 16 GiB and up) to @gpa. Before the vCPU runs
 * there, or the guest must flush its TLB.
 */
void vm_map_page(struct vm *vm, uint64_t va, uint64_t gpa);

/* Guest handler for @vector (0..31 exceptions, 32..255 interrupts); NULL restores the default
 * (report UCALL_UNHANDLED to the host). */
void vm_install_exception_handler(struct vm *vm, int vector,
				  void (*handler)(struct ex_regs *));

/*
 * Create vCPU @id and map its kvm_run. vm_vcpu_add() also gives it the
 * device's supported CPUID and, on a vm_create() VM, 64-bit long-mode
 * sregs and a stack; vm_vcpu_add_raw() leaves the power-on state.
 */
struct vcpu *vm_vcpu_add(struct vm *vm, int id);
struct vcpu *vm_vcpu_add_raw(struct vm *vm, int id);

/* 64-bit long-mode sregs on a vm_create() VM (vm_vcpu_add() does it). */
void vcpu_setup_long_mode(struct vcpu *vcpu);

/* Start @fn(args...) (up to 6 integer args) in 64-bit mode. */
void __vcpu_set_entry(struct vcpu *vcpu, void *fn, int nargs,
		      const uint64_t *args);
#define vcpu_set_entry(vcpu, fn, ...)					\
	__vcpu_set_entry(vcpu, (void *)(fn),				\
		(int)(sizeof((uint64_t[]){ 0, ##__VA_ARGS__ }) / sizeof(uint64_t)) - 1, \
		(uint64_t[]){ 0, ##__VA_ARGS__ } + 1)

/* Real mode: CS = @cs (base cs << 4), IP = @ip, other segments = @ds. */
void vcpu_setup_real_mode(struct vcpu *vcpu, uint16_t cs, uint16_t ip,
			  uint16_t ds);
/* 32-bit protected mode, flat 4 GiB segments, no paging, EIP = @eip. */
void vcpu_setup_pm32(struct vcpu *vcpu, uint32_t eip, uint32_t esp);
/* Copy the code between @start and @end into guest memory at @gpa. */
void vm_load_code(struct vm *vm, uint64_t gpa, const void *start,
		  const void *end);

/* ioctls: the plain forms assert success, the __ forms return the result. */
int __vcpu_run(struct vcpu *vcpu);
/* KVM_RUN (asserting the ioctl succeeded); returns run->exit_reason. */
int vcpu_run(struct vcpu *vcpu);
void vcpu_get_regs(struct vcpu *vcpu, struct kvm_regs *regs);
void vcpu_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs);
void vcpu_get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs);
void vcpu_set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs);
void vcpu_get_fpu(struct vcpu *vcpu, struct kvm_fpu *fpu);
void vcpu_set_fpu(struct vcpu *vcpu, const struct kvm_fpu *fpu);
uint64_t vcpu_get_msr(struct vcpu *vcpu, uint32_t index);
void vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value);
/* KVM_GET/SET_MSRS with @n entries; returns the ioctl's result. */
int __vcpu_msrs(struct vcpu *vcpu, unsigned long ioctl_nr,
		struct kvm_msr_entry *entries, uint32_t n);

/* CPUID tables: allocated with room for @nent entries. */
struct kvm_cpuid2 *cpuid_alloc(uint32_t nent);
/* KVM_GET_SUPPORTED_CPUID (cached). */
const struct kvm_cpuid2 *kvm_get_supported_cpuid(void);
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function,
				    uint32_t index);
void vcpu_set_cpuid(struct vcpu *vcpu, const struct kvm_cpuid2 *cpuid);
/* Whether the supported CPUID.1:ECX has every bit of @bits. */
bool kvm_supports_cpuid1_ecx(uint32_t bits);

/* The name of a KVM_EXIT_* reason ("HLT", "MMIO", ...). */
const char *exit_reason_str(uint32_t reason);
/* A one-line description of the vCPU's last exit, for diagnostics. */
const char *exit_describe(struct vcpu *vcpu, char *buf, size_t len);

/* Fail unless the last exit is @reason; prints the exit's details. */
#define ASSERT_EXIT_REASON(vcpu, reason) \
	__assert_exit_reason(vcpu, reason, __FILE__, __LINE__)
void __assert_exit_reason(struct vcpu *vcpu, uint32_t reason,
			  const char *file, int line);

/*
 * Run and require an MMIO exit at @gpa of @len bytes: for a write, with
 * @value as data; for a read, answer @value (junk after @len bytes) for
 * the next KVM_RUN.
 */
void vcpu_run_expect_mmio(struct vcpu *vcpu, uint64_t gpa, uint32_t len,
			  int is_write, uint64_t value);

/* Fail unless the last exit is a 1-access PIO exit as described;
 * returns a pointer to its data. */
void *assert_pio_exit(struct vcpu *vcpu, uint8_t direction, uint16_t port,
		      uint8_t size);

#endif
