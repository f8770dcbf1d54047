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
start() {
	timeout -s KILL 60 "$SHARK" "$@" >"$T/out" 2>"$T/err" </dev/null &
	BG=$!
}

# wait_out REGEX [SECONDS]: wait until stdout matches (default 10 s).
wait_out() {
	local i limit=$(( ${2:-10} * 20 ))
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
#   file:PATH~RE    the file matches
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

done_testing() {
	echo "1..$n"
}
