#!/bin/bash
# make check-vmx: the VMX rig. Boots an emulated Intel machine (Bochs 2.7,
# CPU corei7_skylake_x: VMX with EPT, VPID, unrestricted guest, APICv) on
# the same pinned kernel and initramfs contents as the QEMU rig (check.sh),
# with kvm_intel as the oracle, and runs the same phases in one boot:
#   kvm     every selftests/bin/B against /dev/kvm (kvm_intel)
#   hvx     every B against /dev/hvx, if hvx.ko loads
#   system  selftests/bin/system/* (both devices)
# then the guest's dmesg scan; a second boot with RIG_BOCHS_SMP_CPUS CPUs
# runs selftests/bin/smp/*, then the kexec test (RIG_BOCHS_KEXEC=1 by
# default; --no-kexec-boot leaves it out): it kexecs the machine under a
# running hvx VM and crashes the kexec'd kernel into a kdump kernel, as
# check.sh's kexec boot does (guest-kexec.sh).
# Ends with "N passed, N failed, N skipped";
# exits 0 iff nothing failed and the guest's kernel log is clean.
#
# hvx.ko must load: a refusal is a failure unless HVX_RIG_ALLOW_NO_MODULE=1
# (then the hvx and system phases are reported as skipped).
#
# Only Bochs has VMX among the emulators Debian ships (QEMU TCG has none),
# and Bochs is slow (~80 M instructions/s), so the boot path is trimmed:
# ISOLINUX starts syslinux's mboot.c32, which loads the UNCOMPRESSED kernel
# behind a small Multiboot-to-PVH shim (scripts/rig/bochs/pvh-shim.c): the
# kernel runs ~4-7 s after Bochs starts instead of ~60 s for the stock
# XZ-compressed bzImage (--boot bzimage keeps that path), and /init at
# 16-20 s instead of 76-90 s (crypto self-tests off: 7 s; see
# bochs/config.sh). Measured on the 2-core machine kind (2026-11):
#   Bochs start -> /init 16-20 s, insmod msr..kvm-intel ~11 s
#   kvm phase (14 binaries, budget applied) ~90 s wall: fuzz 38, stress 29,
#     vcpu 6, mmio/pio/regs 2-3, the rest <= 1 s each
#   hvx phase ~30 s wall, system ~2 s; the main boot ~4 min, the boot
#   with two CPUs ~2.5 min: /init at 33 s, smp tests on hvx ~20 s, then
#   the kexec test ~95 s: the kexec 7 s after its start, the kexec'd
#   kernel's /init 20 s later, the crash 21 s later, the kdump kernel's
#   /init 19 s later, the end 11 s later (as a boot of its own,
#   --only kexec, ~140 s). With kexec_file_load() of the bzImage, as
#   before 2026-11, the kexec stage alone took 313 s and the crash stage
#   as much again: ~9 G emulated instructions per kernel in SHA-256
#   hashing (kexec_file_load(), then purgatory) and XZ decompression.
#   All of make check-vmx: ~6.5 min.
# Wall seconds per binary are printed at the end of every run.
#
# Bochs-specific files: scripts/rig/bochs.sh (one boot, guarded),
# scripts/rig/bochs/ (tunables in config.sh, the PVH shim, the guest's
# rdinit wrapper "init"). Shared with the QEMU rig: lib.sh, config.sh (kernel pin),
# deps.sh, initramfs.sh, guest-init.sh (/init), parse.awk (results).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/rig/bochs/config.sh
. "$RIG_SRC/bochs/config.sh"

usage() {
	cat <<EOF
Usage: scripts/rig/check-vmx.sh [OPTION]...

Modes (default: the suite, what make check-vmx runs):
  --shell-cmd 'CMD'   run CMD with sh in the guest after kvm_intel (and
                      hvx, if it loads) are loaded, print its output, exit
                      with its status. E.g. --shell-cmd 'dmesg | tail'
  --bench             run /hvx-bench in the guest
  --run-linux         boot a Linux guest under hvx with userspace/hvx-run
                      (PVH, two vCPUs, in a machine with two CPUs): its
                      console, a command at its shell, poweroff
                      (make demo VMX=1)

Suite options:
  --only NAME[,NAME]  run only these selftest binaries (basenames, also in
                      selftests/bin/system/), even those the budget leaves
                      out (their skipped cases stay skipped: they hang);
                      "kexec" is the kexec test
  --dev kvm|hvx|system  run only this phase
  --all               ignore the Bochs budget (RIG_BOCHS_SKIP): run every
                      binary and case, even those known to hang Bochs
  --no-smp-boot       leave out the smp tests (selftests/bin/smp/ in a
                      second boot, RIG_BOCHS_SMP_CPUS=$RIG_BOCHS_SMP_CPUS CPUs)
  --kexec-boot        run the kexec test (system/kexec, the second boot's
                      last step; the default unless RIG_BOCHS_KEXEC=0)
  --no-kexec-boot     leave it out

Common options:
  --no-build          use the existing hvx.ko and binaries, do not run make
  --boot pvh|bzimage  kernel boot path (default $RIG_BOCHS_BOOT)
  -v, --verbose       show the guest's serial console live
  -h, --help          this text

Environment: HVX_RIG_ALLOW_NO_MODULE=1 lets the suite run without a
loadable hvx.ko (hvx phases skipped). RIG_LOCK_HELD=1: the caller already
holds build/rig/.lock (e.g. check.sh running this), do not take it again.
Tunables (CPU model, memory, timeouts, budget): scripts/rig/bochs/config.sh.
Artifacts (serial logs, Bochs logs, dmesg): build/rig-vmx/.
EOF
}

