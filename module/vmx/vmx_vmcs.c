// SPDX-License-Identifier: GPL-2.0
/*
 * Guest state in the VMCS: the reset state, control registers with their
 * guest/host masks and read shadows, KVM's segment/sregs view, the MSRs
 * whose home is the VMCS or the MSR areas, event injection, and the
 * guest-state checks before VM entry.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/printk.h>
#include <linux/string.h>
#include <asm/apicdef.h>
#include <asm/desc.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>

#include "backend.h"
#include "vmx.h"
#include "vmx_guest_check.h"

/*
 * CR0 bits the guest owns (writes do not exit): MP, EM, TS, WP, AM. Every
 * other bit is the hypervisor's: PE/PG/CD/NW decide modes, LMA and
 * PDPTEs; NE is fixed to 1 by VMX (SDM Vol 3 24.8) and shown as written.
 */
#define VMX_CR0_GUEST_OWNED	(X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | \
				 X86_CR0_WP | X86_CR0_AM)
/* Hardware CR0 drops CD/NW: guest RAM under EPT stays write-back. */
#define VMX_CR0_HOST_CLEARED	(X86_CR0_CD | X86_CR0_NW)

/* Segment fields, indexed by HVX_SEG_* (SDM Vol 3 Appendix B). */
static const struct {
	u16 selector, base, limit, ar;
} vmx_seg[] = {
	[HVX_SEG_ES] = { GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES },
	[HVX_SEG_CS] = { GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES },
	[HVX_SEG_SS] = { GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES },
	[HVX_SEG_DS] = { GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES },
	[HVX_SEG_FS] = { GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES },
	[HVX_SEG_GS] = { GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES },
	[HVX_SEG_TR] = { GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES },
	[HVX_SEG_LDTR] = { GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT,
			   GUEST_LDTR_AR_BYTES },
};

/* Access rights (SDM Vol 3 24.4.1, Table 24-2); bit 16 is "unusable". */
#define AR_UNUSABLE	BIT(16)

static u32 seg_to_ar(const struct kvm_segment *var, int seg)
{
	u32 type = var->type & 0xf;

	if (var->unusable || !var->present)
		return AR_UNUSABLE;
	/*
	 * VM entry wants usable segments "accessed" (SDM Vol 3 26.3.1.2);
	 * the CPU would set the bit on first use anyway.
	 */
	if (seg != HVX_SEG_LDTR)
		type |= 1;
	return type | (var->s << 4) | ((var->dpl & 3) << 5) |
	       (var->present << 7) | (var->avl << 12) | (var->l << 13) |
	       (var->db << 14) | (var->g << 15);
}

void vmx_get_segment(struct hvx_vcpu *vcpu, struct kvm_segment *var, int seg)
{
	u32 ar = vmcs_read32(vmx_seg[seg].ar);

	memset(var, 0, sizeof(*var));
	var->base = vmcs_read(vmx_seg[seg].base);
	var->limit = vmcs_read32(vmx_seg[seg].limit);
	var->selector = vmcs_read(vmx_seg[seg].selector);
	var->type = ar & 0xf;
	var->s = (ar >> 4) & 1;
	var->dpl = (ar >> 5) & 3;
	var->present = (ar >> 7) & 1;
	var->avl = (ar >> 12) & 1;
	var->l = (ar >> 13) & 1;
	var->db = (ar >> 14) & 1;
	var->g = (ar >> 15) & 1;
	var->unusable = !!(ar & AR_UNUSABLE);
	if (var->unusable)
		var->present = 0;
}

static void vmx_set_segment(const struct kvm_segment *var, int seg)
{
	vmcs_write(vmx_seg[seg].base, var->base);
	vmcs_write(vmx_seg[seg].limit, var->limit);
	vmcs_write(vmx_seg[seg].selector, var->selector);
	vmcs_write(vmx_seg[seg].ar, seg_to_ar(var, seg));
}

/*
 * With EPT, a guest in PAE paging takes its PDPTEs from the VMCS at entry
 * (SDM Vol 3 26.3.2.4); they must be loaded whenever hvx itself changes
 * CR0, CR3 or CR4 into PAE paging.
 */
static void vmx_load_pdptrs(struct hvx_vcpu *vcpu)
{
	static const u16 fields[4] = { GUEST_PDPTR0, GUEST_PDPTR1, GUEST_PDPTR2,
				       GUEST_PDPTR3 };
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	u64 pdpte[4] = { 0 };
	int i, idx;

	if (!(vmx->cr0 & X86_CR0_PG) || !(vmx->cr4 & X86_CR4_PAE) ||
	    (vmcs_read(GUEST_IA32_EFER) & EFER_LMA))
		return;
	idx = srcu_read_lock(&vcpu->vm->srcu);
	if (hvx_read_guest(vcpu->vm, vmcs_read(GUEST_CR3) & ~0x1fULL, pdpte,
			   sizeof(pdpte)))
		memset(pdpte, 0, sizeof(pdpte));
	srcu_read_unlock(&vcpu->vm->srcu, idx);
	for (i = 0; i < 4; i++)
		vmcs_write(fields[i], pdpte[i]);
}

