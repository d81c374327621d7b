// SPDX-License-Identifier: GPL-2.0
/*
 * Generic second-level page tables (AMD NPT, Intel EPT).
 *
 * The tree has four levels of 512 entries, so it covers guest-physical
 * addresses below 2^48. Leaves map 4 KiB at level 1 or 2 MiB at level 2.
 * They are installed on demand by hvx_mmu_page_fault() from the memslots
 * and removed by the mmu notifier when the host changes or frees the
 * backing page, or by hvx_mmu_zap_gfn_range() when a memslot goes away.
 * The vendor supplies only the entry encoding (struct hvx_pte_fmt).
 *
 * Locking, outermost first:
 *
 *	vm->lock		memslot updates (hvx_mmu_slots_update_*, zap)
 *	  vm->srcu (read)	memslot readers: fault path, notifier
 *	    mmap_lock		taken inside pin_user_pages_fast(); the mm
 *				core also calls the notifier with it held
 *	      mmu.lock		the tables and the invalidate_* fields
 *
 * mmu.lock is a spinlock, innermost, never held across anything that may
 * sleep or wait for another CPU: hvx_vm_request_all() waits until running
 * vCPUs have left guest mode, and a vCPU spinning on mmu.lock with
 * interrupts disabled would never take the kick, so every flush is issued
 * after the unlock.
 *
 * Coherency with the host (the scheme KVM uses): the fault path samples
 * invalidate_seq before it looks up the host page and installs the leaf
 * only if, under mmu.lock, no invalidation has started or finished since.
 * An invalidation zaps the leaves of its range in invalidate_range_start,
 * and faults on that range retry until the matching invalidate_range_end.
 * The host page is therefore pinned only for the duration of the fault: it
 * cannot be freed or replaced without invalidate_range_start running first.
 *
 * 2 MiB leaves follow the host's own mapping: one is installed only where
 * the host maps the whole 2 MiB around the faulting address with a single
 * PMD (a transparent huge page, a hugetlb page) or PUD (a 1 GiB hugetlb
 * page), read under mmu.lock after the sequence check. The host cannot
 * split, move or free such a page without an invalidation covering the
 * range it changes, and any invalidation touching part of a 2 MiB leaf
 * zaps all of it, so the leaf never outlives the host mapping it copied.
 * Elsewhere (4 KiB host pages, a slot not 2 MiB-aligned in both address
 * spaces, an invalidation open over part of the window) the fault maps
 * 4 KiB.
 *
 * Table pages are freed only after the TLB flush that follows their
 * unlinking, since a walker (or a paging-structure cache) may still use
 * them until then. Each table page counts its present entries in
 * page->private so that empty tables are found without a scan; page->lru
 * chains unlinked tables until the flush is done.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mem_encrypt.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/moduleparam.h>
#include <linux/pgtable.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/string.h>
#include <asm/io.h>

#include "hvx.h"
#include "alloc.h"
#include "memslot.h"
#include "mmu.h"

#define HVX_MMU_LEVELS		4
#define HVX_PT_BITS		9
#define HVX_PT_ENTRIES		BIT(HVX_PT_BITS)
/* First gfn the tree cannot map: 2^36 gfns == 2^48 bytes. */
#define HVX_GFN_LIMIT		(1ULL << (HVX_PT_BITS * HVX_MMU_LEVELS))
/* 4 KiB pages in a 2 MiB leaf. */
#define HVX_2M_PAGES		HVX_PT_ENTRIES
#define HVX_2M_SIZE		(HVX_2M_PAGES * PAGE_SIZE)

static bool huge_pages = true;
module_param(huge_pages, bool, 0644);
MODULE_PARM_DESC(huge_pages,
		 "Map guest memory with 2 MiB second-level pages where the host does (read at VM creation)");

/* Whether @pte, present at @level, maps memory rather than a table. */
static bool hvx_is_leaf(const struct hvx_pte_fmt *fmt, u64 pte, int level)
{
	return level == HVX_LEVEL_4K ||
	       (level == HVX_LEVEL_2M && fmt->is_large(pte));
}

static unsigned int hvx_pt_index(u64 gfn, int level)
{
	return (gfn >> (HVX_PT_BITS * (level - 1))) & (HVX_PT_ENTRIES - 1);
}

