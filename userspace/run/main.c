// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: boot a Linux kernel on /dev/hvx (or /dev/kvm) with a serial
 * console. Usage and exit codes: Documentation/hvx-run.md, hvx-run.1.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvx-run.h"

#define DEFAULT_MEM	(256ULL << 20)
/* Below this no x86-64 Linux boots; the loaders check the exact need. */
#define MIN_MEM		(8ULL << 20)
#define MAX_MEM		(1ULL << 40)

static void usage(FILE *f)
{
	fputs("Usage: hvx-run --kernel FILE [OPTION]...\n"
	      "Boot a Linux kernel (bzImage, or an uncompressed vmlinux through its PVH\n"
	      "entry) on /dev/hvx or /dev/kvm, its console on this terminal (COM1).\n"
	      "\n"
	      "  -k, --kernel FILE     the kernel: bzImage or ELF vmlinux (x86-64)\n"
	      "  -i, --initrd FILE     the initial ramdisk\n"
	      "  -a, --append CMDLINE  kernel command line, after \"console=ttyS0 reboot=k panic=1\"\n"
	      "  -m, --memory SIZE     guest RAM: a number with K, M or G (M if none); default 256M\n"
	      "  -c, --cpus N          vCPUs, 1 to 64; default 1\n"
	      "  -d, --dev PATH        the hypervisor device; default /dev/hvx (/dev/kvm works too)\n"
	      "  -h, --help            this text\n"
	      "  -V, --version         hvx-run's version\n"
	      "\n"
	      "On a terminal, keys go to the guest; Ctrl-A x quits, Ctrl-A Ctrl-A sends Ctrl-A.\n"
	      "Exit status: 0 the guest powered off, 1 hvx-run failed, 2 the guest rebooted,\n"
	      "3 triple fault, 4 guest panic (pvpanic), 5 the hypervisor stopped the guest,\n"
	      "6 Ctrl-A x.\n", f);
}

static uint64_t parse_size(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		die("-m %s: not a size (e.g. 256M, 2G)", s);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	case 'm': case 'M': end++; /* fall through */
	case '\0': v <<= 20; break;
	}
	if (!strcmp(end, "iB") || !strcmp(end, "B"))	/* 256MiB, 256MB */
		end += strlen(end);
	if (*end)
		die("-m %s: not a size (e.g. 256M, 2G)", s);
	if (v < MIN_MEM)
		die("-m %s: too little memory (at least %lluM)", s, MIN_MEM >> 20);
	if (v > MAX_MEM)
		die("-m %s: too much memory (at most %lluG)", s, MAX_MEM >> 30);
	return v & ~0xfffULL;
}

static void parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "memory", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "dev", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "k:i:a:m:c:d:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': opt->kernel = optarg; break;
		case 'i': opt->initrd = optarg; break;
		case 'a': opt->append = optarg; break;
		case 'd': opt->dev = optarg; break;
		case 'm': opt->mem_size = parse_size(optarg); break;
		case 'c':
			errno = 0;
			n = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || n < 1 || n > MAX_VCPUS)
				die("-c %s: the number of vCPUs must be 1 to %d", optarg,
				    MAX_VCPUS);
			opt->nr_vcpus = n;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("hvx-run %s\n", HVX_RUN_VERSION);
			exit(0);
		default:
			fputs("Try 'hvx-run --help'.\n", stderr);
			exit(EXIT_ERROR);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (try --help)", argv[optind]);
	if (!opt->kernel)
		die("no kernel: --kernel FILE (try --help)");
}

int main(int argc, char **argv)
{
	struct options opt = {
		.dev = "/dev/hvx",
		.mem_size = DEFAULT_MEM,
		.nr_vcpus = 1,
	};
	struct boot_entry entry = { 0 };
	struct vm vm = { 0 };

	parse_options(argc, argv, &opt);
	kernel_read(&opt);
	vm_create(&vm, &opt);
	acpi_build(&vm);
	load_kernel(&vm, &opt, &entry);
	platform_init(&vm);
	return vcpus_run(&vm, &entry);
}