/* IA-32e mode guest follows EFER.LMA (SDM Vol 3 24.8.1, 26.2.4). */
static void vmx_write_efer(u64 efer)
{
	u32 entry = vmcs_read32(VM_ENTRY_CONTROLS);

	vmcs_write(GUEST_IA32_EFER, efer);
	if (efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	else
		entry &= ~VM_ENTRY_IA32E_MODE;
	vmcs_write(VM_ENTRY_CONTROLS, entry);
}

/* PE and PG may be 0 with unrestricted guest (SDM Vol 3 26.3.1.1). */
static u64 vmx_cr0_hw(u64 cr0)
{
	u64 fixed = vmx_cfg.cr0_fixed0 & ~(u64)(X86_CR0_PE | X86_CR0_PG);

	return (cr0 & ~(u64)VMX_CR0_HOST_CLEARED) | fixed;
}

static void vmx_write_cr0(struct hvx_vcpu *vcpu, u64 cr0)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	u64 efer = vmcs_read(GUEST_IA32_EFER);

	vmx->cr0 = cr0;
	vmcs_write(GUEST_CR0, vmx_cr0_hw(cr0));
	vmcs_write(CR0_READ_SHADOW, cr0);
	/* Paging on with LME activates long mode, paging off leaves it. */
	if ((efer & EFER_LME) && (cr0 & X86_CR0_PG))
		vmx_write_efer(efer | EFER_LMA);
	else if (!(cr0 & X86_CR0_PG))
		vmx_write_efer(efer & ~(u64)EFER_LMA);
}

static void vmx_write_cr4(struct hvx_vcpu *vcpu, u64 cr4)
{
	to_vmx(vcpu)->cr4 = cr4;
	vmcs_write(GUEST_CR4, cr4 | vmx_cfg.cr4_fixed0);
	vmcs_write(CR4_READ_SHADOW, cr4);
}

/* VTPR, the TPR in the virtual-APIC page (SDM Vol 3 29.1.1). */
static u32 vmx_vtpr(struct hvx_vmx_vcpu *vmx)
{
	return READ_ONCE(*(u32 *)(vmx->vapic + APIC_TASKPRI));
}

/* What the guest sees: its own bits from the VMCS, ours from the shadow. */
u64 vmx_get_cr(struct hvx_vcpu *vcpu, int cr)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	u64 owned;

	switch (cr) {
	case 0:
		return (vmcs_read(GUEST_CR0) & VMX_CR0_GUEST_OWNED) |
		       (vmx->cr0 & ~(u64)VMX_CR0_GUEST_OWNED);
	case 2:
		return vmx->cr2;
	case 3:
		return vmcs_read(GUEST_CR3);
	case 4:
		owned = ~vmcs_read(CR4_GUEST_HOST_MASK);
		return (vmcs_read(GUEST_CR4) & owned) | (vmx->cr4 & ~owned);
	case 8:
		/* With a TPR shadow CR8 is VTPR[7:4] (SDM Vol 3 29.3). */
		if (vcpu->apicv)
			return vmx_vtpr(vmx) >> 4;
		return vmx->cr8;
	default:
		return 0;
	}
}

/*
 * Without a TPR shadow CR8 exits both ways and is only this field. With
 * one it is the virtual-APIC page's TPR, which the core already holds.
 */
void vmx_set_cr8(struct hvx_vcpu *vcpu, u8 cr8)
{
	if (!vcpu->apicv)
		to_vmx(vcpu)->cr8 = cr8;
}

/* A guest MOV to CR the core already checked (cr.c). */
int vmx_set_cr(struct hvx_vcpu *vcpu, int cr, u64 val)
{
	switch (cr) {
	case 0:
		vmx_write_cr0(vcpu, val);
		break;
	case 3:
		vmcs_write(GUEST_CR3, val);
		break;
	case 4:
		vmx_write_cr4(vcpu, val);
		break;
	case 8:
		to_vmx(vcpu)->cr8 = val;
		return 0;
	default:
		return 1;
	}
	to_vmx(vcpu)->state_dirty = true;
	vmx_load_pdptrs(vcpu);
	/* Paging changed under the guest: its cached translations go. */
	hvx_vcpu_request(vcpu, HVX_REQ_TLB_FLUSH);
	return 0;
}

u64 vmx_get_efer(struct hvx_vcpu *vcpu)
{
	return vmcs_read(GUEST_IA32_EFER);
}

/* The CPL is SS.DPL in VMX (SDM Vol 3 26.3.1.2); 0 in real mode. */
int vmx_get_cpl(struct hvx_vcpu *vcpu)
{
	if (!(to_vmx(vcpu)->cr0 & X86_CR0_PE))
		return 0;
	return (vmcs_read32(GUEST_SS_AR_BYTES) >> 5) & 3;
}

