// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input never hurts the host: a bounded, deterministic ioctl fuzzer.
 *
 * Every case draws from a fixed-seed PRNG (the seed is printed) and asserts
 * only what holds on KVM and hvx alike: the process survives, every ioctl
 * succeeds or fails with an errno from the set KVM 6.1 uses for it,
 * KVM_RUN always returns, memslots behave as a model of KVM's rules
 * predicts, and afterwards the vCPU or a fresh VM still runs a guest to
 * GUEST_DONE. The real check is the rig's scan of the kernel log (oops,
 * WARN, "hvx: ... leaked").
 *
 * The emulated machine is slow and its speed varies, so every loop stops
 * after a fixed number of iterations or a time budget, whichever comes
 * first; each case prints how far it got and what the ioctls returned.
 *
 *   FUZZ_SEED=N   another base seed
 *   FUZZ_ITER=N   guest_random_code: run only iteration N (a reproducer)
 *   FUZZ_TRACE=1  print every ioctl and its result (to diff KVM and hvx)
 *   FUZZ_BUDGET_SCALE=F  every time budget times F (the Bochs rig: 0.5)
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define FUZZ_SEED_DEFAULT	0x6876782d66757a7aULL	/* "hvx-fuzz" */
#define GOLDEN			0x9e3779b97f4a7c15ULL

/* ---- Deterministic randomness ------------------------------------------ */

static uint64_t rng, case_seed;

/* splitmix64: tiny, and every seed (even 0) gives a good stream. */
static uint64_t rnd64(void)
{
	uint64_t z = (rng += GOLDEN);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(uint64_t n)
{
	return n ? rnd64() % n : 0;
}

static bool chance(unsigned int pct)
{
	return rnd(100) < pct;
}

static void rnd_fill(void *p, size_t len)
{
	uint8_t *b = p;

	for (; len >= 8; len -= 8, b += 8) {
		uint64_t v = rnd64();

		memcpy(b, &v, 8);
	}
	while (len--)
		*b++ = rnd64();
}

/* Values at the edges of the checks a kernel makes (sizes, masks, widths). */
static const uint64_t edge_values[] = {
	0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0x1001, 0xffff,
	0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
	0x7ffffffff000ULL, 0x800000000000ULL, 0xfffffffff000ULL,
	0x000fffffffffffffULL, 0x0010000000000000ULL, 0xffff800000000000ULL,
	0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xfffffffffffff000ULL,
	0xffffffffffffffffULL,
};

static uint64_t rnd_edge(void)
{
	switch (rnd(4)) {
	case 0:
		return rnd64();
	case 1:
		return 1ULL << rnd(64);
	case 2:
		return edge_values[rnd(ARRAY_SIZE(edge_values))] + rnd(3) - 1;
	default:
		return edge_values[rnd(ARRAY_SIZE(edge_values))];
	}
}

/* ---- Per-case bookkeeping ------------------------------------------------ */

/*
 * What an ioctl may answer: success, or one of the errnos KVM 6.1 returns
 * for it (found by running this file against /dev/kvm; see api.md).
 */
enum kind {
	K_SYS,		/* anything on the system fd */
	K_CREATE_VM,
	K_VM,		/* unknown or foreign ioctls on a VM fd */
	K_MEMSLOT,
	K_CREATE_VCPU,
	K_ENABLE_CAP,
	K_VCPU,		/* unknown or foreign ioctls on a vCPU fd */
	K_REGS,		/* KVM_GET/SET_REGS */
	K_SREGS,	/* KVM_GET/SET_SREGS */
	K_FPU,		/* KVM_GET/SET_FPU */
	K_MSRS,		/* KVM_GET/SET_MSRS */
	K_CPUID,	/* KVM_GET/SET_CPUID2 */
	K_RUN,
	K_NR
};

#define MAX_ERRS	10
#define ERRNO_MAX	134

static const struct {
	const char *name;
	int errs[MAX_ERRS];	/* 0-terminated */
} kinds[K_NR] = {
	[K_SYS]		= { "system fd", { EINVAL, EFAULT, E2BIG, ENOMEM, EOPNOTSUPP, ENXIO } },
	[K_CREATE_VM]	= { "KVM_CREATE_VM", { EINVAL, ENOMEM, EBUSY } },
	[K_VM]		= { "VM fd", { ENOTTY, EINVAL, EFAULT } },
	[K_MEMSLOT]	= { "KVM_SET_USER_MEMORY_REGION", { EINVAL, EFAULT, EEXIST, ENOMEM } },
	[K_CREATE_VCPU]	= { "KVM_CREATE_VCPU", { EINVAL, EEXIST, ENOMEM } },
	/* EBADF: capabilities whose argument is an fd (SEV, SGX). */
	[K_ENABLE_CAP]	= { "KVM_ENABLE_CAP", { EINVAL, EFAULT, EBADF } },
	[K_VCPU]	= { "vCPU fd", { EINVAL, EFAULT } },
	[K_REGS]	= { "KVM_GET/SET_REGS", { EFAULT } },
	[K_SREGS]	= { "KVM_GET/SET_SREGS", { EFAULT, EINVAL } },
	[K_FPU]		= { "KVM_GET/SET_FPU", { EFAULT } },
	[K_MSRS]	= { "KVM_GET/SET_MSRS", { EFAULT, E2BIG, ENOMEM } },
	[K_CPUID]	= { "KVM_GET/SET_CPUID2", { EFAULT, E2BIG, EINVAL, EPERM, ENOMEM } },
	[K_RUN]		= { "KVM_RUN", { EINTR, EFAULT, EINVAL, ENOEXEC, ENOSPC } },
};

static unsigned long n_calls[K_NR], n_ok[K_NR], n_err[K_NR][ERRNO_MAX];
static unsigned long n_exit[64];
static unsigned long n_guarded;		/* KVM_RUNs not made, see run_once() */
static unsigned long iter;
static bool trace;
static struct timespec case_start;

static double elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - case_start.tv_sec) +
	       (now.tv_nsec - case_start.tv_nsec) / 1e9;
}

static bool errno_allowed(enum kind k, int err)
{
	for (int i = 0; i < MAX_ERRS && kinds[k].errs[i]; i++)
		if (kinds[k].errs[i] == err)
			return true;
	return false;
}

/* Count an ioctl's result and fail the case on an errno KVM never gives. */
static long fz_result(enum kind k, long r, int err, unsigned long nr,
		      unsigned long arg)
{
	n_calls[k]++;
	if (r >= 0)
		n_ok[k]++;
	else if (err > 0 && err < ERRNO_MAX)
		n_err[k][err]++;
	if (trace)
		test_diag("%lu %s nr %#lx arg %#lx -> %ld %s", iter, kinds[k].name,
			  nr, arg, r, r < 0 ? errname(err) : "");
	TEST_ASSERT(r >= 0 || (r == -1 && errno_allowed(k, err)),
		    "%s (nr %#lx, arg %#lx): %ld errno %s, not one KVM returns\n"
		    "iteration %lu of the case with seed %#llx",
		    kinds[k].name, nr, arg, r, errname(err), iter,
		    (unsigned long long)case_seed);
	errno = err;
	return r;
}

static long fz_ioctl(enum kind k, int fd, unsigned long nr, unsigned long arg)
{
	long r = ioctl(fd, nr, arg);

	return fz_result(k, r, errno, nr, arg);
}

static void fuzz_report(void)
{
	char line[512];

	for (int k = 0; k < K_NR; k++) {
		int n;

		if (!n_calls[k])
			continue;
		n = snprintf(line, sizeof(line), "%s: %lu calls, ok %lu",
			     kinds[k].name, n_calls[k], n_ok[k]);
		for (int e = 1; e < ERRNO_MAX && n < (int)sizeof(line); e++)
			if (n_err[k][e])
				n += snprintf(line + n, sizeof(line) - n, ", %s %lu",
					      errname(e), n_err[k][e]);
		test_diag("%s", line);
	}
	for (unsigned int e = 0, n = 0; e < ARRAY_SIZE(n_exit); e++) {
		if (!n_exit[e])
			continue;
		n += snprintf(line + n, sizeof(line) - n, "%s%s %lu",
			      n ? ", " : "exits: ", exit_reason_str(e), n_exit[e]);
		if (n >= sizeof(line))
			break;
	}
	if (n_calls[K_RUN])
		test_diag("%s", line);
	if (n_guarded)
		test_diag("%lu KVM_RUNs not made: EFER.LME without paging and PAE "
			  "freezes the emulated machine", n_guarded);
	test_diag("%lu iterations in %.1f s", iter, elapsed());
}

/* ---- Ioctl arguments ------------------------------------------------------ */

#define ARG_BUF_SIZE	(64 * 1024)

static uint8_t *arg_buf;	/* random bytes, then arg_hole */
static uint8_t *arg_hole;	/* a PROT_NONE page: every access faults */
static uint8_t *arg_ro;		/* a read-only page of random bytes */

/*
 * The hole stays mapped PROT_NONE rather than unmapped, so that no later
 * mmap (guest memory, kvm_run) can land there and be scribbled on.
 */
