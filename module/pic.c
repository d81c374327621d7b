// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel dual 8259A PIC of KVM_CREATE_IRQCHIP (Intel 8259A
 * datasheet), cascaded as in a PC: the slave's INT on the master's IR2.
 * Ports 0x20/0x21 (master), 0xa0/0xa1 (slave) and the PIIX ELCR at
 * 0x4d0/0x4d1 (edge/level per line) are handled in the kernel without an
 * exit. The master's INT reaches a vCPU's LINT0 in ExtINT mode: the
 * injection path (events.c) asks for the vector (INTA) when it can
 * deliver one, ahead of the local APIC's, as ExtINT bypasses the APIC's
 * priority (SDM Vol 3 11.6.1, delivery mode 111b).
 */
#include <linux/bitops.h>

#include "irqchip.h"
#include "lapic.h"

#define PIC_MASTER	0
#define PIC_SLAVE	1
#define PIC_CASCADE_IR	2

/*
 * Lines of @mask in rotating priority order: 0 is the highest, 8 means
 * none (datasheet "Priority Resolver"; priority_add is the line that
 * currently has the highest priority).
 */
static int pic_priority(const struct kvm_pic_state *s, u8 mask)
{
	int p = 0;

	if (!mask)
		return 8;
	while (!(mask & BIT((p + s->priority_add) & 7)))
		p++;
	return p;
}

/* The line this chip would raise INT for now, or -1. */
static int pic_pending(const struct kvm_pic_state *s, bool master)
{
	int p = pic_priority(s, s->irr & ~s->imr), cur;
	u8 isr = s->isr;

	if (p == 8)
		return -1;
	/* Special mask mode: masked lines do not block lower ones (OCW3). */
	if (s->special_mask)
		isr &= ~s->imr;
	/* Special fully nested: the slave may interrupt its own IR2 (ICW4). */
	if (s->special_fully_nested_mode && master)
		isr &= ~BIT(PIC_CASCADE_IR);
	cur = pic_priority(s, isr);
	return p < cur ? (p + s->priority_add) & 7 : -1;
}

/*
 * An input line of one chip. Level lines (ELCR) follow the line; edge
 * lines latch a rising edge in the IRR (last_irr remembers the line).
 * Returns KVM's status: -1 if the line is masked, 1 if the request is
 * new, 0 if it was already in the IRR.
 */
static int pic_line(struct kvm_pic_state *s, int irq, bool level)
{
	u8 mask = BIT(irq);
	int r = 1;

	if (s->elcr & mask) {
		if (level) {
			r = !(s->irr & mask);
			s->irr |= mask;
			s->last_irr |= mask;
		} else {
			s->irr &= ~mask;
			s->last_irr &= ~mask;
		}
	} else if (level) {
		if (!(s->last_irr & mask)) {
			r = !(s->irr & mask);
			s->irr |= mask;
		}
		s->last_irr |= mask;
	} else {
		s->last_irr &= ~mask;
	}
	return (s->imr & mask) ? -1 : r;
}

/* Whether @vcpu takes the PIC's INT: LINT0 in ExtINT mode, or no APIC. */
static bool pic_accepted_by(struct hvx_vcpu *vcpu)
{
	u32 lvt0;

	if (!vcpu->lapic)
		return false;
	if (!apic_hw_enabled(vcpu))
		return true;
	lvt0 = reg_get(vcpu->lapic, APIC_LVT0);
	return !(lvt0 & APIC_LVT_MASKED) && (lvt0 & 0x700) == APIC_DM_EXTINT;
}

/*
 * Propagate the slave's INT to the master's IR2 and recompute the
 * master's INT; a rising INT kicks the vCPUs that take it. pic->lock held.
 */