mode=suite only='' dev='' shell_cmd='' verbose=0 do_build=1 use_budget=1 do_smp=1
do_kexec=$RIG_BOCHS_KEXEC kexec_opt=''
while [ $# -gt 0 ]; do
	case $1 in
	--shell-cmd) mode=shell; shell_cmd=${2?--shell-cmd needs a command}; shift ;;
	--shell-cmd=*) mode=shell; shell_cmd=${1#*=} ;;
	--bench) mode=bench ;;
	--run-linux) mode=run-linux ;;
	--only) only=${2?--only needs a list}; shift ;;
	--only=*) only=${1#*=} ;;
	--dev) dev=${2?--dev needs kvm, hvx or system}; shift ;;
	--dev=*) dev=${1#*=} ;;
	--all) use_budget=0 ;;
	--no-smp-boot) do_smp=0 ;;
	--kexec-boot) do_kexec=1 kexec_opt=1 ;;
	--no-kexec-boot) do_kexec=0 kexec_opt=0 ;;
	--boot) RIG_BOCHS_BOOT=${2?--boot needs pvh or bzimage}; shift ;;
	--boot=*) RIG_BOCHS_BOOT=${1#*=} ;;
	--no-build) do_build=0 ;;
	-v|--verbose) verbose=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case $dev in ''|kvm|hvx|system) ;; *) die "--dev must be kvm, hvx or system" ;; esac
run_linux=0
if [ "$mode" = run-linux ]; then
	# selftests/smp/boot_linux's --demo harness, in a shell-mode boot.
	mode=shell run_linux=1
	shell_cmd="/selftests/bin/smp/boot_linux --demo /dev/hvx 2 pvh"
fi
case $RIG_BOCHS_BOOT in pvh|bzimage) ;; *) die "--boot must be pvh or bzimage" ;; esac
[ "$RIG_BOCHS_SMP_CPUS" -gt 1 ] || do_smp=0

VMX_OUT=$ROOT/build/rig-vmx
mkdir -p "$RIG_OUT" "$VMX_OUT"
t_start=$SECONDS

# Two locks. Our own serialises VMX runs (one Bochs at a time: the machine
# has 2 cores). The QEMU rig's guards what both rigs share: deps.sh, the
# module build in the source tree and initramfs.sh's staging directory. We
# hold that one only for those steps (seconds), not for the Bochs boot
# (minutes), so make check can run beside make check-vmx.
exec 8>"$VMX_OUT/.lock"
if ! flock -n 8; then
	log "another VMX rig run holds $VMX_OUT/.lock; waiting"
	flock 8
fi
if [ "${RIG_LOCK_HELD:-0}" != 1 ]; then
	exec 9>"$RIG_OUT/.lock"
	if ! flock -n 9; then
		log "a QEMU rig run holds $RIG_OUT/.lock; waiting for its build steps"
		flock 9
	fi
fi

# ---- results ---------------------------------------------------------------
PASS=0 FAIL=0 SKIP=0
FAILURES=$VMX_OUT/failures
: >"$FAILURES"
fail() {  # NAME TEXT: one failure that is not a TAP result of a binary
	FAIL=$((FAIL + 1))
	echo "not ok $1: $2" | tee -a "$FAILURES"
}
skip() {  # NAME REASON
	SKIP=$((SKIP + 1))
	echo "ok $1: # SKIP $2"
}

# ---- 1. packages, the guest kernel -----------------------------------------
BOCHS_PACKAGES=(bochs bochsbios vgabios bochs-term isolinux syslinux-common xorriso)
install_bochs() {
	local missing=() p
	for p in "${BOCHS_PACKAGES[@]}"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root"
	log "installing: ${missing[*]}"
	apt-get update -qq
	# bochs-term by name, or apt picks the wx GUI; no recommends (X11).
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" ||
		die "apt-get install failed for: ${missing[*]}"
}
install_bochs
# QEMU's packages too (deps.sh installs them), but above all the pinned
# kernel: vmlinux, vmlinuz and the modules under build/rig/kernel.
"$RIG_SRC/deps.sh"

# ---- 2. build (as check.sh does) -------------------------------------------
rig_build "$VMX_OUT" "$do_build"
bench_bin=
[ -x "$ROOT/userspace/hvx-bench" ] && bench_bin=$ROOT/userspace/hvx-bench

# ---- 3. the base initramfs: the QEMU rig's, with kvm-intel as the oracle ----
log "initramfs (oracle: $RIG_BOCHS_ORACLE_MODULES)"
RIG_ORACLE_MODULES=$RIG_BOCHS_ORACLE_MODULES \
	"$RIG_SRC/initramfs.sh" "$VMX_OUT/base.cpio" "$hvx_ko" "$bench_bin"
# The binaries as packed (the tree may change while we boot), for the plan.
packed=$(cpio -it --quiet <"$VMX_OUT/base.cpio")
mapfile -t bins < <(sed -n 's|^\(\./\)\{0,1\}selftests/bin/\([^/]*\)$|\2|p' <<<"$packed" |
	grep -vx system | LC_ALL=C sort)
mapfile -t sysbins < <(sed -n 's|^\(\./\)\{0,1\}selftests/bin/system/\([^/]*\)$|\2|p' <<<"$packed" |
	LC_ALL=C sort)
# selftests/bin/smp/*: a cpio of their own, for the boot with two CPUs.
rig_smp_cpio "$VMX_OUT"
smpbins=()
[ -n "$smp_cpio" ] &&
	mapfile -t smpbins < <(cpio -it --quiet <"$smp_cpio" |
		sed -n 's|^\(\./\)\{0,1\}selftests/bin/smp/\([^/]*\)$|\2|p' | LC_ALL=C sort)

# hvx-run and the guest it boots (smp/boot_linux, --run-linux), with the
# compacted vmlinux: 31 MB less for ISOLINUX to read and the kernel to
# unpack, in every boot that carries it.
rig_boot_cpio "$VMX_OUT" 1

# Shared steps done: let the QEMU rig go on.
[ "${RIG_LOCK_HELD:-0}" = 1 ] || exec 9>&-

