log=/tmp/counter.log
img=/tmp/counter.img
count() { tail -n 1 $log | cut -d' ' -f2; }
echo "== linux-cr demo: $(uname -sr), $(zcat /proc/config.gz | grep '^CONFIG_CHECKPOINT=')"
echo "== 1. a counter runs in a new container (ckpt-run: pid/mount/uts/ipc namespaces, own cgroup,"
echo "   a minimal init as pid 1, the counter as pid 2)"
pid=$(ckpt-run -d -- cr-counter $log) || exit 1
sleep 3
tail -n 3 $log
echo "== 2. checkpoint it: checkpoint -o $img $pid"
checkpoint -o $img "$pid" || exit 1
at=$(count)
echo "   checkpointed at count $at; the image:"
ckptinfo $img | sed 's/^/   /'
sleep 1
echo "== 3. it went on counting after the checkpoint; now kill it (kill -9 $pid)"
kill -9 "$pid"
sleep 0.5
echo "   last line before the kill: $(tail -n 1 $log)"
echo "----- killed; restarting -----" >> $log
echo "== 4. restart it from the image in a new container: restart -d -i $img"
rpid=$(restart -d -i $img) || exit 1
sleep 3
echo "== 5. the restored container (its init is pid $rpid here) carries on counting:"
sed -n '/^----- killed/,$p' $log | head -n 6
first=$(sed -n '/^----- killed/{n;p;q}' $log | cut -d' ' -f2)
kill -9 "$rpid"
if [ -n "$first" ] && [ "$first" -gt 1 ] && [ "$first" -le $((at + 1)) ]; then
	echo "== OK: checkpointed near count $at, restarted at count $first and counting on"
else
	echo "== FAILED: expected the restarted counter to go on from about $at, got '$first'"
	exit 1
fi