static void pic_update(struct hvx_vm *vm, struct hvx_pic *pic)
{
	bool was = pic->output;
	int i, n;

	pic_line(&pic->chip[PIC_MASTER], PIC_CASCADE_IR,
		 pic_pending(&pic->chip[PIC_SLAVE], false) >= 0);
	pic->output = pic_pending(&pic->chip[PIC_MASTER], true) >= 0;
	if (!pic->output || was)
		return;
	n = atomic_read(&vm->online_vcpus);
	/* Pairs with the smp_wmb() between storing vcpus[] and online_vcpus++. */
	smp_rmb();
	for (i = 0; i < n; i++)
		if (pic_accepted_by(vm->vcpus[i]))
			hvx_vcpu_kick(vm->vcpus[i]);
}

/* Power-on: both chips uninitialized, all lines edge, nothing masked. */
void pic_init(struct hvx_pic *pic)
{
	memset(pic->chip, 0, sizeof(pic->chip));
	/* PIIX: IR0-2 of the master and IR0, IR5 of the slave are edge only. */
	pic->chip[PIC_MASTER].elcr_mask = 0xf8;
	pic->chip[PIC_SLAVE].elcr_mask = 0xde;
	pic->output = false;
	memset(pic->line_src, 0, sizeof(pic->line_src));
	pic->acked = 0;
}

/*
 * Driver @src (HVX_IRQ_SRC_*) takes its part of line @irq (0-15: IR
 * irq & 7 of the master or the slave) to @level; the line is the OR of
 * the parts.
 */
int pic_set_irq(struct hvx_vm *vm, unsigned int irq, unsigned int src,
		bool level)
{
	struct hvx_pic *pic = vm->pic;
	unsigned long flags;
	int r;

	spin_lock_irqsave(&pic->lock, flags);
	if (level)
		pic->line_src[irq] |= BIT(src);
	else
		pic->line_src[irq] &= ~BIT(src);
	r = pic_line(&pic->chip[irq >> 3], irq & 7, pic->line_src[irq]);
	pic_update(vm, pic);
	spin_unlock_irqrestore(&pic->lock, flags);
	return r;
}

/*
 * The service of chip @c's line @irq ends (an EOI, or AEOI at INTA):
 * noted for hvx_irq_acked(), which the caller runs once pic->lock is
 * dropped (irqfd resampling lowers lines through pic_set_irq()).
 */
static void pic_end_service(struct hvx_pic *pic, int c, int irq)
{
	pic->chip[c].isr &= ~BIT(irq);
	pic->acked |= BIT(c * 8 + irq);
}

/* Tell the GSIs of the lines whose service ended; pic->lock not held. */
static void pic_notify_acked(struct hvx_vm *vm, unsigned long acked)
{
	unsigned int irq;

	for_each_set_bit(irq, &acked, 16)
		hvx_irq_acked(vm, irq < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
			      irq);
}

/* The CPU's INTA on chip @c's line @irq: IRR to ISR (unless AEOI). */
static void pic_ack(struct hvx_pic *pic, int c, int irq)
{
	struct kvm_pic_state *s = &pic->chip[c];
	u8 mask = BIT(irq);

	if (s->auto_eoi) {
		if (s->rotate_on_auto_eoi)
			s->priority_add = (irq + 1) & 7;
		pic_end_service(pic, c, irq);
	} else {
		s->isr |= mask;
	}
	/* A level line stays requested while high (datasheet, LTIM). */
	if (!(s->elcr & mask))
		s->irr &= ~mask;
}

/*
 * Whether @vcpu has an ExtINT from the PIC to take: the master's INT is
 * up and the vCPU's LINT0 takes it.
 */
bool hvx_pic_has_extint(struct hvx_vcpu *vcpu)
{
	struct hvx_pic *pic = vcpu->vm->pic;

	return pic && READ_ONCE(pic->output) && pic_accepted_by(vcpu);
}

/*
 * INTA: the vector of the highest-priority request, through the slave
 * for IR2; a request gone by the time of INTA gives the spurious IR7
 * vector (datasheet "Interrupt Sequence"). Returns -1 if the vCPU has
 * no ExtINT to take.
 */
