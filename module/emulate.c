// SPDX-License-Identifier: GPL-2.0
/*
 * Decode of the x86 instructions that access MMIO, and the register side
 * of completing them.
 *
 * Only the MOV family is understood: it is what readb()..writeq() and
 * ordinary device-register code in 16-, 32- and 64-bit guests compile to.
 * The decoder works out length, access size, direction, the register or
 * immediate, the effective segment and the parts of the memory operand's
 * address: the fault gives only the page that faulted, while an access
 * that straddles two pages must be split at the right byte.
 *
 * References are to the Intel SDM Vol 2 (instruction format, ch. 2;
 * one-byte and two-byte opcode maps, appendix A) unless said otherwise.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#endif

#include "emulate.h"

#define REX_W	0x8
#define REX_R	0x4
#define REX_X	0x2
#define REX_B	0x1

struct decoder {
	const u8 *bytes;
	unsigned int avail;
	unsigned int pos;
	enum hvx_cpu_mode mode;
};

/*
 * Consume @n bytes. An instruction longer than 15 bytes raises #GP (SDM
 * Vol 2 2.3.11), so that is -EINVAL whatever follows; running out of
 * fetched bytes first is -E2BIG. Nothing at or past @avail is ever read.
 */
static int take(struct decoder *d, unsigned int n, u64 *val)
{
	u64 v = 0;
	unsigned int i;

	if (d->pos + n > HVX_INSN_MAX)
		return -EINVAL;
	if (d->pos + n > d->avail)
		return -E2BIG;
	for (i = 0; i < n; i++)
		v |= (u64)d->bytes[d->pos + i] << (8 * i);
	d->pos += n;
	*val = v;
	return 0;
}

static int take_byte(struct decoder *d, u8 *b)
{
	u64 v;
	int r = take(d, 1, &v);

	if (!r)
		*b = v;
	return r;
}

/* @v, @bytes wide, sign-extended to 64 bits. */
static u64 sext(u64 v, unsigned int bytes)
{
	u64 sign;

	if (bytes >= 8)
		return v;
	sign = 1ull << (8 * bytes - 1);
	v &= (sign << 1) - 1;
	return (v ^ sign) - sign;
}

static u64 trunc_to(u64 v, unsigned int bytes)
{
	if (bytes >= 8)
		return v;
	return v & ((1ull << (8 * bytes)) - 1);
}

/*
 * Decode the memory operand's ModRM tail (SIB, displacement) into @insn
 * and say whether its default segment is SS. @adsize is the address size
 * in bytes.
 */
static int decode_mem_operand(struct decoder *d, u8 modrm, u8 rex,
			      unsigned int adsize, bool *ss,
			      struct hvx_mmio_insn *insn)
{
	/* 16-bit forms (Table 2-1): rm -> base + index. */
	static const s8 base16[8] = { HVX_RBX, HVX_RBX, HVX_RBP, HVX_RBP,
				      HVX_RSI, HVX_RDI, HVX_RBP, HVX_RBX };
	static const s8 index16[8] = { HVX_RSI, HVX_RDI, HVX_RSI, HVX_RDI,
				       -1, -1, -1, -1 };
	unsigned int mod = modrm >> 6, rm = modrm & 7, disp = 0;
	u64 v;
	u8 sib;
	int r;

	*ss = false;
	insn->ea_base = -1;
	insn->ea_index = -1;
	insn->ea_scale = 1;
	/* mod == 11b names a register: no memory access to emulate. */
	if (mod == 3)
		return -EINVAL;

