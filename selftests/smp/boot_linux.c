// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run boots the rig's own kernel (the emulated machine's) with a
 * busybox initramfs on the device under test, with one vCPU (then powers
 * off) and with two (then reboots). From inside, the guest's /init
 * (scripts/rig/nested-init.sh) reports what it sees; the host checks it,
 * times its "sleep 1", types a line at it, and checks how the run ends.
 * Bad kernels, too little memory and a missing device must give one clear
 * line and exit 1.
 *
 * It lives with the smp tests, run per device: the Bochs rig runs it in
 * its boot with two CPUs, so that two vCPU threads need not share one
 * (Bochs lets no host interrupt end a guest that spins with IF=0); the
 * QEMU rig in its main boot (RIG_MAIN_SMP_BINS in scripts/rig/config.sh
 * says why). Its files come from the rig's boot cpio (/hvx-run,
 * /guest/{bzImage,vmlinux,initrd}). The kernel
 * format of each boot comes from HVX_BOOT_KERNELS ("bzimage pvh" unless
 * the rig says otherwise): the cases take its words in turn. The Bochs rig
 * says "pvh": a bzImage boot there spends ~9 G emulated instructions
 * decompressing, for guest code hvx runs no differently.
 * "--demo DEV CPUS [bzimage|pvh]" is make demo's harness instead: one boot
 * with the console passed through, a command typed at the shell, poweroff;
 * "--bench" times boots for make bench. For a guest that hangs:
 * HVX_BOOT_ECHO=1 prints its console, HVX_BOOT_LINGER=S waits S more
 * seconds before giving up, HVX_DEMO_CMDS types another workload.
 */
#include <elf.h>
#include <fcntl.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define HVX_RUN		"/hvx-run"
#define BZIMAGE		"/guest/bzImage"
#define VMLINUX		"/guest/vmlinux"
#define INITRD		"/guest/initrd"
#define MEM_MB		192
/* hvx-run's e820 map: RAM but for [0x9f000, 0x100000) */
#define RAM_BYTES	((MEM_MB << 20) - 0x61000ULL)
#define BOOT_TIMEOUT	240	/* seconds; Bochs is slow */
#define TYPED		"typed-by-the-host-42"

struct run {
	pid_t pid;
	int in, out;
	double start;
	char pending[4096];
	size_t len;
	/* The console's last lines, shown if a check fails. */
	char tail[40][160];
	unsigned int tail_next;
	bool echo;
	const char *echo_prefix;	/* before each echoed line */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The kernel file of the @i-th boot: HVX_BOOT_KERNELS' words in turn. */
static const char *boot_kernel(unsigned int i)
{
	const char *list = getenv("HVX_BOOT_KERNELS");
	char words[8][16];
	int n = 0, used;

	if (!list || !*list)
		list = "bzimage pvh";
	while (n < 8 && sscanf(list, "%15s%n", words[n], &used) == 1) {
		list += used;
		n++;
	}
	TEST_ASSERT(n > 0, "HVX_BOOT_KERNELS names no kernel format");
	if (!strcmp(words[i % n], "bzimage"))
		return BZIMAGE;
	TEST_ASSERT(!strcmp(words[i % n], "pvh"),
		    "HVX_BOOT_KERNELS: '%s' is neither bzimage nor pvh", words[i % n]);
	return VMLINUX;
}

/*
 * Extra words for the guest's command line in this rig. QEMU's TCG does
 * not honour the XSETBV intercept of a nested guest (selftests/fpu.c), so
 * under it a guest kernel that turns on XSAVE runs with an XCR0 of 1 and
 * its signal frames break, on KVM as on hvx: noxsave there.
 */
static const char *rig_append(void)
{
	const char *e = getenv("HVX_BOOT_APPEND");

	return e ? e : "";
}

static void spawn(struct run *r, const char *dev, const char *kernel, const char *cpus,
		  const char *mem, const char *append)
{
	int in[2], out[2];

	TEST_ASSERT_OK(pipe2(in, O_CLOEXEC));
	TEST_ASSERT_OK(pipe2(out, O_CLOEXEC));
	memset(r, 0, sizeof(*r));
	r->start = now();
	r->pid = fork();
	TEST_ASSERT(r->pid >= 0, "fork: %s", strerror(errno));
	if (!r->pid) {
		/* Gone with the case, even one the harness kills at its timeout. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(out[1], 2);
		execl(HVX_RUN, HVX_RUN, "--dev", dev, "--kernel", kernel, "--initrd", INITRD,
		      "-m", mem, "-c", cpus, "--append", append, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	r->in = in[1];
	r->out = out[0];
	/* HVX_BOOT_ECHO=1: the console as it comes, to debug a guest that hangs. */
	if (getenv("HVX_BOOT_ECHO")) {
		r->echo = true;
		r->echo_prefix = "#   console: ";
	}
}

static void show_tail(struct run *r)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(r->tail); i++) {
		const char *l = r->tail[(r->tail_next + i) % ARRAY_SIZE(r->tail)];

		if (*l)
			printf("#   console: %s\n", l);
	}
}