# ---- 4. the kernel image Bochs boots ----------------------------------------
PVH_DIR=$VMX_OUT/pvh
# Rebuild $1 if it is missing or older than any of the other arguments.
stale() {
	local out=$1 f
	shift
	[ -e "$out" ] || return 0
	for f in "$@"; do [ "$f" -nt "$out" ] && return 0; done
	return 1
}
make_pvh_image() {
	local src=$RIG_SRC/bochs
	mkdir -p "$PVH_DIR"
	if stale "$PVH_DIR/mkpvhboot" "$src/mkpvhboot.c"; then
		gcc -O2 -Wall -Wextra -Werror -o "$PVH_DIR/mkpvhboot" "$src/mkpvhboot.c"
	fi
	# The shim runs before the kernel, in 32-bit protected mode: plain
	# freestanding i686 code, no libc (so no multilib needed), linked to
	# sit right below the kernel's load address.
	if stale "$PVH_DIR/shim.bin" "$src/pvh-shim.c" "$src/pvh-shim.ld"; then
		gcc -m32 -march=i686 -O2 -Wall -Wextra -Werror -ffreestanding \
		    -fno-builtin -fno-pic -fno-pie -no-pie -fno-stack-protector \
		    -fno-asynchronous-unwind-tables -fcf-protection=none \
		    -mno-sse -mno-mmx -nostdlib -Wl,--build-id=none \
		    -Wl,--no-warn-rwx-segments -Wl,-T,"$src/pvh-shim.ld" \
		    -o "$PVH_DIR/shim.elf" "$src/pvh-shim.c"
		objcopy -O binary "$PVH_DIR/shim.elf" "$PVH_DIR/shim.bin"
	fi
	if stale "$PVH_DIR/vmlinux.mb" "$PVH_DIR/shim.bin" "$PVH_DIR/mkpvhboot" \
	   "$RIG_VMLINUX"; then
		"$PVH_DIR/mkpvhboot" "$PVH_DIR/shim.bin" "$RIG_VMLINUX" \
			"$PVH_DIR/vmlinux.mb.tmp" >/dev/null
		mv "$PVH_DIR/vmlinux.mb.tmp" "$PVH_DIR/vmlinux.mb"
	fi
}
if [ "$RIG_BOCHS_BOOT" = pvh ]; then
	make_pvh_image
	kernel_image=$PVH_DIR/vmlinux.mb
else
	kernel_image=$RIG_KERNEL_DIR/boot/vmlinuz-$RIG_KVER
fi
[ -s "$kernel_image" ] || die "no kernel image $kernel_image"

# Why each word: the serial line is the only channel read, and Bochs
# emulates its baud rate: without ",115200" the kernel runs it at 9600 baud
# (~1 KB per guest second); panic=-1 reboots at once (bochs.sh notices);
# rdinit: bochs/init, which runs the rig's /init and lets the serial line
# drain before powering off; tsc_early_khz: see bochs/config.sh;
# tsc=reliable as in the QEMU rig (no clocksource watchdog work); quiet
# keeps kernel chatter off the console the tests print to.
kernel_cmdline="console=ttyS0,115200 panic=-1 quiet rdinit=/rig/bochs-init tsc=reliable"
kernel_cmdline+=" tsc_early_khz=$((RIG_BOCHS_IPS / 1000))"
kernel_cmdline+=" $RIG_BOCHS_KERNEL_ARGS $RIG_BOCHS_KERNEL_EXTRA"

# ---- 5. the plan --------------------------------------------------------------
declare -A wanted=()
if [ -n "$only" ]; then
	for n in ${only//,/ }; do wanted[$n]=1; done
	# "kexec" names the kexec test, and asks for it (unless
	# --no-kexec-boot said otherwise), as --only NAME runs a binary the
	# budget leaves out.
	if [ -n "${wanted[kexec]:-}" ]; then
		unset 'wanted[kexec]'
		[ "$kexec_opt" = 0 ] || do_kexec=1
	else
		do_kexec=0
	fi
	filter() { local b; for b in "$@"; do [ -n "${wanted[$b]:-}" ] && echo "$b"; done; true; }
	mapfile -t bins < <(filter "${bins[@]}")
	mapfile -t sysbins < <(filter "${sysbins[@]}")
	mapfile -t smpbins < <(filter "${smpbins[@]}")
	for n in "${!wanted[@]}"; do
		printf '%s\n' "${bins[@]}" "${sysbins[@]}" "${smpbins[@]}" | grep -qxF "$n" ||
			die "--only: no selftest binary named '$n' in selftests/bin"
	done
fi
# The budget (bochs/config.sh, RIG_BOCHS_SKIP): whole binaries (NAME or
# PHASE/NAME) and single cases (NAME:CASE or PHASE/NAME:CASE, CASE being
# the function name in the binary's TEST_CASE list) that Bochs cannot run
# or runs too slowly. --all ignores it; --only NAME runs that binary even
# if the budget leaves it out as a whole, but still without its skipped
# cases (those hang the emulated machine).
# RIG_BOCHS_FLAW_SKIP, cases only, takes the same path with its own
# reason (case_why, keyed by the entry's PHASE/NAME or NAME and CASE).
declare -A budget_out=() case_out=() case_why=()
BUDGET_REASON="$RIG_BOCHS_SKIP_WHY (RIG_BOCHS_SKIP in scripts/rig/bochs/config.sh; --all runs it)"
FLAW_REASON="$RIG_BOCHS_FLAW_SKIP_WHY (RIG_BOCHS_FLAW_SKIP in scripts/rig/bochs/config.sh; --all runs it)"
if [ "$use_budget" = 1 ]; then
	for n in $RIG_BOCHS_SKIP; do
		case $n in
		*:*) case_out[${n%%:*}]+=" ${n#*:}" ;;
		*) budget_out[$n]=1 ;;
		esac
	done
	for n in $RIG_BOCHS_FLAW_SKIP; do
		case $n in
		*:*) case_out[${n%%:*}]+=" ${n#*:}"; case_why[$n]=$FLAW_REASON ;;
		*) die "RIG_BOCHS_FLAW_SKIP: '$n' is not NAME:CASE or PHASE/NAME:CASE" ;;
		esac
	done
fi
in_budget() {  # PHASE NAME
	[ -n "${wanted[$2]:-}" ] && return 0
	[ -z "${budget_out[$2]:-}" ] && [ -z "${budget_out[$1/$2]:-}" ]
}