	if (adsize == 2) {
		/*
		 * No SIB; rm 2, 3 ([BP+SI], [BP+DI]) and 6 with mod != 00
		 * ([BP+disp]) default to SS; mod 00 rm 110 is a bare disp16.
		 */
		if (mod == 0 && rm == 6) {
			disp = 2;
		} else {
			disp = mod == 1 ? 1 : mod == 2 ? 2 : 0;
			insn->ea_base = base16[rm];
			insn->ea_index = index16[rm];
		}
		*ss = rm == 2 || rm == 3 || (rm == 6 && mod != 0);
	} else {
		/* 32/64-bit forms (Tables 2-2, 2-3; REX in 2.2.1.2, Table 2-5). */
		disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
		if (rm == 4) {
			/* rm 100 always means a SIB byte, even with REX.B (R12). */
			r = take_byte(d, &sib);
			if (r)
				return r;
			insn->ea_scale = 1 << (sib >> 6);
			/* Index 100 is "none"; with REX.X it is R12 (Table 2-3). */
			if (((sib >> 3) & 7) != 4 || (rex & REX_X))
				insn->ea_index = ((sib >> 3) & 7) | (rex & REX_X ? 8 : 0);
			if ((sib & 7) == 5 && mod == 0) {
				disp = 4;	/* no base, disp32, whatever REX.B says */
			} else {
				insn->ea_base = (sib & 7) | (rex & REX_B ? 8 : 0);
				*ss = insn->ea_base == HVX_RSP || insn->ea_base == HVX_RBP;
			}
		} else if (rm == 5 && mod == 0) {
			/*
			 * disp32: absolute in 16/32-bit mode, RIP-relative in
			 * 64-bit mode (2.2.1.6), also with REX.B and with a 67
			 * prefix. Either way the default segment is DS.
			 */
			disp = 4;
			insn->ea_rip = d->mode == HVX_MODE_64;
		} else {
			insn->ea_base = rm | (rex & REX_B ? 8 : 0);
			*ss = insn->ea_base == HVX_RBP;
		}
	}
	if (!disp)
		return 0;
	r = take(d, disp, &v);
	if (r)
		return r;
	insn->ea_disp = sext(v, disp);
	return 0;
}

/* The segment an override prefix selects (2.1.1, group 2), or -1. */
static int seg_override(u8 op)
{
	static const u8 prefix[] = {
		[HVX_SEG_ES] = 0x26, [HVX_SEG_CS] = 0x2e, [HVX_SEG_SS] = 0x36,
		[HVX_SEG_DS] = 0x3e, [HVX_SEG_FS] = 0x64, [HVX_SEG_GS] = 0x65,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prefix); i++)
		if (prefix[i] == op)
			return i;
	return -1;
}

int hvx_decode_mmio(const u8 *bytes, unsigned int avail, enum hvx_cpu_mode mode,
		    struct hvx_mmio_insn *insn)
{
	struct decoder d = { .bytes = bytes, .avail = avail, .mode = mode };
	bool opsize_prefix = false, adsize_prefix = false, rep = false;
	bool two_byte = false, ss = false;
	unsigned int opsize, adsize, reg_field;
	u8 op, modrm, rex = 0;
	int seg = -1, r;
	u64 imm;

	*insn = (struct hvx_mmio_insn){ .src = HVX_SRC_NONE };
	if (mode != HVX_MODE_16 && mode != HVX_MODE_32 && mode != HVX_MODE_64)
		return -EINVAL;

	/*
	 * Legacy prefixes in any order (2.1.1), then REX in 64-bit mode. A REX
	 * not immediately before the opcode is ignored (2.2.1), hence rex = 0
	 * on every legacy prefix. Of several segment overrides the last wins.
	 */
	for (;;) {
		r = take_byte(&d, &op);
		if (r)
			return r;
		switch (op) {
		case 0x66:
			opsize_prefix = true;
			break;
		case 0x67:
			adsize_prefix = true;
			break;
		case 0xf2:
		case 0xf3:
			/* REP/XACQUIRE/XRELEASE: no effect on a one-byte MOV. */
			rep = true;
			break;
		case 0xf0:
			/* LOCK MOV is #UD. */
			return -EINVAL;
		default:
			if (seg_override(op) >= 0) {
				seg = seg_override(op);
				break;
			}
			/* 40-4F are INC/DEC outside 64-bit mode. */
			if (mode == HVX_MODE_64 && (op & 0xf0) == 0x40) {
				rex = op;
				continue;
			}
			goto opcode;
		}
		rex = 0;
	}

opcode:
	/*
	 * Operand size (2.2.1.2, Vol 1 3.6.1): REX.W wins over 66; 66 toggles
	 * the 16/32-bit default. Address size: 67 toggles 16/32 outside
	 * 64-bit mode and selects 32 in it (no 16-bit addressing there).
	 */
	if (mode == HVX_MODE_64)
		opsize = rex & REX_W ? 8 : opsize_prefix ? 2 : 4;
	else if (mode == HVX_MODE_32)
		opsize = opsize_prefix ? 2 : 4;
	else
		opsize = opsize_prefix ? 4 : 2;
	if (mode == HVX_MODE_64)
		adsize = adsize_prefix ? 4 : 8;
	else if (mode == HVX_MODE_32)
		adsize = adsize_prefix ? 2 : 4;
	else
		adsize = adsize_prefix ? 4 : 2;

