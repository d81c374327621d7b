# shellcheck shell=sh
# The one place the rig's kernel is pinned.
RIG_KVER=6.1.0-56-amd64
RIG_KPKG_VERSION=6.1.192-2
