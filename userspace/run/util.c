// SPDX-License-Identifier: GPL-2.0
/* hvx-run: messages, files, guest memory and the e820 map. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvx-run.h"

void die(const char *fmt, ...)
{
	va_list ap;

	terminal_restore();
	fputs("hvx-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_ERROR);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	/* The terminal may be raw: end the line with CR LF. */
	fputs("hvx-run: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\r\n", stderr);
}

void *read_file(const char *path, size_t *len)
{
	struct stat st;
	size_t done = 0;
	uint8_t *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die("%s: not a regular file", path);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		die("%s: out of memory (%lld bytes)", path, (long long)st.st_size);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("%s: %s", path, n ? strerror(errno) : "file shrank while read");
		done += n;
	}
	close(fd);
	*len = done;
	return buf;
}

/*
 * The host address of guest-physical [gpa, gpa + len), which must be RAM:
 * RAM above GPA_PCI_HOLE sits at 4 GiB in the guest but right after the
 * low part in the host mapping.
 */
void *gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t low = vm->mem_size < GPA_PCI_HOLE ? vm->mem_size : GPA_PCI_HOLE;
	uint64_t off;

	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= low)
		off = gpa;
	else if (gpa >= GPA_4G && gpa + len - GPA_4G <= vm->mem_size - low)
		off = gpa - GPA_4G + low;
	else
		return NULL;
	return vm->mem + off;
}

uint64_t ram_top_below_4g(const struct vm *vm)
{
	return vm->mem_size < GPA_PCI_HOLE ? vm->mem_size : GPA_PCI_HOLE;
}

void e820_add(struct e820_map *map, uint64_t addr, uint64_t size, uint32_t type)
{
	if (map->nr == sizeof(map->e) / sizeof(map->e[0]))
		die("internal error: e820 map full");
	map->e[map->nr].addr = addr;
	map->e[map->nr].size = size;
	map->e[map->nr].type = type;
	map->nr++;
}
