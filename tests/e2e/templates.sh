# SPDX-License-Identifier: GPL-2.0
# templates.sh - compiler-free aggregation: prebuilt BPF programs configured
# from Lua, on real events, exact counts. Run with no clang and an empty cache.
. "$(dirname "$0")/lib.bash"

export SHARK_CLANG=/nonexistent/clang SHARK_CACHE=$T/empty-cache
P=$PROGS/probed

run -c "$PROGS/getppid_n 4321" -e 'local c = bpf.count{ on = "raw_syscalls:sys_enter", by = "syscall" }
shark.on_end(function() print(c.getppid, c.dropped and c:dropped()) end)'
check "count by syscall name on raw_syscalls:sys_enter: exactly 4321 getppid, no clang" rc=0 "out=4321	0"

run -c "$PROGS/getppid_n 1234" -e 'local c = bpf.count{ on = "raw_syscalls:sys_enter", by = "id" }
local byc = bpf.count{ on = "syscalls:sys_enter_getppid", by = "comm" }
local byp = bpf.count{ on = "syscalls:sys_enter_getppid", by = "pid" }
shark.on_end(function() print(c[110], byc.getppid_n, byp[shark.target().pid]) end)'
check "count by a numeric field, by comm, by pid" rc=0 "out=1234	1234	1234"