/*
 * The table an entry points to. With SME the vendor puts the C-bit in the
 * address field (sme_me_mask is 0 otherwise, and on Intel).
 */
static u64 *hvx_entry_table(const struct hvx_pte_fmt *fmt, u64 pte)
{
	return phys_to_virt(__sme_clr(pte & fmt->addr_mask));
}

static u64 hvx_leaf_pfn(const struct hvx_pte_fmt *fmt, u64 pte)
{
	return __sme_clr(pte & fmt->addr_mask) >> PAGE_SHIFT;
}

/* ---- Table pages ------------------------------------------------------- */

static u64 *hvx_table_alloc(struct hvx_vm *vm)
{
	u64 *table = hvx_alloc_page(vm);

	if (table)
		set_page_private(virt_to_page(table), 0);
	return table;
}

static void hvx_table_free(struct hvx_vm *vm, u64 *table)
{
	set_page_private(virt_to_page(table), 0);
	hvx_free_page(vm, table);
}

static bool hvx_table_empty(u64 *table)
{
	return !page_private(virt_to_page(table));
}

/*
 * Entries are written with WRITE_ONCE: other CPUs' walkers read them while
 * the guest runs, and must see either the old or the new 8 bytes.
 */
static void hvx_entry_set(u64 *ptep, u64 pte)
{
	struct page *page = virt_to_page(ptep);

	WRITE_ONCE(*ptep, pte);
	set_page_private(page, page_private(page) + 1);
}

static void hvx_entry_clear(u64 *ptep)
{
	struct page *page = virt_to_page(ptep);

	WRITE_ONCE(*ptep, 0);
	set_page_private(page, page_private(page) - 1);
}

static void hvx_tables_free_list(struct hvx_vm *vm, struct list_head *freed)
{
	struct page *page, *tmp;

	list_for_each_entry_safe(page, tmp, freed, lru)
		hvx_table_free(vm, page_address(page));
	INIT_LIST_HEAD(freed);
}

/* Free @table and everything below it; the tree is no longer in use. */
static void hvx_tree_free(struct hvx_vm *vm, const struct hvx_pte_fmt *fmt,
			  u64 *table, int level)
{
	unsigned int i;

	for (i = 0; level > 1 && i < HVX_PT_ENTRIES; i++)
		if (fmt->is_present(table[i]) &&
		    !hvx_is_leaf(fmt, table[i], level))
			hvx_tree_free(vm, fmt, hvx_entry_table(fmt, table[i]),
				      level - 1);
	hvx_table_free(vm, table);
}

/* ---- Zapping ----------------------------------------------------------- */

/* Clear a present leaf at @level. */
static void hvx_leaf_clear(struct hvx_mmu *mmu, u64 *ptep, int level)
{
	hvx_entry_clear(ptep);
	mmu->pages[level - 1]--;
}

/*
 * Clear the leaves of gfns [@start, @end) below @table, a table of @level
 * whose first entry maps gfn @base; a 2 MiB leaf that overlaps the range
 * goes as a whole. Child tables left empty are unlinked and queued on
 * @freed. Returns true if any present entry was cleared, i.e. if a TLB
 * flush is needed before the host page or table is reused.
 */
static bool hvx_zap_table(struct hvx_mmu *mmu, u64 *table, int level,
			  u64 base, u64 start, u64 end, struct list_head *freed)
{
	const struct hvx_pte_fmt *fmt = mmu->fmt;
	unsigned int shift = HVX_PT_BITS * (level - 1);
	unsigned int i = start > base ? (start - base) >> shift : 0;
	bool zapped = false;

	for (; i < HVX_PT_ENTRIES; i++) {
		u64 first = base + ((u64)i << shift);
		u64 pte = table[i];
		u64 *child;

		if (first >= end)
			break;
		if (!fmt->is_present(pte))
			continue;
		if (hvx_is_leaf(fmt, pte, level)) {
			hvx_leaf_clear(mmu, &table[i], level);
			zapped = true;
			continue;
		}
		child = hvx_entry_table(fmt, pte);
		if (hvx_zap_table(mmu, child, level - 1, first, start, end,
				  freed))
			zapped = true;
		if (!hvx_table_empty(child))
			continue;
		list_add(&virt_to_page(child)->lru, freed);
		hvx_entry_clear(&table[i]);
		zapped = true;
	}
	return zapped;
}