# A binary with skipped cases runs through a generated wrapper in the
# per-boot initramfs (/selftests/bochs/PHASE/NAME, same basename, so
# results keep the key PHASE/NAME): it prints a SKIP line per left-out case
# and runs each other case with the harness' name filter (argv[2], which
# matches substrings: checked here so that no filter also picks a skipped
# case and no case runs twice). parse.awk adds up the several TAP plans.
WRAP_DIR=$VMX_OUT/wrappers
rm -rf "$WRAP_DIR"
# Module parameters of the assists-off passes, /rig/params/PHASE in the guest.
PARAMS_DIR=$VMX_OUT/params
rm -rf "$PARAMS_DIR"
source_cases() {  # NAME: its case functions, in cases[] order
	sed -n 's/^[[:space:]]*TEST_CASE\(_TIMEOUT\)\{0,1\}([[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*,.*/\2/p' \
		"$ROOT/selftests/$1.c" 2>/dev/null
}
make_wrapper() {  # PHASE NAME SKIPPED-CASE...  -> guest path on stdout
	local ph=$1 b=$2 c x r n=0 all=() runs=() out
	shift 2
	local skipped=" $* "
	declare -A done_case=()
	mapfile -t all < <(source_cases "$b")
	[ ${#all[@]} -gt 0 ] || die "RIG_BOCHS_SKIP: no TEST_CASE list in selftests/$b.c"
	for c in "$@"; do
		printf '%s\n' "${all[@]}" | grep -qxF "$c" ||
			die "RIG_BOCHS_SKIP: selftests/$b.c has no case '$c'"
	done
	for c in "${all[@]}"; do
		case $skipped in *" $c "*) continue ;; esac
		[ -n "${done_case[$c]:-}" ] && continue
		for x in "${all[@]}"; do
			[[ $x == *"$c"* ]] || continue
			case $skipped in *" $x "*)
				die "RIG_BOCHS_SKIP: cannot run $b:$c without $b:$x (the harness' filter matches substrings)" ;;
			esac
			[ -n "${done_case[$x]:-}" ] &&
				die "RIG_BOCHS_SKIP: $b:$x would run twice (filter '$c')"
			done_case[$x]=1
		done
		runs+=("$c")
	done
	mkdir -p "$WRAP_DIR/$ph"
	out=$WRAP_DIR/$ph/$b
	{
		echo "#!/bin/sh"
		echo "# Generated by check-vmx.sh: selftests/bin/$b less the cases"
		echo "# RIG_BOCHS_SKIP leaves out under Bochs. \$1 is the device."
		echo "echo 1..$#"
		for c in "$@"; do
			n=$((n + 1))
			r=${case_why[$ph/$b:$c]:-${case_why[$b:$c]:-$BUDGET_REASON}}
			echo "echo 'ok $n - $c # SKIP $r'"
		done
		echo "rc=0"
		for r in "${runs[@]}"; do
			echo "/selftests/bin/$b \"\$1\" $r || rc=\$?"
		done
		echo "exit \$rc"
	} >"$out"
	chmod 755 "$out"
	echo "/selftests/bochs/$ph/$b"
}