run -c "$P 1000" -e 'local c = bpf.count{ on = "uprobe:'"$P"':probed_add", by = "arg0" }
local r = bpf.count{ on = "uretprobe:'"$P"':probed_add", by = "ret" }
local u = bpf.count{ on = "usdt:'"$P"':shark_test:tick", by = "comm" }
shark.on_end(function()
  local n, sum = 0, 0
  for k, v in pairs(c) do n = n + v sum = sum + k end
  print(n, #c, sum, r[3000], r[3], u.probed)
end)'
check "count a uprobe by its first argument, a uretprobe by return value, USDT by comm" rc=0 \
	"out=1000	1000	500500	1	1	1000"

run -c "$P 500" -e 'local pid = shark.target().pid
local c = bpf.count{ on = "uprobe:/proc/" .. pid .. "/root'"$P"':probed_add", by = "comm" }
local b = bpf.count{ on = "uprobe:probed_nonesuch_binary:f" }' 
check "a uprobe binary not found is named" rc=1 "err~probed_nonesuch_binary"
run -c "$P 500" -e 'local c = bpf.count{ on = "uprobe:/proc/" .. shark.target().pid .. "/root'"$P"':probed_add", by = "comm" }
shark.on_end(function() print(c.probed) end)'
check "a uprobe through a /proc/PID/root path" rc=0 out=500

run -c "$PROGS/fpchain 400" -e 'local s = bpf.stacks{ freq = 499 }
shark.on_end(function()
  local best, max = nil, 0
  for k, v in pairs(s) do if v > max then best, max = k, v end end
  print((best:gsub("\n", ";")), max > 50)
end)'
check "stack sampling in the kernel finds leaf <- mid <- main" rc=0 'out~(^|;)leaf;mid;main;.*	true$'

# --- off-CPU time by stack

run -c "$PROGS/sleeper offc 200" -e 'local r = bpf.offcpu{}
shark.on_end(function()
  local tot, best, max = 0, nil, 0
  for k, v in pairs(r) do tot = tot + v if v > max then best, max = k, v end end
  print(tot >= 190000, best:find("do_nanosleep", 1, true) ~= nil, best:find("clock_nanosleep", 1, true) ~= nil)
end)'
check "off-CPU: 200 sleeps of 1 ms are >= 190 ms off CPU in the nanosleep stack (kernel and user)" rc=0 \
	"out=true	true	true"

# --- latency histograms

NS='from = "syscalls:sys_enter_clock_nanosleep", to = "syscalls:sys_exit_clock_nanosleep"'
run -c "$PROGS/sleeper lat 200" -e "local l = bpf.latency{ $NS, unit = 'us', by = 'comm' }
shark.on_end(function() local h, short = l:histograms().lat, 0
  for k = 0, 9 do short = short + (h[k] or 0) end print(l:count(), short) l:print() end)"
# (a 1 ms sleep never ends early; how late it ends depends on the machine's load)
check "syscall latency: 200 sleeps of 1 ms, none under 512 us, per comm" rc=0 \
	'out~^200	0$' 'out~^@us\[lat\]:$' 'out~^\[(512|1K|2K|4K|8K|16K), [0-9K]+\) +[0-9]+ \|@+ *\|$'

run -c "$PROGS/sleeper lat 200" -e "local l = bpf.latency{ $NS, unit = 'us', linear = { min = 0, max = 5000, step = 500 } }
shark.on_end(function() local h = l:histogram() print(l:count(), (h[0] or 0) + (h[1] or 0)) l:print() end)"
check "linear buckets: no 1 ms sleep under 1000 us, the buckets printed 500 wide" rc=0 'out~^200	0$' \
	'out~^\[[0-9]+, [0-9]+\) +[0-9]+ \|@+ *\|$'

run -c "$PROGS/sleeper lat 300" -e "local l = bpf.latency{ $NS, unit = 'us', interval_ms = 100 }
shark.on_end(function() local n, rows = 0, l:rows() for _, r in ipairs(rows) do for _, c in pairs(r.buckets) do n = n + c end end
print(#rows >= 3, n, rows[1].start_ms <= rows[#rows].start_ms) end)"
check "per-interval histograms (heat map rows): every sleep, in time order" rc=0 'out~^true	300	true$'

run -c "$P 1000" -e 'local l = bpf.latency{ from = "uprobe:'"$P"':probed_add", to = "uretprobe:'"$P"':probed_add", unit = "ns" }
shark.on_end(function() print(l:count(), l:unmatched()) end)'
check "uprobe -> uretprobe latency: all 1000 calls matched" rc=0 "out=1000	0"

run -c "$PROGS/pingpong 300" -e 'local l = bpf.latency{ from = "sched:sched_wakeup,sched:sched_wakeup_new", from_key = "pid",
  to = "sched:sched_switch", to_key = "next_pid", unit = "us", pid = -1 }
shark.on_end(function() print(l:count() >= 300) end)'
check "run-queue latency: wakeup (pid) -> switch (next_pid), matched by field" rc=0 'out=true'

run -e 'bpf.latency{ from = "sched:sched_wakeup", from_key = "nope", to = "sched:sched_switch" }'
check "a key field that does not exist" rc=1 "err~no 32-bit field 'nope' in sched:sched_wakeup"

run -e 'bpf.count{ on = "raw_syscalls:sys_enter", by = "nosuchfield" }'
check "an unknown key names the fields there are" rc=1 \
	"err~^-e:1: bpf.count: by = 'nosuchfield': no integer field of that name in raw_syscalls:sys_enter \\(fields: id, args"
run -e 'bpf.count{ on = "nope:nothing" }'
check "an unknown event" rc=1 'err~^-e:1: bpf.count: nope:nothing: no such event'
run -e 'bpf.count{ on = "sched:sched_switch", bogus = 1 }'
check "an unknown option" rc=1 "err~unknown option 'bogus'"

# a result the script never reads prints itself in the session's report phase,
# after the on_end handlers; one the script used does not
run -c "$PROGS/getppid_n 321" -e 'bpf.count{ on = "syscalls:sys_enter_getppid", by = "comm", pid = shark.target().pid }
local read = bpf.count{ on = "syscalls:sys_enter_getppid", by = "pid" }
local _ = read.what
shark.on_end(function() print("on_end first") end)'
check "an unread bpf.count prints after on_end, a read one does not" rc=0 \
	"out=$(printf '%s\n' 'on_end first' 'bpf.count{on = "syscalls:sys_enter_getppid", by = "comm"}' \
		'key       value  distribution' \
		'getppid_n   321 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|')"

# the kind of `on`, `from`, `to` and `event` comes from the provider table (shark.probes)
run -c "$PROGS/getppid_n 777" -e 'local c = bpf.count{ on = "tracepoint:syscalls:sys_enter_getppid", by = "pid" }
local t = bpf.count{ on = "tp:syscalls:sys_enter_getppid", by = "pid" }
shark.on_end(function() print(c[shark.target().pid], t[shark.target().pid]) end)'
check "a tracepoint spelled with its kind (tracepoint:, tp:) counts the same" rc=0 "out=777	777"
run -e 'bpf.count{ on = "cpu-clock" }'
check "a kind the template has no program for says which it runs on" rc=1 \
	"err~^-e:1: bpf.count: 'cpu-clock' is a perf event; bpf.count runs on tracepoints"
run -e 'bpf.count{ on = "uprobe:/bin/true" }'
check "a malformed probe spec names itself and the form" rc=1 \
	"err~^-e:1: bpf.count: 'uprobe:/bin/true': expected uprobe:/path:function"
run -e 'bpf.latency{ from = "usdt:/bin/true:a:b", to = "sched:sched_switch" }'
check "a latency endpoint of a kind it cannot time" rc=1 \
	"err~^-e:1: bpf.latency: 'usdt:/bin/true:a:b' is a USDT probe; bpf.latency runs on tracepoints"
run -e 'bpf.stacks{ event = "sched:sched_switch" }'
check "bpf.stacks samples perf events only" rc=1 \
	"err~^-e:1: bpf.stacks: 'sched:sched_switch' is a tracepoint; bpf.stacks runs on perf events"
run -e 'perf.on("uprobe:/bin/true:main", function() end)'
check "perf.on of a probe kind says what it opens instead" rc=1 \
	"err~^-e:1: perf.on\\(\"uprobe:/bin/true:main\"\\): 'uprobe:/bin/true:main' is a uprobe: perf.on \\(and shark stat\\) opens"

# a tracepoint program returning 0 would hide the event from every perf event of
# that tracepoint on the machine, another process's too: a template in one shark
# leaves the tracepoint to a perf.on in another
start -e 'bpf.count{ on = "syscalls:sys_enter_getppid", by = "pid" } print("ready") io.stdout:flush()'
wait_out ready
run -c "$PROGS/getppid_n 1000" -e 'local n = 0
perf.on("syscalls:sys_enter_getppid", function() n = n + 1 end)
shark.on_end(function() print(n) end)'
check "a template in another shark does not hide the tracepoint from this one's perf.on: all 1000" rc=0 out=1000
signal INT
finish
# templates and perf.on on the same tracepoints, in one run, both see all
run -c "$PROGS/getppid_n 1000" -e 'local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "pid" }
local l = bpf.latency{ from = "syscalls:sys_enter_getppid", to = "syscalls:sys_exit_getppid" }
local o = bpf.offcpu{}
local n, x, sw = 0, 0, 0
perf.on("syscalls:sys_enter_getppid", function() n = n + 1 end)
perf.on("syscalls:sys_exit_getppid", function() x = x + 1 end)
perf.on("sched:sched_switch", { pid = -1 }, function() sw = sw + 1 end)
shark.on_end(function()
  local t = 0
  for _, v in pairs(c) do t = t + v end
  print(t, l:count(), n, x, sw > 0, o:dropped() == 0)
end)'
check "templates and perf.on on the same tracepoints: each sees all 1000 (and sched_switch under offcpu)" rc=0 \
	"out=1000	1000	1000	1000	true	true"
run -c "$PROGS/getppid_n 1000" -e 'local n = 0
perf.on("syscalls:sys_enter_getppid", function() n = n + 1 end)
local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "pid" }
-- the kernel skips a tracepoint program while another BPF program (or a map
-- syscall, preempted) holds its CPU, and counts the skip: add those
shark.on_end(function() local t = 0 for _, v in pairs(c) do t = t + v end print(t + c:misses(), n) end)'
check "... perf.on first, then the template: both see all 1000 (the template's with the kernel's skips)" rc=0 \
	"out=1000	1000"

done_testing
