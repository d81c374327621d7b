// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page-table walk: linear to guest-physical, with the permission
 * checks and #PF error code of SDM Vol 3 chapter 4.
 *
 * The walk is read-only: accessed and dirty bits are never set. It serves
 * the emulator (fetching the bytes of an instruction that faulted on
 * MMIO), which then either completes that instruction or injects a #PF;
 * when the guest executes or re-executes an access, the CPU sets A/D
 * itself. Setting them here would also need an atomic update of guest
 * memory, which the read callback cannot offer.
 *
 * Not modelled: SMAP (needs EFLAGS.AC and the implicit-access rules),
 * protection keys, and the CPUID-dependent reservation of 1-GByte pages;
 * PAE PDPTEs are read from memory at CR3 rather than from the copies the
 * CPU loaded at MOV CR3, and their reserved bits 2:1 yield a #PF(RSVD)
 * here where an Intel CPU would have raised #GP at load time.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#endif

#include "emulate.h"

#define CR0_WP		0x00010000ull
#define CR0_PG		0x80000000ull
#define CR4_PSE		0x00000010ull
#define CR4_PAE		0x00000020ull
#define CR4_LA57	0x00001000ull
#define CR4_SMEP	0x00100000ull
#define EFER_LMA	0x00000400ull
#define EFER_NXE	0x00000800ull

#define PTE_P		0x001ull
#define PTE_RW		0x002ull
#define PTE_US		0x004ull
#define PTE_PS		0x080ull
#define PTE_XD		0x8000000000000000ull

/* Bits @hi..@lo set. */
static u64 bits(unsigned int hi, unsigned int lo)
{
	return (~0ull >> (63 - hi)) & (~0ull << lo);
}

/* What the entries seen so far allow (SDM Vol 3 4.6.1). */
struct walk_perm {
	bool writable;		/* R/W set at every level */
	bool user;		/* U/S set at every level */
	bool nx;		/* XD set at some level, with XD enabled */
};

static void perm_add(struct walk_perm *perm, u64 entry, bool nx_enabled)
{
	perm->writable &= !!(entry & PTE_RW);
	perm->user &= !!(entry & PTE_US);
	perm->nx |= nx_enabled && (entry & PTE_XD);
}

/*
 * The error code for a fault on @access (SDM Vol 3 4.7). I/D is reported
 * only when fetches can fault for being fetches: with SMEP, or with XD
 * (PAE or 4-level paging and EFER.NXE).
 */
static int pf(const struct hvx_paging *pg, unsigned int access, u32 code,
	      u32 *pf_error)
{
	if (access & HVX_WALK_WRITE)
		code |= HVX_PFERR_WRITE;
	if (access & HVX_WALK_USER)
		code |= HVX_PFERR_USER;
	if ((access & HVX_WALK_FETCH) &&
	    ((pg->cr4 & CR4_SMEP) ||
	     ((pg->cr4 & CR4_PAE) && (pg->efer & EFER_NXE))))
		code |= HVX_PFERR_FETCH;
	*pf_error = code;
	return -EFAULT;
}

/* Check a complete translation against @access (SDM Vol 3 4.6). */
static int check(const struct hvx_paging *pg, unsigned int access,
		 const struct walk_perm *perm, u32 *pf_error)
{
	bool user = access & HVX_WALK_USER;
	bool ok = true;

	if (user && !perm->user)
		ok = false;
	/* Supervisor writes to read-only pages only fault with CR0.WP. */
	if ((access & HVX_WALK_WRITE) && !perm->writable &&
	    (user || (pg->cr0 & CR0_WP)))
		ok = false;
	if (access & HVX_WALK_FETCH) {
		if (perm->nx)
			ok = false;
		if (!user && perm->user && (pg->cr4 & CR4_SMEP))
			ok = false;
	}
	return ok ? 0 : pf(pg, access, HVX_PFERR_PRESENT, pf_error);
}

static unsigned int phys_bits(const struct hvx_paging *pg)
{
	unsigned int m = pg->phys_bits ? pg->phys_bits : 52;

	return m < 32 ? 32 : m > 52 ? 52 : m;
}

/* 32-bit paging: 4-byte entries, 4K pages and (CR4.PSE) 4M pages. */
static int walk32(const struct hvx_paging *pg, u32 gva, unsigned int access,
		  hvx_read_phys_fn read, void *ctx, u64 *gpa, u32 *pf_error)
{
	struct walk_perm perm = { .writable = true, .user = true };
	u32 pde, pte;
	u64 base;

	if (read(ctx, (pg->cr3 & 0xfffff000) + (gva >> 22) * 4, &pde, 4))
		return -EIO;
	if (!(pde & PTE_P))
		return pf(pg, access, 0, pf_error);
	perm_add(&perm, pde, false);

	if ((pde & PTE_PS) && (pg->cr4 & CR4_PSE)) {
		/*
		 * 4M page (Table 4-4), with PSE-36: PDE bits (M-20):13 hold
		 * address bits (M-1):32, M = min(MAXPHYADDR, 40); bits
		 * 21:(M-19) are reserved.
		 */
		unsigned int m = phys_bits(pg) > 40 ? 40 : phys_bits(pg);

		if (pde & bits(21, m - 19))
			return pf(pg, access, HVX_PFERR_PRESENT | HVX_PFERR_RSVD, pf_error);
		base = (pde & 0xffc00000) | ((u64)(pde & bits(m - 20, 13)) << 19);
		*gpa = base | (gva & 0x3fffff);
	} else {
		if (read(ctx, (pde & 0xfffff000) + ((gva >> 12) & 0x3ff) * 4, &pte, 4))
			return -EIO;
		if (!(pte & PTE_P))
			return pf(pg, access, 0, pf_error);
		perm_add(&perm, pte, false);
		*gpa = (pte & 0xfffff000) | (gva & 0xfff);
	}
	return check(pg, access, &perm, pf_error);
}

