// SPDX-License-Identifier: GPL-2.0
/*
 * vmx_check_guest_state(): VM entry's guest-state checks (SDM Vol 3
 * 27.3.1). Two states VM entry accepts, a 64-bit kernel's and the reset
 * state hvx writes (real mode under unrestricted guest), then one change
 * per row with the exact message it must give, or NULL where the state
 * must still pass: a false positive would stop a guest the CPU runs.
 */
#include <stdio.h>
#include <string.h>

#include "vmx/vmx_guest_check.h"
#include "tap.h"

#define CR0_PE		0x00000001ull
#define CR0_MP		0x00000002ull
#define CR0_ET		0x00000010ull
#define CR0_NE		0x00000020ull
#define CR0_WP		0x00010000ull
#define CR0_AM		0x00040000ull
#define CR0_NW		0x20000000ull
#define CR0_CD		0x40000000ull
#define CR0_PG		0x80000000ull
#define CR4_PAE		0x00000020ull
#define CR4_PGE		0x00000080ull
#define CR4_OSFXSR	0x00000200ull
#define CR4_LA57	0x00001000ull
#define CR4_VMXE	0x00002000ull
#define CR4_PCIDE	0x00020000ull
#define CR4_CET		0x00800000ull
#define EFER_SCE	0x001ull
#define EFER_LME	0x100ull
#define EFER_LMA	0x400ull
#define EFER_NXE	0x800ull
#define EFER_SVME	0x1000ull
#define RF_FIXED	0x00002ull
#define RF_TF		0x00100ull
#define RF_IF		0x00200ull
#define RF_VM		0x20000ull

#define AR_S		0x10u
#define AR_DPL3		0x60u
#define AR_P		0x80u
#define AR_L		0x2000u
#define AR_DB		0x4000u
#define AR_G		0x8000u
#define AR_UNUSABLE	0x10000u

#define ES	HVX_SEG_ES
#define CS	HVX_SEG_CS
#define SS	HVX_SEG_SS
#define DS	HVX_SEG_DS
#define FS	HVX_SEG_FS
#define GS	HVX_SEG_GS
#define TR	HVX_SEG_TR
#define LDTR	HVX_SEG_LDTR

#define STI	0x01u
#define MOV_SS	0x02u
#define SMI	0x04u
#define NMI_BLK	0x08u
#define ENCLAVE	0x10u

/* VM-entry interruption information: valid, type << 8, vector. */
#define INJ_EXT(vec)	(0x80000000u | (vec))
#define INJ_NMI		0x80000202u
#define INJ_HW(vec)	(0x80000300u | (vec))
#define INJ_GP		(INJ_HW(13) | 0x800u)	/* with an error code */
#define INJ_MTF		0x80000700u		/* other event 0: pending MTF exit */

#define PDE_B0		0x00001ull
#define PDE_BP		0x01000ull
#define PDE_BS		0x04000ull
#define PDE_RTM		0x10000ull

#define NONCANON48	0x0000800000000000ull	/* canonical with 57 bits */

static void set_seg(struct vmx_gc_seg *sg, u16 sel, u64 base, u32 limit, u32 ar)
{
	sg->selector = sel;
	sg->base = base;
	sg->limit = limit;
	sg->ar = ar;
}

/* Controls and CPU as hvx runs them; FIXED values of a common CPU. */
static void common(struct vmx_guest_state *s)
{
	memset(s, 0, sizeof(*s));
	s->load_debugctl = true;
	s->load_efer = true;
	s->load_pat = true;
	s->unrestricted = true;
	s->virtual_nmis = true;
	s->cr0_fixed0 = CR0_PE | CR0_NE | CR0_PG;
	s->cr0_fixed1 = 0xffffffffull;
	s->cr4_fixed0 = CR4_VMXE;
	s->cr4_fixed1 = 0x00f727ffull;	/* bits 10:0, 13, 18:16, 23:20 */
	s->maxphyaddr = 46;
	s->linear_bits = 48;
	s->dr7 = 0x400;
	s->pat = 0x0007040600070406ull;
	s->link_ptr = ~0ull;
}

