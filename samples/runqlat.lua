-- SPDX-License-Identifier: GPL-2.0
-- runqlat.lua - run-queue latency (wakeup to running on a CPU) as a log2 histogram, per process or thread.
-- Run: shark samples/runqlat.lua -d 5 · runqlat.lua -m 1 10 · runqlat.lua -P -p 1234 · runqlat.lua -T 1 3
local o = shark.getopt{
  about = "Time tasks wait on a run queue after being woken (sched_wakeup/sched_wakeup_new -> sched_switch)\n" ..
    "or preempted (switched out still runnable -> switched in again), summarized in the kernel\n" ..
    "(compiler-free BPF), like BCC / libbpf-tools runqlat.",
  examples = { "runqlat.lua -d 5", "runqlat.lua -m 1 10", "runqlat.lua -P -p 1234", "runqlat.lua -T 1 3" },
  args = { "[interval]", "[count]" },
  "pid", "duration", "timestamp", "json",
  { "m", "milliseconds", nil, "histogram in ms, not us" },
  { "P", "pids", nil, "a histogram per process" },
  { "L", "tids", nil, "a histogram per thread" },
}
local unit = o.milliseconds and "msecs" or "usecs"
-- the woken task is an argument of the raw tracepoints (not current): p of
-- sched_wakeup, next of sched_switch; -p and -P mean that task's process.
-- requeue: a task switched out while still runnable waits from then on
local lat = bpf.latency{
  from = "sched:sched_wakeup,sched:sched_wakeup_new", from_task = 0,
  to = "sched:sched_switch", to_task = 2, requeue = true,
  unit = o.milliseconds and "ms" or "us", pid = o.pid or -1,
  by = o.pids and "pid" or o.tids and "tid" or nil,
}

local function report() lat:report{ name = unit, timestamp = o.timestamp, json = o.json } end

shark.info("Tracing run queue latency... Hit Ctrl-C to end.")
if o.interval then shark.every(o.interval, o.count, report) else shark.on_end(report) end
