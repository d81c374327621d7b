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

#endif /* HVX_COMPAT_H */
