# shellcheck shell=sh
# Tunables of the VMX rig (Bochs), read by scripts/rig/check-vmx.sh and
# scripts/rig/bochs.sh after scripts/rig/config.sh (which pins the kernel:
# both rigs boot the same RIG_KVER). POSIX sh, like config.sh; every value
# can be overridden from the environment, e.g.
#   RIG_BOCHS_SKIP= make check-vmx      # run every binary, no budget
# Measurements behind the defaults: shared/rig-notes.md (VMX rig section)
# and the header of check-vmx.sh.

# Emulated machine. corei7_skylake_x is the Bochs model that offers EPT,
# VPID, unrestricted guest, APICv etc. and boots the 6.1 kernel (icelake and
# tigerlake hang it). ips is Bochs' notion of instructions per emulated
# second; the guest kernel must be told the matching TSC frequency
# (tsc_early_khz = ips/1000), because Bochs' TSC ticks once per instruction
# while CPUID claims 3.5 GHz: without it guest time runs ~35x slow.
: "${RIG_BOCHS_CPU:=corei7_skylake_x}"
: "${RIG_BOCHS_IPS:=100000000}"
: "${RIG_BOCHS_MEGS:=512}"
# CPUs of the main boot, and of the short second boot that runs
# selftests/bin/smp/* (VMCS migration between CPUs, cross-CPU kicks, CPU
# hotplug). Bochs runs its CPUs in turn on one host thread.
: "${RIG_BOCHS_CPUS:=1}"
: "${RIG_BOCHS_SMP_CPUS:=2}"
# pvh: the uncompressed vmlinux through scripts/rig/bochs/pvh-shim.c
#      (mboot.c32 + the kernel's PVH entry): kernel running 4-7 s after
#      Bochs starts (ISOLINUX reads the 37 MB image + 24 MB initrd in ~3 s).
# bzimage: the stock vmlinuz through ISOLINUX: ~57 s, ~50 of them spent in
#      XZ decompression. Kept as a fallback should the shim ever break.
: "${RIG_BOCHS_BOOT:=pvh}"
# Guest kernel command line, besides console/panic/tsc_early_khz:
# - clearcpuid=xsaves,xsavec: Bochs reports the standard XSAVE size (2688)
#   in CPUID.(0xD,1).EBX where the compacted size (2432) belongs; the kernel
#   then WARNs ("XSAVE consistency problem") and disables XSAVE altogether
#   (no AVX for KVM's guests either). Without XSAVES/XSAVEC it uses the
#   standard format, whose sizes Bochs reports right.
# - clearcpuid=aperfmperf: Bochs advertises APERF/MPERF but #GPs on the
#   MSRs; the kernel reads both on every tick (11,000 "RDMSR: Unknown
#   register" lines per boot in the Bochs log, which hide the VMX lines).
# - cryptomgr.notests: the crypto self-tests (late initcall
#   crypto_algapi_init) take 7.4 s of the ~16 s the kernel needs to /init
#   under Bochs (measured with initcall_debug).
: "${RIG_BOCHS_KERNEL_ARGS:=clearcpuid=xsaves,xsavec,aperfmperf cryptomgr.notests}"
: "${RIG_BOCHS_KERNEL_EXTRA:=}"

# The oracle on Intel. kvm-intel's modinfo depends= is "kvm" and kvm's is
# "irqbypass" (initramfs.sh resolves them anyway); msr for /dev/cpu/*/msr.
: "${RIG_BOCHS_ORACLE_MODULES:=msr irqbypass kvm kvm-intel}"

# Seconds one selftest binary may run in the guest (guest time, which
# under Bochs runs at about 0.8x wall time).
: "${RIG_BOCHS_TEST_TIMEOUT:=300}"
# Host side, wall seconds: no serial output for this long = wedged. The
# guest prints a heartbeat every 20 s of guest time while a step runs long,
# and guest time runs at 0.4-0.8x wall time (less while the host is busy):
# ~25-50 s between heartbeats.
: "${RIG_BOCHS_SILENCE_TIMEOUT:=120}"
# Host side, wall seconds: hard limit for one Bochs boot.
: "${RIG_BOCHS_BOOT_TIMEOUT:=1500}"
# Host side: at most this many boots per run (a wedged binary ends a boot;
# the steps after it run in the next one).
: "${RIG_BOCHS_MAX_BOOTS:=3}"

# Budget: what the VMX rig leaves out, reported as skipped; --all runs it.
# Entries: NAME or PHASE/NAME (a whole selftest binary; PHASE is kvm, hvx
# or system), NAME:CASE or PHASE/NAME:CASE (one case, CASE being the
# function named in the binary's TEST_CASE list).
#
# Left out by default, on /dev/kvm only: cases whose guest spins, waiting
# for the host, in a loop without VM exits and with RFLAGS.IF=0. Under
# Bochs 2.7 nothing ever interrupts such a guest of kvm_intel: the host's
# timer and other external interrupts do not cause the VM exit that
# "external-interrupt exiting" promises, so the whole emulated machine
# hangs. Bochs computes the interrupt mask during VM entry before it marks
# the CPU as being in VMX non-root operation, so with the guest's IF=0 it
# masks external interrupts as if they were the guest's; they are taken
# only at the guest's next exit, STI or POPF. Reproduced with a one-case
# probe in 3 of 3 boots. hvx runs these cases: its VMX-preemption-timer
# backstop (module parameter backstop_us) forces an exit anyway.
# The same defect hangs kvm_intel's smp tests (a vCPU spinning with IF=0
# never lets its CPU go offline or take the kick), so the boot with two
# CPUs runs them on hvx only.
: "${RIG_BOCHS_SKIP=kvm/exits:signal_interrupts_run kvm/host_mm:madvise_while_running kvm/fuzz:guest_random_code smp-kvm/hotplug smp-kvm/kick smp-kvm/migrate}"
: "${RIG_BOCHS_SKIP_WHY=Bochs 2.7 defect: host interrupts do not exit a guest running with IF=0, kvm_intel hangs the machine}"
