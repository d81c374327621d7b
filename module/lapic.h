/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel local APIC's state, shared by its files: lapic.c
 * (registers, MMIO, MSRs, injection, KVM_GET/SET_LAPIC), lapic_timer.c,
 * lapic_bus.c (IPIs, MSIs, kicks) and mp_state.c (HLT, INIT/SIPI).
 *
 * Who touches what:
 * - The vCPU thread owns the register page: MMIO and MSR accesses, EOI,
 *   injection, KVM_GET/SET_LAPIC.
 * - Other threads (IPIs from other vCPUs, KVM_SIGNAL_MSI, the IOAPIC)
 *   never write the IRR: a fixed interrupt sets its TMR bit under
 *   apic->lock, then its bit in the posted-interrupt descriptor (apic->pi,
 *   below), which the vCPU thread folds into the IRR before it next looks
 *   for interrupts (lapic_sync_posted()). The vCPU thread takes apic->lock
 *   for every change of IRR, ISR, TMR and PPR. NMIs, INIT and SIPI are
 *   posted in apic->nmis and apic->events.
 * - With VMX APIC virtualization (vcpu->apicv) the page is also the
 *   virtual-APIC page: while the guest runs, the CPU itself updates IRR,
 *   ISR, PPR and TPR in it (SDM Vol 3 29.1), and never TMR. That is why
 *   other threads must not touch the IRR: the descriptor is the one way in
 *   for every interrupt sent from outside the vCPU thread, with or
 *   without APIC virtualization, on VMX and SVM alike.
 * - The timer's hrtimer callback (hard interrupt context) touches no
 *   register: it counts an expiry in apic->timer_pending, which the vCPU
 *   thread turns into an IRR bit before it next looks for interrupts.
 * Each of them then kicks the vCPU: a wake-up if it is blocked (HLT, wait
 * for SIPI), an IPI if it is in guest mode.
 */
#ifndef HVX_LAPIC_H
#define HVX_LAPIC_H

#include <linux/hrtimer.h>
#include <linux/spinlock.h>
#include <asm/msr-index.h>

#include "hvx.h"
#include "lapic_regs.h"

/* apic->events */
enum { HVX_APIC_EV_INIT, HVX_APIC_EV_SIPI };

/*
 * A posted-interrupt descriptor in the architectural layout (SDM Vol 3
 * 29.6, Table 29-1): 256 posted-interrupt requests (PIR), then the
 * outstanding-notification bit (ON) at bit 256. Senders set a PIR bit,
 * then ON, then kick; the vCPU thread clears ON, then takes the PIR words
 * with atomic exchanges, as a CPU with posted-interrupt processing does
 * (29.6 steps 3-4). No CPU hvx runs on is pointed at it yet: hvx uses no
 * hardware posting (Documentation/architecture.md says why), so the vCPU
 * thread always does that sync itself, before each entry.
 */
#define HVX_PI_ON	0	/* bit of hvx_pi_desc.control */

struct hvx_pi_desc {
	unsigned long pir[256 / BITS_PER_LONG];
	unsigned long control;		/* ON; SN, NV and NDST unused */
	u32 rsvd[6];
} __aligned(64);

struct hvx_lapic {
	struct hvx_pi_desc pi;		/* interrupts from other threads */
	struct hvx_vcpu *vcpu;
	spinlock_t lock;		/* IRR, ISR, TMR and PPR of the page */
	void *regs;			/* the register page (lapic_regs.h) */

	struct hrtimer timer;
	atomic_t timer_pending;		/* expiries not yet in the IRR */
	bool periodic;			/* read by the timer callback */
	u64 period_ns;			/* one-shot/periodic: TMICT's length */
	u32 divisor;			/* TDCR's, as of the TMICT write */
	u64 tsc_deadline;		/* guest TSC; 0: not armed */
	/*
	 * LVTT's mode as hvx last handled it: with APIC-register
	 * virtualization the CPU has already stored the new LVTT when hvx
	 * hears of the write (an APIC-write exit).
	 */
	u32 timer_mode;

	unsigned long events;		/* HVX_APIC_EV_* from other threads */
	atomic_t nmis;			/* NMIs sent, not yet pending */
	u8 sipi_vector;
	u8 cr8_synced;			/* the CR8 last written to the backend */
};

static inline u32 reg_get(struct hvx_lapic *apic, unsigned int reg)
{
	return hvx_lapic_get(apic->regs, reg);
}

static inline void reg_set(struct hvx_lapic *apic, unsigned int reg, u32 val)
{
	hvx_lapic_set(apic->regs, reg, val);
}

static inline bool apic_x2apic(struct hvx_vcpu *vcpu)
{
	return vcpu->apic_base & X2APIC_ENABLE;
}

/* Globally enabled in IA32_APIC_BASE (11.4.3). */
static inline bool apic_hw_enabled(struct hvx_vcpu *vcpu)
{
	return vcpu->apic_base & MSR_IA32_APICBASE_ENABLE;
}

/* Software-enabled in the spurious-interrupt vector register (11.4.7.2). */
static inline bool apic_sw_enabled(struct hvx_lapic *apic)
{
	return reg_get(apic, APIC_SPIV) & APIC_SPIV_APIC_ENABLED;
}

/* lapic_timer.c */
u32 lapic_timer_mode(struct hvx_lapic *apic);
enum hrtimer_restart lapic_timer_fn(struct hrtimer *timer);
void lapic_timer_stop(struct hvx_lapic *apic);
void lapic_timer_start_count(struct hvx_lapic *apic);
u32 lapic_timer_current_count(struct hvx_lapic *apic);
void lapic_timer_set_deadline(struct hvx_lapic *apic, u64 deadline);
void lapic_timer_lvtt_written(struct hvx_lapic *apic, u32 old_mode);

/* lapic_bus.c */
int lapic_accept(struct hvx_vcpu *vcpu, u8 mode, u8 vector, bool level,
		 bool assert);
void lapic_send_ipi(struct hvx_vcpu *vcpu, u32 low, u32 high);

/* lapic.c */
void lapic_post(struct hvx_lapic *apic, u8 vector, bool level);
void lapic_sync_posted(struct hvx_vcpu *vcpu);
void lapic_init_reset(struct hvx_vcpu *vcpu);

#endif /* HVX_LAPIC_H */
