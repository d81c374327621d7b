// SPDX-License-Identifier: GPL-2.0
/*
 * mkpvhboot SHIM.bin VMLINUX OUT
 *
 * Host side of pvh-shim.c (read its comment first): lay the uncompressed
 * kernel's PT_LOAD segments out flat at their physical addresses behind the
 * shim, and patch into the shim's Multiboot header what only the kernel
 * knows: where its file data ends, where its zero-filled memory ends, and
 * its PVH entry point (the Xen ELF note PHYS32_ENTRY, the same note QEMU's
 * -kernel reads).
 *
 * Trailing zeroes of the image (mostly .bss, .brk and .init.scratch, which
 * this kernel's vmlinux stores as file data) are left out of the file and
 * covered by the Multiboot "bss" instead: every byte ISOLINUX reads from
 * the emulated CD costs time under Bochs.
 */
#include <elf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_MAGIC		0x1BADB002u
#define XEN_ELFNOTE_PHYS32_ENTRY 18

/* The shim's header: struct mb_header in pvh-shim.c. */
enum { H_MAGIC, H_FLAGS, H_CHECKSUM, H_HEADER_ADDR, H_LOAD_ADDR,
       H_LOAD_END_ADDR, H_BSS_END_ADDR, H_ENTRY_ADDR, H_PVH_ENTRY, H_WORDS };

static const char *prog = "mkpvhboot";

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (!f)
		die("cannot open %s", path);
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		die("cannot size %s", path);
	buf = malloc(n ? n : 1);
	if (!buf || fread(buf, 1, n, f) != (size_t)n)
		die("cannot read %s", path);
	fclose(f);
	*len = n;
	return buf;
}

/* The PHYS32_ENTRY value from the "Xen" notes of one PT_NOTE segment. */
static uint32_t find_pvh_entry(const unsigned char *p, size_t len)
{
	size_t off = 0;

	while (off + sizeof(Elf64_Nhdr) <= len) {
		const Elf64_Nhdr *n = (const void *)(p + off);
		size_t name = off + sizeof(*n);
		size_t desc = name + ((n->n_namesz + 3) & ~3u);

		if (desc + n->n_descsz > len)
			break;
		if (n->n_type == XEN_ELFNOTE_PHYS32_ENTRY && n->n_namesz == 4 &&
		    !memcmp(p + name, "Xen", 4) && n->n_descsz >= 4) {
			uint32_t v;

			memcpy(&v, p + desc, 4);
			return v;
		}
		off = desc + ((n->n_descsz + 3) & ~3u);
	}
	return 0;
}

int main(int argc, char **argv)
{
	size_t shim_len, k_len;
	unsigned char *shim, *k, *out;
	const Elf64_Ehdr *eh;
	uint32_t hdr[H_WORDS], pvh_entry = 0;
	uint64_t lo = UINT64_MAX, mem_end = 0, data_end = 0, shim_size, out_len;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SHIM.bin VMLINUX OUT\n", prog);
		return 2;
	}
	shim = slurp(argv[1], &shim_len);
	k = slurp(argv[2], &k_len);

	if (shim_len < sizeof(hdr))
		die("%s: too short for a Multiboot header", argv[1]);
	memcpy(hdr, shim, sizeof(hdr));
	if (hdr[H_MAGIC] != MB_MAGIC || hdr[H_HEADER_ADDR] != hdr[H_LOAD_ADDR])
		die("%s: no Multiboot header at offset 0", argv[1]);

	eh = (const void *)k;
	if (k_len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > k_len)
		die("%s: not an x86-64 ELF kernel (want the uncompressed vmlinux)",
		    argv[2]);

	/* Extent of the image, and where its non-zero file data ends. */
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(k + eh->e_phoff) + i;

		if (ph->p_offset + ph->p_filesz > k_len)
			die("%s: truncated segment", argv[2]);
		if (ph->p_type == PT_NOTE && !pvh_entry)
			pvh_entry = find_pvh_entry(k + ph->p_offset, ph->p_filesz);
		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_paddr < lo)
			lo = ph->p_paddr;
		if (ph->p_paddr + ph->p_memsz > mem_end)
			mem_end = ph->p_paddr + ph->p_memsz;
		uint64_t n = ph->p_filesz;

		while (n && !k[ph->p_offset + n - 1])
			n--;
		if (n && ph->p_paddr + n > data_end)
			data_end = ph->p_paddr + n;
	}
	if (!pvh_entry)
		die("%s: no XEN_ELFNOTE_PHYS32_ENTRY note (kernel without CONFIG_PVH?)",
		    argv[2]);
	if (lo == UINT64_MAX || mem_end > 0xffffffffu)
		die("%s: no loadable segments below 4 GiB", argv[2]);

	shim_size = lo - hdr[H_LOAD_ADDR];
	if (hdr[H_LOAD_ADDR] >= lo || shim_len > shim_size) {
		char where[32];

		snprintf(where, sizeof(where), "%#llx", (unsigned long long)lo);
		die("the shim (pvh-shim.ld) must end where the kernel starts, "
		    "but this kernel loads at %s", where);
	}

	/* The file: shim padded to the kernel's start, then the segments. */
	data_end = (data_end + 3) & ~3ull;	/* Multiboot wants 4-alignment */
	out_len = shim_size + (data_end - lo);
	out = calloc(1, out_len);
	if (!out)
		die("out of memory%s", "");
	memcpy(out, shim, shim_len);
	for (int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(k + eh->e_phoff) + i;
		uint64_t n = ph->p_filesz;

		if (ph->p_type != PT_LOAD || !ph->p_memsz)
			continue;
		if (ph->p_paddr + n > data_end)	/* only zeroes beyond */
			n = ph->p_paddr < data_end ? data_end - ph->p_paddr : 0;
		memcpy(out + shim_size + (ph->p_paddr - lo), k + ph->p_offset, n);
	}

	hdr[H_LOAD_END_ADDR] = (uint32_t)(lo + (data_end - lo));
	hdr[H_BSS_END_ADDR] = (uint32_t)(mem_end > data_end ? mem_end : data_end);
	hdr[H_PVH_ENTRY] = pvh_entry;
	memcpy(out, hdr, sizeof(hdr));

	f = fopen(argv[3], "wb");
	if (!f || fwrite(out, 1, out_len, f) != out_len || fclose(f))
		die("cannot write %s", argv[3]);
	printf("%s: %s: %llu bytes at %#x, zeroed to %#x, PVH entry %#x\n", prog,
	       argv[3], (unsigned long long)out_len, hdr[H_LOAD_ADDR],
	       hdr[H_BSS_END_ADDR], pvh_entry);
	return 0;
}