static bool hvx_zap_gfns(struct hvx_mmu *mmu, u64 start, u64 end,
			 struct list_head *freed)
{
	lockdep_assert_held(&mmu->lock);

	end = min(end, HVX_GFN_LIMIT);
	if (start >= end)
		return false;
	return hvx_zap_table(mmu, mmu->root, HVX_MMU_LEVELS, 0, start, end,
			     freed);
}

/* Zap the leaves backed by host addresses [@start, @end) in any slot. */
static bool hvx_zap_hva(struct hvx_mmu *mmu, const struct hvx_memslots *slots,
			unsigned long start, unsigned long end,
			struct list_head *freed)
{
	bool zapped = false;
	int i;

	for (i = 0; i < slots->used; i++) {
		const struct hvx_memslot *slot = &slots->slots[i];
		unsigned long s_start = slot->userspace_addr;
		unsigned long s_end = s_start + (slot->npages << PAGE_SHIFT);
		unsigned long lo = max(start, s_start);
		unsigned long hi = min(end, s_end);
		u64 gfn_lo, gfn_hi;

		if (lo >= hi)
			continue;
		/* Every page touching [lo, hi), partial ones included. */
		gfn_lo = slot->base_gfn + ((lo - s_start) >> PAGE_SHIFT);
		gfn_hi = slot->base_gfn + DIV_ROUND_UP(hi - s_start, PAGE_SIZE);
		if (hvx_zap_gfns(mmu, gfn_lo, gfn_hi, freed))
			zapped = true;
	}
	return zapped;
}

/*
 * After the unlock: make every vCPU forget the zapped translations, then
 * free the unlinked tables, which no walker can reach any more.
 */
static void hvx_mmu_flush_and_free(struct hvx_vm *vm, bool flush,
				   struct list_head *freed)
{
	if (flush)
		hvx_vm_request_all(vm, HVX_REQ_TLB_FLUSH);
	hvx_tables_free_list(vm, freed);
}

/* ---- MMU notifier ------------------------------------------------------ */

static struct hvx_vm *hvx_mn_to_vm(struct mmu_notifier *mn)
{
	return container_of(mn, struct hvx_vm, mmu.mn);
}

/*
 * Non-blockable ranges (the OOM reaper) get the same treatment as
 * blockable ones, because nothing here sleeps: mmu.lock is a spinlock,
 * srcu_read_lock() never blocks, freeing pages does not sleep, and
 * hvx_vm_request_all() only sets bits and sends IPIs, spinning until the
 * kicked vCPUs have left guest mode (which they do at once, in interrupt
 * context). Returning -EAGAIN instead is not an option for a notifier that
 * has invalidate_range_end: the mm core would not call end for it and
 * warns (mm/mmu_notifier.c), and the in-progress count would leak.
 */
static int hvx_mn_invalidate_range_start(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct hvx_vm *vm = hvx_mn_to_vm(mn);
	struct hvx_mmu *mmu = &vm->mmu;
	const struct hvx_memslots *slots;
	LIST_HEAD(freed);
	bool zapped;
	int idx;

	idx = srcu_read_lock(&vm->srcu);
	spin_lock(&mmu->lock);

	/*
	 * Until the matching end, faults on this range must not install
	 * anything: the page they found may be the one going away.
	 */
	if (mmu->invalidate_in_progress++ == 0) {
		mmu->inv_start = range->start;
		mmu->inv_end = range->end;
	} else {
		mmu->inv_start = min_t(u64, mmu->inv_start, range->start);
		mmu->inv_end = max_t(u64, mmu->inv_end, range->end);
	}

	/*
	 * During a memslot delete/move the array may no longer list the old
	 * slot whose leaves still exist: its hvas cannot be translated, so
	 * drop everything (rare, and the guest simply faults back in).
	 */
	slots = srcu_dereference(vm->memslots, &vm->srcu);
	if (mmu->slots_updating)
		zapped = hvx_zap_gfns(mmu, 0, HVX_GFN_LIMIT, &freed);
	else if (slots)
		zapped = hvx_zap_hva(mmu, slots, range->start, range->end,
				     &freed);
	else
		zapped = false;

	spin_unlock(&mmu->lock);
	srcu_read_unlock(&vm->srcu, idx);

	/* Before returning: the host may free the pages right after. */
	hvx_mmu_flush_and_free(vm, zapped, &freed);
	return 0;
}

