# SPDX-License-Identifier: GPL-2.0
# lib.bash - helpers for benchmarks: timing and memory of commands run side by
# side in one run, so figures are compared as ratios on this noisy machine.

# wall_ms N CMD...: median wall time of N runs, in ms (3 decimals).
wall_ms() {
	local n=$1 i t0 t1
	shift
	local times=()
	for ((i = 0; i < n; i++)); do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {printf "%.3f", a[int((NR + 1) / 2)] / 1000}'
}

# peak_rss_mb CMD...: peak resident set size in MB (GNU time).
peak_rss_mb() {
	/usr/bin/time -f '%M' -o /tmp/shark-bench-rss "$@" >/dev/null 2>&1
	tail -1 /tmp/shark-bench-rss | awk '{printf "%.1f", $1 / 1024}'
}

# ratio A B: A / B with 2 decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

# slowdown A B: "A/Bx", or why there is none
slowdown() {
	if [ "$1" = fail ]; then echo "did not start here"; else echo "$(ratio "$1" "$2")x"; fi
}

row() {
	printf '%-44s %12s %12s\n' "$@"
}

# time_cmd: wall seconds of the workload $W
time_cmd() {
	local t0 t1
	t0=$(date +%s%N)
	$W
	t1=$(date +%s%N)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e9 }'
}

# traced READY_REGEX CMD...: start a tracer, wait until it is ready, time the
# workload $W under it, stop it with SIGINT; prints the workload's seconds.
# The tracer's output is in $T/tracer.out.
traced() {
	local re=$1
	shift
	"$@" >"$T/tracer.out" 2>&1 &
	local pid=$! i
	for ((i = 0; i < 200; i++)); do
		grep -Eq -- "$re" "$T/tracer.out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.05
	done
	sleep 0.2
	if ! kill -0 $pid 2>/dev/null; then
		# it could not start here: say so instead of timing nothing
		echo "fail"
		return
	fi
	time_cmd
	kill -INT $pid
	wait $pid 2>/dev/null
}

# note_best NAME SECONDS: keep the smallest per name in the array best
declare -A best
note_best() {
	[ "$2" = fail ] && { best[$1]=fail; return; }
	local old=${best[$1]:-}
	[ "$old" = fail ] && old=""
	if [ -z "$old" ] || awk -v a="$2" -v b="$old" 'BEGIN { exit !(a < b) }'; then best[$1]=$2; fi
}

# Paired, interleaved rounds: note_round KEY SECONDS after each run, then
# median KEY ("fail" when every round failed) and added_ns T BASE (the ns a
# tracer added to each of the $N events of the workload).
declare -A rounds
note_round() {
	rounds[$1]="${rounds[$1]:-} $2"
}
median() {
	# shellcheck disable=SC2086
	printf '%s\n' ${rounds[$1]} | grep -v fail | sort -n |
		awk '{a[NR] = $1} END { if (NR) printf "%.3f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; else print "fail" }'
}
added_ns() {
	awk -v t="$1" -v b="$2" -v n="$N" 'BEGIN { printf "%.0f", (t - b) / n * 1e9 }'
}