static void arg_mem_init(void)
{
	arg_buf = mmap(NULL, ARG_BUF_SIZE + PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(arg_buf != MAP_FAILED, "mmap: %s", strerror(errno));
	arg_hole = arg_buf + ARG_BUF_SIZE;
	TEST_ASSERT_OK(mprotect(arg_hole, PAGE_SIZE, PROT_NONE));
	rnd_fill(arg_buf, ARG_BUF_SIZE);

	arg_ro = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(arg_ro != MAP_FAILED, "mmap: %s", strerror(errno));
	rnd_fill(arg_ro, PAGE_SIZE);
	TEST_ASSERT_OK(mprotect(arg_ro, PAGE_SIZE, PROT_READ));
}

/*
 * Fresh random bytes in arg_buf, at least 32 KiB before its end: the most
 * a KVM ioctl writes behind a small header is 256 CPUID entries (10 KiB).
 * Often the first word is a plausible count (nent, nmsrs).
 */
static void *rnd_buf(void)
{
	uint8_t *p = arg_buf + (rnd(ARG_BUF_SIZE / 2) & (chance(90) ? ~7UL : ~0UL));

	rnd_fill(p, 512);
	if (chance(50))
		*(uint32_t *)p = rnd(300);
	return p;
}

/* A pointer that faults part-way: the last @len bytes before the hole. */
static void *buf_before_hole(size_t len)
{
	return arg_hole - len;
}

/* An ioctl argument: a pointer to random bytes, a bad pointer, or a number. */
static unsigned long rnd_arg(void)
{
	switch (rnd(12)) {
	case 0:
		return 0;
	case 1:
		return 1 + rnd(15);
	case 2:
		return rnd_edge();
	case 3:
		return (unsigned long)-4096L;	/* never user memory */
	case 4:
		return (unsigned long)arg_hole + rnd(PAGE_SIZE);
	case 5:
		return (unsigned long)buf_before_hole(1 + rnd(64));
	case 6:
		return (unsigned long)arg_ro + rnd(64);
	case 7:
		return 0xffff888000000000UL + rnd(1 << 20) * 8;	/* kernel */
	default:
		return (unsigned long)rnd_buf();
	}
}

/* Some ioctl number of KVM's type: any direction, number and size. */
static unsigned long rnd_ioctl_nr(void)
{
	static const unsigned int sizes[] = {
		0, 1, 2, 4, 8, 16, 32, 64, sizeof(struct kvm_regs),
		sizeof(struct kvm_sregs), sizeof(struct kvm_fpu), 0x3fff,
	};
	unsigned int size = chance(50) ? sizes[rnd(ARRAY_SIZE(sizes))] : rnd(1 << 14);

	return _IOC(rnd(4), KVMIO, rnd(256), size);
}

/* ---- Running guests ------------------------------------------------------- */

/* A spinning guest is interrupted after this long: KVM_RUN -> EINTR. */
#define RUN_SLICE_US	50000

static void on_signal(int sig)
{
	(void)sig;
}

/* No SA_RESTART: a signal must end a blocking ioctl with EINTR. */
static void install_handler(int sig)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	TEST_ASSERT_OK(sigaction(sig, &sa, NULL));
}

static void trace_segment(const char *name, const struct kvm_segment *g)
{
	test_diag("  %s %#x base %#llx limit %#x type %u s %u dpl %u p %u db %u l %u g %u avl %u unusable %u",
		  name, g->selector, g->base, g->limit, g->type, g->s, g->dpl,
		  g->present, g->db, g->l, g->g, g->avl, g->unusable);
}

static void trace_sregs(const struct kvm_sregs *s)
{
	test_diag("  cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx cr8 %#llx efer %#llx apic %#llx",
		  s->cr0, s->cr2, s->cr3, s->cr4, s->cr8, s->efer, s->apic_base);
	trace_segment("cs", &s->cs);
	trace_segment("ss", &s->ss);
	trace_segment("ds", &s->ds);
	trace_segment("tr", &s->tr);
	trace_segment("ldt", &s->ldt);
	test_diag("  gdt %#llx/%#x idt %#llx/%#x irq %#llx %#llx %#llx %#llx",
		  s->gdt.base, s->gdt.limit, s->idt.base, s->idt.limit,
		  s->interrupt_bitmap[0], s->interrupt_bitmap[1],
		  s->interrupt_bitmap[2], s->interrupt_bitmap[3]);
}

/* The state KVM_RUN starts from, for a reproducer. */
static void trace_state(struct vcpu *vcpu)
{
	struct kvm_sregs s;
	struct kvm_regs r;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &r) || ioctl(vcpu->fd, KVM_GET_SREGS, &s))
		return;
	test_diag("  rip %#llx rsp %#llx rflags %#llx", r.rip, r.rsp, r.rflags);
	trace_sregs(&s);
}

/*
 * The rig's emulator (QEMU 7.2 TCG) loses the host when a guest with
 * EFER.LME set, paging off and CR4.PAE clear exits: do_vmexit() reloads
 * the host CR0 while EFER is still the guest's, and cpu_x86_update_cr0()
 * then returns early ("enter in long mode" without PAE), leaving the host
 * kernel with paging off. The state is legal (LME is set before paging),
 * both hypervisors run it, and the whole machine goes silent. Not run.
 */
static bool emulator_would_freeze(struct vcpu *vcpu)
{
	struct kvm_sregs s;

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &s))
		return false;
	return (s.efer & EFER_LME) && !(s.cr0 & X86_CR0_PG) && !(s.cr4 & X86_CR4_PAE);
}

/*
 * One KVM_RUN that a guest in a loop cannot hold for more than a slice.
 * Returns its result, or -2 for a state the rig cannot run.
 */
static long run_once(struct vcpu *vcpu)
{
	static const struct itimerval slice = { .it_value = { .tv_usec = RUN_SLICE_US } };
	static const struct itimerval off;
	long r;
	int err;

	if (emulator_would_freeze(vcpu)) {
		n_guarded++;
		return -2;
	}
	if (trace)
		trace_state(vcpu);
	setitimer(ITIMER_REAL, &slice, NULL);
	r = ioctl(vcpu->fd, KVM_RUN, 0);
	err = errno;
	setitimer(ITIMER_REAL, &off, NULL);
	if (r == 0 && vcpu->run->exit_reason < ARRAY_SIZE(n_exit))
		n_exit[vcpu->run->exit_reason]++;
	if (trace && r == 0) {
		char buf[512];

		test_diag("  %s", exit_describe(vcpu, buf, sizeof(buf)));
	}
	return fz_result(K_RUN, r, err, KVM_RUN, 0);
}

/* The exception stubs of guest_random_code report on this port. */
#define STUB_PORT	0xf0

/*
 * Answer the exit as a VMM with no devices would: port and MMIO reads
 * return zeros, HLT resumes. False: the attempt is over (an exception
 * the guest reported, a shutdown, an entry failure, an error...).
 */
static bool answer_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint64_t len = (uint64_t)run->io.size * run->io.count;

		/* Both hypervisors put the data in the page after kvm_run. */
		TEST_ASSERT(run->io.data_offset >= PAGE_SIZE &&
			    run->io.data_offset + len <= (uint64_t)vcpu->vm->run_size,
			    "I/O exit data %#llx + %#lx outside the %d-byte mapping",
			    (unsigned long long)run->io.data_offset,
			    (unsigned long)len, vcpu->vm->run_size);
		if (run->io.direction == KVM_EXIT_IO_IN)
			memset((char *)run + run->io.data_offset, 0, len);
		return run->io.port != STUB_PORT;
	}
	case KVM_EXIT_MMIO:
		TEST_ASSERT(run->mmio.len <= 8, "MMIO exit of %u bytes", run->mmio.len);
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0, sizeof(run->mmio.data));
		return true;
	case KVM_EXIT_HLT:
		return true;
	default:
		return false;
	}
}

/* Run at most @max times, answering exits, until the guest gets stuck. */
static void run_bounded(struct vcpu *vcpu, int max)
{
	for (int i = 0; i < max; i++)
		if (run_once(vcpu) < 0 || !answer_exit(vcpu))
			return;
}

/*
 * A KVM_RUN with immediate_exit only completes the I/O or MMIO read that
 * is pending. Without it, KVM would finish a pending MMIO read of the old
 * context after new registers were set, and move RIP back there.
 */
static void complete_pending_exit(struct vcpu *vcpu)
{
	long r = 0;

	vcpu->run->immediate_exit = 1;
	/* Completing one half of a split MMIO access may exit for the other. */
	for (int i = 0; i < 4 && r == 0; i++) {
		r = ioctl(vcpu->fd, KVM_RUN, 0);
		fz_result(K_RUN, r, errno, KVM_RUN, 1);
		if (r == 0)
			answer_exit(vcpu);
	}
	vcpu->run->immediate_exit = 0;
}

/*
 * KVM and hvx keep events across KVM_SET_REGS/SREGS: an exception whose
 * delivery an exit interrupted, a KVM_NMI (or, on KVM, a KVM_SMI) that a
 * random ioctl number happened to be. A VMM resets them with
 * KVM_SET_VCPU_EVENTS.
 */
static void clear_pending_events(struct vcpu *vcpu)
{
	struct kvm_vcpu_events ev = {
		.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW |
			 KVM_VCPUEVENT_VALID_SMM,
	};

	TEST_ASSERT_OK(ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev));
}

static void guest_done(void)
{
}

/* The device still runs a guest in a VM created from scratch. */
static void check_device_works(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	vcpu_set_entry(vcpu, guest_done);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}

/* A case's time budget, in seconds, as FUZZ_BUDGET_SCALE scales it. */
static double budget(double seconds)
{
	const char *env = getenv("FUZZ_BUDGET_SCALE");
	double f = env ? strtod(env, NULL) : 1.0;

	return f > 0 ? seconds * f : seconds;
}

static void fuzz_begin(const char *name)
{
	const char *env = getenv("FUZZ_SEED");
	uint64_t base = env ? strtoull(env, NULL, 0) : FUZZ_SEED_DEFAULT;
	uint64_t seed = base;

	/* Each case its own stream, so one case can change without the others. */
	for (const char *p = name; *p; p++)
		seed = (seed ^ (uint8_t)*p) * 0x100000001b3ULL;
	case_seed = rng = seed;
	trace = getenv("FUZZ_TRACE") != NULL;
	test_diag("%s: seed %#llx (FUZZ_SEED=%#llx)", name,
		  (unsigned long long)seed, (unsigned long long)base);
	clock_gettime(CLOCK_MONOTONIC, &case_start);
	install_handler(SIGALRM);
	arg_mem_init();
}

