/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The checks VM entry makes on the guest-state area (SDM Vol 3 27.3.1),
 * on a plain copy of the fields they read.
 *
 * Pure code: no kernel services, so it also builds as a userspace unit
 * test (selftests/unit/). Include only <linux/types.h>-style integer types.
 */
#ifndef HVX_VMX_GUEST_CHECK_H
#define HVX_VMX_GUEST_CHECK_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "unit_types.h"	/* selftests/unit: the kernel's integer types */
#endif

#include "regs.h"	/* HVX_SEG_*: the index into vmx_guest_state.seg[] */

#define VMX_GC_NR_SEGS		8

/* A segment as the VMCS holds it (SDM Vol 3 25.4.1, Table 25-2). */
struct vmx_gc_seg {
	u16 selector;
	u64 base;
	u32 limit;
	u32 ar;			/* access rights; bit 16: unusable */
};

/*
 * What the checks read: guest-state fields, the few VMX controls they
 * depend on and what the CPU allows. Fields no check reads are left out.
 */
struct vmx_guest_state {
	/* VMX controls (SDM Vol 3 25.6.1, 25.6.2, 25.8.1, 25.8.3). */
	bool ia32e_mode;	/* VM-entry: "IA-32e mode guest" */
	bool load_debugctl;	/* VM-entry: "load debug controls" */
	bool load_efer;		/* VM-entry: "load IA32_EFER" */
	bool load_pat;		/* VM-entry: "load IA32_PAT" */
	bool unrestricted;	/* secondary: "unrestricted guest" */
	bool virtual_nmis;	/* pin-based: "virtual NMIs" */
	u32 entry_intr_info;	/* VM-entry interruption-information field */

	/* The CPU (SDM Vol 3 A.7, A.8; CPUID.80000008H:EAX). */
	u64 cr0_fixed0, cr0_fixed1;	/* IA32_VMX_CR0_FIXED0/1, as read */
	u64 cr4_fixed0, cr4_fixed1;
	u8 maxphyaddr;		/* physical-address width; 0 means 52 */
	u8 linear_bits;		/* linear-address width (48, 57); 0 means 48 */

	/* Guest state (SDM Vol 3 25.4). */
	u64 cr0, cr3, cr4, dr7;
	u64 debugctl, efer, pat;
	u64 sysenter_esp, sysenter_eip;
	struct vmx_gc_seg seg[VMX_GC_NR_SEGS];	/* by HVX_SEG_* */
	u64 gdtr_base, idtr_base;
	u32 gdtr_limit, idtr_limit;
	u64 rip, rflags;
	u32 activity;		/* activity state: 0 active, 1 HLT, ... */
	u32 interruptibility;
	u64 pending_dbg;	/* pending debug exceptions */
	u64 link_ptr;		/* VMCS link pointer */
};

/*
 * The checks of SDM Vol 3 27.3.1.1-27.3.1.5 (vmx_guest_check.c lists the
 * few it leaves to the CPU). Returns NULL if VM entry would accept @s,
 * else a constant string naming the first failed check.
 */
const char *vmx_check_guest_state(const struct vmx_guest_state *s);

/*
 * Only the checks on RIP (SDM Vol 3 27.3.1.4), for when nothing but RIP
 * changed since the state last passed. Reads ia32e_mode, linear_bits,
 * seg[HVX_SEG_CS].ar and rip.
 */
const char *vmx_check_guest_rip(const struct vmx_guest_state *s);

/*
 * The message of the VMCS link pointer check: that failure alone has its
 * own exit qualification, 4 (SDM Vol 3 27.8).
 */
extern const char *const vmx_gc_bad_link_ptr;

#endif /* HVX_VMX_GUEST_CHECK_H */
