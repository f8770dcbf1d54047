# SPDX-License-Identifier: GPL-2.0
# unwind.sh - DWARF user stacks: shark's unwinding cost per sample and total
# CPU against perf report --call-graph dwarf on an equal number of samples,
# memory with unwind state for 50 processes, and the slowdown of a traced
# program at 99 Hz against perf record --call-graph dwarf.
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
T=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
ROUNDS=${ROUNDS:-3}
FREQ=${FREQ:-999}
MS=${MS:-4000}

# cpu_s FILE: user+sys seconds from GNU time's "%U %S"
cpu_s() { tail -1 "$1" | awk '{printf "%.3f", $1 + $2}'; }
# rss_mb FILE: peak RSS in MB from GNU time's "%M" (third field)
rss_mb() { tail -1 "$1" | awk '{printf "%.1f", $3 / 1024}'; }

cat >"$T/prof.lua" <<'LUA'
local api = require "shark.api"
local n, rows = 0, {}
-- user frames only, as perf record -e cpu-clock:u below: neither loads kallsyms
perf.on(shark.args[2] == "u" and "cpu-clock:u" or "cpu-clock", { freq = tonumber(shark.args[1]),
  callchain_k = shark.args[2] ~= "u", callchain_u = "dwarf" }, function(e)
  n = n + 1
  local c = e.callchain
  if c then rows[c] = (rows[c] or 0) + 1 end
end)
print("ready")
io.stdout:flush()
shark.on_end(function()
  local st = ffi.new("struct shark_unwind_stats")
  api.unwind_stats(st)
  print(("samples %d stacks %d frames %d unwind_ns %d images %d image_mb %.1f procs %d short %d"):format(n,
    tonumber(st.stacks), tonumber(st.frames), tonumber(st.ns), tonumber(st.images),
    tonumber(st.image_bytes) / 1048576, tonumber(st.procs), tonumber(st.short_stack)))
end)
LUA

echo "== the two unwinders Debian ships, on one copied stack (tests/bench/unwind_libs.c, 11 frames)"
if [ -x "$OUT/bench_unwind" ] || make -s "$OUT/bench_unwind" >/dev/null 2>&1; then
	"$OUT/bench_unwind" 20000 | sed 's/^/   /'
else
	echo "   could not build .output/bench_unwind (libunwind-dev missing?)"
fi
echo

echo "== unwinding cost: dwchain (-O2, no frame pointers) for $MS ms at $FREQ Hz, user samples, 8 KiB stacks (best of $ROUNDS)"
# cpu_ms FILE: task-clock ms from perf stat -x, (precise, unlike time(1)'s 10 ms ticks)
cpu_ms() { awk -F, '/task-clock/ {printf "%.1f", $1}' "$1"; }
if ! command -v perf >/dev/null; then
	echo "   perf is not installed (linux-perf): no CPU figures"
else
for ((r = 0; r < ROUNDS; r++)); do
	# shark, live: the workload runs apart, so only shark is counted
	"$P/dwchain" "$MS" &
	wp=$!
	perf stat -x, -e task-clock -o "$T/shark.stat" /usr/bin/time -f '%U %S %M' -o "$T/shark.time" \
		"$SHARK" -p "$wp" "$T/prof.lua" "$FREQ" u >"$T/shark.out" 2>&1
	wait "$wp"
	# the same run with a sleeping target: shark's cost without samples (start, drain ticks, exit)
	sleep "$(awk -v ms="$MS" 'BEGIN {print ms / 1000}')" &
	perf stat -x, -e task-clock -o "$T/idle.stat" "$SHARK" -p $! "$T/prof.lua" "$FREQ" u >/dev/null 2>&1
	wait
	s_n=$(awk '/^samples/ {print $2}' "$T/shark.out")
	s_ns=$(awk '/^samples/ {print $8}' "$T/shark.out")
	s_ms=$(cpu_ms "$T/shark.stat")
	i_ms=$(cpu_ms "$T/idle.stat")
	note_best shark_ms "$s_ms"
	note_best idle_ms "$i_ms"
	note_best shark_us "$(awk -v a="$s_ms" -v b="$i_ms" -v n="$s_n" 'BEGIN {printf "%.2f", n ? (a - b) * 1000 / n : 0}')"
	note_best unwind_us "$(awk -v a="$s_ns" -v n="$s_n" 'BEGIN {printf "%.2f", n ? a / n / 1000 : 0}')"
	shark_line=$(grep '^samples' "$T/shark.out")
	(cd "$T" && perf record -q -o "$T/perf.data" -e cpu-clock:u --call-graph dwarf -F "$FREQ" \
		"$P/dwchain" "$MS" >/dev/null 2>&1)
	p_n=$(perf script -i "$T/perf.data" -F period 2>/dev/null | wc -l)
	perf stat -x, -e task-clock -o "$T/perf.stat" /usr/bin/time -f '%U %S %M' -o "$T/perf.time" \
		perf report -i "$T/perf.data" --stdio --no-children >/dev/null 2>&1
	p_ms=$(cpu_ms "$T/perf.stat")
	note_best perf_ms "$p_ms"
	note_best perf_us "$(awk -v a="$p_ms" -v n="$p_n" 'BEGIN {printf "%.2f", n ? a * 1000 / n : 0}')"
	perf_line="samples $p_n, peak RSS $(rss_mb "$T/perf.time") MB"
