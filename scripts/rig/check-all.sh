#!/bin/bash
# make check: every test, on both backends.
#   1. check.sh      build, host unit tests, then QEMU TCG (AMD SVM + NPT)
#                    with kvm_amd as the oracle: the main boot and a boot
#                    with two CPUs
#   2. check-vmx.sh  Bochs (Intel VMX + EPT) with kvm_intel as the oracle,
#                    on what step 1 built: the main boot and a boot with two
#                    CPUs
# Each prints its own results; this script ends with a line per backend and
# the total, "N passed, N failed, N skipped", and exits 0 iff both passed.
#
# Options: --no-svm, --no-vmx leave out one rig (for development; make check
# runs both). Anything else is passed to both rig scripts (e.g. --only NAME).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

run_svm=1 run_vmx=1 args=()
for a in "$@"; do
	case $a in
	--no-svm) run_svm=0 ;;
	--no-vmx) run_vmx=0 ;;
	-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) args+=("$a") ;;
	esac
done
VMX_OUT=$ROOT/build/rig-vmx
mkdir -p "$RIG_OUT" "$VMX_OUT"
rm -f "$RIG_OUT/counts" "$VMX_OUT/counts"
t_start=$SECONDS

svm_rc=0 vmx_rc=0
if [ "$run_svm" = 1 ]; then
	log "===== SVM rig: QEMU TCG, EPYC (scripts/rig/check.sh) ====="
	"$RIG_SRC/check.sh" "${args[@]}" || svm_rc=$?
fi
if [ "$run_vmx" = 1 ]; then
	log "===== VMX rig: Bochs, $(. "$RIG_SRC/bochs/config.sh"; echo "$RIG_BOCHS_CPU") (scripts/rig/check-vmx.sh) ====="
	# Step 1 built everything (a failed build is counted there).
	build=()
	[ "$run_svm" = 1 ] && build=(--no-build)
	"$RIG_SRC/check-vmx.sh" "${build[@]}" "${args[@]}" || vmx_rc=$?
fi

# "NAME P F S" lines; a rig that ended without one (it died: exit 2) is
# one failure of its own.
P=0 F=0 S=0
report() {  # COUNTS-FILE NAME RC WHAT
	local name p f s line
	if line=$(grep -s "^$2 " "$1"); then
		read -r name p f s <<<"$line"
	else
		p=0 f=1 s=0
		echo "not ok $2: $4 ended early (exit $3) without results"
	fi
	printf '%s: %d passed, %d failed, %d skipped\n' "$2" "$p" "$f" "$s"
	P=$((P + p)) F=$((F + f)) S=$((S + s))
}
echo "===== summary ($((SECONDS - t_start)) s) ====="
if [ "$run_svm" = 1 ]; then
	grep -qs '^unit ' "$RIG_OUT/counts" && report "$RIG_OUT/counts" unit 0 "unit tests"
	report "$RIG_OUT/counts" svm "$svm_rc" "scripts/rig/check.sh"
fi
[ "$run_vmx" = 1 ] && report "$VMX_OUT/counts" vmx "$vmx_rc" "scripts/rig/check-vmx.sh"
echo "$P passed, $F failed, $S skipped"
[ "$F" = 0 ] && [ "$svm_rc" = 0 ] && [ "$vmx_rc" = 0 ]
