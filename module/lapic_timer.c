// SPDX-License-Identifier: GPL-2.0
/*
 * The local APIC timer (SDM Vol 3 11.5.4) on an hrtimer: one-shot and
 * periodic counts of TMICT bus ticks, and TSC-deadline mode. The
 * callback only counts expiries (lapic.h says why).
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <asm/tsc.h>

#include "lapic.h"

/* KVM's APIC bus runs at 1 GHz: one timer tick per divisor nanoseconds. */
#define HVX_APIC_BUS_NS		1
/* KVM's floor on a periodic timer, so that a guest cannot flood the host. */
#define HVX_APIC_MIN_PERIOD_NS	(200 * NSEC_PER_USEC)

u32 lapic_timer_mode(struct hvx_lapic *apic)
{
	return reg_get(apic, APIC_LVTT) & HVX_LVTT_MODE_MASK;
}

/* TDCR bits 0, 1 and 3 encode divide by 2, 4, ... 128, then 1 (11.5.4). */
static u32 tdcr_divisor(u32 tdcr)
{
	return 1u << ((((tdcr & 3) | ((tdcr & 8) >> 1)) + 1) & 7);
}

enum hrtimer_restart lapic_timer_fn(struct hrtimer *timer)
{
	struct hvx_lapic *apic = container_of(timer, struct hvx_lapic, timer);

	atomic_inc(&apic->timer_pending);
	hvx_vcpu_kick(apic->vcpu);
	if (READ_ONCE(apic->periodic)) {
		/*
		 * Periods the host was too busy to fire on are not caught up
		 * one by one: like a vector already set in the IRR, they
		 * coalesce into the one just counted.
		 */
		hrtimer_forward_now(timer, ns_to_ktime(apic->period_ns));
		return HRTIMER_RESTART;
	}
	return HRTIMER_NORESTART;
}

/* Stop the timer; the callback is not running when this returns. */
void lapic_timer_stop(struct hvx_lapic *apic)
{
	hrtimer_cancel(&apic->timer);
	atomic_set(&apic->timer_pending, 0);
}

static void timer_start_ns(struct hvx_lapic *apic, u64 ns)
{
	hrtimer_start(&apic->timer, ktime_add_ns(ktime_get(), ns),
		      HRTIMER_MODE_ABS_HARD);
}

/* A write to TMICT (re)starts the count; 0 stops it. */
void lapic_timer_start_count(struct hvx_lapic *apic)
{
	u32 count = reg_get(apic, APIC_TMICT);
	u32 mode = lapic_timer_mode(apic);

	lapic_timer_stop(apic);
	if (!count || mode == APIC_LVT_TIMER_TSCDEADLINE)
		return;
	apic->divisor = tdcr_divisor(reg_get(apic, APIC_TDCR));
	apic->period_ns = (u64)count * apic->divisor * HVX_APIC_BUS_NS;
	apic->periodic = mode == APIC_LVT_TIMER_PERIODIC;
	if (apic->periodic && apic->period_ns < HVX_APIC_MIN_PERIOD_NS)
		apic->period_ns = HVX_APIC_MIN_PERIOD_NS;
	timer_start_ns(apic, apic->period_ns);
}

/* The current count (TMCCT): what is left of the period, in ticks. */
u32 lapic_timer_current_count(struct hvx_lapic *apic)
{
	ktime_t left;

	if (lapic_timer_mode(apic) == APIC_LVT_TIMER_TSCDEADLINE ||
	    !reg_get(apic, APIC_TMICT) || !hrtimer_active(&apic->timer))
		return 0;
	left = hrtimer_get_remaining(&apic->timer);
	if (ktime_to_ns(left) <= 0)
		return 0;
	return div_u64(ktime_to_ns(left), apic->divisor * HVX_APIC_BUS_NS);
}

static u64 guest_tsc(struct hvx_vcpu *vcpu)
{
	return rdtsc() + vcpu->tsc_offset;
}

/* IA32_TSC_DEADLINE (11.5.4.1): fire when the guest's TSC reaches it. */
void lapic_timer_set_deadline(struct hvx_lapic *apic, u64 deadline)
{
	u64 now;

	lapic_timer_stop(apic);
	apic->periodic = false;
	apic->tsc_deadline = deadline;
	if (!deadline)
		return;
	now = guest_tsc(apic->vcpu);
	if (deadline <= now || !tsc_khz) {
		atomic_inc(&apic->timer_pending);
		return;
	}
	/* A deadline centuries away must not wrap ktime into the past. */
	timer_start_ns(apic, min_t(u64, mul_u64_u32_div(deadline - now, NSEC_PER_MSEC, tsc_khz),
				   KTIME_MAX / 2));
}

/*
 * An LVT timer write. Leaving or entering TSC-deadline mode disarms the
 * timer (as KVM does); between one-shot and periodic the count goes on.
 */
void lapic_timer_lvtt_written(struct hvx_lapic *apic, u32 old_mode)
{
	u32 mode = lapic_timer_mode(apic);
	bool deadline = mode == APIC_LVT_TIMER_TSCDEADLINE;
	bool was_deadline = old_mode == APIC_LVT_TIMER_TSCDEADLINE;

	apic->timer_mode = mode;
	if (deadline != was_deadline) {
		lapic_timer_stop(apic);
		reg_set(apic, APIC_TMICT, 0);
		apic->tsc_deadline = 0;
		return;
	}
	WRITE_ONCE(apic->periodic, mode == APIC_LVT_TIMER_PERIODIC);
}
