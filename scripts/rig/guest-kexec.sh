# shellcheck shell=sh
# The rig's kexec test (the kexec boot of check.sh, AMD SVM under QEMU, and
# of check-vmx.sh, Intel VMX under Bochs): sourced by /init (guest-init.sh)
# in RIG_MODE=kexec, so it uses /init's helpers (say, load_oracle,
# load_hvx, step_begin, dump_dmesg...). Runs under busybox sh.
#
# One TAP block, "system kexec", that spans two or three kernels on the
# same serial console: the first kernel prints BEGIN and the last one END.
#   first   kvm + hvx loaded, then kvm_amd / kvm_intel unloaded again: the
#           CPUs the kernel stops for a kexec run KVM's emergency callback,
#           which on Intel does VMXOFF whoever did VMXON; without it only
#           hvx is responsible. (On AMD the 6.1 kernel clears EFER.SVME
#           on those CPUs itself, and INIT resets them.) kexec_load() of
#           the rig's vmlinux and the next initramfs, an hvx VM spinning
#           in guest mode on the last CPU, then reboot(KEXEC): hvx's reboot
#           notifier must turn SVM/VMX off on every CPU under the running
#           VM.
#   kexec   the kexec'd kernel: it must have all the CPUs the first one
#           had, virtualization must be off on each, hvx and kvm_amd /
#           kvm_intel must both run guests. What can fail where:
#           AMD    the kexec CPU keeps its EFER: SVME still set shows in
#                  the check (the other CPUs are reset by INIT anyway).
#           Intel  a CPU left in VMX operation cannot clear CR4.VMXE: the
#                  kexec CPU takes a #GP when the kexec code loads CR4 (a
#                  triple fault: the kexec'd kernel never runs /init), and
#                  any other CPU ignores the INIT that would start it (SDM
#                  Vol 3 24.8: INIT is blocked in VMX root operation), so
#                  the kexec'd kernel comes up with fewer CPUs. CR4.VMXE
#                  and VMX operation are checked all the same (kexec-helper).
#           With RIG_KEXEC_CRASH=1: kvm_amd / kvm_intel unloaded again, a
#           crash kernel loaded, an hvx VM spinning again, then a panic
#           (sysrq c) on CPU 0. The crash path runs no reboot notifier,
#           only the kernel's one virtualization callback, which hvx holds
#           while it has VMX/SVM on and kvm_intel / kvm_amd is not loaded
#           (module/crash.c). Before the panic that module is loaded and
#           unloaded beside the spinning VM: hvx must hand the callback
#           over without a WARN, and take it back. On AMD the 6.1 kernel
#           clears SVME on every CPU itself as well; on Intel only the
#           callback leaves VMX: without hvx's, the crashing CPU faults as
#           above and the crash kernel never runs.
#           RIG_KEXEC_CRASH=only does this in the first kernel, with no
#           kexec stage: the Bochs rig's cheaper way to the crash path.
#   crash   the crash (kdump) kernel: the same checks as after kexec, and
#           /proc/vmcore must be there. A CPU that missed the crash NMI
#           (in guest mode: hvx must pass it on to the host) keeps running
#           the old kernel, in VMX operation on Intel, and does not come up.
# The later kernels' initramfs is made on the host (lib.sh,
# rig_kexec_payload): /rig/kexec/next.cpio, and /rig/kexec/carry.cpio with
# the kernel (boot/vmlinux) and next.cpio again, for the kexec'd kernel to
# load the crash kernel with. The first kernel loads the kernel out of
# carry.cpio. Which stage this is: /rig/kexec-stage, in a small archive
# the kernel before adds behind those ("STAGE NEXT-TAP-NUMBER
# CENTISECONDS-SO-FAR CPUS", CPUS: how many the first kernel had); absent
# in the first kernel.
# "@@@ KEXEC ..." markers tell the host how far the chain got (parse.awk
# ignores them).
#
# /rig/conf adds: RIG_KEXEC_CRASH (0|1), RIG_KEXEC_TEST (the selftest
# binary run on /dev/hvx and /dev/kvm by the later kernels),
# RIG_KEXEC_RUN_HVX / RIG_KEXEC_RUN_KVM (what runs it there, default
# /selftests/bin/$RIG_KEXEC_TEST; check-vmx.sh's wrapper that leaves out
# the cases Bochs cannot run, or empty: skipped, RIG_KEXEC_SKIP_WHY says
# why), RIG_KEXEC_NEXT_ARGS (words the later kernels' command lines add to
# this one's). The environment may add RIG_KEXEC_REQUEST: /init runs in a PID
# namespace of its own (the Bochs rig's rdinit wrapper, bochs/init), where
# reboot(2) cannot kexec; the wrapper does it once this file exists.

