# SPDX-License-Identifier: GPL-2.0
# stackstore.sh - the templates keep every distinct stack: 3000 user stacks
# of one process (tests/progs/stackfan), where a 4096-bucket stack-trace map
# (bpf_get_stackid) kept ~2100 and dropped the rest on bucket collisions; a
# stack the map truly has no room for is shown and counted as missed. Counts
# by pid, no timing: holds with CPU hogs running.
. "$(dirname "$0")/lib.bash"

S=$TOP/samples
FAN=$PROGS/stackfan

# fan_start N R [sleep|call [PASSES]]: the workload, waiting for $T/go; sets FAN_PID.
fan_start() {
	rm -f "$T/go" "$T/go.done" "$T/go.end" "$T/out" "$T/err"
	"$FAN" "$1" "$2" "$T/go" ${3:-} ${4:-} &
	FAN_PID=$!
}

# fan_run: once the background shark says it traces, let the workload go;
# when it is done (still alive: its frames get names), end shark, release it.
# (A script may read per pass: it removes $T/go.done, the workload goes on.)
fan_run() {
	until_ok 30 grep -q Tracing "$T/err"
	touch "$T/go"
	until_ok 60 test -e "$T/go.end"
	signal INT
	finish
	rm -f "$T/go"
	wait "$FAN_PID"
}

# the folded lines of stackcount, exactly as many as the distinct stacks
fan_start 3000 2
start "$S/stackcount.lua" -U -f folded -p "$FAN_PID" syscalls:sys_enter_getppid
fan_run
lines=$(grep -c ';step;ask_parent 2$' "$T/out")
check "stackcount -U: 3000 distinct user stacks of one process, each counted twice, none missed" rc=0 \
	'out~^__libc_start_call_main;main;step;(zero|one);step;(zero;step;|one;step;)+ask_parent 2$' \
	'!out~Missed' '!err~stacks? missed'
ok_if "stackcount -U: exactly 3000 folded lines of stackfan's leaf, all with count 2 ($lines; $(wc -l <"$T/out") lines)" \
	[ "$lines" = 3000 -a "$(wc -l <"$T/out")" = 3000 ]

