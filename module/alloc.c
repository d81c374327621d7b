// SPDX-License-Identifier: GPL-2.0
/* Counting page allocator (see alloc.h). */
#include <linux/mm.h>
#include <linux/atomic.h>

#include "hvx.h"
#include "alloc.h"

static atomic_long_t hvx_pages = ATOMIC_LONG_INIT(0);

void *hvx_alloc_pages(struct hvx_vm *vm, unsigned int order)
{
	unsigned long addr;

	addr = __get_free_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO, order);
	if (!addr)
		return NULL;
	atomic_long_add(1L << order, &hvx_pages);
	if (vm)
		atomic_long_add(1L << order, &vm->pages);
	return (void *)addr;
}

void hvx_free_pages(struct hvx_vm *vm, void *addr, unsigned int order)
{
	if (!addr)
		return;
	free_pages((unsigned long)addr, order);
	atomic_long_sub(1L << order, &hvx_pages);
	if (vm)
		atomic_long_sub(1L << order, &vm->pages);
}

long hvx_pages_in_use(void)
{
	return atomic_long_read(&hvx_pages);
}