/*
 * PAE (3 levels, 32-bit linear), 4-level and 5-level paging: 8-byte
 * entries, 9 index bits a level, 2M pages at level 2, 1G at level 3.
 */
static int walk64(const struct hvx_paging *pg, u64 gva, unsigned int access,
		  hvx_read_phys_fn read, void *ctx, u64 *gpa, u32 *pf_error)
{
	struct walk_perm perm = { .writable = true, .user = true };
	bool nxe = pg->efer & EFER_NXE;
	bool pae = !(pg->efer & EFER_LMA);
	unsigned int m = phys_bits(pg), level, shift;
	u64 addr_mask = bits(m - 1, 12), rsvd, table, entry, page;

	/*
	 * Reserved everywhere: address bits above MAXPHYADDR (up to bit 62
	 * in PAE entries, Tables 4-8..4-11; up to bit 51 in 4/5-level ones,
	 * whose bits 62:52 are ignored, Tables 4-14..4-20) and XD without
	 * EFER.NXE.
	 */
	rsvd = pae ? bits(62, m) : m < 52 ? bits(51, m) : 0;
	if (!nxe)
		rsvd |= PTE_XD;

	if (pae) {
		/*
		 * PDPTE (Table 4-8): no R/W, U/S or XD; bits 63:M and 2:1
		 * reserved. Intel also reserves 8:5 (checked at MOV CR3), but
		 * AMD CPUs set the accessed bit (5) of a PAE PDPTE as they
		 * walk it, so those bits are left to the CPU that already did.
		 */
		gva = (u32)gva;
		if (read(ctx, (pg->cr3 & 0xffffffe0) + (gva >> 30) * 8, &entry, 8))
			return -EIO;
		if (!(entry & PTE_P))
			return pf(pg, access, 0, pf_error);
		if (entry & (bits(63, m) | bits(2, 1)))
			return pf(pg, access, HVX_PFERR_PRESENT | HVX_PFERR_RSVD, pf_error);
		table = entry & addr_mask;
		level = 2;
	} else {
		/* Non-canonical linear addresses take #GP, not #PF. */
		level = pg->cr4 & CR4_LA57 ? 5 : 4;
		shift = 12 + 9 * level - 1;	/* bits 63:47 or 63:56 */
		if ((gva >> shift) != 0 && (gva >> shift) != (~0ull >> shift))
			return -EINVAL;
		table = pg->cr3 & addr_mask;
	}

	for (;; level--) {
		shift = 12 + 9 * (level - 1);
		if (read(ctx, table + ((gva >> shift) & 511) * 8, &entry, 8))
			return -EIO;
		if (!(entry & PTE_P))
			return pf(pg, access, 0, pf_error);
		/* PS is reserved in PML4Es and PML5Es (Tables 4-14, 4-15). */
		if ((entry & rsvd) || (level >= 4 && (entry & PTE_PS)))
			return pf(pg, access, HVX_PFERR_PRESENT | HVX_PFERR_RSVD, pf_error);
		perm_add(&perm, entry, nxe);

		if (level == 1 || ((level == 2 || level == 3) && (entry & PTE_PS)))
			break;
		table = entry & addr_mask;
	}

	/*
	 * Leaf: 4K page, or a 2M/1G page whose bit 12 is PAT and whose bits
	 * 20:13 / 29:13 are reserved (Tables 4-9, 4-17, 4-18).
	 */
	page = 1ull << shift;
	if (level > 1 && (entry & bits(shift - 1, 13)))
		return pf(pg, access, HVX_PFERR_PRESENT | HVX_PFERR_RSVD, pf_error);
	*gpa = (entry & addr_mask & ~(page - 1)) | (gva & (page - 1));
	return check(pg, access, &perm, pf_error);
}

int hvx_walk_gva(const struct hvx_paging *pg, u64 gva, unsigned int access,
		 hvx_read_phys_fn read, void *ctx, u64 *gpa, u32 *pf_error)
{
	*pf_error = 0;
	/* Without paging linear addresses are physical, and 32 bits wide. */
	if (!(pg->cr0 & CR0_PG)) {
		*gpa = (u32)gva;
		return 0;
	}
	if (!(pg->cr4 & CR4_PAE))
		return walk32(pg, gva, access, read, ctx, gpa, pf_error);
	return walk64(pg, gva, access, read, ctx, gpa, pf_error);
}
