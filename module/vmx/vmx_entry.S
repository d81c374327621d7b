/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMLAUNCH/VMRESUME with every guest GPR loaded (SDM Vol 3 ch. 26-27).
 * VMX saves and restores only RSP and RIP of the host (from the VMCS), so
 * the other host registers live on the stack across the guest's run and
 * every guest GPR but RSP (a VMCS field) is stored by hand at the exit.
 * Called with interrupts off and the vCPU's VMCS current.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>
#include <asm/unwind_hints.h>

#include "entry_gprs.S"

.text

/*
 * int __hvx_vmx_vcpu_run(u64 *regs, bool launched, unsigned long host_rsp_field):
 * 0 after an exit, 1 on VMfail. The HOST_RSP field encoding comes from C
 * (<asm/vmx.h> is not usable from assembly).
 */
SYM_FUNC_START(__hvx_vmx_vcpu_run)
	push %rbp
	mov  %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rdi		/* 8(%rsp): guest GPR array */
	push %rsi		/* 0(%rsp): launched */

	/* The exit lands at __hvx_vmx_exit with exactly this RSP. */
	vmwrite %rsp, %rdx

	/* Decide VMLAUNCH or VMRESUME now: the MOVs below keep the flags. */
	testb $1, (%rsp)

	mov  %rdi, %rax
	LOAD_GUEST_GPRS %rax
	mov  GPR(RSI)(%rax), %rsi
	mov  GPR(RAX)(%rax), %rax

	/* The exit below continues with this stack (for objtool). */
	UNWIND_HINT_SAVE
	jnz  .Lresume
	vmlaunch
	jmp  .Lfail
.Lresume:
	vmresume
.Lfail:
	/* VMfailInvalid/VMfailValid: the guest never ran. */
	push %rax
	mov  $1, %eax
	jmp  .Lsave

SYM_INNER_LABEL(__hvx_vmx_exit, SYM_L_GLOBAL)
	UNWIND_HINT_RESTORE
	/* Its address is taken (HOST_RIP): keep IBT's checker content. */
	ENDBR
	push %rax
	xor  %eax, %eax
.Lsave:
	/* 8(%rsp): launched, 16(%rsp): the GPR array; guest RAX on top. */
	push %rax		/* the return value */
	mov  24(%rsp), %rax
	STORE_GUEST_GPRS %rax
	mov  8(%rsp), %rcx	/* guest RAX */
	mov  %rcx, GPR(RAX)(%rax)

	/* Guest return predictions must not steer host RETs (Spectre v2). */
	FILL_RETURN_BUFFER %rcx, RSB_CLEAR_LOOPS, X86_FEATURE_RETPOLINE

	pop  %rax		/* the return value */
	CLEAR_GUEST_GPRS

	add  $24, %rsp		/* guest RAX, launched, GPR array */
	pop  %rbx
	pop  %r12
	pop  %r13
	pop  %r14
	pop  %r15
	pop  %rbp
	RET
SYM_FUNC_END(__hvx_vmx_vcpu_run)
