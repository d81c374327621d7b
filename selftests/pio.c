// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O exits: OUT and IN of 1, 2 and 4 bytes (run->io fields, the data
 * at data_offset, how IN writes AL/AX/EAX), and REP OUTS / REP INS.
 */
#include <sys/ioctl.h>

#include "kvm_util.h"

#define RAX_INIT	0x1122334455667788ULL

static void guest_out(void)
{
	__asm__ __volatile__("outb %%al, $0x80" : : "a"(0xab));
	__asm__ __volatile__("outw %%ax, %%dx" : : "a"(0xbeef), "d"(0x1234));
	__asm__ __volatile__("outl %%eax, %%dx" : : "a"(0x80001234), "d"(0xcf8));
	__asm__ __volatile__("outb %%al, %%dx" : : "a"(0x5a), "d"(0xffff));
}

static void out_sizes(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_run *run = vcpu->run;

	vcpu_set_entry(vcpu, guest_out);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(*(uint8_t *)assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, 0x80, 1), 0xab);
	/* KVM_PIO_PAGE_OFFSET: the data is in the second page of the mapping. */
	TEST_ASSERT_EQ(run->io.data_offset, KVM_PIO_PAGE_OFFSET * PAGE_SIZE);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(*(uint16_t *)assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, 0x1234, 2), 0xbeef);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(*(uint32_t *)assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, 0xcf8, 4),
		       0x80001234);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(*(uint8_t *)assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, 0xffff, 1), 0x5a);
	vcpu_run_expect_done(vcpu);
}

/*
 * IN AL/AX replace only those bits of RAX; IN EAX zero-extends into RAX
 * like every 32-bit register write in 64-bit mode.
 */
static void guest_in(void)
{
	uint64_t rax;

	rax = RAX_INIT;
	__asm__ __volatile__("inb $0x60, %%al" : "+a"(rax));
	GUEST_ASSERT_EQ(rax, 0x11223344556677abULL);
	rax = RAX_INIT;
	__asm__ __volatile__("inw %%dx, %%ax" : "+a"(rax) : "d"(0x1f0));
	GUEST_ASSERT_EQ(rax, 0x112233445566beefULL);
	rax = RAX_INIT;
	__asm__ __volatile__("inl %%dx, %%eax" : "+a"(rax) : "d"(0xcfc));
	GUEST_ASSERT_EQ(rax, 0xdeadc0deULL);
	GUEST_ASSERT_EQ(inb(0x61), 0x01);
}

/* Fill the IN data: @value's low @size bytes, junk after them. */
static void pio_in_reply(struct vcpu *vcpu, uint16_t port, uint8_t size,
			 uint32_t value)
{
	uint8_t *data;

	vcpu_run(vcpu);
	data = assert_pio_exit(vcpu, KVM_EXIT_IO_IN, port, size);
	memset(data, 0xee, 8);
	memcpy(data, &value, size);
}

static void in_sizes(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_in);
	pio_in_reply(vcpu, 0x60, 1, 0xab);
	pio_in_reply(vcpu, 0x1f0, 2, 0xbeef);
	pio_in_reply(vcpu, 0xcfc, 4, 0xdeadc0de);
	pio_in_reply(vcpu, 0x61, 1, 0x01);
	vcpu_run_expect_done(vcpu);
}

/*
 * At a PIO exit the instruction is not complete yet: RIP still points at
 * it (KVM completes it on the next KVM_RUN). 0x7e is avoided: KVM has a
 * quirk advancing RIP early for OUT to that port.
 */
extern char guest_pio_rip_out[], guest_pio_rip_in[], guest_pio_rip_end[];

static void guest_pio_rip(void)
{
	__asm__ __volatile__(
		".globl guest_pio_rip_out, guest_pio_rip_in, guest_pio_rip_end\n"
		"guest_pio_rip_out: outb %%al, $0x70\n"
		"guest_pio_rip_in: inb $0x71, %%al\n"
		"guest_pio_rip_end: nop\n"
		: : "a"(0) : "memory");
}

static void pio_exit_rip(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs regs;

	vcpu_set_entry(vcpu, guest_pio_rip);
	vcpu_run(vcpu);
	assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, 0x70, 1);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rip, (uintptr_t)guest_pio_rip_out);
	vcpu_run(vcpu);
	*(uint8_t *)assert_pio_exit(vcpu, KVM_EXIT_IO_IN, 0x71, 1) = 0x42;
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rip, (uintptr_t)guest_pio_rip_in);
	vcpu_run_expect_done(vcpu);
}