/* A 64-bit kernel: flat CS/SS, null DS/ES/FS/GS, no LDT. */
static void long_mode(struct vmx_guest_state *s)
{
	common(s);
	s->ia32e_mode = true;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s->cr3 = 0x1234000;
	s->cr4 = CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_VMXE;
	s->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	s->sysenter_esp = 0xfffffe0000003000ull;
	set_seg(&s->seg[CS], 0x10, 0, 0xffffffff, 0x0b | AR_S | AR_P | AR_L | AR_G);
	set_seg(&s->seg[SS], 0x18, 0, 0xffffffff, 0x03 | AR_S | AR_P | AR_DB | AR_G);
	set_seg(&s->seg[DS], 0, 0, 0, AR_UNUSABLE);
	set_seg(&s->seg[ES], 0, 0, 0, AR_UNUSABLE);
	set_seg(&s->seg[FS], 0, 0x7f0000001000ull, 0, AR_UNUSABLE);
	set_seg(&s->seg[GS], 0, 0xffff888000000000ull, 0, AR_UNUSABLE);
	set_seg(&s->seg[TR], 0x40, 0xfffffe0000001000ull, 0x4087, 0x8b);
	set_seg(&s->seg[LDTR], 0, 0, 0, AR_UNUSABLE);
	s->gdtr_base = 0xfffffe0000001000ull;
	s->gdtr_limit = 0x7f;
	s->idtr_base = 0xfffffe0000000000ull;
	s->idtr_limit = 0xfff;
	s->rip = 0xffffffff81000000ull;
	s->rflags = RF_FIXED | RF_IF;
}

/*
 * What vmx_vmcs_reset() writes: CR0 0x60000010 reaches the VMCS as 0x30
 * (vmx_cr0_hw() drops CD/NW, adds FIXED0 but PE/PG), CR4 as VMXE.
 */
static void real_mode(struct vmx_guest_state *s)
{
	int i;

	common(s);
	s->cr0 = CR0_ET | CR0_NE;
	s->cr4 = CR4_VMXE;
	for (i = 0; i < VMX_GC_NR_SEGS; i++)
		set_seg(&s->seg[i], 0, 0, 0xffff, 0x93);
	set_seg(&s->seg[CS], 0xf000, 0xffff0000, 0xffff, 0x9b);
	s->seg[LDTR].ar = 0x82;
	s->seg[TR].ar = 0x8b;
	s->gdtr_limit = 0xffff;
	s->idtr_limit = 0xffff;
	s->rip = 0xfff0;
	s->rflags = RF_FIXED;
}

/* Virtual-8086 mode under 32-bit protected mode without paging. */
static void v86_mode(struct vmx_guest_state *s)
{
	static const int segs[] = { CS, SS, DS, ES, FS, GS };
	unsigned int i;

	real_mode(s);
	s->cr0 |= CR0_PE;
	s->rflags |= RF_VM | RF_IF;
	for (i = 0; i < ARRAY_SIZE(segs); i++)
		set_seg(&s->seg[segs[i]], 0x1000 + i, (0x1000 + i) << 4, 0xffff, 0xf3);
	s->seg[TR].limit = 0x2067;
}

static void expect(const char *desc, const struct vmx_guest_state *s,
		   const char *want, bool rip_only)
{
	const char *got = rip_only ? vmx_check_guest_rip(s) : vmx_check_guest_state(s);
	bool ok = got == want || (got && want && !strcmp(got, want));
	struct diag d = { .n = 0 };

	diag_add(&d, "want: %s\n", want ? want : "(passes)");
	diag_add(&d, "got:  %s\n", got ? got : "(passes)");
	tap_result(ok, &d, "vmx guest state: %s -> %s", desc, want ? want : "passes");
}

/* One row: a base state, the changes, the expected message or NULL. */
#define ROW(base, want, ...) do {				\
	struct vmx_guest_state s;				\
	base(&s);						\
	__VA_ARGS__;						\
	expect(#base ": " #__VA_ARGS__, &s, want, false);	\
} while (0)

