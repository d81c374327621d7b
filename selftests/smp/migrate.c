// SPDX-License-Identifier: GPL-2.0
/*
 * A vCPU follows its thread from one host CPU to the other: between two
 * KVM_RUNs (the thread moves itself) and in the middle of one (another
 * thread moves it while the guest runs). The hypervisor reloads the vCPU
 * on the new CPU (preempt notifiers; on SVM the vCPU takes a fresh ASID
 * there), and the guest must not notice: its registers, an XMM register
 * and its memory carry over exactly, and what it writes on the new CPU
 * reaches the host.
 *
 * Needs two online CPUs (the rig's SMP boot); every case skips otherwise.
 */
#include <pthread.h>
#include <unistd.h>

#include "kvm_util.h"
#include "smp_util.h"

#define DATA_GPA	0x10000000UL	/* slot 1: the guest's counter page */
#define STEP_PORT	0x2000

/* What the guest keeps in registers, as a function of its step count n. */
#define R13_SEED	0x0123456789abcdefULL	/* R13 = SEED + n * STRIDE */
#define R13_STRIDE	0x9e3779b97f4a7c15ULL	/* also kept in RBP */
#define XMM_HI_STEP	0x0000000100000001ULL	/* XMM7 = { n, n * HI_STEP } */

#define __str(x)	#x
#define str(x)		__str(x)

/* Words of the counter page (used in asm: plain numbers). */
#define PG_COUNT	0	/* the guest's step count */
#define PG_HOST		1	/* a value from the host, loaded into R9 */
#define PG_STOP		2	/* non-zero: stop counting */

/*
 * guest_count(limit, page, stop): every step adds 1 to RBX and to XMM7's
 * low quadword, HI_STEP to its high quadword, STRIDE (RBP) to R13,
 * subtracts 1 from R12, then stores RBX to page[PG_COUNT] and loads
 * page[PG_HOST] into R9. With @limit != 0 each step ends in an OUT to
 * STEP_PORT (AL = RBX) and the guest returns after @limit steps; with
 * @limit == 0 it counts without exits until *@stop != 0, then does one
 * OUT and returns. R14 = @page and R15 = @limit throughout. One asm
 * function, so no compiler-generated code touches these registers.
 */
extern void guest_count(uint64_t limit, uint64_t page, uint64_t stop);
__asm__(
	".pushsection .text\n"
	".globl guest_count\n"
	".type guest_count, @function\n"
	"guest_count:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\t"
	"push %r13\n\tpush %r14\n\tpush %r15\n\t"
	"mov %rdi, %r15\n\t"
	"mov %rsi, %r14\n\t"
	"mov %rdx, %r10\n\t"
	"xor %ebx, %ebx\n\t"
	"mov $-1, %r12\n\t"
	"movabs $" str(R13_SEED) ", %r13\n\t"
	"movabs $" str(R13_STRIDE) ", %rbp\n\t"
	"pxor %xmm7, %xmm7\n\t"
	"movdqu guest_xmm_step(%rip), %xmm6\n"
	"1:\n\t"
	"inc %rbx\n\t"
	"dec %r12\n\t"
	"add %rbp, %r13\n\t"
	"paddq %xmm6, %xmm7\n\t"
	"mov %rbx, 8*" str(PG_COUNT) "(%r14)\n\t"
	"mov 8*" str(PG_HOST) "(%r14), %r9\n\t"
	"test %r15, %r15\n\t"
	"jz 2f\n\t"
	"mov %ebx, %eax\n\t"
	"mov $" str(STEP_PORT) ", %edx\n\t"
	"outb %al, %dx\n\t"
	"cmp %r15, %rbx\n\t"
	"jne 1b\n\t"
	"jmp 3f\n"
	"2:\n\t"
	"cmpq $0, (%r10)\n\t"
	"je 1b\n\t"
	"mov %ebx, %eax\n\t"
	"mov $" str(STEP_PORT) ", %edx\n\t"
	"outb %al, %dx\n"
	"3:\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\t"
	"pop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n"
	".size guest_count, . - guest_count\n"
	".popsection\n");

const uint64_t guest_xmm_step[2] __attribute__((aligned(16))) = { 1, XMM_HI_STEP };

static struct vcpu *count_vm(struct vm **vmp, uint64_t **pagep, uint64_t limit)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	*pagep = vm_add_memslot(vm, 1, 0, DATA_GPA, PAGE_SIZE);
	vcpu_set_entry(vcpu, guest_count, limit, DATA_GPA,
		       DATA_GPA + 8 * PG_STOP);
	*vmp = vm;
	return vcpu;
}

/*
 * The guest stopped at its OUT after step @n: every register, XMM7 and
 * its page are exactly what n steps make of them; R9 holds @host, the
 * value the host last stored in the page.
 */