/*
 * The next console line starting with @prefix (the rest goes to @rest),
 * with the time it arrived; false at EOF or after @timeout seconds.
 */
static bool wait_line(struct run *r, const char *prefix, char *rest, size_t n,
		      double *when, double timeout)
{
	double deadline = now() + timeout;

	for (;;) {
		char *nl = memchr(r->pending, '\n', r->len);

		while (nl) {
			size_t l = nl - r->pending;

			*nl = 0;
			if (l && r->pending[l - 1] == '\r')
				r->pending[l - 1] = 0;
			if (r->echo)
				printf("%s%s\n", r->echo_prefix ?: "", r->pending);
			snprintf(r->tail[r->tail_next++ % ARRAY_SIZE(r->tail)], 160, "%.159s", r->pending);
			if (!strncmp(r->pending, prefix, strlen(prefix))) {
				if (rest)
					snprintf(rest, n, "%s", r->pending + strlen(prefix));
				if (when)
					*when = now();
				r->len -= l + 1;
				memmove(r->pending, nl + 1, r->len);
				return true;
			}
			r->len -= l + 1;
			memmove(r->pending, nl + 1, r->len);
			nl = memchr(r->pending, '\n', r->len);
		}
		if (r->len == sizeof(r->pending))
			r->len = 0;	/* an endless line: drop it */

		struct pollfd p = { .fd = r->out, .events = POLLIN };
		int left = (int)((deadline - now()) * 1000);
		ssize_t got;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return false;
		got = read(r->out, r->pending + r->len, sizeof(r->pending) - r->len);
		if (got <= 0)
			return false;
		if (r->echo)
			fflush(stdout);
		r->len += got;
	}
}

/* A running hvx-run's vCPU states (it logs them on SIGUSR2), for the log. */
static void log_vcpu_state(struct run *r)
{
	char line[512];

	kill(r->pid, SIGUSR2);
	while (wait_line(r, "hvx-run: vCPU", line, sizeof(line), NULL, 3))
		printf("#   hvx-run: vCPU%s\n", line);
}

