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
	awk '{printf "%.1f", $1 / 1024}' /tmp/shark-bench-rss
}

# ratio A B: A / B with 2 decimals.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'
}

row() {
	printf '%-44s %12s %12s\n' "$@"
}
