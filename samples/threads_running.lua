-- SPDX-License-Identifier: GPL-2.0
-- threads_running.lua - on-CPU time of each thread (command[tid]) from sched_switch, as a histogram in
-- microseconds at the end (Ctrl-C, -d) or every interval.
-- Run: shark samples/threads_running.lua -d 5     shark -c 'make -j2' samples/threads_running.lua
local o = shark.getopt{
  about = "Sum each thread's on-CPU time (us) between sched_switch events; print a histogram.",
  examples = { "shark samples/threads_running.lua -d 5", "shark samples/threads_running.lua -p 1234 1 5" },
  args = { "[interval]", "[count]" },
  "pid", "duration", "json",
  { "t", "top", "N", "only the N busiest threads", type = "int", default = 20 },
  { "P", "process", nil, "one line per process (command[pid]) instead of per thread" },
}

local want = o.pid
local oncpu, names = {}, {}   -- tid (pid with -P) -> us, command
-- cpu -> the thread switched in last, and when (each CPU's ring keeps its order). The kernel does not
-- always report the switch out of the idle task, so time counts only when the thread leaving is the
-- one seen coming in.
local run_tid, run_since = {}, {}

perf.on("sched:sched_switch", { pid = -1 }, function(e)
  local r, cpu, now = e.raw, e.cpu, e.time
  local prev = r.prev_pid
  if prev ~= 0 and run_tid[cpu] == prev and (not want or e.pid == want) then
    local id = o.process and e.pid or prev
    names[id] = ffi.string(r.prev_comm)  -- the last name: a forked child runs as its parent until exec
    oncpu[id] = (oncpu[id] or 0) + (now - run_since[cpu]) / 1e3
  end
  run_tid[cpu], run_since[cpu] = r.next_pid, now
end)

local function report()
  local t = {}
  for id, us in pairs(oncpu) do t[("%s[%d]"):format(names[id], id)] = math.floor(us + 0.5) end
  shark.print_hist(t, { top = o.top, json = o.json,
    title = ("on-CPU time by %s (us)"):format(o.process and "process" or "thread") })
  oncpu = {}
end

if o.interval then
  shark.every(o.interval, o.count, report)
else
  shark.on_end(report)
end
