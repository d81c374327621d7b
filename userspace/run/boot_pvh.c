// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: an uncompressed ELF vmlinux through its PVH entry. Its
 * XEN_ELFNOTE_PHYS32_ENTRY note names a 32-bit entry point that takes the
 * machine in flat protected mode, paging off, with EBX at an hvm_start_info
 * (Xen's public arch-x86/hvm/start_info.h, version 1: with a memory map).
 * Linux's PVH code needs no Xen for it (CONFIG_PVH), and there is no
 * decompressor to run.
 */
#include <elf.h>
#include <string.h>

#include "hvx-run.h"

#define XEN_ELFNOTE_PHYS32_ENTRY	18
#define HVM_START_MAGIC			0x336ec578

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

#define GPA_MODLIST	(GPA_START_INFO + 0x100)
#define GPA_MEMMAP	(GPA_START_INFO + 0x200)

bool pvh_probe(const void *img, size_t len)
{
	return len >= SELFMAG && !memcmp(img, ELFMAG, SELFMAG);
}

static const Elf64_Phdr *phdr(const void *img, size_t len, unsigned int i)
{
	const Elf64_Ehdr *eh = img;
	uint64_t off = eh->e_phoff + (uint64_t)i * sizeof(Elf64_Phdr);

	if (eh->e_phentsize != sizeof(Elf64_Phdr) || off + sizeof(Elf64_Phdr) > len)
		die("truncated ELF kernel: program header %u is past its end", i);
	return (const void *)((const uint8_t *)img + off);
}

/* The PVH entry from the PT_NOTE segments, or 0. */
static uint64_t pvh_entry(const void *img, size_t len)
{
	const Elf64_Ehdr *eh = img;
	unsigned int i;

	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = phdr(img, len, i);
		uint64_t off, end;

		if (p->p_type != PT_NOTE)
			continue;
		if (p->p_offset + p->p_filesz > len)
			die("truncated ELF kernel: a note segment is past its end");
		off = p->p_offset;
		end = off + p->p_filesz;
		while (off + sizeof(Elf64_Nhdr) <= end) {
			const Elf64_Nhdr *n = (const void *)((const uint8_t *)img + off);
			const char *name = (const char *)(n + 1);
			uint64_t desc = off + sizeof(*n) + ((n->n_namesz + 3) & ~3U);
			uint64_t next = desc + ((n->n_descsz + 3) & ~3U);

			if (next > end)
				break;
			if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
			    !memcmp(name, "Xen", 4) && n->n_descsz >= 4) {
				uint32_t e;

				memcpy(&e, (const uint8_t *)img + desc, 4);
				return e;
			}
			off = next;
		}
	}
	return 0;
}

/* Refuse what this loader cannot boot, before any VM exists. */
void pvh_check(const void *img, size_t len)
{
	const Elf64_Ehdr *eh = img;
	bool loadable = false;
	unsigned int i;

	if (len < sizeof(*eh))
		die("truncated ELF kernel: %zu bytes", len);
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
		die("not an x86-64 kernel: an ELF%s for machine %u",
		    eh->e_ident[EI_CLASS] == ELFCLASS32 ? "32" : "", eh->e_machine);
	if (eh->e_type != ET_EXEC)
		die("not a kernel: an ELF file of type %u, not an executable", eh->e_type);
	if (!pvh_entry(img, len))
		die("no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY): not a vmlinux built with CONFIG_PVH; boot a bzImage");
	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = phdr(img, len, i);

		if (p->p_type != PT_LOAD || !p->p_memsz)
			continue;
		if (p->p_offset + p->p_filesz > len || p->p_filesz > p->p_memsz)
			die("truncated ELF kernel: segment %u needs bytes up to %llu of %zu",
			    i, (unsigned long long)(p->p_offset + p->p_filesz), len);
		if (p->p_paddr < GPA_HIGH_RAM)
			die("ELF kernel: segment %u at %#llx, below 1 MiB", i,
			    (unsigned long long)p->p_paddr);
		loadable = true;
	}
	if (!loadable)
		die("ELF kernel: no loadable segment");
}

void pvh_load(struct vm *vm, const void *img, size_t len, const char *cmdline,
	      const void *initrd, size_t initrd_len, struct boot_entry *entry)
{
	const Elf64_Ehdr *eh = img;
	struct hvm_start_info *si = gpa_ptr(vm, GPA_START_INFO, 0x1000);
	struct hvm_modlist_entry *mod = gpa_ptr(vm, GPA_MODLIST, sizeof(*mod));
	struct hvm_memmap_table_entry *mm = gpa_ptr(vm, GPA_MEMMAP, 0x100);
	uint64_t kernel_end = 0;
	unsigned int i;

	for (i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = phdr(img, len, i);
		uint8_t *dst;

		if (p->p_type != PT_LOAD || !p->p_memsz)
			continue;
		if (p->p_paddr + p->p_memsz > kernel_end)
			kernel_end = p->p_paddr + p->p_memsz;
		dst = gpa_ptr(vm, p->p_paddr, p->p_memsz);
		if (!dst)
			die("-m %lluM: too little memory: this kernel needs at least %llu MiB",
			    (unsigned long long)(vm->mem_size >> 20),
			    (unsigned long long)((p->p_paddr + p->p_memsz + (1 << 20) - 1) >> 20));
		memcpy(dst, (const uint8_t *)img + p->p_offset, p->p_filesz);
		memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
	}

	memset(si, 0, 0x1000);
	si->magic = HVM_START_MAGIC;
	si->version = 1;
	si->cmdline_paddr = GPA_CMDLINE;
	si->rsdp_paddr = vm->rsdp;
	if (initrd_len) {
		mod->paddr = place_initrd(vm, initrd_len, ~0ULL, kernel_end);
		mod->size = initrd_len;
		memcpy(gpa_ptr(vm, mod->paddr, initrd_len), initrd, initrd_len);
		si->nr_modules = 1;
		si->modlist_paddr = GPA_MODLIST;
	}
	for (i = 0; i < vm->e820.nr; i++) {
		mm[i].addr = vm->e820.e[i].addr;
		mm[i].size = vm->e820.e[i].size;
		mm[i].type = vm->e820.e[i].type;
	}
	si->memmap_paddr = GPA_MEMMAP;
	si->memmap_entries = vm->e820.nr;

	(void)cmdline;		/* already at GPA_CMDLINE */
	entry->long_mode = false;
	entry->rip = pvh_entry(img, len);
	entry->rbx = GPA_START_INFO;
}
