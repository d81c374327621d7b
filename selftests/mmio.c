// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO exits: guest accesses to a GPA without a memslot (MMIO_GPA) and
 * writes to a KVM_MEM_READONLY slot. Writes report phys_addr, len,
 * is_write and the data; reads complete on the next KVM_RUN with the data
 * userspace put in run->mmio.data, with x86's rules for the upper bits.
 */
#include <sys/ioctl.h>

#include "kvm_util.h"

#define RAX_INIT	0x1122334455667788ULL
#define RO_GPA		0x10000000UL

static void guest_mmio_writes(uint64_t base)
{
	uint64_t r9 = 0x0102030405060708ULL;

	__asm__ __volatile__("movb %%al, (%0)" : : "r"(base), "a"(0x11) : "memory");
	__asm__ __volatile__("movw %%ax, 2(%0)" : : "r"(base), "a"(0x2233) : "memory");
	__asm__ __volatile__("movl %%eax, 4(%0)" : : "r"(base), "a"(0x44556677) : "memory");
	__asm__ __volatile__("movq %%rax, 8(%0)" : : "r"(base),
			     "a"(0x8899aabbccddeeffULL) : "memory");
	__asm__ __volatile__("movq %1, 0x20(%0)" : : "r"(base), "r"(r9) : "memory");
	__asm__ __volatile__("movb %%ah, 0x28(%0)" : : "r"(base), "a"(0xcd00) : "memory");
}

static void writes(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_mmio_writes, MMIO_GPA);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0, 1, 1, 0x11);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 2, 2, 1, 0x2233);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 4, 4, 1, 0x44556677);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 8, 8, 1, 0x8899aabbccddeeffULL);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x20, 8, 1, 0x0102030405060708ULL);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x28, 1, 1, 0xcd);
	vcpu_run_expect_done(vcpu);
}

static void guest_mmio_store_imm(uint64_t base)
{
	__asm__ __volatile__("movb $0xab, 0x10(%0)" : : "r"(base) : "memory");
	__asm__ __volatile__("movw $0xcafe, 0x12(%0)" : : "r"(base) : "memory");
	__asm__ __volatile__("movl $0x12345678, 0x14(%0)" : : "r"(base) : "memory");
	/* imm32 sign-extended to 64 bits */
	__asm__ __volatile__("movq $-2, 0x18(%0)" : : "r"(base) : "memory");
	__asm__ __volatile__("movq $0x7fffffff, 0x30(%0)" : : "r"(base) : "memory");
}

static void store_immediate(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_mmio_store_imm, MMIO_GPA);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x10, 1, 1, 0xab);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x12, 2, 1, 0xcafe);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x14, 4, 1, 0x12345678);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x18, 8, 1, 0xfffffffffffffffeULL);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x30, 8, 1, 0x7fffffff);
	vcpu_run_expect_done(vcpu);
}

/* MOV loads: 8/16-bit keep RAX's other bits, 32-bit zero-extends. */
static void guest_mmio_reads(uint64_t base)
{
	uint64_t v;

	v = RAX_INIT;
	__asm__ __volatile__("movb (%1), %%al" : "+a"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0x112233445566775aULL);
	v = RAX_INIT;
	__asm__ __volatile__("movw 2(%1), %%ax" : "+a"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0x112233445566beefULL);
	v = RAX_INIT;
	__asm__ __volatile__("movl 4(%1), %%eax" : "+a"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0xdeadbeefULL);
	v = RAX_INIT;
	__asm__ __volatile__("movq 8(%1), %%rax" : "+a"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0x0123456789abcdefULL);
	v = RAX_INIT;
	__asm__ __volatile__("movb 0x10(%1), %%ah" : "+a"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0x1122334455669988ULL);
	v = RAX_INIT;
	__asm__ __volatile__("movq 0x18(%1), %0" : "+r"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0xfedcba9876543210ULL);
}

static void reads(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_mmio_reads, MMIO_GPA);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0, 1, 0, 0x5a);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 2, 2, 0, 0xbeef);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 4, 4, 0, 0xdeadbeef);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 8, 8, 0, 0x0123456789abcdefULL);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x10, 1, 0, 0x99);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x18, 8, 0, 0xfedcba9876543210ULL);
	vcpu_run_expect_done(vcpu);
}