/* hvx-run's exit status once it is done (reading its output to the end). */
static int finish(struct run *r, double timeout)
{
	double deadline = now() + timeout;
	int status;

	pid_t done;

	/* To EOF: hvx-run closes its output as it exits. */
	while (wait_line(r, "\x01never", NULL, 0, NULL, deadline - now()))
		;
	while ((done = waitpid(r->pid, &status, WNOHANG)) == 0 && now() < deadline)
		usleep(10000);
	if (done != r->pid) {
		/* Still running: where its vCPUs are, for the log. */
		log_vcpu_state(r);
	}
	close(r->in);
	close(r->out);
	if (done != r->pid) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &status, 0);
		r->pid = 0;
		return -1;
	}
	r->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * A failed check: the console's last lines, the state of each vCPU (which
 * hvx-run logs on SIGUSR2: for a guest that hangs), and hvx-run killed.
 * Left running, it would keep its VM, and with it the CPU's virtualization
 * extensions, from the cases after it (hvx and KVM refuse each other's).
 */
static void abandon(struct run *r)
{
	const char *linger = getenv("HVX_BOOT_LINGER");

	show_tail(r);
	if (r->pid > 0) {
		/* HVX_BOOT_LINGER=S: S more seconds of console (a lockup report). */
		if (linger)
			wait_line(r, "\x01never", NULL, 0, NULL, atoi(linger));
		log_vcpu_state(r);
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
		r->pid = 0;
	}
}

#define CHECK(r, cond, fmt, ...) do {					\
	if (!(cond)) {							\
		abandon(r);						\
		TEST_ASSERT(cond, fmt, ##__VA_ARGS__);			\
	}								\
} while (0)

static void need(const char *path)
{
	if (access(path, R_OK))
		test_skip("%s is missing (the rig's boot cpio)", path);
}

static void need_dev(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		test_skip("%s: %s", dev, strerror(errno));
	close(fd);
}

/* One boot in check mode, every check of the issue, ending with @end. */
static void boot_and_check(const char *dev, const char *kernel, unsigned int cpus,
			   const char *end)
{
	char append[256], line[512], ncpus[8], mem[16];
	double t_spawn, t_sleep, t_woke, t_init, slept;
	struct run r;
	int status;

	need(HVX_RUN);
	need(kernel);
	need(INITRD);
	need_dev(dev);
	snprintf(append, sizeof(append), "hvxrun.mode=check hvxrun.end=%s %s", end,
		 rig_append());
	snprintf(ncpus, sizeof(ncpus), "%u", cpus);
	snprintf(mem, sizeof(mem), "%uM", MEM_MB);
	spawn(&r, dev, kernel, ncpus, mem, append);

	CHECK(&r, wait_line(&r, "@@ INIT ", NULL, 0, &t_init, BOOT_TIMEOUT),
	      "the guest never ran /init");
	printf("# %s %s -c %u: /init %.1f s after hvx-run started\n", dev, kernel, cpus,
	       t_init - r.start);
	CHECK(&r, wait_line(&r, "@@ RAM ", line, sizeof(line), NULL, 30), "no RAM line");
	CHECK(&r, strtoull(line, NULL, 10) == RAM_BYTES, "guest RAM %s, expected %llu",
	      line, RAM_BYTES);
	CHECK(&r, wait_line(&r, "@@ CPUS ", line, sizeof(line), NULL, 30), "no CPUS line");
	CHECK(&r, strtoul(line, NULL, 10) == cpus, "guest has %s CPUs, expected %u", line, cpus);
	CHECK(&r, wait_line(&r, "@@ CMDLINE ", line, sizeof(line), NULL, 30),
	      "no CMDLINE line");
	CHECK(&r, strstr(line, append) != NULL, "guest command line '%s' lacks '%s'", line,
	      append);

	/*
	 * "sleep 0" between SPAWN and SLEEP costs what starting a process
	 * does, which "sleep 1" between SLEEP and WOKE costs too: under
	 * Bochs ~0.05-0.1 s in a nested guest. The rest is the sleep.
	 */
	CHECK(&r, wait_line(&r, "@@ SPAWN", NULL, 0, &t_spawn, 30), "no SPAWN line");
	CHECK(&r, wait_line(&r, "@@ SLEEP", NULL, 0, &t_sleep, 30), "no SLEEP line");
	CHECK(&r, wait_line(&r, "@@ WOKE", NULL, 0, &t_woke, 30), "no WOKE line");
	slept = (t_woke - t_sleep) - (t_sleep - t_spawn);
	printf("# sleep 1 took %.3f s of host time, starting a process %.3f s of it\n",
	       t_woke - t_sleep, t_sleep - t_spawn);
	CHECK(&r, slept >= 0.95 && slept <= 1.05, "sleep 1 slept %.3f s of host time", slept);

	CHECK(&r, wait_line(&r, "@@ TYPE", NULL, 0, NULL, 30), "no TYPE line");
	TEST_ASSERT_EQ(write(r.in, TYPED "\n", strlen(TYPED) + 1), strlen(TYPED) + 1);
	CHECK(&r, wait_line(&r, "@@ GOT ", line, sizeof(line), NULL, 30),
	      "the guest did not read the typed line");
	CHECK(&r, !strcmp(line, TYPED), "the guest read '%s'", line);

	status = finish(&r, 60);
	CHECK(&r, status == (strcmp(end, "reboot") ? 0 : 2),
	      "hvx-run exit status %d after %s", status, end);
}

static void one_vcpu_poweroff(void)
{
	boot_and_check(test_dev_path, boot_kernel(0), 1, "poweroff");
}

static void two_vcpus_reboot(void)
{
	boot_and_check(test_dev_path, boot_kernel(1), 2, "reboot");
}

/* hvx-run on @dev with @kernel and @mem must fail: exit 1, a line naming @what. */
static void expect_error(const char *dev, const char *kernel, const char *mem,
			 const char *what)
{
	char line[512];
	struct run r;
	int status;

	spawn(&r, dev, kernel, "1", mem, "");
	CHECK(&r, wait_line(&r, "hvx-run: ", line, sizeof(line), NULL, 30),
	      "no error line for %s", kernel);
	CHECK(&r, strstr(line, what) != NULL, "error '%s' does not say '%s'", line, what);
	status = finish(&r, 30);
	CHECK(&r, status == 1, "exit status %d for %s", status, kernel);
}

/* The first @len bytes of @src as @dst, with byte @at set to @val if @at >= 0. */
static void copy_file(const char *src, const char *dst, size_t len, long at, uint8_t val)
{
	static char buf[1 << 20];
	int in = open(src, O_RDONLY), out;
	ssize_t n;

	TEST_ASSERT(in >= 0, "open %s: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	TEST_ASSERT(out >= 0, "open %s: %s", dst, strerror(errno));
	while (len && (n = read(in, buf, len < sizeof(buf) ? len : sizeof(buf))) > 0) {
		if (at >= 0 && at < n)
			buf[at] = val;
		at -= n;
		TEST_ASSERT_EQ(write(out, buf, n), n);
		len -= n;
	}
	close(in);
	close(out);
}

static void bad_kernels_and_memory(void)
{
	static const char trunc[] = "/tmp/bzImage.truncated", arm[] = "/tmp/elf.aarch64";

	need(HVX_RUN);
	need(BZIMAGE);
	need(VMLINUX);
	need_dev(test_dev_path);
	copy_file(BZIMAGE, trunc, 1 << 20, -1, 0);
	/* e_machine (offset 18) of a static ELF executable: EM_AARCH64 */
	copy_file(HVX_RUN, arm, ~(size_t)0, 18, 183);

	expect_error(test_dev_path, trunc, "192M", "truncated bzImage");
	expect_error(test_dev_path, INITRD, "192M", "not a Linux kernel");
	expect_error(test_dev_path, HVX_RUN, "192M", "no PVH entry");
	expect_error(test_dev_path, arm, "192M", "not an x86-64 kernel");
	expect_error(test_dev_path, BZIMAGE, "1M", "too little memory");
	expect_error("/dev/no-such-hypervisor", VMLINUX, "192M",
		     "/dev/no-such-hypervisor: No such file or directory");
	unlink(trunc);
	unlink(arm);
}

/*
 * A PVH "kernel" of a few instructions: an ELF executable whose one
 * segment, at 1 MiB, holds @code, and whose note names it the PVH entry
 * (XEN_ELFNOTE_PHYS32_ENTRY, 18). It starts in flat 32-bit protected mode
 * with paging off, as the PVH ABI says.
 */
static void write_pvh_elf(const char *path, const uint8_t *code, size_t len)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[2];
		Elf64_Nhdr nh;
		char name[4];
		uint32_t entry;
	} hdr = {
		.eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
				     ELFDATA2LSB, EV_CURRENT },
			.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
			.e_entry = 0x100000, .e_phoff = offsetof(typeof(hdr), ph),
			.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
			.e_phnum = 2,
		},
		.ph = {
			{ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = 0x1000,
			  .p_vaddr = 0x100000, .p_paddr = 0x100000, .p_filesz = len,
			  .p_memsz = len, .p_align = 0x1000 },
			{ .p_type = PT_NOTE, .p_offset = offsetof(typeof(hdr), nh),
			  .p_filesz = sizeof(Elf64_Nhdr) + 8, .p_align = 4 },
		},
		.nh = { .n_namesz = 4, .n_descsz = 4, .n_type = 18 },
		.name = "Xen",
		.entry = 0x100000,
	};
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	TEST_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	TEST_ASSERT_EQ(pwrite(fd, &hdr, sizeof(hdr), 0), sizeof(hdr));
	TEST_ASSERT_EQ(pwrite(fd, code, len, 0x1000), len);
	close(fd);
}

