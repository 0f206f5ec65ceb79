#!/bin/bash
# The bench guest's extra initramfs, appended to the base one by
# bench.sh (vm.sh -i): CRIU, as Debian's criu package installs it (the
# binary, every shared library ldd lists and the dynamic loader), and
# the in-guest driver cr-bench-guest.  The initramfs of make check does
# not have them.
#   mkbench-cpio.sh OUT.cpio
set -eu
. "$(dirname "$0")/lib.sh"
out=$1
criu=/usr/sbin/criu
[ -x $criu ] || die "$criu missing: run harness/deps.sh bench"
root=$BUILD/bench-initramfs
rm -rf "$root"
mkdir -p "$root/usr/sbin" "$root/usr/local/bin" "$root/run"
install -m 755 $criu "$root$criu"
# "libX.so => /lib/.../libX.so (0x...)" and "/lib64/ld-linux-x86-64.so.2 (0x...)"
libs=$(ldd $criu | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || die "ldd $criu lists no libraries"
for l in $libs; do
	install -D -m 755 "$(readlink -f "$l")" "$root$l"
done
install -m 755 "$REPO/harness/guest/cr-bench-guest" "$root/usr/local/bin/"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
