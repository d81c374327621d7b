// SPDX-License-Identifier: GPL-2.0
/*
 * Guest setup for x86: this binary's image in guest memory, identity page
 * tables, GDT/IDT/TSS, and the sregs/regs of each CPU mode.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm_util.h"

/* lib/guest.c and lib/guest_stubs.S */
extern void (*guest_exception_handlers[NR_IDT_VECTORS])(struct ex_regs *);
extern const uint64_t guest_exception_stubs[NR_IDT_VECTORS];
extern char guest_return_stub[];

#define SZ_2M		0x200000UL
#define SZ_1G		0x40000000UL
#define PTE_P		(1UL << 0)
#define PTE_RW		(1UL << 1)
#define PTE_PS		(1UL << 7)

static const struct kvm_segment seg_code64 = {
	.base = 0, .limit = 0xffffffff, .selector = GDT_CODE64, .type = 0xb,
	.present = 1, .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
};
static const struct kvm_segment seg_data = {
	.base = 0, .limit = 0xffffffff, .selector = GDT_DATA, .type = 0x3,
	.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
};
static const struct kvm_segment seg_code32 = {
	.base = 0, .limit = 0xffffffff, .selector = GDT_CODE32, .type = 0xb,
	.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
};
static const struct kvm_segment seg_code16 = {
	.base = 0, .limit = 0xffff, .selector = GDT_CODE16, .type = 0xb,
	.present = 1, .s = 1,
};
static const struct kvm_segment seg_data16 = {
	.base = 0, .limit = 0xffff, .selector = GDT_DATA16, .type = 0x3,
	.present = 1, .s = 1,
};

/* The 8-byte GDT descriptor of @s (a system descriptor's low half). */
static uint64_t seg_to_desc(const struct kvm_segment *s)
{
	uint64_t limit = s->g ? s->limit >> 12 : s->limit;
	uint64_t d = 0;

	d |= limit & 0xffff;
	d |= (s->base & 0xffffffUL) << 16;
	d |= (uint64_t)(s->type & 0xf) << 40;
	d |= (uint64_t)(s->s & 1) << 44;
	d |= (uint64_t)(s->dpl & 3) << 45;
	d |= (uint64_t)(s->present & 1) << 47;
	d |= ((limit >> 16) & 0xf) << 48;
	d |= (uint64_t)(s->avl & 1) << 52;
	d |= (uint64_t)(s->l & 1) << 53;
	d |= (uint64_t)(s->db & 1) << 54;
	d |= (uint64_t)(s->g & 1) << 55;
	d |= ((s->base >> 24) & 0xffUL) << 56;
	return d;
}

static struct kvm_segment seg_tss(struct vm *vm)
{
	return (struct kvm_segment){
		.base = vm->tss, .limit = 0x67, .selector = GDT_TSS,
		.type = 0xb, .present = 1,	/* busy 64-bit TSS */
	};
}

/* Copy this binary's PT_LOAD segments to GPA == vaddr; returns the end. */
static uint64_t load_self(struct vm *vm, int copy)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	uint64_t end = 0;
	Elf64_Ehdr eh;

	TEST_ASSERT(fd >= 0, "open /proc/self/exe: %s", strerror(errno));
	TEST_ASSERT(pread(fd, &eh, sizeof(eh), 0) == sizeof(eh) &&
		    !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
		    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_type == ET_EXEC,
		    "/proc/self/exe is not a static non-PIE ELF64 executable");
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		TEST_ASSERT(pread(fd, &ph, sizeof(ph), eh.e_phoff + i * eh.e_phentsize) ==
			    sizeof(ph), "read program header %d", i);
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		TEST_ASSERT(ph.p_vaddr >= VM_LIB_END,
			    "PT_LOAD at %#lx overlaps the library area",
			    (unsigned long)ph.p_vaddr);
		if (ph.p_vaddr + ph.p_memsz > end)
			end = ph.p_vaddr + ph.p_memsz;
		/*
		 * The segment is mapped in this process at the same address:
		 * copy the live image (initialised data as the host set it).
		 */
		if (copy)
			vm_write(vm, ph.p_vaddr, (void *)ph.p_vaddr, ph.p_memsz);
	}
	close(fd);
	return end;
}

