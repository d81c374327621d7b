// SPDX-License-Identifier: GPL-2.0
/*
 * The guest-side tool of the rig's kexec test (scripts/rig/guest-kexec.sh):
 * everything that script needs and busybox cannot do.
 *
 *   kexec-helper spin DEV
 *       A KVM-API client on DEV: one vCPU whose guest spins forever in
 *       guest mode (no exits of its own). Prints "SPINNING" once the
 *       guest's counter is seen advancing, then keeps the vCPU in KVM_RUN
 *       until the process dies (or the host goes down under it).
 *   kexec-helper virt on|off
 *       Exits 0 iff hardware virtualization is on / off on every online
 *       CPU, and prints each CPU's state:
 *       AMD    EFER.SVME, read through /dev/cpu/N/msr (msr.ko).
 *       Intel  CR4.VMXE and VMX operation. No MSR holds them and CR4 cannot
 *              be read from user mode, but two VMX instructions tell them
 *              by how they fault at CPL 3 (SDM Vol 3, the instructions'
 *              "Operation" sections), on a thread pinned to each CPU:
 *                VMXON    #UD if CR4.VMXE = 0, else #GP (CPL > 0)
 *                VMPTRST  #UD outside VMX operation, #GP in VMX root
 *                         operation (CPL > 0)
 *              #UD arrives as SIGILL, #GP as SIGSEGV; neither instruction
 *              can complete in user mode. "on" wants both #GP (VMXON done
 *              on that CPU), "off" both #UD. IA32_FEATURE_CONTROL must be
 *              locked with VMX enabled outside SMX (else VMXON could not
 *              work at all and "off" would prove nothing).
 *   kexec-helper load [-p] VMLINUX INITRD[:INITRD...] CMDLINE
 *       kexec_load() of the uncompressed kernel (an ELF vmlinux, or a cpio
 *       archive holding one) with the INITRD archives in a row and
 *       CMDLINE, the segments built here (see cmd_load()), so
 *       no kexec-tools is needed in the guest (Debian's is linked against
 *       the Xen libraries). -p loads the crash (kdump) kernel.
 *   kexec-helper exec
 *       reboot(LINUX_REBOOT_CMD_KEXEC): boot the loaded kernel now. This
 *       runs the reboot notifiers, i.e. hvx's, as `kexec -e` does.
 *   kexec-helper compact VMLINUX OUT
 *       Run on the build host: VMLINUX less what "load" does not read,
 *       for the rig's initramfs (see cmd_compact()).
 *
 * Not a TAP binary: the script prints the TAP lines (and shows this
 * one's output as diagnostics).
 */
#include <asm/bootparam.h>
#include <elf.h>
#include <fcntl.h>
#include <linux/kexec.h>
#include <linux/reboot.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"

#define MSR_EFER	0xc0000080
#define EFER_SVME	(1ULL << 12)
#define MSR_IA32_FEAT_CTL	0x3a
#define FEAT_CTL_LOCKED		(1ULL << 0)
#define FEAT_CTL_VMX_OUTSIDE_SMX	(1ULL << 2)

static volatile uint64_t spin_counter;

/* Guest: say it started, then spin in guest mode forever. */
static void guest_spin(void)
{
	GUEST_SYNC(1);
	for (;;)
		spin_counter++;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	int eintr = 0;

	for (;;) {
		int r = __vcpu_run(vcpu);

		if (r < 0 && errno == EINTR) {
			/*
			 * hvx returns EINTR once its reboot notifier ran: the
			 * guest cannot run again in this kernel. Say so once
			 * and keep the vCPU fd alive until the end.
			 */
			if (!eintr++) {
				printf("vCPU thread: KVM_RUN returned EINTR (host going down?)\n");
				fflush(stdout);
			}
			usleep(10000);
			continue;
		}
		printf("vCPU thread: unexpected KVM_RUN result %d (%s), exit %s\n",
		       r, r < 0 ? strerror(errno) : "ok",
		       exit_reason_str(vcpu->run->exit_reason));
		fflush(stdout);
		_exit(1);
	}
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int cmd_spin(const char *dev)
{
	volatile uint64_t *counter;
	struct vcpu *vcpu;
	struct vm *vm;
	pthread_t t;
	uint64_t c0, end;

	test_dev_path = dev;
	vm = vm_create();
	vcpu = vm_vcpu_add(vm, 0);
	vcpu_set_entry(vcpu, guest_spin);
	vcpu_run_expect_sync(vcpu, 1);
	counter = addr_gpa2hva(vm, (uint64_t)&spin_counter);
	c0 = *counter;
	TEST_ASSERT(!pthread_create(&t, NULL, vcpu_thread, vcpu), "pthread_create");
	/* Under TCG a slice can take a while: allow 20 s to see progress. */
	for (end = now_ms() + 20000; now_ms() < end; usleep(50000)) {
		if (*counter != c0) {
			printf("SPINNING on %s (guest counter %lu -> %lu)\n", dev,
			       (unsigned long)c0, (unsigned long)*counter);
			fflush(stdout);
			for (;;)
				pause();
		}
	}
	printf("the guest's counter did not advance in 20 s\n");
	return 1;
}

/* An MSR of one CPU through msr.ko; 0 on success. */
static int read_msr(int cpu, uint32_t msr, uint64_t *val)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	if (pread(fd, val, 8, msr) != 8)
		r = -1;
	close(fd);
	return r;
}

