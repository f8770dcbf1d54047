# SPDX-License-Identifier: GPL-2.0
# perf.sh - the perf module against perf record (and bpftrace for scale) on
# one workload, side by side: slowdown, lost events, throughput, per-event
# user-space cost, time to the first event, memory.
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
N=${N:-5000000}
ROUNDS=${ROUNDS:-3}
W="$P/getppid_n $N"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

echo "== system-wide raw_syscalls:sys_enter, workload: $N getppid() calls (best of $ROUNDS rounds, interleaved)"
cat >"$T/count.lua" <<'LUA'
local n = 0
local h = perf.on("raw_syscalls:sys_enter", function(e) n = n + 1 end)
print("ready")
io.stdout:flush()
shark.on_end(function() print("events", n, "lost", h:lost()) end)
LUA
for ((r = 0; r < ROUNDS; r++)); do
	note_best none "$(time_cmd)"
	note_best shark "$(traced '^ready' "$SHARK" "$T/count.lua")"
	shark_events=$(grep -E '^events' "$T/tracer.out" | tr '\t' ' ')
	if command -v perf >/dev/null; then
		note_best perf "$(traced 'perf record|^$' perf record -a -e raw_syscalls:sys_enter -o "$T/perf.data")"
		perf_lost=$(grep -E 'lost|Captured' "$T/tracer.out" | tr '\n' ' ')
		rm -f "$T/perf.data"
	fi
	if command -v bpftrace >/dev/null; then
		note_best bpftrace "$(traced 'Attaching' bpftrace -e 't:raw_syscalls:sys_enter { @ = count(); }')"
	fi
done
base=${best[none]}
row "tracer" "workload s" "slowdown"
row "none" "$base" "1.00x"
row "shark perf.on, Lua handler counts" "${best[shark]}" "$(slowdown "${best[shark]}" "$base")"
echo "   last round: $shark_events"
if [ -n "${best[perf]:-}" ]; then
	row "perf record -a (writes every event)" "${best[perf]}" "$(slowdown "${best[perf]}" "$base")"
	echo "   last round: $perf_lost"
fi
if [ -n "${best[bpftrace]:-}" ]; then
	row "bpftrace @ = count() (in-kernel, no delivery)" "${best[bpftrace]}" "$(slowdown "${best[bpftrace]}" "$base")"
fi
echo "target: shark's slowdown <= perf record's, with 0 lost"

echo
echo "== sustained throughput into a Lua handler (2 workloads, 8 MiB rings)"
cat >"$T/tput.lua" <<'LUA'
local n, t0 = 0, nil
local h = perf.on("raw_syscalls:sys_enter", { mmap_pages = 2048 }, function(e)
  n = n + 1
end)
print("ready")
io.stdout:flush()
shark.on_end(function() print(("events %d lost %d"):format(n, h:lost())) end)
LUA
"$SHARK" "$T/tput.lua" >"$T/tput.out" 2>&1 &
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
echo "delivered $ev events in $secs s, lost $lost: $(awk -v e="$ev" -v s="$secs" 'BEGIN { printf "%.2f", e / s / 1e6 }') M events/s"
echo "target: >= 2 M events/s, 0 lost"

echo
echo "== user-space cost of decode + dispatch (replayed ring records)"
"$SHARK" "$TOP/tests/bench/replay.lua" "$P" 2000

echo
echo "== start-up: from main() to the first delivered sched_switch event (5 runs)"
for i in 1 2 3 4 5; do
	"$SHARK" -e 'perf.on("sched:sched_switch", function(e)
	  print(("delivered %.1f ms after start (the event happened at %.1f ms)")
	    :format((shark.time() - shark.start_time) / 1e6, (e.time - shark.start_time) / 1e6))
	  shark.exit() end)'
done
ms=$(wall_ms 5 "$SHARK" -e 'perf.on("sched:sched_switch", function() shark.exit(0) end)')
echo "whole run, exec to exit: $ms ms (the kernel's RCU grace period on closing a tracepoint is ~35 ms of it)"
echo "target: <= 30 ms to the first event"

echo
echo "== peak RSS of a sched_switch script running 2 s"
mb=$(peak_rss_mb "$SHARK" -d 2 -e 'local n = 0 perf.on("sched:sched_switch", function(e) n = n + 1 end)')
row "shark sched_switch counter" "" "$mb MB"
if command -v bpftrace >/dev/null; then
	mb2=$(peak_rss_mb bpftrace -e 't:sched:sched_switch { @ = count(); } interval:s:2 { exit(); }')
	row "bpftrace sched_switch counter" "" "$mb2 MB"
fi
echo "target: <= 8 MB"
