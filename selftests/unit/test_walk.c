// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_walk_gva(): page tables built in a fake guest-physical memory, one
 * set per paging mode; each row is one access and its exact outcome.
 */
#include <stdio.h>
#include <string.h>

#include "emulate.h"
#include "tap.h"

#define CR0_PE		0x1ull
#define CR0_WP		0x10000ull
#define CR0_PG		0x80000000ull
#define CR4_PSE		0x10ull
#define CR4_PAE		0x20ull
#define CR4_LA57	0x1000ull
#define CR4_SMEP	0x100000ull
#define EFER_LME	0x100ull
#define EFER_LMA	0x400ull
#define EFER_NXE	0x800ull

/* Entry bits. */
#define PTE_P		0x1ull
#define PTE_RW		0x2ull
#define PTE_US		0x4ull
#define PTE_PS		0x80ull
#define PTE_PAT4K	0x80ull		/* bit 7 of a 4K PTE */
#define PTE_PATBIG	0x1000ull	/* bit 12 of a 2M/4M/1G entry */
#define PTE_XD		0x8000000000000000ull
#define PTE_URW		(PTE_P | PTE_RW | PTE_US)

/* Accesses: supervisor or user read, write, fetch. */
#define RD	0u
#define WR	HVX_WALK_WRITE
#define FE	HVX_WALK_FETCH
#define URD	HVX_WALK_USER
#define UWR	(HVX_WALK_USER | HVX_WALK_WRITE)
#define UFE	(HVX_WALK_USER | HVX_WALK_FETCH)

/* #PF error code bits. */
#define P	HVX_PFERR_PRESENT
#define W	HVX_PFERR_WRITE
#define U	HVX_PFERR_USER
#define RSVD	HVX_PFERR_RSVD
#define I	HVX_PFERR_FETCH

static unsigned char mem[0x10000];

static int read_phys(void *ctx, u64 gpa, void *buf, unsigned int len)
{
	(void)ctx;
	if (gpa >= sizeof(mem) || len > sizeof(mem) - gpa)
		return -EFAULT;
	memcpy(buf, mem + gpa, len);
	return 0;
}

static void set64(u64 table, unsigned int index, u64 entry)
{
	memcpy(mem + table + 8 * index, &entry, 8);
}

static void set32(u64 table, unsigned int index, u32 entry)
{
	memcpy(mem + table + 4 * index, &entry, 4);
}

enum scenario { NOPG, P32, PAE, L4, L5 };

/* Tweaks of a scenario's control registers. */
#define NOWP	0x01u	/* CR0.WP = 0 */
#define SMEP	0x02u	/* CR4.SMEP = 1 */
#define NONXE	0x04u	/* EFER.NXE = 0 */
#define NOPSE	0x08u	/* CR4.PSE = 0 */
#define MAXPA40	0x10u	/* MAXPHYADDR 40 */
#define MAXPA36	0x20u	/* MAXPHYADDR 36 */
#define NXE	0x40u	/* EFER.NXE = 1 */

static void build_p32(struct hvx_paging *pg)
{
	/* PD at 0x1000 (CR3 carries PCD|PWT), PT at 0x2000. */
	pg->cr3 = 0x1018;
	pg->cr4 = CR4_PSE;
	set32(0x1000, 0, 0x2000 | PTE_URW);
	set32(0x1000, 1, 0x00c00000 | PTE_PS | PTE_URW);	/* 4M */
	set32(0x1000, 2, 0x00400000 | 0x12 << 13 | PTE_PS | PTE_URW);	/* PSE-36 */
	set32(0x1000, 3, 0x00c00000 | 1 << 21 | PTE_PS | PTE_URW);	/* rsvd */
	set32(0x1000, 4, 0x2000 | PTE_P | PTE_RW);		/* sup PT */
	set32(0x1000, 5, 0x01000000 | PTE_PATBIG | PTE_PS | PTE_P);	/* sup RO 4M */
	set32(0x2000, 1, 0x00345000 | PTE_URW);
	set32(0x2000, 2, 0x00678000 | PTE_P | PTE_US);		/* user RO */
}