/* hvx-run on @kernel with two vCPUs must end with @status and a line naming @what. */
static void expect_end(const char *kernel, int status, const char *what)
{
	char line[512];
	struct run r;
	int got;

	spawn(&r, test_dev_path, kernel, "2", "16M", "");
	/* A register dump may come first. */
	do {
		CHECK(&r, wait_line(&r, "hvx-run: ", line, sizeof(line), NULL, 30),
		      "no line of hvx-run's says '%s'", what);
	} while (!strstr(line, what));
	got = finish(&r, 30);
	CHECK(&r, got == status, "exit status %d for %s, expected %d", got, kernel, status);
}

/*
 * A guest panic (a write of PVPANIC_PANICKED to the pvpanic port, as Linux's
 * pvpanic driver does) and a triple fault end the run with status 4 and 3,
 * every vCPU thread stopped: the AP is still waiting for its SIPI.
 */
static void panic_and_triple_fault_exits(void)
{
	static const char panic_elf[] = "/tmp/pvh-panic.elf", triple_elf[] = "/tmp/pvh-triple.elf";
	static const uint8_t panic_code[] = {
		0xb0, 0x01,			/* mov $1, %al (PVPANIC_PANICKED) */
		0x66, 0xba, 0x05, 0x05,		/* mov $0x505, %dx */
		0xee,				/* out %al, (%dx) */
		0xf4, 0xeb, 0xfd,		/* 1: hlt; jmp 1b */
	};
	/* PVH gives no stack: the IDT descriptor sits after the code. */
	static const uint8_t triple_code[24] = {
		0x0f, 0x01, 0x1d, 0x0b, 0x00, 0x10, 0x00, /* lidt 0x10000b: limit 0 */
		0x0f, 0x0b,			/* ud2: #UD, #GP, #DF, shutdown */
		0xeb, 0xfe,			/* 1: jmp 1b (never reached) */
		/* 0x10000b: limit 0, base 0 */
	};

	need(HVX_RUN);
	need(INITRD);
	need_dev(test_dev_path);
	write_pvh_elf(panic_elf, panic_code, sizeof(panic_code));
	write_pvh_elf(triple_elf, triple_code, sizeof(triple_code));
	expect_end(panic_elf, 4, "the guest kernel panicked (pvpanic)");
	expect_end(triple_elf, 3, "triple fault (KVM_EXIT_SHUTDOWN)");
	unlink(panic_elf);
	unlink(triple_elf);
}

