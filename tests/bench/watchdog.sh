# SPDX-License-Identifier: GPL-2.0
# watchdog.sh - -d N ends the whole run N + 1 s after the script is ready,
# whatever it does: the time from ready (the script's top level returned)
# to the process being gone, for a JIT loop in a handler, an on_end that
# never returns, a busy timer and a plain script. ROUNDS=3 by default.
. "$(dirname "$0")/lib.bash"

ROUNDS=${ROUNDS:-3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# ready: the wall clock when the top level returned (a 0 ms timer runs first thing in the loop)
ready='set_timeout(0, function() local s, us = require("uv").gettimeofday() print(("ready %d.%06d"):format(s, us)) io.stdout:flush() end)'
declare -A cases=(
	[plain]='set_interval(100, function() end) shark.on_end(function() print("end") end)'
	[handler_loop]='set_timeout(10, function() local x = 0 while true do x = x + 1 end end)'
	[hung_on_end]='shark.on_end(function() local x = 0 while true do x = x + 1 end end)'
	[busy_timer]='set_interval(1, function() local t0 = os.clock() while os.clock() - t0 < 0.05 do end end)'
)
echo "== -d 1: seconds from ready to the process gone (the promise: <= 1 + 1), median of $ROUNDS"
row() { printf '%-14s %10s %6s\n' "$@"; }
row case "ready->end" rc
for c in plain handler_loop hung_on_end busy_timer; do
	times=() rc=0
	for ((r = 0; r < ROUNDS; r++)); do
		"$SHARK" -d 1 -e "$ready ${cases[$c]}" >"$T/out" 2>/dev/null
		rc=$?
		t1=$(date +%s.%N)
		t0=$(sed -n 's/^ready //p' "$T/out")
		times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
	done
	row "$c" "$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')" "$rc"
done
