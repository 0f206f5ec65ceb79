#!/bin/bash
# Install the Debian packages the harness needs, if any is missing.
#   deps.sh           what make check, demo, fuzz and kernel need
#   deps.sh bench     that and what make bench needs too (criu, copied
#                     into the bench guest)
set -eu
PKGS="linux-source-6.12 qemu-system-x86 busybox-static ccache sparse
      gcc make flex bison bc libelf-dev libssl-dev cpio xz-utils kmod
      perl python3 libc6-dev file"
case ${1:-} in
"") ;;
bench) PKGS="$PKGS criu" ;;
*) echo "usage: $0 [bench]" >&2; exit 2 ;;
esac
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
[ "$(id -u)" -eq 0 ] || { echo "error: need root to install:$missing" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
