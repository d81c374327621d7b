/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvx core types: VMs, vCPUs and the vendor-neutral exit record.
 *
 * The core (everything directly under module/) includes this header and
 * never a vendor header: VMX and SVM are reached only through
 * struct hvx_backend_ops (backend.h).
 */
#ifndef HVX_HVX_H
#define HVX_HVX_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/kref.h>
#include <linux/srcu.h>
#include <linux/preempt.h>
#include <linux/kvm.h>
#include <linux/wait.h>

#include "regs.h"
#include "emulate.h"
#include "memslot.h"
#include "mmu/mmu.h"

#define HVX_API_VERSION		12
#define HVX_MAX_VCPUS		64
#define HVX_MAX_VCPU_ID		HVX_MAX_VCPUS
#define HVX_MAX_CPUID_ENTRIES	256
/* kvm_run page + one page of PIO data, as KVM_PIO_PAGE_OFFSET == 1. */
#define HVX_PIO_PAGE_OFFSET	1
#define HVX_VCPU_MMAP_PAGES	2

struct hvx_vm;
struct hvx_vcpu;

/* Vendor-neutral exit reasons; each backend maps its codes onto these. */
enum hvx_exit_reason {
	/* 0, so that a backend's exit table maps what it lacks to "unknown" */
	HVX_EXIT_UNKNOWN,	/* unexpected exit: internal error to userspace */
	HVX_EXIT_NONE,		/* handled by the backend, just re-enter */
	HVX_EXIT_INTR,		/* host interrupt/NMI; already serviced */
	HVX_EXIT_CPUID,
	HVX_EXIT_HLT,
	HVX_EXIT_IO,
	HVX_EXIT_MSR_READ,
	HVX_EXIT_MSR_WRITE,
	HVX_EXIT_NPF,		/* second-level (NPT/EPT) fault */
	HVX_EXIT_SHUTDOWN,	/* triple fault */
	HVX_EXIT_UD,		/* inject #UD (e.g. VMRUN, VMMCALL in guest) */
	HVX_EXIT_GP,		/* inject #GP(0) (RDPMC: no virtual PMU) */
	HVX_EXIT_NOP,		/* skip the instruction (MONITOR/MWAIT/WBINVD) */
	HVX_EXIT_XSETBV,
	HVX_EXIT_CR,		/* MOV to/from a CR the guest does not own */
	HVX_EXIT_FAIL_ENTRY,	/* VM entry refused the guest state */
	HVX_EXIT_IRQ_WINDOW,	/* the guest can take an interrupt now */
	HVX_EXIT_NMI_WINDOW,	/* the guest can take an NMI now */
	HVX_EXIT_DR,		/* MOV to or from a debug register */
	/* VMX APIC virtualization (vcpu->apicv): */
	HVX_EXIT_EOI,		/* EOI of vector info[0] with its EOI-exit bit set */
	HVX_EXIT_APIC_WRITE,	/* a write to APIC register info[0] to complete */
	HVX_EXIT_APIC_ACCESS,	/* an APIC-page access to emulate, at npf.gpa */
};

struct hvx_exit {
	enum hvx_exit_reason reason;
	u64 hw_reason;		/* the vendor's exit code, for diagnostics */
	u64 info[2];		/* the vendor's qualification words */
	u8 insn_len;		/* 0 if the hardware did not say */
	bool vectoring;		/* the exit interrupted an event's delivery */
	union {
		struct {
			u16 port;
			u8 size;	/* 1, 2 or 4 */
			u8 addr_size;	/* 2, 4 or 8: rSI/rDI/rCX width */
			u8 seg;		/* HVX_SEG_* of the OUTS source */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			u64 gpa;
			bool write;
			bool fetch;
			bool present;	/* a translation existed */
			bool walk;	/* while walking the guest's page tables */
		} npf;
		struct {
			u8 num;		/* DR0-DR7 */
			u8 gpr;		/* HVX_GPR_UNKNOWN: the core decodes */
			bool write;	/* MOV to DR */
		} dr;
		struct {
			u8 cr;		/* 0, 3, 4 or 8 */
			u8 type;	/* HVX_CR_* */
			u8 gpr;		/* MOV: the general register */
			u16 lmsw;	/* LMSW: the source operand */
		} cr;
	};
};

enum { HVX_CR_MOV_TO, HVX_CR_MOV_FROM, HVX_CR_CLTS, HVX_CR_LMSW };

/* The backend could not tell which GPR an instruction uses. */
#define HVX_GPR_UNKNOWN	0xff

