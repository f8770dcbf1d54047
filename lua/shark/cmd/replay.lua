-- SPDX-License-Identifier: GPL-2.0
-- shark replay FILE script.lua [args...]: run the script that ran live over
-- a journal of shark record. perf.on and bpf.on_ring handlers receive the
-- recorded events, timers and shark.time() follow the recorded clock, and
-- on_end handlers run at the end, as when the live run ended.
local ffi = require "ffi"
local shark = require "shark"
local getopt = require "shark.getopt"
local journal = require "shark.journal"
local timer = require "timer"

local M = {}

local spec = {
  name = "shark replay",
  usage = "[--key KEYFILE] [--salvage] FILE script.lua [args...]",
  about = "Run script.lua over the journal FILE (from shark record) instead of the live kernel: its perf.on\n" ..
    "and bpf.on_ring handlers get the recorded events in order, set_interval/set_timeout and shark.time()\n" ..
    "follow the recorded clock, on_end handlers run at the end.",
  { nil, "key", "KEYFILE", "the key of an encrypted journal" },
  { nil, "salvage", nil, "skip damaged chunks instead of stopping" },
  args = { "FILE", "script.lua" }, min_args = 2, max_args = false,
}

local BATCH = 4096

-- ------------------------------------------------------------ the clock

local now = 0            -- the recorded clock, ns
local heap = {}          -- pending timers by due time (a sorted list: few timers)
local seq = 0

local VTimer = {}
VTimer.__index = VTimer
function VTimer:stop() self.stopped = true end
VTimer.clear = VTimer.stop
function VTimer:active() return not self.stopped end

local function schedule(t)
  seq = seq + 1
  t.seq = seq
  local i = #heap + 1
  while i > 1 and (heap[i - 1].due > t.due or (heap[i - 1].due == t.due and heap[i - 1].seq > t.seq)) do
    heap[i] = heap[i - 1]
    i = i - 1
  end
  heap[i] = t
end

local function new_timer(ms, fn, interval, who)
  if type(ms) == "function" and type(fn) == "number" then ms, fn = fn, ms end
  if type(ms) ~= "number" or type(fn) ~= "function" then
    error(("%s(ms, fn): expected a number and a function, got %s and %s"):format(who, type(ms), type(fn)), 3)
  end
  if ms ~= ms or ms < 0 or ms == math.huge or (interval and ms == 0) then
    error(("%s: ms must be a finite number > 0, got %s"):format(who, ms), 3)
  end
  local t = setmetatable({ ms = math.ceil(ms), fn = fn, interval = interval }, VTimer)
  t.due = now + t.ms * 1e6
  schedule(t)
  return t
end

-- Fire every timer due at or before time t, in order, the clock following.
local function run_timers(t)
  while heap[1] and heap[1].due <= t do
    local x = table.remove(heap, 1)
    if not x.stopped then
      now = x.due
      if x.interval then
        x.due = x.due + x.ms * 1e6
        schedule(x)
      else
        x.stopped = true
      end
      x.fn(x)
    end
  end
  if t > now then now = t end
end

local function next_due()
  return heap[1] and heap[1].due or math.huge
end

-- ---------------------------------------------------------------- events

