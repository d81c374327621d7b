/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one table a hardware backend (module/svm, module/vmx) fills in.
 * The core calls only these; the backend calls back into the core only
 * through hvx.h.
 */
#ifndef HVX_BACKEND_H
#define HVX_BACKEND_H

#include "hvx.h"

struct hvx_pte_fmt;

struct hvx_backend_ops {
	const char *name;

	/* Module load/unload: probe the CPU; -ENODEV if unusable. */
	int (*hardware_setup)(void);
	void (*hardware_unsetup)(void);

	/*
	 * Enable/disable virtualization on the calling CPU (preemption off).
	 * cpu_enable returns -EBUSY if another hypervisor owns the CPU.
	 */
	int (*cpu_enable)(void);
	void (*cpu_disable)(void);
	/*
	 * The host is crashing (crash.c): leave VMX/SVM on the calling CPU,
	 * whatever it was doing. NMI context: no locks, no printk.
	 */
	void (*emergency_disable)(void);
	/* The KVM module for this vendor, which takes the crash callback. */
	const char *kvm_module;
	/*
	 * A shutdown (triple fault) exit leaves the guest state undefined:
	 * the core resets the vCPU before reporting KVM_EXIT_SHUTDOWN.
	 */
	bool shutdown_loses_state;

	int (*vm_init)(struct hvx_vm *vm);
	void (*vm_destroy)(struct hvx_vm *vm);

	int (*vcpu_create)(struct hvx_vcpu *vcpu);
	void (*vcpu_free)(struct hvx_vcpu *vcpu);
	/* Architectural power-on state (SDM Vol 3 9.1.1, APM Vol 2 14.1.3). */
	void (*vcpu_reset)(struct hvx_vcpu *vcpu);
	/* Called with preemption disabled when the vCPU thread gets/loses @cpu. */
	void (*vcpu_load)(struct hvx_vcpu *vcpu, int cpu);
	void (*vcpu_put)(struct hvx_vcpu *vcpu);

	/*
	 * Enter the guest once. Called with preemption and interrupts disabled
	 * and guest FPU state loaded; returns with host interrupts serviced
	 * the vendor's way and the exit decoded into @exit.
	 */
	void (*run)(struct hvx_vcpu *vcpu, struct hvx_exit *exit);
	/* Forget every cached guest translation of this vCPU. */
	void (*flush_tlb)(struct hvx_vcpu *vcpu);

	void (*get_sregs)(struct hvx_vcpu *vcpu, struct kvm_sregs *sregs);
	/* The core validated @sregs; the backend only stores them. */
	void (*set_sregs)(struct hvx_vcpu *vcpu, const struct kvm_sregs *sregs);
	void (*get_segment)(struct hvx_vcpu *vcpu, struct kvm_segment *s, int seg);
	u64 (*get_cr)(struct hvx_vcpu *vcpu, int cr);
	/*
	 * A guest write to a CR it does not own, already checked against
	 * the architectural rules (cr.c). NULL if the backend never exits
	 * on CR accesses.
	 */
	int (*set_cr)(struct hvx_vcpu *vcpu, int cr, u64 val);
	/* CR8 as the in-kernel APIC's TPR has it (lapic.c keeps them in step). */
	void (*set_cr8)(struct hvx_vcpu *vcpu, u8 cr8);
	u64 (*get_efer)(struct hvx_vcpu *vcpu);
	int (*get_cpl)(struct hvx_vcpu *vcpu);

	/* MSRs whose home is the VMCB/VMCS; 1 if @index is not one of them. */
	int (*get_msr)(struct hvx_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct hvx_vcpu *vcpu, u32 index, u64 data);

	void (*inject_exception)(struct hvx_vcpu *vcpu, u8 vector,
				 bool has_error, u32 error_code);
	/* Drop an event queued for the next entry (re-injected or injected). */
	void (*cancel_event)(struct hvx_vcpu *vcpu);
	/* Whether the next entry already delivers an event. */
	bool (*event_queued)(struct hvx_vcpu *vcpu);
	/* External interrupt @vector at the next entry; the core checked IF. */
	void (*inject_irq)(struct hvx_vcpu *vcpu, u8 vector);
	/*
	 * Exit with HVX_EXIT_IRQ_WINDOW as soon as the guest can take an
	 * external interrupt; the exit closes the window again.
	 */
	void (*enable_irq_window)(struct hvx_vcpu *vcpu);
	/*
	 * STI or MOV SS blocking, as KVM_X86_SHADOW_INT_* bits: interrupts
	 * wait one more instruction. Set to 0 when hvx emulated past the
	 * instruction that began it.
	 */
	u8 (*interrupt_shadow)(struct hvx_vcpu *vcpu);
	void (*set_interrupt_shadow)(struct hvx_vcpu *vcpu, u8 shadow);
	/* The event the next entry delivers (HVX_EVENT_NONE: none). */
	void (*get_event)(struct hvx_vcpu *vcpu, struct hvx_event *ev);
	void (*set_event)(struct hvx_vcpu *vcpu, const struct hvx_event *ev);
	/* An NMI is being handled (delivered, its IRET not yet executed). */
	bool (*nmi_blocked)(struct hvx_vcpu *vcpu);
	void (*set_nmi_blocked)(struct hvx_vcpu *vcpu, bool blocked);
	/* NMI at the next entry; the core checked blocking and shadow. */
	void (*inject_nmi)(struct hvx_vcpu *vcpu);
	/* Exit with HVX_EXIT_NMI_WINDOW once an NMI could be injected. */
	void (*enable_nmi_window)(struct hvx_vcpu *vcpu);

	/*
	 * APIC virtualization, for vCPUs with vcpu->apicv set (NULL where
	 * the backend never sets it). The APIC's register page
	 * (hvx_lapic_page()) is the virtual-APIC page. apicv_load runs
	 * before each entry, interrupts off, with the vectors for RVI (the
	 * highest in the IRR, or -1: none, or held back while the guest
	 * cannot take it) and SVI (the highest in the ISR, -1: none) and
	 * the 256-bit set of vectors whose EOI must exit (HVX_EXIT_EOI).
	 * apic_base_changed follows a change of IA32_APIC_BASE (mode or
	 * address). apic_access_map is asked
	 * about a second-level fault at @gpa that no memslot serves: it
	 * returns true if it mapped the APIC-access page there, so that the
	 * CPU virtualizes the guest's xAPIC accesses (HVX_EXIT_APIC_ACCESS
	 * and HVX_EXIT_APIC_WRITE for what it leaves to hvx).
	 */
	void (*apicv_load)(struct hvx_vcpu *vcpu, int irr, int isr,
			   const u64 *eoi_exit);
	void (*apic_base_changed)(struct hvx_vcpu *vcpu);
	bool (*apic_access_map)(struct hvx_vcpu *vcpu, u64 gpa);

	/* Second-level page table format; the root is vm->mmu.root_pa. */
	const struct hvx_pte_fmt *pte_fmt;
};

extern const struct hvx_backend_ops hvx_svm_ops;
extern const struct hvx_backend_ops hvx_vmx_ops;

#endif /* HVX_BACKEND_H */
