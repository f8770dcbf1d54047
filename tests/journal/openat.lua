-- SPDX-License-Identifier: GPL-2.0
-- openat.lua - a deterministic script for live == replay: each openat of
-- the traced command's path, counted by comm and file, printed at the end.
local counts, order = {}, {}
perf.on("syscalls:sys_enter_openat", function(e)
  local f = e.raw.filename or "?"
  local k = e.comm .. " " .. f .. " flags=" .. e.raw.flags
  if not counts[k] then counts[k] = 0; order[#order + 1] = k end
  counts[k] = counts[k] + 1
end)
shark.on_end(function()
  table.sort(order)
  for _, k in ipairs(order) do print(k, counts[k]) end
end)
