# SPDX-License-Identifier: GPL-2.0
# top.sh - shark top on a real terminal (tmux) and off one: fpchain spins in
# leaf(), so its pid's hottest function is leaf in fpchain; q, Ctrl-C and
# SIGTERM end the view with the terminal restored; plain snapshots carry no
# escape codes; the live table helper for scripts.
. "$(dirname "$0")/lib.bash"

SOCK=shark-top-$$
tm() { tmux -L "$SOCK" "$@"; }
SPIN=""
trap 'tm kill-server 2>/dev/null; [ -n "$SPIN" ] && kill "$SPIN" 2>/dev/null; bg_cleanup; rm -rf "$T"' EXIT

"$PROGS/fpchain" 120000 &
SPIN=$!

# wait_pane REGEX [SECONDS]: until the pane shows REGEX (default 15 s); the screen is in $T/pane.
wait_pane() {
	local i limit=$(( ${2:-15} * 10 ))
	for ((i = 0; i < limit; i++)); do
		tm capture-pane -p -t top >"$T/pane" 2>/dev/null
		grep -Eq -- "$1" "$T/pane" && return 0
		sleep 0.1
	done
	return 1
}

# in_tmux ARGS...: shark top ARGS in a fresh 120x40 tmux session; after it
# ends, the pane shows EXIT=rc and the terminal's modes are in $T/stty.
in_tmux() {
	tm kill-session -t top 2>/dev/null
	rm -f "$T/stty"
	tm new-session -d -s top -x 120 -y 40 \
		"$SHARK top $*; echo EXIT=\$?; stty -a >'$T/stty'; sleep 120"
}

# the terminal is back in cooked mode: canonical input and echo
restored() {
	[ -f "$T/stty" ] && tr ' ' '\n' <"$T/stty" | grep -qx icanon && tr ' ' '\n' <"$T/stty" | grep -qx echo
}

in_tmux -p "$SPIN"
ok_if "tmux: the pid's hot function leaf [fpchain] is on the screen" \
	wait_pane '^ +[0-9.]+% +[0-9]+ leaf \[fpchain\]$'
ok_if "tmux: the header says the rate, the interval's samples and the losses" \
	grep -Eq "cpu-clock at 99 Hz on pid $SPIN, by sym \| [0-9]+ samples in [0-9.]+ s \| lost [0-9]+ \(total [0-9]+\)" "$T/pane"
ok_if "tmux: still running until a key" bash -c "! grep -q EXIT= '$T/pane'"
tm send-keys -t top q
ok_if "tmux: q ends it with exit 0" wait_pane '^EXIT=0$'
ok_if "tmux: q restores the terminal (icanon, echo)" restored
ok_if "tmux: the screen before shark top comes back (no table left)" bash -c "! grep -q OVERHEAD '$T/pane'"

in_tmux --by comm -p "$SPIN"
ok_if "tmux --by comm: the program's comm" wait_pane '^ +[0-9.]+% +[0-9]+ fpchain$'
tm send-keys -t top C-c
ok_if "tmux: Ctrl-C ends it with exit 0" wait_pane '^EXIT=0$'
ok_if "tmux: Ctrl-C restores the terminal" restored

in_tmux --by dso -p "$SPIN"
ok_if "tmux --by dso: the program's DSO" wait_pane '^ +[0-9.]+% +[0-9]+ fpchain$'
shark_pid=$(pgrep -P "$(tm list-panes -t top -F '#{pane_pid}')" -x shark | head -1)
[ -n "$shark_pid" ] && kill -TERM "$shark_pid"
ok_if "tmux: SIGTERM ends it with exit 0" wait_pane '^EXIT=0$'
ok_if "tmux: SIGTERM restores the terminal" restored
tm kill-session -t top

# every CPU in a 6-line pane: the rows are cut to fit, the header stays on top
tm kill-session -t top 2>/dev/null
tm new-session -d -s top -x 100 -y 6 "$SHARK top; echo EXIT=\$?; sleep 120"
ok_if "tmux 6 lines: a full table after a refresh" wait_pane '^shark top: cpu-clock at 99 Hz on every CPU'
fits=1
for i in 1 2 3 4 5; do
	tm capture-pane -p -t top >"$T/pane"
	head -1 "$T/pane" | grep -q '^shark top: cpu-clock' && sed -n 2p "$T/pane" | grep -q '^OVERHEAD' || fits=0
	sleep 0.3
done
ok_if "tmux 6 lines: the header and the titles stay on lines 1 and 2 (rows fit the height)" test $fits = 1
tm send-keys -t top q
ok_if "tmux 6 lines: q" wait_pane '^EXIT=0$'

# --- off a terminal: plain snapshots

run top --once -p "$SPIN"
check "--once: the hot function, no escape codes" rc=0 'out~^ +[0-9.]+% +[0-9]+ leaf \[fpchain\]$' \
	'out~^OVERHEAD +SAMPLES NAME$' "!out~$(printf '\033')" quiet
run top -n 2 --by comm -p "$SPIN"
check "-n 2 --by comm: two snapshots, the comm in each" rc=0 'out~^ +[0-9.]+% +[0-9]+ fpchain$'
ok_if "-n 2: exactly two headers" test "$(grep -c '^shark top: cpu-clock' "$T/out")" = 2

