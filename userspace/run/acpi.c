// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: the ACPI tables that describe the machine (ACPI 6.x, "System
 * Description Tables"), in the BIOS area where the kernel also finds the
 * RSDP by scanning:
 *   RSDP -> XSDT -> FADT -> FACS, DSDT
 *                -> MADT (one local APIC per vCPU, the IOAPIC, LINT1 = NMI)
 * The FADT is a full (not hardware-reduced) one, so Linux keeps the legacy
 * PIC and ISA IRQ numbers the UART needs, but it names no i8042, PIT or
 * HPET: with kvmclock and the TSC-deadline timer the kernel needs none.
 * Its PM1 blocks are hvx-run's (platform.c): a write of SLP_TYP 5 with
 * SLP_EN is poweroff. The DSDT holds the \_S5 package that tells Linux
 * that value, and the pvpanic device (QEMU0001) the pvpanic driver binds.
 */
#include <string.h>

#include "hvx-run.h"

struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

struct acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address, length;
	uint64_t xsdt_address;
	uint8_t extended_checksum, reserved[3];
} __attribute__((packed));

/* Generic Address Structure */
struct acpi_gas {
	uint8_t space_id, bit_width, bit_offset, access_size;
	uint64_t address;
} __attribute__((packed));

struct acpi_fadt {
	struct acpi_header h;
	uint32_t facs, dsdt;
	uint8_t reserved0, pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk, pm_tmr_blk, gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_facs, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk;
	struct acpi_gas x_pm1b_cnt_blk, x_pm2_cnt_blk, x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk, sleep_control, sleep_status;
	uint64_t hypervisor_id;
} __attribute__((packed));

struct acpi_facs {
	char signature[4];
	uint32_t length, hardware_signature, waking_vector, global_lock, flags;
	uint64_t x_waking_vector;
	uint8_t version, reserved[31];
} __attribute__((packed));

#define FADT_WBINVD		(1U << 0)
#define FADT_PROC_C1		(1U << 2)
#define FADT_PWR_BUTTON		(1U << 4)	/* no fixed-feature power button */
#define FADT_SLP_BUTTON		(1U << 5)	/* nor sleep button */
#define FADT_TMR_VAL_EXT	(1U << 8)	/* 32-bit PM timer */
#define BOOT_ARCH_NO_VGA	(1U << 2)

#define MADT_LAPIC		0
#define MADT_IOAPIC		1
#define MADT_IRQ_OVERRIDE	2
#define MADT_LAPIC_NMI		4
#define MADT_PCAT_COMPAT	1U

/* AML opcodes (ACPI 6.x, "ACPI Machine Language Specification") */
#define AML_ZERO		0x00
#define AML_NAME		0x08
#define AML_BYTE_PREFIX		0x0a
#define AML_STRING_PREFIX	0x0d
#define AML_SCOPE		0x10
#define AML_BUFFER		0x11
#define AML_PACKAGE		0x12
#define AML_EXT_PREFIX		0x5b
#define AML_DEVICE		0x82	/* after AML_EXT_PREFIX */
#define AML_ROOT_CHAR		0x5c

/* Where the tables go, in order. */
struct table_area {
	uint8_t *base;
	uint64_t gpa, used;
};

static void *table_alloc(struct table_area *a, size_t len, size_t align, uint64_t *gpa)
{
	void *p;

	a->used = (a->used + align - 1) & ~(uint64_t)(align - 1);
	if (a->used + len > GPA_HIGH_RAM - GPA_BIOS)
		die("internal error: ACPI tables do not fit the BIOS area");
	p = a->base + a->used;
	*gpa = a->gpa + a->used;
	a->used += len;
	return p;
}

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

static void header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, "HVX   ", 6);
	memcpy(h->oem_table_id, "HVXRUN  ", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "HVXR", 4);
	h->creator_revision = 1;
}

static void seal(struct acpi_header *h)
{
	h->checksum = 0;
	h->checksum = checksum(h, h->length);
}

static struct acpi_gas io_gas(uint16_t port, uint8_t bytes)
{
	return (struct acpi_gas){
		.space_id = 1,			/* system I/O */
		.bit_width = bytes * 8,
		.access_size = bytes == 4 ? 3 : bytes == 2 ? 2 : 1,
		.address = port,
	};
}

/* A tiny AML writer: enough for names, packages, buffers and devices. */
struct aml {
	uint8_t b[512];
	size_t n;
};