/* The one event a VM entry delivers (VMX entry field, SVM EVENTINJ). */
enum hvx_event_type {
	HVX_EVENT_NONE,
	HVX_EVENT_EXCEPTION,	/* hardware exception */
	HVX_EVENT_SOFT_EXCEPTION,	/* INT3, INTO: re-delivered after an exit */
	HVX_EVENT_INTR,		/* external interrupt */
	HVX_EVENT_SOFT_INTR,	/* INT n: re-delivered after an exit */
	HVX_EVENT_NMI,
};

struct hvx_event {
	enum hvx_event_type type;
	u8 vector;
	bool has_error;
	u32 error_code;
};

/* Requests a vCPU handles before its next entry (bit numbers). */
enum {
	HVX_REQ_TLB_FLUSH,
	HVX_REQ_IOAPIC_EOI,	/* KVM_EXIT_IOAPIC_EOI of ioapic_eoi_vector */
	HVX_REQ_CLOCK_UPDATE,	/* rewrite the kvmclock page (kvmclock.c) */
};

/*
 * NONE: userspace emulates every interrupt controller (KVM_INTERRUPT).
 * SPLIT: local APICs in the kernel, IOAPIC and PIC in userspace
 * (KVM_CAP_SPLIT_IRQCHIP).
 * KERNEL: local APICs, IOAPIC and PICs in the kernel (KVM_CREATE_IRQCHIP).
 */
enum hvx_irqchip {
	HVX_IRQCHIP_NONE,
	HVX_IRQCHIP_SPLIT,
	HVX_IRQCHIP_KERNEL,
};

enum hvx_vcpu_mode {
	HVX_OUTSIDE_GUEST,
	HVX_IN_GUEST,
};

/* Guest x87/SSE/AVX state; the layout of buf is XSAVE (or FXSAVE). */
struct hvx_fpu {
	void *buf;
	u64 xcr0;		/* guest XCR0 */
};

/* One piece of an MMIO access that goes to userspace (a page or less). */
struct hvx_mmio_frag {
	u64 gpa;
	u8 offset;		/* first byte of the access it covers */
	u8 len;
};

/* An I/O or MMIO access that userspace must complete on the next KVM_RUN. */
struct hvx_pending {
	u8 insn_len;		/* PIO: RIP advance once complete (0: none) */
	u32 count;		/* string PIO: iterations in this exit */
	u64 linear;		/* string PIO: first element's linear address */
	struct hvx_exit io;	/* the I/O exit being completed */

	/* MMIO: up to two fragments, one exit each (KVM splits at pages). */
	u8 mmio_nfrags;		/* 0: no MMIO pending */
	u8 mmio_cur;		/* the fragment userspace is answering */
	struct hvx_mmio_frag mmio_frag[2];
	u64 mmio_data;		/* the access's bytes, little endian */
	struct hvx_mmio_insn mmio;
};

struct hvx_vcpu {
	struct hvx_vm *vm;
	u32 id;
	int index;
	struct mutex mutex;		/* serialises this vCPU's ioctls */
	struct kvm_run *run;
	void *pio_data;			/* the page after kvm_run in the mmap */
	struct preempt_notifier pn;
	int cpu;			/* CPU this vCPU is loaded on, or -1 */
	int mode;			/* enum hvx_vcpu_mode, read by kickers */
	unsigned long requests;
	u8 ioapic_eoi_vector;		/* HVX_REQ_IOAPIC_EOI's */
	/* kvmclock.c: MSR_KVM_SYSTEM_TIME(_NEW), MSR_KVM_WALL_CLOCK(_NEW) */
	u64 kvmclock_msr;
	u64 wall_clock_msr;
	u32 kvmclock_version;

	/* Architectural state the core owns; the backend syncs the rest. */
	u64 regs[HVX_NR_GPRS];
	u64 rip;
	u64 rflags;

	struct hvx_fpu fpu;
	struct hvx_pending pending;

	struct kvm_cpuid_entry2 *cpuid;
	int cpuid_nent;
	/*
	 * Set by vcpu.c before the first guest entry; from then on
	 * KVM_SET_CPUID2 only accepts the table already set, as in KVM.
	 */
	bool has_run;

	/* KVM_INTERRUPT's vector, until injected (events.c). */
	bool irq_queued;
	u8 irq_vector;
	/* KVM_NMIs not yet injected: 0, 1 or 2 (events.c). */
	unsigned int nmi_pending;

	/* The guest's debug registers, emulated (dr.c). */
	u64 db[4];
	u64 dr6, dr7;

