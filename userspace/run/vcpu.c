// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: one thread per vCPU. vCPU 0 starts at the kernel's entry; the
 * others wait in the kernel (the in-kernel local APIC's wait-for-SIPI
 * state) until the guest starts them with INIT/SIPI. Whatever ends the
 * guest calls guest_stop(), which kicks every thread out of KVM_RUN with
 * SIGUSR1 (immediate_exit closes the race with a thread about to enter)
 * and wakes the main thread, which joins them all. SIGUSR2 asks every
 * thread to log its vCPU's state and go on: for a guest that hangs.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "hvx-run.h"

#define CPUID_1_ECX_TSC_DEADLINE	(1U << 24)
#define CPUID_1_ECX_HYPERVISOR		(1U << 31)

struct vcpu {
	struct vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	unsigned int dumped;	/* the last dump_gen this thread logged */
};

static struct vcpu vcpus[MAX_VCPUS];
static unsigned int nr_vcpus;

static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;
static bool stopping;
static int stop_status;
static char stop_why[256];

static __thread struct kvm_run *this_run;
static volatile sig_atomic_t dump_gen;

static void kick_handler(int sig)
{
	(void)sig;
	if (this_run)
		this_run->immediate_exit = 1;
}

void guest_stop(int status, const char *why)
{
	unsigned int i;

	pthread_mutex_lock(&stop_lock);
	if (!stopping) {
		__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
		stop_status = status;
		snprintf(stop_why, sizeof(stop_why), "%s", why);
		for (i = 0; i < nr_vcpus; i++)
			pthread_kill(vcpus[i].thread, SIGUSR1);
		pthread_cond_broadcast(&stop_cond);
	}
	pthread_mutex_unlock(&stop_lock);
}

static struct kvm_cpuid2 *supported_cpuid(struct vm *vm)
{
	unsigned int nent = 256;
	struct kvm_cpuid2 *c;

	for (;;) {
		c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		if (!c)
			die("out of memory");
		c->nent = nent;
		if (!ioctl(vm->sys_fd, KVM_GET_SUPPORTED_CPUID, c))
			return c;
		if (errno != E2BIG || nent >= 4096)
			die("%s: KVM_GET_SUPPORTED_CPUID: %s", vm->dev, strerror(errno));
		free(c);
		nent *= 2;
	}
}

/*
 * The supported table with this vCPU's APIC ID in every leaf that reports
 * one, the TSC-deadline timer the device's in-kernel APIC has
 * (KVM_CAP_TSC_DEADLINE_TIMER) but does not list (api.rst), and the
 * hypervisor bit, which KVM leaves to the VMM: without it Linux does not
 * look at leaf 0x40000000 for kvmclock, and calibrates against a PIT.
 */
static void set_cpuid(struct vcpu *v, const struct kvm_cpuid2 *sup)
{
	size_t size = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(size);
	unsigned int i;

	if (!c)
		die("out of memory");
	memcpy(c, sup, size);
	for (i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx = (e->ebx & 0x00ffffff) | v->id << 24;
			e->ecx |= CPUID_1_ECX_TSC_DEADLINE | CPUID_1_ECX_HYPERVISOR;
			break;
		case 0xb:
		case 0x1f:
			e->edx = v->id;
			break;
		case 0x8000001e:
			e->eax = v->id;
			break;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		die("%s: KVM_SET_CPUID2: %s", v->vm->dev, strerror(errno));
	free(c);
}

static void set_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, bool l, bool db)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .s = 1, .l = l, .db = db, .g = 1,
	};
}

/* The boot CPU's state at the kernel's entry (boot.c wrote the GDT). */
static void set_boot_state(struct vcpu *v, const struct boot_entry *entry)
{
	struct kvm_regs regs = { .rflags = 2, .rip = entry->rip, .rsi = entry->rsi,
				 .rbx = entry->rbx };
	struct kvm_sregs sregs;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		die("%s: KVM_GET_SREGS: %s", v->vm->dev, strerror(errno));
	if (entry->long_mode) {
		set_segment(&sregs.cs, 0x10, 0xb, true, false);
		sregs.cr0 = 0x80050033;		/* PG, AM, WP, NE, ET, MP, PE */
		sregs.cr3 = GPA_PML4;
		sregs.cr4 = 0x20;		/* PAE */
		sregs.efer = 0x500;		/* LMA, LME */
	} else {
		set_segment(&sregs.cs, 0x08, 0xb, false, true);
		sregs.cr0 = 0x11;		/* ET, PE */
		sregs.cr3 = 0;
		sregs.cr4 = 0;
		sregs.efer = 0;
	}
	set_segment(&sregs.ds, 0x18, 0x3, false, true);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){
		.selector = 0x20, .limit = 0x67, .type = 0xb, .present = 1,
	};
	sregs.gdt.base = GPA_GDT;
	sregs.gdt.limit = 6 * 8 - 1;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		die("%s: KVM_SET_SREGS: %s", v->vm->dev, strerror(errno));
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		die("%s: KVM_SET_REGS: %s", v->vm->dev, strerror(errno));
}

