# shellcheck shell=sh
# The rig's kexec test (check.sh's kexec boot): sourced by /init
# (guest-init.sh) in RIG_MODE=kexec, so it uses /init's helpers (say,
# load_oracle, load_hvx, step_begin, dump_dmesg...). Runs under busybox sh.
#
# One TAP block, "system kexec", that spans two or three kernels on the
# same serial console: the first kernel prints BEGIN and the last one END.
#   first   kvm + hvx loaded, an hvx VM spins in guest mode on the last CPU;
#           kexec_file_load() of the rig's bzImage with a repacked initrd,
#           then reboot(KEXEC): hvx's reboot notifier must turn SVM off on
#           every CPU under the running VM.
#   kexec   the kexec'd kernel: EFER.SVME must be clear (the kexec CPU keeps
#           its EFER; the others are reset by INIT anyway), hvx and kvm_amd
#           must both run guests. With RIG_KEXEC_CRASH=1: kvm_amd unloaded
#           (its emergency callback would turn SVM off for everyone), a
#           crash kernel loaded, an hvx VM spinning again, then a panic
#           (sysrq c) on CPU 0.
#   crash   the crash (kdump) kernel: the same checks as after kexec.
# Which stage this is: /rig/kexec-stage, written into the repacked initrd
# by the kernel before ("STAGE NEXT-TAP-NUMBER CENTISECONDS-SO-FAR");
# absent in the first kernel. "@@@ KEXEC ..." markers tell the host how
# far the chain got (parse.awk ignores them).
#
# /rig/conf adds: RIG_KEXEC_CRASH (0|1), RIG_KEXEC_TEST (the selftest
# binary run on /dev/hvx and /dev/kvm by the later kernels).

KX_HELPER=/selftests/bin/kexec/kexec-helper
KX_STATE=/rig/kexec-stage
KX_KERNEL=/boot/vmlinuz
# TAP results per stage (the plan is printed once, by the first kernel).
KX_N_FIRST=3 KX_N_AFTER=4 KX_N_CRASH_LOAD=3

kx_n=1 kx_failed=0 kx_cs0=0

kx_result() {  # ok|notok|skip DESCRIPTION
	case $1 in
	ok) echo "ok $kx_n - $2" ;;
	skip) echo "ok $kx_n - $2 # SKIP" ;;
	*) echo "not ok $kx_n - $2"; kx_failed=$((kx_failed + 1)) ;;
	esac
	kx_n=$((kx_n + 1))
}

# Run CMD, show its output as TAP diagnostics, one result from its status
# (4: skipped, as for the selftests).
kx_check() {  # DESCRIPTION CMD...
	_kd=$1
	shift
	"$@" >/tmp/kx.out 2>&1
	_kr=$?
	sed 's/^/# /' /tmp/kx.out
	case $_kr in
	0) kx_result ok "$_kd" ;;
	4) kx_result skip "$_kd" ;;
	*) kx_result notok "$_kd (exit status $_kr)" ;;
	esac
	return "$_kr"
}

kx_end() {
	step_end
	echo
	say "END system kexec rc=$kx_failed cs=$((kx_cs0 + $(now_cs)))"
}

# An hvx VM whose vCPU spins in guest mode, pinned to the last CPU (so
# that with two CPUs the notifier's IPI has to take it out of the guest),
# in the background until the kernel goes away. Its output goes to the
# console as diagnostics (it says when KVM_RUN returns EINTR).
kx_spin() {
	_last=$(($(grep -c '^processor' /proc/cpuinfo) - 1))
	rm -f /tmp/kx-spin.log
	(taskset -c "$_last" $KX_HELPER spin /dev/hvx 2>&1 |
		while read -r _l; do
			echo "# spin: $_l"
			echo "$_l" >>/tmp/kx-spin.log
		done) &
	# The helper gives up after 20 s without progress.
	for _i in $(seq 60); do
		grep -q '^SPINNING' /tmp/kx-spin.log 2>/dev/null && break
		sleep 0.5
	done
	if grep -q '^SPINNING' /tmp/kx-spin.log 2>/dev/null; then
		kx_result ok "an hvx VM spins in guest mode on CPU $_last"
	else
		kx_result notok "an hvx VM spins in guest mode on CPU $_last"
	fi
}

# The initramfs of the next kernel: this one's files (the kernel unpacked
# ours into rootfs) minus the bulk it does not need, with the next stage
# in /rig/kexec-stage.
kx_pack() {  # STAGE NEXT-TAP-NUMBER OUT [boot]
	_t0=$(now_cs)
	echo "$1 $2 $((kx_cs0 + _t0))" >$KX_STATE
	(cd / && {
		# Mount points and parents: the directories alone.
		printf '%s\n' proc sys dev tmp selftests selftests/bin
		find init bin sbin lib rig hvx.ko selftests/bin/kexec \
		     "selftests/bin/$RIG_KEXEC_TEST" ${4:+boot} 2>/dev/null
	} | cpio -o -H newc 2>/dev/null) >"$3"
	echo "# initramfs for stage $1: $(($(wc -c <"$3") / 1024)) KiB, packed in $(($(now_cs) - _t0)) cs"
}

