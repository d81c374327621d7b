// SPDX-License-Identifier: GPL-2.0
/*
 * AMD SVM backend: enabling SVM per CPU, ASIDs, vCPU lifecycle and the
 * VMRUN path. Guest state accessors are in svm_vmcb.c, exit decoding in
 * svm_exit.c, the nested page table format in svm_npt.c.
 *
 * Nothing here relies on NRIP-save, decode assists, VMCB clean bits or
 * flush-by-ASID: QEMU's TCG offers none of them.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/msr-index.h>

#include "backend.h"
#include "alloc.h"
#include "svm.h"

/* The I/O permission map spans 12 KiB, the MSR map 8 KiB (APM Vol 2 15.10, 15.11). */
#define IOPM_ORDER	2
#define MSRPM_ORDER	1

static DEFINE_PER_CPU(struct hvx_svm_cpu, svm_cpu);
static u32 svm_max_asid;
static void *svm_iopm, *svm_msrpm;
u64 svm_iopm_pa, svm_msrpm_pa;
bool svm_has_decode_assists;

/*
 * MSRs the guest reads and writes directly: all of them are swapped by
 * VMLOAD/VMSAVE (APM Vol 2 15.5.2), so the host's values come back on exit.
 */
static const u32 svm_direct_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR, MSR_LSTAR,
	MSR_CSTAR, MSR_SYSCALL_MASK, MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
};

/* Two bits per MSR in three 2 KiB ranges (APM Vol 2 15.11). */
static void msrpm_allow(u8 *msrpm, u32 msr)
{
	static const u32 base[] = { 0, 0xc0000000, 0xc0010000 };
	unsigned int i, bit;

	for (i = 0; i < ARRAY_SIZE(base); i++) {
		if (msr - base[i] < 0x2000) {
			bit = i * 0x800 * 8 + (msr - base[i]) * 2;
			__clear_bit(bit, (unsigned long *)msrpm);	/* read */
			__clear_bit(bit + 1, (unsigned long *)msrpm);	/* write */
			return;
		}
	}
}

static void svm_free_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hvx_svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);

		hvx_free_page(NULL, sd->hsave);
		hvx_free_page(NULL, sd->host_vmcb);
		sd->hsave = NULL;
		sd->host_vmcb = NULL;
	}
}

static void svm_hardware_unsetup(void)
{
	svm_free_cpu_pages();
	hvx_free_pages(NULL, svm_iopm, IOPM_ORDER);
	hvx_free_pages(NULL, svm_msrpm, MSRPM_ORDER);
	svm_iopm = NULL;
	svm_msrpm = NULL;
}

static int svm_hardware_setup(void)
{
	unsigned int eax, ebx, ecx, edx, i;
	u64 vm_cr;
	int cpu;

	if (!boot_cpu_has(X86_FEATURE_SVM))
		return -ENODEV;
	rdmsrl(MSR_VM_CR, vm_cr);
	if (vm_cr & SVM_VM_CR_SVM_DIS_MASK) {
		pr_err("SVM is disabled by the firmware\n");
		return -ENODEV;
	}
	if (!boot_cpu_has(X86_FEATURE_NPT)) {
		pr_err("SVM without nested paging is not supported\n");
		return -ENODEV;
	}
	cpuid(0x8000000a, &eax, &ebx, &ecx, &edx);
	if (ebx < 2)
		return -ENODEV;
	svm_max_asid = ebx - 1;		/* ASID 0 is the host's */
	svm_has_decode_assists = boot_cpu_has(X86_FEATURE_DECODEASSISTS);

	svm_iopm = hvx_alloc_pages(NULL, IOPM_ORDER);
	svm_msrpm = hvx_alloc_pages(NULL, MSRPM_ORDER);
	if (!svm_iopm || !svm_msrpm)
		goto nomem;
	/* Every port and MSR exits, except the VMLOAD/VMSAVE-swapped MSRs. */
	memset(svm_iopm, 0xff, PAGE_SIZE << IOPM_ORDER);
	memset(svm_msrpm, 0xff, PAGE_SIZE << MSRPM_ORDER);
	for (i = 0; i < ARRAY_SIZE(svm_direct_msrs); i++)
		msrpm_allow(svm_msrpm, svm_direct_msrs[i]);
	svm_iopm_pa = __pa(svm_iopm);
	svm_msrpm_pa = __pa(svm_msrpm);

	for_each_possible_cpu(cpu) {
		struct hvx_svm_cpu *sd = per_cpu_ptr(&svm_cpu, cpu);

		sd->hsave = hvx_alloc_page(NULL);
		sd->host_vmcb = hvx_alloc_page(NULL);
		if (!sd->hsave || !sd->host_vmcb)
			goto nomem;
		sd->hsave_pa = __pa(sd->hsave);
		sd->host_vmcb_pa = __pa(sd->host_vmcb);
	}
	return 0;
nomem:
	svm_hardware_unsetup();
	return -ENOMEM;
}

