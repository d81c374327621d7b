// SPDX-License-Identifier: GPL-2.0
/*
 * The checks VM entry makes on the guest-state area (SDM Vol 3 27.3.1),
 * made in software before VMLAUNCH/VMRESUME so that a refused entry says
 * which rule the guest state breaks. The CPU still makes every check
 * itself; these must agree with it, so each rule is the SDM's to the
 * letter where it is implemented, and never stricter: a false positive
 * would stop a guest the CPU would run. The controls the rules depend on
 * come with the state (struct vmx_guest_state); hvx itself runs with
 * unrestricted guest, EPT, "load IA32_EFER" and "load IA32_PAT" on a
 * 64-bit host.
 *
 * Canonical means sign-extended from the CPU's linear-address width
 * (CPUID.80000008H:EAX[15:8]: 48, or 57 on a CPU with 5-level paging,
 * whatever CR4.LA57 holds: the SDM checks against what the processor
 * supports). hvx guests never get LA57, but on such a CPU a guest may
 * still write, say, FS.base = 2^55 with WRMSR, and entry accepts it.
 *
 * Left to the CPU, on purpose:
 * - PDPTEs (27.3.1.6): hvx loads them itself (vmx_load_pdptrs()); a bad
 *   one fails in hardware with exit qualification 2.
 * - Reserved bits that depend on what the CPU implements: IA32_DEBUGCTL
 *   bits 15:0 (only 63:16 are reserved on every CPU; hvx keeps the field
 *   0, the guest cannot write it), EFER.NXE without XD, CR3 bits 62:61
 *   (LAM), the enclave-interruption and RTM bits without SGX or RTM, the
 *   activity states IA32_VMX_MISC lists.
 * - Controls hvx never sets: "load IA32_PERF_GLOBAL_CTRL", "load
 *   IA32_BNDCFGS", "load IA32_RTIT_CTL", "load CET state", "load PKRS",
 *   "load IA32_LBR_CTL", "entry to SMM" (and with it wait-for-SIPI and
 *   SMI blocking in SMM).
 * - The model-specific refusal of NMI injection under STI blocking
 *   (exit qualification 3).
 * - The VMCS link pointer beyond its format: the revision identifier in
 *   the memory it points to, and not being the current VMCS. hvx only
 *   ever writes ~0 there.
 */
#ifdef __KERNEL__
#include <linux/kernel.h>
#endif

#include "vmx_guest_check.h"

/* Architectural bits (SDM Vol 3 2.5, 2.2.1; Vol 1 3.4.3; Vol 4 Table 2-2). */
#define CR0_PE		0x00000001ull
#define CR0_WP		0x00010000ull
#define CR0_NW		0x20000000ull
#define CR0_CD		0x40000000ull
#define CR0_PG		0x80000000ull
#define CR4_PAE		0x00000020ull
#define CR4_PCIDE	0x00020000ull
#define CR4_CET		0x00800000ull
#define EFER_SCE	0x00000001ull
#define EFER_LME	0x00000100ull
#define EFER_LMA	0x00000400ull
#define EFER_NXE	0x00000800ull
#define RFLAGS_FIXED	0x00000002ull		/* bit 1, always 1 */
#define RFLAGS_TF	0x00000100ull
#define RFLAGS_IF	0x00000200ull
#define RFLAGS_VM	0x00020000ull
/* Bits 63:22, 15, 5 and 3 (SDM Vol 3 27.3.1.4). */
#define RFLAGS_RSVD	0xffffffffffc08028ull
#define DEBUGCTL_BTF	0x00000002ull
#define DEBUGCTL_RSVD	0xffffffffffff0000ull

