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

#endif /* HVX_COMPAT_H */
