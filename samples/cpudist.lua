-- SPDX-License-Identifier: GPL-2.0
-- cpudist.lua - how long tasks run on a CPU each time (-O: how long they stay off it), as a log2 histogram.
-- Run: shark samples/cpudist.lua -d 5 · cpudist.lua -O -m -p 1234 · cpudist.lua -P 1 5
local o = shark.getopt{
  about = "On-CPU time per time slice (or off-CPU time per block with -O), from sched_switch,\n" ..
    "summarized in the kernel (compiler-free BPF), like BCC cpudist.",
  examples = { "cpudist.lua -d 5", "cpudist.lua -O -m -p 1234", "cpudist.lua -P 1 5" },
  args = { "[interval]", "[count]" },
  "pid", "duration", "timestamp", "json",
  { "O", "offcpu", nil, "off-CPU time: from switching out to running again" },
  { "m", "milliseconds", nil, "histogram in ms, not us" },
  { "P", "pids", nil, "a histogram per process" },
  { "L", "tids", nil, "a histogram per thread" },
}
local unit = o.milliseconds and "msecs" or "usecs"
-- sched_switch's prev (argument 1) leaves the CPU, next (argument 2) gets it:
-- on-CPU time runs from next to prev, off-CPU time from prev to next
local lat = bpf.latency{
  from = "sched:sched_switch", from_task = o.offcpu and 1 or 2,
  to = "sched:sched_switch", to_task = o.offcpu and 2 or 1,
  unit = o.milliseconds and "ms" or "us", pid = o.pid or -1,
  by = o.pids and "pid" or o.tids and "tid" or nil,
}

local function report() lat:report{ name = unit, timestamp = o.timestamp, json = o.json } end

shark.info(("Tracing %s-CPU time... Hit Ctrl-C to end."):format(o.offcpu and "off" or "on"))
if o.interval then shark.every(o.interval, o.count, report) else shark.on_end(report) end