/*
 * EFER.SVME already set means another hypervisor (kvm_amd) owns SVM on
 * this CPU: never take it over or repoint its VM_HSAVE_PA.
 */
static int svm_cpu_enable(void)
{
	struct hvx_svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return -EBUSY;
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, sd->hsave_pa);
	/* Start a new ASID generation: the first VMRUN flushes all ASIDs. */
	sd->asid_generation++;
	sd->next_asid = svm_max_asid + 1;
	return 0;
}

static void svm_cpu_disable(void)
{
	u64 efer;

	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
}

/*
 * A crash that caught this CPU between CLGI and STGI leaves GIF clear,
 * which holds off INIT and NMIs for the next kernel (APM Vol 2 15.17):
 * set it before leaving SVM. STGI needs EFER.SVME (APM Vol 3 STGI).
 */
static void svm_emergency_disable(void)
{
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (!(efer & EFER_SVME))
		return;
	asm volatile("stgi" ::: "memory");
	svm_cpu_disable();
}

static int svm_vm_init(struct hvx_vm *vm)
{
	return 0;
}

static void svm_vm_destroy(struct hvx_vm *vm)
{
}

static int svm_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm;

	svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	if (!svm)
		return -ENOMEM;
	svm->vmcb = hvx_alloc_page(vcpu->vm);
	if (!svm->vmcb) {
		kfree(svm);
		return -ENOMEM;
	}
	svm->vmcb_pa = __pa(svm->vmcb);
	svm->asid_cpu = -1;
	vcpu->arch = svm;
	return 0;
}

static void svm_vcpu_free(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	hvx_free_page(vcpu->vm, svm->vmcb);
	kfree(svm);
	vcpu->arch = NULL;
}

static void svm_vcpu_reset(struct hvx_vcpu *vcpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	svm_vmcb_reset(vcpu);
	svm->asid_generation = 0;
	svm->nmi_masked = false;
	svm->awaiting_iret = false;
	svm->nmi_singlestep = false;
}

static void svm_vcpu_load(struct hvx_vcpu *vcpu, int cpu)
{
	struct hvx_svm_vcpu *svm = to_svm(vcpu);

	/* ASIDs are per CPU: a vCPU that moved needs one from its new CPU. */
	if (svm->asid_cpu != cpu) {
		svm->asid_cpu = cpu;
		svm->asid_generation = 0;
	}
}

static void svm_vcpu_put(struct hvx_vcpu *vcpu)
{
}

/*
 * A fresh ASID makes every translation cached under the old one
 * unreachable; when the ASIDs run out, one VMRUN flushes them all
 * (TLB_CONTROL_FLUSH_ALL_ASID works on every SVM CPU).
 */
static void svm_new_asid(struct hvx_svm_vcpu *svm, struct hvx_svm_cpu *sd)
{
	if (sd->next_asid > svm_max_asid) {
		sd->asid_generation++;
		sd->next_asid = 1;
		svm->vmcb->control.tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	}
	svm->asid_generation = sd->asid_generation;
	svm->vmcb->control.asid = sd->next_asid++;
}

static void svm_flush_tlb(struct hvx_vcpu *vcpu)
{
	to_svm(vcpu)->asid_generation = 0;
}

