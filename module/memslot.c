// SPDX-License-Identifier: GPL-2.0
/*
 * Guest physical memory slots (KVM_SET_USER_MEMORY_REGION) and the
 * gfn -> hva lookups used by the MMU and the guest memory copies.
 *
 * The array is small (HVX_USER_MEM_SLOTS entries) and is copied whole on
 * every change, so a reader under vm->srcu sees either the old or the new
 * layout, never a half-updated one. Writers serialise on vm->lock.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/kernel.h>
#include <linux/kvm.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/uaccess.h>
#include <asm/processor.h>

#include "hvx.h"
#include "memslot.h"
#include "mmu/mmu.h"

/* KVM's KVM_MEM_MAX_NR_PAGES: a slot is at most 2^31 - 1 pages. */
#define HVX_MEM_MAX_NR_PAGES	((1UL << 31) - 1)

/* The flags a slot may carry. No dirty logging: KVM_MEM_LOG_DIRTY_PAGES is refused. */
#define HVX_MEM_VALID_FLAGS	KVM_MEM_READONLY

/*
 * Highest gfn a slot may reach. Like KVM (kvm_mmu_max_gfn() with TDP), this
 * is the raw host MAXPHYADDR from CPUID, not boot_cpu_data's, which SME/MKTME
 * reduce although the hardware translates those bits in NPT/EPT. The
 * generic MMU builds four-level tables, so also never beyond 48 bits.
 */
static u64 hvx_max_gfn(void)
{
	unsigned int bits = boot_cpu_data.x86_phys_bits;

	if (boot_cpu_data.extended_cpuid_level >= 0x80000008)
		bits = cpuid_eax(0x80000008) & 0xff;
	bits = min(bits, 48U);
	return (1ULL << (bits - PAGE_SHIFT)) - 1;
}

static struct hvx_memslots *hvx_memslots_locked(struct hvx_vm *vm)
{
	return rcu_dereference_protected(vm->memslots, lockdep_is_held(&vm->lock));
}

int hvx_memslots_init(struct hvx_vm *vm)
{
	struct hvx_memslots *slots;

	/* About a kilobyte, not page-sized: kzalloc, not the page allocator. */
	slots = kzalloc(sizeof(*slots), GFP_KERNEL_ACCOUNT);
	if (!slots)
		return -ENOMEM;
	RCU_INIT_POINTER(vm->memslots, slots);
	return 0;
}

void hvx_memslots_free(struct hvx_vm *vm)
{
	/* Called once the last VM reference is gone: no reader can remain. */
	kfree(rcu_dereference_protected(vm->memslots, 1));
	RCU_INIT_POINTER(vm->memslots, NULL);
}

static struct hvx_memslot *hvx_find_slot_id(struct hvx_memslots *slots, u16 id)
{
	int i;

	for (i = 0; i < slots->used; i++)
		if (slots->slots[i].id == id)
			return &slots->slots[i];
	return NULL;
}

/* Does [start, end) intersect a slot other than @id? */
static bool hvx_slot_overlaps(struct hvx_memslots *slots, u16 id, u64 start, u64 end)
{
	const struct hvx_memslot *s;
	int i;

	for (i = 0; i < slots->used; i++) {
		s = &slots->slots[i];
		if (s->id != id && start < s->base_gfn + s->npages && s->base_gfn < end)
			return true;
	}
	return false;
}

/*
 * The checks KVM makes before looking at existing slots
 * (kvm_vm_ioctl_set_memory_region, check_memory_region_flags and the
 * "general sanity checks" of __kvm_set_memory_region), in KVM's order.
 * Every failure is -EINVAL.
 */
static int hvx_check_region(const struct kvm_userspace_memory_region *mem)
{
	if ((u16)mem->slot >= HVX_USER_MEM_SLOTS)
		return -EINVAL;
	if (mem->flags & ~HVX_MEM_VALID_FLAGS)
		return -EINVAL;
	/* memory_size always fits an unsigned long on x86-64. */
	if (mem->memory_size & (PAGE_SIZE - 1))
		return -EINVAL;
	if (mem->guest_phys_addr & (PAGE_SIZE - 1))
		return -EINVAL;
	/* The hva is later used with copy_{from,to}_user() and GUP. */
	if ((mem->userspace_addr & (PAGE_SIZE - 1)) ||
	    mem->userspace_addr != untagged_addr(mem->userspace_addr) ||
	    !access_ok((void __user *)(unsigned long)mem->userspace_addr, mem->memory_size))
		return -EINVAL;
	/* Address space id: hvx has only address space 0 (no SMM). */
	if (mem->slot >> 16)
		return -EINVAL;
	if (mem->guest_phys_addr + mem->memory_size < mem->guest_phys_addr)
		return -EINVAL;
	if ((mem->memory_size >> PAGE_SHIFT) > HVX_MEM_MAX_NR_PAGES)
		return -EINVAL;
	return 0;
}

enum hvx_mr_change {
	HVX_MR_CREATE,
	HVX_MR_DELETE,
	HVX_MR_MOVE,
};