static void aml_bytes(struct aml *a, const void *p, size_t len)
{
	if (a->n + len > sizeof(a->b))
		die("internal error: DSDT too large");
	memcpy(a->b + a->n, p, len);
	a->n += len;
}

static void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

/* PkgLength (ACPI 6.x 20.2.4): counts itself and @body_len bytes. */
static void aml_pkg_length(struct aml *a, size_t body_len)
{
	size_t len = body_len + 1;

	if (len <= 0x3f) {
		aml_byte(a, len);
		return;
	}
	len = body_len + 2;
	if (len > 0xfff)
		die("internal error: AML package too large");
	aml_byte(a, 0x40 | (len & 0xf));	/* one more byte follows */
	aml_byte(a, len >> 4);
}

/* OPCODE PkgLength BODY */
static void aml_package_op(struct aml *a, const uint8_t *op, size_t op_len,
			   const struct aml *body)
{
	aml_bytes(a, op, op_len);
	aml_pkg_length(a, body->n);
	aml_bytes(a, body->b, body->n);
}

static void aml_build_dsdt(struct aml *out)
{
	static const uint8_t scope_op[] = { AML_SCOPE };
	static const uint8_t device_op[] = { AML_EXT_PREFIX, AML_DEVICE };
	static const uint8_t package_op[] = { AML_PACKAGE };
	static const uint8_t buffer_op[] = { AML_BUFFER };
	/* IO(Decode16, PORT_PVPANIC, PORT_PVPANIC, 1, 1), then End Tag */
	static const uint8_t pvpanic_crs[] = {
		0x47, 0x01, PORT_PVPANIC & 0xff, PORT_PVPANIC >> 8,
		PORT_PVPANIC & 0xff, PORT_PVPANIC >> 8, 1, 1,
		0x79, 0x00,
	};
	struct aml pkg = { .n = 0 }, dev = { .n = 0 }, named = { .n = 0 };
	struct aml sb = { .n = 0 }, buf = { .n = 0 };

	/* Name (_S5, Package (4) { 5, 5, 0, 0 }): SLP_TYPa/b for poweroff */
	aml_byte(out, AML_NAME);
	aml_bytes(out, "_S5_", 4);
	aml_byte(&pkg, 4);
	aml_bytes(&pkg, (uint8_t[]){ AML_BYTE_PREFIX, 5, AML_BYTE_PREFIX, 5,
				     AML_ZERO, AML_ZERO }, 6);
	aml_package_op(out, package_op, 1, &pkg);

	/* Scope (\_SB) { Device (PEVT) { Name (_HID, "QEMU0001") Name (_CRS, ...) } } */
	aml_byte(&dev, AML_NAME);
	aml_bytes(&dev, "_HID", 4);
	aml_byte(&dev, AML_STRING_PREFIX);
	aml_bytes(&dev, "QEMU0001", 9);
	aml_byte(&dev, AML_NAME);
	aml_bytes(&dev, "_CRS", 4);
	aml_bytes(&buf, (uint8_t[]){ AML_BYTE_PREFIX, sizeof(pvpanic_crs) }, 2);
	aml_bytes(&buf, pvpanic_crs, sizeof(pvpanic_crs));
	aml_package_op(&dev, buffer_op, 1, &buf);

	aml_bytes(&named, "PEVT", 4);
	aml_bytes(&named, dev.b, dev.n);
	aml_byte(&sb, AML_ROOT_CHAR);
	aml_bytes(&sb, "_SB_", 4);
	aml_package_op(&sb, device_op, 2, &named);
	aml_package_op(out, scope_op, 1, &sb);
}

