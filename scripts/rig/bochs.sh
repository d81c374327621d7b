#!/bin/bash
# Boot the VMX rig's emulated machine (Bochs, Intel VMX) once and guard it:
# the Bochs counterpart of boot.sh.
#
# Usage: scripts/rig/bochs.sh [-v] ISO BOOT-DIR
#   ISO       bootable ISOLINUX image (check-vmx.sh makes it)
#   BOOT-DIR  gets bochsrc, serial.log (the guest's console, raw: lines end
#             in \r\n), bochs.log (Bochs' own log: VMX entry failures are
#             named there), bochs.out (the terminal "display", junk)
#   -v        echo the serial console live (else: one line per test)
#   BOOT-DIR/markers: "WALL-SECONDS MARKER..." for every @@@ RIG/BEGIN/END
#   (and KEXEC) marker of the guest, as it arrived (0.5 s resolution).
#
# When the boot is over, BOOT-DIR/serial.log.end holds "REASON SECONDS",
# REASON one of
#   exit     the guest powered off (Bochs logs "soft power off" and exits)
#   bochs    Bochs itself stopped: a panic of the emulator (e.g. a triple
#            fault, reset_on_triple_fault=0) or an unexpected exit; see
#            the PANIC lines of bochs.log
#   reset    the machine rebooted (the guest runs with panic=-1: a kernel
#            panic reboots, and Bochs would boot the ISO again forever)
#   silence  no serial output for RIG_BOCHS_SILENCE_TIMEOUT s
#   timeout  the boot ran longer than RIG_BOCHS_BOOT_TIMEOUT s
#   lockup   the guest kernel reported a soft lockup / RCU stall
# In every case but exit/bochs this script killed Bochs.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=scripts/rig/bochs/config.sh
. "$RIG_SRC/bochs/config.sh"

verbose=0
if [ "${1:-}" = -v ]; then
	verbose=1
	shift
fi
[ $# -eq 2 ] || die "usage: bochs.sh [-v] ISO BOOT-DIR"
iso=$(realpath "$1")
dir=$(realpath "$2")
serial=$dir/serial.log

# The machine. Why each line:
# - cpu: see bochs/config.sh (count: RIG_BOCHS_CPUS, set per boot by
#   check-vmx.sh); reset_on_triple_fault=0 makes a triple fault
#   a Bochs panic (logged with the CPU state) instead of a silent reboot.
# - clock sync=none: emulated time follows the instruction count (ips), so
#   idle time passes instantly and runs are deterministic.
# - ISOLINUX from the CD: Bochs has no -kernel; boot through the BIOS.
# - com1 to a file: the only channel the host reads.
# - log: Bochs names every failed VM-entry check there ("VMFAIL: ...",
#   "VMENTER FAIL: ..."), at level error; debug level (VMEXIT traces) would
#   cost minutes and gigabytes, so it stays off.
# - panic: action=fatal: ACPI power-off is reported as a "panic" and must
#   end Bochs, as must any real emulator panic.
cat >"$dir/bochsrc" <<EOF
megs: $RIG_BOCHS_MEGS
cpu: model=$RIG_BOCHS_CPU, count=$RIG_BOCHS_CPUS, ips=$RIG_BOCHS_IPS, reset_on_triple_fault=0
clock: sync=none, time0=local
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$serial
speaker: enabled=0
sound: driver=dummy
display_library: term
log: $dir/bochs.log
print_timestamps: enabled=1
debug: action=ignore
info: action=report
error: action=report
panic: action=fatal
EOF
# Debian's Bochs has the internal debugger: without -rc it stops at a
# <bochs:1> prompt before the first instruction. "c" runs; "quit" ends the
# debugger should the machine ever stop into it.
printf 'c\nquit\n' >"$dir/dbgrc"

: >"$serial"
rm -f "$dir/bochs.log" "$serial.end" "$dir/markers"
: >"$dir/markers"
start=$SECONDS
# There is no headless display library in Debian's build, and "term"
# (curses) needs a terminal: script(1) gives it a pty whose output
# (bochs.out) nobody reads. TERM must be known to curses even under CI.
TERM=xterm env -C "$dir" script -qfec "exec bochs -q -f bochsrc -rc dbgrc" /dev/null \
	</dev/null >"$dir/bochs.out" 2>&1 &
bpid=$!

# The term display draws the VGA text screen on a pseudo-terminal of its
# own (the plugin opens /dev/ptmx), which nothing views. Unread, it
# filled after ~440 s of screen updates and Bochs stopped for good,
# asleep writing there: read it away. Bochs runs in $dir (env -C).
drain_screen() {
	local i p fd idx
	for i in $(seq 100); do
		for p in $(pgrep -x bochs-bin); do
			[ "$(readlink "/proc/$p/cwd")" = "$dir" ] || continue
			for fd in /proc/"$p"/fd/*; do
				[ "$(readlink "$fd")" = /dev/ptmx ] || continue
				idx=$(awk '/^tty-index:/ { print $2 }' "/proc/$p/fdinfo/${fd##*/}")
				[ -n "$idx" ] || continue
				# Ends by itself (EIO) when Bochs closes its side.
				cat "/dev/pts/$idx" >/dev/null 2>&1 &
				return 0
			done
		done
		sleep 0.2
	done
	log "bochs.sh: no screen pty found; a boot over ~440 s will stall"
}
drain_screen