/* Where a vCPU was when the hypervisor or the guest gave up: for the log. */
/* Logs where @v is; false if its registers could not be read. */
static bool log_state(struct vcpu *v, struct kvm_regs *r)
{
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, r) < 0 || ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return false;
	warn("vCPU %u: RIP %#llx RSP %#llx RFLAGS %#llx CS %#x CR0 %#llx CR3 %#llx CR4 %#llx EFER %#llx",
	     v->id, r->rip, r->rsp, r->rflags, s.cs.selector, s.cr0, s.cr3, s.cr4, s.efer);
	return true;
}

static void dump_state(struct vcpu *v)
{
	struct kvm_regs r;

	log_state(v, &r);
}

/*
 * SIGUSR2: where each vCPU is and what its local APIC holds, without
 * stopping the guest. pthread_kill() is async-signal-safe.
 */
static void dump_handler(int sig)
{
	unsigned int i;

	(void)sig;
	dump_gen++;
	for (i = 0; i < __atomic_load_n(&nr_vcpus, __ATOMIC_ACQUIRE); i++)
		pthread_kill(vcpus[i].thread, SIGUSR1);
}

static uint32_t apic_reg(const struct kvm_lapic_state *l, unsigned int off)
{
	uint32_t v;

	memcpy(&v, l->regs + off, sizeof(v));
	return v;
}

/* The highest vector set in the 256-bit APIC register at @off, or -1. */
static int apic_top(const struct kvm_lapic_state *l, unsigned int off)
{
	int i;

	for (i = 7; i >= 0; i--) {
		uint32_t w = apic_reg(l, off + i * 0x10);

		if (w)
			return i * 32 + 31 - __builtin_clz(w);
	}
	return -1;
}

/*
 * What the VMM's own view of guest memory holds at the guest address in
 * @reg, if it is a Linux direct-map or kernel-image address (no KASLR:
 * hvx-run's PVH boot has no decompressor to randomize them): a lock word
 * the vCPUs spin on, say, to compare with what they see.
 */
static void dump_word(struct vcpu *v, const char *name, uint64_t va)
{
	uint64_t gpa;
	uint32_t *p;

	if (va >= 0xffff888000000000ULL && va < 0xffffc88000000000ULL)
		gpa = va - 0xffff888000000000ULL;
	else if (va >= 0xffffffff80000000ULL)
		gpa = va - 0xffffffff80000000ULL;
	else
		return;
	p = gpa_ptr(v->vm, gpa, sizeof(*p));
	if (p)
		warn("vCPU %u: %s %#llx: the VMM reads %#x at GPA %#llx", v->id, name,
		     (unsigned long long)va, *(volatile uint32_t *)p, (unsigned long long)gpa);
}