static sigjmp_buf probe_jmp;

static void probe_fault(int sig)
{
	siglongjmp(probe_jmp, sig);
}

/*
 * Run VMXON (vmptrst = 0) or VMPTRST (1) in user mode on the CPU we are
 * pinned to: returns the signal its fault raised (SIGILL: #UD, SIGSEGV:
 * #GP), 0 if it did not fault (impossible at CPL 3).
 */
static int vmx_probe(int vmptrst)
{
	static uint64_t operand;
	struct sigaction sa = { .sa_handler = probe_fault }, old_ill, old_segv;
	int sig;

	sigaction(SIGILL, &sa, &old_ill);
	sigaction(SIGSEGV, &sa, &old_segv);
	sig = sigsetjmp(probe_jmp, 1);
	if (!sig) {
		if (vmptrst)
			asm volatile("vmptrst %0" : "=m"(operand) : : "memory");
		else
			asm volatile("vmxon %0" : : "m"(operand) : "memory");
	}
	sigaction(SIGILL, &old_ill, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return sig;
}

static const char *fault_name(int sig)
{
	return sig == SIGILL ? "#UD" : sig == SIGSEGV ? "#GP" : "no fault";
}

static int cmd_vmx(int on)
{
	int bad = 0, n = 0;

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		int vmxon_sig, vmptrst_sig, vmxe, vmxop;
		uint64_t feat;
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			continue;	/* no such CPU (or offline) */
		if (sched_getcpu() != cpu) {
			printf("CPU %d: could not move there\n", cpu);
			return 1;
		}
		n++;
		if (read_msr(cpu, MSR_IA32_FEAT_CTL, &feat)) {
			printf("read IA32_FEATURE_CONTROL of CPU %d: %s (msr.ko not loaded?)\n",
			       cpu, strerror(errno));
			return 1;
		}
		vmxon_sig = vmx_probe(0);
		vmptrst_sig = vmx_probe(1);
		vmxe = vmxon_sig == SIGSEGV;
		vmxop = vmptrst_sig == SIGSEGV;
		printf("CPU %d: IA32_FEATURE_CONTROL %#lx, CR4.VMXE %d (VMXON: %s), VMX operation %d (VMPTRST: %s)\n",
		       cpu, (unsigned long)feat, vmxe, fault_name(vmxon_sig),
		       vmxop, fault_name(vmptrst_sig));
		if ((feat & (FEAT_CTL_LOCKED | FEAT_CTL_VMX_OUTSIDE_SMX)) !=
		    (FEAT_CTL_LOCKED | FEAT_CTL_VMX_OUTSIDE_SMX)) {
			printf("CPU %d: IA32_FEATURE_CONTROL does not allow VMXON\n", cpu);
			bad++;
		}
		if ((vmxon_sig != SIGILL && vmxon_sig != SIGSEGV) ||
		    (vmptrst_sig != SIGILL && vmptrst_sig != SIGSEGV) ||
		    vmxe != on || vmxop != on)
			bad++;
	}
	if (!n) {
		printf("no CPU to run on\n");
		return 1;
	}
	return bad ? 1 : 0;
}

static int cmd_svme(int on)
{
	int bad = 0, n = 0;

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		uint64_t efer;

		if (read_msr(cpu, MSR_EFER, &efer)) {
			if (errno == ENOENT)
				continue;	/* no such CPU (or offline) */
			printf("read EFER of CPU %d: %s\n", cpu, strerror(errno));
			return 1;
		}
		n++;
		printf("CPU %d: EFER %#lx, SVME %d\n", cpu, (unsigned long)efer,
		       !!(efer & EFER_SVME));
		if (!!(efer & EFER_SVME) != on)
			bad++;
	}
	if (!n) {
		printf("no /dev/cpu/N/msr (msr.ko not loaded?)\n");
		return 1;
	}
	return bad ? 1 : 0;
}

static int cmd_virt(const char *want)
{
	int on = !strcmp(want, "on");

	return host_is_intel() ? cmd_vmx(on) : cmd_svme(on);
}