int hvx_set_memory_region(struct hvx_vm *vm,
			  const struct kvm_userspace_memory_region *mem)
{
	struct hvx_memslots *slots, *new;
	struct hvx_memslot *old, *s;
	enum hvx_mr_change change;
	u64 base_gfn, npages, old_gfn = 0, old_npages = 0;
	u16 id;
	int r;

	r = hvx_check_region(mem);
	if (r)
		return r;

	id = (u16)mem->slot;
	base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	npages = mem->memory_size >> PAGE_SHIFT;

	mutex_lock(&vm->lock);
	slots = hvx_memslots_locked(vm);
	old = hvx_find_slot_id(slots, id);

	if (!npages) {
		/* Deleting a slot that does not exist is -EINVAL in KVM. */
		r = -EINVAL;
		if (!old)
			goto out;
		change = HVX_MR_DELETE;
	} else if (!old) {
		change = HVX_MR_CREATE;
	} else {
		/*
		 * KVM lets an existing slot only move (same hva, same size) or
		 * change flags other than KVM_MEM_READONLY; hvx accepts no such
		 * flag, so what is left is a move or a no-op.
		 */
		r = -EINVAL;
		if (mem->userspace_addr != old->userspace_addr ||
		    npages != old->npages ||
		    ((mem->flags ^ old->flags) & KVM_MEM_READONLY))
			goto out;
		r = 0;
		if (base_gfn == old->base_gfn)
			goto out;
		change = HVX_MR_MOVE;
	}

	if (change != HVX_MR_DELETE) {
		r = -EEXIST;
		if (hvx_slot_overlaps(slots, id, base_gfn, base_gfn + npages))
			goto out;
		/* KVM checks this later, in kvm_arch_prepare_memory_region(). */
		r = -EINVAL;
		if (base_gfn + npages - 1 > hvx_max_gfn())
			goto out;
	}

	r = -ENOMEM;
	new = kmemdup(slots, sizeof(*slots), GFP_KERNEL_ACCOUNT);
	if (!new)
		goto out;

	if (old) {
		old_gfn = old->base_gfn;
		old_npages = old->npages;
		s = &new->slots[old - slots->slots];
	} else {
		s = &new->slots[new->used++];
	}

	if (change == HVX_MR_DELETE) {
		*s = new->slots[--new->used];
	} else {
		s->id = id;
		s->base_gfn = base_gfn;
		s->npages = npages;
		s->userspace_addr = mem->userspace_addr;
		s->flags = mem->flags;
	}

	/*
	 * While the new array no longer maps the old range's hvas, the mmu
	 * notifier must drop everything it cannot attribute (mmu.h).
	 */
	if (change != HVX_MR_CREATE)
		hvx_mmu_slots_update_begin(vm);
	rcu_assign_pointer(vm->memslots, new);
	/*
	 * Once every reader of the old array is gone, no fault can install a
	 * translation of the old range any more; only then is zapping final.
	 */
	synchronize_srcu(&vm->srcu);
	if (change != HVX_MR_CREATE) {
		hvx_mmu_zap_gfn_range(vm, old_gfn, old_gfn + old_npages);
		hvx_mmu_slots_update_end(vm);
	}
	kfree(slots);
	r = 0;
out:
	mutex_unlock(&vm->lock);
	return r;
}

struct hvx_memslot *hvx_gfn_to_memslot(struct hvx_vm *vm, u64 gfn)
{
	struct hvx_memslots *slots;
	struct hvx_memslot *s;
	int i;

	slots = srcu_dereference_check(vm->memslots, &vm->srcu,
				       lockdep_is_held(&vm->lock));
	for (i = 0; i < slots->used; i++) {
		s = &slots->slots[i];
		if (gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

/*
 * The user address backing @gpa, or NULL if no slot maps it (or, for a
 * write, the slot is read-only). The guest memory lives in vm->mm, so the
 * copies below are only meaningful from a thread of that mm.
 */
static void __user *hvx_gpa_to_uaddr(struct hvx_vm *vm, u64 gpa, bool write)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	struct hvx_memslot *slot;

	slot = hvx_gfn_to_memslot(vm, gfn);
	if (!slot || (write && (slot->flags & KVM_MEM_READONLY)))
		return NULL;
	return (void __user *)(hvx_gfn_to_hva(slot, gfn) + offset_in_page(gpa));
}

static bool hvx_guest_range_ok(struct hvx_vm *vm, u64 gpa, unsigned long len)
{
	if (current->mm != vm->mm)
		return false;
	/* A range wrapping past 2^64 would alias gpa 0. */
	return !len || gpa + len - 1 >= gpa;
}

int hvx_read_guest(struct hvx_vm *vm, u64 gpa, void *data, unsigned long len)
{
	void __user *uaddr;
	unsigned long n;
	u8 *dst = data;

	if (!hvx_guest_range_ok(vm, gpa, len))
		return -EFAULT;
	while (len) {
		n = min_t(unsigned long, len, PAGE_SIZE - offset_in_page(gpa));
		uaddr = hvx_gpa_to_uaddr(vm, gpa, false);
		if (!uaddr || copy_from_user(dst, uaddr, n))
			return -EFAULT;
		gpa += n;
		dst += n;
		len -= n;
	}
	return 0;
}

int hvx_write_guest(struct hvx_vm *vm, u64 gpa, const void *data,
		    unsigned long len)
{
	const u8 *src = data;
	void __user *uaddr;
	unsigned long n;

	if (!hvx_guest_range_ok(vm, gpa, len))
		return -EFAULT;
	while (len) {
		n = min_t(unsigned long, len, PAGE_SIZE - offset_in_page(gpa));
		uaddr = hvx_gpa_to_uaddr(vm, gpa, true);
		if (!uaddr || copy_to_user(uaddr, src, n))
			return -EFAULT;
		gpa += n;
		src += n;
		len -= n;
	}
	return 0;
}
