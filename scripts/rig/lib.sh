# shellcheck shell=bash
# Shared by the rig scripts: paths and small helpers. Sourced, not run.

RIG_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$RIG_SRC/../.." && pwd)
# shellcheck source=scripts/rig/config.sh
. "$RIG_SRC/config.sh"

# Everything the rig produces lives here (gitignored via build/).
RIG_OUT=$ROOT/build/rig
RIG_KERNEL_DIR=$RIG_OUT/kernel            # dpkg-deb -x of linux-image
RIG_VMLINUX=$RIG_OUT/vmlinux               # uncompressed, for PVH entry
RIG_KMOD_DIR=$RIG_KERNEL_DIR/lib/modules/$RIG_KVER
RIG_KDIR=/usr/src/linux-headers-$RIG_KVER  # what hvx.ko builds against

log()  { printf '%s\n' "rig: $*" >&2; }
warn() { printf '%s\n' "rig: WARNING: $*" >&2; }
die()  { printf '%s\n' "rig: ERROR: $*" >&2; exit 2; }

# True if the Debian package is installed (not just known/half-removed).
pkg_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

# True if $1 is an ELF executable that needs no dynamic loader, i.e. one
# that can run in the guest, whose initramfs has no libc. A #! script counts
# too (busybox sh is there).
is_static_elf() {
	local hdr
	[ "$(head -c 2 "$1")" = '#!' ] && return 0
	hdr=$(LC_ALL=C readelf -lW "$1" 2>/dev/null) || return 1
	! grep -q 'INTERP' <<<"$hdr"
}

# Build hvx.ko, the selftests and userspace (OUT-DIR gets the build logs),
# or with DO-BUILD=0 take the hvx.ko already there. Sets hvx_ko (empty if
# there is none). A failure is reported with the caller's fail().
rig_build() {  # OUT-DIR DO-BUILD
	local out=$1 sub
	hvx_ko=
	if [ "$2" = 1 ]; then
		if rig_make "$out" module; then
			hvx_ko=$ROOT/hvx.ko
		elif [ "${HVX_RIG_ALLOW_NO_MODULE:-0}" = 1 ]; then
			warn "hvx.ko did not build; HVX_RIG_ALLOW_NO_MODULE=1: hvx phases skipped"
		else
			fail build "module (hvx.ko) does not build"
		fi
		for sub in selftests userspace; do  # userspace links the selftests library
			if [ -f "$ROOT/$sub/Makefile" ]; then
				rig_make "$out" "$sub" || fail build "$sub does not build"
			else
				log "build: $sub/Makefile does not exist yet; skipping"
			fi
		done
		return 0
	fi
	[ -f "$ROOT/hvx.ko" ] && hvx_ko=$ROOT/hvx.ko
	if [ -z "$hvx_ko" ] && [ "${HVX_RIG_ALLOW_NO_MODULE:-0}" != 1 ]; then
		fail build "no hvx.ko (run without --no-build, or set HVX_RIG_ALLOW_NO_MODULE=1)"
	fi
	return 0
}

rig_make() {  # OUT-DIR TARGET: make TARGET, quietly unless it fails
	local logf=$1/build-$2.log
	log "build: $2"
	if make -C "$ROOT" -j"$(nproc)" KDIR="$RIG_KDIR" "$2" >"$logf" 2>&1; then
		return 0
	fi
	echo "--- make $2 failed (full log: ${logf#"$ROOT"/}) ---"
	tail -n 60 "$logf"
	return 1
}

