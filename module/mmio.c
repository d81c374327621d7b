// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO: a guest access to a GPA with no memslot (or a write to a read-only
 * slot). Neither NRIP-save nor decode assists can be relied on, so the
 * instruction is fetched through the guest's page tables and decoded here.
 *
 * An access that crosses a page boundary is split as KVM splits it: the
 * part in RAM is done here, each part in MMIO is one KVM_EXIT_MMIO. Writes
 * leave with their data and RIP already past the instruction; reads come
 * back through hvx_complete_mmio() and finish on the last fragment.
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

/* Whether this access to @gpa goes to userspace rather than to RAM. */
static bool gpa_is_mmio(struct hvx_vm *vm, u64 gpa, bool write)
{
	struct hvx_memslot *slot = hvx_gfn_to_memslot(vm, gpa >> PAGE_SHIFT);

	return !slot || (write && (slot->flags & KVM_MEM_READONLY));
}

/* Present fragment mmio_cur to userspace. */
static int mmio_exit(struct hvx_vcpu *vcpu)
{
	struct hvx_pending *p = &vcpu->pending;
	struct hvx_mmio_frag *f = &p->mmio_frag[p->mmio_cur];
	struct kvm_run *run = vcpu->run;

	run->exit_reason = KVM_EXIT_MMIO;
	run->mmio.phys_addr = f->gpa;
	run->mmio.len = f->len;
	run->mmio.is_write = p->mmio.write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (p->mmio.write)
		memcpy(run->mmio.data, (u8 *)&p->mmio_data + f->offset, f->len);
	return 0;
}

/*
 * Split the access at @linear into per-page pieces: RAM pieces are done
 * now, MMIO pieces are queued. Returns the number queued, or -EFAULT if
 * a piece cannot be translated or copied.
 */
static int mmio_fragments(struct hvx_vcpu *vcpu, u64 linear, u64 fault_gpa)
{
	struct hvx_pending *p = &vcpu->pending;
	const struct hvx_mmio_insn *insn = &p->mmio;
	unsigned int off = 0, len;
	bool hit = false;
	u64 gpa;

	p->mmio_nfrags = 0;
	while (off < insn->size) {
		len = min_t(u64, insn->size - off,
			    PAGE_SIZE - offset_in_page(linear + off));
		if (hvx_gva_to_gpa(vcpu, linear + off,
				   insn->write ? HVX_WALK_WRITE : 0, &gpa))
			return -EFAULT;
		hit |= (gpa >> PAGE_SHIFT) == (fault_gpa >> PAGE_SHIFT);
		if (gpa_is_mmio(vcpu->vm, gpa, insn->write)) {
			p->mmio_frag[p->mmio_nfrags++] =
				(struct hvx_mmio_frag){ gpa, off, len };
		} else if (insn->write ?
			   hvx_write_guest(vcpu->vm, gpa, (u8 *)&p->mmio_data + off, len) :
			   hvx_read_guest(vcpu->vm, gpa, (u8 *)&p->mmio_data + off, len)) {
			return -EFAULT;
		}
		off += len;
	}
	/*
	 * The guest's page tables no longer say what the CPU saw (another
	 * vCPU changed them): trust the fault, as one piece.
	 */
	if (!hit) {
		p->mmio_frag[0] = (struct hvx_mmio_frag){ fault_gpa, 0, insn->size };
		p->mmio_nfrags = 1;
	}
	return p->mmio_nfrags;
}

int hvx_handle_mmio(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	struct hvx_pending *p = &vcpu->pending;
	struct hvx_mmio_insn *insn = &p->mmio;
	u8 bytes[HVX_INSN_MAX] = { 0 };
	unsigned int n;
	u64 linear;
	int r;

	n = exit->npf.fetch ? 0 : hvx_fetch_insn(vcpu, bytes);
	if (!n || hvx_decode_mmio(bytes, n, hvx_vcpu_code_mode(vcpu), insn)) {
		emulation_failure(vcpu, bytes, n);
		return 0;
	}

	linear = hvx_seg_linear(vcpu, insn->seg, hvx_mmio_ea(insn, vcpu->regs, vcpu->rip));
	p->mmio_data = insn->write ? hvx_mmio_store_value(insn, vcpu->regs) : 0;
	p->mmio_cur = 0;
	r = mmio_fragments(vcpu, linear, exit->npf.gpa);
	if (r < 0) {
		p->mmio_nfrags = 0;
		emulation_failure(vcpu, bytes, n);
		return 0;
	}
	/* The in-kernel local APIC's page or IOAPIC window: no exit either way. */
	if (r == 1 && p->mmio_frag[0].len == insn->size &&
	    (hvx_lapic_mmio(vcpu, p->mmio_frag[0].gpa, insn->size, insn->write,
			    &p->mmio_data) ||
	     hvx_ioapic_mmio(vcpu->vm, p->mmio_frag[0].gpa, insn->size,
			     insn->write, &p->mmio_data))) {
		p->mmio_nfrags = 0;
		if (!insn->write)
			hvx_mmio_load_complete(insn, vcpu->regs, p->mmio_data);
		hvx_skip_insn(vcpu, insn->len);
		return 1;
	}
	if (insn->write)
		hvx_skip_insn(vcpu, insn->len);
	/* A doorbell with an ioeventfd: signal it, no exit. */
	if (insn->write && r == 1 && p->mmio_frag[0].len == insn->size &&
	    hvx_ioeventfd_write(vcpu->vm, false, p->mmio_frag[0].gpa, insn->size,
				p->mmio_data)) {
		p->mmio_nfrags = 0;
		return 1;
	}
	return mmio_exit(vcpu);
}

/* Userspace answered fragment mmio_cur: next fragment, or finish. */
int hvx_complete_mmio(struct hvx_vcpu *vcpu)
{
	struct hvx_pending *p = &vcpu->pending;
	struct hvx_mmio_frag *f = &p->mmio_frag[p->mmio_cur];

	if (!p->mmio.write)
		memcpy((u8 *)&p->mmio_data + f->offset, vcpu->run->mmio.data, f->len);
	if (++p->mmio_cur < p->mmio_nfrags)
		return mmio_exit(vcpu);
	if (!p->mmio.write) {
		hvx_mmio_load_complete(&p->mmio, vcpu->regs, p->mmio_data);
		hvx_skip_insn(vcpu, p->mmio.len);
	}
	p->mmio_nfrags = 0;
	return 1;
}
