// SPDX-License-Identifier: GPL-2.0
/*
 * pvh-shim: boot the UNCOMPRESSED rig kernel under Bochs.
 *
 * Why: Bochs boots through a BIOS, so the only kernel format a stock
 * bootloader (ISOLINUX) starts is the bzImage, whose XZ decompression costs
 * ~50 s of a ~65 s path to the kernel at Bochs' ~80 MIPS. The kernel's own
 * PVH entry (what QEMU's -kernel uses) needs no decompression, but no
 * syslinux module speaks PVH. syslinux's mboot.c32 does speak Multiboot 1,
 * and with the Multiboot "a.out kludge" it loads a flat image at a fixed
 * physical address. So mkpvhboot (host side) builds one flat image:
 *
 *   0x1000000 - SHIM_SIZE   this shim (Multiboot header first)
 *   0x1000000 ...           vmlinux's PT_LOAD segments at their p_paddr,
 *                           trailing zeroes left to the Multiboot "bss"
 *
 * mboot.c32 loads it in place, loads the initrd as Multiboot module 0 above
 * the image, and jumps here in 32-bit flat protected mode, paging off
 * (exactly the state the PVH entry wants). We translate the Multiboot info
 * (memory map, command line, module) into the hvm_start_info the kernel's
 * PVH entry reads, and jump there with EBX pointing at it.
 *
 * Everything the kernel reads through hvm_start_info is copied into this
 * shim's own memory, which the kernel reads early (before it allocates
 * anything), so nothing mboot.c32 placed in low memory has to survive.
 *
 * Freestanding i686 code: no libc, no headers, built by check-vmx.sh with
 * gcc -m32 and pvh-shim.ld.
 */

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define MB_MAGIC		0x1BADB002u
#define MB_BOOT_MAGIC		0x2BADB002u	/* EAX at entry */
#define MB_FLAG_PAGE_ALIGN	(1u << 0)	/* modules 4 KiB aligned */
#define MB_FLAG_MEMINFO		(1u << 1)	/* we need the memory map */
#define MB_FLAG_AOUT_KLUDGE	(1u << 16)	/* load addresses below */
#define MB_FLAGS	(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_AOUT_KLUDGE)

#define MBI_CMDLINE	(1u << 2)
#define MBI_MODS	(1u << 3)
#define MBI_MMAP	(1u << 6)

#define HVM_START_MAGIC	0x336ec578u
#define MAX_MEMMAP	128
#define CMDLINE_MAX	2048

/*
 * Multiboot header with the a.out kludge. mkpvhboot patches load_end_addr,
 * bss_end_addr and pvh_entry (it knows the kernel); everything else is known
 * at link time. Must stay first in the image (pvh-shim.ld) and 4-aligned.
 */
struct mb_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
	u32 pvh_entry;		/* not Multiboot: the kernel's PHYS32 entry */
};

extern char shim_base[];	/* pvh-shim.ld: where the image starts */
void _start(void);

__attribute__((section(".mbheader"), used))
struct mb_header mb_header = {
	.magic = MB_MAGIC,
	.flags = MB_FLAGS,
	.checksum = -(MB_MAGIC + MB_FLAGS),
	.header_addr = (u32)&mb_header,
	.load_addr = (u32)shim_base,
	.entry_addr = (u32)_start,
};

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
};

struct mb_module {
	u32 mod_start, mod_end, cmdline, pad;
};

struct mb_mmap_entry {		/* "size" does not count itself */
	u32 size;
	u64 addr, len;
	u32 type;
} __attribute__((packed));

/* xen/interface/hvm/start_info.h, version 1 (memory map present). */
struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};

