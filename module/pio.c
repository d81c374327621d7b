// SPDX-License-Identifier: GPL-2.0
/*
 * Port I/O exits (IN/OUT/INS/OUTS, with REP): the access goes to userspace
 * as KVM_EXIT_IO with its data in the PIO page after kvm_run, and completes
 * on the next KVM_RUN, as on KVM: RIP moves past the instruction only then.
 */
#include <linux/mm.h>
#include <asm/processor-flags.h>

#include "hvx.h"
#include "exits.h"

static u64 addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

/* Write @val to a GPR at the given width (SDM Vol 1 3.4.1.1). */
static void write_reg_width(u64 *reg, u64 val, u8 bytes)
{
	if (bytes == 8)
		*reg = val;
	else if (bytes == 4)
		*reg = (u32)val;	/* 32-bit writes zero-extend */
	else
		*reg = (*reg & ~addr_mask(bytes)) | (val & addr_mask(bytes));
}

/*
 * How many string elements one exit carries: all remaining ones up to
 * the PIO page, without crossing a guest page (so one translation serves).
 */
static u32 string_count(u64 linear, u64 rcx, unsigned int size, bool down)
{
	u64 room = down ? offset_in_page(linear) / size + 1 :
			  (PAGE_SIZE - offset_in_page(linear)) / size;

	room = min_t(u64, room, PAGE_SIZE / size);
	return max_t(u64, 1, min(rcx, room));
}

/* Copy @count elements between guest memory and @data, honouring DF. */
static int string_copy(struct hvx_vcpu *vcpu, u64 linear, void *data,
		       u32 count, unsigned int size, bool down, bool to_guest)
{
	u64 first = down ? linear - (u64)(count - 1) * size : linear;
	unsigned int len = count * size;
	u32 i;
	int r;

	if (!down) {
		if (to_guest)
			return hvx_write_linear(vcpu, first, data, len);
		return hvx_read_linear(vcpu, first, data, len, 0);
	}
	/* Descending: element i lives at linear - i * size. */
	for (i = 0; i < count; i++) {
		u64 a = linear - (u64)i * size;

		r = to_guest ? hvx_write_linear(vcpu, a, data + i * size, size) :
			       hvx_read_linear(vcpu, a, data + i * size, size, 0);
		if (r)
			return r;
	}
	return 0;
}

static int string_fault(struct hvx_vcpu *vcpu, u64 linear)
{
	u64 data[2] = { vcpu->rip, linear };

	hvx_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION, data, 2);
	memset(&vcpu->pending, 0, sizeof(vcpu->pending));
	return 0;
}

/* Segment and address size of INS/OUTS when the CPU did not report them. */
static int string_prefixes(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	u8 bytes[HVX_INSN_MAX], seg, asz;
	unsigned int n;

	if (exit->io.seg != HVX_SEG_UNKNOWN && exit->io.addr_size)
		return 0;
	n = hvx_fetch_insn(vcpu, bytes);
	if (!n || hvx_decode_string_io(bytes, n, hvx_vcpu_code_mode(vcpu), &seg, &asz))
		return -EFAULT;
	if (exit->io.seg == HVX_SEG_UNKNOWN)
		exit->io.seg = seg;
	if (!exit->io.addr_size)
		exit->io.addr_size = asz;
	return 0;
}

/*
 * Port I/O the kernel's own devices (the in-kernel PIC) take: each of
 * the @count elements in the PIO page goes to the device in order (OUT),
 * or is filled from it (IN). Returns false if the port is not theirs.
 */
static bool pio_in_kernel(struct hvx_vcpu *vcpu, const struct hvx_exit *exit,
			  u32 count)
{
	unsigned int size = exit->io.size;
	u8 *data = vcpu->pio_data;
	u32 i, val = 0;

	for (i = 0; i < count; i++) {
		if (!exit->io.in)
			memcpy(&val, data + i * size, size);
		if (!hvx_pic_pio(vcpu->vm, exit->io.port, size, exit->io.in, &val))
			return false;
		if (exit->io.in)
			memcpy(data + i * size, &val, size);
	}
	return true;
}

