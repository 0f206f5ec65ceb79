#!/bin/bash
# `make check`: install what is missing, build incrementally, run the
# static checks, boot the debug kernel and run every kselftest and KUnit
# suite, then prove that the harness itself catches failures.
#
# Prints one line per test and the closing line "N passed, N failed,
# N skipped"; exits non-zero if anything failed, hung or crashed, or if a
# console holds a kernel report.
set -u
. "$(dirname "$0")/lib.sh"
cd "$REPO"
t_start=$(date +%s)
all=$BUILD/check-results.txt
TEST_TIMEOUT=${CR_TEST_TIMEOUT:-300}
GUEST_TIMEOUT=${CR_GUEST_TIMEOUT:-1500}

phase packages "$REPO/harness/deps.sh" || exit 1
mkdir -p "$BUILD"
: > "$all"
log "base: linux-source-6.12 $(base_version)"
phase kernel "$REPO/harness/build-kernel.sh" build || { echo "kernel build failed"; exit 1; }
phase userspace "$REPO/harness/userspace.sh" || { echo "userspace build failed"; exit 1; }

phase static "$REPO/harness/static-checks.sh" | tee -a "$all"

# The tests.  The guest's own status is not the verdict: results.py is.
echo "== kselftests and KUnit (guest timeout ${GUEST_TIMEOUT}s, per test ${TEST_TIMEOUT}s)"
phase tests "$REPO/harness/vm.sh" -q -n tests -t "$GUEST_TIMEOUT" -- \
	"echo base: linux-source-6.12 $(base_version); cr-guest-info; CR_TEST_TIMEOUT=$TEST_TIMEOUT CR_RERUN='checkpoint/restore_test:hold checkpoint/restore_test:crid checkpoint/unix_test:crid checkpoint/tree_test:1 checkpoint/pipe_test:1 checkpoint/unix_test:hold checkpoint/fault_test:1' cr-run-tests /tests/checkpoint"
vm_rc=$?
run=$BUILD/runs/tests
# The guest must really have what QEMU gives it: concurrency and timing
# bugs hide on one CPU and a jiffies clock.
guest_cpus() {
	local cpus
	cpus=$(sed -n 's/^CR-GUEST-CPUS: //p' "$1")
	if [ "${cpus:-0}" -ge "$CR_VM_CPUS" ]; then
		echo "PASS guest:cpus ($cpus online, $CR_VM_CPUS requested)"
	else
		echo "FAIL guest:cpus (${cpus:-no} CPUs online, $CR_VM_CPUS requested)"
	fi
}
guest_clock() {
	local clock hres
	clock=$(sed -n 's/^CR-GUEST-CLOCK: //p' "$1")
	hres=$(sed -n 's/^CR-GUEST-HRES: //p' "$1")
	case ${clock:-none}:${hres:-none} in
	jiffies:* | refined-jiffies:* | none:* | *:none | *:[!1]*)
		echo "FAIL guest:clock (clocksource ${clock:-unknown}, hrtimer resolution ${hres:-unknown} ns)" ;;
	*)	echo "PASS guest:clock (clocksource $clock, hrtimer resolution $hres ns)" ;;
	esac
}
guest_cpus "$run/out.txt" | tee -a "$all"
guest_clock "$run/out.txt" | tee -a "$all"
python3 "$REPO/harness/results.py" "$run/out.txt" "$run/console.txt" | grep -v ' passed, ' | tee -a "$all"
case $vm_rc in
125) echo "FAIL guest:finished (the test guest hung or crashed)" | tee -a "$all" ;;
126) echo "FAIL guest:console (kernel report in the console, see above)" | tee -a "$all" ;;
*) echo "PASS guest:console" | tee -a "$all" ;;
esac

# The harness must catch failures: each case below must be reported.
echo "== harness self-tests (each boots a guest that must be reported as failing)"
selftest() {
	local name=$1 what=$2
	shift 2
	if "$@"; then
		echo "PASS harness:$name ($what)"
	else
		echo "FAIL harness:$name (not caught: $what)"
	fi | tee -a "$all"
}

st_fail() {
	local r=$BUILD/runs/selftest-fail res
	CR_KUNIT_FILTER="kunit.filter_glob=checkpoint_harness_selftest" \
	"$REPO/harness/vm.sh" -q -n selftest-fail -t 300 -x "$BUILD/harness-selftest" \
		-a cr.nokmemleak -- "CR_TEST_TIMEOUT=10 cr-run-tests /extra" >/dev/null 2>&1
	res=$(python3 "$REPO/harness/results.py" "$r/out.txt" "$r/console.txt")
	echo "$res" > "$r/results.txt"
	echo "$res" | grep -q '^PASS /extra/fail_test:global.passes$' &&
	echo "$res" | grep -q '^FAIL /extra/fail_test:global.fails_on_purpose' &&
	echo "$res" | grep -q '^FAIL /extra/crash_test (exit status 139 after 1 of 2 tests)' &&
	echo "$res" | grep -q '^FAIL /extra/hang_test (hung' &&
	echo "$res" | grep -q '^FAIL kunit:checkpoint_harness_selftest.cr_harness_kunit_fails' &&
	! echo "$res" | tail -n 1 | grep -q ' 0 failed'
}
st_warn() {
	"$REPO/harness/vm.sh" -q -n selftest-warn -t 300 -x "$BUILD/harness-selftest" \
		-a cr.nokmemleak -- "sh /extra/warn.sh" > "$BUILD/runs/selftest-warn.txt" 2>&1
	[ $? -eq 126 ] && grep -q 'console: WARNING' "$BUILD/runs/selftest-warn.txt"
}
st_hang() {
	"$REPO/harness/vm.sh" -q -n selftest-hang -t 30 -a cr.nokmemleak \
		-- "sleep 100000" > "$BUILD/runs/selftest-hang.txt" 2>&1
	[ $? -eq 125 ] && grep -q 'did not finish' "$BUILD/runs/selftest-hang.txt"
}
st_cpus() {
	local r=$BUILD/runs/selftest-cpus
	"$REPO/harness/vm.sh" -q -n selftest-cpus -t 120 -a "maxcpus=1 clocksource=jiffies cr.nokmemleak" \
		-- "cr-guest-info" >/dev/null 2>&1
	guest_cpus "$r/out.txt" | grep -q '^FAIL' && guest_clock "$r/out.txt" | grep -q '^FAIL'
}
phase selftest-cpus selftest guest-cpus-clock "a guest on one CPU with a jiffies clock" st_cpus
phase selftest-fail selftest failing-tests "a failing, a crashing and a hanging kselftest, a failing KUnit case" st_fail
phase selftest-warn selftest kernel-warn "a WARN in the console while the command succeeds" st_warn
phase selftest-hang selftest guest-hang "a guest that never finishes" st_hang

pass=$(grep -c '^PASS ' "$all")
fail=$(grep -c '^FAIL ' "$all")
skip=$(grep -c '^SKIP ' "$all")
echo "== $(($(date +%s) - t_start)) s in all"
[ "$fail" -eq 0 ] || { echo "failed:"; grep '^FAIL ' "$all" | sed 's/^/  /'; }
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