done
row "" "CPU ms" "us/sample"
row "shark live, all (decode + unwind + symbols + Lua)" "${best[shark_ms]}" ""
row "  the same with no samples (start, ticks, exit)" "${best[idle_ms]}" ""
row "  per sample: (all - none) / samples" "" "${best[shark_us]}"
row "  of which unwinding (libdwfl), per sample" "" "${best[unwind_us]}"
echo "   last round: $shark_line, peak RSS $(rss_mb "$T/shark.time") MB"
row "perf report --call-graph dwarf (all of it)" "${best[perf_ms]}" "${best[perf_us]}"
echo "   last round: $perf_line"
echo "   shark / perf, total CPU on about as many samples: $(ratio "${best[shark_ms]}" "${best[perf_ms]}")x;" \
	"per sample: $(ratio "${best[shark_us]}" "${best[perf_us]}")x (goal <= 0.5x)"
fi
echo
echo "== memory: 50 processes (dwchain, nice 19 so shark is not starved), DWARF stacks at 99 Hz for 3 s, system-wide"
pids=()
for ((i = 0; i < 50; i++)); do
	nice -n 19 "$P/dwchain" 8000 &
	pids+=($!)
done
sleep 0.3
/usr/bin/time -f '%U %S %M' -o "$T/m.time" "$SHARK" -d 3 "$T/prof.lua" 99 >"$T/m.out" 2>&1
/usr/bin/time -f '%U %S %M' -o "$T/m0.time" "$SHARK" -d 3 -e \
	'perf.on("cpu-clock", { freq = 99, callchain_k = 1, callchain_u = 1 }, function(e) local _ = e.callchain end)' \
	>/dev/null 2>&1
kill "${pids[@]}" 2>/dev/null
wait "${pids[@]}" 2>/dev/null
row "shark peak RSS" "MB" ""
row "  frame pointers (no unwind state)" "$(rss_mb "$T/m0.time")" ""
row "  DWARF stacks of 50+ processes" "$(rss_mb "$T/m.time")" ""
echo "   $(grep '^samples' "$T/m.out") (procs: every process sampled, the machine's others too)"

echo
W="$P/getppid_n ${N:-3000000}"
echo "== slowdown of a traced program at 99 Hz with DWARF stacks (system-wide), workload: $W (best of $ROUNDS)"
cat >"$T/p99.lua" <<'LUA'
perf.on("cpu-clock", { freq = 99, callchain_k = 1, callchain_u = "dwarf" }, function(e) local _ = e.callchain end)
print("ready")
io.stdout:flush()
LUA
for ((r = 0; r < ROUNDS; r++)); do
	note_best none "$(time_cmd)"
	note_best shark "$(traced '^ready' "$SHARK" "$T/p99.lua")"
	if command -v perf >/dev/null; then
		note_best perf "$(traced 'perf record|^$' perf record -a --call-graph dwarf -F 99 -o "$T/p99.data")"
		rm -f "$T/p99.data"
	fi
done
base=${best[none]}
row "tracer" "workload s" "slowdown"
row "none" "$base" "1.00x"
row "shark perf.on callchain_u = \"dwarf\"" "${best[shark]}" "$(slowdown "${best[shark]}" "$base")"
[ -n "${best[perf]:-}" ] && row "perf record -a --call-graph dwarf -F 99" "${best[perf]}" \
	"$(slowdown "${best[perf]}" "$base")"
echo "target: shark's slowdown <= perf record's"