int hvx_handle_io(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	struct kvm_run *run = vcpu->run;
	struct hvx_pending *p = &vcpu->pending;
	unsigned int size = exit->io.size;
	bool down = vcpu->rflags & X86_EFLAGS_DF;
	u64 mask, rcx, linear;
	u32 count = 1;

	if (exit->io.string) {
		if (string_prefixes(vcpu, exit))
			return string_fault(vcpu, vcpu->rip);
		mask = addr_mask(exit->io.addr_size);
		rcx = exit->io.rep ? vcpu->regs[HVX_RCX] & mask : 1;
		if (!rcx) {
			/* REP with a zero count does nothing (SDM Vol 2 REP). */
			hvx_skip_insn(vcpu, exit->insn_len);
			return 1;
		}
		linear = exit->io.in ?
			hvx_seg_linear(vcpu, HVX_SEG_ES, vcpu->regs[HVX_RDI] & mask) :
			hvx_seg_linear(vcpu, exit->io.seg, vcpu->regs[HVX_RSI] & mask);
		count = string_count(linear, rcx, size, down);
		if (!exit->io.in &&
		    string_copy(vcpu, linear, vcpu->pio_data, count, size, down, false))
			return string_fault(vcpu, linear);
		p->linear = linear;
	} else if (!exit->io.in) {
		/* A doorbell with an ioeventfd: signal it, no exit. */
		if (hvx_ioeventfd_write(vcpu->vm, true, exit->io.port, size,
					vcpu->regs[HVX_RAX])) {
			hvx_skip_insn(vcpu, exit->insn_len);
			return 1;
		}
		memcpy(vcpu->pio_data, &vcpu->regs[HVX_RAX], size);
	}

	p->io = *exit;
	p->count = count;
	p->insn_len = exit->insn_len;
	/* The in-kernel PIC's ports: done here, as if userspace had answered. */
	if (pio_in_kernel(vcpu, exit, count))
		return hvx_complete_pio(vcpu);
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = exit->io.in ? KVM_EXIT_IO_IN : KVM_EXIT_IO_OUT;
	run->io.size = size;
	run->io.port = exit->io.port;
	run->io.count = count;
	run->io.data_offset = HVX_PIO_PAGE_OFFSET * PAGE_SIZE;
	return 0;
}

int hvx_complete_pio(struct hvx_vcpu *vcpu)
{
	struct hvx_pending *p = &vcpu->pending;
	struct hvx_exit *io = &p->io;
	unsigned int size = io->io.size, asz = io->io.addr_size;
	bool down = vcpu->rflags & X86_EFLAGS_DF;
	u64 delta = (u64)p->count * size;
	int idx;

	if (!io->io.string) {
		u64 val = 0;

		if (io->io.in) {
			memcpy(&val, vcpu->pio_data, size);
			write_reg_width(&vcpu->regs[HVX_RAX], val, size);
		}
		hvx_skip_insn(vcpu, p->insn_len);
		goto done;
	}

	if (io->io.in &&
	    string_copy(vcpu, p->linear, vcpu->pio_data, p->count, size, down, true))
		return string_fault(vcpu, p->linear);
	idx = io->io.in ? HVX_RDI : HVX_RSI;
	write_reg_width(&vcpu->regs[idx],
			down ? vcpu->regs[idx] - delta : vcpu->regs[idx] + delta, asz);
	if (io->io.rep) {
		u64 rcx = (vcpu->regs[HVX_RCX] & addr_mask(asz)) - p->count;

		write_reg_width(&vcpu->regs[HVX_RCX], rcx, asz);
		/* Not done yet: the guest re-executes the REP instruction. */
		if (rcx)
			goto done;
	}
	hvx_skip_insn(vcpu, p->insn_len);
done:
	memset(p, 0, sizeof(*p));
	return 1;
}
