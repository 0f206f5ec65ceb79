#!/bin/bash
# `make bench`: boot the test kernel once and print checkpoint/restart
# figures beside memcpy bandwidth.  Not a test: it prints, it does not
# judge.  The kernel is the debug (KASAN, lockdep) kernel under TCG.
set -u
. "$(dirname "$0")/lib.sh"
phase packages "$REPO/harness/deps.sh" || exit 1
phase kernel "$REPO/harness/build-kernel.sh" build || exit 1
phase userspace "$REPO/harness/userspace.sh" || exit 1
CR_VM_MEM=4G exec "$REPO/harness/vm.sh" -n bench -t 1200 -a cr.nokmemleak -- \
	"echo 'linux-cr bench: debug kernel (KASAN, lockdep), QEMU TCG, $(nproc) host cores'; cr-bench ${CR_BENCH_SIZES:-64 512}"
