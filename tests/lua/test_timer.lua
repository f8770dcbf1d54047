-- SPDX-License-Identifier: GPL-2.0
-- Timers: ordering, clearing, nesting, argument order and errors.
local t = require "tap"

local started = shark.time()
local order = {}
set_timeout(30, function() order[#order + 1] = "c30" end)
set_timeout(10, function() order[#order + 1] = "a10" end)
set_timeout(10, function() order[#order + 1] = "b10" end)   -- same deadline: creation order
set_timeout(function() order[#order + 1] = "d40" end, 40)   -- old (fn, ms) order

local cleared = set_timeout(20, function() order[#order + 1] = "never" end)
clear_timer(cleared)
t.ok(not cleared:active(), "a cleared timer is inactive")
t.ok(pcall(clear_timer, cleared) and not cleared:active(), "clearing twice is harmless: no error, still inactive")

local ticks = 0
local iv = set_interval(5, function(self)
  ticks = ticks + 1
  if ticks == 4 then self:stop() end
end)
t.ok(iv:active(), "an interval is active when started")

-- a timeout set from inside a handler runs after it
set_timeout(50, function()
  order[#order + 1] = "outer"
  set_timeout(0, function() order[#order + 1] = "inner" end)
end)

t.raises(function() set_timeout("x", 1) end, "expected a number and a function", "bad types rejected")
t.raises(function() set_interval(0, function() end) end, "more than 0 ms", "interval 0 rejected")
t.raises(function() set_timeout(-1, function() end) end, "ms must be a finite number", "negative rejected")
t.raises(function() clear_timer({}) end, "expected a timer", "clear_timer checks its argument")

shark.on_end(function()
  t.is(table.concat(order, ","), "a10,b10,c30,d40,outer,inner", "timers fire in deadline then creation order")
  t.is(ticks, 4, "an interval that stops itself ran exactly 4 times")
  local ms = (shark.time() - started) / 1e6
  -- libuv keeps time in whole ms, so a deadline can come up to 1 ms early
  t.ok(ms >= 49, "the run lasted until the last timer (50 ms)", ms .. " ms")
  t.done()
end)
