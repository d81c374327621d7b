/* SPDX-License-Identifier: GPL-2.0 */
/* Intel VMX backend: private state shared by the files of module/vmx/. */
#ifndef HVX_VMX_H
#define HVX_VMX_H

#include <linux/list.h>
#include <asm/vmx.h>

#include "hvx.h"
#include "mmu/mmu.h"
#include "vmx_insn.h"

/* MSRs swapped through the VM-entry/exit MSR areas (SDM Vol 3 25.7.2);
 * entries are <asm/vmx.h>'s struct vmx_msr_entry.
 */
#define VMX_NR_AUTO_MSRS	5

/* The secondary controls of APIC virtualization, used all together. */
#define VMX_APICV_EXEC2	(SECONDARY_EXEC_APIC_REGISTER_VIRT |		\
			 SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY |		\
			 SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE)

/* What the capability MSRs let hvx use, decided once at module load. */
struct vmx_config {
	u32 revision_id;
	u32 vmcs_size;
	u32 pin, exec, exec2, exit, entry;
	bool ept_ad;
	bool ept_2m;		/* EPT maps 2 MiB pages (VPID_CAP bit 16) */
	bool vpid;
	bool invept_single;
	bool invvpid_single;
	bool ins_outs_info;	/* VM_EXIT_INSTRUCTION_INFO for INS/OUTS */
	/*
	 * APIC virtualization for vCPUs with an in-kernel APIC: TPR shadow,
	 * APIC-register virtualization, virtual-interrupt delivery and
	 * x2APIC virtualization, all or none (enable_apicv).
	 */
	bool apicv;
	/* With apicv: xAPIC accesses through the APIC-access page. */
	bool apic_access;
	u32 backstop_ticks;	/* VMX-preemption timer value, 0 = unused */
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	/* CPUID.80000008H:EAX, the widths VM entry checks against. */
	u8 phys_bits, linear_bits;
};

extern struct vmx_config vmx_cfg;

/* Per VM. */
struct hvx_vmx_vm {
	/*
	 * The APIC-access page (SDM Vol 3 29.4), mapped in the EPT at the
	 * default APIC base while no vCPU has its APIC elsewhere, disabled
	 * or in x2APIC mode; apic_odd counts those vCPUs (vmx_vmcs.c).
	 */
	void *apic_access;
	atomic_t apic_odd;
};

static inline struct hvx_vmx_vm *to_vmx_vm(struct hvx_vm *vm)
{
	return vm->arch;
}

/* Per vCPU. */
struct hvx_vmx_vcpu {
	void *vmcs;
	u64 vmcs_pa;
	int cpu;		/* where the VMCS is loaded (current or not), or -1 */
	bool launched;		/* VMRESUME, not VMLAUNCH */
	struct list_head loaded_node;	/* on that CPU's list of loaded VMCSs */
	u16 vpid;
	u64 cr0;		/* what the guest believes CR0 / CR4 hold */
	u64 cr4;
	u64 cr8;
	u64 cr2;		/* VMX does not switch CR2 */
	u64 eptp;
	u64 host_rsp;		/* last HOST_RSP written */
	/* APIC virtualization (vcpu->apicv): */
	void *vapic;		/* the virtual-APIC page, the APIC's registers */
	u64 eoi_exit[4];	/* the EOI-exit bitmap as last written */
	/* The external interrupt this entry injects, or -1 (vmx_exit.c). */
	int entry_irq;
	bool apic_odd;		/* counted in hvx_vmx_vm.apic_odd */
	/* Guest values in, host values out (SDM Vol 3 25.7.2, 26.4, 27.6). */
	struct vmx_msr_entry *guest_msrs;
	struct vmx_msr_entry *host_msrs;
	void *msr_page;
	/*
	 * Guest state changed since it last passed vmx_entry_refused()'s
	 * checks; RIP and RFLAGS as they last passed or as the CPU left them.
	 */
	bool state_dirty;
	u64 valid_rip;
	u64 valid_rflags;
};

static inline struct hvx_vmx_vcpu *to_vmx(struct hvx_vcpu *vcpu)
{
	return vcpu->arch;
}

extern void *vmx_msr_bitmap;
extern void *vmx_msr_bitmap_x2apic;
extern const u32 vmx_auto_msrs[VMX_NR_AUTO_MSRS];

/* vmx_entry.S: 0 after a VM exit, 1 if VMLAUNCH/VMRESUME failed. */
int __hvx_vmx_vcpu_run(u64 *regs, bool launched, unsigned long host_rsp_field);
/* Where VM exits land (HOST_RIP), inside __hvx_vmx_vcpu_run. */
extern char __hvx_vmx_exit[];

/* vmx_vmcs.c */
void vmx_vmcs_reset(struct hvx_vcpu *vcpu);
void vmx_get_sregs(struct hvx_vcpu *vcpu, struct kvm_sregs *sregs);
void vmx_set_sregs(struct hvx_vcpu *vcpu, const struct kvm_sregs *sregs);
void vmx_get_segment(struct hvx_vcpu *vcpu, struct kvm_segment *var, int seg);
u64 vmx_get_cr(struct hvx_vcpu *vcpu, int cr);
int vmx_set_cr(struct hvx_vcpu *vcpu, int cr, u64 val);
void vmx_set_cr8(struct hvx_vcpu *vcpu, u8 cr8);
u64 vmx_get_efer(struct hvx_vcpu *vcpu);
int vmx_get_cpl(struct hvx_vcpu *vcpu);
int vmx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data);
void vmx_inject_exception(struct hvx_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error_code);
void vmx_cancel_event(struct hvx_vcpu *vcpu);
bool vmx_event_queued(struct hvx_vcpu *vcpu);
void vmx_inject_irq(struct hvx_vcpu *vcpu, u8 vector);
void vmx_enable_irq_window(struct hvx_vcpu *vcpu);
void vmx_disable_irq_window(struct hvx_vcpu *vcpu);
u8 vmx_interrupt_shadow(struct hvx_vcpu *vcpu);
void vmx_set_interrupt_shadow(struct hvx_vcpu *vcpu, u8 shadow);
void vmx_get_event(struct hvx_vcpu *vcpu, struct hvx_event *ev);
void vmx_set_event(struct hvx_vcpu *vcpu, const struct hvx_event *ev);
bool vmx_nmi_blocked(struct hvx_vcpu *vcpu);
void vmx_set_nmi_blocked(struct hvx_vcpu *vcpu, bool blocked);
void vmx_inject_nmi(struct hvx_vcpu *vcpu);
void vmx_enable_nmi_window(struct hvx_vcpu *vcpu);
void vmx_disable_nmi_window(struct hvx_vcpu *vcpu);
bool vmx_entry_refused(struct hvx_vcpu *vcpu, struct hvx_exit *exit);
void vmx_apicv_load(struct hvx_vcpu *vcpu, int irr, int isr, const u64 *eoi_exit);
void vmx_apic_base_changed(struct hvx_vcpu *vcpu);
bool vmx_apic_access_map(struct hvx_vcpu *vcpu, u64 gpa);
void vmx_apic_odd_drop(struct hvx_vcpu *vcpu);

/* vmx_exit.c */
void vmx_decode_exit(struct hvx_vcpu *vcpu, struct hvx_exit *exit);

/* vmx_ept.c */
extern const struct hvx_pte_fmt vmx_ept_fmt;
u64 vmx_eptp(phys_addr_t root_pa);

#endif /* HVX_VMX_H */