#define OK	NULL

static void test_control_regs(void)
{
	ROW(long_mode, OK, (void)0);
	ROW(real_mode, OK, (void)0);
	ROW(long_mode, "CR0 bit fixed to 1 is clear", s.cr0 &= ~CR0_NE);
	ROW(long_mode, "CR0 bit fixed to 0 is set", s.cr0 |= 1ull << 32);
	/* NW and CD are never checked; PE and PG not with unrestricted guest. */
	ROW(real_mode, OK, s.cr0 |= CR0_CD | CR0_NW);
	ROW(real_mode, "CR0 bit fixed to 1 is clear", s.unrestricted = false);
	ROW(long_mode, "CR0.PG set without CR0.PE", s.cr0 &= ~CR0_PE);
	ROW(long_mode, "CR4 bit fixed to 1 is clear", s.cr4 &= ~CR4_VMXE);
	ROW(long_mode, "CR4 bit fixed to 0 is set", s.cr4 |= CR4_LA57);
	ROW(long_mode, "CR4.CET set without CR0.WP", s.cr4 |= CR4_CET, s.cr0 &= ~CR0_WP);
	ROW(long_mode, OK, s.cr4 |= CR4_CET);
	ROW(long_mode, "DEBUGCTL reserved bits", s.debugctl = 1ull << 16);
	ROW(long_mode, OK, s.debugctl = 1ull << 16, s.load_debugctl = false);
	ROW(long_mode, "IA-32e mode guest without CR0.PG", s.cr0 &= ~CR0_PG);
	ROW(long_mode, "IA-32e mode guest without CR4.PAE", s.cr4 &= ~CR4_PAE);
	ROW(real_mode, "CR4.PCIDE set outside IA-32e mode", s.cr4 |= CR4_PCIDE);
	ROW(long_mode, "CR3 bits above MAXPHYADDR", s.cr3 = 1ull << 46);
	ROW(long_mode, OK, s.cr3 = (1ull << 46) - 0x1000);
	ROW(long_mode, "CR3 bits above MAXPHYADDR", s.cr3 |= 1ull << 63);
	/* LAM's bits 62:61 are the CPU's to judge. */
	ROW(long_mode, OK, s.cr3 |= 1ull << 62);
	ROW(long_mode, "DR7 bits 63:32", s.dr7 |= 1ull << 32);
	ROW(long_mode, "SYSENTER_ESP not canonical", s.sysenter_esp = NONCANON48);
	/* A CPU with 57-bit linear addresses checks with 57 bits. */
	ROW(long_mode, OK, s.sysenter_esp = NONCANON48, s.linear_bits = 57);
	ROW(long_mode, "SYSENTER_EIP not canonical", s.sysenter_eip = 0x8000000000000000ull);
	ROW(long_mode, "PAT entry type", s.pat |= 2ull << 24);
	ROW(long_mode, "PAT entry type", s.pat |= 0x80ull);
	ROW(long_mode, "EFER reserved bits", s.efer |= EFER_SVME);
	ROW(long_mode, "EFER.LMA differs from IA-32e mode guest", s.efer &= ~EFER_LMA);
	ROW(long_mode, "EFER.LME differs from EFER.LMA with CR0.PG set",
	    s.efer &= ~EFER_LME);
	/* LME before paging is how every OS enters long mode. */
	ROW(real_mode, OK, s.efer = EFER_LME);
}

