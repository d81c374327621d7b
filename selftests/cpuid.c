// SPDX-License-Identifier: GPL-2.0
/*
 * KVM_SET_CPUID2 / KVM_GET_CPUID2: what the guest's CPUID returns, the
 * table round trip, and the nent checks.
 */
#include <stdlib.h>
#include <sys/ioctl.h>

#include "kvm_util.h"

#define HV_LEAF		0x40000000
#define HV_LEAF_SUB	0x40000001

/* The supported table plus two custom hypervisor leaves. */
static struct kvm_cpuid2 *cpuid_with_custom_leaves(void)
{
	const struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
	struct kvm_cpuid2 *c = cpuid_alloc(sup->nent + 3);
	uint32_t n = 0;

	for (uint32_t i = 0; i < sup->nent; i++)
		if ((sup->entries[i].function & 0xffff0000) != HV_LEAF)
			c->entries[n++] = sup->entries[i];
	c->entries[n++] = (struct kvm_cpuid_entry2){
		.function = HV_LEAF, .eax = HV_LEAF_SUB,
		.ebx = 0x11223344, .ecx = 0x55667788, .edx = 0x99aabbcc,
	};
	c->entries[n++] = (struct kvm_cpuid_entry2){
		.function = HV_LEAF_SUB, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		.eax = 0xa0, .ebx = 0xb0, .ecx = 0xc0, .edx = 0xd0,
	};
	c->entries[n++] = (struct kvm_cpuid_entry2){
		.function = HV_LEAF_SUB, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		.eax = 0xa1, .ebx = 0xb1, .ecx = 0xc1, .edx = 0xd1,
	};
	c->nent = n;
	return c;
}

