// SPDX-License-Identifier: GPL-2.0
/*
 * Guests in each CPU mode: real mode (also from the reset vector),
 * 32-bit protected mode with flat segments and no paging, a real-mode
 * guest switching itself to protected mode, and 64-bit long mode. Each
 * computes something known and reports it with OUT.
 */
#include <sys/ioctl.h>

#include "kvm_util.h"

#define PORT_A	0x10
#define PORT_B	0x11
#define PORT_C	0x12
#define PORT_D	0x13

/* Assembly snippets; each is copied to a low GPA and is position-independent
 * unless it says otherwise. */
extern char rm_start[], rm_int_handler[], rm_end[];
extern char reset_start[], reset_end[];
extern char pm_start[], pm_end[];
extern char sw_start[], sw_gdt[], sw_end[];
extern char rm_mmio_start[], rm_mmio_end[];

#define RM_CS		0x0800	/* code at 0x8000 */
#define RM_DS		0x1000	/* data and stack at 0x10000 */
#define PM_BASE		0x9000
#define SW_BASE		0xa000	/* sw_*: linked for this address */

__asm__(
"	.pushsection .text.guest_modes, \"ax\"\n"
"	.code16\n"
/*
 * Real mode, CS = 0x800, DS = SS = 0x1000, SP = 0xfffe. Sum 1..100 in a
 * loop, store through DS, 32-bit arithmetic with an operand-size prefix,
 * the stack, and INT 0x80 through the IVT (set up by the host).
 */
"rm_start:\n"
"	xor %ax, %ax\n"
"	mov $1, %cx\n"
"1:	add %cx, %ax\n"
"	inc %cx\n"
"	cmp $101, %cx\n"
"	jne 1b\n"
"	out %ax, $0x10\n"			/* 5050 */
"	movw $0x1234, (0x20)\n"			/* linear 0x10020 */
"	mov $0x12345678, %eax\n"
"	rol $8, %eax\n"
"	out %eax, $0x11\n"			/* 0x34567812 */
"	push $0xbeef\n"
"	pop %dx\n"
"	mov %dx, %ax\n"
"	out %ax, $0x12\n"			/* 0xbeef */
"	int $0x80\n"
"	mov %bl, %al\n"
"	out %al, $0x13\n"			/* 0x77 from the handler */
"	hlt\n"
"rm_int_handler:\n"
"	mov $0x77, %bl\n"
"	iret\n"
"rm_end:\n"

/* At the reset vector 0xfffffff0 (CS base 0xffff0000, IP 0xfff0). */
"reset_start:\n"
"	mov $0x4321, %ax\n"
"	out %ax, $0x10\n"
"	hlt\n"
"reset_end:\n"

/*
 * Real mode MMIO: DS = 0xb800 (linear 0xb8000, no memslot there): a
 * 16-bit store, an 8-bit load with a 16-bit address mode ([bx+si+disp]).
 */
"rm_mmio_start:\n"
"	mov $0xb800, %ax\n"
"	mov %ax, %ds\n"
"	movw $0xa55a, (0x10)\n"
"	mov $0x20, %bx\n"
"	mov $0x3, %si\n"
"	mov 0x4(%bx,%si), %al\n"		/* linear 0xb8027 */
"	out %al, $0x10\n"
"	hlt\n"
"rm_mmio_end:\n"

/*
 * 32-bit protected mode at 0x9000 (flat CS 0x18, DS/SS 0x10, no paging).
 * Load DS from the GDT, 10! with IMUL/LOOP, a store and load at an
 * absolute address, find its own EIP with CALL/POP, then reload CS from
 * the GDT with a far return.
 */
"	.code32\n"
"pm_start:\n"
"	mov $0x10, %ax\n"
"	mov %ax, %ds\n"
"	mov $10, %ecx\n"
"	mov $1, %eax\n"
"1:	imul %ecx, %eax\n"
"	loop 1b\n"
"	out %eax, $0x10\n"			/* 3628800 */
"	movl $0xdeadbeef, 0x20000\n"
"	mov 0x20000, %eax\n"
"	not %eax\n"
"	out %eax, $0x11\n"			/* 0x21524110 */
"	call 2f\n"
"2:	pop %eax\n"
"	sub $(2b - pm_start), %eax\n"
"	out %eax, $0x12\n"			/* 0x9000 */
"	add $(3f - pm_start), %eax\n"
"	push $0x18\n"
"	push %eax\n"
"	lret\n"
"3:	mov %cs, %eax\n"
"	out %eax, $0x13\n"			/* 0x18 */
"	hlt\n"
"pm_end:\n"

/*
 * Real mode at 0xa000 (CS = 0) switching to protected mode with its own
 * GDT. Linked for SW_BASE: addresses are SW_BASE + (label - sw_start).
 */
"	.code16\n"
"sw_start:\n"
"	cli\n"
"	lgdtl (0xa000 + sw_gdtr - sw_start)\n"
"	mov %cr0, %eax\n"
"	or $1, %eax\n"
"	mov %eax, %cr0\n"
"	ljmpl $0x08, $(0xa000 + sw_pm - sw_start)\n"
"	.code32\n"
"sw_pm:\n"
"	mov $0x10, %ax\n"
"	mov %ax, %ds\n"
"	mov %ax, %ss\n"
"	mov $0x20000, %esp\n"
"	mov %cr0, %eax\n"
"	out %eax, $0x10\n"
"	push $0x600dc0de\n"
"	pop %eax\n"
"	out %eax, $0x11\n"
"	hlt\n"
"	.balign 8\n"
"sw_gdt:\n"
"	.quad 0\n"
"	.quad 0x00cf9b000000ffff\n"		/* flat 32-bit code */
"	.quad 0x00cf93000000ffff\n"		/* flat data */
"sw_gdtr:\n"
"	.word sw_gdtr - sw_gdt - 1\n"
"	.long 0xa000 + sw_gdt - sw_start\n"
"sw_end:\n"
"	.code64\n"
"	.popsection\n"
);

