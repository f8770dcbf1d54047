-- SPDX-License-Identifier: GPL-2.0
-- shark.source: sessions end independently, in phases (detach -> drain ->
-- on_end -> report -> close); the drain is protected (its flag reset on error), stops
-- mid-batch, reports loss; real perf sources join the session they are made in.
local t = require "tap"
local source = require "shark.source"

-- A source over a Lua queue: read() takes up to max queued items.
local function fake(log, name, queue, fn)
  local taken = {}
  local src
  src = source.new{
    name = name, max = 4, poll = "never", drain_ms = 1000,
    read = function(max)
      local n = 0
      while n < max and #queue > 0 do n = n + 1; taken[n] = table.remove(queue, 1) end
      return n
    end,
    consume = function() log[#log + 1] = name .. ":consume" end,
    dispatch = function(n)
      for i = 1, n do
        fn(taken[i], src)
        if src.stopping then return end
      end
    end,
    detach = function() log[#log + 1] = name .. ":detach" end,
    stats = function() return { count = 0, lost = name == "A" and 3 or 0 } end,
    release = function() log[#log + 1] = name .. ":release" end,
    lost_message = function(n) return name .. " lost " .. n end,
  }
  return src
end

local a, b = source.session("a"), source.session("b")
local log, seen = {}, {}
local qa, qb = { 1, 2, 3, 4, 5, 6 }, { 10, 20 }
local sa, sb
source.within(a, function() sa = fake(log, "A", qa, function(x) seen[#seen + 1] = x end) end)
source.within(b, function() sb = fake(log, "B", qb, function(x) seen[#seen + 1] = x end) end)
t.is(sa._session, a, "a source joins the session it was made within")
t.is(sb._session, b, "... each its own")
t.is(source.current(), source.default(), "within() restores the current session")

a:on_end(function() log[#log + 1] = "a:on_end" end)
-- a resource that prints unasked at the end (a template result nobody read)
a:add({ report = function() log[#log + 1] = "a:report" end })
a:finish(false)
t.is(table.concat(log, " "), "A:detach A:consume A:consume a:on_end a:report A:release",
  "phases run in order: detach, drain (every batch), on_end, report, close")
t.is(table.concat(seen, ","), "1,2,3,4,5,6", "the drain phase delivers what the source still holds")
t.ok(not sa:active() and sb:active(), "ending session a leaves session b's source running")
t.ok(a.ended and not b.ended, "only a has ended")
t.is(sa:stats().lost, 3, "a closed source keeps its final loss count (and says it on stderr)")

-- an error in a handler: reported through the run's handler, flag reset
local errors = {}
local sh = require "shark"
local saved = sh._on_error
sh._on_error = function(e) errors[#errors + 1] = tostring(e); return e end
local qc = { 1, 2, 3 }
local sc
source.within(b, function()
  sc = fake({}, "C", qc, function(x) if x == 2 then error("handler failed") end end)
end)
local ok = pcall(sc.drain)
sh._on_error = saved
t.ok(not ok and errors[1] and errors[1]:find("handler failed", 1, true), "an error in the handler is reported",
  errors[1])
t.ok(not sc.draining, "the draining flag is reset after an error")
t.ok(not sc:active(), "and the source whose handler failed is closed")
sc:stop()
t.ok(not sc:active(), "a later stop() is harmless")

-- stop in the middle of a batch: the rest of the batch is not delivered
local got = {}
local qd = { 1, 2, 3, 4, 5 }
local sd
source.within(b, function()
  sd = fake({}, "D", qd, function(x, s) got[#got + 1] = x; if x == 2 then s:stop() end end)
end)
sd.drain()
t.is(table.concat(got, ","), "1,2", "stop() inside a handler ends the batch there")
t.ok(not sd:active(), "and closes the source once the drain is out")

-- real perf sources in two sessions
local perf = require "perf"
local h1, h2
local s1, s2 = source.session("one"), source.session("two")
local opened, err = pcall(source.within, s1, function()
  h1 = perf.on("dummy", { pid = -1, cpu = 0 }, function() end)
end)
if not opened and t.no_kernel(err) then
  for _, name in ipairs({ "two perf.on handles in two sessions", "ending one session stops its perf handle only",
    "the other ends with its session" }) do
    t.skip(name, t.no_kernel(err))
  end
else
  assert(opened, err)
  source.within(s2, function() h2 = perf.on("dummy", { pid = -1, cpu = 0 }, function() end) end)
  t.ok(h1:active() and h2:active(), "two perf.on handles in two sessions")
  s1:finish(false)
  t.ok(not h1:active() and h2:active(), "ending one session stops its perf handle only")
  s2:finish(false)
  t.ok(not h2:active(), "the other ends with its session")
end
b:finish(false)
t.ok(not sb:active(), "session b's sources closed at its end")
t.done()
