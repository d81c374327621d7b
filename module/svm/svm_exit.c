// SPDX-License-Identifier: GPL-2.0
/*
 * Translate a #VMEXIT (APM Vol 2 15.6, Appendix C) into the core's
 * vendor-neutral struct hvx_exit. Only SVM facts live here; what to do
 * about each exit is the core's business (exit.c).
 */
#include <asm/svm.h>
#include <asm/trapnr.h>

#include "backend.h"
#include "compat.h"
#include "svm.h"

/* Fixed lengths of intercepted instructions that have no NRIP-save here. */
#define LEN_CPUID	2
#define LEN_HLT		1
#define LEN_MSR		2
#define LEN_INVD	2
#define LEN_MONITOR	3
#define LEN_MWAIT	3
#define LEN_XSETBV	3

/* IOIO EXITINFO1 (APM Vol 2 15.10.2). */
static void decode_ioio(struct hvx_vcpu *vcpu, u64 info1, u64 info2,
			struct hvx_exit *exit)
{
	exit->reason = HVX_EXIT_IO;
	exit->io.port = info1 >> 16;
	exit->io.in = info1 & SVM_IOIO_TYPE_MASK;
	exit->io.string = !!(info1 & SVM_IOIO_STR_MASK);
	exit->io.rep = !!(info1 & SVM_IOIO_REP_MASK);
	/* SZ8/16/32 and A16/32/64 are one-hot fields. */
	exit->io.size = (info1 & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
	/*
	 * The segment is only reported with decode assists, and QEMU's TCG
	 * leaves the address size zero too: then the core decodes the
	 * instruction's prefixes.
	 */
	exit->io.addr_size = ((info1 & SVM_IOIO_ASIZE_MASK) >> SVM_IOIO_ASIZE_SHIFT) << 1;
	exit->io.seg = svm_has_decode_assists ? (info1 >> 10) & 7 : HVX_SEG_UNKNOWN;
	/* EXITINFO2 holds the next RIP for IOIO even without NRIP-save. */
	exit->insn_len = info2 - vcpu->rip;
}

/*
 * An exception, NMI or external interrupt whose delivery was cut short by
 * this exit (say, a #GP whose IDT page was not yet in the nested page
 * table) is delivered again on the next VMRUN (APM Vol 2 15.7.2).
 */
static bool requeue_event(struct vmcb_control_area *c)
{
	u32 info = c->exit_int_info;
	u32 type = info & SVM_EXITINTINFO_TYPE_MASK;

	c->event_inj = 0;
	if (!(info & SVM_EXITINTINFO_VALID))
		return false;
	if (type == SVM_EXITINTINFO_TYPE_EXEPT || type == SVM_EXITINTINFO_TYPE_NMI ||
	    type == SVM_EXITINTINFO_TYPE_INTR) {
		c->event_inj = info;
		c->event_inj_err = c->exit_int_info_err;
	}
	/* A software interrupt is simply re-executed: RIP still points at it. */
	return true;
}

void svm_decode_exit(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	struct vmcb_control_area *c = &to_vmcb(vcpu)->control;
	/* EXITCODE's low half; VMEXIT_INVALID is -1 there (APM Vol 2 C.1). */
	u32 code = c->exit_code;

	exit->hw_reason = code;
	exit->info[0] = c->exit_info_1;
	exit->info[1] = c->exit_info_2;
	exit->insn_len = 0;

	if (code == (u32)SVM_EXIT_ERR) {
		exit->reason = HVX_EXIT_FAIL_ENTRY;
		return;
	}
	exit->vectoring = requeue_event(c);

	switch (code) {
	case SVM_EXIT_INTR:
	case SVM_EXIT_NMI:
	case SVM_EXIT_SMI:
		exit->reason = HVX_EXIT_INTR;
		break;
	case SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7:
	case SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7:
		/* The core decodes the GPR and the length (no NRIP needed). */
		exit->reason = HVX_EXIT_DR;
		exit->dr.num = code & 7;
		exit->dr.write = code >= SVM_EXIT_WRITE_DR0;
		exit->dr.gpr = HVX_GPR_UNKNOWN;
		break;
	case SVM_EXIT_VINTR:
		svm_disable_irq_window(vcpu);
		exit->reason = HVX_EXIT_IRQ_WINDOW;
		break;
	case SVM_EXIT_IRET:
		svm_iret_exit(vcpu);
		exit->reason = HVX_EXIT_NONE;
		break;
	case SVM_EXIT_RDPMC:
		/* No virtual PMU: #GP, as KVM with enable_pmu=0. */
		exit->reason = HVX_EXIT_GP;
		break;
	case SVM_EXIT_EXCP_BASE + X86_TRAP_MC:
		/* Interrupts are still off: the host handles it now. */
		hvx_machine_check();
		exit->reason = HVX_EXIT_NONE;
		break;
	case SVM_EXIT_EXCP_BASE + X86_TRAP_DB:
		/* Only intercepted for an NMI window (svm_events.c). */
		if (svm_singlestep_exit(vcpu))
			svm_inject_exception(vcpu, X86_TRAP_DB, false, 0);
		exit->reason = HVX_EXIT_NMI_WINDOW;
		break;
	case SVM_EXIT_CPUID:
		exit->reason = HVX_EXIT_CPUID;
		exit->insn_len = LEN_CPUID;
		break;
	case SVM_EXIT_HLT:
		exit->reason = HVX_EXIT_HLT;
		exit->insn_len = LEN_HLT;
		break;
	case SVM_EXIT_IOIO:
		decode_ioio(vcpu, c->exit_info_1, c->exit_info_2, exit);
		break;
	case SVM_EXIT_MSR:
		exit->reason = c->exit_info_1 ? HVX_EXIT_MSR_WRITE : HVX_EXIT_MSR_READ;
		exit->insn_len = LEN_MSR;
		break;
	case SVM_EXIT_NPF:
		/* EXITINFO1 is a #PF-style error code (APM Vol 2 15.25.6). */
		exit->reason = HVX_EXIT_NPF;
		exit->npf.gpa = c->exit_info_2;
		exit->npf.present = c->exit_info_1 & BIT(0);
		exit->npf.write = c->exit_info_1 & BIT(1);
		exit->npf.fetch = c->exit_info_1 & BIT(4);
		exit->npf.walk = c->exit_info_1 & BIT_ULL(33);
		break;
	case SVM_EXIT_SHUTDOWN:
		exit->reason = HVX_EXIT_SHUTDOWN;
		break;
	case SVM_EXIT_VMRUN:
	case SVM_EXIT_VMMCALL:
	case SVM_EXIT_VMLOAD:
	case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI:
	case SVM_EXIT_CLGI:
	case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA:
	case SVM_EXIT_RDTSCP:	/* hidden from the guest's CPUID */
		/* No nested virtualization or hypercalls yet. */
		exit->reason = HVX_EXIT_UD;
		break;
	case SVM_EXIT_INVD:
		/* INVD would drop the host's dirty cache lines: a NOP here. */
		exit->reason = HVX_EXIT_NOP;
		exit->insn_len = LEN_INVD;
		break;
	case SVM_EXIT_MONITOR:
		exit->reason = HVX_EXIT_NOP;
		exit->insn_len = LEN_MONITOR;
		break;
	case SVM_EXIT_MWAIT:
		exit->reason = HVX_EXIT_NOP;
		exit->insn_len = LEN_MWAIT;
		break;
	case SVM_EXIT_XSETBV:
		exit->reason = HVX_EXIT_XSETBV;
		exit->insn_len = LEN_XSETBV;
		break;
	default:
		exit->reason = HVX_EXIT_UNKNOWN;
	}
}
