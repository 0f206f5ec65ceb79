#!/bin/bash
# checkpatch --strict over our kernel files and patches; a W=1 build of
# our kernel objects with sparse (C=2: check even when up to date).
# Prints "PASS|FAIL static:<check>" lines; exit 1 if one failed.
set -u
. "$(dirname "$0")/lib.sh"
rc=0

kernel_files() {
	(cd "$REPO" && git ls-files --cached --others --exclude-standard) |
	grep '/' | grep -Ev '^(harness|patches|build|\.ci|tools|Documentation)/' |
	grep -E '(\.[ch]|Kconfig|Makefile)$'
}

cp_out=$BUILD/checkpatch.log
: > "$cp_out"
files=$(kernel_files | sed "s#^#$REPO/#")
# shellcheck disable=SC2086
(cd "$SRC" && perl scripts/checkpatch.pl --strict --no-summary --terse \
	--ignore FILE_PATH_CHANGES -f $files) >> "$cp_out" 2>&1
for p in "$REPO"/patches/*.patch; do
	(cd "$SRC" && perl scripts/checkpatch.pl --strict --no-summary --terse "$p") >> "$cp_out" 2>&1
done
if grep -qE '(ERROR|WARNING|CHECK):' "$cp_out"; then
	echo "FAIL static:checkpatch"
	sed 's/^/  | /' "$cp_out"
	rc=1
else
	echo "PASS static:checkpatch"
fi

# kernel-doc on every non-static function, and no malformed comment.
kd_out=$BUILD/kernel-doc.log
# shellcheck disable=SC2046
(cd "$SRC" && perl scripts/kernel-doc -none -Wall $(echo "$files" | grep '\.[ch]$')) > "$kd_out" 2>&1
if [ -s "$kd_out" ]; then
	echo "FAIL static:kernel-doc"
	sed 's/^/  | /' "$kd_out"
	rc=1
else
	echo "PASS static:kernel-doc"
fi

# A separate object tree, so that W=1 does not make the test kernel
# rebuild our objects with other flags on every run.
w1=$BUILD/kernel-w1
mkdir -p "$w1"
cmp -s "$KOBJ/.config" "$w1/.config" || cp "$KOBJ/.config" "$w1/.config"
objs=$(kernel_files | grep '\.c$' | sed 's/\.c$/.o/')
sp_out=$BUILD/sparse-w1.log
if [ -z "$objs" ]; then
	echo "PASS static:sparse-w1 (no kernel C files yet)"
else
	w1make() {
		make -C "$SRC" O="$w1" CC="ccache gcc" HOSTCC="ccache gcc" -j"$JOBS" -s "$@"
	}
	# need-config=1: kbuild takes every goal named check* (as checkpoint/
	# is) for a target that needs no .config, unless told otherwise.
	# shellcheck disable=SC2086
	{ w1make olddefconfig && w1make need-config=1 W=1 C=2 $objs; } > "$sp_out" 2>&1
	st=$?
	# Only diagnostics located in our files count: W=1 also warns about
	# some of 6.12's own headers.
	ours=$(grep -E '^[^ :]+:[0-9]+:([0-9]+:)? (warning|error)' "$sp_out" |
		while IFS=: read -r f rest; do
			real=$(cd "$w1" && readlink -f "$f")
			case $real in "$REPO"/build/*) ;; "$REPO"/*) echo "${real#"$REPO"/}:$rest" ;; esac
		done)
	if [ $st -ne 0 ] || [ -n "$ours" ]; then
		echo "FAIL static:sparse-w1"
		if [ -n "$ours" ]; then echo "$ours"; else cat "$sp_out"; fi | sed 's/^/  | /'
		rc=1
	else
		echo "PASS static:sparse-w1 ($(echo $objs | wc -w) objects)"
	fi
fi

# The image format: same layout for i386 and x86_64, field by field.  The
# checker must also catch a layout that differs.
if out=$(python3 "$REPO/harness/abi-layout.py" "$REPO/include/uapi/linux/checkpoint_hdr.h" \
	"$KOBJ/usr/include" 2>&1); then
	echo "PASS static:abi-layout-32-64 (${out#abi-layout: })"
else
	echo "FAIL static:abi-layout-32-64"
	echo "$out" | sed 's/^/  | /'
	rc=1
fi
printf '#include <linux/types.h>\nstruct cr_bad { __u32 a; __u64 b; };\n' > "$BUILD/abi-bad.h"
if python3 "$REPO/harness/abi-layout.py" "$BUILD/abi-bad.h" "$KOBJ/usr/include" >/dev/null 2>&1; then
	echo "FAIL harness:abi-layout-catches-a-difference"
	rc=1
else
	echo "PASS harness:abi-layout-catches-a-difference"
fi
exit $rc
