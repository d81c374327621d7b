/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel IOAPIC and dual 8259 PIC of KVM_CREATE_IRQCHIP, and the
 * GSI layer that drives them (irq.c). Each chip keeps its state in the
 * layout KVM_GET/SET_IRQCHIP carries (<asm/kvm.h>), so saving and
 * restoring is a copy, under the chip's own spinlock.
 *
 * Lock order: a chip's lock, then an APIC's (delivery sets IRR bits and
 * kicks vCPUs under the chip's lock); nothing takes a chip's lock while
 * holding an APIC's. Chip locks are taken with interrupts off, as the
 * injection path runs with interrupts disabled.
 */
#ifndef HVX_IRQCHIP_H
#define HVX_IRQCHIP_H

#include <linux/spinlock.h>
#include <linux/kvm.h>

#include "hvx.h"

/* KVM's default IOAPIC base and window length (IOAPIC_MEM_LENGTH). */
#define HVX_IOAPIC_BASE		0xfec00000ULL
#define HVX_IOAPIC_MEM_LEN	0x100
#define HVX_IOAPIC_PINS		KVM_IOAPIC_NUM_PINS

struct hvx_ioapic {
	spinlock_t lock;		/* all of it */
	struct kvm_ioapic_state s;
	/* Edge pins delivered while their line is high (KVM's irr_delivered). */
	u32 irr_delivered;
};

struct hvx_pic {
	spinlock_t lock;		/* all of it; output is also read without */
	struct kvm_pic_state chip[2];	/* master, slave */
	bool output;			/* the master's INT line */
};

/* ioapic.c */
void ioapic_reset(struct hvx_ioapic *io);
int ioapic_set_irq(struct hvx_vm *vm, unsigned int pin, bool level);
void ioapic_get_state(struct hvx_vm *vm, struct kvm_ioapic_state *s);
void ioapic_set_state(struct hvx_vm *vm, const struct kvm_ioapic_state *s);

/* pic.c */
void pic_init(struct hvx_pic *pic);
int pic_set_irq(struct hvx_vm *vm, unsigned int irq, bool level);
void pic_get_state(struct hvx_vm *vm, int chip, struct kvm_pic_state *s);
void pic_set_state(struct hvx_vm *vm, int chip, const struct kvm_pic_state *s);

#endif /* HVX_IRQCHIP_H */
