# SPDX-License-Identifier: GPL-2.0
# agent.sh - shark agent always on: 19 Hz profiling of both CPUs and 5
# metric jobs for AGENT_SECONDS (default 120; the issue's figure is 600):
# CPU of the agent and its jobs as a share of one CPU, their memory sampled
# every 10 s (flat?), and the time of a /metrics scrape of 10 000 series.
# The agent is several processes (one per job): its memory is the sum of
# their PSS (shared pages counted once, split between the processes); the
# sum of RSS counts the binary's pages once per process. USS per process at
# start, middle and end says whose memory is whose.
. "$(dirname "$0")/lib.bash"

T=$(mktemp -d /tmp/shark-bench-agent.XXXXXX)
APID=""
trap '[ -n "$APID" ] && kill -TERM "$APID" 2>/dev/null; wait; rm -rf "$T"' EXIT
secs=${AGENT_SECONDS:-120}
port=$("$SHARK" -e 'local uv = require "uv"; local t = uv.new_tcp(); t:bind("127.0.0.1", 0)
  print(t:getsockname().port); t:close()')
jobs=$TOP/tests/agent
{
	printf '[prometheus]\nlisten = "127.0.0.1:%s"\n\n[profile]\nhz = 19\ninterval = 60\ndirectory = "%s/prof"\n' \
		"$port" "$T"
	printf '\n[[job]]\nname = "syscalls"\nscript = "template:count"\nargs = ["on=raw_syscalls:sys_enter", "by=syscall"]\n'
	printf '\n[[job]]\nname = "switches"\nscript = "template:count"\nargs = ["on=sched:sched_switch", "by=comm"]\n'
	printf '\n[[job]]\nname = "runq"\nscript = "template:latency"\nargs = ["from=sched:sched_wakeup", "from_key=pid", "to=sched:sched_switch", "to_key=next_pid", "unit=us"]\n'
	printf '\n[[job]]\nname = "idle"\nscript = "%s/idle.lua"\nsandbox = true\n' "$jobs"
} >"$T/agent.toml"
"$SHARK" agent --config "$T/agent.toml" >"$T/out" 2>"$T/log" &
APID=$!
for ((i = 0; i < 200; i++)); do
	curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^shark_agent_job_up{job="profile"} 1' && break
	sleep 0.1
done

pids() { echo "$APID $(pgrep -P "$APID" | tr '\n' ' ')"; }
cpu_ticks() {
	local t=0 p
	for p in $(pids); do
		[ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15 + $16 + $17}' "/proc/$p/stat")))
	done
	echo $t
}
# sum_mb FILE FIELD: FIELD (kB) of /proc/PID/FILE summed over the agent and its jobs, in MB
sum_mb() {
	local k=0 p
	for p in $(pids); do
		[ -r "/proc/$p/$1" ] && k=$((k + $(awk -v f="$2" '$1 == f {print $2}' "/proc/$p/$1")))
	done
	awk -v k=$k 'BEGIN { printf "%.1f", k / 1024 }'
}
rss_mb() { sum_mb status VmRSS:; }
pss_mb() { sum_mb smaps_rollup Pss:; }
# snapshot LABEL: RSS, PSS and USS (private pages) of each process, in MB,
# and the CPU seconds it used so far
snapshot() {
	local p
	echo "-- $1: per process: RSS PSS USS (MB), CPU (s)"
	for p in $(pids); do
		[ -r "/proc/$p/smaps_rollup" ] || continue
		awk -v p="$p" -v hz="$hz" -v cpu="$(awk '{print $14 + $15}' "/proc/$p/stat")" \
			-v who="$(tr '\0' ' ' <"/proc/$p/cmdline" | sed -E 's/.*--job ([^ ]+).*/job \1/; s/.*agent --config.*/agent/')" '
			/^Rss:/ { r = $2 } /^Pss:/ { s = $2 } /^Private_(Clean|Dirty):/ { u += $2 }
			END { printf "  %-8s %-16s %6.1f %6.1f %6.1f %7.2f\n", p, who, r / 1024, s / 1024, u / 1024, cpu / hz }' \
			"/proc/$p/smaps_rollup"
	done
	echo "  sum: RSS $(rss_mb)  PSS $(pss_mb)"
}

hz=$(getconf CLK_TCK)
c0=$(cpu_ticks) t0=$(date +%s%N)
samples=() pss=()
snapshots=""
for ((s = 10; s <= secs; s += 10)); do
	sleep 10
	samples+=("$(rss_mb)")
	pss+=("$(pss_mb)")
	if ((s == 10)); then snapshots+=$(snapshot "start (10 s)")$'\n'; fi
	if ((s == secs / 20 * 10)); then snapshots+=$(snapshot "middle ($s s)")$'\n'; fi
done
c1=$(cpu_ticks) t1=$(date +%s%N)
snapshots+=$(snapshot "end ($secs s)")
# minute 2 (or the first sample of a shorter run) against the end
m2=$((secs >= 120 ? 11 : 0))
cpu=$(awk -v c=$((c1 - c0)) -v hz="$hz" -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", 100 * c / hz / (ns / 1e9) }')

# then a job of 10 000 series, added by a reload, for the scrape
printf '\n[[job]]\nname = "series"\nscript = "%s/tests/bench/agent_series.lua"\nargs = ["10000"]\n' "$TOP" \
	>>"$T/agent.toml"
kill -HUP "$APID"
for ((i = 0; i < 300; i++)); do
	curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null | grep -q '^bench_series{i="10000"}' && break
	sleep 0.1
done
scrape=()
for i in 1 2 3 4 5 6 7; do
	scrape+=("$(curl -s -o "$T/m" -w '%{time_total}' "http://127.0.0.1:$port/metrics")")
done
series=$(grep -c '^bench_series' "$T/m")
med=$(printf '%s\n' "${scrape[@]}" | sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[4] * 1000}')

echo "== shark agent: 19 Hz profile of every CPU + 5 jobs, ${secs} s"
row "measure" "value" "target"
row "CPU, agent + jobs (% of one CPU)" "$cpu" "<= 1"
row "PSS sum, agent + its jobs (MB), at $(((m2 + 1) * 10)) s" "${pss[m2]}" ""
row "PSS sum, agent + its jobs (MB), at $secs s" "${pss[-1]}" "<= 32, flat"
row "RSS sum (MB, the binary once per process), at $(((m2 + 1) * 10)) s" "${samples[m2]}" ""
row "RSS sum (MB), at $secs s" "${samples[-1]}" ""
row "scrape of /metrics, $series series (ms, median of 7)" "$med" "<= 50"
echo "PSS sum every 10 s (MB): ${pss[*]}"
echo "RSS sum every 10 s (MB): ${samples[*]}"
echo "$snapshots"
