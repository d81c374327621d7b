/* SPDX-License-Identifier: GPL-2.0 */
/* Exit handlers shared between exit.c, pio.c and mmio.c. */
#ifndef HVX_EXITS_H
#define HVX_EXITS_H

#include "hvx.h"

void hvx_inject_gp(struct hvx_vcpu *vcpu);

int hvx_handle_io(struct hvx_vcpu *vcpu, struct hvx_exit *exit);
int hvx_complete_pio(struct hvx_vcpu *vcpu);

int hvx_handle_mmio(struct hvx_vcpu *vcpu, struct hvx_exit *exit);
int hvx_complete_mmio(struct hvx_vcpu *vcpu);

/* Guest linear address -> guest physical, with the vCPU's paging state. */
int hvx_gva_to_gpa(struct hvx_vcpu *vcpu, u64 gva, unsigned int access,
		   u64 *gpa);
/* Copy from guest linear memory (may cross pages). 0 or -EFAULT. */
int hvx_read_linear(struct hvx_vcpu *vcpu, u64 gva, void *buf,
		    unsigned int len, unsigned int access);
u64 hvx_seg_linear(struct hvx_vcpu *vcpu, int seg, u64 off);
int hvx_write_linear(struct hvx_vcpu *vcpu, u64 gva, const void *buf,
		     unsigned int len);

enum hvx_cpu_mode hvx_vcpu_code_mode(struct hvx_vcpu *vcpu);
unsigned int hvx_fetch_insn(struct hvx_vcpu *vcpu, u8 *bytes);

#endif /* HVX_EXITS_H */