void vmx_get_sregs(struct hvx_vcpu *vcpu, struct kvm_sregs *sregs)
{
	memset(sregs, 0, sizeof(*sregs));
	vmx_get_segment(vcpu, &sregs->cs, HVX_SEG_CS);
	vmx_get_segment(vcpu, &sregs->ds, HVX_SEG_DS);
	vmx_get_segment(vcpu, &sregs->es, HVX_SEG_ES);
	vmx_get_segment(vcpu, &sregs->fs, HVX_SEG_FS);
	vmx_get_segment(vcpu, &sregs->gs, HVX_SEG_GS);
	vmx_get_segment(vcpu, &sregs->ss, HVX_SEG_SS);
	vmx_get_segment(vcpu, &sregs->tr, HVX_SEG_TR);
	vmx_get_segment(vcpu, &sregs->ldt, HVX_SEG_LDTR);
	sregs->gdt.base = vmcs_read(GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read32(GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_read(GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read32(GUEST_IDTR_LIMIT);
	sregs->cr0 = vmx_get_cr(vcpu, 0);
	sregs->cr2 = vmx_get_cr(vcpu, 2);
	sregs->cr3 = vmx_get_cr(vcpu, 3);
	sregs->cr4 = vmx_get_cr(vcpu, 4);
	sregs->cr8 = vmx_get_cr(vcpu, 8);
	sregs->efer = vmx_get_efer(vcpu);
}

/*
 * An exception re-queued at the last exit keeps its error code; if
 * userspace has since put the vCPU in real mode, VM entry would refuse it
 * (SDM Vol 3 27.2.1.3: with unrestricted guest, an error code is delivered
 * only with CR0.PE=1). Real-mode delivery never pushes one anyway.
 */
static void vmx_real_mode_drop_error_code(struct hvx_vmx_vcpu *vmx)
{
	u32 info = vmcs_read32(VM_ENTRY_INTR_INFO_FIELD);

	if (!(vmx->cr0 & X86_CR0_PE) && (info & INTR_INFO_VALID_MASK) &&
	    (info & INTR_INFO_DELIVER_CODE_MASK))
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_DELIVER_CODE_MASK);
}

void vmx_set_sregs(struct hvx_vcpu *vcpu, const struct kvm_sregs *sregs)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_set_segment(&sregs->cs, HVX_SEG_CS);
	vmx_set_segment(&sregs->ds, HVX_SEG_DS);
	vmx_set_segment(&sregs->es, HVX_SEG_ES);
	vmx_set_segment(&sregs->fs, HVX_SEG_FS);
	vmx_set_segment(&sregs->gs, HVX_SEG_GS);
	vmx_set_segment(&sregs->ss, HVX_SEG_SS);
	vmx_set_segment(&sregs->tr, HVX_SEG_TR);
	vmx_set_segment(&sregs->ldt, HVX_SEG_LDTR);
	vmcs_write(GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write(GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_write(GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write(GUEST_IDTR_LIMIT, sregs->idt.limit);
	/* EFER first: CR0 derives nothing from it here, LMA is as given. */
	vmx_write_efer(sregs->efer);
	vmx->cr0 = sregs->cr0;
	vmcs_write(GUEST_CR0, vmx_cr0_hw(sregs->cr0));
	vmcs_write(CR0_READ_SHADOW, sregs->cr0);
	vmx_write_cr4(vcpu, sregs->cr4);
	vmcs_write(GUEST_CR3, sregs->cr3);
	vmx->cr2 = sregs->cr2;
	vmx->cr8 = sregs->cr8;
	vmx->state_dirty = true;
	vmx_load_pdptrs(vcpu);
	vmx_real_mode_drop_error_code(vmx);
}

static void seg_reset(int seg, u16 selector, u64 base, u32 ar)
{
	vmcs_write(vmx_seg[seg].selector, selector);
	vmcs_write(vmx_seg[seg].base, base);
	vmcs_write(vmx_seg[seg].limit, 0xffff);
	vmcs_write(vmx_seg[seg].ar, ar);
}

/* The host state that is the same on every CPU and for every thread. */
static void vmx_set_host_constant_state(void)
{
	u64 v;

	vmcs_write(HOST_CR0, read_cr0());
	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	/* DS/ES/FS/GS must have RPL 0 here: the real ones are restored after. */
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_EFER, v);
	vmcs_write(HOST_IA32_EFER, v);
	rdmsrl(MSR_IA32_CR_PAT, v);
	vmcs_write(HOST_IA32_PAT, v);
	vmcs_write(HOST_RIP, (unsigned long)__hvx_vmx_exit);
}

/* An enabled xAPIC at the power-on base: the APIC-access page's place. */
static bool vmx_apic_default(struct hvx_vcpu *vcpu)
{
	return (vcpu->apic_base & (MSR_IA32_APICBASE_BASE | MSR_IA32_APICBASE_ENABLE |
				   X2APIC_ENABLE)) ==
	       (APIC_DEFAULT_PHYS_BASE | MSR_IA32_APICBASE_ENABLE);
}

/*
 * The EPT is the VM's, the APIC mode each vCPU's. The APIC-access page
 * may only be mapped while every vCPU's xAPIC page is there: a vCPU in
 * x2APIC mode runs without "virtualize APIC accesses" (it excludes
 * "virtualize x2APIC mode", SDM Vol 3 26.2.1.1), and so does a disabled
 * or moved APIC, and would read and write the page as plain memory
 * where its xAPIC page must read as all ones or be RAM or MMIO. So the
 * VM counts the vCPUs that are not in that state; the first one takes
 * the mapping away (zap after the count, hvx_mmu_map_pfn() says why),
 * and later faults go to hvx's MMIO path until the count is 0 again.
 */
static void vmx_apic_track(struct hvx_vcpu *vcpu)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	struct hvx_vmx_vm *vv = to_vmx_vm(vcpu->vm);
	bool odd = vcpu->apicv && vv->apic_access && !vmx_apic_default(vcpu);

	if (odd == vmx->apic_odd)
		return;
	vmx->apic_odd = odd;
	if (!odd) {
		atomic_dec(&vv->apic_odd);
		return;
	}
	if (atomic_inc_return(&vv->apic_odd) == 1)
		hvx_mmu_zap_gfn_range(vcpu->vm, APIC_DEFAULT_PHYS_BASE >> PAGE_SHIFT,
				      (APIC_DEFAULT_PHYS_BASE >> PAGE_SHIFT) + 1);
}

/* The vCPU goes away: it no longer holds the mapping back. */
void vmx_apic_odd_drop(struct hvx_vcpu *vcpu)
{
	if (to_vmx(vcpu)->apic_odd)
		atomic_dec(&to_vmx_vm(vcpu->vm)->apic_odd);
}

/*
 * A guest access to @gpa found neither a memslot nor a translation: if
 * it is this vCPU's xAPIC page and the APIC-access page may be there,
 * map it, and the access runs again, virtualized (SDM Vol 3 29.4).
 */
bool vmx_apic_access_map(struct hvx_vcpu *vcpu, u64 gpa)
{
	struct hvx_vmx_vm *vv = to_vmx_vm(vcpu->vm);

	if (!vv->apic_access || (gpa & PAGE_MASK) != APIC_DEFAULT_PHYS_BASE ||
	    !vmx_apic_default(vcpu) || atomic_read(&vv->apic_odd))
		return false;
	hvx_mmu_map_pfn(vcpu, gpa >> PAGE_SHIFT, __pa(vv->apic_access) >> PAGE_SHIFT,
			&vv->apic_odd);
	return true;
}

/*
 * The controls that follow the guest's APIC mode (IA32_APIC_BASE), and
 * the MSR bitmap that goes with them. Only in x2APIC mode may the CPU
 * virtualize the x2APIC MSRs (29.5): in any other mode RDMSR of
 * 0x800-0x8ff must fault, so they stay intercepted. Only an xAPIC at
 * the default base has its accesses virtualized (see above).
 */
static u32 vmx_apic_mode_exec2(struct hvx_vcpu *vcpu, u64 *msr_bitmap_pa)
{
	*msr_bitmap_pa = __pa(vmx_msr_bitmap);
	if (!vcpu->apicv)
		return 0;
	if ((vcpu->apic_base & (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE)) ==
	    (MSR_IA32_APICBASE_ENABLE | X2APIC_ENABLE)) {
		*msr_bitmap_pa = __pa(vmx_msr_bitmap_x2apic);
		return VMX_APICV_EXEC2;
	}
	if (to_vmx_vm(vcpu->vm)->apic_access && vmx_apic_default(vcpu))
		return (VMX_APICV_EXEC2 & ~SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE) |
		       SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES;
	return VMX_APICV_EXEC2 & ~SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE;
}

static u32 vmx_exec2(struct hvx_vcpu *vcpu, u64 *msr_bitmap_pa)
{
	u32 exec2 = vmx_cfg.exec2 | vmx_apic_mode_exec2(vcpu, msr_bitmap_pa);

	/*
	 * Out of VPIDs, a vCPU runs untagged (VPID 0 is refused with the
	 * control set, SDM Vol 3 27.2.1.1): every entry then flushes.
	 */
	if (!to_vmx(vcpu)->vpid)
		exec2 &= ~SECONDARY_EXEC_ENABLE_VPID;
	return exec2;
}

void vmx_apic_base_changed(struct hvx_vcpu *vcpu)
{
	u64 bitmap;

	vmx_apic_track(vcpu);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_exec2(vcpu, &bitmap));
	vmcs_write(MSR_BITMAP, bitmap);
}

/*
 * Before each entry of a vCPU with APIC virtualization (lapic.c says
 * what the core passes): RVI and SVI in the guest interrupt status
 * (SDM Vol 3 24.4.2), which VM entry loads before it evaluates pending
 * virtual interrupts (27.3.2.5), and the EOI-exit bitmap (24.6.8). The
 * CPU may change RVI and SVI in guest mode, so they are compared with
 * the VMCS; it never changes the bitmap, so that is compared with the
 * copy last written.
 */
void vmx_apicv_load(struct hvx_vcpu *vcpu, int irr, int isr, const u64 *eoi_exit)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	u16 status = (isr > 0 ? isr : 0) << 8 | (irr > 0 ? irr : 0);
	unsigned int i;

	if ((u16)vmcs_read32(GUEST_INTR_STATUS) != status)
		vmcs_write(GUEST_INTR_STATUS, status);
	for (i = 0; i < 4; i++) {
		if (eoi_exit[i] == vmx->eoi_exit[i])
			continue;
		vmcs_write(EOI_EXIT_BITMAP0 + 2 * i, eoi_exit[i]);
		vmx->eoi_exit[i] = eoi_exit[i];
	}
}

