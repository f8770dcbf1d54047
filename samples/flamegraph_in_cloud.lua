-- SPDX-License-Identifier: GPL-2.0
-- flamegraph_in_cloud.lua - the original shark's flame graph: kernel (and with
-- -u user) stacks sampled on cpu-clock, counted by callchain in Lua, sent with
-- sharkcloud.senddata("flamegraph", profile) when the run ends: uploaded to
-- shark serve when SHARK_CLOUD_URL (or ~/.config/shark/cloud.json) names one,
-- with each sample's time for the sub-second offset heat map; else an SVG file.
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
-- when uploading: each sample's time (s) and stack, for the sub-second view
local timed = sharkcloud.target() and not o.output and { time = {}, stack = {} }
local n = 0

perf.on("cpu-clock", { callchain_k = 1, callchain_u = o.user and 1 or nil, freq = o.frequency,
  pid = o.pid }, function(e)
  profile[e.callchain] = profile[e.callchain] + 1
  if timed then
    n = n + 1
    timed.time[n], timed.stack[n] = e.time / 1e9, e.callchain
  end
end)
shark.info("sampling stacks... Ctrl-C to end")

shark.on_end(function()
  local total = 0
  for _, c in pairs(profile) do total = total + c end
  print(("%d samples"):format(total))
  sharkcloud.senddata("flamegraph", profile, { file = o.output, title = "CPU flame graph", samples = timed or nil,
    labels = { tool = "flamegraph_in_cloud" } })
end)
