# SPDX-License-Identifier: GPL-2.0
# samples_bpf.sh - the original shark's BPF samples (bpf.cdef, maps as tables,
# print_hist_map, socket filters) on workloads with exactly known behaviour.
. "$(dirname "$0")/lib.bash"

export SHARK_CACHE=$T/cache
S=$TOP/samples

# start_ready ARGS...: start shark, wait until the sample says on stderr that
# it is tracing ("tracing ...", "counting ..."), 20 s at most.
start_ready() {
	local i
	: >"$T/out"
	: >"$T/err"
	start "$@"
	for ((i = 0; i < 400; i++)); do
		grep -Eq -- '^(tracing|counting) ' "$T/err" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# --- io_sys_write_hist: write(2) sizes in a kernel log2 histogram

# "exec": dash would fork dd, and the -c target would be the shell
run -c "exec dd if=/dev/zero of=/dev/null bs=3000 count=500 status=none" "$S/io_sys_write_hist.lua"
check "io_sys_write_hist: dd's 500 writes of 3000 bytes (the -c target) are the only bucket, [2K, 4K) 500" rc=0 \
	'out~^@bytes:$' 'out~^\[2K, 4K\) +500 \|@+\|$' '!out~^\[(1K|4K)'
start_ready "$S/io_sys_write_hist.lua" -c ddhist -d 20
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
start_ready "$S/net_skb_recv.lua" -d 20
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
start_ready "$S/net_skb_recv.lua" -j -i any -d 20
"$PROGS/netsend" udp 127.0.0.1 1111 2
signal INT
finish
ok_if "net_skb_recv -j -i any: JSON lines with dev and len" \
	test "$(count_out '^\{.*"dev":"lo".*\}$' | head -1)" -ge 2 -a "$(count_out '"len":1139')" = 2

# --- socket filters: prog:attach_socket, net_sock1, net_sock2

packet_socks() { tail -n +2 /proc/net/packet | wc -l; }
cat >"$T/sock.lua" <<'LUA'
local obj = bpf.load([[
u64 udp_len = 0;
SEC("socket")
int filter(struct __sk_buff *skb)
{
  u8 proto;
  if (skb->protocol == bpf_htons(0x0800) && !bpf_skb_load_bytes(skb, 14 + 9, &proto, 1) && proto == 17 &&
      skb->len == 14 + 20 + 8 + 777)
    __sync_fetch_and_add(&udp_len, 1);
  return 0;
}
]])
local function socks() local n = -1 for _ in io.lines("/proc/net/packet") do n = n + 1 end return n end
local before = socks()
local p, fd = obj.progs.filter:attach_socket{ interface = "lo" }
print("attached", p == obj.progs.filter, fd > 0, socks() == before + 1)
local ok, err = pcall(obj.progs.filter.attach_socket, obj.progs.filter, { interface = "nosuchif0" })
print("bad interface", ok, err:match("cannot attach 'filter' to interface nosuchif0: No such device") ~= nil)
os.execute(shark.args[1] .. " udp 127.0.0.1 777 5")
print("seen", obj.bss.udp_len)
obj:detach()
os.execute(shark.args[1] .. " udp 127.0.0.1 777 5")
print("detached", obj.bss.udp_len, socks() == before)
shark.exit()
LUA
base_socks=$(packet_socks)
run "$T/sock.lua" "$PROGS/netsend"
check "attach_socket{interface = 'lo'}: a packet socket filtered by the program sees 5 datagrams both ways; detach closes it" \
	rc=0 "out=attached	true	true	true
bad interface	false	true
seen	10
detached	10	true"
ok_if "no packet socket left after the run" test "$(packet_socks)" = "$base_socks"

start_ready "$S/net_sock1.lua" 1 -d 20
"$PROGS/netsend" ping 127.0.0.1 6
"$PROGS/netsend" udp 127.0.0.1 100 4
signal INT
finish
line=$(tail -1 "$T/out")
read -r _ tcp udp icmp other <<<"$line"
ok_if "net_sock1: 6 pings to 127.0.0.1 are at least 12 ICMP packets each way on lo ($icmp)" \
	test "${icmp%/*}" -ge 12 -a "${icmp#*/}" -ge 12
ok_if "net_sock1: 4 datagrams are at least 4 UDP packets each way ($udp; tcp $tcp, other $other)" \
	test "${udp%/*}" -ge 4 -a "${udp#*/}" -ge 4
check "net_sock1: a header, then a line a second" rc=0 'out~^TIME +TCP +UDP +ICMP +OTHER +\(received/sent\)$' \
	'out~^[0-9:]{8} +[0-9]+/[0-9]+ +[0-9]+/[0-9]+ +[0-9]+/[0-9]+ +[0-9]+/[0-9]+$'

start_ready "$S/net_sock2.lua" -j 1 -d 20
"$PROGS/netsend" udp ::1 1000 4
"$PROGS/netsend" ping 127.0.0.1 3
signal INT
finish
v6=$(grep '"dest":"::1"' "$T/out" | tail -1)
v4=$(grep '"dest":"127.0.0.1"' "$T/out" | tail -1)
ok_if "net_sock2: 4 datagrams of 1000 bytes to ::1 are at least 8 packets of 1062 bytes to ::1 ($v6)" \
	test "$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' <<<"$v6")" -ge 8 -a \
	"$(sed -n 's/.*"bytes":\([0-9]*\).*/\1/p' <<<"$v6")" -ge 8496
ok_if "net_sock2: 3 pings are at least 12 packets to 127.0.0.1 ($v4)" \
	test "$(sed -n 's/.*"packets":\([0-9]*\).*/\1/p' <<<"$v4")" -ge 12
run "$S/net_sock2.lua" 0.2 1
check "net_sock2: interval and count, a table of DEST, PACKETS, BYTES" rc=0 'out~^[0-9:]{8} +DEST +PACKETS +BYTES$'
ok_if "net_sock2 0.2 1: one table, not again at the end" test "$(grep -c DEST "$T/out")" -eq 1

# --- usage

run "$S/net_sock2.lua" -h
check "-h: usage and exit 0" rc=0 'out~^usage: net_sock2 \[options\] \[interval\] \[count\]$' 'out~--interface DEV'
run "$S/demo_map.lua" --bogus
check "a bad flag: exit 2 and the usage line" rc=2 'err~unknown option --bogus' 'err~^usage: demo_map'

done_testing
