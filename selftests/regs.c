// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_GET/SET_REGS, KVM_GET/SET_SREGS and KVM_GET/SET_FPU: round trips,
 * what the guest sees, what the host sees after the guest ran.
 */
#include <sys/ioctl.h>

#include "kvm_util.h"

static void regs_round_trip(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs set, got;
	uint64_t *p = (uint64_t *)&set;

	for (unsigned int i = 0; i < sizeof(set) / 8; i++)
		p[i] = 0x0101010101010101ULL * (i + 1) + 0x10 * i;
	set.rflags = 0x246;
	vcpu_set_regs(vcpu, &set);
	vcpu_get_regs(vcpu, &got);
	TEST_ASSERT_EQ(got.rax, set.rax);
	TEST_ASSERT_EQ(got.rbx, set.rbx);
	TEST_ASSERT_EQ(got.rcx, set.rcx);
	TEST_ASSERT_EQ(got.rdx, set.rdx);
	TEST_ASSERT_EQ(got.rsi, set.rsi);
	TEST_ASSERT_EQ(got.rdi, set.rdi);
	TEST_ASSERT_EQ(got.rsp, set.rsp);
	TEST_ASSERT_EQ(got.rbp, set.rbp);
	TEST_ASSERT_EQ(got.r8, set.r8);
	TEST_ASSERT_EQ(got.r9, set.r9);
	TEST_ASSERT_EQ(got.r10, set.r10);
	TEST_ASSERT_EQ(got.r11, set.r11);
	TEST_ASSERT_EQ(got.r12, set.r12);
	TEST_ASSERT_EQ(got.r13, set.r13);
	TEST_ASSERT_EQ(got.r14, set.r14);
	TEST_ASSERT_EQ(got.r15, set.r15);
	TEST_ASSERT_EQ(got.rip, set.rip);
	TEST_ASSERT_EQ(got.rflags, 0x246);
}

/* RFLAGS bit 1 is always 1. */
static void rflags_fixed_bit(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs regs;

	vcpu_get_regs(vcpu, &regs);
	regs.rflags = 0;
	vcpu_set_regs(vcpu, &regs);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rflags, X86_EFLAGS_FIXED);
}

/* The guest starts with the GPRs the host set; the host sees the guest's. */
extern char guest_regs_entry[];
static uint64_t seen_regs[16];

__asm__(
"	.pushsection .text\n"
"	.globl guest_regs_entry\n"
"guest_regs_entry:\n"
"	mov %rax, seen_regs + 0\n"
"	mov %rcx, seen_regs + 8\n"
"	mov %rdx, seen_regs + 16\n"
"	mov %rbx, seen_regs + 24\n"
"	mov %rsp, seen_regs + 32\n"
"	mov %rbp, seen_regs + 40\n"
"	mov %rsi, seen_regs + 48\n"
"	mov %rdi, seen_regs + 56\n"
"	mov %r8, seen_regs + 64\n"
"	mov %r9, seen_regs + 72\n"
"	mov %r10, seen_regs + 80\n"
"	mov %r11, seen_regs + 88\n"
"	mov %r12, seen_regs + 96\n"
"	mov %r13, seen_regs + 104\n"
"	mov %r14, seen_regs + 112\n"
"	mov %r15, seen_regs + 120\n"
"	hlt\n"
"	mov $0xa0, %eax\n"
"	mov $0xa1, %ecx\n"
"	mov $0xa2, %edx\n"
"	mov $0xa3, %ebx\n"
"	mov $0xa5, %ebp\n"
"	mov $0xa6, %esi\n"
"	mov $0xa7, %edi\n"
"	mov $0xa8, %r8d\n"
"	mov $0xa9, %r9d\n"
"	mov $0xaa, %r10d\n"
"	mov $0xab, %r11d\n"
"	mov $0xac, %r12d\n"
"	mov $0xad, %r13d\n"
"	mov $0xae, %r14d\n"
"	movabs $0xfedcba9876543210, %r15\n"
"	stc\n"
"	hlt\n"
"	.popsection\n");

