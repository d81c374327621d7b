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

#include "regs.h"

#define REG(r)	(HVX_##r * 8)


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

	mov  REG(RCX)(%rsi), %rcx
	mov  REG(RDX)(%rsi), %rdx
	mov  REG(RBX)(%rsi), %rbx
	mov  REG(RBP)(%rsi), %rbp
	mov  REG(RDI)(%rsi), %rdi
	mov  REG(R8)(%rsi),  %r8
	mov  REG(R9)(%rsi),  %r9
	mov  REG(R10)(%rsi), %r10
	mov  REG(R11)(%rsi), %r11
	mov  REG(R12)(%rsi), %r12
	mov  REG(R13)(%rsi), %r13
	mov  REG(R14)(%rsi), %r14
	mov  REG(R15)(%rsi), %r15
	mov  REG(RSI)(%rsi), %rsi

	/* RAX (the VMCB address) is saved by VMRUN and back after #VMEXIT. */
	mov  (%rsp), %rax
	vmload %rax
	vmrun %rax
	vmsave %rax

	mov  8(%rsp), %rax
	mov  %rcx, REG(RCX)(%rax)
	mov  %rdx, REG(RDX)(%rax)
	mov  %rbx, REG(RBX)(%rax)
	mov  %rbp, REG(RBP)(%rax)
	mov  %rsi, REG(RSI)(%rax)
	mov  %rdi, REG(RDI)(%rax)
	mov  %r8,  REG(R8)(%rax)
	mov  %r9,  REG(R9)(%rax)
	mov  %r10, REG(R10)(%rax)
	mov  %r11, REG(R11)(%rax)
	mov  %r12, REG(R12)(%rax)
	mov  %r13, REG(R13)(%rax)
	mov  %r14, REG(R14)(%rax)
	mov  %r15, REG(R15)(%rax)

	/* Guest return predictions must not steer host RETs (Spectre v2). */
	FILL_RETURN_BUFFER %rax, RSB_CLEAR_LOOPS, X86_FEATURE_RETPOLINE

	mov  16(%rsp), %rax
	vmload %rax

	/* Leave no guest values in caller-saved registers. */
	xor  %ecx, %ecx
	xor  %edx, %edx
	xor  %esi, %esi
	xor  %edi, %edi
	xor  %r8d, %r8d
	xor  %r9d, %r9d
	xor  %r10d, %r10d
	xor  %r11d, %r11d

	add  $24, %rsp
	pop  %rbx
	pop  %r12
	pop  %r13
	pop  %r14
	pop  %r15
	pop  %rbp
	RET
SYM_FUNC_END(__hvx_svm_vmrun)
