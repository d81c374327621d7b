// SPDX-License-Identifier: GPL-2.0
/*
 * CPU hotplug with VMs alive. A hypervisor turns virtualization on per
 * CPU (EFER.SVME and VM_HSAVE_PA on SVM): a CPU that goes offline loses
 * it, and a CPU that comes online while a VM exists must get it before
 * any vCPU runs there (KVM: kvm_starting_cpu(); hvx: the cpuhp online
 * callback in module/main.c). A vCPU entering on a CPU without it faults
 * in the host (VMRUN raises #UD), which kills the test and leaves an Oops
 * in dmesg.
 *
 * System-style: the cases write /sys/devices/system/cpu/cpu1/online and
 * skip if it is missing or not writable, or if fewer than two CPUs are
 * online. Every case runs its body in a child process and brings CPU 1
 * back online however the child ended; main() checks once more at exit.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvm_util.h"
#include "smp_util.h"

#define CPU1_ONLINE	"/sys/devices/system/cpu/cpu1/online"

#define DATA_GPA	0x10000000UL	/* slot 1 */
#define STEP_MUL	0x0101010101010101ULL

static bool cpu1_online(void)
{
	int fd = open(CPU1_ONLINE, O_RDONLY | O_CLOEXEC);
	char c = 0;

	TEST_ASSERT(fd >= 0, "open %s: %s", CPU1_ONLINE, strerror(errno));
	TEST_ASSERT(read(fd, &c, 1) == 1, "read %s: %s", CPU1_ONLINE,
		    strerror(errno));
	close(fd);
	return c == '1';
}

