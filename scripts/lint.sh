#!/bin/bash
# make lint: sparse and checkpatch --strict over the module's sources.
# Exits non-zero on any sparse/compiler warning or any checkpatch ERROR,
# WARNING or CHECK. Installs what it needs (as root) on Debian 12.
set -euo pipefail
. "$(dirname "$0")/rig/lib.sh"

LINT_OUT=$ROOT/build/lint
mkdir -p "$LINT_OUT"

# --- tools -----------------------------------------------------------------
# checkpatch.pl is not packaged on its own: Debian ships it inside the kernel
# source tarball of linux-source-6.1. Only three files are needed from it.
need=()
for p in sparse perl gcc make "linux-headers-$RIG_KVER" linux-source-6.1; do
	pkg_installed "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || die "missing packages (${need[*]}); run as root"
	log "installing: ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${need[@]}"
fi
checkpatch=$LINT_OUT/scripts/checkpatch.pl
if [ ! -f "$checkpatch" ]; then
	tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -1)
	[ -n "$tarball" ] || die "no /usr/src/linux-source-6.1.tar.* (package linux-source-6.1)"
	log "extracting checkpatch.pl from $tarball"
	top=$(tar -tf "$tarball" | head -1) || true  # SIGPIPE from head
	top=${top%%/*}
	# checkpatch reads spelling.txt and const_structs.checkpatch from its
	# own directory. --occurrence: stop reading once all three are found.
	tar -xf "$tarball" -C "$LINT_OUT" --strip-components=1 --occurrence=1 \
		"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
		"$top/scripts/const_structs.checkpatch"
fi

status=0

# --- sparse ----------------------------------------------------------------
# C=2 checks every file, built or not. The module is built in the tree, as
# make module does, so share the rig's lock with a concurrent make check.
mkdir -p "$RIG_OUT"
exec 9>"$RIG_OUT/.lock"
flock -n 9 || { log "waiting for a rig run in this tree to finish"; flock 9; }
log "sparse (make -C $RIG_KDIR M=$ROOT C=2 modules)"
slog=$LINT_OUT/sparse.log
if ! make -C "$RIG_KDIR" M="$ROOT" C=2 modules >"$slog" 2>&1; then
	cat "$slog"
	echo "lint: the module does not build"
	status=1
fi
flock -u 9
# Sparse and gcc report as "file:line:col: warning|error: ...".
if grep -E ': (warning|error): |^WARNING: ' "$slog"; then
	echo "lint: sparse/compiler reported the warnings above"
	status=1
fi

# --- checkpatch --------------------------------------------------------------
# Ignored checkpatch types, each because it does not fit an out-of-tree
# module:
#   FILE_PATH_CHANGES   asks for MAINTAINERS updates; there is no MAINTAINERS.
#   LINUX_VERSION_CODE  in-tree code is built for one kernel only; hvx builds
#                       on several (6.1, 6.12, 7.x), so module/compat.h must
#                       test the version.
# And one filtered finding: CONSTANT_COMPARISON on a line that compares
# LINUX_VERSION_CODE (the "LINUX_VERSION_CODE >= KERNEL_VERSION(...)" idiom
# has constants on both sides).
mapfile -t files < <(cd "$ROOT" && find module -type f \
	\( -name '*.c' -o -name '*.h' -o -name '*.S' \) | LC_ALL=C sort)
if [ ${#files[@]} -gt 0 ]; then
	log "checkpatch --strict over ${#files[@]} files"
	cp_rc=0
	cp_out=$( cd "$ROOT" && perl "$checkpatch" --strict --no-tree --terse \
		--show-types --no-summary --ignore FILE_PATH_CHANGES,LINUX_VERSION_CODE \
		-f "${files[@]}" 2>&1 ) || cp_rc=$?
	# 0: clean, 1: findings; anything else: checkpatch itself broke.
	if [ "$cp_rc" -gt 1 ]; then
		printf '%s\n' "$cp_out"
		die "checkpatch.pl failed to run (exit $cp_rc)"
	fi
	findings=$(while IFS= read -r line; do
		case $line in
		*:\ CHECK:CONSTANT_COMPARISON:*|*:\ WARNING:CONSTANT_COMPARISON:*)
			f=${line%%:*} rest=${line#*:} n=${rest%%:*}
			sed -n "${n}p" "$ROOT/$f" | grep -q LINUX_VERSION_CODE && continue ;;
		esac
		printf '%s\n' "$line"
	done <<<"$cp_out" | grep -E ': (ERROR|WARNING|CHECK):' || true)
	if [ -n "$findings" ]; then
		printf '%s\n' "$findings"
		echo "lint: checkpatch: $(wc -l <<<"$findings") finding(s)"
		status=1
	fi
fi

[ "$status" = 0 ] && echo "lint: clean"
exit "$status"