# selftests/bin/smp/* (the tests that need two host CPUs) packed into a
# cpio of their own, appended to the base initramfs in the boots with two
# CPUs. Sets smp_cpio (empty if there are no such binaries).
rig_smp_cpio() {  # OUT-DIR
	local stage=$1/initramfs-smp f
	smp_cpio=
	[ -d "$ROOT/selftests/bin/smp" ] || return 0
	rm -rf "$stage"
	mkdir -p "$stage/selftests/bin/smp"
	for f in "$ROOT"/selftests/bin/smp/*; do
		[ -f "$f" ] && [ -x "$f" ] || continue
		is_static_elf "$f" ||
			warn "${f#"$ROOT"/} is not a static executable (no libc in the guest): link it -static"
		cp "$f" "$stage/selftests/bin/smp/"
	done
	[ -n "$(ls -A "$stage/selftests/bin/smp")" ] || return 0
	(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$1/smp.cpio"
	smp_cpio=$1/smp.cpio
}

# Static busybox as DIR/bin/busybox, with a symlink for each applet.
rig_busybox() {  # DIR
	local bb applet
	bb=$(command -v busybox) || die "busybox not found (package busybox-static)"
	is_static_elf "$bb" || die "$bb is not static: install busybox-static"
	mkdir -p "$1/bin"
	cp "$bb" "$1/bin/busybox"
	for applet in $("$bb" --list); do
		[ "$applet" = busybox ] || ln -s busybox "$1/bin/$applet"
	done
}

# ---- hvx-run's guest (selftests/smp/boot_linux, make demo) ---------------

# What hvx-run boots inside the emulated machine, as a cpio appended to the
# boot with two CPUs: /hvx-run, the rig's own kernel as /guest/bzImage and
# (for the PVH entry) /guest/vmlinux, and /guest/initrd, a busybox
# initramfs whose /init is nested-init.sh. COMPACT=1 makes /guest/vmlinux
# the rig's vmlinux as kexec-helper compact writes it (sections and
# trailing zeroes out: 66 MB -> 35 MB; the Bochs rig, where every MB costs
# boot time). Sets boot_cpio (empty without hvx-run).
rig_boot_cpio() {  # OUT-DIR [COMPACT]
	local stage=$1/initramfs-boot nested=$1/initramfs-nested
	local helper=$ROOT/selftests/bin/kexec/kexec-helper
	boot_cpio=
	[ -x "$ROOT/userspace/hvx-run" ] || return 0
	rm -rf "$stage" "$nested"
	mkdir -p "$stage/guest" "$nested/proc" "$nested/sys" "$nested/dev"
	rig_busybox "$nested"
	cp "$RIG_SRC/nested-init.sh" "$nested/init"
	chmod 755 "$nested/init"
	(cd "$nested" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$stage/guest/initrd"
	cp "$ROOT/userspace/hvx-run" "$stage/hvx-run"
	cp "$RIG_KERNEL_DIR/boot/vmlinuz-$RIG_KVER" "$stage/guest/bzImage"
	if [ "${2:-0}" = 1 ]; then
		"$helper" compact "$RIG_VMLINUX" "$stage/guest/vmlinux" ||
			die "kexec-helper compact $RIG_VMLINUX failed"
	else
		cp "$RIG_VMLINUX" "$stage/guest/vmlinux"
	fi
	(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$1/boot.cpio"
	# shellcheck disable=SC2034  # for the caller
	boot_cpio=$1/boot.cpio
}

# ---- the kexec boot (scripts/rig/guest-kexec.sh), shared by both rigs ----

# The kexec boot's additions to the base initramfs (BASE-CPIO), for the
# first kernel: the helper, the test script, and the same hvx.ko without
# its debug info (3.5 MB -> 0.2 MB) in place of the base one. And what
# rig_kexec_payload() makes the later kernels' initramfs of:
# kexec-next.cpio, the base initramfs less what they do not run (the
# selftests but RIG_KEXEC_TEST, hvx-bench) plus the same additions, and
# kexec-vmlinux, the rig's vmlinux compacted by the helper (no sections,
# no trailing zeroes: 66 MB -> 35 MB), which kexec_load() takes as it is.
# Nothing of it is packed in the guest: busybox cpio copies file data at
# ~0.25 s of guest time per MB under Bochs. Sets kexec_cpio; a missing
# helper is reported with the caller's fail() (kexec_cpio stays empty).
rig_kexec_cpio() {  # OUT-DIR HVX-KO BASE-CPIO
	local stage=$1/initramfs-kexec next=$1/initramfs-kexec-next
	local helper=$ROOT/selftests/bin/kexec/kexec-helper f
	kexec_cpio=
	if [ ! -x "$helper" ]; then
		fail system/kexec "selftests/bin/kexec/kexec-helper was not built"
		return 0
	fi
	if ! "$helper" compact "$RIG_VMLINUX" "$1/kexec-vmlinux"; then
		fail system/kexec "kexec-helper compact $RIG_VMLINUX failed"
		return 0
	fi
	rm -rf "$stage" "$next"
	mkdir -p "$stage/rig" "$stage/selftests/bin/kexec" "$next"
	cp "$helper" "$stage/selftests/bin/kexec/"
	strip --strip-debug -o "$stage/hvx.ko" "$2"
	cp "$RIG_SRC/guest-kexec.sh" "$stage/rig/kexec.sh"
	(cd "$stage" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$1/kexec.cpio"
	(cd "$next" && cpio -idm --quiet <"$3")
	for f in "$next"/selftests/bin/* "$next"/hvx-bench; do
		[ -e "$f" ] || continue
		[ "${f##*/}" = "$RIG_KEXEC_TEST" ] || rm -rf "$f"
	done
	cp -a "$stage/." "$next/"
	for f in "$next"/lib/modules/rig/*.ko; do rig_unsign_ko "$f"; done
	(cd "$next" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$1/kexec-next.cpio"
	rm -rf "$next"
	# shellcheck disable=SC2034  # for the caller
	kexec_cpio=$1/kexec.cpio
}

# FILE.ko less its appended signature: the kernel loads it unsigned,
# tainting itself (as hvx.ko does anyway). Checking kvm.ko's took 2.7 s
# of guest time under Bochs, which every later kernel of the kexec boot
# would pay again.
rig_unsign_ko() {  # FILE
	local size len
	[ "$(tail -c 28 "$1")" = "~Module signature appended~" ] || return 0
	size=$(stat -c %s "$1")
	# struct module_signature (12 bytes) before the marker ends with the
	# signature's length, big-endian.
	len=$(od -An -tu1 -j $((size - 32)) -N 4 "$1" |
	      awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
	truncate -s $((size - 28 - 12 - len)) "$1"
}

# The kexec boot's per-boot archive (after its CONF-CPIO, /rig/conf and
# the rest): /rig/kexec/next.cpio, the later kernels' initramfs
# (kexec-next.cpio and CONF-CPIO), and /rig/kexec/carry.cpio, the
# kernel (boot/vmlinux) and next.cpio again, for the kexec'd kernel to
# load the crash kernel with. guest-kexec.sh hands them to kexec_load()
# as they are, with a small archive of its own (/rig/kexec-stage)
# behind. Prints the archive's path.
rig_kexec_payload() {  # OUT-DIR BOOT-DIR CONF-CPIO
	local d=$2/kexec-payload
	rm -rf "$d"
	mkdir -p "$d/rig/kexec" "$d/carry/boot" "$d/carry/rig/kexec"
	cat "$1/kexec-next.cpio" "$3" >"$d/rig/kexec/next.cpio"
	cp "$d/rig/kexec/next.cpio" "$d/carry/rig/kexec/next.cpio"
	ln -s "$1/kexec-vmlinux" "$d/carry/boot/vmlinux"
	(cd "$d/carry" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet --dereference) >"$d/rig/kexec/carry.cpio"
	(cd "$d" && find rig -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) >"$2/kexec-payload.cpio"
	rm -rf "$d"
	echo "$2/kexec-payload.cpio"
}

# The kernel messages a kexec boot printed on its console (every printk
# line with its timestamp), less the crash stage's own panic: its lines
# (the panic and its stack trace) between "KEXEC crash-now" and the crash
# kernel's first marker; anything else there still counts.
rig_kexec_console() {  # SERIAL-TXT
	awk '/^@@@ KEXEC crash-now/ { w = 1 } /^@@@ KEXEC stage=/ { w = 0 }
	     w && /Kernel panic - not syncing: sysrq triggered crash|Call Trace:/ { next }
	     /^\[ *[0-9]+\.[0-9]+\]/' "$1"
}

# The last stage a kexec boot reached ("@@@ KEXEC" markers; "" if none).
rig_kexec_reached() {  # SERIAL-TXT
	sed -n 's/^@@@ KEXEC //p' "$1" | tail -n 1
}

# Why a kexec boot that did not finish failed, from the last stage it
# reached and how the boot ended.
rig_kexec_why() {  # REACHED HOW-IT-ENDED
	case $1 in
	exec) echo "the kexec'd kernel never ran /init: $2" ;;
	crash-now) echo "the crash kernel never ran /init: $2" ;;
	'') echo "$2 before the test began" ;;
	*) echo "$2 (after stage $1)" ;;
	esac
}
