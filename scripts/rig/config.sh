# shellcheck shell=sh
# The one place the rig's kernel is pinned.
#
# This file is sourced by the top Makefile with /bin/sh, so it must stay
# POSIX sh. Everything below the pin is a tunable of the test rig; each can
# be overridden from the environment (e.g. RIG_TEST_TIMEOUT=300 make check).
#
# When Debian publishes a new kernel ABI, the old linux-image/headers
# packages vanish from bookworm-security and deps.sh fails: bump both lines
# (apt-cache search 'linux-image-6.1.0-.*-amd64$' shows what is there).
RIG_KVER=6.1.0-56-amd64
RIG_KPKG_VERSION=6.1.192-2

# Emulated machine (QEMU TCG, see shared rig notes): single-threaded TCG and
# one CPU is the combination that never froze in long runs.
: "${RIG_QEMU_CPU:=EPYC}"
: "${RIG_QEMU_MEM:=2G}"
: "${RIG_SMP:=1}"
# Extra QEMU options / guest kernel command line words, for experiments.
: "${RIG_QEMU_EXTRA:=}"
: "${RIG_KERNEL_EXTRA:=}"

# Seconds one selftest binary may run in the guest before it is killed.
: "${RIG_TEST_TIMEOUT:=120}"
# Seconds /hvx-bench may run (make bench).
: "${RIG_BENCH_TIMEOUT:=540}"
# Host side: no serial output for this long means the guest is wedged. The
# guest prints a heartbeat every 20 s while a step runs long, so this can be
# much shorter than RIG_TEST_TIMEOUT.
: "${RIG_SILENCE_TIMEOUT:=90}"
# Host side: hard limit for one boot of the emulated machine.
: "${RIG_BOOT_TIMEOUT:=600}"
# Host side: at most this many boots per make check (reruns after a wedge).
: "${RIG_MAX_BOOTS:=4}"

# Reference hypervisor loaded in the guest (module names; dependencies are
# resolved from the modules' own modinfo), plus msr for /dev/cpu/*/msr.
: "${RIG_ORACLE_MODULES:=msr irqbypass kvm ccp kvm-amd}"