static void hvx_mn_invalidate_range_end(struct mmu_notifier *mn,
					const struct mmu_notifier_range *range)
{
	struct hvx_mmu *mmu = &hvx_mn_to_vm(mn)->mmu;

	spin_lock(&mmu->lock);
	/*
	 * Both under the lock, which the fault path holds for its check:
	 * a fault sees either the open invalidation or the new sequence.
	 */
	mmu->invalidate_seq++;
	mmu->invalidate_in_progress--;
	spin_unlock(&mmu->lock);
}

/*
 * The mm is going away (exit_mmap(), or our own unregister): no page of it
 * may stay reachable from the guest.
 */
static void hvx_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct hvx_vm *vm = hvx_mn_to_vm(mn);
	struct hvx_mmu *mmu = &vm->mmu;
	LIST_HEAD(freed);
	bool zapped, dying;

	spin_lock(&mmu->lock);
	zapped = hvx_zap_gfns(mmu, 0, HVX_GFN_LIMIT, &freed);
	mmu->invalidate_seq++;
	dying = mmu->dying;
	spin_unlock(&mmu->lock);

	/* From hvx_mmu_destroy() no vCPU runs and vCPUs may be gone. */
	hvx_mmu_flush_and_free(vm, zapped && !dying, &freed);
}

/*
 * Only the callbacks whose prototypes are the same on every kernel hvx
 * builds for (see compat.h); the young/change_pte hooks are optional.
 */
static const struct mmu_notifier_ops hvx_mmu_notifier_ops = {
	.release		= hvx_mn_release,
	.invalidate_range_start	= hvx_mn_invalidate_range_start,
	.invalidate_range_end	= hvx_mn_invalidate_range_end,
};

/* ---- Fault path -------------------------------------------------------- */

/*
 * Whether an invalidation raced with this fault: one is open over part of
 * [@hva, @hva + @size), or one started and ended since @seq was sampled.
 */
static bool hvx_mmu_fault_stale(struct hvx_mmu *mmu, unsigned long seq,
				unsigned long hva, unsigned long size)
{
	lockdep_assert_held(&mmu->lock);

	if (mmu->invalidate_in_progress &&
	    hva < mmu->inv_end && hva + size > mmu->inv_start)
		return true;
	return mmu->invalidate_seq != seq;
}

/*
 * The largest leaf the memslot allows at @gfn: a 2 MiB leaf needs the
 * aligned 2 MiB of guest-physical space around @gfn inside the slot, at
 * the same offset within 2 MiB as its host-virtual address @hva, so that
 * it can copy a host huge page.
 */
static int hvx_slot_max_level(struct hvx_mmu *mmu,
			      const struct hvx_memslot *slot, u64 gfn,
			      unsigned long hva)
{
	u64 first = ALIGN_DOWN(gfn, HVX_2M_PAGES);

	if (mmu->max_level < HVX_LEVEL_2M)
		return HVX_LEVEL_4K;
	if (first < slot->base_gfn ||
	    first + HVX_2M_PAGES > slot->base_gfn + slot->npages)
		return HVX_LEVEL_4K;
	if ((hva ^ (gfn << PAGE_SHIFT)) & (HVX_2M_SIZE - 1))
		return HVX_LEVEL_4K;
	return HVX_LEVEL_2M;
}

/*
 * If the host maps the 2 MiB-aligned window around @hva with one PMD leaf
 * (or inside one PUD leaf) that allows the access, the pfn mapped at the
 * window's start. Run under mmu.lock after the sequence check: the entry
 * read is the one the last invalidation left, and a later change will
 * invalidate the range again.
 */