/*
 * APIC virtualization for a vCPU with an in-kernel APIC (SDM Vol 3 ch.
 * 29): the APIC's register page is the virtual-APIC page, so the CPU
 * reads and updates the same IRR, ISR, TPR and PPR hvx's own code does.
 * CR8 accesses then go to VTPR instead of exiting (29.3), and external-
 * interrupt exiting, which virtual-interrupt delivery requires
 * (26.2.1.1), is always on.
 */
static void vmx_apicv_reset(struct hvx_vcpu *vcpu, u32 *exec)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);

	vmx->vapic = hvx_lapic_page(vcpu);
	vcpu->apicv = vmx_cfg.apicv && vmx->vapic;
	vmx_apic_track(vcpu);
	if (!vcpu->apicv)
		return;
	if (to_vmx_vm(vcpu->vm)->apic_access)
		vmcs_write(APIC_ACCESS_ADDR, __pa(to_vmx_vm(vcpu->vm)->apic_access));
	*exec = (*exec | CPU_BASED_TPR_SHADOW) &
		~(CPU_BASED_CR8_LOAD_EXITING | CPU_BASED_CR8_STORE_EXITING);
	vmcs_write(VIRTUAL_APIC_PAGE_ADDR, __pa(vmx->vapic));
	/* Unused with virtual-interrupt delivery (29.1.2). */
	vmcs_write(TPR_THRESHOLD, 0);
	vmcs_write(GUEST_INTR_STATUS, 0);
	memset(vmx->eoi_exit, 0, sizeof(vmx->eoi_exit));
	vmcs_write(EOI_EXIT_BITMAP0, 0);
	vmcs_write(EOI_EXIT_BITMAP1, 0);
	vmcs_write(EOI_EXIT_BITMAP2, 0);
	vmcs_write(EOI_EXIT_BITMAP3, 0);
}

