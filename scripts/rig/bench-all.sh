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

# hvx-bench's rows: "NAME...  K us  H us  RATIO" (boot_linux --bench's
# rows in s); the name has spaces.
# A rig's output may hold two tables (hvx-bench's header starts each):
# the second is the VMX rig's pass with RIG_BENCH_HVX_PARAMS.
ratios() {  # FILE [TABLE] -> "NAME<TAB>RATIO" per row of the TABLE-th table
	awk -v want="${2:-1}" '/^hvx-bench:/ { t++ }
	t == want && NF >= 5 && $(NF - 1) ~ /^u?s$/ && $(NF - 3) ~ /^u?s$/ {
		name = $0; sub(/[ \t]+-?[0-9.]+ +u?s[ \t]+-?[0-9.]+ +u?s[ \t]+-?[0-9.]+[ \t]*$/, "", name)
		print name "\t" $NF }' "$1"
}
tab=$(printf '\t')
cols=(svm vmx)
joined=$(join -t "$tab" -a 1 -a 2 -e - -o 0,1.2,2.2 \
	<(ratios "$svm_out" | sort) <(ratios "$vmx_out" | sort))
params=$(awk '/^hvx-bench:/ { t++ } t == 2 && /^hvx.ko parameters:/' "$vmx_out")
if [ -n "$params" ]; then
	cols+=("vmx, assists off")
	joined=$(join -t "$tab" -a 1 -a 2 -e - -o 0,1.2,1.3,2.2 \
		<(printf '%s\n' "$joined") <(ratios "$vmx_out" 2 | sort))
fi
echo "===== hvx/KVM, time per operation or boot (lower is better; < 1: hvx is faster) ====="
# Columns as wide as their title, at least 9.
awk -F "$tab" -v titles="$(IFS=$tab; echo "${cols[*]}")" '
	BEGIN { n = split(titles, t, FS); printf "%-36s", "benchmark"
		for (i = 1; i <= n; i++) { w[i] = length(t[i]) > 9 ? length(t[i]) : 9
					   printf " %*s", w[i], t[i] }
		print "" }
	{ printf "%-36s", $1; for (i = 2; i <= NF; i++) printf " %*s", w[i - 1], $i; print "" }' \
	<<<"$joined"
if [ -n "$params" ]; then
	echo "vmx, assists off: RIG_BENCH_HVX_PARAMS=$RIG_BENCH_HVX_PARAMS; $params"
fi
exit "$rc"