#define STR_LEN		64
#define STR_PORT	0x3f8

static uint8_t str_buf[STR_LEN];

static void guest_rep_outsb(void)
{
	uint8_t *src = str_buf;
	uint64_t count = STR_LEN;

	for (int i = 0; i < STR_LEN; i++)
		str_buf[i] = (uint8_t)(i * 7 + 3);
	__asm__ __volatile__("cld; rep outsb"
			     : "+S"(src), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(count, 0);
	GUEST_ASSERT_EQ(src, str_buf + STR_LEN);
}

/*
 * A string I/O may take several exits; each carries run->io.count
 * elements of run->io.size bytes. KVM takes one exit per element for
 * OUTS and batches INS; the ABI lets userspace see any split, so only the
 * total is asserted. Both helpers return the number of exits taken.
 */
static unsigned int collect_outs(struct vcpu *vcpu, uint16_t port, uint8_t size,
				 void *got, unsigned int count)
{
	struct kvm_run *run = vcpu->run;
	unsigned int total = 0, exits = 0;

	while (total < count) {
		char buf[512];

		vcpu_run(vcpu);
		ASSERT_EXIT_REASON(vcpu, KVM_EXIT_IO);
		TEST_ASSERT(run->io.direction == KVM_EXIT_IO_OUT && run->io.port == port &&
			    run->io.size == size && run->io.count >= 1 &&
			    total + run->io.count <= count,
			    "after %u elements: %s", total, exit_describe(vcpu, buf, sizeof(buf)));
		memcpy((uint8_t *)got + total * size, (char *)run + run->io.data_offset,
		       run->io.count * size);
		total += run->io.count;
		exits++;
	}
	return exits;
}

/* Answer a string IN of @len bytes with the bytes 0x30 + i. */
static unsigned int answer_ins(struct vcpu *vcpu, uint16_t port, unsigned int len)
{
	struct kvm_run *run = vcpu->run;
	unsigned int total = 0, exits = 0;

	while (total < len) {
		char buf[512];
		uint8_t *data;

		vcpu_run(vcpu);
		ASSERT_EXIT_REASON(vcpu, KVM_EXIT_IO);
		TEST_ASSERT(run->io.direction == KVM_EXIT_IO_IN && run->io.port == port &&
			    run->io.size == 1 && run->io.count >= 1 &&
			    total + run->io.count <= len,
			    "after %u bytes: %s", total, exit_describe(vcpu, buf, sizeof(buf)));
		data = (uint8_t *)run + run->io.data_offset;
		for (unsigned int i = 0; i < run->io.count; i++)
			data[i] = (uint8_t)(0x30 + total + i);
		total += run->io.count;
		exits++;
	}
	return exits;
}

static void rep_outsb(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint8_t got[STR_LEN];
	unsigned int exits;

	vcpu_set_entry(vcpu, guest_rep_outsb);
	exits = collect_outs(vcpu, STR_PORT, 1, got, STR_LEN);
	test_diag("REP OUTSB of %d bytes took %u exits", STR_LEN, exits);
	for (int i = 0; i < STR_LEN; i++)
		TEST_ASSERT(got[i] == (uint8_t)(i * 7 + 3), "byte %d: %#x", i, got[i]);
	vcpu_run_expect_done(vcpu);
}

static uint16_t str_buf16[16];

static void guest_rep_outsw(void)
{
	uint16_t *src = str_buf16;
	uint64_t count = 16;

	for (int i = 0; i < 16; i++)
		str_buf16[i] = (uint16_t)(0x1111 * i + 0x0102);
	__asm__ __volatile__("cld; rep outsw"
			     : "+S"(src), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(count, 0);
	GUEST_ASSERT_EQ(src, str_buf16 + 16);
}

static void rep_outsw(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint16_t got[16];

	vcpu_set_entry(vcpu, guest_rep_outsw);
	collect_outs(vcpu, STR_PORT, 2, got, 16);
	for (int i = 0; i < 16; i++)
		TEST_ASSERT_EQ(got[i], (uint16_t)(0x1111 * i + 0x0102));
	vcpu_run_expect_done(vcpu);
}

static void guest_rep_insb(void)
{
	uint8_t *dst = str_buf;
	uint64_t count = STR_LEN;

	__asm__ __volatile__("cld; rep insb"
			     : "+D"(dst), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(count, 0);
	GUEST_ASSERT_EQ(dst, str_buf + STR_LEN);
	for (int i = 0; i < STR_LEN; i++)
		GUEST_ASSERT_EQ(str_buf[i], (uint8_t)(0x30 + i));
}

static void rep_insb(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	unsigned int exits;

	vcpu_set_entry(vcpu, guest_rep_insb);
	exits = answer_ins(vcpu, STR_PORT, STR_LEN);
	test_diag("REP INSB of %d bytes took %u exits", STR_LEN, exits);
	vcpu_run_expect_done(vcpu);
}

/*
 * KVM_RUN with immediate_exit set after an IN exit still completes the IN
 * (the documented way for userspace to finish a pending I/O before saving
 * state): AL gets the data, RIP moves past the instruction, the guest
 * does not run, and KVM_RUN fails with EINTR. KVM leaves run->exit_reason
 * as it was (KVM_EXIT_IO).
 */
static void guest_in_once(void)
{
	GUEST_SYNC(inb(0x71));
}

static void in_then_immediate_exit(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct kvm_regs before, after;

	vcpu_set_entry(vcpu, guest_in_once);
	vcpu_run(vcpu);
	*(uint8_t *)assert_pio_exit(vcpu, KVM_EXIT_IO_IN, 0x71, 1) = 0x5c;
	vcpu_get_regs(vcpu, &before);
	vcpu->run->immediate_exit = 1;
	TEST_ASSERT_ERRNO(__vcpu_run(vcpu), EINTR);
	vcpu_get_regs(vcpu, &after);
	TEST_ASSERT_EQ(vcpu->run->exit_reason, KVM_EXIT_IO);
	TEST_ASSERT_EQ(after.rip, before.rip + 2);	/* E4 71: inb $0x71, %al */
	TEST_ASSERT_EQ(after.rax & 0xff, 0x5c);
	/* Nothing is pending any more: another immediate exit changes nothing. */
	TEST_ASSERT_ERRNO(__vcpu_run(vcpu), EINTR);
	vcpu_get_regs(vcpu, &before);
	TEST_ASSERT_EQ(before.rip, after.rip);
	vcpu->run->immediate_exit = 0;
	vcpu_run_expect_sync(vcpu, 0x5c);
	vcpu_run_expect_done(vcpu);
}

/* REP INS/OUTS with RCX = 0 does nothing: no exit, registers unchanged. */
static void guest_rep_zero(void)
{
	uint8_t *p = str_buf;
	uint64_t count = 0;

	__asm__ __volatile__("cld; rep outsb" : "+S"(p), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(p, str_buf);
	__asm__ __volatile__("cld; rep insb" : "+D"(p), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(p, str_buf);
	GUEST_ASSERT_EQ(count, 0);
}

static void rep_count_zero(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_rep_zero);
	vcpu_run_expect_done(vcpu);
}

/* A string buffer that crosses a page boundary (0x9ff0..0xa00f). */
#define XPAGE_BUF	0x9ff0UL
#define XPAGE_LEN	32

static void guest_rep_cross_page(void)
{
	uint8_t *p = (uint8_t *)XPAGE_BUF;
	uint64_t count = XPAGE_LEN;

	__asm__ __volatile__("cld; rep outsb" : "+S"(p), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(p, XPAGE_BUF + XPAGE_LEN);
	p = (uint8_t *)XPAGE_BUF;
	count = XPAGE_LEN;
	__asm__ __volatile__("cld; rep insb" : "+D"(p), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(p, XPAGE_BUF + XPAGE_LEN);
	GUEST_ASSERT_EQ(count, 0);
}

static void rep_across_page(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint8_t *buf = addr_gpa2hva(vm, XPAGE_BUF), got[XPAGE_LEN];

	for (int i = 0; i < XPAGE_LEN; i++)
		buf[i] = (uint8_t)(0xc0 + i);
	vcpu_set_entry(vcpu, guest_rep_cross_page);
	collect_outs(vcpu, STR_PORT, 1, got, XPAGE_LEN);
	for (int i = 0; i < XPAGE_LEN; i++)
		TEST_ASSERT_EQ(got[i], (uint8_t)(0xc0 + i));
	answer_ins(vcpu, STR_PORT, XPAGE_LEN);
	vcpu_run_expect_done(vcpu);
	for (int i = 0; i < XPAGE_LEN; i++)
		TEST_ASSERT_EQ(buf[i], (uint8_t)(0x30 + i));
}

/* DF = 1: the string goes downwards from RDI/RSI. */
static void guest_rep_backwards(void)
{
	uint8_t *p = str_buf + 31;
	uint64_t count = 16;

	__asm__ __volatile__("std; rep insb; cld" : "+D"(p), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(p, str_buf + 15);
	GUEST_ASSERT_EQ(count, 0);
	p = str_buf + 31;
	count = 16;
	__asm__ __volatile__("std; rep outsb; cld" : "+S"(p), "+c"(count) : "d"(STR_PORT) : "memory");
	GUEST_ASSERT_EQ(p, str_buf + 15);
}

static void rep_backwards(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint8_t *buf = addr_gpa2hva(vm, (uintptr_t)str_buf), got[16];

	vcpu_set_entry(vcpu, guest_rep_backwards);
	answer_ins(vcpu, STR_PORT, 16);
	collect_outs(vcpu, STR_PORT, 1, got, 16);
	vcpu_run_expect_done(vcpu);
	/* The first byte in went to the highest address. */
	for (int i = 0; i < 16; i++) {
		TEST_ASSERT_EQ(buf[31 - i], (uint8_t)(0x30 + i));
		TEST_ASSERT_EQ(got[i], (uint8_t)(0x30 + i));
	}
}

/*
 * Real mode: INS writes ES:DI, OUTS reads DS:SI or a segment override
 * (here FS), 16-bit SI/DI/CX. Code at 0x8000 (CS 0x800).
 */
extern char rm_str_start[], rm_str_end[];
__asm__(
"	.pushsection .text\n"
"	.code16\n"
"rm_str_start:\n"
"	mov $0x2000, %ax\n"
"	mov %ax, %es\n"
"	mov $0x3000, %ax\n"
"	mov %ax, %fs\n"
"	mov $0x10, %di\n"
"	mov $4, %cx\n"
"	mov $0x3f8, %dx\n"
"	cld\n"
"	rep insb\n"				/* -> 0x20010..0x20013 */
"	mov $0x20, %si\n"
"	mov $3, %cx\n"
"	rep outsb %fs:(%si), %dx\n"		/* <- 0x30020..0x30022 */
"	mov %di, %ax\n"
"	out %ax, $0x10\n"			/* 0x14 */
"	mov %si, %ax\n"
"	out %ax, $0x11\n"			/* 0x23 */
"	hlt\n"
"rm_str_end:\n"
"	.code64\n"
"	.popsection\n");

static void rep_real_mode_segments(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	uint8_t *in = addr_gpa2hva(vm, 0x20010), *src = addr_gpa2hva(vm, 0x30020);
	uint8_t got[3];

	vm_load_code(vm, 0x8000, rm_str_start, rm_str_end);
	src[0] = 0x61; src[1] = 0x62; src[2] = 0x63;
	vcpu_setup_real_mode(vcpu, 0x800, 0, 0x1000);
	answer_ins(vcpu, STR_PORT, 4);
	collect_outs(vcpu, STR_PORT, 1, got, 3);
	TEST_ASSERT_EQ(got[0], 0x61);
	TEST_ASSERT_EQ(got[2], 0x63);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(*(uint16_t *)assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, 0x10, 2), 0x14);
	vcpu_run(vcpu);
	TEST_ASSERT_EQ(*(uint16_t *)assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, 0x11, 2), 0x23);
	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_HLT);
	for (int i = 0; i < 4; i++)
		TEST_ASSERT_EQ(in[i], (uint8_t)(0x30 + i));
}

static const struct test_case cases[] = {
	TEST_CASE(out_sizes, "OUT of 1, 2, 4 bytes: run->io and data"),
	TEST_CASE(in_sizes, "IN of 1, 2, 4 bytes lands in AL/AX/EAX"),
	TEST_CASE(pio_exit_rip, "at a PIO exit RIP points at the instruction"),
	TEST_CASE(rep_outsb, "REP OUTSB: data, RSI and RCX"),
	TEST_CASE(rep_outsw, "REP OUTSW: data, RSI and RCX"),
	TEST_CASE(rep_insb, "REP INSB: data, RDI and RCX"),
	TEST_CASE(rep_count_zero, "REP INSB/OUTSB with RCX = 0: no exit"),
	TEST_CASE(rep_across_page, "REP OUTSB/INSB on a buffer crossing a page"),
	TEST_CASE(rep_backwards, "REP INSB/OUTSB with DF = 1 go downwards"),
	TEST_CASE(rep_real_mode_segments, "real mode REP INSB to ES:DI, REP OUTSB from FS:SI"),
	TEST_CASE(in_then_immediate_exit, "immediate_exit completes a pending IN without running the guest"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
