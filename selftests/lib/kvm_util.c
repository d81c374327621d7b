// SPDX-License-Identifier: GPL-2.0
/*
 * VM/vCPU helpers: device, VMs, memslots, vCPUs, register ioctls, exits.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"

static uint64_t check_ucall(struct vcpu *vcpu, struct ucall *uc);

int dev_open(void)
{
	int fd = open(test_dev_path, O_RDWR | O_CLOEXEC);

	TEST_ASSERT(fd >= 0, "open %s: %s", test_dev_path, strerror(errno));
	return fd;
}

int host_is_intel(void)
{
	uint32_t eax, ebx, ecx, edx;

	cpuid(0, 0, &eax, &ebx, &ecx, &edx);
	/* "GenuineIntel" in EBX, EDX, ECX. */
	return ebx == 0x756e6547 && edx == 0x49656e69 && ecx == 0x6c65746e;
}

int dev_is_kvm(void)
{
	return strstr(test_dev_path, "kvm") != NULL;
}

int kvm_check_cap(long cap)
{
	int fd = dev_open();
	int r = ioctl(fd, KVM_CHECK_EXTENSION, cap);

	TEST_ASSERT(r >= 0, "KVM_CHECK_EXTENSION(%ld): %s", cap, strerror(errno));
	close(fd);
	return r;
}

struct vm *vm_create_bare(void)
{
	struct vm *vm = calloc(1, sizeof(*vm));

	TEST_ASSERT(vm, "calloc");
	vm->dev_fd = dev_open();
	vm->run_size = ioctl(vm->dev_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	TEST_ASSERT(vm->run_size >= (int)PAGE_SIZE,
		    "KVM_GET_VCPU_MMAP_SIZE: %d (%s)", vm->run_size, strerror(errno));
	vm->fd = ioctl(vm->dev_fd, KVM_CREATE_VM, 0);
	TEST_ASSERT(vm->fd >= 0, "KVM_CREATE_VM: %s", strerror(errno));
	vm->lib_next = VM_LIB_START;
	return vm;
}

void vm_free(struct vm *vm)
{
	for (int i = 0; i < VM_MAX_VCPUS; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (!v)
			continue;
		munmap(v->run, vm->run_size);
		close(v->fd);
		free(v);
	}
	close(vm->fd);
	close(vm->dev_fd);
	for (int i = 0; i < VM_MAX_SLOTS; i++)
		if (vm->slots[i].in_use)
			munmap(vm->slots[i].host, vm->slots[i].size);
	free(vm);
}

/*
 * The VM's debugfs directory is "<pid>-<vm fd>" with the pid as the
 * kernel's init namespace sees it, which a test inside a PID namespace
 * (the Bochs rig's) does not know: take our own pid if it names a
 * directory, else the only directory with our fd.
 */
static void vm_stat_dir(struct vm *vm, char *dir, size_t len)
{
	const char *root = dev_is_kvm() ? "/sys/kernel/debug/kvm" : "/sys/kernel/debug/hvx";
	char suffix[16];
	struct dirent *e;
	int found = 0;
	DIR *d;

	snprintf(dir, len, "%s/%d-%d", root, (int)getpid(), vm->fd);
	if (!access(dir, F_OK))
		return;
	d = opendir(root);
	TEST_ASSERT(d, "%s: %s (is debugfs mounted?)", root, strerror(errno));
	snprintf(suffix, sizeof(suffix), "-%d", vm->fd);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name), m = strlen(suffix);

		if (n > m && !strcmp(e->d_name + n - m, suffix)) {
			snprintf(dir, len, "%s/%s", root, e->d_name);
			found++;
		}
	}
	closedir(d);
	TEST_ASSERT(found == 1, "%d directories in %s end in %s", found, root, suffix);
}