static bool hvx_host_2m_pfn(struct mm_struct *mm, unsigned long hva,
			    bool writable, u64 *pfn)
{
	unsigned long flags;
	bool ok = false;
	pgd_t pgd;
	p4d_t p4d;
	pud_t pud;
	pmd_t pmd;

	/*
	 * A lockless walk, as GUP-fast does: with interrupts off, the host
	 * cannot finish freeing a page table under it, since x86 frees them
	 * only after a TLB-flush IPI or an RCU-sched grace period, and both
	 * wait for this CPU. Each level is read once.
	 */
	local_irq_save(flags);
	pgd = READ_ONCE(*pgd_offset(mm, hva));
	if (!pgd_present(pgd))
		goto out;
	p4d = READ_ONCE(*p4d_offset(&pgd, hva));
	if (!p4d_present(p4d))
		goto out;
	pud = READ_ONCE(*pud_offset(&p4d, hva));
	if (!pud_present(pud))
		goto out;
	if (pud_leaf(pud)) {
		ok = !writable || pud_write(pud);
		*pfn = pud_pfn(pud) + (((hva & ~PUD_MASK) & ~(HVX_2M_SIZE - 1)) >> PAGE_SHIFT);
		goto out;
	}
	pmd = READ_ONCE(*pmd_offset(&pud, hva));
	if (pmd_present(pmd) && pmd_leaf(pmd)) {
		ok = !writable || pmd_write(pmd);
		*pfn = pmd_pfn(pmd);
	}
out:
	local_irq_restore(flags);
	return ok;
}

/*
 * Whether this fault may map the whole 2 MiB around @hva, and from which
 * host pfn (*@base): the host maps it with one huge page that holds the
 * page just pinned (@pfn), and no invalidation is open over any part of
 * it. An open one has zapped any 2 MiB leaf there and blocks faults on
 * its own range, but a 4 KiB fault elsewhere in the window gets through.
 */
static bool hvx_fault_may_map_2m(struct hvx_vm *vm, unsigned long seq,
				 unsigned long hva, u64 pfn, bool writable,
				 u64 *base)
{
	unsigned long start = ALIGN_DOWN(hva, HVX_2M_SIZE);

	if (hvx_mmu_fault_stale(&vm->mmu, seq, start, HVX_2M_SIZE))
		return false;
	if (!hvx_host_2m_pfn(vm->mm, hva, writable, base))
		return false;
	return IS_ALIGNED(*base, HVX_2M_PAGES) &&
	       *base + ((hva - start) >> PAGE_SHIFT) == pfn;
}

/*
 * The entry for @gfn at *@level (HVX_LEVEL_4K or HVX_LEVEL_2M), linking
 * new tables from @spare (*@nspare of them) where the path is missing. If
 * more are missing than available, returns NULL with the count in *@need
 * and leaves the tree unchanged. *@level comes back lowered to 4 KiB if
 * a table of 4 KiB leaves is where a 2 MiB leaf was wanted (they stay), or
 * raised to 2 MiB if a 2 MiB leaf covers @gfn already.
 */
static u64 *hvx_mmu_walk(struct hvx_mmu *mmu, u64 gfn, int *level,
			 u64 **spare, int *nspare, int *need)
{
	const struct hvx_pte_fmt *fmt = mmu->fmt;
	u64 *table = mmu->root;
	u64 *ptep;
	int l;

	lockdep_assert_held(&mmu->lock);

	for (l = HVX_MMU_LEVELS; l > *level; l--) {
		ptep = &table[hvx_pt_index(gfn, l)];
		if (!fmt->is_present(*ptep))
			break;
		if (hvx_is_leaf(fmt, *ptep, l)) {
			*level = l;
			return ptep;
		}
		table = hvx_entry_table(fmt, *ptep);
	}
	if (l == *level) {
		ptep = &table[hvx_pt_index(gfn, l)];
		if (l == HVX_LEVEL_2M && fmt->is_present(*ptep) &&
		    !hvx_is_leaf(fmt, *ptep, l)) {
			*level = HVX_LEVEL_4K;
			table = hvx_entry_table(fmt, *ptep);
			return &table[hvx_pt_index(gfn, HVX_LEVEL_4K)];
		}
		return ptep;
	}
	/* Below a missing entry every level is missing. */
	if (l - *level > *nspare) {
		*need = l - *level;
		return NULL;
	}
	for (; l > *level; l--) {
		u64 *child = spare[--*nspare];

		spare[*nspare] = NULL;
		hvx_entry_set(&table[hvx_pt_index(gfn, l)],
			      fmt->make_table(virt_to_phys(child)));
		table = child;
	}
	return &table[hvx_pt_index(gfn, *level)];
}

/* What installing the leaf asks of the TLBs. */
enum hvx_leaf_flush {
	HVX_LEAF_NO_FLUSH,	/* new, or more permissive: a fault re-walks */
	HVX_LEAF_FLUSH_SELF,	/* unchanged: this vCPU's TLB is stale */
	HVX_LEAF_FLUSH_ALL,	/* a translation was replaced or narrowed */
};

