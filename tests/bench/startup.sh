# SPDX-License-Identifier: GPL-2.0
# startup.sh - start-up wall time and peak RSS of a trivial script, against
# plain LuaJIT and bpftrace, measured side by side.
. "$(dirname "$0")/lib.bash"

N=${N:-21}
echo "== startup: trivial script, median of $N runs"
row "command" "wall ms" "peak RSS MB"
s_ms=$(wall_ms "$N" "$SHARK" -e '')
s_mb=$(peak_rss_mb "$SHARK" -e '')
row "shark -e ''" "$s_ms" "$s_mb"
l_ms=$(wall_ms "$N" luajit -e '')
row "luajit -e ''" "$l_ms" "$(peak_rss_mb luajit -e '')"
t_ms=$(wall_ms "$N" "$SHARK" -e 'set_timeout(1, function() end)')
row "shark, one timer on the loop" "$t_ms" "$(peak_rss_mb "$SHARK" -e 'set_timeout(1, function() end)')"
if command -v bpftrace >/dev/null; then
	b_ms=$(wall_ms 5 bpftrace -e 'BEGIN { exit(); }')
	b_mb=$(peak_rss_mb bpftrace -e 'BEGIN { exit(); }')
	row "bpftrace -e 'BEGIN { exit(); }' (5 runs)" "$b_ms" "$b_mb"
	echo "ratio: bpftrace / shark wall = $(ratio "$b_ms" "$s_ms")x, RSS = $(ratio "$b_mb" "$s_mb")x"
else
	echo "bpftrace is not installed (deps/install bench): no comparison"
fi
echo "ratio: shark / luajit wall = $(ratio "$s_ms" "$l_ms")x"
echo "targets: shark -e '' <= 20 ms wall, <= 6 MB peak RSS"
