# SPDX-License-Identifier: GPL-2.0
# stackstore.sh - what storing a stack costs per event: bpf.count by stack
# (kernel + user stack of each getppid) and bpf.offcpu (two stacks per switch
# of pingpong), added ns per event over the workload alone, median of
# interleaved rounds. SHARK_BASE=path/to/another/shark: the same side by side
# (e.g. a build of main, whose templates used bpf_get_stackid).
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
N=${N:-1000000}
PP=${PP:-100000}
ROUNDS=${ROUNDS:-5}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

cat >"$T/count.lua" <<'LUA'
local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "stack", pid = -1 }
print("ready") io.stdout:flush()
shark.on_end(function() local n = 0 for _, v in pairs(c) do n = n + v end print("counted", n) end)
LUA
cat >"$T/offcpu.lua" <<'LUA'
local r = bpf.offcpu{ pid = -1 }
print("ready") io.stdout:flush()
shark.on_end(function() print("stacks", #r:entries()) end)
LUA

declare -A runs
note() { runs[$1]="${runs[$1]:-} $2"; }
median() { printf '%s\n' ${runs[$1]} | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

shark_list=("$SHARK")
[ -n "${SHARK_BASE:-}" ] && shark_list+=("$SHARK_BASE")
echo "== per-event cost of storing stacks ($ROUNDS interleaved rounds, medians)"
for ((r = 0; r < ROUNDS; r++)); do
	W="$P/getppid_fp $N"
	note count-none "$(time_cmd)"
	for s in "${shark_list[@]}"; do note "count-$s" "$(traced '^ready' "$s" "$T/count.lua")"; done
	W="$P/pingpong $PP"
	note offcpu-none "$(time_cmd)"
	for s in "${shark_list[@]}"; do note "offcpu-$s" "$(traced '^ready' "$s" "$T/offcpu.lua")"; done
done
row "tracer" "workload s" "ns/event added"
for w in count offcpu; do
	base=$(median "$w-none")
	events=$N
	[ $w = offcpu ] && events=$((PP * 2))	# a switch per hand-over, two per round
	row "$w: none" "$base" ""
	for s in "${shark_list[@]}"; do
		t=$(median "$w-$s")
		row "$w: $s" "$t" "$(awk -v t="$t" -v b="$base" -v n="$events" 'BEGIN { printf "%.0f", (t - b) * 1e9 / n }')"
	done
done
echo "count: $N getppid, kernel + user stack each; offcpu: pingpong $PP rounds (~$((PP * 2)) switches, 2 stacks each)"
