# SPDX-License-Identifier: GPL-2.0
# stat.sh - shark stat: counts made in the kernel for tests/progs workloads,
# exact per command (from its exec), every output form, errors.
. "$(dirname "$0")/lib.bash"

# the loader's own openat calls: counted with 0 workload calls, then 777 more
run stat -e syscalls:sys_enter_openat -x, -- "$PROGS/openat_n" 0 /etc/hostname
base=$(cut -d, -f1 "$T/out")
check "stat -x, -- openat_n 0: one CSV row for the event" rc=0 "out~^[0-9]+,,syscalls:sys_enter_openat,0\.00,[0-9]+,100\.00$"
run stat -e syscalls:sys_enter_openat -x, -- "$PROGS/openat_n" 777 /etc/hostname
ok_if "stat -- openat_n 777: exactly 777 openat more than openat_n 0 ($base from the loader)" \
	test "$(cut -d, -f1 "$T/out")" = "$((base + 777))"

# a glob: every syscall tracepoint (counted on raw_syscalls, filtered by number)
run stat -e 'syscalls:sys_enter_*' -x, -- "$PROGS/openat_n" 777 /etc/hostname
check "stat -e 'syscalls:sys_enter_*': openat and close rows with the command's counts" rc=0 \
	"out~^$((base + 777)),,syscalls:sys_enter_openat," "out~^[0-9]+,,syscalls:sys_enter_close," \
	"out~^1,,syscalls:sys_enter_exit_group,"
ok_if "the glob gave a row per syscall tracepoint (over 300)" test "$(wc -l <"$T/out")" -gt 300

# the default set: software counts, hardware marked not supported here
run stat -- "$PROGS/openat_n" 10 /etc/hostname
check "stat -- CMD: the default events, perf stat's layout" rc=0 \
	"out~Performance counter stats for '.*openat_n 10 /etc/hostname':" \
	"out~^ +[0-9]+\.[0-9]+ msec +task-clock +# +[0-9.]+ CPUs utilized$" "out~^ +[0-9]+ +page-faults" \
	"out~^ +[0-9]+ +context-switches" "out~^ +[0-9]+ +cpu-migrations" "out~seconds time elapsed$"
if "$SHARK" stat -e cycles -x, -- true 2>/dev/null | grep -q '^<not supported>'; then
	check "no PMU here: cycles and instructions say 'not supported here'" rc=0 \
		"out~<not supported> +cycles +\(not supported here: no hardware PMU" "out~<not supported> +instructions"
else
	check "a PMU here: cycles counted" rc=0 "out~^ +[0-9]+ +cycles"
fi

# -r: mean +- stddev of exact counts is the count +- 0
run stat -r 3 -e syscalls:sys_enter_close -- "$PROGS/openat_n" 100 /etc/hostname
check "stat -r 3: three runs, mean +- 0.00% for an exact count, elapsed +- stddev" rc=0 "out~\(3 runs\)" \
	"out~^ +[0-9]+ +syscalls:sys_enter_close +\( \+- 0\.00%, stddev 0 \)$" "out~seconds time elapsed  \( \+- "

# -j: JSON lines
run stat -j -e syscalls:sys_enter_openat,cycles -- "$PROGS/openat_n" 50 /etc/hostname
check "stat -j: a JSON object per event, unsupported ones with null and why, then the run" rc=0 \
	'out~^\{.*"event":"syscalls:sys_enter_openat".*\}$' "out~\"value\":$((base + 50))[,}]" \
	'out~^\{.*"event":"cycles"' 'out~^\{.*"value":null.*"event":"cycles"|^\{.*"event":"cycles".*"value":null' 'out~"elapsed_s":'

# -I: interval rows for a command that sleeps
run stat -I 100 -x, -e syscalls:sys_enter_openat -- "$PROGS/openat_n" 300 /etc/hostname 350
check "stat -I 100: rows stamped by interval" rc=0 "out~^0\.[0-9]+,[0-9]+,,syscalls:sys_enter_openat,"
sum=$(awk -F, '{s += $2} END {print s}' "$T/out")
ok_if "stat -I: the intervals add up to the command's count ($sum)" test "$sum" = "$((base + 300))"
ok_if "stat -I 100 over ~350 ms: several intervals" test "$(wc -l <"$T/out")" -ge 3

# -p PID and -a until -d
"$PROGS/sleeper" st4tp 300 & sp=$!
sleep 0.1
run stat -p "$sp" -e context-switches -x,
check "stat -p PID: counts the process's context switches (it sleeps 1 ms at a time) until it exits" rc=0 \
	"out~^[1-9][0-9]*,,context-switches,"
wait "$sp"
run stat -a -e context-switches -x, -d 0.2
check "stat -a -d: system-wide context switches" rc=0 "out~^[1-9][0-9]*,,context-switches,"

# -o
run stat -o "$T/stat.txt" -x, -e syscalls:sys_enter_openat -- "$PROGS/openat_n" 1 /etc/hostname
check "stat -o FILE: the rows go to the file" rc=0 "out=" "file:$T/stat.txt~^[0-9]+,,syscalls:sys_enter_openat,"

# errors
run stat -e no_such:event -- true
check "an unknown event: exit 1, says which" rc=1 "err~no_such:event"
run stat -e task-clock
check "no target: usage, exit 2" rc=2 "err~give one of -p PID, -a, -c CMD"
run stat -x, -j -- true
check "-x with -j: usage, exit 2" rc=2 "err~-x and -j"
run stat -- /no/such/command
check "a command that cannot run: exit 1, says why" rc=1 "err~cannot run '/no/such/command': No such file"
run stat -p 999999 -d 0.1
check "-p of a missing process: exit 1" rc=1 "err~999999"

done_testing