/* ---- 1. The system fd ---------------------------------------------------- */

#define SYS_ITERS	20000
#define SYS_BUDGET	5.0

/* System ioctls of KVM x86, and others that mean nothing on this fd. */
static const unsigned long sys_ioctls[] = {
	KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_CHECK_EXTENSION,
	KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID, KVM_GET_EMULATED_CPUID,
	KVM_GET_MSR_INDEX_LIST, KVM_GET_MSR_FEATURE_INDEX_LIST, KVM_GET_MSRS,
	KVM_X86_GET_MCE_CAP_SUPPORTED, KVM_GET_DEVICE_ATTR, KVM_HAS_DEVICE_ATTR,
	KVM_CREATE_VCPU, KVM_SET_USER_MEMORY_REGION, KVM_RUN, KVM_SET_SREGS,
};

/* The machine type: x86 knows only 0; whatever is created is closed again. */
static void create_vm_random(int dev_fd)
{
	unsigned long type = chance(20) ? 0 : rnd_edge();
	long fd = fz_ioctl(K_CREATE_VM, dev_fd, KVM_CREATE_VM, type);

	if (fd >= 0)
		close(fd);
}

static void fuzz_system_fd(void)
{
	int fd;

	fuzz_begin(__func__);
	fd = dev_open();
	for (iter = 0; iter < SYS_ITERS && elapsed() < budget(SYS_BUDGET); iter++) {
		unsigned long nr = chance(30) ? sys_ioctls[rnd(ARRAY_SIZE(sys_ioctls))]
					      : rnd_ioctl_nr();

		if (nr == KVM_CREATE_VM)
			create_vm_random(fd);
		else
			fz_ioctl(K_SYS, fd, nr, rnd_arg());
	}
	fuzz_report();
	close(fd);
	check_device_works();
}

/* ---- 2. The VM fd: memslots, vCPU ids, unknown ioctls ---------------------- */

#define VM_ITERS	10000
#define VM_BUDGET	8.0
#define VM_MAX_CREATE	100		/* vCPU creations tried (KVM allows 1024) */

#define WIN_GPA		0x40000000UL	/* fuzzed slots go here, below 4 GiB */
#define WIN_PAGES	0x10000UL	/* 256 MiB */
#define BACKING_SIZE	(8UL << 20)
#define MODEL_SLOTS	64

/* What KVM's rules say the VM's memslots are, from the ioctls that succeeded. */
struct mslot {
	uint32_t slot;		/* as KVM: address space << 16 | id */
	uint32_t flags;
	uint64_t gpa, size, hva;
	bool safe;		/* hva range inside backing: the guest may touch it */
	bool used;
};

static struct mslot model[MODEL_SLOTS];
static uint8_t *backing;
static unsigned long n_probes, n_probes_mmio;

static struct mslot *model_find(uint32_t slot)
{
	for (int i = 0; i < MODEL_SLOTS; i++)
		if (model[i].used && model[i].slot == slot)
			return &model[i];
	return NULL;
}

