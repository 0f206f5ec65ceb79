#!/bin/bash
# `make bench [BENCH_JSON=file]`: our checkpoint/restart beside CRIU's
# dump/restore, in one boot of the release kernel (no debug options, 2
# CPUs, a precise clock) under QEMU TCG (no KVM here), with memcpy
# bandwidth and fork() measured in the same boot.  One table on stdout;
# the same figures as JSON in BENCH_JSON.  It reports the goals, it does
# not judge by them: it fails if criu check, a checkpoint, a restore or
# a restored program's check of its own memory fails, or if the guest
# lacks its CPUs or clock.
#
#   CR_BENCH_RUNS=3              runs of each workload (min and median)
#   CR_BENCH_WORKLOADS='...'     cr-bench --vs-criu workloads (default:
#                                mem:1 mem:64 mem:512 tree:10x4:64 files:1000:100)
#   CR_BENCH_MEMCPY=512          MiB of the memcpy bandwidth figure
#   CR_BENCH_DOWNTIME='64 512'   MiB of the downtime section's targets (direct
#                                and deferred checkpoints, their stalls);
#                                '' for no downtime section
#   CR_BENCH_ROLLBACK='64 512'   MiB of the rollback section's processes
#                                (checkpoint of itself, undo in place); ''
#                                for none
#   CR_BENCH_MORE=1              also the older tables in the same boot:
#                                checkpoint beside memcpy and write(2) for
#                                CR_BENCH_SIZES, and one memory spread over
#                                CR_BENCH_TASKS processes
#   CR_BENCH_DEBUG=1             also those older tables on the debug kernel
set -u
. "$(dirname "$0")/lib.sh"
runs=${CR_BENCH_RUNS:-3}
workloads=${CR_BENCH_WORKLOADS:-}
memcpy=${CR_BENCH_MEMCPY:-512}
read -ra dt_sizes <<< "${CR_BENCH_DOWNTIME-64 512}"
downtime=$(IFS=,; echo "${dt_sizes[*]}")
rollback=${CR_BENCH_ROLLBACK-64 512}
sizes=${CR_BENCH_SIZES:-64 512}
tasks=${CR_BENCH_TASKS:-1 10 100 1000}
json=${BENCH_JSON:-}
debug=${CR_BENCH_DEBUG:-0}
more=${CR_BENCH_MORE:-0}
older="cr-bench $sizes && cr-bench --tasks 64 $tasks"

phase packages "$REPO/harness/deps.sh" bench || exit 1
CR_FLAVOR=release phase kernel-release "$REPO/harness/build-kernel.sh" build || exit 1
if [ "$debug" = 1 ]; then
	phase kernel "$REPO/harness/build-kernel.sh" build || exit 1
fi
phase userspace "$REPO/harness/userspace.sh" || exit 1
phase bench-initramfs "$REPO/harness/mkbench-cpio.sh" "$BUILD/bench.cpio" || exit 1

cmd="cr-bench-guest --runs $runs --memcpy $memcpy --downtime ${downtime:-none} $workloads"
[ -n "$rollback" ] && cmd="$cmd && cr-bench --rollback $runs $rollback"
[ "$more" = 1 ] && cmd="$cmd && echo && $older"
criu_v=$(dpkg-query -W -f='${Version}' criu 2>/dev/null || echo unknown)
echo "== release kernel (no debug options) beside CRIU $criu_v, QEMU TCG, $CR_VM_CPUS CPUs, 4 GiB guest"
echo "   (a few minutes under TCG; the guest's whole output is in build/runs/bench-release/)"
CR_KERNEL=$BUILD/bzImage-release CR_VM_MEM=4G "$REPO/harness/vm.sh" -q -n bench-release -t 3600 \
	-i "$BUILD/bench.cpio" -a cr.nokmemleak -- "$cmd"
rc=$?
out=$BUILD/runs/bench-release/out.txt
sed '/^CR-BENCH-JSON-BEGIN$/,/^CR-BENCH-JSON-END$/d; /^CR-EXIT-STATUS/d; /^CR-GUEST-/d' "$out"
[ $rc -eq 0 ] || echo "FAIL bench: the guest's exit status is $rc"

# The figures hold only on the guest make check uses: its CPUs, a precise clock.
cpus=$(sed -n 's/^CR-GUEST-CPUS: //p' "$out")
clock=$(sed -n 's/^CR-GUEST-CLOCK: //p' "$out")
hres=$(sed -n 's/^CR-GUEST-HRES: //p' "$out")
echo "guest: ${cpus:-?} CPUs, clocksource ${clock:-?}, hrtimer resolution ${hres:-?} ns, kernel $(sed -n 's/^CR-GUEST-KERNEL: //p' "$out")"
if [ "${cpus:-0}" -lt "$CR_VM_CPUS" ]; then
	echo "FAIL bench: ${cpus:-no} CPUs online, $CR_VM_CPUS requested"
	rc=1
fi
case ${clock:-none}:${hres:-none} in
jiffies:* | refined-jiffies:* | none:* | *:none | *:[!1]*)
	echo "FAIL bench: clocksource ${clock:-unknown}, hrtimer resolution ${hres:-unknown} ns"
	rc=1 ;;
esac

if [ -n "$json" ]; then
	if sed -n '/^CR-BENCH-JSON-BEGIN$/,/^CR-BENCH-JSON-END$/p' "$out" | sed '1d;$d' |
	   python3 -c '
import json, os, platform, subprocess, sys, time
d = json.load(sys.stdin)
cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")]
qemu = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout
g = dict(l.split(": ", 1) for l in open(sys.argv[1]).read().splitlines()
         if l.startswith("CR-GUEST-") and ": " in l)
d = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
     "host": {"cpus": os.cpu_count(), "cpu": cpu[0] if cpu else platform.machine(),
              "qemu": qemu.splitlines()[0] if qemu else None, "accel": "tcg"},
     "guest": {"kernel": g.get("CR-GUEST-KERNEL"), "cpus": int(g.get("CR-GUEST-CPUS", 0)),
               "clocksource": g.get("CR-GUEST-CLOCK"), "memory": "4G",
               "criu": g.get("CR-GUEST-CRIU")},
     "exit_status": int(sys.argv[2]), **d}
json.dump(d, open(sys.argv[3], "w"), indent=1)
' "$out" "$rc" "$json"; then
		echo "JSON: $json"
	else
		echo "FAIL bench: no JSON from the guest for $json"
		rc=1
	fi
fi

if [ "$debug" = 1 ]; then
	echo
	echo "== debug kernel (KASAN, lockdep, kmemleak), QEMU TCG, 4 GiB guest"
	CR_KERNEL=$BUILD/bzImage CR_VM_MEM=4G "$REPO/harness/vm.sh" -q -n bench-debug -t 1800 \
		-a cr.nokmemleak -- "$older" || rc=1
	sed '/^CR-EXIT-STATUS/d' "$BUILD/runs/bench-debug/out.txt"
fi
exit $rc