"$PROGS/fpchain" 1 &
gone=$!
wait "$gone"
run top -p "$gone"
check "-p a pid that does not exist: an error" rc=1 "err~^shark top: .*$gone.*no such process$" 'out='
run top -p abc
check "-p abc: a usage error" rc=2 'err~-p wants a process id'
run top --by nothing
check "--by: one of sym, comm, dso" rc=2 "err~'nothing' is not one of sym, comm, dso"

start top -p "$("$PROGS/fpchain" 1500 >/dev/null & echo $!)"
finish
check "-p: ends when the process exits, its last samples shown" rc=0 'out~^ +[0-9.]+% +[0-9]+ leaf \[fpchain\]$'

# -e a tracepoint: the function that hit it, not the tracepoint's own frames;
# -c: every one of sleeper's 300 switches out is in the snapshots (and its
# exec's and exit's), none lost
run -c "$PROGS/sleeper topsleep 300" top -e sched:sched_switch
check "-e sched:sched_switch: __schedule, no tracing frames" rc=0 \
	'out~^ +100\.00% +[0-9]+ __schedule \[kernel\.kallsyms\]$' '!out~__traceiter|perf_trace' 'out~lost 0 \(total 0\)'
sum=$(grep -o '| [0-9]* samples in' "$T/out" | awk '{ s += $2 } END { print s + 0 }')
ok_if "-e sched:sched_switch -c: all 300 switches out counted (got $sum)" test "$sum" -ge 300 -a "$sum" -le 310
"$PROGS/sleeper" topsleep 20000 &
slp=$!
for ((i = 0; i < 100; i++)); do [ "$(cat /proc/$slp/comm 2>/dev/null)" = topsleep ] && break; sleep 0.05; done
run top -e sched:sched_switch --by comm --once -p "$slp"
kill "$slp"
check "--by comm of a tracepoint: the comm set by prctl" rc=0 'out~^ +100\.00% +[0-9]+ topsleep$'

# --- the live table for scripts, plain off a terminal

cat >"$T/live.lua" <<'LUA'
local live = require("shark.top").live{ { "COUNT", "%5d", "n" }, { "NAME", "%s", "name" } }
live:refresh({ { n = 3, name = "b" }, { n = 1, name = "a" } }, "two rows")
live:refresh({ { n = 7, name = "c" } }, { "one row" })
shark.exit(0)
LUA
run "$T/live.lua"
check "shark.top live: plain snapshots off a terminal" rc=0 quiet \
	"out=$(printf 'two rows\nCOUNT NAME\n    3 b\n    1 a\n\none row\nCOUNT NAME\n    7 c\n')"

# an error while the live table holds the terminal: the terminal comes back
# first, so the message is seen, and the exit code is 1
cat >"$T/boom.lua" <<'LUA'
local live = require("shark.top").live{ { "N", "%d", "n" } }
local n = 0
set_interval(200, function()
  n = n + 1
  live:refresh({ { n = n } }, "counting")
  if n == 5 then error("boom at five") end
end)
LUA
tm kill-session -t top 2>/dev/null
rm -f "$T/stty"
tm new-session -d -s top -x 120 -y 40 "$SHARK $T/boom.lua; echo EXIT=\$?; stty -a >'$T/stty'; sleep 120"
ok_if "tmux live table, a Lua error: exit 1" wait_pane '^EXIT=1$'
ok_if "tmux live table, a Lua error: its file:line: message on the screen" \
	grep -Eq "boom\.lua:6: boom at five" "$T/pane"
ok_if "tmux live table, a Lua error: the terminal restored" restored

# --- a sample on the same live table: syscount --live

run -c "$PROGS/getppid_n 2345" "$TOP/samples/syscount.lua" --live
sum=$(awk '$1 == "getppid" { s += $2 } END { print s + 0 }' "$T/out")
check "syscount --live off a terminal: plain snapshots" rc=0 'out~^SYSCALL +COUNT$' "!out~$(printf '\033')"
ok_if "syscount --live: the snapshots add up to exactly 2345 getppid (got $sum)" test "$sum" = 2345
run "$TOP/samples/syscount.lua" --live -j
check "syscount --live -j: a usage error" rc=2 'err~--live and -j exclude each other'

tm kill-session -t top 2>/dev/null
rm -f "$T/stty"
tm new-session -d -s top -x 120 -y 40 \
	"$SHARK -c '$PROGS/getppid_n 2000000000' $TOP/samples/syscount.lua --live; echo EXIT=\$?; stty -a >'$T/stty'; sleep 120"
ok_if "tmux syscount --live: the workload's getppid row, redrawn in place" \
	wait_pane '^getppid +[0-9]+$'
ok_if "tmux syscount --live: one table on the screen" test "$(grep -c '^SYSCALL' "$T/pane")" = 1
tm send-keys -t top q
ok_if "tmux syscount --live: q ends it with exit 0" wait_pane '^EXIT=0$'
ok_if "tmux syscount --live: the terminal restored" restored
ok_if "tmux syscount --live: its last table stays, printed plain after the live one" \
	grep -Eq '^getppid +[0-9]+$' "$T/pane"

done_testing