int hvx_pic_ack(struct hvx_vcpu *vcpu)
{
	struct hvx_pic *pic = vcpu->vm->pic;
	struct kvm_pic_state *m, *sl;
	unsigned long flags, acked;
	int irq, irq2, v;

	if (!hvx_pic_has_extint(vcpu))
		return -1;
	spin_lock_irqsave(&pic->lock, flags);
	m = &pic->chip[PIC_MASTER];
	sl = &pic->chip[PIC_SLAVE];
	irq = pic_pending(m, true);
	if (irq < 0) {
		v = m->irq_base + 7;
	} else {
		pic_ack(pic, PIC_MASTER, irq);
		if (irq == PIC_CASCADE_IR) {
			irq2 = pic_pending(sl, false);
			if (irq2 >= 0) {
				pic_ack(pic, PIC_SLAVE, irq2);
				v = sl->irq_base + irq2;
			} else {
				v = sl->irq_base + 7;
			}
		} else {
			v = m->irq_base + irq;
		}
	}
	pic_update(vcpu->vm, pic);
	acked = pic->acked;
	pic->acked = 0;
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_notify_acked(vcpu->vm, acked);
	return v;
}

/*
 * ICW1 (datasheet "Initialization Command Words"): start initializing.
 * It clears the IMR, the edge sense latches, special mask mode and the
 * rotation, selects the IRR for reads, and without ICW4 (IC4 = 0) the
 * modes ICW4 would set. The ISR is left alone, as the datasheet lists
 * it nowhere here; like KVM, only the service of edge requests dropped
 * from the IRR ends.
 */
static void pic_icw1(struct kvm_pic_state *s, u8 val)
{
	u8 edge_irr = s->irr & ~s->elcr;

	s->init4 = val & 1;
	/* Level requests stay: their lines are still high. */
	s->irr &= s->elcr;
	s->last_irr = 0;
	s->imr = 0;
	s->priority_add = 0;
	s->special_mask = 0;
	s->read_reg_select = 0;
	if (!s->init4) {
		s->special_fully_nested_mode = 0;
		s->auto_eoi = 0;
	}
	s->isr &= ~edge_irr;
	s->init_state = 1;
}

/* OCW2: EOIs, rotation and priority (datasheet "Operation Command Words"). */
static void pic_ocw2(struct hvx_pic *pic, int c, u8 val)
{
	struct kvm_pic_state *s = &pic->chip[c];
	int cmd = val >> 5, p, irq;

	switch (cmd) {
	case 0:	/* rotate in AEOI mode: clear */
	case 4:	/* rotate in AEOI mode: set */
		s->rotate_on_auto_eoi = cmd >> 2;
		break;
	case 1:	/* non-specific EOI */
	case 5:	/* rotate on non-specific EOI */
		p = pic_priority(s, s->isr);
		if (p == 8)
			break;
		irq = (p + s->priority_add) & 7;
		pic_end_service(pic, c, irq);
		if (cmd == 5)
			s->priority_add = (irq + 1) & 7;
		break;
	case 3:	/* specific EOI */
		if (s->isr & BIT(val & 7))
			pic_end_service(pic, c, val & 7);
		break;
	case 6:	/* set priority: IR val & 7 becomes the lowest */
		s->priority_add = (val + 1) & 7;
		break;
	case 7:	/* rotate on specific EOI */
		if (s->isr & BIT(val & 7))
			pic_end_service(pic, c, val & 7);
		s->priority_add = (val + 1) & 7;
		break;
	}
}

static void pic_write(struct hvx_vm *vm, struct hvx_pic *pic, int c, int a0, u8 val)
{
	struct kvm_pic_state *s = &pic->chip[c];

	if (!a0) {
		if (val & 0x10) {
			pic_icw1(s, val);
		} else if (val & 0x08) {
			/* OCW3: poll, register to read, special mask mode. */
			if (val & 0x04)
				s->poll = 1;
			if (val & 0x02)
				s->read_reg_select = val & 1;
			if (val & 0x40)
				s->special_mask = (val >> 5) & 1;
		} else {
			pic_ocw2(pic, c, val);
		}
	} else {
		switch (s->init_state) {
		case 0:		/* OCW1: the mask */
			s->imr = val;
			break;
		case 1:		/* ICW2: vector base, bits 7:3 */
			s->irq_base = val & 0xf8;
			s->init_state = 2;
			break;
		case 2:		/* ICW3: cascade wiring, fixed here */
			s->init_state = s->init4 ? 3 : 0;
			break;
		case 3:		/* ICW4: AEOI, special fully nested */
			s->special_fully_nested_mode = (val >> 4) & 1;
			s->auto_eoi = (val >> 1) & 1;
			s->init_state = 0;
			break;
		}
	}
	pic_update(vm, pic);
}

