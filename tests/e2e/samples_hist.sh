# SPDX-License-Identifier: GPL-2.0
# samples_hist.sh - the classic tools (syscount, runqlat, cpudist, offcputime,
# profile, stackcount) run as users run them, on workloads with known behaviour.
. "$(dirname "$0")/lib.bash"

S=$TOP/samples

# --- syscount

run -c "$PROGS/getppid_n 2345" "$S/syscount.lua"
check "syscount: exactly 2345 getppid for the -c workload" rc=0 'out~^SYSCALL +COUNT$' 'out~^getppid +2345$'

run -c "$PROGS/openat_n 0 /etc/hostname" "$S/syscount.lua" -T 50
base=$(awk '$1 == "openat" { print $2 }' "$T/out")
run -c "$PROGS/openat_n 300 /etc/hostname" "$S/syscount.lua" -T 50
check "syscount: openat_n 300 makes exactly 300 openat more than openat_n 0 (${base:-?} from the loader)" rc=0 \
	"out~^openat +$(( ${base:-9999} + 300 ))\$"

run -c "$PROGS/openat_n 120 /nonexistent/x" "$S/syscount.lua" -x
check "syscount -x: the 120 failed openat only" rc=0 'out~^openat +120$' '!out~^(mmap|getppid|close) '
run -c "$PROGS/openat_n 120 /nonexistent/x" "$S/syscount.lua" -e ENOENT
check "syscount -e ENOENT: the 120 openat that failed with ENOENT" rc=0 'out~^openat +120$'
run -c "$PROGS/openat_n 120 /nonexistent/x" "$S/syscount.lua" -e EACCES
check "syscount -e EACCES: none of them" rc=0 '!out~^openat '

run -c "$PROGS/getppid_n 2000" "$S/syscount.lua" -L
check "syscount -L: count, total and average time per syscall" rc=0 \
	'out~^SYSCALL +COUNT +TIME \(us\) +AVG \(us\)$' 'out~^getppid +2000 +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3}$'

run -c "$PROGS/getppid_n 1500" "$S/syscount.lua" -P -L -m
check "syscount -P -L -m: the process with its command, count and ms" rc=0 \
	'out~^PID +COMM +COUNT +TIME \(ms\) +AVG \(ms\)$' 'out~^[0-9]+ +getppid_n +15[0-9]{2} +[0-9.]+ +[0-9.]+$'

"$PROGS/getppid_n" 1000000000 & OTHER=$!
"$PROGS/getppid_n" 1000000000 & BUSY=$!
sleep 0.2
run "$S/syscount.lua" -p "$BUSY" -P -j 0.5 2
kill "$BUSY" "$OTHER" 2>/dev/null; wait "$BUSY" "$OTHER" 2>/dev/null
check "syscount -p PID -j interval count: JSON lines for that pid, not for a twin as busy" rc=0 \
	'out~^\{.*"comm":"getppid_n"' "out~\"count\":[0-9]{4,}" "!out~\"pid\":$OTHER[,}]"
ok_if "syscount interval 0.5 count 2: exactly two rows, both the busy pid's" \
	[ "$(grep -c "\"pid\":$BUSY[,}]" "$T/out")/$(wc -l <"$T/out")" = 2/2 ]

run "$S/syscount.lua" -h
check "syscount -h: usage, exit 0" rc=0 'out~^usage: syscount \[options\] \[interval\] \[count\]$'
run "$S/syscount.lua" --bogus
check "syscount --bogus: usage error, exit 2" rc=2 'err~unknown option --bogus'


# the template options syscount rests on, misused
run -e 'bpf.count{ on = "raw_syscalls:sys_exit", by = "syscall", where = "ret <> 0" }'
check "bpf.count where: a malformed filter is named" rc=1 "err~where = 'ret <> 0': expected 'field OP number'"
run -e 'bpf.latency{ from = "raw_syscalls:sys_enter", to = "raw_syscalls:sys_exit", where = "nope == 1" }'
check "bpf.latency where: an unknown field is named" rc=1 "err~no integer field 'nope' in raw_syscalls:sys_exit"

# --- runqlat

# sum of the counts of the log2 histograms in $T/out
hist_sum() { awk '/^\[/ { sub(/ *\|.*/, ""); s += $NF } END { print s + 0 }' "$T/out"; }

run -c "$PROGS/pingpong 400" "$S/runqlat.lua"
sum=$(hist_sum)
check "runqlat: a usecs histogram for pingpong 400" rc=0 'out~^@usecs:$' 'out~^\[[0-9]+[KM]?(\]|, [0-9]+[KM]?\)) +[0-9]+ \|@+ *\|$'
# (two wake-ups a round, and a few waits after a preemption)
ok_if "runqlat: every round woke a thread (400 <= $sum <= 900 waits)" [ "$sum" -ge 400 -a "$sum" -le 900 ]

