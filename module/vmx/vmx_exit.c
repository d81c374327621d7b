// SPDX-License-Identifier: GPL-2.0
/*
 * Translate a VM exit (SDM Vol 3 ch. 27, Appendix C) into the core's
 * vendor-neutral struct hvx_exit through one table indexed by the basic
 * exit reason; a reason the table leaves out reads as HVX_EXIT_UNKNOWN and
 * becomes an internal error with the reason, so nothing is ever dropped
 * silently. What to do about each exit is the
 * core's business (exit.c, cr.c, pio.c, mmio.c).
 */
#include <asm/apicdef.h>
#include <asm/vmx.h>

#include "backend.h"
#include "compat.h"
#include "vmx.h"

/* Exits whose whole decoding is "this reason, this instruction length". */
static const u8 vmx_exit_table[] = {
	[EXIT_REASON_EXTERNAL_INTERRUPT]	= HVX_EXIT_INTR,
	[EXIT_REASON_TRIPLE_FAULT]		= HVX_EXIT_SHUTDOWN,
	/* INIT and SIPI are not sent to hvx guests yet: ignore strays. */
	[EXIT_REASON_INIT_SIGNAL]		= HVX_EXIT_NONE,
	[EXIT_REASON_SIPI_SIGNAL]		= HVX_EXIT_NONE,
	[EXIT_REASON_INTERRUPT_WINDOW]		= HVX_EXIT_IRQ_WINDOW,
	[EXIT_REASON_NMI_WINDOW]		= HVX_EXIT_NMI_WINDOW,
	[EXIT_REASON_PREEMPTION_TIMER]		= HVX_EXIT_NONE,
	[EXIT_REASON_CPUID]			= HVX_EXIT_CPUID,
	[EXIT_REASON_HLT]			= HVX_EXIT_HLT,
	/* INVD would drop the host's dirty cache lines: a NOP here. */
	[EXIT_REASON_INVD]			= HVX_EXIT_NOP,
	[EXIT_REASON_MWAIT_INSTRUCTION]		= HVX_EXIT_NOP,
	[EXIT_REASON_MONITOR_INSTRUCTION]	= HVX_EXIT_NOP,
	/* A PAUSE loop: skip the PAUSE; the run loop checks for signals. */
	[EXIT_REASON_PAUSE_INSTRUCTION]		= HVX_EXIT_NOP,
	[EXIT_REASON_MSR_READ]			= HVX_EXIT_MSR_READ,
	[EXIT_REASON_MSR_WRITE]			= HVX_EXIT_MSR_WRITE,
	[EXIT_REASON_XSETBV]			= HVX_EXIT_XSETBV,
	/* No nested VMX or hypercalls yet. */
	[EXIT_REASON_VMCALL]			= HVX_EXIT_UD,
	[EXIT_REASON_VMCLEAR]			= HVX_EXIT_UD,
	[EXIT_REASON_VMLAUNCH]			= HVX_EXIT_UD,
	[EXIT_REASON_VMPTRLD]			= HVX_EXIT_UD,
	[EXIT_REASON_VMPTRST]			= HVX_EXIT_UD,
	[EXIT_REASON_VMREAD]			= HVX_EXIT_UD,
	[EXIT_REASON_VMRESUME]			= HVX_EXIT_UD,
	[EXIT_REASON_VMWRITE]			= HVX_EXIT_UD,
	[EXIT_REASON_VMOFF]			= HVX_EXIT_UD,
	[EXIT_REASON_VMON]			= HVX_EXIT_UD,
	[EXIT_REASON_INVEPT]			= HVX_EXIT_UD,
	[EXIT_REASON_INVVPID]			= HVX_EXIT_UD,
	[EXIT_REASON_VMFUNC]			= HVX_EXIT_UD,
	[EXIT_REASON_INVALID_STATE]		= HVX_EXIT_FAIL_ENTRY,
	[EXIT_REASON_MSR_LOAD_FAIL]		= HVX_EXIT_FAIL_ENTRY,
	[EXIT_REASON_MCE_DURING_VMENTRY]	= HVX_EXIT_FAIL_ENTRY,
	/* Decoded below: */
	[EXIT_REASON_EXCEPTION_NMI]		= HVX_EXIT_UNKNOWN,	/* unless an NMI */
	[EXIT_REASON_IO_INSTRUCTION]		= HVX_EXIT_IO,
	[EXIT_REASON_CR_ACCESS]			= HVX_EXIT_CR,
	[EXIT_REASON_DR_ACCESS]			= HVX_EXIT_DR,
	/* No virtual PMU: #GP, as KVM with enable_pmu=0. */
	[EXIT_REASON_RDPMC]			= HVX_EXIT_GP,
	[EXIT_REASON_EPT_VIOLATION]		= HVX_EXIT_NPF,
	[EXIT_REASON_EPT_MISCONFIG]		= HVX_EXIT_UNKNOWN,
	/*
	 * APIC virtualization (SDM Vol 3 29.1.4, 29.4.3.3): EOI-induced and
	 * APIC-write exits are trap-like, RIP is past the instruction. With
	 * virtual-interrupt delivery there is no TPR threshold (29.1.2).
	 */
	[EXIT_REASON_TPR_BELOW_THRESHOLD]	= HVX_EXIT_NONE,
	[EXIT_REASON_EOI_INDUCED]		= HVX_EXIT_EOI,
	[EXIT_REASON_APIC_WRITE]		= HVX_EXIT_APIC_WRITE,
	[EXIT_REASON_APIC_ACCESS]		= HVX_EXIT_APIC_ACCESS,
};

