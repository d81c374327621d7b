/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMX instructions (SDM Vol 3 ch. 31 and Vol 2 "VMX Instruction
 * Reference"). Each reports VMfailInvalid (CF=1) and VMfailValid (ZF=1,
 * reason in VM_INSTRUCTION_ERROR) as a non-zero return.
 *
 * Those that run with interrupts on (ioctls, exit handlers, vcpu_load)
 * also survive a #UD: the reboot notifier turns VMX off on every CPU by
 * IPI, possibly between two VMREADs of a vCPU thread, and that thread
 * must get back to userspace rather than oops the rebooting host. The
 * fault goes to vmx_insn_fault(), which complains unless hvx is rebooting.
 */
#ifndef HVX_VMX_INSN_H
#define HVX_VMX_INSN_H

#include <linux/types.h>
#include <asm/asm.h>
#include <asm/vmx.h>

void vmx_insn_fault(void);

/*
 * The end of an instruction at local label 1 that may fault: on success
 * %[faulted] is cleared, a fault resumes at label 2 with it still set.
 */
#define VMX_FAULT_SAFE_END \
	"movb $0, %[faulted]\n2:\n\t" _ASM_EXTABLE(1b, 2b)

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

/* VMXOFF outside VMX operation is #UD: the crash path skips it then. */
static inline void vmx_vmxoff_safe(void)
{
	asm volatile("1: vmxoff\n2:\n\t" _ASM_EXTABLE(1b, 2b) : : : "cc", "memory");
}

/* VMCLEAR or VMPTRLD of @pa; -EIO if it failed or faulted. */
#define VMX_PA_INSN(insn, pa) ({						\
	u8 __fail = 0, faulted = 1;						\
										\
	asm volatile("1: " insn " %[p]\n\tsetbe %[fail]\n\t" VMX_FAULT_SAFE_END	\
		     : [fail] "+qm"(__fail), [faulted] "+qm"(faulted)		\
		     : [p] "m"(pa) : "cc", "memory");				\
	if (unlikely(faulted))							\
		vmx_insn_fault();						\
	(__fail || faulted) ? -EIO : 0;						\
})

static inline int vmx_vmclear(u64 pa)
{
	return VMX_PA_INSN("vmclear", pa);
}

static inline int vmx_vmptrld(u64 pa)
{
	return VMX_PA_INSN("vmptrld", pa);
}

/* 0 if VMX is off (see above). */
static inline u64 vmcs_read(unsigned long field)
{
	u64 value = 0;
	u8 faulted = 1;

	asm volatile("1: vmread %[field], %[value]\n\t" VMX_FAULT_SAFE_END
		     : [value] "+r"(value), [faulted] "+qm"(faulted)
		     : [field] "r"(field) : "cc");
	if (unlikely(faulted))
		vmx_insn_fault();
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
	u8 fail = 0, faulted = 1;

	asm volatile("1: vmwrite %[value], %[field]\n\tsetbe %[fail]\n\t"
		     VMX_FAULT_SAFE_END
		     : [fail] "+qm"(fail), [faulted] "+qm"(faulted)
		     : [field] "r"(field), [value] "rm"(value) : "cc");
	if (unlikely(faulted))
		vmx_insn_fault();
	else if (unlikely(fail))
		hvx_vmwrite_errors++;
}

/* INVEPT/INVVPID descriptors (SDM Vol 3 29.4.3). */
static inline void vmx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, zero; } desc = { eptp, 0 };
	u8 faulted = 1;

	asm volatile("1: invept %[desc], %[type]\n\t" VMX_FAULT_SAFE_END
		     : [faulted] "+qm"(faulted)
		     : [desc] "m"(desc), [type] "r"(type) : "cc", "memory");
	if (unlikely(faulted))
		vmx_insn_fault();
}

static inline void vmx_invvpid(unsigned long type, u16 vpid, u64 gva)
{
	struct { u64 vpid : 16, zero : 48; u64 gva; } desc = { vpid, 0, gva };
	u8 faulted = 1;

	asm volatile("1: invvpid %[desc], %[type]\n\t" VMX_FAULT_SAFE_END
		     : [faulted] "+qm"(faulted)
		     : [desc] "m"(desc), [type] "r"(type) : "cc", "memory");
	if (unlikely(faulted))
		vmx_insn_fault();
}

#endif /* HVX_VMX_INSN_H */
