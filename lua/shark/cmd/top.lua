-- SPDX-License-Identifier: GPL-2.0
-- shark top [-p PID] [-e EVENT] [--by sym|comm|dso] [-F HZ] [-d SECONDS]: the hottest
-- functions (or commands, or DSOs) of the last second, redrawn every second, like
-- perf top. Samples come through perf.on with kernel and user callchains; the leaf
-- frame of each is the hot function, symbolized once per address. Off a terminal
-- (or with -n N / --once) each second prints a plain snapshot.
local ffi = require "ffi"
local api = require "shark.api"
local perf = require "perf"
local live_mod = require "shark.top"
local shark = require "shark"
local timer = require "timer"

local M = {}

local CONTEXT_MAX = 0xfffffffffffff001ULL
local CONTEXT_KERNEL = 0xffffffffffffff80ULL
local CONTEXT_USER = 0xfffffffffffffe00ULL
local KBASE = 0xffff000000000000ULL

local NAMEBUF = 512
local namebuf = ffi.new("char[?]", NAMEBUF)
local frame = ffi.new("struct shark_frame_info")

local function basename(p)
  return p:match("([^/]+)$") or p
end

-- The function and DSO of ip (pid -1: a kernel address).
local function resolve(pid, ip)
  local n = api.symbolize(pid, ip, namebuf, NAMEBUF)
  local name = n > 0 and ffi.string(namebuf, n):gsub("@@?[%w_.]+$", "") or ("0x%x"):format(tonumber(ip))
  local dso = "[unknown]"
  if api.sym_frame(pid, ip, frame) == 0 and frame.module ~= nil then dso = basename(ffi.string(frame.module)) end
  return name, dso
end

-- The frame of e at or after index i (0: the leaf): its address, whether it
-- is the kernel's, and the index after it; nil past the last.
local function frame_at(e, i)
  local ips = e.ips
  local kernel = true
  if i > 0 then
    -- the context of frame i: the last marker before it
    for j = i - 1, 0, -1 do
      local ip = ips[j]
      if ip == CONTEXT_KERNEL then break elseif ip == CONTEXT_USER then kernel = false break end
    end
  end
  for j = i, e.nr_ips - 1 do
    local ip = ips[j]
    if ip < CONTEXT_MAX then return ip, kernel, j + 1 end
    if ip == CONTEXT_KERNEL then kernel = true elseif ip == CONTEXT_USER then kernel = false end
  end
  return nil
end

-- A tracepoint's own frames, above where it fired: skipped, as perf top shows
-- the function that hit the tracepoint.
local function machinery(name)
  return name:find("^__traceiter_") or name:find("^perf_trace") or name:find("^trace_event_raw_") ~= nil
end

local function bracket(dso)
  if dso == "" or dso:sub(1, 1) == "[" then return dso end
  return "[" .. dso .. "]"
end

-- The key of one frame (the function, or the DSO with by "dso"), cached by
-- address (kernel) or pid and address (user); info[key] says what to show,
-- skip[key] marks a tracepoint's own frames.
local function frame_keys(by, info, skip)
  local kcache, ucache = {}, {}
  return function(ip, kernel, pid)
    local cache, addr
    if kernel then
      cache, addr, pid = kcache, tonumber(ip - KBASE), -1
    else
      cache = ucache[pid]
      if not cache then
        cache = {}
        ucache[pid] = cache
      end
      addr = tonumber(ip)
    end
    local k = cache[addr]
    if k then return k end
    local name, dso = resolve(pid, ip)
    if kernel and machinery(name) then
      k = "\1" .. name
      skip[k] = true
    elseif by == "dso" then
      k = dso
      info[k] = info[k] or { name = dso, dso = "" }
    else
      k = name .. "\0" .. dso
      -- no symbol: the symbolizer's "[dso]" says it all
      info[k] = info[k] or { name = name, dso = name == bracket(dso) and "" or dso }
    end
    cache[addr] = k
    return k
  end
end

