#!/bin/sh
# shellcheck shell=sh
# /init (PID 1) of the rig's emulated machine. Runs under busybox sh.
#
# It loads the reference hypervisor (KVM) and hvx, runs the steps listed in
# /rig/plan, and prints everything the host needs between "@@@ " markers on
# the serial console. The host (check.sh / parse.awk) only trusts markers,
# so every marker starts its own line.
#
# /rig/modules.conf (from initramfs.sh) sets:
#   RIG_ORACLE_MODS   module files in /lib/modules/rig, in load order
# /rig/conf (sourced, per boot) sets:
#   RIG_MODE          suite | bench | shell | kexec
#   RIG_TEST_TIMEOUT  seconds per selftest binary
#   RIG_BENCH_TIMEOUT seconds for /hvx-bench
#   RIG_BENCH_HVX_PARAMS  (bench mode, optional) hvx.ko parameters for a
#                     second /hvx-bench pass with hvx reloaded (empty: none)
#   RIG_BOOT_BENCH_TIMEOUT  (bench mode) seconds for the boot-time bench
#                     (selftests/bin/smp/boot_linux --bench), if its files
#                     are there
# /rig/plan (suite mode), one step per line:  PHASE DEVICE BINARY [rerun]
#   PHASE kvm|hvx|system, or smp-kvm|smp-hvx in the boot with two CPUs
#   ("system - kexec": the kexec test of /rig/kexec.sh, the boot's last
#   step: it goes on in the kexec'd and crash kernels with this /init)
#   (selftests/bin/smp/*; modules as for kvm|hvx), or a phase with a file
#   /rig/params/PHASE (the Bochs rig's assists-off passes): hvx.ko reloaded
#   with the module parameters in it; DEVICE /dev/kvm|/dev/hvx|-
#   (no argument)
# /rig/shell-cmd (shell mode): the command to run.
# /rig/kexec.sh (kexec mode, from check.sh's kexec boot, or the plan's
#   kexec step): the kexec test, which goes on in the kexec'd (and crash)
#   kernel with this same /init.

export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /tmp /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
# Below 512 MiB of RAM (the Bochs rig) the kernel starts with transparent
# huge pages off; allow them where asked for (selftests/huge_pages).
thp=/sys/kernel/mm/transparent_hugepage/enabled
if [ -w $thp ] && grep -q '\[never\]' $thp; then echo madvise >$thp; fi
. /rig/modules.conf
. /rig/conf
# For selftests/smp/boot_linux: the nested guest's extra command line and
# the kernel formats its boots take in turn.
export HVX_BOOT_APPEND HVX_BOOT_KERNELS
# A later kernel of the kexec test (/rig/kexec.sh) goes on with it,
# whatever the boot's plan was: that plan ran in the first kernel.
[ -f /rig/kexec-stage ] && RIG_MODE=kexec

say() { echo "@@@ $*"; }

