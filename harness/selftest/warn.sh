#!/bin/sh
# Harness self-test: trigger a kernel WARN on purpose; the command itself succeeds.
echo 1 > /sys/kernel/debug/checkpoint-harness/warn