/*
 * Poll command (OCW3 P bit): the next read reports the highest request's
 * line and removes it from the IRR, or reads 0x07 if there is none. The
 * datasheet also sets bit 7 (I) for a request and the ISR bit, as an
 * INTA would; KVM 6.1 does neither (its answer is the bare line, and a
 * polling guest needs no EOI), and hvx answers as KVM. A poll of the
 * slave also takes the cascade request off the master's IR2.
 */
static u8 pic_poll(struct hvx_vm *vm, struct hvx_pic *pic, int c)
{
	struct kvm_pic_state *s = &pic->chip[c];
	int irq = pic_pending(s, c == PIC_MASTER);

	s->poll = 0;
	if (irq < 0) {
		pic_update(vm, pic);
		return 0x07;
	}
	if (c == PIC_SLAVE) {
		pic->chip[PIC_MASTER].isr &= ~BIT(PIC_CASCADE_IR);
		pic->chip[PIC_MASTER].irr &= ~BIT(PIC_CASCADE_IR);
	}
	s->irr &= ~BIT(irq);
	s->isr &= ~BIT(irq);
	pic_update(vm, pic);
	return irq;
}

static u8 pic_read(struct hvx_vm *vm, struct hvx_pic *pic, int c, int a0)
{
	struct kvm_pic_state *s = &pic->chip[c];

	if (s->poll)
		return pic_poll(vm, pic, c);
	if (a0)
		return s->imr;
	return s->read_reg_select ? s->isr : s->irr;
}

/*
 * Port I/O to the PIC and ELCR ports. Returns false if @port is not
 * theirs (or there is no in-kernel PIC). As KVM's, the chips take byte
 * accesses: a wider write is ignored and a wider read returns 0.
 */
bool hvx_pic_pio(struct hvx_vm *vm, u16 port, unsigned int size, bool in, u32 *val)
{
	struct hvx_pic *pic = vm->pic;
	unsigned long flags, acked;
	int c;

	if (!pic)
		return false;
	switch (port) {
	case 0x20: case 0x21: case 0xa0: case 0xa1:
	case 0x4d0: case 0x4d1:
		break;
	default:
		return false;
	}
	if (size != 1) {
		if (in)
			*val = 0;
		return true;
	}
	spin_lock_irqsave(&pic->lock, flags);
	if (port >= 0x4d0) {
		c = port & 1;
		if (in)
			*val = pic->chip[c].elcr;
		else
			pic->chip[c].elcr = *val & pic->chip[c].elcr_mask;
	} else {
		c = port >= 0xa0;
		if (in)
			*val = pic_read(vm, pic, c, port & 1);
		else
			pic_write(vm, pic, c, port & 1, *val);
	}
	acked = pic->acked;
	pic->acked = 0;
	spin_unlock_irqrestore(&pic->lock, flags);
	pic_notify_acked(vm, acked);
	return true;
}

void pic_get_state(struct hvx_vm *vm, int chip, struct kvm_pic_state *s)
{
	unsigned long flags;

	spin_lock_irqsave(&vm->pic->lock, flags);
	*s = vm->pic->chip[chip];
	spin_unlock_irqrestore(&vm->pic->lock, flags);
}

/* KVM_SET_IRQCHIP: the chip as given; INT follows its new state. */
void pic_set_state(struct hvx_vm *vm, int chip, const struct kvm_pic_state *s)
{
	unsigned long flags;

	spin_lock_irqsave(&vm->pic->lock, flags);
	vm->pic->chip[chip] = *s;
	pic_update(vm, vm->pic);
	spin_unlock_irqrestore(&vm->pic->lock, flags);
}