static void build_pae(struct hvx_paging *pg)
{
	/* PDPT at 0x1020 (32-byte aligned), PDs at 0x3000/0x5000. */
	pg->cr3 = 0x1020;
	pg->cr4 = CR4_PAE;
	pg->efer = EFER_NXE;
	set64(0x1020, 0, 0x3000 | PTE_P);
	set64(0x1020, 2, 0x3000 | PTE_P | PTE_RW);		/* R/W rsvd here */
	set64(0x1020, 3, 0x5000 | PTE_P | 0x20);		/* A, as AMD CPUs set it */
	set64(0x3000, 0, 0x4000 | PTE_URW);
	set64(0x3000, 1, 0x00a00000 | PTE_PS | PTE_URW);	/* 2M */
	set64(0x3000, 2, 0x00c00000 | 1ull << 62 | PTE_PS | PTE_URW);
	set64(0x3000, 3, 0x00e00000 | PTE_XD | PTE_PS | PTE_P | PTE_RW);	/* sup NX 2M */
	set64(0x4000, 1, 0x12345000 | PTE_URW);
	set64(0x4000, 2, 0x7000 | PTE_P);			/* sup RO */
	set64(0x4000, 3, 0x800000000ull | PTE_URW);		/* above 4G */
	set64(0x5000, 511, 0x6000 | PTE_P | PTE_RW);
	set64(0x6000, 511, 0xfeedf000 | PTE_P | PTE_RW);
}

static void build_l4(struct hvx_paging *pg)
{
	/* PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000. */
	pg->cr3 = 0x1000;
	pg->cr4 = CR4_PAE;
	pg->efer = EFER_LME | EFER_LMA | EFER_NXE;
	set64(0x1000, 0, 0x2000 | PTE_URW);
	set64(0x1000, 1, 0x2000 | PTE_PS | PTE_URW);		/* PS rsvd */
	set64(0x1000, 2, 0x2000 | PTE_P | PTE_RW);		/* sup only */
	set64(0x1000, 3, 0x2000 | PTE_XD | PTE_URW);		/* NX */
	set64(0x1000, 511, 0x2000 | PTE_P | PTE_RW);
	set64(0x2000, 0, 0x3000 | PTE_URW);
	set64(0x2000, 1, 0x80000000 | PTE_PS | PTE_URW);	/* 1G */
	set64(0x2000, 2, 0xc0000000 | 1 << 13 | PTE_PS | PTE_URW);
	set64(0x2000, 3, 0x100000000ull | PTE_URW);		/* PD not in RAM */
	set64(0x3000, 0, 0x4000 | PTE_URW);
	set64(0x3000, 1, 0x40000000 | PTE_PS | PTE_URW);	/* 2M */
	set64(0x3000, 2, 0x40200000 | 1 << 20 | PTE_PS | PTE_URW);
	set64(0x3000, 3, 0x40600000 | PTE_PATBIG | PTE_PS | PTE_URW);
	set64(0x4000, 1, 0x123000 | PTE_URW);
	set64(0x4000, 2, 0x456000 | PTE_P);			/* sup RO */
	set64(0x4000, 3, 0x789000 | PTE_P | PTE_RW);		/* sup RW */
	set64(0x4000, 4, 0x9000 | PTE_XD | PTE_P | PTE_US);	/* user RO NX */
	set64(0x4000, 6, 0x200000006000ull | PTE_URW);		/* bit 45 */
	set64(0x4000, 7, 0x07f0000000007000ull | PTE_PAT4K | PTE_URW);
}

