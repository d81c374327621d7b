// SPDX-License-Identifier: GPL-2.0
/*
 * Intel VMX backend: capability probing, VMXON per CPU, the VMCS of each
 * vCPU as it follows its thread across CPUs, and the VM-entry path. Guest
 * state accessors are in vmx_vmcs.c, exit decoding in vmx_exit.c, the EPT
 * entry format in vmx_ept.c.
 *
 * A VMCS is "loaded" on at most one CPU at a time (SDM Vol 3 25.1): when
 * a vCPU's thread moves, its VMCS is VMCLEARed on the old CPU (by IPI)
 * before VMPTRLD on the new one, and a VMCLEARed VMCS must be entered with
 * VMLAUNCH again. Each CPU keeps the list of VMCSs loaded on it so that
 * VMXOFF (last VM gone, CPU offline, reboot) can clear them first.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <asm/apicdef.h>
#include <asm/cpufeature.h>
#include <asm/desc.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/tsc.h>

#include "backend.h"
#include "alloc.h"
#include "compat.h"
#include "vmx.h"

struct vmx_cpu {
	void *vmxon;
	struct list_head loaded;	/* VMCSs loaded on this CPU */
	struct hvx_vmx_vcpu *current_vmcs;	/* the last VMPTRLD here */
	/*
	 * The host's values of vmx_auto_msrs[], read when VMX goes on here:
	 * the kernel sets the syscall MSRs once per CPU at boot. Only
	 * KERNEL_GS_BASE belongs to the thread and is read at each entry.
	 */
	u64 host_msrs[VMX_NR_AUTO_MSRS];
};

static DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);
struct vmx_config vmx_cfg;
void *vmx_msr_bitmap;
/* For vCPUs in x2APIC mode with APIC virtualization (vmx_apic_mode()). */
void *vmx_msr_bitmap_x2apic;
unsigned long hvx_vmwrite_errors;

/*
 * The VMX-preemption timer as a backstop (SDM Vol 3 26.5.1): the guest
 * exits at the latest this many microseconds after each VM entry, even if
 * an external interrupt fails to cause the exit that external-interrupt
 * exiting promises. On hardware that never happens and the cost is one
 * exit per period of a guest that makes none (~0.03% at 4 ms); Bochs 2.7
 * masks host interrupts while the guest runs with RFLAGS.IF=0, so without
 * the backstop a guest spinning with interrupts off holds the CPU for
 * good (kvm_intel hangs there). 0 turns it off.
 */
static unsigned int backstop_us = 4000;
module_param(backstop_us, uint, 0444);
MODULE_PARM_DESC(backstop_us,
		 "VMX: longest guest run without an exit, in us (preemption timer; 0 = off)");

/*
 * APIC virtualization (SDM Vol 3 ch. 29) for vCPUs with an in-kernel
 * APIC, when the CPU offers the TPR shadow, APIC-register virtualization,
 * virtual-interrupt delivery and x2APIC virtualization: the APIC's
 * register page becomes the virtual-APIC page, the CPU delivers its
 * interrupts and handles TPR, EOI and self-IPI without exits. N puts
 * every APIC access and interrupt through hvx's software paths (CR8
 * exits, MMIO and MSR emulation, injection), as on SVM.
 */
static bool enable_apicv = true;
module_param(enable_apicv, bool, 0444);
MODULE_PARM_DESC(enable_apicv,
		 "VMX: APIC virtualization (TPR shadow, APIC-register virtualization, virtual-interrupt delivery) when offered");

/*
 * With enable_apicv: the guest's xAPIC page accesses go to an APIC-access
 * page, so the CPU virtualizes them (reads, and TPR/EOI/ICR writes,
 * without exits). N keeps the rest of APIC virtualization and sends xAPIC
 * accesses through EPT violations to hvx's MMIO path, as without it.
 */
static bool enable_apic_access = true;
module_param(enable_apic_access, bool, 0444);
MODULE_PARM_DESC(enable_apic_access,
		 "VMX: with enable_apicv, virtualize xAPIC page accesses through the APIC-access page");

/* VPIDs 1..VMX_NR_VPIDS-1 (0 is the host's, SDM Vol 3 29.1). */
static unsigned long *vmx_vpids;
static DEFINE_SPINLOCK(vmx_vpid_lock);

/*
 * MSRs the guest reads and writes directly: the VMCS holds FS/GS bases
 * and SYSENTER state, the MSR areas swap the syscall MSRs and
 * KERNEL_GS_BASE, so the host's values come back at every exit.
 */
const u32 vmx_auto_msrs[VMX_NR_AUTO_MSRS] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_KERNEL_GS_BASE,
};