static void guest_sees_regs(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs regs = { 0 };
	uint64_t *set = (uint64_t *)&regs;	/* rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp, r8.. */

	for (int i = 0; i < 16; i++)
		set[i] = 0x1000000000000000ULL * (i + 1) + i;
	regs.rsp = vcpu->stack_top - 64;
	regs.rip = (uintptr_t)guest_regs_entry;
	regs.rflags = X86_EFLAGS_FIXED;
	vcpu_set_regs(vcpu, &regs);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	sync_global_from_guest(vm, seen_regs);
	TEST_ASSERT_EQ(seen_regs[0], regs.rax);
	TEST_ASSERT_EQ(seen_regs[1], regs.rcx);
	TEST_ASSERT_EQ(seen_regs[2], regs.rdx);
	TEST_ASSERT_EQ(seen_regs[3], regs.rbx);
	TEST_ASSERT_EQ(seen_regs[4], regs.rsp);
	TEST_ASSERT_EQ(seen_regs[5], regs.rbp);
	TEST_ASSERT_EQ(seen_regs[6], regs.rsi);
	TEST_ASSERT_EQ(seen_regs[7], regs.rdi);
	TEST_ASSERT_EQ(seen_regs[8], regs.r8);
	TEST_ASSERT_EQ(seen_regs[9], regs.r9);
	TEST_ASSERT_EQ(seen_regs[10], regs.r10);
	TEST_ASSERT_EQ(seen_regs[11], regs.r11);
	TEST_ASSERT_EQ(seen_regs[12], regs.r12);
	TEST_ASSERT_EQ(seen_regs[13], regs.r13);
	TEST_ASSERT_EQ(seen_regs[14], regs.r14);
	TEST_ASSERT_EQ(seen_regs[15], regs.r15);

	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rax, 0xa0);
	TEST_ASSERT_EQ(regs.rcx, 0xa1);
	TEST_ASSERT_EQ(regs.rdx, 0xa2);
	TEST_ASSERT_EQ(regs.rbx, 0xa3);
	TEST_ASSERT_EQ(regs.rbp, 0xa5);
	TEST_ASSERT_EQ(regs.rsi, 0xa6);
	TEST_ASSERT_EQ(regs.rdi, 0xa7);
	TEST_ASSERT_EQ(regs.r8, 0xa8);
	TEST_ASSERT_EQ(regs.r9, 0xa9);
	TEST_ASSERT_EQ(regs.r10, 0xaa);
	TEST_ASSERT_EQ(regs.r11, 0xab);
	TEST_ASSERT_EQ(regs.r12, 0xac);
	TEST_ASSERT_EQ(regs.r13, 0xad);
	TEST_ASSERT_EQ(regs.r14, 0xae);
	TEST_ASSERT_EQ(regs.r15, 0xfedcba9876543210ULL);
	TEST_ASSERT_EQ(regs.rsp, vcpu->stack_top - 64);
	TEST_ASSERT_EQ(regs.rflags & 1, 1);	/* CF from STC */
}

static void seg_eq(const struct kvm_segment *a, const struct kvm_segment *b,
		   const char *name)
{
	TEST_ASSERT(a->base == b->base && a->limit == b->limit &&
		    a->selector == b->selector && a->type == b->type &&
		    a->present == b->present && a->dpl == b->dpl && a->db == b->db &&
		    a->s == b->s && a->l == b->l && a->g == b->g && a->avl == b->avl &&
		    a->unusable == b->unusable,
		    "%s: got base %#llx limit %#x sel %#x type %u p %u dpl %u db %u s %u l %u g %u avl %u unusable %u,\n"
		    "expected base %#llx limit %#x sel %#x type %u p %u dpl %u db %u s %u l %u g %u avl %u unusable %u",
		    name, a->base, a->limit, a->selector, a->type, a->present, a->dpl, a->db,
		    a->s, a->l, a->g, a->avl, a->unusable,
		    b->base, b->limit, b->selector, b->type, b->present, b->dpl, b->db,
		    b->s, b->l, b->g, b->avl, b->unusable);
}

