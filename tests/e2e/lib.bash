# SPDX-License-Identifier: GPL-2.0
# lib.bash - helpers for end-to-end tests: run ./shark as a user would, check
# exit code, stdout and stderr, print TAP. Source it, call check/skip, end
# with done_testing.
set -u
SHARK=${SHARK:-$PWD/shark}
OUT=${OUT:-$PWD/.output}
TOP=${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PROGS=$OUT/progs
T=$(mktemp -d /tmp/shark-e2e.XXXXXX)
trap 'bg_cleanup; rm -rf "$T"' EXIT
n=0
RC=0
BG=""

# run ARGS...: run shark to completion (30 s at most), stdin from /dev/null.
run() {
	timeout -s KILL 30 "$SHARK" "$@" >"$T/out" 2>"$T/err" </dev/null
	RC=$?
}

# run_in INPUT ARGS...: the same with INPUT on stdin.
run_in() {
	local input=$1; shift
	printf '%s' "$input" | timeout -s KILL 30 "$SHARK" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

# start ARGS...: run shark in the background; then wait_out, signal, finish.
# The files are emptied here, not by the background job's redirection: that
# runs after the fork, and a wait_out meanwhile read the last run's "ready".
start() {
	: >"$T/out"
	: >"$T/err"
	timeout -s KILL 60 "$SHARK" "$@" >"$T/out" 2>"$T/err" </dev/null &
	BG=$!
}

# wait_out REGEX [SECONDS]: wait until stdout matches (default 30 s: a deadline, not a
# measure; a busy machine can take seconds to start shark).
wait_out() {
	local i limit=$(( ${2:-30} * 20 ))
	for ((i = 0; i < limit; i++)); do
		grep -Eq -- "$1" "$T/out" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# until_ok SECONDS CMD...: poll CMD (quietly) every 0.1 s until it succeeds.
until_ok() {
	local i limit=$(($1 * 10))
	shift
	for ((i = 0; i < limit; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# signal SIG: send SIG to the background shark (not to timeout(1)).
signal() {
	local pid
	pid=$(pgrep -P "$BG" -x shark | head -1)
	[ -n "$pid" ] && kill -s "$1" "$pid"
}

# finish: wait for the background shark, set RC.
finish() {
	wait "$BG"
	RC=$?
	BG=""
}

bg_cleanup() {
	[ -n "$BG" ] && kill -KILL "$BG" 2>/dev/null
	true
}

# check NAME EXPECT...: one TAP result. Each EXPECT is one of
#   rc=N            exit code
#   out=TEXT        stdout is exactly TEXT (one trailing newline ignored)
#   out~REGEX       stdout matches (grep -E)     !out~REGEX  does not
#   err=TEXT        stderr is exactly TEXT
#   err~REGEX       stderr matches               !err~REGEX  does not
#   file:PATH~RE    the file matches             !file:PATH~RE  does not
#   quiet           stderr is empty
check() {
	local name=$1 e why=()
	shift
	for e in "$@"; do
		case $e in
		rc=*) [ "$RC" = "${e#rc=}" ] || why+=("exit code $RC, want ${e#rc=}") ;;
		out=*) [ "$(cat "$T/out")" = "${e#out=}" ] || why+=("stdout is not exactly: ${e#out=}") ;;
		out~*) grep -Eq -- "${e#out~}" "$T/out" || why+=("stdout does not match /${e#out~}/") ;;
		'!out~'*) ! grep -Eq -- "${e#!out~}" "$T/out" || why+=("stdout matches /${e#!out~}/") ;;
		err=*) [ "$(cat "$T/err")" = "${e#err=}" ] || why+=("stderr is not exactly: ${e#err=}") ;;
		err~*) grep -Eq -- "${e#err~}" "$T/err" || why+=("stderr does not match /${e#err~}/") ;;
		'!err~'*) ! grep -Eq -- "${e#!err~}" "$T/err" || why+=("stderr matches /${e#!err~}/") ;;
		file:*)
			local spec=${e#file:}
			grep -Eq -- "${spec#*~}" "${spec%%~*}" 2>/dev/null || why+=("${spec%%~*} does not match /${spec#*~}/") ;;
		'!file:'*)
			local spec=${e#!file:}
			! grep -Eq -- "${spec#*~}" "${spec%%~*}" 2>/dev/null || why+=("${spec%%~*} matches /${spec#*~}/") ;;
		quiet) [ ! -s "$T/err" ] || why+=("stderr is not empty") ;;
		*) why+=("bad expectation: $e") ;;
		esac
	done
	n=$((n + 1))
	if [ ${#why[@]} -eq 0 ]; then
		echo "ok $n - $name"
		return 0
	fi
	echo "not ok $n - $name"
	printf '#   %s\n' "${why[@]}"
	echo "#   --- stdout:"
	head -c 600 "$T/out" | sed 's/^/#   | /'
	echo "#   --- stderr:"
	head -c 600 "$T/err" | sed 's/^/#   | /'
	return 1
}

# ok_if NAME COMMAND...: a check on anything else.
ok_if() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $name"; else echo "not ok $n - $name"; echo "#   failed: $*"; fi
}

