/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest physical memory slots (KVM_SET_USER_MEMORY_REGION).
 *
 * Readers (fault handler, guest memory copies) hold vm->srcu; writers hold
 * vm->lock, publish a new array with rcu_assign_pointer() and wait with
 * synchronize_srcu() before freeing the old one.
 */
#ifndef HVX_MEMSLOT_H
#define HVX_MEMSLOT_H

#include <linux/types.h>

#define HVX_USER_MEM_SLOTS	32

struct hvx_vm;
struct hvx_vcpu;

struct hvx_memslot {
	u64 base_gfn;
	u64 npages;
	unsigned long userspace_addr;
	u32 flags;
	u16 id;
};

struct hvx_memslots {
	int used;
	struct hvx_memslot slots[HVX_USER_MEM_SLOTS];	/* used entries, any order */
};

int hvx_memslots_init(struct hvx_vm *vm);
void hvx_memslots_free(struct hvx_vm *vm);
int hvx_set_memory_region(struct hvx_vm *vm,
			  const struct kvm_userspace_memory_region *mem);

/* Caller holds vm->srcu. NULL if no slot maps @gfn. */
struct hvx_memslot *hvx_gfn_to_memslot(struct hvx_vm *vm, u64 gfn);

static inline unsigned long hvx_gfn_to_hva(const struct hvx_memslot *slot,
					   u64 gfn)
{
	return slot->userspace_addr + ((gfn - slot->base_gfn) << PAGE_SHIFT);
}

/*
 * Copy to/from guest physical memory through the slots (caller holds
 * vm->srcu and runs in the VM's mm). 0, or -EFAULT if a byte has no slot
 * (or, for writes, sits in a read-only slot).
 */
int hvx_read_guest(struct hvx_vm *vm, u64 gpa, void *data, unsigned long len);
int hvx_write_guest(struct hvx_vm *vm, u64 gpa, const void *data,
		    unsigned long len);

#endif /* HVX_MEMSLOT_H */