/* I/O exit qualification (SDM Vol 3 Table 27-5). */
static void decode_io(struct hvx_exit *exit, u64 qual)
{
	u32 info;

	exit->io.size = (qual & 7) + 1;
	exit->io.in = qual & BIT(3);
	exit->io.string = qual & BIT(4);
	exit->io.rep = qual & BIT(5);
	exit->io.port = qual >> 16;
	exit->io.addr_size = 0;
	exit->io.seg = HVX_SEG_UNKNOWN;
	if (!exit->io.string || !vmx_cfg.ins_outs_info)
		return;
	/* INS/OUTS information (SDM Vol 3 Table 27-8). */
	info = vmcs_read32(VMX_INSTRUCTION_INFO);
	exit->io.addr_size = 2 << ((info >> 7) & 7);
	if (!exit->io.in)
		exit->io.seg = (info >> 15) & 7;
}

/* Control-register access qualification (SDM Vol 3 Table 27-3). */
static void decode_cr(struct hvx_exit *exit, u64 qual)
{
	exit->cr.cr = qual & 0xf;
	exit->cr.type = (qual >> 4) & 3;	/* matches HVX_CR_* */
	exit->cr.gpr = (qual >> 8) & 0xf;
	exit->cr.lmsw = qual >> 16;
}

/* EPT-violation qualification (SDM Vol 3 Table 27-7). */
static void decode_ept_violation(struct hvx_exit *exit, u64 qual)
{
	/*
	 * Bit 12: the guest's IRET from an NMI handler faulted here after
	 * unblocking NMIs; it runs again, so the blocking must come back
	 * (SDM Vol 3 28.2.3, "Information About NMI Unblocking Due to IRET").
	 */
	if ((qual & INTR_INFO_UNBLOCK_NMI) && !exit->vectoring)
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) | GUEST_INTR_STATE_NMI);
	exit->npf.gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	exit->npf.write = qual & BIT(1);
	exit->npf.fetch = qual & BIT(2);
	exit->npf.present = qual & (BIT(3) | BIT(4) | BIT(5));
	/* A linear address was being translated, not accessed. */
	exit->npf.walk = (qual & BIT(7)) && !(qual & BIT(8));
}

/*
 * An access to the APIC-access page the CPU did not virtualize (SDM Vol 3
 * 29.4.4, exit qualification: page offset in bits 11:0, access type in
 * 15:12). It is fault-like; hvx emulates it as an access to the xAPIC
 * page without a translation. Linear reads and writes are instructions'
 * own accesses; a fetch cannot be emulated; accesses during event
 * delivery (3, 10) or guest-physical ones (15, e.g. the guest's page
 * walk) are not the instruction's, as for an EPT violation.
 */
static void decode_apic_access(struct hvx_vcpu *vcpu, struct hvx_exit *exit, u64 qual)
{
	unsigned int type = (qual >> 12) & 0xf;

	exit->npf.gpa = (vcpu->apic_base & MSR_IA32_APICBASE_BASE) | (qual & 0xfff);
	exit->npf.write = type == 1;
	exit->npf.fetch = type == 2;
	exit->npf.present = true;
	exit->npf.walk = type > 2;
}

/*
 * An event whose delivery the exit interrupted is delivered again on the
 * next entry (SDM Vol 3 27.2.4, 28.2.1.3). Hardware clears the entry
 * field's valid bit at every exit.
 */
/* The highest vector set in VISR (SDM Vol 3 29.1.1), 0 if none. */
static u8 vmx_vapic_highest_isr(struct hvx_vmx_vcpu *vmx)
{
	int i;

	for (i = 7; i >= 0; i--) {
		u32 isr = READ_ONCE(*(u32 *)(vmx->vapic + APIC_ISR + i * 0x10));

		if (isr)
			return i * 32 + __fls(isr);
	}
	return 0;
}