/* Selectors and access rights (SDM Vol 3 3.4.2, 25.4.1 Table 25-2). */
#define SEL_RPL(sel)	((sel) & 3u)
#define SEL_TI		0x4u
#define AR_TYPE(ar)	((ar) & 0xfu)
#define AR_S		0x10u
#define AR_DPL(ar)	(((ar) >> 5) & 3u)
#define AR_P		0x80u
#define AR_RSVD_11_8	0xf00u
#define AR_L		0x2000u
#define AR_DB		0x4000u
#define AR_G		0x8000u
#define AR_UNUSABLE	0x10000u
#define AR_RSVD_31_17	0xfffe0000u
/* Type bits of code and data segments (SDM Vol 3 3.4.5.1). */
#define TYPE_ACCESSED	0x1u
#define TYPE_READABLE	0x2u		/* code */
#define TYPE_CONFORMING	0x4u		/* code */
#define TYPE_CODE	0x8u
/* System types (SDM Vol 3 3.5). */
#define TYPE_LDT	2u
#define TYPE_TSS16_BUSY	3u
#define TYPE_TSS_BUSY	11u		/* 32-bit, or 64-bit in IA-32e mode */
/* The one allowed CS/SS/DS/ES/FS/GS access rights in virtual-8086 mode. */
#define AR_V86		0xf3u

/* Non-register state (SDM Vol 3 25.4.2, Table 25-3). */
#define ACT_ACTIVE	0u
#define ACT_HLT		1u
#define ACT_SHUTDOWN	2u
#define ACT_WAIT_SIPI	3u
#define INTR_STI	0x01u
#define INTR_MOV_SS	0x02u
#define INTR_SMI	0x04u
#define INTR_NMI	0x08u
#define INTR_ENCLAVE	0x10u
#define INTR_RSVD	0xffffffe0u
/* Pending debug exceptions (Table 25-4): B3:0, bit 12, BS, RTM. */
#define PDE_ENABLED_BP	0x01000ull
#define PDE_BS		0x04000ull
#define PDE_RTM		0x10000ull
#define PDE_RSVD	0xfffffffffffeaff0ull	/* 11:4, 13, 15, 63:17 */

/* VM-entry interruption information (SDM Vol 3 25.8.3, Table 25-17). */
#define INFO_VALID	0x80000000u
#define INFO_TYPE(info)	(((info) >> 8) & 7u)
#define INFO_VECTOR(info) ((info) & 0xffu)
#define EV_EXT_INTR	0u
#define EV_NMI		2u
#define EV_HW_EXC	3u
#define EV_OTHER	7u
#define VEC_DB		1u
#define VEC_MC		18u

const char *const vmx_gc_bad_link_ptr = "VMCS link pointer";

/* Messages naming one segment register each, indexed by HVX_SEG_*. */
#define SEGS	VMX_GC_NR_SEGS
static const char *const msg_not_present[SEGS] = {
	"ES not present", "CS not present", "SS not present", "DS not present",
	"FS not present", "GS not present", "TR not present", "LDTR not present",
};

static const char *const msg_ar_11_8[SEGS] = {
	"ES access rights bits 11:8", "CS access rights bits 11:8",
	"SS access rights bits 11:8", "DS access rights bits 11:8",
	"FS access rights bits 11:8", "GS access rights bits 11:8",
	"TR access rights bits 11:8", "LDTR access rights bits 11:8",
};

static const char *const msg_ar_31_17[SEGS] = {
	"ES access rights bits 31:17", "CS access rights bits 31:17",
	"SS access rights bits 31:17", "DS access rights bits 31:17",
	"FS access rights bits 31:17", "GS access rights bits 31:17",
	"TR access rights bits 31:17", "LDTR access rights bits 31:17",
};

static const char *const msg_g_set[SEGS] = {
	"ES.G set with limit 11:0 not all ones", "CS.G set with limit 11:0 not all ones",
	"SS.G set with limit 11:0 not all ones", "DS.G set with limit 11:0 not all ones",
	"FS.G set with limit 11:0 not all ones", "GS.G set with limit 11:0 not all ones",
	"TR.G set with limit 11:0 not all ones", "LDTR.G set with limit 11:0 not all ones",
};

