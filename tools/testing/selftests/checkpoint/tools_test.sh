#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The userspace tools end to end: ckpt-run, checkpoint, ckptinfo, restart,
# their exit statuses and messages.  TAP output.
dir=/tmp/crtest/tools
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n $1"; shift; for l in "$@"; do echo "# $l"; done; }
check() { name=$1; shift; if "$@"; then ok "$name"; else notok "$name"; return 1; fi; }
diag() { sed 's/^/# /' "$@"; }

echo "TAP version 13"
echo "1..29"
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
# the END record, last, after the page data: what the tail says
tsum=$(sed -n 's/.*"type": "tail".*"checksum": "\([0-9a-f]*\)".*/\1/p' $dir/json)
check "ckptinfo shows the END record after the page data, with the tail's checksum" \
	eval 'test -n "$tsum" &&
	tail -n 2 $dir/json | head -n 1 | grep -q "\"type\": \"end\", .*\"checksum\": \"$tsum\"}$" &&
	grep -q "^end: .*checksum $tsum as the tail.s: the checkpoint completed$" $dir/info &&
	grep -q "^records: .*, end 1," $dir/info' ||
	{ tail -n 3 $dir/json | diag; grep "^end:\|^records:" $dir/info | diag; }
# each PAGES object: its "runs" as many as its "nr_runs", their pages adding up to its "nr"
runs=$(awk '/"type": "pages"/ {
	n++
	if (!match($0, /"nr": [0-9]+, "flags"/)) { bad++; next }
	nr = substr($0, RSTART + 6, RLENGTH - 15) + 0
	if (!match($0, /"nr_runs": [0-9]+/)) { bad++; next }
	k = substr($0, RSTART + 11, RLENGTH - 11) + 0
	s = $0; sub(/.*"runs": \[/, "", s); sub(/\].*/, "", s)
	sum = 0; c = 0
	while (match(s, /"nr": [0-9]+}/)) {
		sum += substr(s, RSTART + 6, RLENGTH - 7); c++; s = substr(s, RSTART + RLENGTH)
	}
	if (k < 1 || c != k || sum != nr) bad++
	r += k
} END { if (n && !bad) print r }' $dir/json)
check "ckptinfo --json: a PAGES record's runs add up to its pages, all of them to the memory line's" \
	eval 'test -n "$runs" && grep -q "^memory: .* in $runs runs*$" $dir/info' ||
	{ grep '"type": "pages"' $dir/json | head -n 3 | diag; grep '^memory:' $dir/info | diag; }
checkpoint -N -o $dir/nocsum "$pid" 2> $dir/err
rc=$?
ckptinfo $dir/nocsum > $dir/info.nocsum 2>&1
check "checkpoint -N: no PAGES record has a page data checksum, as ckptinfo sees it" \
	eval 'test $rc -eq 0 &&
	grep -q "^page data: .*: 0 checksums ok, [1-9][0-9]* without a checksum$" $dir/info.nocsum &&
	grep -q "^page data: .*: [1-9][0-9]* checksums* ok, 0 without a checksum$" $dir/info' ||
	diag $dir/err $dir/info.nocsum
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
# the last 32 bytes cut off: the END record, which says the checkpoint completed
head -c $(($(wc -c < $dir/img) - 32)) $dir/img > $dir/noend
ckptinfo $dir/noend > /dev/null 2> $dir/err
rc=$?
check "ckptinfo refuses an image without its END record" \
	eval 'test $rc -eq 1 && grep -q "^ckptinfo: no end record after the page data.*the checkpoint did not complete$" $dir/err' ||
	diag $dir/err
restart -i $dir/noend 2> $dir/err
rc=$?
check "restart of an image without its END record exits 1 with the kernel's reason" \
	eval 'test $rc -eq 1 && grep -q "^restart: .*no end record" $dir/err' || diag $dir/err
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

