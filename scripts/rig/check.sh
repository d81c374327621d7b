#!/bin/bash
# make check / make bench: build hvx, run the host-side unit tests, then boot
# an emulated AMD machine (QEMU TCG, SVM + NPT) whose kernel runs every
# selftest binary against the reference /dev/kvm and then against /dev/hvx;
# then a second, short boot with two CPUs runs selftests/bin/smp/* the same
# way (the paths that need two host CPUs), and a third one kexecs the
# machine under a running hvx VM (with RIG_KEXEC_CRASH=1 it then crashes
# it into a kdump kernel too; scripts/rig/guest-kexec.sh).
# Ends with the line "N passed, N failed, N skipped"; exits 0 iff nothing
# failed and the guest's kernel log is clean.
#
# The host has no usable virtualization and cannot load modules, so hvx is
# only ever loaded inside the emulated machine. See shared/rig-notes.md for
# the measurements behind the QEMU settings.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
Usage: scripts/rig/check.sh [OPTION]...

Modes (default: the full suite, what make check runs):
  --bench             run /hvx-bench in the guest (kvm-amd and hvx loaded)
  --shell-cmd 'CMD'   run CMD with sh in the guest after the modules load,
                      print its output, exit with its status
  --run-linux         boot a Linux guest under hvx with userspace/hvx-run:
                      its console, a command at its shell, poweroff (make demo)

Suite options:
  --only NAME[,NAME]  run only these selftest binaries (basenames, also
                      binaries in selftests/bin/system/ and, in the boot
                      with two CPUs, selftests/bin/smp/); "kexec" is the
                      kexec boot
  --dev kvm|hvx|system  run only this phase (the modules of earlier phases
                      are still loaded, as in a full run; kvm and hvx also
                      select the device in the boot with two CPUs)
  --no-unit           skip the host-side unit tests (implied by --only/--dev)
  --no-smp-boot       leave out the second boot (selftests/bin/smp/ with
                      RIG_SMP2_CPUS=$RIG_SMP2_CPUS CPUs)
  --no-kexec-boot     leave out the kexec boot (system/kexec)

Common options:
  --no-build          use the existing hvx.ko and binaries, do not run make
  --smp N             guest CPUs of the main boot (default $RIG_SMP; >1
                      switches QEMU to multi-threaded TCG, which can freeze
                      in long runs)
  -v, --verbose       show the guest's serial console live
  -h, --help          this text

Environment: HVX_RIG_ALLOW_NO_MODULE=1 lets the suite run without hvx.ko
(a failed module build is then a warning and the hvx phases are skipped).
Tunables (timeouts, QEMU settings): scripts/rig/config.sh.
Artifacts (serial logs, dmesg, build logs): build/rig/.
EOF
}

mode=suite only='' dev='' shell_cmd='' verbose=0 do_build=1 do_unit=1 do_smp=1
extra_cpio=${RIG_EXTRA_CPIO:-}  # appended to every boot's initramfs (poking)
do_kexec=$RIG_KEXEC
while [ $# -gt 0 ]; do
	case $1 in
	--bench) mode=bench ;;
	--run-linux) mode=run-linux ;;
	--shell-cmd) mode=shell; shell_cmd=${2?--shell-cmd needs a command}; shift ;;
	--only) only=${2?--only needs a list}; shift ;;
	--only=*) only=${1#*=} ;;
	--dev) dev=${2?--dev needs kvm, hvx or system}; shift ;;
	--dev=*) dev=${1#*=} ;;
	--smp) RIG_SMP=${2?--smp needs a number}; shift ;;
	--no-build) do_build=0 ;;
	--no-unit) do_unit=0 ;;
	--no-smp-boot) do_smp=0 ;;
	--no-kexec-boot) do_kexec=0 ;;
	-v|--verbose) verbose=1 ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case $dev in ''|kvm|hvx|system) ;; *) die "--dev must be kvm, hvx or system" ;; esac
[ -n "$only$dev" ] && do_unit=0
[ "$RIG_SMP2_CPUS" -gt 1 ] || do_smp=0
export RIG_SMP