static void vmx_controls_reset(struct hvx_vcpu *vcpu)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	u32 exec = vmx_cfg.exec;
	unsigned int i;
	u64 bitmap;

	vmx_apicv_reset(vcpu, &exec);
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_cfg.pin);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, exec);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, vmx_exec2(vcpu, &bitmap));
	vmcs_write(VM_EXIT_CONTROLS, vmx_cfg.exit);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_cfg.entry);
	/* Only #MC: a host machine check must reach the host (vmx_exit.c). */
	vmcs_write(EXCEPTION_BITMAP, BIT(MC_VECTOR));
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	/*
	 * A PAUSE loop is PAUSEs at most PLE_GAP cycles apart lasting longer
	 * than PLE_WINDOW cycles (SDM Vol 3 25.6.13); KVM's defaults.
	 */
	if (vmx_cfg.exec2 & SECONDARY_EXEC_PAUSE_LOOP_EXITING) {
		vmcs_write(PLE_GAP, 128);
		vmcs_write(PLE_WINDOW, 4096);
	}
	/*
	 * Without "save VMX-preemption timer value" every entry starts the
	 * countdown from this field again (SDM Vol 3 27.7.4).
	 */
	if (vmx_cfg.backstop_ticks)
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, vmx_cfg.backstop_ticks);
	vmcs_write(MSR_BITMAP, bitmap);
	vmcs_write(EPT_POINTER, vmx->eptp);
	if (vmx->vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vmx->vpid);
	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
	vmcs_write(CR0_GUEST_HOST_MASK, ~(u64)VMX_CR0_GUEST_OWNED);
	/* The guest owns the valid CR4 bits, except PAE (PDPTE loads). */
	vmcs_write(CR4_GUEST_HOST_MASK, ~(hvx_cr4_valid_bits() & ~(u64)X86_CR4_PAE));

	for (i = 0; i < VMX_NR_AUTO_MSRS; i++) {
		vmx->guest_msrs[i] = (struct vmx_msr_entry){ .index = vmx_auto_msrs[i] };
		vmx->host_msrs[i] = (struct vmx_msr_entry){ .index = vmx_auto_msrs[i] };
	}
	vmcs_write(VM_EXIT_MSR_STORE_ADDR, __pa(vmx->guest_msrs));
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, VMX_NR_AUTO_MSRS);
	vmcs_write(VM_ENTRY_MSR_LOAD_ADDR, __pa(vmx->guest_msrs));
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, VMX_NR_AUTO_MSRS);
	vmcs_write(VM_EXIT_MSR_LOAD_ADDR, __pa(vmx->host_msrs));
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, VMX_NR_AUTO_MSRS);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmx->entry_irq = -1;
}

/*
 * Power-on state (SDM Vol 3 Table 10-1), in the form VM entry accepts
 * with unrestricted guest: accessed code/data segments, a busy TSS.
 */