static void expect_out(struct vcpu *vcpu, uint16_t port, uint8_t size,
		       uint32_t value)
{
	uint32_t v = 0;

	vcpu_run(vcpu);
	memcpy(&v, assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, port, size), size);
	TEST_ASSERT(v == value, "OUT port %#x: %#x, expected %#x", port, v, value);
}

static void expect_hlt(struct vcpu *vcpu, uint64_t rip)
{
	struct kvm_regs regs;

	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rip, rip);
}

static void real_mode(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint16_t ivt_0x80[2] = { (uint16_t)(rm_int_handler - rm_start), RM_CS };
	struct kvm_sregs sregs;

	vm_load_code(vm, RM_CS << 4, rm_start, rm_end);
	vm_write(vm, 0x80 * 4, ivt_0x80, sizeof(ivt_0x80));
	vcpu_setup_real_mode(vcpu, RM_CS, 0, RM_DS);

	expect_out(vcpu, PORT_A, 2, 5050);
	expect_out(vcpu, PORT_B, 4, 0x34567812);
	TEST_ASSERT_EQ(*(uint16_t *)addr_gpa2hva(vm, (RM_DS << 4) + 0x20), 0x1234);
	expect_out(vcpu, PORT_C, 2, 0xbeef);
	expect_out(vcpu, PORT_D, 1, 0x77);
	expect_hlt(vcpu, rm_int_handler - rm_start);

	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cs.selector, RM_CS);
	TEST_ASSERT_EQ(sregs.cs.base, RM_CS << 4);
	TEST_ASSERT_EQ(sregs.cr0 & X86_CR0_PE, 0);
}

/* A new vCPU starts at 0xfffffff0 in real mode. */
static void reset_vector(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu;

	vm_add_memslot(vm, 0, 0, 0xfffff000, PAGE_SIZE);
	vm_load_code(vm, 0xfffffff0, reset_start, reset_end);
	vcpu = vm_vcpu_add_raw(vm, 0);
	expect_out(vcpu, PORT_A, 2, 0x4321);
	expect_hlt(vcpu, 0xfff0 + (reset_end - reset_start));
}

static void real_mode_mmio(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);

	vm_add_memslot(vm, 0, 0, 0, 0x20000);
	vm_load_code(vm, RM_CS << 4, rm_mmio_start, rm_mmio_end);
	vcpu_setup_real_mode(vcpu, RM_CS, 0, RM_DS);

	vcpu_run_expect_mmio(vcpu, 0xb8010, 2, 1, 0xa55a);
	vcpu_run_expect_mmio(vcpu, 0xb8027, 1, 0, 0xc3);
	expect_out(vcpu, PORT_A, 1, 0xc3);
	expect_hlt(vcpu, rm_mmio_end - rm_mmio_start);
}

