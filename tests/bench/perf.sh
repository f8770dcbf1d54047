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
TN=${TN:-3000000}
TROUNDS=${TROUNDS:-3}
echo "== sustained throughput into a counting handler: raw_syscalls:sys_enter system-wide, 2 workloads of"
echo "   $TN getppid() at once (one per CPU), $TROUNDS paired rounds, medians; load average $(cut -d' ' -f1-3 /proc/loadavg)"
cat >"$T/tput.lua" <<'LUA'
local n = 0
local h = perf.on("raw_syscalls:sys_enter", { via = shark.args[1] }, function(e) n = n + 1 end)
print("ready", h.via)
io.stdout:flush()
shark.on_end(function() print(("events %d lost %d"):format(n, h:lost())) end)
LUA
# cpu_ticks PID: user + system clock ticks of a process so far
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# run2: both workloads at once; prints "WALL_S WORKLOAD_CPU_S"
run2() {
	local t0 t1
	t0=$(date +%s%N)
	/usr/bin/time -f '%U %S' -o "$T/w1" "$P/getppid_n" "$TN" &
	local w=$!
	/usr/bin/time -f '%U %S' -o "$T/w2" "$P/getppid_n" "$TN"
	wait $w
	t1=$(date +%s%N)
	cat "$T/w1" "$T/w2" | awk -v d=$((t1 - t0)) '{ c += $1 + $2 } END { printf "%.3f %.3f", d / 1e9, c }'
}
# tput NAME CMD...: start a tracer, run both workloads under it, stop it;
# notes wall s, workload CPU s, tracer CPU s, events, lost of the round
tput() {
	local name=$1 i ev lost
	shift
	"$@" >"$T/tput.out" 2>&1 &
	local tp=$!
	if [ "$name" = perf ]; then
		sleep 1.5	# perf record says nothing when it is ready
	else
		for ((i = 0; i < 200; i++)); do grep -q '^ready' "$T/tput.out" && break; sleep 0.05; done
	fi
	local c0 c1 r
	c0=$(cpu_ticks $tp)
	r=$(run2)
	c1=$(cpu_ticks $tp)
	kill -INT $tp
	wait $tp 2>/dev/null
	if [ "$name" = perf ]; then
		ev=$(sed -nE 's/.*Captured and wrote .*\(([0-9]+) samples\).*/\1/p' "$T/tput.out")
		lost=$(sed -nE 's/.*Processed ([0-9]+) samples and lost.*/\1/p' "$T/tput.out")
		# perf prints samples processed and the share lost: lost = processed - captured
		lost=$(awk -v p="${lost:-$ev}" -v c="$ev" 'BEGIN { print (p > c ? p - c : 0) }')
		rm -f "$T/perf.data"
	else
		ev=$(awk '/^events/ { print $2 }' "$T/tput.out")
		lost=$(awk '/^events/ { print $4 }' "$T/tput.out")
	fi
	note_round "$name.wall" "${r% *}"
	note_round "$name.wcpu" "${r#* }"
	note_round "$name.tcpu" "$(awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", (b - a) / hz }')"
	note_round "$name.events" "${ev:-0}"
	note_round "$name.lost" "${lost:-0}"
}
for ((r = 0; r < TROUNDS; r++)); do
	x=$(run2)
	note_round none.wall "${x% *}"
	note_round none.wcpu "${x#* }"
	tput bpf "$SHARK" "$T/tput.lua" bpf
	tput shark_perf "$SHARK" "$T/tput.lua" perf
	if command -v perf >/dev/null; then
		tput perf perf record -a -e raw_syscalls:sys_enter -o "$T/perf.data"
	fi
done
base_cpu=$(median none.wcpu)
printf '%-30s %9s %8s %9s %12s %12s %12s\n' "tracer" "events/s" "lost" "events" "kernel +ns" "reader ns" "2-CPU cap."
for name in bpf shark_perf perf; do
	[ -n "${rounds[$name.wall]:-}" ] || continue
	ev=$(median "$name.events")
	awk -v name="$name" -v ev="$ev" -v lost="$(median "$name.lost")" -v wall="$(median "$name.wall")" \
		-v wcpu="$(median "$name.wcpu")" -v tcpu="$(median "$name.tcpu")" -v base="$base_cpu" -v n=$((2 * TN)) 'BEGIN {
		label = name == "bpf" ? "shark perf.on (BPF delivery)" : name == "shark_perf" ? "shark perf.on via perf" : "perf record -a"
		kern = (wcpu - base) / n * 1e9       # what tracing added to each getppid, in the workload
		reader = tcpu / ev * 1e9             # the reader process, per event delivered
		cap = 2 / ((wcpu / n) + tcpu / ev)   # events/s both CPUs could carry: workload + reader
		printf "%-30s %8.2fM %8d %9d %12.0f %12.0f %11.2fM\n", label, ev / wall / 1e6, lost, ev, kern, reader, cap / 1e6
	}'
done
echo "   workload alone: $(median none.wall) s wall, $(awk -v c="$base_cpu" -v n=$((2 * TN)) 'BEGIN { printf "%.0f", c / n * 1e9 }') ns CPU per getppid"
echo "   events/s: delivered over the workloads' wall time (other engineers' load shares the 2 CPUs);"
echo "   kernel +ns: CPU each traced getppid gained; reader ns: the tracer's CPU per event;"
echo "   2-CPU cap.: 2 / (workload CPU + reader CPU per event), the rate both CPUs could sustain unshared"
echo "target: >= 2 M events/s, 0 lost"

echo
echo "== user-space cost of decode + dispatch (replayed perf ring records)"
"$SHARK" "$TOP/tests/bench/replay.lua" "$P" 2000

echo
SROUNDS=${SROUNDS:-11}
echo "== start-up: to the first sched_switch event delivered to a handler ($SROUNDS interleaved runs each,"
echo "   median, min, max); load average $(cut -d' ' -f1-3 /proc/loadavg)"
# first VIA [SHARK]: the command line of a script that prints "first main=MS"
# from its first event's handler (MS: after shark's main()) and ends
first() {
	printf '%q ' env SHARK_PHASES=1 "${2:-$SHARK}" -e 'perf.on("sched:sched_switch", { via = "'$1'" }, function(e)
	  print(("first main=%.3f"):format((shark.time() - shark.start_time) / 1e6))
	  io.stdout:flush() shark.exit() end)'
}
set -- "shark perf.on (BPF delivery)" '^first' "$(first bpf)" "shark perf.on via = 'perf'" '^first' "$(first perf)"
# SHARK_BASE=path/to/an/older/shark: the same beside it, interleaved
if [ -n "${SHARK_BASE:-}" ]; then
	set -- "$@" "SHARK_BASE (BPF delivery)" '^first' "$(first bpf "$SHARK_BASE")" \
		"SHARK_BASE via = 'perf'" '^first' "$(first perf "$SHARK_BASE")"
fi
if command -v bpftrace >/dev/null; then
	set -- "$@" "bpftrace" '^first' "bpftrace -e 'tracepoint:sched:sched_switch { printf(\"first\\n\"); exit(); }'"
fi
python3 "$TOP/tests/bench/first_event.py" "$SROUNDS" "$@"
ms=$(wall_ms 5 "$SHARK" -e 'perf.on("sched:sched_switch", function() shark.exit(0) end)')
echo "whole run, exec to exit: $ms ms (closing a perf tracepoint waits for an RCU grace period, 15-80 ms"
echo "   here, holding the kernel's event_mutex: a tracer starting meanwhile waits as long in perf_event_open)"
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
