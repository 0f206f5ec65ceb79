#!/bin/bash
# Build everything that runs in the guest: uapi headers, the kselftests,
# the tools of tools/checkpoint, the harness's own self-test programs,
# and the base initramfs.
set -eu
. "$(dirname "$0")/lib.sh"
"$REPO/harness/build-kernel.sh" kmake -s headers
hdr="-isystem $KOBJ/usr/include"

rm -rf "$BUILD/selftests" && mkdir -p "$BUILD/selftests/checkpoint"
make -s -C "$SRC/tools/testing/selftests/checkpoint" \
	OUTPUT="$BUILD/selftests/checkpoint" KHDR_INCLUDES="$hdr" all
# TEST_PROGS scripts run as they are
for t in $(make -s -C "$SRC/tools/testing/selftests/checkpoint" -f Makefile \
	--eval='print-progs: ; @echo $(TEST_PROGS)' print-progs 2>/dev/null); do
	install -m 755 "$REPO/tools/testing/selftests/checkpoint/$t" "$BUILD/selftests/checkpoint/"
done

mkdir -p "$BUILD/tools"
if [ -f "$REPO/tools/checkpoint/Makefile" ]; then
	make -s -C "$REPO/tools/checkpoint" OUTPUT="$BUILD/tools/" \
		KHDR_INCLUDES="$hdr" all
fi


mkdir -p "$BUILD/harness-selftest"
for c in "$REPO"/harness/selftest/*.c; do
	gcc -static -O2 -Wall -I "$SRC/tools/testing/selftests" \
		-o "$BUILD/harness-selftest/$(basename "$c" .c)" "$c"
done
cp "$REPO"/harness/selftest/*.sh "$BUILD/harness-selftest/"

"$REPO/harness/mkinitramfs.sh" "$BUILD/initramfs.cpio"
