// SPDX-License-Identifier: GPL-2.0
/*
 * TAP harness: every case runs in a forked child, so a failed assertion,
 * a crash or a hang (per-case alarm in the parent) fails that case only.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

#define DEFAULT_TIMEOUT	20
/*
 * Seconds all cases of one binary may take (the rig kills a binary after
 * 120 s by default): once spent, the remaining cases are reported "not ok"
 * without running, so the TAP output stays complete. SELFTEST_BUDGET=N
 * overrides it.
 */
#define DEFAULT_BUDGET	100

const char *test_dev_path = "/dev/hvx";

/* Shared with the children: why a case was skipped. */
static char *skip_reason;
#define SKIP_REASON_LEN	256

const char *errname(int err)
{
	const char *s = strerrorname_np(err);

	return s ? s : "E?";
}

void test_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void __test_fail(const char *file, int line, const char *expr,
		 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (expr)
		printf("# %s:%d: assertion failed: %s\n", file, line, expr);
	else
		printf("# %s:%d: failure\n", file, line);
	/* A message may span lines: keep each a TAP diagnostic. */
	for (char *p = msg, *nl; *p; p = nl) {
		nl = strchrnul(p, '\n');
		printf("#   %.*s\n", (int)(nl - p), p);
		if (*nl)
			nl++;
	}
	fflush(stdout);
	_exit(1);
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (skip_reason)
		vsnprintf(skip_reason, SKIP_REASON_LEN, fmt, ap);
	va_end(ap);
	fflush(stdout);
	_exit(TEST_EXIT_SKIP);
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

/* Run one case in a child; true if it passed (or skipped). */
static bool run_case(int num, const struct test_case *tc)
{
	unsigned int timeout = tc->timeout ? tc->timeout : DEFAULT_TIMEOUT;
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	const char *env = getenv("HVX_TEST_TIMEOUT");
	unsigned long env_timeout = env ? strtoul(env, NULL, 0) : 0;
	int status;
	pid_t pid, w;

	/* Longer runs than the rigs' (the full IPI storm): one limit for all. */
	if (env_timeout)
		timeout = env_timeout;

	skip_reason[0] = 0;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("not ok %d - %s\n# fork: %s\n", num, tc->desc, strerror(errno));
		return false;
	}
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		tc->fn();
		fflush(stdout);
		_exit(0);
	}

	timed_out = 0;
	sigaction(SIGALRM, &sa, NULL);
	alarm(timeout);
	do {
		w = waitpid(pid, &status, 0);
		if (w < 0 && timed_out) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
	} while (w < 0 && errno == EINTR);
	alarm(0);

	if (timed_out) {
		printf("not ok %d - %s\n# timed out after %u s\n", num, tc->desc, timeout);
		return false;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d - %s\n", num, tc->desc);
		return true;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_EXIT_SKIP) {
		printf("ok %d - %s # SKIP %s\n", num, tc->desc, skip_reason);
		return true;
	}
	printf("not ok %d - %s\n", num, tc->desc);
	if (WIFSIGNALED(status))
		printf("# killed by signal %d (%s)\n", WTERMSIG(status),
		       strsignal(WTERMSIG(status)));
	else
		printf("# exit status %d\n", WEXITSTATUS(status));
	return false;
}

int tap_main(int argc, char **argv, const struct test_case *cases, int n)
{
	const char *filter = NULL, *budget_env = getenv("SELFTEST_BUDGET");
	long budget = budget_env ? atol(budget_env) : DEFAULT_BUDGET;
	int failed = 0, planned = 0, num = 0;
	struct timespec start, now;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		test_dev_path = argv[1];
	if (argc > 2)
		filter = argv[2];

	skip_reason = mmap(NULL, SKIP_REASON_LEN, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (skip_reason == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	for (int i = 0; i < n; i++)
		if (!filter || strstr(cases[i].name, filter))
			planned++;

	printf("TAP version 13\n");
	printf("1..%d\n", planned);
	printf("# %s on %s\n", argv[0], test_dev_path);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (int i = 0; i < n; i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= budget) {
			printf("not ok %d - %s\n# not run: the binary's %ld s budget is spent\n",
			       ++num, cases[i].desc, budget);
			failed++;
			continue;
		}
		if (!run_case(++num, &cases[i]))
			failed++;
	}
	printf("# %d passed, %d failed\n", planned - failed, failed);
	return failed ? 1 : 0;
}