/* Returns once CPU 1 is fully offline or online (the write is synchronous). */
static void cpu1_set_online(bool on)
{
	int fd = open(CPU1_ONLINE, O_WRONLY | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open %s: %s", CPU1_ONLINE, strerror(errno));
	TEST_ASSERT(write(fd, on ? "1" : "0", 1) == 1, "write %d to %s: %s",
		    on, CPU1_ONLINE, strerror(errno));
	close(fd);
	TEST_ASSERT_EQ(cpu1_online(), on);
}

/*
 * Run @body in a child (which dies with this process): however it ends,
 * CPU 1 is online again afterwards, and the case ends as the child did
 * (passed, failed or skipped).
 */
static void run_restoring_cpu1(void (*body)(void))
{
	int status;
	pid_t pid;

	if (access(CPU1_ONLINE, W_OK))
		test_skip("%s is missing or not writable", CPU1_ONLINE);
	if (!cpu1_online())
		cpu1_set_online(true);
	require_two_cpus();

	fflush(stdout);
	pid = fork();
	TEST_ASSERT(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		body();
		fflush(stdout);
		_exit(0);
	}
	TEST_ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (!cpu1_online()) {
		test_diag("CPU 1 was left offline: bringing it back");
		cpu1_set_online(true);
	}
	if (WIFSIGNALED(status))
		TEST_FAIL("killed by signal %d (%s)", WTERMSIG(status),
			  strsignal(WTERMSIG(status)));
	if (WEXITSTATUS(status))
		_exit(WEXITSTATUS(status));
}

/* The case fn() runs __fn() with run_restoring_cpu1(). */
#define RESTORING_CPU1(fn)			\
static void fn(void)				\
{						\
	run_restoring_cpu1(__##fn);		\
}

/* Step i: store i * MUL in the page, report it plus i. */
static void guest_steps(volatile uint64_t *page, uint64_t steps)
{
	for (uint64_t i = 1; i <= steps; i++) {
		page[0] = i * STEP_MUL;
		GUEST_SYNC(page[0] + i);
	}
}

static struct vcpu *steps_vm(struct vm **vmp, uint64_t **pagep, uint64_t steps)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu = vm_vcpu_add(vm, 0);

	*pagep = vm_add_memslot(vm, 1, 0, DATA_GPA, PAGE_SIZE);
	vcpu_set_entry(vcpu, guest_steps, DATA_GPA, steps);
	*vmp = vm;
	return vcpu;
}

/* Run step @i of guest_steps() on @cpu. */
static void step_on(struct vcpu *vcpu, const uint64_t *page, int cpu, uint64_t i)
{
	pin_self(cpu);
	vcpu_run_expect_sync(vcpu, i * STEP_MUL + i);
	TEST_ASSERT_EQ(page[0], i * STEP_MUL);
	TEST_ASSERT_EQ(sched_getcpu(), cpu);
}

/*
 * A VM alive across CPU 1 going offline and coming back: its vCPU runs
 * on CPU 1, on CPU 0 while CPU 1 is offline, then on CPU 1 again, which
 * the online callback must have enabled.
 */
static void __offline_online_with_vm(void)
{
	struct vcpu *vcpu;
	uint64_t *page;
	struct vm *vm;

	vcpu = steps_vm(&vm, &page, 3);
	step_on(vcpu, page, 1, 1);
	pin_self(0);
	cpu1_set_online(false);
	step_on(vcpu, page, 0, 2);
	cpu1_set_online(true);
	step_on(vcpu, page, 1, 3);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}
RESTORING_CPU1(offline_online_with_vm)

/*
 * A VM created while CPU 1 is offline (virtualization turned on for CPU 0
 * only), then CPU 1 comes online and the vCPU runs there.
 */
static void __vm_created_while_offline(void)
{
	struct vcpu *vcpu;
	uint64_t *page;
	struct vm *vm;

	pin_self(0);
	cpu1_set_online(false);
	vcpu = steps_vm(&vm, &page, 2);
	step_on(vcpu, page, 0, 1);
	cpu1_set_online(true);
	step_on(vcpu, page, 1, 2);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}
RESTORING_CPU1(vm_created_while_offline)

/*
 * The last VM goes away while CPU 1 is offline (virtualization off on
 * CPU 0; CPU 1 lost it when it went down), CPU 1 comes back with no VM,
 * and a new VM must get virtualization enabled on both CPUs.
 */
static void __last_vm_gone_while_offline(void)
{
	struct vcpu *vcpu;
	uint64_t *page;
	struct vm *vm;

	vcpu = steps_vm(&vm, &page, 1);
	step_on(vcpu, page, 1, 1);
	pin_self(0);
	cpu1_set_online(false);
	vm_free(vm);
	cpu1_set_online(true);

	vcpu = steps_vm(&vm, &page, 2);
	step_on(vcpu, page, 1, 1);
	step_on(vcpu, page, 0, 2);
	vcpu_run_expect_done(vcpu);
	vm_free(vm);
}
RESTORING_CPU1(last_vm_gone_while_offline)

enum { PG_COUNT, PG_STOP };

/* Count until told to stop; report the count, then count one more. */
static void guest_count_until_stop(volatile uint64_t *page)
{
	uint64_t n = 0;

	while (!page[PG_STOP])
		page[PG_COUNT] = ++n;
	GUEST_SYNC(n);
	page[PG_COUNT] = n + 1;
	GUEST_SYNC(n + 1);
}

struct counting_run {
	struct vcpu *vcpu;
	volatile uint64_t tid;	/* the vCPU thread, once pinned to CPU 1 */
	uint64_t count;		/* the guest's GUEST_SYNC */
	int cpu_after;		/* where KVM_RUN returned */
};

static void *counting_vcpu_fn(void *arg)
{
	struct counting_run *cr = arg;
	struct ucall uc;

	pin_self(1);
	cr->tid = gettid();
	TEST_ASSERT_EQ(vcpu_run_ucall(cr->vcpu, &uc), UCALL_SYNC);
	cr->count = uc.args[0];
	cr->cpu_after = sched_getcpu();
	return NULL;
}

/*
 * CPU 1 goes offline while a vCPU thread pinned to it is in KVM_RUN with
 * the guest counting: the kernel moves the thread to CPU 0 (breaking its
 * affinity), where the guest goes on counting in the same KVM_RUN. Then
 * CPU 1 comes back and the vCPU runs there again.
 */
static void __offline_under_running_vcpu(void)
{
	struct counting_run cr = { 0 };
	volatile uint64_t *page;
	uint64_t seen;
	struct vm *vm;
	pthread_t t;

	pin_self(0);
	vm = vm_create();
	cr.vcpu = vm_vcpu_add(vm, 0);
	page = vm_add_memslot(vm, 1, 0, DATA_GPA, PAGE_SIZE);
	vcpu_set_entry(cr.vcpu, guest_count_until_stop, DATA_GPA);
	TEST_ASSERT_EQ(pthread_create(&t, NULL, counting_vcpu_fn, &cr), 0);
	wait_for_change(&cr.tid, 0, "vCPU thread start");
	wait_for_change(&page[PG_COUNT], 0, "guest counter");

	cpu1_set_online(false);
	TEST_ASSERT_EQ(thread_cpu(cr.tid), 0);
	seen = page[PG_COUNT];
	wait_for_change(&page[PG_COUNT], seen, "guest counter with CPU 1 offline");
	page[PG_STOP] = 1;
	TEST_ASSERT_EQ(pthread_join(t, NULL), 0);
	TEST_ASSERT_EQ(cr.cpu_after, 0);
	TEST_ASSERT_EQ(cr.count, page[PG_COUNT]);
	TEST_ASSERT(cr.count > seen, "count %lu, seen %lu",
		    (unsigned long)cr.count, (unsigned long)seen);

	cpu1_set_online(true);
	pin_self(1);
	vcpu_run_expect_sync(cr.vcpu, cr.count + 1);
	TEST_ASSERT_EQ(page[PG_COUNT], cr.count + 1);
	vcpu_run_expect_done(cr.vcpu);
	vm_free(vm);
}
RESTORING_CPU1(offline_under_running_vcpu)

static const struct test_case cases[] = {
	TEST_CASE(offline_online_with_vm, "VM alive while CPU 1 goes offline and online: its vCPU runs on CPU 1 again"),
	TEST_CASE(vm_created_while_offline, "VM created with CPU 1 offline, CPU 1 onlined: the vCPU runs there"),
	TEST_CASE(last_vm_gone_while_offline, "last VM freed with CPU 1 offline, CPU 1 onlined: a new VM runs on both CPUs"),
	TEST_CASE(offline_under_running_vcpu, "CPU 1 offlined under a running vCPU: the guest continues on CPU 0, then on CPU 1"),
};

int main(int argc, char **argv)
{
	int r = tap_main(argc, argv, cases, ARRAY_SIZE(cases));

	/* Never leave the machine with a CPU missing (a case timed out). */
	if (!access(CPU1_ONLINE, W_OK) && !cpu1_online()) {
		printf("# CPU 1 was left offline: bringing it back\n");
		cpu1_set_online(true);
	}
	return r;
}
