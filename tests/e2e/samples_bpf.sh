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

# --- demo_map: one sched_switch program fills every map kind, read back as tables

run -c "$PROGS/sleeper dm4p 1200" "$S/demo_map.lua"
check "demo_map: a per-second line, then the sleeper's 1200 sleeps in the struct-keyed hash (struct value)" rc=0 \
	'out~^[0-9:]{8} switches: [0-9]+ \([0-9]+( \+ [0-9]+)*\)$' \
	'out~^@tasks\[[0-9]+, dm4p\]: \{ switches 12[0-9][0-9], sleeps 1200, cpu [0-9]+, [0-9.]+ s ago \}$'
pid=$(sed -n 's/^@comm_of\[\([0-9]*\)\]: dm4p$/\1/p' "$T/out")
sw=$(sed -n "s/^@switches\[$pid\]: //p" "$T/out")
check "demo_map: int->string hash names the pid; int->int, per-CPU hash and per-CPU array agree on its switches" \
	"out~^@comm_of\[$pid\]: dm4p$" "out~^@pid_percpu\[$pid\]: $sw \(" "out~^@total\[0\]: $sw \(" \
	'out~^@by_comm\[dm4p\]: 12[0-9][0-9]$' 'out~^@handed_to\[dm4p\]: .+' "out~^@cpu_last\[[0-9]+\]: \{ $pid, dm4p \}$"
ok_if "demo_map: the sleeper's switches ($sw) are its 1200 sleeps and a few more" test "${sw:-0}" -ge 1200 -a "${sw:-0}" -lt 1300

# --- net_skb_recv: packets received on lo, from a ring buffer

count_out() { grep -cE -- "$1" "$T/out"; }
start "$S/net_skb_recv.lua" -d 20
wait_err '^tracing'
"$PROGS/netsend" udp 127.0.0.1 1111 7
"$PROGS/netsend" udp ::1 1111 3
signal INT
finish
check "net_skb_recv: a header, then lines of device, length and skb" rc=0 \
	'out~^TIME\(s\) +DEV +LEN +SKB$' 'out~^[0-9]+\.[0-9]{6} +lo +[0-9]+  0x[0-9a-f]{16}$' \
	'err~^[0-9]+ packets$'
ok_if "net_skb_recv: the 7 UDP datagrams of 1111 bytes to 127.0.0.1 arrive on lo as 7 packets of 1139 (IP+UDP)" \
	test "$(count_out '^[0-9.]+ +lo +1139  0x')" = 7
ok_if "net_skb_recv: the 3 to ::1 as 3 packets of 1159 (IPv6+UDP)" test "$(count_out '^[0-9.]+ +lo +1159  0x')" = 3
start "$S/net_skb_recv.lua" -j -i any -d 20
wait_err '^tracing'
"$PROGS/netsend" udp 127.0.0.1 1111 2
signal INT
finish
ok_if "net_skb_recv -j -i any: JSON lines with dev and len" \
	test "$(count_out '^\{.*"dev":"lo".*\}$' | head -1)" -ge 2 -a "$(count_out '"len":1139')" = 2

done_testing
