# SPDX-License-Identifier: GPL-2.0
# perf.sh - the perf module against perf record (and bpftrace for scale) on
# one workload, side by side: slowdown, lost events, throughput, per-event
# user-space cost, time to the first event, memory.
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
N=${N:-5000000}
W="$P/getppid_n $N"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# time_cmd: wall seconds of the workload
time_cmd() {
	local t0 t1
	t0=$(date +%s%N)
	$W
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }'
}

# traced NAME READY_REGEX CMD...: start a tracer, wait until it is ready, time
# the workload under it, stop it with SIGINT; prints the workload's seconds.
traced() {
	local re=$1
	shift
	"$@" >"$T/tracer.out" 2>&1 &
	local pid=$! i
	for ((i = 0; i < 200; i++)); do
		grep -Eq -- "$re" "$T/tracer.out" && break
		sleep 0.05
	done
	sleep 0.2
	time_cmd
	kill -INT $pid
	wait $pid 2>/dev/null
}

echo "== system-wide raw_syscalls:sys_enter, workload: $N getppid() calls"
base=$(time_cmd)
base2=$(time_cmd)
base=$(awk -v a="$base" -v b="$base2" 'BEGIN { print (a < b ? a : b) }')
row "tracer" "workload s" "slowdown"
row "none" "$base" "1.00x"

cat >"$T/count.lua" <<'LUA'
local n = 0
local h = perf.on("raw_syscalls:sys_enter", function(e) n = n + 1 end)
print("ready")
io.stdout:flush()
shark.on_end(function() print("events", n, "lost", h:lost()) end)
LUA
s=$(traced '^ready' "$SHARK" "$T/count.lua")
row "shark perf.on, Lua handler counts" "$s" "$(ratio "$s" "$base")x"
echo "   $(grep -E '^events' "$T/tracer.out")"

if command -v perf >/dev/null; then
	s=$(traced 'perf record|^$' perf record -a -e raw_syscalls:sys_enter -o "$T/perf.data")
	sleep 0.5
	row "perf record -a (writes every event)" "$s" "$(ratio "$s" "$base")x"
	echo "   $(grep -E 'lost|Captured' "$T/tracer.out" | tr '\n' ' ')"
else
	echo "perf is not installed (deps/install test): no comparison"
fi
if command -v bpftrace >/dev/null; then
	s=$(traced 'Attaching' bpftrace -e 't:raw_syscalls:sys_enter { @ = count(); }')
	row "bpftrace @ = count() (in-kernel, no delivery)" "$s" "$(ratio "$s" "$base")x"
fi
echo "target: shark's slowdown <= perf record's, with 0 lost"

echo
echo "== sustained throughput into a Lua handler (2 workloads, 8 MiB rings)"
cat >"$T/tput.lua" <<'LUA'
local n, t0 = 0, nil
local h = perf.on("raw_syscalls:sys_enter", { mmap_pages = 2048, filter = "id == 110" }, function(e)
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
echo "== start-up: from exec to the first delivered sched_switch event"
row "" "wall ms" ""
ms=$(wall_ms 11 "$SHARK" -e 'perf.on("sched:sched_switch", function() shark.exit(0) end)')
row "shark (first event, then exit)" "$ms" ""
echo "target: <= 30 ms"

echo
echo "== peak RSS of a sched_switch script running 2 s"
mb=$(peak_rss_mb "$SHARK" -d 2 -e 'local n = 0 perf.on("sched:sched_switch", function(e) n = n + 1 end)')
row "shark sched_switch counter" "" "$mb MB"
if command -v bpftrace >/dev/null; then
	mb2=$(peak_rss_mb timeout -s INT 2 bpftrace -e 't:sched:sched_switch { @ = count(); }')
	row "bpftrace sched_switch counter" "" "$mb2 MB"
fi
echo "target: <= 8 MB"