void acpi_build(struct vm *vm)
{
	struct table_area a = { .base = gpa_ptr(vm, GPA_BIOS, GPA_HIGH_RAM - GPA_BIOS),
				.gpa = GPA_BIOS };
	struct acpi_rsdp *rsdp;
	struct acpi_header *xsdt, *madt, *dsdt;
	struct acpi_fadt *fadt;
	struct acpi_facs *facs;
	uint64_t rsdp_gpa, xsdt_gpa, fadt_gpa, facs_gpa, dsdt_gpa, madt_gpa;
	struct aml aml = { .n = 0 };
	uint8_t *p;
	unsigned int i;
	size_t madt_len;

	memset(a.base, 0, GPA_HIGH_RAM - GPA_BIOS);
	rsdp = table_alloc(&a, sizeof(*rsdp), 16, &rsdp_gpa);
	facs = table_alloc(&a, sizeof(*facs), 64, &facs_gpa);
	xsdt = table_alloc(&a, sizeof(*xsdt) + 2 * 8, 16, &xsdt_gpa);
	fadt = table_alloc(&a, sizeof(*fadt), 16, &fadt_gpa);

	aml_build_dsdt(&aml);
	dsdt = table_alloc(&a, sizeof(*dsdt) + aml.n, 16, &dsdt_gpa);
	header(dsdt, "DSDT", sizeof(*dsdt) + aml.n, 2);
	memcpy(dsdt + 1, aml.b, aml.n);
	seal(dsdt);

	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	facs->version = 2;

	header(&fadt->h, "FACP", sizeof(*fadt), 6);
	fadt->minor_version = 0;
	fadt->x_facs = facs_gpa;
	fadt->x_dsdt = dsdt_gpa;
	fadt->sci_int = IRQ_SCI;
	/* SMI_CMD 0: the machine is always in ACPI mode (no SMM to ask). */
	fadt->pm1a_evt_blk = PORT_PM1_EVT;
	fadt->pm1_evt_len = 4;
	fadt->pm1a_cnt_blk = PORT_PM1_CNT;
	fadt->pm1_cnt_len = 2;
	fadt->pm_tmr_blk = PORT_PM_TMR;
	fadt->pm_tmr_len = 4;
	fadt->x_pm1a_evt_blk = io_gas(PORT_PM1_EVT, 4);
	fadt->x_pm1a_cnt_blk = io_gas(PORT_PM1_CNT, 2);
	fadt->x_pm_tmr_blk = io_gas(PORT_PM_TMR, 4);
	/* Latencies above the limits (100, 1000 us) say C2/C3 do not exist. */
	fadt->p_lvl2_lat = 101;
	fadt->p_lvl3_lat = 1001;
	fadt->century = 0x32;			/* CMOS register of the century */
	fadt->iapc_boot_arch = BOOT_ARCH_NO_VGA;
	fadt->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		      FADT_TMR_VAL_EXT;
	seal(&fadt->h);

	madt_len = sizeof(*madt) + 8 + vm->nr_vcpus * 8 + 12 + 10 + 6;
	madt = table_alloc(&a, madt_len, 16, &madt_gpa);
	header(madt, "APIC", madt_len, 5);
	p = (uint8_t *)(madt + 1);
	*(uint32_t *)p = GPA_LAPIC;
	*(uint32_t *)(p + 4) = MADT_PCAT_COMPAT;
	p += 8;
	for (i = 0; i < vm->nr_vcpus; i++, p += 8) {
		p[0] = MADT_LAPIC;
		p[1] = 8;
		p[2] = i;			/* ACPI processor UID */
		p[3] = i;			/* APIC ID = vCPU id */
		*(uint32_t *)(p + 4) = 1;	/* enabled */
	}
	p[0] = MADT_IOAPIC;
	p[1] = 12;
	p[2] = 0;				/* IOAPIC ID */
	*(uint32_t *)(p + 4) = GPA_IOAPIC;
	*(uint32_t *)(p + 8) = 0;		/* GSI base */
	p += 12;
	/* The SCI: ISA IRQ 9 on GSI 9, level triggered, active high */
	p[0] = MADT_IRQ_OVERRIDE;
	p[1] = 10;
	p[2] = 0;
	p[3] = IRQ_SCI;
	*(uint32_t *)(p + 4) = IRQ_SCI;
	*(uint16_t *)(p + 8) = 0x000d;
	p += 10;
	/* LINT1 of every processor (UID 0xff) is NMI */
	p[0] = MADT_LAPIC_NMI;
	p[1] = 6;
	p[2] = 0xff;
	*(uint16_t *)(p + 3) = 0;
	p[5] = 1;
	seal(madt);

	header(xsdt, "XSDT", sizeof(*xsdt) + 2 * 8, 1);
	((uint64_t *)(xsdt + 1))[0] = fadt_gpa;
	((uint64_t *)(xsdt + 1))[1] = madt_gpa;
	seal(xsdt);

	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "HVX   ", 6);
	rsdp->revision = 2;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt_address = xsdt_gpa;
	rsdp->checksum = checksum(rsdp, 20);
	rsdp->extended_checksum = checksum(rsdp, sizeof(*rsdp));
	vm->rsdp = rsdp_gpa;
}