static void build_page_tables(struct vm *vm)
{
	uint64_t *pml4, *pdpt;

	vm->pml4 = vm_alloc(vm, PAGE_SIZE);
	uint64_t pdpt_gpa = vm_alloc(vm, PAGE_SIZE);

	pml4 = addr_gpa2hva(vm, vm->pml4);
	pdpt = addr_gpa2hva(vm, pdpt_gpa);
	pml4[0] = pdpt_gpa | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t pd_gpa = vm_alloc(vm, PAGE_SIZE);
		uint64_t *pd = addr_gpa2hva(vm, pd_gpa);

		pdpt[i] = pd_gpa | PTE_P | PTE_RW;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = (i * SZ_1G + j * SZ_2M) | PTE_P | PTE_RW | PTE_PS;
	}
}

static void build_descriptor_tables(struct vm *vm)
{
	struct kvm_segment tss;
	uint64_t *gdt, *idt;
	uint8_t *t;

	vm->gdt = vm_alloc(vm, PAGE_SIZE);
	vm->idt = vm_alloc(vm, PAGE_SIZE);
	vm->tss = vm_alloc(vm, PAGE_SIZE);

	gdt = addr_gpa2hva(vm, vm->gdt);
	gdt[GDT_CODE64 / 8] = seg_to_desc(&seg_code64);
	gdt[GDT_DATA / 8] = seg_to_desc(&seg_data);
	gdt[GDT_CODE32 / 8] = seg_to_desc(&seg_code32);
	gdt[GDT_CODE16 / 8] = seg_to_desc(&seg_code16);
	gdt[GDT_DATA16 / 8] = seg_to_desc(&seg_data16);
	tss = seg_tss(vm);
	gdt[GDT_TSS / 8] = seg_to_desc(&tss);
	gdt[GDT_TSS / 8 + 1] = vm->tss >> 32;

	/* No I/O permission bitmap: its offset is past the limit. */
	t = addr_gpa2hva(vm, vm->tss);
	t[0x66] = 0x68;

	/* A 64-bit interrupt gate for every vector. */
	idt = addr_gpa2hva(vm, vm->idt);
	for (int v = 0; v < NR_IDT_VECTORS; v++) {
		uint64_t off = guest_exception_stubs[v];

		idt[2 * v] = (off & 0xffff) | ((uint64_t)GDT_CODE64 << 16) |
			     (0xeUL << 40) | (1UL << 47) |
			     (((off >> 16) & 0xffff) << 48);
		idt[2 * v + 1] = off >> 32;
	}
}

struct vm *vm_create(void)
{
	struct vm *vm = vm_create_bare();
	uint64_t end = load_self(vm, 0);

	vm->ram_size = (end + 2 * SZ_2M - 1) & ~(SZ_2M - 1);
	vm_add_memslot(vm, 0, 0, 0, vm->ram_size);
	load_self(vm, 1);
	build_page_tables(vm);
	build_descriptor_tables(vm);
	return vm;
}

void vm_map_page(struct vm *vm, uint64_t va, uint64_t gpa)
{
	uint64_t table = vm->pml4;

	TEST_ASSERT(!(va & (PAGE_SIZE - 1)) && !(gpa & (PAGE_SIZE - 1)),
		    "unaligned mapping %#lx -> %#lx", (unsigned long)va, (unsigned long)gpa);
	for (int shift = 39; shift > 12; shift -= 9) {
		uint64_t *e = (uint64_t *)addr_gpa2hva(vm, table) + ((va >> shift) & 511);

		TEST_ASSERT(!(*e & PTE_PS), "%#lx is inside a large page", (unsigned long)va);
		if (!(*e & PTE_P))
			*e = vm_alloc(vm, PAGE_SIZE) | PTE_P | PTE_RW;
		table = *e & 0x000ffffffffff000ULL;
	}
	((uint64_t *)addr_gpa2hva(vm, table))[(va >> 12) & 511] = gpa | PTE_P | PTE_RW;
}