# Uptime in centiseconds: busybox date has no sub-second format.
now_cs() {
	read -r _up _ </proc/uptime
	_cs=${_up#*.}
	_cs=${_cs#0}                    # "07" would be read as octal
	echo $((${_up%.*} * 100 + _cs))
}
now_s() {
	read -r _up _ </proc/uptime
	echo "${_up%.*}"
}

# The current step and its deadline, for the watcher below. A step may
# run inside another (the kexec test's insmods): the outer one is put
# aside and comes back when the inner one ends.
step_begin() {  # DEADLINE-SECONDS DESCRIPTION...
	_d=$1
	shift
	_n=$(now_s)
	[ -f /tmp/rig.step ] && mv /tmp/rig.step /tmp/rig.step.outer
	echo "$((_n + _d)) $_n $*" >/tmp/rig.step
}
step_end() {
	rm -f /tmp/rig.step
	[ -f /tmp/rig.step.outer ] && mv /tmp/rig.step.outer /tmp/rig.step
	return 0
}

dump_dmesg() {
	say "DMESG BEGIN"
	dmesg
	say "DMESG END"
}

# Watcher: the host kills a guest that stays silent (a frozen emulated
# machine), so while a step runs long, say we are alive. A step that outlives
# its deadline even though it was killed (e.g. stuck in the kernel in D
# state) cannot be cleaned up: dump the blocked tasks and dmesg, and power
# off so the host can go on in a fresh boot instead of waiting.
watcher() {
	_beat=0
	while sleep 5; do
		[ -f /tmp/rig.step ] || continue
		read -r _dl _st _desc </tmp/rig.step 2>/dev/null || continue
		_n=$(now_s)
		if [ "$_n" -gt "$_dl" ]; then
			say "STUCK $_desc"
			echo w >/proc/sysrq-trigger
			dump_dmesg
			say "RIG END stuck"
			poweroff -f
		elif [ $((_n - _st)) -ge 20 ] && [ $((_n - _beat)) -ge 20 ]; then
			_beat=$_n
			say "ALIVE $_desc t=$((_n - _st))s"
		fi
	done
}

# insmod with a marker the host checks; output only on failure.
load_module() {  # FILE NAME [PARAM=VALUE...]
	_file=$1 _name=$2
	shift 2
	step_begin 120 insmod "$_name"
	_out=$(insmod "$_file" "$@" 2>&1)
	_rc=$?
	step_end
	say "INSMOD $_name rc=$_rc"
	[ "$_rc" = 0 ] || echo "$_out"
	return "$_rc"
}

oracle_state=   # "" not tried, ok, failed
load_oracle() {
	[ -n "$oracle_state" ] && { [ "$oracle_state" = ok ]; return; }
	oracle_state=ok
	for _m in $RIG_ORACLE_MODS; do
		load_module "/lib/modules/rig/$_m" "${_m%.ko}" || oracle_state=failed
	done
	[ "$oracle_state" = ok ]
}

hvx_state=      # "" not tried, ok, failed, absent
load_hvx() {
	[ -n "$hvx_state" ] && { [ "$hvx_state" = ok ]; return; }
	if [ ! -f /hvx.ko ]; then
		hvx_state=absent
		return 1
	fi
	hvx_state=failed
	load_module /hvx.ko hvx && hvx_state=ok
	[ "$hvx_state" = ok ]
}

unload_hvx() {
	[ -d /sys/module/hvx ] || return 0
	step_begin 60 rmmod hvx
	_out=$(rmmod hvx 2>&1)
	_rc=$?
	step_end
	say "RMMOD hvx rc=$_rc"
	[ "$_rc" = 0 ] || echo "$_out"
	return "$_rc"
}

# hvx again, with module parameters (an assists-off phase, the bench's
# second pass). The kernel only warns about a parameter a module does not
# have and loads it anyway: each must show in sysfs, or the pass would
# run the defaults again under another name. That counts as a failed
# insmod.
reload_hvx() {  # PARAM=VALUE...
	[ -f /hvx.ko ] || { hvx_state=absent; return 1; }
	hvx_state=failed
	unload_hvx || return 1
	load_module /hvx.ko hvx "$@" || return 1
	for _p in "$@"; do
		[ -e "/sys/module/hvx/parameters/${_p%%=*}" ] && continue
		say "INSMOD hvx rc=22"
		echo "hvx.ko has no parameter ${_p%%=*} in /sys/module/hvx/parameters"
		return 1
	done
	hvx_state=ok
}

# hvx reloaded with the module parameters of phase $1 (/rig/params/$1),
# once for the phase: a failed rmmod or insmod fails its steps.
hvx_params_phase=
load_hvx_params() {  # PHASE
	[ "$hvx_params_phase" = "$1" ] && { [ "$hvx_state" = ok ]; return; }
	hvx_params_phase=$1
	read -r _params <"/rig/params/$1"
	# shellcheck disable=SC2086 # one word per parameter
	reload_hvx $_params
}

# A phase's prerequisites. KVM stays loaded when hvx comes in, as in the
# full suite, so a rerun or --only run sees the same machine state.
setup_phase() {
	case $1 in
	kvm|smp-kvm) load_oracle ;;
	hvx|smp-hvx|system|bench|shell) load_oracle; load_hvx ;;
	*) if [ -f "/rig/params/$1" ]; then load_oracle; load_hvx_params "$1"; fi ;;
	esac
}

