/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host-side test harness: TAP output, one forked child per test case,
 * assertions that print a diagnostic and fail the case.
 *
 *   static const struct test_case cases[] = {
 *           TEST_CASE(api_version, "KVM_GET_API_VERSION returns 12"),
 *           ...
 *   };
 *   int main(int argc, char **argv) { return tap_main(argc, argv, cases, ARRAY_SIZE(cases)); }
 *
 * argv[1] is the device under test (default /dev/hvx); an optional argv[2]
 * runs only the cases whose name contains it.
 */
#ifndef SELFTEST_TEST_UTIL_H
#define SELFTEST_TEST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE	4096UL

struct test_case {
	const char *name;
	const char *desc;
	void (*fn)(void);
	unsigned int timeout;	/* seconds; 0: the default (20) */
};

#define TEST_CASE(fn, desc)		{ #fn, desc, fn, 0 }
#define TEST_CASE_TIMEOUT(fn, desc, t)	{ #fn, desc, fn, t }

/* Exit status of a child that skipped its case. */
#define TEST_EXIT_SKIP	77

/* The device under test (argv[1]), e.g. "/dev/kvm" or "/dev/hvx". */
extern const char *test_dev_path;

int tap_main(int argc, char **argv, const struct test_case *cases, int n);

/* Print a TAP diagnostic line ("# ..."). */
void test_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void __test_fail(const char *file, int line, const char *expr,
		 const char *fmt, ...)
	__attribute__((format(printf, 4, 5), noreturn));

/* End the current case as skipped ("ok N - desc # SKIP reason"). */
void test_skip(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define TEST_FAIL(fmt, ...) \
	__test_fail(__FILE__, __LINE__, NULL, fmt, ##__VA_ARGS__)

#define TEST_ASSERT(cond, fmt, ...) do {				\
	if (!(cond))							\
		__test_fail(__FILE__, __LINE__, #cond, fmt, ##__VA_ARGS__); \
} while (0)

#define TEST_ASSERT_EQ(a, b) do {					\
	unsigned long long __ta = (unsigned long long)(a);		\
	unsigned long long __tb = (unsigned long long)(b);		\
	if (__ta != __tb)						\
		__test_fail(__FILE__, __LINE__, #a " == " #b,		\
			    "0x%llx (%lld) != 0x%llx (%lld)",		\
			    __ta, (long long)__ta, __tb, (long long)__tb); \
} while (0)

/* @ret must be -1 with errno == @err (the usual ioctl failure). */
#define TEST_ASSERT_ERRNO(ret, err) do {				\
	long __r = (long)(ret);						\
	int __e = errno;						\
	if (__r != -1 || __e != (err))					\
		__test_fail(__FILE__, __LINE__, #ret,			\
			    "expected -1 errno %s, got %ld errno %s",	\
			    errname(err), __r, __r == -1 ? errname(__e) : "-"); \
} while (0)

/* @ret must be >= 0 (success). */
#define TEST_ASSERT_OK(ret) do {					\
	long __r = (long)(ret);						\
	int __e = errno;						\
	if (__r < 0)							\
		__test_fail(__FILE__, __LINE__, #ret,			\
			    "failed: %ld errno %s (%s)", __r,		\
			    errname(__e), strerror(__e));		\
} while (0)

/* "EINVAL" etc. */
const char *errname(int err);

#endif
