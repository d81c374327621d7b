/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMRUN with every guest GPR loaded (APM Vol 2 15.5). VMRUN itself saves
 * and restores the host's RAX, RSP, RIP, RFLAGS, control registers and
 * segment descriptors; the other host GPRs are pushed here, and the
 * host's VMLOAD/VMSAVE state (FS/GS/TR/LDTR bases, syscall MSRs) is
 * swapped around the guest's with VMSAVE/VMLOAD. Called with GIF=0.
 */
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/nospec-branch.h>

#include "entry_gprs.S"


/* void __hvx_svm_vmrun(u64 vmcb_pa, u64 *regs, u64 host_vmcb_pa) */
SYM_FUNC_START(__hvx_svm_vmrun)
	push %rbp
	mov  %rsp, %rbp
	push %r15
	push %r14
	push %r13
	push %r12
	push %rbx
	push %rdx		/* 16(%rsp): host save area */
	push %rsi		/*  8(%rsp): guest GPR array */
	push %rdi		/*  0(%rsp): guest VMCB */

	/* The host's FS/GS/TR/LDTR/syscall state: restored after the exit. */
	mov  %rdx, %rax
	vmsave %rax

	LOAD_GUEST_GPRS %rsi
	mov  GPR(RSI)(%rsi), %rsi

	/* RAX (the VMCB address) is saved by VMRUN and back after #VMEXIT. */
	mov  (%rsp), %rax
	vmload %rax
	vmrun %rax
	vmsave %rax

	mov  8(%rsp), %rax
	STORE_GUEST_GPRS %rax

	/* Guest return predictions must not steer host RETs (Spectre v2). */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RETPOLINE

	mov  16(%rsp), %rax
	vmload %rax

	CLEAR_GUEST_GPRS

	add  $24, %rsp
	pop  %rbx
	pop  %r12
	pop  %r13
	pop  %r14
	pop  %r15
	pop  %rbp
	RET
SYM_FUNC_END(__hvx_svm_vmrun)