/*
 * SET_SREGS then GET_SREGS returns the same long-mode state. The values
 * are self-consistent (accessed bits set, G matching the limit, present
 * segments usable) so no normalisation applies.
 */
static void sregs_round_trip(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs set, got;
	const struct kvm_segment data = {
		.base = 0, .limit = 0xffffffff, .selector = 0x10, .type = 3,
		.present = 1, .db = 1, .s = 1, .g = 1,
	};

	vcpu_get_sregs(vcpu, &set);
	set.cs = (struct kvm_segment){ .base = 0, .limit = 0xffffffff, .selector = 0x08,
				       .type = 0xb, .present = 1, .s = 1, .l = 1, .g = 1 };
	set.ds = set.es = set.ss = data;
	set.fs = data;
	set.fs.base = 0x7f0012345000ULL;
	set.fs.selector = 0;
	set.gs = data;
	set.gs.base = 0xffff888000001000ULL;
	set.tr = (struct kvm_segment){ .base = 0x3000, .limit = 0x67, .selector = 0x30,
				       .type = 0xb, .present = 1 };
	set.ldt = (struct kvm_segment){ .base = 0x5000, .limit = 0xfff, .selector = 0x40,
					.type = 0x2, .present = 1 };
	set.gdt.base = 0x2000;
	set.gdt.limit = 0x47;
	set.idt.base = 0x4000;
	set.idt.limit = 0xfff;
	set.cr0 = 0x80050033;
	set.cr2 = 0xdead000;
	set.cr3 = 0x1000;
	set.cr4 = 0x620;
	set.efer = EFER_LME | EFER_LMA | EFER_SCE;
	vcpu_set_sregs(vcpu, &set);
	vcpu_get_sregs(vcpu, &got);

	seg_eq(&got.cs, &set.cs, "cs");
	seg_eq(&got.ds, &set.ds, "ds");
	seg_eq(&got.es, &set.es, "es");
	seg_eq(&got.fs, &set.fs, "fs");
	seg_eq(&got.gs, &set.gs, "gs");
	seg_eq(&got.ss, &set.ss, "ss");
	seg_eq(&got.tr, &set.tr, "tr");
	seg_eq(&got.ldt, &set.ldt, "ldt");
	TEST_ASSERT_EQ(got.gdt.base, set.gdt.base);
	TEST_ASSERT_EQ(got.gdt.limit, set.gdt.limit);
	TEST_ASSERT_EQ(got.idt.base, set.idt.base);
	TEST_ASSERT_EQ(got.idt.limit, set.idt.limit);
	TEST_ASSERT_EQ(got.cr0, set.cr0);
	TEST_ASSERT_EQ(got.cr2, set.cr2);
	TEST_ASSERT_EQ(got.cr3, set.cr3);
	TEST_ASSERT_EQ(got.cr4, set.cr4);
	TEST_ASSERT_EQ(got.efer, set.efer);
	TEST_ASSERT_EQ(got.apic_base, set.apic_base);
	for (unsigned int i = 0; i < ARRAY_SIZE(got.interrupt_bitmap); i++)
		TEST_ASSERT_EQ(got.interrupt_bitmap[i], 0);
}