# bpf.count's rows: the same, and the template's count of missed stacks is 0
COUNT='local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "ustack", stacks = tonumber(shark.args[1]) }
io.stderr:write("Tracing\n")
shark.on_end(function()
  local rows, total, missed = c:entries(), 0, 0
  for _, r in ipairs(rows) do
    total = total + r.count
    if r.user[1] == "[Missed User Stack]" then missed = missed + r.count end
  end
  print(#rows, total, missed, c:stacks_missed())
end)'
fan_start 3000 2
start -p "$FAN_PID" -e "$COUNT"
fan_run
check "bpf.count by = ustack: 3000 rows, 6000 events, 0 missed" rc=0 "out=3000	6000	0	0	32768" '!err~stacks? missed'

# stacks = 100: the map keeps 100 stacks; the other 2900 stacks' events are
# one [Missed User Stack] row, counted, and said on stderr with the option
fan_start 3000 2
start -p "$FAN_PID" -e "$COUNT" 100
fan_run
check "bpf.count stacks = 100: 100 stacks kept, 2900 x 2 events missed, shown, counted and said" rc=0 \
	"out=101	6000	5800	5800	100" \
	'err~: 5800 stacks missed \(shown as \[Missed Kernel Stack\] or \[Missed User Stack\]\): its stack map is full \(100 distinct stacks\); raise it with stacks = N \(tools: --stacks N\)'
run -e 'bpf.count{ on = "syscalls:sys_enter_getppid", by = "ustack", stacks = 0 }'
check "stacks = 0: refused at the script's line" rc=1 \
	'err~^-e:1: bpf.count: stacks = 0: expected a count of distinct stacks \(default 32768\)'

# a reader that takes windows forever (the agent's profiler) forgets the
# stacks it has read: 2 passes of 80 new stacks fit in a map of 100, each
# taken (and forgotten) when the pass is done
FORGET='local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "ustack", stacks = 100 }
local done, rows, total, forgot = shark.args[1], 0, 0, 0
io.stderr:write("Tracing\n")
local function take()
  for _, r in ipairs(c:entries{ take = true }) do rows, total = rows + 1, total + r.count end
  if shark.args[2] == "forget" then forgot = forgot + c:forget_stacks() end
end
shark.every(0.02, nil, function()
  if io.open(done) then
    take()
    os.remove(done)
  end
end)
shark.on_end(function() take() print(rows, total, (c:stacks_missed()), forgot) end)'
fan_start 80 1 call 2
start -p "$FAN_PID" -e "$FORGET" "$T/go.done" forget
fan_run
check "forget_stacks after each take: 2 x 80 stacks through a map of 100, none missed" rc=0 "out=160	160	0	160"
fan_start 80 1 call 2
start -p "$FAN_PID" -e "$FORGET" "$T/go.done" keep
fan_run
check "... and without: 20 of the second 80 fit, 60 missed" rc=0 "out=101	160	60	0"

# off CPU: 3000 distinct user stacks blocked in nanosleep (preemptions on a
# busy machine add stacks of their own: not in do_nanosleep), none missed.
# A 100 us nanosleep whose timer fires before the thread is switched out (a
# vCPU the host held that long) never leaves the CPU: measured 1 to 22 of
# 3000 here; a 4096-bucket stack map kept ~2100. (Debian's libc keeps no
# frame pointer: nap's own frame is not walked.)
fan_start 3000 1 sleep
start -p "$FAN_PID" -e 'local r = bpf.offcpu{}
io.stderr:write("Tracing\n")
shark.on_end(function()
  local users, n, missed = {}, 0, 0
  for _, row in ipairs(r:entries()) do
    local k, u = table.concat(row.kernel, ";"), table.concat(row.user, ";")
    if k:find("do_nanosleep") and u:find("^clock_nanosleep;step;") and not users[u] then
      users[u] = true
      n = n + 1
    end
    if (row.kernel[1] or ""):find("^%[Missed") or (row.user[1] or ""):find("^%[Missed") then missed = missed + 1 end
  end
  print(n >= 2900 and n <= 3000 and "2900..3000" or n, missed, r:stacks_missed())
end)'
fan_run
check "bpf.offcpu: 2900 to 3000 distinct user stacks blocked in do_nanosleep, none missed" rc=0 \
	"out=2900..3000	0	0	32768" '!err~stacks? missed'

# offcpu keeps the stacks of a thread still blocked in its start map: a
# forget_stacks while pidsleep sleeps 1.5 s must not forget the stack its
# wake-up will count (it showed as [Missed Kernel Stack])
# (the take comes 100 ms after pidsleep wrote its pid, just before its sleep,
# however late a busy machine starts it; what there is to forget varies)
rm -f "$T/pid"
run -c "$PROGS/pidsleep $T/pid 1500" -e 'local r = bpf.offcpu{ pid = shark.target().pid, user = false }
local function take()
  local f = io.open("'"$T/pid"'")
  local written = f and f:read("*n")
  if f then f:close() end
  if not written then return set_timeout(10, take) end
  set_timeout(100, function()
    r:entries{ take = true }
    print("forgot", r:forget_stacks() >= 0)
  end)
end
take()
shark.on_end(function()
  local long, ok = 0, 0
  for _, row in ipairs(r:entries()) do
    if row.count >= 1000000 then
      long = long + 1
      if table.concat(row.kernel, ";"):find("do_nanosleep", 1, true) then ok = ok + 1 end
    end
  end
  print(long, ok, (r:stacks_missed()))
end)'
check "bpf.offcpu: forget_stacks keeps the stack of a thread blocked across the take" rc=0 "out=forgot	true
1	1	0" '!err~stacks? missed'

done_testing
