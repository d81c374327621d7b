#!/bin/sh
# /init of the Linux guest that hvx-run boots inside the emulated machine
# (make demo, selftests/smp/boot_linux). Busybox sh. Its kernel command
# line says what to do:
#   hvxrun.mode=demo   print the facts, then an interactive shell on the
#                      console (its end, poweroff or reboot, ends the run)
#   hvxrun.mode=check  the facts, "sleep 0" then "sleep 1" between
#                      markers the host times, a line typed by the host
#                      read back, then hvxrun.end=poweroff|reboot
#   hvxrun.mode=bench  poweroff at once (make bench times the boot)
# Lines starting "@@ " are for the host (selftests/smp/boot_linux.c).
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

echo "@@ INIT $(cut -d' ' -f1 /proc/uptime)"

mode=demo end=poweroff
for w in $(cat /proc/cmdline); do
	case $w in
	hvxrun.mode=*) mode=${w#hvxrun.mode=} ;;
	hvxrun.end=*) end=${w#hvxrun.end=} ;;
	esac
done
[ "$mode" = bench ] && poweroff -f

# The RAM the firmware (hvx-run's e820 map) gave the kernel, in bytes.
ram=0
for d in /sys/firmware/memmap/*; do
	[ "$(cat "$d/type")" = "System RAM" ] || continue
	ram=$((ram + $(cat "$d/end") - $(cat "$d/start") + 1))
done
echo "@@ RAM $ram"
echo "@@ CPUS $(grep -c ^processor /proc/cpuinfo)"
echo "@@ CMDLINE $(cat /proc/cmdline)"

if [ "$mode" = demo ]; then
	echo "@@ SHELL"
	# A shell with the console as its controlling terminal (job control).
	exec setsid cttyhack sh -i
fi

# What starting a process costs (the first start faults busybox in): the
# host takes it off the time "sleep 1" takes, to see the sleep itself.
sleep 0
echo "@@ SPAWN"
sleep 0
echo "@@ SLEEP"
sleep 1
echo "@@ WOKE"
echo "@@ TYPE"
read -r line
echo "@@ GOT $line"
echo "@@ END $end"
if [ "$end" = reboot ]; then
	reboot -f
fi
poweroff -f
