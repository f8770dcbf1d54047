# SPDX-License-Identifier: GPL-2.0
# agent.sh - shark agent always on: 19 Hz profiling of both CPUs and 5
# metric jobs for AGENT_SECONDS (default 120; the issue's figure is 600):
# CPU of the agent and its jobs as a share of one CPU, total RSS sampled
# over the run (flat?), and the time of a /metrics scrape of 10 000 series.
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

hz=$(getconf CLK_TCK)
c0=$(cpu_ticks) t0=$(date +%s%N)
samples=()
for ((s = 0; s < secs; s += 10)); do
	sleep 10
	samples+=("$(rss_mb)")
done
c1=$(cpu_ticks) t1=$(date +%s%N)
pss=$(pss_mb)
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
row "RSS, agent + 6 job processes (MB), first" "${samples[0]}" ""
row "RSS, agent + 6 job processes (MB), last" "${samples[-1]}" "<= 32, flat"
row "PSS, agent + 6 jobs (MB): shared pages once" "$pss" ""
row "scrape of /metrics, $series series (ms, median of 7)" "$med" "<= 50"
echo "RSS every 10 s (MB): ${samples[*]}"
for p in $(pids); do printf "  %-8s %6s MB  %s\n" "$p" "$(awk "/^VmRSS/ {printf \"%.1f\", \$2 / 1024}" /proc/$p/status)" "$(tr "\0" " " </proc/$p/cmdline | cut -c1-90)"; done
