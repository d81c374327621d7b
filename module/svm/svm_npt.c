// SPDX-License-Identifier: GPL-2.0
/*
 * AMD nested page table entries (APM Vol 2 15.25).
 *
 * Nested page tables are ordinary long-mode 4-level page tables (APM Vol 2
 * 5.3, entry fields 5.4), rooted at the VMCB's N_CR3 and walked with the
 * host's paging rules. The generic MMU (mmu/mmu.c) builds the tree; this
 * file only says how one entry looks.
 */
#include <linux/bits.h>
#include <linux/mem_encrypt.h>
#include <asm/page.h>
#include <asm/pgtable_types.h>

#include "mmu/mmu.h"
#include "svm_npt.h"

/*
 * Bits 51:12 hold the physical address (APM Vol 2 5.4, at most 52 bits).
 * With SME the C-bit sits inside this field; the generic MMU strips it
 * (__sme_clr()) when it follows an entry.
 */
#define SVM_NPT_ADDR_MASK	GENMASK_ULL(51, 12)

/*
 * Every nested access is a user access (APM Vol 2 15.25.6, "Nested versus
 * Guest Page Faults, Fault Ordering"): without U/S at every level the walk
 * faults, and QEMU's SVM model enforces it. R/W on tables leaves write
 * permission to the leaf. Accessed is preset so the walker never has to
 * write the entry back (a locked update per walk).
 */
#define SVM_NPT_TABLE_BITS	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED)

/*
 * Leaves: Accessed and Dirty preset for the same reason; the processor
 * would otherwise set them on the first access and the first write. Dirty
 * without R/W is harmless. PWT/PCD/PAT clear select host PAT entry 0,
 * write-back, which combines with the guest's own type (APM Vol 2 15.25.8,
 * "Combining Memory Types, MTRRs"). NX clear: guest memory is executable,
 * the guest's own tables restrict it.
 */
#define SVM_NPT_LEAF_BITS	(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY)

/*
 * With SME active, host memory (the tables themselves and guest RAM, both
 * ordinary kernel/user pages) is encrypted and must be reached with the
 * C-bit set (APM Vol 2 7.10); __sme_set() is a no-op otherwise.
 */
static u64 svm_npt_make_table(phys_addr_t table_pa)
{
	return __sme_set((u64)table_pa & SVM_NPT_ADDR_MASK) | SVM_NPT_TABLE_BITS;
}

/*
 * A 2 MiB leaf is a PDE with PS set (APM Vol 2 5.3.4, "2-Mbyte Page
 * Translation"); its PAT bit moves to bit 12, which the 2 MiB-aligned
 * address leaves clear, so the memory type stays write-back.
 */
static u64 svm_npt_make_leaf(u64 pfn, bool writable, int level)
{
	u64 pte = __sme_set((pfn << PAGE_SHIFT) & SVM_NPT_ADDR_MASK) | SVM_NPT_LEAF_BITS;

	if (writable)
		pte |= _PAGE_RW;
	if (level == HVX_LEVEL_2M)
		pte |= _PAGE_PSE;
	return pte;
}

static bool svm_npt_is_present(u64 pte)
{
	return pte & _PAGE_PRESENT;
}

static bool svm_npt_is_large(u64 pte)
{
	return pte & _PAGE_PSE;
}

/*
 * The nested walk honours PS in PDEs like a long-mode host walk does
 * (APM Vol 2 15.25.5), and every CPU with nested paging has long mode.
 */
static bool svm_npt_has_2m(void)
{
	return true;
}

const struct hvx_pte_fmt svm_npt_fmt = {
	.make_table	= svm_npt_make_table,
	.make_leaf	= svm_npt_make_leaf,
	.is_present	= svm_npt_is_present,
	.is_large	= svm_npt_is_large,
	.has_2m		= svm_npt_has_2m,
	.addr_mask	= SVM_NPT_ADDR_MASK,
};