static const char *const msg_g_clear[SEGS] = {
	"ES.G clear with limit 31:20 not 0", "CS.G clear with limit 31:20 not 0",
	"SS.G clear with limit 31:20 not 0", "DS.G clear with limit 31:20 not 0",
	"FS.G clear with limit 31:20 not 0", "GS.G clear with limit 31:20 not 0",
	"TR.G clear with limit 31:20 not 0", "LDTR.G clear with limit 31:20 not 0",
};

static const char *const msg_s_clear[SEGS] = {
	"ES.S clear", "CS.S clear", "SS.S clear", "DS.S clear", "FS.S clear", "GS.S clear",
};

static const char *const msg_not_accessed[SEGS] = {
	[HVX_SEG_ES] = "ES type not accessed", [HVX_SEG_DS] = "DS type not accessed",
	[HVX_SEG_FS] = "FS type not accessed", [HVX_SEG_GS] = "GS type not accessed",
};

static const char *const msg_not_readable[SEGS] = {
	[HVX_SEG_ES] = "ES code segment not readable",
	[HVX_SEG_DS] = "DS code segment not readable",
	[HVX_SEG_FS] = "FS code segment not readable",
	[HVX_SEG_GS] = "GS code segment not readable",
};

static const char *const msg_dpl_below_rpl[SEGS] = {
	[HVX_SEG_ES] = "ES.DPL below its RPL", [HVX_SEG_DS] = "DS.DPL below its RPL",
	[HVX_SEG_FS] = "FS.DPL below its RPL", [HVX_SEG_GS] = "GS.DPL below its RPL",
};

static const char *const msg_base_63_32[SEGS] = {
	[HVX_SEG_ES] = "ES base bits 63:32", [HVX_SEG_CS] = "CS base bits 63:32",
	[HVX_SEG_SS] = "SS base bits 63:32", [HVX_SEG_DS] = "DS base bits 63:32",
};

static const char *const msg_v86_base[SEGS] = {
	"ES base not selector * 16 in virtual-8086 mode",
	"CS base not selector * 16 in virtual-8086 mode",
	"SS base not selector * 16 in virtual-8086 mode",
	"DS base not selector * 16 in virtual-8086 mode",
	"FS base not selector * 16 in virtual-8086 mode",
	"GS base not selector * 16 in virtual-8086 mode",
};

static const char *const msg_v86_limit[SEGS] = {
	"ES limit not 0xffff in virtual-8086 mode", "CS limit not 0xffff in virtual-8086 mode",
	"SS limit not 0xffff in virtual-8086 mode", "DS limit not 0xffff in virtual-8086 mode",
	"FS limit not 0xffff in virtual-8086 mode", "GS limit not 0xffff in virtual-8086 mode",
};

static const char *const msg_v86_ar[SEGS] = {
	"ES access rights not 0xf3 in virtual-8086 mode",
	"CS access rights not 0xf3 in virtual-8086 mode",
	"SS access rights not 0xf3 in virtual-8086 mode",
	"DS access rights not 0xf3 in virtual-8086 mode",
	"FS access rights not 0xf3 in virtual-8086 mode",
	"GS access rights not 0xf3 in virtual-8086 mode",
};

/* CS, SS, DS, ES, FS, GS: the ones virtual-8086 mode constrains. */
static const int v86_segs[] = {
	HVX_SEG_CS, HVX_SEG_SS, HVX_SEG_DS, HVX_SEG_ES, HVX_SEG_FS, HVX_SEG_GS,
};

static bool usable(const struct vmx_gc_seg *sg)
{
	return !(sg->ar & AR_UNUSABLE);
}

/* Bits 63:N all equal, N the linear-address width (SDM Vol 1 3.3.7.1). */
static bool canonical(const struct vmx_guest_state *s, u64 addr)
{
	unsigned int n = s->linear_bits ? s->linear_bits : 48;
	u64 top;

	if (n >= 64)
		return true;
	top = addr >> (n - 1);
	return top == 0 || top == ~0ull >> (n - 1);
}

