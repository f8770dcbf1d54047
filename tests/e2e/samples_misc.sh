# SPDX-License-Identifier: GPL-2.0
# samples_misc.sh - the classic tools (funccount, funclatency, futex, hardirqs,
# softirqs, biolatency, biosnoop) run as a user would, on workloads whose
# behaviour is known: exact counts, the workload's pid and comm, the bucket
# that must hold a known latency.
. "$(dirname "$0")/lib.bash"

S=$TOP/samples
F=$PROGS/funcs

run "$S/funccount.lua" -h
check "funccount -h: usage, exit 0" rc=0 'out~^usage: funccount \[options\] LIB:FUNC' 'out~-i, --interval'
run "$S/funccount.lua" -x c:malloc
check "a bad flag: exit 2 and the usage line" rc=2 'err~unknown option -x' 'err~^usage: funccount'

# --- funccount: every function of the glob, exact counts, others not
run -c "$F 100" "$S/funccount.lua" "$F:work_*"
check "funccount: a glob over the binary's symbols, exact calls per function" rc=0 \
	'out~^FUNC +COUNT$' 'out~^work_alpha +100$' 'out~^work_beta +200$' 'out~^work_gamma +300$' '!out~other_fn' \
	'err~Tracing 4 functions'

run -c "$F 100" "$S/funccount.lua" c:getppid
check "funccount: a library by name (c: libc), exact calls by the -c target" rc=0 'out~^getppid +100$'

# -p PID: the workload waits for a byte on a fifo until funccount is attached
mkfifo "$T/go"
"$F" 50 wait <"$T/go" & wp=$!
exec 3>"$T/go"
# the background shell opens the fifo, then execs the workload: attach to the
# workload, not to the shell on its way to exec (on a busy machine, ESRCH)
for i in $(seq 600); do [ "$(readlink "/proc/$wp/exe")" = "$(readlink -f "$F")" ] && break; sleep 0.05; done
start "$S/funccount.lua" -p $wp "$F:work_[ab]*"
for i in $(seq 100); do grep -q Tracing "$T/err" && break; sleep 0.05; done
echo >&3; exec 3>&-; wait $wp
signal INT; finish
check "funccount -p PID, Ctrl-C: the pid's calls, a glob with a class" rc=0 'out~^work_alpha +50$' \
	'out~^work_beta +100$' '!out~work_gamma'

# --- funclatency: 5 calls of a function sleeping 20 ms
run -c "$F nap 5 20" "$S/funclatency.lua" -m "$F:work_nap"
# (a 20 ms sleep is never shorter; how much longer depends on the machine's load)
check "funclatency -m: 5 calls of 20 ms, a msecs histogram" rc=0 'out~^@msecs:$' 'out~^count: 5$' \
	'out~^\[16, 32\) +[0-9]+ \|'
ok_if "funclatency -m: all 5 calls at 16 ms or more ($(hist_at_least 16))" [ "$(hist_at_least 16)" = 5 ]
run -c "$F nap 5 20" "$S/funclatency.lua" -u "$F:work_nap"
check "funclatency -u: the same in us" rc=0 'out~^@usecs:$' 'out~^\[16K, 32K\) +[0-9]+ \|' 'out~^count: 5$'
ok_if "funclatency -u: all 5 calls at 16K us or more ($(hist_at_least 16384))" [ "$(hist_at_least 16384)" = 5 ]
run -c "$F 40" "$S/funclatency.lua" "$F:work_[ab]*"
check "funclatency with a glob: work_alpha (40) and work_beta (80) in one histogram, 120 calls" rc=0 \
	'err~Tracing 2 functions for' 'out~^count: 120$'

# --- futex: a mutex contended 10 times, held 24 ms each time
run -c "$PROGS/contend 10 24" "$S/futex.lua" -a
addr=$(sed -n 's/^mutex \(0x[0-9a-f]*\)$/\1/p' "$T/out")
check "futex -a: the workload's mutex address, exactly 10 waits" rc=0 \
	"out~^@usecs\[contend\[[0-9]+\] futex ${addr:-none}\]: 10 waits$"