KX_HELPER=/selftests/bin/kexec/kexec-helper
KX_STATE=/rig/kexec-stage
KX_NEXT=/rig/kexec/next.cpio KX_CARRY=/rig/kexec/carry.cpio
# TAP results per stage (the plan is printed once, by the first kernel).
KX_N_FIRST=3 KX_N_AFTER=4 KX_N_CRASH_LOAD=4

kx_n=1 kx_failed=0 kx_cs0=0 kx_ncpus=0
if grep -q '^vendor_id.*GenuineIntel' /proc/cpuinfo; then
	KX_VIRT="CR4.VMXE (VMX operation)" KX_KVM=kvm_intel
else
	KX_VIRT=EFER.SVME KX_KVM=kvm_amd
fi

kx_result() {  # ok|notok|skip DESCRIPTION [SKIP-REASON]
	case $1 in
	ok) echo "ok $kx_n - $2" ;;
	skip) echo "ok $kx_n - $2 # SKIP${3:+ $3}" ;;
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

ncpus() { grep -c '^processor' /proc/cpuinfo; }

# Wait until the serial line has sent what the tty holds, before the
# kernel goes away: a kexec drops it, and the kernel's own console output
# (a panic) overtakes it. Under Bochs, which emulates the UART's speed,
# both happened (the "KEXEC crash-now" marker after the panic it announces).
kx_drain() {
	_prev=
	for _i in $(seq 150); do
		_cur=$(grep -o 'tx:[0-9]*' /proc/tty/driver/serial 2>/dev/null | head -n 1)
		[ -n "$_cur" ] && [ "$_cur" = "$_prev" ] && return
		_prev=$_cur
		sleep 0.2
	done
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
	_last=$(($(ncpus) - 1))
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

# See the header: kvm_amd / kvm_intel off, so that only hvx turns
# virtualization off when this kernel goes.
kx_unload_kvm() {
	[ -d /sys/module/$KX_KVM ] || return 0
	rmmod $KX_KVM || echo "# rmmod $KX_KVM failed"
}

# See the header: the vendor module comes and goes while hvx holds the
# crash callback, which hvx's debugfs shows (Y: hvx holds it). The
# kernel's single-slot check is a WARN, which the rig fails the boot on
# as well.
KX_CB=/sys/kernel/debug/hvx/crash_callback
kx_handoff() {
	_ko=$(ls /lib/modules/rig/ | grep -E "^kvm[-_]${KX_KVM#kvm_}\.ko" | head -n 1)
	_w0=$(dmesg | grep -c 'WARNING:')
	_seen=$(cat $KX_CB)
	insmod "/lib/modules/rig/$_ko" && _seen="$_seen $(cat $KX_CB)"
	rmmod $KX_KVM && _seen="$_seen $(cat $KX_CB)"
	_w1=$(dmesg | grep -c 'WARNING:')
	_what="$KX_KVM loads and unloads beside the hvx VM, which gives up the crash callback meanwhile (Y N Y), without a WARN"
	if [ "$_seen" = "Y N Y" ] && [ "$_w1" = "$_w0" ]; then
		kx_result ok "$_what"
	else
		echo "# crash_callback: $_seen; WARNs: $_w0 before, $_w1 after"
		dmesg | grep -A2 'WARNING:' | tail -n 6 | sed 's/^/# /'
		kx_result notok "$_what"
	fi
}

# The next stage's archive: /rig/kexec-stage alone (the kernel unpacks
# it last, into the /rig of next.cpio).
kx_stage() {  # STAGE NEXT-TAP-NUMBER
	rm -rf /tmp/kx-stage
	mkdir -p /tmp/kx-stage/rig
	echo "$1 $2 $((kx_cs0 + $(now_cs))) $kx_ncpus" >/tmp/kx-stage/rig/kexec-stage
	(cd /tmp/kx-stage && echo rig/kexec-stage | cpio -o -H newc 2>/dev/null) \
		>/tmp/kx-stage.cpio
}

# The kernel to load: in carry.cpio in the first kernel, unpacked in the
# kexec'd one.
kx_kernel() {
	if [ -f /boot/vmlinux ]; then echo /boot/vmlinux; else echo $KX_CARRY; fi
}

# The selftest on DEVICE through PROGRAM ("": left out, see the header).
kx_selftest() {  # DEVICE PROGRAM
	if [ -z "$2" ]; then
		kx_result skip "selftest $RIG_KEXEC_TEST runs its guests on $1" \
			"${RIG_KEXEC_SKIP_WHY:-left out}"
		return
	fi
	kx_check "selftest $RIG_KEXEC_TEST runs its guests on $1" \
		timeout -k 10 "$RIG_TEST_TIMEOUT" "$2" "$1"
}

# What every later kernel checks: virtualization is free, and both
# hypervisors run guests again.
kx_after_checks() {
	load_oracle || kx_failed=$((kx_failed + 1))  # msr.ko: MSRs readable
	kx_check "$KX_VIRT is clear on every CPU before any VM exists" \
		$KX_HELPER virt off
	load_hvx || kx_failed=$((kx_failed + 1))
	kx_selftest /dev/hvx "$RIG_KEXEC_RUN_HVX"
	kx_selftest /dev/kvm "$RIG_KEXEC_RUN_KVM"
}

# reboot(LINUX_REBOOT_CMD_KEXEC), here or by the real PID 1 (see the
# header). Returns only if it failed.
kx_exec() {
	if [ -z "${RIG_KEXEC_REQUEST:-}" ]; then
		$KX_HELPER exec
	else
		: >"$RIG_KEXEC_REQUEST"
		for _i in $(seq 120); do
			[ -e "$RIG_KEXEC_REQUEST.failed" ] && break
			sleep 1
		done
		if [ -e "$RIG_KEXEC_REQUEST.failed" ]; then
			cat "$RIG_KEXEC_REQUEST.failed"
		else
			echo "nobody acted on $RIG_KEXEC_REQUEST in 120 s"
		fi
	fi
	echo "# reboot(LINUX_REBOOT_CMD_KEXEC) returned"
}

kx_first() {
	load_oracle
	# After the steps before it in the same boot (the Bochs rig's smp
	# tests): hvx must unload cleanly, as at the end of /init, which this
	# kernel never reaches; then it loads again.
	# shellcheck disable=SC2034  # /init's (guest-init.sh)
	if [ -d /sys/module/hvx ] && unload_hvx; then hvx_state=; fi
	load_hvx
	say "KEXEC stage=first"
	say "BEGIN system kexec"
	step_begin 150 system kexec
	_total=$((KX_N_FIRST + KX_N_AFTER))
	[ "$RIG_KEXEC_CRASH" = 1 ] && _total=$((_total + KX_N_CRASH_LOAD + KX_N_AFTER))
	[ "$RIG_KEXEC_CRASH" = only ] && _total=$((KX_N_CRASH_LOAD + KX_N_AFTER))
	echo "1..$_total"
	kx_ncpus=$(ncpus)
	if [ "$RIG_KEXEC_CRASH" = only ]; then
		kx_crash_now
		return
	fi
	# The next kernel needs the kernel again to load the crash kernel.
	_initrd=$KX_NEXT
	[ "$RIG_KEXEC_CRASH" = 1 ] && _initrd=$_initrd:$KX_CARRY
	kx_stage kexec $((kx_n + KX_N_FIRST))
	# Same command line: it carries crashkernel= for the crash stage.
	# Loaded before the VM spins: an emulator that runs the spinning
	# guest on the other CPU meanwhile copies the images at half speed.
	kx_check "kexec_load() of the rig's vmlinux and the next initramfs" \
		$KX_HELPER load "$(kx_kernel)" "$_initrd:/tmp/kx-stage.cpio" \
		"$(cat /proc/cmdline)${RIG_KEXEC_NEXT_ARGS:+ $RIG_KEXEC_NEXT_ARGS}"
	_loaded=$?
	kx_unload_kvm
	kx_spin
	kx_check "$KX_VIRT is set on every CPU while the hvx VM runs" \
		$KX_HELPER virt on
	if [ "$_loaded" = 0 ]; then
		# No dmesg dump (seconds of serial output under TCG): with
		# loglevel=5 every warning, oops or error of this kernel, up
		# to its last breath, is on the console already.
		say "KEXEC exec"
		kx_drain
		kx_exec
	fi
	kx_end
}

# The first check of a later kernel: it runs /init (this), with every
# CPU the first kernel had, and CMD succeeds.
kx_came_up() {  # DESCRIPTION CMD...
	_what="$1 with all $kx_ncpus CPUs"
	shift
	"$@"
	_rc=$?
	_n=$(ncpus)
	if [ "$_n" -ge "$kx_ncpus" ] && [ "$_rc" = 0 ]; then
		kx_result ok "$_what"
		return
	fi
	dmesg | grep -iE 'smpboot|CPU[0-9]* .*(failed|stuck|not responding)' | sed 's/^/# /'
	kx_result notok "$_what: $_n came up; $* exit status $_rc"
}

kx_kexec() {
	say "KEXEC stage=kexec"
	kx_came_up "the kexec'd kernel runs /init ($(uname -r))" true
	kx_after_checks
	if [ "$RIG_KEXEC_CRASH" != 1 ]; then
		kx_end
		return
	fi
	kx_crash_now
}

# Load a crash kernel, spin an hvx VM, hand the crash callback to the
# vendor module and back, and panic (see the header).
kx_crash_now() {
	# The crash kernel runs in the crashkernel= reservation: no vmlinux
	# in its initramfs, no crashkernel= of its own (the helper adds
	# elfcorehdr=). Loaded first, as above.
	kx_stage crash $((kx_n + KX_N_CRASH_LOAD))
	_cmd=
	# shellcheck disable=SC2013  # words, on purpose
	for _w in $(cat /proc/cmdline) ${RIG_KEXEC_NEXT_ARGS:-}; do
		case " $_cmd " in *" $_w "*) continue ;; esac
		case $_w in crashkernel=*) ;; *) _cmd="$_cmd $_w" ;; esac
	done
	kx_check "kexec_load() of a crash kernel" \
		$KX_HELPER load -p "$(kx_kernel)" "$KX_NEXT:/tmp/kx-stage.cpio" "${_cmd# }"
	_loaded=$?
	# The emergency callback runs on a crash too.
	kx_unload_kvm
	kx_spin
	kx_check "$KX_VIRT is set on every CPU while the hvx VM runs" \
		$KX_HELPER virt on
	kx_handoff
	if [ "$_loaded" = 0 ]; then
		# The rigs forgive the panic and its stack trace after this.
		say "KEXEC crash-now"
		kx_drain
		taskset -c 0 sh -c 'echo c >/proc/sysrq-trigger'
		echo "# sysrq c returned"
	fi
	kx_end
}

kx_crash() {
	say "KEXEC stage=crash"
	kx_came_up "the crash kernel runs /init ($(uname -r), /proc/vmcore there)" \
		test -e /proc/vmcore
	kx_after_checks
	kx_end
}

kexec_main() {
	: "${RIG_KEXEC_CRASH:=0}" "${RIG_KEXEC_TEST:=pio}"
	: "${RIG_KEXEC_RUN_HVX=/selftests/bin/$RIG_KEXEC_TEST}"
	: "${RIG_KEXEC_RUN_KVM=/selftests/bin/$RIG_KEXEC_TEST}"
	_stage=first
	[ -f $KX_STATE ] && read -r _stage kx_n kx_cs0 kx_ncpus <$KX_STATE
	case $_stage in
	first) kx_first ;;
	kexec) step_begin 150 system kexec; kx_kexec ;;
	crash) step_begin 150 system kexec; kx_crash ;;
	esac
}