/* The slot of address space 0 that holds @gpa. */
static struct mslot *model_lookup(uint64_t gpa)
{
	for (int i = 0; i < MODEL_SLOTS; i++) {
		struct mslot *s = &model[i];

		if (s->used && !(s->slot >> 16) && gpa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

/* Does [gpa, gpa + size) meet another slot of the same address space? */
static bool model_overlaps(uint32_t slot, uint64_t gpa, uint64_t size)
{
	for (int i = 0; i < MODEL_SLOTS; i++) {
		struct mslot *s = &model[i];

		if (s->used && s->slot != slot && (s->slot >> 16) == (slot >> 16) &&
		    gpa < s->gpa + s->size && s->gpa < gpa + size)
			return true;
	}
	return false;
}

static bool hva_in_backing(uint64_t hva, uint64_t size)
{
	uint64_t b = (uint64_t)(uintptr_t)backing;

	return hva >= b && size <= BACKING_SIZE && hva - b <= BACKING_SIZE - size;
}

static void model_add(const struct kvm_userspace_memory_region *r)
{
	for (int i = 0; i < MODEL_SLOTS; i++) {
		struct mslot *s = &model[i];

		if (s->used)
			continue;
		*s = (struct mslot){
			.slot = r->slot, .flags = r->flags,
			.gpa = r->guest_phys_addr, .size = r->memory_size,
			.hva = r->userspace_addr, .used = true,
			.safe = hva_in_backing(r->userspace_addr, r->memory_size),
		};
		return;
	}
	TEST_FAIL("more than %d memslots succeeded", MODEL_SLOTS);
}

/* Fold a KVM_SET_USER_MEMORY_REGION that succeeded into the model. */
static void model_apply(const struct kvm_userspace_memory_region *r)
{
	struct mslot *old = model_find(r->slot);

	if (!r->memory_size) {
		TEST_ASSERT(old, "deleting slot %#x succeeded, but it does not exist",
			    r->slot);
		old->used = false;
		return;
	}
	TEST_ASSERT(!model_overlaps(r->slot, r->guest_phys_addr, r->memory_size),
		    "slot %#x at %#llx size %#llx succeeded over another slot",
		    r->slot, (unsigned long long)r->guest_phys_addr,
		    (unsigned long long)r->memory_size);
	if (!old) {
		model_add(r);
		return;
	}
	TEST_ASSERT(r->memory_size == old->size && r->userspace_addr == old->hva &&
		    !((r->flags ^ old->flags) & KVM_MEM_READONLY),
		    "slot %#x changed size, address or READONLY and succeeded", r->slot);
	old->gpa = r->guest_phys_addr;
	old->flags = r->flags;
}

/* Never slot 0 of address space 0: the probing guest lives there. */
static uint32_t rnd_slot_id(void)
{
	switch (rnd(20)) {
	case 0:
		return 0x10000 | rnd(4);	/* address space 1 (KVM: SMM) */
	case 1:
		return 0x20000 | rnd(4);	/* no such address space */
	case 2:
		return rnd64() | 0x80000000;
	case 3:
		return 30 + rnd(4);		/* around hvx's 32 */
	case 4:
		return 507 + rnd(4);		/* around KVM's 509 */
	default:
		return 1 + rnd(12);
	}
}

static uint64_t rnd_gpa(void)
{
	if (chance(75))
		return WIN_GPA + rnd(WIN_PAGES) * PAGE_SIZE;
	switch (rnd(4)) {
	case 0:
		return rnd(0x400) * PAGE_SIZE;		/* over slot 0 */
	case 1:
		return WIN_GPA + rnd(WIN_PAGES * PAGE_SIZE);	/* unaligned */
	default:
		return rnd_edge() & (chance(80) ? ~(PAGE_SIZE - 1) : ~0UL);
	}
}

/* A slot of up to 2 MiB backed by real memory, in the probe window. */
static void real_region(struct kvm_userspace_memory_region *r)
{
	uint64_t pages = chance(80) ? 1 + rnd(16) : 1 + rnd(512);

	r->guest_phys_addr = rnd_gpa();
	r->memory_size = pages * PAGE_SIZE;
	r->userspace_addr = (uint64_t)(uintptr_t)backing +
			    rnd(BACKING_SIZE / PAGE_SIZE - pages + 1) * PAGE_SIZE;
	r->flags = chance(25) ? KVM_MEM_READONLY :
		   chance(5) ? KVM_MEM_LOG_DIRTY_PAGES : 0;
}

static uint64_t rnd_size(void)
{
	static const uint64_t sizes[] = {
		0, PAGE_SIZE, 0x1001, 0x200000, 1ULL << 30, 1ULL << 36,
		((1ULL << 31) - 1) * PAGE_SIZE, (1ULL << 31) * PAGE_SIZE,
		1ULL << 52, -PAGE_SIZE,
	};

	return chance(50) ? sizes[rnd(ARRAY_SIZE(sizes))] : rnd_edge();
}

static uint64_t rnd_hva(void)
{
	switch (rnd(7)) {
	case 0:
		return 0;
	case 1:
		return (uint64_t)(uintptr_t)arg_hole;
	case 2:
		return 0xffff888000000000UL;
	case 3:
		return 0x7ffffffff000UL;
	case 4:
		return rnd_edge();
	default:
		return ((uint64_t)(uintptr_t)backing + rnd(BACKING_SIZE)) &
		       (chance(80) ? ~(PAGE_SIZE - 1) : ~0UL);
	}
}

/* Anything: edges of every field. */
static void wild_region(struct kvm_userspace_memory_region *r)
{
	r->guest_phys_addr = chance(50) ? rnd_gpa() : rnd_edge();
	r->memory_size = rnd_size();
	r->userspace_addr = rnd_hva();
	r->flags = chance(70) ? rnd(4) : (uint32_t)rnd64();
	/*
	 * KVM allocates a dirty bitmap of a sixteenth of a byte per page: keep
	 * it small, a failed multi-megabyte vmalloc prints a stack trace.
	 */
	if (r->memory_size > (1ULL << 36))
		r->flags &= ~KVM_MEM_LOG_DIRTY_PAGES;
}

static void old_region(struct kvm_userspace_memory_region *r, const struct mslot *s)
{
	r->flags = s->flags;
	r->guest_phys_addr = s->gpa;
	r->memory_size = s->size;
	r->userspace_addr = s->hva;
}

/* Tweak one field of an existing slot: all but GPA and flags are EINVAL. */
static void reshape_region(struct kvm_userspace_memory_region *r)
{
	switch (rnd(4)) {
	case 0:
		r->memory_size += chance(50) ? PAGE_SIZE : -PAGE_SIZE;
		break;
	case 1:
		r->userspace_addr += PAGE_SIZE;
		break;
	default:
		r->flags ^= 1U << rnd(3);
		break;
	}
}

static void rnd_region(struct kvm_userspace_memory_region *r)
{
	struct mslot *old;

	r->slot = rnd_slot_id();
	old = model_find(r->slot);
	if (old && chance(60)) {
		old_region(r, old);
		switch (rnd(4)) {
		case 0:		/* delete; sometimes with other fields off */
			r->memory_size = 0;
			if (chance(20))
				r->userspace_addr = rnd_hva();
			return;
		case 1:
			reshape_region(r);
			return;
		default:	/* move, maybe onto another slot */
			r->guest_phys_addr = rnd_gpa();
			return;
		}
	}
	if (chance(70))
		real_region(r);
	else
		wild_region(r);
}

static void fuzz_memslot(struct vm *vm)
{
	struct kvm_userspace_memory_region r;
	long ret;

	rnd_region(&r);
	if (chance(3)) {
		fz_ioctl(K_MEMSLOT, vm->fd, KVM_SET_USER_MEMORY_REGION, rnd_arg());
		return;
	}
	ret = fz_ioctl(K_MEMSLOT, vm->fd, KVM_SET_USER_MEMORY_REGION,
		       (unsigned long)&r);
	if (ret == 0)
		model_apply(&r);
}

/* Guest: read or write one u64 where the host says, then report. */
struct probe {
	uint64_t gpa;
	uint64_t val;
	uint64_t write;
};

static struct probe probe;

static void guest_probe_loop(void)
{
	volatile struct probe *p = &probe;

	for (;;) {
		if (p->write)
			*(volatile uint64_t *)p->gpa = p->val;
		else
			p->val = *(volatile uint64_t *)p->gpa;
		GUEST_SYNC(0);
	}
}

/* What an MMIO read at @gpa returns: not 0, to tell it from RAM. */
static uint64_t mmio_value(uint64_t gpa)
{
	return gpa ^ 0x4d4d494f4d4d494fULL;
}

/* The guest's page tables map GPA == VA below 4 GiB only. */
#define GUEST_MAPPED_END	(1ULL << 32)

/* A GPA the guest can reach: RAM of a safe slot, or in the window. */
static struct mslot *pick_probe_gpa(uint64_t *gpa)
{
	struct mslot *s;

	if (chance(60)) {
		int i = rnd(MODEL_SLOTS);

		for (int n = 0; n < MODEL_SLOTS; n++, i = (i + 1) % MODEL_SLOTS) {
			s = &model[i];
			if (s->used && s->safe && !(s->slot >> 16) && s->slot &&
			    s->gpa + s->size <= GUEST_MAPPED_END) {
				*gpa = s->gpa + rnd(s->size / 8) * 8;
				return s;
			}
		}
	}
	*gpa = WIN_GPA + rnd(WIN_PAGES * PAGE_SIZE / 8) * 8;
	return model_lookup(*gpa);
}

/*
 * The guest accesses memory the model knows: RAM must hold what the
 * backing holds, a GPA without slot (or a write to a read-only slot) must
 * exit as MMIO. Stale translations of moved or deleted slots show here.
 */
static void probe_run(struct vm *vm, struct vcpu *vcpu)
{
	uint64_t gpa, *host;
	struct mslot *s = pick_probe_gpa(&gpa);
	bool mmio;

	if (s && !s->safe)
		return;
	probe = (struct probe){ .gpa = gpa, .val = rnd64(), .write = chance(40) };
	sync_global_to_guest(vm, probe);
	mmio = !s || (probe.write && (s->flags & KVM_MEM_READONLY));
	host = s ? (uint64_t *)(uintptr_t)(s->hva + gpa - s->gpa) : NULL;
	n_probes++;
	n_probes_mmio += mmio;
	if (mmio)
		vcpu_run_expect_mmio(vcpu, gpa, 8, probe.write,
				     probe.write ? probe.val : mmio_value(gpa));
	vcpu_run_expect_sync(vcpu, 0);
	if (probe.write) {
		if (!mmio)
			TEST_ASSERT(*host == probe.val,
				    "guest write to GPA %#lx (slot %#x): memory has %#lx, not %#lx",
				    (unsigned long)gpa, s->slot, (unsigned long)*host,
				    (unsigned long)probe.val);
		return;
	}
	sync_global_from_guest(vm, probe);
	TEST_ASSERT(probe.val == (mmio ? mmio_value(gpa) : *host),
		    "guest read of GPA %#lx (%s %#x) gave %#lx, expected %#lx",
		    (unsigned long)gpa, s ? "slot" : "no slot", s ? s->slot : 0,
		    (unsigned long)probe.val,
		    (unsigned long)(mmio ? mmio_value(gpa) : *host));
}

static void create_vcpu_random(struct vm *vm)
{
	unsigned long id = chance(80) ? rnd(72) : rnd_edge();
	long fd = fz_ioctl(K_CREATE_VCPU, vm->fd, KVM_CREATE_VCPU, id);

	/* The vCPU lives as long as its VM. */
	if (fd >= 0)
		close(fd);
}

/* Random capabilities and arguments; flags must be 0, so mostly 0. */
static void enable_cap_random(struct vm *vm)
{
	struct kvm_enable_cap *cap = rnd_buf();

	cap->cap = chance(70) ? rnd(256) : rnd64();
	if (chance(80))
		cap->flags = 0;
	fz_ioctl(K_ENABLE_CAP, vm->fd, KVM_ENABLE_CAP,
		 chance(90) ? (unsigned long)cap : rnd_arg());
}

/* System and vCPU ioctls mean nothing on a VM fd. */
static const unsigned long foreign_vm_ioctls[] = {
	KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_GET_VCPU_MMAP_SIZE,
	KVM_GET_SUPPORTED_CPUID, KVM_GET_MSR_INDEX_LIST, KVM_RUN,
	KVM_GET_REGS, KVM_SET_SREGS, KVM_SET_MSRS, KVM_SET_CPUID2,
};

static void vm_ioctl_random(struct vm *vm)
{
	unsigned long nr = chance(30) ?
		foreign_vm_ioctls[rnd(ARRAY_SIZE(foreign_vm_ioctls))] : rnd_ioctl_nr();

	/* KVM's own numbers are left to the cases above. */
	if (nr == KVM_CREATE_VCPU || nr == KVM_SET_USER_MEMORY_REGION ||
	    nr == KVM_ENABLE_CAP || nr == KVM_CHECK_EXTENSION)
		return;
	fz_ioctl(K_VM, vm->fd, nr, rnd_arg());
}

static void vm_op(struct vm *vm, struct vcpu *vcpu, unsigned int *created)
{
	unsigned int op = rnd(100);

	if (op < 45) {
		fuzz_memslot(vm);
	} else if (op < 52) {
		if ((*created)++ < VM_MAX_CREATE)
			create_vcpu_random(vm);
	} else if (op < 57) {
		enable_cap_random(vm);
	} else if (op < 60) {
		/* Never fails: any value is an answer. */
		fz_ioctl(K_VM, vm->fd, KVM_CHECK_EXTENSION, rnd_edge() % 512);
	} else if (op < 75) {
		vm_ioctl_random(vm);
	} else {
		probe_run(vm, vcpu);
	}
}

static void fuzz_vm_fd(void)
{
	struct vm *vm;
	struct vcpu *vcpu;
	unsigned int created = 0;

	fuzz_begin(__func__);
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	vcpu_set_entry(vcpu, guest_probe_loop);
	model[0] = (struct mslot){ .slot = 0, .size = vm->ram_size, .used = true };
	backing = mmap(NULL, BACKING_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TEST_ASSERT(backing != MAP_FAILED, "mmap: %s", strerror(errno));
	rnd_fill(backing, BACKING_SIZE);

	for (iter = 0; iter < VM_ITERS && elapsed() < budget(VM_BUDGET); iter++)
		vm_op(vm, vcpu, &created);
	fuzz_report();
	test_diag("guest accesses: %lu, %lu of them MMIO", n_probes, n_probes_mmio);
	/* The guest still runs; then every slot goes, in any order. */
	probe_run(vm, vcpu);
	vm_free(vm);
	check_device_works();
}

/* ---- 3. The vCPU fd: register state, MSRs, CPUID, then KVM_RUN ----------- */

#define VCPU_ROUNDS	48
#define VCPU_OPS	60
#define VCPU_BUDGET	10.0
#define MAX_NMSRS	300
#define MAX_NENT	300

/*
 * Real MSRs: what hvx saves and restores, and others KVM knows (MTRRs,
 * machine check, speculation control, AMD's HWCR, VM_CR, ...). A fixed
 * table, not the device's KVM_GET_MSR_INDEX_LIST: the same seed then
 * makes the same calls on both devices, so their traces can be diffed.
 */
static const uint32_t real_msrs[] = {
	0x10, 0x1b, 0x3a, 0x3b, 0x48, 0x49, 0x8b, 0x9e, 0xce, 0xfe, 0x140,
	0x174, 0x175, 0x176, 0x179, 0x17a, 0x17b, 0x1a0, 0x1d9, 0x200, 0x201,
	0x250, 0x258, 0x259, 0x268, 0x277, 0x2ff, 0x400, 0x401, 0x402, 0x403,
	0x6e0, 0x802, 0x80f, 0xda0,
	0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
	0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103,
	0xc0010000, 0xc0010004, 0xc0010015, 0xc0010114, 0xc0010117,
	0xc001011f, 0xc0011029,
};

/*
 * KVM's paravirtual clock, steal-time, async-PF and Hyper-V MSRs make KVM
 * write to guest memory at an address they hold, over and over: that
 * would corrupt the guest that must still run at the end.
 */
static bool msr_writes_guest_memory(uint32_t index)
{
	return index == 0x11 || index == 0x12 ||		/* kvmclock (old) */
	       (index >= 0x4b564d00 && index <= 0x4b564dff) ||
	       (index >= 0x40000000 && index <= 0x400001ff);	/* Hyper-V */
}

static uint32_t rnd_msr_index(void)
{
	static const uint32_t bases[] = { 0, 0xc0000000, 0xc0010000, 0x40000000 };

	if (chance(50))
		return real_msrs[rnd(ARRAY_SIZE(real_msrs))];
	if (chance(20))
		return rnd64();
	return bases[rnd(ARRAY_SIZE(bases))] + rnd(0x2000);
}

static void fuzz_msrs(struct vcpu *vcpu)
{
	static struct kvm_msrs *m;
	bool set = chance(50);
	uint32_t n = chance(70) ? rnd(8) : chance(90) ? rnd(MAX_NMSRS + 1) : rnd64();
	unsigned long arg;
	long r;

	if (!m)
		m = calloc(1, sizeof(*m) + MAX_NMSRS * sizeof(m->entries[0]));
	TEST_ASSERT(m, "calloc");
	m->nmsrs = n;
	m->pad = chance(90) ? 0 : rnd64();
	for (uint32_t i = 0; i < n && i < MAX_NMSRS; i++) {
		struct kvm_msr_entry *e = &m->entries[i];

		e->index = rnd_msr_index();
		/* Moved out of the range without a draw: traces stay aligned. */
		if (set && msr_writes_guest_memory(e->index))
			e->index ^= 0x100000;
		e->reserved = chance(90) ? 0 : rnd64();
		e->data = rnd_edge();
	}
	arg = (unsigned long)m;
	if (chance(10)) {
		arg = rnd_arg();
	} else if (chance(5)) {
		/* The header reads, the entries run into the hole. */
		struct kvm_msrs *h = buf_before_hole(sizeof(*h) + 8);

		h->nmsrs = 1 + rnd(4);
		h->pad = 0;
		arg = (unsigned long)h;
	}
	if (trace && arg == (unsigned long)m)
		for (uint32_t i = 0; i < n && i < 4; i++)
			test_diag("  msr %#x data %#llx", m->entries[i].index,
				  (unsigned long long)m->entries[i].data);
	r = fz_ioctl(K_MSRS, vcpu->fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, arg);
	if (r > 0 && arg == (unsigned long)m)
		TEST_ASSERT(r <= n, "%s processed %ld of %u MSRs",
			    set ? "KVM_SET_MSRS" : "KVM_GET_MSRS", r, n);
}

/* A CPUID table: random bytes, or the supported one with some bits off. */
static struct kvm_cpuid2 *rnd_cpuid(void)
{
	static struct kvm_cpuid2 *c;
	const struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();

	if (!c)
		c = cpuid_alloc(MAX_NENT);
	if (chance(30)) {
		c->nent = chance(90) ? rnd(MAX_NENT + 1) : rnd64();
		rnd_fill(c->entries, MAX_NENT * sizeof(c->entries[0]));
		return c;
	}
	c->nent = sup->nent;
	memcpy(c->entries, sup->entries, sup->nent * sizeof(c->entries[0]));
	for (int n = 1 + rnd(4); n--; ) {
		uint32_t *regs = &c->entries[rnd(c->nent)].eax;

		regs[rnd(4)] ^= 1U << rnd(32);
	}
	if (chance(20))
		c->nent = rnd(c->nent + 1);
	return c;
}

/* The leaves KVM_SET_CPUID2 checks (kvm_check_cpuid()). */
static void trace_cpuid(const struct kvm_cpuid2 *c)
{
	test_diag("  nent %u", c->nent);
	for (uint32_t i = 0; i < c->nent && i < MAX_NENT; i++) {
		const struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == 0xd || e->function == 0x80000008)
			test_diag("  [%u] %#x.%u flags %#x eax %#x edx %#x", i, e->function,
				  e->index, e->flags, e->eax, e->edx);
	}
}

static void fuzz_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c = rnd_cpuid();
	bool set = chance(80);
	unsigned long arg = chance(90) ? (unsigned long)c : rnd_arg();

	if (!set && arg == (unsigned long)c)
		c->nent = chance(50) ? rnd(MAX_NENT + 1) : rnd_edge();
	if (trace && set && arg == (unsigned long)c)
		trace_cpuid(c);
	fz_ioctl(K_CPUID, vcpu->fd, set ? KVM_SET_CPUID2 : KVM_GET_CPUID2, arg);
}

/* Random bytes, or a working set of registers with one field off. */
static void fuzz_regs(struct vcpu *vcpu)
{
	struct kvm_regs regs;
	uint64_t *field = (uint64_t *)&regs;

	if (chance(40)) {
		rnd_fill(&regs, sizeof(regs));
	} else {
		vcpu_set_entry(vcpu, guest_done);
		vcpu_get_regs(vcpu, &regs);
		field[rnd(sizeof(regs) / 8)] = rnd_edge();
	}
	fz_ioctl(K_REGS, vcpu->fd, KVM_SET_REGS,
		 chance(90) ? (unsigned long)&regs : rnd_arg());
	if (chance(60))
		run_bounded(vcpu, 4);
}

static struct kvm_segment *rnd_segment(struct kvm_sregs *s)
{
	struct kvm_segment *segs[] = {
		&s->cs, &s->ds, &s->es, &s->fs, &s->gs, &s->ss, &s->tr, &s->ldt,
	};

	return segs[rnd(ARRAY_SIZE(segs))];
}

static void mutate_segment(struct kvm_segment *seg)
{
	switch (rnd(12)) {
	case 0: seg->base = rnd_edge(); break;
	case 1: seg->limit = rnd_edge(); break;
	case 2: seg->selector = rnd64(); break;
	case 3: seg->type = rnd(16); break;
	case 4: seg->present ^= 1; break;
	case 5: seg->dpl = rnd(4); break;
	case 6: seg->db ^= 1; break;
	case 7: seg->s ^= 1; break;
	case 8: seg->l ^= 1; break;
	case 9: seg->g ^= 1; break;
	case 10: seg->unusable ^= 1; break;
	default: seg->avl = rnd64(); seg->padding = rnd64(); break;
	}
}

/*
 * One field of working long-mode sregs off: attributes, CRs, EFER, tables.
 * Not interrupt_bitmap: see event_vcpu_ioctls.
 */
static void mutate_sregs(struct kvm_sregs *s)
{
	switch (rnd(10)) {
	case 0:
	case 1:
		mutate_segment(rnd_segment(s));
		break;
	case 2:
		s->cr0 = chance(70) ? s->cr0 ^ (1ULL << rnd(64)) : rnd_edge();
		break;
	case 3:
		s->cr3 = chance(50) ? s->cr3 ^ (1ULL << rnd(64)) : rnd_edge();
		break;
	case 4:
		s->cr4 = chance(70) ? s->cr4 ^ (1ULL << rnd(64)) : rnd_edge();
		break;
	case 5:
		s->efer = chance(70) ? s->efer ^ (1ULL << rnd(64)) : rnd_edge();
		break;
	case 6:
		s->gdt.limit = rnd64();
		if (chance(50))
			s->gdt.base = rnd_edge();
		break;
	case 7:
		s->idt.limit = rnd64();
		if (chance(50))
			s->idt.base = rnd_edge();
		break;
	case 8:
		s->cr2 = rnd_edge();
		s->cr8 = rnd_edge();
		break;
	default:
		s->apic_base = chance(50) ? s->apic_base ^ (1ULL << rnd(64)) : rnd_edge();
		break;
	}
}

static void fuzz_sregs(struct vcpu *vcpu, const struct kvm_sregs *sane)
{
	struct kvm_sregs s = *sane;

	if (chance(20)) {
		rnd_fill(&s, sizeof(s));
		/* No interrupt to inject: see event_vcpu_ioctls. */
		memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	} else {
		for (int n = chance(70) ? 1 : 2 + rnd(3); n--; )
			mutate_sregs(&s);
	}
	if (trace)
		trace_sregs(&s);
	fz_ioctl(K_SREGS, vcpu->fd, KVM_SET_SREGS,
		 chance(95) ? (unsigned long)&s : rnd_arg());
	if (chance(70)) {
		vcpu_set_entry(vcpu, guest_done);
		run_bounded(vcpu, 4);
	}
}

static void fuzz_fpu(struct vcpu *vcpu)
{
	struct kvm_fpu fpu;

	vcpu_get_fpu(vcpu, &fpu);
	if (chance(50))
		rnd_fill(&fpu, sizeof(fpu));
	else if (chance(50))
		fpu.mxcsr = chance(50) ? 1U << rnd(32) : rnd64();
	else
		fpu.fcw = rnd64();
	fz_ioctl(K_FPU, vcpu->fd, KVM_SET_FPU,
		 chance(95) ? (unsigned long)&fpu : rnd_arg());
	if (chance(50))
		run_bounded(vcpu, 2);
}

/* The register ioctls with a bad pointer (or a good one). */
static void fuzz_get_set_ptr(struct vcpu *vcpu)
{
	static const struct {
		unsigned long nr;
		enum kind kind;
	} ios[] = {
		{ KVM_GET_REGS, K_REGS }, { KVM_SET_REGS, K_REGS },
		{ KVM_GET_SREGS, K_SREGS }, { KVM_SET_SREGS, K_SREGS },
		{ KVM_GET_FPU, K_FPU }, { KVM_SET_FPU, K_FPU },
	};
	int i = rnd(ARRAY_SIZE(ios));
	unsigned long arg = rnd_arg();

	/* Random bytes through a valid pointer are fuzz_sregs()'s job. */
	if (ios[i].nr == KVM_SET_SREGS && arg >= (unsigned long)arg_buf &&
	    arg < (unsigned long)arg_buf + ARG_BUF_SIZE - 1024)
		arg = (unsigned long)arg_hole;
	fz_ioctl(ios[i].kind, vcpu->fd, ios[i].nr, arg);
}

/* System and VM ioctls mean nothing on a vCPU fd, nor random numbers. */
static const unsigned long foreign_vcpu_ioctls[] = {
	KVM_GET_API_VERSION, KVM_CREATE_VM, KVM_CHECK_EXTENSION,
	KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID, KVM_CREATE_VCPU,
	KVM_SET_USER_MEMORY_REGION, KVM_ENABLE_CAP,
};

static const unsigned long known_vcpu_ioctls[] = {
	KVM_RUN, KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
	KVM_GET_FPU, KVM_SET_FPU, KVM_GET_MSRS, KVM_SET_MSRS, KVM_SET_CPUID2,
	KVM_GET_CPUID2,
};

/*
 * Left out: KVM_INTERRUPT and KVM_SET_VCPU_EVENTS (and a vector in
 * KVM_SET_SREGS' interrupt_bitmap) queue an event that the
 * next entry injects whatever RFLAGS.IF and the interruptibility state say
 * (checking ready_for_interrupt_injection is the VMM's job). On VMX such
 * an entry fails, and KVM leaves the event in the VMCS, so the vCPU can
 * never enter again: the reset below could not bring it back. (hvx waits
 * for the window instead, but the two devices must run the same cases.)
 */
static const unsigned long event_vcpu_ioctls[] = {
	KVM_INTERRUPT, KVM_SET_VCPU_EVENTS,
};

static void vcpu_ioctl_random(struct vcpu *vcpu)
{
	unsigned long nr = chance(20) ?
		foreign_vcpu_ioctls[rnd(ARRAY_SIZE(foreign_vcpu_ioctls))] : rnd_ioctl_nr();

	for (unsigned int i = 0; i < ARRAY_SIZE(known_vcpu_ioctls); i++)
		if (nr == known_vcpu_ioctls[i])
			return;
	for (unsigned int i = 0; i < ARRAY_SIZE(event_vcpu_ioctls); i++)
		if (nr == event_vcpu_ioctls[i])
			return;
	fz_ioctl(K_VCPU, vcpu->fd, nr, rnd_arg());
}

static void vcpu_op(struct vcpu *vcpu, const struct kvm_sregs *sane)
{
	switch (rnd(16)) {
	case 0:
	case 1:
		fuzz_regs(vcpu);
		break;
	case 2:
	case 3:
	case 4:
		fuzz_sregs(vcpu, sane);
		break;
	case 5:
		fuzz_fpu(vcpu);
		break;
	case 6:
	case 7:
	case 8:
		fuzz_msrs(vcpu);
		break;
	case 9:
		/* After the first KVM_RUN, only the same table is accepted. */
		fuzz_cpuid(vcpu);
		break;
	case 10:
		fuzz_get_set_ptr(vcpu);
		break;
	case 11:
		vcpu_ioctl_random(vcpu);
		break;
	default:
		run_bounded(vcpu, 4);
		break;
	}
}

static unsigned int kvm_stale_translations;

/*
 * Back to a sane vCPU: guest memory as created (random guest code may
 * have written anywhere), a clean FPU, the vCPU's first special registers
 * (long mode set up by vm_vcpu_add), and a guest that must reach
 * GUEST_DONE. All of sregs goes back, not only what the guest uses: VMX
 * checks every segment at entry, LDTR and unusable ones included (SDM Vol 3
 * 27.3.1.2), where SVM does not look.
 */
static void vcpu_check_sane(struct vcpu *vcpu, const struct kvm_sregs *sane,
			    const void *snapshot)
{
	struct vm *vm = vcpu->vm;
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };
	/* Random RFLAGS bits VM entry refuses on VMX go too. */
	struct kvm_regs regs = { .rflags = X86_EFLAGS_FIXED };

	complete_pending_exit(vcpu);
	clear_pending_events(vcpu);
	vcpu_set_regs(vcpu, &regs);
	memcpy(addr_gpa2hva(vm, 0), snapshot, vm->ram_size);
	vcpu_set_fpu(vcpu, &fpu);
	vcpu_set_sregs(vcpu, sane);
	vcpu_set_entry(vcpu, guest_done);
	if (dev_is_kvm() && host_is_intel()) {
		struct ucall uc;

		/*
		 * Intended difference: KVM on VMX keeps the guest's
		 * VPID-tagged translations, paging-structure caches included,
		 * across KVM_SET_SREGS, and random CR3s planted some: the
		 * sane guest may then take a #PF on its first fetch. hvx
		 * flushes them (new paging state from userspace is a new
		 * address space), so on hvx nothing but GUEST_DONE passes.
		 */
		vcpu_run(vcpu);
		if (get_ucall(vcpu, &uc) == UCALL_UNHANDLED && uc.args[0] == PF_VECTOR) {
			kvm_stale_translations++;
			return;
		}
		TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_DONE);
		return;
	}
	vcpu_run_expect_done(vcpu);
}