"$PROGS/pingpong" 200000 & OTHER=$!
run -c "$PROGS/pingpong 300" "$S/runqlat.lua" -P -m
kill "$OTHER" 2>/dev/null; wait "$OTHER" 2>/dev/null
sum=$(hist_sum)
check "runqlat -P -m: one msecs histogram, for the -c pingpong process" rc=0 \
	'out~^@msecs\[[0-9]+, (ping|pong)\]:$' "!out~^@msecs\\[$OTHER,"
ok_if "runqlat -p: a busier pingpong next to it is filtered out (300 <= $sum <= 700)" \
	[ "$(grep -c '^@msecs' "$T/out")" = 1 -a "$sum" -ge 300 -a "$sum" -le 700 ]

# runqlat counts the waits after a preemption too (a task switched out still
# runnable), as BCC's and libbpf-tools' do: two CPU hogs on one CPU preempt
# each other every few ms. The traced hog spins only once both tracers are
# attached (it waits for $T/go), so both see its whole life; shark's -p ends
# with it. Compared with libbpf-tools runqlat on the same run when installed.
taskset -c 0 "$PROGS/fpchain" 5000 & HOG=$!
taskset -c 0 sh -c "while [ ! -e '$T/go' ]; do sleep 0.01; done; exec '$PROGS/fpchain' 1000" & A=$!
LB=""
if [ -x /usr/sbin/runqlat ]; then
	/usr/sbin/runqlat -p "$A" 30 1 >"$T/lb" 2>&1 & LB=$!
fi
start "$S/runqlat.lua" -p "$A"
for i in $(seq 200); do
	grep -q Tracing "$T/err" 2>/dev/null && { [ -z "$LB" ] || grep -q Tracing "$T/lb"; } && break
	sleep 0.05
done
touch "$T/go"
wait "$A"
finish
kill "$HOG" 2>/dev/null; wait "$HOG" 2>/dev/null
sum=$(hist_sum)
check "runqlat -p: the hog's waits, the process gone ends the run" rc=0 'out~^@usecs:$'
ok_if "runqlat -p: a hog sharing its CPU waited after each preemption ($sum waits >= 50)" [ "$sum" -ge 50 ]
if [ -n "$LB" ]; then
	kill -INT "$LB"; wait "$LB"
	lb=$(awk '/->/ { s += $5 } END { print s + 0 }' "$T/lb")
	ok_if "runqlat -p: libbpf-tools runqlat on the same run counts as many (shark $sum, libbpf-tools $lb)" \
		[ $(( (sum - lb) * (sum - lb) * 100 )) -le $(( lb * lb + 400 )) ]
else
	skip "runqlat -p: compared with libbpf-tools runqlat" "libbpf-tools is not installed (deps/packages.txt [bench])"
fi

run "$S/runqlat.lua" -p 999999
check "runqlat -p of no process: the error, exit 1" rc=1 'err~^runqlat: cannot trace process 999999: no such process$'
sleep 0.3 & A=$!
run "$S/syscount.lua" -p "$A"
check "syscount -p: the run ends when the process exits" rc=0 'out~^SYSCALL +COUNT$'

# --- cpudist

# A 300 ms sleep is 300000 us off CPU or more (never less; how much more depends
# on the load): the one count at [256K, 512K) us or above. Every other off-CPU
# period of the -c process is a preemption, far shorter on any machine.
"$PROGS/sleeper" cpuother 3000 & OTHER=$!
run -c "$PROGS/pidsleep $T/pid 300" "$S/cpudist.lua" -O
kill "$OTHER" 2>/dev/null; wait "$OTHER" 2>/dev/null
sum=$(hist_sum)
check "cpudist -O: a usecs histogram of the -c process's off-CPU periods" rc=0 'out~^@usecs:$'
ok_if "cpudist -O: the 300 ms sleep is the one period of 256K us or more ($(hist_at_least 262144))" \
	[ "$(hist_at_least 262144)" = 1 ]
ok_if "cpudist -O: a sleeper making 1 ms naps next to it is filtered out ($sum blocks in all)" [ "$sum" -lt 30 ]
run -c "$PROGS/pidsleep $T/pid 300" "$S/cpudist.lua" -O -m -P
check "cpudist -O -m -P: per process, in ms" rc=0 'out~^@msecs\[[0-9]+, pidsleep\]:$'
ok_if "cpudist -O -m -P: the 300 ms sleep is the one period of 256 ms or more ($(hist_at_least 256))" \
	[ "$(hist_at_least 256)" = 1 ]

