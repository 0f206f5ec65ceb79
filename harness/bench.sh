#!/bin/bash
# `make bench`: checkpoint/restart figures beside memcpy and write(2)
# bandwidth, one boot per kernel: the release kernel (no debug options)
# and the debug kernel of make check.  Not a test: it prints, it does not
# judge.  Both run under QEMU TCG (no KVM here).
set -u
. "$(dirname "$0")/lib.sh"
sizes=${CR_BENCH_SIZES:-64 512}
tasks=${CR_BENCH_TASKS:-1 10 100 1000}
phase packages "$REPO/harness/deps.sh" || exit 1
phase kernel "$REPO/harness/build-kernel.sh" build || exit 1
CR_FLAVOR=release phase kernel-release "$REPO/harness/build-kernel.sh" build || exit 1
phase userspace "$REPO/harness/userspace.sh" || exit 1
rc=0
for flavor in release debug; do
	image=$BUILD/bzImage
	[ $flavor = release ] && image=$BUILD/bzImage-release
	echo "== $flavor kernel ($([ $flavor = debug ] && echo 'KASAN, lockdep, kmemleak' || echo 'no debug options')), QEMU TCG, 4 GiB guest"
	CR_KERNEL=$image CR_VM_MEM=4G "$REPO/harness/vm.sh" -q -n bench-$flavor -t 1800 \
		-a cr.nokmemleak -- "cr-bench $sizes && cr-bench --tasks 64 $tasks" || rc=1
	sed '/^CR-EXIT-STATUS/d' "$BUILD/runs/bench-$flavor/out.txt"
done
exit $rc