	if (op == 0x0f) {
		/*
		 * F2/F3 select other instructions in the 0F map (POPCNT,
		 * TZCNT, ...): refuse them rather than guess.
		 */
		if (rep)
			return -EINVAL;
		r = take_byte(&d, &op);
		if (r)
			return r;
		two_byte = true;
	}

	insn->reg = HVX_RAX;
	if (!two_byte && op >= 0xa0 && op <= 0xa3) {
		/*
		 * MOV AL/rAX <-> moffs (Table A-2): no ModRM, the offset is
		 * as wide as the address size (8 bytes in 64-bit mode unless
		 * 67), the segment is DS unless overridden. REX.B is ignored.
		 */
		insn->size = op & 1 ? opsize : 1;
		insn->write = op & 2;
		insn->src = insn->write ? HVX_SRC_REG : HVX_SRC_NONE;
		insn->ea_base = -1;
		insn->ea_index = -1;
		insn->ea_scale = 1;
		r = take(&d, adsize, &insn->ea_disp);
		if (r)
			return r;
		goto done;
	}

	if (two_byte) {
		switch (op) {
		case 0xb6:	/* MOVZX Gv, Eb */
		case 0xb7:	/* MOVZX Gv, Ew */
		case 0xbe:	/* MOVSX Gv, Eb */
		case 0xbf:	/* MOVSX Gv, Ew */
			break;
		default:
			return -EINVAL;
		}
	} else {
		switch (op) {
		case 0x88:	/* MOV Eb, Gb */
		case 0x89:	/* MOV Ev, Gv */
		case 0x8a:	/* MOV Gb, Eb */
		case 0x8b:	/* MOV Gv, Ev */
		case 0xc6:	/* MOV Eb, Ib (Grp 11) */
		case 0xc7:	/* MOV Ev, Iz (Grp 11) */
			break;
		case 0x63:	/* MOVSXD Gv, Ed; ARPL outside 64-bit mode */
			if (mode != HVX_MODE_64)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}

	r = take_byte(&d, &modrm);
	if (r)
		return r;
	reg_field = ((modrm >> 3) & 7) | (rex & REX_R ? 8 : 0);
	r = decode_mem_operand(&d, modrm, rex, adsize, &ss, insn);
	if (r)
		return r;

	if (two_byte) {
		/*
		 * MOVZX/MOVSX read a byte (B6, BE) or a word (B7, BF) and
		 * write a register of the operand size, so 66 (or REX.W)
		 * changes only the destination.
		 */
		insn->size = op & 1 ? 2 : 1;
		insn->dst_size = opsize;
		insn->sign_extend = op >= 0xbe;
		insn->reg = reg_field;
		goto done;
	}

	switch (op) {
	case 0x63:
		/*
		 * MOVSXD: with REX.W a dword is sign-extended to 64 bits;
		 * without it the operand size applies to both sides (a plain
		 * move; 32-bit destinations zero-extend as usual).
		 */
		insn->size = rex & REX_W ? 4 : opsize;
		insn->dst_size = opsize;
		insn->sign_extend = true;
		insn->reg = reg_field;
		break;
	case 0x88:
	case 0x89:
	case 0x8a:
	case 0x8b:
		insn->size = op & 1 ? opsize : 1;
		insn->write = !(op & 2);
		insn->src = insn->write ? HVX_SRC_REG : HVX_SRC_NONE;
		/*
		 * Byte registers 4-7 are AH, CH, DH, BH without any REX and
		 * SPL, BPL, SIL, DIL with one (2.2.1.2, Table 3-1 of Vol 1).
		 */
		if (insn->size == 1 && !rex && reg_field >= 4) {
			insn->high_byte = true;
			reg_field -= 4;
		}
		insn->reg = reg_field;
		break;
	case 0xc6:
	case 0xc7:
		/* Grp 11: only /0 is MOV (C6 F8, C7 F8 are XABORT/XBEGIN). */
		if (reg_field & 7)
			return -EINVAL;
		insn->size = op & 1 ? opsize : 1;
		insn->write = true;
		insn->src = HVX_SRC_IMM;
		/* Iz: imm16 for a 16-bit operand, else imm32 (sign-extended). */
		r = take(&d, insn->size == 2 ? 2 : insn->size == 1 ? 1 : 4, &imm);
		if (r)
			return r;
		insn->imm = insn->size == 8 ? sext(imm, 4) : imm;
		break;
	}

done:
	if (!insn->write && insn->src == HVX_SRC_NONE && !insn->dst_size)
		insn->dst_size = insn->size;
	/*
	 * In 64-bit mode ES/CS/SS/DS overrides are ignored (Vol 1 3.3.7.1);
	 * the default is SS for rSP/rBP-based forms, else DS (Vol 1 3.7.4.1).
	 */
	if (seg >= 0 && (mode != HVX_MODE_64 || seg == HVX_SEG_FS || seg == HVX_SEG_GS))
		insn->seg = seg;
	else
		insn->seg = ss ? HVX_SEG_SS : HVX_SEG_DS;
	insn->addr_size = adsize;
	insn->len = d.pos;
	return 0;
}

u64 hvx_mmio_ea(const struct hvx_mmio_insn *insn, const u64 *regs, u64 rip)
{
	u64 ea = insn->ea_disp;

	if (insn->ea_base >= 0)
		ea += regs[insn->ea_base];
	if (insn->ea_index >= 0)
		ea += regs[insn->ea_index] * insn->ea_scale;
	if (insn->ea_rip)
		ea += rip + insn->len;
	/* Address computation wraps at the address size (Vol 1 3.3.7). */
	return trunc_to(ea, insn->addr_size);
}

int hvx_decode_string_io(const u8 *bytes, unsigned int avail,
			 enum hvx_cpu_mode mode, u8 *seg, u8 *addr_size)
{
	struct decoder d = { .bytes = bytes, .avail = avail, .mode = mode };
	bool adsize_prefix = false;
	int s = HVX_SEG_DS, r;
	u8 op;

