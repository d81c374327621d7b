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
 * injection path runs with interrupts disabled, and so does an irqfd's
 * wake-up (irqfd.c), which drives lines from inside eventfd_signal().
 *
 * A line may have several drivers, as in KVM: userspace (KVM_IRQ_LINE
 * and plain irqfds) and resampling irqfds each hold their own level, and
 * the chip sees their OR. The resampler can so lower its part at the
 * EOI without touching what userspace asserted.
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

/* Drivers of a chip's input line (bit numbers in line_src[]). */
enum {
	HVX_IRQ_SRC_USER,	/* KVM_IRQ_LINE, irqfds without resample */
	HVX_IRQ_SRC_RESAMPLE,	/* irqfds with KVM_IRQFD_FLAG_RESAMPLE */
};

struct hvx_ioapic {
	spinlock_t lock;		/* all of it */
	struct kvm_ioapic_state s;
	u8 line_src[KVM_IOAPIC_NUM_PINS];	/* BIT(HVX_IRQ_SRC_*) driving high */
	/* Edge pins delivered while their line is high (KVM's irr_delivered). */
	u32 irr_delivered;
};

struct hvx_pic {
	spinlock_t lock;		/* all of it; output is also read without */
	struct kvm_pic_state chip[2];	/* master, slave */
	bool output;			/* the master's INT line */
	u8 line_src[16];		/* BIT(HVX_IRQ_SRC_*) driving high */
	u16 acked;			/* ISR bits ended, to notify unlocked */
};

/*
 * One KVM_SET_GSI_ROUTING entry, checked. irqchip.pin counts the PICs'
 * lines 0-15 (the slave's from 8), as KVM keeps them.
 */
struct hvx_irq_route {
	u32 gsi;
	u32 type;			/* KVM_IRQ_ROUTING_IRQCHIP or _MSI */
	union {
		struct {
			u32 chip;
			u32 pin;
		} irqchip;
		struct kvm_irq_routing_msi msi;
	};
};

/*
 * A routing table, replaced whole and read under RCU (irq_routing.c).
 * chip_gsi[][] maps a chip's pin back to its GSI for EOI notifications,
 * -1 if no route reaches it.
 */
struct hvx_irq_routing {
	int chip_gsi[KVM_NR_IRQCHIPS][KVM_IOAPIC_NUM_PINS];
	u32 nr;
	struct hvx_irq_route routes[];	/* sorted by GSI */
};

/* irq_routing.c */
int hvx_irq_routing_default(struct hvx_vm *vm);
int hvx_irq_set(struct hvx_vm *vm, unsigned int src, u32 gsi, bool level);
void hvx_irq_acked(struct hvx_vm *vm, unsigned int chip, unsigned int pin);

/* irqfd.c */
void hvx_irqfd_resample_acked(struct hvx_vm *vm, u32 gsi);

/* ioapic.c */
void ioapic_reset(struct hvx_ioapic *io);
int ioapic_set_irq(struct hvx_vm *vm, unsigned int pin, unsigned int src,
		   bool level);
void ioapic_get_state(struct hvx_vm *vm, struct kvm_ioapic_state *s);
void ioapic_set_state(struct hvx_vm *vm, const struct kvm_ioapic_state *s);

/* pic.c */
void pic_init(struct hvx_pic *pic);
int pic_set_irq(struct hvx_vm *vm, unsigned int irq, unsigned int src,
		bool level);
void pic_get_state(struct hvx_vm *vm, int chip, struct kvm_pic_state *s);
void pic_set_state(struct hvx_vm *vm, int chip, const struct kvm_pic_state *s);

#endif /* HVX_IRQCHIP_H */
