// SPDX-License-Identifier: GPL-2.0
/*
 * Library code that runs inside the guest (64-bit mode). No libc here.
 */
#include "kvm_util.h"

void (*guest_exception_handlers[NR_IDT_VECTORS])(struct ex_regs *);

void __attribute__((noinline))
guest_ucall(uint64_t cmd, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	    const char *file, int line, const char *expr)
{
	struct ucall uc;

	uc.cmd = cmd;
	uc.args[0] = a0;
	uc.args[1] = a1;
	uc.args[2] = a2;
	uc.args[3] = a3;
	uc.file = file;
	uc.expr = expr;
	uc.line = line;
	/* Guest virtual == guest physical, and the stack is below 4 GiB. */
	__asm__ __volatile__("outl %%eax, %%dx"
			     : : "a"((uint32_t)(uintptr_t)&uc), "d"(UCALL_PORT)
			     : "memory");
	/* A failed assertion or a finished guest does not go on. */
	if (cmd == UCALL_ABORT || cmd == UCALL_UNHANDLED || cmd == UCALL_DONE)
		for (;;)
			hlt();
}

/* Called by the exception stubs (guest_stubs.S) with the saved frame. */
void guest_route_exception(struct ex_regs *regs)
{
	void (*handler)(struct ex_regs *) = guest_exception_handlers[regs->vector];

	if (handler) {
		handler(regs);
		return;
	}
	guest_ucall(UCALL_UNHANDLED, regs->vector, regs->rip, regs->error_code,
		    0, __FILE__, __LINE__, 0);
}

/* A guest entry function returned (guest_return_stub). */
void guest_returned(void)
{
	GUEST_DONE();
}
