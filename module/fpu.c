// SPDX-License-Identifier: GPL-2.0
/*
 * Guest x87/SSE/AVX state, kept apart from the host's.
 *
 * KVM's fpstate-swapping helpers are exported only to the kvm modules on
 * newer kernels, so hvx switches guest state itself inside a
 * kernel_fpu_begin_mask() section around each guest entry: the kernel
 * saves the user task's registers (and reloads them on return to user
 * mode), hvx restores the guest's image with XRSTOR, runs the guest and
 * saves it back with XSAVE before kernel_fpu_end(). The guest's XCR0 is
 * loaded only for the time the guest runs.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/cpufeature.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/fpu/xcr.h>
#include <asm/processor.h>

#include "hvx.h"
#include "alloc.h"

/* User state components a guest may enable (no supervisor or PKRU state). */
#define HVX_XFEATURES	(XFEATURE_MASK_FP | XFEATURE_MASK_SSE | XFEATURE_MASK_YMM | \
			 XFEATURE_MASK_OPMASK | XFEATURE_MASK_ZMM_Hi256 | \
			 XFEATURE_MASK_Hi16_ZMM)
#define HVX_AVX512	(XFEATURE_MASK_OPMASK | XFEATURE_MASK_ZMM_Hi256 | \
			 XFEATURE_MASK_Hi16_ZMM)
#define HVX_FCW_INIT	0x37f
#define HVX_MXCSR_INIT	0x1f80

static bool use_xsave;
static u64 host_xcr0;
static u64 guest_xfeatures;	/* what XSAVE/XRSTOR move, ⊆ host_xcr0 */
static unsigned int fpu_order;
static u32 mxcsr_mask;

static void xsave_to(void *buf, u64 mask)
{
	asm volatile("xsave64 %0" : "+m" (*(u8 *)buf)
		     : "a" ((u32)mask), "d" ((u32)(mask >> 32)) : "memory");
}

static void xrstor_from(void *buf, u64 mask)
{
	asm volatile("xrstor64 %0" : : "m" (*(u8 *)buf),
		     "a" ((u32)mask), "d" ((u32)(mask >> 32)) : "memory");
}

static void fxsave_to(void *buf)
{
	asm volatile("fxsave64 %0" : "+m" (*(u8 *)buf) : : "memory");
}

static void fxrstor_from(void *buf)
{
	asm volatile("fxrstor64 %0" : : "m" (*(u8 *)buf) : "memory");
}

int hvx_fpu_init(void)
{
	unsigned int eax, ebx, ecx, edx, size = sizeof(struct fxregs_state);
	struct fxregs_state *tmp;

	if (!boot_cpu_has(X86_FEATURE_FXSR))
		return -ENODEV;
	use_xsave = boot_cpu_has(X86_FEATURE_XSAVE) &&
		    boot_cpu_has(X86_FEATURE_OSXSAVE);
	if (use_xsave) {
		host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		guest_xfeatures = host_xcr0 & HVX_XFEATURES;
		/* EBX: XSAVE area size for the features enabled in XCR0. */
		cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx);
		size = ebx;
	}
	fpu_order = get_order(size);

	/* MXCSR bits the CPU accepts (SDM Vol 1 11.6.6); 0 means 0xffbf. */
	tmp = hvx_alloc_page(NULL);
	if (!tmp)
		return -ENOMEM;
	kernel_fpu_begin();
	fxsave_to(tmp);
	kernel_fpu_end();
	mxcsr_mask = tmp->mxcsr_mask ?: 0xffbf;
	hvx_free_page(NULL, tmp);
	return 0;
}

u64 hvx_fpu_supported_xcr0(void)
{
	return use_xsave ? guest_xfeatures : XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
}

int hvx_fpu_alloc(struct hvx_vcpu *vcpu)
{
	vcpu->fpu.buf = hvx_alloc_pages(vcpu->vm, fpu_order);
	return vcpu->fpu.buf ? 0 : -ENOMEM;
}

void hvx_fpu_free(struct hvx_vcpu *vcpu)
{
	hvx_free_pages(vcpu->vm, vcpu->fpu.buf, fpu_order);
	vcpu->fpu.buf = NULL;
}