/* make demo: the console, a command at the shell, poweroff. */
static int demo(const char *dev, const char *kernel, unsigned int cpus)
{
	char append[256], ncpus[8];
	double t_init;
	struct run r;
	int status;
	const char *cmds =
		"echo; uname -a; echo \"$(grep -c ^processor /proc/cpuinfo) CPUs\"; "
		"grep MemTotal /proc/meminfo\n"
		"poweroff -f\n";

	snprintf(append, sizeof(append), "hvxrun.mode=demo %s", rig_append());
	snprintf(ncpus, sizeof(ncpus), "%u", cpus);
	printf("$ hvx-run --dev %s --kernel %s --initrd %s -m 192M -c %u --append '%s'\n",
	       dev, kernel, INITRD, cpus, append);
	spawn(&r, dev, kernel, ncpus, "192M", append);
	r.echo = true;
	if (!wait_line(&r, "@@ INIT ", NULL, 0, &t_init, BOOT_TIMEOUT) ||
	    !wait_line(&r, "@@ SHELL", NULL, 0, NULL, 60)) {
		printf("demo: the guest did not reach its shell\n");
		return 1;
	}
	/* Let the shell print its prompt, then type. */
	usleep(500000);
	/* HVX_DEMO_CMDS: other lines to type (a workload to debug with). */
	if (getenv("HVX_DEMO_CMDS"))
		cmds = getenv("HVX_DEMO_CMDS");
	if (write(r.in, cmds, strlen(cmds)) != (ssize_t)strlen(cmds))
		return 1;
	status = finish(&r, 120);
	printf("\ndemo: %s, %u vCPU(s): /init %.2f s after hvx-run started; hvx-run exit status %d (%s)\n",
	       dev, cpus, t_init - r.start, status, status ? "not a poweroff" : "poweroff");
	return status ? 1 : 0;
}