	u64 tsc_offset;			/* guest TSC = host TSC + offset */
	u64 apic_base;
	u64 misc_enable;

	/* The in-kernel local APIC (lapic.c), NULL without one. */
	struct hvx_lapic *lapic;
	/*
	 * The backend virtualizes that APIC (VMX: TPR shadow, virtual-APIC
	 * page, virtual-interrupt delivery); set by its vcpu_reset.
	 */
	bool apicv;
	u32 mp_state;			/* KVM_MP_STATE_* */
	wait_queue_head_t wq;		/* a blocked vCPU waits here */

	void *arch;			/* backend private */
};

/*
 * The VM's kvmclock (kvmclock.c): ref_ns at host TSC ref_tsc, then the
 * TSC's rate as pvclock's multiplier and shift.
 */
struct hvx_kvmclock {
	spinlock_t lock;		/* the reference pair */
	u64 ref_tsc;
	u64 ref_ns;
	u32 mul;
	s8 shift;
};

struct hvx_vm {
	struct kref ref;
	struct mutex lock;		/* vCPU creation, memslot updates */
	struct mm_struct *mm;		/* the creator's; guest memory lives there */
	struct srcu_struct srcu;	/* protects memslots for readers */
	struct hvx_memslots __rcu *memslots;
	struct hvx_vcpu *vcpus[HVX_MAX_VCPUS];
	atomic_t online_vcpus;
	struct hvx_mmu mmu;
	atomic_long_t pages;		/* pages this VM owns, for leak checks */
	struct dentry *debugfs;		/* its statistics directory, if any */
	struct list_head ioeventfds;	/* ioeventfd.c; vm->lock, vm->srcu */
	unsigned int nr_ioeventfds;
	/* Where the interrupt controllers are; set before the first vCPU. */
	enum hvx_irqchip irqchip;
	u32 nr_reserved_ioapic_pins;	/* KVM_CAP_SPLIT_IRQCHIP's args[0] */
	/* KVM_CREATE_IRQCHIP's chips (irqchip.h), NULL without them. */
	struct hvx_ioapic *ioapic;
	struct hvx_pic *pic;
	/* GSI routing (irq_routing.c) and irqfds (irqfd.c). */
	struct mutex irq_lock;		/* routing updates, resamplers */
	struct hvx_irq_routing __rcu *irq_routing;
	spinlock_t irqfds_lock;		/* irqfds; taken inside eventfd wait queues */
	struct list_head irqfds;	/* active irqfds */
	struct list_head resamplers;	/* irq_lock to change, RCU to read */
	u64 tsc_base;			/* host TSC at which guest TSCs read 0 */
	struct hvx_kvmclock clock;
	void *arch;			/* backend private */
};

/* main.c */
extern const struct hvx_backend_ops *hvx_ops;
int hvx_enable_virt(void);
void hvx_disable_virt(void);
bool hvx_is_rebooting(void);

/* lapic.c: the in-kernel local APIC */
struct hvx_lapic_ipi;
int hvx_lapic_create(struct hvx_vcpu *vcpu);
void hvx_lapic_free(struct hvx_vcpu *vcpu);
void hvx_lapic_reset(struct hvx_vcpu *vcpu);
void hvx_vcpu_kick(struct hvx_vcpu *vcpu);
bool hvx_lapic_mmio(struct hvx_vcpu *vcpu, u64 gpa, unsigned int len,
		    bool write, u64 *data);
int hvx_lapic_get_msr(struct hvx_vcpu *vcpu, u32 msr, u64 *data);
int hvx_lapic_set_msr(struct hvx_vcpu *vcpu, u32 msr, u64 data);
void hvx_lapic_set_base(struct hvx_vcpu *vcpu, u64 old);
int hvx_lapic_inject(struct hvx_vcpu *vcpu, bool allowed, bool *waits);
bool hvx_lapic_has_interrupt(struct hvx_vcpu *vcpu);
void hvx_lapic_process_events(struct hvx_vcpu *vcpu);
int hvx_vcpu_block(struct hvx_vcpu *vcpu);
void hvx_lapic_halt(struct hvx_vcpu *vcpu);
void hvx_lapic_get_state(struct hvx_vcpu *vcpu, struct kvm_lapic_state *s);
void hvx_lapic_eoi_exit(struct hvx_vcpu *vcpu, u8 vector);
void hvx_lapic_write_exit(struct hvx_vcpu *vcpu, u32 offset);
void hvx_lapic_set_cr8(struct hvx_vcpu *vcpu, u8 cr8);
void *hvx_lapic_page(struct hvx_vcpu *vcpu);
int hvx_lapic_set_state(struct hvx_vcpu *vcpu, const struct kvm_lapic_state *s);
u32 hvx_vcpu_get_mp_state(struct hvx_vcpu *vcpu);
int hvx_vcpu_set_mp_state(struct hvx_vcpu *vcpu, u32 state);
int hvx_lapic_deliver(struct hvx_vm *vm, struct hvx_vcpu *src,
		      const struct hvx_lapic_ipi *ipi);