static void build(enum scenario s, unsigned int tweaks, struct hvx_paging *pg)
{
	memset(mem, 0, sizeof(mem));
	*pg = (struct hvx_paging){ .cr0 = CR0_PE | CR0_PG | CR0_WP };
	switch (s) {
	case NOPG:
		pg->cr0 = CR0_PE;
		break;
	case P32:
		build_p32(pg);
		break;
	case PAE:
		build_pae(pg);
		break;
	case L4:
		build_l4(pg);
		break;
	case L5:
		/* The 4-level tables under a PML5 at 0x8000. */
		build_l4(pg);
		pg->cr3 = 0x8000;
		pg->cr4 |= CR4_LA57;
		set64(0x8000, 0, 0x1000 | PTE_URW);
		break;
	}
	if (tweaks & NOWP)
		pg->cr0 &= ~CR0_WP;
	if (tweaks & SMEP)
		pg->cr4 |= CR4_SMEP;
	if (tweaks & NONXE)
		pg->efer &= ~EFER_NXE;
	if (tweaks & NOPSE)
		pg->cr4 &= ~CR4_PSE;
	if (tweaks & MAXPA40)
		pg->phys_bits = 40;
	if (tweaks & MAXPA36)
		pg->phys_bits = 36;
	if (tweaks & NXE)
		pg->efer |= EFER_NXE;
}

/* Expected outcomes: translated, #PF with this error code, other error. */
#define OK(gpa)		{ 0, (gpa), 0 }
#define FAULT(err)	{ -EFAULT, 0, (err) }
#define FAIL(e)		{ -(e), 0, 0 }

struct walk_case {
	enum scenario s;
	unsigned int tweaks;
	u64 gva;
	unsigned int access;
	struct {
		int rc;
		u64 gpa;
		u32 err;
	} want;
	const char *what;
};

