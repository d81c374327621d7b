// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel IOAPIC of KVM_CREATE_IRQCHIP (Intel 82093AA datasheet):
 * 24 pins, each with a redirection table entry that turns its line into
 * an interrupt message on the APIC bus (lapic_bus.c). Edge pins send one
 * message per rising edge; level pins send one and set Remote IRR until
 * the local APIC's EOI of that vector comes back, and send again if the
 * line is still high then.
 *
 * The guest reaches it through its MMIO window at the base address
 * (KVM's default 0xfec00000): IOREGSEL at offset 0x00 selects a
 * register, IOWIN at 0x10 reads or writes it (datasheet 3.0). Handled in
 * the kernel, as the local APIC's page, without an exit.
 */
#include <linux/bitops.h>
#include <linux/nospec.h>

#include "irqchip.h"
#include "lapic_regs.h"

/* The indirect registers (datasheet 3.2) and redirection entry bits. */
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VERSION	0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDIR	0x10
/* KVM's IOAPIC reports version 0x11, as the 82093AA. */
#define IOAPIC_VERSION		0x11

#define IOREDTBL_DELIVERY_STATUS	BIT_ULL(12)
#define IOREDTBL_REMOTE_IRR		BIT_ULL(14)
#define IOREDTBL_LEVEL			BIT_ULL(15)
#define IOREDTBL_MASK			BIT_ULL(16)

/* Power-on state (datasheet 3.2.4): every pin masked, ID 0. */
void ioapic_reset(struct hvx_ioapic *io)
{
	int i;

	memset(&io->s, 0, sizeof(io->s));
	io->s.base_address = HVX_IOAPIC_BASE;
	for (i = 0; i < HVX_IOAPIC_PINS; i++)
		io->s.redirtbl[i].bits = IOREDTBL_MASK;
	io->irr_delivered = 0;
	memset(io->line_src, 0, sizeof(io->line_src));
}

/*
 * Send the message of @pin's entry (datasheet 3.2.4). Returns -1 if the
 * pin may not send now (masked, or level with Remote IRR set), else
 * what the APIC bus returned: the number of APICs that took it (0 if
 * the destinations dropped it, e.g. software-disabled), or -1 if none
 * was a destination. Called with io->lock held.
 */
static int ioapic_service(struct hvx_vm *vm, struct hvx_ioapic *io, unsigned int pin)
{
	u64 e = io->s.redirtbl[pin].bits;
	struct hvx_lapic_ipi msg = {
		.dest = e >> 56,
		.vector = e & 0xff,
		.mode = (e >> 8) & 7,
		.logical = e & BIT_ULL(11),
		.level = e & IOREDTBL_LEVEL,
		.assert = true,
	};
	int r;

	if ((e & IOREDTBL_MASK) || ((e & IOREDTBL_LEVEL) && (e & IOREDTBL_REMOTE_IRR)))
		return -1;
	if (!msg.level)
		io->irr_delivered |= BIT(pin);
	r = hvx_lapic_deliver(vm, NULL, &msg);
	/* A level interrupt some APIC accepted is in service until its EOI. */
	if (r > 0 && msg.level)
		io->s.redirtbl[pin].bits |= IOREDTBL_REMOTE_IRR;
	return r;
}

/*
 * Driver @src (HVX_IRQ_SRC_*) takes its part of @pin's line to @level;
 * the line is the OR of the parts. As KVM, the polarity bit is not
 * applied (the VMM passes the logical level). Returns KVM's status: 1
 * for a lowered line, 0 for an edge pin already high (coalesced), else
 * as ioapic_service().
 */
int ioapic_set_irq(struct hvx_vm *vm, unsigned int pin, unsigned int src,
		   bool level)
{
	struct hvx_ioapic *io = vm->ioapic;
	unsigned long flags;
	u32 mask = BIT(pin), old;
	int r;

	spin_lock_irqsave(&io->lock, flags);
	if (level)
		io->line_src[pin] |= BIT(src);
	else
		io->line_src[pin] &= ~BIT(src);
	level = io->line_src[pin];
	old = io->s.irr;
	if (!level) {
		io->s.irr &= ~mask;
		r = 1;
		goto out;
	}
	io->s.irr |= mask;
	if (!(io->s.redirtbl[pin].bits & IOREDTBL_LEVEL)) {
		io->irr_delivered &= ~mask;
		if (old & mask) {
			r = 0;
			goto out;
		}
	}
	r = ioapic_service(vm, io, pin);
out:
	spin_unlock_irqrestore(&io->lock, flags);
	return r;
}

/*
 * A local APIC's EOI of a level-triggered @vector (its TMR bit was set):
 * every level pin with that vector leaves Remote IRR and, if its line is
 * still high and it is unmasked, sends again (datasheet 3.2.4, bit 14).
 * First, unlocked, the pins' GSIs hear of the EOI (irqfd resampling):
 * a resampler lowers its part of the line then, so a device that has
 * nothing more to say is not sent again below.
 */
void hvx_ioapic_eoi(struct hvx_vm *vm, u8 vector)
{
	struct hvx_ioapic *io = vm->ioapic;
	unsigned long flags, acked = 0;
	unsigned int pin;

	if (!io)
		return;
	spin_lock_irqsave(&io->lock, flags);
	for (pin = 0; pin < HVX_IOAPIC_PINS; pin++) {
		u64 e = io->s.redirtbl[pin].bits;

		if ((e & 0xff) == vector && (e & IOREDTBL_LEVEL))
			acked |= BIT(pin);
	}
	spin_unlock_irqrestore(&io->lock, flags);
	for_each_set_bit(pin, &acked, HVX_IOAPIC_PINS)
		hvx_irq_acked(vm, KVM_IRQCHIP_IOAPIC, pin);

	spin_lock_irqsave(&io->lock, flags);
	for (pin = 0; pin < HVX_IOAPIC_PINS; pin++) {
		u64 *e = &io->s.redirtbl[pin].bits;

		if ((*e & 0xff) != vector || !(*e & IOREDTBL_LEVEL))
			continue;
		*e &= ~IOREDTBL_REMOTE_IRR;
		if (io->s.irr & BIT(pin))
			ioapic_service(vm, io, pin);
	}
	spin_unlock_irqrestore(&io->lock, flags);
}

static u32 ioapic_read_indirect(struct hvx_ioapic *io)
{
	u32 sel = io->s.ioregsel, idx;
	u64 e = ~0ULL;

	switch (sel) {
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:
		return (io->s.id & 0xf) << 24;
	case IOAPIC_REG_VERSION:
		return (HVX_IOAPIC_PINS - 1) << 16 | IOAPIC_VERSION;
	}
	/* Below 0x10 the index wraps to a huge value: reads as all ones. */
	idx = (sel - IOAPIC_REG_REDIR) >> 1;
	if (idx < HVX_IOAPIC_PINS)
		e = io->s.redirtbl[array_index_nospec(idx, HVX_IOAPIC_PINS)].bits;
	return sel & 1 ? e >> 32 : (u32)e;
}

static void ioapic_write_indirect(struct hvx_vm *vm, struct hvx_ioapic *io, u32 val)
{
	u32 sel = io->s.ioregsel, idx;
	u64 *e, keep;

	if (sel == IOAPIC_REG_ID) {
		io->s.id = (val >> 24) & 0xf;
		return;
	}
	idx = (sel - IOAPIC_REG_REDIR) >> 1;
	if (sel < IOAPIC_REG_REDIR || idx >= HVX_IOAPIC_PINS)
		return;	/* version, arbitration: read-only */
	idx = array_index_nospec(idx, HVX_IOAPIC_PINS);
	e = &io->s.redirtbl[idx].bits;
	/* Delivery status and Remote IRR are read-only. */
	keep = *e & (IOREDTBL_DELIVERY_STATUS | IOREDTBL_REMOTE_IRR);
	if (sel & 1)
		*e = (u32)*e | (u64)val << 32;
	else
		*e = (*e & ~0xffffffffULL) | val;
	*e = (*e & ~(IOREDTBL_DELIVERY_STATUS | IOREDTBL_REMOTE_IRR)) | keep;
	/*
	 * An entry made edge-triggered drops Remote IRR, which Linux relies
	 * on to end a stuck level interrupt; KVM does the same.
	 */
	if (!(*e & IOREDTBL_LEVEL))
		*e &= ~IOREDTBL_REMOTE_IRR;
	/* A level pin unmasked while its line is high sends now. */
	if ((*e & IOREDTBL_LEVEL) && (io->s.irr & BIT(idx)))
		ioapic_service(vm, io, idx);
}

/*
 * The MMIO window: IOREGSEL and IOWIN take any width (KVM: 1, 2, 4 or 8
 * bytes, the low 32 bits of a wider write); other offsets read as 0 and
 * ignore writes. Returns false if @gpa is not in the window.
 */
bool hvx_ioapic_mmio(struct hvx_vm *vm, u64 gpa, unsigned int len,
		     bool write, u64 *data)
{
	struct hvx_ioapic *io = vm->ioapic;
	u64 base, off, val = 0;
	unsigned long flags;

	if (!io)
		return false;
	/* KVM_SET_IRQCHIP may move the window. */
	base = READ_ONCE(io->s.base_address);
	off = gpa - base;
	if (gpa < base || off >= HVX_IOAPIC_MEM_LEN || off + len > HVX_IOAPIC_MEM_LEN)
		return false;
	spin_lock_irqsave(&io->lock, flags);
	if (write) {
		u32 v = len >= 4 ? (u32)*data : *data & GENMASK_ULL(len * 8 - 1, 0);

		if (off == 0x00)
			io->s.ioregsel = v & 0xff;
		else if (off == 0x10)
			ioapic_write_indirect(vm, io, v);
	} else {
		if (off == 0x00)
			val = io->s.ioregsel;
		else if (off == 0x10)
			val = ioapic_read_indirect(io);
		*data = len == 8 ? val : val & GENMASK_ULL(len * 8 - 1, 0);
	}
	spin_unlock_irqrestore(&io->lock, flags);
	return true;
}

/* KVM_GET_IRQCHIP: edge pins already delivered do not show in irr. */
void ioapic_get_state(struct hvx_vm *vm, struct kvm_ioapic_state *s)
{
	struct hvx_ioapic *io = vm->ioapic;
	unsigned long flags;

	spin_lock_irqsave(&io->lock, flags);
	*s = io->s;
	s->irr &= ~io->irr_delivered;
	spin_unlock_irqrestore(&io->lock, flags);
}

/*
 * KVM_SET_IRQCHIP: the state as given, then the lines in its irr are
 * raised again, so that unmasked pins deliver as on KVM.
 */
void ioapic_set_state(struct hvx_vm *vm, const struct kvm_ioapic_state *s)
{
	struct hvx_ioapic *io = vm->ioapic;
	unsigned long flags, irr = s->irr;
	unsigned int pin;

	spin_lock_irqsave(&io->lock, flags);
	io->s = *s;
	io->s.irr = 0;
	io->irr_delivered = 0;
	memset(io->line_src, 0, sizeof(io->line_src));
	spin_unlock_irqrestore(&io->lock, flags);
	/* The restored lines are userspace's, as KVM_IRQ_LINE raised them. */
	for_each_set_bit(pin, &irr, HVX_IOAPIC_PINS)
		ioapic_set_irq(vm, pin, HVX_IRQ_SRC_USER, true);
}