/* The leaf at *@ptep, of @level, for host memory from @pfn on. */
static enum hvx_leaf_flush hvx_mmu_set_leaf(struct hvx_mmu *mmu, u64 *ptep,
					    int level, u64 pfn, bool writable,
					    bool write)
{
	const struct hvx_pte_fmt *fmt = mmu->fmt;
	u64 new = fmt->make_leaf(pfn, writable, level);
	u64 old = *ptep;
	bool old_w;

	if (!fmt->is_present(old)) {
		hvx_entry_set(ptep, new);
		mmu->pages[level - 1]++;
		return HVX_LEAF_NO_FLUSH;
	}

	old_w = old & mmu->leaf_write_mask;
	if (hvx_leaf_pfn(fmt, old) == pfn) {
		/*
		 * Another vCPU got here first, or this one ran on a stale
		 * TLB entry (e.g. from before a read-only leaf was upgraded
		 * by another vCPU): the entry already allows the access.
		 * Flushing this vCPU guarantees the guest makes progress.
		 */
		if (old == new || (old_w && !write))
			return HVX_LEAF_FLUSH_SELF;
		/* Read-only to writable needs no flush (see above). */
		WRITE_ONCE(*ptep, new);
		return old_w && !writable ? HVX_LEAF_FLUSH_ALL : HVX_LEAF_NO_FLUSH;
	}

	/*
	 * A different page under an unchanged sequence: the notifier zaps
	 * before the host remaps, so this should not happen. Replace the
	 * leaf and flush everyone rather than trust a stale translation.
	 */
	WRITE_ONCE(*ptep, new);
	return HVX_LEAF_FLUSH_ALL;
}

/*
 * A 2 MiB leaf at *@ptep covers @gfn where this fault maps 4 KiB of host
 * page @pfn. If it maps that page already and allows the access, this
 * vCPU ran on a stale TLB entry. Otherwise (a write to a read-only leaf)
 * drop it, and the guest's retry maps 4 KiB or a new 2 MiB leaf.
 */
static enum hvx_leaf_flush hvx_mmu_large_in_way(struct hvx_mmu *mmu,
						u64 *ptep, u64 gfn, u64 pfn,
						bool write)
{
	const struct hvx_pte_fmt *fmt = mmu->fmt;
	u64 old = *ptep;

	if (hvx_leaf_pfn(fmt, old) + (gfn & (HVX_2M_PAGES - 1)) == pfn &&
	    (!write || (old & mmu->leaf_write_mask)))
		return HVX_LEAF_FLUSH_SELF;
	hvx_leaf_clear(mmu, ptep, HVX_LEVEL_2M);
	return HVX_LEAF_FLUSH_ALL;
}

/*
 * Tables a walk found missing: allocated outside mmu->lock (the
 * allocation may sleep), for the next walk to take. False if out of
 * memory.
 */
static bool hvx_mmu_topup_spares(struct hvx_vm *vm, u64 **spare, int *nspare, int need)
{
	while (*nspare < need) {
		spare[*nspare] = hvx_table_alloc(vm);
		if (!spare[*nspare])
			return false;
		(*nspare)++;
	}
	return true;
}

/* After a fault's mmu->lock section: spares back, then the flush it needs. */
static void hvx_mmu_fault_done(struct hvx_vcpu *vcpu, u64 **spare, int nspare,
			       enum hvx_leaf_flush flush)
{
	while (nspare)
		hvx_table_free(vcpu->vm, spare[--nspare]);
	if (flush == HVX_LEAF_FLUSH_SELF)
		hvx_vcpu_request(vcpu, HVX_REQ_TLB_FLUSH);
	else if (flush == HVX_LEAF_FLUSH_ALL)
		hvx_vm_request_all(vcpu->vm, HVX_REQ_TLB_FLUSH);
}

