// SPDX-License-Identifier: GPL-2.0
/*
 * module/lapic_regs.c: the local APIC's reset state, priority arbitration
 * (IRR, ISR, TPR, PPR), EOI with the trigger mode, destination matching in
 * each addressing mode, ICR decoding and register write masks. Each check
 * states the SDM rule it pins (Vol 3 ch. 11).
 */
#include <stdio.h>
#include <string.h>

#include "lapic_regs.h"
#include "tap.h"

static u32 page[HVX_LAPIC_PAGE_SIZE / 4];

#define CHECK(cond, ...)	tap_result((cond), NULL, __VA_ARGS__)
#define CHECK_EQ(a, b, ...) do {					\
	long long __a = (long long)(a), __b = (long long)(b);		\
	struct diag __d = { .n = 0 };					\
	diag_add(&__d, "got %#llx, expected %#llx", __a, __b);		\
	tap_result(__a == __b, &__d, __VA_ARGS__);			\
} while (0)

static void reset_state(void)
{
	hvx_lapic_regs_reset(page, 3, false);
	CHECK_EQ(hvx_lapic_get(page, APIC_ID), 3u << 24, "lapic: xAPIC ID in bits 31:24 after reset");
	CHECK_EQ(hvx_lapic_get(page, APIC_LVR), 0x50014, "lapic: version 0x14, max LVT 5");
	CHECK_EQ(hvx_lapic_get(page, APIC_DFR), 0xffffffff, "lapic: DFR all ones (11.4.7.1)");
	CHECK_EQ(hvx_lapic_get(page, APIC_SPIV), 0xff, "lapic: SVR 0xff, software-disabled");
	CHECK_EQ(hvx_lapic_get(page, APIC_LVTT), APIC_LVT_MASKED, "lapic: LVT timer masked");
	CHECK_EQ(hvx_lapic_get(page, APIC_LVTERR), APIC_LVT_MASKED, "lapic: LVT error masked");
	CHECK_EQ(hvx_lapic_highest_irr(page), -1, "lapic: IRR empty");
	CHECK_EQ(hvx_lapic_irr_count(page), 0, "lapic: no vector in the IRR");

	hvx_lapic_regs_reset(page, 0x25, true);
	CHECK_EQ(hvx_lapic_get(page, APIC_ID), 0x25, "lapic: x2APIC ID is all 32 bits");
	CHECK_EQ(hvx_lapic_get(page, APIC_LDR), 0x20020, "lapic: x2APIC LDR = cluster 2, bit 5 (11.12.10.2)");
}

