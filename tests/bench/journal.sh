# SPDX-License-Identifier: GPL-2.0
# journal.sh - shark record / report / replay / stat against perf record /
# report / stat on one workload, side by side in one run: added ns per event,
# journal bytes per event, lost events, report and replay speed, stat overhead.
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
N=${N:-2000000}
NBIG=${NBIG:-10000000}
ROUNDS=${ROUNDS:-3}
W="$P/getppid_n $N"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

bytes_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

echo "== system-wide raw_syscalls:sys_enter, workload: $N getppid() calls (best of $ROUNDS rounds, interleaved)"
for ((r = 0; r < ROUNDS; r++)); do
	note_best none "$(time_cmd)"
	note_best shark "$(traced 'recording to' "$SHARK" record -a -e raw_syscalls:sys_enter -o "$T/s.journal")"
	shark_line=$(grep -E 'wrote' "$T/tracer.out")
	shark_events=$(echo "$shark_line" | sed -E 's/.*: ([0-9]+) samples.*/\1/')
	shark_lost=$(echo "$shark_line" | sed -E 's/.* ([0-9]+) lost.*/\1/')
	shark_bytes=$(bytes_of "$T/s.journal")
	if command -v perf >/dev/null; then
		note_best perf "$(traced '^$|perf record' perf record -a -e raw_syscalls:sys_enter -o "$T/perf.data")"
		perf_samples=$(grep -oE '\(([0-9]+) samples\)' "$T/tracer.out" | tr -dc 0-9)
		perf_lost=$(grep -oE 'lost [0-9.]+%|lost [0-9]+ chunks' "$T/tracer.out" | tr '\n' ' ')
		perf_bytes=$(bytes_of "$T/perf.data")
	fi
done
if [ "${shark_events:-0}" = 0 ] && command -v bpftool >/dev/null; then
	# a BPF program attached to the tracepoint that returns 0 hides its events from every perf user
	echo "   no events recorded: BPF programs on syscall tracepoints now: $(bpftool perf 2>/dev/null | grep -c sys_enter)"
fi
base=${best[none]}
added() { awk -v t="$1" -v b="$base" -v n="$N" 'BEGIN { printf "%.0f ns", (t - b) * 1e9 / n }'; }
row "recorder" "workload s" "slowdown" ; printf '%-44s %12s\n' "" "added/event"
row "none" "$base" "1.00x"
row "shark record -a -e raw_syscalls:sys_enter" "${best[shark]}" "$(slowdown "${best[shark]}" "$base")"
echo "   added $(added "${best[shark]}") per getppid; last round: $shark_events events, $shark_lost lost," \
	"$shark_bytes bytes = $(ratio "$shark_bytes" "$shark_events") bytes/event"
if [ -n "${best[perf]:-}" ]; then
	row "perf record -a -e raw_syscalls:sys_enter" "${best[perf]}" "$(slowdown "${best[perf]}" "$base")"
	echo "   added $(added "${best[perf]}") per getppid; last round: $perf_samples samples, ${perf_lost:-0 lost}," \
		"$perf_bytes bytes = $(ratio "$perf_bytes" "$perf_samples") bytes/sample"
	echo "   journal bytes per event / perf.data bytes per sample:" \
		"$(ratio "$(ratio "$shark_bytes" "$shark_events")" "$(ratio "$perf_bytes" "$perf_samples")")"
fi

echo
echo "== report and replay of a $NBIG-event journal (the workload's own pid: -- CMD)"
"$SHARK" -q record -m 4096 -e raw_syscalls:sys_enter -o "$T/big.journal" -- "$P/getppid_n" "$NBIG"
command -v perf >/dev/null && perf record -q -m 4096 -e raw_syscalls:sys_enter -o "$T/big.data" -- "$P/getppid_n" "$NBIG" 2>/dev/null
cat >"$T/count.lua" <<'LUA'
local n = 0
perf.on("raw_syscalls:sys_enter", function(e) n = n + 1 end)
shark.on_end(function() print("events", n) end)
LUA
events=$("$SHARK" replay "$T/big.journal" "$T/count.lua" | awk '{print $2}')
echo "   journal: $events events, $(bytes_of "$T/big.journal") bytes; perf.data: $(bytes_of "$T/big.data") bytes"
wall_ms 1 "$SHARK" replay "$T/big.journal" "$T/count.lua" >/dev/null # warm the page cache
t_report=$(wall_ms "$ROUNDS" "$SHARK" report "$T/big.journal" -s comm,sym)
t_replay=$(wall_ms "$ROUNDS" "$SHARK" replay "$T/big.journal" "$T/count.lua")
row "tool" "seconds" "events/s"
row "shark report --sort comm,sym" "$(ratio "$t_report" 1000)" "$(awk -v n="$events" -v t="$t_report" 'BEGIN { printf "%.1f M", n / t / 1000 }')"
if [ -s "$T/big.data" ]; then
	t_perf=$(wall_ms "$ROUNDS" perf report -i "$T/big.data" --stdio --sort comm,sym)
	row "perf report --stdio --sort comm,sym" "$(ratio "$t_perf" 1000)" "$(awk -v n="$events" -v t="$t_perf" 'BEGIN { printf "%.1f M", n / t / 1000 }')"
fi
row "shark replay (a Lua handler counts)" "$(ratio "$t_replay" 1000)" "$(awk -v n="$events" -v t="$t_replay" 'BEGIN { printf "%.1f M", n / t / 1000 }')"

echo
echo "== counting: raw_syscalls:sys_enter,task-clock on -- $W (median of $ROUNDS, whole command)"
t_none=$(wall_ms "$ROUNDS" $W)
t_sstat=$(wall_ms "$ROUNDS" "$SHARK" stat -e raw_syscalls:sys_enter,task-clock -- $W)
row "tool" "seconds" "slowdown"
row "none" "$(ratio "$t_none" 1000)" "1.00x"
row "shark stat" "$(ratio "$t_sstat" 1000)" "$(ratio "$t_sstat" "$t_none")x"
if command -v perf >/dev/null; then
	t_pstat=$(wall_ms "$ROUNDS" perf stat -e raw_syscalls:sys_enter,task-clock -- $W)
	row "perf stat" "$(ratio "$t_pstat" 1000)" "$(ratio "$t_pstat" "$t_none")x"
fi