# (how long each wait lasts depends on how the two threads are scheduled: not checked)
run -c "$PROGS/contend 5 24" "$S/futex.lua" -m
check "futex -m: by process, in milliseconds" rc=0 'out~^@msecs\[contend\[[0-9]+\]\]: 5 waits$' \
	'out~^\[[0-9]+(, [0-9]+\))?\]? +[0-9]+ \|' '!out~^\[[0-9]+K'

run -c "$PROGS/contend 10 24" "$S/futex.lua" 0.1
ok_if "futex with an interval: several reports whose waits add up to exactly 10" \
	awk '/^@usecs\[contend/{n += $(NF - 1); r++} END {exit !(n == 10 && r >= 2)}' "$T/out"

# --- block I/O: dd writes 8 blocks of 4 KiB with O_DIRECT to a file on the real disk
# (exec: "=" makes -c run the command through sh, and dd must keep the pid -c traces)
fs=$(df --output=source "$T" | tail -1)
# The file exists, allocated and synced, and is overwritten in place: ext4 may
# turn a direct write that allocates (or follows a truncate) into a buffered
# one written back later by a kworker, and then dd's writes were not its own.
dd if=/dev/zero of="$T/dd.out" bs=4k count=8 status=none && sync "$T/dd.out"
DD="exec dd if=/dev/zero of=$T/dd.out bs=4k count=8 oflag=direct conv=notrunc status=none"
if [ "$(findmnt -no FSTYPE -T "$T")" = tmpfs ]; then
	skip "biosnoop/biolatency" "$T is on tmpfs: no block device under it"