static void priorities(void)
{
	bool level;

	hvx_lapic_regs_reset(page, 0, false);
	hvx_lapic_accept(page, 0x31, false);
	hvx_lapic_accept(page, 0x52, true);
	hvx_lapic_update_ppr(page);
	CHECK_EQ(hvx_lapic_highest_irr(page), 0x52, "lapic: highest IRR vector");
	CHECK_EQ(hvx_lapic_irr_count(page), 2, "lapic: two vectors in the IRR");
	CHECK_EQ(hvx_lapic_pending_vector(page), 0x52, "lapic: TPR 0: the highest vector is delivered");

	hvx_lapic_write_plain(page, APIC_TASKPRI, 0x50, false);
	CHECK_EQ(hvx_lapic_get(page, APIC_PROCPRI), 0x50, "lapic: PPR follows TPR");
	CHECK_EQ(hvx_lapic_pending_vector(page), -1, "lapic: class 5 not above PPR class 5 (11.8.3)");
	hvx_lapic_write_plain(page, APIC_TASKPRI, 0x4f, false);
	CHECK_EQ(hvx_lapic_pending_vector(page), 0x52, "lapic: TPR 0x4f lets class 5 through");
	hvx_lapic_write_plain(page, APIC_TASKPRI, 0, false);

	CHECK_EQ(hvx_lapic_ack(page), 0x52, "lapic: ack takes 0x52");
	CHECK_EQ(hvx_lapic_get(page, APIC_PROCPRI), 0x50, "lapic: PPR = class of in-service 0x52");
	CHECK_EQ(hvx_lapic_pending_vector(page), -1, "lapic: 0x31 waits behind in-service 0x52");
	CHECK_EQ(hvx_lapic_highest_isr(page), 0x52, "lapic: 0x52 in service");

	CHECK_EQ(hvx_lapic_eoi(page, &level), 0x52, "lapic: EOI retires 0x52");
	CHECK(level, "lapic: 0x52 was accepted level-triggered (TMR)");
	CHECK_EQ(hvx_lapic_get(page, APIC_PROCPRI), 0, "lapic: PPR back to TPR after EOI");
	CHECK_EQ(hvx_lapic_ack(page), 0x31, "lapic: then 0x31 is delivered");
	CHECK_EQ(hvx_lapic_eoi(page, &level), 0x31, "lapic: EOI retires 0x31");
	CHECK(!level, "lapic: 0x31 was edge-triggered");
	CHECK_EQ(hvx_lapic_eoi(page, &level), -1, "lapic: EOI with nothing in service");

	/* The TMR alone, as posted interrupts set it ahead of the IRR bit. */
	hvx_lapic_set_trigger(page, 0x85, true);
	CHECK(hvx_lapic_level(page, 0x85), "lapic: set_trigger sets the TMR bit");
	CHECK_EQ(hvx_lapic_get(page, APIC_TMR + 0x40), 1u << 5, "lapic: 0x85 is TMR word 4 bit 5");
	CHECK_EQ(hvx_lapic_highest_irr(page), -1, "lapic: set_trigger leaves the IRR alone");
	hvx_lapic_set_trigger(page, 0x85, false);
	CHECK(!hvx_lapic_level(page, 0x85), "lapic: an edge-triggered arrival clears it");

	/* Nested: a higher class interrupts a lower one in service. */
	hvx_lapic_accept(page, 0x40, false);
	hvx_lapic_ack(page);
	hvx_lapic_accept(page, 0x61, false);
	CHECK_EQ(hvx_lapic_ack(page), 0x61, "lapic: class 6 preempts in-service class 4");
	CHECK_EQ(hvx_lapic_eoi(page, &level), 0x61, "lapic: EOI retires the highest in service first");
	CHECK_EQ(hvx_lapic_highest_isr(page), 0x40, "lapic: 0x40 still in service");
}

static void destinations(void)
{
	/* xAPIC flat: logical ID 0x04 matches any mask with bit 2. */
	hvx_lapic_regs_reset(page, 1, false);
	hvx_lapic_write_plain(page, APIC_LDR, 0x04000000, false);
	CHECK(hvx_lapic_match_dest(page, false, 0x06, true), "lapic: flat logical 0x06 includes 0x04");
	CHECK(!hvx_lapic_match_dest(page, false, 0x03, true), "lapic: flat logical 0x03 excludes 0x04");
	CHECK(hvx_lapic_match_dest(page, false, 0xff, true), "lapic: logical 0xff is broadcast");
	CHECK(hvx_lapic_match_dest(page, false, 1, false), "lapic: physical ID 1");
	CHECK(!hvx_lapic_match_dest(page, false, 2, false), "lapic: not physical ID 2");
	CHECK(hvx_lapic_match_dest(page, false, 0xff, false), "lapic: physical 0xff is broadcast");

	/* xAPIC cluster: cluster 2, member bit 1. */
	hvx_lapic_write_plain(page, APIC_DFR, 0x0fffffff, false);
	hvx_lapic_write_plain(page, APIC_LDR, 0x22000000, false);
	CHECK(hvx_lapic_match_dest(page, false, 0x23, true), "lapic: cluster 2 mask 3 includes member 1");
	CHECK(!hvx_lapic_match_dest(page, false, 0x32, true), "lapic: another cluster does not match");
	CHECK(!hvx_lapic_match_dest(page, false, 0x21, true), "lapic: cluster 2 mask 1 excludes member bit 1");

	/* x2APIC: ID 0x25 is cluster 2, bit 5. */
	hvx_lapic_regs_reset(page, 0x25, true);
	CHECK(hvx_lapic_match_dest(page, true, 0x20020, true), "lapic: x2APIC logical cluster 2 bit 5");
	CHECK(!hvx_lapic_match_dest(page, true, 0x10020, true), "lapic: x2APIC logical other cluster");
	CHECK(hvx_lapic_match_dest(page, true, 0x25, false), "lapic: x2APIC physical 0x25");
	CHECK(!hvx_lapic_match_dest(page, true, 0x125, false), "lapic: x2APIC physical uses all 32 bits");
	CHECK(hvx_lapic_match_dest(page, true, 0xffffffff, false), "lapic: x2APIC broadcast");
}

