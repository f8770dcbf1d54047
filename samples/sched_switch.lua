-- SPDX-License-Identifier: GPL-2.0
-- sched_switch.lua - every context switch as `prev_comm -> next_comm`, and every exec with the file run
-- (sched_process_exec's filename, a __data_loc string).
-- Run: shark samples/sched_switch.lua -d 1     shark -c 'make' samples/sched_switch.lua -t
local o = shark.getopt{
  about = "Print each context switch (prev_comm -> next_comm) and each exec'd file.",
  examples = { "shark samples/sched_switch.lua -d 1", "shark samples/sched_switch.lua -p 1234" },
  "pid", "duration", "timestamp",
}

local t0
local function stamp(e)
  if not o.timestamp then return "" end
  t0 = t0 or e.time
  return ("%-12.6f "):format((e.time - t0) / 1e9)
end

perf.on("sched:sched_switch, sched:sched_process_exec", { pid = o.pid, ordered = true }, function(e)
  local r = e.raw
  if ffi.string(e.name) == "sched:sched_switch" then
    print(("%s%s -> %s"):format(stamp(e), ffi.string(r.prev_comm), ffi.string(r.next_comm)))
  else
    print(("%sexec %s (pid %d)"):format(stamp(e), r.filename, r.pid))
  end
end)
