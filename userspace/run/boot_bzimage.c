// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: a bzImage through the Linux x86 boot protocol's 64-bit entry
 * (Documentation/x86/boot.rst, "64-bit Boot Protocol"): the protected-mode
 * part at 1 MiB, a zero page with the setup header, e820 map, command line
 * and initrd, long mode with an identity map, and RSI at the zero page.
 */
#include <string.h>
#include <asm/bootparam.h>

#include "hvx-run.h"

#define HDR_OFFSET	0x1f1
#define BOOT_FLAG	0xaa55
#define HDR_MAGIC	0x53726448	/* "HdrS" */
/* 2.12 has xloadflags (the 64-bit entry), 2.14 acpi_rsdp_addr. */
#define MIN_VERSION	0x020c

bool bzimage_probe(const void *img, size_t len)
{
	const struct setup_header *h = (const void *)((const uint8_t *)img + HDR_OFFSET);

	return len >= HDR_OFFSET + sizeof(*h) && h->boot_flag == BOOT_FLAG &&
	       h->header == HDR_MAGIC;
}

static size_t setup_length(const struct setup_header *h)
{
	return ((h->setup_sects ? h->setup_sects : 4) + 1) * 512UL;
}

/* Refuse what this loader cannot boot, before any VM exists. */
void bzimage_check(const void *img, size_t len)
{
	const struct setup_header *h = (const void *)((const uint8_t *)img + HDR_OFFSET);
	size_t setup_len = setup_length(h), kernel_len = (size_t)h->syssize * 16;

	if (h->version < MIN_VERSION)
		die("bzImage boot protocol %u.%u is too old (2.12 or later needed)",
		    h->version >> 8, h->version & 0xff);
	if (!(h->xloadflags & XLF_KERNEL_64))
		die("not an x86-64 kernel: the bzImage has no 64-bit entry");
	if (len < setup_len + kernel_len || !kernel_len)
		die("truncated bzImage: %zu bytes, its header says %zu", len,
		    setup_len + kernel_len);
}

void bzimage_load(struct vm *vm, const void *img, size_t len, const char *cmdline,
		  const void *initrd, size_t initrd_len, struct boot_entry *entry)
{
	const struct setup_header *h = (const void *)((const uint8_t *)img + HDR_OFFSET);
	struct boot_params *bp = gpa_ptr(vm, GPA_BOOT_PARAMS, sizeof(*bp));
	size_t hdr_len, setup_len = setup_length(h), kernel_len = len - setup_len;
	uint64_t load_end, kernel_end, initrd_gpa;
	unsigned int i;

	/*
	 * The decompressor runs from the load address and unpacks to
	 * pref_address (or higher, with KASLR), needing init_size there.
	 */
	load_end = GPA_HIGH_RAM + kernel_len;
	kernel_end = (h->pref_address > GPA_HIGH_RAM ? h->pref_address : GPA_HIGH_RAM) +
		     h->init_size;
	if (kernel_end < load_end)
		kernel_end = load_end;
	if (kernel_end > ram_top_below_4g(vm))
		die("-m %lluM: too little memory: this kernel needs at least %llu MiB",
		    (unsigned long long)(vm->mem_size >> 20),
		    (unsigned long long)((kernel_end + (1 << 20) - 1) >> 20));
	memcpy(gpa_ptr(vm, GPA_HIGH_RAM, kernel_len), (const uint8_t *)img + setup_len,
	       kernel_len);

	memset(bp, 0, sizeof(*bp));
	/* The header ends at 0x202 plus the byte at 0x201 (the jump's offset). */
	hdr_len = 0x202 + ((const uint8_t *)img)[0x201] - HDR_OFFSET;
	if (hdr_len > sizeof(bp->hdr))
		hdr_len = sizeof(bp->hdr);
	memcpy(&bp->hdr, h, hdr_len);
	bp->hdr.type_of_loader = 0xff;		/* "undefined" boot loader */
	bp->hdr.loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.vid_mode = 0xffff;		/* "normal" */
	bp->hdr.code32_start = GPA_HIGH_RAM;
	bp->hdr.cmd_line_ptr = GPA_CMDLINE;
	if (h->cmdline_size && strlen(cmdline) > h->cmdline_size)
		die("--append: the command line is longer than this kernel's %u bytes",
		    h->cmdline_size);

	if (initrd_len) {
		initrd_gpa = place_initrd(vm, initrd_len, h->initrd_addr_max, kernel_end);
		memcpy(gpa_ptr(vm, initrd_gpa, initrd_len), initrd, initrd_len);
		bp->hdr.ramdisk_image = (uint32_t)initrd_gpa;
		bp->hdr.ramdisk_size = (uint32_t)initrd_len;
		bp->ext_ramdisk_image = initrd_gpa >> 32;
		bp->ext_ramdisk_size = (uint64_t)initrd_len >> 32;
	}

	for (i = 0; i < vm->e820.nr; i++) {
		bp->e820_table[i].addr = vm->e820.e[i].addr;
		bp->e820_table[i].size = vm->e820.e[i].size;
		bp->e820_table[i].type = vm->e820.e[i].type;
	}
	bp->e820_entries = vm->e820.nr;
	if (h->version >= 0x020e)
		bp->acpi_rsdp_addr = vm->rsdp;

	write_identity_map(vm);
	entry->long_mode = true;
	entry->rip = GPA_HIGH_RAM + 0x200;	/* the 64-bit entry point */
	entry->rsi = GPA_BOOT_PARAMS;
}
