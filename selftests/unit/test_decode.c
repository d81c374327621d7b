// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_decode_mmio(), hvx_mmio_store_value(), hvx_mmio_load_complete():
 * bytes in, exact decode out. Each row is one instruction.
 */
#include <stdlib.h>
#include <string.h>

#include "emulate.h"
#include "tap.h"

#define M16	HVX_MODE_16
#define M32	HVX_MODE_32
#define M64	HVX_MODE_64

#define RAX	HVX_RAX
#define RCX	HVX_RCX
#define RDX	HVX_RDX
#define RBX	HVX_RBX
#define RSI	HVX_RSI
#define RDI	HVX_RDI
#define R8	HVX_R8
#define R15	HVX_R15

#define ES	HVX_SEG_ES
#define CS	HVX_SEG_CS
#define SS	HVX_SEG_SS
#define DS	HVX_SEG_DS
#define FS	HVX_SEG_FS
#define GS	HVX_SEG_GS

/* Expected results: rc, then the decoded instruction. */
#define LD(l, sz, r, dst, sx, s)	{ 0, { .len = (l), .size = (sz), .src = HVX_SRC_NONE, \
	.reg = (r), .dst_size = (dst), .sign_extend = (sx), .seg = (s) } }
#define LDH(l, r, s)			{ 0, { .len = (l), .size = 1, .src = HVX_SRC_NONE, \
	.reg = (r), .high_byte = true, .dst_size = 1, .seg = (s) } }
#define ST(l, sz, r, s)			{ 0, { .len = (l), .size = (sz), .write = true, \
	.src = HVX_SRC_REG, .reg = (r), .seg = (s) } }
#define STH(l, r, s)			{ 0, { .len = (l), .size = 1, .write = true, \
	.src = HVX_SRC_REG, .reg = (r), .high_byte = true, .seg = (s) } }
#define STI(l, sz, v, s)		{ 0, { .len = (l), .size = (sz), .write = true, \
	.src = HVX_SRC_IMM, .imm = (v), .seg = (s) } }
#define ERR(e)				{ -(e), { 0 } }

struct decode_case {
	enum hvx_cpu_mode mode;
	const char *hex;
	struct {
		int rc;
		struct hvx_mmio_insn insn;
	} want;
	const char *what;
};

