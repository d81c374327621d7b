// SPDX-License-Identifier: GPL-2.0
/*
 * kvmclock, KVM's paravirtual clock (Documentation/virt/kvm/x86/msr.rst),
 * and KVM_GET/SET_CLOCK. A guest that finds KVM_FEATURE_CLOCKSOURCE2 in
 * CPUID 0x40000001 writes the guest-physical address of a
 * struct pvclock_vcpu_time_info to MSR_KVM_SYSTEM_TIME_NEW; hvx fills it
 * with a (TSC, nanoseconds) pair and the TSC's rate as a multiplier and
 * shift, from which the guest reads time with RDTSC alone. This is also
 * how a Linux guest learns its TSC frequency without calibrating it
 * against a PIT (kvm_get_tsc_khz() reads it back from the multiplier).
 *
 * The guest TSC ticks at the host's rate (no scaling), so the clock is
 * one line per VM: kvmclock = ref_ns + (host TSC - ref_tsc) at tsc_khz.
 * Every vCPU's page describes that same line in its own guest TSC, so
 * the vCPUs agree; with a stable host TSC and the VM's common TSC
 * offset the page says so (PVCLOCK_TSC_STABLE_BIT) and a guest may read
 * any vCPU's page anywhere, as Linux's vDSO does.
 */
#define pr_fmt(fmt) "hvx: " fmt

#include <linux/kvm.h>
#include <linux/math64.h>
#include <linux/ktime.h>
#include <asm/kvm_para.h>
#include <asm/pvclock-abi.h>
#include <asm/tsc.h>

#include "hvx.h"
#include "memslot.h"

#define HVX_CLOCK_FLAGS	(KVM_CLOCK_TSC_STABLE | KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC)

/*
 * Whether every host CPU's TSC ticks together at a constant rate: the
 * host kernel marks its TSC unstable when its boot-time sync check, its
 * clocksource watchdog or a frequency change finds otherwise.
 */
static bool host_tsc_stable(void)
{
	return !check_tsc_unstable();
}

/*
 * pvclock's scale: ns = ((delta << shift) * mul) >> 32, with a negative
 * shift meaning delta >> -shift. Pick the shift that puts mul in
 * [2^31, 2^32), the most precision a u32 multiplier holds.
 */
static void kvmclock_scale(u32 khz, u32 *mul, s8 *shift)
{
	const u64 ns_per_khz_tick = (u64)NSEC_PER_MSEC << 32;	/* 1e6 / khz, in 32.32 */
	s8 s = 0;
	u64 m;

	if (!khz) {	/* no TSC rate known: a page that never advances */
		*mul = 0;
		*shift = 0;
		return;
	}
	m = div_u64(ns_per_khz_tick, khz);

	while (m >= BIT_ULL(32)) {
		s++;
		m = div_u64(ns_per_khz_tick >> s, khz);
	}
	while (m < BIT_ULL(31) && s > -8) {
		s--;
		m = div_u64(ns_per_khz_tick << -s, khz);
	}
	*mul = m;
	*shift = s;
}

static u64 kvmclock_scale_delta(u64 delta, u32 mul, s8 shift)
{
	delta = shift >= 0 ? delta << shift : delta >> -shift;
	return mul_u64_u32_shr(delta, mul, 32);
}

/* The guest clock starts at 0, the guest TSCs too (vcpu.c). */
void hvx_kvmclock_vm_init(struct hvx_vm *vm)
{
	struct hvx_kvmclock *c = &vm->clock;

	spin_lock_init(&c->lock);
	c->ref_tsc = vm->tsc_base;
	c->ref_ns = 0;
	kvmclock_scale(tsc_khz, &c->mul, &c->shift);
}

/* kvmclock at host TSC @tsc; c->lock held. */
static u64 kvmclock_at(const struct hvx_kvmclock *c, u64 tsc)
{
	return c->ref_ns + kvmclock_scale_delta(tsc - c->ref_tsc, c->mul, c->shift);
}

/* kvmclock, the host TSC and the wall clock, read together. */
static void kvmclock_read(struct hvx_vm *vm, u64 *clock, u64 *tsc, u64 *real)
{
	unsigned long flags;

	spin_lock_irqsave(&vm->clock.lock, flags);
	*tsc = rdtsc();
	*real = ktime_get_real_ns();
	*clock = kvmclock_at(&vm->clock, *tsc);
	spin_unlock_irqrestore(&vm->clock.lock, flags);
}

int hvx_vm_get_clock(struct hvx_vm *vm, struct kvm_clock_data *data)
{
	memset(data, 0, sizeof(*data));
	kvmclock_read(vm, &data->clock, &data->host_tsc, &data->realtime);
	data->flags = KVM_CLOCK_REALTIME | KVM_CLOCK_HOST_TSC;
	if (host_tsc_stable())
		data->flags |= KVM_CLOCK_TSC_STABLE;
	return 0;
}

/*
 * KVM_SET_CLOCK: kvmclock reads data->clock now. As KVM: the flags of a
 * KVM_GET_CLOCK result are accepted back; with KVM_CLOCK_REALTIME the
 * wall-clock time passed since data->realtime is added (never taken
 * away), so a restored guest does not see its clock stand still.
 */
