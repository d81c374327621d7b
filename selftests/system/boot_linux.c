// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run boots the rig's own kernel (the emulated machine's) with a
 * busybox initramfs, on /dev/kvm and on /dev/hvx, as a bzImage and as a
 * vmlinux through PVH, with one and two vCPUs. From inside, the guest's
 * /init (scripts/rig/nested-init.sh) reports what it sees; the host checks
 * it, times its "sleep 1", types a line at it, and checks how the run ends.
 * Bad kernels and too little memory must give one clear line and exit 1.
 *
 * Runs without argument in the rig's system phase; its files come from
 * the rig's boot cpio (/hvx-run, /guest/{bzImage,vmlinux,initrd}).
 * "--demo" is make demo's harness instead: the same boot with the console
 * passed through, a command typed at the shell, then poweroff.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
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
	char tail[16][160];
	unsigned int tail_next;
	bool echo;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
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
}

static void show_tail(struct run *r)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		const char *l = r->tail[(r->tail_next + i) % 16];

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
				printf("%s\n", r->pending);
			snprintf(r->tail[r->tail_next++ % 16], 160, "%.159s", r->pending);
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
	close(r->in);
	close(r->out);
	if (done != r->pid) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define CHECK(r, cond, fmt, ...) do {					\
	if (!(cond)) {							\
		show_tail(r);						\
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
	double t_sleep, t_woke, t_init;
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

	CHECK(&r, wait_line(&r, "@@ SLEEP", NULL, 0, &t_sleep, 30), "no SLEEP line");
	CHECK(&r, wait_line(&r, "@@ WOKE", NULL, 0, &t_woke, 30), "no WOKE line");
	printf("# sleep 1 took %.3f s of host time\n", t_woke - t_sleep);
	CHECK(&r, t_woke - t_sleep >= 0.95 && t_woke - t_sleep <= 1.05,
	      "sleep 1 took %.3f s of host time", t_woke - t_sleep);

	CHECK(&r, wait_line(&r, "@@ TYPE", NULL, 0, NULL, 30), "no TYPE line");
	TEST_ASSERT_EQ(write(r.in, TYPED "\n", strlen(TYPED) + 1), strlen(TYPED) + 1);
	CHECK(&r, wait_line(&r, "@@ GOT ", line, sizeof(line), NULL, 30),
	      "the guest did not read the typed line");
	CHECK(&r, !strcmp(line, TYPED), "the guest read '%s'", line);

	status = finish(&r, 60);
	CHECK(&r, status == (strcmp(end, "reboot") ? 0 : 2),
	      "hvx-run exit status %d after %s", status, end);
}

static void kvm_bzimage_1cpu_poweroff(void)
{
	boot_and_check("/dev/kvm", BZIMAGE, 1, "poweroff");
}

static void kvm_pvh_2cpus_reboot(void)
{
	boot_and_check("/dev/kvm", VMLINUX, 2, "reboot");
}

static void hvx_bzimage_1cpu_poweroff(void)
{
	boot_and_check("/dev/hvx", BZIMAGE, 1, "poweroff");
}

static void hvx_pvh_2cpus_reboot(void)
{
	boot_and_check("/dev/hvx", VMLINUX, 2, "reboot");
}

static void hvx_bzimage_2cpus_poweroff(void)
{
	boot_and_check("/dev/hvx", BZIMAGE, 2, "poweroff");
}

/* hvx-run with @kernel and @mem must fail with exit 1 and a line naming @what. */
static void expect_error(const char *kernel, const char *mem, const char *what)
{
	char line[512];
	struct run r;
	int status;

	spawn(&r, "/dev/hvx", kernel, "1", mem, "");
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
	copy_file(BZIMAGE, trunc, 1 << 20, -1, 0);
	/* e_machine (offset 18) of a static ELF executable: EM_AARCH64 */
	copy_file(HVX_RUN, arm, ~(size_t)0, 18, 183);

	expect_error(trunc, "192M", "truncated bzImage");
	expect_error(INITRD, "192M", "not a Linux kernel");
	expect_error(HVX_RUN, "192M", "no PVH entry");
	expect_error(arm, "192M", "not an x86-64 kernel");
	expect_error(BZIMAGE, "1M", "too little memory");
	unlink(trunc);
	unlink(arm);
}

/* make demo: the console, a command at the shell, poweroff. */
static int demo(const char *dev, const char *kernel, unsigned int cpus)
{
	char append[256], ncpus[8];
	double t_init;
	struct run r;
	int status;
	static const char cmds[] =
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
	if (write(r.in, cmds, strlen(cmds)) != (ssize_t)strlen(cmds))
		return 1;
	status = finish(&r, 120);
	printf("\ndemo: %s, %u vCPU(s): /init %.2f s after hvx-run started; hvx-run exit status %d (%s)\n",
	       dev, cpus, t_init - r.start, status, status ? "not a poweroff" : "poweroff");
	return status ? 1 : 0;
}

static const struct test_case cases[] = {
	TEST_CASE(kvm_bzimage_1cpu_poweroff,
		  "kvm: bzImage, 1 vCPU: RAM, CPUs, cmdline, sleep 1 +-5%, input; poweroff exits 0"),
	TEST_CASE(kvm_pvh_2cpus_reboot,
		  "kvm: PVH vmlinux, 2 vCPUs: the same checks; reboot exits 2"),
	TEST_CASE(hvx_bzimage_1cpu_poweroff,
		  "hvx: bzImage, 1 vCPU: RAM, CPUs, cmdline, sleep 1 +-5%, input; poweroff exits 0"),
	TEST_CASE(hvx_pvh_2cpus_reboot,
		  "hvx: PVH vmlinux, 2 vCPUs: the same checks; reboot exits 2"),
	TEST_CASE(hvx_bzimage_2cpus_poweroff,
		  "hvx: bzImage, 2 vCPUs: the same checks; poweroff exits 0"),
	TEST_CASE(bad_kernels_and_memory,
		  "a truncated bzImage, a non-kernel, an ELF without PVH or for arm64, -m 1M: one line, exit 1"),
};

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--demo")) {
		setvbuf(stdout, NULL, _IONBF, 0);
		return demo(argc > 2 ? argv[2] : "/dev/hvx", BZIMAGE,
			    argc > 3 ? atoi(argv[3]) : 2);
	}
	return tap_main(argc, argv, cases, ARRAY_SIZE(cases));
}
