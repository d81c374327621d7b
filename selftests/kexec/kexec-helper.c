// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-side tool of the rig's kexec test (scripts/rig/guest-kexec.sh):
 * everything that script needs and busybox cannot do.
 *
 *   kexec-helper spin DEV
 *       A KVM-API client on DEV: one vCPU whose guest spins forever in
 *       guest mode (no exits of its own). Prints "SPINNING" once the
 *       guest's counter is seen advancing, then keeps the vCPU in KVM_RUN
 *       until the process dies (or the host goes down under it).
 *   kexec-helper virt on|off
 *       Exits 0 iff hardware virtualization is on / off on every online
 *       CPU, and prints each CPU's state:
 *       AMD    EFER.SVME, read through /dev/cpu/N/msr (msr.ko).
 *       Intel  CR4.VMXE and VMX operation. No MSR holds them and CR4 cannot
 *              be read from user mode, but two VMX instructions tell them
 *              by how they fault at CPL 3 (SDM Vol 3, the instructions'
 *              "Operation" sections), on a thread pinned to each CPU:
 *                VMXON    #UD if CR4.VMXE = 0, else #GP (CPL > 0)
 *                VMPTRST  #UD outside VMX operation, #GP in VMX root
 *                         operation (CPL > 0)
 *              #UD arrives as SIGILL, #GP as SIGSEGV; neither instruction
 *              can complete in user mode. "on" wants both #GP (VMXON done
 *              on that CPU), "off" both #UD. IA32_FEATURE_CONTROL must be
 *              locked with VMX enabled outside SMX (else VMXON could not
 *              work at all and "off" would prove nothing).
 *   kexec-helper load [-p] KERNEL INITRD CMDLINE
 *       kexec_file_load(): the kernel parses the bzImage itself, so no
 *       kexec-tools (Debian's is linked against the Xen libraries) is
 *       needed in the guest. -p loads the crash (kdump) kernel.
 *   kexec-helper exec
 *       reboot(LINUX_REBOOT_CMD_KEXEC): boot the loaded kernel now. This
 *       runs the reboot notifiers, i.e. hvx's, as `kexec -e` does.
 *
 * Not a TAP binary: the script prints the TAP lines (and shows this
 * one's output as diagnostics).
 */
#include <fcntl.h>
#include <linux/kexec.h>
#include <linux/reboot.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define MSR_EFER	0xc0000080
#define EFER_SVME	(1ULL << 12)
#define MSR_IA32_FEAT_CTL	0x3a
#define FEAT_CTL_LOCKED		(1ULL << 0)
#define FEAT_CTL_VMX_OUTSIDE_SMX	(1ULL << 2)

static volatile uint64_t spin_counter;

/* Guest: say it started, then spin in guest mode forever. */
static void guest_spin(void)
{
	GUEST_SYNC(1);
	for (;;)
		spin_counter++;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	int eintr = 0;

	for (;;) {
		int r = __vcpu_run(vcpu);

		if (r < 0 && errno == EINTR) {
			/*
			 * hvx returns EINTR once its reboot notifier ran: the
			 * guest cannot run again in this kernel. Say so once
			 * and keep the vCPU fd alive until the end.
			 */
			if (!eintr++) {
				printf("vCPU thread: KVM_RUN returned EINTR (host going down?)\n");
				fflush(stdout);
			}
			usleep(10000);
			continue;
		}
		printf("vCPU thread: unexpected KVM_RUN result %d (%s), exit %s\n",
		       r, r < 0 ? strerror(errno) : "ok",
		       exit_reason_str(vcpu->run->exit_reason));
		fflush(stdout);
		_exit(1);
	}
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int cmd_spin(const char *dev)
{
	volatile uint64_t *counter;
	struct vcpu *vcpu;
	struct vm *vm;
	pthread_t t;
	uint64_t c0, end;

	test_dev_path = dev;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	vcpu_set_entry(vcpu, guest_spin);
	vcpu_run_expect_sync(vcpu, 1);
	counter = addr_gpa2hva(vm, (uint64_t)&spin_counter);
	c0 = *counter;
	TEST_ASSERT(!pthread_create(&t, NULL, vcpu_thread, vcpu), "pthread_create");
	/* Under TCG a slice can take a while: allow 20 s to see progress. */
	for (end = now_ms() + 20000; now_ms() < end; usleep(50000)) {
		if (*counter != c0) {
			printf("SPINNING on %s (guest counter %lu -> %lu)\n", dev,
			       (unsigned long)c0, (unsigned long)*counter);
			fflush(stdout);
			for (;;)
				pause();
		}
	}
	printf("the guest's counter did not advance in 20 s\n");
	return 1;
}

/* An MSR of one CPU through msr.ko; 0 on success. */
static int read_msr(int cpu, uint32_t msr, uint64_t *val)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, val, 8, msr) != 8)
		r = -1;
	close(fd);
	return r;
}

static sigjmp_buf probe_jmp;

static void probe_fault(int sig)
{
	siglongjmp(probe_jmp, sig);
}

/*
 * Run VMXON (vmptrst = 0) or VMPTRST (1) in user mode on the CPU we are
 * pinned to: returns the signal its fault raised (SIGILL: #UD, SIGSEGV:
 * #GP), 0 if it did not fault (impossible at CPL 3).
 */
