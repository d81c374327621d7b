// SPDX-License-Identifier: GPL-2.0
/*
 * MSRs: KVM_SET_MSRS/KVM_GET_MSRS round trips and partial processing,
 * and the guest's RDMSR/WRMSR of the same MSRs, #GP for unknown ones.
 */
#include <sys/ioctl.h>

#include "kvm_util.h"

#define MSR_UNKNOWN	0xdeadbeef
#define NONCANONICAL	0x0000800000000000ULL

struct msr_value {
	uint32_t index;
	uint64_t value;		/* set by the host */
	uint64_t guest_value;	/* then written by the guest */
};

/*
 * Values each MSR holds exactly. SYSENTER_ESP/EIP stay 32-bit: KVM on SVM
 * keeps only their low half for a vCPU whose CPUID vendor is AMD.
 */
static const struct msr_value msrs[] = {
	{ MSR_IA32_SYSENTER_CS, 0x10, 0x23 },
	{ MSR_IA32_SYSENTER_ESP, 0x12345000, 0x7654321 },
	{ MSR_IA32_SYSENTER_EIP, 0x87654321, 0x1000 },
	{ MSR_STAR, 0x0023001000000000ULL, 0x001b000812345678ULL },
	{ MSR_LSTAR, 0xffffffff81000000ULL, 0x00007fffdeadb000ULL },
	{ MSR_CSTAR, 0xffffffff82000000ULL, 0x1234 },
	{ MSR_SYSCALL_MASK, 0x47700, 0x200 },
	{ MSR_KERNEL_GS_BASE, 0xffff888012345678ULL, 0x7f0000001000ULL },
	{ MSR_IA32_CR_PAT, 0x0001050406070400ULL, 0x0606060606060606ULL },
};

static void host_round_trip(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_msr_entry e[ARRAY_SIZE(msrs)];

	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		e[i] = (struct kvm_msr_entry){ .index = msrs[i].index, .data = msrs[i].value };
	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_SET_MSRS, e, ARRAY_SIZE(msrs)), ARRAY_SIZE(msrs));
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		e[i] = (struct kvm_msr_entry){ .index = msrs[i].index, .data = 0x5a5a };
	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_GET_MSRS, e, ARRAY_SIZE(msrs)), ARRAY_SIZE(msrs));
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		TEST_ASSERT(e[i].data == msrs[i].value, "MSR %#x: %#llx, expected %#llx",
			    msrs[i].index, (unsigned long long)e[i].data,
			    (unsigned long long)msrs[i].value);
}

static void initial_values(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_IA32_CR_PAT), PAT_POWER_ON);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_STAR), 0);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_LSTAR), 0);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_KERNEL_GS_BASE), 0);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_IA32_SYSENTER_CS), 0);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_EFER), 0);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_IA32_APICBASE), 0xfee00900);
	/* KVM: BTS and PEBS unavailable. */
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_IA32_MISC_ENABLE), 0x1800);
}

/* EFER and APIC_BASE are the same state through MSRs and sregs. */
static void efer_apicbase_match_sregs(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_sregs sregs;

	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_EFER), sregs.efer);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_IA32_APICBASE), sregs.apic_base);
	vcpu_set_msr(vcpu, MSR_EFER, sregs.efer | EFER_SCE);
	vcpu_get_sregs(vcpu, &sregs);
	TEST_ASSERT_EQ(sregs.efer, EFER_LME | EFER_LMA | EFER_SCE);
}

/* KVM_GET_MSRS returns how many entries it processed: it stops at an
 * unknown MSR and leaves the entries after it alone. */
static void get_stops_at_unknown(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_msr_entry e[3] = {
		{ .index = MSR_STAR, .data = 1 },
		{ .index = MSR_UNKNOWN, .data = 2 },
		{ .index = MSR_LSTAR, .data = 3 },
	};

	vcpu_set_msr(vcpu, MSR_STAR, 0x1111);
	vcpu_set_msr(vcpu, MSR_LSTAR, 0x2222);
	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_GET_MSRS, e, 3), 1);
	TEST_ASSERT_EQ(e[0].data, 0x1111);
	TEST_ASSERT_EQ(e[2].data, 3);

	e[0].index = MSR_UNKNOWN;
	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_GET_MSRS, e, 3), 0);
}