/*
 * make bench: hvx-run's boot time, started to the guest's /init and to its
 * poweroff (the guest powers off at once), on /dev/kvm then /dev/hvx, per
 * kernel format of HVX_BENCH_KERNELS ("bzimage pvh" unless set). One vCPU:
 * the bench boot of the QEMU rig has one CPU. Rows as hvx-bench prints
 * them, in seconds; scripts/rig/bench-all.sh takes the ratios.
 */
static int bench(void)
{
	static const char *const devs[2] = { "/dev/kvm", "/dev/hvx" };
	const char *list = getenv("HVX_BENCH_KERNELS");
	double to_init[2], to_off[2], t;
	char append[256], fmt[16], name[64];
	int used, d, status;
	struct run r;

	if (!list || !*list)
		list = "bzimage pvh";
	snprintf(append, sizeof(append), "hvxrun.mode=bench %s", rig_append());
	printf("hvx-run boot: hvx-run -m 192M -c 1 --append '%s'\n", append);
	while (sscanf(list, "%15s%n", fmt, &used) == 1) {
		const char *kernel = strcmp(fmt, "pvh") ? BZIMAGE : VMLINUX;

		list += used;
		for (d = 0; d < 2; d++) {
			spawn(&r, devs[d], kernel, "1", "192M", append);
			if (!wait_line(&r, "@@ INIT ", NULL, 0, &t, BOOT_TIMEOUT)) {
				show_tail(&r);
				printf("hvx-run boot: %s %s never reached /init\n", devs[d], kernel);
				finish(&r, 10);
				return 1;
			}
			to_init[d] = t - r.start;
			status = finish(&r, 60);
			to_off[d] = now() - r.start;
			if (status) {
				show_tail(&r);
				printf("hvx-run boot: %s %s: exit status %d, not a poweroff\n",
				       devs[d], kernel, status);
				return 1;
			}
		}
		snprintf(name, sizeof(name), "hvx-run %s: start to /init",
			 strcmp(fmt, "pvh") ? "bzImage" : "PVH");
		printf("%-36s %9.2f  s %9.2f  s %9.2f\n", name, to_init[0], to_init[1],
		       to_init[1] / to_init[0]);
		snprintf(name, sizeof(name), "hvx-run %s: start to poweroff",
			 strcmp(fmt, "pvh") ? "bzImage" : "PVH");
		printf("%-36s %9.2f  s %9.2f  s %9.2f\n", name, to_off[0], to_off[1],
		       to_off[1] / to_off[0]);
	}
	return 0;
}

/* Seconds per case: boots take ~12 s in the rigs, up to BOOT_TIMEOUT. */
#define BOOT_CASE_TIMEOUT	(BOOT_TIMEOUT + 60)

static const struct test_case cases[] = {
	TEST_CASE_TIMEOUT(one_vcpu_poweroff,
		  "1 vCPU: RAM, CPUs, cmdline, sleep 1 +-5%, typed input; poweroff exits 0",
		  BOOT_CASE_TIMEOUT),
	TEST_CASE_TIMEOUT(two_vcpus_reboot,
		  "2 vCPUs: the same checks; reboot exits 2", BOOT_CASE_TIMEOUT),
	TEST_CASE_TIMEOUT(panic_and_triple_fault_exits,
		  "2 vCPUs: a pvpanic write exits 4, a triple fault exits 3, with one line each",
		  120),
	TEST_CASE_TIMEOUT(bad_kernels_and_memory,
		  "a truncated bzImage, a non-kernel, an ELF without PVH or for arm64, -m 1M, no device: one line, exit 1",
		  120),
};

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--demo")) {
		setvbuf(stdout, NULL, _IONBF, 0);
		return demo(argc > 2 ? argv[2] : "/dev/hvx",
			    argc > 4 && !strcmp(argv[4], "pvh") ? VMLINUX : BZIMAGE,
			    argc > 3 ? atoi(argv[3]) : 2);
	}
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		return bench();
	}
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