skip() {
	n=$((n + 1))
	echo "ok $n - $1 # SKIP $2"
}

# hist_at_least MIN: the counts of the log2 histogram lines of stdout whose
# bucket starts at MIN or above ("[16K, 32K)" starts at 16384). For what the
# kernel guarantees: a 20 ms sleep is never shorter, however late it ends.
hist_at_least() {
	awk -v min="$1" '/^\[[0-9]+[KMG]?(, [0-9]+[KMG]?\))?\]? +[0-9]+ \|/ {
		lo = $1; gsub(/[\[\],]/, "", lo); m = 1
		if (lo ~ /K$/) m = 1024; else if (lo ~ /M$/) m = 1048576; else if (lo ~ /G$/) m = 1073741824
		sub(/[KMG]$/, "", lo)
		if (lo * m >= min) { line = $0; sub(/ *\|.*/, "", line); n = split(line, f, " "); s += f[n] }
	} END { print s + 0 }' "$T/out"
}

# missed: the runs the kernel skipped, as shark reported them on stderr (a
# program does not run while a BPF program already runs on its CPU: an
# interrupt's tracepoint on a busy machine)
missed() {
	sed -n "s/^shark: BPF program '.*' missed \([0-9]*\) event.*/\1/p" "$T/err" | awk '{s += $1} END {print s + 0}'
}

# BPF programs and links (KIND prog or link), judged so that other runs on the
# machine do not count:
# held_ids KIND [PID]: the ids a process (default: any) holds an fd of; a
# program is also held through a link a process holds
held_ids() {
	local l
	{
		if [ -n "${2:-}" ]; then
			grep -hs "^$1_id:" /proc/"$2"/fdinfo/*
		else
			grep -hs "^$1_id:" /proc/[0-9]*/fdinfo/*
		fi | awk '{print $2}'
		if [ "$1" = prog ]; then
			for l in $(held_ids link "${2:-}"); do
				bpftool link show id "$l" 2>/dev/null | sed -n 's/^[0-9]*: .*prog \([0-9]*\).*/\1/p'
			done
		fi
	} | sort -u
}
# loaded_ids KIND: every one loaded, but the cgroup kinds systemd attaches
loaded_ids() {
	bpftool "$1" list 2>/dev/null | grep -v '^[0-9]*: cgroup' | sed -n 's/^\([0-9]*\): .*/\1/p' | sort -u
}
# orphans KIND BASE: those loaded since BASE (a list of ids) that no process
# holds, still there after a grace period (the kernel frees a closed one late)
orphans() {
	local left i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		left=$(comm -23 <(loaded_ids "$1") <(printf '%s\n' $2 | sort -u) | comm -23 - <(held_ids "$1"))
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo $left
}
# still_loaded KIND IDS...: those of IDS still loaded after a grace period
still_loaded() {
	local kind=$1 left i
	shift
	for i in 1 2 3 4 5 6 7 8 9 10; do
		left=$(comm -12 <(loaded_ids "$kind") <(printf '%s\n' "$@" | sort -u))
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo $left
}

done_testing() {
	echo "1..$n"
}