int hvx_vm_set_clock(struct hvx_vm *vm, const struct kvm_clock_data *data)
{
	u64 clock = data->clock, real;
	unsigned long flags;

	if (data->flags & ~HVX_CLOCK_FLAGS)
		return -EINVAL;
	spin_lock_irqsave(&vm->clock.lock, flags);
	real = ktime_get_real_ns();
	if ((data->flags & KVM_CLOCK_REALTIME) && real > data->realtime)
		clock += real - data->realtime;
	vm->clock.ref_tsc = rdtsc();
	vm->clock.ref_ns = clock;
	spin_unlock_irqrestore(&vm->clock.lock, flags);
	hvx_vm_request_all(vm, HVX_REQ_CLOCK_UPDATE);
	return 0;
}

/*
 * Write the vCPU's time info page, if it enabled one. pvclock's protocol:
 * an odd version while the fields change, so a reader on another vCPU
 * retries rather than mixing old and new.
 */
void hvx_kvmclock_update(struct hvx_vcpu *vcpu)
{
	struct hvx_kvmclock *c = &vcpu->vm->clock;
	struct pvclock_vcpu_time_info pv = { };
	u64 gpa = vcpu->kvmclock_msr & ~1ULL;
	unsigned long flags;

	if (!(vcpu->kvmclock_msr & 1))
		return;
	spin_lock_irqsave(&c->lock, flags);
	pv.tsc_timestamp = c->ref_tsc + vcpu->tsc_offset;
	pv.system_time = c->ref_ns;
	pv.tsc_to_system_mul = c->mul;
	pv.tsc_shift = c->shift;
	spin_unlock_irqrestore(&c->lock, flags);
	if (host_tsc_stable() && vcpu->tsc_offset == -vcpu->vm->tsc_base)
		pv.flags = PVCLOCK_TSC_STABLE_BIT;

	pv.version = ++vcpu->kvmclock_version | 1;
	if (hvx_write_guest(vcpu->vm, gpa, &pv.version, sizeof(pv.version)))
		return;	/* no memory there: as KVM, the clock just stays unset */
	/* The odd version is visible before any field changes... */
	smp_wmb();
	hvx_write_guest(vcpu->vm, gpa, &pv, sizeof(pv));
	/* ...and every field before the even version. */
	smp_wmb();
	pv.version = ++vcpu->kvmclock_version;
	hvx_write_guest(vcpu->vm, gpa, &pv.version, sizeof(pv.version));
}

/*
 * MSR_KVM_WALL_CLOCK(_NEW) written: the wall-clock time at which
 * kvmclock read 0, into the struct pvclock_wall_clock at @gpa, under
 * the same odd/even version protocol (continuing the guest's version).
 */
static void kvmclock_write_wall_clock(struct hvx_vcpu *vcpu, u64 gpa)
{
	struct pvclock_wall_clock wc = { };
	u64 clock, tsc, real, boot;
	u32 rem;
	int idx;

	/* KVM_SET_MSRS comes here too, outside KVM_RUN's memslot lock. */
	idx = srcu_read_lock(&vcpu->vm->srcu);
	if (hvx_read_guest(vcpu->vm, gpa, &wc.version, sizeof(wc.version)))
		goto out;
	kvmclock_read(vcpu->vm, &clock, &tsc, &real);
	boot = real - clock;
	wc.version |= 1;
	hvx_write_guest(vcpu->vm, gpa, &wc.version, sizeof(wc.version));
	/* As for the time page: odd version, fields, even version. */
	smp_wmb();
	wc.sec = div_u64_rem(boot, NSEC_PER_SEC, &rem);
	wc.nsec = rem;
	hvx_write_guest(vcpu->vm, gpa, &wc, sizeof(wc));
	smp_wmb();	/* the fields before the even version */
	wc.version++;
	hvx_write_guest(vcpu->vm, gpa, &wc.version, sizeof(wc.version));
out:
	srcu_read_unlock(&vcpu->vm->srcu, idx);
}

bool hvx_kvmclock_msr(u32 index)
{
	switch (index) {
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		return true;
	}
	return false;
}

/*
 * The old and new MSR numbers behave alike here (KVM ties the old ones
 * to KVM_FEATURE_CLOCKSOURCE, which hvx reports too). Reads return what
 * was written; KVM_SET_MSRS restores through the same path.
 */
int hvx_kvmclock_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data)
{
	if (index == MSR_KVM_SYSTEM_TIME || index == MSR_KVM_SYSTEM_TIME_NEW)
		*data = vcpu->kvmclock_msr;
	else
		*data = vcpu->wall_clock_msr;
	return 0;
}

int hvx_kvmclock_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data)
{
	if (index == MSR_KVM_SYSTEM_TIME || index == MSR_KVM_SYSTEM_TIME_NEW) {
		vcpu->kvmclock_msr = data;
		if (data & 1)
			set_bit(HVX_REQ_CLOCK_UPDATE, &vcpu->requests);
		return 0;
	}
	vcpu->wall_clock_msr = data;
	kvmclock_write_wall_clock(vcpu, data);
	return 0;
}