static void test_segments(void)
{
	/* Selectors. */
	ROW(long_mode, "TR.TI set", s.seg[TR].selector |= 4);
	ROW(long_mode, "LDTR.TI set", set_seg(&s.seg[LDTR], 0x4c, 0, 0xffff, 0x82));
	ROW(long_mode, OK, s.seg[LDTR].selector = 0x4c);
	ROW(long_mode, "SS.RPL differs from CS.RPL",
	    s.unrestricted = false, s.seg[SS].selector |= 3);
	ROW(real_mode, OK, s.seg[SS].selector = 3);

	/* Bases: canonical even when unusable; 63:32 of usable SS/DS/ES. */
	ROW(long_mode, "TR base not canonical", s.seg[TR].base = NONCANON48);
	ROW(long_mode, "FS base not canonical", s.seg[FS].base = NONCANON48);
	ROW(long_mode, OK, s.seg[FS].base = NONCANON48, s.linear_bits = 57);
	ROW(long_mode, "CS base bits 63:32", s.seg[CS].base = 1ull << 32);
	ROW(real_mode, "DS base bits 63:32", s.seg[DS].base = 1ull << 32);
	ROW(long_mode, OK, s.seg[DS].base = 1ull << 32);

	/* CS. */
	ROW(long_mode, "CS type", s.seg[CS].ar &= ~1u);
	ROW(long_mode, "CS type", s.unrestricted = false, s.seg[CS].ar = 0x93);
	/* A data CS only as unrestricted guest, and only with DPL 0. */
	ROW(real_mode, OK, s.seg[CS].ar = 0x93);
	ROW(real_mode, "CS type 3 with DPL not 0", s.seg[CS].ar = 0x93 | AR_DPL3);
	ROW(long_mode, "CS.S clear", s.seg[CS].ar &= ~AR_S);
	ROW(long_mode, "CS.DPL differs from SS.DPL (non-conforming)", s.seg[CS].ar |= AR_DPL3);
	ROW(long_mode, "CS.DPL above SS.DPL (conforming)", s.seg[CS].ar |= 0x4 | AR_DPL3);
	ROW(long_mode, OK, s.seg[CS].ar |= 0x4, s.seg[SS].ar |= AR_DPL3);
	ROW(long_mode, "CS.L and CS.D both set in IA-32e mode", s.seg[CS].ar |= AR_DB);
	/* Compatibility mode: D without L. */
	ROW(long_mode, OK, s.seg[CS].ar ^= AR_L | AR_DB, s.rip = 0x400000);
	ROW(long_mode, "CS not present", s.seg[CS].ar &= ~AR_P);
	ROW(long_mode, "CS access rights bits 11:8", s.seg[CS].ar |= 0x100);
	ROW(long_mode, "CS.G set with limit 11:0 not all ones", s.seg[CS].limit = 0xfffff000);
	ROW(long_mode, "CS access rights bits 31:17", s.seg[CS].ar |= 1u << 17);
	/* CS is checked even marked unusable. */
	ROW(long_mode, "CS.S clear", s.seg[CS].ar = AR_UNUSABLE | 0x0b | AR_P);

	/* SS: its DPL is checked even when unusable. */
	ROW(long_mode, "SS type", s.seg[SS].ar = 0x0b | AR_S | AR_P | AR_DB | AR_G);
	ROW(long_mode, OK, s.seg[SS].ar = AR_UNUSABLE);
	ROW(long_mode, "SS.DPL differs from SS.RPL", s.unrestricted = false,
	    s.seg[CS].selector |= 3, s.seg[SS].selector |= 3);
	ROW(real_mode, "SS.DPL not 0 with CR0.PE clear",
	    s.seg[CS].ar |= AR_DPL3, s.seg[SS].ar |= AR_DPL3);
	ROW(real_mode, "SS.DPL not 0 with CR0.PE clear",
	    s.seg[CS].ar |= AR_DPL3, s.seg[SS].ar = AR_UNUSABLE | AR_DPL3);
	ROW(real_mode, "SS.DPL not 0 with CS type 3", s.cr0 |= CR0_PE,
	    s.seg[CS].ar = 0x93, s.seg[SS].ar |= AR_DPL3);

	/* DS, ES, FS, GS: only when usable. */
	ROW(real_mode, "DS type not accessed", s.seg[DS].ar = 0x92);
	ROW(real_mode, OK, s.seg[ES].ar = 0x9b);
	ROW(real_mode, "ES code segment not readable", s.seg[ES].ar = 0x99);
	ROW(real_mode, "FS.S clear", s.seg[FS].ar = 0x83);
	ROW(long_mode, "GS.DPL below its RPL", s.unrestricted = false,
	    set_seg(&s.seg[GS], 0x2b, 0, 0xffffffff, 0x93 | AR_G));
	ROW(long_mode, OK, set_seg(&s.seg[GS], 0x2b, 0, 0xffffffff, 0x93 | AR_G));
	ROW(real_mode, "GS not present", s.seg[GS].ar = 0x13);
	ROW(real_mode, OK, s.seg[GS].ar = AR_UNUSABLE | 0x13);
	ROW(real_mode, "DS.G clear with limit 31:20 not 0", s.seg[DS].limit = 0x100000);

	/* TR: a busy TSS, the 16-bit one only outside IA-32e mode. */
	ROW(long_mode, "TR type in IA-32e mode", s.seg[TR].ar = 0x83);
	ROW(real_mode, OK, s.seg[TR].ar = 0x83);
	ROW(real_mode, "TR type", s.seg[TR].ar = 0x89);
	ROW(real_mode, "TR.S set", s.seg[TR].ar |= AR_S);
	ROW(real_mode, "TR unusable", s.seg[TR].ar |= AR_UNUSABLE);
	ROW(long_mode, "TR.G set with limit 11:0 not all ones", s.seg[TR].ar |= AR_G);

	/* LDTR, when usable. */
	ROW(real_mode, "LDTR type", s.seg[LDTR].ar = 0x83);
	ROW(real_mode, "LDTR.S set", s.seg[LDTR].ar = 0x92);
	ROW(real_mode, "LDTR not present", s.seg[LDTR].ar = 0x02);

	/* Virtual-8086 mode. */
	ROW(v86_mode, OK, (void)0);
	ROW(v86_mode, "DS base not selector * 16 in virtual-8086 mode", s.seg[DS].base += 1);
	ROW(v86_mode, "SS limit not 0xffff in virtual-8086 mode", s.seg[SS].limit = 0xfffff);
	ROW(v86_mode, "CS access rights not 0xf3 in virtual-8086 mode", s.seg[CS].ar = 0xfb);
}