/* ---- 27.3.1.1 Checks on guest control registers, debug registers, MSRs */

/*
 * CR0 and CR4 as VMX operation allows them (SDM Vol 3 24.8, A.7, A.8): a
 * bit set in FIXED0 must be 1, a bit clear in FIXED1 must be 0. CR0.NW
 * and CD are never checked (entry does not load them), and with
 * unrestricted guest neither are PE and PG (27.3.1.1).
 */
static const char *check_fixed_bits(const struct vmx_guest_state *s)
{
	u64 must1 = s->cr0_fixed0 & ~(CR0_NW | CR0_CD);
	u64 may1 = s->cr0_fixed1 | CR0_NW | CR0_CD;

	if (s->unrestricted)
		must1 &= ~(CR0_PE | CR0_PG);
	if ((s->cr0 & must1) != must1)
		return "CR0 bit fixed to 1 is clear";
	if (s->cr0 & ~may1)
		return "CR0 bit fixed to 0 is set";
	if ((s->cr4 & s->cr4_fixed0) != s->cr4_fixed0)
		return "CR4 bit fixed to 1 is clear";
	if (s->cr4 & ~s->cr4_fixed1)
		return "CR4 bit fixed to 0 is set";
	return NULL;
}

/*
 * Bits 63:52 of CR3, and those of 51:32 at or above MAXPHYADDR (SDM Vol 3
 * 27.3.1.1). Bits 62:61 are LAM's on CPUs that have it: left to the CPU.
 */
static u64 cr3_reserved(const struct vmx_guest_state *s)
{
	unsigned int width = s->maxphyaddr ? s->maxphyaddr : 52;

	if (width < 32)
		width = 32;
	if (width > 52)
		width = 52;
	return (~0ull << width) & ~(3ull << 61);
}

/* Every byte a memory type WRMSR to IA32_PAT accepts: UC, WC, WT, WP, WB, UC-. */
static bool pat_valid(u64 pat)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (8 * i);

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