void vmx_vmcs_reset(struct hvx_vcpu *vcpu)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	u32 data = 0x93, code = 0x9b;

	vmx_controls_reset(vcpu);
	vmx_set_host_constant_state();

	seg_reset(HVX_SEG_CS, 0xf000, 0xffff0000, code);
	seg_reset(HVX_SEG_DS, 0, 0, data);
	seg_reset(HVX_SEG_ES, 0, 0, data);
	seg_reset(HVX_SEG_FS, 0, 0, data);
	seg_reset(HVX_SEG_GS, 0, 0, data);
	seg_reset(HVX_SEG_SS, 0, 0, data);
	seg_reset(HVX_SEG_LDTR, 0, 0, 0x82);
	seg_reset(HVX_SEG_TR, 0, 0, 0x8b);
	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0xffff);

	vmx_write_efer(0);
	vmx_write_cr0(vcpu, X86_CR0_NW | X86_CR0_CD | X86_CR0_ET);
	vmx_write_cr4(vcpu, 0);
	vmcs_write(GUEST_CR3, 0);
	vmx->cr2 = 0;
	vmx->cr8 = 0;
	vmcs_write(GUEST_DR7, 0x400);
	vmcs_write(GUEST_RFLAGS, X86_EFLAGS_FIXED);
	vmcs_write(GUEST_RIP, 0xfff0);
	vmcs_write(GUEST_RSP, 0);
	vmcs_write(GUEST_IA32_PAT, 0x0007040600070406ULL);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmx->state_dirty = true;
}

static struct vmx_msr_entry *vmx_auto_msr(struct hvx_vcpu *vcpu, u32 index)
{
	unsigned int i;

	for (i = 0; i < VMX_NR_AUTO_MSRS; i++)
		if (vmx_auto_msrs[i] == index)
			return &to_vmx(vcpu)->guest_msrs[i];
	return NULL;
}

/* MSRs kept in VMCS fields (SDM Vol 3 24.4.1). */
static int vmx_msr_field(u32 index)
{
	switch (index) {
	case MSR_IA32_SYSENTER_CS:	return GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP:	return GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP:	return GUEST_SYSENTER_EIP;
	case MSR_FS_BASE:		return GUEST_FS_BASE;
	case MSR_GS_BASE:		return GUEST_GS_BASE;
	case MSR_IA32_CR_PAT:		return GUEST_IA32_PAT;
	case MSR_EFER:			return GUEST_IA32_EFER;
	default:			return -1;
	}
}

int vmx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_msr_entry *e = vmx_auto_msr(vcpu, index);
	int field;

	if (e) {
		*data = e->value;
		return 0;
	}
	field = vmx_msr_field(index);
	if (field < 0)
		return 1;
	*data = vmcs_read(field);
	return 0;
}

int vmx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data)
{
	struct vmx_msr_entry *e = vmx_auto_msr(vcpu, index);
	int field;

	if (e) {
		e->value = data;
		return 0;
	}
	/* EFER, PAT, SYSENTER and FS/GS bases are all checked at entry. */
	to_vmx(vcpu)->state_dirty = true;
	if (index == MSR_EFER) {
		vmx_write_efer(data);
		return 0;
	}
	field = vmx_msr_field(index);
	if (field < 0)
		return 1;
	/* SYSENTER_CS is 32 bits wide (SDM Vol 3 24.4.2). */
	vmcs_write(field, index == MSR_IA32_SYSENTER_CS ? (u32)data : data);
	return 0;
}

void vmx_inject_exception(struct hvx_vcpu *vcpu, u8 vector, bool has_error,
			  u32 error_code)
{
	u32 info = vector | INTR_TYPE_HARD_EXCEPTION | INTR_INFO_VALID_MASK;

	/* No error code in real mode (SDM Vol 3 26.2.1.3). */
	if (has_error && (to_vmx(vcpu)->cr0 & X86_CR0_PE)) {
		info |= INTR_INFO_DELIVER_CODE_MASK;
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	}
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
}

void vmx_cancel_event(struct hvx_vcpu *vcpu)
{
	to_vmx(vcpu)->entry_irq = -1;
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
}

bool vmx_event_queued(struct hvx_vcpu *vcpu)
{
	return vmcs_read32(VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK;
}

void vmx_inject_irq(struct hvx_vcpu *vcpu, u8 vector)
{
	to_vmx(vcpu)->entry_irq = vector;
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD,
		   vector | INTR_TYPE_EXT_INTR | INTR_INFO_VALID_MASK);
}

static void vmx_exec_set(u32 bits, bool on)
{
	u32 exec = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL);
	u32 want = on ? exec | bits : exec & ~bits;

	if (want != exec)
		vmcs_write(CPU_BASED_VM_EXEC_CONTROL, want);
}

/*
 * Interrupt-window exiting: a VM exit before the first instruction at
 * which RFLAGS.IF is 1 and there is no blocking by STI or MOV SS (SDM Vol
 * 3 26.7.5). vmx_decode_exit() clears the control at that exit.
 */
void vmx_enable_irq_window(struct hvx_vcpu *vcpu)
{
	vmx_exec_set(CPU_BASED_INTR_WINDOW_EXITING, true);
}

void vmx_disable_irq_window(struct hvx_vcpu *vcpu)
{
	vmx_exec_set(CPU_BASED_INTR_WINDOW_EXITING, false);
}

/* NMI-window exiting: the same, once there is no virtual-NMI blocking. */
void vmx_enable_nmi_window(struct hvx_vcpu *vcpu)
{
	vmx_exec_set(CPU_BASED_NMI_WINDOW_EXITING, true);
}

void vmx_disable_nmi_window(struct hvx_vcpu *vcpu)
{
	vmx_exec_set(CPU_BASED_NMI_WINDOW_EXITING, false);
}

