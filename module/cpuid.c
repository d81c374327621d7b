// SPDX-License-Identifier: GPL-2.0
/*
 * Guest CPUID: KVM_GET_SUPPORTED_CPUID (what hvx can honestly give a guest
 * on this host) and the per-vCPU table installed by KVM_SET_CPUID2.
 *
 * The supported table is the host's CPUID, leaf by leaf, filtered through
 * allow-lists: a feature appears only if the host has it, the host kernel
 * did not turn it off, and hvx runs a guest using it correctly today.
 * A feature the guest would drive through an MSR that msr.c does not
 * implement (MTRRs, machine-check banks, TSC_AUX, speculation control, ...)
 * is left out: advertising it would earn the guest a #GP.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/cpufeature.h>
#include <asm/fpu/types.h>
#include <asm/kvm_para.h>
#include <asm/processor.h>

#include "hvx.h"

/* Highest leaves hvx describes (KVM 6.1 stops at the same ones). */
#define HVX_CPUID_MAX_BASIC	0x1fU
#define HVX_CPUID_MAX_EXT	0x80000021U

/* Sub-leaves of leaf 4 / 0x8000001d to walk at most. */
#define HVX_CPUID_MAX_CACHES	64

/* Start of the XSAVE extended area: legacy region plus header. */
#define HVX_XSAVE_HDR_END	(512 + 64)

/*
 * Bit of feature @name in its CPUID register, checked at build time to
 * belong to capability word @word (the register being filtered).
 */