static const u32 vmx_direct_msrs[] = {
	MSR_FS_BASE, MSR_GS_BASE, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
	MSR_IA32_SYSENTER_EIP,
};

/* Read bitmaps at 0/1 KiB, write bitmaps at 2/3 KiB (SDM Vol 3 25.6.9). */
static void msr_bitmap_allow_read(u8 *bitmap, u32 msr)
{
	unsigned int base = msr >= 0xc0000000 ? 1024 : 0;

	__clear_bit(msr & 0x1fff, (unsigned long *)(bitmap + base));
}

static void msr_bitmap_allow_write(u8 *bitmap, u32 msr)
{
	unsigned int base = msr >= 0xc0000000 ? 1024 : 0;

	__clear_bit(msr & 0x1fff, (unsigned long *)(bitmap + 2048 + base));
}

static void msr_bitmap_allow(u8 *bitmap, u32 msr)
{
	msr_bitmap_allow_read(bitmap, msr);
	msr_bitmap_allow_write(bitmap, msr);
}

/*
 * The x2APIC MSRs a vCPU in x2APIC mode reaches without exits, with
 * "virtualize x2APIC mode", APIC-register virtualization and virtual-
 * interrupt delivery (SDM Vol 3 29.5). RDMSR then reads 8 bytes of the
 * virtual-APIC page at (ECX & 0xff) << 4: right for every register that
 * RDMSR may read (11.12.1.2) except the current count, which hvx
 * computes, and the ICR, whose upper half is at 0x310, not 0x304. Reads
 * of registers x2APIC mode lacks must fault, so they exit too. WRMSR is
 * virtualized for TPR (TPR virtualization, 29.1.2) and EOI (EOI
 * virtualization, 29.1.4), each with the #GP checks of the real
 * register; every other write exits to msr.c. SELF IPI does too: its
 * virtualization (29.1.5) would leave the CPU a pending vector while the
 * guest may have IF clear, which hvx avoids (lapic.c, apicv_load()).
 */
static void vmx_setup_x2apic_bitmap(u8 *bitmap)
{
	static const u16 regs[] = {
		APIC_ID, APIC_LVR, APIC_TASKPRI, APIC_PROCPRI, APIC_LDR,
		APIC_SPIV, APIC_ESR, APIC_LVTT, APIC_LVTTHMR, APIC_LVTPC,
		APIC_LVT0, APIC_LVT1, APIC_LVTERR, APIC_TMICT, APIC_TDCR,
	};
	unsigned int i;

	memcpy(bitmap, vmx_msr_bitmap, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(regs); i++)
		msr_bitmap_allow_read(bitmap, APIC_BASE_MSR + (regs[i] >> 4));
	/* ISR, TMR and IRR: eight registers each. */
	for (i = 0; i < 8; i++) {
		msr_bitmap_allow_read(bitmap, APIC_BASE_MSR + (APIC_ISR >> 4) + i);
		msr_bitmap_allow_read(bitmap, APIC_BASE_MSR + (APIC_TMR >> 4) + i);
		msr_bitmap_allow_read(bitmap, APIC_BASE_MSR + (APIC_IRR >> 4) + i);
	}
	msr_bitmap_allow_write(bitmap, APIC_BASE_MSR + (APIC_TASKPRI >> 4));
	msr_bitmap_allow_write(bitmap, APIC_BASE_MSR + (APIC_EOI >> 4));
}

/*
 * A control word from its capability MSR (SDM Vol 3 A.3-A.5): the low half
 * says which bits must be 1, the high half which may be 1.
 */
static int vmx_adjust(u32 min, u32 opt, u32 msr, u32 *result)
{
	u32 must, may, ctl;

	rdmsr(msr, must, may);
	ctl = ((min | opt) & may) | must;
	if ((ctl & min) != min)
		return -EIO;
	*result = ctl;
	return 0;
}