/*
 * With virtual NMIs, delivering one sets blocking by NMI in the guest's
 * interruptibility state and the guest's IRET clears it (SDM Vol 3 26.6.1,
 * 27.3.1.5 forbids injecting an NMI while it is set, or behind MOV SS;
 * some CPUs also behind STI, which the core's shadow check covers).
 */
bool vmx_nmi_blocked(struct hvx_vcpu *vcpu)
{
	return vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) & GUEST_INTR_STATE_NMI;
}

void vmx_inject_nmi(struct hvx_vcpu *vcpu)
{
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD,
		   NMI_VECTOR | INTR_TYPE_NMI_INTR | INTR_INFO_VALID_MASK);
}

/* KVM_X86_SHADOW_INT_MOV_SS is 1 and _STI 2; VMX has them the other way. */
u8 vmx_interrupt_shadow(struct hvx_vcpu *vcpu)
{
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);

	return (intr & GUEST_INTR_STATE_STI ? KVM_X86_SHADOW_INT_STI : 0) |
	       (intr & GUEST_INTR_STATE_MOV_SS ? KVM_X86_SHADOW_INT_MOV_SS : 0);
}

void vmx_set_interrupt_shadow(struct hvx_vcpu *vcpu, u8 shadow)
{
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	u32 want = intr & ~(GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS);

	if (shadow & KVM_X86_SHADOW_INT_STI)
		want |= GUEST_INTR_STATE_STI;
	if (shadow & KVM_X86_SHADOW_INT_MOV_SS)
		want |= GUEST_INTR_STATE_MOV_SS;
	if (want == intr)
		return;
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, want);
	/* A shadow from userspace must agree with RFLAGS.IF (27.3.1.5). */
	if (shadow)
		to_vmx(vcpu)->state_dirty = true;
}

void vmx_set_nmi_blocked(struct hvx_vcpu *vcpu, bool blocked)
{
	u32 intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	u32 want = blocked ? intr | GUEST_INTR_STATE_NMI : intr & ~GUEST_INTR_STATE_NMI;

	if (want != intr) {
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, want);
		to_vmx(vcpu)->state_dirty = true;
	}
}

/* The VM-entry interruption-information field (SDM Vol 3 24.8.3). */
void vmx_get_event(struct hvx_vcpu *vcpu, struct hvx_event *ev)
{
	u32 info = vmcs_read32(VM_ENTRY_INTR_INFO_FIELD);

	memset(ev, 0, sizeof(*ev));
	if (!(info & INTR_INFO_VALID_MASK))
		return;
	ev->vector = info & INTR_INFO_VECTOR_MASK;
	switch (info & INTR_INFO_INTR_TYPE_MASK) {
	case INTR_TYPE_EXT_INTR:
		ev->type = HVX_EVENT_INTR;
		break;
	case INTR_TYPE_NMI_INTR:
		ev->type = HVX_EVENT_NMI;
		break;
	case INTR_TYPE_HARD_EXCEPTION:
		ev->type = HVX_EVENT_EXCEPTION;
		break;
	case INTR_TYPE_SOFT_INTR:
		ev->type = HVX_EVENT_SOFT_INTR;
		break;
	default:	/* software and privileged software exceptions */
		ev->type = HVX_EVENT_SOFT_EXCEPTION;
		break;
	}
	if (info & INTR_INFO_DELIVER_CODE_MASK) {
		ev->has_error = true;
		ev->error_code = vmcs_read32(VM_ENTRY_EXCEPTION_ERROR_CODE);
	}
}

/* Userspace's event (KVM_SET_VCPU_EVENTS): checked like any new state. */
void vmx_set_event(struct hvx_vcpu *vcpu, const struct hvx_event *ev)
{
	to_vmx(vcpu)->state_dirty = true;
	switch (ev->type) {
	case HVX_EVENT_EXCEPTION:
	case HVX_EVENT_SOFT_EXCEPTION:
		vmx_inject_exception(vcpu, ev->vector, ev->has_error, ev->error_code);
		break;
	case HVX_EVENT_INTR:
	case HVX_EVENT_SOFT_INTR:
		vmx_inject_irq(vcpu, ev->vector);
		break;
	case HVX_EVENT_NMI:
		vmx_inject_nmi(vcpu);
		break;
	case HVX_EVENT_NONE:
		vmx_cancel_event(vcpu);
		break;
	}
}

