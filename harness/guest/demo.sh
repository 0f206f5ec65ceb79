echo "== linux-cr demo: $(uname -sr) on $(nproc) CPUs"
echo "== the kernel was built with:"
zcat /proc/config.gz | grep -E '^CONFIG_CHECKPOINT'
echo "== checkpoint/restart itself arrives with the core checkpoint/restart issue"
zcat /proc/config.gz | grep -q '^CONFIG_CHECKPOINT=y'