static void protected_mode_32(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs sregs;

	vm_load_code(vm, PM_BASE, pm_start, pm_end);
	vcpu_setup_pm32(vcpu, PM_BASE, 0x80000);

	expect_out(vcpu, PORT_A, 4, 3628800);
	expect_out(vcpu, PORT_B, 4, ~0xdeadbeefU);
	TEST_ASSERT_EQ(*(uint32_t *)addr_gpa2hva(vm, 0x20000), 0xdeadbeef);
	expect_out(vcpu, PORT_C, 4, PM_BASE);
	expect_out(vcpu, PORT_D, 4, GDT_CODE32);
	expect_hlt(vcpu, PM_BASE + (pm_end - pm_start));

	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cs.selector, GDT_CODE32);
	TEST_ASSERT_EQ(sregs.cs.db, 1);
	TEST_ASSERT_EQ(sregs.ds.selector, GDT_DATA);
	TEST_ASSERT_EQ(sregs.cr0 & (X86_CR0_PE | X86_CR0_PG), X86_CR0_PE);
	TEST_ASSERT_EQ(sregs.efer & EFER_LMA, 0);
}

/* 32-bit protected mode MMIO: flat segments reach MMIO_GPA directly. */
static void protected_mode_mmio(void)
{
	static const uint8_t code[] = {
		0xc7, 0x05, 0x00, 0x00, 0x00, 0xc0,	/* movl $0x1234abcd, 0xc0000000 */
		0xcd, 0xab, 0x34, 0x12,
		0x8b, 0x0d, 0x08, 0x00, 0x00, 0xc0,	/* mov 0xc0000008, %ecx */
		0x89, 0xc8,				/* mov %ecx, %eax */
		0xe7, 0x10,				/* out %eax, $0x10 */
		0xf4,					/* hlt */
	};
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vm_write(vm, PM_BASE, code, sizeof(code));
	vcpu_setup_pm32(vcpu, PM_BASE, 0x80000);

	vcpu_run_expect_mmio(vcpu, MMIO_GPA, 4, 1, 0x1234abcd);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 8, 4, 0, 0x89abcdef);
	expect_out(vcpu, PORT_A, 4, 0x89abcdef);
	expect_hlt(vcpu, PM_BASE + sizeof(code));
}

/*
 * 32-bit protected mode with paging: VA 0x400000 maps to MMIO_GPA and VA
 * 0x401000 to RAM at 0x5000; the first 2 MiB are identity-mapped for the
 * code at 0x9000. The same code runs with 2-level (non-PAE) and PAE
 * paging.
 */
static const uint8_t paged_code[] = {
	0xc7, 0x05, 0x10, 0x00, 0x40, 0x00,		/* movl $0xabcd1234, 0x400010 */
	0x34, 0x12, 0xcd, 0xab,
	0xa1, 0x20, 0x00, 0x40, 0x00,			/* mov 0x400020, %eax */
	0xe7, 0x10,					/* out %eax, $0x10 */
	0xc7, 0x05, 0x08, 0x10, 0x40, 0x00,		/* movl $0x5555, 0x401008 */
	0x55, 0x55, 0x00, 0x00,
	0xf4,						/* hlt */
};

#define PT_BASE		0x20000UL

static void run_paged_code(struct vm *vm, struct vcpu *vcpu, uint64_t cr4)
{
	struct kvm_sregs sregs;

	vm_write(vm, PM_BASE, paged_code, sizeof(paged_code));
	vcpu_setup_pm32(vcpu, PM_BASE, 0x80000);
	vcpu_get_sregs(vcpu, &sregs);
	sregs.cr0 |= X86_CR0_PG;
	sregs.cr3 = PT_BASE;
	sregs.cr4 = cr4;
	vcpu_set_sregs(vcpu, &sregs);
	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cr0, X86_CR0_PG | X86_CR0_PE | X86_CR0_ET);
	TEST_ASSERT_EQ(sregs.cr3, PT_BASE);
	TEST_ASSERT_EQ(sregs.cr4, cr4);
	TEST_ASSERT_EQ(sregs.efer, 0);

	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x10, 4, 1, 0xabcd1234);
	vcpu_run_expect_mmio(vcpu, MMIO_GPA + 0x20, 4, 0, 0x7e7e7e7e);
	expect_out(vcpu, PORT_A, 4, 0x7e7e7e7e);
	expect_hlt(vcpu, PM_BASE + sizeof(paged_code));
	TEST_ASSERT_EQ(*(uint32_t *)addr_gpa2hva(vm, 0x5008), 0x5555);
}