uint64_t vm_get_stat(struct vm *vm, const char *name)
{
	unsigned long long v;
	char dir[200], path[256];
	FILE *f;

	vm_stat_dir(vm, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	TEST_ASSERT(f, "%s: %s", path, strerror(errno));
	TEST_ASSERT(fscanf(f, "%llu", &v) == 1, "%s: not a number", path);
	fclose(f);
	return v;
}

int __vm_set_user_memory_region(struct vm *vm, uint32_t slot, uint32_t flags,
				uint64_t gpa, uint64_t size, void *host)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	return ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static struct vm_slot *slot_find(struct vm *vm, uint32_t slot)
{
	for (int i = 0; i < VM_MAX_SLOTS; i++)
		if (vm->slots[i].in_use && vm->slots[i].slot == slot)
			return &vm->slots[i];
	return NULL;
}

void *vm_add_memslot(struct vm *vm, uint32_t slot, uint32_t flags,
		     uint64_t gpa, uint64_t size)
{
	struct vm_slot *s = NULL;
	void *host;

	for (int i = 0; i < VM_MAX_SLOTS && !s; i++)
		if (!vm->slots[i].in_use)
			s = &vm->slots[i];
	TEST_ASSERT(s, "too many memslots in the test library");
	host = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	TEST_ASSERT(host != MAP_FAILED, "mmap %#lx bytes: %s", (unsigned long)size,
		    strerror(errno));
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, slot, flags, gpa, size, host));
	*s = (struct vm_slot){ .slot = slot, .flags = flags, .gpa = gpa,
			       .size = size, .host = host, .in_use = 1 };
	return host;
}

void vm_delete_memslot(struct vm *vm, uint32_t slot)
{
	struct vm_slot *s = slot_find(vm, slot);

	TEST_ASSERT(s, "no slot %u", slot);
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, slot, s->flags, s->gpa, 0,
						   s->host));
	munmap(s->host, s->size);
	s->in_use = 0;
}

void vm_move_memslot(struct vm *vm, uint32_t slot, uint64_t new_gpa)
{
	struct vm_slot *s = slot_find(vm, slot);

	TEST_ASSERT(s, "no slot %u", slot);
	TEST_ASSERT_OK(__vm_set_user_memory_region(vm, slot, s->flags, new_gpa,
						   s->size, s->host));
	s->gpa = new_gpa;
}

void *addr_gpa2hva(struct vm *vm, uint64_t gpa)
{
	for (int i = 0; i < VM_MAX_SLOTS; i++) {
		struct vm_slot *s = &vm->slots[i];

		if (s->in_use && gpa >= s->gpa && gpa - s->gpa < s->size)
			return (char *)s->host + (gpa - s->gpa);
	}
	TEST_FAIL("no memslot holds GPA %#lx", (unsigned long)gpa);
}

uint64_t vm_alloc(struct vm *vm, uint64_t size)
{
	uint64_t gpa = vm->lib_next;

	size = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	TEST_ASSERT(vm->ram_size && gpa + size <= VM_LIB_END,
		    "guest library memory exhausted (%#lx + %#lx)",
		    (unsigned long)gpa, (unsigned long)size);
	vm->lib_next += size;
	memset(addr_gpa2hva(vm, gpa), 0, size);
	return gpa;
}

void vm_write(struct vm *vm, uint64_t gpa, const void *src, size_t len)
{
	memcpy(addr_gpa2hva(vm, gpa), src, len);
}

void vm_load_code(struct vm *vm, uint64_t gpa, const void *start,
		  const void *end)
{
	vm_write(vm, gpa, start, (const char *)end - (const char *)start);
}

static struct vcpu *vcpu_create(struct vm *vm, int id)
{
	struct vcpu *v = calloc(1, sizeof(*v));

	TEST_ASSERT(v, "calloc");
	TEST_ASSERT(id >= 0 && id < VM_MAX_VCPUS && !vm->vcpus[id],
		    "bad vCPU id %d for the test library", id);
	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
	TEST_ASSERT(v->fd >= 0, "KVM_CREATE_VCPU(%d): %s", id, strerror(errno));
	v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->fd, 0);
	TEST_ASSERT(v->run != MAP_FAILED, "mmap kvm_run: %s", strerror(errno));
	vm->vcpus[id] = v;
	return v;
}

struct vcpu *vm_vcpu_add_raw(struct vm *vm, int id)
{
	return vcpu_create(vm, id);
}

struct vcpu *vm_vcpu_add(struct vm *vm, int id)
{
	struct vcpu *v = vcpu_create(vm, id);

	vcpu_set_cpuid(v, kvm_get_supported_cpuid());
	if (vm->ram_size) {
		v->stack_top = vm_alloc(vm, VM_STACK_SIZE) + VM_STACK_SIZE;
		vcpu_setup_long_mode(v);
	}
	return v;
}

int __vcpu_run(struct vcpu *vcpu)
{
	return ioctl(vcpu->fd, KVM_RUN, 0);
}

int vcpu_run(struct vcpu *vcpu)
{
	int r = __vcpu_run(vcpu);

	TEST_ASSERT(r == 0, "KVM_RUN: %d %s", r, strerror(errno));
	return vcpu->run->exit_reason;
}

