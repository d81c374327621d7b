// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_mmio_ea(): the memory operand's offset from decoded bytes and a
 * register file; hvx_decode_string_io(): segment and address size of
 * INS/OUTS from their prefixes. Each row is one instruction.
 */
#include "emulate.h"
#include "tap.h"

/*
 * Registers: rAX=0x1000, rCX=0x20, rDX=0x300, rBX=0x4000, rSP=0x50000,
 * rBP=0x600000, rSI=0x7, rDI=0x80, r8..r15 = 0x1_0000_0000 * (n - 7).
 */
static void ea_regs(u64 *r)
{
	static const u64 low[8] = { 0x1000, 0x20, 0x300, 0x4000, 0x50000,
				    0x600000, 0x7, 0x80 };
	int i;

	for (i = 0; i < 8; i++)
		r[i] = low[i];
	for (i = 8; i < 16; i++)
		r[i] = 0x100000000ull * (i - 7);
}

struct ea_case {
	enum hvx_cpu_mode mode;
	const char *hex;
	u64 rip;
	u64 want;
	const char *what;
};

static const struct ea_case ea_cases[] = {
	{ HVX_MODE_64, "8b 07", 0, 0x80, "[rdi]" },
	{ HVX_MODE_64, "89 43 10", 0, 0x4010, "[rbx+disp8]" },
	{ HVX_MODE_64, "89 43 f0", 0, 0x3ff0, "[rbx-disp8]" },
	{ HVX_MODE_64, "8b 84 8b 00 01 00 00", 0, 0x4000 + 0x20 * 4 + 0x100,
	  "[rbx+rcx*4+disp32]" },
	{ HVX_MODE_64, "8b 04 25 78 56 34 12", 0, 0x12345678, "SIB, no base: [disp32]" },
	{ HVX_MODE_64, "8b 04 24", 0, 0x50000, "[rsp]: SIB base 100, no index" },
	{ HVX_MODE_64, "42 8b 04 20", 0, 0x1000 + 0x500000000ull,
	  "REX.X: index 100 is r12" },
	{ HVX_MODE_64, "41 8b 00", 0, 0x100000000ull, "REX.B: [r8]" },
	{ HVX_MODE_64, "8b 05 10 00 00 00", 0x400000, 0x400016, "RIP-relative" },
	{ HVX_MODE_64, "c7 05 f0 ff ff ff 01 00 00 00", 0x400000, 0x400000 + 10 - 0x10,
	  "RIP-relative with an immediate after disp" },
	{ HVX_MODE_64, "67 8b 00", 0, 0x1000, "addr32: [eax]" },
	{ HVX_MODE_64, "67 8b 40 ff", 0, 0xfff, "addr32: [eax-1]" },
	{ HVX_MODE_64, "a1 88 77 66 55 44 33 22 11", 0, 0x1122334455667788ull,
	  "moffs64" },
	{ HVX_MODE_32, "8b 45 fc", 0, 0x5ffffc, "[ebp-4]" },
	{ HVX_MODE_32, "a3 00 00 00 c0", 0, 0xc0000000, "moffs32" },
	{ HVX_MODE_32, "8b 41 ff", 0, 0x1f, "[ecx-1]" },
	{ HVX_MODE_16, "8b 00", 0, 0x4007, "[bx+si]" },
	{ HVX_MODE_16, "8b 42 02", 0, 0x0009, "[bp+si+2] wraps at 64K" },
	{ HVX_MODE_16, "8b 06 34 12", 0, 0x1234, "[disp16]" },
	{ HVX_MODE_16, "8b 47 ff", 0, 0x3fff, "[bx-1]" },
	{ HVX_MODE_16, "67 8b 00", 0, 0x1000, "addr32 in 16-bit mode: [eax]" },
};

static void ea_tables(void)
{
	unsigned int i;
	u64 regs[HVX_NR_GPRS];

	ea_regs(regs);
	for (i = 0; i < ARRAY_SIZE(ea_cases); i++) {
		const struct ea_case *c = &ea_cases[i];
		struct hvx_mmio_insn insn;
		struct diag d = { .n = 0 };
		unsigned char b[16];
		unsigned int n = parse_hex(c->hex, b, sizeof(b));
		u64 got = 0;
		int rc = hvx_decode_mmio(b, n, c->mode, &insn);

		if (rc)
			diag_add(&d, "decode failed: %d\n", rc);
		else if ((got = hvx_mmio_ea(&insn, regs, c->rip)) != c->want)
			diag_add(&d, "ea: got %#llx, want %#llx\n",
				 (unsigned long long)got, (unsigned long long)c->want);
		tap_result(!d.n, &d, "ea %d: %-28s %s", c->mode * 8, c->hex, c->what);
	}
}

struct string_case {
	enum hvx_cpu_mode mode;
	const char *hex;
	int rc;
	u8 seg, addr_size;
	const char *what;
};

static const struct string_case string_cases[] = {
	{ HVX_MODE_64, "f3 6e", 0, HVX_SEG_DS, 8, "rep outsb" },
	{ HVX_MODE_64, "f3 67 6f", 0, HVX_SEG_DS, 4, "rep outsd, addr32" },
	{ HVX_MODE_64, "64 f3 6e", 0, HVX_SEG_FS, 8, "fs: rep outsb" },
	{ HVX_MODE_64, "26 6e", 0, HVX_SEG_DS, 8, "es: means nothing in 64-bit mode" },
	{ HVX_MODE_64, "f3 48 6c", 0, HVX_SEG_DS, 8, "REX before insb" },
	{ HVX_MODE_32, "f3 6e", 0, HVX_SEG_DS, 4, "rep outsb" },
	{ HVX_MODE_32, "2e 67 6f", 0, HVX_SEG_CS, 2, "cs: outsd, addr16" },
	{ HVX_MODE_16, "64 f3 6e", 0, HVX_SEG_FS, 2, "fs: rep outsb" },
	{ HVX_MODE_16, "36 66 6f", 0, HVX_SEG_SS, 2, "ss: outsd (66)" },
	{ HVX_MODE_16, "67 6c", 0, HVX_SEG_DS, 4, "addr32 insb" },
	{ HVX_MODE_64, "ee", -EINVAL, 0, 0, "out dx, al is not string I/O" },
	{ HVX_MODE_64, "f3 f3", -E2BIG, 0, 0, "prefixes only" },
};

static void string_tables(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(string_cases); i++) {
		const struct string_case *c = &string_cases[i];
		struct diag d = { .n = 0 };
		unsigned char b[16];
		unsigned int n = parse_hex(c->hex, b, sizeof(b));
		u8 seg = 0xff, asz = 0;
		int rc = hvx_decode_string_io(b, n, c->mode, &seg, &asz);

		if (rc != c->rc)
			diag_add(&d, "rc: got %d, want %d\n", rc, c->rc);
		else if (!rc && (seg != c->seg || asz != c->addr_size))
			diag_add(&d, "got seg %u asz %u, want seg %u asz %u\n",
				 seg, asz, c->seg, c->addr_size);
		tap_result(!d.n, &d, "string io %d: %-12s %s", c->mode * 8, c->hex, c->what);
	}
}

void test_ea(void)
{
	ea_tables();
	string_tables();
}