static int vmx_setup_controls(bool true_ctls)
{
	u64 cap;
	u32 vpid_cap;

	/*
	 * Virtual NMIs: the CPU tracks the guest's NMI blocking (until its
	 * IRET) and offers NMI-window exiting (SDM Vol 3 25.3).
	 */
	if (vmx_adjust(PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
		       PIN_BASED_VIRTUAL_NMIS,
		       (backstop_us ? PIN_BASED_VMX_PREEMPTION_TIMER : 0),
		       true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
				   MSR_IA32_VMX_PINBASED_CTLS, &vmx_cfg.pin))
		return -EIO;
	/*
	 * Everything that must not reach the host exits: HLT, MWAIT/MONITOR,
	 * every port (unconditional I/O exiting), CR8 (no TPR shadow yet: the
	 * guest must not write the host's TPR), the debug registers (DR0-DR3
	 * are the host's, dr.c), RDPMC (the host's counters), MSRs outside
	 * the bitmap.
	 */
	if (vmx_adjust(CPU_BASED_HLT_EXITING | CPU_BASED_MWAIT_EXITING |
		       CPU_BASED_MONITOR_EXITING | CPU_BASED_UNCOND_IO_EXITING |
		       CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING |
		       CPU_BASED_MOV_DR_EXITING | CPU_BASED_RDPMC_EXITING |
		       CPU_BASED_USE_MSR_BITMAPS |
		       CPU_BASED_USE_TSC_OFFSETTING | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS |
		       CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING,
		       enable_apicv ? CPU_BASED_TPR_SHADOW : 0,
		       true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
				   MSR_IA32_VMX_PROCBASED_CTLS, &vmx_cfg.exec))
		return -EIO;
	/* Only checked for: turned on per vCPU while an event waits. */
	vmx_cfg.exec &= ~(CPU_BASED_INTR_WINDOW_EXITING | CPU_BASED_NMI_WINDOW_EXITING);
	/*
	 * PAUSE-loop exiting, when offered: a guest spinning on PAUSE gives
	 * the CPU back (to signals, to the scheduler) instead of holding it.
	 */
	if (vmx_adjust(SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_UNRESTRICTED_GUEST,
		       SECONDARY_EXEC_ENABLE_VPID | SECONDARY_EXEC_ENABLE_INVPCID |
		       SECONDARY_EXEC_PAUSE_LOOP_EXITING |
		       (enable_apicv ? VMX_APICV_EXEC2 : 0) |
		       (enable_apicv && enable_apic_access ?
			SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES : 0),
		       MSR_IA32_VMX_PROCBASED_CTLS2, &vmx_cfg.exec2)) {
		pr_err("VMX without EPT and unrestricted guest is not supported\n");
		return -EIO;
	}
	/*
	 * All four or none: virtual-interrupt delivery and APIC-register
	 * virtualization need the TPR shadow (SDM Vol 3 26.2.1.1), and
	 * without x2APIC virtualization an x2APIC guest would exit on every
	 * EOI. Which of them a VMCS gets is decided per vCPU (vmx_vmcs.c).
	 */
	vmx_cfg.apicv = (vmx_cfg.exec & CPU_BASED_TPR_SHADOW) &&
			(vmx_cfg.exec2 & VMX_APICV_EXEC2) == VMX_APICV_EXEC2;
	vmx_cfg.apic_access = vmx_cfg.apicv &&
			      (vmx_cfg.exec2 & SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES);
	vmx_cfg.exec &= ~CPU_BASED_TPR_SHADOW;
	vmx_cfg.exec2 &= ~(VMX_APICV_EXEC2 | SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES);
	if (vmx_adjust(VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER |
		       VM_EXIT_LOAD_IA32_EFER | VM_EXIT_SAVE_IA32_PAT |
		       VM_EXIT_LOAD_IA32_PAT, 0,
		       true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS,
		       &vmx_cfg.exit))
		return -EIO;
	if (vmx_adjust(VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_LOAD_IA32_PAT, 0,
		       true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS,
		       &vmx_cfg.entry))
		return -EIO;
	/* IA-32e mode is per guest, set with EFER.LMA. */
	vmx_cfg.entry &= ~VM_ENTRY_IA32E_MODE;

	rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, cap);
	if (!(cap & VMX_EPT_PAGE_WALK_4_BIT) || !(cap & VMX_EPTP_WB_BIT) ||
	    !(cap & VMX_EPT_INVEPT_BIT) ||
	    !(cap & (VMX_EPT_EXTENT_CONTEXT_BIT | VMX_EPT_EXTENT_GLOBAL_BIT))) {
		pr_err("EPT without 4-level walks, write-back or INVEPT is not supported\n");
		return -EIO;
	}
	vmx_cfg.ept_ad = cap & VMX_EPT_AD_BIT;
	vmx_cfg.ept_2m = cap & VMX_EPT_2MB_PAGE_BIT;
	vmx_cfg.invept_single = cap & VMX_EPT_EXTENT_CONTEXT_BIT;
	/* <asm/vmx.h> numbers the VPID bits from bit 32 of the MSR (A.10). */
	vpid_cap = cap >> 32;
	vmx_cfg.vpid = (vmx_cfg.exec2 & SECONDARY_EXEC_ENABLE_VPID) &&
		       (vpid_cap & VMX_VPID_INVVPID_BIT) &&
		       (vpid_cap & (VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT |
				    VMX_VPID_EXTENT_GLOBAL_CONTEXT_BIT));
	if (!vmx_cfg.vpid)
		vmx_cfg.exec2 &= ~SECONDARY_EXEC_ENABLE_VPID;
	vmx_cfg.invvpid_single = vpid_cap & VMX_VPID_EXTENT_SINGLE_CONTEXT_BIT;

	/* The timer counts down at the TSC rate >> IA32_VMX_MISC[4:0]. */
	if (vmx_cfg.pin & PIN_BASED_VMX_PREEMPTION_TIMER) {
		u64 ticks;

		rdmsrl(MSR_IA32_VMX_MISC, cap);
		ticks = (u64)tsc_khz * backstop_us / 1000;
		ticks >>= vmx_misc_preemption_timer_rate(cap);
		vmx_cfg.backstop_ticks = clamp_t(u64, ticks, 1, U32_MAX);
	}
	return 0;
}

