-- SPDX-License-Identifier: GPL-2.0
-- heatmap_in_cloud.lua - write(2) latency of every thread (entry to exit, matched
-- by thread in the kernel), one log2 histogram per second, sent as a heat map.
-- Run: shark samples/heatmap_in_cloud.lua [-p PID] [-d SECONDS] [-m]
local sharkcloud = require "sharkcloud"

local o = shark.getopt{
  about = "Latency heat map of write(2): time across, log2 latency buckets up, darker for more calls.\n" ..
    "Sent to shark serve when SHARK_CLOUD_URL names one (sharkcloud.senddata), else written as an SVG file.",
  examples = { "heatmap_in_cloud.lua -d 10", "heatmap_in_cloud.lua -p 1234 -m" },
  "pid", "duration", { "m", "milliseconds", nil, "buckets in ms (default us)" },
}
local unit = o.milliseconds and "ms" or "us"
local lat = bpf.latency{ from = "syscalls:sys_enter_write", to = "syscalls:sys_exit_write",
  unit = unit, interval_ms = 1000, pid = o.pid }
shark.info("tracing write(2) latency... Ctrl-C to end")

shark.on_end(function()
  local rows = lat:rows()
  local calls = 0
  for _, r in ipairs(rows) do for _, n in pairs(r.buckets) do calls = calls + n end end
  print(("%d write(2) calls over %d s"):format(calls, #rows))
  sharkcloud.senddata("heatmap", rows, { title = "write(2) latency", unit = unit,
    labels = { tool = "heatmap_in_cloud", syscall = "write" } })
end)
