-- SPDX-License-Identifier: GPL-2.0
-- flamegraph_in_cloud.lua - the original shark's flame graph: kernel (and with
-- -u user) stacks sampled on cpu-clock, counted by callchain in Lua, sent with
-- sharkcloud.senddata("flamegraph", profile) when the run ends (an SVG file).
-- Run: shark samples/flamegraph_in_cloud.lua [-u] [-F HZ] [-p PID] [-d SECONDS]
local perf = require "perf"
local sharkcloud = require "sharkcloud"

local o = shark.getopt{
  about = "CPU flame graph of kernel stacks (-u: user stacks too), written as an SVG file at the end.",
  examples = { "flamegraph_in_cloud.lua -d 5", "shark -c 'make -j2' samples/flamegraph_in_cloud.lua -u" },
  "pid", "duration",
  { "u", "user", nil, "user stacks too" },
  { "F", "frequency", "HZ", "samples per second per CPU", type = "int", default = 99 },
  { "o", "output", "FILE", "the SVG file (default: shark-flamegraph-TIME.svg)" },
}

local profile = {}
setmetatable(profile, { __index = function() return 0 end })

perf.on("cpu-clock", { callchain_k = 1, callchain_u = o.user and 1 or nil, freq = o.frequency,
  pid = o.pid }, function(e)
  profile[e.callchain] = profile[e.callchain] + 1
end)
shark.info("sampling stacks... Ctrl-C to end")

shark.on_end(function()
  local n = 0
  for _, c in pairs(profile) do n = n + c end
  print(("%d samples"):format(n))
  sharkcloud.senddata("flamegraph", profile, { file = o.output, title = "CPU flame graph" })
end)
