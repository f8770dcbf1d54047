-- SPDX-License-Identifier: GPL-2.0
-- cpu-clock.lua - a CPU profile: stacks sampled on cpu-clock, counted by callchain, printed DTrace-style
-- at the end (stack, count, blank line: what stackcollapse.pl and flamegraph.pl read).
-- Run: shark samples/cpu-clock.lua -d 10 > out.stacks     shark -c 'make' samples/cpu-clock.lua -u
local o = shark.getopt{
  about = "Sample on-CPU stacks (kernel; user ones too with -u) and print each stack with its sample count.",
  examples = { "shark samples/cpu-clock.lua -d 5 > out.stacks; stackcollapse.pl out.stacks | flamegraph.pl",
    "shark samples/cpu-clock.lua -u -p 1234" },
  "pid", "duration",
  { "u", "user", nil, "user stacks too (frame pointers: they stop in code built without them)" },
  { "U", "user-only", nil, "user stacks only" },
  { "F", "frequency", "HZ", "samples per second on each CPU", type = "int", default = 99 },
}

local profile = setmetatable({}, { __index = function() return 0 end })

perf.on("cpu-clock", { pid = o.pid, freq = o.frequency, callchain_k = not o.user_only,
  callchain_u = o.user or o.user_only }, function(e)
  local k = e.callchain
  if k == "" then k = "[user]" end  -- no kernel frames: the sample hit user space
  profile[k] = profile[k] + 1
end)

shark.on_end(function()
  shark.print_hist_raw(profile)
end)
