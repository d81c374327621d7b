/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest GPR indices, in the x86 encoding order (the ModRM reg numbers),
 * shared by C, the entry stubs (assembly) and the userspace unit tests.
 */
#ifndef HVX_REGS_H
#define HVX_REGS_H

#define HVX_RAX		0
#define HVX_RCX		1
#define HVX_RDX		2
#define HVX_RBX		3
#define HVX_RSP		4
#define HVX_RBP		5
#define HVX_RSI		6
#define HVX_RDI		7
#define HVX_R8		8
#define HVX_R9		9
#define HVX_R10		10
#define HVX_R11		11
#define HVX_R12		12
#define HVX_R13		13
#define HVX_R14		14
#define HVX_R15		15
#define HVX_NR_GPRS	16

/* Segment registers in the x86 encoding order (sreg field of ModRM). */
#define HVX_SEG_ES	0
#define HVX_SEG_CS	1
#define HVX_SEG_SS	2
#define HVX_SEG_DS	3
#define HVX_SEG_FS	4
#define HVX_SEG_GS	5
#define HVX_SEG_TR	6
#define HVX_SEG_LDTR	7
/* The backend could not tell (no decode assists): the core decodes it. */
#define HVX_SEG_UNKNOWN	0xff

#endif /* HVX_REGS_H */
