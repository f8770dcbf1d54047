-- SPDX-License-Identifier: GPL-2.0
-- shark/tpshare.lua - a BPF tracepoint program's return value is the kernel's
-- filter for every perf event of that tracepoint: 0 hides the event from all
-- of them. The templates return their `pass_on` (.bss, 0: ~60 ns an event
-- cheaper), and this sets it to 1 wherever the run also opens the same
-- tracepoint with perf.on, in whichever order the two come.
local M = {}

local perf_users, templates = {}, {}

local function pass(obj) obj.bss.pass_on = 1 end

-- perf.on opened tracepoint "sys:event".
function M.perf(name)
  perf_users[name] = true
  for _, obj in ipairs(templates[name] or {}) do pass(obj) end
end

-- A template program of obj is attached to tracepoint "sys:event".
function M.template(name, obj)
  templates[name] = templates[name] or {}
  table.insert(templates[name], obj)
  if perf_users[name] then pass(obj) end
end

return M