/*
 * One line at load saying which APIC assists the vCPUs get. Posted-
 * interrupt processing is never used (architecture.md, "APIC
 * virtualization"): interrupts from other threads always go through the
 * descriptor that the vCPU syncs before entry.
 */
static void vmx_report_apicv(void)
{
	if (vmx_cfg.apicv)
		pr_info("VMX APIC virtualization: TPR shadow, %sAPIC-register virtualization, virtual-interrupt delivery, x2APIC virtualization; posted interrupts synced before entry (no hardware posting)\n",
			vmx_cfg.apic_access ? "APIC-access page, " : "");
	else
		pr_info("VMX APIC virtualization: off (%s); interrupts injected, posted interrupts synced before entry\n",
			enable_apicv ? "not offered by the CPU" : "enable_apicv=0");
}

static void vmx_free_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		hvx_free_pages(NULL, vc->vmxon, get_order(vmx_cfg.vmcs_size));
		vc->vmxon = NULL;
	}
}

static void vmx_hardware_unsetup(void)
{
	vmx_free_cpu_pages();
	hvx_free_page(NULL, vmx_msr_bitmap);
	vmx_msr_bitmap = NULL;
	hvx_free_page(NULL, vmx_msr_bitmap_x2apic);
	vmx_msr_bitmap_x2apic = NULL;
	bitmap_free(vmx_vpids);
	vmx_vpids = NULL;
}

static int vmx_hardware_setup(void)
{
	u64 feat, basic;
	unsigned int i;
	int cpu;

	if (!boot_cpu_has(X86_FEATURE_VMX))
		return -ENODEV;
	rdmsrl(MSR_IA32_FEAT_CTL, feat);
	if (!(feat & FEAT_CTL_LOCKED) || !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("VMX is disabled by the firmware (IA32_FEATURE_CONTROL)\n");
		return -ENODEV;
	}
	/* IA32_VMX_BASIC (SDM Vol 3 A.1). */
	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	vmx_cfg.revision_id = basic & 0x7fffffff;
	vmx_cfg.vmcs_size = (basic >> 32) & 0x1fff;
	vmx_cfg.ins_outs_info = basic & VMX_BASIC_INOUT;
	if (vmx_cfg.vmcs_size > PAGE_SIZE ||
	    ((basic & VMX_BASIC_MEM_TYPE_MASK) >> VMX_BASIC_MEM_TYPE_SHIFT) !=
	    VMX_BASIC_MEM_TYPE_WB)
		return -ENODEV;
	if (vmx_setup_controls(basic & VMX_BASIC_TRUE_CTLS))
		return -ENODEV;
	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, vmx_cfg.cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, vmx_cfg.cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, vmx_cfg.cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, vmx_cfg.cr4_fixed1);
	/* Not x86_phys_bits, which memory encryption may have lowered. */
	vmx_cfg.phys_bits = cpuid_eax(0x80000008) & 0xff;
	vmx_cfg.linear_bits = (cpuid_eax(0x80000008) >> 8) & 0xff;

	vmx_msr_bitmap = hvx_alloc_page(NULL);
	vmx_vpids = bitmap_zalloc(VMX_NR_VPIDS, GFP_KERNEL);
	if (!vmx_msr_bitmap || !vmx_vpids)
		goto nomem;
	__set_bit(0, vmx_vpids);
	memset(vmx_msr_bitmap, 0xff, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(vmx_auto_msrs); i++)
		msr_bitmap_allow(vmx_msr_bitmap, vmx_auto_msrs[i]);
	for (i = 0; i < ARRAY_SIZE(vmx_direct_msrs); i++)
		msr_bitmap_allow(vmx_msr_bitmap, vmx_direct_msrs[i]);
	if (vmx_cfg.apicv) {
		vmx_msr_bitmap_x2apic = hvx_alloc_page(NULL);
		if (!vmx_msr_bitmap_x2apic)
			goto nomem;
		vmx_setup_x2apic_bitmap(vmx_msr_bitmap_x2apic);
	}

	for_each_possible_cpu(cpu) {
		struct vmx_cpu *vc = per_cpu_ptr(&vmx_cpu, cpu);

		vc->vmxon = hvx_alloc_pages(NULL, get_order(vmx_cfg.vmcs_size));
		if (!vc->vmxon)
			goto nomem;
		*(u32 *)vc->vmxon = vmx_cfg.revision_id;
		INIT_LIST_HEAD(&vc->loaded);
	}
	pr_info("VMX: EPT%s%s, VPID %s, unrestricted guest, backstop %s\n",
		vmx_cfg.ept_ad ? " with A/D" : "", vmx_cfg.ept_2m ? ", 2M pages" : "",
		vmx_cfg.vpid ? "on" : "off", vmx_cfg.backstop_ticks ? "on" : "off");
	vmx_report_apicv();
	return 0;