static void dump_full(struct vcpu *v)
{
	struct kvm_lapic_state l;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events ev;
	struct kvm_regs r;

	if (log_state(v, &r)) {
		warn("vCPU %u: RAX %#llx RBX %#llx RCX %#llx RDX %#llx RSI %#llx RDI %#llx",
		     v->id, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi);
		dump_word(v, "RBX", r.rbx);
		dump_word(v, "RDI", r.rdi);
	}
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0 || ioctl(v->fd, KVM_GET_LAPIC, &l) < 0 ||
	    ioctl(v->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return;
	warn("vCPU %u: mp_state %u, APIC: top IRR %d ISR %d TPR %#x LVTT %#x TMCCT %#x; "
	     "interrupt injected %u (vector %u), shadow %u, NMI pending %u masked %u",
	     v->id, mp.mp_state, apic_top(&l, 0x200), apic_top(&l, 0x100),
	     apic_reg(&l, 0x80), apic_reg(&l, 0x320), apic_reg(&l, 0x390),
	     ev.interrupt.injected, ev.interrupt.nr, ev.interrupt.shadow, ev.nmi.pending,
	     ev.nmi.masked);
}

/* Handle one exit; false once the guest is done. */
static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char why[160];
	unsigned int i;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t *data = (uint8_t *)run + run->io.data_offset;

		for (i = 0; i < run->io.count; i++, data += run->io.size)
			pio_access(run->io.port, data, run->io.size,
				   run->io.direction == KVM_EXIT_IO_OUT);
		return true;
	}
	case KVM_EXIT_MMIO:
		mmio_access(run->mmio.phys_addr, run->mmio.data, run->mmio.len,
			    run->mmio.is_write);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		snprintf(why, sizeof(why), "vCPU %u: triple fault (KVM_EXIT_SHUTDOWN)", v->id);
		dump_state(v);
		guest_stop(EXIT_TRIPLE, why);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			guest_stop(EXIT_POWEROFF, "the guest powered off");
			return false;
		case KVM_SYSTEM_EVENT_RESET:
			guest_stop(EXIT_REBOOT, "the guest reset the machine");
			return false;
		case KVM_SYSTEM_EVENT_CRASH:
			guest_stop(EXIT_PANIC, "the guest crashed");
			return false;
		}
		snprintf(why, sizeof(why), "vCPU %u: system event %u", v->id,
			 run->system_event.type);
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "vCPU %u: KVM_EXIT_FAIL_ENTRY, reason %#llx", v->id,
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	case KVM_EXIT_INTERNAL_ERROR: {
		int n = snprintf(why, sizeof(why), "vCPU %u: KVM_EXIT_INTERNAL_ERROR, suberror %u",
				 v->id, run->internal.suberror);

		for (i = 0; i < run->internal.ndata && i < 4 && n < (int)sizeof(why); i++)
			n += snprintf(why + n, sizeof(why) - n, " %#llx",
				      (unsigned long long)run->internal.data[i]);
		break;
	}
	default:
		snprintf(why, sizeof(why), "vCPU %u: unexpected exit reason %u", v->id,
			 run->exit_reason);
	}
	dump_state(v);
	guest_stop(EXIT_HV_ERROR, why);
	return false;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	char why[128];

	this_run = v->run;
	/* Read without the lock: each exit passes here. */
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			int err = errno;

			if (err == EINTR && v->dumped != (unsigned int)dump_gen &&
			    !__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
				v->dumped = dump_gen;
				dump_full(v);
				v->run->immediate_exit = 0;
			}
			if (err == EINTR || err == EAGAIN)
				continue;
			errno = err;
			snprintf(why, sizeof(why), "vCPU %u: KVM_RUN: %s", v->id, strerror(errno));
			guest_stop(EXIT_HV_ERROR, why);
			break;
		}
		if (!handle_exit(v))
			break;
	}
	return NULL;
}

static void vcpu_create(struct vm *vm, struct vcpu *v, unsigned int id,
			const struct kvm_cpuid2 *cpuid)
{
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		die("%s: KVM_CREATE_VCPU %u: %s", vm->dev, id, strerror(errno));
	v->run = mmap(NULL, vm->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		die("%s: mmap of vCPU %u: %s", vm->dev, id, strerror(errno));
	set_cpuid(v, cpuid);
}

int vcpus_run(struct vm *vm, const struct boot_entry *entry)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	struct kvm_cpuid2 *cpuid = supported_cpuid(vm);
	unsigned int i;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART: KVM_RUN must return */
	sa.sa_handler = dump_handler;
	sigaction(SIGUSR2, &sa, NULL);

	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_create(vm, &vcpus[i], i, cpuid);
	free(cpuid);
	set_boot_state(&vcpus[0], entry);

	pthread_mutex_lock(&stop_lock);
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (pthread_create(&vcpus[i].thread, NULL, vcpu_thread, &vcpus[i]))
			die("cannot start the thread of vCPU %u", i);
		nr_vcpus++;
	}
	while (!stopping)
		pthread_cond_wait(&stop_cond, &stop_lock);
	pthread_mutex_unlock(&stop_lock);

	for (i = 0; i < nr_vcpus; i++)
		pthread_join(vcpus[i].thread, NULL);
	if (stop_status != EXIT_POWEROFF)
		warn("%s", stop_why);
	return stop_status;
}
