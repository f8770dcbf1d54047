# SPDX-License-Identifier: GPL-2.0
# perf.sh - the perf module against perf record on one workload, side by
# side: added cost per event (ns) and its ratio, lost events, throughput,
# user-space cost per event, time to the first event, memory.
# Rounds are paired and interleaved (none, shark, shark via perf, perf
# record, then again); figures are medians. ROUNDS=7 N=1000000 by default.
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
N=${N:-1000000}
ROUNDS=${ROUNDS:-7}
W="$P/getppid_n $N"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT


echo "== syscalls:sys_exit_getppid system-wide, workload: $N getppid() calls ($ROUNDS paired rounds, medians)"
cat >"$T/count.lua" <<'LUA'
local n = 0
local h = perf.on("syscalls:sys_exit_getppid", { via = shark.args[1] }, function(e) n = n + 1 end)
print("ready", h.via)
io.stdout:flush()
shark.on_end(function() print("events", n, "lost", h:lost()) end)
LUA
for ((r = 0; r < ROUNDS; r++)); do
	note_round none "$(time_cmd)"
	note_round shark "$(traced '^ready' "$SHARK" "$T/count.lua")"
	shark_events=$(grep -E '^events' "$T/tracer.out" | tr '\t' ' ')
	note_round shark_perf "$(traced '^ready' "$SHARK" "$T/count.lua" perf)"
	shark_perf_events=$(grep -E '^events' "$T/tracer.out" | tr '\t' ' ')
	if command -v perf >/dev/null; then
		note_round perf "$(traced 'perf record|^$' perf record -a -e syscalls:sys_exit_getppid -o "$T/perf.data")"
		perf_lost=$(grep -E 'lost|Captured' "$T/tracer.out" | tr '\n' ' ')
		rm -f "$T/perf.data"
	fi
done
base=$(median none)
row "tracer" "workload s" "+ns/event"
row "none" "$base" "0"
s=$(median shark)
row "shark perf.on (BPF delivery), counting" "$s" "$(added_ns "$s" "$base")"
echo "   last round: $shark_events"
sp=$(median shark_perf)
row "shark perf.on via = 'perf', counting" "$sp" "$(added_ns "$sp" "$base")"
echo "   last round: $shark_perf_events"
if [ -n "${rounds[perf]:-}" ]; then
	pr=$(median perf)
	row "perf record -a (writes every event)" "$pr" "$(added_ns "$pr" "$base")"
	echo "   last round: $perf_lost"
	echo "added cost vs perf record's: shark $(ratio "$(added_ns "$s" "$base")" "$(added_ns "$pr" "$base")")x," \
		"shark via perf $(ratio "$(added_ns "$sp" "$base")" "$(added_ns "$pr" "$base")")x"
fi
echo "target: shark's added cost <= 0.75x perf record's, 0 lost"

echo
echo "== sustained throughput into a counting handler (2 workloads of 3 M getppid, raw_syscalls:sys_enter)"
cat >"$T/tput.lua" <<'LUA'
local n = 0
local h = perf.on("raw_syscalls:sys_enter", function(e) n = n + 1 end)
print("ready", h.via)
io.stdout:flush()
shark.on_end(function() print(("events %d lost %d"):format(n, h:lost())) end)
LUA
for via in bpf perf; do
	sed "s/function(e) n = n + 1 end/{ via = '$via' }, function(e) n = n + 1 end/" "$T/tput.lua" >"$T/tput_$via.lua"
	"$SHARK" "$T/tput_$via.lua" >"$T/tput.out" 2>&1 &
	sp=$!
	for ((i = 0; i < 100; i++)); do grep -q ready "$T/tput.out" && break; sleep 0.05; done
	t0=$(date +%s%N)
	$P/getppid_n 3000000 &
	$P/getppid_n 3000000
	wait %2 2>/dev/null
	t1=$(date +%s%N)
	kill -INT $sp
	wait $sp
	ev=$(awk '/^events/ {print $2}' "$T/tput.out")
	lost=$(awk '/^events/ {print $4}' "$T/tput.out")
	secs=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }')
	echo "via $via: delivered $ev events in $secs s, lost $lost:" \
		"$(awk -v e="$ev" -v s="$secs" 'BEGIN { printf "%.2f", e / s / 1e6 }') M events/s"
done
echo "target: >= 2 M events/s, 0 lost"

echo
echo "== user-space cost of decode + dispatch (replayed perf ring records)"
"$SHARK" "$TOP/tests/bench/replay.lua" "$P" 2000

echo
echo "== start-up: from main() to the first delivered sched_switch event (5 runs each)"
for via in bpf perf; do
	for i in 1 2 3 4 5; do
		"$SHARK" -e 'perf.on("sched:sched_switch", { via = "'$via'" }, function(e)
		  print(("'$via': delivered %.1f ms after start (the event happened at %.1f ms)")
		    :format((shark.time() - shark.start_time) / 1e6, (e.time - shark.start_time) / 1e6))
		  shark.exit() end)'
	done
done
ms=$(wall_ms 5 "$SHARK" -e 'perf.on("sched:sched_switch", function() shark.exit(0) end)')
echo "whole run, exec to exit: $ms ms (the kernel's RCU grace period on closing a tracepoint is ~35 ms of it)"
echo "target: <= 10 ms to the first event"

echo
echo "== peak RSS of a sched_switch script running 2 s"
mb=$(peak_rss_mb "$SHARK" -d 2 -e 'local n = 0 perf.on("sched:sched_switch", function(e) n = n + 1 end)')
row "shark sched_switch counter" "" "$mb MB"
if command -v bpftrace >/dev/null; then
	mb2=$(peak_rss_mb bpftrace -e 't:sched:sched_switch { @ = count(); } interval:s:2 { exit(); }')
	row "bpftrace sched_switch counter" "" "$mb2 MB"
fi
echo "target: <= 8 MB"