struct hvm_modlist_entry {
	u64 paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {	/* types are E820 types, as Multiboot's */
	u64 addr, size;
	u32 type, reserved;
};

static struct hvm_start_info start_info;
static struct hvm_modlist_entry modlist[1];
static struct hvm_memmap_entry memmap[MAX_MEMMAP];
static char cmdline[CMDLINE_MAX];

/* gcc may emit calls to these even in freestanding code. */
void *memset(void *d, int c, unsigned long n)
{
	u8 *p = d;

	while (n--)
		*p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, unsigned long n)
{
	u8 *p = d;
	const u8 *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

/* COM1, already set up by ISOLINUX ("SERIAL 0 115200"): errors go there. */
static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void putc_serial(char c)
{
	for (int i = 0; i < 100000 && !(inb(0x3fd) & 0x20); i++)
		;
	outb(0x3f8, (u8)c);
}

static void puts_serial(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc_serial('\r');
		putc_serial(*s);
	}
}

static void die(const char *msg)
{
	puts_serial("pvh-shim: ");
	puts_serial(msg);
	puts_serial("\n");
	for (;;)
		__asm__ volatile("cli; hlt");
}

/*
 * Multiboot (like GRUB) puts the image's path first on the command line;
 * the kernel would pass it to /init as an argument: drop it.
 */
static void copy_cmdline(const char *src)
{
	unsigned int n = 0;

	while (*src == ' ')
		src++;
	if (*src == '/') {
		while (*src && *src != ' ')
			src++;
		while (*src == ' ')
			src++;
	}
	while (*src && n < CMDLINE_MAX - 1)
		cmdline[n++] = *src++;
	cmdline[n] = 0;
}

/* Called from _start; returns the hvm_start_info for EBX. */
__attribute__((used))
struct hvm_start_info *shim_main(u32 magic, const struct mb_info *mbi)
{
	if (magic != MB_BOOT_MAGIC)
		die("not started by a Multiboot loader");
	if (!mb_header.pvh_entry)
		die("no PVH entry patched in (built without mkpvhboot?)");
	if (!(mbi->flags & MBI_MMAP))
		die("the loader passed no memory map");

	start_info.magic = HVM_START_MAGIC;
	start_info.version = 1;

	/* The memory map: Multiboot entries are variable-sized. */
	u32 off = 0, n = 0;

	while (off + 4 <= mbi->mmap_length && n < MAX_MEMMAP) {
		const struct mb_mmap_entry *e =
			(const void *)(mbi->mmap_addr + off);

		if (e->len) {
			memmap[n].addr = e->addr;
			memmap[n].size = e->len;
			memmap[n].type = e->type;
			n++;
		}
		off += e->size + 4;
	}
	if (!n)
		die("empty memory map");
	start_info.memmap_paddr = (u32)memmap;
	start_info.memmap_entries = n;

	if (mbi->flags & MBI_CMDLINE)
		copy_cmdline((const char *)mbi->cmdline);
	start_info.cmdline_paddr = (u32)cmdline;

	/* The kernel takes the first module as its initrd. */
	if ((mbi->flags & MBI_MODS) && mbi->mods_count) {
		const struct mb_module *m = (const void *)mbi->mods_addr;

		modlist[0].paddr = m->mod_start;
		modlist[0].size = m->mod_end - m->mod_start;
		start_info.modlist_paddr = (u32)modlist;
		start_info.nr_modules = 1;
	}
	/* rsdp_paddr 0: the kernel scans the BIOS areas for the RSDP. */

	puts_serial("pvh-shim: entering the kernel's PVH entry\n");
	return &start_info;
}

/*
 * Multiboot entry: EAX = magic, EBX = info, flat 32-bit segments, paging and
 * interrupts off, no stack. The kernel's PVH entry wants the same state with
 * EBX = hvm_start_info and loads its own GDT first thing.
 */
__asm__(
	".section .text.entry, \"ax\"\n"
	".globl _start\n"
	"_start:\n"
	"	cli\n"
	"	cld\n"
	"	movl $shim_stack_top, %esp\n"
	"	pushl %ebx\n"
	"	pushl %eax\n"
	"	call shim_main\n"
	"	movl %eax, %ebx\n"
	"	jmp *mb_header + 32\n"		/* .pvh_entry */
	".section .bss\n"
	".balign 16\n"
	"	.skip 2048\n"
	"shim_stack_top:\n"
	".previous\n");