enum hvx_fault_result hvx_mmu_page_fault(struct hvx_vcpu *vcpu, u64 gpa,
					 bool write, bool fetch)
{
	struct hvx_vm *vm = vcpu->vm;
	struct hvx_mmu *mmu = &vm->mmu;
	u64 gfn = gpa >> PAGE_SHIFT;
	u64 *spare[HVX_MMU_LEVELS - 1] = { };
	enum hvx_leaf_flush flush = HVX_LEAF_NO_FLUSH;
	enum hvx_fault_result ret;
	struct hvx_memslot *slot;
	bool slot_writable, writable;
	int nspare = 0, need = 0;
	int max_level, level, want;
	unsigned long seq, hva;
	struct page *page;
	u64 pfn, leaf_pfn;
	u64 *ptep;
	int r;

	/*
	 * @fetch needs nothing: leaves are always executable, and the guest's
	 * own tables apply NX.
	 */
	slot = hvx_gfn_to_memslot(vm, gfn);
	if (!slot)
		return HVX_FAULT_MMIO;
	slot_writable = !(slot->flags & KVM_MEM_READONLY);
	/* KVM semantics: writes to a read-only slot exit as MMIO. */
	if (write && !slot_writable)
		return HVX_FAULT_MMIO;
	if (gfn >= HVX_GFN_LIMIT) {
		pr_warn_ratelimited("gpa 0x%llx is beyond 4-level second-level paging\n",
				    gpa);
		return HVX_FAULT_ERROR;
	}
	/* The pin below works on current->mm; vcpu.c refuses other mms. */
	if (unlikely(current->mm != vm->mm))
		return HVX_FAULT_ERROR;
	hva = hvx_gfn_to_hva(slot, gfn);
	max_level = hvx_slot_max_level(mmu, slot, gfn, hva);

	/*
	 * Sample the sequence before looking up the page: an invalidation
	 * that changes the host PTE after this point bumps it.
	 */
	seq = READ_ONCE(mmu->invalidate_seq);
	/* Order the sample before GUP's reads of the host page tables. */
	smp_rmb();

	/*
	 * Map writable whenever the slot and host allow it, so a read fault
	 * is not followed by a write fault. A read-only host mapping of a
	 * writable slot still serves reads, mapped read-only.
	 */
	writable = slot_writable;
	r = pin_user_pages_fast(hva, 1, writable ? FOLL_WRITE : 0, &page);
	if (r != 1 && writable && !write) {
		writable = false;
		r = pin_user_pages_fast(hva, 1, 0, &page);
	}
	if (r != 1) {
		pr_warn_ratelimited("gpa 0x%llx: no host page at 0x%lx (%d)\n",
				    gpa, hva, r);
		return HVX_FAULT_ERROR;
	}
	pfn = page_to_pfn(page);

	for (;;) {
		spin_lock(&mmu->lock);
		if (hvx_mmu_fault_stale(mmu, seq, hva, PAGE_SIZE)) {
			ret = HVX_FAULT_RETRY;
			goto out_unlock;
		}
		want = HVX_LEVEL_4K;
		leaf_pfn = pfn;
		if (max_level == HVX_LEVEL_2M &&
		    hvx_fault_may_map_2m(vm, seq, hva, pfn, writable, &leaf_pfn))
			want = HVX_LEVEL_2M;
		level = want;
		ptep = hvx_mmu_walk(mmu, gfn, &level, spare, &nspare, &need);
		if (ptep)
			break;
		/*
		 * Tables are missing: allocate outside the spinlock (the
		 * allocation may sleep) and walk again; the seq check above
		 * catches invalidations meanwhile.
		 */
		spin_unlock(&mmu->lock);
		if (!hvx_mmu_topup_spares(vm, spare, &nspare, need)) {
			pr_warn_ratelimited("out of memory for second-level tables\n");
			ret = HVX_FAULT_ERROR;
			goto out_unpin;
		}
	}

	if (level > want)
		flush = hvx_mmu_large_in_way(mmu, ptep, gfn, pfn, write);
	else
		flush = hvx_mmu_set_leaf(mmu, ptep, level,
					 level < want ? pfn : leaf_pfn,
					 writable, write);
	ret = HVX_FAULT_RETRY;
out_unlock:
	spin_unlock(&mmu->lock);
out_unpin:
	/* The notifier, not the pin, keeps the page alive from here on. */
	unpin_user_page(page);
	hvx_mmu_fault_done(vcpu, spare, nspare, flush);
	return ret;
}