static const struct walk_case walk_cases[] = {
	{ NOPG, 0, 0x12345678, UWR | FE, OK(0x12345678), "paging off: identity" },
	{ NOPG, 0, 0x100001000, RD, OK(0x1000),		"paging off: 32-bit linear" },

	{ P32, 0, 0x1abc, URD, OK(0x345abc),		"4K page" },
	{ P32, 0, 0x512345, UWR, OK(0xd12345),		"4M page" },
	{ P32, 0, 0x812345, RD, OK(0x1200412345),	"4M page, PSE-36 bits 39:32" },
	{ P32, MAXPA36, 0x812345, RD, FAULT(P | RSVD),	"PSE-36: bit 17 rsvd at MAXPHYADDR 36" },
	{ P32, 0, 0xc00000, RD, FAULT(P | RSVD),	"4M page: bit 21 rsvd" },
	{ P32, NOPSE, 0x512345, RD, FAIL(EIO), "CR4.PSE=0: PS ignored, PT at 12M unreadable" },
	{ P32, 0, 0x2000, UWR, FAULT(P | W | U),	"user write, RO page" },
	{ P32, 0, 0x2000, WR, FAULT(P | W),		"sup write, RO page, CR0.WP=1" },
	{ P32, NOWP, 0x2004, WR, OK(0x678004),		"sup write, RO page, CR0.WP=0" },
	{ P32, 0, 0x1001000, URD, FAULT(P | U),		"user read, U/S=0 in PDE only" },
	{ P32, 0, 0x1001000, WR, OK(0x345000),		"sup write, U/S=0 in PDE" },
	{ P32, 0, 0x1412345, URD, FAULT(P | U),		"user read, sup 4M page" },
	{ P32, 0, 0x1412345, RD, OK(0x1012345),		"4M page: PAT bit 12 not address" },
	{ P32, 0, 0x3000, RD, FAULT(0),			"PTE not present" },
	{ P32, 0, 0x3000, FE, FAULT(0),			"fetch, not present: no I/D without NX" },
	{ P32, NXE, 0x3000, FE, FAULT(0), "fetch, not present: EFER.NXE alone, no I/D" },
	{ P32, 0, 0x1800000, UWR, FAULT(W | U),		"PDE not present" },
	{ P32, 0, 0x1000, UFE, OK(0x345000),		"fetch: no NX in 32-bit paging" },
	{ P32, SMEP, 0x1000, FE, FAULT(P | I),		"SMEP: sup fetch, user page" },
	{ P32, SMEP, 0x1000, RD, OK(0x345000),		"SMEP: sup read, user page" },

	{ PAE, 0, 0x1abc, URD, OK(0x12345abc),		"4K page" },
	{ PAE, 0, 0x212345, UWR, OK(0xa12345),		"2M page" },
	{ PAE, 0, 0x3abc, RD, OK(0x800000abc),		"4K page above 4G" },
	{ PAE, 0, 0xfffff123, WR, OK(0xfeedf123),	"last page of 4G, PDPTE 3 with A set" },
	{ PAE, 0, 0x40000000, RD, FAULT(0),		"PDPTE not present" },
	{ PAE, 0, 0x80000000, RD, FAULT(P | RSVD),	"PDPTE: R/W bit rsvd" },
	{ PAE, 0, 0x400000, URD, FAULT(P | U | RSVD),	"bit 62 rsvd in PAE" },
	{ PAE, 0, 0x600000, FE, FAULT(P | I),		"sup fetch, NX 2M page" },
	{ PAE, 0, 0x600000, WR, OK(0xe00000),		"sup write, NX 2M page" },
	{ PAE, NONXE, 0x600000, RD, FAULT(P | RSVD),	"XD rsvd with EFER.NXE=0" },
	{ PAE, 0, 0x2000, UWR, FAULT(P | W | U),	"user write, sup RO page" },
	{ PAE, 0, 0x5000, FE, FAULT(I),			"fetch, not present: I/D with NXE" },

	{ L4, 0, 0x1abc, URD, OK(0x123abc),		"4K page, user read" },
	{ L4, 0, 0x1abc, UWR, OK(0x123abc),		"4K page, user write" },
	{ L4, 0, 0x2010, RD, OK(0x456010),		"sup read, sup RO page" },
	{ L4, 0, 0x2010, WR, FAULT(P | W),		"sup write, RO page, CR0.WP=1" },
	{ L4, NOWP, 0x2010, WR, OK(0x456010),		"sup write, RO page, CR0.WP=0" },
	{ L4, NOWP, 0x2010, UWR, FAULT(P | W | U),	"user write, RO, CR0.WP=0" },
	{ L4, 0, 0x2010, URD, FAULT(P | U),		"user read, sup page" },
	{ L4, 0, 0x3008, WR, OK(0x789008),		"sup write, sup RW page" },
	{ L4, 0, 0x4000, URD, OK(0x9000),		"user read, NX page" },
	{ L4, 0, 0x4000, UFE, FAULT(P | U | I),		"user fetch, NX page" },
	{ L4, 0, 0x4000, FE, FAULT(P | I),		"sup fetch, NX page" },
	{ L4, 0, 0x5000, RD, FAULT(0),			"PTE not present" },
	{ L4, 0, 0x5000, UWR, FAULT(W | U),		"not present, user write" },
	{ L4, 0, 0x5000, FE, FAULT(I),			"not present, fetch (NXE)" },
	{ L4, NONXE, 0x4000, URD, FAULT(P | U | RSVD),	"XD rsvd with EFER.NXE=0" },
	{ L4, NONXE, 0x5000, FE, FAULT(0),		"not present, fetch, !NXE: no I/D" },
	{ L4, NONXE | SMEP, 0x5000, FE, FAULT(I),	"not present, fetch, SMEP: I/D" },
	{ L4, SMEP, 0x1000, FE, FAULT(P | I),		"SMEP: sup fetch, user page" },
	{ L4, SMEP, 0x1000, RD, OK(0x123000),		"SMEP: sup read, user page" },
	{ L4, SMEP, 0x3000, FE, OK(0x789000),		"SMEP: sup fetch, sup page" },
	{ L4, 0, 0x234567, URD, OK(0x40034567),		"2M page" },
	{ L4, 0, 0x400000, RD, FAULT(P | RSVD),		"2M page: bit 20 rsvd" },
	{ L4, 0, 0x612345, RD, OK(0x40612345),		"2M page: PAT bit 12 not address" },
	{ L4, 0, 0x52345678, UWR, OK(0x92345678),	"1G page" },
	{ L4, 0, 0x80000000, UWR, FAULT(P | W | U | RSVD), "1G page: bit 13 rsvd" },
	{ L4, 0, 0x8000001000, RD, FAULT(P | RSVD),	"PML4E: PS rsvd" },
	{ L4, 0, 0x10000001000, URD, FAULT(P | U),	"U/S=0 in PML4E only" },
	{ L4, 0, 0x10000001000, WR, OK(0x123000),	"U/S=0 in PML4E, sup write" },
	{ L4, 0, 0x10000005000, URD, FAULT(U),		"not present beats upper U/S=0" },
	{ L4, 0, 0x18000001000, UFE, FAULT(P | U | I),	"XD in PML4E only" },
	{ L4, 0, 0xffffff8000001abc, RD, OK(0x123abc),	"upper half, PML4E 511" },
	{ L4, 0, 0x800000000000, RD, FAIL(EINVAL),	"non-canonical (bit 47)" },
	{ L4, 0, 0xfff0000000000000, RD, FAIL(EINVAL),	"non-canonical (high)" },
	{ L4, 0, 0x6abc, RD, OK(0x200000006abc),	"bit 45 is address (MAXPHYADDR 52)" },
	{ L4, MAXPA40, 0x6abc, WR, FAULT(P | W | RSVD),	"bit 45 rsvd (MAXPHYADDR 40)" },
	{ L4, 0, 0x7abc, RD, OK(0x7abc),		"bits 58:52 ignored, PTE bit 7 is PAT" },
	{ L4, 0, 0xc0000000, RD, FAIL(EIO),		"table outside guest memory" },

	{ L5, 0, 0x1abc, URD, OK(0x123abc),		"5-level: 4K page" },
	{ L5, 0, 0x800000000000, RD, FAULT(0),		"5-level: bit 47 canonical, PML4E absent" },
	{ L5, 0, 0x100000000000000, RD, FAIL(EINVAL),	"5-level: non-canonical (bit 56)" },
	{ L5, 0, 0xff00000000001000, RD, FAULT(0),	"5-level: PML5E 510 absent" },
};

