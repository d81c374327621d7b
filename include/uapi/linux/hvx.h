/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * hvx userspace API.
 *
 * /dev/hvx speaks the KVM API: every ioctl number and structure comes from
 * <linux/kvm.h> (KVM_GET_API_VERSION returns 12). This header holds only
 * what hvx adds to it; so far that is the device's name.
 */
#ifndef _UAPI_LINUX_HVX_H
#define _UAPI_LINUX_HVX_H

#include <linux/kvm.h>

#define HVX_DEVICE_PATH		"/dev/hvx"

#endif /* _UAPI_LINUX_HVX_H */