nomem:
	vmx_hardware_unsetup();
	return -ENOMEM;
}

void vmx_insn_fault(void)
{
	WARN_ONCE(!hvx_is_rebooting(), "hvx: VMX instruction faulted with VMX off\n");
}

/*
 * CR4.VMXE already set means another hypervisor (kvm_intel) is in VMX
 * operation on this CPU: never VMXON over it (SDM Vol 3 24.7).
 */
static int vmx_cpu_enable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	u64 cr0 = read_cr0(), cr4 = __read_cr4();
	unsigned int i;

	if (cr4 & X86_CR4_VMXE)
		return -EBUSY;
	/* CR0 must respect the VMX fixed bits (SDM Vol 3 24.8). */
	if ((cr0 & vmx_cfg.cr0_fixed0) != vmx_cfg.cr0_fixed0 ||
	    (cr0 & ~vmx_cfg.cr0_fixed1))
		return -EIO;
	hvx_cr4_set_bits(X86_CR4_VMXE);
	if (vmx_vmxon(__pa(vc->vmxon))) {
		hvx_cr4_clear_bits(X86_CR4_VMXE);
		return -EBUSY;
	}
	/* Translations a previous VMX user left behind are not ours. */
	vmx_invept(VMX_EPT_EXTENT_GLOBAL, 0);
	vc->current_vmcs = NULL;
	for (i = 0; i < VMX_NR_AUTO_MSRS; i++)
		rdmsrl(vmx_auto_msrs[i], vc->host_msrs[i]);
	return 0;
}

/* VMCLEAR @vmx on this CPU, where it is loaded. Interrupts off. */
static void vmx_clear_here(struct hvx_vmx_vcpu *vmx)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (vmx->cpu != smp_processor_id())
		return;
	vmx_vmclear(vmx->vmcs_pa);
	if (vc->current_vmcs == vmx)
		vc->current_vmcs = NULL;
	list_del(&vmx->loaded_node);
	vmx->launched = false;
	/* Publish the list removal before the CPU field (read by others). */
	smp_wmb();
	WRITE_ONCE(vmx->cpu, -1);
}

static void vmx_clear_ipi(void *data)
{
	vmx_clear_here(data);
}

/* VMCLEAR @vmx wherever it is loaded. */
static void vmx_clear_remote(struct hvx_vmx_vcpu *vmx)
{
	int cpu = READ_ONCE(vmx->cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_clear_ipi, vmx, 1);
}

static void vmx_cpu_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	struct hvx_vmx_vcpu *vmx, *tmp;
	unsigned long flags;

	local_irq_save(flags);
	list_for_each_entry_safe(vmx, tmp, &vc->loaded, loaded_node)
		vmx_clear_here(vmx);
	local_irq_restore(flags);
	vmx_vmxoff();
	hvx_cr4_clear_bits(X86_CR4_VMXE);
}

/*
 * The crash path (crash.c), in NMI context, possibly on a CPU that was in
 * the middle of vcpu_load or vmx_clear_here. The walk of the loaded list
 * takes no lock: it only reads forward, and list_add and list_del publish
 * through the predecessor's next pointer, so a walk that interrupted one
 * sees the list either before or after it. VMCLEAR writes each VMCS back
 * to memory, where a dump finds it current (SDM Vol 3 25.11.3). CR4.VMXE
 * may be set without VMXON having run yet: VMXOFF then faults (#UD) and
 * the fault is skipped.
 */
static void vmx_emergency_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	struct hvx_vmx_vcpu *vmx;

	if (!(__read_cr4() & X86_CR4_VMXE))
		return;
	list_for_each_entry(vmx, &vc->loaded, loaded_node)
		vmx_vmclear(vmx->vmcs_pa);
	vmx_vmxoff_safe();
	hvx_cr4_clear_bits(X86_CR4_VMXE);
}

