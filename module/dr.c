// SPDX-License-Identifier: GPL-2.0
/*
 * Debug registers. The guest's DR0-DR3, DR6 and DR7 live here, in
 * software: every MOV to or from a debug register exits (VMX MOV-DR
 * exiting, the SVM DR intercepts) and is emulated, while the hardware
 * keeps the host's. So a guest can neither move the host's breakpoints
 * (DR0-DR3 are not switched by VM entry or exit) nor leave stray status
 * in DR6 for the host's #DB handler; the DR7 the CPU uses in guest mode
 * is the reset value 0x400. The price is that a guest's own hardware
 * breakpoints never fire: the guest reads back what it wrote, but nothing
 * is armed (KVM loads them lazily instead). KVM_GET/SET_DEBUGREGS read
 * and set the same state.
 */
#include <linux/kvm.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>

#include "hvx.h"
#include "backend.h"
#include "exits.h"

/*
 * DR6 bits software may change, and the ones that read as 1 (SDM Vol 3
 * 18.2.3; bit 16 is RTM's, which hvx does not offer, so it stays 1).
 */
#define DR6_WRITABLE	0x0001e80fULL
#define DR6_FIXED_1	0xffff0ff0ULL
/* DR7 (18.2.4): bit 10 reads as 1; bits 11, 12, 14, 15 as 0. */
#define DR7_WRITABLE	0xffff2bffULL
#define DR7_FIXED_1	0x00000400ULL

void hvx_dr_reset(struct hvx_vcpu *vcpu)
{
	memset(vcpu->db, 0, sizeof(vcpu->db));
	vcpu->dr6 = DR6_FIXED_1;
	vcpu->dr7 = DR7_FIXED_1;
}

/*
 * MOV DR without decode help: [legacy prefixes] [REX] 0F 21 /r (from DR)
 * or 0F 23 /r (to DR); ModRM.reg is the DR, ModRM.rm the GPR, and the mod
 * bits are ignored (SDM Vol 2 MOV—Move to/from Debug Registers).
 */
static bool decode_mov_dr(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	u8 b[HVX_INSN_MAX] = { 0 };
	unsigned int n = hvx_fetch_insn(vcpu, b), i = 0;
	bool rex_b = false;

	while (i < n && (b[i] == 0x26 || b[i] == 0x2e || b[i] == 0x36 ||
			 b[i] == 0x3e || b[i] == 0x64 || b[i] == 0x65 ||
			 b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3))
		i++;
	if (i < n && (b[i] & 0xf0) == 0x40 &&
	    hvx_vcpu_code_mode(vcpu) == HVX_MODE_64)
		rex_b = b[i++] & 1;
	if (i + 3 > n || b[i] != 0x0f || (b[i + 1] != 0x21 && b[i + 1] != 0x23))
		return false;
	exit->dr.write = b[i + 1] == 0x23;
	exit->dr.num = (b[i + 2] >> 3) & 7;
	exit->dr.gpr = (b[i + 2] & 7) | (rex_b ? 8 : 0);
	exit->insn_len = i + 3;
	return true;
}

int hvx_handle_dr(struct hvx_vcpu *vcpu, struct hvx_exit *exit)
{
	bool long_mode = hvx_vcpu_code_mode(vcpu) == HVX_MODE_64;
	u64 *reg, val;
	u8 dr;

	if (exit->dr.gpr == HVX_GPR_UNKNOWN && !decode_mov_dr(vcpu, exit)) {
		u64 data[2] = { exit->hw_reason, vcpu->rip };

		hvx_internal_error(vcpu, KVM_INTERNAL_ERROR_EMULATION, data, 2);
		return 0;
	}
	/* Privileged (CPL 0), as the CPU would check. */
	if (hvx_ops->get_cpl(vcpu)) {
		hvx_inject_gp(vcpu);
		return 1;
	}
	dr = exit->dr.num;
	/* DR4/DR5 are DR6/DR7 unless CR4.DE makes them #UD (18.2.2). */
	if (dr == 4 || dr == 5) {
		if (hvx_ops->get_cr(vcpu, 4) & X86_CR4_DE) {
			hvx_ops->inject_exception(vcpu, X86_TRAP_UD, false, 0);
			return 1;
		}
		dr += 2;
	}
	reg = &vcpu->regs[exit->dr.gpr];
	if (exit->dr.write) {
		val = long_mode ? *reg : (u32)*reg;
		if (dr < 4) {
			vcpu->db[dr] = val;
		} else if (val >> 32) {
			/* The upper half of DR6/DR7 must be zero (18.2.6). */
			hvx_inject_gp(vcpu);
			return 1;
		} else if (dr == 6) {
			vcpu->dr6 = (val & DR6_WRITABLE) | DR6_FIXED_1;
		} else {
			vcpu->dr7 = (val & DR7_WRITABLE) | DR7_FIXED_1;
		}
	} else {
		val = dr < 4 ? vcpu->db[dr] : dr == 6 ? vcpu->dr6 : vcpu->dr7;
		/* Outside 64-bit mode a MOV to a 32-bit GPR zeroes bits 63:32. */
		*reg = long_mode ? val : (u32)val;
	}
	hvx_skip_insn(vcpu, exit->insn_len);
	return 1;
}

void hvx_get_debugregs(struct hvx_vcpu *vcpu, struct kvm_debugregs *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->db, vcpu->db, sizeof(d->db));
	d->dr6 = vcpu->dr6;
	d->dr7 = vcpu->dr7;
}

/* KVM's rules: no flags, nothing in the upper halves of DR6 and DR7. */
int hvx_set_debugregs(struct hvx_vcpu *vcpu, const struct kvm_debugregs *d)
{
	if (d->flags || (d->dr6 >> 32) || (d->dr7 >> 32))
		return -EINVAL;
	memcpy(vcpu->db, d->db, sizeof(vcpu->db));
	vcpu->dr6 = (d->dr6 & DR6_WRITABLE) | DR6_FIXED_1;
	vcpu->dr7 = (d->dr7 & DR7_WRITABLE) | DR7_FIXED_1;
	return 0;
}