static void test_dtrs_rip_rflags(void)
{
	ROW(long_mode, "GDTR base not canonical", s.gdtr_base = NONCANON48);
	ROW(long_mode, "IDTR limit bits 31:16", s.idtr_limit = 0x10000);

	ROW(real_mode, "RIP bits 63:32 outside 64-bit mode", s.rip = 1ull << 32);
	ROW(long_mode, "RIP bits 63:32 outside 64-bit mode", s.seg[CS].ar &= ~AR_L);
	ROW(long_mode, "RIP not canonical", s.rip = NONCANON48);
	ROW(long_mode, OK, s.rip = NONCANON48, s.linear_bits = 57);
	ROW(real_mode, "RFLAGS reserved bits", s.rflags |= 1ull << 15);
	ROW(real_mode, "RFLAGS reserved bits", s.rflags &= ~RF_FIXED);
	ROW(v86_mode, "RFLAGS.VM set with CR0.PE clear", s.cr0 &= ~CR0_PE);
	ROW(v86_mode, "RFLAGS.VM set in IA-32e mode", s.ia32e_mode = true,
	    s.cr0 |= CR0_PG, s.cr4 |= CR4_PAE, s.efer = EFER_LME | EFER_LMA);
	ROW(real_mode, "RFLAGS.IF clear with external interrupt injection",
	    s.entry_intr_info = INJ_EXT(0x20));
	ROW(real_mode, OK, s.entry_intr_info = INJ_EXT(0x20), s.rflags |= RF_IF);
}

/* vmx_check_guest_rip() reads only what its comment lists. */
static void test_rip_only(void)
{
	struct vmx_guest_state s;

	memset(&s, 0, sizeof(s));
	s.rip = 0xffffffff81000000ull;
	expect("RIP only, IA-32e mode 0", &s, "RIP bits 63:32 outside 64-bit mode", true);
	s.ia32e_mode = true;
	s.seg[CS].ar = AR_L;
	expect("RIP only, 64-bit code", &s, OK, true);
	s.rip = NONCANON48;
	expect("RIP only, 64-bit code, 48 bits", &s, "RIP not canonical", true);
}