#define VCPU_IOCTL(vcpu, nr, arg) \
	TEST_ASSERT_OK(ioctl((vcpu)->fd, nr, arg))

void vcpu_get_regs(struct vcpu *vcpu, struct kvm_regs *regs)
{
	VCPU_IOCTL(vcpu, KVM_GET_REGS, regs);
}

void vcpu_set_regs(struct vcpu *vcpu, const struct kvm_regs *regs)
{
	VCPU_IOCTL(vcpu, KVM_SET_REGS, regs);
}

void vcpu_get_sregs(struct vcpu *vcpu, struct kvm_sregs *sregs)
{
	VCPU_IOCTL(vcpu, KVM_GET_SREGS, sregs);
}

void vcpu_set_sregs(struct vcpu *vcpu, const struct kvm_sregs *sregs)
{
	VCPU_IOCTL(vcpu, KVM_SET_SREGS, sregs);
}

void vcpu_get_fpu(struct vcpu *vcpu, struct kvm_fpu *fpu)
{
	VCPU_IOCTL(vcpu, KVM_GET_FPU, fpu);
}

void vcpu_set_fpu(struct vcpu *vcpu, const struct kvm_fpu *fpu)
{
	VCPU_IOCTL(vcpu, KVM_SET_FPU, fpu);
}

int __vcpu_msrs(struct vcpu *vcpu, unsigned long ioctl_nr,
		struct kvm_msr_entry *entries, uint32_t n)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + n * sizeof(*entries));
	int r;

	TEST_ASSERT(m, "calloc");
	m->nmsrs = n;
	memcpy(m->entries, entries, n * sizeof(*entries));
	r = ioctl(vcpu->fd, ioctl_nr, m);
	memcpy(entries, m->entries, n * sizeof(*entries));
	free(m);
	return r;
}

uint64_t vcpu_get_msr(struct vcpu *vcpu, uint32_t index)
{
	struct kvm_msr_entry e = { .index = index };
	int r = __vcpu_msrs(vcpu, KVM_GET_MSRS, &e, 1);

	TEST_ASSERT(r == 1, "KVM_GET_MSRS(%#x): %d (%s)", index, r,
		    r < 0 ? strerror(errno) : "not processed");
	return e.data;
}

void vcpu_set_msr(struct vcpu *vcpu, uint32_t index, uint64_t value)
{
	struct kvm_msr_entry e = { .index = index, .data = value };
	int r = __vcpu_msrs(vcpu, KVM_SET_MSRS, &e, 1);

	TEST_ASSERT(r == 1, "KVM_SET_MSRS(%#x, %#lx): %d (%s)", index,
		    (unsigned long)value, r, r < 0 ? strerror(errno) : "not processed");
}

struct kvm_cpuid2 *cpuid_alloc(uint32_t nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

	TEST_ASSERT(c, "calloc");
	c->nent = nent;
	return c;
}

const struct kvm_cpuid2 *kvm_get_supported_cpuid(void)
{
	static struct kvm_cpuid2 *supported;
	static char supported_dev[64];
	int fd;

	/* Per device: hvx-bench switches test_dev_path between VMs. */
	if (supported && !strcmp(supported_dev, test_dev_path))
		return supported;
	free(supported);
	snprintf(supported_dev, sizeof(supported_dev), "%s", test_dev_path);
	supported = cpuid_alloc(256);
	fd = dev_open();
	TEST_ASSERT_OK(ioctl(fd, KVM_GET_SUPPORTED_CPUID, supported));
	close(fd);
	return supported;
}

bool kvm_supports_cpuid1_ecx(uint32_t bits)
{
	struct kvm_cpuid_entry2 *leaf1 =
		cpuid_find((struct kvm_cpuid2 *)kvm_get_supported_cpuid(), 1, 0);

	return leaf1 && (leaf1->ecx & bits) == bits;
}

struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function,
				    uint32_t index)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		if (e->function == function &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || e->index == index))
			return e;
	}
	return NULL;
}

void vcpu_set_cpuid(struct vcpu *vcpu, const struct kvm_cpuid2 *cpuid)
{
	VCPU_IOCTL(vcpu, KVM_SET_CPUID2, cpuid);
}

