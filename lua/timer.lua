-- SPDX-License-Identifier: GPL-2.0
-- timer.lua - set_interval / set_timeout / clear_timer on shark's libuv loop.
--
-- The argument order is (ms, fn). The original README wrote (timeout, callback)
-- while its code took (callback, timeout): both orders are accepted, since the
-- types tell them apart.
local uv = require "uv"

local M = {}

local Timer = {}
Timer.__index = Timer

-- Stop the timer for good; safe to call twice and from its own callback.
function Timer:stop()
  local h = self.handle
  if h then
    self.handle = nil
    h:stop()
    h:close()
  end
end
Timer.clear = Timer.stop

function Timer:active()
  return self.handle ~= nil
end

function Timer:__tostring()
  return ("timer(%s ms%s)"):format(self.ms, self.interval and ", repeating" or "")
end

local function ms_and_fn(a, b, who)
  if type(a) == "function" and type(b) == "number" then a, b = b, a end
  if type(a) ~= "number" or type(b) ~= "function" then
    error(("%s(ms, fn): expected a number and a function, got %s and %s")
      :format(who, type(a), type(b)), 3)
  end
  if a ~= a or a < 0 or a == math.huge then
    error(("%s: ms must be a finite number >= 0, got %s"):format(who, a), 3)
  end
  return math.ceil(a), b
end

local function new(ms, fn, interval)
  local t = setmetatable({ ms = ms, interval = interval }, Timer)
  local h = uv.new_timer()
  t.handle = h
  -- libuv measures from its cached loop time, which is stale while a script's
  -- top level runs: refresh it so "in 50 ms" means 50 ms from now.
  uv.update_time()
  if interval then
    h:start(ms, ms, function() fn(t) end)
  else
    h:start(ms, 0, function()
      t:stop()
      fn(t)
    end)
  end
  return t
end

-- Call fn once after ms milliseconds. Returns a timer (t:stop(), clear_timer(t)).
function M.set_timeout(ms, fn)
  ms, fn = ms_and_fn(ms, fn, "set_timeout")
  return new(ms, fn, false)
end

-- Call fn(t) every ms milliseconds until stopped.
function M.set_interval(ms, fn)
  ms, fn = ms_and_fn(ms, fn, "set_interval")
  if ms == 0 then error("set_interval: the interval must be more than 0 ms", 2) end
  return new(ms, fn, true)
end

function M.clear_timer(t)
  if t == nil then return end
  if getmetatable(t) ~= Timer then
    error("clear_timer: expected a timer from set_interval/set_timeout, got " .. type(t), 2)
  end
  t:stop()
end

M.Timer = Timer
return M
