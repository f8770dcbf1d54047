# SPDX-License-Identifier: GPL-2.0
# stackstore_ns.sh - what the templates' stack storage costs inside the BPF
# program, without the noise of wall time: the kernel's own bpf_stats
# (run_time_ns / run_cnt of the programs shark holds) for bpf.count by stack on
# getppid (kernel + user stack per event) and bpf.offcpu on pingpong (two
# stacks per switch), median of interleaved rounds. SHARK_BASE=another shark
# puts it beside (e.g. a build of main). kernel.bpf_stats_enabled is set for
# the run and put back as it was.
. "$(dirname "$0")/lib.bash"

P=$OUT/progs
N=${N:-300000}
PP=${PP:-50000}
ROUNDS=${ROUNDS:-5}
T=$(mktemp -d)
old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
trap 'echo "$old_stats" >/proc/sys/kernel/bpf_stats_enabled; rm -rf "$T"' EXIT
echo 1 >/proc/sys/kernel/bpf_stats_enabled || { echo "cannot enable bpf_stats: skipped"; exit 0; }

cat >"$T/count.lua" <<'LUA'
bpf.count{ on = "syscalls:sys_enter_getppid", by = "stack", pid = -1 }
print("ready") io.stdout:flush()
LUA
cat >"$T/offcpu.lua" <<'LUA'
bpf.offcpu{ pid = -1 }
print("ready") io.stdout:flush()
LUA

# ns_per_run SHARK SCRIPT WORKLOAD...: mean ns per run of the BPF programs
# SHARK holds (their fds' fdinfo, each program once) while WORKLOAD ran
ns_per_run() {
	local s=$1 lua=$2 pid i
	shift 2
	"$s" "$lua" >"$T/tracer.out" 2>&1 &
	pid=$!
	for ((i = 0; i < 200; i++)); do
		grep -qs '^ready' "$T/tracer.out" && break
		sleep 0.05
	done
	"$@" >/dev/null 2>&1
	cat /proc/$pid/fdinfo/* 2>/dev/null | awk '
		/^prog_id:/ { id = $2 }
		/^run_time_ns:/ { t[id] = $2 }
		/^run_cnt:/ { c[id] = $2 }
		END {
			for (id in c) { T += t[id]; C += c[id] }
			if (C > 0) printf "%.0f\n", T / C; else print "fail"
		}'
	kill -INT $pid
	wait $pid 2>/dev/null
}

declare -A runs
note() { runs[$1]="${runs[$1]:-} $2"; }
median() { printf '%s\n' ${runs[$1]} | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

shark_list=("$SHARK")
[ -n "${SHARK_BASE:-}" ] && shark_list+=("$SHARK_BASE")
echo "== ns per BPF program run storing stacks (bpf_stats, $ROUNDS interleaved rounds, medians)"
for ((r = 0; r < ROUNDS; r++)); do
	for s in "${shark_list[@]}"; do
		note "count-$s" "$(ns_per_run "$s" "$T/count.lua" "$P/getppid_fp" "$N")"
		note "offcpu-$s" "$(ns_per_run "$s" "$T/offcpu.lua" "$P/pingpong" "$PP")"
	done
done
row "program" "" "ns/run"
for w in count offcpu; do
	for s in "${shark_list[@]}"; do row "$w: $s" "" "$(median "$w-$s")"; done
done
echo "count: getppid_fp $N, kernel + user stack each; offcpu: pingpong $PP rounds, 2 stacks per switch"