static inline void svm_clgi(void)
{
	asm volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	asm volatile("stgi" ::: "memory");
}

/*
 * Interrupts: host IF is set across VMRUN with GIF clear, so with
 * V_INTR_MASKING a host interrupt or NMI makes the guest exit at once and
 * stays pending until STGI/STI below hand it to the host's handlers
 * (APM Vol 2 15.17, 15.21.1).
 */
static void svm_run(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	struct hvx_svm_cpu *sd = this_cpu_ptr(&svm_cpu);
	struct hvx_svm_vcpu *svm = to_svm(vcpu);
	struct vmcb *vmcb = svm->vmcb;

	if (svm->asid_generation != sd->asid_generation)
		svm_new_asid(svm, sd);

	vmcb->save.rax = vcpu->regs[HVX_RAX];
	vmcb->save.rsp = vcpu->regs[HVX_RSP];
	vmcb->save.rip = vcpu->rip;
	vmcb->save.rflags = vcpu->rflags;
	svm_nmi_before_entry(vcpu);
	vmcb->control.tsc_offset = vcpu->tsc_offset;

	svm_clgi();
	local_irq_enable();
	__hvx_svm_vmrun(svm->vmcb_pa, vcpu->regs, sd->host_vmcb_pa);
	local_irq_disable();
	svm_stgi();

	vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	/*
	 * A refused VMRUN ran no guest: what #VMEXIT wrote to the save area
	 * is not guest state, so keep the registers the VMM gave us.
	 */
	if (vmcb->control.exit_code == (u32)SVM_EXIT_ERR) {
		svm_decode_exit(vcpu, exit);
		return;
	}
	vcpu->regs[HVX_RAX] = vmcb->save.rax;
	vcpu->regs[HVX_RSP] = vmcb->save.rsp;
	vcpu->rip = vmcb->save.rip;
	vcpu->rflags = vmcb->save.rflags;
	svm_nmi_after_exit(vcpu);
	svm_decode_exit(vcpu, exit);
}

const struct hvx_backend_ops hvx_svm_ops = {
	.name			= "AMD SVM",
	.hardware_setup		= svm_hardware_setup,
	.hardware_unsetup	= svm_hardware_unsetup,
	.cpu_enable		= svm_cpu_enable,
	.cpu_disable		= svm_cpu_disable,
	.emergency_disable	= svm_emergency_disable,
	.kvm_module		= "kvm_amd",
	/* The VMCB is undefined after a SHUTDOWN intercept (APM Vol 2 15.12). */
	.shutdown_loses_state	= true,
	.vm_init		= svm_vm_init,
	.vm_destroy		= svm_vm_destroy,
	.vcpu_create		= svm_vcpu_create,
	.vcpu_free		= svm_vcpu_free,
	.vcpu_reset		= svm_vcpu_reset,
	.vcpu_load		= svm_vcpu_load,
	.vcpu_put		= svm_vcpu_put,
	.run			= svm_run,
	.flush_tlb		= svm_flush_tlb,
	.get_sregs		= svm_get_sregs,
	.set_sregs		= svm_set_sregs,
	.get_segment		= svm_get_segment,
	.get_cr			= svm_get_cr,
	.set_cr8		= svm_set_cr8,
	.get_efer		= svm_get_efer,
	.get_cpl		= svm_get_cpl,
	.get_msr		= svm_get_msr,
	.set_msr		= svm_set_msr,
	.inject_exception	= svm_inject_exception,
	.cancel_event		= svm_cancel_event,
	.event_queued		= svm_event_queued,
	.inject_irq		= svm_inject_irq,
	.enable_irq_window	= svm_enable_irq_window,
	.interrupt_shadow	= svm_interrupt_shadow,
	.set_interrupt_shadow	= svm_set_interrupt_shadow,
	.get_event		= svm_get_event,
	.set_event		= svm_set_event,
	.nmi_blocked		= svm_nmi_blocked,
	.set_nmi_blocked	= svm_set_nmi_blocked,
	.inject_nmi		= svm_inject_nmi,
	.enable_nmi_window	= svm_enable_nmi_window,
	.pte_fmt		= &svm_npt_fmt,
};
