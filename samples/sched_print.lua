-- SPDX-License-Identifier: GPL-2.0
-- sched_print.lua - every scheduler event (sched:*: switch, wakeup, fork, exec, exit, migrate, ...) as one
-- ftrace-style line.
-- Run: shark samples/sched_print.lua -d 1     shark -c 'ls' samples/sched_print.lua
local o = shark.getopt{
  about = "Print every sched:* tracepoint (or the ones -e names) with its fields.",
  examples = { "shark samples/sched_print.lua -d 1",
    "shark -c 'ls /' samples/sched_print.lua -e 'sched:sched_process_*'" },
  "pid", "duration",
  { "e", "events", "LIST", "these events instead of sched:*", default = "sched:*" },
}

perf.on(o.events, { pid = o.pid, ordered = true }, perf.print)
