/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest exception and interrupt entry: one stub per vector (all 256)
 * pushes a dummy error code (if the CPU pushed none) and the vector, then the common path saves the GPRs
 * as struct ex_regs (processor.h) and calls guest_route_exception().
 */
	.text
	.code64

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.align 16
guest_exception_common:
	push %rax
	push %rcx
	push %rdx
	push %rbx
	push %rbp
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	/* RSP is 16-byte aligned here (CPU frame 40 + 2 + 15 pushes). */
	call guest_route_exception
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rbp
	pop %rbx
	pop %rdx
	pop %rcx
	pop %rax
	add $16, %rsp		/* vector, error code */
	iretq

	.macro vector_stub v
	.align 16
guest_exception_stub_\v:
	.if !HAS_ERR(\v)
	pushq $0
	.endif
	pushq $\v
	jmp guest_exception_common
	.endm

	.altmacro
	.set v, 0
	.rept 256
	vector_stub %v
	.set v, v + 1
	.endr

	.macro stub_addr v
	.quad guest_exception_stub_\v
	.endm

	.section .rodata
	.align 8
	.globl guest_exception_stubs
guest_exception_stubs:
	.set v, 0
	.rept 256
	stub_addr %v
	.set v, v + 1
	.endr

/*
 * Return address of a guest entry function (vcpu_set_entry): returning
 * from it is GUEST_DONE().
 */
	.text
	.globl guest_return_stub
guest_return_stub:
	and $-16, %rsp
	call guest_returned
1:	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