static bool requeue_event(struct hvx_vcpu *vcpu, u32 insn_len)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	u32 info = vmcs_read32(IDT_VECTORING_INFO_FIELD);
	int injected = vmx->entry_irq;

	vmx->entry_irq = -1;
	if (!(info & VECTORING_INFO_VALID_MASK))
		return false;
	/*
	 * A virtual interrupt whose delivery was cut short is delivered again
	 * as an external interrupt with its vector, as any other. Bochs 2.7
	 * reports it with a wrong vector (0, or one left over from an
	 * earlier event) and leaves a stale SVI in the guest interrupt
	 * status. Delivery has already moved the vector from VIRR to VISR
	 * (SDM Vol 3 29.2.2), and it only happens above the PPR, so it is
	 * the highest vector in service: an external interrupt other than
	 * the one hvx injected at this entry takes its vector from the
	 * virtual-APIC page.
	 */
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_EXT_INTR && vcpu->apicv &&
	    (info & INTR_INFO_VECTOR_MASK) != injected)
		info = (info & ~INTR_INFO_VECTOR_MASK) | vmx_vapic_highest_isr(vmx);
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_EXT_INTR)
		vmx->entry_irq = info & INTR_INFO_VECTOR_MASK;
	/*
	 * An NMI cut short left blocking by NMI set, and an NMI cannot be
	 * injected with it set (SDM Vol 3 27.3.1.5): delivery sets it again.
	 */
	if ((info & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR)
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & ~GUEST_INTR_STATE_NMI);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_UNBLOCK_NMI);
	if (info & VECTORING_INFO_DELIVER_CODE_MASK)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE,
			   vmcs_read32(IDT_VECTORING_ERROR_CODE));
	vmcs_write(VM_ENTRY_INSTRUCTION_LEN, insn_len);
	return true;
}

void vmx_decode_exit(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	u32 reason = vmcs_read32(VM_EXIT_REASON);
	u16 basic = reason & 0xffff;
	u64 qual = vmcs_read(EXIT_QUALIFICATION);
	u32 intr;

	exit->hw_reason = reason;
	exit->info[0] = qual;
	exit->info[1] = 0;
	exit->insn_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);

	/* Bit 31: VM entry failed on guest state or MSR loading (SDM 26.8). */
	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		if (basic == EXIT_REASON_MCE_DURING_VMENTRY)
			hvx_machine_check();
		exit->reason = HVX_EXIT_FAIL_ENTRY;
		return;
	}
	exit->vectoring = requeue_event(vcpu, exit->insn_len);
	/* A reason missing from the table reads as 0, HVX_EXIT_UNKNOWN. */
	exit->reason = basic < ARRAY_SIZE(vmx_exit_table) ?
		       vmx_exit_table[basic] : HVX_EXIT_UNKNOWN;
	if (basic == EXIT_REASON_INTERRUPT_WINDOW)
		vmx_disable_irq_window(vcpu);
	else if (basic == EXIT_REASON_NMI_WINDOW)
		vmx_disable_nmi_window(vcpu);
	if (basic == EXIT_REASON_EXCEPTION_NMI) {
		intr = vmcs_read32(VM_EXIT_INTR_INFO);
		if ((intr & INTR_INFO_INTR_TYPE_MASK) == INTR_TYPE_NMI_INTR) {
			exit->reason = HVX_EXIT_INTR;
			exit->info[1] = 1;	/* re-raise the NMI for the host */
			return;
		}
		/* The only exception intercepted (vmx_vmcs_reset()). */
		if ((intr & INTR_INFO_VECTOR_MASK) == MC_VECTOR) {
			hvx_machine_check();
			exit->reason = HVX_EXIT_NONE;
			return;
		}
		exit->info[1] = intr;
		exit->reason = HVX_EXIT_UNKNOWN;
		return;
	}
	switch (basic) {
	case EXIT_REASON_IO_INSTRUCTION:
		decode_io(exit, qual);
		break;
	case EXIT_REASON_CR_ACCESS:
		decode_cr(exit, qual);
		break;
	case EXIT_REASON_DR_ACCESS:
		/* SDM Vol 3 Table 28-4. */
		exit->dr.num = qual & DEBUG_REG_ACCESS_NUM;
		exit->dr.write = !(qual & DEBUG_REG_ACCESS_TYPE);
		exit->dr.gpr = DEBUG_REG_ACCESS_REG(qual);
		break;
	case EXIT_REASON_EPT_VIOLATION:
		decode_ept_violation(exit, qual);
		break;
	case EXIT_REASON_EPT_MISCONFIG:
		/* A bad entry hvx wrote: report where, for debugging. */
		exit->info[1] = vmcs_read(GUEST_PHYSICAL_ADDRESS);
		break;
	case EXIT_REASON_EOI_INDUCED:
		/* The vector whose EOI it was (SDM Vol 3 29.1.4, exit qualification). */
		exit->info[0] = qual & 0xff;
		break;
	case EXIT_REASON_APIC_WRITE:
		/* The page offset written (29.4.3.3). */
		exit->info[0] = qual & 0xfff;
		break;
	case EXIT_REASON_APIC_ACCESS:
		decode_apic_access(vcpu, exit, qual);
		break;
	}
}