static int vmx_vm_init(struct hvx_vm *vm)
{
	struct hvx_vmx_vm *vv;

	vv = kzalloc(sizeof(*vv), GFP_KERNEL_ACCOUNT);
	if (!vv)
		return -ENOMEM;
	/* Its contents never matter: the CPU turns accesses to it into exits
	 * or virtual-APIC page accesses (SDM Vol 3 29.4).
	 */
	if (vmx_cfg.apic_access) {
		vv->apic_access = hvx_alloc_page(vm);
		if (!vv->apic_access) {
			kfree(vv);
			return -ENOMEM;
		}
	}
	vm->arch = vv;
	return 0;
}

/* After the last vCPU and the EPT are gone. */
static void vmx_vm_destroy(struct hvx_vm *vm)
{
	struct hvx_vmx_vm *vv = to_vmx_vm(vm);

	if (!vv)
		return;
	hvx_free_page(vm, vv->apic_access);
	kfree(vv);
	vm->arch = NULL;
}

static u16 vmx_alloc_vpid(void)
{
	u16 vpid = 0;

	if (!vmx_cfg.vpid)
		return 0;
	spin_lock(&vmx_vpid_lock);
	vpid = find_first_zero_bit(vmx_vpids, VMX_NR_VPIDS);
	if (vpid < VMX_NR_VPIDS)
		__set_bit(vpid, vmx_vpids);
	else
		vpid = 0;	/* out of VPIDs: share the host's, flush always */
	spin_unlock(&vmx_vpid_lock);
	return vpid;
}

static void vmx_free_vpid(u16 vpid)
{
	if (!vpid)
		return;
	spin_lock(&vmx_vpid_lock);
	__clear_bit(vpid, vmx_vpids);
	spin_unlock(&vmx_vpid_lock);
}

static int vmx_vcpu_create(struct hvx_vcpu *vcpu)
{
	struct hvx_vmx_vcpu *vmx;

	vmx = kzalloc(sizeof(*vmx), GFP_KERNEL_ACCOUNT);
	if (!vmx)
		return -ENOMEM;
	vmx->vmcs = hvx_alloc_page(vcpu->vm);
	vmx->msr_page = hvx_alloc_page(vcpu->vm);
	if (!vmx->vmcs || !vmx->msr_page) {
		hvx_free_page(vcpu->vm, vmx->vmcs);
		hvx_free_page(vcpu->vm, vmx->msr_page);
		kfree(vmx);
		return -ENOMEM;
	}
	*(u32 *)vmx->vmcs = vmx_cfg.revision_id;
	vmx->vmcs_pa = __pa(vmx->vmcs);
	vmx->cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_node);
	vmx->guest_msrs = vmx->msr_page;
	vmx->host_msrs = vmx->msr_page + PAGE_SIZE / 2;
	vmx->vpid = vmx_alloc_vpid();
	vmx->eptp = vmx_eptp(vcpu->vm->mmu.root_pa);
	vcpu->arch = vmx;
	return 0;
}

static void vmx_vcpu_free(struct hvx_vcpu *vcpu)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_clear_remote(vmx);
	vmx_apic_odd_drop(vcpu);
	if (hvx_vmwrite_errors)
		pr_err_once("%lu VMWRITEs failed (an hvx bug)\n", hvx_vmwrite_errors);
	vmx_free_vpid(vmx->vpid);
	hvx_free_page(vcpu->vm, vmx->vmcs);
	hvx_free_page(vcpu->vm, vmx->msr_page);
	kfree(vmx);
	vcpu->arch = NULL;
}

static void vmx_vcpu_reset(struct hvx_vcpu *vcpu)
{
	vmx_vmcs_reset(vcpu);
}

/* The host state that differs between CPUs (SDM Vol 3 25.5). */
static void vmx_set_host_cpu_state(void)
{
	struct desc_ptr gdt, idt;
	struct ldttss_desc *tss;
	u64 tr_base, sysenter_esp;

	native_store_gdt(&gdt);
	store_idt(&idt);
	/* A 64-bit TSS descriptor spans two entries (SDM Vol 3 7.2.3). */
	tss = (struct ldttss_desc *)(gdt.address + GDT_ENTRY_TSS * 8);
	tr_base = tss->base0 | ((u64)tss->base1 << 16) | ((u64)tss->base2 << 24) |
		  ((u64)tss->base3 << 32);
	rdmsrl(MSR_IA32_SYSENTER_ESP, sysenter_esp);
	vmcs_write(HOST_GDTR_BASE, gdt.address);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	vmcs_write(HOST_TR_BASE, tr_base);
	vmcs_write(HOST_IA32_SYSENTER_ESP, sysenter_esp);
}

