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
# make bench, VMX rig (Bochs) only: hvx.ko parameters for a second pass of
# /hvx-bench in the same boot, with hvx reloaded with them, e.g. the ones
# that turn VMX APIC virtualization assists off. It prints a table of its
# own and a "vmx, assists off" column in bench-all.sh's ratios. Each
# parameter must show in /sys/module/hvx/parameters (the kernel loads a
# module with an unknown one anyway). Empty: no second pass. The default
# turns VMX APIC virtualization off (module/vmx): virtual-interrupt
# delivery and the virtual-APIC page against CR8 exits and injection.
: "${RIG_BENCH_HVX_PARAMS=enable_apicv=0}"
# Host side: no serial output for this long means the guest is wedged. The
# guest prints a heartbeat every 20 s while a step runs long, so this can be
# much shorter than RIG_TEST_TIMEOUT.
: "${RIG_SILENCE_TIMEOUT:=90}"
# Host side: hard limit for one boot of the emulated machine.
: "${RIG_BOOT_TIMEOUT:=600}"
# Host side: at most this many boots per make check (reruns after a wedge).
: "${RIG_MAX_BOOTS:=4}"

# The second boot of the suite: the paths that need two host CPUs (vCPU
# migration between CPUs, cross-CPU kicks, CPU hotplug with VMs alive). It
# runs only selftests/bin/smp/* (on /dev/kvm, then /dev/hvx) with this many
# CPUs, so QEMU uses multi-threaded TCG, which can freeze the emulated
# machine in long stress runs (shared rig notes): the boot is kept short
# (~30 s) and has its own, tighter limits. 0 leaves it out (as does
# check.sh --no-smp-boot).
: "${RIG_SMP2_CPUS:=2}"
# TCG threading for that boot: multi-threaded TCG froze the machine with
# a soft lockup in about one run in ten (in the KVM phase too); the short
# selftests in selftests/smp/ pass with single-threaded TCG, which runs
# both guest CPUs in turn on one host thread (shared rig notes).
: "${RIG_SMP2_TCG:=single}"
# Seconds one selftests/bin/smp binary may run in the guest.
: "${RIG_SMP2_TEST_TIMEOUT:=60}"
# Host side: silence that means a frozen guest (the heartbeat is 20 s).
: "${RIG_SMP2_SILENCE_TIMEOUT:=60}"
# Host side: hard limit for one boot (every binary hitting its timeout).
: "${RIG_SMP2_BOOT_TIMEOUT:=420}"
# Host side: boots for this part (one fresh boot to rerun a wedged binary).
: "${RIG_SMP2_MAX_BOOTS:=2}"
# smp binaries this rig leaves out, on both devices, reported as skipped:
# ipi_storm (8 vCPUs bouncing IPIs in a ring). Under TCG kvm_amd fails it
# too, now and then: one vCPU is a ping short while its predecessor holds
# the pong for it, which looks like a guest store lost by the emulator.
# The Bochs rig runs it, on kvm_intel and hvx.
: "${RIG_SMP2_SKIP=ipi_storm}"
: "${RIG_SMP2_SKIP_WHY=under QEMU TCG the oracle loses an IPI of the ring now and then; the Bochs rig runs it}"
# smp binaries this rig runs in its main boot instead (one CPU), in the
# kvm and hvx phases: boot_linux. In the boot with two CPUs, KVM's nested
# Linux stalled for good early in its boot (after "registered taskstats",
# one vCPU; hvx's did not); with one CPU it boots, given tsc=unstable
# (RIG_BOOT_APPEND). The Bochs rig runs it in its boot with two CPUs.
: "${RIG_MAIN_SMP_BINS=boot_linux}"

# The suite's kexec boot (scripts/rig/guest-kexec.sh): kexec the emulated
# machine while an hvx VM runs, then (RIG_KEXEC_CRASH=1) crash the kexec'd
# kernel into a kdump kernel the same way; every later kernel must find
# virtualization off and run guests on hvx and KVM. 0 leaves it out (as
# does check.sh --no-kexec-boot).
: "${RIG_KEXEC:=1}"
# Two CPUs: the reboot notifier's IPI must reach the vCPU in guest mode.
: "${RIG_KEXEC_CPUS:=2}"
# The crash stage costs ~10 s more (one more kernel boot, the crash
# kernel's load). It checks that the crash callback changes hands when
# kvm_amd comes and goes beside an hvx VM (module/crash.c), that a CPU in
# an hvx guest takes the crash NMI and stops, and that the kdump kernel
# can run guests on hvx and KVM. On Debian's 6.1 the crash path also
# clears EFER.SVME itself (Documentation/architecture.md, "Crash and
# kdump"), so only Intel shows a missing callback: there the crashing
# CPU triple-faults (the Bochs rig's knob, RIG_BOCHS_KEXEC_CRASH).
# 0: no crash stage; 1: after the kexec stage; "only": instead of it.
: "${RIG_KEXEC_CRASH:=1}"
# Memory set aside for the crash kernel (of RIG_QEMU_MEM): its kernel (58 MB
# in memory), its initramfs (~8 MB) unpacked, kvm and hvx running a guest.
: "${RIG_KEXEC_CRASHKERNEL:=256M}"
# The selftest binary the later kernels run on /dev/hvx and /dev/kvm.
: "${RIG_KEXEC_TEST:=pio}"
# Host side: silence that means a frozen guest or a kernel that never
# came up (each kernel boot under TCG is silent for a few seconds).
: "${RIG_KEXEC_SILENCE_TIMEOUT:=60}"
# Host side: hard limit for the boot (three kernels).
: "${RIG_KEXEC_BOOT_TIMEOUT:=300}"

# Extra kernel command line words for the Linux guest hvx-run boots inside
# the emulated machine (selftests/smp/boot_linux, make demo):
# - noxsave: QEMU's TCG does not honour the XSETBV intercept for a nested
#   guest (see selftests/fpu.c), so a guest kernel that turns XSAVE on
#   keeps running with XCR0 = 1 and its signal frames break, on KVM as on
#   hvx.
# - tsc=unstable: no TSC synchronization check as an AP comes up. Its
#   source CPU spins with interrupts off until the AP arrives; TCG lets no
#   host interrupt end a nested guest that runs with IF=0, so with both
#   vCPU threads on the one emulated CPU, an AP thread that lost the CPU
#   at that moment never got it back: the machine froze (2 boots in ~20
#   with two vCPUs, on KVM as on hvx). The guest keeps time by kvm-clock.
: "${RIG_BOOT_APPEND=noxsave tsc=unstable}"
# The kernel formats smp/boot_linux's boots take in turn (one vCPU, then
# two): bzimage (the Linux boot protocol, decompression in the guest) and
# pvh (the vmlinux's PVH entry).
: "${RIG_BOOT_KERNELS=bzimage pvh}"
# make bench: the kernel formats whose boot it times (hvx-run on /dev/kvm
# and /dev/hvx, one vCPU, to /init and to poweroff), and its time limit.
: "${RIG_BENCH_KERNELS=bzimage pvh}"
: "${RIG_BOOT_BENCH_TIMEOUT:=300}"

# Reference hypervisor loaded in the guest (module names; dependencies are
# resolved from the modules' own modinfo), plus msr for /dev/cpu/*/msr.
: "${RIG_ORACLE_MODULES:=msr irqbypass kvm ccp kvm-amd}"
