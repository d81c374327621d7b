/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Instruction decode for MMIO emulation and guest page-table walks.
 *
 * Pure code: no kernel services, so it also builds as a userspace unit
 * test (selftests/unit/). Include only <linux/types.h>-style integer types.
 */
#ifndef HVX_EMULATE_H
#define HVX_EMULATE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include "unit_types.h"	/* selftests/unit: the kernel's integer types */
#endif

#include "regs.h"

#define HVX_INSN_MAX	15

/* Code size the instruction runs in (CS.L / CS.D, SDM Vol 3 3.4.5). */
enum hvx_cpu_mode {
	HVX_MODE_16 = 2,
	HVX_MODE_32 = 4,
	HVX_MODE_64 = 8,
};

enum hvx_mmio_src {
	HVX_SRC_NONE,		/* a load: memory -> register */
	HVX_SRC_REG,		/* a store of a register */
	HVX_SRC_IMM,		/* a store of an immediate */
};

/* A decoded memory-operand instruction, as far as MMIO needs it. */
struct hvx_mmio_insn {
	u8 len;			/* total length in bytes */
	u8 size;		/* bytes read or written in memory: 1,2,4,8 */
	bool write;		/* memory is the destination */
	enum hvx_mmio_src src;
	u8 reg;			/* GPR index (HVX_RAX...) of the register operand */
	bool high_byte;		/* AH/CH/DH/BH (no REX, 8-bit): reg is RAX..RBX */
	u8 dst_size;		/* loads: register bytes written (MOVZX/MOVSX); 0 for stores */
	bool sign_extend;	/* loads: MOVSX/MOVSXD */
	u64 imm;		/* HVX_SRC_IMM: already sign-extended to size */
	u8 seg;			/* effective segment, HVX_SEG_* */
	/* The memory operand, to compute its offset (SDM Vol 2 2.1.5). */
	u8 addr_size;		/* 2, 4 or 8 */
	s8 ea_base;		/* GPR, or -1 */
	s8 ea_index;		/* GPR, or -1 */
	u8 ea_scale;		/* 1, 2, 4 or 8 */
	bool ea_rip;		/* RIP-relative: relative to the next instruction */
	u64 ea_disp;		/* displacement (sign-extended) or moffs */
};

/*
 * Decode the instruction at @bytes (@avail bytes fetched) that faulted on
 * a memory operand. Handles legacy prefixes (66, 67, segment overrides,
 * F2/F3 ignored where harmless), REX, ModRM/SIB/displacements including
 * RIP-relative, and these forms: MOV 88/89/8A/8B/C6/C7, MOVZX 0F B6/B7,
 * MOVSX 0F BE/BF, MOVSXD 63, MOV A0-A3 (moffs).
 * Returns 0, -EINVAL for anything else, -E2BIG if @avail ran out.
 */
int hvx_decode_mmio(const u8 *bytes, unsigned int avail, enum hvx_cpu_mode mode,
		    struct hvx_mmio_insn *insn);

/*
 * The memory operand's offset in its segment (before the segment base),
 * wrapped to the address size; @rip is the instruction's own address.
 */
u64 hvx_mmio_ea(const struct hvx_mmio_insn *insn, const u64 *regs, u64 rip);

/*
 * For INS/OUTS when the CPU did not report them: the effective segment of
 * the source (HVX_SEG_DS unless overridden; ES/CS/SS/DS overrides mean
 * nothing in 64-bit mode) and the address size from the legacy prefixes.
 * Returns 0, -EINVAL if this is not INS/OUTS, -E2BIG if @avail ran out.
 */
int hvx_decode_string_io(const u8 *bytes, unsigned int avail,
			 enum hvx_cpu_mode mode, u8 *seg, u8 *addr_size);

/* The value a store writes (register or immediate), truncated to size. */
u64 hvx_mmio_store_value(const struct hvx_mmio_insn *insn, const u64 *regs);

/*
 * Complete a load: put @data (insn->size bytes, little endian) into the
 * destination register with x86 rules (8/16-bit writes merge, 32-bit
 * writes zero the upper half, MOVZX/MOVSX extend).
 */
void hvx_mmio_load_complete(const struct hvx_mmio_insn *insn, u64 *regs,
			    u64 data);

/* Reads guest-physical memory for the walker; 0 or negative on failure. */
typedef int (*hvx_read_phys_fn)(void *ctx, u64 gpa, void *buf,
				unsigned int len);

/* Paging state the walker needs (SDM Vol 3 4.1, APM Vol 2 5.1). */
struct hvx_paging {
	u64 cr0;
	u64 cr3;
	u64 cr4;
	u64 efer;
	u8 phys_bits;		/* guest MAXPHYADDR for reserved-bit checks; 0: 52 */
};

/* #PF error code bits (SDM Vol 3 4.7). */
#define HVX_PFERR_PRESENT	0x01u	/* protection (or reserved-bit) fault */
#define HVX_PFERR_WRITE		0x02u
#define HVX_PFERR_USER		0x04u
#define HVX_PFERR_RSVD		0x08u
#define HVX_PFERR_FETCH		0x10u

#define HVX_WALK_WRITE	1u
#define HVX_WALK_USER	2u
#define HVX_WALK_FETCH	4u

/*
 * Translate linear address @gva. Handles paging off, 32-bit, PAE and
 * 4-level paging with 4K/2M/4M/1G pages and checks present/write/user/NX
 * per @access. Returns 0 with *gpa set, -EFAULT on a page fault (the
 * would-be #PF error code in *pf_error), or -EIO if a table could not be
 * read. Also handles 5-level paging (CR4.LA57) and SMEP; returns -EINVAL
 * for a non-canonical @gva (a #GP, not a #PF). Accessed/dirty bits are
 * never written.
 */
int hvx_walk_gva(const struct hvx_paging *pg, u64 gva, unsigned int access,
		 hvx_read_phys_fn read, void *ctx, u64 *gpa, u32 *pf_error);

#endif /* HVX_EMULATE_H */