int hvx_vm_signal_msi(struct hvx_vm *vm, const struct kvm_msi *msi);
int hvx_lapic_deliver_msi(struct hvx_vm *vm, u32 address_lo, u32 data);
bool hvx_lapic_level_msi_targets(struct hvx_vcpu *vcpu, u32 address_lo, u32 data);

/* irq.c, ioapic.c, pic.c: KVM_CREATE_IRQCHIP's IOAPIC and PICs */
int hvx_vm_create_irqchip(struct hvx_vm *vm);
void hvx_irqchip_free(struct hvx_vm *vm);
int hvx_vm_irq_line(struct hvx_vm *vm, struct kvm_irq_level *irq);
int hvx_vm_get_irqchip(struct hvx_vm *vm, struct kvm_irqchip *chip);
int hvx_vm_set_irqchip(struct hvx_vm *vm, const struct kvm_irqchip *chip);
bool hvx_ioapic_mmio(struct hvx_vm *vm, u64 gpa, unsigned int len,
		     bool write, u64 *data);
void hvx_ioapic_eoi(struct hvx_vm *vm, u8 vector);
bool hvx_pic_pio(struct hvx_vm *vm, u16 port, unsigned int size, bool in, u32 *val);
bool hvx_pic_has_extint(struct hvx_vcpu *vcpu);
int hvx_pic_ack(struct hvx_vcpu *vcpu);

/* irq_routing.c: KVM_SET_GSI_ROUTING; KVM's limit on GSIs and entries. */
#define HVX_MAX_IRQ_ROUTES	4096
struct hvx_irq_routing;
int hvx_vm_set_gsi_routing(struct hvx_vm *vm, struct kvm_irq_routing __user *argp);
void hvx_irq_routing_free(struct hvx_vm *vm);
bool hvx_irq_split_eoi_exits(struct hvx_vcpu *vcpu, u8 vector);

/* irqfd.c: KVM_IRQFD */
int hvx_irqfd_module_init(void);
void hvx_irqfd_module_exit(void);
void hvx_irqfd_vm_init(struct hvx_vm *vm);
int hvx_vm_irqfd(struct hvx_vm *vm, const struct kvm_irqfd *args);
void hvx_irqfd_release(struct hvx_vm *vm);
bool hvx_irqfd_have_resamplers(struct hvx_vm *vm);

/* kvmclock.c: kvmclock MSRs, KVM_GET/SET_CLOCK */
void hvx_kvmclock_vm_init(struct hvx_vm *vm);
int hvx_vm_get_clock(struct hvx_vm *vm, struct kvm_clock_data *data);
int hvx_vm_set_clock(struct hvx_vm *vm, const struct kvm_clock_data *data);
void hvx_kvmclock_update(struct hvx_vcpu *vcpu);
bool hvx_kvmclock_msr(u32 index);
int hvx_kvmclock_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data);
int hvx_kvmclock_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data);

/* crash.c */
void hvx_crash_init(void);
void hvx_crash_exit(void);
void hvx_crash_set_virt(bool on);
struct dentry;
void hvx_crash_debugfs(struct dentry *root);

/* dev.c */
long hvx_dev_ioctl(struct file *filp, unsigned int ioctl, unsigned long arg);
int hvx_check_extension(struct hvx_vm *vm, long ext);

/* events.c */
int hvx_vcpu_interrupt(struct hvx_vcpu *vcpu, const struct kvm_interrupt *irq);
void hvx_get_interrupt_bitmap(struct hvx_vcpu *vcpu, __u64 *bitmap);
void hvx_get_vcpu_events(struct hvx_vcpu *vcpu, struct kvm_vcpu_events *ev);
int hvx_set_vcpu_events(struct hvx_vcpu *vcpu, const struct kvm_vcpu_events *ev);
void hvx_set_interrupt_bitmap(struct hvx_vcpu *vcpu, const __u64 *bitmap);
int hvx_vcpu_nmi(struct hvx_vcpu *vcpu);
void hvx_inject_events(struct hvx_vcpu *vcpu);
int hvx_check_irq_window(struct hvx_vcpu *vcpu);
void hvx_sync_run_state(struct hvx_vcpu *vcpu);

