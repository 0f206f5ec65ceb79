#!/bin/bash
# Write (or rewrite) a patch of the series from the kernel tree in build/:
#   mkpatch.sh patches/NNNN-name.patch FILE...
# FILEs are tree paths edited in build/linux; the diff is taken against
# the pristine tree.  An existing patch keeps its description; a new one
# gets a description from $SUBJECT and $BODY.
set -eu
. "$(dirname "$0")/lib.sh"
out=$1
shift
hdr=$(mktemp)
if [ -f "$out" ]; then
	sed '/^---$/q' "$out" > "$hdr"
else
	printf 'From: linux-cr developers <linux-cr@localhost>\nSubject: [PATCH] %s\n\n%s\n\nSigned-off-by: linux-cr developers <linux-cr@localhost>\n---\n' \
		"${SUBJECT:?set SUBJECT}" "${BODY:?set BODY}" > "$hdr"
fi
{
	cat "$hdr"
	for f in "$@"; do
		if [ -e "$BUILD/pristine/$f" ]; then
			diff -u --label "a/$f" --label "b/$f" "$BUILD/pristine/$f" "$SRC/$f" || true
		else
			# shellcheck disable=SC2094
			(cd "$BUILD" && tar -xJOf "$TARBALL" "linux-source-6.12/$f") > "$hdr.orig"
			diff -u --label "a/$f" --label "b/$f" "$hdr.orig" "$SRC/$f" || true
			install -D -m 644 "$hdr.orig" "$BUILD/pristine/$f"
		fi
	done
} > "$out.tmp"
mv "$out.tmp" "$out"
rm -f "$hdr" "$hdr.orig"
# The tree holds the patch as written now: build-kernel.sh must not try
# to unapply the version it applied before (it no longer matches).
if [ -f "$BUILD/.applied/$(basename "$out")" ]; then
	cp "$out" "$BUILD/.applied/$(basename "$out")"
fi
echo "wrote $out"
