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