static void guest_mmio_extend(uint64_t base)
{
	uint64_t v;

	v = RAX_INIT;
	__asm__ __volatile__("movzbl (%1), %k0" : "+r"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0xf0);
	v = RAX_INIT;
	__asm__ __volatile__("movzwl 2(%1), %k0" : "+r"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0xfedc);
	v = RAX_INIT;
	__asm__ __volatile__("movzbw 4(%1), %w0" : "+r"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0x1122334455660081ULL);
	v = RAX_INIT;
	__asm__ __volatile__("movsbq 5(%1), %0" : "+r"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffffff80ULL);
	v = RAX_INIT;
	__asm__ __volatile__("movswq 6(%1), %0" : "+r"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffffffff8001ULL);
	v = RAX_INIT;
	__asm__ __volatile__("movslq 8(%1), %0" : "+r"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0xffffffff80000000ULL);
	v = RAX_INIT;
	__asm__ __volatile__("movsbl 0xc(%1), %k0" : "+r"(v) : "r"(base) : "memory");
	GUEST_ASSERT_EQ(v, 0xfffffffeULL);
}

static void movzx_movsx(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_mmio_extend, MMIO_GPA);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0, 1, 0, 0xf0);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 2, 2, 0, 0xfedc);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 4, 1, 0, 0x81);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 5, 1, 0, 0x80);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 6, 2, 0, 0x8001);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 8, 4, 0, 0x80000000);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0xc, 1, 0, 0xfe);
	vcpu_run_expect_done(vcpu);
}

/* Registers r8..r15 (REX prefixes) and a SIB address as operands. */
static void guest_mmio_rex(uint64_t base)
{
	register uint64_t r11 __asm__("r11") = 0xa1a2a3a4a5a6a7a8ULL;
	register uint64_t r14 __asm__("r14") = RAX_INIT;
	uint64_t idx = 3;

	__asm__ __volatile__("movl %%r11d, 0x40(%0,%1,8)" : : "r"(base), "r"(idx), "r"(r11)
			     : "memory");
	__asm__ __volatile__("movq 0x40(%1,%2,8), %0" : "+r"(r14) : "r"(base), "r"(idx)
			     : "memory");
	GUEST_ASSERT_EQ(r14, 0x0badf00dcafebabeULL);
}

static void rex_and_sib(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_mmio_rex, MMIO_GPA);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x58, 4, 1, 0xa5a6a7a8);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x58, 8, 0, 0x0badf00dcafebabeULL);
	vcpu_run_expect_done(vcpu);
}

/* The guest's plain C volatile accesses (whatever the compiler emits). */
static void guest_mmio_c(uint64_t base)
{
	volatile uint32_t *reg = (volatile uint32_t *)base;

	reg[0x40] = 0x600d;
	GUEST_SYNC(reg[0x41] + 1);
}

static void c_accesses(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_mmio_c, MMIO_GPA);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x100, 4, 1, 0x600d);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x104, 4, 0, 41);
	vcpu_run_expect_sync(vcpu, 42);
	vcpu_run_expect_done(vcpu);
}

/*
 * A KVM_MEM_READONLY slot: reads return its content without an exit,
 * writes exit as MMIO writes and leave the memory unchanged.
 */
static void guest_readonly(uint64_t gpa)
{
	volatile uint32_t *p = (volatile uint32_t *)gpa;

	GUEST_SYNC(p[2]);
	p[2] = 0x12345678;
	GUEST_SYNC(p[2]);
	*(volatile uint8_t *)(gpa + 0x1001) = 0x77;
	GUEST_SYNC(*(volatile uint8_t *)(gpa + 0x1001));
}

static void readonly_slot(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint8_t *mem = vm_add_memslot(vm, 1, KVM_MEM_READONLY, RO_GPA, 0x200000);

	mem[8] = 0xaa; mem[9] = 0xbb; mem[10] = 0xcc; mem[11] = 0xdd;
	mem[0x1001] = 0x33;
	vcpu_set_entry(vcpu, guest_readonly, RO_GPA);
	vcpu_run_expect_sync(vcpu, 0xddccbbaa);
	vcpu_run_expect_mmio(vcpu, RO_GPA + 8, 4, 1, 0x12345678);
	vcpu_run_expect_sync(vcpu, 0xddccbbaa);
	vcpu_run_expect_mmio(vcpu, RO_GPA + 0x1001, 1, 1, 0x77);
	vcpu_run_expect_sync(vcpu, 0x33);
	vcpu_run_expect_done(vcpu);
	TEST_ASSERT_EQ(mem[8], 0xaa);
	TEST_ASSERT_EQ(mem[0x1001], 0x33);
}

/* Host-side changes to a read-only slot's memory are seen by the guest. */
static void guest_read_twice(uint64_t gpa)
{
	GUEST_SYNC(*(volatile uint64_t *)gpa);
	GUEST_SYNC(*(volatile uint64_t *)gpa);
}

