# SPDX-License-Identifier: GPL-2.0
# samples_bpf.sh - the original shark's BPF samples (bpf.cdef, maps as tables,
# print_hist_map, socket filters) on workloads with exactly known behaviour.
. "$(dirname "$0")/lib.bash"

export SHARK_CACHE=$T/cache
S=$TOP/samples

# wait_err REGEX: until stderr matches (the samples say "tracing ..." there when ready), 20 s at most.
wait_err() {
	local i
	for ((i = 0; i < 400; i++)); do
		grep -Eq -- "$1" "$T/err" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# --- io_sys_write_hist: write(2) sizes in a kernel log2 histogram

# "exec": dash would fork dd, and the -c target would be the shell
run -c "exec dd if=/dev/zero of=/dev/null bs=3000 count=500 status=none" "$S/io_sys_write_hist.lua"
check "io_sys_write_hist: dd's 500 writes of 3000 bytes (the -c target) are the only bucket, [2K, 4K) 500" rc=0 \
	'out~^@bytes:$' 'out~^\[2K, 4K\) +500 \|@+\|$' '!out~^\[(1K|4K)'
start "$S/io_sys_write_hist.lua" -c ddhist -d 20
wait_err '^tracing'
dd if=/dev/zero of=/dev/null bs=100 count=77 status=none
cp /bin/dd "$T/ddhist" && "$T/ddhist" if=/dev/zero of=/dev/null bs=100 count=77 status=none
signal INT
finish
check "io_sys_write_hist -c COMM: 77 writes of 100 bytes by the command named ddhist in [64, 128), not dd's 77" rc=0 \
	'out~^\[64, 128\) +77 \|@+\|$'

done_testing