/*
 * ---- kexec-helper load: kexec_load() of an uncompressed kernel ----------
 *
 * Why not kexec_file_load(): it takes only a bzImage, and under Bochs a
 * kernel loaded that way costs ~9 G emulated instructions before it runs:
 * the syscall hashes every segment with the generic C SHA-256 (~41 s of
 * guest time), purgatory hashes them again before it jumps, and the
 * bzImage then XZ-decompresses itself. kexec_load() hashes nothing and
 * runs no purgatory unless user space loads one; the rig boots the
 * uncompressed vmlinux anyway (QEMU's PVH entry, the Bochs rig's shim).
 *
 * The segments, built here as kexec-tools' ELF loader would:
 *   the vmlinux's PT_LOAD segments, at their physical addresses (a normal
 *       kexec) or moved as a whole to the first 2 MiB boundary of the
 *       crashkernel= reservation (KEXEC_ON_CRASH: every segment must lie
 *       there). head_64.S's startup_64 finds where it runs and fixes its
 *       page tables and phys_base itself, so a move by a multiple of
 *       2 MiB needs no relocation records;
 *   a boot_params page ("zero page", Documentation/x86/boot.rst), the
 *       command line and a 22-byte entry stub behind it;
 *   the initrd;
 *   with -p, the ELF core header (elfcorehdr=) that the kdump kernel
 *       turns into /proc/vmcore.
 * relocate_kernel_64.S copies the segments in place and jumps to the
 * stub in 64-bit mode, on identity page tables covering RAM and every
 * segment, interrupts off, general registers zero. The stub loads %rsi
 * with the boot_params address and jumps to the ELF entry, startup_64,
 * the kernel's 64-bit entry (what the bzImage's decompressor and the PVH
 * entry jump to), which loads its own GDT and IDT first.
 */
#define PAGE_SZ		4096ULL
#define KERNEL_ALIGN	(2ULL << 20)	/* CONFIG_PHYSICAL_ALIGN, head_64.S */
#define CMDLINE_MAX	2048		/* x86 COMMAND_LINE_SIZE */
#define MAX_RANGES	128		/* E820_MAX_ENTRIES_ZEROPAGE */
#define E820_RAM	1
#define E820_RESERVED	2
#define E820_ACPI	3
#define E820_NVS	4

_Static_assert(sizeof(struct boot_params) == PAGE_SZ, "boot_params is one page");

struct range {
	uint64_t start, end;	/* [start, end) */
	uint32_t type;		/* E820 type */
};

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The whole of a (regular or sysfs) file, NUL-terminated; NULL on error. */
static unsigned char *read_all(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	unsigned char *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY);
	ssize_t r = -1;

	if (fd < 0 || !buf) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			unsigned char *nb = realloc(buf, 2 * cap + 1);

			if (!nb) {
				r = -1;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r <= 0)
			break;
		n += r;
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	if (len)
		*len = n;
	return buf;
}

/*
 * A file mapped read-only, or NULL. Not read into a buffer: the images
 * are tens of MB in a tmpfs, which the emulated machine's small RAM holds
 * already, and kexec_load() copies them into pages of its own as well.
 */
static unsigned char *map_file(const char *path, size_t *len)
{
	struct stat st;
	void *p;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !st.st_size) {
		if (!st.st_size)
			errno = EINVAL;
		close(fd);
		return NULL;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*len = st.st_size;
	return p;
}

/* A number in a sysfs file, in BASE (0: "0x..." or decimal). */
static int read_u64(const char *path, int base, uint64_t *v)
{
	char *s = (char *)read_all(path, NULL), *end;

	if (!s)
		return -1;
	*v = strtoull(s, &end, base);
	free(s);
	return end == s ? -1 : 0;
}

/*
 * The firmware's memory map as the first kernel got it
 * (/sys/firmware/memmap/N/{start,end,type}), which is what a kernel booted
 * by the firmware would see: kexec-tools reads the same.
 */
static int read_firmware_map(struct range *r, int max)
{
	static const struct { const char *name; uint32_t type; } types[] = {
		{ "System RAM", E820_RAM },
		{ "Reserved", E820_RESERVED },
		{ "ACPI Tables", E820_ACPI },
		{ "ACPI Non-volatile Storage", E820_NVS },
		{ "Unusable memory", 5 },
		{ "Persistent Memory (legacy)", 12 },
		{ "Persistent Memory", 7 },
	};
	char path[96];
	int n = 0;

	for (int i = 0; n < max; i++) {
		uint64_t start, end;
		char *type;

		snprintf(path, sizeof(path), "/sys/firmware/memmap/%d/start", i);
		if (read_u64(path, 0, &start))
			break;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%d/end", i);
		if (read_u64(path, 0, &end))
			return -1;
		snprintf(path, sizeof(path), "/sys/firmware/memmap/%d/type", i);
		type = (char *)read_all(path, NULL);
		if (!type)
			return -1;
		type[strcspn(type, "\n")] = 0;
		r[n] = (struct range){ start, end + 1, E820_RESERVED };
		for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++)
			if (!strcmp(type, types[t].name))
				r[n].type = types[t].type;
		free(type);
		n++;
	}
	return n;
}