static void readonly_slot_host_update(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint64_t *mem = vm_add_memslot(vm, 1, KVM_MEM_READONLY, RO_GPA, PAGE_SIZE);

	mem[0] = 1;
	vcpu_set_entry(vcpu, guest_read_twice, RO_GPA);
	vcpu_run_expect_sync(vcpu, 1);
	mem[0] = 2;
	vcpu_run_expect_sync(vcpu, 2);
	vcpu_run_expect_done(vcpu);
}

/*
 * An access that crosses into the next page is split at the boundary:
 * two MMIO exits, each with its part of the data.
 */
static void guest_mmio_cross(uint64_t addr)
{
	__asm__ __volatile__("movl %%eax, (%0)" : : "r"(addr), "a"(0x44332211) : "memory");
	GUEST_SYNC(*(volatile uint32_t *)addr);
}

static void crossing_page_split(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint64_t addr = MMIO_GPA + PAGE_SIZE - 2;

	vcpu_set_entry(vcpu, guest_mmio_cross, addr);
	vcpu_run_expect_mmio(vcpu, addr, 2, 1, 0x2211);
	vcpu_run_expect_mmio(vcpu, addr + 2, 2, 1, 0x4433);
	vcpu_run_expect_mmio(vcpu, addr, 2, 0, 0xbbaa);
	vcpu_run_expect_mmio(vcpu, addr + 2, 2, 0, 0xddcc);
	vcpu_run_expect_sync(vcpu, 0xddccbbaa);
	vcpu_run_expect_done(vcpu);
}

/* Half in RAM, half MMIO: the RAM half is written, only the rest exits. */
static void ram_then_mmio_split(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint8_t *mem = vm_add_memslot(vm, 1, 0, MMIO_GPA - PAGE_SIZE, PAGE_SIZE);
	uint64_t addr = MMIO_GPA - 2;

	vcpu_set_entry(vcpu, guest_mmio_cross, addr);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA, 2, 1, 0x4433);
	TEST_ASSERT_EQ(mem[PAGE_SIZE - 2], 0x11);
	TEST_ASSERT_EQ(mem[PAGE_SIZE - 1], 0x22);
	mem[PAGE_SIZE - 2] = 0xaa;
	mem[PAGE_SIZE - 1] = 0xbb;
	vcpu_run_expect_mmio(vcpu, MMIO_GPA, 2, 0, 0xddcc);
	vcpu_run_expect_sync(vcpu, 0xddccbbaa);
	vcpu_run_expect_done(vcpu);
}

/*
 * The faulting instruction itself straddles a page boundary: the decoder
 * has to fetch from both pages. Code at 0x8ffc..0x9003 (64-bit mode).
 */
static void insn_straddles_page(void)
{
	static const uint8_t code[] = {
		0xc7, 0x42, 0x10, 0x78, 0x56, 0x34, 0x12,	/* movl $0x12345678, 0x10(%rdx) */
		0xf4,						/* hlt */
	};
	const uint64_t at = 0x9000 - 4;
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs regs;

	vm_write(vm, at, code, sizeof(code));
	vcpu_get_regs(vcpu, &regs);
	regs.rip = at;
	regs.rdx = MMIO_GPA;
	regs.rflags = X86_EFLAGS_FIXED;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x10, 4, 1, 0x12345678);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rip, at + sizeof(code));
}

/* FS/GS segment bases apply to MMIO addresses in 64-bit mode. */
static void guest_mmio_fs_gs(void)
{
	uint32_t v;

	__asm__ __volatile__("movl %%fs:0x10, %0" : "=r"(v) : : "memory");
	GUEST_ASSERT_EQ(v, 0xf5f5f5f5);
	__asm__ __volatile__("movw %%ax, %%gs:0x20" : : "a"(0x6565) : "memory");
}

static void segment_base(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs sregs;

	vcpu_get_sregs(vcpu, &sregs);
	sregs.fs.base = MMIO_GPA + 0x1000;
	sregs.gs.base = MMIO_GPA + 0x2000;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_set_entry(vcpu, guest_mmio_fs_gs);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x1010, 4, 0, 0xf5f5f5f5);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x2020, 2, 1, 0x6565);
	vcpu_run_expect_done(vcpu);
}

/* RIP-relative addressing: code at 0x9000, MMIO at 1 GiB. */
static void rip_relative(void)
{
	const uint64_t at = 0x9000, target = 0x40000000;
	uint8_t code[] = {
		0x8b, 0x05, 0, 0, 0, 0,		/* mov disp32(%rip), %eax */
		0xf4,				/* hlt */
	};
	uint32_t disp = (uint32_t)(target - (at + 6));
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs regs;

	memcpy(&code[2], &disp, 4);
	vm_write(vm, at, code, sizeof(code));
	vcpu_get_regs(vcpu, &regs);
	regs.rip = at;
	regs.rax = RAX_INIT;
	regs.rflags = X86_EFLAGS_FIXED;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run_expect_mmio(vcpu, target, 4, 0, 0x13572468);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rax, 0x13572468);
	TEST_ASSERT_EQ(regs.rip, at + sizeof(code));
}