static const char *check_efer(const struct vmx_guest_state *s)
{
	bool lma = s->efer & EFER_LMA, lme = s->efer & EFER_LME;

	if (s->efer & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
		return "EFER reserved bits";
	if (lma != s->ia32e_mode)
		return "EFER.LMA differs from IA-32e mode guest";
	if ((s->cr0 & CR0_PG) && lma != lme)
		return "EFER.LME differs from EFER.LMA with CR0.PG set";
	return NULL;
}

static const char *check_control_regs(const struct vmx_guest_state *s)
{
	const char *why = check_fixed_bits(s);

	if (why)
		return why;
	/* Unrestricted guest allows paging off, not paging without PE. */
	if ((s->cr0 & CR0_PG) && !(s->cr0 & CR0_PE))
		return "CR0.PG set without CR0.PE";
	if ((s->cr4 & CR4_CET) && !(s->cr0 & CR0_WP))
		return "CR4.CET set without CR0.WP";
	if (s->load_debugctl && (s->debugctl & DEBUGCTL_RSVD))
		return "DEBUGCTL reserved bits";
	/* The checks of processors that support Intel 64 architecture: */
	if (s->ia32e_mode && !(s->cr0 & CR0_PG))
		return "IA-32e mode guest without CR0.PG";
	if (s->ia32e_mode && !(s->cr4 & CR4_PAE))
		return "IA-32e mode guest without CR4.PAE";
	if (!s->ia32e_mode && (s->cr4 & CR4_PCIDE))
		return "CR4.PCIDE set outside IA-32e mode";
	if (s->cr3 & cr3_reserved(s))
		return "CR3 bits above MAXPHYADDR";
	if (s->load_debugctl && (s->dr7 >> 32))
		return "DR7 bits 63:32";
	if (!canonical(s, s->sysenter_esp))
		return "SYSENTER_ESP not canonical";
	if (!canonical(s, s->sysenter_eip))
		return "SYSENTER_EIP not canonical";
	if (s->load_pat && !pat_valid(s->pat))
		return "PAT entry type";
	if (s->load_efer)
		return check_efer(s);
	return NULL;
}

/* ---- 27.3.1.2 Checks on guest segment registers ------------------------ */

/*
 * What every register's access rights obey when they are checked at all
 * (CS, a usable data register, TR, a usable LDTR): present, reserved bits
 * 11:8 and 31:17 clear, and G consistent with the limit.
 */
static const char *check_ar_common(const struct vmx_gc_seg *sg, int i)
{
	if (!(sg->ar & AR_P))
		return msg_not_present[i];
	if (sg->ar & AR_RSVD_11_8)
		return msg_ar_11_8[i];
	if ((sg->limit & 0xfff) != 0xfff && (sg->ar & AR_G))
		return msg_g_set[i];
	if ((sg->limit & 0xfff00000) && !(sg->ar & AR_G))
		return msg_g_clear[i];
	if (sg->ar & AR_RSVD_31_17)
		return msg_ar_31_17[i];
	return NULL;
}

/* CS is checked whether or not it is marked unusable. */
static const char *check_cs(const struct vmx_guest_state *s)
{
	const struct vmx_gc_seg *cs = &s->seg[HVX_SEG_CS];
	u32 type = AR_TYPE(cs->ar), dpl = AR_DPL(cs->ar);
	u32 ss_dpl = AR_DPL(s->seg[HVX_SEG_SS].ar);

	/* An accessed code segment; data type 3 only as unrestricted guest. */
	if (type == 3 ? !s->unrestricted : (type & 9) != 9)
		return "CS type";
	if (!(cs->ar & AR_S))
		return msg_s_clear[HVX_SEG_CS];
	if (type == 3 && dpl != 0)
		return "CS type 3 with DPL not 0";
	if (type != 3 && !(type & TYPE_CONFORMING) && dpl != ss_dpl)
		return "CS.DPL differs from SS.DPL (non-conforming)";
	if (type != 3 && (type & TYPE_CONFORMING) && dpl > ss_dpl)
		return "CS.DPL above SS.DPL (conforming)";
	if (s->ia32e_mode && (cs->ar & AR_L) && (cs->ar & AR_DB))
		return "CS.L and CS.D both set in IA-32e mode";
	return check_ar_common(cs, HVX_SEG_CS);
}

/* SS.DPL, the CPL, is checked even when SS is unusable. */
static const char *check_ss(const struct vmx_guest_state *s)
{
	const struct vmx_gc_seg *ss = &s->seg[HVX_SEG_SS];
	u32 type = AR_TYPE(ss->ar), dpl = AR_DPL(ss->ar);

	if (usable(ss) && type != 3 && type != 7)
		return "SS type";
	if (usable(ss) && !(ss->ar & AR_S))
		return msg_s_clear[HVX_SEG_SS];
	if (!s->unrestricted && dpl != SEL_RPL(ss->selector))
		return "SS.DPL differs from SS.RPL";
	if (dpl != 0 && AR_TYPE(s->seg[HVX_SEG_CS].ar) == 3)
		return "SS.DPL not 0 with CS type 3";
	if (dpl != 0 && !(s->cr0 & CR0_PE))
		return "SS.DPL not 0 with CR0.PE clear";
	return usable(ss) ? check_ar_common(ss, HVX_SEG_SS) : NULL;
}

/* DS, ES, FS, GS: nothing is checked while unusable. */
static const char *check_data_seg(const struct vmx_guest_state *s, int i)
{
	const struct vmx_gc_seg *sg = &s->seg[i];
	u32 type = AR_TYPE(sg->ar);

	if (!usable(sg))
		return NULL;
	if (!(type & TYPE_ACCESSED))
		return msg_not_accessed[i];
	if ((type & TYPE_CODE) && !(type & TYPE_READABLE))
		return msg_not_readable[i];
	if (!(sg->ar & AR_S))
		return msg_s_clear[i];
	/* Data or non-conforming code (types 0-11). */
	if (!s->unrestricted && type <= 11 && AR_DPL(sg->ar) < SEL_RPL(sg->selector))
		return msg_dpl_below_rpl[i];
	return check_ar_common(sg, i);
}

static const char *check_tr(const struct vmx_guest_state *s)
{
	const struct vmx_gc_seg *tr = &s->seg[HVX_SEG_TR];
	u32 type = AR_TYPE(tr->ar);

	/* A busy TSS; in IA-32e mode only the 64-bit one (type 11). */
	if (s->ia32e_mode && type != TYPE_TSS_BUSY)
		return "TR type in IA-32e mode";
	if (type != TYPE_TSS_BUSY && type != TYPE_TSS16_BUSY)
		return "TR type";
	if (tr->ar & AR_S)
		return "TR.S set";
	if (!usable(tr))
		return "TR unusable";
	return check_ar_common(tr, HVX_SEG_TR);
}

static const char *check_ldtr(const struct vmx_guest_state *s)
{
	const struct vmx_gc_seg *ldtr = &s->seg[HVX_SEG_LDTR];

	if (!usable(ldtr))
		return NULL;
	if (AR_TYPE(ldtr->ar) != TYPE_LDT)
		return "LDTR type";
	if (ldtr->ar & AR_S)
		return "LDTR.S set";
	return check_ar_common(ldtr, HVX_SEG_LDTR);
}

/* Virtual-8086 mode: real-mode-like CS, SS, DS, ES, FS, GS. */
static const char *check_v86_segs(const struct vmx_guest_state *s)
{
	unsigned int n;

	for (n = 0; n < ARRAY_SIZE(v86_segs); n++) {
		const struct vmx_gc_seg *sg = &s->seg[v86_segs[n]];

		if (sg->base != (u64)sg->selector << 4)
			return msg_v86_base[v86_segs[n]];
		if (sg->limit != 0xffff)
			return msg_v86_limit[v86_segs[n]];
		if (sg->ar != AR_V86)
			return msg_v86_ar[v86_segs[n]];
	}
	return NULL;
}

/* Base addresses as processors that support Intel 64 architecture check them. */
static const char *check_bases(const struct vmx_guest_state *s)
{
	static const int low4g[] = { HVX_SEG_SS, HVX_SEG_DS, HVX_SEG_ES };
	unsigned int n;

	if (!canonical(s, s->seg[HVX_SEG_TR].base))
		return "TR base not canonical";
	if (!canonical(s, s->seg[HVX_SEG_FS].base))
		return "FS base not canonical";
	if (!canonical(s, s->seg[HVX_SEG_GS].base))
		return "GS base not canonical";
	if (usable(&s->seg[HVX_SEG_LDTR]) && !canonical(s, s->seg[HVX_SEG_LDTR].base))
		return "LDTR base not canonical";
	if (s->seg[HVX_SEG_CS].base >> 32)
		return msg_base_63_32[HVX_SEG_CS];
	for (n = 0; n < ARRAY_SIZE(low4g); n++) {
		const struct vmx_gc_seg *sg = &s->seg[low4g[n]];

		if (usable(sg) && sg->base >> 32)
			return msg_base_63_32[low4g[n]];
	}
	return NULL;
}

static const char *check_segments(const struct vmx_guest_state *s)
{
	static const int data[] = { HVX_SEG_DS, HVX_SEG_ES, HVX_SEG_FS, HVX_SEG_GS };
	bool v86 = s->rflags & RFLAGS_VM;
	const char *why;
	unsigned int n;

	/* Selector fields. */
	if (s->seg[HVX_SEG_TR].selector & SEL_TI)
		return "TR.TI set";
	if (usable(&s->seg[HVX_SEG_LDTR]) && (s->seg[HVX_SEG_LDTR].selector & SEL_TI))
		return "LDTR.TI set";
	if (!v86 && !s->unrestricted &&
	    SEL_RPL(s->seg[HVX_SEG_SS].selector) != SEL_RPL(s->seg[HVX_SEG_CS].selector))
		return "SS.RPL differs from CS.RPL";

	/* Base-address fields, then limits and access rights. */
	why = check_bases(s);
	if (why)
		return why;
	if (v86) {
		why = check_v86_segs(s);
	} else {
		why = check_cs(s);
		if (!why)
			why = check_ss(s);
		for (n = 0; !why && n < ARRAY_SIZE(data); n++)
			why = check_data_seg(s, data[n]);
	}
	if (!why)
		why = check_tr(s);
	if (!why)
		why = check_ldtr(s);
	return why;
}

/* ---- 27.3.1.3 Checks on guest descriptor-table registers --------------- */

static const char *check_dtrs(const struct vmx_guest_state *s)
{
	if (!canonical(s, s->gdtr_base))
		return "GDTR base not canonical";
	if (!canonical(s, s->idtr_base))
		return "IDTR base not canonical";
	if (s->gdtr_limit >> 16)
		return "GDTR limit bits 31:16";
	if (s->idtr_limit >> 16)
		return "IDTR limit bits 31:16";
	return NULL;
}

/* ---- 27.3.1.4 Checks on guest RIP and RFLAGS ----------------------------- */

const char *vmx_check_guest_rip(const struct vmx_guest_state *s)
{
	bool code64 = s->ia32e_mode && (s->seg[HVX_SEG_CS].ar & AR_L);

	if (!code64 && (s->rip >> 32))
		return "RIP bits 63:32 outside 64-bit mode";
	if (code64 && !canonical(s, s->rip))
		return "RIP not canonical";
	return NULL;
}

static const char *check_rflags(const struct vmx_guest_state *s)
{
	u32 info = s->entry_intr_info;

	if ((s->rflags & RFLAGS_RSVD) || !(s->rflags & RFLAGS_FIXED))
		return "RFLAGS reserved bits";
	if ((s->rflags & RFLAGS_VM) && s->ia32e_mode)
		return "RFLAGS.VM set in IA-32e mode";
	if ((s->rflags & RFLAGS_VM) && !(s->cr0 & CR0_PE))
		return "RFLAGS.VM set with CR0.PE clear";
	if ((info & INFO_VALID) && INFO_TYPE(info) == EV_EXT_INTR && !(s->rflags & RFLAGS_IF))
		return "RFLAGS.IF clear with external interrupt injection";
	return NULL;
}

/* ---- 27.3.1.5 Checks on guest non-register state ----------------------- */

/* The events an activity state lets VM entry inject. */
static bool event_allowed(u32 activity, u32 info)
{
	u32 type = INFO_TYPE(info), vector = INFO_VECTOR(info);

	switch (activity) {
	case ACT_ACTIVE:
		return true;
	case ACT_HLT:
		return type == EV_EXT_INTR || type == EV_NMI ||
		       (type == EV_HW_EXC && (vector == VEC_DB || vector == VEC_MC)) ||
		       (type == EV_OTHER && vector == 0);	/* pending MTF exit */
	case ACT_SHUTDOWN:
		return type == EV_NMI || (type == EV_HW_EXC && vector == VEC_MC);
	default:
		return false;	/* wait-for-SIPI: nothing */
	}
}

static const char *check_activity(const struct vmx_guest_state *s)
{
	u32 info = s->entry_intr_info;

	if (s->activity > ACT_WAIT_SIPI)
		return "activity state";
	if (s->activity == ACT_HLT && AR_DPL(s->seg[HVX_SEG_SS].ar) != 0)
		return "HLT activity state with SS.DPL not 0";
	if (s->activity != ACT_ACTIVE && (s->interruptibility & (INTR_STI | INTR_MOV_SS)))
		return "STI or MOV-SS blocking outside the active state";
	if ((info & INFO_VALID) && !event_allowed(s->activity, info))
		return "event injection blocked in this activity state";
	return NULL;
}

static const char *check_interruptibility(const struct vmx_guest_state *s)
{
	u32 intr = s->interruptibility, info = s->entry_intr_info;
	bool ext_intr = (info & INFO_VALID) && INFO_TYPE(info) == EV_EXT_INTR;
	bool nmi = (info & INFO_VALID) && INFO_TYPE(info) == EV_NMI;

	if (intr & INTR_RSVD)
		return "interruptibility reserved bits";
	if ((intr & INTR_STI) && (intr & INTR_MOV_SS))
		return "STI and MOV-SS blocking both set";
	if ((intr & INTR_STI) && !(s->rflags & RFLAGS_IF))
		return "STI blocking with RFLAGS.IF clear";
	if (ext_intr && (intr & (INTR_STI | INTR_MOV_SS)))
		return "STI or MOV-SS blocking with external interrupt injection";
	if (nmi && (intr & INTR_MOV_SS))
		return "MOV-SS blocking with NMI injection";
	/* hvx never enters SMM, nor uses "entry to SMM". */
	if (intr & INTR_SMI)
		return "SMI blocking outside SMM";
	if (nmi && s->virtual_nmis && (intr & INTR_NMI))
		return "NMI blocking with virtual-NMI injection";
	if ((intr & INTR_ENCLAVE) && (intr & INTR_MOV_SS))
		return "enclave interruption with MOV-SS blocking";
	return NULL;
}

static const char *check_pending_dbg(const struct vmx_guest_state *s)
{
	u64 pde = s->pending_dbg;
	bool single_step = (s->rflags & RFLAGS_TF) && !(s->debugctl & DEBUGCTL_BTF);

	if (pde & PDE_RSVD)
		return "pending debug exceptions reserved bits";
	/* In an STI/MOV-SS shadow or HLT, BS says whether TF single-steps. */
	if ((s->interruptibility & (INTR_STI | INTR_MOV_SS)) || s->activity == ACT_HLT) {
		if (single_step && !(pde & PDE_BS))
			return "pending BS clear with RFLAGS.TF single-stepping";
		if (!single_step && (pde & PDE_BS))
			return "pending BS set without RFLAGS.TF single-stepping";
	}
	/* An RTM debug exception stands alone, with bit 12 set. */
	if ((pde & PDE_RTM) && pde != (PDE_RTM | PDE_ENABLED_BP))
		return "pending RTM with other bits";
	if ((pde & PDE_RTM) && (s->interruptibility & INTR_MOV_SS))
		return "pending RTM with MOV-SS blocking";
	return NULL;
}

/* Not ~0: a 4-KByte aligned physical address (SDM Vol 3 27.3.1.5). */
static bool link_ptr_valid(const struct vmx_guest_state *s)
{
	unsigned int width = s->maxphyaddr ? s->maxphyaddr : 52;

	if (s->link_ptr == ~0ull)
		return true;
	return !(s->link_ptr & 0xfff) && !(s->link_ptr >> width);
}

static const char *check_non_register(const struct vmx_guest_state *s)
{
	const char *why = check_activity(s);

	if (!why)
		why = check_interruptibility(s);
	if (!why)
		why = check_pending_dbg(s);
	if (!why && !link_ptr_valid(s))
		why = vmx_gc_bad_link_ptr;
	return why;
}

/* The subsections in the SDM's order; the CPU may check in any order. */
const char *vmx_check_guest_state(const struct vmx_guest_state *s)
{
	const char *why = check_control_regs(s);

	if (!why)
		why = check_segments(s);
	if (!why)
		why = check_dtrs(s);
	if (!why)
		why = vmx_check_guest_rip(s);
	if (!why)
		why = check_rflags(s);
	if (!why)
		why = check_non_register(s);
	return why;
}