/*
 * /proc/iomem: the crashkernel= reservation ("Crash kernel", [start, end))
 * and the top-level "System RAM" ranges (what the ELF core header
 * describes). Returns the number of RAM ranges, -1 on error.
 */
static int read_iomem(struct range *crash, struct range *ram, int max)
{
	char *text = (char *)read_all("/proc/iomem", NULL), *line, *save;
	int n = 0;

	if (!text)
		return -1;
	crash->start = crash->end = 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long s, e;
		int name = 0;

		if (sscanf(line, " %llx-%llx : %n", &s, &e, &name) < 2 || !name)
			continue;
		if (!strcmp(line + name, "Crash kernel"))
			*crash = (struct range){ s, e + 1, E820_RAM };
		else if (line[0] != ' ' && !strcmp(line + name, "System RAM") && n < max)
			ram[n++] = (struct range){ s, e + 1, E820_RAM };
	}
	free(text);
	return n;
}

struct load {
	struct kexec_segment seg[KEXEC_SEGMENT_MAX];
	int nseg;
};

static int add_segment(struct load *l, const void *buf, uint64_t bufsz,
		       uint64_t mem, uint64_t memsz)
{
	if (l->nseg == KEXEC_SEGMENT_MAX) {
		printf("more than %d segments\n", KEXEC_SEGMENT_MAX);
		return -1;
	}
	l->seg[l->nseg++] = (struct kexec_segment){
		.buf = buf, .bufsz = bufsz,
		.mem = (void *)mem, .memsz = round_up(memsz, PAGE_SZ),
	};
	return 0;
}

/* The kernel's PT_LOAD segments, or NULL if this is no x86-64 ELF. */
static const Elf64_Phdr *elf_phdrs(const unsigned char *k, size_t len, int *n)
{
	const Elf64_Ehdr *eh = (const void *)k;

	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len)
		return NULL;
	*n = eh->e_phnum;
	return (const void *)(k + eh->e_phoff);
}

/* File bytes of a segment, less trailing zeroes (the kernel zero-fills). */
static uint64_t trimmed_size(const unsigned char *k, const Elf64_Phdr *ph)
{
	uint64_t n = ph->p_filesz;

	while (n && !k[ph->p_offset + n - 1])
		n--;
	return n;
}

/*
 * The ELF core header of a kdump (crash_prepare_elf64_headers() in
 * kernel/kexec_file.c does the same for kexec_file_load()): a PT_NOTE per
 * CPU (the buffer the crashing kernel saves that CPU's registers into),
 * one for vmcoreinfo, a PT_LOAD per range of the first kernel's RAM
 * outside the low 1 MiB and the reservation. (kexec-tools adds one more
 * PT_LOAD for the kernel text mapping, for gdb; /proc/vmcore needs none.)
 * Returns its size, 0 on error.
 */
static size_t build_elfcorehdr(unsigned char *buf, size_t max,
			       const struct range *ram, int nram,
			       const struct range *crash)
{
	Elf64_Ehdr *eh = (void *)buf;
	Elf64_Phdr *ph = (void *)(eh + 1);
	char path[96];
	uint64_t addr, size;

#define ADD_PHDR(...) do {						\
		if ((unsigned char *)(ph + 1) > buf + max) {		\
			printf("ELF core header: more than %zu bytes\n", max); \
			return 0;					\
		}							\
		*ph++ = (Elf64_Phdr){ __VA_ARGS__ };			\
		eh->e_phnum++;						\
	} while (0)

	memset(buf, 0, max);
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/crash_notes", cpu);
		if (read_u64(path, 16, &addr))	/* "%llx" */
			continue;	/* no such CPU */
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/crash_notes_size", cpu);
		if (read_u64(path, 10, &size)) {
			printf("%s: %s\n", path, strerror(errno));
			return 0;
		}
		ADD_PHDR(.p_type = PT_NOTE, .p_offset = addr, .p_paddr = addr,
			 .p_filesz = size, .p_memsz = size);
	}
	{
		char *s = (char *)read_all("/sys/kernel/vmcoreinfo", NULL);
		unsigned long long a;
		unsigned int sz;

		if (!s || sscanf(s, "%llx %x", &a, &sz) != 2) {
			printf("/sys/kernel/vmcoreinfo: cannot read it\n");
			free(s);
			return 0;
		}
		free(s);
		ADD_PHDR(.p_type = PT_NOTE, .p_offset = a, .p_paddr = a,
			 .p_filesz = sz, .p_memsz = sz);
	}
	for (int i = 0; i < nram; i++) {
		/* Each range less [0, 1 MiB) and the reservation: 0-2 pieces. */
		uint64_t cut[2][2] = { { ram[i].start, ram[i].end }, { 0, 0 } };

		if (cut[0][0] < (1 << 20))
			cut[0][0] = 1 << 20;
		if (crash->start < cut[0][1] && crash->end > cut[0][0]) {
			cut[1][0] = crash->end;
			cut[1][1] = cut[0][1];
			cut[0][1] = crash->start;
		}
		for (int c = 0; c < 2; c++) {
			if (cut[c][1] <= cut[c][0])
				continue;
			ADD_PHDR(.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
				 .p_offset = cut[c][0], .p_paddr = cut[c][0],
				 .p_filesz = cut[c][1] - cut[c][0],
				 .p_memsz = cut[c][1] - cut[c][0]);
		}
	}
