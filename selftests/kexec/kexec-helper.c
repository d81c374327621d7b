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
 *   kexec-helper svme on|off
 *       Reads EFER (/dev/cpu/N/msr, msr.ko) on every online CPU; exits 0
 *       iff EFER.SVME is set (on) / clear (off) on all of them. Exit 4: not
 *       an AMD CPU (VMX state is not readable from userspace).
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
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define MSR_EFER	0xc0000080
#define EFER_SVME	(1ULL << 12)

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

static int cmd_svme(const char *want)
{
	int on = !strcmp(want, "on"), bad = 0, n = 0;
	char path[64];

	if (host_is_intel()) {
		printf("not an AMD CPU: EFER.SVME says nothing\n");
		return 4;
	}
	for (int cpu = 0; cpu < 4096; cpu++) {
		uint64_t efer;
		int fd;

		snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;	/* no such CPU (or offline) */
			printf("open %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (pread(fd, &efer, 8, MSR_EFER) != 8) {
			printf("read EFER of CPU %d: %s\n", cpu, strerror(errno));
			return 1;
		}
		close(fd);
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

static int cmd_load(int argc, char **argv)
{
	unsigned long flags = 0;
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
	if (syscall(SYS_kexec_file_load, kfd, ifd, strlen(argv[2]) + 1, argv[2],
		    flags)) {
		printf("kexec_file_load: %s\n", strerror(errno));
		return 1;
	}
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
	if (argc == 3 && !strcmp(argv[1], "svme"))
		return cmd_svme(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "load"))
		return cmd_load(argc - 2, argv + 2);
	if (argc == 2 && !strcmp(argv[1], "exec"))
		return cmd_exec();
	fprintf(stderr, "usage: kexec-helper spin DEV | svme on|off | load [-p] KERNEL INITRD CMDLINE | exec\n");
	return 2;
}