else
	run -c "$DD" "$S/biosnoop.lua"
	check "biosnoop: the header, and dd's pid, comm, disk, W and 4096 bytes with a latency" rc=0 \
		'out~^TIME\(s\) +COMM +PID +DISK +T +SECTOR +BYTES +LAT\(ms\)$' \
		"out~^[0-9.]+ +dd +[0-9]+ +${fs##*/} +W +[0-9]+ +4096 +[0-9]+\.[0-9]{2}$"
	# (the target may read a page of dd as sh, before its exec: same pid, other comm)
	ok_if "biosnoop: exactly 8 writes of 4096 bytes by dd (the -c target), nothing of other processes" \
		awk '$2 == "dd" && $5 == "W" && $7 == 4096 {w++; p = $3} NR > 1 {pids[$3]++}
			END {n = 0; for (x in pids) n++; exit !(w == 8 && n == 1 && (p in pids))}' "$T/out"
	run -c "$DD" "$S/biosnoop.lua" -Q -j
	check "biosnoop -Q -j: JSON lines with the queued time" rc=0 '!out~^TIME' \
		'out~^\{.*"comm":"dd".*\}$' 'out~"que_ms":[0-9.]+' 'out~"bytes":4096'
	run -c "$DD" "$S/biolatency.lua" -D
	check "biolatency -D: a histogram for the disk dd writes to" rc=0 "out~^@usecs\[${fs##*/}\]: [0-9]+ I/Os$" \
		'out~^\[[0-9KM]+, [0-9KM]+\) +[0-9]+ \|@+ *\|$'
	ios=$(awk '/^@usecs\[/{n += $2} END {print n + 0}' "$T/out")
	ok_if "biolatency -D: at least dd's 8 I/Os ($ios, and $(missed) completions the kernel skipped)" \
		[ $((ios + $(missed))) -ge 8 ]
	run -c "$DD" "$S/biolatency.lua" -D -j
	check "biolatency -D -j: a JSON histogram keyed by the disk, at least dd's 8 I/Os" rc=0 '!out~^@usecs' \
		"out~^\\{.*\"key\":\"${fs##*/}\"" 'out~"unit":"usecs"' 'out~"total":([89]|[0-9]{2,})[,}]'
	run -c "$DD" "$S/biolatency.lua" -Q -m
	check "biolatency -Q -m: one histogram in milliseconds" rc=0 'out~^@msecs: [0-9]+ I/Os$'
	# the disk's interrupt handler, named as /proc/interrupts names it (virtioN-req.0)
	dev=$(basename "$(readlink -f "/sys/class/block/${fs##*/}/device")")
	run -c "$DD" "$S/hardirqs.lua" -C
	check "hardirqs -C: the disk's handler ($dev-req) in a TOTAL_count table" rc=0 \
		'out~^HARDIRQ +TOTAL_count$' "out~^${dev}-req[.0-9]* +[0-9]+$"
	irqs=$(awk -v d="$dev-req" 'index($1, d) == 1 {n += $2} END {print n + 0}' "$T/out")
	ok_if "hardirqs -C: at least one interrupt per direct write of dd ($irqs of 8, $(missed) skipped by the kernel)" \
		[ $((irqs + $(missed))) -ge 8 ]
	run -c "$DD" "$S/hardirqs.lua" -D -N
	check "hardirqs -D -N: a histogram in ns for the disk's handler" rc=0 \
		"out~^hardirq = ${dev}-req[.0-9]*: [0-9]+ events$" 'out~^\[[0-9KM]+, [0-9KM]+\) +[0-9]+ \|'
fi

# --- softirqs: 200 UDP datagrams over loopback, each received before the next is sent
cat >"$T/udp.py" <<'PY'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
for _ in range(200):
    s.sendto(b"x", s.getsockname())
    s.recv(16)
PY
run -c "python3 $T/udp.py" "$S/softirqs.lua" -C
check "softirqs -C: NET_RX in a TOTAL_count table" rc=0 'out~^SOFTIRQ +TOTAL_count$' 'out~^net_rx +[0-9]+$'
ok_if "softirqs -C: a net_rx softirq for each of the 200 datagrams" \
	awk '$1 == "net_rx" {n = $2} END {exit !(n >= 200)}' "$T/out"
run -c "python3 $T/udp.py" "$S/softirqs.lua"
check "softirqs: time per vector in us" rc=0 'out~^SOFTIRQ +TOTAL_usecs$' 'out~^net_rx +[0-9]+$'
run -c "python3 $T/udp.py" "$S/softirqs.lua" -D -N
check "softirqs -D -N: a histogram in ns for net_rx" rc=0 'out~^softirq = net_rx: [0-9]+ events$' \
	'out~^\[[0-9KM]+, [0-9KM]+\) +[0-9]+ \|'

# --- biolatency: requests known by their struct request, not by disk and
# sector: 8 threads read the same 4 KiB of a loop device of this test 500
# times each (O_DIRECT), many in flight at once. A disk+sector key counted
# 566 of these 4000 (measured); libbpf-tools biolatency counts all 4000.
truncate -s 1M "$T/disk.img"
LOOP=$(losetup -f --show "$T/disk.img")
if [ -z "$LOOP" ]; then
	check "losetup: a loop device for the biolatency test" rc=0 false
else
	LB=""
	if [ -x /usr/sbin/biolatency ]; then
		/usr/sbin/biolatency -D >"$T/lb" 2>&1 & LB=$!
	fi
	start "$S/biolatency.lua" -D
	for i in $(seq 200); do
		grep -q Tracing "$T/err" 2>/dev/null && { [ -z "$LB" ] || grep -q Tracing "$T/lb"; } && break
		sleep 0.05
	done
	"$PROGS/samesector" "$LOOP" 8 500
	signal INT; finish
	[ -n "$LB" ] && { kill -INT "$LB"; wait "$LB"; }
	losetup -d "$LOOP"
	check "biolatency -D: exactly 8 x 500 reads of one sector, in flight together, on the loop device" rc=0 \
		"out~^@usecs\\[${LOOP##*/}\\]: 4000 I/Os$"
	if [ -n "$LB" ]; then
		lb=$(awk -v d="${LOOP##*/}" '/disk = / { on = ($3 == d) } on && /->/ { s += $5 } END { print s + 0 }' "$T/lb")
		ok_if "biolatency -D: libbpf-tools biolatency -D counts the same 4000 (got $lb)" [ "$lb" = 4000 ]
	else
		skip "biolatency: compared with libbpf-tools biolatency" "libbpf-tools is not installed (deps/packages.txt [bench])"
	fi
fi

done_testing