/*
 * Make @vcpu's VMCS current on @cpu (preemption off). Moving CPUs means
 * VMCLEAR on the old one, a VMLAUNCH next, new per-CPU host state, and a
 * TLB flush: translations for this EPTP/VPID cached here may be stale.
 */
static void vmx_vcpu_load(struct hvx_vcpu *vcpu, int cpu)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	bool moved = READ_ONCE(vmx->cpu) != cpu;
	unsigned long flags;

	if (moved) {
		vmx_clear_remote(vmx);
		/* Pairs with the smp_wmb() in vmx_clear_here(). */
		smp_rmb();
		/* Inactive now: VMCLEAR (re)initialises it here (SDM Vol 3 25.11.3). */
		vmx_vmclear(vmx->vmcs_pa);
		vmx->launched = false;
		local_irq_save(flags);
		list_add(&vmx->loaded_node, &vc->loaded);
		WRITE_ONCE(vmx->cpu, cpu);
		local_irq_restore(flags);
	}
	if (vc->current_vmcs != vmx) {
		vmx_vmptrld(vmx->vmcs_pa);
		vc->current_vmcs = vmx;
	}
	if (moved) {
		vmx_set_host_cpu_state();
		hvx_vcpu_request(vcpu, HVX_REQ_TLB_FLUSH);
	}
}

static void vmx_vcpu_put(struct hvx_vcpu *vcpu)
{
}

/* Forget cached guest translations of this vCPU on this CPU. */
static void vmx_flush_tlb(struct hvx_vcpu *vcpu)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);

	/* INVEPT drops guest-physical and combined mappings (SDM Vol 3 29.4.3.1). */
	if (vmx_cfg.invept_single)
		vmx_invept(VMX_EPT_EXTENT_CONTEXT, vmx->eptp);
	else
		vmx_invept(VMX_EPT_EXTENT_GLOBAL, 0);
	if (vmx->vpid) {
		if (vmx_cfg.invvpid_single)
			vmx_invvpid(VMX_VPID_EXTENT_SINGLE_CONTEXT, vmx->vpid, 0);
		else
			vmx_invvpid(VMX_VPID_EXTENT_ALL_CONTEXT, 0, 0);
	}
}

/*
 * An NMI that caused the exit was taken by VMX, not by the host, and NMIs
 * stay blocked until the next IRET (SDM Vol 3 27.1, 34.8). Send it again
 * to this CPU and unblock with an IRET to the next instruction, so the
 * host's own NMI handler runs: no entry point private to KVM is needed.
 */
static void vmx_reraise_nmi(void)
{
	hvx_send_self_nmi();
	asm volatile("mov %%ss, %%rax\n\t"
		     "push %%rax\n\t"
		     "push %%rsp\n\t"
		     "addq $8, (%%rsp)\n\t"
		     "pushfq\n\t"
		     "mov %%cs, %%rax\n\t"
		     "push %%rax\n\t"
		     "lea 1f(%%rip), %%rax\n\t"
		     "push %%rax\n\t"
		     "iretq\n"
		     "1:"
		     : : : "rax", "memory", "cc");
}

/* Host selectors VM exit leaves at 0 (SDM Vol 3 27.5.2): restore them. */
struct vmx_host_segs {
	u16 ds, es, fs, gs;
	u64 fs_base;
};

static void vmx_save_host_segs(struct vmx_host_segs *h)
{
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	rdmsrl(MSR_FS_BASE, h->fs_base);
}

static void vmx_restore_host(const struct vmx_host_segs *h)
{
	struct desc_ptr gdt, idt;

	/* VM exit sets the GDTR and IDTR limits to 0xffff (SDM Vol 3 27.5.2). */
	native_store_gdt(&gdt);
	gdt.size = GDT_SIZE - 1;
	native_load_gdt(&gdt);
	store_idt(&idt);
	idt.size = IDT_ENTRIES * 16 - 1;
	native_load_idt(&idt);
	/* ... and the TR limit to 0x67, cutting off the I/O bitmap. */
	hvx_invalidate_tss_limit();
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, h->fs_base);
	}
	if (h->gs)
		hvx_load_gs_index(h->gs);
}

/* Host state a thread (not a CPU) owns, refreshed before every entry. */
static void vmx_set_host_thread_state(struct hvx_vmx_vcpu *vmx,
				      const struct vmx_host_segs *h)
{
	unsigned int i;
	u64 gs_base;

	vmcs_write(HOST_CR3, __native_read_cr3());
	vmcs_write(HOST_CR4, __read_cr4());
	vmcs_write(HOST_FS_BASE, h->fs_base);
	rdmsrl(MSR_GS_BASE, gs_base);
	vmcs_write(HOST_GS_BASE, gs_base);
	for (i = 0; i < VMX_NR_AUTO_MSRS; i++) {
		if (vmx->host_msrs[i].index == MSR_KERNEL_GS_BASE)
			rdmsrl(MSR_KERNEL_GS_BASE, vmx->host_msrs[i].value);
		else
			vmx->host_msrs[i].value = this_cpu_ptr(&vmx_cpu)->host_msrs[i];
	}
}