/* x87 and SSE in their power-on state (SDM Vol 3 Table 10-1). */
void hvx_fpu_reset(struct hvx_vcpu *vcpu)
{
	struct xregs_state *xs = vcpu->fpu.buf;

	memset(xs, 0, PAGE_SIZE << fpu_order);
	xs->i387.cwd = HVX_FCW_INIT;
	xs->i387.mxcsr = HVX_MXCSR_INIT;
	if (use_xsave)
		xs->header.xfeatures = XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
	vcpu->fpu.xcr0 = XFEATURE_MASK_FP;
}

/* Called with preemption off, interrupts on; ends with preemption off. */
void hvx_fpu_load_guest(struct hvx_vcpu *vcpu)
{
	kernel_fpu_begin_mask(0);
	if (!use_xsave) {
		fxrstor_from(vcpu->fpu.buf);
		return;
	}
	xrstor_from(vcpu->fpu.buf, guest_xfeatures);
	if (vcpu->fpu.xcr0 != host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->fpu.xcr0);
}

void hvx_fpu_put_guest(struct hvx_vcpu *vcpu)
{
	if (!use_xsave) {
		fxsave_to(vcpu->fpu.buf);
	} else {
		if (vcpu->fpu.xcr0 != host_xcr0)
			xsetbv(XCR_XFEATURE_ENABLED_MASK, host_xcr0);
		xsave_to(vcpu->fpu.buf, guest_xfeatures);
	}
	kernel_fpu_end();
}

void hvx_fpu_get(struct hvx_vcpu *vcpu, struct kvm_fpu *fpu)
{
	struct xregs_state *xs = vcpu->fpu.buf;
	struct fxregs_state *fx = &xs->i387;
	u64 inuse = use_xsave ? xs->header.xfeatures : ~0ULL;

	memset(fpu, 0, sizeof(*fpu));
	fpu->mxcsr = fx->mxcsr;
	/* A component in its init state (XSTATE_BV clear) reads as reset. */
	if (!(inuse & XFEATURE_MASK_FP)) {
		fpu->fcw = HVX_FCW_INIT;
	} else {
		memcpy(fpu->fpr, fx->st_space, sizeof(fpu->fpr));
		fpu->fcw = fx->cwd;
		fpu->fsw = fx->swd;
		fpu->ftwx = fx->twd;
		fpu->last_opcode = fx->fop;
		fpu->last_ip = fx->rip;
		fpu->last_dp = fx->rdp;
	}
	if (inuse & XFEATURE_MASK_SSE)
		memcpy(fpu->xmm, fx->xmm_space, sizeof(fpu->xmm));
}

void hvx_fpu_set(struct hvx_vcpu *vcpu, const struct kvm_fpu *fpu)
{
	struct xregs_state *xs = vcpu->fpu.buf;
	struct fxregs_state *fx = &xs->i387;

	memcpy(fx->st_space, fpu->fpr, sizeof(fpu->fpr));
	fx->cwd = fpu->fcw;
	fx->swd = fpu->fsw;
	fx->twd = fpu->ftwx;
	fx->fop = fpu->last_opcode;
	fx->rip = fpu->last_ip;
	fx->rdp = fpu->last_dp;
	memcpy(fx->xmm_space, fpu->xmm, sizeof(fpu->xmm));
	/* Reserved MXCSR bits would make XRSTOR fault in the host. */
	fx->mxcsr = fpu->mxcsr & mxcsr_mask;
	if (use_xsave)
		xs->header.xfeatures |= XFEATURE_MASK_FP | XFEATURE_MASK_SSE;
}

/* XSETBV's rules for XCR0 (SDM Vol 1 13.3). 0 if accepted, else 1. */
int hvx_fpu_set_xcr0(struct hvx_vcpu *vcpu, u64 xcr0)
{
	if (!use_xsave || xcr0 & ~guest_xfeatures || !(xcr0 & XFEATURE_MASK_FP))
		return 1;
	if ((xcr0 & XFEATURE_MASK_YMM) && !(xcr0 & XFEATURE_MASK_SSE))
		return 1;
	if ((xcr0 & HVX_AVX512) &&
	    ((xcr0 & HVX_AVX512) != HVX_AVX512 || !(xcr0 & XFEATURE_MASK_YMM)))
		return 1;
	vcpu->fpu.xcr0 = xcr0;
	return 0;
}
