-- SPDX-License-Identifier: GPL-2.0
-- shark/source.lua - the one seam of event sources (perf rings, BPF ring
-- buffers, BPF-backed tracepoints): poll + drain timer + a protected batch
-- loop, stop in the middle of a batch, loss reporting, and the end phases of
-- a run (detach -> drain -> on_end -> close). Sources and other resources
-- (loaded BPF objects) belong to a session; a process runs one session per
-- script, so several scripts can run and end independently.
local uv = require "uv"
local phases = require "shark.phases"
local first_seen = false  -- SHARK_PHASES: the process's first batch is marked

local M = {}

-- ---------------------------------------------------------------- sessions

local Session = {}
Session.__index = Session

local sessions_made = 0

-- A new session: its resources end together, apart from every other one.
function M.session(name)
  sessions_made = sessions_made + 1
  return setmetatable({ name = name or ("session " .. sessions_made), list = {}, seq = 0, on_end_fns = {},
    ended = false }, Session)
end

local default = M.session("run")
local current = default

-- The session new sources join (the run's, unless within() says otherwise).
function M.current()
  return current
end

function M.default()
  return default
end

-- Run fn(...) with `s` as the session new sources join.
function M.within(s, fn, ...)
  local prev = current
  current = s
  local ok, err = pcall(fn, ...)
  current = prev
  if not ok then error(err, 0) end
end

-- Add a resource: a table with optional detach(r), drain(r), report(r),
-- close(r) methods. Resources end in phases, each phase over all of them: detach in
-- the order they were added, drain likewise, close in reverse order (a ring
-- closes before the object that owns its map).
function Session:add(r)
  if self.ended then error("this session has ended", 3) end
  self.seq = self.seq + 1
  self.list[r] = self.seq
  r._session = self
  return r
end

function Session:remove(r)
  self.list[r] = nil
end

function Session:on_end(fn)
  self.on_end_fns[#self.on_end_fns + 1] = fn
end

function Session:resources(reverse)
  local all = {}
  for r, seq in pairs(self.list) do all[#all + 1] = { r, seq } end
  table.sort(all, function(a, b)
    if reverse then return a[2] > b[2] end
    return a[2] < b[2]
  end)
  for i, x in ipairs(all) do all[i] = x[1] end
  return all
end

-- The phases, each protected: one failing resource does not stop the rest.
-- `call(fn, ...)` runs one step (boot passes its error handler's xpcall).
function Session:phase(name, call, ...)
  call = call or pcall
  for _, r in ipairs(self:resources(name == "close")) do
    local f = r[name]
    if f and (name ~= "close" or self.list[r]) then call(f, r, ...) end
  end
end

-- End the session: detach -> drain -> on_end -> report -> close. failed:
-- the run ended on an error (no drain: handlers would run on a broken
-- script). report: what resources print unasked (a template result the
-- script never read), after the script's own on_end output.
function Session:finish(failed, call, on_end)
  if self.ended then return end
  self:phase("detach", call)
  if not failed then self:phase("drain", call) end
  for _, fn in ipairs(self.on_end_fns) do (call or pcall)(fn) end
  if on_end then on_end() end
  self:phase("report", call)
  self:phase("close", call)
  self.ended = true
end

-- ----------------------------------------------------------------- sources

local Source = {}
Source.__index = Source
M.Source = Source

-- The error handler of the run (boot installs it): reports the error where
-- it happened, with its traceback, and returns the stop sentinel.
local function on_error(e)
  local shark = package.loaded.shark
  local h = shark and shark._on_error
  if h then return h(e) end
  return debug.traceback(tostring(e), 2)
end

local POLL_KEEP = 256   -- an adaptive poll stays armed after a drain this big

-- ------------------------------------------------------ the reader's priority

-- While sources are attached, the thread that drains them (this one) runs
-- SCHED_FIFO at -r's priority: a ring's watermark wakes it, and a woken
-- SCHED_OTHER reader can wait on the run queue behind CPU-bound tasks far
-- longer than a ring holds (measured: 38-252 ms before each drain that found
-- events lost, a nice-10 reader beside a nice-0 compiler, against the 20-40
-- ms of raw_syscalls events an 8 MiB ring holds at 2-4 M/s). Real-time, it
-- runs as soon as it is woken, and a wake-up per watermark is rare enough
-- that it takes nothing from the traced tasks. Back to normal at the detach
-- of the last one: on_end work (symbols, reports) runs as any task.
local attached, rt_on = 0, false

local function log(msg)
  local shark = package.loaded.shark
  if shark then shark.log(msg) end
end

local function reader_rt(on)
  local api = require "shark.api"
  local prio = api.state.rt_prio
  if prio <= 0 or on == rt_on then return end
  local rc = api.sched_reader(on and prio or 0)
  if rc == 0 then
    rt_on = on
  elseif on then
    log(("shark: the reader keeps normal priority: SCHED_FIFO %d: %s (needs root or CAP_SYS_NICE)")
      :format(prio, require("ffi").string(api.strerror(-rc))))
  end
end

-- The real-time reader's budget: a script whose handlers (or timers) keep
-- shark busy would take a CPU from the traced tasks at real-time priority
-- (the kernel caps it at 95%). Once a second: past half a CPU, the reader
-- goes back to normal priority; under a quarter, real-time again.
local RT_OVER, RT_UNDER = 0.5, 0.25
local budget, throttled, last_cpu, last_wall

local function cpu_seconds()
  local ru = uv.getrusage()
  return ru.utime.sec + ru.stime.sec + (ru.utime.usec + ru.stime.usec) / 1e6
end

local function check_budget()
  local cpu, wall = cpu_seconds(), uv.hrtime() / 1e9
  local used = (cpu - last_cpu) / math.max(wall - last_wall, 1e-3)
  last_cpu, last_wall = cpu, wall
  if attached == 0 then return end
  if rt_on and used > RT_OVER then
    reader_rt(false)
    throttled = true
    log(("shark: the reader used %.0f%% of a CPU: normal priority until it needs less (-r)"):format(used * 100))
  elseif throttled and used < RT_UNDER then
    throttled = false
    reader_rt(true)
  end
end

local function budget_start()
  if budget or require("shark.api").state.rt_prio <= 0 then return end
  last_cpu, last_wall = cpu_seconds(), uv.hrtime() / 1e9
  budget = uv.new_timer()
  budget:start(1000, 1000, check_budget)
  budget:unref()
end

local function budget_stop()
  if not budget then return end
  budget:stop()
  budget:close()
  budget, throttled = nil, false
end

local function attach_source(src)
  src.attached = true
  attached = attached + 1
  if attached == 1 then
    reader_rt(true)
    budget_start()
  end
end

local function detach_source(src)
  if not src.attached then return end
  src.attached = false
  attached = attached - 1
  if attached == 0 then
    budget_stop()
    reader_rt(false)
  end
end

-- Whether the reader runs real-time now (tests).
function M.realtime()
  return rt_on
end

-- M.new{ name, read(max) -> n, consume(), dispatch(n), max,
--        fds = {fd...}, poll = "always"|"adaptive"|"never", drain_ms,
--        detach(), release(), stats() -> {count, lost}, lost_message(lost) }
-- read fills the adapter's batch and returns how many; dispatch(n) calls
-- the user's function on each (stopping early when src.stopping is set);
-- consume gives the space back.
function M.new(a)
  local src = setmetatable({ a = a, name = a.name, closed = false, draining = false, stopping = false,
    polls = {}, armed = false, wakeups = 0 }, Source)
  local read, consume, dispatch, max = a.read, a.consume, a.dispatch, a.max
  local big = false
  local function loop()
    local total = 0
    while true do
      local n = read(max)
      if n <= 0 then break end
      if phases.on and not first_seen then
        first_seen = true
        phases.mark("first batch: " .. n .. " events")
      end
      dispatch(n)
      consume()
      total = total + n
      if n < max or src.stopping then break end
    end
    big = total >= POLL_KEEP
  end
  -- the drain: entered once per wake-up or tick, never twice at once; the
  -- draining flag is reset whatever happens inside (an error, shark.exit)
  src.drain = function()
    if src.closed or src.draining then return end
    src.draining = true
    local ok, err = xpcall(loop, on_error)
    src.draining = false
    -- a handler that raised (or called shark.exit) ends its source: it
    -- gets no more events, not even from the end-of-run drain
    if not ok then
      pcall(consume)
      src.stopping = true
    end
    if src.stopping then src:close() end
    if not ok then error(err, 0) end
  end
  local mode = a.poll or "always"
  if mode ~= "never" then
    local function on_poll()
      src.wakeups = src.wakeups + 1
      src.drain()
      -- adaptive: a wake-up that found little means the producer wakes us
      -- per record (bpf_ringbuf_submit(r, 0)): wait for the tick instead
      if mode == "adaptive" and not big and not src.closed then src:disarm() end
    end
    for _, fd in ipairs(a.fds or {}) do
      local poll = uv.new_poll(fd)
      src.polls[#src.polls + 1] = poll
    end
    src.on_poll = on_poll
    src:arm()
  end
  local ms = a.drain_ms or 10
  src.timer = uv.new_timer()
  local function tick()
    src.drain()
    if not src.closed and not src.armed and mode ~= "never" then src:arm() end
  end
  uv.update_time()
  -- looks as the loop starts (what came since enabling is not held for a
  -- tick: a perf ring wakes us only past its watermark), 1 and 2 ms later,
  -- then every drain_ms
  local early = 0
  local function start_tick()
    tick()
    early = early + 1
    if src.closed then return end
    if early < 3 and ms > 2 then
      src.timer:start(1, 0, start_tick)
    else
      src.timer:start(ms, ms, tick)
    end
  end
  src.timer:start(0, 0, start_tick)
  current:add(src)
  attach_source(src)
  return src
end

function Source:arm()
  if self.armed then return end
  self.armed = true
  for _, p in ipairs(self.polls) do p:start("r", self.on_poll) end
end

function Source:disarm()
  if not self.armed then return end
  self.armed = false
  for _, p in ipairs(self.polls) do p:stop() end
end

-- Stop delivering: now, or once the drain is out of its batch.
function Source:stop()
  if self.closed then return end
  if self.draining then
    self.stopping = true
  else
    self:close()
  end
end

function Source:active()
  return not self.closed
end

function Source:stats()
  if self.final then return self.final end
  return self.a.stats()
end

-- Session phases.
function Source:detach()
  if not self.closed and self.a.detach then self.a.detach() end
  detach_source(self)
end

function Source:close()
  if self.closed then return end
  self.closed = true
  for _, p in ipairs(self.polls) do
    if self.armed then p:stop() end
    p:close()
  end
  self.armed = false
  if self.timer then self.timer:stop(); self.timer:close() end
  self.final = self.a.stats()
  detach_source(self)
  if self.a.release then self.a.release() end
  if self._session then self._session:remove(self) end
  -- lost events are never dropped silently
  local lost = self.final.lost or 0
  if lost > 0 and self.a.lost_message then
    io.stdout:flush()
    io.stderr:write("shark: ", self.a.lost_message(lost), "\n")
  end
end

return M