static void fuzz_vcpu_fd(void)
{
	struct vm *vm;
	void *snapshot;

	fuzz_begin(__func__);
	test_diag("supported CPUID: %u entries", kvm_get_supported_cpuid()->nent);
	vm = vm_create();
	snapshot = malloc(vm->ram_size);
	TEST_ASSERT(snapshot, "malloc");
	memcpy(snapshot, addr_gpa2hva(vm, 0), vm->ram_size);

	for (int round = 0; round < VCPU_ROUNDS && elapsed() < budget(VCPU_BUDGET); round++) {
		struct vcpu *vcpu = vm_vcpu_add(vm, round);
		struct kvm_sregs sane;

		vcpu_get_sregs(vcpu, &sane);
		/* CPUID can only change before the first KVM_RUN. */
		for (int i = 0; i < 6; i++, iter++)
			fuzz_cpuid(vcpu);
		vcpu_set_cpuid(vcpu, kvm_get_supported_cpuid());
		for (int op = 0; op < VCPU_OPS && elapsed() < budget(VCPU_BUDGET); op++, iter++)
			vcpu_op(vcpu, &sane);
		vcpu_check_sane(vcpu, &sane, snapshot);
	}
	if (kvm_stale_translations)
		test_diag("KVM kept stale guest translations across KVM_SET_SREGS in %u of the resets",
			  kvm_stale_translations);
	fuzz_report();
	vm_free(vm);
	check_device_works();
}