static const char *const scenario_names[] = {
	[NOPG] = "no paging", [P32] = "32-bit", [PAE] = "PAE", [L4] = "4-level",
	[L5] = "5-level",
};

static const char *tweak_names(unsigned int t)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s%s", t & NOWP ? " !WP" : "",
		 t & SMEP ? " SMEP" : "", t & NONXE ? " !NXE" : "",
		 t & NOPSE ? " !PSE" : "", t & MAXPA40 ? " MAXPA=40" : "",
		 t & MAXPA36 ? " MAXPA=36" : "", t & NXE ? " NXE" : "");
	return buf;
}

void test_walk(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(walk_cases); i++) {
		const struct walk_case *c = &walk_cases[i];
		struct diag d = { .n = 0 };
		struct hvx_paging pg;
		u64 gpa = ~0ull;
		u32 err = ~0u;
		int rc;

		build(c->s, c->tweaks, &pg);
		rc = hvx_walk_gva(&pg, c->gva, c->access, read_phys, NULL, &gpa, &err);
		if (rc != c->want.rc)
			diag_add(&d, "rc: got %d, want %d\n", rc, c->want.rc);
		else if (!rc && gpa != c->want.gpa)
			diag_add(&d, "gpa: got %#llx, want %#llx\n", (unsigned long long)gpa,
				 (unsigned long long)c->want.gpa);
		else if (rc == -EFAULT && err != c->want.err)
			diag_add(&d, "#PF error: got %#x, want %#x\n", err, c->want.err);
		tap_result(!d.n, &d, "walk %s%s: %s %s %#llx: %s",
			   scenario_names[c->s], tweak_names(c->tweaks),
			   c->access & HVX_WALK_USER ? "user" : "sup",
			   c->access & FE ? "fetch" : c->access & WR ? "write" : "read",
			   (unsigned long long)c->gva, c->what);
	}
}