# The flags of checkpoint and restart, on a container of two tasks:
# ckpt-run's default init (pid 1) and the counter (pid 2).
children() { awk -v p="$1" '$4 == p { print $1 }' /proc/[0-9]*/stat 2> /dev/null; }
frozen() {
	grep -qx 'frozen 1' "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup")/cgroup.events"
}
# whether the log grows within a second
grows() { a=$(wc -l < "$1"); sleep 1; test "$(wc -l < "$1")" -gt "$a"; }
# whether the process exits (or is a zombie) within 5 s
gone() {
	i=0
	while [ $i -lt 50 ]; do
		[ -d "/proc/$1" ] || return 0
		grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2> /dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

checkpoint -F -k -o $dir/x 1 2> $dir/err
rc=$?
check "checkpoint -F -k is a usage error" \
	eval 'test $rc -eq 2 && grep -q "^usage: " $dir/err && test ! -e $dir/x'
rcs=
for a in "--thaw" "--thaw 1 2" "--thaw 1 -o $dir/x" "--thaw 1 -k" "--thaw x"; do
	checkpoint $a 2> /dev/null
	rcs="$rcs$?"
done
check "checkpoint --thaw takes a pid and nothing else" test "$rcs" = 22222
checkpoint --thaw 999999 2> /dev/null
check "checkpoint --thaw of no process exits 1" test $? -eq 1

pid=$(ckpt-run -d -- cr-counter $dir/log2)
sleep 2
child=$(children "$pid")
checkpoint -o $dir/x "$child" 2> $dir/err
rc=$?
check "checkpoint of a process that is no container's init fails with EINVAL" \
	eval 'test $rc -eq 1 && grep -q "^checkpoint: .*(Invalid argument)$" $dir/err' ||
	diag $dir/err
checkpoint -s -o $dir/sub "$child" 2> $dir/err
rc=$?
ckptinfo $dir/sub > $dir/info.sub 2>&1
check "checkpoint -s saves the subtree of pid 2: its tree is pid 2 alone" \
	eval 'test $rc -eq 0 && grep -q "^tasks: *1 (" $dir/info.sub &&
	grep -q "^  pid 2 (cr-counter): process, tgid 2, ppid 0," $dir/info.sub' ||
	diag $dir/err $dir/info.sub

checkpoint -F -o $dir/tree "$pid" 2> $dir/err
rc=$?
check "checkpoint -F leaves the container frozen" \
	eval 'test $rc -eq 0 && frozen "$pid" && ! grows $dir/log2' || diag $dir/err
ckptinfo $dir/tree > $dir/info.tree 2>&1
check "ckptinfo prints the tree: init pid 1 and its child pid 2" \
	eval 'grep -q "^tasks: *2 (2 processes, 0 threads, 0 zombies)" $dir/info.tree &&
	grep -q "^  pid 1 (ckpt-run): process, tgid 1, ppid 0," $dir/info.tree &&
	grep -q "^  pid 2 (cr-counter): process, tgid 2, ppid 1," $dir/info.tree &&
	test $(grep -c "^      [0-9]* records (task 1," $dir/info.tree) -eq 2' ||
	diag $dir/info.tree
ckptinfo --json $dir/tree > $dir/json.tree
check "ckptinfo --json gives the tree's tasks" \
	eval 'grep "\"type\": \"tree\"" $dir/json.tree | grep -q "\"nr_tasks\": 2, \"tasks\": \[{\"pid\": 1, \"tgid\": 1, \"ppid\": 0, .*}, {\"pid\": 2, \"tgid\": 2, \"ppid\": 1, .*}]"'
checkpoint --thaw "$pid" 2> $dir/err
rc=$?
check "checkpoint --thaw thaws it" eval 'test $rc -eq 0 && ! frozen "$pid" && grows $dir/log2' ||
	diag $dir/err

checkpoint -k -o $dir/killed "$pid" 2> $dir/err
rc=$?
c0=$(tail -n 1 $dir/log2 | cut -d' ' -f2)
check "checkpoint -k kills the container once saved" eval 'test $rc -eq 0 && gone "$pid"' ||
	diag $dir/err
echo marker >> $dir/log2
rpid=$(restart -d -F -i $dir/killed 2> $dir/err)
rc=$?
check "restart -F leaves the restored container frozen" \
	eval 'test $rc -eq 0 && test -n "$rpid" && frozen "$rpid" && ! grows $dir/log2 &&
	test -n "$(children "$rpid")"' || diag $dir/err
checkpoint --thaw "$rpid" 2> $dir/err
rc=$?
sleep 1
first=$(sed -n '/^marker$/{n;p;q}' $dir/log2 | cut -d' ' -f2)
check "checkpoint --thaw lets it run: the counter carries on" \
	eval 'test $rc -eq 0 -a -n "$first" && test "$first" -gt 1 -a "$first" -le $((c0 + 1))' ||
	diag $dir/err
kill -9 "$rpid" 2> /dev/null

# restart's fds 0-2 become those of the restored root task (here ckpt-run's
# init, whose own were all one /dev/null file at the checkpoint).
restart -i $dir/killed < /dev/null > $dir/out 2> $dir/err2 &
rbg=$!
sleep 1
rinit=$(children $rbg)
check "restart hands its standard output and error to the restored init" \
	eval 'test "$(readlink /proc/$rinit/fd/1)" = $dir/out &&
	test "$(readlink /proc/$rinit/fd/2)" = $dir/err2' ||
	{ diag $dir/err2; ls -l /proc/$rinit/fd | diag; }
kill -9 $rinit 2> /dev/null
wait $rbg
exit $fail