static void test_non_register(void)
{
	ROW(long_mode, "activity state", s.activity = 4);
	ROW(long_mode, "HLT activity state with SS.DPL not 0", s.activity = 1,
	    s.seg[CS].ar |= AR_DPL3, s.seg[SS].ar |= AR_DPL3);
	ROW(long_mode, OK, s.activity = 1);
	ROW(long_mode, "STI or MOV-SS blocking outside the active state",
	    s.activity = 1, s.interruptibility = STI);
	ROW(long_mode, "event injection blocked in this activity state",
	    s.activity = 1, s.entry_intr_info = INJ_GP);
	ROW(long_mode, OK, s.activity = 1, s.entry_intr_info = INJ_HW(1));
	ROW(long_mode, OK, s.activity = 1, s.entry_intr_info = INJ_MTF);
	ROW(long_mode, OK, s.activity = 2, s.entry_intr_info = INJ_NMI);
	ROW(long_mode, "event injection blocked in this activity state",
	    s.activity = 3, s.entry_intr_info = INJ_NMI);

	ROW(long_mode, "interruptibility reserved bits", s.interruptibility = 0x20);
	ROW(long_mode, "STI and MOV-SS blocking both set", s.interruptibility = STI | MOV_SS);
	ROW(long_mode, "STI blocking with RFLAGS.IF clear",
	    s.interruptibility = STI, s.rflags &= ~RF_IF);
	ROW(long_mode, "STI or MOV-SS blocking with external interrupt injection",
	    s.interruptibility = MOV_SS, s.entry_intr_info = INJ_EXT(0x30));
	ROW(long_mode, "MOV-SS blocking with NMI injection",
	    s.interruptibility = MOV_SS, s.entry_intr_info = INJ_NMI);
	/* NMI injection in an STI shadow: model-specific, left to the CPU. */
	ROW(long_mode, OK, s.interruptibility = STI, s.entry_intr_info = INJ_NMI);
	ROW(long_mode, "SMI blocking outside SMM", s.interruptibility = SMI);
	ROW(long_mode, "NMI blocking with virtual-NMI injection",
	    s.interruptibility = NMI_BLK, s.entry_intr_info = INJ_NMI);
	ROW(long_mode, OK, s.interruptibility = NMI_BLK, s.entry_intr_info = INJ_NMI,
	    s.virtual_nmis = false);
	ROW(long_mode, "enclave interruption with MOV-SS blocking",
	    s.interruptibility = ENCLAVE | MOV_SS);

	ROW(long_mode, "pending debug exceptions reserved bits", s.pending_dbg = 0x10);
	ROW(long_mode, "pending BS clear with RFLAGS.TF single-stepping",
	    s.interruptibility = STI, s.rflags |= RF_TF);
	ROW(long_mode, OK, s.interruptibility = STI, s.rflags |= RF_TF, s.pending_dbg = PDE_BS);
	ROW(long_mode, "pending BS set without RFLAGS.TF single-stepping",
	    s.activity = 1, s.pending_dbg = PDE_BS);
	/* Outside a shadow or HLT, BS is not tied to TF. */
	ROW(long_mode, OK, s.pending_dbg = PDE_BS | PDE_B0);
	ROW(long_mode, OK, s.pending_dbg = PDE_RTM | PDE_BP);
	ROW(long_mode, "pending RTM with other bits", s.pending_dbg = PDE_RTM);
	ROW(long_mode, "pending RTM with MOV-SS blocking",
	    s.pending_dbg = PDE_RTM | PDE_BP, s.interruptibility = MOV_SS);

	/* Its format only: what it points to is left to the CPU. */
	ROW(long_mode, OK, s.link_ptr = 0x5000);
	ROW(long_mode, "VMCS link pointer", s.link_ptr = 0x5008);
	ROW(long_mode, "VMCS link pointer", s.link_ptr = 1ull << 46);
}

void test_vmx_guest_check(void)
{
	test_control_regs();
	test_segments();
	test_dtrs_rip_rflags();
	test_rip_only();
	test_non_register();
}