# off-CPU time after a preemption counts too, as BCC's and libbpf-tools' cpudist
# -O count it (no state filter): the hog sharing a CPU, compared on one run
taskset -c 0 "$PROGS/fpchain" 5000 & HOG=$!
taskset -c 0 sh -c "while [ ! -e '$T/go2' ]; do sleep 0.01; done; exec '$PROGS/fpchain' 1000" & A=$!
LB=""
if [ -x /usr/sbin/cpudist ]; then
	/usr/sbin/cpudist -O -p "$A" 30 1 >"$T/lb" 2>&1 & LB=$!
fi
start "$S/cpudist.lua" -O -p "$A"
for i in $(seq 200); do
	grep -q Tracing "$T/err" 2>/dev/null && { [ -z "$LB" ] || grep -q Tracing "$T/lb"; } && break
	sleep 0.05
done
touch "$T/go2"
wait "$A"
finish
kill "$HOG" 2>/dev/null; wait "$HOG" 2>/dev/null
sum=$(hist_sum)
ok_if "cpudist -O -p: the hog was off CPU after preemptions ($sum times >= 20)" [ "$sum" -ge 20 ]
if [ -n "$LB" ]; then
	kill -INT "$LB"; wait "$LB"
	lb=$(awk '/->/ { s += $5 } END { print s + 0 }' "$T/lb")
	ok_if "cpudist -O -p: libbpf-tools cpudist -O on the same run counts as many (shark $sum, libbpf-tools $lb)" \
		[ $(( (sum - lb) * (sum - lb) * 100 )) -le $(( lb * lb + 400 )) ]
else
	skip "cpudist -O -p: compared with libbpf-tools cpudist" "libbpf-tools is not installed (deps/packages.txt [bench])"
fi

run -c "$PROGS/fpchain 300" "$S/cpudist.lua" -m
sum=$(hist_sum)
check "cpudist -m: on-CPU slices of a 300 ms spin, none 512 ms or longer" rc=0 'out~^@msecs:$' '!out~^\[(512|1K)'
ok_if "cpudist: the spin ran in at least one slice ($sum)" [ "$sum" -ge 1 ]

# --- offcputime

run -c "$PROGS/pidsleep $T/pid 50" "$S/offcputime.lua"
pid=$(cat "$T/pid")
# the output is system-wide: what is checked (and shown on a failure) is the
# blocks of pidsleep in clock_nanosleep (a preemption on its way back to user
# mode is one too), the largest (the 50 ms sleep) first
mv "$T/out" "$T/all"
awk -v RS= -v pid="$pid" 'index($0, "pidsleep (" pid ")") && /\n    clock_nanosleep\n/ { b[n++] = $0 }
	END { while (n--) print b[n] "\n" }' "$T/all" >"$T/out"
check "offcputime: the 50 ms nanosleep in its kernel and user frames, BCC's layout (its block of $(grep -c '^$' \
	"$T/all") stacks)" rc=0 \
	'out~^    do_nanosleep$' 'out~^    hrtimer_nanosleep$' 'out~^    clock_nanosleep$' '!out~@' \
	"out~^    -                pidsleep \\($pid\\)$" '!out~Missed' '!err~stacks? missed'
us=$(awk '/^    do_nanosleep$/ { f = 1 } f && /^        [0-9]+$/ { print $1; exit }' "$T/out")
ok_if "offcputime: that stack was off CPU 50 ms or more (${us:-?} us, under 1 s)" [ "${us:-0}" -ge 50000 -a "${us:-0}" -lt 1000000 ]

# (a preemption on a busy machine can keep a task off CPU for over 10 ms, never 200;
# with other programs on sched_switch, the kernel's probe loop is a frame too)
run -c "$PROGS/pidsleep $T/pid 300" "$S/offcputime.lua" -f folded -m 200000
check "offcputime -f -m 200000: one folded line, comm;user;kernel frames root first, us" rc=0 \
	'out~^pidsleep;([^;]+;)*clock_nanosleep[^;]*;entry_SYSCALL_64[^;]*;([^;]+;)*do_nanosleep;([^;]+;)*__schedule(;__traceiter_sched_switch)? [0-9]{6,}$'
ok_if "offcputime -m 200000: shorter blocks left out (one line)" [ "$(wc -l <"$T/out")" = 1 ]
run -c "$PROGS/pidsleep $T/pid 50" "$S/offcputime.lua" -f folded -u -m 10000
check "offcputime -u: user frames only, names without their symbol version (no @@GLIBC_...)" rc=0 \
	'out~^pidsleep;([^;]+;)*clock_nanosleep [0-9]+$' '!out~do_nanosleep' '!out~@'
run -c "$PROGS/pidsleep $T/pid 50" "$S/offcputime.lua" -f folded -k -m 10000 --delimited
check "offcputime -k: kernel frames only" rc=0 'out~^pidsleep;([^;]+;)*do_nanosleep;' '!out~;(clock_nanosleep@|__libc_start)' '!out~;-;'

# --- profile