static void guest_cpuid_custom(void)
{
	uint32_t a, b, c, d;

	cpuid(HV_LEAF, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(a, HV_LEAF_SUB);
	GUEST_ASSERT_EQ(b, 0x11223344);
	GUEST_ASSERT_EQ(c, 0x55667788);
	GUEST_ASSERT_EQ(d, 0x99aabbcc);
	/* Without KVM_CPUID_FLAG_SIGNIFCANT_INDEX, ECX does not matter. */
	cpuid(HV_LEAF, 7, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(b, 0x11223344);

	cpuid(HV_LEAF_SUB, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(a, 0xa0);
	GUEST_ASSERT_EQ(d, 0xd0);
	cpuid(HV_LEAF_SUB, 1, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(a, 0xa1);
	GUEST_ASSERT_EQ(b, 0xb1);
	GUEST_ASSERT_EQ(c, 0xc1);
	GUEST_ASSERT_EQ(d, 0xd1);
	GUEST_DONE();
}

static void guest_sees_set_cpuid(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_cpuid(vcpu, cpuid_with_custom_leaves());
	vcpu_set_entry(vcpu, guest_cpuid_custom);
	vcpu_run_expect_done(vcpu);
}

/*
 * A leaf or subleaf missing from the table reads as zeros (AMD vendor:
 * KVM does not substitute the highest basic leaf as for Intel).
 */
static void guest_cpuid_missing(void)
{
	uint32_t a, b, c, d;

	cpuid(HV_LEAF_SUB, 2, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(a | b | c | d, 0);
	cpuid(HV_LEAF + 0x10, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(a | b | c | d, 0);
	GUEST_DONE();
}

static void missing_leaf_is_zero(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	const struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
	const struct kvm_cpuid_entry2 *e0 = cpuid_find((struct kvm_cpuid2 *)sup, 0, 0);

	if (!e0 || e0->ebx != 0x68747541)	/* "Auth" of AuthenticAMD */
		test_skip("not an AMD vendor string");
	vcpu_set_cpuid(vcpu, cpuid_with_custom_leaves());
	vcpu_set_entry(vcpu, guest_cpuid_missing);
	vcpu_run_expect_done(vcpu);
}

/* The guest sees the basic leaves it was given (vendor, LM). */
static void guest_cpuid_basic(uint64_t ebx0, uint64_t ecx0, uint64_t edx0)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	GUEST_ASSERT_EQ(b, ebx0);
	GUEST_ASSERT_EQ(c, ecx0);
	GUEST_ASSERT_EQ(d, edx0);
	cpuid(0x80000001, 0, &a, &b, &c, &d);
	GUEST_ASSERT(d & (1U << 29));
}

static void guest_sees_vendor(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	const struct kvm_cpuid_entry2 *e0 =
		cpuid_find((struct kvm_cpuid2 *)kvm_get_supported_cpuid(), 0, 0);

	vcpu_set_entry(vcpu, guest_cpuid_basic, e0->ebx, e0->ecx, e0->edx);
	vcpu_run_expect_done(vcpu);
}

static bool entries_equal(const struct kvm_cpuid_entry2 *a,
			  const struct kvm_cpuid_entry2 *b)
{
	return a->function == b->function && a->index == b->index &&
	       a->flags == b->flags && a->eax == b->eax && a->ebx == b->ebx &&
	       a->ecx == b->ecx && a->edx == b->edx;
}

/*
 * A table without the leaves KVM keeps up to date itself (1, 7, 0xd:
 * OSXSAVE, APIC, OSPKE, XSAVE sizes) reads back exactly as set.
 */
static struct kvm_cpuid2 *small_table(void)
{
	struct kvm_cpuid2 *c = cpuid_with_custom_leaves();
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->nent; i++) {
		uint32_t f = c->entries[i].function;

		if (f == 0 || f == 0x80000000 || f == 0x80000001 ||
		    (f & 0xffff0000) == HV_LEAF)
			c->entries[n++] = c->entries[i];
	}
	c->nent = n;
	return c;
}

/*
 * The nent KVM_GET_CPUID2 writes back on success: KVM 6.1 (measured in the
 * rig) leaves userspace's nent as it was, so userspace cannot learn the
 * table's size from it. hvx writes the table's size back, as the API
 * documentation describes. Intended difference.
 */
static uint32_t expected_nent(uint32_t passed, uint32_t table)
{
	return dev_is_kvm() ? passed : table;
}

static void get_cpuid2_round_trip(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	struct kvm_cpuid2 *set = small_table(), *got = cpuid_alloc(64);

	/* A new vCPU has an empty table. */
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_CPUID2, got));
	TEST_ASSERT_EQ(got->nent, expected_nent(64, 0));

	vcpu_set_cpuid(vcpu, set);
	got->nent = 64;
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_CPUID2, got));
	TEST_ASSERT_EQ(got->nent, expected_nent(64, set->nent));
	for (uint32_t i = 0; i < set->nent; i++)
		TEST_ASSERT(entries_equal(&got->entries[i], &set->entries[i]),
			    "entry %u (leaf %#x.%u) differs", i, set->entries[i].function,
			    set->entries[i].index);
}

/*
 * KVM_GET_CPUID2 with room for fewer entries than the table: -E2BIG and
 * nent is left as passed (on both).
 */
static void get_cpuid2_nent(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	struct kvm_cpuid2 *set = small_table(), *got = cpuid_alloc(300);

	vcpu_set_cpuid(vcpu, set);
	got->nent = set->nent - 1;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_GET_CPUID2, got), E2BIG);
	TEST_ASSERT_EQ(got->nent, set->nent - 1);
	got->nent = 0;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_GET_CPUID2, got), E2BIG);
	TEST_ASSERT_EQ(got->nent, 0);
	got->nent = set->nent;
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_CPUID2, got));
	got->nent = 300;
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_CPUID2, got));
	TEST_ASSERT_EQ(got->nent, expected_nent(300, set->nent));
}

/* KVM_SET_CPUID2 takes at most KVM_MAX_CPUID_ENTRIES (256) entries. */
static void set_cpuid2_nent(void)
{
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	struct kvm_cpuid2 *c = cpuid_alloc(257), *got = cpuid_alloc(64);

	c->nent = 257;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_CPUID2, c), E2BIG);
	c->nent = 100000;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_CPUID2, c), E2BIG);
	/* The failed calls left the (empty) table alone. */
	got->nent = 0;
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_GET_CPUID2, got));
	/* An empty table is fine. */
	c->nent = 0;
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_SET_CPUID2, c));
}