plan=()   # lines "PHASE DEVICE GUEST-PATH", as guest-init.sh reads them
plan_phase() {  # PHASE DEVICE DIR NAME...
	local ph=$1 devp=$2 d=$3 b cases
	shift 3
	for b in "$@"; do
		if ! in_budget "$ph" "$b"; then
			skip "$ph/$b" "$BUDGET_REASON"
			continue
		fi
		cases="${case_out[$b]:-}${case_out[$ph/$b]:-}"
		if [ -z "${cases// /}" ]; then
			plan+=("$ph $devp $d/$b")
		elif [ "$ph" = system ] || [ "${ph#smp-}" != "$ph" ]; then
			die "RIG_BOCHS_SKIP: single cases of $ph tests cannot be skipped ($b)"
		else
			# shellcheck disable=SC2086
			plan+=("$ph $devp $(make_wrapper "$ph" "$b" $cases)")
		fi
	done
}
no_hvx_reason=
if [ "$mode" = suite ]; then
	if [ -z "$dev" ] || [ "$dev" = kvm ]; then
		plan_phase kvm /dev/kvm /selftests/bin "${bins[@]}"
	fi
	if [ -z "$hvx_ko" ]; then
		no_hvx_reason="no hvx.ko (it did not build)"
		[ "$dev" = kvm ] || log "no hvx.ko: skipping the hvx and system phases"
		if [ -z "$dev" ] || [ "$dev" = hvx ]; then
			for b in "${bins[@]}"; do skip "hvx/$b" "$no_hvx_reason"; done
		fi
		if [ -z "$dev" ] || [ "$dev" = system ]; then
			for b in "${sysbins[@]}"; do skip "system/$b" "$no_hvx_reason"; done
		fi
	else
		if [ -z "$dev" ] || [ "$dev" = hvx ]; then
			plan_phase hvx /dev/hvx /selftests/bin "${bins[@]}"
		fi
		if [ -z "$dev" ] || [ "$dev" = system ]; then
			plan_phase system - /selftests/bin/system "${sysbins[@]}"
		fi
		# The assists-off passes (RIG_BOCHS_ASSIST_OFF): hvx reloaded
		# with /rig/params/PHASE, the interrupt tests again.
		if [ -z "$dev" ] || [ "$dev" = hvx ]; then
			# shellcheck disable=SC2086 # space-separated lists
			mapfile -t offbins < <(printf '%s\n' "${bins[@]}" |
				grep -xF -f <(printf '%s\n' $RIG_BOCHS_ASSIST_OFF_BINS) || true)
			# shellcheck disable=SC2086
			for pass in $RIG_BOCHS_ASSIST_OFF; do
				[ ${#offbins[@]} -gt 0 ] || break
				mkdir -p "$PARAMS_DIR"
				echo "${pass#*:}" | tr , ' ' >"$PARAMS_DIR/${pass%%:*}"
				plan_phase "${pass%%:*}" /dev/hvx /selftests/bin "${offbins[@]}"
			done
		fi
	fi
fi
# The boot with two CPUs: selftests/bin/smp/* on kvm_intel, then on hvx.
smp_plan=()
if [ "$mode" = suite ] && [ "$do_smp" = 1 ]; then
	main_plan=("${plan[@]}")
	plan=()
	if [ -z "$dev" ] || [ "$dev" = kvm ]; then
		plan_phase smp-kvm /dev/kvm /selftests/bin/smp "${smpbins[@]}"
	fi
	if [ -n "$hvx_ko" ] && { [ -z "$dev" ] || [ "$dev" = hvx ]; }; then
		plan_phase smp-hvx /dev/hvx /selftests/bin/smp "${smpbins[@]}"
	fi
	smp_plan=("${plan[@]}")
	plan=("${main_plan[@]}")
fi
# The kexec test: hvx's, in the system phase. Its selftest runs on both
# devices as the budget allows: through a wrapper if cases are left out,
# skipped on a device that leaves out the whole binary.
kexec_conf=()
if [ "$mode" != suite ] || { [ -n "$dev" ] && [ "$dev" != system ]; }; then
	do_kexec=0
fi
if [ "$do_kexec" = 1 ] && [ -z "$hvx_ko" ]; then
	skip system/kexec "$no_hvx_reason"
	do_kexec=0
fi
if [ "$do_kexec" = 1 ]; then
	grep -qx "\(\./\)\{0,1\}selftests/bin/$RIG_KEXEC_TEST" <<<"$packed" ||
		die "RIG_KEXEC_TEST: no selftest binary named '$RIG_KEXEC_TEST' in selftests/bin"
	kexec_run() {  # PHASE -> guest path, nothing if the budget leaves it out
		local b=$RIG_KEXEC_TEST cases
		in_budget "$1" "$b" || return 0
		cases="${case_out[$b]:-}${case_out[$1/$b]:-}"
		if [ -z "${cases// /}" ]; then
			echo "/selftests/bin/$b"
		else
			# shellcheck disable=SC2086
			make_wrapper "$1" "$b" $cases
		fi
	}
	kexec_conf=(
		"RIG_KEXEC_CRASH=$RIG_BOCHS_KEXEC_CRASH"
		"RIG_KEXEC_TEST=$RIG_KEXEC_TEST"
		"RIG_KEXEC_RUN_HVX=$(kexec_run hvx)"
		"RIG_KEXEC_RUN_KVM=$(kexec_run kvm)"
		"RIG_KEXEC_SKIP_WHY=$(printf %q "$BUDGET_REASON")"
		"RIG_KEXEC_NEXT_ARGS='$RIG_BOCHS_KEXEC_NEXT_ARGS'"
	)
	rig_kexec_cpio "$VMX_OUT" "$hvx_ko" "$VMX_OUT/base.cpio"
	[ -n "$kexec_cpio" ] || do_kexec=0
fi
# The kexec test is the last step of the boot with two CPUs (after the
# smp tests, if any): its first kernel is that boot's.
[ "$do_kexec" = 1 ] && smp_plan+=("system - kexec")
# --only/--dev naming nothing but binaries of the other boots: no main boot.
main_boot=1
[ -n "$only$dev" ] && [ ${#plan[@]} -eq 0 ] &&
	{ [ ${#smp_plan[@]} -gt 0 ] || [ "$do_kexec" = 1 ]; } && main_boot=0

# ---- 6. one boot ---------------------------------------------------------------
rm -rf "$VMX_OUT"/boot-*

# The kernel's log must stay clean (as in check.sh)...
DMESG_BAD='Oops|WARNING:|BUG:|general protection fault|lockdep|possible circular locking|INFO: task .* blocked|hvx: .*leaked|Kernel panic|Call Trace'
# ...except what every Bochs boot prints: the Skylake-X model has RETBleed
# but Bochs offers no IBRS/microcode for it.
DMESG_BENIGN='RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable'

ISOLINUX_FILES=(/usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32)
MBOOT_FILES=(/usr/lib/syslinux/modules/bios/mboot.c32 /usr/lib/syslinux/modules/bios/libcom32.c32)

# Per-boot settings: the main boot, or the boot with two CPUs, which also
# gets selftests/bin/smp/ (as do --shell-cmd boots, for poking) and the
# kexec test's additions.
stage_cpus=$RIG_BOCHS_CPUS stage_megs=$RIG_BOCHS_MEGS stage_cpios=() stage_cmdline=''
stage_kexec=0
if [ "$mode" = shell ] || [ "$mode" = bench ]; then
	[ -n "$smp_cpio" ] && stage_cpios+=("$smp_cpio")
	[ -n "$boot_cpio" ] && stage_cpios+=("$boot_cpio")
	[ "$run_linux" = 1 ] && stage_cpus=$RIG_BOCHS_SMP_CPUS stage_cmdline=" idle=nomwait"
fi

boot_no=0
boot_guest() {  # MODE PLAN-LINE...  -> bdir, end_reason, end_secs
	local bmode=$1 iso
	shift
	boot_no=$((boot_no + 1))
	bdir=$VMX_OUT/boot-$boot_no
	mkdir -p "$bdir/cpio/rig" "$bdir/iso/isolinux"
	{
		echo "RIG_MODE=$bmode"
		echo "RIG_TEST_TIMEOUT=$RIG_BOCHS_TEST_TIMEOUT"
		echo "RIG_BENCH_TIMEOUT=$RIG_BOCHS_TEST_TIMEOUT"
		echo "RIG_BOOT_BENCH_TIMEOUT=$RIG_BOCHS_BOOT_BENCH_TIMEOUT"
		echo "HVX_BENCH_KERNELS='$RIG_BENCH_KERNELS'"
		echo "RIG_BENCH_HVX_PARAMS='$RIG_BENCH_HVX_PARAMS'"
		# The selftest harness stops running cases once a binary has
		# used SELFTEST_BUDGET s (100 by default, tuned for QEMU):
		# under Bochs let it use nearly all of the rig's timeout.
		echo "export SELFTEST_BUDGET=$((RIG_BOCHS_TEST_TIMEOUT - 20))"
		echo "HVX_BOOT_APPEND='$RIG_BOCHS_BOOT_APPEND'"
		echo "HVX_BOOT_KERNELS='$RIG_BOCHS_BOOT_KERNELS'"
		echo "export FUZZ_BUDGET_SCALE=$RIG_BOCHS_FUZZ_BUDGET_SCALE"
		if [ "$stage_kexec" = 1 ]; then printf '%s\n' "${kexec_conf[@]}"; fi
	} >"$bdir/cpio/rig/conf"
	if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi >"$bdir/cpio/rig/plan"
	printf '%s\n' "$shell_cmd" >"$bdir/cpio/rig/shell-cmd"
	install -m 755 "$RIG_SRC/bochs/init" "$bdir/cpio/rig/bochs-init"
	if [ -d "$WRAP_DIR" ]; then
		mkdir -p "$bdir/cpio/selftests"
		cp -r "$WRAP_DIR" "$bdir/cpio/selftests/bochs"
	fi
	if [ -d "$PARAMS_DIR" ]; then cp -r "$PARAMS_DIR" "$bdir/cpio/rig/params"; fi
	(cd "$bdir/cpio" && find . | cpio -o -H newc -R 0:0 --quiet) >"$bdir/conf.cpio"

	# The CD: ISOLINUX, the kernel, one initrd (base + this boot's conf;
	# the kernel unpacks concatenated archives in order, later files win).
	cp "${ISOLINUX_FILES[@]}" "$bdir/iso/isolinux/"
	local parts=("$VMX_OUT/base.cpio" "${stage_cpios[@]}" "$bdir/conf.cpio")
	# The kexec test: the later kernels' initramfs, made with this conf.
	[ "$stage_kexec" = 1 ] &&
		parts+=("$(rig_kexec_payload "$VMX_OUT" "$bdir" "$bdir/conf.cpio")")
	cat "${parts[@]}" >"$bdir/iso/initrd"
	# SERIAL: ISOLINUX (and the shim's error messages) on the serial line,
	# whose first banner also tells bochs.sh the BIOS got that far.
	{
		echo "SERIAL 0 115200"
		echo "DEFAULT rig"
		echo "PROMPT 0"
		echo "TIMEOUT 0"
		echo "LABEL rig"
		if [ "$RIG_BOCHS_BOOT" = pvh ]; then
			cp "${MBOOT_FILES[@]}" "$bdir/iso/isolinux/"
			cp "$kernel_image" "$bdir/iso/vmlinux.mb"
			echo "  KERNEL mboot.c32"
			echo "  APPEND /vmlinux.mb $kernel_cmdline$stage_cmdline --- /initrd"
		else
			cp "$kernel_image" "$bdir/iso/vmlinuz"
			echo "  LINUX /vmlinuz"
			echo "  INITRD /initrd"
			echo "  APPEND $kernel_cmdline$stage_cmdline"
		fi
	} >"$bdir/iso/isolinux/isolinux.cfg"
	iso=$bdir/rig.iso
	xorriso -as mkisofs -quiet -R -b isolinux/isolinux.bin -c isolinux/boot.cat \
		-no-emul-boot -boot-load-size 4 -boot-info-table \
		-o "$iso" "$bdir/iso" 2>"$bdir/xorriso.log" ||
		{ cat "$bdir/xorriso.log"; die "xorriso failed"; }
	rm -rf "$bdir/iso"

	log "boot $boot_no (Bochs, $RIG_BOCHS_CPU x$stage_cpus, $stage_megs MB, $RIG_BOCHS_BOOT boot): $# step(s) planned"
	local v=()
	[ "$verbose" = 1 ] && v=(-v)
	RIG_BOCHS_CPUS=$stage_cpus RIG_BOCHS_MEGS=$stage_megs \
		"$RIG_SRC/bochs.sh" "${v[@]}" "$iso" "$bdir"
	rm -f "$iso"
	read -r end_reason end_secs <"$bdir/serial.log.end"
	log "boot $boot_no: ended ($end_reason) after ${end_secs} s"
	# As check.sh: strip \r, terminal escapes; one marker per line.
	tr -d '\r' <"$bdir/serial.log" |
		sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' \
		    -e 's/\(.\)@@@ /\1\n@@@ /g' >"$bdir/serial.txt"
	: >"$bdir/dmesg"
	: >"$bdir/console"
}

# Did hvx.ko refuse to load in this boot while HVX_RIG_ALLOW_NO_MODULE=1
# allows it? Sets no_hvx_reason.
hvx_load_verdict() {
	local txt=$bdir/serial.txt out
	grep -qE '^@@@ INSMOD hvx rc=[1-9]' "$txt" || return 0
	out=$(awk '/^@@@ INSMOD hvx rc=[1-9]/ { on = 1; next } on && /^@@@ / { exit } on' "$txt")
	if [ "${HVX_RIG_ALLOW_NO_MODULE:-0}" = 1 ]; then
		no_hvx_reason="hvx.ko did not load (HVX_RIG_ALLOW_NO_MODULE=1): $(head -n 1 <<<"$out")"
	fi
}

# parse.awk over this boot, with an expected hvx.ko refusal taken out: its
# INSMOD marker is dropped (so it is no failure) and the steps it stopped
# become skips.
parse_boot() {
	local in=$bdir/serial.txt
	hvx_load_verdict
	if [ -n "$no_hvx_reason" ]; then
		sed '/^@@@ INSMOD hvx rc=[1-9]/d' "$bdir/serial.txt" >"$bdir/serial.parse"
		in=$bdir/serial.parse
	fi
	awk -v summary="$bdir/summary" -v dmesgf="$bdir/dmesg" \
	    -v consolef="$bdir/console" -v timeout="$RIG_BOCHS_TEST_TIMEOUT" \
	    -f "$RIG_SRC/parse.awk" "$in" >"$bdir/results"
	if [ -n "$no_hvx_reason" ]; then  # reported as skips below instead
		sed -i '/^rig: [a-z]*\/.* not run: its module did not load$/d' "$bdir/results"
	fi
	# The kexec test's crash stage panics on purpose: rig_kexec_console
	# drops its own lines.
	if grep -q '^@@@ KEXEC ' "$bdir/serial.txt"; then
		rig_kexec_console "$bdir/serial.txt" >"$bdir/console"
		log "kexec test: last stage reached: $(rig_kexec_reached "$bdir/serial.txt")"
	fi
	cat "$bdir/results"
	grep '^not ok' "$bdir/results" >>"$FAILURES" || true
	local p f s
	read -r p f s < <(awk '$1 == "COUNT" { print $2, $3, $4 }' "$bdir/summary")
	PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
	if [ -n "$no_hvx_reason" ]; then
		local k
		while read -r k; do
			skip "$k" "$no_hvx_reason"
		done < <(awk '$1 == "NOTRUN" && $2 ~ /^(hvx|system|bench)\// { print $2 }' "$bdir/summary")
	fi
}

check_dmesg() {
	local hits
	hits=$(cat "$bdir/dmesg" "$bdir/console" | grep -vE "$DMESG_BENIGN" |
	       grep -E "$DMESG_BAD" | sort -u) || true
	if [ -n "$hits" ]; then
		fail "dmesg" "guest kernel log of boot $boot_no has problems:"
		# shellcheck disable=SC2001
		sed 's/^/    | /' <<<"$hits"
	fi
}

# hvx must use every VMX feature the Bochs model offers: each load of
# hvx.ko in the boot logs them (module/vmx/vmx.c), and each such line must
# read RIG_BOCHS_HVX_VMX. A capability bit read from the wrong place once
# left VPID off here unnoticed.
check_vmx_features() {
	local got
	got=$(grep -a 'hvx: VMX: EPT' "$bdir/serial.txt" | sed 's/.*hvx: VMX: //' | sort -u) || true
	[ -n "$got" ] || return 0
	if grep -qvxF "$RIG_BOCHS_HVX_VMX" <<<"$got"; then
		fail rig "boot $boot_no: hvx.ko loaded without VMX features Bochs offers:"
		# shellcheck disable=SC2001
		sed 's/^/    | got:  /' <<<"$got"
		echo "    | want: $RIG_BOCHS_HVX_VMX (RIG_BOCHS_HVX_VMX)"
	fi
}

describe_end() {
	case $1 in
	silence) echo "the guest went silent for $RIG_BOCHS_SILENCE_TIMEOUT s" ;;
	timeout) echo "the boot hit the $RIG_BOCHS_BOOT_TIMEOUT s limit" ;;
	lockup)  echo "the guest kernel reported a soft lockup / RCU stall" ;;
	reset)   echo "the guest rebooted (kernel panic or reset)" ;;
	bochs)   echo "Bochs stopped (emulator panic, e.g. a triple fault: see its log)" ;;
	exit)    echo "the guest powered off early" ;;
	esac
}

# What the VMX backend's developer needs when something fails: Bochs names
# each failed VM-entry check ("VMENTER FAIL: ...", "VMFAIL: ..." for a
# VMX instruction that failed) and any emulator panic in its own log, and
# logs some VM exits (EPT violations, failed guest-state checks) at level
# error. Routine lines ("RDMSR: Unknown register", KVM's every entry reads
# DEBUGCTL, which Bochs lacks) are left out.
show_bochs_log() {
	local logf=$bdir/bochs.log hits
	[ -f "$logf" ] || return 0
	echo "===== Bochs log (boot $boot_no; full log: ${logf#"$ROOT"/}) ====="
	hits=$(grep -E 'VMFAIL|VMENTER FAIL|>>PANIC<<' "$logf" |
	       grep -v 'ACPI control: soft power off') || true
	if [ -n "$hits" ]; then
		echo "-- failed VMX instructions and VM entries, emulator panics (count, first line):"
		# Drop the tick stamp, count, keep the order of first appearance.
		sed 's/^[0-9]*[a-z]\[[^]]*\] //' <<<"$hits" |
			awk '{ if (!($0 in n)) order[++k] = $0; n[$0]++ }
			     END { for (i = 1; i <= k && i <= 40; i++) printf "%6d  %s\n", n[order[i]], order[i]
				   if (k > 40) print "  ... " k " kinds in all" }'
	else
		echo "-- no failed VMX instruction or VM entry, no emulator panic"
	fi
	echo "-- the last VMX lines before the end (tick = emulated instruction count):"
	grep -E '^[0-9]+[a-z]\[CPU[0-9]* *\] .*(VM[A-Z]|INVEPT|INVVPID)' "$logf" |
		grep -v 'enter_system_management_mode' | tail -n 20 || true
	tail -n 3 "$logf"
}

print_step_output() {  # free-form output of a shell/bench step
	awk '/^@@@ BEGIN / { on = 1; blank = 0; next }
	     /^@@@ END / { on = 0; next }
	     on && /^@@@ ALIVE/ { next }
	     on && $0 == "" { blank++; next }
	     on { while (blank) { print ""; blank-- } print }' "$bdir/serial.txt"
}

# Per-step times: guest seconds from /init's END markers, wall seconds from
# when bochs.sh saw BEGIN and END arrive.
print_times() {
	local b
	echo "===== times (guest s = emulated time; wall s = host time) ====="
	for b in "$VMX_OUT"/boot-*; do
		[ -f "$b/markers" ] || continue
		awk -v boot="${b##*/}" -v end_secs="$(cut -d' ' -f2 "$b/serial.log.end")" '
			$2 == "RIG" && $3 == "START" { printf "%s: /init started at %d s wall\n", boot, $1 }
			$2 == "KEXEC" { printf "  kexec test: %-18s at %4d s wall\n", $3, $1 }
			$2 == "BEGIN" { t0[$3 "/" $4] = $1 }
			$2 == "END" { k = $3 "/" $4; cs = $6; sub(/^cs=/, "", cs)
				      printf "  %-22s %8.2f guest s %6d wall s\n", k, cs / 100, $1 - t0[k] }
			END { printf "%s: %d s wall in all\n", boot, end_secs }' "$b/markers"
	done
}

# ---- 7. run -------------------------------------------------------------------
if [ "$mode" = shell ] || [ "$mode" = bench ]; then
	[ "$mode" = bench ] && [ -z "$bench_bin" ] &&
		die "userspace/hvx-bench does not exist (make userspace)"
	boot_guest "$mode"
	parse_boot >/dev/null
	print_step_output
	# The first failed step's rc (a bench may run twice), else 0.
	step_rc=$(awk '/^@@@ END / { sub(/^rc=/, "", $5); if (rc == "" || rc == 0) rc = $5 }
		       END { print rc }' "$bdir/serial.txt")
	ok=1
	grep -q '^FINISHED' "$bdir/summary" ||
		{ ok=0; echo "rig: the boot did not complete: $(describe_end "$end_reason")"; }
	grep '^not ok rig:' "$bdir/results" && ok=0
	[ -n "$no_hvx_reason" ] && log "$no_hvx_reason"
	fail_before=$FAIL
	check_dmesg
	[ "$FAIL" = "$fail_before" ] || ok=0
	if [ "$ok" = 0 ] || [ -z "$step_rc" ]; then
		echo "===== guest dmesg ====="; cat "$bdir/dmesg"
		echo "===== serial tail ====="; tail -n 40 "$bdir/serial.txt"
		show_bochs_log
		exit 1
	fi
	log "$mode: rc=$step_rc, $((SECONDS - t_start)) s in all"
	exit "$step_rc"
fi

# Suite: normally one boot. A boot that ends early (a binary wedged, the
# guest died) counts the binary it was in as failed and goes on with the
# steps after it in a fresh boot. No rerun of the wedged binary: Bochs is
# deterministic and single-threaded, unlike the multi-threaded QEMU whose
# freezes check.sh's rerun tells apart; a rerun would only cost a boot.
boots_with_trouble=()
run_suite_boots() {  # PLAN-LINE...
	local pending=("$@") first=$boot_no left s k ph bin what open_key why

	while [ "$boot_no" = "$first" ] || [ ${#pending[@]} -gt 0 ]; do
		if [ $((boot_no - first)) -ge "$RIG_BOCHS_MAX_BOOTS" ]; then
			fail rig "gave up after $((boot_no - first)) boots; ${#pending[@]} step(s) not run"
			break
		fi
		boot_guest suite "${pending[@]}"
		fail_before=$FAIL
		parse_boot

		declare -A seen=()
		while read -r what k _; do
			case $what in DONE|OPEN|STUCK|NOTRUN) seen[$k]=1 ;; esac
		done <"$bdir/summary"
		open_key=$(awk '$1 == "OPEN" { print $2 }' "$bdir/summary")
		left=()
		for s in "${pending[@]}"; do
			read -r ph _ bin <<<"$s"
			k="$ph/${bin##*/}"
			[ -n "${seen[$k]:-}" ] || left+=("$s")
		done
		unset seen

		if ! grep -q '^FINISHED' "$bdir/summary"; then
			why=$(describe_end "$end_reason")
			grep -q '^STARTED' "$bdir/summary" || why="$why before /init ran"
			if [ "$open_key" = system/kexec ]; then
				fail "$open_key" "$(rig_kexec_why "$(rig_kexec_reached "$bdir/serial.txt")" \
					"$(describe_end "$end_reason")")"
			elif [ -n "$open_key" ]; then
				fail "$open_key" "wedged: $why"
			elif [ ${#left[@]} -eq ${#pending[@]} ]; then
				fail rig "boot $boot_no: $why, before any test ran; giving up"
				left=()
			else
				fail rig "boot $boot_no: $why, outside a test"
			fi
		elif [ ${#left[@]} -gt 0 ]; then
			fail rig "boot $boot_no finished but ${#left[@]} step(s) never ran"
			left=()
		fi
		pending=("${left[@]}")
		check_dmesg
		check_vmx_features
		[ "$FAIL" -gt "$fail_before" ] && boots_with_trouble+=("$boot_no")
	done
	return 0
}

[ "$main_boot" = 1 ] && run_suite_boots "${plan[@]}"
# The boot with two CPUs: the smp tests, then the kexec test, whose first
# kernel this boot's is. Why each word on its command line:
# - idle=nomwait: an idle CPU in MWAIT missed wakeups (bochs/config.sh,
#   RIG_BOCHS_KEXEC_NEXT_ARGS); in smp/boot_linux, a nested guest's
#   "sleep 1" then overslept by ~90 ms now and then.
# - crashkernel=: the reservation the crash stage's kdump kernel runs in.
# - loglevel=5 (after quiet): WARNINGs of a kernel that goes away by
#   kexec or crash reach the console, the only log that outlives it.
# The later kernels add RIG_BOCHS_KEXEC_NEXT_ARGS (bochs/config.sh).
if [ ${#smp_plan[@]} -gt 0 ]; then
	stage_cpus=$RIG_BOCHS_SMP_CPUS stage_cpios=() stage_cmdline=" idle=nomwait"
	[ "$do_smp" = 1 ] || stage_cpus=$RIG_BOCHS_KEXEC_CPUS
	[ "$do_smp" = 1 ] && [ -n "$smp_cpio" ] && stage_cpios+=("$smp_cpio")
	[ "$do_smp" = 1 ] && [ -n "$boot_cpio" ] && stage_cpios+=("$boot_cpio")
	if [ "$do_kexec" = 1 ]; then
		stage_kexec=1 stage_megs=$RIG_BOCHS_KEXEC_MEGS
		stage_cpios+=("$kexec_cpio")
		stage_cmdline+=" loglevel=5"
		[ "$RIG_BOCHS_KEXEC_CRASH" != 0 ] &&
			stage_cmdline+=" crashkernel=$RIG_BOCHS_KEXEC_CRASHKERNEL"
	fi
	t_smp=$SECONDS
	run_suite_boots "${smp_plan[@]}"
	log "boot with $stage_cpus CPUs: $((SECONDS - t_smp)) s"
fi

# ---- 8. verdict ---------------------------------------------------------------
print_times
[ -n "$no_hvx_reason" ] && log "hvx phases skipped: $no_hvx_reason"
if [ "$FAIL" -gt 0 ]; then
	[ ${#boots_with_trouble[@]} -gt 0 ] || boots_with_trouble=("$boot_no")
	for b in $(printf '%s\n' "${boots_with_trouble[@]}" | sort -un); do
		bdir=$VMX_OUT/boot-$b
		boot_no=$b
		echo "===== guest dmesg (boot $b) ====="
		if [ -s "$bdir/dmesg" ]; then cat "$bdir/dmesg"
		else echo "(no dmesg dump: the boot did not finish; kernel messages seen on the console:)"; cat "$bdir/console"
		fi
		echo "===== serial tail (boot $b; full log: ${bdir#"$ROOT"/}/serial.txt) ====="
		tail -n 25 "$bdir/serial.txt"
		show_bochs_log
	done
	echo "===== failures ====="
	cat "$FAILURES"
fi
log "done in $((SECONDS - t_start)) s"
echo "vmx $PASS $FAIL $SKIP" >"$VMX_OUT/counts"	# for check-all.sh
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
