#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The userspace tools end to end: ckpt-run, checkpoint, ckptinfo, restart,
# their exit statuses and messages.  TAP output.
dir=/tmp/crtest/tools
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; fi; }

echo "TAP version 13"
echo "1..11"
rm -rf $dir && mkdir -p $dir

pid=$(ckpt-run -d --no-init -- cr-counter $dir/log)
sleep 2
checkpoint -o $dir/img "$pid" 2> $dir/err
check "checkpoint exits 0" test $? -eq 0
c0=$(tail -n 1 $dir/log | cut -d' ' -f2)
ckptinfo $dir/img > $dir/info
check "ckptinfo accepts the image" grep -q 'checksum [0-9a-f]* ok' $dir/info
ckptinfo --json $dir/img > $dir/json
recs=$(grep -c '"index"' $dir/json)
check "ckptinfo --json lists every record" sh -c "head -n1 $dir/json | grep -q '^\[' && tail -n1 $dir/json | grep -q '^\]' && grep -q \"records:    $recs \" $dir/info"
kill -9 "$pid"
sleep 0.3
echo marker >> $dir/log
rpid=$(restart -d -i $dir/img)
check "restart -d prints the restored init's pid" test -n "$rpid" -a -d "/proc/$rpid"
sleep 2
first=$(sed -n '/^marker$/{n;p;q}' $dir/log | cut -d' ' -f2)
check "the counter carries on from its checkpointed count" \
	test -n "$first" -a "${first:-0}" -gt 1 -a "${first:-0}" -le $((c0 + 1))
kill -9 "$rpid"

head -c 1000 $dir/img > $dir/short
ckptinfo $dir/short 2> $dir/err
check "ckptinfo refuses a truncated image" sh -c "test $? -eq 1 && grep -q truncated $dir/err"
restart -i $dir/short 2> $dir/err
rc=$?
check "restart of a truncated image exits 1 with the kernel's reason" \
	sh -c "test $rc -eq 1 && grep -q '^restart: image truncated' $dir/err"
checkpoint -o $dir/x 999999 2> $dir/err
rc=$?
check "checkpoint of no process exits 1 with the reason" \
	sh -c "test $rc -eq 1 && grep -q '^checkpoint: no process 999999' $dir/err"
for t in checkpoint restart ckptinfo ckpt-run; do $t -h > $dir/h.$t; echo $? >> $dir/h.$t; done
check "every tool prints usage on -h and exits 0" \
	sh -c "grep -q '^usage: ' $dir/h.checkpoint && grep -q '^usage: ' $dir/h.restart && grep -q '^usage: ' $dir/h.ckptinfo && grep -q '^usage: ' $dir/h.ckpt-run && test \$(cat $dir/h.* | grep -c '^0$') -eq 4"
checkpoint -Z 2> /dev/null
check "a bad option exits 2" test $? -eq 2
ckpt-run -- sh -c 'exit 7'
check "ckpt-run exits with the command's status" test $? -eq 7
exit $fail
