// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: what both kernel formats share. The kernel file decides the
 * protocol: a bzImage boots through the Linux x86 boot protocol's 64-bit
 * entry (boot_bzimage.c), an uncompressed ELF vmlinux through its PVH entry
 * (boot_pvh.c), which skips the decompressor.
 */
#include <stdio.h>
#include <string.h>

#include "hvx-run.h"

/*
 * What every boot gets on its command line before --append: the console is
 * the one UART, a reset goes straight to the i8042 (Documentation/
 * hvx-run.md: no ACPI reset register), and a panic without a pvpanic
 * driver still ends the run (as a reboot) instead of spinning forever.
 */
#define BASE_CMDLINE	"console=ttyS0 reboot=k panic=1"

/*
 * The GDT both entries use until the kernel loads its own. The 64-bit
 * boot protocol wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18
 * (Documentation/x86/boot.rst); PVH takes any flat 32-bit code and data.
 */
void write_boot_gdt(struct vm *vm)
{
	static const uint64_t gdt[] = {
		0,
		0x00cf9b000000ffffULL,	/* 0x08: code, 32-bit, flat */
		0x00af9b000000ffffULL,	/* 0x10: code, 64-bit */
		0x00cf93000000ffffULL,	/* 0x18: data, flat */
		0x00008b0000000067ULL,	/* 0x20: TSS, busy, at 0 (low half) */
		0,			/* 0x28: its high half */
	};

	memcpy(gpa_ptr(vm, GPA_GDT, sizeof(gdt)), gdt, sizeof(gdt));
}

/* Identity map of the low 4 GiB with 2 MiB pages, for the 64-bit entry. */
void write_identity_map(struct vm *vm)
{
	uint64_t *pml4 = gpa_ptr(vm, GPA_PML4, 6 * 4096);
	uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;
	unsigned int i;

	memset(pml4, 0, 6 * 4096);
	pml4[0] = (GPA_PML4 + 0x1000) | 3;		/* present, writable */
	for (i = 0; i < 4; i++)
		pdpt[i] = (GPA_PML4 + 0x2000 + i * 0x1000UL) | 3;
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | 0x83;	/* present, writable, 2 MiB */
}

/*
 * The initrd goes as high as it can below @max_addr and the top of RAM
 * under 4 GiB, page aligned, and above @low (the kernel's end). Returns its
 * GPA.
 */
uint64_t place_initrd(struct vm *vm, size_t len, uint64_t max_addr, uint64_t low)
{
	uint64_t top = ram_top_below_4g(vm), addr;

	if (max_addr < top)
		top = max_addr + 1;
	if (len > top)
		goto small;
	addr = (top - len) & ~0xfffUL;
	if (addr < low)
		goto small;
	return addr;
small:
	die("-m %lluM: too little memory for the kernel and a %zu KiB initrd",
	    (unsigned long long)(vm->mem_size >> 20), len >> 10);
}

/* Read the files and refuse what cannot boot, before any VM exists. */
void kernel_read(struct options *opt)
{
	opt->kernel_img = read_file(opt->kernel, &opt->kernel_len);
	if (opt->initrd)
		opt->initrd_img = read_file(opt->initrd, &opt->initrd_len);
	if (bzimage_probe(opt->kernel_img, opt->kernel_len))
		bzimage_check(opt->kernel_img, opt->kernel_len);
	else if (pvh_probe(opt->kernel_img, opt->kernel_len))
		pvh_check(opt->kernel_img, opt->kernel_len);
	else
		die("%s: not a Linux kernel (neither a bzImage nor an ELF vmlinux)",
		    opt->kernel);
}

void load_kernel(struct vm *vm, const struct options *opt, struct boot_entry *entry)
{
	const void *img = opt->kernel_img, *initrd = opt->initrd_img;
	size_t len = opt->kernel_len, initrd_len = opt->initrd_len;
	char *cmdline;
	size_t n;

	n = strlen(BASE_CMDLINE) + 2 + (opt->append ? strlen(opt->append) : 0);
	if (n > CMDLINE_MAX)
		die("--append: command line too long (%zu bytes)", n);
	cmdline = gpa_ptr(vm, GPA_CMDLINE, CMDLINE_MAX);
	snprintf(cmdline, CMDLINE_MAX, "%s%s%s", BASE_CMDLINE, opt->append ? " " : "",
		 opt->append ? opt->append : "");

	write_boot_gdt(vm);
	if (bzimage_probe(img, len))
		bzimage_load(vm, img, len, cmdline, initrd, initrd_len, entry);
	else
		pvh_load(vm, img, len, cmdline, initrd, initrd_len, entry);
}
