# SPDX-License-Identifier: GPL-2.0
# samples_orig.sh - the original shark's samples (perf.on based) run as a user would, on workloads
# whose behaviour is exactly known.
. "$(dirname "$0")/lib.bash"
S=$TOP/samples

run "$S/cpu-clock.lua" -h
check "cpu-clock -h: usage and the flags, exit 0" rc=0 'out~^usage: cpu-clock \[options\]' 'out~-u, --user'
run "$S/cpu-clock.lua" --bogus
check "a bad flag is a usage error: exit 2" rc=2 'err~unknown option --bogus' 'err~^usage: cpu-clock'

# --- cpu-clock: fpchain spins in leaf() <- mid() <- main() (frame pointers)
run -c "$PROGS/fpchain 600" "$S/cpu-clock.lua" -u -F 199
check "cpu-clock -u: fpchain's stack leaf/mid/main printed DTrace-style with its count" rc=0 \
	"out~^leaf$" "out~^mid$" "out~^main$"
ok_if "cpu-clock: the stack 'leaf mid main' holds most samples (>= 20 at 199 Hz for 600 ms)" \
	awk 'prev3 == "leaf" && prev2 == "mid" && prev1 == "main" { inmain = 1 }
		inmain && /^[0-9]+$/ { if ($1 >= 20) found = 1; inmain = 0 }
		/^$/ { inmain = 0 } { prev3 = prev2; prev2 = prev1; prev1 = $0 }
		END { exit !found }' "$T/out"
run -c "$PROGS/fpchain 300" "$S/cpu-clock.lua"
check "cpu-clock without -u: user-mode samples are counted under [user]" rc=0 'out~^\[user\]$' 'out~^[0-9]+$'

# --- sched_switch: the exec'd file, and the new command name in switch lines
run -c "$PROGS/sleeper swtchcomm 5" "$S/sched_switch.lua"
check "sched_switch: the exec line names the file, switches show 'swtchcomm -> ...'" rc=0 \
	"out~^exec $PROGS/sleeper \\(pid [0-9]+\\)$" 'out~^swtchcomm -> .+$'
ok_if "sched_switch: at least 5 switches out of swtchcomm (one per 1 ms sleep)" \
	test "$(grep -c '^swtchcomm -> ' "$T/out")" -ge 5

# --- sched_print / kmem: every event of the subsystem, ftrace-style, for the workload's pid
run -c "$PROGS/sleeper prtcomm 3" "$S/sched_print.lua"
pid=$(sed -n 's/.*sched:sched_process_exec: filename=[^ ]* pid=\([0-9]*\).*/\1/p' "$T/out" | head -1)
check "sched_print: exec of the workload with its file, then its exit under its new name" rc=0 \
	"out~sched:sched_process_exec: filename=$PROGS/sleeper pid=[0-9]+ old_pid=" \
	"out~sched:sched_process_exit: comm=prtcomm pid=${pid:-none} " 'out~sched:sched_switch: prev_comm=prtcomm '
run -c "$PROGS/openat_n 50 /etc/hostname" "$S/kmem.lua"
check "kmem: the workload's kmalloc/kfree and cache allocations (filp for its opens), 64-bit fields exact" rc=0 \
	'out~kmem:kmalloc: call_site=[0-9]+ ptr=0x' 'out~kmem:kfree: ' 'out~kmem:kmem_cache_alloc: .* name=filp ' \
	'!out~e\+[0-9]'
ok_if "kmem: at least 50 filp allocations (one per openat)" \
	test "$(grep -c 'kmem:kmem_cache_alloc: .* name=filp ' "$T/out")" -ge 50

# --- syscalls_hist: openat_n N opens N times more than openat_n 0 (the loader's opens are the same)
run -c "$PROGS/openat_n 0 /etc/hostname" "$S/syscalls_hist.lua"
base=$(awk '$1 == "syscalls:sys_enter_openat" { print $2 }' "$T/out")
run -c "$PROGS/openat_n 777 /etc/hostname" "$S/syscalls_hist.lua"
check "syscalls_hist: a histogram keyed by tracepoint name" rc=0 'out~^key +value  distribution$' \
	'out~^syscalls:sys_enter_close +[0-9]+ \|@'
ok_if "syscalls_hist -c 'openat_n 777': sys_enter_openat is exactly 777 more than for openat_n 0 ($base)" \
	test "$(awk '$1 == "syscalls:sys_enter_openat" { print $2 }' "$T/out")" = "$(( ${base:-x} + 777 ))"
"$PROGS/sleeper" spcomm 3000 &
wpid=$!
sleep 0.3
run "$S/syscalls_hist.lua" -j -p "$wpid" -d 0.5
kill "$wpid"; wait "$wpid" 2>/dev/null
check "syscalls_hist -p PID -j: JSON of that pid's calls only (its 1 ms sleeps, nothing else)" rc=0 \
	'out~^\{"syscalls:sys_enter_clock_nanosleep":[0-9]+\}$'

# --- threads_running: a 400 ms spin is the workload's on-CPU time
run -c "$PROGS/fpchain 400" "$S/threads_running.lua"
check "threads_running: fpchain[tid] in the on-CPU histogram (us)" rc=0 \
	'out~^on-CPU time by thread \(us\)$' 'out~^fpchain\[[0-9]+\] +[0-9]+ \|@+ *\|$'
us=$(awk '$1 ~ /^fpchain\[/ { print $2 }' "$T/out")
ok_if "threads_running: fpchain ran 50..1000 ms of its 400 ms spin (got ${us:-none} us)" \
	test "${us:-0}" -ge 50000 -a "${us:-0}" -le 1000000

# --- tracepoints_hist: exact counts for a workload, a note for a missing subsystem, separators
run -c "$PROGS/sleeper tphcomm 30" "$S/tracepoints_hist.lua" -s sched,timer,nosuchsub
check "tracepoints_hist: one exec and one exit, 30 nanosleep timers; a note for the missing subsystem" rc=0 \
	'out~^sched:sched_process_exec +1 \|' 'out~^sched:sched_process_exit +1 \|' \
	'out~^timer:hrtimer_setup +30 \|' "err~no 'nosuchsub' tracepoints on this machine, skipped"
run "$S/tracepoints_hist.lua" -s sched,irq -d 2.5
check "tracepoints_hist -d 2.5: a separator line every second, then sched:sched_switch counted" rc=0 \
	'out~^-{30}$' 'out~^sched:sched_switch +[0-9]+ \|'
ok_if "tracepoints_hist: two separator lines in 2.5 s" test "$(grep -c '^-\{30\}$' "$T/out")" -eq 2

done_testing