static void icr_decode(void)
{
	struct hvx_lapic_ipi ipi;

	hvx_lapic_decode_icr(0x000c4500, 0, false, &ipi);
	CHECK(ipi.mode == 5 && ipi.shorthand == 3 && ipi.assert && !ipi.level,
	      "lapic: INIT assert to all-but-self");
	hvx_lapic_decode_icr(0x00000e9f, 0x03000000, false, &ipi);
	CHECK(ipi.mode == 6 && ipi.vector == 0x9f && ipi.logical && ipi.dest == 3 &&
	      ipi.shorthand == 0, "lapic: SIPI vector 0x9f, logical dest 3 (xAPIC: ICR2 bits 31:24)");
	hvx_lapic_decode_icr(0x00000041, 0x12345678, true, &ipi);
	CHECK(ipi.mode == 0 && ipi.vector == 0x41 && !ipi.logical && ipi.dest == 0x12345678,
	      "lapic: x2APIC fixed IPI, 32-bit destination");
}

static void write_masks(void)
{
	hvx_lapic_regs_reset(page, 0, false);
	CHECK_EQ(hvx_lapic_write_plain(page, APIC_LVTT, 0x30, false), HVX_LAPIC_STORED,
		 "lapic: LVT write stored");
	CHECK_EQ(hvx_lapic_get(page, APIC_LVTT), APIC_LVT_MASKED | 0x30,
		 "lapic: software-disabled: LVT stays masked (11.4.7.2)");
	hvx_lapic_write_plain(page, APIC_SPIV, 0x1ff, false);
	hvx_lapic_write_plain(page, APIC_LVTT, 0x20030, false);
	CHECK_EQ(hvx_lapic_get(page, APIC_LVTT), 0x20030, "lapic: enabled: periodic, unmasked");
	hvx_lapic_write_plain(page, APIC_LVTT, 0x11fff, false);
	CHECK_EQ(hvx_lapic_get(page, APIC_LVTT), 0x100ff, "lapic: timer LVT has no delivery mode bits");
	hvx_lapic_write_plain(page, APIC_SPIV, 0x0ff, false);
	CHECK_EQ(hvx_lapic_get(page, APIC_LVTT) & APIC_LVT_MASKED, APIC_LVT_MASKED,
		 "lapic: disabling the APIC masks every LVT");
	hvx_lapic_write_plain(page, APIC_DFR, 0, false);
	CHECK_EQ(hvx_lapic_get(page, APIC_DFR), 0x0fffffff, "lapic: DFR bits 27:0 read as ones");
	hvx_lapic_write_plain(page, APIC_TASKPRI, 0x1ab, false);
	CHECK_EQ(hvx_lapic_get(page, APIC_TASKPRI), 0xab, "lapic: TPR is 8 bits");
	CHECK_EQ(hvx_lapic_write_plain(page, APIC_PROCPRI, 0, false), HVX_LAPIC_READONLY,
		 "lapic: PPR is read-only");
	CHECK_EQ(hvx_lapic_write_plain(page, APIC_EOI, 0, false), HVX_LAPIC_COMMAND,
		 "lapic: EOI is a command");
	CHECK_EQ(hvx_lapic_write_plain(page, APIC_ID, 0, true), HVX_LAPIC_READONLY,
		 "lapic: x2APIC ID is read-only");
	CHECK_EQ(hvx_lapic_write_plain(page, APIC_ICR2, 0, true), HVX_LAPIC_READONLY,
		 "lapic: no ICR2 in x2APIC mode");
	CHECK_EQ(hvx_lapic_write_plain(page, APIC_SELF_IPI, 0x40, true), HVX_LAPIC_COMMAND,
		 "lapic: x2APIC SELF IPI is a command");
}

void test_lapic_regs(void)
{
	reset_state();
	priorities();
	destinations();
	icr_decode();
	write_masks();
}
