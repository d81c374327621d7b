/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ucall: guest -> host messages.
 *
 * The guest fills a struct ucall on its stack and writes its address
 * (guest virtual == guest physical, always below 4 GiB) with a 4-byte OUT
 * to UCALL_PORT. The host sees KVM_EXIT_IO, reads the pointer from the PIO
 * data and copies the struct out of guest memory. String pointers (file,
 * expression) point into the test binary's .rodata, which sits at the same
 * address in the host process, so the host reads them directly.
 */
#ifndef SELFTEST_UCALL_H
#define SELFTEST_UCALL_H

#include <stdint.h>

#define UCALL_PORT	0x1000

enum {
	UCALL_NONE,		/* the exit was not a ucall */
	UCALL_SYNC,		/* GUEST_SYNC(arg): args[0] = arg */
	UCALL_DONE,		/* GUEST_DONE() */
	UCALL_ABORT,		/* GUEST_ASSERT*(): args[0..1] = values */
	UCALL_UNHANDLED,	/* unhandled exception: vector, rip, error code */
};

struct ucall {
	uint64_t cmd;
	uint64_t args[4];
	const char *file;
	const char *expr;
	uint64_t line;
};

void guest_ucall(uint64_t cmd, uint64_t a0, uint64_t a1, uint64_t a2,
		 uint64_t a3, const char *file, int line, const char *expr);

#define GUEST_SYNC(arg) \
	guest_ucall(UCALL_SYNC, (uint64_t)(arg), 0, 0, 0, __FILE__, __LINE__, 0)

#define GUEST_DONE() \
	guest_ucall(UCALL_DONE, 0, 0, 0, 0, __FILE__, __LINE__, 0)

#define GUEST_ASSERT(cond) do {						\
	if (!(cond))							\
		guest_ucall(UCALL_ABORT, 0, 0, 0, 0, __FILE__, __LINE__, #cond); \
} while (0)

/* args[2] = 1 tells the host that args[0] and args[1] are the values. */
#define GUEST_ASSERT_EQ(a, b) do {					\
	uint64_t __ga = (uint64_t)(a), __gb = (uint64_t)(b);		\
	if (__ga != __gb)						\
		guest_ucall(UCALL_ABORT, __ga, __gb, 1, 0, __FILE__,	\
			    __LINE__, #a " == " #b);			\
} while (0)

struct vcpu;

/*
 * Host side. get_ucall() decodes the vCPU's current exit: the UCALL_*
 * command, or UCALL_NONE if the exit is not a ucall (uc may be NULL).
 */
uint64_t get_ucall(struct vcpu *vcpu, struct ucall *uc);

/*
 * Run the vCPU and require a ucall exit. A guest assertion or an unhandled
 * exception fails the test with the guest's file, line and values.
 */
uint64_t vcpu_run_ucall(struct vcpu *vcpu, struct ucall *uc);

/* Run and require GUEST_SYNC(arg) / GUEST_DONE(). */
void vcpu_run_expect_sync(struct vcpu *vcpu, uint64_t arg);
void vcpu_run_expect_done(struct vcpu *vcpu);

#endif