/* A later KVM_SET_CPUID2 before the first KVM_RUN replaces the table. */
static void guest_hv_leaf_ebx(void)
{
	uint32_t a, b, c, d;

	cpuid(HV_LEAF, 0, &a, &b, &c, &d);
	GUEST_SYNC(b);
}

static void set_cpuid2_replaces(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_cpuid2 *c = cpuid_with_custom_leaves();

	cpuid_find(c, HV_LEAF, 0)->ebx = 0x1234;
	vcpu_set_cpuid(vcpu, c);
	cpuid_find(c, HV_LEAF, 0)->ebx = 0x5678;
	vcpu_set_cpuid(vcpu, c);
	vcpu_set_entry(vcpu, guest_hv_leaf_ebx);
	vcpu_run_expect_sync(vcpu, 0x5678);
	vcpu_run_expect_done(vcpu);
}

/*
 * Once the vCPU has run, KVM (since 5.16) accepts KVM_SET_CPUID2 only
 * with the table it already has: anything else is EINVAL.
 */
static void set_cpuid2_after_run(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_cpuid2 *c = cpuid_with_custom_leaves();

	vcpu_set_cpuid(vcpu, c);
	vcpu_set_entry(vcpu, guest_hv_leaf_ebx);
	vcpu_run_expect_sync(vcpu, 0x11223344);
	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_SET_CPUID2, c));
	cpuid_find(c, HV_LEAF, 0)->ebx = 0x5678;
	TEST_ASSERT_ERRNO(ioctl(vcpu->fd, KVM_SET_CPUID2, c), EINVAL);
	vcpu_run_expect_done(vcpu);
}

static uint32_t cpuid1_ecx(void)
{
	uint32_t a, b, c, d;

	cpuid(1, 0, &a, &b, &c, &d);
	return c;
}

static void write_cr4_osxsave(bool on)
{
	uint64_t cr4;

	__asm__ __volatile__("mov %%cr4, %0" : "=r"(cr4));
	cr4 = on ? cr4 | X86_CR4_OSXSAVE : cr4 & ~X86_CR4_OSXSAVE;
	__asm__ __volatile__("mov %0, %%cr4" : : "r"(cr4));
}

/* CPUID.1:ECX.OSXSAVE is CR4.OSXSAVE, whatever the table says (SDM Vol 2 CPUID). */
static void guest_osxsave_bit(void)
{
	GUEST_ASSERT_EQ(cpuid1_ecx() & CPUID1_ECX_OSXSAVE, 0);
	write_cr4_osxsave(true);
	GUEST_ASSERT_EQ(cpuid1_ecx() & CPUID1_ECX_OSXSAVE, CPUID1_ECX_OSXSAVE);
	write_cr4_osxsave(false);
	GUEST_ASSERT_EQ(cpuid1_ecx() & CPUID1_ECX_OSXSAVE, 0);
	GUEST_DONE();
}

static void osxsave_follows_cr4(void)
{
	struct vm *vm;
	struct vcpu *vcpu;

	if (!kvm_supports_cpuid1_ecx(CPUID1_ECX_XSAVE))
		test_skip("no XSAVE in the supported CPUID");
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	vcpu_set_entry(vcpu, guest_osxsave_bit);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE(guest_sees_set_cpuid, "guest CPUID returns the KVM_SET_CPUID2 values"),
	TEST_CASE(missing_leaf_is_zero, "guest CPUID of a leaf not in the table is zeros"),
	TEST_CASE(guest_sees_vendor, "guest CPUID leaf 0 and LM match the table"),
	TEST_CASE(get_cpuid2_round_trip, "KVM_GET_CPUID2 returns what KVM_SET_CPUID2 set"),
	TEST_CASE(get_cpuid2_nent, "KVM_GET_CPUID2 with too small nent is E2BIG"),
	TEST_CASE(set_cpuid2_nent, "KVM_SET_CPUID2 with nent > 256 is E2BIG"),
	TEST_CASE(set_cpuid2_replaces, "a second KVM_SET_CPUID2 replaces the table"),
	TEST_CASE(set_cpuid2_after_run, "after KVM_RUN only an identical KVM_SET_CPUID2 is accepted"),
	TEST_CASE(osxsave_follows_cr4, "guest CPUID.1:ECX.OSXSAVE follows CR4.OSXSAVE"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
