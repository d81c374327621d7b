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

# The Linux guest hvx-run boots inside the emulated machine
# (selftests/smp/boot_linux, make demo VMX=1):
# - its kernel formats, in turn (RIG_BOOT_KERNELS of config.sh): pvh only.
#   A bzImage boot decompresses the kernel in the guest, ~9 G emulated
#   instructions (~2 minutes here) of guest code that hvx runs no
#   differently; the QEMU rig boots both formats.
# - its extra command line, to cut its ~12 s of guest time to /init:
#   cryptomgr.notests, as above; quiet: the console's every byte is an
#   exit to hvx-run (~7 s to /init with both).
: "${RIG_BOCHS_BOOT_KERNELS=pvh}"
: "${RIG_BOCHS_BOOT_APPEND=cryptomgr.notests quiet}"
# make bench times bzImage boots here too (RIG_BENCH_KERNELS): four boots,
# ~6 minutes of guest time.
: "${RIG_BOCHS_BOOT_BENCH_TIMEOUT:=900}"

# selftests/fuzz's time budgets, scaled (FUZZ_BUDGET_SCALE): its random
# guest code case runs its 12 s budget out here, ~40 s of wall time on
# hvx (kvm_intel skips it, see RIG_BOCHS_SKIP); half of it keeps the
# Bochs stage of make check under 8 minutes.
: "${RIG_BOCHS_FUZZ_BUDGET_SCALE:=0.5}"

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

# The kexec test (system/kexec, scripts/rig/guest-kexec.sh, as in the QEMU
# rig), the last step of the boot with two CPUs: kexec the emulated
# machine while an hvx VM spins in guest mode; the kexec'd kernel must come
# up with every CPU, find VMX off on each and run guests on hvx and
# kvm_intel; then a crash into a kdump kernel the same way. It loads the
# uncompressed vmlinux with kexec_load() (no hashing, no purgatory, no
# decompression: kexec_file_load() of the bzImage cost ~9 G emulated
# instructions per kernel). 0 leaves it out, as does check-vmx.sh
# --no-kexec-boot. RIG_KEXEC_TEST (scripts/rig/config.sh) applies; the
# budget below applies to the test.
: "${RIG_BOCHS_KEXEC:=1}"
# CPUs of that boot when it runs no smp tests (--no-smp-boot): the
# reboot notifier's IPI must reach the vCPU in guest mode, and a CPU left
# in VMX operation would not come up again after kexec.
: "${RIG_BOCHS_KEXEC_CPUS:=2}"
# Memory of that boot (RIG_BOCHS_MEGS for the others): its kernel holds the
# later kernels' initramfs (~50 MB, the vmlinux in it) and kexec_load()
# copies that and the kernel (58 MB in memory) into pages of its own, all
# beside the crashkernel= reservation; in 512 MB the load was OOM-killed.
: "${RIG_BOCHS_KEXEC_MEGS:=768}"
# Words the later kernels' command lines add. idle=nomwait: idle CPUs HLT
# instead of MWAIT. In the kexec'd kernel (never in a kernel Bochs booted
# itself) the idle CPU 1 missed its MWAIT wakeups and slept until some
# later interrupt: every kthread created on it stalled the boot
# (inet6_init 6.4 s instead of 25 ms, the X.509 key 27 s instead of 50 ms,
# init_zswap for good), and /init never ran.
: "${RIG_BOCHS_KEXEC_NEXT_ARGS=idle=nomwait}"
# The crash stage (RIG_KEXEC_CRASH of the QEMU rig, kept apart): 0 none;
# 1 after the kexec stage; "only": crash straight from the first kernel,
# no kexec stage (module/crash.c's callback must turn VMX off, or the
# crashing CPU triple-faults: guest-kexec.sh).
: "${RIG_BOCHS_KEXEC_CRASH:=1}"
# With RIG_BOCHS_KEXEC_CRASH other than 0: the crash kernel's reservation (of
# RIG_BOCHS_KEXEC_MEGS).
: "${RIG_BOCHS_KEXEC_CRASHKERNEL:=192M}"

# What hvx.ko's load line must say of VMX under corei7_skylake_x, which
# offers all of it (shared rig notes): each suite boot checks every load.
: "${RIG_BOCHS_HVX_VMX=EPT with A/D, 2M pages, VPID on, unrestricted guest, backstop on}"

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

# Left out because Bochs gets them wrong, in the same form: cases whose
# expected result the emulator's own flaw makes unreachable here. One:
# Bochs 2.7 delivers a pending virtual interrupt at IF=0 when a host
# interrupt arrives after a CLI in guest mode (its interrupt acknowledge
# asks whether a virtual interrupt is pending, not whether it is
# unmasked). hvx keeps the CPU from having one at IF=0 wherever it sees
# the guest's state (module/lapic.c, apicv_load()), but a self-IPI
# through the xAPIC ICR is virtualized without any exit: the case runs in
# the hvx-apic-access-off pass, where that write exits. kvm_intel uses no
# virtual-interrupt delivery here (Bochs has no posted interrupts).
: "${RIG_BOCHS_FLAW_SKIP=hvx/lapic:if_clear_holds_xapic_selfipi}"
: "${RIG_BOCHS_FLAW_SKIP_WHY=Bochs 2.7 flaw: a virtual interrupt pending at IF=0 is delivered when a host interrupt arrives}"

# The assists-off passes of the main boot, after the system phase: hvx.ko
# is reloaded with module parameters that turn VMX assists off, and the
# interrupt tests run again on /dev/hvx, so that the fallback paths run
# under Bochs too and give the same results. Each entry is
# PHASE:PARAM[,PARAM...] (the phase names the results, e.g.
# hvx-apicv-off/lapic); RIG_BOCHS_ASSIST_OFF= leaves them out.
#   hvx-apicv-off        enable_apicv=0: no APIC virtualization at all
#                        (CR8 exits, MMIO/MSR emulation, injection)
#   hvx-apic-access-off  enable_apic_access=0: virtual-interrupt delivery
#                        and x2APIC virtualization, xAPIC through MMIO
: "${RIG_BOCHS_ASSIST_OFF=hvx-apicv-off:enable_apicv=0 hvx-apic-access-off:enable_apic_access=0}"
# The binaries those passes run (those that deliver interrupts).
: "${RIG_BOCHS_ASSIST_OFF_BINS=lapic irqchip irq_routing interrupts nmi vcpu_events}"
