#!/bin/bash
# Prepare the kernel tree (unpack once, apply patches/, link the overlay)
# and build the test kernel incrementally.
#
#   build-kernel.sh prepare   tree only (unpack, patches, overlay links)
#   build-kernel.sh config    prepare + .config
#   build-kernel.sh [build]   config + bzImage
set -eu
. "$(dirname "$0")/lib.sh"

# CR_FLAVOR=debug (default): the test kernel of make check.
# CR_FLAVOR=release: no debug options, for make bench figures.
FLAVOR=${CR_FLAVOR:-debug}
case $FLAVOR in
debug)
	FRAGMENTS="$REPO/harness/configs/base.config
$REPO/tools/testing/selftests/checkpoint/config
$REPO/harness/configs/debug.config"
	IMAGE=$BUILD/bzImage ;;
release)
	KOBJ=$BUILD/kernel-release
	FRAGMENTS="$REPO/harness/configs/base.config
$REPO/harness/configs/release.config"
	IMAGE=$BUILD/bzImage-release ;;
*)
	die "unknown CR_FLAVOR=$FLAVOR" ;;
esac

unpack() {
	local want have
	want=$(base_version)
	have=$(cat "$BUILD/.unpacked" 2>/dev/null || true)
	[ -d "$SRC" ] && [ "$want" = "$have" ] && return 0
	[ -f "$TARBALL" ] || die "$TARBALL missing: run harness/deps.sh"
	log "unpacking linux-source-6.12 $want"
	rm -rf "$SRC" "$BUILD/.applied" "$BUILD/.unpacked" "$BUILD/linux-source-6.12"
	mkdir -p "$BUILD"
	tar -C "$BUILD" -xJf "$TARBALL"
	mv "$BUILD/linux-source-6.12" "$SRC"
	mkdir -p "$BUILD/.applied"
	echo "$want" > "$BUILD/.unpacked"
}

# Bring the tree from the series applied last time to the one in
# patches/: unapply what changed (newest first), apply what is new.
apply_patches() {
	local applied=$BUILD/.applied p f keep=0 old=() new=() i
	mkdir -p "$applied" "$BUILD/pristine"
	mapfile -t old < <(cd "$applied" && ls -1 -- *.patch 2>/dev/null | LC_ALL=C sort)
	mapfile -t new < <(cd "$REPO/patches" && ls -1 -- *.patch 2>/dev/null | LC_ALL=C sort)
	# Keep the longest common prefix of identical patches.
	while [ $keep -lt ${#old[@]} ] && [ "${new[$keep]:-}" = "${old[$keep]}" ] &&
	      cmp -s "$applied/${old[$keep]}" "$REPO/patches/${old[$keep]}"; do
		keep=$((keep + 1))
	done
	for ((i = ${#old[@]} - 1; i >= keep; i--)); do
		p=${old[$i]}
		log "unapplying $p"
		patch -d "$SRC" -p1 -R -s --no-backup-if-mismatch < "$applied/$p" ||
			die "cannot unapply $p: remove $BUILD to start afresh"
		rm -f "$applied/$p"
	done
	for ((i = keep; i < ${#new[@]}; i++)); do
		p=${new[$i]}
		log "applying $p"
		patch -d "$SRC" -p1 -s -N --no-backup-if-mismatch --dry-run \
			< "$REPO/patches/$p" >/dev/null 2>&1 ||
			die "patch $p does not apply to linux-source-6.12 $(base_version)"
		# The tree before any of our patches, for harness/mkpatch.sh.
		for f in $(sed -n 's#^+++ b/\([^\t]*\).*#\1#p' "$REPO/patches/$p"); do
			[ -e "$BUILD/pristine/$f" ] || [ ! -e "$SRC/$f" ] ||
				install -D -m 644 "$SRC/$f" "$BUILD/pristine/$f"
		done
		patch -d "$SRC" -p1 -s -N --no-backup-if-mismatch < "$REPO/patches/$p"
		cp "$REPO/patches/$p" "$applied/$p"
	done
}

# Every file of ours at an in-tree path becomes a symlink in the tree.
overlay_files() {
	(cd "$REPO" && git ls-files --cached --others --exclude-standard 2>/dev/null ||
		find . -type f -printf '%P\n') |
	grep '/' | grep -Ev '^(harness|patches|build|\.ci|\.git)/' | sort -u
}

link_overlay() {
	local f dst n=0
	while read -r f; do
		[ -f "$REPO/$f" ] || continue
		dst=$SRC/$f
		if [ -L "$dst" ]; then
			[ "$(readlink "$dst")" = "$REPO/$f" ] && continue
		elif [ -e "$dst" ]; then
			die "overlay file $f would replace a kernel file: change it with a patch in patches/"
		fi
		mkdir -p "$(dirname "$dst")"
		ln -sfn "$REPO/$f" "$dst"
		n=$((n + 1))
	done < <(overlay_files)
	# Links to files that are gone from the overlay.
	find "$SRC" -type l -lname "$REPO/*" ! -exec test -e {} \; -print -delete |
		sed 's/^/removed stale link /' >&2
	[ $n -eq 0 ] || log "linked $n overlay file(s)"
}

prepare() {
	unpack
	apply_patches
	link_overlay
}

kmake() {
	make -C "$SRC" O="$KOBJ" CC="ccache gcc" HOSTCC="ccache gcc" -j"$JOBS" "$@"
}

configure() {
	local sum line sym val got bad=0
	sum=$(cat $FRAGMENTS "$REPO"/patches/*.patch | sha1sum | cut -c1-40)
	if [ -f "$KOBJ/.config" ] && [ "$(cat "$KOBJ/.fragments" 2>/dev/null)" = "$sum" ]; then
		return 0
	fi
	log "configuring: tinyconfig + $(echo $FRAGMENTS | sed "s#$REPO/##g")"
	mkdir -p "$KOBJ"
	kmake -s tinyconfig >/dev/null
	# shellcheck disable=SC2086
	(cd "$KOBJ" && "$SRC/scripts/kconfig/merge_config.sh" -m -O . .config $FRAGMENTS >/dev/null)
	kmake -s olddefconfig >/dev/null
	# Every fragment line must hold after olddefconfig.
	while read -r line; do
		case $line in
		CONFIG_*=*) sym=${line%%=*}; val=${line#*=}
			got=$(grep -E "^$sym=" "$KOBJ/.config" | cut -d= -f2- || true)
			[ "$got" = "$val" ] || { echo "config: $sym=$val requested, got '${got:-n}'" >&2; bad=1; } ;;
		"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}
			grep -qE "^$sym=" "$KOBJ/.config" && { echo "config: $sym requested off, is on" >&2; bad=1; } ;;
		esac
	done < <(cat $FRAGMENTS)
	[ $bad -eq 0 ] || die "kernel configuration does not hold (see above); fix the fragments"
	echo "$sum" > "$KOBJ/.fragments"
}

build() {
	log "building linux-source-6.12 $(base_version) + linux-cr, $FLAVOR kernel (ccache: $CCACHE_DIR)"
	kmake bzImage
	cp "$KOBJ/arch/x86/boot/bzImage" "$IMAGE"
	log "kernel ($FLAVOR): $(file -b "$IMAGE" 2>/dev/null | sed 's/, *RO-rootFS.*//' || echo "$IMAGE")"
}

case ${1:-build} in
prepare) prepare ;;
config) prepare; configure ;;
build) phase prepare prepare; phase configure configure; phase build build ;;
kmake) shift; prepare; configure; kmake "$@" ;;
*) die "usage: $0 [prepare|config|build|kmake ARGS]" ;;
esac
