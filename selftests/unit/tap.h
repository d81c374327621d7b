/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal TAP 13 producer for the unit tests: results are collected, then
 * printed with the plan first. A failing test carries "# " diagnostics.
 */
#ifndef HVX_UNIT_TAP_H
#define HVX_UNIT_TAP_H

#include <stdbool.h>
#include <stddef.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* A growing text buffer for diagnostics. */
struct diag {
	char s[2048];
	size_t n;
};

void diag_add(struct diag *d, const char *fmt, ...);

/* Record one test point; @d (may be NULL) is printed if !ok. */
void tap_result(bool ok, const struct diag *d, const char *fmt, ...);

/* Parse "48 8b 07" into @out; returns the byte count. */
unsigned int parse_hex(const char *hex, unsigned char *out, unsigned int max);

void test_decode(void);
void test_walk(void);
void test_ea(void);
void test_vmx_guest_check(void);
void test_lapic_regs(void);

#endif
