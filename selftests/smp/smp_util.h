/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the selftests that need two host CPUs (selftests/smp/):
 * pinning threads to a CPU, finding where a thread is, waiting for the
 * guest with a deadline. The rig runs these binaries in a boot with two
 * CPUs; with fewer online, every case skips.
 */
#ifndef SELFTEST_SMP_UTIL_H
#define SELFTEST_SMP_UTIL_H

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

/* Skip the case unless at least two CPUs are online. */
static inline void require_two_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 2)
		test_skip("fewer than 2 CPUs online (%ld)", n);
}

/*
 * Allow thread @tid (0: the caller) only on @cpu. The kernel moves a
 * running or runnable thread before sched_setaffinity() returns, so the
 * caller itself is running on @cpu afterwards.
 */
static inline void pin_thread(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	TEST_ASSERT(!sched_setaffinity(tid, sizeof(set), &set),
		    "sched_setaffinity(%d, CPU %d): %s", tid, cpu, strerror(errno));
}

/* Pin the caller to @cpu and check that it now runs there. */
static inline void pin_self(int cpu)
{
	pin_thread(0, cpu);
	TEST_ASSERT_EQ(sched_getcpu(), cpu);
}

/*
 * The CPU thread @tid of this process runs on, or last ran on: field 39
 * ("processor") of /proc/self/task/TID/stat.
 */
static inline int thread_cpu(pid_t tid)
{
	char path[64], buf[1024], *p;
	int fd, field, n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	TEST_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	TEST_ASSERT(n > 0, "read %s: %s", path, strerror(errno));
	buf[n] = 0;
	/* Field 2 is "(comm)" and may hold spaces; field 3 follows ") ". */
	p = strrchr(buf, ')');
	TEST_ASSERT(p, "no ')' in %s", path);
	for (field = 2; field < 39 && p; field++)
		p = strchr(p + 1, ' ');
	TEST_ASSERT(p, "%s has fewer than 39 fields", path);
	return atoi(p + 1);
}

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Wait until *@p == @want (@equal) or *@p != @want (!@equal), a value the
 * guest or another thread writes, yielding the CPU meanwhile; fail after
 * @secs seconds. Returns the value seen.
 */
static inline uint64_t __wait_for(volatile uint64_t *p, uint64_t want,
				  bool equal, unsigned int secs,
				  const char *what, const char *file, int line)
{
	uint64_t end = now_ns() + secs * 1000000000ULL, v;

	while (((v = *p) == want) != equal) {
		if (now_ns() > end)
			__test_fail(file, line, NULL,
				    "%s: 0x%llx after %u s (waiting for %s0x%llx)",
				    what, (unsigned long long)v, secs,
				    equal ? "" : "anything but ",
				    (unsigned long long)want);
		sched_yield();
	}
	return v;
}

/* Wait (at most 5 s) until *p == want. */
#define wait_for_value(p, want, what) \
	__wait_for(p, want, true, 5, what, __FILE__, __LINE__)
/* Wait (at most 5 s) until *p != old; returns the new value. */
#define wait_for_change(p, old, what) \
	__wait_for(p, old, false, 5, what, __FILE__, __LINE__)

#endif
