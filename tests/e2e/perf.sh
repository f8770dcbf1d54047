# SPDX-License-Identifier: GPL-2.0
# perf.sh - perf.on on real events made by tests/progs workloads: exact counts,
# typed fields, callchains, lost events, targets, filters, errors.
. "$(dirname "$0")/lib.bash"

# --- exact counts and typed fields

cat >"$T/openat.lua" <<'LUA'
local n, named, flagged = 0, 0, 0
perf.on("syscalls:sys_enter_openat", function(e)
  n = n + 1
  if e.raw.filename == "/etc/hostname" then named = named + 1 end
end)
-- O_RDONLY | O_NOCTTY | O_NOFOLLOW: only the workload's own calls
perf.on("syscalls:sys_enter_openat", { filter = "flags == 0x20100" }, function(e)
  flagged = flagged + 1
end)
shark.on_end(function() print("named", named, "flagged", flagged, "all>=", n >= 1000) end)
LUA
run -c "$PROGS/openat_n 1000 /etc/hostname 100" "$T/openat.lua"
check "1000 openat calls: exactly 1000 by path (raw.filename) and by kernel filter" rc=0 \
	"out=named	1000	flagged	1000	all>=	true"

cat >"$T/sleep.lua" <<'LUA'
local s = 0
perf.on("sched:sched_switch", function(e)
  if ffi.string(e.raw.prev_comm) == "sl33py" and e.raw.prev_state == 1 then s = s + 1 end
end)
shark.on_end(function() print("sleeps", s) end)
LUA
run -c "$PROGS/sleeper sl33py 200" "$T/sleep.lua"
check "200 sleeps: exactly 200 switches out of prev_comm=sl33py in state S" rc=0 "out=sleeps	200"

cat >"$T/pingpong.lua" <<'LUA'
local out, to_pong, unnamed = 0, 0, 0
perf.on("sched:sched_switch", function(e)
  if ffi.string(e.raw.prev_comm) == "ping" then
    out = out + 1
    local nxt = ffi.string(e.raw.next_comm)
    if nxt == "pong" then to_pong = to_pong + 1 end
    if nxt == "" then unnamed = unnamed + 1 end
  end
end)
shark.on_end(function() print(out >= 500, to_pong >= 1, unnamed, to_pong) end)
LUA
# (on a busy machine another task on CPU 0 may run between them: how often
# pong is next is the scheduler's business, that it is named is ours)
run -c "$PROGS/pingpong 500" "$T/pingpong.lua"
check "ping/pong on one CPU: ping hands the CPU to pong (next_comm), every next_comm named" rc=0 \
	'out~^true	true	0	[0-9]+$'

# --- callchains

cat >"$T/fp.lua" <<'LUA'
local p = {}
perf.on("cpu-clock", { callchain_u = 1, freq = 999 }, function(e)
  p[e.callchain] = (p[e.callchain] or 0) + 1
end)
shark.on_end(function()
  local top, max = nil, 0
  for k, v in pairs(p) do if v > max then top, max = k, v end end
  print(top and top:find("leaf\nmid\nmain", 1, true) ~= nil, max > 50)
end)
LUA
run -c "$PROGS/fpchain 400" "$T/fp.lua"
check "user callchains of a frame-pointer program read leaf <- mid <- main" rc=0 "out=true	true"

cat >"$T/kstack.lua" <<'LUA'
local frames = 0
perf.on("syscalls:sys_enter_getppid", { callchain_k = 1, callchain_u = 1 }, function(e)
  if e:stack()[1] and e.nr_ips > 0 then frames = frames + 1 end
end)
shark.on_end(function() print(frames) end)
LUA
run -c "$PROGS/getppid_n 100" "$T/kstack.lua"
check "tracepoint samples carry stacks: e:stack() on 100 getppid" rc=0 out=100