/* Inconsistent control registers are refused with EINVAL, nothing changes. */
static void sregs_invalid(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs orig, s, got;

	vcpu_get_sregs(vcpu, &orig);
	s = orig;
	s.cr0 = X86_CR0_PG | X86_CR0_ET;		/* PG without PE */
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_SREGS, &s), EINVAL);
	s = orig;
	s.cr0 = X86_CR0_NW | X86_CR0_ET;		/* NW without CD */
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_SREGS, &s), EINVAL);
	s = orig;
	s.cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET;	/* long mode without PAE */
	s.efer = EFER_LME | EFER_LMA;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_SREGS, &s), EINVAL);
	s = orig;
	s.cr4 = 1UL << 31;				/* reserved CR4 bit */
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_SREGS, &s), EINVAL);
	s = orig;
	s.efer = EFER_LMA;				/* LMA without paging */
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_SREGS, &s), EINVAL);
	s = orig;
	s.cs.l = 1;					/* 64-bit CS outside long mode */
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_SREGS, &s), EINVAL);
	vcpu_get_sregs(vcpu, &got);
	TEST_ASSERT_EQ(got.cr0, orig.cr0);
	TEST_ASSERT_EQ(got.cr4, orig.cr4);
	TEST_ASSERT_EQ(got.efer, orig.efer);
}

/*
 * KVM_GET_FPU/KVM_SET_FPU and MXCSR: KVM ignores the mxcsr field in both
 * directions (a long-standing KVM bug, kept as is upstream): GET reports
 * 0, SET leaves the guest's MXCSR alone. hvx transfers MXCSR. Intended
 * difference; everything else is asserted the same on both.
 */
static uint32_t fpu_mxcsr_expected(uint32_t value)
{
	return dev_is_kvm() ? 0 : value;
}

/* The x87/SSE state of a new vCPU: FNINIT values, MXCSR 0x1f80. */
static void fpu_initial(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_fpu fpu;

	vcpu_get_fpu(vcpu, &fpu);
	TEST_ASSERT_EQ(fpu.fcw, 0x37f);
	TEST_ASSERT_EQ(fpu.fsw, 0);
	TEST_ASSERT_EQ(fpu.ftwx, 0);
	TEST_ASSERT_EQ(fpu.last_opcode, 0);
	TEST_ASSERT_EQ(fpu.last_ip, 0);
	TEST_ASSERT_EQ(fpu.last_dp, 0);
	TEST_ASSERT_EQ(fpu.mxcsr, fpu_mxcsr_expected(0x1f80));
	for (int i = 0; i < 16; i++)
		for (int j = 0; j < 16; j++)
			TEST_ASSERT_EQ(fpu.xmm[i][j], 0);
}

/* What the guest finds in MXCSR, FCW, XMM0 and XMM15. */
static void guest_check_fpu(uint64_t mxcsr_want, uint64_t fcw_want, uint64_t x0_want,
			    uint64_t x15_want)
{
	uint32_t mxcsr;
	uint16_t fcw;
	uint64_t x0, x15;

	__asm__ __volatile__("stmxcsr %0" : "=m"(mxcsr));
	__asm__ __volatile__("fnstcw %0" : "=m"(fcw));
	__asm__ __volatile__("movq %%xmm0, %0" : "=r"(x0));
	__asm__ __volatile__("movq %%xmm15, %0" : "=r"(x15));
	GUEST_ASSERT_EQ(mxcsr, mxcsr_want);
	GUEST_ASSERT_EQ(fcw, fcw_want);
	GUEST_ASSERT_EQ(x0, x0_want);
	GUEST_ASSERT_EQ(x15, x15_want);
}

/* A new vCPU's guest sees the architectural reset state. */
static void fpu_guest_initial(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_check_fpu, 0x1f80, 0x37f, 0, 0);
	vcpu_run_expect_done(vcpu);
}

/* The guest changes MXCSR, FCW, XMM1 and halts. */
static void guest_set_fpu(void)
{
	uint32_t mxcsr = 0x1fc0;	/* DAZ */
	uint16_t fcw = 0x7f;

	__asm__ __volatile__("ldmxcsr %0" : : "m"(mxcsr));
	__asm__ __volatile__("fldcw %0" : : "m"(fcw));
	__asm__ __volatile__("movq %0, %%xmm1" : : "r"(0x1122334455667788ULL) : "xmm1");
	__asm__ __volatile__("hlt" ::: "memory");
}

