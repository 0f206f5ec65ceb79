#!/bin/bash
# Build the guest's base initramfs: static busybox, /init, the test
# runner, the project's tools and the kselftests.
#   mkinitramfs.sh OUT.cpio
set -eu
. "$(dirname "$0")/lib.sh"
out=$1
root=$BUILD/initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,proc,sys,dev,tmp,root,etc,tests,extra}
bb=/bin/busybox
file -L "$bb" 2>/dev/null | grep -q 'statically linked' || bb=/usr/lib/busybox-static/busybox 2>/dev/null
[ -x "$bb" ] || die "static busybox missing: run harness/deps.sh"
cp "$bb" "$root/bin/busybox"
for a in $("$bb" --list-full); do
	[ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
done
cp "$REPO/harness/guest/init" "$root/init"
cp "$REPO/harness/guest/cr-run-tests" "$REPO/harness/guest/cr-guest-info" "$root/usr/local/bin/"
echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >> "$root/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$root/etc/group"
# userspace tools (tools/checkpoint) and kselftests, when built
if [ -d "$BUILD/tools" ]; then
	find "$BUILD/tools" -maxdepth 1 -type f -perm -u+x -exec cp {} "$root/usr/local/bin/" \;
fi
if [ -d "$BUILD/selftests" ]; then
	cp -r "$BUILD/selftests/." "$root/tests/"
	find "$root/tests" -name '*.o' -delete
fi
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$out.tmp"
mv "$out.tmp" "$out"
