#!/bin/bash
# make bench: hvx-bench in both rigs, KVM and hvx measured in the same boot
# of each: QEMU TCG (AMD SVM, kvm_amd) and Bochs (Intel VMX, kvm_intel).
# Prints each rig's table, then the hvx/KVM ratios side by side, one column
# per backend. Absolute times are the emulators' (slow, and differently
# slow); only the ratios compare.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

VMX_OUT=$ROOT/build/rig-vmx
mkdir -p "$RIG_OUT" "$VMX_OUT"
svm_out=$RIG_OUT/bench.txt vmx_out=$VMX_OUT/bench.txt
rc=0

log "===== SVM rig: QEMU TCG, EPYC ====="
"$RIG_SRC/check.sh" --bench | tee "$svm_out" || rc=1
log "===== VMX rig: Bochs ====="
"$RIG_SRC/check-vmx.sh" --no-build --bench | tee "$vmx_out" || rc=1

# hvx-bench's rows: "NAME...  K us  H us  RATIO"; the name has spaces.
ratios() {  # FILE -> "NAME<TAB>RATIO" per benchmark row
	awk '$(NF - 1) == "us" && $(NF - 3) == "us" {
		name = $0; sub(/[ \t]+[0-9.]+ us[ \t]+[0-9.]+ us[ \t]+[0-9.]+[ \t]*$/, "", name)
		print name "\t" $NF }' "$1"
}
echo "===== hvx/KVM, time per operation (lower is better; < 1: hvx is faster) ====="
printf '%-36s %9s %9s\n' benchmark svm vmx
join -t "$(printf '\t')" -a 1 -a 2 -e - -o 0,1.2,2.2 \
	<(ratios "$svm_out" | sort) <(ratios "$vmx_out" | sort) |
	awk -F '\t' '{ printf "%-36s %9s %9s\n", $1, $2, $3 }'
exit "$rc"