# Kill what we started, children first (script -> sh -> bochs), by pid.
kill_tree() {
	local p
	for p in $(pgrep -P "$1" 2>/dev/null); do
		kill_tree "$p"
	done
	kill "$1" 2>/dev/null || true
}
trap 'kill_tree "$bpid"' EXIT

lines_seen=0 last_size=0 last_change=$SECONDS lockup_at="" panic_at=""
# A kernel panic matching this is not the end: the kexec boot's crash
# stage panics on purpose (sysrq c, after "@@@ KEXEC crash-now") and goes
# on in its kdump kernel. ^$ matches no panic line.
panic_ok='^$'
reason=
while kill -0 "$bpid" 2>/dev/null; do
	sleep 0.5
	size=$(stat -c %s "$serial")
	if [ "$size" != "$last_size" ]; then
		last_size=$size
		last_change=$SECONDS
		total=$(wc -l <"$serial")
		if [ "$total" -gt "$lines_seen" ]; then
			new=$(sed -n "$((lines_seen + 1)),${total}p" "$serial" | tr -d '\r')
			lines_seen=$total
			# Wall-clock arrival of the markers: the host's view of
			# how long /init and each step took.
			printf '%s\n' "$new" |
				awk -v t=$((SECONDS - start)) '/@@@ (RIG|BEGIN|END|KEXEC) / { sub(/.*@@@ /, ""); print t, $0 }' \
				>>"$dir/markers"
			if [ "$verbose" = 1 ]; then
				printf '%s\n' "$new" >&2
			else
				# One progress line per finished test, plus trouble.
				printf '%s\n' "$new" | awk '
					/@@@ END / { sub(/.*@@@ END /, ""); cs = $4; sub(/^cs=/, "", cs)
						     printf "rig:   %s/%s %s (%.2f s)%s\n", $1, $2, $3, cs / 100, ($5 ? " " $5 : ""); next }
					/@@@ (STUCK|NOTRUN)/ { sub(/.*@@@ /, ""); print "rig:   " $0; next }
					/@@@ INSMOD .* rc=[1-9]/ { sub(/.*@@@ /, ""); print "rig:   " $0 }
					/Kernel panic|BUG:|Oops/ { print "rig:   guest: " $0 }' >&2
			fi
			# Not a nested guest's, which a selftest prints as a TAP
			# diagnostic ("#   console: ...", smp/boot_linux).
			if [ -z "$lockup_at" ] &&
			   awk '!/^#/ && /soft lockup|detected stalls? on CPU|self-detected stall/ { f = 1 }
				END { exit !f }' <<<"$new"; then
				lockup_at=$SECONDS  # let the kernel print its traces first
			fi
			grep -q '@@@ KEXEC crash-now' <<<"$new" && panic_ok='sysrq triggered crash'
			if [ -z "$panic_at" ] &&
			   awk -v ok="$panic_ok" '/Kernel panic - not syncing/ && $0 !~ ok { f = 1 }
						 END { exit !f }' <<<"$new"; then
				panic_at=$SECONDS
			fi
		fi
		# A second ISOLINUX banner: the machine was reset.
		if [ "$(grep -c 'ISOLINUX [0-9]' "$serial")" -gt 1 ]; then
			reason=reset
		fi
	fi
	if [ -n "$reason" ]; then
		:
	elif [ -n "$panic_at" ] && [ $((SECONDS - panic_at)) -ge 10 ]; then
		reason=reset   # panic=-1 reboots; do not wait for the banner
	elif [ -n "$lockup_at" ] && [ $((SECONDS - lockup_at)) -ge 30 ]; then
		reason=lockup
	elif [ $((SECONDS - last_change)) -ge "$RIG_BOCHS_SILENCE_TIMEOUT" ]; then
		reason=silence
	elif [ $((SECONDS - start)) -ge "$RIG_BOCHS_BOOT_TIMEOUT" ]; then
		reason=timeout
	else
		continue
	fi
	kill_tree "$bpid"
	break
done
wait "$bpid" 2>/dev/null || true
trap - EXIT
if [ -z "$reason" ]; then
	# Bochs ended by itself: a power-off, or an emulator panic.
	if grep -q 'ACPI control: soft power off' "$dir/bochs.log" 2>/dev/null; then
		reason="exit"
	else
		reason=bochs
	fi
fi
echo "$reason $((SECONDS - start))" >"$serial.end"