/* ---- 4. Random guest code in real, 32-bit and long mode ------------------- */

#define CODE_ITERS	3000
#define CODE_BUDGET	12.0
#define CODE_RUNS	8

/* A 2 MiB VM of its own, rebuilt from a template before every iteration. */
#define MINI_SIZE	0x200000UL
#define MINI_PML4	0x1000
#define MINI_PDPT	0x2000
#define MINI_PD		0x3000
#define MINI_GDT	0x4000
#define MINI_TSS64	0x4800
#define MINI_TSS32	0x4c00
#define MINI_IDT64	0x5000
#define MINI_STUBS	0x6000		/* 256 stubs of 8 bytes */
#define MINI_IDT32	0x7000
#define MINI_STACK	0xf000
#define MINI_CODE	0x10000		/* the page of random bytes */

#define SEL_CODE64	0x08
#define SEL_DATA	0x10
#define SEL_CODE32	0x18
#define SEL_TSS64	0x30
#define SEL_TSS32	0x40
#define MINI_GDT_LIMIT	(9 * 8 - 1)

static uint64_t desc(uint32_t base, uint32_t limit, unsigned int type, int s,
		     int l, int db, int g)
{
	return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)type << 40) | ((uint64_t)s << 44) | (1ULL << 47) |
	       ((uint64_t)((limit >> 16) & 0xf) << 48) | ((uint64_t)l << 53) |
	       ((uint64_t)db << 54) | ((uint64_t)g << 55) |
	       ((uint64_t)(base >> 24) << 56);
}

/* An interrupt gate to stub @v: 8 bytes (32-bit) or the low 8 of 16. */
static uint64_t gate(int v, uint16_t sel)
{
	uint64_t off = MINI_STUBS + v * 8;

	return (off & 0xffff) | ((uint64_t)sel << 16) | (0xeULL << 40) |
	       (1ULL << 47) | ((off >> 16) << 48);
}