"$PROGS/fpchain" 3000 & OTHER=$!
run -c "$PROGS/fpchain 500" "$S/profile.lua" -F 199 -f folded
nsamples=$(awk '/;main;mid;leaf [0-9]+$/ { print $NF }' "$T/out")
check "profile -f: the -c spin's folded stack comm;...;main;mid;leaf" rc=0 'out~^fpchain;([^;]+;)*main;mid;leaf [0-9]+$' \
	"!out~^fpchain;.*\\b$OTHER\\b"
ok_if "profile -F 199: 500 ms of spin in leaf is 10 samples or more (${nsamples:-0})" [ "${nsamples:-0}" -ge 10 ]
run -c "$PROGS/fpchain 500" "$S/profile.lua" -F 199
check "profile: BCC's layout, leaf first, the -c process only (not a twin spinning next to it)" rc=0 \
	'out~^    leaf$' 'out~^    mid$' "out~^    -                fpchain \\([0-9]+\\)$" "!out~\\($OTHER\\)$"
ok_if "profile: leaf, mid, main in that order" \
	awk 'p2 && $0 == "    main" { ok = 1 } { p2 = p1 && $0 == "    mid"; p1 = $0 == "    leaf" } END { exit !ok }' "$T/out"
run -c "$PROGS/fpchain 500" "$S/profile.lua" -F 199 -f folded -K
check "profile -K: kernel frames only, no user function" rc=0 '!out~leaf|main'
# a process asleep all the time is never sampled
sleep 30 & SL=$!
run "$S/profile.lua" -p "$SL" -d 0.5 --svg "$T/none.svg"
kill "$SL"; wait "$SL" 2>/dev/null
check "profile --svg with no samples: says so, exit 1, no file" rc=1 'err~^profile: no samples of PID [0-9]+.*none.svg not written$'
ok_if "profile --svg with no samples: no SVG written" [ ! -e "$T/none.svg" ]
run -c "$PROGS/fpchain 500" "$S/profile.lua" -F 199 --svg "$T/cpu.svg" --title "fpchain <profile>"
kill "$OTHER" 2>/dev/null; wait "$OTHER" 2>/dev/null
check "profile --svg: an SVG flame graph with frames for main, mid, leaf" rc=0 'err~cpu.svg: [0-9]+ samples in [0-9]+ stacks' \
	"file:$T/cpu.svg~<g data-name=\"leaf\"" "file:$T/cpu.svg~<title>mid \\([0-9]+ samples, [0-9.]+%\\)</title>" \
	"file:$T/cpu.svg~<g data-name=\"main\"" "file:$T/cpu.svg~fpchain &lt;profile&gt;" "file:$T/cpu.svg~function zoom"
if command -v xmllint >/dev/null; then
	ok_if "profile --svg: well-formed XML" xmllint --noout "$T/cpu.svg"
else
	skip "profile --svg: well-formed XML" "xmllint is not installed"
fi

# --- stackcount

"$PROGS/getppid_n" 1000000000 & OTHER=$!
run -c "$PROGS/getppid_fp 1000" "$S/stackcount.lua" syscalls:sys_enter_getppid -U
check "stackcount -U: 1000 getppid from ask_parent <- main, the -c process only (a busy twin left out)" rc=0 \
	'out=  ask_parent
  main
  __libc_start_call_main
    1000'
run -c "$PROGS/getppid_fp 1000" "$S/stackcount.lua" t:syscalls:sys_enter_getppid -P -f folded -D
kill "$OTHER" 2>/dev/null; wait "$OTHER" 2>/dev/null
check "stackcount t: -P -f -D: comm;user;-;kernel frames, folded, exact count" rc=0 \
	'out~^getppid_fp;__libc_start_call_main;main;ask_parent;-;entry_SYSCALL_64[^;]*;([^;]+;)*do_syscall_64;[^ ]* 1000$'
run -c "$PROGS/getppid_n 700" "$S/stackcount.lua" -K syscalls:sys_enter_getppid
total=$(awk '/^    [0-9]+$/ { s += $1 } END { print s + 0 }' "$T/out")
check "stackcount -K: kernel frames of the syscall, no user frames" rc=0 'out~^  do_syscall_64$' \
	'!out~__libc_start_call_main|^  syscall$'
ok_if "stackcount -K: the stacks add up to exactly 700 ($total)" [ "$total" = 700 ]
run -c "$PROGS/probed 500" "$S/stackcount.lua" -P "u:$PROGS/probed:probed_add"
check "stackcount u:PATH:FUNC: a uprobe's 500 hits in probed_add, per process" rc=0 \
	'out~^  probed_add$' 'out~^    probed \[[0-9]+\]$' 'out~^    500$'
run "$S/stackcount.lua"
check "stackcount without an event: usage error" rc=2 'err~expected event'

done_testing
