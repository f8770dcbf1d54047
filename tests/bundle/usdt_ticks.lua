-- SPDX-License-Identifier: GPL-2.0
-- usdt_ticks.lua - shark_test:tick USDT probes and probed_add uprobe hits of tests/progs/probed.
-- Run: shark usdt_ticks.lua /path/to/probed N
local getopt = shark.getopt{ about = "count a workload's USDT ticks and uprobe hits", args = { "PROG", "N" },
  min_args = 2 }
local workload = require "workload"
local prog = getopt.args[1]
local ticks = bpf.count{ on = "usdt:" .. prog .. ":shark_test:tick", by = "pid" }
local adds = bpf.count{ on = "uprobe:" .. prog .. ":probed_add", by = "arg0" }
workload.run(getopt.args, function(pid)
  local sum = 0
  for _, v in pairs(adds) do sum = sum + v end
  print(("usdt ticks %d, probed_add calls %d"):format(ticks[pid] or 0, sum))
end)