if [ "$mode" = run-linux ]; then
	# selftests/smp/boot_linux's --demo harness, in a shell-mode boot
	# with one CPU, as the suite runs boot_linux here (RIG_MAIN_SMP_BINS).
	mode=shell verbose=0 do_unit=0
	shell_cmd="/selftests/bin/smp/boot_linux --demo /dev/hvx 2 bzimage"
fi

mkdir -p "$RIG_OUT"
# Several engineers share this tree: one rig run (and module build) at a time.
exec 9>"$RIG_OUT/.lock"
if ! flock -n 9; then
	log "another rig run holds $RIG_OUT/.lock; waiting"
	flock 9
fi
t_start=$SECONDS

# ---- results ---------------------------------------------------------------
PASS=0 FAIL=0 SKIP=0
# Every counted "not ok" line also goes here, for the recap at the end.
FAILURES=$RIG_OUT/failures
: >"$FAILURES"
fail() {  # NAME TEXT: one failure that is not a TAP result of a binary
	FAIL=$((FAIL + 1))
	echo "not ok $1: $2" | tee -a "$FAILURES"
}
# Run parse.awk over FILE with the output of the current boot/unit run.
parse() {  # FILE RESULTS-FILE AWK-VARS...
	local in=$1 out=$2
	shift 2
	awk "$@" -v timeout="${stage_test_timeout:-$RIG_TEST_TIMEOUT}" \
		-f "$RIG_SRC/parse.awk" "$in" |
		tee "$out"
	grep '^not ok' "$out" >>"$FAILURES" || true
}

# ---- 1. packages and the guest kernel --------------------------------------
"$RIG_SRC/deps.sh"

# ---- 2. build --------------------------------------------------------------
rig_build "$RIG_OUT" "$do_build"
bench_bin=
[ -x "$ROOT/userspace/hvx-bench" ] && bench_bin=$ROOT/userspace/hvx-bench

# ---- 3. host-side unit tests -----------------------------------------------
accumulate() {  # SUMMARY-FILE: add its COUNT line to the totals
	local p f s
	read -r p f s < <(awk '$1 == "COUNT" { print $2, $3, $4 }' "$1")
	PASS=$((PASS + p)) FAIL=$((FAIL + f)) SKIP=$((SKIP + s))
}
unit_p0=$PASS unit_f0=$FAIL unit_s0=$SKIP
if [ "$mode" = suite ] && [ "$do_unit" = 1 ]; then
	if [ -f "$ROOT/selftests/unit/Makefile" ]; then
		log "unit tests: make -C selftests/unit run"
		ulog=$RIG_OUT/unit.log
		urc=0
		make -C "$ROOT/selftests/unit" run >"$ulog" 2>&1 </dev/null || urc=$?
		parse "$ulog" "$RIG_OUT/unit.results" -v unit=unit \
		      -v unit_rc="$urc" -v summary="$RIG_OUT/unit.sum"
		accumulate "$RIG_OUT/unit.sum"
	else
		log "unit tests: selftests/unit/Makefile does not exist yet; skipping"
	fi
fi

unit_p=$((PASS - unit_p0)) unit_f=$((FAIL - unit_f0)) unit_s=$((SKIP - unit_s0))

