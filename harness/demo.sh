#!/bin/bash
# `make demo`: set up, build, boot the kernel, and show a counter in a
# container checkpointed, killed, restarted, and carrying on.
set -u
. "$(dirname "$0")/lib.sh"
phase packages "$REPO/harness/deps.sh" || exit 1
phase kernel "$REPO/harness/build-kernel.sh" build || exit 1
phase userspace "$REPO/harness/userspace.sh" || exit 1
exec "$REPO/harness/vm.sh" -n demo -t 300 -a cr.nokmemleak -- "$(cat "$REPO/harness/guest/demo.sh")"
