// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-run: the port I/O bus and the small devices a Linux guest touches:
 *   0x3f8-0x3ff  COM1, a 16550A (serial.c)
 *   0x60, 0x64   i8042: only enough for its CPU reset (0xfe to 0x64)
 *   0x70, 0x71   CMOS RTC with the host's time (UTC) and 128 bytes of RAM
 *   0xcf8-0xcff  PCI configuration mechanism 1: a host bridge, no devices;
 *                0xcf9 byte writes are the reset control register
 *   0x505        pvpanic (the DSDT's QEMU0001 device)
 *   0x600-0x60b  ACPI PM1a event and control blocks, PM timer (acpi.c)
 *   0x80         POST codes, discarded
 * Every other port reads as all ones and is logged once; so is MMIO
 * outside RAM and the APICs (the kernel's), since there is no MMIO device.
 * One lock covers the bus: vCPU threads and the console's input thread
 * meet here.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "hvx-run.h"

static struct vm *the_vm;
static pthread_mutex_t bus_lock = PTHREAD_MUTEX_INITIALIZER;

void irq_line(unsigned int gsi, bool level)
{
	struct kvm_irq_level irq = { .irq = gsi, .level = level };

	if (ioctl(the_vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		warn("KVM_IRQ_LINE %u: failed", gsi);
}

/* Log the first access to something hvx-run does not emulate. */
static void log_once(const char *what, uint64_t addr, bool write)
{
	static uint64_t seen[64];
	static unsigned int nr_seen;
	unsigned int i;

	for (i = 0; i < nr_seen; i++)
		if (seen[i] == addr)
			return;
	if (nr_seen == sizeof(seen) / sizeof(seen[0]))
		return;			/* enough said */
	seen[nr_seen++] = addr;
	warn("guest %s %s %#llx: not emulated (%s; logged once)", write ? "write to" : "read of",
	     what, (unsigned long long)addr, write ? "ignored" : "reads all ones");
}

/* --- CMOS RTC (MC146818) --- */

#define RTC_REG_A	0x0a
#define RTC_REG_B	0x0b
#define RTC_REG_C	0x0c
#define RTC_REG_D	0x0d
#define RTC_CENTURY	0x32
#define RTC_B_24H	0x02
#define RTC_B_BINARY	0x04

static uint8_t cmos_index, cmos_ram[128];

static uint8_t rtc_format(unsigned int v)
{
	return cmos_ram[RTC_REG_B] & RTC_B_BINARY ? v : ((v / 10) << 4) | (v % 10);
}

static uint8_t cmos_read(unsigned int reg)
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	switch (reg) {
	case 0x00: return rtc_format(tm.tm_sec);
	case 0x02: return rtc_format(tm.tm_min);
	case 0x04: return rtc_format(tm.tm_hour);
	case 0x06: return rtc_format(tm.tm_wday + 1);
	case 0x07: return rtc_format(tm.tm_mday);
	case 0x08: return rtc_format(tm.tm_mon + 1);
	case 0x09: return rtc_format(tm.tm_year % 100);
	case RTC_CENTURY: return rtc_format(19 + tm.tm_year / 100);
	case RTC_REG_A: return 0x26;	/* 32.768 kHz, 1024 Hz; never updating */
	case RTC_REG_C: return 0;	/* no interrupt flags: none is raised */
	case RTC_REG_D: return 0x80;	/* battery good */
	default: return cmos_ram[reg];
	}
}

static void cmos_pio(uint16_t port, uint8_t *data, bool write)
{
	if (port == 0x70) {
		if (write)
			cmos_index = *data & 0x7f;	/* bit 7 masks NMIs */
		else
			*data = 0xff;
		return;
	}
	if (!write) {
		*data = cmos_read(cmos_index);
		return;
	}
	/* The clock follows the host: writes of the time are dropped. */
	if (cmos_index == RTC_REG_B)
		cmos_ram[RTC_REG_B] = (*data & ~RTC_B_24H) | RTC_B_24H;
	else if (cmos_index > RTC_REG_D && cmos_index != RTC_CENTURY)
		cmos_ram[cmos_index] = *data;
}

/* --- ACPI PM1 blocks and timer --- */

#define PM1_SCI_EN	(1U << 0)
#define PM1_SLP_TYP(v)	(((v) >> 10) & 7)
#define PM1_SLP_EN	(1U << 13)
#define SLP_TYP_S5	5		/* the DSDT's \_S5 */
#define PM_TIMER_HZ	3579545ULL

static uint16_t pm1_status, pm1_enable, pm1_control = PM1_SCI_EN;

static uint32_t pm_timer(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)(((unsigned __int128)(ts.tv_sec * 1000000000ULL + ts.tv_nsec) *
			   PM_TIMER_HZ) / 1000000000ULL);
}

static void pm_pio(uint16_t port, uint8_t *data, unsigned int size, bool write)
{
	uint32_t v = 0;

	memcpy(&v, data, size);
	if (!write)
		memset(data, 0, size);
	switch (port) {
	case PORT_PM1_EVT:		/* status: write 1 to clear */
		if (write)
			pm1_status &= ~v;
		else
			memcpy(data, &pm1_status, size > 2 ? 2 : size);
		break;
	case PORT_PM1_EVT + 2:
		if (write)
			pm1_enable = v;
		else
			memcpy(data, &pm1_enable, size > 2 ? 2 : size);
		break;
	case PORT_PM1_CNT:
		if (!write) {
			memcpy(data, &pm1_control, size > 2 ? 2 : size);
			break;
		}
		pm1_control = (v & ~PM1_SLP_EN) | PM1_SCI_EN;
		if ((v & PM1_SLP_EN) && PM1_SLP_TYP(v) == SLP_TYP_S5)
			guest_stop(EXIT_POWEROFF, "the guest powered off");
		else if (v & PM1_SLP_EN)
			warn("guest asked for ACPI sleep type %u: not emulated", PM1_SLP_TYP(v));
		break;
	case PORT_PM_TMR:
		v = pm_timer();
		if (!write)
			memcpy(data, &v, size);
		break;
	}
}

/* --- PCI configuration mechanism 1: a host bridge and nothing else --- */

/*
 * Linux trusts mechanism 1 only once it finds a host bridge or VGA device
 * on bus 0 (arch/x86/pci/direct.c, pci_sanity_check()). The bridge takes
 * the ID VMMs use for a virtual host bridge (8086:0d57), which no driver
 * or quirk claims; its configuration space is read-only.
 */
static const uint8_t host_bridge[16] = {
	0x86, 0x80, 0x57, 0x0d,		/* vendor, device */
	0, 0, 0, 0,			/* command, status */
	0, 0, 0x00, 0x06,		/* revision, class 06.00.00: host bridge */
};

static uint32_t pci_address;

static void pci_config_read(uint8_t *data, unsigned int offset, unsigned int size)
{
	unsigned int bdf = (pci_address >> 8) & 0xffff, reg, i;

	if (!(pci_address & 0x80000000U) || bdf) {
		memset(data, 0xff, size);	/* no such device */
		return;
	}
	reg = (pci_address & 0xfc) + offset;
	for (i = 0; i < size; i++)
		data[i] = reg + i < sizeof(host_bridge) ? host_bridge[reg + i] : 0;
}

static bool pci_pio(uint16_t port, uint8_t *data, unsigned int size, bool write)
{
	if (port == 0xcf9 && size == 1) {
		/* Reset control register: bit 2 starts the reset. */
		if (write && (*data & 0x04))
			guest_stop(EXIT_REBOOT, "the guest reset the machine (port 0xcf9)");
		else if (!write)
			*data = 0;
		return true;
	}
	if (port == 0xcf8 && size == 4) {
		if (write)
			memcpy(&pci_address, data, 4);
		else
			memcpy(data, &pci_address, 4);
		return true;
	}
	/*
	 * Byte accesses to 0xcf8-0xcfb are mechanism 2's registers, which
	 * Linux probes for (arch/x86/pci/direct.c): there is no mechanism 2.
	 */
	if (port >= 0xcf8 && port <= 0xcfb) {
		if (!write)
			memset(data, 0xff, size);
		return true;
	}
	if (port >= 0xcfc && port <= 0xcff) {
		if (!write)
			pci_config_read(data, port - 0xcfc, size);
		return true;
	}
	return false;
}

void pio_access(uint16_t port, uint8_t *data, unsigned int size, bool write)
{
	pthread_mutex_lock(&bus_lock);
	if (port >= PORT_COM1 && port < PORT_COM1 + 8 && size == 1) {
		serial_pio(port - PORT_COM1, data, write);
	} else if (port == 0x64 || port == 0x60) {
		/* i8042: status 0 (nothing to read, ready for a command) */
		if (write && port == 0x64 && *data == 0xfe)
			guest_stop(EXIT_REBOOT, "the guest reset the machine (i8042)");
		else if (!write)
			*data = 0;
	} else if ((port == 0x70 || port == 0x71) && size == 1) {
		cmos_pio(port, data, write);
	} else if (port >= PORT_PM1_EVT && port < PORT_PM_TMR + 4) {
		pm_pio(port, data, size, write);
	} else if (port == PORT_PVPANIC && size == 1) {
		if (!write)
			*data = 1;		/* PVPANIC_PANICKED is supported */
		else if (*data & 1)
			guest_stop(EXIT_PANIC, "the guest kernel panicked (pvpanic)");
	} else if (port == 0x80) {
		/* POST codes and the kernel's I/O delay */
	} else if (!pci_pio(port, data, size, write)) {
		if (!write)
			memset(data, 0xff, size);
		log_once("I/O port", port, write);
	}
	pthread_mutex_unlock(&bus_lock);
}

void mmio_access(uint64_t gpa, uint8_t *data, unsigned int size, bool write)
{
	pthread_mutex_lock(&bus_lock);
	if (!write)
		memset(data, 0xff, size);
	log_once("MMIO page", gpa & ~0xfffULL, write);
	pthread_mutex_unlock(&bus_lock);
}

void bus_lock_take(void)
{
	pthread_mutex_lock(&bus_lock);
}

void bus_lock_release(void)
{
	pthread_mutex_unlock(&bus_lock);
}

void bus_lock_wait(pthread_cond_t *cond)
{
	pthread_cond_wait(cond, &bus_lock);
}

void platform_init(struct vm *vm)
{
	the_vm = vm;
	cmos_ram[RTC_REG_B] = RTC_B_24H;	/* BCD, 24-hour */
	serial_init();
}