/* What VM entry's guest-state checks read, from the current VMCS. */
static void vmx_read_guest_state(struct hvx_vcpu *vcpu, struct vmx_guest_state *s)
{
	u32 entry = vmcs_read32(VM_ENTRY_CONTROLS);
	int i;

	s->ia32e_mode = entry & VM_ENTRY_IA32E_MODE;
	s->load_debugctl = entry & VM_ENTRY_LOAD_DEBUG_CONTROLS;
	s->load_efer = entry & VM_ENTRY_LOAD_IA32_EFER;
	s->load_pat = entry & VM_ENTRY_LOAD_IA32_PAT;
	s->unrestricted = vmcs_read32(SECONDARY_VM_EXEC_CONTROL) &
			  SECONDARY_EXEC_UNRESTRICTED_GUEST;
	s->virtual_nmis = vmcs_read32(PIN_BASED_VM_EXEC_CONTROL) & PIN_BASED_VIRTUAL_NMIS;
	s->entry_intr_info = vmcs_read32(VM_ENTRY_INTR_INFO_FIELD);

	s->cr0_fixed0 = vmx_cfg.cr0_fixed0;
	s->cr0_fixed1 = vmx_cfg.cr0_fixed1;
	s->cr4_fixed0 = vmx_cfg.cr4_fixed0;
	s->cr4_fixed1 = vmx_cfg.cr4_fixed1;
	s->maxphyaddr = vmx_cfg.phys_bits;
	s->linear_bits = vmx_cfg.linear_bits;

	s->cr0 = vmcs_read(GUEST_CR0);
	s->cr3 = vmcs_read(GUEST_CR3);
	s->cr4 = vmcs_read(GUEST_CR4);
	s->dr7 = vmcs_read(GUEST_DR7);
	s->debugctl = vmcs_read(GUEST_IA32_DEBUGCTL);
	s->efer = vmcs_read(GUEST_IA32_EFER);
	s->pat = vmcs_read(GUEST_IA32_PAT);
	s->sysenter_esp = vmcs_read(GUEST_SYSENTER_ESP);
	s->sysenter_eip = vmcs_read(GUEST_SYSENTER_EIP);
	for (i = 0; i < VMX_GC_NR_SEGS; i++) {
		s->seg[i].selector = vmcs_read(vmx_seg[i].selector);
		s->seg[i].base = vmcs_read(vmx_seg[i].base);
		s->seg[i].limit = vmcs_read32(vmx_seg[i].limit);
		s->seg[i].ar = vmcs_read32(vmx_seg[i].ar);
	}
	s->gdtr_base = vmcs_read(GUEST_GDTR_BASE);
	s->gdtr_limit = vmcs_read32(GUEST_GDTR_LIMIT);
	s->idtr_base = vmcs_read(GUEST_IDTR_BASE);
	s->idtr_limit = vmcs_read32(GUEST_IDTR_LIMIT);
	/* The core's, which vmx_run() writes to the VMCS before entry. */
	s->rip = vcpu->rip;
	s->rflags = vcpu->rflags;
	s->activity = vmcs_read32(GUEST_ACTIVITY_STATE);
	s->interruptibility = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	s->pending_dbg = vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS);
	s->link_ptr = vmcs_read(VMCS_LINK_POINTER);
}

/*
 * Whether VM entry would refuse the guest state (SDM Vol 3 27.3.1). If so,
 * @exit holds what the CPU would report, a VM-entry failure due to invalid
 * guest state (27.8), and the caller must not enter; the CPU would fail
 * the same way, only without saying which rule failed.
 *
 * The whole state is checked only after something other than the guest
 * changed it: vmx_vmcs_reset(), vmx_set_sregs(), vmx_set_cr() and
 * vmx_set_msr() set state_dirty. The events hvx injects (hardware
 * exceptions, in the active state) pass every rule that involves them.
 *
 * RIP and RFLAGS are the core's, written to the VMCS at every entry, and
 * what the CPU left at the last exit passes. The core changes RFLAGS only
 * at reset and in KVM_SET_REGS, so any other value is checked, in full:
 * RFLAGS.VM, IF and TF take part in the segment, interruptibility and
 * debug rules. RIP the core also moves past emulated instructions
 * (hvx_skip_insn(), wrapping as the mode does), and KVM_SET_REGS may set
 * any value: below 4 GiB, a RIP passes the RIP rules in every mode; any
 * other new RIP is checked against those rules alone (two VMREADs).
 */
bool vmx_entry_refused(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	struct hvx_vmx_vcpu *vmx = to_vmx(vcpu);
	struct vmx_guest_state s;
	const char *why;

	if (vcpu->rflags != vmx->valid_rflags)
		vmx->state_dirty = true;
	if (vmx->state_dirty) {
		vmx_read_guest_state(vcpu, &s);
		why = vmx_check_guest_state(&s);
	} else if (vcpu->rip != vmx->valid_rip && vcpu->rip >> 32) {
		s.ia32e_mode = vmcs_read32(VM_ENTRY_CONTROLS) & VM_ENTRY_IA32E_MODE;
		s.seg[HVX_SEG_CS].ar = vmcs_read32(GUEST_CS_AR_BYTES);
		s.linear_bits = vmx_cfg.linear_bits;
		s.rip = vcpu->rip;
		why = vmx_check_guest_rip(&s);
	} else {
		return false;
	}
	if (likely(!why)) {
		vmx->state_dirty = false;
		vmx->valid_rip = vcpu->rip;
		vmx->valid_rflags = vcpu->rflags;
		return false;
	}
	pr_info_ratelimited("VM entry refused: %s\n", why);
	/* Bit 31 with basic reason 33, and the exit qualification (27.8). */
	exit->reason = HVX_EXIT_FAIL_ENTRY;
	exit->hw_reason = VMX_EXIT_REASONS_FAILED_VMENTRY | EXIT_REASON_INVALID_STATE;
	exit->info[0] = why == vmx_gc_bad_link_ptr ? 4 : 0;
	exit->info[1] = 0;
	exit->insn_len = 0;
	exit->vectoring = false;
	return true;
}
