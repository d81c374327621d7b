/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels hvx builds on (6.1, 6.12, 7.x)
 * lives here, and nowhere else.
 */
#ifndef HVX_COMPAT_H
#define HVX_COMPAT_H

#include <linux/version.h>
#include <linux/eventfd.h>

/* 6.8 dropped eventfd_signal()'s count argument. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define hvx_eventfd_signal(ctx)	eventfd_signal(ctx)
#else
#define hvx_eventfd_signal(ctx)	eventfd_signal(ctx, 1)
#endif

/*
 * mmu_notifier_ops: hvx implements only release, invalidate_range_start and
 * invalidate_range_end, whose prototypes are the same on 6.1, 6.12 and 7.2,
 * so nothing needs wrapping today. The other callbacks differ: change_pte
 * is gone by 6.12, invalidate_range became arch_invalidate_secondary_tlbs,
 * and 7.2's clear_flush_young/clear_young/test_young return bool instead
 * of int. Whoever wires one of those up adds its shim here.
 */

/*
 * Host-state helpers for VMX. On 6.1 and 6.12 they are inlines over
 * symbols every GPL module gets; on 7.2 cr4_update_irqsoff() (behind
 * cr4_set_bits()), __tss_limit_invalid and the apic ops are exported to
 * the kvm modules only (shared/rig-notes.md), so that kernel needs other
 * answers here, and only here.
 */
#include <asm/apic.h>
#include <asm/desc.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

/* CR4.VMXE through the kernel's CR4 shadow, so it is never rewritten away. */
static inline void hvx_cr4_set_bits(unsigned long mask)
{
	cr4_set_bits(mask);
}

static inline void hvx_cr4_clear_bits(unsigned long mask)
{
	cr4_clear_bits(mask);
}

/* Have the kernel reload TR before it next needs the I/O bitmap. */
static inline void hvx_invalidate_tss_limit(void)
{
	invalidate_tss_limit();
}

static inline void hvx_load_gs_index(unsigned int selector)
{
	load_gs_index(selector);
}

/*
 * An NMI to this CPU, addressed to it by its APIC ID: the "self"
 * shorthand (apic->send_IPI_self()) allows only the fixed delivery mode
 * (SDM Vol 3 10.6.1, Table 10-3), and the x2APIC SELF IPI register only
 * a vector. Bochs, like the SDM, delivers no NMI for it.
 */
static inline void hvx_send_self_nmi(void)
{
	apic->send_IPI(smp_processor_id(), NMI_VECTOR);
}

/*
 * VM exit leaves DR7 at 0x400 and DR0-DR3 as the guest left them: put
 * the host's hardware breakpoints back (cpu_dr7 and hw_breakpoint_restore()
 * are exported to every GPL module on 6.1 and 6.12).
 */
#include <asm/debugreg.h>

static inline void hvx_restore_host_debugregs(void)
{
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
}

/*
 * A machine check that hit while a guest ran is intercepted, so that it
 * never goes through the guest's IDT, and handed to the host's handler as
 * if it had interrupted user mode, as KVM does. do_machine_check() is
 * exported to GPL modules on 6.1 and 6.12.
 */
#include <asm/mce.h>
#include <asm/ptrace.h>

static inline void hvx_machine_check(void)
{
#ifdef CONFIG_X86_MCE
	struct pt_regs regs = { .cs = 3, .flags = X86_EFLAGS_IF };

	do_machine_check(&regs);
#endif
}

/*
 * Kicking a vCPU out of guest mode on another CPU, from any context
 * (the APIC timer's callback runs in hard interrupt context, where
 * smp_call_function_single() may not be used): the reschedule IPI, as
 * KVM's kvm_vcpu_kick() sends. On 6.1 it is an inline over the exported
 * smp_ops.
 */
#include <linux/smp.h>

static inline void hvx_send_kick(int cpu)
{
	smp_send_reschedule(cpu);
}

/* 6.13 folded hrtimer_init() and the callback assignment into one call. */
#include <linux/hrtimer.h>

static inline void hvx_hrtimer_setup(struct hrtimer *timer,
				     enum hrtimer_restart (*fn)(struct hrtimer *),
				     clockid_t clock, enum hrtimer_mode mode)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 13, 0)
	hrtimer_setup(timer, fn, clock, mode);
#else
	hrtimer_init(timer, clock, mode);
	timer->function = fn;
#endif
}

/*
 * The crash path's virtualization callback (crash.c). It is not a
 * version question: Debian's 6.1 carries 6.6's
 * cpu_emergency_register_virt_callback(), kernel.org's 6.1 does not, and
 * 7.2 exports it to the kvm modules only. Kbuild looks for it in
 * <asm/reboot.h>; without it hvx holds no callback and a crash leaves
 * hvx's VMX on unless the kernel or kvm_intel turns it off.
 */
#ifdef HVX_HAVE_EMERGENCY_VIRT_CB
#include <asm/reboot.h>

static inline bool hvx_have_emergency_virt_cb(void)
{
	return true;
}

static inline void hvx_register_emergency_virt_cb(void (*cb)(void))
{
	cpu_emergency_register_virt_callback(cb);
}

static inline void hvx_unregister_emergency_virt_cb(void (*cb)(void))
{
	cpu_emergency_unregister_virt_callback(cb);
}
#else
static inline bool hvx_have_emergency_virt_cb(void)
{
	return false;
}

static inline void hvx_register_emergency_virt_cb(void (*cb)(void))
{
}

static inline void hvx_unregister_emergency_virt_cb(void (*cb)(void))
{
}
#endif

#endif /* HVX_COMPAT_H */
