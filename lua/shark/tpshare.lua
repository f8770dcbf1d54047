-- SPDX-License-Identifier: GPL-2.0
-- shark/tpshare.lua - a BPF tracepoint program's return value is the kernel's
-- filter for every perf event of that tracepoint: 0 hides the event from all
-- of them, on the whole machine (perf stat, perf record, another shark). The
-- templates return their `pass_on` (.data, 1). Only a template asked for
-- `private = true` returns 0 (~60 ns an event cheaper), and only while this
-- run opens no perf.on of the same tracepoint, in whichever order they come.
local M = {}

local perf_users, templates = {}, {}

local function pass(obj) obj.data.pass_on = 1 end

-- perf.on opened tracepoint "sys:event".
function M.perf(name)
  perf_users[name] = true
  for _, obj in ipairs(templates[name] or {}) do pass(obj) end
end

-- A template program of obj is attached to tracepoint "sys:event"; private:
-- the script asked to hide its events from other perf users.
function M.template(name, obj, private)
  if not private then return end
  templates[name] = templates[name] or {}
  table.insert(templates[name], obj)
  obj.data.pass_on = perf_users[name] and 1 or 0
end

return M