void hvx_mmu_map_pfn(struct hvx_vcpu *vcpu, u64 gfn, u64 pfn, const atomic_t *inhibit)
{
	struct hvx_vm *vm = vcpu->vm;
	struct hvx_mmu *mmu = &vm->mmu;
	u64 *spare[HVX_MMU_LEVELS - 1] = { };
	enum hvx_leaf_flush flush = HVX_LEAF_NO_FLUSH;
	int nspare = 0, need = 0, level;
	u64 *ptep;

	for (;;) {
		spin_lock(&mmu->lock);
		if (atomic_read(inhibit))
			goto out_unlock;
		level = HVX_LEVEL_4K;
		ptep = hvx_mmu_walk(mmu, gfn, &level, spare, &nspare, &need);
		if (ptep)
			break;
		spin_unlock(&mmu->lock);
		if (!hvx_mmu_topup_spares(vm, spare, &nspare, need))
			goto out;
	}
	/* A 2 MiB leaf of a memslot added meanwhile: guest memory wins. */
	if (level == HVX_LEVEL_4K)
		flush = hvx_mmu_set_leaf(mmu, ptep, level, pfn, true, true);
out_unlock:
	spin_unlock(&mmu->lock);
out:
	hvx_mmu_fault_done(vcpu, spare, nspare, flush);
}

/* ---- Memslot changes --------------------------------------------------- */

void hvx_mmu_zap_gfn_range(struct hvx_vm *vm, u64 gfn_start, u64 gfn_end)
{
	struct hvx_mmu *mmu = &vm->mmu;
	LIST_HEAD(freed);
	bool zapped;

	spin_lock(&mmu->lock);
	zapped = hvx_zap_gfns(mmu, gfn_start, gfn_end, &freed);
	/* Make any fault that looked at the old slot start over. */
	mmu->invalidate_seq++;
	spin_unlock(&mmu->lock);

	hvx_mmu_flush_and_free(vm, zapped, &freed);
}

void hvx_mmu_slots_update_begin(struct hvx_vm *vm)
{
	spin_lock(&vm->mmu.lock);
	vm->mmu.slots_updating++;
	spin_unlock(&vm->mmu.lock);
}

void hvx_mmu_slots_update_end(struct hvx_vm *vm)
{
	spin_lock(&vm->mmu.lock);
	vm->mmu.slots_updating--;
	spin_unlock(&vm->mmu.lock);
}

/* ---- Setup and teardown ------------------------------------------------ */

int hvx_mmu_init(struct hvx_vm *vm, const struct hvx_pte_fmt *fmt)
{
	struct hvx_mmu *mmu = &vm->mmu;
	int r;

	spin_lock_init(&mmu->lock);
	mmu->fmt = fmt;
	/* The bits that make a leaf writable, whatever the format. */
	mmu->leaf_write_mask = fmt->make_leaf(0, true, HVX_LEVEL_4K) &
				~fmt->make_leaf(0, false, HVX_LEVEL_4K);
	mmu->invalidate_seq = 0;
	mmu->invalidate_in_progress = 0;
	mmu->slots_updating = 0;
	mmu->dying = false;
	memset(mmu->pages, 0, sizeof(mmu->pages));
	mmu->max_level = huge_pages && fmt->has_2m() ? HVX_LEVEL_2M : HVX_LEVEL_4K;

	mmu->root = hvx_table_alloc(vm);
	if (!mmu->root)
		return -ENOMEM;
	mmu->root_pa = virt_to_phys(mmu->root);

	/* Sleeps: takes mmap_lock for writing. */
	mmu->mn.ops = &hvx_mmu_notifier_ops;
	r = mmu_notifier_register(&mmu->mn, vm->mm);
	if (r) {
		hvx_table_free(vm, mmu->root);
		mmu->root = NULL;
		mmu->root_pa = 0;
		return r;
	}
	mmu->mn_registered = true;
	return 0;
}

void hvx_mmu_destroy(struct hvx_vm *vm)
{
	struct hvx_mmu *mmu = &vm->mmu;

	if (mmu->mn_registered) {
		spin_lock(&mmu->lock);
		mmu->dying = true;
		spin_unlock(&mmu->lock);
		/*
		 * Calls release if the mm has not exited yet, and waits for
		 * every running callback.
		 */
		mmu_notifier_unregister(&mmu->mn, vm->mm);
		mmu->mn_registered = false;
	}
	if (mmu->root) {
		hvx_tree_free(vm, mmu->fmt, mmu->root, HVX_MMU_LEVELS);
		mmu->root = NULL;
		mmu->root_pa = 0;
	}
}