# ---- 4. what runs in the guest ---------------------------------------------
# Executables only, sorted the same way in every run.
list_bins() {
	local f
	[ -d "$1" ] || return 0
	for f in "$1"/*; do
		[ -f "$f" ] && [ -x "$f" ] && echo "${f##*/}"
	done | LC_ALL=C sort
}
mapfile -t bins < <(list_bins "$ROOT/selftests/bin")
mapfile -t sysbins < <(list_bins "$ROOT/selftests/bin/system")
mapfile -t allsmpbins < <(list_bins "$ROOT/selftests/bin/smp")
smpbins=("${allsmpbins[@]}")
if [ -n "$only" ]; then
	declare -A wanted=()
	for n in ${only//,/ }; do wanted[$n]=1; done
	# "kexec" names the kexec boot, not a binary.
	if [ -n "${wanted[kexec]:-}" ]; then unset 'wanted[kexec]'; else do_kexec=0; fi
	filter() { local b; for b in "$@"; do [ -n "${wanted[$b]:-}" ] && echo "$b"; done; true; }
	mapfile -t bins < <(filter "${bins[@]}")
	mapfile -t sysbins < <(filter "${sysbins[@]}")
	mapfile -t smpbins < <(filter "${smpbins[@]}")
	for n in "${!wanted[@]}"; do
		printf '%s\n' "${bins[@]}" "${sysbins[@]}" "${smpbins[@]}" | grep -qxF "$n" ||
			die "--only: no selftest binary named '$n' in selftests/bin"
	done
fi

plan=()   # lines "PHASE DEVICE GUEST-PATH"
# RIG_MAIN_SMP_BINS (config.sh): smp binaries this rig runs in the main
# boot, in the kvm and hvx phases, rather than in the boot with two CPUs.
mainsmp=() rest=()
for b in "${smpbins[@]}"; do
	if [[ " $RIG_MAIN_SMP_BINS " == *" $b "* ]]; then mainsmp+=("$b"); else rest+=("$b"); fi
done
smpbins=("${rest[@]}")
# RIG_SMP2_SKIP (config.sh): smp binaries this rig leaves out, on both
# devices, each reported as skipped with RIG_SMP2_SKIP_WHY.
smpskip=() rest=()
for b in "${smpbins[@]}"; do
	if [[ " $RIG_SMP2_SKIP " == *" $b "* ]]; then smpskip+=("$b"); else rest+=("$b"); fi
done
smpbins=("${rest[@]}")
if [ "$mode" = suite ]; then
	[ ${#bins[@]} -gt 0 ] || [ ${#sysbins[@]} -gt 0 ] || [ ${#smpbins[@]} -gt 0 ] ||
	[ ${#mainsmp[@]} -gt 0 ] ||
		log "no selftest binaries in selftests/bin: booting only to check module load/unload and dmesg"
	if [ -z "$dev" ] || [ "$dev" = kvm ]; then
		for b in "${bins[@]}"; do plan+=("kvm /dev/kvm /selftests/bin/$b"); done
		for b in "${mainsmp[@]}"; do plan+=("kvm /dev/kvm /selftests/bin/smp/$b"); done
	fi
	if [ -z "$hvx_ko" ]; then
		[ "$dev" = kvm ] || log "no hvx.ko: skipping the hvx and system phases"
	else
		if [ -z "$dev" ] || [ "$dev" = hvx ]; then
			for b in "${bins[@]}"; do plan+=("hvx /dev/hvx /selftests/bin/$b"); done
			for b in "${mainsmp[@]}"; do plan+=("hvx /dev/hvx /selftests/bin/smp/$b"); done
		fi
		if [ -z "$dev" ] || [ "$dev" = system ]; then
			for b in "${sysbins[@]}"; do plan+=("system - /selftests/bin/system/$b"); done
		fi
	fi
fi
# The boot with two CPUs: selftests/bin/smp/* on KVM, then on hvx.
smp_plan=()
if [ "$mode" = suite ] && [ "$do_smp" = 1 ]; then
	if [ -z "$dev" ] || [ "$dev" = kvm ]; then
		for b in "${smpbins[@]}"; do smp_plan+=("smp-kvm /dev/kvm /selftests/bin/smp/$b"); done
	fi
	if [ -n "$hvx_ko" ] && { [ -z "$dev" ] || [ "$dev" = hvx ]; }; then
		for b in "${smpbins[@]}"; do smp_plan+=("smp-hvx /dev/hvx /selftests/bin/smp/$b"); done
	fi
	phases=()
	{ [ -z "$dev" ] || [ "$dev" = kvm ]; } && phases+=(smp-kvm)
	[ -n "$hvx_ko" ] && { [ -z "$dev" ] || [ "$dev" = hvx ]; } && phases+=(smp-hvx)
	for b in "${smpskip[@]}"; do
		for ph in "${phases[@]}"; do
			SKIP=$((SKIP + 1))
			echo "ok $ph/$b: # SKIP $RIG_SMP2_SKIP_WHY (RIG_SMP2_SKIP in scripts/rig/config.sh)"
		done
	done
fi
# The kexec boot: hvx's, in the system phase.
if [ "$mode" != suite ] || [ -z "$hvx_ko" ] ||
   { [ -n "$dev" ] && [ "$dev" != system ]; }; then
	do_kexec=0
fi
# --only/--dev naming nothing but binaries of the other boots: no main boot.
main_boot=1
[ -n "$only$dev" ] && [ ${#plan[@]} -eq 0 ] &&
	{ [ ${#smp_plan[@]} -gt 0 ] || [ "$do_kexec" = 1 ]; } && main_boot=0

# ---- 5. the base initramfs -------------------------------------------------
log "initramfs"
"$RIG_SRC/initramfs.sh" "$RIG_OUT/base.cpio" "$hvx_ko" "$bench_bin"
rm -rf "$RIG_OUT"/boot-*
# selftests/bin/smp/* go into a cpio of their own, appended to the base
# one in the boot with two CPUs (and in --shell-cmd boots, for poking).
rig_smp_cpio "$RIG_OUT"
# hvx-run and the guest it boots (selftests/smp/boot_linux, make demo).
rig_boot_cpio "$RIG_OUT"
# The kexec boot's additions (lib.sh).
kexec_cpio=
if [ "$do_kexec" = 1 ]; then
	rig_kexec_cpio "$RIG_OUT" "$hvx_ko" "$RIG_OUT/base.cpio"
	[ -n "$kexec_cpio" ] || do_kexec=0
fi

# Per-boot settings: the main boot (RIG_SMP CPUs, every binary but the
# smp ones) or the boot with two CPUs (selftests/bin/smp/ only).
use_stage() {
	case $1 in
	main)
		stage_label='' stage_smp=$RIG_SMP stage_cpio='' stage_cmdline=''
		stage_boot=0
		# RIG_MAIN_SMP_BINS: their binaries, and boot_linux's guest.
		if [ ${#mainsmp[@]} -gt 0 ]; then stage_cpio=$smp_cpio stage_boot=1; fi
		stage_test_timeout=$RIG_TEST_TIMEOUT
		stage_silence=$RIG_SILENCE_TIMEOUT
		stage_boot_timeout=$RIG_BOOT_TIMEOUT
		stage_max_boots=$RIG_MAX_BOOTS
		# Poking, and make bench's boot times: smp/boot_linux, its guest.
		if [ "$mode" = shell ] || [ "$mode" = bench ]; then
			stage_cpio=$smp_cpio stage_boot=1
		fi
		;;
	smp)
		stage_label=" ($RIG_SMP2_CPUS CPUs)" stage_smp=$RIG_SMP2_CPUS stage_boot=0
		# idle=nomwait: an idle emulated CPU in MWAIT missed the wakeups
		# of vCPU threads bouncing IPIs (an IPI ring of vCPUs stalled for
		# minutes, under KVM as under hvx); HLT idle does not.
		stage_cpio=$smp_cpio stage_cmdline=idle=nomwait
		stage_test_timeout=$RIG_SMP2_TEST_TIMEOUT
		stage_silence=$RIG_SMP2_SILENCE_TIMEOUT
		stage_boot_timeout=$RIG_SMP2_BOOT_TIMEOUT
		stage_max_boots=$RIG_SMP2_MAX_BOOTS
		;;
	kexec)
		stage_label=" (kexec, $RIG_KEXEC_CPUS CPUs)" stage_smp=$RIG_KEXEC_CPUS stage_boot=0
		stage_cpio=$kexec_cpio
		stage_test_timeout=$RIG_SMP2_TEST_TIMEOUT
		stage_silence=$RIG_KEXEC_SILENCE_TIMEOUT
		stage_boot_timeout=$RIG_KEXEC_BOOT_TIMEOUT
		stage_max_boots=2
		# loglevel=5 (after the rig's quiet): WARNINGs of the kernel
		# going away reach the console, the only log that outlives it.
		stage_cmdline=loglevel=5
		if [ "$RIG_KEXEC_CRASH" != 0 ]; then
			stage_cmdline="$stage_cmdline crashkernel=$RIG_KEXEC_CRASHKERNEL"
		fi
		;;
	esac
}
use_stage main

# The kernel's log must stay clean: these mean a kernel bug or a leak.
DMESG_BAD='Oops|WARNING:|BUG:|general protection fault|lockdep|possible circular locking|INFO: task .* blocked|hvx: .*leaked|Kernel panic|Call Trace'
# ...except these lines, which every boot of the rig prints:
# - the EPYC model has SRSO but QEMU offers no microcode fix for it.
DMESG_BENIGN='Speculative Return Stack Overflow: WARNING: See '

# Boot once with the given per-boot settings. Sets: bdir (artifacts of this
# boot: serial.log, serial.txt, summary, dmesg, console) and end_reason.
boot_no=0
boot_guest() {  # MODE PLAN-LINE...
	local bmode=$1
	shift
	boot_no=$((boot_no + 1))
	bdir=$RIG_OUT/boot-$boot_no
	mkdir -p "$bdir/cpio/rig"
	{
		echo "RIG_MODE=$bmode"
		echo "RIG_TEST_TIMEOUT=$stage_test_timeout"
		echo "RIG_BENCH_TIMEOUT=$RIG_BENCH_TIMEOUT"
		echo "RIG_BOOT_BENCH_TIMEOUT=$RIG_BOOT_BENCH_TIMEOUT"
		echo "HVX_BENCH_KERNELS='$RIG_BENCH_KERNELS'"
		echo "RIG_KEXEC_CRASH=$RIG_KEXEC_CRASH"
		echo "RIG_KEXEC_TEST=$RIG_KEXEC_TEST"
		echo "HVX_BOOT_APPEND='$RIG_BOOT_APPEND'"
		echo "HVX_BOOT_KERNELS='$RIG_BOOT_KERNELS'"
	} >"$bdir/cpio/rig/conf"
	if [ $# -gt 0 ]; then printf '%s\n' "$@"; fi >"$bdir/cpio/rig/plan"
	printf '%s\n' "$shell_cmd" >"$bdir/cpio/rig/shell-cmd"
	(cd "$bdir/cpio" && find . | cpio -o -H newc -R 0:0 --quiet) >"$bdir/conf.cpio"
	local parts=("$RIG_OUT/base.cpio")
	[ -n "$stage_cpio" ] && parts+=("$stage_cpio")
	[ "$stage_boot" = 1 ] && [ -n "$boot_cpio" ] && parts+=("$boot_cpio")
	[ -n "$extra_cpio" ] && parts+=("$extra_cpio")
	parts+=("$bdir/conf.cpio")
	# The kexec boot: the later kernels' initramfs, made with this conf.
	[ "$bmode" = kexec ] && parts+=("$(rig_kexec_payload "$RIG_OUT" "$bdir" "$bdir/conf.cpio")")
	cat "${parts[@]}" >"$bdir/initrd"

	log "boot $boot_no$stage_label: $# step(s) planned"
	local v=()
	[ "$verbose" = 1 ] && v=(-v)
	RIG_SMP=$stage_smp RIG_SILENCE_TIMEOUT=$stage_silence \
	RIG_BOOT_TIMEOUT=$stage_boot_timeout \
	RIG_KERNEL_EXTRA="${RIG_KERNEL_EXTRA:+$RIG_KERNEL_EXTRA }$stage_cmdline" \
		"$RIG_SRC/boot.sh" "${v[@]}" "$bdir/initrd" "$bdir/serial.log"
	rm -f "$bdir/initrd"
	read -r end_reason end_secs <"$bdir/serial.log.end"
	log "boot $boot_no: ended ($end_reason) after ${end_secs} s"
	# Strip \r; put every marker at the start of its own line.
	# Drop SeaBIOS' terminal escapes too.
	tr -d '\r' <"$bdir/serial.log" |
		sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' \
		    -e 's/\(.\)@@@ /\1\n@@@ /g' >"$bdir/serial.txt"
	: >"$bdir/dmesg"
	: >"$bdir/console"
}

# Kernel-log problems of the current boot count as one failure.
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

describe_end() {
	case $1 in
	silence) echo "the guest went silent for $stage_silence s (frozen)" ;;
	timeout) echo "the boot hit the $stage_boot_timeout s limit" ;;
	lockup)  echo "the guest kernel reported a soft lockup / RCU stall" ;;
	exit)    echo "the guest died (panic or reset)" ;;
	esac
}

# After a wedge: where each CPU was, from the two register dumps boot.sh
# took before it killed QEMU (the whole dumps stay in serial.log.cpus).
cpu_snapshot() {
	[ -s "$bdir/serial.log.cpus" ] || return 0
	echo "    | CPU state before the kill ($bdir/serial.log.cpus):"
	awk '/^=== / { n = $(NF - 1) } /^CPU#/ { cpu = $1 }
	     /^RIP=/ { rip = $1; rfl = $2; hlt = $NF }
	     /^CR0=/ { printf "    | %s %s %s %s %s %s\n", n, cpu, rip, rfl, hlt, $3 }' \
		"$bdir/serial.log.cpus"
}

# Print a block of the serial log between BEGIN and END markers (bench and
# shell modes: free-form output, no TAP).
print_step_output() {
	# (/init adds a newline before END in case the output lacked one.)
	awk '/^@@@ BEGIN / { on = 1; blank = 0; next }
	     /^@@@ END / { on = 0; next }
	     on && /^@@@ ALIVE/ { next }
	     on && $0 == "" { blank++; next }
	     on { while (blank) { print ""; blank-- } print }' "$bdir/serial.txt"
}

# ---- 6. boot and run -------------------------------------------------------
if [ "$mode" = bench ] || [ "$mode" = shell ]; then
	[ "$mode" = bench ] && [ -z "$bench_bin" ] &&
		die "userspace/hvx-bench does not exist (make userspace)"
	boot_guest "$mode"
	parse "$bdir/serial.txt" "$bdir/results" -v summary="$bdir/summary" \
	      -v dmesgf="$bdir/dmesg" -v consolef="$bdir/console" >/dev/null
	print_step_output
	# The first failed step's rc (a bench runs two), else 0.
	step_rc=$(awk '/^@@@ END / { sub(/^rc=/, "", $5); if (rc == "" || rc == 0) rc = $5 }
		       END { print rc }' "$bdir/serial.txt")
	ok=1
	grep -q '^FINISHED' "$bdir/summary" ||
		{ ok=0; echo "rig: the boot did not complete: $(describe_end "$end_reason")"; }
	# insmod/rmmod failures (bench output itself is not TAP)
	grep '^not ok rig:' "$bdir/results" && ok=0
	fail_before=$FAIL
	check_dmesg
	[ "$FAIL" = "$fail_before" ] || ok=0
	# Poking with --shell-cmd works without hvx.ko; a bench without it
	# (or without any part) is no bench.
	[ "$mode" = bench ] && [ "$fail_before" != 0 ] && ok=0
	if [ "$ok" = 0 ] || [ -z "$step_rc" ]; then
		echo "===== guest dmesg ====="; cat "$bdir/dmesg"
		echo "===== serial tail ====="; tail -n 40 "$bdir/serial.txt"
		exit 1
	fi
	log "$mode: rc=$step_rc, $((SECONDS - t_start)) s in all"
	exit "$step_rc"
fi

# Suite: boot until every planned step ran. A boot that wedges on a binary
# counts that as a failure, reruns that binary once at the start of the next
# boot (to tell an emulator freeze from a real hang; the rerun is reported,
# not counted) and goes on with the steps after it. At least one boot (it
# checks module load/unload and dmesg even with no step), at most
# stage_max_boots, with the settings use_stage chose.
boots_with_trouble=()
run_suite_boots() {  # PLAN-LINE...
	local pending=("$@") rerun_step='' first=$boot_no
	local steps left s k ph bin what open_key open_step why stuck

	while [ "$boot_no" = "$first" ] || [ ${#pending[@]} -gt 0 ] || [ -n "$rerun_step" ]; do
		if [ $((boot_no - first)) -ge "$stage_max_boots" ]; then
			fail rig "gave up after $((boot_no - first)) boots$stage_label; ${#pending[@]} step(s) not run"
			break
		fi
		steps=()
		[ -n "$rerun_step" ] && steps+=("$rerun_step rerun")
		steps+=("${pending[@]}")
		boot_guest suite "${steps[@]}"
		fail_before=$FAIL
		parse "$bdir/serial.txt" "$bdir/results" -v summary="$bdir/summary" \
		      -v dmesgf="$bdir/dmesg" -v consolef="$bdir/console"
		accumulate "$bdir/summary"

		# What the rerun (if any) tells.
		if [ -n "$rerun_step" ]; then
			read -r ph _ bin <<<"$rerun_step"
			k="$ph/${bin##*/}"
			if grep -qx "RERUN $k ok" "$bdir/summary"; then
				log "$k passed when rerun in a fresh boot: the earlier wedge looks like an emulator freeze, not a bug"
			elif grep -qx "RERUN $k failed" "$bdir/summary"; then
				log "$k finished with failures when rerun in a fresh boot (see above)"
			else
				log "$k wedged again when rerun in a fresh boot: reproducible, not an emulator freeze"
			fi
			rerun_step=
		fi

		# Which steps are done, and where it stopped if it did not finish.
		declare -A seen=()
		while read -r what k _; do
			case $what in DONE|OPEN|STUCK|NOTRUN) seen[$k]=1 ;; esac
		done <"$bdir/summary"
		open_key=$(awk '$1 == "OPEN" && $3 != "rerun" { print $2 }' "$bdir/summary")
		left=()
		for s in "${pending[@]}"; do
			read -r ph _ bin <<<"$s"
			k="$ph/${bin##*/}"
			if [ "$k" = "$open_key" ]; then
				open_step=$s
			elif [ -z "${seen[$k]:-}" ]; then
				left+=("$s")
			fi
		done
		unset seen

		if ! grep -q '^FINISHED' "$bdir/summary"; then
			why=$(describe_end "$end_reason")
			grep -q '^STARTED' "$bdir/summary" || why="$why before /init ran"
			if [ -n "$open_key" ]; then
				if grep -qx "STUCK $open_key" "$bdir/summary"; then
					fail "$open_key" "wedged: it outlived its timeout and could not be killed; the guest was alive (blocked tasks in dmesg below): a real hang"
				else
					fail "$open_key" "wedged: $why"
					cpu_snapshot
					rerun_step=$open_step
				fi
			elif grep -q '^OPEN .* rerun$' "$bdir/summary"; then
				: # the rerun wedged again: reported above, counted before
			elif [ ${#left[@]} -eq ${#pending[@]} ]; then
				fail rig "boot $boot_no: $why, before any test ran; giving up"
				left=()
			else
				stuck=$(awk '$1 == "STUCK" { print $2 }' "$bdir/summary")
				fail rig "boot $boot_no: $why, outside a test${stuck:+ (stuck in $stuck)}"
			fi
		elif [ ${#left[@]} -gt 0 ]; then
			fail rig "boot $boot_no finished but ${#left[@]} step(s) never ran"
			left=()
		fi
		pending=("${left[@]}")
		check_dmesg
		[ "$FAIL" -gt "$fail_before" ] && boots_with_trouble+=("$boot_no")
	done
	return 0
}

if [ "$main_boot" = 1 ]; then
	run_suite_boots "${plan[@]}"
fi
if [ ${#smp_plan[@]} -gt 0 ]; then
	use_stage smp
	t_smp=$SECONDS
	run_suite_boots "${smp_plan[@]}"
	log "boot with $RIG_SMP2_CPUS CPUs: $((SECONDS - t_smp)) s"
fi

# The kexec boot: one TAP block, system/kexec, printed by two or three
# kernels in a row (scripts/rig/guest-kexec.sh). A boot that does not get
# to the end counts as a failure, with the last stage the guest reached;
# a wedge (silence, timeout, lockup) is rerun once in a fresh boot, like a
# wedged binary, to tell an emulator freeze from a real hang.
run_kexec_boot() {
	local k=system/kexec first=$boot_no reached rerun=0
	while :; do
		boot_guest kexec
		fail_before=$FAIL
		# The crash stage's panic is on purpose: rig_kexec_console drops
		# its own lines. (A rerun is reported, not counted: keep its
		# lines out of the recap.)
		[ "$rerun" = 1 ] && cp "$FAILURES" "$FAILURES.keep"
		parse "$bdir/serial.txt" "$bdir/results" -v summary="$bdir/summary" \
		      -v dmesgf="$bdir/dmesg" -v consolef="$bdir/console.raw" |
			if [ "$rerun" = 1 ]; then sed 's/^/rerun: /'; else cat; fi
		[ "$rerun" = 1 ] && mv "$FAILURES.keep" "$FAILURES"
		rig_kexec_console "$bdir/serial.txt" >"$bdir/console"
		reached=$(rig_kexec_reached "$bdir/serial.txt")
		log "kexec boot: last stage reached: ${reached:-none}"
		[ "$rerun" = 1 ] || accumulate "$bdir/summary"
		if [ "$rerun" = 1 ]; then
			if grep -q '^FINISHED' "$bdir/summary"; then
				log "$k passed its rerun in a fresh boot: the earlier wedge looks like an emulator freeze"
			else
				log "$k failed again in a fresh boot ($(describe_end "$end_reason")): reproducible"
			fi
			check_dmesg
			break
		fi
		if ! grep -q '^FINISHED' "$bdir/summary"; then
			fail "$k" "$(rig_kexec_why "$reached" "$(describe_end "$end_reason")")"
		elif ! grep -qx "DONE $k" "$bdir/summary"; then
			fail "$k" "the boot finished without the test"
		fi
		check_dmesg
		[ "$FAIL" -gt "$fail_before" ] && boots_with_trouble+=("$boot_no")
		case $end_reason in
		silence|timeout|lockup)
			[ $((boot_no - first)) -lt "$stage_max_boots" ] && rerun=1 && continue ;;
		esac
		break
	done
}
if [ "$do_kexec" = 1 ]; then
	use_stage kexec
	t_kexec=$SECONDS
	run_kexec_boot
	log "kexec boot: $((SECONDS - t_kexec)) s"
fi

# ---- 7. verdict ------------------------------------------------------------
if [ "$FAIL" -gt 0 ]; then
	# The boots where something went wrong; else (unit tests or the build
	# failed) the last boot, to show the guest's kernel log all the same.
	[ ${#boots_with_trouble[@]} -gt 0 ] || boots_with_trouble=("$boot_no")
	for b in $(printf '%s\n' "${boots_with_trouble[@]}" | sort -un); do
		bdir=$RIG_OUT/boot-$b
		echo "===== guest dmesg (boot $b) ====="
		if [ -s "$bdir/dmesg" ]; then cat "$bdir/dmesg"
		else echo "(no dmesg dump: the boot did not finish; kernel messages seen on the console:)"; cat "$bdir/console"
		fi
		echo "===== serial tail (boot $b; full log: ${bdir#"$ROOT"/}/serial.txt) ====="
		tail -n 25 "$bdir/serial.txt"
	done
	echo "===== failures ====="
	cat "$FAILURES"
fi
log "done in $((SECONDS - t_start)) s"
# For check-all.sh's per-backend lines: host unit tests apart, the rest
# (build, both boots) is the SVM rig's.
{
	echo "unit $unit_p $unit_f $unit_s"
	echo "svm $((PASS - unit_p)) $((FAIL - unit_f)) $((SKIP - unit_s))"
} >"$RIG_OUT/counts"
echo "$PASS passed, $FAIL failed, $SKIP skipped"
[ "$FAIL" = 0 ]