/* dr.c */
void hvx_dr_reset(struct hvx_vcpu *vcpu);
int hvx_handle_dr(struct hvx_vcpu *vcpu, struct hvx_exit *exit);
void hvx_get_debugregs(struct hvx_vcpu *vcpu, struct kvm_debugregs *d);
int hvx_set_debugregs(struct hvx_vcpu *vcpu, const struct kvm_debugregs *d);

/* ioeventfd.c */
void hvx_ioeventfd_init(struct hvx_vm *vm);
void hvx_ioeventfd_free(struct hvx_vm *vm);
int hvx_vm_ioeventfd(struct hvx_vm *vm, const struct kvm_ioeventfd *args);
bool hvx_ioeventfd_write(struct hvx_vm *vm, bool pio, u64 addr, u32 len, u64 val);

/* debugfs.c */
void hvx_debugfs_init(void);
void hvx_debugfs_exit(void);
void hvx_vm_debugfs_create(struct hvx_vm *vm, int fd);
void hvx_vm_debugfs_destroy(struct hvx_vm *vm);

/* vm.c */
int hvx_create_vm(unsigned long type);
void hvx_vm_get(struct hvx_vm *vm);
void hvx_vm_put(struct hvx_vm *vm);
void hvx_vm_request_all(struct hvx_vm *vm, int req);

/* vcpu.c */
int hvx_vcpu_create(struct hvx_vm *vm, u32 id);
void hvx_vcpu_destroy(struct hvx_vcpu *vcpu);
void hvx_vcpu_request(struct hvx_vcpu *vcpu, int req);
void hvx_vcpu_reset(struct hvx_vcpu *vcpu);
void hvx_vcpu_init_reset(struct hvx_vcpu *vcpu);
void hvx_skip_insn(struct hvx_vcpu *vcpu, unsigned int len);
bool hvx_vcpu_long_mode(struct hvx_vcpu *vcpu);

/* exit.c: handlers return 1 to re-enter the guest, 0 to return to userspace. */
int hvx_handle_exit(struct hvx_vcpu *vcpu, struct hvx_exit *exit);
int hvx_complete_userspace_io(struct hvx_vcpu *vcpu);
void hvx_internal_error(struct hvx_vcpu *vcpu, u32 suberror,
			const u64 *data, int ndata);

/* cpuid.c */
int hvx_get_supported_cpuid(struct kvm_cpuid2 __user *ucpuid);
int hvx_vcpu_set_cpuid2(struct hvx_vcpu *vcpu, struct kvm_cpuid2 __user *u);
int hvx_vcpu_get_cpuid2(struct hvx_vcpu *vcpu, struct kvm_cpuid2 __user *u);
const struct kvm_cpuid_entry2 *hvx_find_cpuid(struct hvx_vcpu *vcpu,
					      u32 function, u32 index);

/* msr.c: 0 on success, 1 if the MSR does not exist or the value is bad. */
int hvx_get_msr(struct hvx_vcpu *vcpu, u32 index, u64 *data, bool host);
int hvx_set_msr(struct hvx_vcpu *vcpu, u32 index, u64 data, bool host);
int hvx_get_msr_index_list(struct kvm_msr_list __user *ulist);
bool hvx_apic_base_valid(struct hvx_vcpu *vcpu, u64 val, bool host);

/* cr.c: the architectural rules for CR0/CR3/CR4/EFER (SDM Vol 3 2.5). */
u64 hvx_cr4_valid_bits(void);
bool hvx_sregs_valid(const struct kvm_sregs *s);
int hvx_handle_cr(struct hvx_vcpu *vcpu, struct hvx_exit *exit);

/* fpu.c */
int hvx_fpu_init(void);
int hvx_fpu_alloc(struct hvx_vcpu *vcpu);
void hvx_fpu_free(struct hvx_vcpu *vcpu);
void hvx_fpu_reset(struct hvx_vcpu *vcpu);
void hvx_fpu_load_guest(struct hvx_vcpu *vcpu);
void hvx_fpu_put_guest(struct hvx_vcpu *vcpu);
void hvx_fpu_get(struct hvx_vcpu *vcpu, struct kvm_fpu *fpu);
void hvx_fpu_set(struct hvx_vcpu *vcpu, const struct kvm_fpu *fpu);
int hvx_fpu_set_xcr0(struct hvx_vcpu *vcpu, u64 xcr0);
u64 hvx_fpu_supported_xcr0(void);

#endif /* HVX_HVX_H */