static void mini_tables(uint8_t *m)
{
	uint64_t *pml4 = (uint64_t *)(m + MINI_PML4), *pdpt = (uint64_t *)(m + MINI_PDPT);
	uint64_t *pd = (uint64_t *)(m + MINI_PD), *gdt = (uint64_t *)(m + MINI_GDT);

	/* Identity map of the first GiB in 2 MiB pages: beyond 2 MiB is MMIO. */
	pml4[0] = MINI_PDPT | 3;
	pdpt[0] = MINI_PD | 3;
	for (uint64_t i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;
	gdt[1] = desc(0, 0xfffff, 0xb, 1, 1, 0, 1);	/* code64 */
	gdt[2] = desc(0, 0xfffff, 0x3, 1, 0, 1, 1);	/* data */
	gdt[3] = desc(0, 0xfffff, 0xb, 1, 0, 1, 1);	/* code32 */
	gdt[4] = desc(0, 0xffff, 0xb, 1, 0, 0, 0);	/* code16 */
	gdt[5] = desc(0, 0xffff, 0x3, 1, 0, 0, 0);	/* data16 */
	gdt[6] = desc(MINI_TSS64, 0x67, 0xb, 0, 0, 0, 0);	/* busy TSS, 16 bytes */
	gdt[8] = desc(MINI_TSS32, 0x67, 0xb, 0, 0, 0, 0);
	/* Stacks for a privilege change; no I/O bitmap. */
	*(uint64_t *)(m + MINI_TSS64 + 4) = MINI_STACK;
	*(uint16_t *)(m + MINI_TSS64 + 0x66) = 0x68;
	*(uint32_t *)(m + MINI_TSS32 + 4) = MINI_STACK;
	*(uint32_t *)(m + MINI_TSS32 + 8) = SEL_DATA;
	*(uint16_t *)(m + MINI_TSS32 + 0x66) = 0x68;
}

/*
 * Every vector's handler reports it: "mov $v, %al; out %al, $0xf0; hlt;
 * jmp .-3", the same bytes in 16-, 32- and 64-bit code. The real-mode IVT,
 * the 32-bit and the 64-bit IDT all point there.
 */
static void mini_handlers(uint8_t *m)
{
	uint32_t *ivt = (uint32_t *)m;
	uint64_t *idt64 = (uint64_t *)(m + MINI_IDT64), *idt32 = (uint64_t *)(m + MINI_IDT32);

	for (int v = 0; v < 256; v++) {
		const uint8_t stub[8] = { 0xb0, v, 0xe6, STUB_PORT, 0xf4, 0xeb, 0xfd, 0x90 };

		memcpy(m + MINI_STUBS + v * 8, stub, 8);
		ivt[v] = (MINI_STUBS >> 4) << 16 | v * 8;
		idt64[2 * v] = gate(v, SEL_CODE64);
		idt32[v] = gate(v, SEL_CODE32);
	}
}

static struct kvm_segment seg(uint16_t sel, uint64_t base, uint32_t limit,
			      unsigned int type, int s, int l, int db, int g)
{
	return (struct kvm_segment){
		.selector = sel, .base = base, .limit = limit, .type = type,
		.s = s, .l = l, .db = db, .g = g, .present = 1,
	};
}

enum { MODE_REAL, MODE_PM32, MODE_LONG, NR_MODES };
static const char *const mode_names[] = { "real", "32-bit", "long" };

/* Without an IDT (limit 0), the first exception ends in a shutdown. */
static void mini_sregs(struct vcpu *vcpu, int mode, bool idt)
{
	struct kvm_segment data = seg(SEL_DATA, 0, 0xffffffff, 3, 1, 0, 1, 1);
	struct kvm_sregs s;

	vcpu_get_sregs(vcpu, &s);
	memset(s.interrupt_bitmap, 0, sizeof(s.interrupt_bitmap));
	s.gdt.base = MINI_GDT;
	s.gdt.limit = MINI_GDT_LIMIT;
	s.ldt = seg(0, 0, 0xffff, 2, 0, 0, 0, 0);
	s.cr0 = X86_CR0_ET;
	s.cr3 = s.cr4 = s.efer = 0;
	switch (mode) {
	case MODE_REAL:
		s.cs = seg(MINI_CODE >> 4, MINI_CODE, 0xffff, 0xb, 1, 0, 0, 0);
		data = seg(0, 0, 0xffff, 3, 1, 0, 0, 0);
		s.tr = seg(0, 0, 0xffff, 3, 0, 0, 0, 0);
		s.idt.base = 0;
		s.idt.limit = idt ? 0x3ff : 0;
		break;
	case MODE_PM32:
		s.cs = seg(SEL_CODE32, 0, 0xffffffff, 0xb, 1, 0, 1, 1);
		s.tr = seg(SEL_TSS32, MINI_TSS32, 0x67, 0xb, 0, 0, 0, 0);
		s.idt.base = MINI_IDT32;
		s.idt.limit = idt ? 256 * 8 - 1 : 0;
		s.cr0 |= X86_CR0_PE;
		break;
	default:
		s.cs = seg(SEL_CODE64, 0, 0xffffffff, 0xb, 1, 1, 0, 1);
		s.tr = seg(SEL_TSS64, MINI_TSS64, 0x67, 0xb, 0, 0, 0, 0);
		s.idt.base = MINI_IDT64;
		s.idt.limit = idt ? 256 * 16 - 1 : 0;
		s.cr0 |= X86_CR0_PE | X86_CR0_MP | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
		s.cr3 = MINI_PML4;
		s.cr4 = X86_CR4_PAE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
		s.efer = EFER_LME | EFER_LMA | EFER_SCE | EFER_NX;
		break;
	}
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	vcpu_set_sregs(vcpu, &s);
}

static void mini_regs(struct vcpu *vcpu, int mode)
{
	struct kvm_regs regs;

	if (chance(50))
		rnd_fill(&regs, sizeof(regs));
	else
		memset(&regs, 0, sizeof(regs));
	regs.rip = mode == MODE_REAL ? 0 : MINI_CODE;
	regs.rsp = MINI_STACK;
	/* Now and then TF, IF, DF, AC and arithmetic flags; never VM. */
	regs.rflags = X86_EFLAGS_FIXED | (chance(10) ? rnd64() & 0x40fd5 : 0);
	vcpu_set_regs(vcpu, &regs);
}

/* The supported CPUID without SVM: nested guests are not this test's topic. */
static void mini_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *c = cpuid_alloc(MAX_NENT);
	const struct kvm_cpuid2 *sup = kvm_get_supported_cpuid();
	struct kvm_cpuid_entry2 *e;

	c->nent = sup->nent;
	memcpy(c->entries, sup->entries, sup->nent * sizeof(c->entries[0]));
	e = cpuid_find(c, 0x80000001, 0);
	if (e)
		e->ecx &= ~(1U << 2);
	vcpu_set_cpuid(vcpu, c);
	free(c);
}

static void random_code_iteration(struct vcpu *vcpu, uint8_t *mem,
				  const uint8_t *tmpl, unsigned long *modes)
{
	int mode;
	bool idt;

	/* Each iteration its own seed: FUZZ_ITER=N replays it alone. */
	rng = case_seed ^ (iter + 1) * GOLDEN;
	memcpy(mem, tmpl, MINI_SIZE);
	rnd_fill(mem + MINI_CODE, PAGE_SIZE);
	mode = rnd(NR_MODES);
	idt = chance(80);
	modes[mode]++;
	if (trace)
		test_diag("iteration %lu: %s mode, %s IDT", iter, mode_names[mode],
			  idt ? "an" : "no");
	complete_pending_exit(vcpu);
	mini_sregs(vcpu, mode, idt);
	mini_regs(vcpu, mode);
	run_bounded(vcpu, CODE_RUNS);
}

static void guest_random_code(void)
{
	const char *only = getenv("FUZZ_ITER");
	unsigned long first = only ? strtoul(only, NULL, 0) : 0;
	unsigned long modes[NR_MODES] = { 0 };
	uint8_t *mem, *tmpl;
	struct vcpu *vcpu;
	struct vm *vm;

	fuzz_begin(__func__);
	vm = vm_create_bare();
	mem = vm_add_memslot(vm, 0, 0, 0, MINI_SIZE);
	tmpl = calloc(1, MINI_SIZE);
	TEST_ASSERT(tmpl, "calloc");
	mini_tables(tmpl);
	mini_handlers(tmpl);
	vcpu = vm_vcpu_add_raw(vm, 0);
	mini_cpuid(vcpu);

	for (iter = first; iter < (only ? first + 1 : CODE_ITERS) &&
	     elapsed() < budget(CODE_BUDGET); iter++)
		random_code_iteration(vcpu, mem, tmpl, modes);
	iter -= first;
	fuzz_report();
	test_diag("modes: real %lu, 32-bit %lu, long %lu",
		  modes[MODE_REAL], modes[MODE_PM32], modes[MODE_LONG]);
	vm_free(vm);
	free(tmpl);
	check_device_works();
}

/* ---- 5. Teardown while vCPUs run ------------------------------------------ */

#define TD_ROUNDS	100
#define TD_BUDGET	8.0
#define TD_MAX_VCPUS	3
#define TD_JOIN_SECS	5

static void guest_spin(void)
{
	for (;;)
		__asm__ __volatile__("pause");
}

struct runner {
	pthread_t thread;
	int fd;
	volatile bool done;
	unsigned long runs;
};

static volatile bool td_stop;

/*
 * KVM_RUN until told to stop or the fd is gone. The runner never touches
 * kvm_run: the main thread may have unmapped it.
 */
static void *runner_fn(void *arg)
{
	struct runner *rn = arg;

	while (!td_stop) {
		long r = ioctl(rn->fd, KVM_RUN, 0);
		int err = errno;

		rn->runs++;
		if (r < 0 && err == EBADF)
			break;
		/*
		 * EFAULT: the guest's memory went away under it; ENOSPC: KVM
		 * 6.1 with no memslot left (see exits.c).
		 */
		TEST_ASSERT(r == 0 || err == EINTR || err == EFAULT || err == ENOSPC,
			    "KVM_RUN during teardown: %ld errno %s (round %lu)",
			    r, errname(err), iter);
	}
	rn->done = true;
	return NULL;
}

/* Signal the runners until each has left KVM_RUN and ended. */
static void stop_runners(struct runner *rn, int n)
{
	struct timespec t0, now;

	td_stop = true;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		while (!rn[i].done) {
			pthread_kill(rn[i].thread, SIGUSR1);
			usleep(1000);
			clock_gettime(CLOCK_MONOTONIC, &now);
			TEST_ASSERT(now.tv_sec - t0.tv_sec < TD_JOIN_SECS,
				    "vCPU thread %d still in KVM_RUN %d s after teardown (round %lu)",
				    i, TD_JOIN_SECS, iter);
		}
		pthread_join(rn[i].thread, NULL);
	}
}

enum td_action { TD_CLOSE_VCPU, TD_UNMAP_RUN, TD_CLOSE_VM, TD_CLOSE_DEV,
		 TD_DELETE_SLOT, TD_UNMAP_MEM, TD_NR };