static void assert_guest_at(struct vcpu *vcpu, uint64_t n, uint64_t limit,
			    const uint64_t *page, uint64_t host)
{
	uint8_t *data = assert_pio_exit(vcpu, KVM_EXIT_IO_OUT, STEP_PORT, 1);
	struct kvm_regs regs;
	struct kvm_fpu fpu;
	uint64_t lo, hi;

	TEST_ASSERT_EQ(*data, (uint8_t)n);
	vcpu_get_regs(vcpu, &regs);
	TEST_ASSERT_EQ(regs.rbx, n);
	TEST_ASSERT_EQ(regs.r12, ~n);
	TEST_ASSERT_EQ(regs.r13, R13_SEED + n * R13_STRIDE);
	TEST_ASSERT_EQ(regs.rbp, R13_STRIDE);
	TEST_ASSERT_EQ(regs.r14, DATA_GPA);
	TEST_ASSERT_EQ(regs.r15, limit);
	TEST_ASSERT_EQ(regs.r10, DATA_GPA + 8 * PG_STOP);
	TEST_ASSERT_EQ(regs.r9, host);
	TEST_ASSERT_EQ(regs.rdx, STEP_PORT);
	vcpu_get_fpu(vcpu, &fpu);
	memcpy(&lo, &fpu.xmm[7][0], 8);
	memcpy(&hi, &fpu.xmm[7][8], 8);
	TEST_ASSERT_EQ(lo, n);
	TEST_ASSERT_EQ(hi, n * XMM_HI_STEP);
	TEST_ASSERT_EQ(page[PG_COUNT], n);
}

#define HOP_STEPS	400

/*
 * Between every two KVM_RUNs the vCPU thread moves to the other CPU (400
 * moves): each step runs on a different CPU than the one before and
 * continues exactly where the last stopped. The guest's write of each
 * step happens after the move, the host's value is written before it.
 */
static void hop_between_runs(void)
{
	struct vm *vm;
	struct vcpu *vcpu;
	uint64_t *page;

	require_two_cpus();
	pin_self(0);
	vcpu = count_vm(&vm, &page, HOP_STEPS);
	for (uint64_t n = 1; n <= HOP_STEPS; n++) {
		pin_self(n % 2);
		page[PG_HOST] = n * 3 + 1;
		vcpu_run(vcpu);
		assert_guest_at(vcpu, n, HOP_STEPS, page, n * 3 + 1);
	}
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

struct runner {
	struct vcpu *vcpu;
	volatile uint64_t tid;		/* the vCPU thread, once started */
	volatile uint64_t returned;	/* KVM_RUN came back */
	int ret, err;
};

/* One KVM_RUN, started on CPU 0; the guest counts until told to stop. */
static void *run_once(void *arg)
{
	struct runner *r = arg;

	pin_thread(0, 0);
	r->tid = gettid();
	r->ret = __vcpu_run(r->vcpu);
	r->err = errno;
	__atomic_store_n(&r->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

#define MOVES		200
#define HOST_WORD	0x5a5a5a5a5a5a5a5aULL

/*
 * A second thread moves the vCPU thread to the other CPU 200 times while
 * it is inside one KVM_RUN with the guest counting (no exits). After each
 * move the thread is on the new CPU and the guest's counter advances
 * there; KVM_RUN never returns until the guest is told to stop, and then
 * its state is exactly that of its step count.
 */
static void move_inside_run(void)
{
	struct runner r = { 0 };
	volatile uint64_t *count;
	uint64_t *page, seen, n;
	pthread_t t;
	struct vm *vm;

	require_two_cpus();
	r.vcpu = count_vm(&vm, &page, 0);
	count = &page[PG_COUNT];
	page[PG_HOST] = HOST_WORD;
	TEST_ASSERT_EQ(pthread_create(&t, NULL, run_once, &r), 0);
	wait_for_change(&r.tid, 0, "vCPU thread start");
	seen = wait_for_change(count, 0, "guest counter");

	for (int i = 1; i <= MOVES; i++) {
		int cpu = i % 2;

		pin_thread(r.tid, cpu);
		TEST_ASSERT_EQ(thread_cpu(r.tid), cpu);
		seen = wait_for_change(count, *count, "guest counter after a move");
		TEST_ASSERT(!__atomic_load_n(&r.returned, __ATOMIC_ACQUIRE),
			    "KVM_RUN returned after %d moves (ret %d, %s)",
			    i, r.ret, strerror(r.err));
	}

	page[PG_STOP] = 1;
	TEST_ASSERT_EQ(pthread_join(t, NULL), 0);
	TEST_ASSERT(r.ret == 0, "KVM_RUN: %d %s", r.ret, strerror(r.err));
	n = *count;
	TEST_ASSERT(n >= seen, "guest count went back from %lu to %lu",
		    (unsigned long)seen, (unsigned long)n);
	assert_guest_at(r.vcpu, n, 0, page, HOST_WORD);
	vcpu_run_expect_done(r.vcpu);
	vm_free(vm);
}

static const struct test_case cases[] = {
	TEST_CASE(hop_between_runs, "vCPU thread moves CPU between 400 KVM_RUNs: registers, XMM7, memory exact"),
	TEST_CASE(move_inside_run, "vCPU thread moved 200 times inside one KVM_RUN: guest keeps counting, state exact"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