void vm_install_exception_handler(struct vm *vm, int vector,
				  void (*handler)(struct ex_regs *))
{
	TEST_ASSERT(vector >= 0 && vector < NR_IDT_VECTORS, "vector %d", vector);
	guest_exception_handlers[vector] = handler;
	sync_global_to_guest(vm, guest_exception_handlers[vector]);
}

void vcpu_setup_long_mode(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	struct kvm_sregs sregs;

	vcpu_get_sregs(vcpu, &sregs);
	sregs.cs = seg_code64;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg_data;
	sregs.tr = seg_tss(vm);
	sregs.gdt.base = vm->gdt;
	sregs.gdt.limit = GDT_ENTRIES * 8 - 1;
	sregs.idt.base = vm->idt;
	sregs.idt.limit = 256 * 16 - 1;
	sregs.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE |
		    X86_CR0_WP | X86_CR0_AM | X86_CR0_PG;
	sregs.cr3 = vm->pml4;
	sregs.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA;
	vcpu_set_sregs(vcpu, &sregs);
}

void __vcpu_set_entry(struct vcpu *vcpu, void *fn, int nargs,
		      const uint64_t *args)
{
	struct kvm_regs regs = { 0 };
	uint64_t ret = (uint64_t)(uintptr_t)guest_return_stub;

	TEST_ASSERT(vcpu->stack_top, "vCPU %d has no guest stack (vm_create + vm_vcpu_add)",
		    vcpu->id);
	TEST_ASSERT(nargs <= 6, "at most 6 guest arguments");
	/* As after a CALL: RSP + 8 is 16-byte aligned, [RSP] the return. */
	regs.rsp = vcpu->stack_top - 16 - 8;
	vm_write(vcpu->vm, regs.rsp, &ret, sizeof(ret));
	regs.rip = (uint64_t)(uintptr_t)fn;
	regs.rflags = X86_EFLAGS_FIXED;
	if (nargs > 0) regs.rdi = args[0];
	if (nargs > 1) regs.rsi = args[1];
	if (nargs > 2) regs.rdx = args[2];
	if (nargs > 3) regs.rcx = args[3];
	if (nargs > 4) regs.r8 = args[4];
	if (nargs > 5) regs.r9 = args[5];
	vcpu_set_regs(vcpu, &regs);
}

static void set_mode_regs(struct vcpu *vcpu, uint64_t rip, uint64_t rsp)
{
	struct kvm_regs regs = { 0 };

	regs.rip = rip;
	regs.rsp = rsp;
	regs.rflags = X86_EFLAGS_FIXED;
	vcpu_set_regs(vcpu, &regs);
}

void vcpu_setup_real_mode(struct vcpu *vcpu, uint16_t cs, uint16_t ip,
			  uint16_t ds)
{
	struct kvm_sregs sregs;
	struct kvm_segment data = {
		.base = (uint64_t)ds << 4, .limit = 0xffff, .selector = ds,
		.type = 0x3, .present = 1, .s = 1,
	};

	vcpu_get_sregs(vcpu, &sregs);
	sregs.cs = (struct kvm_segment){
		.base = (uint64_t)cs << 4, .limit = 0xffff, .selector = cs,
		.type = 0xb, .present = 1, .s = 1,
	};
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.idt.base = 0;
	sregs.idt.limit = 0x3ff;
	sregs.cr0 = X86_CR0_ET;
	sregs.cr4 = 0;
	sregs.efer = 0;
	vcpu_set_sregs(vcpu, &sregs);
	set_mode_regs(vcpu, ip, 0xfffe);
}

void vcpu_setup_pm32(struct vcpu *vcpu, uint32_t eip, uint32_t esp)
{
	struct vm *vm = vcpu->vm;
	struct kvm_sregs sregs;

	vcpu_get_sregs(vcpu, &sregs);
	sregs.cs = seg_code32;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg_data;
	if (vm->gdt) {
		sregs.gdt.base = vm->gdt;
		sregs.gdt.limit = GDT_ENTRIES * 8 - 1;
	}
	/* No 32-bit IDT: an exception here ends in a shutdown. */
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = X86_CR0_PE | X86_CR0_ET;
	sregs.cr4 = 0;
	sregs.efer = 0;
	vcpu_set_sregs(vcpu, &sregs);
	set_mode_regs(vcpu, eip, esp);
}