	for (;;) {
		r = take_byte(&d, &op);
		if (r)
			return r;
		if (seg_override(op) >= 0)
			s = seg_override(op);
		else if (op == 0x67)
			adsize_prefix = true;
		else if (op != 0x66 && op != 0xf2 && op != 0xf3 &&
			 !(mode == HVX_MODE_64 && (op & 0xf0) == 0x40))
			break;	/* REX changes nothing for INS/OUTS */
	}
	/* INSB/INSW/INSD, OUTSB/OUTSW/OUTSD: 6C-6F. */
	if (op < 0x6c || op > 0x6f)
		return -EINVAL;
	if (mode == HVX_MODE_64) {
		*addr_size = adsize_prefix ? 4 : 8;
		if (s != HVX_SEG_FS && s != HVX_SEG_GS)
			s = HVX_SEG_DS;
	} else if (mode == HVX_MODE_32) {
		*addr_size = adsize_prefix ? 2 : 4;
	} else {
		*addr_size = adsize_prefix ? 4 : 2;
	}
	*seg = s;
	return 0;
}

u64 hvx_mmio_store_value(const struct hvx_mmio_insn *insn, const u64 *regs)
{
	u64 v;

	switch (insn->src) {
	case HVX_SRC_REG:
		v = regs[insn->reg % HVX_NR_GPRS];
		if (insn->high_byte)
			v >>= 8;
		break;
	case HVX_SRC_IMM:
		v = insn->imm;
		break;
	default:
		return 0;
	}
	return trunc_to(v, insn->size);
}

void hvx_mmio_load_complete(const struct hvx_mmio_insn *insn, u64 *regs,
			    u64 data)
{
	unsigned int dst = insn->dst_size ? insn->dst_size : insn->size;
	u64 *r = &regs[insn->reg % HVX_NR_GPRS];
	u64 v;

	if (insn->write)
		return;
	v = insn->sign_extend ? sext(data, insn->size) : trunc_to(data, insn->size);

	/*
	 * 8- and 16-bit destinations merge into the register, 32-bit ones
	 * zero bits 63:32 (Vol 1 3.4.1.1).
	 */
	switch (dst) {
	case 1:
		if (insn->high_byte)
			*r = (*r & ~0xff00ull) | ((v & 0xff) << 8);
		else
			*r = (*r & ~0xffull) | (v & 0xff);
		break;
	case 2:
		*r = (*r & ~0xffffull) | (v & 0xffff);
		break;
	case 4:
		*r = (u32)v;
		break;
	default:
		*r = v;
		break;
	}
}
