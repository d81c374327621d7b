/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic second-level page tables (AMD NPT, Intel EPT).
 *
 * Four-level tables with 4 KiB and 2 MiB leaves, filled on demand from the
 * memslots and kept coherent with the host mm through an mmu notifier. The
 * vendor only supplies the entry format (struct hvx_pte_fmt).
 */
#ifndef HVX_MMU_H
#define HVX_MMU_H

#include <linux/types.h>
#include <linux/spinlock.h>
#include <linux/mmu_notifier.h>

struct hvx_vm;
struct hvx_vcpu;

/* Leaf sizes: a leaf at level 1 maps 4 KiB, at level 2 it maps 2 MiB. */
#define HVX_LEVEL_4K		1
#define HVX_LEVEL_2M		2
#define HVX_NR_LEAF_LEVELS	2

/* How a vendor's second-level entries look. */
struct hvx_pte_fmt {
	/* Entry pointing to the next-level table at @table_pa. */
	u64 (*make_table)(phys_addr_t table_pa);
	/*
	 * Leaf at @level for host memory starting at @pfn (cacheable,
	 * executable); a 2 MiB leaf gets a 512-aligned @pfn.
	 */
	u64 (*make_leaf)(u64 pfn, bool writable, int level);
	bool (*is_present)(u64 pte);
	/* A present level-2 entry that maps 2 MiB rather than a table. */
	bool (*is_large)(u64 pte);
	/* Whether this CPU walks 2 MiB leaves (read once per VM). */
	bool (*has_2m)(void);
	u64 addr_mask;		/* bits of an entry holding the address */
};

struct hvx_mmu {
	spinlock_t lock;		/* tables, invalidate_* */
	const struct hvx_pte_fmt *fmt;
	u64 *root;
	phys_addr_t root_pa;
	struct mmu_notifier mn;
	bool mn_registered;
	unsigned long invalidate_seq;	/* bumped at each invalidate_range_end */
	long invalidate_in_progress;	/* open invalidate_range_start count */
	u64 inv_start, inv_end;		/* hva range of the open invalidations */
	u64 leaf_write_mask;		/* bits make_leaf() adds for writable */
	int slots_updating;		/* open hvx_mmu_slots_update_begin()s */
	bool dying;			/* hvx_mmu_destroy() runs: no flushes */
	int max_level;			/* largest leaf this VM maps */
	/* Present leaves per level (pages[0]: 4 KiB), under lock. */
	unsigned long pages[HVX_NR_LEAF_LEVELS];
};

/* What hvx_mmu_page_fault() decided. */
enum hvx_fault_result {
	HVX_FAULT_RETRY,	/* mapped (or raced): re-enter the guest */
	HVX_FAULT_MMIO,		/* no slot, or write to a read-only slot */
	HVX_FAULT_ERROR,	/* the slot's host memory is gone: -EFAULT */
};

/* Allocate the root and register the notifier on the VM's mm. */
int hvx_mmu_init(struct hvx_vm *vm, const struct hvx_pte_fmt *fmt);
/* Unregister the notifier and free every table page. */
void hvx_mmu_destroy(struct hvx_vm *vm);
/*
 * Resolve a second-level fault. Called from the vCPU thread with vm->srcu
 * held, preemption enabled (it may sleep to fault in host pages).
 */
enum hvx_fault_result hvx_mmu_page_fault(struct hvx_vcpu *vcpu, u64 gpa,
					 bool write, bool fetch);
/*
 * Map @pfn, a host page the VM owns rather than memory of a memslot (the
 * VMX APIC-access page), writable at @gfn with a 4 KiB leaf, unless
 * *@inhibit is non-zero when checked under mmu.lock. To take it away,
 * raise *@inhibit, then hvx_mmu_zap_gfn_range(): a map that raced sees
 * either the raised count or its leaf zapped. Called like
 * hvx_mmu_page_fault().
 */
void hvx_mmu_map_pfn(struct hvx_vcpu *vcpu, u64 gfn, u64 pfn, const atomic_t *inhibit);
/*
 * Remove translations of [gfn_start, gfn_end) and flush every vCPU's TLB.
 * Used when a memslot is deleted or moved.
 */
void hvx_mmu_zap_gfn_range(struct hvx_vm *vm, u64 gfn_start, u64 gfn_end);
/*
 * Bracket a memslot DELETE or MOVE (vm->lock held, vm->srcu not held):
 *
 *	hvx_mmu_slots_update_begin(vm);
 *	rcu_assign_pointer(vm->memslots, new);
 *	synchronize_srcu(&vm->srcu);
 *	hvx_mmu_zap_gfn_range(vm, old->base_gfn, old->base_gfn + old->npages);
 *	hvx_mmu_slots_update_end(vm);
 *
 * In between, the notifier may find the new array, which no longer maps
 * the old slot's hvas to its gfns; it then zaps every translation instead,
 * so that no host page is freed while the guest can still reach it.
 */
void hvx_mmu_slots_update_begin(struct hvx_vm *vm);
void hvx_mmu_slots_update_end(struct hvx_vm *vm);

#endif /* HVX_MMU_H */