static const struct decode_case decode_cases[] = {
	/* What Linux's MMIO accessors compile to (x86-64). */
	{ M64, "8b 07", LD(2, 4, RAX, 4, 0, DS),		"readl: mov eax,[rdi]" },
	{ M64, "89 02", ST(2, 4, RAX, DS),			"writel: mov [rdx],eax" },
	{ M64, "48 8b 00", LD(3, 8, RAX, 8, 0, DS),		"readq: mov rax,[rax]" },
	{ M64, "48 89 10", ST(3, 8, RDX, DS),			"writeq: mov [rax],rdx" },
	{ M64, "66 89 10", ST(3, 2, RDX, DS),			"writew: mov [rax],dx" },
	{ M64, "66 8b 00", LD(3, 2, RAX, 2, 0, DS),		"readw: mov ax,[rax]" },
	{ M64, "0f b7 00", LD(3, 2, RAX, 4, 0, DS),		"readw: movzx eax,word [rax]" },
	{ M64, "0f b6 00", LD(3, 1, RAX, 4, 0, DS),		"readb: movzx eax,byte [rax]" },
	{ M64, "88 10", ST(2, 1, RDX, DS),			"writeb: mov [rax],dl" },
	{ M64, "8a 00", LD(2, 1, RAX, 1, 0, DS),		"readb: mov al,[rax]" },
	/* Byte registers: AH..BH only without REX (SDM Vol 2 2.2.1.2). */
	{ M64, "88 30", STH(2, RDX, DS),			"mov [rax],dh" },
	{ M64, "40 88 30", ST(3, 1, RSI, DS),			"REX: mov [rax],sil" },
	{ M64, "8a 27", LDH(2, RAX, DS),			"mov ah,[rdi]" },
	{ M64, "8a 3f", LDH(2, RBX, DS),			"mov bh,[rdi]" },
	{ M64, "44 88 3f", ST(3, 1, R15, DS),			"REX.R: mov [rdi],r15b" },
	/* REX.R/W, and REX.W over 66 (Vol 1 3.6.1). */
	{ M64, "44 8b 07", LD(3, 4, R8, 4, 0, DS),		"mov r8d,[rdi]" },
	{ M64, "4c 89 3f", ST(3, 8, R15, DS),			"mov [rdi],r15" },
	{ M64, "66 48 8b 00", LD(4, 8, RAX, 8, 0, DS),		"REX.W beats 66" },
	{ M64, "48 66 8b 00", LD(4, 2, RAX, 2, 0, DS),		"REX before 66 is ignored" },
	{ M64, "48 40 8b 07", LD(4, 4, RAX, 4, 0, DS),		"only the last REX counts" },
	/* ModRM/SIB forms, default segment SS for rSP/rBP bases. */
	{ M64, "8b 45 08", LD(3, 4, RAX, 4, 0, SS),		"mov eax,[rbp+8]: SS" },
	{ M64, "41 8b 45 08", LD(4, 4, RAX, 4, 0, DS),		"mov eax,[r13+8]: DS" },
	{ M64, "8b 04 24", LD(3, 4, RAX, 4, 0, SS),		"mov eax,[rsp]: SIB, SS" },
	{ M64, "8b 44 24 10", LD(4, 4, RAX, 4, 0, SS),		"mov eax,[rsp+0x10]" },
	{ M64, "41 8b 44 24 10", LD(5, 4, RAX, 4, 0, DS),	"mov eax,[r12+0x10]: DS" },
	{ M64, "8b 84 c8 00 01 00 00", LD(7, 4, RAX, 4, 0, DS),	"[rax+rcx*8+disp32]" },
	{ M64, "8b 44 8d 00", LD(4, 4, RAX, 4, 0, SS),		"[rbp+rcx*4+disp8]: SS" },
	{ M64, "8b 04 8d 00 10 00 00", LD(7, 4, RAX, 4, 0, DS),
	  "SIB base=101 mod=00: [rcx*4+disp32]" },
	{ M64, "8b 04 25 00 10 00 00", LD(7, 4, RAX, 4, 0, DS),	"SIB no base no index: [disp32]" },
	{ M64, "41 8b 04 25 00 10 00 00", LD(8, 4, RAX, 4, 0, DS),
	  "SIB base=101 mod=00 ignores REX.B" },
	{ M64, "8b 05 78 56 34 12", LD(6, 4, RAX, 4, 0, DS),	"RIP-relative" },
	{ M64, "41 8b 05 78 56 34 12", LD(7, 4, RAX, 4, 0, DS),	"RIP-relative ignores REX.B" },
	{ M64, "67 8b 05 78 56 34 12", LD(7, 4, RAX, 4, 0, DS),	"67: EIP-relative" },
	{ M64, "67 8b 07", LD(3, 4, RAX, 4, 0, DS),		"67: [edi], no 16-bit forms" },
	/* Segment overrides: only FS/GS count in 64-bit mode. */
	{ M64, "64 8b 07", LD(3, 4, RAX, 4, 0, FS),		"fs: override" },
	{ M64, "65 48 8b 04 25 28 00 00 00", LD(9, 8, RAX, 8, 0, GS), "mov rax,gs:[0x28]" },
	{ M64, "26 8b 07", LD(3, 4, RAX, 4, 0, DS),		"es: ignored" },
	{ M64, "3e 8b 45 00", LD(4, 4, RAX, 4, 0, SS),		"ds: ignored, [rbp] stays SS" },
	{ M64, "2e 26 64 65 8b 07", LD(6, 4, RAX, 4, 0, GS),	"last override wins" },
	{ M64, "64 48 8b 07", LD(4, 8, RAX, 8, 0, FS),		"override then REX" },
	/* Immediates (C6/C7 /0; C7 with REX.W sign-extends imm32). */
	{ M64, "c6 00 5a", STI(3, 1, 0x5a, DS),			"mov byte [rax],0x5a" },
	{ M64, "c7 00 78 56 34 12", STI(6, 4, 0x12345678, DS),	"mov dword [rax],imm32" },
	{ M64, "c7 00 00 00 00 80", STI(6, 4, 0x80000000, DS),	"imm32 not extended at size 4" },
	{ M64, "66 c7 00 34 12", STI(5, 2, 0x1234, DS),		"66: imm16" },
	{ M64, "48 c7 00 ff ff ff ff", STI(7, 8, 0xffffffffffffffff, DS),
	  "REX.W: imm32 sign-extended" },
	{ M64, "48 c7 00 00 00 00 80", STI(7, 8, 0xffffffff80000000, DS),
	  "REX.W: imm32 0x80000000" },
	{ M64, "c7 45 f8 01 00 00 00", STI(7, 4, 1, SS),	"mov dword [rbp-8],1" },
	{ M64, "c6 05 34 12 00 00 ff", STI(7, 1, 0xff, DS),	"RIP-relative, then imm8" },
	{ M64, "41 c7 84 24 00 01 00 00 ef be ad de", STI(12, 4, 0xdeadbeef, DS),
	  "[r12+disp32],imm32" },
	/* MOVZX/MOVSX/MOVSXD: size is the source, 66/REX.W the destination. */
	{ M64, "0f be 07", LD(3, 1, RAX, 4, 1, DS),		"movsx eax,byte [rdi]" },
	{ M64, "48 0f bf 07", LD(4, 2, RAX, 8, 1, DS),		"movsx rax,word [rdi]" },
	{ M64, "66 0f b6 07", LD(4, 1, RAX, 2, 0, DS),		"movzx ax,byte [rdi]" },
	{ M64, "66 0f b7 07", LD(4, 2, RAX, 2, 0, DS),		"movzx ax,word [rdi]" },
	{ M64, "4c 0f b6 07", LD(4, 1, R8, 8, 0, DS),		"movzx r8,byte [rdi]" },
	{ M64, "48 63 07", LD(3, 4, RAX, 8, 1, DS),		"movsxd rax,dword [rdi]" },
	{ M64, "63 07", LD(2, 4, RAX, 4, 1, DS),		"movsxd eax,[rdi] (no REX.W)" },
	{ M64, "66 63 07", LD(3, 2, RAX, 2, 1, DS),		"movsxd ax,[rdi]" },
	/* moffs: as wide as the address size. */
	{ M64, "a1 88 77 66 55 44 33 22 11", LD(9, 4, RAX, 4, 0, DS), "mov eax,[moffs64]" },
	{ M64, "48 a3 88 77 66 55 44 33 22 11", ST(10, 8, RAX, DS), "mov [moffs64],rax" },
	{ M64, "67 a0 44 33 22 11", LD(6, 1, RAX, 1, 0, DS),	"67: mov al,[moffs32]" },
	{ M64, "65 a2 88 77 66 55 44 33 22 11", ST(10, 1, RAX, GS), "mov gs:[moffs64],al" },
	{ M64, "66 a3 88 77 66 55 44 33 22 11", ST(10, 2, RAX, DS), "mov [moffs64],ax" },
	/* Harmless and harmful prefixes. */
	{ M64, "f3 89 07", ST(3, 4, RAX, DS),			"xrelease mov [rdi],eax" },
	{ M64, "f0 89 07", ERR(EINVAL),				"lock mov is #UD" },
	{ M64, "f3 0f b6 07", ERR(EINVAL),			"f3 in the 0F map" },
	/* Not ours. */
	{ M64, "8b c0", ERR(EINVAL),				"mov eax,eax: no memory" },
	{ M64, "c7 08 00 00 00 00", ERR(EINVAL),		"c7 /1" },
	{ M64, "c6 f8 00", ERR(EINVAL),				"xabort" },
	{ M64, "01 07", ERR(EINVAL),				"add [rdi],eax" },
	{ M64, "0f 10 07", ERR(EINVAL),				"movups" },
	{ M64, "c5 f9 6f 07", ERR(EINVAL),			"VEX vmovdqa" },
	{ M64, "a5", ERR(EINVAL),				"movs" },
	/* Length limits: 15 bytes (SDM Vol 2 2.3.11) and @avail. */
	{ M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 89 07", ST(15, 2, RAX, DS), "15 bytes" },
	{ M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 89 07", ERR(EINVAL), "16 bytes" },
	{ M64, "66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66", ERR(EINVAL), "17 prefixes" },
	{ M64, "", ERR(E2BIG),					"nothing fetched" },
	{ M64, "48", ERR(E2BIG),				"REX only" },
	{ M64, "c7 00 78 56", ERR(E2BIG),			"short immediate" },
	{ M64, "a1 88 77 66 55", ERR(E2BIG),			"short moffs64" },
	{ M64, "8b 04", ERR(E2BIG),				"missing SIB" },

	/* 32-bit protected mode. */
	{ M32, "8b 07", LD(2, 4, RAX, 4, 0, DS),		"mov eax,[edi]" },
	{ M32, "66 8b 07", LD(3, 2, RAX, 2, 0, DS),		"mov ax,[edi]" },
	{ M32, "8b 45 08", LD(3, 4, RAX, 4, 0, SS),		"mov eax,[ebp+8]" },
	{ M32, "8b 44 24 04", LD(4, 4, RAX, 4, 0, SS),		"mov eax,[esp+4]" },
	{ M32, "8b 05 00 10 00 00", LD(6, 4, RAX, 4, 0, DS),	"mov eax,[disp32]: absolute" },
	{ M32, "c7 05 b0 00 e0 fe 00 00 00 00", STI(10, 4, 0, DS),
	  "APIC EOI: mov dword [0xfee000b0],0" },
	{ M32, "a1 00 00 e0 fe", LD(5, 4, RAX, 4, 0, DS),	"mov eax,[moffs32]" },
	{ M32, "67 a1 34 12", LD(4, 4, RAX, 4, 0, DS),		"67: mov eax,[moffs16]" },
	{ M32, "67 8b 07", LD(3, 4, RAX, 4, 0, DS),		"67: mov eax,[bx]" },
	{ M32, "67 8b 46 08", LD(4, 4, RAX, 4, 0, SS),		"67: mov eax,[bp+8]" },
	{ M32, "67 8b 06 34 12", LD(5, 4, RAX, 4, 0, DS),	"67: mov eax,[disp16]" },
	{ M32, "26 89 07", ST(3, 4, RAX, ES),			"es: override" },
	{ M32, "2e 8b 07", LD(3, 4, RAX, 4, 0, CS),		"cs: override" },
	{ M32, "36 89 07", ST(3, 4, RAX, SS),			"ss: override" },
	{ M32, "3e 8b 45 00", LD(4, 4, RAX, 4, 0, DS),		"ds: overrides [ebp]'s SS" },
	{ M32, "64 8b 07", LD(3, 4, RAX, 4, 0, FS),		"fs: override" },
	{ M32, "88 27", STH(2, RAX, DS),			"mov [edi],ah" },
	{ M32, "0f b6 07", LD(3, 1, RAX, 4, 0, DS),		"movzx eax,byte [edi]" },
	{ M32, "66 0f be 07", LD(4, 1, RAX, 2, 1, DS),		"movsx ax,byte [edi]" },
	{ M32, "66 c7 07 34 12", STI(5, 2, 0x1234, DS),		"mov word [edi],0x1234" },
	{ M32, "48 8b 07", ERR(EINVAL),				"48 is dec eax" },
	{ M32, "63 07", ERR(EINVAL),				"63 is arpl" },

	/* 16-bit (real mode, vm86 or 16-bit protected mode). */
	{ M16, "8b 07", LD(2, 2, RAX, 2, 0, DS),		"mov ax,[bx]" },
	{ M16, "66 8b 07", LD(3, 4, RAX, 4, 0, DS),		"mov eax,[bx]" },
	{ M16, "8b 00", LD(2, 2, RAX, 2, 0, DS),		"mov ax,[bx+si]" },
	{ M16, "8b 02", LD(2, 2, RAX, 2, 0, SS),		"mov ax,[bp+si]" },
	{ M16, "8b 03", LD(2, 2, RAX, 2, 0, SS),		"mov ax,[bp+di]" },
	{ M16, "8b 46 fe", LD(3, 2, RAX, 2, 0, SS),		"mov ax,[bp-2]" },
	{ M16, "8b 86 00 01", LD(4, 2, RAX, 2, 0, SS),		"mov ax,[bp+0x100]" },
	{ M16, "8b 06 34 12", LD(4, 2, RAX, 2, 0, DS),		"mov ax,[0x1234]" },
	{ M16, "8b 87 34 12", LD(4, 2, RAX, 2, 0, DS),		"mov ax,[bx+0x1234]" },
	{ M16, "67 8b 07", LD(3, 2, RAX, 2, 0, DS),		"67: mov ax,[edi]" },
	{ M16, "67 8b 44 24 04", LD(5, 2, RAX, 2, 0, SS),	"67: mov ax,[esp+4]" },
	{ M16, "c7 06 34 12 cd ab", STI(6, 2, 0xabcd, DS),	"mov word [0x1234],0xabcd" },
	{ M16, "66 c7 06 34 12 78 56 34 12", STI(9, 4, 0x12345678, DS), "66: imm32" },
	{ M16, "a1 34 12", LD(3, 2, RAX, 2, 0, DS),		"mov ax,[moffs16]" },
	{ M16, "67 a3 78 56 34 12", ST(6, 2, RAX, DS),		"67: mov [moffs32],ax" },
	{ M16, "26 88 26 00 00", STH(5, RAX, ES),		"mov es:[0],ah" },
	{ M16, "0f b6 07", LD(3, 1, RAX, 2, 0, DS),		"movzx ax,byte [bx]" },
	{ M16, "66 0f bf 07", LD(4, 2, RAX, 4, 1, DS),		"movsx eax,word [bx]" },
	{ M16, "8b 04", LD(2, 2, RAX, 2, 0, DS),		"rm=100 is [si], no SIB" },
	{ 3, "8b 07", ERR(EINVAL),				"bad mode" },
};

static const char *mode_name(enum hvx_cpu_mode mode)
{
	return mode == M16 ? "16" : mode == M32 ? "32" : mode == M64 ? "64" : "??";
}

static void insn_diff(struct diag *d, const struct hvx_mmio_insn *got,
		      const struct hvx_mmio_insn *want)
{
	static const char *const names[] = {
		"len", "size", "write", "src", "reg", "high_byte", "dst_size",
		"sign_extend", "imm", "seg",
	};
	const unsigned long long g[] = {
		got->len, got->size, got->write, got->src, got->reg,
		got->high_byte, got->dst_size, got->sign_extend, got->imm, got->seg,
	};
	const unsigned long long w[] = {
		want->len, want->size, want->write, want->src, want->reg,
		want->high_byte, want->dst_size, want->sign_extend, want->imm, want->seg,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (g[i] != w[i])
			diag_add(d, "%s: got %#llx, want %#llx\n", names[i], g[i], w[i]);
}

/* Decode exactly @n bytes from the heap, so ASan sees any over-read. */
static int decode(const unsigned char *b, unsigned int n, enum hvx_cpu_mode mode,
		  struct hvx_mmio_insn *insn)
{
	unsigned char *copy = malloc(n ? n : 1);
	int rc;

	memcpy(copy, b, n);
	rc = hvx_decode_mmio(copy, n, mode, insn);
	free(copy);
	return rc;
}

static void decode_tables(void)
{
	unsigned int i, n, k, bad_trunc = 0, bad_tail = 0;
	struct diag dt = { .n = 0 }, dx = { .n = 0 };

	for (i = 0; i < ARRAY_SIZE(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];
		struct hvx_mmio_insn got, again;
		unsigned char b[32];
		struct diag d = { .n = 0 };
		int rc;

		n = parse_hex(c->hex, b, sizeof(b));
		rc = decode(b, n, c->mode, &got);
		if (rc != c->want.rc)
			diag_add(&d, "rc: got %d, want %d\n", rc, c->want.rc);
		else if (!rc)
			insn_diff(&d, &got, &c->want.insn);
		tap_result(!d.n, &d, "decode %s: %-24s %s", mode_name(c->mode),
			   c->hex, c->what);
		if (rc)
			continue;

		/* Every truncation is -E2BIG; trailing bytes change nothing. */
		for (k = 0; k < n; k++) {
			if (decode(b, k, c->mode, &again) != -E2BIG) {
				bad_trunc++;
				diag_add(&dt, "%s: %s cut to %u\n",
					 mode_name(c->mode), c->hex, k);
			}
		}
		memset(b + n, 0x90, sizeof(b) - n);
		if (decode(b, sizeof(b), c->mode, &again) || again.len != got.len) {
			bad_tail++;
			diag_add(&dx, "%s: %s\n", mode_name(c->mode), c->hex);
		}
	}
	tap_result(!bad_trunc, &dt, "decode: every truncation of a valid row is -E2BIG");
	tap_result(!bad_tail, &dx, "decode: trailing bytes do not change a valid row");
}

/* Register file before each completion: distinct bytes 0 and 1 per GPR. */
static void init_regs(u64 *regs)
{
	unsigned int i;

	for (i = 0; i < HVX_NR_GPRS; i++)
		regs[i] = 0xa0a1a2a3a4a50000ull | (0x10 + i) << 8 | i;
}

struct store_case {
	enum hvx_cpu_mode mode;
	const char *hex;
	u64 value;
	const char *what;
};

static const struct store_case store_cases[] = {
	{ M64, "88 17",		0x02,			"mov [rdi],dl" },
	{ M64, "88 37",		0x12,			"mov [rdi],dh" },
	{ M64, "88 3f",		0x13,			"mov [rdi],bh" },
	{ M64, "40 88 37",	0x06,			"mov [rdi],sil" },
	{ M64, "66 44 89 3f",	0x1f0f,			"mov [rdi],r15w" },
	{ M64, "89 0f",		0xa4a51101,		"mov [rdi],ecx" },
	{ M64, "48 89 0f",	0xa0a1a2a3a4a51101,	"mov [rdi],rcx" },
	{ M64, "c6 07 80",	0x80,			"mov byte [rdi],0x80" },
	{ M64, "48 c7 07 fe ff ff ff", 0xfffffffffffffffe, "mov qword [rdi],-2" },
	{ M64, "a2 00 00 00 00 00 00 00 00", 0x00,	"mov [moffs64],al" },
	{ M16, "89 17",		0x1202,			"mov [bx],dx" },
};

struct load_case {
	enum hvx_cpu_mode mode;
	const char *hex;
	u64 data;
	unsigned int reg;
	u64 result;
	const char *what;
};

static const struct load_case load_cases[] = {
	{ M64, "8a 07",		0xab,	RAX, 0xa0a1a2a3a4a510ab,	"mov al: merge" },
	{ M64, "8a 27",		0xab,	RAX, 0xa0a1a2a3a4a5ab00,	"mov ah: merge" },
	{ M64, "8a 3f",		0xab,	RBX, 0xa0a1a2a3a4a5ab03,	"mov bh: merge" },
	{ M64, "40 8a 3f",	0xab,	RDI, 0xa0a1a2a3a4a517ab,	"mov dil: merge" },
	{ M64, "66 8b 07",	0xabcd,	RAX, 0xa0a1a2a3a4a5abcd,	"mov ax: merge" },
	{ M64, "66 8b 07",	~0xedcbull, RAX, 0xa0a1a2a3a4a51234,	"mov ax: junk above 16" },
	{ M64, "8b 07",		0xdeadbeef, RAX, 0xdeadbeef,		"mov eax: zeroes 63:32" },
	{ M64, "48 8b 07",	0x1122334455667788, RAX, 0x1122334455667788, "mov rax" },
	{ M64, "44 8b 3f",	0x12345678, R15, 0x12345678,		"mov r15d" },
	{ M64, "0f b6 07",	0xff,	RAX, 0xff,			"movzx eax,byte" },
	{ M64, "66 0f b6 07",	0xff,	RAX, 0xa0a1a2a3a4a500ff,	"movzx ax,byte: merge" },
	{ M64, "48 0f b7 07",	0xffff,	RAX, 0xffff,			"movzx rax,word" },
	{ M64, "0f be 07",	0x80,	RAX, 0xffffff80,		"movsx eax,byte" },
	{ M64, "48 0f be 07",	0x80,	RAX, 0xffffffffffffff80,	"movsx rax,byte" },
	{ M64, "66 0f be 07",	0x80,	RAX, 0xa0a1a2a3a4a5ff80,	"movsx ax,byte: merge" },
	{ M64, "0f bf 07",	0x7fff,	RAX, 0x7fff,			"movsx eax,word: +ve" },
	{ M64, "48 63 07",	0x80000000, RAX, 0xffffffff80000000,	"movsxd rax" },
	{ M64, "63 07",		0x80000000, RAX, 0x80000000,		"movsxd eax: zero-ext" },
	{ M64, "a1 00 00 00 00 00 00 00 00", 0xcafef00d, RAX, 0xcafef00d, "mov eax,[moffs64]" },
	{ M32, "8b 07",		0xdeadbeef, RAX, 0xdeadbeef,		"mov eax" },
	{ M16, "8b 07",		0xbeef,	RAX, 0xa0a1a2a3a4a5beef,	"mov ax: merge" },
	{ M16, "66 0f bf 07",	0x8000,	RAX, 0xffff8000,		"movsx eax,word" },
};

static void completion_tables(void)
{
	struct hvx_mmio_insn insn;
	u64 regs[HVX_NR_GPRS], want[HVX_NR_GPRS];
	unsigned int i, r, n;
	unsigned char b[16];

	for (i = 0; i < ARRAY_SIZE(store_cases); i++) {
		const struct store_case *c = &store_cases[i];
		struct diag d = { .n = 0 };
		u64 v = 0;

		n = parse_hex(c->hex, b, sizeof(b));
		init_regs(regs);
		if (hvx_decode_mmio(b, n, c->mode, &insn) || !insn.write)
			diag_add(&d, "not decoded as a store\n");
		else
			v = hvx_mmio_store_value(&insn, regs);
		if (!d.n && v != c->value)
			diag_add(&d, "got %#llx, want %#llx\n", (unsigned long long)v,
				 (unsigned long long)c->value);
		tap_result(!d.n, &d, "store %s: %-24s %s: value %#llx", mode_name(c->mode),
			   c->hex, c->what, (unsigned long long)c->value);
	}

	for (i = 0; i < ARRAY_SIZE(load_cases); i++) {
		const struct load_case *c = &load_cases[i];
		struct diag d = { .n = 0 };

		n = parse_hex(c->hex, b, sizeof(b));
		init_regs(regs);
		init_regs(want);
		want[c->reg] = c->result;
		if (hvx_decode_mmio(b, n, c->mode, &insn) || insn.write)
			diag_add(&d, "not decoded as a load\n");
		else
			hvx_mmio_load_complete(&insn, regs, c->data);
		for (r = 0; !d.n && r < HVX_NR_GPRS; r++)
			if (regs[r] != want[r])
				diag_add(&d, "reg %u: got %#llx, want %#llx\n", r,
					 (unsigned long long)regs[r], (unsigned long long)want[r]);
		tap_result(!d.n, &d, "load %s: %-24s %s: data %#llx -> reg %u = %#llx",
			   mode_name(c->mode), c->hex, c->what, (unsigned long long)c->data,
			   c->reg, (unsigned long long)c->result);
	}

	/* A store's insn must leave registers alone on completion. */
	init_regs(regs);
	init_regs(want);
	n = parse_hex("89 07", b, sizeof(b));
	hvx_decode_mmio(b, n, M64, &insn);
	hvx_mmio_load_complete(&insn, regs, ~0ull);
	tap_result(!memcmp(regs, want, sizeof(regs)), NULL,
		   "load completion of a store changes nothing");
}

void test_decode(void)
{
	decode_tables();
	completion_tables();
}
