// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace unit tests for module/emulate.c, module/walk.c,
 * module/vmx/vmx_guest_check.c and module/lapic_regs.c.
 * Output is TAP 13; the exit status is non-zero if any test failed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

struct result {
	bool ok;
	char *desc;
	char *diag;
};

static struct result *results;
static unsigned int nr_results, cap_results;

void diag_add(struct diag *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (d->n >= sizeof(d->s) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(d->s + d->n, sizeof(d->s) - d->n, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->n += (size_t)n;
	if (d->n > sizeof(d->s) - 1)
		d->n = sizeof(d->s) - 1;
}

void tap_result(bool ok, const struct diag *d, const char *fmt, ...)
{
	struct result *r;
	char desc[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);

	if (nr_results == cap_results) {
		cap_results = cap_results ? 2 * cap_results : 256;
		results = realloc(results, cap_results * sizeof(*results));
		if (!results) {
			perror("realloc");
			exit(2);
		}
	}
	r = &results[nr_results++];
	r->ok = ok;
	r->desc = strdup(desc);
	r->diag = strdup(!ok && d ? d->s : "");
	if (!r->desc || !r->diag) {
		perror("strdup");
		exit(2);
	}
}

unsigned int parse_hex(const char *hex, unsigned char *out, unsigned int max)
{
	unsigned int n = 0;
	char *end;

	while (*hex && n < max) {
		unsigned long v = strtoul(hex, &end, 16);

		if (end == hex)
			break;
		out[n++] = (unsigned char)v;
		hex = end;
	}
	return n;
}

int main(void)
{
	unsigned int i, failed = 0;

	test_decode();
	test_walk();
	test_ea();
	test_vmx_guest_check();
	test_lapic_regs();

	printf("TAP version 13\n1..%u\n", nr_results);
	for (i = 0; i < nr_results; i++) {
		struct result *r = &results[i];

		printf("%sok %u - %s\n", r->ok ? "" : "not ", i + 1, r->desc);
		if (!r->ok) {
			char *line = strtok(r->diag, "\n");

			failed++;
			for (; line; line = strtok(NULL, "\n"))
				printf("# %s\n", line);
		}
		free(r->desc);
		free(r->diag);
	}
	free(results);
	if (failed)
		printf("# %u of %u tests failed\n", failed, nr_results);
	return failed ? 1 : 0;
}