-- A counter of samples by key (the function, command or DSO).
local function counter(by)
  local comms = {}
  local counts, info, skip = {}, {}, {}
  local frame_key = frame_keys(by, info, skip)
  local c = { total = 0, unknown = 0 }

  local function key_of(e)
    if by == "comm" then
      local pid = e.pid
      local k = comms[pid]
      if not k then
        k = ffi.string(api.comm(pid))
        comms[pid] = k
        info[k] = info[k] or { name = k, dso = "" }
      end
      return k
    end
    local ip, kernel, i = frame_at(e, 0)
    while ip do
      local k = frame_key(ip, kernel, e.pid)
      if not skip[k] then return k end
      ip, kernel, i = frame_at(e, i)
    end
    return nil
  end

  function c.add(e)
    c.total = c.total + 1
    local k = key_of(e)
    if not k then
      c.unknown = c.unknown + 1
      return
    end
    counts[k] = (counts[k] or 0) + 1
  end

  -- The rows of the interval, hottest first; the counts start again.
  function c.take()
    local rows, total = {}, c.total
    for k, n in pairs(counts) do
      local i = info[k]
      rows[#rows + 1] = { pct = 100 * n / total, samples = n, name = i.name, dso = bracket(i.dso) }
    end
    if c.unknown > 0 then
      rows[#rows + 1] = { pct = 100 * c.unknown / total, samples = c.unknown, name = "[no callchain]", dso = "" }
    end
    table.sort(rows, function(a, b)
      if a.samples ~= b.samples then return a.samples > b.samples end
      return a.name < b.name
    end)
    counts, c.total, c.unknown, comms = {}, 0, 0, {}
    return rows, total
  end
  return c
end

-- Does pid run (a zombie does not)?
local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return false end
  local stat = f:read("*l") or ""
  f:close()
  local state = stat:match("%) (%a)")
  return state ~= "Z" and state ~= "X"
end

local function sampled(ev)
  return not ev:find(":", 1, true)
end

-- The options, checked; nil when the run ends at once (usage, no such pid).
local function options(args)
  local o = shark.getopt({
    name = "shark top",
    usage = "[-p PID] [-e EVENT] [--by sym|comm|dso] [-F HZ] [-d SECONDS] [-n N | --once]",
    about = "The hottest functions of the last second, refreshed every second, like perf top: samples of\n" ..
      "EVENT (default cpu-clock) on every CPU or in one process, kernel and user frames symbolized, the\n" ..
      "leaf frame counted. A header says the rate, the samples of the interval and the events lost.\n" ..
      "q or Ctrl-C quits. Off a terminal, or with -n/--once, each second prints a plain snapshot.",
    max_args = 0,
    "pid", "duration",
    { "e", "event", "EVENT", "the event to sample (shark -l lists them)", default = "cpu-clock" },
    { "F", "frequency", "HZ", "samples per second on each CPU (clock and counter events)", type = "int",
      default = 99 },
    { nil, "by", "WHAT", "count by sym (the function), comm or dso", default = "sym",
      choices = { "sym", "comm", "dso" } },
    { "n", "iterations", "N", "print N snapshots, then end", type = "int" },
    { nil, "once", nil, "print one snapshot, then end (the same as -n 1)" },
    { "r", "rows", "N", "rows of a plain snapshot (a terminal shows what fits)", type = "int", default = 25 },
    examples = { "shark top", "shark top -p 1234 --by dso", "shark top -e page-faults -F 999",
      "shark top --once -p 1234 | head" },
  }, args)
  if o.frequency <= 0 then
    io.stderr:write("shark top: -F wants a positive number of samples per second\n")
    return shark.exit(2)
  end
  o.iterations = o.once and 1 or o.iterations
  if o.iterations and o.iterations <= 0 then
    io.stderr:write("shark top: -n wants a positive number of snapshots\n")
    return shark.exit(2)
  end
  if o.pid and not alive(o.pid) then
    io.stderr:write(("shark top: -p %d: no such process\n"):format(o.pid))
    return shark.exit(1)
  end
  return o
end

-- The snapshot of each second: tick(final) drains h, shows c's rows under the
-- header and ends the run after -n snapshots or when -p's process is gone.
local function ticker(o, h, c, live)
  local rate = sampled(o.event) and ("%d Hz"):format(o.frequency) or "every event"
  local where = o.pid and ("pid %d"):format(o.pid) or "every CPU"
  local lost_before, t_last, n = 0, shark.time(), 0
  local t = { done = false }
  function t.tick(final)
    -- a process gone before the drain has all its samples in this snapshot
    local gone = o.pid and not final and not alive(o.pid)
    h.drain()
    local now = shark.time()
    local rows, total = c.take()
    local st = h:stats()
    local lost = st.lost - lost_before
    lost_before = st.lost
    local head = ("shark top: %s at %s on %s, by %s | %d samples in %.2f s | lost %d (total %d)%s")
      :format(o.event, rate, where, o.by, total, (now - t_last) / 1e9, lost, st.lost,
        live.tty and " | q quits" or "")
    t_last = now
    live:refresh(rows, head)
    n = n + 1
    if final then return end
    if o.iterations and n >= o.iterations then
      t.done = true
      return shark.exit(0)
    end
    if gone then
      t.done = true
      live:close()
      io.stderr:write(("shark top: process %d exited\n"):format(o.pid))
      return shark.exit(0)
    end
  end
  return t
end

function M.main(args)
  local o = options(args)
  if not o then return end
  local c = counter(o.by)
  local popts = { pid = o.pid or -1, callchain_k = o.by ~= "comm", callchain_u = o.by ~= "comm" }
  if sampled(o.event) then popts.freq = o.frequency end
  local ok, h = pcall(perf.on, o.event, popts, c.add)
  if not ok then
    io.stderr:write("shark top: ", (tostring(h):gsub("^.-: perf%.on", "perf.on")), "\n")
    return shark.exit(1)
  end

  local live = live_mod.live{ plain = o.iterations ~= nil, rows = o.rows,
    { "OVERHEAD", "%8s", "pct", text = function(v) return ("%.2f%%"):format(v) end },
    { "SAMPLES", "%8d", "samples" }, { "NAME", "%s", "name" },
    { "", "%s", "dso" } }
  local on_tty = live.tty
  local t = ticker(o, h, c, live)
  timer.set_interval(1000, function() t.tick(false) end)
  -- off a terminal, a run ended otherwise (-c's command exiting, -d, Ctrl-C)
  -- prints the samples since the last snapshot
  shark.on_end(function()
    if not t.done and not on_tty and c.total > 0 then
      t.done = true
      t.tick(true)
    end
  end)
end

return M