static void fpu_guest_to_host(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_fpu fpu;
	uint64_t x1;

	vcpu_set_entry(vcpu, guest_set_fpu);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	vcpu_get_fpu(vcpu, &fpu);
	TEST_ASSERT_EQ(fpu.fcw, 0x7f);
	memcpy(&x1, fpu.xmm[1], 8);
	TEST_ASSERT_EQ(x1, 0x1122334455667788ULL);
	TEST_ASSERT_EQ(fpu.mxcsr, fpu_mxcsr_expected(0x1fc0));
}

static void fill_fpu(struct kvm_fpu *fpu)
{
	fpu->mxcsr = 0x7f80;	/* round toward zero */
	fpu->fcw = 0x27f;	/* double precision */
	for (int j = 0; j < 16; j++) {
		fpu->xmm[0][j] = j;
		fpu->xmm[15][j] = 0xf0 + j;
	}
}

/* KVM_SET_FPU on a vCPU whose guest already used the FPU. */
static void fpu_host_to_guest(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_fpu fpu;

	vcpu_set_entry(vcpu, guest_set_fpu);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);

	vcpu_get_fpu(vcpu, &fpu);
	fill_fpu(&fpu);
	vcpu_set_fpu(vcpu, &fpu);
	/* KVM ignores the MXCSR: the guest keeps its own 0x1fc0. */
	vcpu_set_entry(vcpu, guest_check_fpu, dev_is_kvm() ? 0x1fc0 : 0x7f80, 0x27f,
		       0x0706050403020100ULL, 0xf7f6f5f4f3f2f1f0ULL);
	vcpu_run_expect_done(vcpu);
}

/*
 * KVM_SET_FPU before the guest ever ran: KVM 6.1 loses the state (the
 * x87/SSE components of its XSAVE buffer stay marked as in their initial
 * configuration, so the guest gets FNINIT values). hvx delivers it.
 * Intended difference.
 */
static void fpu_set_before_first_run(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_fpu fpu;

	vcpu_get_fpu(vcpu, &fpu);
	fill_fpu(&fpu);
	vcpu_set_fpu(vcpu, &fpu);
	if (dev_is_kvm())
		vcpu_set_entry(vcpu, guest_check_fpu, 0x1f80, 0x37f, 0, 0);
	else
		vcpu_set_entry(vcpu, guest_check_fpu, 0x7f80, 0x27f,
			       0x0706050403020100ULL, 0xf7f6f5f4f3f2f1f0ULL);
	vcpu_run_expect_done(vcpu);
}

static const struct test_case cases[] = {
	TEST_CASE(regs_round_trip, "KVM_SET_REGS/KVM_GET_REGS round trip"),
	TEST_CASE(rflags_fixed_bit, "RFLAGS bit 1 reads as 1"),
	TEST_CASE(guest_sees_regs, "guest starts with the host's GPRs; host sees the guest's"),
	TEST_CASE(sregs_round_trip, "KVM_SET_SREGS/KVM_GET_SREGS round trip"),
	TEST_CASE(sregs_invalid, "KVM_SET_SREGS with inconsistent CR0/CR4/EFER is EINVAL"),
	TEST_CASE(fpu_initial, "KVM_GET_FPU of a new vCPU: FCW 0x37f, MXCSR 0x1f80"),
	TEST_CASE(fpu_guest_initial, "a new vCPU's guest sees FCW 0x37f, MXCSR 0x1f80, XMM 0"),
	TEST_CASE(fpu_guest_to_host, "KVM_GET_FPU returns the guest's FCW, XMM, MXCSR"),
	TEST_CASE(fpu_host_to_guest, "KVM_SET_FPU reaches a guest that used the FPU"),
	TEST_CASE(fpu_set_before_first_run, "KVM_SET_FPU before the first KVM_RUN"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