/* Undo everything the VM holds, in a random order, while its vCPUs run. */
static void teardown_shuffled(struct vm *vm, int nv)
{
	int acts[2 * TD_MAX_VCPUS + TD_NR], n = 0;
	struct vm_slot *slot0 = &vm->slots[0];
	bool vm_open = true;

	for (int i = 0; i < nv; i++) {
		acts[n++] = TD_CLOSE_VCPU | i << 8;
		acts[n++] = TD_UNMAP_RUN | i << 8;
	}
	for (int a = TD_CLOSE_VM; a < TD_NR; a++)
		acts[n++] = a;
	for (int i = n - 1; i > 0; i--) {
		int j = rnd(i + 1), t = acts[i];

		acts[i] = acts[j];
		acts[j] = t;
	}
	for (int i = 0; i < n; i++) {
		struct vcpu *v = vm->vcpus[acts[i] >> 8];

		if (chance(50))
			usleep(rnd(3000));
		switch (acts[i] & 0xff) {
		case TD_CLOSE_VCPU:
			close(v->fd);
			break;
		case TD_UNMAP_RUN:
			munmap(v->run, vm->run_size);
			break;
		case TD_CLOSE_VM:
			close(vm->fd);
			vm_open = false;
			break;
		case TD_CLOSE_DEV:
			close(vm->dev_fd);
			break;
		case TD_DELETE_SLOT:
			if (vm_open) {
				long r = __vm_set_user_memory_region(vm, 0, 0, slot0->gpa,
								     0, slot0->host);

				fz_result(K_MEMSLOT, r, errno, KVM_SET_USER_MEMORY_REGION, 0);
			}
			break;
		case TD_UNMAP_MEM:
			munmap(slot0->host, slot0->size);
			break;
		}
	}
}

static void td_threads(void)
{
	struct runner rn[TD_MAX_VCPUS];
	int nv = 1 + rnd(TD_MAX_VCPUS);
	struct vm *vm = vm_create();

	for (int i = 0; i < nv; i++) {
		struct vcpu *v = vm_vcpu_add(vm, i);

		vcpu_set_entry(v, guest_spin);
		rn[i] = (struct runner){ .fd = v->fd };
	}
	td_stop = false;
	for (int i = 0; i < nv; i++)
		TEST_ASSERT_EQ(pthread_create(&rn[i].thread, NULL, runner_fn, &rn[i]), 0);
	usleep(rnd(20000));
	teardown_shuffled(vm, nv);
	stop_runners(rn, nv);
	for (int i = 0; i < nv; i++)
		free(vm->vcpus[i]);
	free(vm);
}

/*
 * A process whose vCPU threads are in KVM_RUN dies: by exit_group() from
 * its main thread, or by SIGKILL from outside. Its fds close in the exit.
 */
static void td_process(void)
{
	bool by_kill = chance(50);
	unsigned int delay = rnd(20000);
	int status, nv = 1 + rnd(TD_MAX_VCPUS);
	pid_t pid;

	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct vm *vm = vm_create();
		static struct runner rn[TD_MAX_VCPUS];

		for (int i = 0; i < nv; i++) {
			struct vcpu *v = vm_vcpu_add(vm, i);

			vcpu_set_entry(v, guest_spin);
			rn[i].fd = v->fd;
			pthread_create(&rn[i].thread, NULL, runner_fn, &rn[i]);
		}
		usleep(delay);
		if (by_kill)
			pause();
		_exit(0);
	}
	if (by_kill) {
		usleep(delay + rnd(20000));
		kill(pid, SIGKILL);
	}
	for (int i = 0; waitpid(pid, &status, WNOHANG) == 0; i++) {
		TEST_ASSERT(i < TD_JOIN_SECS * 1000,
			    "a process with vCPUs in KVM_RUN did not die (round %lu)", iter);
		usleep(1000);
	}
	TEST_ASSERT(by_kill ? WIFSIGNALED(status) : WIFEXITED(status) && !WEXITSTATUS(status),
		    "child status %#x (round %lu)", status, iter);
}

static void teardown_races(void)
{
	unsigned long by_thread = 0;

	fuzz_begin(__func__);
	install_handler(SIGUSR1);
	for (iter = 0; iter < TD_ROUNDS && elapsed() < budget(TD_BUDGET); iter++) {
		if (chance(70)) {
			td_threads();
			by_thread++;
		} else {
			td_process();
		}
	}
	fuzz_report();
	test_diag("%lu rounds closed fds under running threads, %lu killed the process",
		  by_thread, iter - by_thread);
	check_device_works();
}

/* ---- 6. And after all that ------------------------------------------------ */

static void device_still_works(void)
{
	int fd = dev_open();

	TEST_ASSERT_EQ(ioctl(fd, KVM_GET_API_VERSION, 0), 12);
	close(fd);
	check_device_works();
}

/* ---- 7. What the fuzzer found, as plain cases ----------------------------- */

/*
 * KVM_SET_MSRS(EFER) keeps EFER.LMA as it is, also from userspace (KVM's
 * set_efer(): LMA is the CPU's to set). A write of LME alone leaves a
 * vCPU in long mode there, and it runs on; LMA written with paging off is
 * dropped (that vCPU is not run: see emulator_would_freeze()).
 */
static void efer_write_keeps_lma(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	struct vcpu *raw = vm_vcpu_add_raw(vm, 1);

	vcpu_set_msr(vcpu, MSR_EFER, EFER_LME);
	TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_EFER), EFER_LME | EFER_LMA);
	vcpu_set_entry(vcpu, guest_done);
	vcpu_run_expect_done(vcpu);
	vcpu_set_msr(raw, MSR_EFER, EFER_LME | EFER_LMA);
	TEST_ASSERT_EQ(vcpu_get_msr(raw, MSR_EFER), EFER_LME);
}

/* The exception frame cannot be pushed: the stack is MMIO. */
static void guest_ud_on_mmio_stack(void)
{
	__asm__ __volatile__("mov %0, %%rsp; ud2" : : "r"(MMIO_GPA + PAGE_SIZE));
}

/*
 * An exit to userspace because an exception could not be delivered, then
 * a reset with KVM_SET_REGS/SREGS: the new code must run, not receive the
 * old exception. KVM 6.1 reports KVM_INTERNAL_ERROR_EMULATION and has
 * dropped the exception (x86_emulate_instruction() clears the queue);
 * found by FUZZ_SEED=1, fuzz_vcpu_fd.
 */
static void reset_after_cut_delivery(void)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);
	char buf[512];

	install_handler(SIGALRM);
	vcpu_set_entry(vcpu, guest_ud_on_mmio_stack);
	if (run_once(vcpu) == 0)
		test_diag("%s", exit_describe(vcpu, buf, sizeof(buf)));
	complete_pending_exit(vcpu);
	vcpu_setup_long_mode(vcpu);
	vcpu_set_entry(vcpu, guest_done);
	vcpu_run_expect_done(vcpu);
}

/*
 * An APIC base KVM refuses, from KVM_SET_SREGS (-EINVAL) as from
 * KVM_SET_MSRS (not processed), keeping the old one (kvm_set_apic_base()):
 * reserved bits 0-7 and 9, bits beyond MAXPHYADDR, x2APIC mode (EXTD)
 * without the xAPIC enabled, x2APIC when the guest CPUID has none (this
 * vCPU has no CPUID; hvx never offers x2APIC).
 */
static void apic_base_checked(void)
{
	static const uint64_t bad[] = {
		0xfee00901, 0xfee00b00, 0xfee00900 | 1ULL << 51, 0xfee00500, 0xfee00d00,
	};
	struct vm *vm = vm_create_bare();
	struct vcpu *vcpu = vm_vcpu_add_raw(vm, 0);
	struct kvm_msr_entry e = { .index = MSR_IA32_APICBASE };
	struct kvm_sregs sregs;

	for (unsigned int i = 0; i < ARRAY_SIZE(bad); i++) {
		vcpu_get_sregs(vcpu, &sregs);
		sregs.apic_base = bad[i];
		errno = 0;
		TEST_ASSERT(ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) == -1 && errno == EINVAL,
			    "KVM_SET_SREGS with apic_base %#lx: not EINVAL (%s)",
			    (unsigned long)bad[i], errname(errno));
		e.data = bad[i];
		TEST_ASSERT(__vcpu_msrs(vcpu, KVM_SET_MSRS, &e, 1) == 0,
			    "KVM_SET_MSRS(APIC_BASE, %#lx) processed", (unsigned long)bad[i]);
		TEST_ASSERT_EQ(vcpu_get_msr(vcpu, MSR_IA32_APICBASE), 0xfee00900);
	}
}

static const struct test_case cases[] = {
	TEST_CASE(fuzz_system_fd, "random ioctls on the system fd"),
	TEST_CASE(fuzz_vm_fd, "random memslots, vCPU ids and ioctls on a VM fd, a guest probing"),
	TEST_CASE(fuzz_vcpu_fd, "random regs, sregs, FPU, MSRs, CPUID, then KVM_RUN"),
	TEST_CASE(guest_random_code, "random guest code in real, 32-bit and long mode"),
	TEST_CASE(teardown_races, "fds closed and processes killed while vCPUs run"),
	TEST_CASE(device_still_works, "the device still runs a guest after the fuzzing"),
	TEST_CASE(efer_write_keeps_lma, "KVM_SET_MSRS(EFER) keeps EFER.LMA"),
	TEST_CASE(apic_base_checked, "an invalid APIC base is refused by SET_SREGS and SET_MSRS"),
	TEST_CASE(reset_after_cut_delivery, "a reset drops an exception whose delivery an exit cut short"),
};

int main(int argc, char **argv)
{
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
