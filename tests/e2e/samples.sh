# SPDX-License-Identifier: GPL-2.0
# samples.sh - every sample runs as a user would run it, on real events.
. "$(dirname "$0")/lib.bash"

run "$TOP/samples/demo.lua" 1
check "demo: per-second counts from tracepoints, then the top syscalls, processes and commands" rc=0 \
	'out~^tracing for 1 s' 'out~^[0-9:]{8} +[0-9]+ +[0-9]+$' 'out~^busiest system calls$' \
	'out~^system calls by process$' 'out~^du\[[0-9]+\] +[0-9]+ \|@' 'out~^on-CPU time by command \(ms\)$' \
	'out~^(newfstatat|getdents64|fstatat64|statx) +[0-9]+ \|'

# --- the original's sharkcloud samples: the graphs land in SVG files

export SHARK_CLOUD_DIR=$T SHARK_CLOUD_CONFIG=/nonexistent
unset SHARK_CLOUD_URL SHARK_CLOUD_TOKEN
run -c "$PROGS/fpchain 400" "$TOP/samples/flamegraph_in_cloud.lua" -u -o "$T/fg.svg"
check "flamegraph_in_cloud: samples of fpchain, written as an SVG flame graph" rc=0 'out~^[0-9]+ samples$' \
	"err~flamegraph written to $T/fg.svg" "file:$T/fg.svg~^<\\?xml" \
	"file:$T/fg.svg~<title>leaf \\([0-9]+ samples, [0-9.]+%\\)</title>" "file:$T/fg.svg~<title>mid \\(" \
	"file:$T/fg.svg~<title>main \\("
run -c "dd if=/dev/zero of=/dev/null bs=1 count=3000 status=none" "$TOP/samples/heatmap_in_cloud.lua"
hm=$(ls "$T"/shark-heatmap-*.svg 2>/dev/null | head -1)
cells=$(grep -o '<title>[^<]*: [0-9]*</title>' "${hm:-/dev/null}" | sed 's/.*: \([0-9]*\)<.*/\1/' | awk '{s += $1} END {print s + 0}')
check "heatmap_in_cloud: dd's 3000 write(2) calls, the heat map's cells add up to 3000" rc=0 \
	'out~^3000 write\(2\) calls over [0-9]+ s$' 'err~heatmap written to .*/shark-heatmap-[0-9-]+\.svg'
ok_if "... the SVG's cells hold all 3000 calls ($cells)" test "$cells" = 3000

# the original README's flame graph example, unmodified
cat >"$T/readme_flame.lua" <<'LUA'
local perf = require "perf"
local sharkcloud = require "sharkcloud"

local profile = {}
setmetatable(profile, {__index = function() return 0 end})

perf.on("cpu-clock", {callchain_k = 1}, function(e)
  profile[e.callchain] = profile[e.callchain] + 1
end)

shark.on_end(function()
  --Open flamegraph at http://sharkly.io/
  sharkcloud.senddata("flamegraph", profile)
end)
LUA
rm -f "$T"/shark-flamegraph-*.svg
run -d 0.5 "$T/readme_flame.lua"
check "the original README's flame graph example runs unmodified" rc=0 'err~flamegraph written to'
ok_if "... and writes a flame graph" grep -q '<title>all (' "$T"/shark-flamegraph-*.svg

# --- every sample: a header that says what it is, -h, and usage errors
for f in "$TOP"/samples/*.lua; do
	name=$(basename "$f" .lua)
	ok_if "$name.lua: SPDX line, a line saying what it is, a Run: line" \
		awk -v n="$name.lua - " 'NR == 1 && !/^-- SPDX-License-Identifier: GPL-2.0$/ {exit 1}
			NR == 2 && index($0, "-- " n) != 1 {exit 1} /^-- Run: / {run = 1} END {exit !run}' "$f"
	run "$f" -h
	check "$name -h: usage on stdout, exit 0" rc=0 "out~^usage: $name \\[options\\]" quiet
	run "$f" --no-such-option
	check "$name --no-such-option: exit 2, said on stderr" rc=2 "err~^$name: unknown option --no-such-option" \
		"err~^usage: $name"
done

done_testing