#undef ADD_PHDR
	return round_up((unsigned char *)ph - buf, PAGE_SZ);
}

static void add_e820(struct boot_params *bp, uint64_t start, uint64_t end,
		     uint32_t type)
{
	if (end <= start || bp->e820_entries >= MAX_RANGES)
		return;
	bp->e820_table[bp->e820_entries++] = (struct boot_e820_entry){
		.addr = start, .size = end - start, .type = type,
	};
}

/* One field of a newc cpio header: 8 hex digits. */
static unsigned long cpio_field(const unsigned char *h)
{
	char f[9];

	memcpy(f, h, 8);
	f[8] = 0;
	return strtoul(f, NULL, 16);
}

/*
 * The ELF image in KERNEL: the file itself, or the first regular file of
 * a newc cpio archive ("070701") whose data is an ELF image. The rig
 * hands the kernel to the first kernel inside the archive that it also
 * passes on as part of the next initramfs, so that tmpfs holds it once.
 */
static const unsigned char *find_elf(const unsigned char *a, size_t len,
				     size_t *elf_len)
{
	size_t off = 0;

	if (len >= SELFMAG && !memcmp(a, ELFMAG, SELFMAG)) {
		*elf_len = len;
		return a;
	}
	while (off + 110 <= len && !memcmp(a + off, "070701", 6)) {
		unsigned long mode = cpio_field(a + off + 14);
		unsigned long size = cpio_field(a + off + 54);
		unsigned long name = cpio_field(a + off + 94);
		size_t data = round_up(off + 110 + name, 4);

		if (data + size > len)
			break;
		if (S_ISREG(mode) && size >= SELFMAG && !memcmp(a + data, ELFMAG, SELFMAG)) {
			*elf_len = size;
			return a + data;
		}
		off = round_up(data + size, 4);
	}
	return NULL;
}

