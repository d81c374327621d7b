/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMX instructions (SDM Vol 3 ch. 31 and Vol 2 "VMX Instruction
 * Reference"). Each reports VMfailInvalid (CF=1) and VMfailValid (ZF=1,
 * reason in VM_INSTRUCTION_ERROR) as a non-zero return.
 */
#ifndef HVX_VMX_INSN_H
#define HVX_VMX_INSN_H

#include <linux/types.h>
#include <asm/vmx.h>

static inline int vmx_vmxon(u64 pa)
{
	asm goto("vmxon %0; jbe %l[fail]" : : "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	return -EIO;
}

static inline void vmx_vmxoff(void)
{
	asm volatile("vmxoff" : : : "cc", "memory");
}

static inline int vmx_vmclear(u64 pa)
{
	asm goto("vmclear %0; jbe %l[fail]" : : "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	return -EIO;
}

static inline int vmx_vmptrld(u64 pa)
{
	asm goto("vmptrld %0; jbe %l[fail]" : : "m"(pa) : "cc", "memory" : fail);
	return 0;
fail:
	return -EIO;
}

static inline u64 vmcs_read(unsigned long field)
{
	u64 value;

	asm volatile("vmread %1, %0" : "=rm"(value) : "r"(field) : "cc");
	return value;
}

static inline u32 vmcs_read32(unsigned long field)
{
	return vmcs_read(field);
}

/* A failed VMWRITE is a bug in hvx (an unsupported field): count it. */
extern unsigned long hvx_vmwrite_errors;

static inline void vmcs_write(unsigned long field, u64 value)
{
	asm goto("vmwrite %1, %0; jbe %l[fail]"
		 : : "r"(field), "rm"(value) : "cc" : fail);
	return;
fail:
	hvx_vmwrite_errors++;
}

/* INVEPT/INVVPID descriptors (SDM Vol 3 29.4.3). */
static inline void vmx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, zero; } desc = { eptp, 0 };

	asm volatile("invept %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

static inline void vmx_invvpid(unsigned long type, u16 vpid, u64 gva)
{
	struct { u64 vpid : 16, zero : 48; u64 gva; } desc = { vpid, 0, gva };

	asm volatile("invvpid %0, %1" : : "m"(desc), "r"(type) : "cc", "memory");
}

#endif /* HVX_VMX_INSN_H */
