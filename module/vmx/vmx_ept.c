// SPDX-License-Identifier: GPL-2.0
/*
 * Intel EPT entries (SDM Vol 3 29.3.2, Tables 29-2..29-6) for the generic
 * MMU (mmu/mmu.c builds the tree; this file says how one entry looks).
 */
#include <linux/bits.h>
#include <asm/mtrr.h>
#include <asm/page.h>
#include <asm/vmx.h>

#include "mmu/mmu.h"
#include "vmx.h"

/* Bits 51:12 hold the physical address. */
#define VMX_EPT_ADDR_MASK	GENMASK_ULL(51, 12)
/*
 * Bit 7 of a PDE: set, the entry maps a 2 MiB page (SDM Vol 3 Table 29-4)
 * and bits 20:12 of its address must be zero; clear, it points to a page
 * table. <asm/vmx.h> names only the capability bit.
 */
#define VMX_EPT_PAGE_SIZE_BIT	BIT_ULL(7)

/* Tables grant everything; the leaf decides. */
static u64 vmx_ept_make_table(phys_addr_t table_pa)
{
	return ((u64)table_pa & VMX_EPT_ADDR_MASK) | VMX_EPT_RWX_MASK;
}

/*
 * Leaves: read and execute always, write when allowed; write-back memory
 * type regardless of the guest's PAT (IPAT), as guest RAM is ordinary
 * host memory. Accessed/dirty are preset: with EPT A/D enabled the CPU
 * would otherwise write them back, without it they are ignored. A 2 MiB
 * leaf has the same fields plus the page-size bit (SDM Vol 3 Table 29-4).
 */
static u64 vmx_ept_make_leaf(u64 pfn, bool writable, int level)
{
	u64 pte = ((pfn << PAGE_SHIFT) & VMX_EPT_ADDR_MASK) |
		  VMX_EPT_READABLE_MASK | VMX_EPT_EXECUTABLE_MASK |
		  ((u64)MTRR_TYPE_WRBACK << VMX_EPT_MT_EPTE_SHIFT) | VMX_EPT_IPAT_BIT |
		  VMX_EPT_ACCESS_BIT | VMX_EPT_DIRTY_BIT;

	if (writable)
		pte |= VMX_EPT_WRITABLE_MASK;
	if (level == HVX_LEVEL_2M)
		pte |= VMX_EPT_PAGE_SIZE_BIT;
	return pte;
}

static bool vmx_ept_is_present(u64 pte)
{
	return pte & VMX_EPT_RWX_MASK;
}

static bool vmx_ept_is_large(u64 pte)
{
	return pte & VMX_EPT_PAGE_SIZE_BIT;
}

/* 2 MiB EPT pages are optional (IA32_VMX_EPT_VPID_CAP bit 16). */
static bool vmx_ept_has_2m(void)
{
	return vmx_cfg.ept_2m;
}

const struct hvx_pte_fmt vmx_ept_fmt = {
	.make_table	= vmx_ept_make_table,
	.make_leaf	= vmx_ept_make_leaf,
	.is_present	= vmx_ept_is_present,
	.is_large	= vmx_ept_is_large,
	.has_2m		= vmx_ept_has_2m,
	.addr_mask	= VMX_EPT_ADDR_MASK,
};

/* EPTP (SDM Vol 3 24.6.11): write-back, 4-level walk, A/D when offered. */
u64 vmx_eptp(phys_addr_t root_pa)
{
	return (u64)root_pa | VMX_EPTP_MT_WB | VMX_EPTP_PWL_4 |
	       (vmx_cfg.ept_ad ? VMX_EPTP_AD_ENABLE_BIT : 0);
}
