#!/bin/bash
# Boot the rig's emulated machine once and guard it.
#
# Usage: scripts/rig/boot.sh [-v] INITRD SERIAL_LOG
#   -v  echo the guest's serial console live (else: one line per test)
#
# The serial console goes to SERIAL_LOG (raw, lines end in \r\n). When the
# boot is over, SERIAL_LOG.end holds one line: "REASON SECONDS", REASON one
# of
#   exit     QEMU exited on its own (guest powered off, or panicked: the
#            guest runs with panic=-1 and QEMU with -no-reboot)
#   silence  no serial output for RIG_SILENCE_TIMEOUT s: the guest froze
#   timeout  the boot ran longer than RIG_BOOT_TIMEOUT s
#   lockup   the guest kernel reported a soft lockup / RCU stall
# In every case but "exit" this script killed QEMU, after it wrote the
# CPUs' registers as QEMU's monitor shows them ("info registers -a", twice,
# 2 s apart: a CPU that spins shows the same code, a stopped emulator the
# same state) to SERIAL_LOG.cpus, for a wedge's post-mortem.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

verbose=0
if [ "${1:-}" = -v ]; then
	verbose=1
	shift
fi
initrd=$1
serial=$2

# Why each option: PVH entry of the uncompressed vmlinux (fast boot);
# single-threaded TCG (multi-threaded TCG froze the machine in long nested
# runs); EPYC has SVM with NPT; tsc=reliable keeps guest time sane under TCG
# (hpet drifted); quiet keeps kernel chatter off the console the tests print
# to (errors still come through); panic=-1 + -no-reboot turn a panic into a
# QEMU exit instead of a hang.
# More than one CPU (the suite's second boot, for selftests/bin/smp/)
# takes its TCG mode from RIG_SMP2_TCG (config.sh): single-threaded TCG
# with -smp 2 once hung a 2-vCPU nested Linux guest, multi-threaded TCG
# froze under stress; the short smp selftests run well single-threaded.
tcg=single
[ "$RIG_SMP" -gt 1 ] && tcg=$RIG_SMP2_TCG
# The monitor on a pair of FIFOs (QEMU's pipe chardev opens them read-write,
# so nothing blocks while no one reads): no port or socket to pick.
mon=$serial.monitor
rm -f "$mon.in" "$mon.out" "$serial.cpus"
mkfifo "$mon.in" "$mon.out"
qemu=(qemu-system-x86_64 -accel "tcg,thread=$tcg" -cpu "$RIG_QEMU_CPU"
      -m "$RIG_QEMU_MEM" -smp "$RIG_SMP" -nographic -no-reboot
      -monitor "pipe:$mon"
      -kernel "$RIG_VMLINUX" -initrd "$initrd"
      -append "console=ttyS0 panic=-1 tsc=reliable quiet $RIG_KERNEL_EXTRA")
# shellcheck disable=SC2206  # a list of words on purpose
qemu+=($RIG_QEMU_EXTRA)

# The monitor's answers to "info registers -a", twice (see the top).
dump_cpus() {
	local i
	for i in 1 2; do
		[ "$i" = 1 ] || sleep 2
		echo "=== info registers -a ($i) ==="
		echo "info registers -a" >"$mon.in"
		timeout 2 cat "$mon.out" | tr -d '\r' | grep -v '^(qemu)' || true
	done
}

: >"$serial"
start=$SECONDS
"${qemu[@]}" </dev/null >"$serial" 2>"$serial.qemu-stderr" &
qpid=$!
# Never leave an emulator behind (Ctrl-C, set -e exit): kill only ours.
trap 'kill "$qpid" 2>/dev/null || true' EXIT

# Poll the log: report progress, watch for silence and lockups.
lines_seen=0 last_size=0 last_change=$SECONDS lockup_at=
reason="exit"
while kill -0 "$qpid" 2>/dev/null; do
	sleep 0.5
	size=$(stat -c %s "$serial")
	if [ "$size" != "$last_size" ]; then
		last_size=$size
		last_change=$SECONDS
		total=$(wc -l <"$serial")
		if [ "$total" -gt "$lines_seen" ]; then
			new=$(sed -n "$((lines_seen + 1)),${total}p" "$serial" | tr -d '\r')
			lines_seen=$total
			if [ "$verbose" = 1 ]; then
				printf '%s\n' "$new" >&2
			else
				# One progress line per finished test, plus trouble.
				printf '%s\n' "$new" | awk '
					/@@@ END / { sub(/.*@@@ END /, ""); cs = $4; sub(/^cs=/, "", cs)
						     printf "rig:   %s/%s %s (%.2f s)%s\n", $1, $2, $3, cs / 100, ($5 ? " " $5 : ""); next }
					/@@@ (STUCK|NOTRUN|ONLINE)/ { sub(/.*@@@ /, ""); print "rig:   " $0; next }
					/@@@ INSMOD .* rc=[1-9]/ { sub(/.*@@@ /, ""); print "rig:   " $0 }
					/Kernel panic|BUG:|Oops/ { print "rig:   guest: " $0 }' >&2
			fi
			# Not a nested guest's, which a selftest prints as a TAP
			# diagnostic ("#   console: ...", smp/boot_linux).
			if [ -z "$lockup_at" ] &&
			   awk '!/^#/ && /soft lockup|detected stalls? on CPU|self-detected stall/ { f = 1 }
				END { exit !f }' <<<"$new"; then
				# Give the kernel time to print its traces, then stop.
				lockup_at=$SECONDS
			fi
		fi
	fi
	if [ -n "$lockup_at" ] && [ $((SECONDS - lockup_at)) -ge 30 ]; then
		reason=lockup
	elif [ $((SECONDS - last_change)) -ge "$RIG_SILENCE_TIMEOUT" ]; then
		reason=silence
	elif [ $((SECONDS - start)) -ge "$RIG_BOOT_TIMEOUT" ]; then
		reason=timeout
	else
		continue
	fi
	dump_cpus >"$serial.cpus" 2>&1 || true
	kill "$qpid" 2>/dev/null || true
	break
done
wait "$qpid" 2>/dev/null || true
trap - EXIT
rm -f "$mon.in" "$mon.out"
echo "$reason $((SECONDS - start))" >"$serial.end"
