/* SPDX-License-Identifier: GPL-2.0 */
/* AMD nested page table (NPT) entry format for the generic MMU. */
#ifndef HVX_SVM_NPT_H
#define HVX_SVM_NPT_H

#include <linux/types.h>
#include <linux/mem_encrypt.h>

#include "mmu/mmu.h"

extern const struct hvx_pte_fmt svm_npt_fmt;

/*
 * The VMCB's N_CR3 value for a root table at @root_pa (hvx_mmu.root_pa is a
 * plain physical address). With SME active the table pages are encrypted
 * host memory, so the pointer carries the C-bit like every NPT table
 * pointer does (APM Vol 2 7.10, 15.25.3).
 */
static inline u64 svm_npt_ncr3(phys_addr_t root_pa)
{
	return __sme_set(root_pa);
}

#endif /* HVX_SVM_NPT_H */