# Run one binary under busybox timeout (TERM, then KILL 10 s later).
run_step() {  # PHASE NAME TIMEOUT RERUN CMD...
	_ph=$1 _nm=$2 _to=$3 _re=$4
	shift 4
	step_begin $((_to + 30)) "$_ph $_nm"
	say "BEGIN $_ph $_nm $_re"
	_t0=$(now_cs)
	timeout -k 10 "$_to" "$@" </dev/null 2>&1
	_rc=$?
	_t1=$(now_cs)
	step_end
	# Leading newline: the binary's last line may lack one.
	echo
	say "END $_ph $_nm rc=$_rc cs=$((_t1 - _t0)) $_re"
}

# The smp tests take CPUs offline and bring them back; one that was killed
# half-way may not have. The next step must find every CPU online.
online_all_cpus() {  # STEP-DESCRIPTION
	for _f in /sys/devices/system/cpu/cpu[0-9]*/online; do
		[ -f "$_f" ] || continue
		read -r _on <"$_f"
		[ "$_on" = 1 ] && continue
		echo 1 >"$_f"
		_c=${_f%/online}
		say "ONLINE ${_c##*/} after $1"
	done
}

run_plan() {
	while read -r _ph _dev _bin _re; do
		[ -n "$_ph" ] || continue
		_nm=${_bin##*/}
		if [ "$_bin" = kexec ]; then
			. /rig/kexec.sh
			kexec_main
			continue
		fi
		if ! setup_phase "$_ph"; then
			say "NOTRUN $_ph $_nm $_re"
			continue
		fi
		if [ "$_dev" = - ]; then
			run_step "$_ph" "$_nm" "$RIG_TEST_TIMEOUT" "$_re" "$_bin"
		else
			run_step "$_ph" "$_nm" "$RIG_TEST_TIMEOUT" "$_re" "$_bin" "$_dev"
		fi
		case $_ph in smp-*) online_all_cpus "$_ph/$_nm" ;; esac
	done </rig/plan
}

say "RIG START mode=$RIG_MODE kernel=$(uname -r)"
watcher &
watcher_pid=$!

case $RIG_MODE in
suite)
	run_plan
	;;
bench)
	setup_phase bench
	if [ -x /hvx-bench ]; then
		run_step bench hvx-bench "$RIG_BENCH_TIMEOUT" "" /hvx-bench
		# hvx-run's boot times: rows of the same table, before a
		# second table starts.
		if [ -x /hvx-run ] && [ -x /selftests/bin/smp/boot_linux ]; then
			run_step bench boot-linux "$RIG_BOOT_BENCH_TIMEOUT" "" \
				/selftests/bin/smp/boot_linux --bench
		fi
		# The second pass: hvx reloaded with other parameters (its
		# assists off), KVM measured again beside it in a table of
		# its own. Word splitting of the parameters is wanted.
		# shellcheck disable=SC2086
		if [ -n "${RIG_BENCH_HVX_PARAMS:-}" ] && [ "$hvx_state" = ok ] &&
		   reload_hvx $RIG_BENCH_HVX_PARAMS; then
			run_step bench hvx-bench-params "$RIG_BENCH_TIMEOUT" "" /hvx-bench
		fi
	else
		say "NOTRUN bench hvx-bench"
	fi
	;;
shell)
	setup_phase shell
	run_step shell cmd "$RIG_TEST_TIMEOUT" "" sh /rig/shell-cmd
	;;
kexec)
	. /rig/kexec.sh
	kexec_main
	;;
esac

# hvx must unload cleanly: a refused rmmod means a leaked reference. (A
# system test may have unloaded it already; /hvx.ko and the modules in
# /lib/modules/rig are there for such tests to load again.)
if [ "$hvx_state" = ok ] && [ -d /sys/module/hvx ]; then
	unload_hvx
fi

kill "$watcher_pid" 2>/dev/null
dump_dmesg
say "RIG DONE"
poweroff -f
