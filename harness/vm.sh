#!/bin/bash
# Boot the test kernel under QEMU (TCG, no KVM), run a shell command as
# root in the guest and report.
#
#   vm.sh [-n NAME] [-t SECONDS] [-x DIR] [-a APPEND] [-i CPIO] [-q] -- COMMAND
#
#   -n NAME     run directory under build/runs (default: vm)
#   -t SECONDS  the whole guest is killed after this long (default 600)
#   -x DIR      files of DIR are in the guest at /extra
#   -a APPEND   more kernel command line
#   -i CPIO     append this archive to the guest's initramfs (repeatable;
#               make bench adds CRIU this way)
#   -q          do not copy the command's output to stdout
#
# Exit status: the command's own; 125 if the guest did not finish
# (hang, panic, timeout); 126 if the command succeeded but the console
# holds a kernel report (oops, WARN, KASAN, lockdep, leak, ...).
set -u
. "$(dirname "$0")/lib.sh"

name=vm timeout=600 extra= append= quiet=0 cpios=()
while getopts n:t:x:a:i:q o; do
	case $o in
	n) name=$OPTARG ;; t) timeout=$OPTARG ;; x) extra=$OPTARG ;;
	a) append=$OPTARG ;; q) quiet=1 ;;
	i) [ -f "$OPTARG" ] || die "no archive $OPTARG"; cpios+=("$OPTARG") ;;
	*) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
cmd=$*
[ -n "$cmd" ] || die "no command given"
kernel=${CR_KERNEL:-$BUILD/bzImage}
[ -f "$kernel" ] && [ -f "$BUILD/initramfs.cpio" ] || die "run 'make kernel' first"

run=$BUILD/runs/$name
rm -rf "$run"
mkdir -p "$run/root/extra"
if [ -n "$extra" ]; then
	[ -d "$extra" ] || die "EXTRA=$extra is not a directory"
	cp -a "$extra/." "$run/root/extra/"
fi
printf '#!/bin/sh\ncd /extra 2>/dev/null || cd /\n%s\n' "$cmd" > "$run/root/run.sh"
(cd "$run/root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) > "$run/run.cpio"
cat "$BUILD/initramfs.cpio" ${cpios[@]+"${cpios[@]}"} "$run/run.cpio" > "$run/initrd.cpio"
: > "$run/out.log"

kunit=${CR_KUNIT_FILTER-kunit.filter=module!=harness_test}
# no5lvl: 4-level paging, the address space of nearly every machine.  With
# -cpu max the guest would use LA57, and the KASAN kernel then sometimes
# reports a wild access in an interrupt taken during identify_cpu(), before
# any of our code runs (seen once in ~10 boots).
boot="no5lvl"
qemu-system-x86_64 -nodefaults -display none -no-reboot \
	-accel tcg,thread=multi -cpu max -smp "$CR_VM_CPUS" -m "${CR_VM_MEM:-2G}" \
	-kernel "$kernel" -initrd "$run/initrd.cpio" \
	-append "console=ttyS0 panic=-1 rdinit=/init $boot $kunit $append" \
	-serial "file:$run/console.log" -serial "file:$run/out.log" \
	-monitor none > "$run/qemu.log" 2>&1 &
qpid=$!
if [ $quiet -eq 0 ]; then
	tail -f --pid=$qpid -n +1 "$run/out.log" 2>/dev/null | grep --line-buffered -v '^CR-EXIT-STATUS: ' &
fi
deadline=$(($(date +%s) + timeout))
hung=0
while kill -0 $qpid 2>/dev/null; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		hung=1
		kill $qpid 2>/dev/null
		sleep 1
		kill -9 $qpid 2>/dev/null
		break
	fi
	sleep 0.5
done
wait $qpid 2>/dev/null
wait
tr -d '\r' < "$run/out.log" > "$run/out.txt"
tr -d '\r' < "$run/console.log" > "$run/console.txt"

rc=$(sed -n 's/^CR-EXIT-STATUS: \([0-9]*\)$/\1/p' "$run/out.txt" | tail -n 1)
if [ $hung -eq 1 ]; then
	echo "vm: guest did not finish within ${timeout}s (hang); last console lines:" >&2
	tail -n 15 "$run/console.txt" | sed 's/^/  | /' >&2
	rc=125
elif [ -z "$rc" ]; then
	echo "vm: guest stopped without reporting an exit status (panic or crash); last console lines:" >&2
	tail -n 25 "$run/console.txt" | sed 's/^/  | /' >&2
	rc=125
fi
if ! python3 "$REPO/harness/console-check.py" "$run/console.txt" >&2; then
	[ "$rc" -eq 0 ] && rc=126
fi
exit "$rc"