static int vmx_probe(int vmptrst)
{
	static uint64_t operand;
	struct sigaction sa = { .sa_handler = probe_fault }, old_ill, old_segv;
	int sig;

	sigaction(SIGILL, &sa, &old_ill);
	sigaction(SIGSEGV, &sa, &old_segv);
	sig = sigsetjmp(probe_jmp, 1);
	if (!sig) {
		if (vmptrst)
			asm volatile("vmptrst %0" : "=m"(operand) : : "memory");
		else
			asm volatile("vmxon %0" : : "m"(operand) : "memory");
	}
	sigaction(SIGILL, &old_ill, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return sig;
}

static const char *fault_name(int sig)
{
	return sig == SIGILL ? "#UD" : sig == SIGSEGV ? "#GP" : "no fault";
}

static int cmd_vmx(int on)
{
	int bad = 0, n = 0;

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		int vmxon_sig, vmptrst_sig, vmxe, vmxop;
		uint64_t feat;
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			continue;	/* no such CPU (or offline) */
		if (sched_getcpu() != cpu) {
			printf("CPU %d: could not move there\n", cpu);
			return 1;
		}
		n++;
		if (read_msr(cpu, MSR_IA32_FEAT_CTL, &feat)) {
			printf("read IA32_FEATURE_CONTROL of CPU %d: %s (msr.ko not loaded?)\n",
			       cpu, strerror(errno));
			return 1;
		}
		vmxon_sig = vmx_probe(0);
		vmptrst_sig = vmx_probe(1);
		vmxe = vmxon_sig == SIGSEGV;
		vmxop = vmptrst_sig == SIGSEGV;
		printf("CPU %d: IA32_FEATURE_CONTROL %#lx, CR4.VMXE %d (VMXON: %s), VMX operation %d (VMPTRST: %s)\n",
		       cpu, (unsigned long)feat, vmxe, fault_name(vmxon_sig),
		       vmxop, fault_name(vmptrst_sig));
		if ((feat & (FEAT_CTL_LOCKED | FEAT_CTL_VMX_OUTSIDE_SMX)) !=
		    (FEAT_CTL_LOCKED | FEAT_CTL_VMX_OUTSIDE_SMX)) {
			printf("CPU %d: IA32_FEATURE_CONTROL does not allow VMXON\n", cpu);
			bad++;
		}
		if ((vmxon_sig != SIGILL && vmxon_sig != SIGSEGV) ||
		    (vmptrst_sig != SIGILL && vmptrst_sig != SIGSEGV) ||
		    vmxe != on || vmxop != on)
			bad++;
	}
	if (!n) {
		printf("no CPU to run on\n");
		return 1;
	}
	return bad ? 1 : 0;
}

static int cmd_svme(int on)
{
	int bad = 0, n = 0;

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		uint64_t efer;

		if (read_msr(cpu, MSR_EFER, &efer)) {
			if (errno == ENOENT)
				continue;	/* no such CPU (or offline) */
			printf("read EFER of CPU %d: %s\n", cpu, strerror(errno));
			return 1;
		}
		n++;
		printf("CPU %d: EFER %#lx, SVME %d\n", cpu, (unsigned long)efer,
		       !!(efer & EFER_SVME));
		if (!!(efer & EFER_SVME) != on)
			bad++;
	}
	if (!n) {
		printf("no /dev/cpu/N/msr (msr.ko not loaded?)\n");
		return 1;
	}
	return bad ? 1 : 0;
}

static int cmd_virt(const char *want)
{
	int on = !strcmp(want, "on");

	return host_is_intel() ? cmd_vmx(on) : cmd_svme(on);
}

static int cmd_load(int argc, char **argv)
{
	unsigned long flags = 0;
	uint64_t t0;
	int kfd, ifd;

	if (argc > 0 && !strcmp(argv[0], "-p")) {
		flags |= KEXEC_FILE_ON_CRASH;
		argc--, argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: kexec-helper load [-p] KERNEL INITRD CMDLINE\n");
		return 2;
	}
	kfd = open(argv[0], O_RDONLY);
	ifd = open(argv[1], O_RDONLY);
	if (kfd < 0 || ifd < 0) {
		printf("open %s / %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	t0 = now_ms();
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(argv[2]) + 1, argv[2],
		    flags)) {
		printf("kexec_file_load: %s\n", strerror(errno));
		return 1;
	}
	/* It hashes both images: slow in an emulator (seconds per MB). */
	printf("kexec_file_load: %lu ms\n", (unsigned long)(now_ms() - t0));
	return 0;
}

static int cmd_exec(void)
{
	sync();
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		LINUX_REBOOT_CMD_KEXEC, NULL);
	printf("reboot(LINUX_REBOOT_CMD_KEXEC): %s\n", strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "spin"))
		return cmd_spin(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "virt") &&
	    (!strcmp(argv[2], "on") || !strcmp(argv[2], "off")))
		return cmd_virt(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "load"))
		return cmd_load(argc - 2, argv + 2);
	if (argc == 2 && !strcmp(argv[1], "exec"))
		return cmd_exec();
	fprintf(stderr, "usage: kexec-helper spin DEV | virt on|off | load [-p] KERNEL INITRD CMDLINE | exec\n");
	return 2;
}
