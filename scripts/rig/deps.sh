#!/bin/bash
# Install what the test rig needs on a Debian 12 host (run as root), and
# fetch + unpack the rig's guest kernel into build/rig/.
#
# Cheap when everything is present: dpkg-query only, no network. apt-get
# update runs only when something is actually missing, because it is the
# slow, network-dependent step.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

PACKAGES=(qemu-system-x86 busybox-static cpio xz-utils
	  "linux-headers-$RIG_KVER" gcc make)

apt_updated=0
apt_update_once() {
	if [ "$apt_updated" = 0 ]; then
		log "apt-get update"
		apt-get update -qq
		apt_updated=1
	fi
}

install_missing() {
	local missing=() p
	for p in "$@"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root"
	apt_update_once
	log "installing: ${missing[*]}"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	     --no-install-recommends "${missing[@]}"; then
		die "apt-get install failed for: ${missing[*]}. If the linux-*-$RIG_KVER
packages are gone from the archive, Debian moved to a new kernel ABI: bump
RIG_KVER/RIG_KPKG_VERSION in scripts/rig/config.sh."
	fi
}

# The guest kernel: apt-get download + dpkg-deb -x (3-4 s) instead of
# installing it, which would run initramfs-tools and touch the host's /boot.
fetch_kernel() {
	local stamp=$RIG_KERNEL_DIR/.rig-stamp want="$RIG_KVER $RIG_KPKG_VERSION"
	if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] &&
	   [ -s "$RIG_VMLINUX" ]; then
		return 0
	fi
	local dl=$RIG_OUT/dl pkg=linux-image-$RIG_KVER
	rm -rf "$dl" "$RIG_KERNEL_DIR" "$RIG_VMLINUX"
	mkdir -p "$dl"
	# Without package lists (fresh image) apt knows no package at all.
	apt-cache show "$pkg" >/dev/null 2>&1 || apt_update_once
	log "downloading $pkg ($RIG_KPKG_VERSION)"
	# The exact version first; the same ABI name with another version has
	# the same module ABI, so fall back to it with a warning.
	# Sandbox user root: _apt may not write into our build directory.
	if ! (cd "$dl" && apt-get -qq -o APT::Sandbox::User=root download \
	      "$pkg=$RIG_KPKG_VERSION"); then
		warn "$pkg=$RIG_KPKG_VERSION not available; trying any version"
		(cd "$dl" && apt-get -qq -o APT::Sandbox::User=root download \
		 "$pkg") || die "cannot download $pkg. Debian probably moved to a
new kernel ABI: bump RIG_KVER/RIG_KPKG_VERSION in scripts/rig/config.sh."
	fi
	mkdir -p "$RIG_KERNEL_DIR"
	dpkg-deb -x "$dl"/"$pkg"_*.deb "$RIG_KERNEL_DIR"
	extract_vmlinux "$RIG_KERNEL_DIR/boot/vmlinuz-$RIG_KVER" "$RIG_VMLINUX"
	rm -rf "$dl"
	echo "$want" >"$stamp"
}

# QEMU boots the uncompressed kernel through its PVH entry 2-3 s faster
# than the bzImage (no SeaBIOS, no XZ decompression under TCG). The bzImage
# carries the kernel as one XZ stream; bytes after it (size trailer, padding)
# are ignored with --single-stream. The magic can in principle also occur
# earlier by chance, so try each hit until one decompresses to an ELF.
extract_vmlinux() {
	local vmlinuz=$1 out=$2 off
	for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
		# xz stops reading after the stream: tail's SIGPIPE is expected.
		if { tail -c +$((off + 1)) "$vmlinuz" || true; } |
		   xz --single-stream -dc >"$out.tmp" 2>/dev/null &&
		   [ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
			mv "$out.tmp" "$out"
			return 0
		fi
	done
	rm -f "$out.tmp"
	die "no XZ-compressed ELF kernel found in $vmlinuz"
}

install_missing "${PACKAGES[@]}"
fetch_kernel
