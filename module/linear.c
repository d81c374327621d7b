// SPDX-License-Identifier: GPL-2.0
/*
 * Guest linear (virtual) memory as the vCPU sees it: segment bases and the
 * guest's own page tables, walked by walk.c over the memslots.
 */
#include <linux/mm.h>
#include <asm/msr-index.h>
#include <asm/processor.h>

#include "hvx.h"
#include "backend.h"
#include "exits.h"

static int read_phys(void *ctx, u64 gpa, void *buf, unsigned int len)
{
	return hvx_read_guest(ctx, gpa, buf, len);
}

bool hvx_vcpu_long_mode(struct hvx_vcpu *vcpu)
{
	struct kvm_segment cs;

	if (!(hvx_ops->get_efer(vcpu) & EFER_LMA))
		return false;
	hvx_ops->get_segment(vcpu, &cs, HVX_SEG_CS);
	return cs.l;
}

/* Segment base + offset; in 64-bit mode only FS and GS have bases. */
u64 hvx_seg_linear(struct hvx_vcpu *vcpu, int seg, u64 off)
{
	struct kvm_segment s;

	if (hvx_vcpu_long_mode(vcpu)) {
		if (seg != HVX_SEG_FS && seg != HVX_SEG_GS)
			return off;
		hvx_ops->get_segment(vcpu, &s, seg);
		return s.base + off;
	}
	hvx_ops->get_segment(vcpu, &s, seg);
	return (u32)(s.base + off);
}

int hvx_gva_to_gpa(struct hvx_vcpu *vcpu, u64 gva, unsigned int access,
		   u64 *gpa)
{
	struct hvx_paging pg = {
		.cr0 = hvx_ops->get_cr(vcpu, 0),
		.cr3 = hvx_ops->get_cr(vcpu, 3),
		.cr4 = hvx_ops->get_cr(vcpu, 4),
		.efer = hvx_ops->get_efer(vcpu),
		.phys_bits = boot_cpu_data.x86_phys_bits,
	};
	u32 pf_error;

	if (hvx_ops->get_cpl(vcpu) == 3)
		access |= HVX_WALK_USER;
	if (hvx_walk_gva(&pg, gva, access, read_phys, vcpu->vm, gpa, &pf_error))
		return -EFAULT;
	return 0;
}

int hvx_read_linear(struct hvx_vcpu *vcpu, u64 gva, void *buf,
		    unsigned int len, unsigned int access)
{
	while (len) {
		unsigned int chunk = min_t(u64, len, PAGE_SIZE - offset_in_page(gva));
		u64 gpa;

		if (hvx_gva_to_gpa(vcpu, gva, access, &gpa) ||
		    hvx_read_guest(vcpu->vm, gpa, buf, chunk))
			return -EFAULT;
		gva += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

int hvx_write_linear(struct hvx_vcpu *vcpu, u64 gva, const void *buf,
		     unsigned int len)
{
	while (len) {
		unsigned int chunk = min_t(u64, len, PAGE_SIZE - offset_in_page(gva));
		u64 gpa;

		if (hvx_gva_to_gpa(vcpu, gva, HVX_WALK_WRITE, &gpa) ||
		    hvx_write_guest(vcpu->vm, gpa, buf, chunk))
			return -EFAULT;
		gva += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

enum hvx_cpu_mode hvx_vcpu_code_mode(struct hvx_vcpu *vcpu)
{
	struct kvm_segment cs;

	if (hvx_vcpu_long_mode(vcpu))
		return HVX_MODE_64;
	hvx_ops->get_segment(vcpu, &cs, HVX_SEG_CS);
	return cs.db ? HVX_MODE_32 : HVX_MODE_16;
}

/* Fetch up to HVX_INSN_MAX bytes at CS:RIP; returns how many were read. */
unsigned int hvx_fetch_insn(struct hvx_vcpu *vcpu, u8 *bytes)
{
	u64 linear = hvx_seg_linear(vcpu, HVX_SEG_CS, vcpu->rip);
	unsigned int first = min_t(u64, HVX_INSN_MAX,
				   PAGE_SIZE - offset_in_page(linear));

	if (hvx_read_linear(vcpu, linear, bytes, first, HVX_WALK_FETCH))
		return 0;
	if (first == HVX_INSN_MAX)
		return first;
	/* The rest is on the next page, which may not be mapped: fine. */
	if (hvx_read_linear(vcpu, linear + first, bytes + first,
			    HVX_INSN_MAX - first, HVX_WALK_FETCH))
		return first;
	return HVX_INSN_MAX;
}