static void vmx_run(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_host_segs host;
	int fail;

	/* Guest state the CPU would refuse: fail as it would, but say why. */
	if (vmx_entry_refused(vcpu, exit))
		return;
	vmx_save_host_segs(&host);
	vmx_set_host_thread_state(vmx, &host);
	vmcs_write(GUEST_RSP, vcpu->regs[HVX_RSP]);
	vmcs_write(GUEST_RIP, vcpu->rip);
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);
	vmcs_write(TSC_OFFSET, vcpu->tsc_offset);
	/* VMX does not switch CR2 (SDM Vol 3 27.3.1.1 lists what it saves). */
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);

	fail = __hvx_vmx_vcpu_run(vcpu->regs, vmx->launched, HOST_RSP);

	vmx->cr2 = native_read_cr2();
	vmx_restore_host(&host);
	if (fail) {
		/* VMfailValid leaves its reason in the VMCS (SDM Vol 3 31.4). */
		exit->reason = HVX_EXIT_FAIL_ENTRY;
		exit->hw_reason = vmcs_read32(VM_INSTRUCTION_ERROR);
		return;
	}
	vcpu->regs[HVX_RSP] = vmcs_read(GUEST_RSP);
	vcpu->rip = vmcs_read(GUEST_RIP);
	vcpu->rflags = vmcs_read(GUEST_RFLAGS);
	vmx_decode_exit(vcpu, exit);
	/* A failed entry leaves the VMCS clear: VMLAUNCH again next time. */
	if (exit->reason != HVX_EXIT_FAIL_ENTRY) {
		vmx->launched = true;
		/* As the guest left them, they pass VM entry's checks. */
		vmx->valid_rip = vcpu->rip;
		vmx->valid_rflags = vcpu->rflags;
	}
	if (exit->reason == HVX_EXIT_INTR && exit->info[1])
		vmx_reraise_nmi();
}

const struct hvx_backend_ops hvx_vmx_ops = {
	.name			= "Intel VMX",
	.hardware_setup		= vmx_hardware_setup,
	.hardware_unsetup	= vmx_hardware_unsetup,
	.cpu_enable		= vmx_cpu_enable,
	.cpu_disable		= vmx_cpu_disable,
	.emergency_disable	= vmx_emergency_disable,
	.kvm_module		= "kvm_intel",
	.vm_init		= vmx_vm_init,
	.vm_destroy		= vmx_vm_destroy,
	.vcpu_create		= vmx_vcpu_create,
	.vcpu_free		= vmx_vcpu_free,
	.vcpu_reset		= vmx_vcpu_reset,
	.vcpu_load		= vmx_vcpu_load,
	.vcpu_put		= vmx_vcpu_put,
	.run			= vmx_run,
	.flush_tlb		= vmx_flush_tlb,
	.get_sregs		= vmx_get_sregs,
	.set_sregs		= vmx_set_sregs,
	.get_segment		= vmx_get_segment,
	.get_cr			= vmx_get_cr,
	.set_cr			= vmx_set_cr,
	.set_cr8		= vmx_set_cr8,
	.get_efer		= vmx_get_efer,
	.get_cpl		= vmx_get_cpl,
	.get_msr		= vmx_get_msr,
	.set_msr		= vmx_set_msr,
	.inject_exception	= vmx_inject_exception,
	.cancel_event		= vmx_cancel_event,
	.event_queued		= vmx_event_queued,
	.inject_irq		= vmx_inject_irq,
	.enable_irq_window	= vmx_enable_irq_window,
	.interrupt_shadow	= vmx_interrupt_shadow,
	.set_interrupt_shadow	= vmx_set_interrupt_shadow,
	.get_event		= vmx_get_event,
	.set_event		= vmx_set_event,
	.nmi_blocked		= vmx_nmi_blocked,
	.set_nmi_blocked	= vmx_set_nmi_blocked,
	.inject_nmi		= vmx_inject_nmi,
	.enable_nmi_window	= vmx_enable_nmi_window,
	.apicv_load		= vmx_apicv_load,
	.apic_base_changed	= vmx_apic_base_changed,
	.apic_access_map	= vmx_apic_access_map,
	.pte_fmt		= &vmx_ept_fmt,
};