# What every later kernel checks: virtualization is free, and both
# hypervisors run guests again.
kx_after_checks() {
	load_oracle || kx_failed=$((kx_failed + 1))  # msr.ko: EFER readable
	kx_check "EFER.SVME is clear on every CPU before any VM exists" \
		$KX_HELPER svme off
	load_hvx || kx_failed=$((kx_failed + 1))
	kx_check "selftest $RIG_KEXEC_TEST runs its guests on /dev/hvx" \
		timeout -k 10 "$RIG_TEST_TIMEOUT" "/selftests/bin/$RIG_KEXEC_TEST" /dev/hvx
	kx_check "selftest $RIG_KEXEC_TEST runs its guests on /dev/kvm" \
		timeout -k 10 "$RIG_TEST_TIMEOUT" "/selftests/bin/$RIG_KEXEC_TEST" /dev/kvm
}

kx_first() {
	load_oracle
	load_hvx
	say "KEXEC stage=first"
	say "BEGIN system kexec"
	step_begin 150 system kexec
	_total=$((KX_N_FIRST + KX_N_AFTER))
	[ "$RIG_KEXEC_CRASH" = 1 ] && _total=$((_total + KX_N_CRASH_LOAD + KX_N_AFTER))
	echo "1..$_total"
	kx_spin
	kx_check "EFER.SVME is set on every CPU while the hvx VM runs" \
		$KX_HELPER svme on
	# The next kernel needs the bzImage again to load the crash kernel.
	_boot=
	[ "$RIG_KEXEC_CRASH" = 1 ] && _boot=boot
	kx_pack kexec $((kx_n + 1)) /tmp/kx-initrd $_boot
	# Same command line: it carries crashkernel= for the crash stage.
	if kx_check "kexec_file_load() of the rig kernel and a repacked initramfs" \
		$KX_HELPER load $KX_KERNEL /tmp/kx-initrd "$(cat /proc/cmdline)"; then
		# No dmesg dump (seconds of serial output under TCG): with
		# check.sh's loglevel=5 every warning, oops or error of this
		# kernel, up to its last breath, is on the console already.
		say "KEXEC exec"
		$KX_HELPER exec
		echo "# reboot(LINUX_REBOOT_CMD_KEXEC) returned"
	fi
	kx_end
}

kx_kexec() {
	say "KEXEC stage=kexec"
	kx_result ok "the kexec'd kernel runs /init ($(uname -r), $(grep -c '^processor' /proc/cpuinfo) CPUs)"
	kx_after_checks
	if [ "$RIG_KEXEC_CRASH" != 1 ]; then
		kx_end
		return
	fi
	# kvm_amd's emergency callback (run on crash) turns SVM off on every
	# CPU whoever turned it on: without it, only hvx is responsible.
	rmmod kvm_amd || echo "# rmmod kvm_amd failed"
	kx_spin
	kx_check "EFER.SVME is set on every CPU while the hvx VM runs" \
		$KX_HELPER svme on
	# The crash kernel runs in the crashkernel= reservation: no bzImage,
	# no crashkernel= of its own.
	kx_pack crash $((kx_n + 1)) /tmp/kx-initrd
	_cmd=
	# shellcheck disable=SC2013  # words, on purpose
	for _w in $(cat /proc/cmdline); do
		case $_w in crashkernel=*) ;; *) _cmd="$_cmd $_w" ;; esac
	done
	if kx_check "kexec_file_load() of a crash kernel" \
		$KX_HELPER load -p $KX_KERNEL /tmp/kx-initrd "${_cmd# }"; then
		# check.sh forgives the panic and its stack trace after this.
		say "KEXEC crash-now"
		taskset -c 0 sh -c 'echo c >/proc/sysrq-trigger'
		echo "# sysrq c returned"
	fi
	kx_end
}

kx_crash() {
	say "KEXEC stage=crash"
	kx_check "the crash kernel runs /init ($(uname -r), /proc/vmcore there)" \
		test -e /proc/vmcore
	kx_after_checks
	kx_end
}

kexec_main() {
	: "${RIG_KEXEC_CRASH:=0}" "${RIG_KEXEC_TEST:=pio}"
	_stage=first
	[ -f $KX_STATE ] && read -r _stage kx_n kx_cs0 <$KX_STATE
	case $_stage in
	first) kx_first ;;
	kexec) step_begin 150 system kexec; kx_kexec ;;
	crash) step_begin 150 system kexec; kx_crash ;;
	esac
}