#define F(word, name)							\
	((u32)(BUILD_BUG_ON_ZERO(X86_FEATURE_##name / 32 != (word)) +	\
	       BIT(X86_FEATURE_##name & 31)))

/*
 * CPUID.1:ECX. Left out: DTES64, DS-CPL, EST, TM2, CNXT-ID, SDBG, xTPR, DCA
 * (host power, debug and platform features); MONITOR (hvx runs
 * MONITOR/MWAIT as NOPs but, like KVM, does not advertise them); VMX, SMX
 * (no nesting); TSC-deadline (api.rst: reported through
 * KVM_CAP_TSC_DEADLINE_TIMER instead, as it needs an in-kernel APIC);
 * PDCM (no IA32_PERF_CAPABILITIES); OSXSAVE (mirrors the guest's
 * CR4.OSXSAVE, a run-time bit). x2APIC is added whatever the host has:
 * the in-kernel APIC emulates it (hvx_cpuid_func()).
 */
static const u32 hvx_1_ecx =
	F(CPUID_1_ECX, XMM3) | F(CPUID_1_ECX, PCLMULQDQ) | F(CPUID_1_ECX, SSSE3) |
	F(CPUID_1_ECX, FMA) | F(CPUID_1_ECX, CX16) |
	F(CPUID_1_ECX, PCID) | F(CPUID_1_ECX, XMM4_1) | F(CPUID_1_ECX, XMM4_2) |
	F(CPUID_1_ECX, MOVBE) | F(CPUID_1_ECX, POPCNT) | F(CPUID_1_ECX, AES) |
	F(CPUID_1_ECX, XSAVE) | F(CPUID_1_ECX, AVX) | F(CPUID_1_ECX, F16C) |
	F(CPUID_1_ECX, RDRAND);

/*
 * CPUID.1:EDX. APIC is the in-kernel one (or userspace's). Left out: MTRR and MCA
 * (msr.c has no MTRR or machine-check MSRs; MCE alone only means CR4.MCE
 * and #MC, which run natively); PSN, DS, ACPI, HTT, TM, PBE.
 */
static const u32 hvx_1_edx =
	F(CPUID_1_EDX, FPU) | F(CPUID_1_EDX, VME) | F(CPUID_1_EDX, DE) |
	F(CPUID_1_EDX, PSE) | F(CPUID_1_EDX, TSC) | F(CPUID_1_EDX, MSR) |
	F(CPUID_1_EDX, PAE) | F(CPUID_1_EDX, MCE) | F(CPUID_1_EDX, CX8) |
	F(CPUID_1_EDX, APIC) | F(CPUID_1_EDX, SEP) | F(CPUID_1_EDX, PGE) |
	F(CPUID_1_EDX, CMOV) | F(CPUID_1_EDX, PAT) |
	F(CPUID_1_EDX, PSE36) | F(CPUID_1_EDX, CLFLUSH) | F(CPUID_1_EDX, MMX) |
	F(CPUID_1_EDX, FXSR) | F(CPUID_1_EDX, XMM) | F(CPUID_1_EDX, XMM2) |
	F(CPUID_1_EDX, SELFSNOOP);

/*
 * CPUID.7.0:EBX. The guest runs natively under NPT/EPT, so paging and
 * instruction features (SMEP, SMAP, PCID, INVPCID, FSGSBASE) need nothing
 * from hvx. Left out: TSC_ADJUST (no such MSR in msr.c), SGX, CQM/RDT-A
 * (resource monitoring), MPX (dropped by KVM too), Intel PT.
 */
static const u32 hvx_7_ebx =
	F(CPUID_7_0_EBX, FSGSBASE) | F(CPUID_7_0_EBX, BMI1) |
	F(CPUID_7_0_EBX, HLE) | F(CPUID_7_0_EBX, AVX2) |
	F(CPUID_7_0_EBX, FDP_EXCPTN_ONLY) | F(CPUID_7_0_EBX, SMEP) |
	F(CPUID_7_0_EBX, BMI2) | F(CPUID_7_0_EBX, ERMS) |
	F(CPUID_7_0_EBX, INVPCID) | F(CPUID_7_0_EBX, RTM) |
	F(CPUID_7_0_EBX, ZERO_FCS_FDS) | F(CPUID_7_0_EBX, AVX512F) |
	F(CPUID_7_0_EBX, AVX512DQ) | F(CPUID_7_0_EBX, RDSEED) |
	F(CPUID_7_0_EBX, ADX) | F(CPUID_7_0_EBX, SMAP) |
	F(CPUID_7_0_EBX, AVX512IFMA) | F(CPUID_7_0_EBX, CLFLUSHOPT) |
	F(CPUID_7_0_EBX, CLWB) | F(CPUID_7_0_EBX, AVX512PF) |
	F(CPUID_7_0_EBX, AVX512ER) | F(CPUID_7_0_EBX, AVX512CD) |
	F(CPUID_7_0_EBX, SHA_NI) | F(CPUID_7_0_EBX, AVX512BW) |
	F(CPUID_7_0_EBX, AVX512VL);

/*
 * CPUID.7.0:ECX. Left out: LA57 (KVM_SET_SREGS does not accept CR4.LA57
 * yet), RDPID (no MSR_TSC_AUX), OSPKE (mirrors the guest's CR4.PKE),
 * WAITPKG (needs UMWAIT_CONTROL), TME, bus-lock detection (DEBUGCTL),
 * ENQCMD, SGX launch control.
 */
static const u32 hvx_7_ecx =
	F(CPUID_7_ECX, AVX512VBMI) | F(CPUID_7_ECX, UMIP) | F(CPUID_7_ECX, PKU) |
	F(CPUID_7_ECX, AVX512_VBMI2) | F(CPUID_7_ECX, GFNI) | F(CPUID_7_ECX, VAES) |
	F(CPUID_7_ECX, VPCLMULQDQ) | F(CPUID_7_ECX, AVX512_VNNI) |
	F(CPUID_7_ECX, AVX512_BITALG) | F(CPUID_7_ECX, AVX512_VPOPCNTDQ) |
	F(CPUID_7_ECX, CLDEMOTE) | F(CPUID_7_ECX, MOVDIRI) |
	F(CPUID_7_ECX, MOVDIR64B);

/*
 * CPUID.7.0:EDX. Left out: speculation control (IBRS/IBPB, STIBP, SSBD,
 * L1D flush and ARCH_CAPABILITIES need SPEC_CTRL, PRED_CMD, FLUSH_CMD and
 * ARCH_CAPABILITIES in msr.c), AMX (a dynamic XSAVE feature: XFD and a
 * growing guest buffer, which hvx does not do), arch LBR, IBT, PCONFIG,
 * hybrid and TSX-abort/SRBDS control bits, core capabilities.
 */
static const u32 hvx_7_edx =
	F(CPUID_7_EDX, AVX512_4VNNIW) | F(CPUID_7_EDX, AVX512_4FMAPS) |
	F(CPUID_7_EDX, FSRM) | F(CPUID_7_EDX, AVX512_VP2INTERSECT) |
	F(CPUID_7_EDX, MD_CLEAR) | F(CPUID_7_EDX, SERIALIZE) |
	F(CPUID_7_EDX, TSXLDTRK) | F(CPUID_7_EDX, AVX512_FP16);

static const u32 hvx_7_1_eax =
	F(CPUID_7_1_EAX, AVX_VNNI) | F(CPUID_7_1_EAX, AVX512_BF16);

/* CPUID.0xd.1:EAX. Left out: XSAVES (no IA32_XSS), XFD (see AMX above). */
static const u32 hvx_d_1_eax =
	F(CPUID_D_1_EAX, XSAVEOPT) | F(CPUID_D_1_EAX, XSAVEC) |
	F(CPUID_D_1_EAX, XGETBV1);

/*
 * CPUID.0x80000001:ECX. Left out: SVM (no nesting), extended APIC space
 * and CR8 legacy (no in-kernel APIC), OSVW (no OSVW MSRs), IBS, SKINIT,
 * WDT, LWP, TCE, node id MSR, performance counter extensions, PTSC,
 * MONITORX.
 */
static const u32 hvx_e1_ecx =
	F(CPUID_8000_0001_ECX, LAHF_LM) | F(CPUID_8000_0001_ECX, CMP_LEGACY) |
	F(CPUID_8000_0001_ECX, ABM) | F(CPUID_8000_0001_ECX, SSE4A) |
	F(CPUID_8000_0001_ECX, MISALIGNSSE) | F(CPUID_8000_0001_ECX, 3DNOWPREFETCH) |
	F(CPUID_8000_0001_ECX, XOP) |
	F(CPUID_8000_0001_ECX, FMA4) | F(CPUID_8000_0001_ECX, TBM) |
	F(CPUID_8000_0001_ECX, TOPOEXT);

/*
 * CPUID.0x80000001:EDX. Bits 0-17 and 23-24 mirror CPUID.1:EDX (the kernel
 * names them only there). Left out: MTRR, MCA (as in leaf 1);
 * FFXSR (msr.c refuses EFER.FFXSR); RDTSCP (no MSR_TSC_AUX); MP.
 */
static const u32 hvx_e1_edx =
	F(CPUID_1_EDX, FPU) | F(CPUID_1_EDX, VME) | F(CPUID_1_EDX, DE) |
	F(CPUID_1_EDX, PSE) | F(CPUID_1_EDX, TSC) | F(CPUID_1_EDX, MSR) |
	F(CPUID_1_EDX, PAE) | F(CPUID_1_EDX, MCE) | F(CPUID_1_EDX, CX8) |
	F(CPUID_1_EDX, APIC) | F(CPUID_8000_0001_EDX, SYSCALL) | F(CPUID_1_EDX, PGE) |
	F(CPUID_1_EDX, CMOV) | F(CPUID_1_EDX, PAT) | F(CPUID_1_EDX, PSE36) |
	F(CPUID_8000_0001_EDX, NX) | F(CPUID_8000_0001_EDX, MMXEXT) |
	F(CPUID_1_EDX, MMX) | F(CPUID_1_EDX, FXSR) |
	F(CPUID_8000_0001_EDX, GBPAGES) | F(CPUID_8000_0001_EDX, LM) |
	F(CPUID_8000_0001_EDX, 3DNOWEXT) | F(CPUID_8000_0001_EDX, 3DNOW);

/*
 * CPUID.0x80000008:EBX. Left out: IBPB, IBRS, STIBP, SSBD and VIRT_SSBD
 * (no speculation-control MSRs in msr.c); IRPERF and RDPRU (host
 * performance counters); PPIN, CPPC, BRS and other host-management bits.
 * SSB_NO stays: it only states that the CPU is not affected.
 */
static const u32 hvx_e8_ebx =
	F(CPUID_8000_0008_EBX, CLZERO) | F(CPUID_8000_0008_EBX, XSAVEERPTR) |
	F(CPUID_8000_0008_EBX, WBNOINVD) | F(CPUID_8000_0008_EBX, AMD_SSB_NO);

/* CPUID.0x80000021:EAX: NoNestedDataBp, LFENCE serialising, VERW clears, NullSelClrBase. */
#define HVX_E21_EAX	(BIT(0) | BIT(2) | BIT(5) | BIT(6))

/* The feature words of one KVM_GET_SUPPORTED_CPUID answer. */
struct hvx_cpuid_policy {
	u64 xcr0;
	u32 l1_ecx, l1_edx;
	u32 l7_ebx, l7_ecx, l7_edx, l7_1_eax;
	u32 d1_eax;
	u32 e1_ecx, e1_edx;
	u32 e8_ebx;
};

/* Leaves whose ECX index selects a sub-leaf: KVM's cpuid_function_is_indexed(). */
static bool hvx_cpuid_indexed(u32 function)
{
	switch (function) {
	case 4:
	case 7:
	case 0xb:
	case 0xd:
	case 0xf:
	case 0x10:
	case 0x12:
	case 0x14:
	case 0x17:
	case 0x18:
	case 0x1d:
	case 0x1e:
	case 0x1f:
	case 0x8000001d:
		return true;
	default:
		return false;
	}
}

/*
 * XSAVE components hvx can give a guest: the host's, limited by what the
 * guest FPU code switches (fpu.c). Never AMX tile state (dynamic) nor MPX
 * state (MPX is not advertised). AVX-512 only with all three of its
 * components, and only on top of AVX, as XSETBV requires.
 */
static u64 hvx_cpuid_xcr0(void)
{
	u32 eax, ebx, ecx, edx;
	u64 xcr0;

	if (!boot_cpu_has(X86_FEATURE_XSAVE))
		return 0;
	cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx);
	xcr0 = hvx_fpu_supported_xcr0() & (eax | (u64)edx << 32);
	xcr0 &= ~(u64)(XFEATURE_MASK_XTILE | XFEATURE_MASK_BNDREGS | XFEATURE_MASK_BNDCSR);
	if ((xcr0 & XFEATURE_MASK_FPSSE) != XFEATURE_MASK_FPSSE)
		return 0;
	if (!(xcr0 & XFEATURE_MASK_YMM) ||
	    (xcr0 & XFEATURE_MASK_AVX512) != XFEATURE_MASK_AVX512)
		xcr0 &= ~(u64)XFEATURE_MASK_AVX512;
	return xcr0;
}

static void hvx_cpuid_policy_init(struct hvx_cpuid_policy *p)
{
	const u32 *cap = boot_cpu_data.x86_capability;
	u64 xcr0 = hvx_cpuid_xcr0();

	/* The host kernel's view: features it disabled stay disabled. */
	p->xcr0 = xcr0;
	p->l1_ecx = hvx_1_ecx & cap[CPUID_1_ECX];
	p->l1_edx = hvx_1_edx & cap[CPUID_1_EDX];
	p->l7_ebx = hvx_7_ebx & cap[CPUID_7_0_EBX];
	p->l7_ecx = hvx_7_ecx & cap[CPUID_7_ECX];
	p->l7_edx = hvx_7_edx & cap[CPUID_7_EDX];
	p->l7_1_eax = hvx_7_1_eax & cap[CPUID_7_1_EAX];
	p->d1_eax = hvx_d_1_eax & cap[CPUID_D_1_EAX];
	p->e1_ecx = hvx_e1_ecx & cap[CPUID_8000_0001_ECX];
	p->e1_edx = hvx_e1_edx & cap[CPUID_8000_0001_EDX];
	p->e8_ebx = hvx_e8_ebx & cap[CPUID_8000_0008_EBX];

	/* Instruction sets whose registers live in XSAVE state hvx does not switch. */
	if (!xcr0)
		p->l1_ecx &= ~F(CPUID_1_ECX, XSAVE);
	if (!(xcr0 & XFEATURE_MASK_YMM)) {
		p->l1_ecx &= ~(F(CPUID_1_ECX, AVX) | F(CPUID_1_ECX, FMA) |
			       F(CPUID_1_ECX, F16C));
		p->l7_ebx &= ~F(CPUID_7_0_EBX, AVX2);
		p->l7_ecx &= ~(F(CPUID_7_ECX, VAES) | F(CPUID_7_ECX, VPCLMULQDQ));
		p->l7_1_eax &= ~F(CPUID_7_1_EAX, AVX_VNNI);
		p->e1_ecx &= ~(F(CPUID_8000_0001_ECX, XOP) | F(CPUID_8000_0001_ECX, FMA4));
	}
	if (!(xcr0 & XFEATURE_MASK_AVX512)) {
		p->l7_ebx &= ~(F(CPUID_7_0_EBX, AVX512F) | F(CPUID_7_0_EBX, AVX512DQ) |
			       F(CPUID_7_0_EBX, AVX512IFMA) | F(CPUID_7_0_EBX, AVX512PF) |
			       F(CPUID_7_0_EBX, AVX512ER) | F(CPUID_7_0_EBX, AVX512CD) |
			       F(CPUID_7_0_EBX, AVX512BW) | F(CPUID_7_0_EBX, AVX512VL));
		p->l7_ecx &= ~(F(CPUID_7_ECX, AVX512VBMI) | F(CPUID_7_ECX, AVX512_VBMI2) |
			       F(CPUID_7_ECX, AVX512_VNNI) | F(CPUID_7_ECX, AVX512_BITALG) |
			       F(CPUID_7_ECX, AVX512_VPOPCNTDQ));
		p->l7_edx &= ~(F(CPUID_7_EDX, AVX512_4VNNIW) | F(CPUID_7_EDX, AVX512_4FMAPS) |
			       F(CPUID_7_EDX, AVX512_VP2INTERSECT) |
			       F(CPUID_7_EDX, AVX512_FP16));
		p->l7_1_eax &= ~F(CPUID_7_1_EAX, AVX512_BF16);
	}
	/* PKRU must be switched with the guest FPU; KVM also wants host OSPKE. */
	if (!(xcr0 & XFEATURE_MASK_PKRU) || !boot_cpu_has(X86_FEATURE_OSPKE))
		p->l7_ecx &= ~F(CPUID_7_ECX, PKU);
}

/* Size of an XSAVE area holding @xfeatures, from the host's leaf 0xd. */
static u32 hvx_xstate_size(u64 xfeatures, bool compacted)
{
	u32 eax, ebx, ecx, edx, offset, size = HVX_XSAVE_HDR_END;
	int i;

	for (i = 2; i < 64; i++) {
		if (!(xfeatures & BIT_ULL(i)))
			continue;
		cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx);
		/* Compacted: in order, 64-byte aligned if ECX[1] says so. */
		if (compacted)
			offset = (ecx & BIT(1)) ? ALIGN(size, 64) : size;
		else
			offset = ebx;
		size = max(size, offset + eax);
	}
	return size;
}

struct hvx_cpuid_buf {
	struct kvm_cpuid_entry2 *e;
	int nent;
	int max;
};

/* Append the host's (@function, @index); NULL when the buffer is full. */
static struct kvm_cpuid_entry2 *hvx_cpuid_add(struct hvx_cpuid_buf *b,
					      u32 function, u32 index)
{
	struct kvm_cpuid_entry2 *e;

	if (b->nent >= b->max)
		return NULL;
	e = &b->e[b->nent++];
	memset(e, 0, sizeof(*e));
	e->function = function;
	e->index = index;
	if (hvx_cpuid_indexed(function))
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	cpuid_count(function, index, &e->eax, &e->ebx, &e->ecx, &e->edx);
	return e;
}

static void hvx_cpuid_zero(struct kvm_cpuid_entry2 *e)
{
	e->eax = 0;
	e->ebx = 0;
	e->ecx = 0;
	e->edx = 0;
}

static int hvx_cpuid_xsave(struct hvx_cpuid_buf *b, struct kvm_cpuid_entry2 *e,
			   const struct hvx_cpuid_policy *p)
{
	u64 xcr0 = p->xcr0;
	int i;

	if (!xcr0) {
		hvx_cpuid_zero(e);
		return 0;
	}
	e->eax &= lower_32_bits(xcr0);
	e->edx &= upper_32_bits(xcr0);
	/* EBX follows the guest's XCR0 at run time; here, all of it. */
	e->ebx = hvx_xstate_size(xcr0, false);
	e->ecx = e->ebx;

	e = hvx_cpuid_add(b, 0xd, 1);
	if (!e)
		return -E2BIG;
	e->eax &= p->d1_eax;
	/* No IA32_XSS-managed state is offered: ECX/EDX stay 0. */
	if (e->eax & (F(CPUID_D_1_EAX, XSAVEC) | F(CPUID_D_1_EAX, XSAVES)))
		e->ebx = hvx_xstate_size(xcr0, true);
	else
		e->ebx = 0;
	e->ecx = 0;
	e->edx = 0;

	for (i = 2; i < 64; i++) {
		if (!(xcr0 & BIT_ULL(i)))
			continue;
		e = hvx_cpuid_add(b, 0xd, i);
		if (!e)
			return -E2BIG;
		e->ecx &= ~BIT(2);	/* no XFD */
		e->edx = 0;
	}
	return 0;
}

/* One leaf (with its sub-leaves) of the supported table. */
static int hvx_cpuid_func(struct hvx_cpuid_buf *b, const struct hvx_cpuid_policy *p,
			  u32 function)
{
	struct kvm_cpuid_entry2 *e;
	u32 i, max;

	e = hvx_cpuid_add(b, function, 0);
	if (!e)
		return -E2BIG;

	switch (function) {
	case 0:
		e->eax = min(e->eax, HVX_CPUID_MAX_BASIC);
		break;
	case 1:
		/*
		 * No topology: no initial APIC id (the VMM sets each vCPU's),
		 * one logical CPU.
		 */
		e->ebx &= GENMASK(15, 0);
		e->ecx = (e->ecx & p->l1_ecx) | F(CPUID_1_ECX, HYPERVISOR) |
			 F(CPUID_1_ECX, X2APIC);
		e->edx &= p->l1_edx;
		break;
	case 2:		/* cache descriptors */
	case 0x80000002 ... 0x80000005:	/* brand string, L1 cache and TLB */
		break;
	case 4:
	case 0x8000001d:
		/* Cache sub-leaves, up to the first of cache type 0 (none). */
		for (i = 1; (e->eax & 0x1f) && i < HVX_CPUID_MAX_CACHES; i++) {
			e = hvx_cpuid_add(b, function, i);
			if (!e)
				return -E2BIG;
		}
		break;
	case 7:
		max = min(e->eax, 1U);
		e->eax = max;
		e->ebx &= p->l7_ebx;
		e->ecx &= p->l7_ecx;
		e->edx &= p->l7_edx;
		if (max >= 1) {
			e = hvx_cpuid_add(b, 7, 1);
			if (!e)
				return -E2BIG;
			e->eax &= p->l7_1_eax;
			e->ebx = 0;
			e->ecx = 0;
			e->edx = 0;
		}
		break;
	case 0xb:
	case 0x1f:
		/*
		 * An empty sub-leaf 0 says "no topology", as in KVM; the host's
		 * x2APIC id in EDX means nothing to a guest without x2APIC.
		 */
		hvx_cpuid_zero(e);
		break;
	case 0xd:
		return hvx_cpuid_xsave(b, e, p);
	case 6:
		/*
		 * Thermal and power: only ARAT, as the APIC timer is an
		 * hrtimer that no guest C-state stops.
		 */
		hvx_cpuid_zero(e);
		e->eax = BIT(X86_FEATURE_ARAT & 31);
		break;
	case 0x80000000:
		e->eax = clamp(e->eax, 0x80000000U, HVX_CPUID_MAX_EXT);
		break;
	case 0x80000001:
		e->ebx &= ~GENMASK(27, 16);
		e->ecx &= p->e1_ecx;
		e->edx &= p->e1_edx;
		break;
	case 0x80000006:
		e->edx &= ~GENMASK(17, 16);	/* reserved */
		break;
	case 0x80000007:
		/* Only the invariant TSC: guest TSC = host TSC + constant offset. */
		e->edx &= BIT(8) & boot_cpu_data.x86_power;
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		break;
	case 0x80000008: {
		/*
		 * Raw host MAXPHYADDR (as for memslots), capped by four-level
		 * NPT/EPT; 48-bit linear addresses, since LA57 is not offered.
		 */
		u32 phys = min(e->eax & 0xff, 48U);

		e->eax = phys | 48U << 8;
		e->ebx &= p->e8_ebx;
		e->ecx &= ~(GENMASK(31, 16) | GENMASK(11, 8));
		e->edx = 0;
		break;
	}
	case 0x80000019:	/* 1G TLB */
		e->ecx = 0;
		e->edx = 0;
		break;
	case 0x8000001a:	/* FP128, MOVU, FP256 performance hints */
		e->eax &= GENMASK(2, 0);
		e->ebx = 0;
		e->ecx = 0;
		e->edx = 0;
		break;
	case 0x80000021:
		e->eax &= HVX_E21_EAX;
		e->ebx = 0;
		e->ecx = 0;
		e->edx = 0;
		break;
	default:
		/*
		 * Listed but empty: 3 (serial number), 5 (MONITOR), 0xa (no PMU), 0xf and 0x10
		 * (RDT), 0x12 (SGX), 0x14 (PT), 0x1d/0x1e (AMX), 0x8000000a (no
		 * nested SVM), 0x8000001e (topology), 0x8000001f (SEV), ...
		 */
		hvx_cpuid_zero(e);
		break;
	}
	return 0;
}

/*
 * KVM's paravirtual leaves (Documentation/virt/kvm/x86/cpuid.rst): the
 * signature, and of the features only kvmclock (kvmclock.c), in both
 * MSR generations; the stable bit says PVCLOCK_TSC_STABLE_BIT in the
 * clock page may be trusted, as KVM always offers it.
 */
static int hvx_cpuid_kvm_leaves(struct hvx_cpuid_buf *b)
{
	struct kvm_cpuid_entry2 *e;
	u32 sig[3];

	e = hvx_cpuid_add(b, KVM_CPUID_SIGNATURE, 0);
	if (!e)
		return -E2BIG;
	memcpy(sig, KVM_SIGNATURE, sizeof(sig));
	e->eax = KVM_CPUID_FEATURES;
	e->ebx = sig[0];
	e->ecx = sig[1];
	e->edx = sig[2];
	e = hvx_cpuid_add(b, KVM_CPUID_FEATURES, 0);
	if (!e)
		return -E2BIG;
	hvx_cpuid_zero(e);
	e->eax = BIT(KVM_FEATURE_CLOCKSOURCE) | BIT(KVM_FEATURE_CLOCKSOURCE2) |
		 BIT(KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);
	return 0;
}

/* Leaf @base and every leaf up to the limit it reports. */
static int hvx_cpuid_range(struct hvx_cpuid_buf *b, const struct hvx_cpuid_policy *p,
			   u32 base)
{
	u32 function, limit;
	int r;

	r = hvx_cpuid_func(b, p, base);
	if (r)
		return r;
	/* @base has no sub-leaves, so it is the last entry. */
	limit = b->e[b->nent - 1].eax;
	for (function = base + 1; function <= limit; function++) {
		r = hvx_cpuid_func(b, p, function);
		if (r)
			return r;
	}
	return 0;
}

int hvx_get_supported_cpuid(struct kvm_cpuid2 __user *ucpuid)
{
	struct hvx_cpuid_policy policy;
	struct hvx_cpuid_buf b = { };
	u32 nent;
	int r;

	if (get_user(nent, &ucpuid->nent))
		return -EFAULT;
	/* As KVM: at least one entry, and a larger nent is silently capped. */
	if (nent < 1)
		return -E2BIG;
	nent = min_t(u32, nent, HVX_MAX_CPUID_ENTRIES);

	b.e = kvcalloc(nent, sizeof(*b.e), GFP_KERNEL);
	if (!b.e)
		return -ENOMEM;
	b.max = nent;

	hvx_cpuid_policy_init(&policy);
	/* All leaves from one CPU, so that related leaves agree. */
	get_cpu();
	r = hvx_cpuid_range(&b, &policy, 0);
	if (!r)
		r = hvx_cpuid_kvm_leaves(&b);
	if (!r)
		r = hvx_cpuid_range(&b, &policy, 0x80000000);
	put_cpu();
	/* On -E2BIG, KVM leaves nent as userspace set it; so does hvx. */
	if (r)
		goto out;

	r = -EFAULT;
	if (copy_to_user(ucpuid->entries, b.e, array_size(sizeof(*b.e), b.nent)))
		goto out;
	if (put_user(b.nent, &ucpuid->nent))
		goto out;
	r = 0;
out:
	kvfree(b.e);
	return r;
}

/*
 * KVM's lookup: the first entry of @function whose index matches, or
 * whose index is not significant. With @any_index, the first entry of
 * @function whatever its index (KVM_CPUID_INDEX_NOT_SIGNIFICANT).
 */
static const struct kvm_cpuid_entry2 *
hvx_cpuid_lookup(const struct kvm_cpuid_entry2 *entries, int nent,
		 u32 function, u32 index, bool any_index)
{
	const struct kvm_cpuid_entry2 *e;
	int i;

	for (i = 0; i < nent; i++) {
		e = &entries[i];
		if (e->function != function)
			continue;
		if (any_index || !(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		    e->index == index)
			return e;
	}
	return NULL;
}

/* kvm_check_cpuid(): what KVM refuses in a new table, with its errnos. */
static int hvx_cpuid_check(const struct kvm_cpuid_entry2 *entries, int nent)
{
	const struct kvm_cpuid_entry2 *e;
	u32 vaddr_bits;
	u64 xfeatures;

	/* Canonical-address checks assume 48- or 57-bit linear addresses. */
	e = hvx_cpuid_lookup(entries, nent, 0x80000008, 0, true);
	if (e) {
		vaddr_bits = (e->eax >> 8) & 0xff;
		if (vaddr_bits != 48 && vaddr_bits != 57 && vaddr_bits != 0)
			return -EINVAL;
	}

	/*
	 * Dynamic XSAVE features (AMX tile data) need a larger guest buffer.
	 * KVM refuses them with -EPERM unless the process was granted them;
	 * hvx can never grant them.
	 */
	e = hvx_cpuid_lookup(entries, nent, 0xd, 0, false);
	if (e) {
		xfeatures = e->eax | (u64)e->edx << 32;
		if (xfeatures & XFEATURE_MASK_XTILE_DATA)
			return -EPERM;
	}
	return 0;
}

/* After the first KVM_RUN, KVM accepts only the table already in place. */
static int hvx_cpuid_same(const struct hvx_vcpu *vcpu,
			  const struct kvm_cpuid_entry2 *entries, int nent)
{
	const struct kvm_cpuid_entry2 *a, *b;
	int i;

	if (nent != vcpu->cpuid_nent)
		return -EINVAL;
	for (i = 0; i < nent; i++) {
		a = &entries[i];
		b = &vcpu->cpuid[i];
		/* Field by field: KVM ignores the padding. */
		if (a->function != b->function || a->index != b->index ||
		    a->flags != b->flags || a->eax != b->eax || a->ebx != b->ebx ||
		    a->ecx != b->ecx || a->edx != b->edx)
			return -EINVAL;
	}
	return 0;
}

int hvx_vcpu_set_cpuid2(struct hvx_vcpu *vcpu, struct kvm_cpuid2 __user *u)
{
	struct kvm_cpuid_entry2 *entries = NULL;
	u32 nent;
	int r;

	lockdep_assert_held(&vcpu->mutex);

	if (get_user(nent, &u->nent))
		return -EFAULT;
	if (nent > HVX_MAX_CPUID_ENTRIES)
		return -E2BIG;
	if (nent) {
		entries = vmemdup_user(u->entries, array_size(sizeof(*entries), nent));
		if (IS_ERR(entries))
			return PTR_ERR(entries);
	}

	if (vcpu->has_run) {
		r = hvx_cpuid_same(vcpu, entries, nent);
		kvfree(entries);
		return r;
	}

	r = hvx_cpuid_check(entries, nent);
	if (r) {
		kvfree(entries);
		return r;
	}
	kvfree(vcpu->cpuid);
	vcpu->cpuid = entries;
	vcpu->cpuid_nent = nent;
	return 0;
}

int hvx_vcpu_get_cpuid2(struct hvx_vcpu *vcpu, struct kvm_cpuid2 __user *u)
{
	u32 nent;

	lockdep_assert_held(&vcpu->mutex);

	if (get_user(nent, &u->nent))
		return -EFAULT;
	/* As KVM: too small is -E2BIG, and nent is then left as it was. */
	if (nent < (u32)vcpu->cpuid_nent)
		return -E2BIG;
	if (copy_to_user(u->entries, vcpu->cpuid,
			 array_size(sizeof(*vcpu->cpuid), vcpu->cpuid_nent)))
		return -EFAULT;
	if (put_user(vcpu->cpuid_nent, &u->nent))
		return -EFAULT;
	return 0;
}

const struct kvm_cpuid_entry2 *hvx_find_cpuid(struct hvx_vcpu *vcpu,
					      u32 function, u32 index)
{
	return hvx_cpuid_lookup(vcpu->cpuid, vcpu->cpuid_nent, function, index, false);
}