# symbols of a process gone by the time they are asked for (copies kept)
cat >"$T/gone.lua" <<'LUA'
local kept = {}
perf.on("cpu-clock", { callchain_u = 1, freq = 499 }, function(e)
  if #kept < 20 then kept[#kept + 1] = e:copy() end
end)
shark.on_end(function()
  local t = shark.target()
  local found = 0
  for _, c in ipairs(kept) do
    if c.callchain and c.callchain:find("leaf\nmid\nmain", 1, true) then found = found + 1 end
  end
  print(t.running, #kept, found >= 10, kept[1].pid == t.pid)
end)
LUA
run -c "$PROGS/fpchain 200" "$T/gone.lua"
check "e:copy() keeps events; their stacks symbolize after the process exited" rc=0 "out=false	20	true	true"

run -c "$PROGS/cxxspin 300" -e 'local top, max, c = nil, 0, {}
perf.on("cpu-clock", { callchain_u = 1, freq = 499 }, function(e) c[e.callchain] = (c[e.callchain] or 0) + 1 end)
shark.on_end(function() for k, v in pairs(c) do if v > max then top, max = k, v end end print((top:gsub("\n", ";"))) end)'
check "C++ names are demangled" rc=0 'out~^shark::demo::Spinner::spin\(int\);main;'

run -c "$PROGS/jitmap 300" -e 'local top, max, c = nil, 0, {}
perf.on("cpu-clock", { callchain_u = 1, freq = 499 }, function(e) c[e.callchain] = (c[e.callchain] or 0) + 1 end)
shark.on_end(function() for k, v in pairs(c) do if v > max then top, max = k, v end end print((top:gsub("\n", ";"))) end)'
check "JIT code is named from /tmp/perf-PID.map" rc=0 'out~^jitted_spin;'

# --- perf.print

run -c "$PROGS/sleeper pr1nt 3" -e 'local n = 0
perf.on("sched:sched_switch", function(e) if ffi.string(e.raw.prev_comm) == "pr1nt" and n < 1 then n = n + 1 perf.print(e) end end)
local m = 0 perf.on("syscalls:sys_enter_clock_nanosleep", function(e) if m == 0 then m = 1 perf.print(e) end end)'
check "perf.print: one ftrace-style line per event, prev_state as perf prints it (S)" rc=0 	'out~^ +pr1nt-[0-9]+ +\[[0-9]{3}\] [0-9]+\.[0-9]{6}: sched:sched_switch: prev_comm=pr1nt prev_pid=[0-9]+ prev_prio=[0-9]+ prev_state=S next_comm=.+ next_pid=[0-9]+ next_prio=[0-9]+$' 	'out~: syscalls:sys_enter_clock_nanosleep: __syscall_nr=230 which_clock=[0-9]+ flags=0 rqtp=0x[0-9a-f]+ rmtp=0x[0-9a-f]+$'

# --- cgroups (v2, perf's cgroup mode)

cg=""
for root in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	if [ "$(stat -f -c %T "$root" 2>/dev/null)" = cgroup2fs ]; then cg=$root/shark-test-$$; break; fi
done
if [ -n "$cg" ] && mkdir "$cg" 2>/dev/null; then
	sh -c "echo \$\$ > $cg/cgroup.procs; sleep 0.4; exec $PROGS/getppid_n 777" &
	run -d 1.5 -e 'local n = 0
	perf.on("syscalls:sys_enter_getppid", { cgroup = "'"$cg"'" }, function() n = n + 1 end)
	shark.on_end(function() print(n) end)'
	wait
	check "cgroup = PATH: only that cgroup's events, exactly" rc=0 out=777
	rmdir "$cg"
else
	skip "cgroup mode" "no cgroup v2 hierarchy to make a test cgroup in"
fi
run -e 'perf.on("sched:sched_switch", { cgroup = "/tmp" }, function() end)'
check "a directory that is not a cgroup is named as such" rc=1 "err~cgroup '/tmp': not a cgroup directory"

# --- lost events: a tiny ring, an exact total

cat >"$T/burst.lua" <<'LUA'
local n = 0
-- comm = false: no name records, whose exit record a full ring drops and counts lost too.
-- The first event holds the reader 100 ms, at normal priority (-r 0: the
-- workload keeps its CPU share meanwhile): a real-time reader on an idle CPU
-- keeps up with a 1-page ring, this one cannot, whatever the scheduler does
local h = perf.on("raw_syscalls:sys_enter", { filter = "id == 110", mmap_pages = 1, drain_ms = 200,
  comm = false }, function()
  n = n + 1
  if n == 1 then
    local t = shark.time() + 1e8
    while shark.time() < t do end
  end
end)
shark.on_end(function() print(h:lost() > 0, n + h:lost(), h:count() == n) end)
LUA
run -r 0 -c "$PROGS/getppid_n 300000" "$T/burst.lua"
check "a burst into a 1-page ring: lost > 0, delivered + lost = 300000, reported" rc=0 \
	"out=true	300000	true" 'err~events lost \(ring full\); raise mmap_pages \(now 1\)'

# --- the original README's examples, unmodified

cat >"$T/seed1.lua" <<'LUA'
local perf = require("perf")
local ffi = require("ffi")

perf.on("sched:sched_switch", function(e)
  print(ffi.string(e.name), e.cpu, e.pid)
  print(ffi.string(e.raw.prev_comm), ffi.string(e.raw.next_comm))
end)
LUA
# a pid with no process is refused the same way whichever path delivers
for via in bpf perf; do
	run -e "perf.on('raw_syscalls:sys_enter', { pid = 999999, via = '$via' }, function() end)"
	check "perf.on{pid = a pid with no process} via $via: No such process, exit 1" rc=1 \
		'err~^-e:1: perf.on\("raw_syscalls:sys_enter"\): No such process$'
done

run -c "$PROGS/sleeper s33d 20" "$T/seed1.lua"
check "seed example: sched_switch name, cpu, pid, prev_comm, next_comm" rc=0 \
	'out~^sched:sched_switch	[0-9]+	[0-9]+$' 'out~^s33d	'

printf 'perf.on("syscalls:*", function(e)\n  print(ffi.string(e.name))\nend)\n' >"$T/seed2.lua"
run -c "$PROGS/getppid_n 7" "$T/seed2.lua"
check "seed example: syscalls:* names every syscall" rc=0 'out~^syscalls:sys_enter_getppid$' \
	'out~^syscalls:sys_exit_getppid$'
ok_if "seed example: exactly 7 getppid entries" test "$(grep -c '^syscalls:sys_enter_getppid$' "$T/out")" = 7

printf 'perf.on("cpu-clock", {callchain_k = 1}, function(e)\n  print(e.callchain)\nend)\n' >"$T/seed3.lua"
run -d 0.5 "$T/seed3.lua" -- &
dd if=/dev/zero of=/dev/null bs=64k count=200000 2>/dev/null
wait
check "seed example: cpu-clock kernel callchains are symbolized" rc=0 'out~^(read_zero|iov_iter_zero|clear_user|rep_stos|__x64_sys_read|ksys_read|vfs_read|entry_SYSCALL|do_syscall)'

cat >"$T/syscalls_hist.lua" <<'LUA'
local hist = setmetatable({}, { __index = function() return 0 end })
perf.on("syscalls:sys_enter_*", function(e)
  local name = ffi.string(e.name)
  hist[name] = hist[name] + 1
end)
shark.on_end(function() shark.print_hist(hist) end)
LUA
run -c "$PROGS/getppid_n 1234" "$T/syscalls_hist.lua"
check "syscalls_hist pattern: counts by tracepoint name, printed at the end" rc=0 \
	'out~^syscalls:sys_enter_getppid +1234 \|@+ *\|$'

cat >"$T/threads_running.lua" <<'LUA'
local start, oncpu = {}, setmetatable({}, { __index = function() return 0 end })
perf.on("sched:sched_switch", { pid = -1 }, function(e)
  local now = e.time
  local prev, nxt = e.raw.prev_pid, e.raw.next_pid
  if start[prev] then
    local name = ffi.string(e.raw.prev_comm)
    oncpu[name] = oncpu[name] + (now - start[prev]) / 1000
    start[prev] = nil
  end
  start[nxt] = now
end)
shark.on_end(function()
  for name, us in pairs(oncpu) do oncpu[name] = math.floor(us) end  -- 1234567, not 1.23457e+06
  shark.print_hist(oncpu)
end)
LUA
# every command is listed (a busy machine has busier ones than the workload),
# and the run lasts as long as its 600 ms of CPU time, however long that takes
run -c "$PROGS/fpchain 600" "$T/threads_running.lua"
check "threads_running pattern: on-CPU time (us) by command" rc=0 'out~^fpchain +[0-9]{5,}'

# --- targets, globs, multiple events, stop

"$PROGS/sleeper" pfoo 400 &
sp=$!
sleep 0.05
run -p $sp -e 'local n = 0
perf.on("sched:sched_switch", function(e) if e.pid ~= '$sp' then error("not the target: " .. e.pid) end n = n + 1 end)
shark.on_end(function() print(n >= 1) end)'
check "-p PID is the default target of perf.on, and the run ends with it" rc=0 out=true
wait $sp 2>/dev/null

run -c "$PROGS/getppid_n 50" -e 'local c = {}
perf.on("syscalls:sys_enter_getppid, syscalls:sys_exit_getppid,sched:sched_process_exit", function(e)
  local n = ffi.string(e.name); c[n] = (c[n] or 0) + 1 end)
shark.on_end(function() print(c["syscalls:sys_enter_getppid"], c["syscalls:sys_exit_getppid"], c["sched:sched_process_exit"]) end)'
check "a comma-separated spec opens every event (and spaces are fine)" rc=0 "out=50	50	1"

run -c "$PROGS/getppid_n 30" -e 'local n = 0
perf.on("syscalls:sys_*_getppid", function(e) n = n + 1 end)
shark.on_end(function() print(n) end)'
check "a glob in the event name" rc=0 out=60

run -c "$PROGS/getppid_n 100000" -e 'local n, h = 0
h = perf.on("syscalls:sys_enter_getppid", function(e) n = n + 1; if n == 10 then h:stop() end end)
shark.on_end(function() print(n, h:active()) end)'
check "h:stop() inside the handler: no event after it" rc=0 "out=10	false"

for via in perf bpf; do
	run -e 'local function fds()
  local n = 0
  local p = io.popen("readlink /proc/" .. require("uv").os_getpid() .. "/fd/*")
  for l in p:lines() do if l:find("perf_event", 1, true) or l:find("bpf", 1, true) then n = n + 1 end end
  p:close()
  return n
end
local h = perf.on("sched:sched_switch,sched:sched_wakeup", { via = "'$via'" }, function() end)
local during = fds()
h:stop()
print(h.via, during >= 2, fds())'
	check "h:stop() closes every perf and BPF fd of the handle (via $via)" rc=0 "out=$via	true	0"
done

# --- syscalls:* rides on raw_syscalls

cat >"$T/routed.lua" <<'LUA'
local named, n = 0, 0
-- several syscalls: delivered through raw_syscalls:sys_enter, typed as their own
perf.on("syscalls:sys_enter_open*", function(e)
  if ffi.string(e.name) == "syscalls:sys_enter_openat" then
    n = n + 1
    if e.raw.filename == "/etc/hostname" and e.raw.flags == 0x20100 then named = named + 1 end
  end
end)
shark.on_end(function() print(named, n >= 1000) end)
LUA
run -c "$PROGS/openat_n 1000 /etc/hostname 100" "$T/routed.lua"
check "routed syscalls keep their names and typed fields (1000 openat by path and flags)" rc=0 "out=1000	true"

run -e 'local h = perf.on("syscalls:*", function() end)
local p = io.popen("ls -l /proc/" .. require("uv").os_getpid() .. "/fd")
local fds = 0
for l in p:lines() do if l:find("perf_event", 1, true) then fds = fds + 1 end end
p:close()
print(fds < 64, #h.events > 600) shark.exit()'
check "syscalls:* opens a few carriers, not one event per syscall and CPU" rc=0 "out=true	true"

# the syscall numbers shark knows beyond the C library's table, checked on this kernel
if [ "$(uname -m)" = x86_64 ]; then
	"$SHARK" -e 'for n, nr in pairs(require("shark.arch").syscall_extra) do print(n, nr) end' |
	while read -r name nr; do
		[ -d "/sys/kernel/tracing/events/syscalls/sys_enter_$name" ] || continue
		"$SHARK" -c "$PROGS/syscall_nr $nr" -e "local n = 0
			perf.on('syscalls:sys_enter_$name', function() n = n + 1 end)
			shark.on_end(function() print(n) end)" 2>&1 | grep -qx 1 || echo "$name=$nr"
	done >"$T/badnr"
	ok_if "every extra syscall number names its own tracepoint on this kernel" test ! -s "$T/badnr"
	[ -s "$T/badnr" ] && sed 's/^/#   wrong: /' "$T/badnr"
else
	skip "extra syscall numbers" "they are for x86_64; this is $(uname -m)"
fi

# --- errors

run -e 'perf.on("sched:no_such_event", function() end)'
check "an unknown tracepoint names it and suggests shark -l" rc=1 \
	"err~^-e:1: perf.on\\(\"sched:no_such_event\"\\): unknown event 'sched:no_such_event' \\(shark -l 'sched:\\*'"
run -e 'perf.on("frobnicate", function() end)'
check "an unknown event name suggests shark -l" rc=1 "err~unknown event 'frobnicate' \\(shark -l lists"
run -e 'perf.on("nosuch:*", function() end)'
check "a glob matching nothing says so" rc=1 "err~no tracepoint matches 'nosuch:\\*'"
run -e 'perf.on("sched:sched_switch", {bogus = 1}, function() end)'
check "an unknown option is named, with the valid ones" rc=1 "err~-e:1: .*unknown option 'bogus' \\(options: callchain"
run -e 'perf.on("sched:sched_switch", {mmap_pages = 3}, function() end)'
check "mmap_pages must be a power of 2" rc=1 'err~mmap_pages must be a power of 2, got 3'
run -e 'perf.on("sched:sched_switch", {filter = "no_field == 1"}, function() end)'
check "a bad kernel filter is reported with the event" rc=1 \
	"err~sched:sched_switch: the kernel rejected the filter 'no_field == 1'"
run -e 'perf.on("sched:sched_switch", {cpu = "0,x"}, function() end)'
check "a bad CPU list" rc=1 "err~cpu: expected a CPU number or a list"
run -e 'perf.on("sched:sched_switch")'
check "a missing handler" rc=1 'err~-e:1: perf.on\(spec, \[opts\], fn\): expected a function, got nil'

# --- tracepoints delivered through BPF: user strings read at event time

marker=/tmp/shark-bpftp-marker-$$
cat >"$T/strings.lua" <<'LUA'
local path = ...
local n, exact, idiom, other = 0, 0, 0, 0
local h = perf.on("syscalls:sys_enter_openat", function(e)
  if e.raw.flags ~= 0x20100 then return end  -- openat_n's own calls, not the loader's
  n = n + 1
  if e.raw.filename == path then exact = exact + 1 end
  if ffi.string(e.raw.filename) == path then idiom = idiom + 1 end
  if e.pid ~= shark.target().pid or e.tid ~= e.pid or e.time <= 0 then other = other + 1 end
end)
shark.on_end(function() print(h.via, n, exact, idiom, other, h:lost(), h:unreadable()) end)
LUA
run -v -c "$PROGS/openat_n 777 $marker" "$T/strings.lua" "$marker"
check "777 opens by a process that exits at once: 777 events, each with its exact path (BPF delivery)" rc=0 \
	'out=bpf	777	777	777	0	0	0' 'err~perf.on\("syscalls:sys_enter_openat"\): delivered through BPF'
run -c "$PROGS/openat_n 20000 $marker" "$T/strings.lua" "$marker"
check "20000 opens: 20000 events with the exact path, none lost" rc=0 'out=bpf	20000	20000	20000	0	0	0'
run -c "$PROGS/openat_n 50 NULL" -e 'local n, empty = 0, 0
local h = perf.on("syscalls:sys_enter_openat", function(e)
  if e.raw.flags == 0x20100 then n = n + 1; if e.raw.filename == "" then empty = empty + 1 end end end)
shark.on_end(function() print(n, empty, h:unreadable()) end)'
check "a string that cannot be read is \"\" and counted per handle, never nil" rc=0 'out=50	50	50'
run -c "$PROGS/openat_n 50 NULL" -e 'local n, empty = 0, 0
local h = perf.on("syscalls:sys_enter_openat", { via = "perf" }, function(e)
  if e.raw.flags == 0x20100 then n = n + 1; if e.raw.filename == "" then empty = empty + 1 end end end)
shark.on_end(function() print(n, empty, h:unreadable()) end)'
check "... through perf rings too" rc=0 'out=50	50	50'
run -v -c "$PROGS/openat_n 30 $marker 300" -e 'local n = 0
local h = perf.on("syscalls:sys_enter_openat", { via = "perf" }, function(e)
  if e.raw.flags == 0x20100 and e.raw.filename == "'"$marker"'" then n = n + 1 end end)
shark.on_end(function() print(h.via, n) end)'
check "via = 'perf' forces perf rings (the string read while the task lives), and -v says so" rc=0 \
	'out=perf	30' 'err~delivered through perf rings'
run -e 'perf.on("syscalls:sys_enter_openat", { via = "bpf", filter = "flags == 1" }, function() end)'
check "via = 'bpf' with a kernel filter is refused with the reason" rc=1 \
	"err~via = 'bpf': a kernel filter .* applies to perf events only"
run -e 'perf.on("cpu-clock", { via = "bpf" }, function() end)'
check "via = 'bpf' for a software event is refused" rc=1 "err~via = 'bpf': cpu-clock is not a tracepoint"
run -v -c "$PROGS/openat_n 40 $marker" -e 'local n = 0
local h = perf.on("syscalls:sys_enter_openat", { filter = "flags == 0x20100" }, function() n = n + 1 end)
shark.on_end(function() print(h.via, n) end)'
check "a kernel filter still applies: such a handle uses perf rings" rc=0 'out=perf	40' \
	'err~delivered through perf rings \(a kernel filter'
run -c "$PROGS/openat_n 25 $marker" -e 'local k = {}
perf.on("syscalls:sys_enter_openat", { callchain_k = 1 }, function(e)
  if e.raw.flags == 0x20100 then k[#k + 1] = e.callchain end end)
shark.on_end(function() print(#k, k[1]:find("do_syscall_64", 1, true) ~= nil) end)'
check "callchain_k through BPF (bpf_get_stack): kernel frames" rc=0 'out=25	true'
rm -f "$marker"

# --- e.comm through BPF: the thread's name at event time, kept in order by
# name records (renames, execs, thread exits), never copied per event

# names.lua VIA READY [PREFIX]: the target's opens as X=comm:count. With
# PREFIX, X is what follows "PREFIX." in the opened path (BPF reads the path at
# event time); without, X is the character in the mode argument (a perf ring
# cannot read the path of a task gone: renamer's opens carry it there too).
cat >"$T/names.lua" <<'LUA'
local via, prefix = shark.args[1], shark.args[3]
local function mark(e)
  if prefix then
    local f = e.raw.filename
    return f:sub(1, #prefix + 1) == prefix .. "." and f:sub(#prefix + 2) or nil
  end
  local m = tonumber(e.raw.mode)
  return e.raw.flags == 0 and m >= 0x31 and m < 0x7f and string.char(m) or nil
end
local seen, order = {}, {}
local h = perf.on("syscalls:sys_enter_openat", { via = via }, function(e)
  local x = e.pid == shark.target().pid and mark(e)
  if x then
    local k = x .. "=" .. e.comm
    if not seen[k] then order[#order + 1] = k end
    seen[k] = (seen[k] or 0) + 1
  end
end)
shark.on_end(function()
  table.sort(order)
  local out = {}
  for _, k in ipairs(order) do out[#out + 1] = k .. ":" .. seen[k] end
  print(h.via, table.concat(out, " "))
end)
if shark.args[2] == "ready" then print("ready"); io.stdout:flush() end
LUA
touch "$marker.1" "$marker.2" "$marker.3" "$marker.a" "$marker.b" "$marker.c"
run -c "$PROGS/renamer $marker" "$T/names.lua" bpf - "$marker"
check "e.comm at event time: before and after prctl(PR_SET_NAME), per thread (pthread_setname_np), a thread never renamed, after exec" \
	rc=0 'out=bpf	1=renamer:1 2=rn-named:1 3=cat:1 a=rn-thr-a:1 b=rn-thr-b:1 c=rn-named:1'
run -c "perl -e 'open(F, \"<$marker.1\"); \$0 = \"renamed\"; open(F, \"<$marker.2\"); exec(\"cat\", \"$marker.3\")'" \
	"$T/names.lua" bpf - "$marker"
check "e.comm of perl that sets \$0 and execs cat: perl, renamed, cat" rc=0 'out=bpf	1=perl:1 2=renamed:1 3=cat:1'
rm -f "$marker.go"
"$PROGS/renamer" "$marker" wait &
rn=$!
start -p "$rn" "$T/names.lua" bpf ready "$marker"
wait_out '^ready' && touch "$marker.go"
wait "$rn"
finish
check "e.comm of a process attached to (-p): its names at event time, per thread" rc=0 \
	'out~bpf	1=renamer:1 2=rn-named:1 3=cat:1 a=rn-thr-a:1 b=rn-thr-b:1 c=rn-named:1$'
rm -f "$marker".? "$marker.go"

# --- e.comm through the perf ring: the name records (PERF_RECORD_COMM, timed)
# kept per thread and matched to each sample's time. The path of a task gone
# cannot be read here: renamer's opens carry their marker as the mode argument.
run -c "$PROGS/renamer $marker self" "$T/names.lua" perf
check "e.comm via perf at event time: before and after exec and prctl(PR_SET_NAME), per thread, a thread never renamed, after a second exec" \
	rc=0 'out=perf	1=renamer:1 2=rn-named:1 3=exe:1 a=rn-thr-a:1 b=rn-thr-b:1 c=rn-named:1'
# attached to (-p) before it renames itself: its opens before the first name
# record are named as the task was at attach, not as it is at the read
for via in perf bpf; do
	rm -f "$marker.go"
	"$PROGS/renamer" "$marker" wait self &
	rn=$!
	start -p "$rn" "$T/names.lua" "$via" ready
	wait_out '^ready' && touch "$marker.go"
	wait "$rn"
	finish
	check "e.comm via $via of a task attached to (-p), renamed after: the name at attach before, each new one after" \
		rc=0 "out~$via	1=renamer:1 2=rn-named:1 3=exe:1 a=rn-thr-a:1 b=rn-thr-b:1 c=rn-named:1\$"
done
rm -f "$marker.go"

# a sampling event: sh counts (its samples are "sh"), then execs dwchain (its
# samples are "dwchain", never the name a cache read before the exec kept)
cat >"$T/exec_samples.lua" <<'LUA'
local got = {}
perf.on("cpu-clock", { freq = 997 }, function(e)
  if e.pid == shark.target().pid then got[#got + 1] = { e.time, e.comm } end
end)
shark.on_end(function()
  table.sort(got, function(a, b) return a[1] < b[1] end)
  local runs = {}  -- the names in time order, repeats folded
  for _, s in ipairs(got) do
    if runs[#runs] ~= s[2] then runs[#runs + 1] = s[2] end
  end
  print(table.concat(runs, " "))
end)
LUA
run -c "sh -c 'i=0; while [ \$i -lt 100000 ]; do i=\$((i+1)); done; exec $PROGS/dwchain 300'" "$T/exec_samples.lua"
check "cpu-clock samples of sh, then of what it execs: named sh, then dwchain, in time order" rc=0 'out=sh dwchain'

# a burst: 20000 getppid() traced with the seed-style syscalls:* and default
# options: every one delivered, none lost (perf record loses none either)
run -c "$PROGS/getppid_n 20000" -e 'local n = 0
local h = perf.on("syscalls:*", function(e)
  if e.pid == shark.target().pid and ffi.string(e.name) == "syscalls:sys_enter_getppid" then n = n + 1 end
end)
shark.on_end(function() print(n >= 20000, n, h:lost()) end)'
check "a burst of 20000 getppid under syscalls:* with default options: all delivered, 0 lost" rc=0 \
	'out=true	20000	0'

# watermark wake-ups: 300 bursts of 500 getppid() (150 k records, 7x BPF
# delivery's ring, 12x a perf ring) while the timed drain waits a minute:
# only the wake-ups a ring sends as it fills can deliver them all. Through
# BPF the same run without them (wakeup = 2^31) delivers a fraction.
cat >"$T/watermark.lua" <<'LUA'
local n, me = 0, shark.target().pid
local h = perf.on("syscalls:sys_enter_getppid", { via = shark.args[1], mmap_pages = 256, drain_ms = 60000,
  wakeup = tonumber(shark.args[2]) }, function(e)
  if e.pid == me then n = n + 1 end
end)
shark.on_end(function() print(h.via, n, h:lost()) end)
LUA
for via in bpf perf; do
	run -c "$PROGS/getppid_bursts 300 500 2000" "$T/watermark.lua" $via
	check "bursts 7-12x the ring between drains (via $via): watermark wake-ups deliver all 150000, 0 lost" rc=0 \
		"out=$via	150000	0"
done
run -c "$PROGS/getppid_bursts 300 500 2000" "$T/watermark.lua" bpf $((1 << 31))
check "the same without wake-ups (via bpf): events lost, and said" rc=0 'out~^bpf	[0-9]+	[1-9][0-9]*$' \
	'err~events lost \(BPF ring of [0-9]+ KiB full\)'

# the filters the BPF program applies: cpu, tid (and pid, above)
if [ "$(nproc)" -ge 2 ]; then
	run -c "taskset -c 1 $PROGS/getppid_n 500" -e 'local on1, on0 = 0, 0
local pid = shark.target().pid
local h1 = perf.on("syscalls:sys_enter_getppid", { cpu = 1 }, function(e) if e.pid == pid then on1 = on1 + 1 end end)
local h0 = perf.on("syscalls:sys_enter_getppid", { cpu = "0" }, function(e) if e.pid == pid then on0 = on0 + 1 end end)
shark.on_end(function() print(h1.via, h0.via, on1, on0) end)'
	check "cpu = N: a workload pinned to CPU 1 is seen by the CPU 1 handle only (BPF delivery)" rc=0 'out=bpf	bpf	500	0'
else
	skip "cpu filter" "one CPU"
fi
run -c "$PROGS/getppid_n 300" -e 'local n, other = 0, 0
local h = perf.on("syscalls:sys_enter_getppid", { tid = shark.target().pid }, function(e)
  if e.tid == shark.target().pid then n = n + 1 else other = other + 1 end end)
shark.on_end(function() print(h.via, n, other) end)'
check "tid = T: that thread's events only (BPF delivery)" rc=0 'out=bpf	300	0'

# perf.on's own BPF objects stay out of bpf.var: a script's map named like
# one of theirs ("events") is still the script's
run -c "$PROGS/getppid_n 40" -e 'bpf.load([[
struct event { u32 pid; u32 magic; };
const volatile u32 cfg_pid = 0;	/* the workload only: a neighbour'"'"'s burst would fill the ring */
SHARK_RINGBUF(events, struct event, 1 << 16);
SEC("tracepoint/syscalls/sys_exit_getppid")
int on(void *ctx) {
  struct event e = { bpf_get_current_pid_tgid() >> 32, 4242 };
  if (e.pid == cfg_pid) shark_ringbuf_output(events, &e, sizeof(e));
  return 1;
}
]], { rodata = { cfg_pid = shark.target().pid } })
local p, mine = 0, 0
local h = perf.on("syscalls:sys_enter_getppid", function() p = p + 1 end)
bpf.on_ring("events", function(e) if e.pid == shark.target().pid and e.magic == 4242 then mine = mine + 1 end end)
shark.on_end(function() print(h.via, p, mine) end)'
check "a script's map named events is not shadowed by perf.on's BPF delivery" rc=0 'out=bpf	40	40'

# events kept past their handler: a clear error on access, never stale or freed memory
for via in bpf perf; do
	cat >"$T/kept.lua" <<LUA
kept = nil
local copy, later
local h
h = perf.on("syscalls:sys_enter_openat", { via = "$via" }, function(e)
  if e.raw.flags ~= 0x20100 then return end
  if kept and not later then later = select(2, pcall(function() return kept.pid end)) end
  kept = kept or e
  copy = copy or e:copy()
end)
shark.on_end(function()
  h:stop()
  collectgarbage()
  collectgarbage()
  print("copy", copy.pid == shark.target().pid, copy.comm, copy.raw.flags)
  print("later", later)
  print("after stop", pcall(function() return kept.raw.filename end))
end)
LUA
	run -c "$PROGS/openat_n 20 /tmp/kept-$$ 400" "$T/kept.lua"
	check "an event kept past its handler raises a clear error, e:copy() stays valid (via $via)" rc=0 \
		'out~^copy	true	openat_n	131328$' \
		"out~^later	.*kept.lua:6: perf event: e.pid read after its handler returned .*keep e:copy\\(\\) instead" \
		"out~^after stop	false	.*kept.lua:16: perf event: e.raw read after its handler returned"
done

# shark.exit() or an error inside a handler: the drain is left cleanly, so a
# later stop() still stops (the draining flag used to stay set)
for how in 'shark.exit(0)' 'error("in handler")'; do
	cat >"$T/exit_in.lua" <<LUA
local n = 0
local h
h = perf.on("syscalls:sys_enter_getppid", function() n = n + 1; if n == 3 then $how end end)
shark.on_end(function() h:stop(); print("n>=3", n >= 3, "active", h:active()) end)
LUA
	run -c "$PROGS/getppid_n 50" "$T/exit_in.lua"
	check "$how in a handler, then h:stop() in on_end: the handle stops" 'out~^n>=3	true	active	false$'
done

if "$SHARK" test hardware >"$T/hw" 2>&1; then
	run -c "$PROGS/getppid_n 1000" -e 'local n = 0
perf.on("instructions", { period = 100000 }, function() n = n + 1 end)
shark.on_end(function() print("samples", n) end)'
	check "hardware events open where the PMU exists: instructions of the -c workload sampled" rc=0 \
		'out~^samples	[1-9][0-9]*$'
else
	run -e 'perf.on("cycles", function() end)'
	check "a hardware event without a PMU fails with the kernel's reason" rc=1 \
		'err~cycles: No such file or directory \(no hardware PMU here'
	skip "counting hardware events" "$(cat "$T/hw")"
fi

done_testing