static void set_stops_at_unknown(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_msr_entry e[3] = {
		{ .index = MSR_STAR, .data = 0x1111 },
		{ .index = MSR_UNKNOWN, .data = 2 },
		{ .index = MSR_LSTAR, .data = 0x3333 },
	};

	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_SET_MSRS, e, 3), 1);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_STAR), 0x1111);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_LSTAR), 0);
}

/* Values the MSR cannot hold stop KVM_SET_MSRS at that entry. */
static void set_rejects_invalid_values(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_msr_entry e[2] = {
		{ .index = MSR_LSTAR, .data = NONCANONICAL },
		{ .index = MSR_STAR, .data = 1 },
	};

	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_SET_MSRS, e, 2), 0);
	e[0] = (struct kvm_msr_entry){ .index = MSR_KERNEL_GS_BASE, .data = NONCANONICAL };
	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_SET_MSRS, e, 2), 0);
	/* PAT memory types 2 and 3 are reserved. */
	e[0] = (struct kvm_msr_entry){ .index = MSR_IA32_CR_PAT, .data = 0x0007040600070402ULL };
	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_SET_MSRS, e, 2), 0);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_LSTAR), 0);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_IA32_CR_PAT), PAT_POWER_ON);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_STAR), 0);
}

/* KVM handles at most 255 entries per call (MAX_IO_MSRS 256): E2BIG. */
static void too_many_entries(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_msr_entry e[256];

	for (int i = 0; i < 256; i++)
		e[i] = (struct kvm_msr_entry){ .index = MSR_STAR };
	TEST_ASSERT_ERRNO(__vcpu_msrs(vcpu, KVM_GET_MSRS, e, 256), E2BIG);
	TEST_ASSERT_ERRNO(__vcpu_msrs(vcpu, KVM_SET_MSRS, e, 256), E2BIG);
	TEST_ASSERT_EQ(__vcpu_msrs(vcpu, KVM_GET_MSRS, e, 255), 255);
}

/* The host's IA32_TSC is the guest's TSC, which keeps counting. */
static void guest_rdtsc(void)
{
	GUEST_SYNC(rdtsc());
	GUEST_SYNC(rdmsr(MSR_IA32_TSC));
}

static void tsc(void)
{
	const uint64_t base = 1ULL << 40, slack = 1ULL << 38;	/* minutes */
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct ucall uc;
	uint64_t t, g1, g2;

	vcpu_set_msr(vcpu, MSR_IA32_TSC, base);
	t = vcpu_get_msr(vcpu, MSR_IA32_TSC);
	TEST_ASSERT(t >= base && t < base + slack, "TSC %#lx after setting %#lx",
		    (unsigned long)t, (unsigned long)base);
	vcpu_set_entry(vcpu, guest_rdtsc);
	TEST_ASSERT_EQ(vcpu_run_ucall(vcpu, &uc), UCALL_SYNC);
	g1 = uc.args[0];
	TEST_ASSERT_EQ(vcpu_run_ucall(vcpu, &uc), UCALL_SYNC);
	g2 = uc.args[0];
	TEST_ASSERT(g1 >= t && g1 < base + slack, "guest RDTSC %#lx", (unsigned long)g1);
	TEST_ASSERT(g2 > g1 && g2 < base + slack, "guest RDMSR(TSC) %#lx", (unsigned long)g2);
	t = vcpu_get_msr(vcpu, MSR_IA32_TSC);
	TEST_ASSERT(t > g2, "host TSC %#lx after guest's %#lx", (unsigned long)t,
		    (unsigned long)g2);
	vcpu_run_expect_done(vcpu);
}

