-- SPDX-License-Identifier: GPL-2.0
-- shark.lua - the `shark` global: lifecycle (on_end, exit), arguments, time,
-- logging and the table printers of the original shark.
local ffi = require "ffi"
local core = require "shark.core"
local api = require "shark.api"

local C = ffi.C
local M = {}

local versions = core.versions()
M.version = versions.shark
M.versions = versions
M.args = {}
M.verbose = api.state.verbose
M.quiet = api.state.quiet ~= 0

-- ------------------------------------------------------------- lifecycle

local end_handlers = {}

-- Run fn once when the run ends: Ctrl-C, SIGTERM, -d, shark.exit, an error,
-- the traced command exiting, or nothing left to wait for. Handlers run in
-- the order they were added.
function M.on_end(fn)
  if type(fn) ~= "function" then
    error("shark.on_end(fn): expected a function, got " .. type(fn), 2)
  end
  end_handlers[#end_handlers + 1] = fn
end

local ready_handlers, is_ready = {}, false

-- Run fn once the script's top level has run (its probes attached): at
-- once if that time has come. Durations and intervals start here, so a
-- rate over them is a rate over traced time, not over start-up.
function M.on_ready(fn)
  if type(fn) ~= "function" then
    error("shark.on_ready(fn): expected a function, got " .. type(fn), 2)
  end
  if is_ready then return fn() end
  ready_handlers[#ready_handlers + 1] = fn
end

-- boot: the top level is done
function M._ready()
  is_ready = true
  for _, fn in ipairs(ready_handlers) do fn() end
  ready_handlers = {}
end

-- Modules hook the end of a run: `before` runs ahead of the on_end handlers
-- (perf drains its rings so handlers see every event), `after` behind them
-- (reports such as lost events).
M._end_hooks = { before = {}, after = {}, error = {} }  -- error: before an error is printed

-- Take the pending handlers, in order; each runs once (boot runs them).
function M._take_end_handler()
  return table.remove(end_handlers, 1)
end

-- End the run now with exit code `code` (default 0); on_end handlers still run.
function M.exit(code)
  if code == nil or code == true then
    code = 0
  elseif code == false then
    code = 1
  end
  if type(code) ~= "number" or code ~= math.floor(code) or code < 0 or code > 255 then
    error("shark.exit(code): expected an integer from 0 to 255, got " .. tostring(code), 2)
  end
  api.state.exit_code = code
  api.stop(C.SHARK_STOP_EXIT)
  core.raise_stop()
end

-- Monotonic time in nanoseconds (the clock perf event timestamps use).
function M.time()
  return tonumber(api.time_ns())
end

-- shark.time() when the process started.
M.start_time = api.state.start_time

-- The process being traced (-p PID or -c 'CMD'), or nil.
function M.target()
  local st = api.state
  if st.target_pid == 0 then return nil end
  local t = { pid = st.target_pid, running = st.target_running ~= 0, cmd = M._command,
    held = st.target_held ~= 0 }
  local w = st.target_status
  if w >= 0 then
    -- decoded, as a shell says it: the exit code, or 128 + the signal
    if w % 128 == 0 then
      t.status = math.floor(w / 256) % 256
    else
      t.signal = w % 128
      t.status = 128 + t.signal
    end
  end
  return t
end

local function write_stderr(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  io.stdout:flush()
  io.stderr:write(table.concat(parts, "\t"), "\n")
end

-- Print to stderr when shark runs with -v (like print otherwise).
function M.log(...)
  if M.verbose > 0 then write_stderr(...) end
end

-- Print an informational line to stderr unless shark runs with -q.
function M.info(...)
  if not M.quiet then write_stderr(...) end
end

-- ------------------------------------------------------------ printing

local function sorted_entries(t, who, desc)
  local mt = getmetatable(t)
  if type(t) ~= "table" and not (type(mt) == "table" and mt.__pairs) then
    error(who .. ": expected a table, got " .. type(t), 3)
  end
  local list = {}
  for k, v in pairs(t) do
    if type(v) ~= "number" then
      error(("%s: the value of key %s is a %s, not a number"):format(who, tostring(k), type(v)), 3)
    end
    list[#list + 1] = { key = tostring(k), value = v }
  end
  -- NaN compares false with everything, which breaks sorting: it goes
  -- at the small end (first, or last when desc), by key among themselves
  table.sort(list, function(a, b)
    local an, bn = a.value ~= a.value, b.value ~= b.value
    if an ~= bn then
      if desc then return bn end
      return an
    end
    if not an and a.value ~= b.value then
      if desc then return a.value > b.value end
      return a.value < b.value
    end
    return a.key < b.key
  end)
  return list
end

local function fmt_value(v)
  if v == math.floor(v) and math.abs(v) < 2^53 then return ("%d"):format(v) end
  return ("%.6g"):format(v)
end

-- Print a table of key -> number as sorted lines with bars (largest last, so it
-- sits next to the prompt). opts: top = N (only the N largest), desc = true,
-- width = bar width (40), title = a heading line, json = true (one JSON
-- object of the same entries instead), out = where (shark.out: a path, a
-- function, a sink; default stdout).
function M.print_hist(t, opts)
  opts = opts or {}
  local list = sorted_entries(t, "shark.print_hist", opts.desc)
  if opts.top and #list > opts.top then
    if opts.desc then
      for i = #list, opts.top + 1, -1 do list[i] = nil end
    else
      local keep = {}
      for i = #list - opts.top + 1, #list do keep[#keep + 1] = list[i] end
      list = keep
    end
  end
  local sink = require("shark.out").of(opts.out)
  if opts.json then
    local obj = {}
    for _, e in ipairs(list) do obj[e.key] = e.value end
    sink:line(require("shark.json").encode(obj))
    return sink:finish()
  end
  local width = opts.width or 40
  local keyw, valw, max = 4, 5, 0
  for _, e in ipairs(list) do
    e.key = e.key:gsub("\n", ";")
    if #e.key > keyw then keyw = math.min(#e.key, 64) end
    e.text = fmt_value(e.value)
    if #e.text > valw then valw = #e.text end
    -- bars scale to the largest finite value; +inf gets a full bar, NaN none
    if e.value > max and e.value < math.huge then max = e.value end
  end
  local out = {}
  if opts.title then out[#out + 1] = opts.title end
  out[#out + 1] = ("%-" .. keyw .. "s %" .. valw .. "s  %s"):format("key", "value", "distribution")
  for _, e in ipairs(list) do
    local n = e.value == math.huge and width or max > 0 and math.floor(e.value / max * width + 0.5) or 0
    if n ~= n or n < 0 then n = 0 end
    local key = #e.key > keyw and e.key:sub(1, keyw - 3) .. "..." or e.key
    out[#out + 1] = ("%-" .. keyw .. "s %" .. valw .. "s |%s%s|")
      :format(key, e.text, ("@"):rep(n), (" "):rep(width - n))
  end
  sink:line(table.concat(out, "\n"))
  sink:finish()
end

-- Print key, then value, then a blank line, for every entry, smallest value
-- first: the DTrace aggregation layout that flame graph tools read when the
-- keys are callchains.
-- opts.out: where (shark.out; default stdout).
function M.print_hist_raw(t, opts)
  local list = sorted_entries(t, "shark.print_hist_raw", false)
  local out = {}
  for _, e in ipairs(list) do
    out[#out + 1] = e.key
    out[#out + 1] = fmt_value(e.value)
    out[#out + 1] = ""
  end
  if #out > 0 then require("shark.out").of(opts and opts.out):line(table.concat(out, "\n")):finish() end
end

-- ------------------------------------------------------------ privileges

-- Can this process trace? (root, or CAP_PERFMON/CAP_BPF, or CAP_SYS_ADMIN).
-- Returns ok, and when not: why, in words a user can act on.
function M.privileged(what)
  local status = require("shark.fs").read_file("/proc/self/status") or ""
  local hex = status:match("CapEff:%s*(%x+)") or "0"
  local hi, lo = tonumber(hex:sub(1, -9), 16) or 0, tonumber(hex:sub(-8), 16) or 0
  local function cap(n)
    local w = n >= 32 and hi or lo
    return math.floor(w / 2 ^ (n % 32)) % 2 == 1
  end
  local sys_admin, perfmon, bpf_cap = cap(21), cap(38), cap(39)
  local ok = sys_admin or (perfmon and (what ~= "bpf" or bpf_cap))
  if ok then return true end
  local uid = status:match("Uid:%s*%d+%s+(%d+)") or "?"
  return false, ("%s needs root (or the capabilities %s): shark runs as uid %s without them")
    :format(what == "bpf" and "loading BPF programs" or "tracing",
      what == "bpf" and "CAP_BPF and CAP_PERFMON" or "CAP_PERFMON", uid)
end

-- ------------------------------------------------------------- tools

-- Options of a tool written as a script (see shark/getopt.lua):
-- local o = shark.getopt{ about = "...", "pid", "duration", {"x", "failed", nil, "show failures"} }
function M.getopt(spec, argv)
  return require("shark.getopt").parse(spec, argv)
end

-- Call fn(i) every `seconds`; after `count` calls end the run; with
-- opts.final, fn() once more at any other end of the run.
function M.every(seconds, count, fn, opts)
  return require("shark.getopt").every(seconds, count, fn, opts)
end

-- ------------------------------------------------------------- binaries

-- The functions of an ELF file whose names match glob (fnmatch(3); nil:
-- all): a list of { name = , offset = } in address order, one per address,
-- offset in the file (what attach_uprobe{offset = } wants); or nil, message.
function M.functions(path, glob)
  local size = 65536
  while true do
    local buf = ffi.new("char[?]", size)
    local n = api.sym_functions(path, glob, buf, size)
    if n < 0 then return nil, ("%s: %s"):format(path, ffi.string(api.strerror(-n))) end
    if n < size then
      local out = {}
      for off, name in ffi.string(buf, n):gmatch("(%x+) ([^\n]+)\n") do
        out[#out + 1] = { name = name, offset = tonumber(off, 16) }
      end
      return out
    end
    size = n + 1
  end
end

local function lib_named(base, name)
  local q = name:gsub("%p", "%%%0")
  return base == name or base:find("^" .. q .. "%.so") ~= nil or base:find("^lib" .. q .. "[%.%-]") ~= nil
end

-- A binary as the classic tools name it: a path; a library by name ("c",
-- "libc", "libc.so.6") that process pid maps or the dynamic linker knows
-- (ldconfig -p); a program in PATH. The path, or nil, message.
function M.find_binary(name, pid)
  if name:find("/") then return name end
  if pid then
    local f = io.open(("/proc/%d/maps"):format(pid))
    for line in f and f:lines() or function() end do
      local path = line:match("%s(/%S+)$")
      if path and lib_named(path:match("[^/]+$"), name) then f:close() return path end
    end
    if f then f:close() end
  end
  local p = io.popen("/sbin/ldconfig -p 2>/dev/null")
  for line in p and p:lines() or function() end do
    local base, path = line:match("^%s*(%S+) %(.-%) => (%S+)$")
    if base and lib_named(base, name) and (not line:find("x32") and not line:find("i386")) then
      p:close()
      return path
    end
  end
  if p then p:close() end
  for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
    local f = io.open(dir .. "/" .. name)
    if f then f:close() return dir .. "/" .. name end
  end
  return nil, ("no library or program named '%s'"):format(name)
end

-- shark.metric: counters, gauges and histograms an agent (or any exporter)
-- collects; loaded on first use.
return setmetatable(M, { __index = function(t, k)
  if k == "metric" then
    local m = require "shark.metric"
    rawset(t, k, m)
    return m
  end
end })
