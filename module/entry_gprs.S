/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest GPR transfer for the entry stubs (svm/svm_entry.S,
 * vmx/vmx_entry.S): both backends keep the guest's general registers in
 * vcpu->regs[] (indices in regs.h) and move them with these macros.
 * An include for assembly, not an object of its own (see Kbuild).
 */
#ifndef HVX_ENTRY_GPRS_H
#define HVX_ENTRY_GPRS_H

#include "regs.h"

#define GPR(r)	(HVX_##r * 8)

/*
 * Load every guest GPR except RAX, RSP (both live in the VMCB/VMCS or
 * are the caller's pointer) and RSI, from the array at \base, which must
 * be %rax or %rsi: the caller loads its base register last.
 */
.macro LOAD_GUEST_GPRS base
	mov  GPR(RCX)(\base), %rcx
	mov  GPR(RDX)(\base), %rdx
	mov  GPR(RBX)(\base), %rbx
	mov  GPR(RBP)(\base), %rbp
	mov  GPR(RDI)(\base), %rdi
	mov  GPR(R8)(\base),  %r8
	mov  GPR(R9)(\base),  %r9
	mov  GPR(R10)(\base), %r10
	mov  GPR(R11)(\base), %r11
	mov  GPR(R12)(\base), %r12
	mov  GPR(R13)(\base), %r13
	mov  GPR(R14)(\base), %r14
	mov  GPR(R15)(\base), %r15
.endm

/* Store every guest GPR except RAX and RSP to the array at \base (%rax). */
.macro STORE_GUEST_GPRS base
	mov  %rcx, GPR(RCX)(\base)
	mov  %rdx, GPR(RDX)(\base)
	mov  %rbx, GPR(RBX)(\base)
	mov  %rbp, GPR(RBP)(\base)
	mov  %rsi, GPR(RSI)(\base)
	mov  %rdi, GPR(RDI)(\base)
	mov  %r8,  GPR(R8)(\base)
	mov  %r9,  GPR(R9)(\base)
	mov  %r10, GPR(R10)(\base)
	mov  %r11, GPR(R11)(\base)
	mov  %r12, GPR(R12)(\base)
	mov  %r13, GPR(R13)(\base)
	mov  %r14, GPR(R14)(\base)
	mov  %r15, GPR(R15)(\base)
.endm

/* Leave no guest values in the caller-saved registers (but RAX). */
.macro CLEAR_GUEST_GPRS
	xor  %ecx, %ecx
	xor  %edx, %edx
	xor  %esi, %esi
	xor  %edi, %edi
	xor  %r8d, %r8d
	xor  %r9d, %r9d
	xor  %r10d, %r10d
	xor  %r11d, %r11d
.endm

#endif /* HVX_ENTRY_GPRS_H */