static int cmd_load(int argc, char **argv)
{
	static struct range fw[MAX_RANGES], ram[MAX_RANGES];
	static unsigned char bp_page[2 * PAGE_SZ], elfhdr[4 * PAGE_SZ];
	static struct boot_params cur;
	struct boot_params *bp = (void *)bp_page;
	char *cmdline = (char *)bp_page + PAGE_SZ;
	unsigned char *stub = bp_page + PAGE_SZ + CMDLINE_MAX;
	const unsigned char *k;
	const Elf64_Phdr *ph;
	struct range crash;
	struct load l = { .nseg = 0 };
	struct { const unsigned char *p; size_t len; } part[8];
	uint64_t lo = UINT64_MAX, hi = 0, base, bp_pa, stub_pa, initrd_pa, initrd_len;
	uint64_t entry, end, t0, elf_pa = 0, kdata = 0, pa;
	unsigned char *file, *cur_raw;
	size_t flen, klen, elfsz = 0;
	int crash_load = 0, nfw, nram, nph, nkseg, nparts = 0;
	char *list, *name, *save;

	if (argc > 0 && !strcmp(argv[0], "-p")) {
		crash_load = 1;
		argc--, argv++;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: kexec-helper load [-p] VMLINUX INITRD[:INITRD...] CMDLINE\n");
		return 2;
	}
	file = map_file(argv[0], &flen);
	if (!file) {
		printf("%s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	k = find_elf(file, flen, &klen);
	ph = k ? elf_phdrs(k, klen, &nph) : NULL;
	if (!ph) {
		printf("%s: not an x86-64 ELF kernel (want the uncompressed vmlinux)\n", argv[0]);
		return 1;
	}
	/* The initramfs: archives in a row, each from a page boundary. */
	list = strdup(argv[1]);
	for (name = strtok_r(list, ":", &save); name; name = strtok_r(NULL, ":", &save)) {
		if (nparts == (int)(sizeof(part) / sizeof(part[0]))) {
			printf("too many initrd files\n");
			return 1;
		}
		part[nparts].p = map_file(name, &part[nparts].len);
		if (!part[nparts].p) {
			printf("%s: %s\n", name, strerror(errno));
			return 1;
		}
		nparts++;
	}
	for (int i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		if (ph[i].p_offset + ph[i].p_filesz > klen ||
		    ph[i].p_filesz > ph[i].p_memsz || ph[i].p_paddr % PAGE_SZ) {
			printf("%s: PT_LOAD at %#lx is truncated or not page-aligned\n",
			       argv[0], (unsigned long)ph[i].p_paddr);
			return 1;
		}
		if (ph[i].p_paddr < lo)
			lo = ph[i].p_paddr;
		if (ph[i].p_paddr + ph[i].p_memsz > hi)
			hi = ph[i].p_paddr + ph[i].p_memsz;
	}
	if (lo == UINT64_MAX || lo % KERNEL_ALIGN) {
		printf("%s: no PT_LOAD segment, or the first is not 2 MiB-aligned\n", argv[0]);
		return 1;
	}
	nfw = read_firmware_map(fw, MAX_RANGES);
	nram = read_iomem(&crash, ram, MAX_RANGES);
	if (nfw <= 0 || nram < 0) {
		printf("cannot read /sys/firmware/memmap or /proc/iomem\n");
		return 1;
	}
	if (crash_load && crash.end <= crash.start) {
		printf("no \"Crash kernel\" range in /proc/iomem (crashkernel= missing?)\n");
		return 1;
	}
	if (strlen(argv[2]) + 32 >= CMDLINE_MAX) {
		printf("command line too long\n");
		return 1;
	}

	/*
	 * Layout: the kernel at base; then boot_params, command line and
	 * stub (two pages), the initrd and with -p the ELF core header.
	 * The ELF core header goes last: the kdump kernel's RAM is the
	 * reservation less it.
	 */
	initrd_len = 0;
	for (int i = 0; i < nparts; i++)
		initrd_len = round_up(initrd_len, PAGE_SZ) + part[i].len;
	base = crash_load ? round_up(crash.start, KERNEL_ALIGN) : lo;
	bp_pa = round_up(base + (hi - lo), PAGE_SZ);
	/*
	 * A normal kexec puts the rest in the crashkernel= reservation when
	 * there is one: kexec_load() copies every page into a page of its
	 * own, and each page it is given that is the destination of another
	 * costs it a walk of all the pages so far (kimage_alloc_page()).
	 * Right behind the kernel lay the first kernel's initramfs, free
	 * now: ~7 s of guest time under Bochs for a 40 MB load, against
	 * 0.3 s into memory the kernel keeps reserved.
	 */
	if (!crash_load && crash.end > crash.start &&
	    crash.end - round_up(crash.start, PAGE_SZ) > sizeof(bp_page) + initrd_len + PAGE_SZ)
		bp_pa = round_up(crash.start, PAGE_SZ);
	stub_pa = bp_pa + PAGE_SZ + CMDLINE_MAX;
	initrd_pa = bp_pa + sizeof(bp_page);
	end = round_up(initrd_pa + initrd_len, PAGE_SZ);
	entry = ((const Elf64_Ehdr *)k)->e_entry - lo + base;
	if (crash_load) {
		elf_pa = end;
		elfsz = build_elfcorehdr(elfhdr, sizeof(elfhdr), ram, nram, &crash);
		if (!elfsz)
			return 1;
		end = elf_pa + elfsz;
		/* sanity_check_segment_list(): mem + memsz <= the last byte */
		if (end >= crash.end) {
			printf("%#lx bytes do not fit the reservation [%#lx, %#lx)\n",
			       (unsigned long)(end - base), (unsigned long)crash.start,
			       (unsigned long)crash.end);
			return 1;
		}
	}

	for (int i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		if (add_segment(&l, k + ph[i].p_offset, trimmed_size(k, &ph[i]),
				ph[i].p_paddr - lo + base, ph[i].p_memsz))
			return 1;
	}
	nkseg = l.nseg;

	/* boot_params: what the kernel reads of it, the rest zero. */
	cur_raw = read_all("/sys/kernel/boot_params/data", NULL);
	if (cur_raw) {
		memcpy(&cur, cur_raw, sizeof(cur));
		free(cur_raw);
	}
	bp->screen_info = cur.screen_info;
	bp->acpi_rsdp_addr = cur.acpi_rsdp_addr;	/* 0: the kernel scans */
	bp->hdr.hardware_subarch = cur.hdr.hardware_subarch;
	bp->hdr.boot_flag = 0xaa55;
	bp->hdr.header = 0x53726448;			/* "HdrS" */
	bp->hdr.version = 0x020f;
	bp->hdr.type_of_loader = 0xd0;			/* kexec */
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.cmdline_size = CMDLINE_MAX - 1;
	bp->hdr.cmd_line_ptr = (uint32_t)(bp_pa + PAGE_SZ);
	bp->ext_cmd_line_ptr = (bp_pa + PAGE_SZ) >> 32;
	bp->hdr.ramdisk_image = (uint32_t)initrd_pa;
	bp->ext_ramdisk_image = initrd_pa >> 32;
	bp->hdr.ramdisk_size = (uint32_t)initrd_len;
	bp->ext_ramdisk_size = initrd_len >> 32;
	if (!crash_load) {
		for (int i = 0; i < nfw; i++)
			add_e820(bp, fw[i].start, fw[i].end, fw[i].type);
	} else {
		/*
		 * As crash_setup_memmap_entries() (arch/x86/kernel/crash.c)
		 * for kexec_file_load(): the low 1 MiB's RAM (the first
		 * kernel never uses it; the kdump kernel needs some for its
		 * real-mode trampoline), the firmware's ACPI, NVS and reserved
		 * ranges, and the reservation less the ELF core header.
		 */
		for (int i = 0; i < nfw; i++) {
			if (fw[i].type == E820_RAM)
				add_e820(bp, fw[i].start,
					 fw[i].end < (1 << 20) ? fw[i].end : (1 << 20),
					 E820_RAM);
			else if (fw[i].type == E820_ACPI || fw[i].type == E820_NVS ||
				 fw[i].type == E820_RESERVED)
				add_e820(bp, fw[i].start, fw[i].end, fw[i].type);
		}
		add_e820(bp, crash.start, elf_pa, E820_RAM);
		add_e820(bp, elf_pa + elfsz, crash.end, E820_RAM);
	}

	if (crash_load)
		snprintf(cmdline, CMDLINE_MAX, "elfcorehdr=%#lx %s",
			 (unsigned long)elf_pa, argv[2]);
	else
		snprintf(cmdline, CMDLINE_MAX, "%s", argv[2]);
	/* movabs $boot_params, %rsi; movabs $entry, %rax; jmp *%rax */
	stub[0] = 0x48, stub[1] = 0xbe;
	memcpy(stub + 2, &bp_pa, 8);
	stub[10] = 0x48, stub[11] = 0xb8;
	memcpy(stub + 12, &entry, 8);
	stub[20] = 0xff, stub[21] = 0xe0;

	if (add_segment(&l, bp_page, sizeof(bp_page), bp_pa, sizeof(bp_page)))
		return 1;
	pa = initrd_pa;
	for (int i = 0; i < nparts; i++) {
		/* The kernel skips the zeroes between archives. */
		if (add_segment(&l, part[i].p, part[i].len, pa, part[i].len))
			return 1;
		pa = round_up(pa + part[i].len, PAGE_SZ);
	}
	if (crash_load && add_segment(&l, elfhdr, elfsz, elf_pa, elfsz))
		return 1;
	/* A normal kexec's segments must be RAM the next kernel knows. */
	for (int s = 0; !crash_load && s < l.nseg; s++) {
		uint64_t ms = (uint64_t)l.seg[s].mem, me = ms + l.seg[s].memsz;
		int in_ram = 0;

		for (int i = 0; i < nfw; i++)
			in_ram |= fw[i].type == E820_RAM && fw[i].start <= ms && me <= fw[i].end;
		if (!in_ram) {
			printf("segment [%#lx, %#lx) is not in the firmware's RAM\n",
			       (unsigned long)ms, (unsigned long)me);
			return 1;
		}
	}

	for (int s = 0; s < nkseg; s++)
		kdata += l.seg[s].bufsz;
	printf("kernel %#lx-%#lx (%d segments, %lu KiB of data), startup_64 %#lx\n",
	       (unsigned long)base, (unsigned long)(base + hi - lo), nkseg,
	       (unsigned long)(kdata >> 10), (unsigned long)entry);
	printf("boot_params %#lx (%u e820 entries), initrd %#lx (%d files, %lu KiB)",
	       (unsigned long)bp_pa, bp->e820_entries, (unsigned long)initrd_pa,
	       nparts, (unsigned long)(initrd_len >> 10));
	if (crash_load)
		printf(", elfcorehdr %#lx (%u program headers)",
		       (unsigned long)elf_pa, ((Elf64_Ehdr *)elfhdr)->e_phnum);
	if (crash.end > crash.start)
		printf("; crashkernel [%#lx, %#lx)", (unsigned long)crash.start,
		       (unsigned long)crash.end);
	printf("\n");

	t0 = now_ms();
	if (syscall(SYS_kexec_load, stub_pa, l.nseg, l.seg,
		    crash_load ? KEXEC_ON_CRASH : 0UL)) {
		printf("kexec_load: %s\n", strerror(errno));
		return 1;
	}
	printf("kexec_load: %lu ms\n", (unsigned long)(now_ms() - t0));
	return 0;
}

/*
 * ---- kexec-helper compact: run on the build host -----------------------
 *
 * VMLINUX without what the loaders do not read: sections, symbols and
 * the zeroes that end each PT_LOAD segment (.bss, .brk and .init.scratch
 * are stored as file data). The rig's 66 MB vmlinux becomes ~35 MB, which
 * every later kernel's initramfs carries (the kexec'd kernel loads the
 * crash kernel from it), and which the emulated CPU copies. The PT_NOTE
 * segments stay: hvx-run finds the PVH entry there (the Bochs rig boots
 * this file as the nested guest, selftests/smp/boot_linux).
 */
static int cmd_compact(const char *in, const char *out)
{
	Elf64_Ehdr eh;
	const Elf64_Phdr *ph;
	Elf64_Phdr *oph;
	unsigned char *k;
	size_t klen;
	uint64_t off;
	int nph, n = 0, *src;
	FILE *f;

	k = map_file(in, &klen);
	if (!k) {
		fprintf(stderr, "%s: %s\n", in, strerror(errno));
		return 1;
	}
	ph = elf_phdrs(k, klen, &nph);
	if (!ph) {
		fprintf(stderr, "%s: not an x86-64 ELF kernel\n", in);
		return 1;
	}
	oph = calloc(nph, sizeof(*oph));
	src = calloc(nph, sizeof(*src));
	if (!oph || !src)
		return 1;
	off = round_up(sizeof(eh) + nph * sizeof(*oph), PAGE_SZ);
	for (int i = 0; i < nph; i++) {
		if (ph[i].p_type != PT_LOAD && ph[i].p_type != PT_NOTE)
			continue;
		if (ph[i].p_offset + ph[i].p_filesz > klen) {
			fprintf(stderr, "%s: truncated segment\n", in);
			return 1;
		}
		src[n] = i;
		oph[n] = ph[i];
		oph[n].p_offset = off;
		if (ph[i].p_type == PT_LOAD) {
			oph[n].p_filesz = trimmed_size(k, &ph[i]);
			oph[n].p_align = PAGE_SZ;	/* offsets are page-aligned */
		}
		off = round_up(off + oph[n].p_filesz, PAGE_SZ);
		n++;
	}
	eh = *(const Elf64_Ehdr *)k;
	eh.e_phoff = sizeof(eh);
	eh.e_phnum = n;
	eh.e_shoff = 0;
	eh.e_shnum = 0;
	eh.e_shstrndx = SHN_UNDEF;
	f = fopen(out, "wb");
	if (!f || fwrite(&eh, sizeof(eh), 1, f) != 1 ||
	    (n && fwrite(oph, sizeof(*oph), n, f) != (size_t)n)) {
		fprintf(stderr, "%s: %s\n", out, strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		if (fseek(f, oph[i].p_offset, SEEK_SET) ||
		    fwrite(k + ph[src[i]].p_offset, 1, oph[i].p_filesz, f) !=
		    oph[i].p_filesz) {
			fprintf(stderr, "%s: %s\n", out, strerror(errno));
			return 1;
		}
	}
	if (fclose(f)) {
		fprintf(stderr, "%s: %s\n", out, strerror(errno));
		return 1;
	}
	return 0;
}

static int cmd_exec(void)
{
	sync();
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		LINUX_REBOOT_CMD_KEXEC, NULL);
	printf("reboot(LINUX_REBOOT_CMD_KEXEC): %s\n", strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "spin"))
		return cmd_spin(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "virt") &&
	    (!strcmp(argv[2], "on") || !strcmp(argv[2], "off")))
		return cmd_virt(argv[2]);
	if (argc >= 2 && !strcmp(argv[1], "load"))
		return cmd_load(argc - 2, argv + 2);
	if (argc == 4 && !strcmp(argv[1], "compact"))
		return cmd_compact(argv[2], argv[3]);
	if (argc == 2 && !strcmp(argv[1], "exec"))
		return cmd_exec();
	fprintf(stderr, "usage: kexec-helper spin DEV | virt on|off | load [-p] VMLINUX INITRD[:INITRD...] CMDLINE | exec | compact VMLINUX OUT\n");
	return 2;
}