static void protected_mode_paging(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint32_t *pd = addr_gpa2hva(vm, PT_BASE);
	uint32_t *pt0 = addr_gpa2hva(vm, PT_BASE + 0x1000);
	uint32_t *pt1 = addr_gpa2hva(vm, PT_BASE + 0x2000);

	memset(pd, 0, 3 * PAGE_SIZE);
	pd[0] = (PT_BASE + 0x1000) | 3;
	pd[1] = (PT_BASE + 0x2000) | 3;
	for (int i = 0; i < 512; i++)
		pt0[i] = (i << 12) | 3;
	pt1[0] = MMIO_GPA | 3;
	pt1[1] = 0x5000 | 3;
	run_paged_code(vm, vcpu, 0);
}

static void protected_mode_pae_paging(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint64_t *pdpt = addr_gpa2hva(vm, PT_BASE);
	uint64_t *pd = addr_gpa2hva(vm, PT_BASE + 0x1000);
	uint64_t *pt0 = addr_gpa2hva(vm, PT_BASE + 0x2000);
	uint64_t *pt1 = addr_gpa2hva(vm, PT_BASE + 0x3000);

	memset(pdpt, 0, 4 * PAGE_SIZE);
	pdpt[0] = (PT_BASE + 0x1000) | 1;	/* PDPTEs have no R/W bit */
	pd[0] = (PT_BASE + 0x2000) | 3;
	pd[2] = (PT_BASE + 0x3000) | 3;		/* VA 0x400000 */
	for (int i = 0; i < 512; i++)
		pt0[i] = (i << 12) | 3;
	pt1[0] = MMIO_GPA | 3;
	pt1[1] = 0x5000 | 3;
	run_paged_code(vm, vcpu, X86_CR4_PAE);
}

static void real_to_protected_switch(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs sregs;

	vm_load_code(vm, SW_BASE, sw_start, sw_end);
	vcpu_setup_real_mode(vcpu, 0, SW_BASE, 0);

	expect_out(vcpu, PORT_A, 4, X86_CR0_ET | X86_CR0_PE);
	expect_out(vcpu, PORT_B, 4, 0x600dc0de);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);

	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cs.selector, 0x08);
	TEST_ASSERT_EQ(sregs.cs.base, 0);
	TEST_ASSERT_EQ(sregs.cs.limit, 0xffffffff);
	TEST_ASSERT_EQ(sregs.cs.db, 1);
	TEST_ASSERT_EQ(sregs.ss.selector, 0x10);
	TEST_ASSERT_EQ(sregs.gdt.base, SW_BASE + (sw_gdt - sw_start));
	TEST_ASSERT_EQ(sregs.gdt.limit, 23);
	TEST_ASSERT_EQ(sregs.cr0, X86_CR0_ET | X86_CR0_PE);
}

/* 64-bit C guest. */
static uint64_t guest_factorial(uint64_t n)
{
	uint64_t r = 1;

	while (n > 1)
		r *= n--;
	return r;
}

static void guest_long_mode(uint64_t n)
{
	uint64_t efer = rdmsr(MSR_EFER);

	outl(PORT_A, (uint32_t)guest_factorial(n));
	GUEST_SYNC(guest_factorial(n));
	GUEST_ASSERT_EQ(efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
	GUEST_ASSERT(get_cr0() & X86_CR0_PG);
	GUEST_ASSERT(get_cr4() & X86_CR4_PAE);
	GUEST_SYNC(get_cr3());
}

static void long_mode(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs sregs;

	vcpu_set_entry(vcpu, guest_long_mode, 20);
	expect_out(vcpu, PORT_A, 4, (uint32_t)2432902008176640000ULL);
	vcpu_run_expect_sync(vcpu, 2432902008176640000ULL);
	vcpu_run_expect_sync(vcpu, vm->pml4);
	vcpu_run_expect_done(vcpu);

	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.cs.l, 1);
	TEST_ASSERT_EQ(sregs.efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
}

static const struct test_case cases[] = {
	TEST_CASE(real_mode, "real mode: loop, DS store, 32-bit ops, stack, INT via IVT"),
	TEST_CASE(reset_vector, "a new vCPU executes from 0xfffffff0"),
	TEST_CASE(real_mode_mmio, "real mode: MMIO store and [bx+si+disp] load"),
	TEST_CASE(protected_mode_32, "32-bit protected mode: GDT loads, IMUL/LOOP, far return"),
	TEST_CASE(protected_mode_mmio, "32-bit protected mode: MMIO store and load"),
	TEST_CASE(protected_mode_paging, "32-bit paging: MMIO through a mapped VA"),
	TEST_CASE(protected_mode_pae_paging, "PAE paging: MMIO through a mapped VA"),
	TEST_CASE(real_to_protected_switch, "real mode guest switches itself to protected mode"),
	TEST_CASE(long_mode, "64-bit long mode C guest"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