local function glob_pattern(g)
  return "^" .. g:gsub("[%^%$%(%)%%%.%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

local function matcher(spec_)
  local pats = {}
  for item in tostring(spec_):gmatch("[^,]+") do
    item = item:gsub("^%s+", ""):gsub("%s+$", ""):gsub(":[ukh]+$", "")
    if item ~= "" then pats[#pats + 1] = glob_pattern(item) end
  end
  return function(name)
    for _, p in ipairs(pats) do if name:match(p) then return true end end
    return false
  end
end

-- State of one replay.
local R = { ring_subs = {}, ustr = {}, subs = {}, handlers = {}, names = {}, types = {}, comms = {},
  stacks = {} }

local Handle = {}
Handle.__index = Handle
function Handle:stop() self.stopped = true end
function Handle:count() return self.n end
function Handle.lost() return 0 end
function Handle:stats() return { samples = self.n, lost = 0, throttled = 0 } end
function Handle:active() return not self.stopped end

local prescan

local function frames_of(key)
  prescan()
  local s = R.stacks_str[key]
  if s then return s end
  local t = R.stacks[key]
  if not t then return nil end
  local sy = R.symbols or {}
  local names = {}
  for _, f in ipairs(t.frames) do
    local hex = f:sub(2)
    local name
    if f:sub(1, 1) == "k" then
      name = sy.ksyms and sy.ksyms[hex]
    else
      local u = sy.usyms and sy.usyms[tostring(t.pid)]
      name = u and u[hex]
    end
    names[#names + 1] = name or "[unknown]"
  end
  s = table.concat(names, "\n")
  R.stacks_str[key] = s
  return s
end

local ev_mt = {}
local methods = {
  copy = function(e)
    local c = ffi.new(ffi.typeof(e))
    ffi.copy(c, e, ffi.sizeof(e))
    return c
  end,
  stack = function() return {} end,
}
local function comm_of(pid)
  prescan()
  return R.comms[tostring(pid)] or "<...>"
end

ev_mt.__index = function(e, k)
  if k == "comm" then return comm_of(e.pid) end
  if k == "callchain" then
    local key = e.stack_key
    if key == 0 then return nil end
    return frames_of(tonumber(key))
  end
  return methods[k]
end
ev_mt.__tostring = function(e)
  local head = ("%16s-%-7d [%03d] %.6f: %s:"):format(comm_of(e.pid), e.pid, e.cpu,
    e.time / 1e9, ffi.string(e.name))
  if e.raw == nil then return ("%s period=%d ip=0x%x"):format(head, e.period, e.ip) end
  local types = require "perf.types"
  return head .. " " .. types.format_fields(types.by_name(ffi.string(e.name)), e.raw)
end

-- The FFI type of recorded event ev (typed raw from its recorded format).
local function type_of(ev)
  local t = R.types[ev]
  if t then return t end
  local d = R.events[ev]
  local types = require "perf.types"
  local sys, name = d.name:match("^([^:]+):(.+)$")
  if d.format and sys then
    t = types.tracepoint(sys, name, ev_mt)
  end
  t = t or types.generic(ev_mt)
  R.types[ev] = t
  return t
end

-- Recompute the handlers of each event (new events or new subscriptions).
local function bind()
  R.handlers = {}
  for ev, d in pairs(R.events) do
    local list = {}
    for _, sub in ipairs(R.subs) do
      if not sub.h.stopped and sub.match(d.name) then list[#list + 1] = sub end
    end
    if #list > 0 then
      R.handlers[ev] = list
      if not R.names[ev] then R.names[ev] = ffi.new("char[?]", #d.name + 1, d.name) end
    end
  end
end

local function replay_on(spec_, opts, fn)
  -- options (pid, filter, ...) chose what was recorded; the journal holds just that
  if fn == nil and type(opts) == "function" then fn = opts end
  if type(fn) ~= "function" then
    error("perf.on(spec, [opts], fn): expected a function, got " .. type(fn), 2)
  end
  local h = setmetatable({ spec = spec_, n = 0 }, Handle)
  R.subs[#R.subs + 1] = { match = matcher(spec_), fn = fn, h = h }
  bind()
  return h
end

-- BPF rings: handlers by map name; records typed from the C the journal kept.
local function ring_type(id)
  local d = R.rings[id]
  if not d then return nil end
  if d.ptr == nil then
    d.ptr = false
    local tname = d.ctype and d.ctype:match("^ctype<(.*)>$")
    if d.c and tname then
      local prefix = ("shark_jr%d_"):format(id)
      local ok = pcall(ffi.cdef, (d.c:gsub("shark_o%d+_", prefix)))
      if ok then
        local ct = ffi.typeof((tname:gsub("shark_o%d+_", prefix)))
        -- handlers get checked views, as live (bpf.ring)
        d.ptr, d.deliver = ffi.typeof("$ *", ct), require("bpf.ring").deliverer(ct)
      end
    end
  end
  return d.ptr
end

local function replay_on_ring(m, opts, fn)
  -- options (pid, filter, ...) chose what was recorded; the journal holds just that
  if fn == nil and type(opts) == "function" then fn = opts end
  if type(fn) ~= "function" then error("bpf.on_ring(map, [opts], fn): expected a function", 2) end
  local name = type(m) == "string" and m or (type(m) == "table" or type(m) == "userdata") and m.info and m:info().name
  if type(name) ~= "string" then error("bpf.on_ring: expected a map or its name", 2) end
  local h = setmetatable({ spec = name, n = 0 }, Handle)
  R.ring_subs[#R.ring_subs + 1] = { name = name, fn = fn, h = h }
  return h
end

local function dispatch_records(r, recs, rings, times)
  while true do
    local n, err = r:records(recs, rings, times, BATCH)
    if not n then return nil, err end
    if n == 0 then return true end
    for i = 0, n - 1 do
      local d = R.rings[rings[i]]
      local ptr = d and ring_type(rings[i])
      if ptr then
        local time = times[i]
        if time >= next_due() then run_timers(time) elseif time > now then now = time end
        for _, sub in ipairs(R.ring_subs) do
          if sub.name == d.name and not sub.h.stopped then
            sub.h.n = sub.h.n + 1
            d.deliver(sub.fn, recs[i].data, recs[i].size)
          end
        end
      end
    end
  end
end

-- ------------------------------------------------------------------ main

local function run(r)
  local batch = ffi.new("struct shark_sample[?]", BATCH)
  local typed = {}       -- ev -> the batch as an array of that event's type
  local recs = ffi.new("struct shark_record[?]", BATCH)
  local rings, times = ffi.new("uint32_t[?]", BATCH), ffi.new("double[?]", BATCH)
  while true do
    local kind, t = r:next()
    if kind == nil then break end
    if kind == false then return nil, t end
    if kind == "meta" then
      if t.kind == "start" then
        now = t.time or now
      elseif t.kind == "events" then
        bind()
      elseif t.kind == "ustrings" then
        for _, u in ipairs(t.list or {}) do
          local per = R.ustr[u[1]]
          if not per then per = {}; R.ustr[u[1]] = per end
          per[tonumber(u[2], 16)] = u[3] or false
        end
      elseif t.kind == "symbols" then
        R.symbols = t
        for pid, c in pairs(t.comms or {}) do R.comms[pid] = c end
        for _, s in ipairs(t.stacks or {}) do R.stacks[s.key] = s end
      end
    elseif kind == "records" then
      local ok, err = dispatch_records(r, recs, rings, times)
      if not ok then return nil, err end
    elseif kind == "samples" then
      local handlers, names = R.handlers, R.names
      while true do
        local n, err = r:samples(batch, BATCH)
        if not n then return nil, err end
        if n == 0 then break end
        for i = 0, n - 1 do
          local s = batch[i]
          local ev = s.event
          local hs = handlers[ev]
          if hs then
            local time = s.time
            if time >= next_due() then run_timers(time) elseif time > now then now = time end
            s.name = names[ev]
            local tb = typed[ev]
            if not tb then
              tb = ffi.cast(ffi.typeof("$ *", type_of(ev).ev), batch)
              typed[ev] = tb
            end
            for k = 1, #hs do
              local sub = hs[k]
              if not sub.h.stopped then
                sub.h.n = sub.h.n + 1
                sub.fn(tb[i])
              end
            end
          end
        end
      end
    end
  end
  if r.finish and r.finish.time then run_timers(r.finish.time) end
  -- a subscription the journal has nothing for is said, not silently empty
  for _, sub in ipairs(R.subs) do
    local any = false
    for _, d in pairs(R.events) do if sub.match(d.name) then any = true break end end
    if not any then
      io.stderr:write(("shark replay: perf.on(%q): the journal has no such events\n"):format(sub.h.spec))
    end
  end
  return true
end

-- Symbols and comm names are written at the end of a journal: read them
-- there, once, the first time a handler asks for a name.
prescan = function()
  if R.scanned then return end
  R.scanned = true
  local r = journal.open(R.path, R.key, R.salvage)
  while r do
    local kind, t = r:next()
    if not kind then break end
    if kind == "meta" and t.kind == "symbols" then
      for pid, c in pairs(t.comms or {}) do R.comms[pid] = c end
      R.symbols = t
      for _, s in ipairs(t.stacks or {}) do R.stacks[s.key] = s end
    end
  end
end

function M.main(args)
  -- options come before FILE; what follows script.lua is the script's
  local head, i = {}, 1
  while i <= #args and args[i]:sub(1, 1) == "-" and args[i] ~= "--" do
    head[#head + 1] = args[i]
    if args[i] == "--key" then
      i = i + 1
      head[#head + 1] = args[i]
    end
    i = i + 1
  end
  if args[i] == "--" then i = i + 1 end
  for k = i, math.min(i + 1, #args) do head[#head + 1] = args[k] end
  local o = getopt.parse(spec, head)
  local path, script = o.args[1], o.args[2]
  local script_args = { unpack(args, i + 2) }
  R.stacks_str = {}
  local r = journal.open_or_exit("shark replay", path, o)
  R.events, R.rings = r.events, r.rings
  R.path, R.key, R.salvage = path, r.key, o.salvage

  -- format files come from the journal, not from this machine
  local pcore = require "perf.core"
  local live_format = pcore.tp_format
  local formats = {}
  for _, d in pairs(R.events) do if d.format then formats[d.name] = d.format end end
  pcore.tp_format = function(sys, name)
    local f = formats[sys .. ":" .. name]
    if f then return f end
    return live_format(sys, name)
  end

  require("perf").on = replay_on
  require("bpf").on_ring = replay_on_ring
  require("perf.types").read_user_string = function(pid, addr, buf, len)
    local per = R.ustr[pid]
    local str = per and per[tonumber(addr)]
    if not str then return -14 end
    local n = math.min(#str, len - 1)
    ffi.copy(buf, str, n)
    return n
  end
  timer.set_interval = function(ms, fn) return new_timer(ms, fn, true, "set_interval") end
  timer.set_timeout = function(ms, fn) return new_timer(ms, fn, false, "set_timeout") end
  timer.clear_timer = function(t) if t then t:stop() end end
  rawset(_G, "set_interval", timer.set_interval)
  rawset(_G, "set_timeout", timer.set_timeout)
  rawset(_G, "clear_timer", timer.clear_timer)
  shark.time = function() return now end

  shark.args = script_args
  _G.arg = { [0] = script }
  for k, a in ipairs(script_args) do _G.arg[k] = a end
  local chunk, err = loadfile(script)
  if not chunk then
    io.stderr:write(err, "\n")
    return shark.exit(1)
  end
  chunk(unpack(script_args))
  local ok, rerr = run(r)
  journal.epilogue("shark replay", r)
  if not ok then
    io.stderr:write("shark replay: ", rerr, "\n")
    return shark.exit(1)
  end
  -- the journal is over: end the run as the live one ended (on_end handlers next)
  require("shark.api").stop(ffi.C.SHARK_STOP_IDLE)
end

return M
