/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What <linux/types.h> gives kernel code, for building module/emulate.c,
 * module/walk.c and module/vmx/vmx_guest_check.c as userspace unit tests.
 */
#ifndef HVX_UNIT_TYPES_H
#define HVX_UNIT_TYPES_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int64_t s64;

#define hweight32(w)	__builtin_popcount(w)

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#endif /* HVX_UNIT_TYPES_H */
