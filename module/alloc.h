/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one page allocator of hvx: every page is counted globally and, when
 * a VM owns it, per VM, so VM destroy and module unload can say
 * "hvx: N pages leaked".
 */
#ifndef HVX_ALLOC_H
#define HVX_ALLOC_H

#include <linux/types.h>
#include <linux/gfp.h>

struct hvx_vm;

/* Zeroed, physically contiguous 2^order pages; @vm may be NULL. */
void *hvx_alloc_pages(struct hvx_vm *vm, unsigned int order);
void hvx_free_pages(struct hvx_vm *vm, void *addr, unsigned int order);

static inline void *hvx_alloc_page(struct hvx_vm *vm)
{
	return hvx_alloc_pages(vm, 0);
}

static inline void hvx_free_page(struct hvx_vm *vm, void *addr)
{
	hvx_free_pages(vm, addr, 0);
}

long hvx_pages_in_use(void);

#endif /* HVX_ALLOC_H */
