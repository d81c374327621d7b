// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO: a guest access to a GPA with no memslot (or a write to a read-only
 * slot). Neither NRIP-save nor decode assists can be relied on, so the
 * instruction is fetched through the guest's page tables and decoded here.
 * Writes leave with the data and RIP already advanced; reads come back
 * through hvx_complete_mmio() on the next KVM_RUN (KVM's behaviour).
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/mm.h>
#include <linux/string.h>

#include "hvx.h"
#include "backend.h"
#include "exits.h"

static void emulation_failure(struct hvx_vcpu *vcpu, const u8 *bytes,
			      unsigned int n)
{
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
	run->emulation_failure.suberror = KVM_INTERNAL_ERROR_EMULATION;
	/* flags + the instruction bytes: ndata counts the u64 words used. */
	run->emulation_failure.ndata = 3;
	run->emulation_failure.flags = KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES;
	run->emulation_failure.insn_size = n;
	memset(run->emulation_failure.insn_bytes, 0,
	       sizeof(run->emulation_failure.insn_bytes));
	memcpy(run->emulation_failure.insn_bytes, bytes, n);
}

/* Fetch up to HVX_INSN_MAX bytes at CS:RIP; returns how many were read. */
static unsigned int fetch_insn(struct hvx_vcpu *vcpu, u8 *bytes)
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

static enum hvx_cpu_mode vcpu_code_mode(struct hvx_vcpu *vcpu)
{
	struct kvm_segment cs;

	if (hvx_vcpu_long_mode(vcpu))
		return HVX_MODE_64;
	hvx_ops->get_segment(vcpu, &cs, HVX_SEG_CS);
	return cs.db ? HVX_MODE_32 : HVX_MODE_16;
}

int hvx_handle_mmio(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	struct kvm_run *run = vcpu->run;
	struct hvx_mmio_insn insn;
	u8 bytes[HVX_INSN_MAX] = { 0 };
	unsigned int n;
	u64 val;

	n = exit->npf.fetch ? 0 : fetch_insn(vcpu, bytes);
	if (!n || hvx_decode_mmio(bytes, n, vcpu_code_mode(vcpu), &insn)) {
		emulation_failure(vcpu, bytes, n);
		return 0;
	}

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = exit->npf.gpa;
	run->mmio.len = insn.size;
	run->mmio.is_write = insn.write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (insn.write) {
		val = hvx_mmio_store_value(&insn, vcpu->regs);
		memcpy(run->mmio.data, &val, insn.size);
		hvx_skip_insn(vcpu, insn.len);
	} else {
		vcpu->pending.mmio = insn;
		vcpu->pending.mmio_read = true;
	}
	return 0;
}

int hvx_complete_mmio(struct hvx_vcpu *vcpu)
{
	struct hvx_mmio_insn *insn = &vcpu->pending.mmio;
	u64 data = 0;

	memcpy(&data, vcpu->run->mmio.data, insn->size);
	hvx_mmio_load_complete(insn, vcpu->regs, data);
	hvx_skip_insn(vcpu, insn->len);
	memset(&vcpu->pending, 0, sizeof(vcpu->pending));
	return 1;
}