static const char *const exit_names[] = {
	[KVM_EXIT_UNKNOWN] = "UNKNOWN",
	[KVM_EXIT_EXCEPTION] = "EXCEPTION",
	[KVM_EXIT_IO] = "IO",
	[KVM_EXIT_HYPERCALL] = "HYPERCALL",
	[KVM_EXIT_DEBUG] = "DEBUG",
	[KVM_EXIT_HLT] = "HLT",
	[KVM_EXIT_MMIO] = "MMIO",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
	[KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
	[KVM_EXIT_INTR] = "INTR",
	[KVM_EXIT_SET_TPR] = "SET_TPR",
	[KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS",
	[KVM_EXIT_NMI] = "NMI",
	[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT",
	[KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
	[KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
	[KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
	[KVM_EXIT_DIRTY_RING_FULL] = "DIRTY_RING_FULL",
	[KVM_EXIT_X86_BUS_LOCK] = "X86_BUS_LOCK",
	[KVM_EXIT_NOTIFY] = "NOTIFY",
};

const char *exit_reason_str(uint32_t reason)
{
	if (reason < ARRAY_SIZE(exit_names) && exit_names[reason])
		return exit_names[reason];
	return "(unnamed)";
}

const char *exit_describe(struct vcpu *vcpu, char *buf, size_t len)
{
	struct kvm_run *run = vcpu->run;
	int n = snprintf(buf, len, "exit %u (%s)", run->exit_reason,
			 exit_reason_str(run->exit_reason));
	struct kvm_regs regs;

	if (n < 0 || (size_t)n >= len)
		return buf;
	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint64_t d = 0;

		memcpy(&d, (char *)run + run->io.data_offset,
		       run->io.size <= 8 ? run->io.size : 8);
		n += snprintf(buf + n, len - n,
			      ": %s port %#x size %u count %u data_offset %#llx data %#lx",
			      run->io.direction == KVM_EXIT_IO_OUT ? "OUT" : "IN",
			      run->io.port, run->io.size, run->io.count,
			      (unsigned long long)run->io.data_offset, (unsigned long)d);
		break;
	}
	case KVM_EXIT_MMIO: {
		uint64_t d;

		memcpy(&d, run->mmio.data, 8);
		n += snprintf(buf + n, len - n,
			      ": phys_addr %#llx len %u is_write %u data %#lx",
			      (unsigned long long)run->mmio.phys_addr, run->mmio.len,
			      run->mmio.is_write, (unsigned long)d);
		break;
	}
	case KVM_EXIT_FAIL_ENTRY:
		n += snprintf(buf + n, len - n,
			      ": hardware_entry_failure_reason %#llx cpu %u",
			      (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			      run->fail_entry.cpu);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		n += snprintf(buf + n, len - n, ": suberror %u ndata %u data",
			      run->internal.suberror, run->internal.ndata);
		for (uint32_t i = 0; i < run->internal.ndata && i < 16 &&
		     n > 0 && (size_t)n < len; i++)
			n += snprintf(buf + n, len - n, " %#llx",
				      (unsigned long long)run->internal.data[i]);
		break;
	case KVM_EXIT_SYSTEM_EVENT:
		n += snprintf(buf + n, len - n, ": type %u",
			      run->system_event.type);
		break;
	}
	if (n > 0 && (size_t)n < len && ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		snprintf(buf + n, len - n, "; rip %#llx", (unsigned long long)regs.rip);
	return buf;
}

void __assert_exit_reason(struct vcpu *vcpu, uint32_t reason,
			  const char *file, int line)
{
	char buf[512];
	struct ucall uc;

	if (vcpu->run->exit_reason == reason)
		return;
	exit_describe(vcpu, buf, sizeof(buf));
	if (get_ucall(vcpu, &uc) == UCALL_ABORT || uc.cmd == UCALL_UNHANDLED)
		check_ucall(vcpu, &uc);		/* never returns: reports it */
	__test_fail(file, line, "exit reason",
		    "expected %u (%s), got %s", reason, exit_reason_str(reason), buf);
}

void *assert_pio_exit(struct vcpu *vcpu, uint8_t direction, uint16_t port,
		      uint8_t size)
{
	struct kvm_run *run = vcpu->run;
	char buf[512];

	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_IO);
	TEST_ASSERT(run->io.direction == direction && run->io.port == port &&
		    run->io.size == size && run->io.count == 1,
		    "expected %s port %#x size %u count 1, got %s",
		    direction == KVM_EXIT_IO_OUT ? "OUT" : "IN", port, size,
		    exit_describe(vcpu, buf, sizeof(buf)));
	TEST_ASSERT(run->io.data_offset >= sizeof(*run) &&
		    run->io.data_offset + size <= (uint64_t)vcpu->vm->run_size,
		    "data_offset %#llx outside the %d-byte mapping",
		    (unsigned long long)run->io.data_offset, vcpu->vm->run_size);
	return (char *)run + run->io.data_offset;
}

void vcpu_run_expect_mmio(struct vcpu *vcpu, uint64_t gpa, uint32_t len,
			  int is_write, uint64_t value)
{
	struct kvm_run *run = vcpu->run;
	char buf[512];

	vcpu_run(vcpu);
	ASSERT_EXIT_REASON(vcpu, KVM_EXIT_MMIO);
	TEST_ASSERT(run->mmio.phys_addr == gpa && run->mmio.len == len &&
		    run->mmio.is_write == is_write,
		    "expected MMIO %s of %u bytes at %#lx, got %s",
		    is_write ? "write" : "read", len, (unsigned long)gpa,
		    exit_describe(vcpu, buf, sizeof(buf)));
	if (is_write) {
		uint64_t got = 0;

		memcpy(&got, run->mmio.data, len);
		TEST_ASSERT(got == value, "MMIO write at %#lx: data %#lx, expected %#lx",
			    (unsigned long)gpa, (unsigned long)got, (unsigned long)value);
	} else {
		memset(run->mmio.data, 0xee, sizeof(run->mmio.data));
		memcpy(run->mmio.data, &value, len);
	}
}

/* ucall, host side */

uint64_t get_ucall(struct vcpu *vcpu, struct ucall *uc)
{
	struct kvm_run *run = vcpu->run;
	struct ucall tmp;
	uint32_t gva;

	if (!uc)
		uc = &tmp;
	memset(uc, 0, sizeof(*uc));
	if (run->exit_reason != KVM_EXIT_IO || run->io.port != UCALL_PORT ||
	    run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 ||
	    run->io.count != 1)
		return UCALL_NONE;
	memcpy(&gva, (char *)run + run->io.data_offset, 4);
	memcpy(uc, addr_gpa2hva(vcpu->vm, gva), sizeof(*uc));
	return uc->cmd;
}

/* Decode the current exit as a ucall; fail on anything but SYNC/DONE. */
static uint64_t check_ucall(struct vcpu *vcpu, struct ucall *uc)
{
	char buf[512];

	switch (get_ucall(vcpu, uc)) {
	case UCALL_NONE:
		TEST_FAIL("expected a ucall, got %s",
			  exit_describe(vcpu, buf, sizeof(buf)));
	case UCALL_ABORT:
		if (uc->args[2])
			__test_fail(uc->file, (int)uc->line, uc->expr,
				    "guest assertion: 0x%lx != 0x%lx",
				    (unsigned long)uc->args[0],
				    (unsigned long)uc->args[1]);
		__test_fail(uc->file, (int)uc->line, uc->expr, "guest assertion");
	case UCALL_UNHANDLED:
		TEST_FAIL("guest: unhandled exception vector %lu at rip %#lx, error code %#lx",
			  (unsigned long)uc->args[0], (unsigned long)uc->args[1],
			  (unsigned long)uc->args[2]);
	}
	return uc->cmd;
}

uint64_t vcpu_run_ucall(struct vcpu *vcpu, struct ucall *uc)
{
	vcpu_run(vcpu);
	return check_ucall(vcpu, uc);
}

void vcpu_run_expect_sync(struct vcpu *vcpu, uint64_t arg)
{
	struct ucall uc;
	uint64_t cmd;

	cmd = vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(cmd == UCALL_SYNC, "expected GUEST_SYNC(%#lx), got ucall %lu",
		    (unsigned long)arg, (unsigned long)cmd);
	TEST_ASSERT(uc.args[0] == arg, "expected GUEST_SYNC(%#lx), got GUEST_SYNC(%#lx) at %s:%lu",
		    (unsigned long)arg, (unsigned long)uc.args[0], uc.file,
		    (unsigned long)uc.line);
}

void vcpu_run_expect_done(struct vcpu *vcpu)
{
	struct ucall uc;
	uint64_t cmd;

	cmd = vcpu_run_ucall(vcpu, &uc);
	TEST_ASSERT(cmd == UCALL_DONE, "expected GUEST_DONE(), got ucall %lu (arg %#lx) at %s:%lu",
		    (unsigned long)cmd, (unsigned long)uc.args[0], uc.file,
		    (unsigned long)uc.line);
}
