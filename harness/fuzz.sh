#!/bin/bash
# `make fuzz N=<cases> [SEED=s]`: boot the debug kernel (build/bzImage,
# built by `make kernel`, which the make target depends on) and run
# cr_fuzz from the initramfs for N random cases after the regression
# recipes.  The kept cases come out of the guest only on its output:
# each is extracted into build/fuzz/<seed>/<tag>.txt (verdict, reason,
# recipe) and <tag>.img (the image, for ckptinfo or restart -i).
#
# CR_FUZZ_BIN=dir runs dir/cr_fuzz instead (a fresh build, without
# rebuilding the initramfs); CR_FUZZ_ARGS adds options (cr_fuzz -h).
#
# Exit status: 0 if nothing was kept and the console is clean; 1 if a
# case was kept; the guest's 125 (hung or crashed) or 126 (kernel report
# on the console, kmemleak included) otherwise.
set -u
. "$(dirname "$0")/lib.sh"
cd "$REPO"

n=${N:-3000}
seed=${SEED:-$(date +%s)}
case $n$seed in *[!0-9]*) die "N and SEED must be numbers (N=$n SEED=$seed)" ;; esac
# about 10 cases/s under TCG, a minute to minimise each kept case
timeout=$((300 + n / 4))
out=$BUILD/fuzz/$seed
run=$BUILD/runs/fuzz

prog=/tests/checkpoint/cr_fuzz
extra=()
if [ -n "${CR_FUZZ_BIN:-}" ]; then
	[ -x "$CR_FUZZ_BIN/cr_fuzz" ] || die "no $CR_FUZZ_BIN/cr_fuzz"
	extra=(-x "$CR_FUZZ_BIN")
	prog=/extra/cr_fuzz
fi

[ -f "$BUILD/bzImage" ] || die "no $BUILD/bzImage: run 'make kernel' first"
log "fuzz: $n cases, seed $seed, guest timeout ${timeout}s (debug kernel $BUILD/bzImage)"
CR_KERNEL=$BUILD/bzImage "$REPO/harness/vm.sh" -q -n fuzz -t "$timeout" "${extra[@]}" -- \
	"$prog -n $n -s $seed -m 60 ${CR_FUZZ_ARGS:-}"
rc=$?

# The run without the images; then every kept case into its files.
grep -v '^# b64 ' "$run/out.txt" | grep -v '^CR-EXIT-STATUS: '
rm -rf "$out"
mkdir -p "$out"
awk -v dir="$out" '
	/^# CR-FUZZ-CASE-BEGIN / { tag = $3; txt = dir "/" tag ".txt"; b64 = dir "/" tag ".b64"; next }
	/^# CR-FUZZ-CASE-END / { close(txt); close(b64); tag = ""; next }
	tag != "" && /^# b64 / { print $3 > b64; next }
	tag != "" { sub(/^# /, ""); print > txt }
' "$run/out.txt"
kept=0
for t in "$out"/*.txt; do
	[ -e "$t" ] || continue
	kept=$((kept + 1))
	b=${t%.txt}.b64
	if [ -s "$b" ]; then
		base64 -d "$b" > "${t%.txt}.img" || echo "fuzz: bad base64 in $b" >&2
	fi
	rm -f "$b"
done
if [ $kept -gt 0 ]; then
	echo "fuzz: $kept kept case(s) in $out:"
	for t in "$out"/*.txt; do
		echo "  $(basename "$t" .txt): $(sed -n 's/^verdict: //p' "$t" | head -n 1)"
		sed -n 's/^recipe: /    recipe: /p; s/^reason: /    reason: /p' "$t"
	done
	echo "fuzz: replay one with: make vm-run CMD='/tests/checkpoint/cr_fuzz -r \"RECIPE\"'"
else
	rmdir "$out" 2>/dev/null
fi
case $rc in
0) [ $kept -eq 0 ] || rc=1 ;;
125) echo "fuzz: the guest hung or crashed (see $run/console.txt)" ;;
126) echo "fuzz: kernel report on the console (see $run/console.txt)" ;;
esac
echo "fuzz: exit status $rc"
exit $rc