/*
 * Guest virtual != guest physical: a 4 KiB page at 20 GiB mapped to MMIO,
 * and the MMIO instruction itself on a page mapped at another VA.
 */
#define REMAP_VA	0x500000000ULL
#define REMAP_CODE_VA	(REMAP_VA + 0x5000)

static void remapped_4k_pages(void)
{
	static const uint8_t code[] = {
		0x89, 0x42, 0x08,	/* mov %eax, 0x8(%rdx) */
		0x8b, 0x4a, 0x0c,	/* mov 0xc(%rdx), %ecx */
		0xf4,			/* hlt */
	};
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs regs;

	vm_map_page(vm, REMAP_VA + 0x3000, MMIO_GPA + 0x7000);
	vm_map_page(vm, REMAP_CODE_VA, 0xa000);
	vm_write(vm, 0xa000 + 0x100, code, sizeof(code));
	vcpu_get_regs(vcpu, &regs);
	regs.rip = REMAP_CODE_VA + 0x100;
	regs.rdx = REMAP_VA + 0x3000;
	regs.rax = 0x0bad1dea;
	regs.rflags = X86_EFLAGS_FIXED;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x7008, 4, 1, 0x0bad1dea);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x700c, 4, 0, 0x600df00d);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rcx, 0x600df00d);
	TEST_ASSERT_EQ(regs.rip, REMAP_CODE_VA + 0x100 + sizeof(code));
}

/*
 * An MMIO instruction split over two virtual pages whose physical pages
 * are not adjacent (VA page 0 -> GPA 0xd000, VA page 1 -> GPA 0xb000).
 */
static void insn_straddles_remapped_pages(void)
{
	static const uint8_t code[] = {
		0x48, 0xc7, 0x42, 0x18, 0x44, 0x33, 0x22, 0x11,	/* movq $0x11223344, 0x18(%rdx) */
		0xf4,						/* hlt */
	};
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs regs;

	vm_map_page(vm, REMAP_VA + 0x3000, MMIO_GPA + 0x7000);
	vm_map_page(vm, REMAP_CODE_VA, 0xd000);
	vm_map_page(vm, REMAP_CODE_VA + PAGE_SIZE, 0xb000);
	vm_write(vm, 0xd000 + PAGE_SIZE - 3, code, 3);
	vm_write(vm, 0xb000, code + 3, sizeof(code) - 3);
	vcpu_get_regs(vcpu, &regs);
	regs.rip = REMAP_CODE_VA + PAGE_SIZE - 3;
	regs.rdx = REMAP_VA + 0x3000;
	regs.rflags = X86_EFLAGS_FIXED;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x7018, 8, 1, 0x11223344);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rip, REMAP_CODE_VA + PAGE_SIZE - 3 + sizeof(code));
}

static const struct test_case cases[] = {
	TEST_CASE(writes, "MMIO writes of 1, 2, 4, 8 bytes, REX and AH sources"),
	TEST_CASE(store_immediate, "MMIO stores of immediates (imm32 sign-extended)"),
	TEST_CASE(reads, "MMIO reads of 1, 2, 4, 8 bytes complete with the host's data"),
	TEST_CASE(movzx_movsx, "MMIO MOVZX/MOVSX/MOVSXD loads extend correctly"),
	TEST_CASE(rex_and_sib, "MMIO with r8-r15 and a SIB address"),
	TEST_CASE(c_accesses, "MMIO through C volatile pointers"),
	TEST_CASE(crossing_page_split, "MMIO access across a page boundary: two exits"),
	TEST_CASE(ram_then_mmio_split, "access half in RAM, half MMIO: only the MMIO half exits"),
	TEST_CASE(insn_straddles_page, "MMIO by an instruction straddling a page boundary"),
	TEST_CASE(segment_base, "MMIO through FS/GS bases in 64-bit mode"),
	TEST_CASE(rip_relative, "MMIO with RIP-relative addressing"),
	TEST_CASE(remapped_4k_pages, "MMIO through 4K pages at a VA other than the GPA"),
	TEST_CASE(insn_straddles_remapped_pages, "MMIO instruction split over non-adjacent pages"),
	TEST_CASE(readonly_slot, "KVM_MEM_READONLY: reads see memory, writes exit as MMIO"),
	TEST_CASE(readonly_slot_host_update, "KVM_MEM_READONLY: host updates are visible"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