/* The guest reads what the host set, then writes its own values. */
static void guest_msrs(void)
{
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		GUEST_ASSERT_EQ(rdmsr(msrs[i].index), msrs[i].value);
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		wrmsr(msrs[i].index, msrs[i].guest_value);
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		GUEST_ASSERT_EQ(rdmsr(msrs[i].index), msrs[i].guest_value);
}

static void guest_rdmsr_wrmsr(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		vcpu_set_msr(vcpu, msrs[i].index, msrs[i].value);
	vcpu_set_entry(vcpu, guest_msrs);
	vcpu_run_expect_done(vcpu);
	for (unsigned int i = 0; i < ARRAY_SIZE(msrs); i++)
		TEST_ASSERT(vcpu_get_msr(vcpu, msrs[i].index) == msrs[i].guest_value,
			    "MSR %#x after the guest's WRMSR: %#lx", msrs[i].index,
			    (unsigned long)vcpu_get_msr(vcpu, msrs[i].index));
}

/* #GP handler: count, record the error code, skip the 2-byte RDMSR/WRMSR. */
static volatile uint64_t gp_count, gp_error;

static void gp_handler(struct ex_regs *regs)
{
	gp_count++;
	gp_error = regs->error_code;
	regs->rip += 2;
}

static void guest_unknown_msr(void)
{
	uint64_t v;

	v = rdmsr(MSR_UNKNOWN);
	GUEST_ASSERT_EQ(gp_count, 1);
	GUEST_ASSERT_EQ(gp_error, 0);
	(void)v;
	wrmsr(MSR_UNKNOWN, 1);
	GUEST_ASSERT_EQ(gp_count, 2);
	/*
	 * A known MSR with a value it cannot hold (reserved PAT type). Not
	 * tried with a non-canonical LSTAR: SVM lets the guest write LSTAR
	 * directly, and the emulated CPU (QEMU TCG) does not check it.
	 */
	wrmsr(MSR_IA32_CR_PAT, 0x0202020202020202ULL);
	GUEST_ASSERT_EQ(gp_count, 3);
	GUEST_ASSERT_EQ(rdmsr(MSR_IA32_CR_PAT), PAT_POWER_ON);
	/* and nothing for a good one */
	wrmsr(MSR_IA32_CR_PAT, 0x0606060606060606ULL);
	GUEST_ASSERT_EQ(gp_count, 3);
	GUEST_ASSERT_EQ(rdmsr(MSR_IA32_CR_PAT), 0x0606060606060606ULL);
}

static void guest_unknown_msr_gp(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vm_install_exception_handler(vm, GP_VECTOR, gp_handler);
	vcpu_set_entry(vcpu, guest_unknown_msr);
	vcpu_run_expect_done(vcpu);
}

static const struct test_case cases[] = {
	TEST_CASE(host_round_trip, "KVM_SET_MSRS/KVM_GET_MSRS round trip"),
	TEST_CASE(initial_values, "MSR values of a new vCPU (PAT, EFER, APIC_BASE, MISC_ENABLE)"),
	TEST_CASE(efer_apicbase_match_sregs, "EFER and APIC_BASE MSRs match KVM_GET_SREGS"),
	TEST_CASE(get_stops_at_unknown, "KVM_GET_MSRS stops at an unknown MSR"),
	TEST_CASE(set_stops_at_unknown, "KVM_SET_MSRS stops at an unknown MSR"),
	TEST_CASE(set_rejects_invalid_values, "KVM_SET_MSRS stops at a non-canonical or bad PAT value"),
	TEST_CASE(too_many_entries, "KVM_GET/SET_MSRS with 256 entries is E2BIG"),
	TEST_CASE(tsc, "IA32_TSC set by the host is the guest's TSC"),
	TEST_CASE(guest_rdmsr_wrmsr, "guest RDMSR sees host values; host sees guest WRMSR"),
	TEST_CASE(guest_unknown_msr_gp, "guest RDMSR/WRMSR of an unknown MSR takes #GP"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
