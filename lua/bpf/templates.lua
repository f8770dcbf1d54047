-- SPDX-License-Identifier: GPL-2.0
-- bpf/templates.lua - compiler-free aggregation in the kernel: prebuilt BPF
-- programs (bpf/*.bpf.c, embedded at build time) configured from Lua.
--   bpf.count{ on = "raw_syscalls:sys_enter", by = "syscall" }
--   bpf.stacks{ freq = 99, pid = 123 }          -- stack sampling on cpu-clock
-- Each returns a map-like object: pairs(c) gives (key, count) with keys as
-- Lua values (numbers, command names, syscall names, stacks as frames).
local ffi = require "ffi"
local shark = require "shark"
local pcore = require "perf.core"
local events = require "perf.events"

local M = {}

local C = ffi.C

local function bpf()
  return require "bpf"
end

-- "sys:event" -> its format, or nil, message
local function tracepoint_format(on)
  local sys, ev = on:match("^([^:]+):([^:]+)$")
  if not sys then return nil end
  local fmt, err = pcore.tp_format(sys, ev)
  if not fmt then return nil, err end
  return fmt
end

local syscall_names
local function syscall_name(nr)
  if not syscall_names then
    syscall_names = {}
    for name, n in pairs(pcore.syscalls()) do syscall_names[n] = name end
    for name, n in pairs(events.X64_EXTRA) do syscall_names[n] = syscall_names[n] or name end
  end
  return syscall_names[nr] or ("syscall_" .. nr)
end

-- How `by` becomes cfg_key (and a field), and how keys read back in Lua.
local function key_plan(by, fmt, probe)
  by = by or "none"
  local simple = { none = C.SHARK_KEY_NONE, pid = C.SHARK_KEY_PID, tid = C.SHARK_KEY_TID,
    comm = C.SHARK_KEY_COMM, cpu = C.SHARK_KEY_CPU, kstack = C.SHARK_KEY_KSTACK,
    ustack = C.SHARK_KEY_USTACK, stack = C.SHARK_KEY_STACKS }
  if simple[by] then return { key = simple[by], by = by } end
  if probe then
    local arg = by:match("^arg(%d)$")
    if arg then return { key = C.SHARK_KEY_FIELD, arg = tonumber(arg), by = by } end
    if by == "ret" then return { key = C.SHARK_KEY_FIELD, arg = 9, by = by } end
    return nil, ("by = '%s': a probe counts by pid, tid, comm, cpu, kstack, ustack, stack, arg0..arg4 or ret")
      :format(by)
  end
  if not fmt then return nil, ("by = '%s' needs a tracepoint"):format(by) end
  local want = by
  if by == "syscall" then
    for _, f in ipairs(fmt.fields) do
      if f.name == "id" or f.name == "__syscall_nr" then want = f.name end
    end
  end
  for _, f in ipairs(fmt.fields) do
    if f.name == want and not f.array and not f.dynamic and ({ [1] = 1, [2] = 1, [4] = 1, [8] = 1 })[f.size] then
      return { key = C.SHARK_KEY_FIELD, off = f.offset, size = f.size, signed = f.signed, by = by,
        syscall = by == "syscall" }
    end
  end
  local names = {}
  for _, f in ipairs(fmt.fields) do
    if not f.common then names[#names + 1] = f.name end
  end
  return nil, ("by = '%s': no integer field of that name in %s:%s (fields: %s; or pid, tid, comm, cpu, " ..
    "kstack, ustack, stack, syscall)"):format(by, fmt.system, fmt.name, table.concat(names, ", "))
end

-- ------------------------------------------------------------------ results

local Result = {}

local function frames(res, k)
  local out = {}
  local stacks = res.obj.maps.stacks
  if k.kstack >= 0 then
    for _, f in ipairs(stacks:stack(k.kstack, -1) or {}) do out[#out + 1] = f end
  end
  if k.ustack >= 0 then
    for _, f in ipairs(stacks:stack(k.ustack, k.pid) or {}) do out[#out + 1] = f end
  end
  if #out == 0 then out[1] = "[no stack]" end
  return table.concat(out, "\n")
end

local function decode(res, k)
  local by = res.plan.by
  if by == "comm" then return ffi.string(k.comm) end
  if by == "kstack" or by == "ustack" or by == "stack" then return frames(res, k) end
  if by == "none" then return "count" end
  local n = res.plan.signed and tonumber(ffi.cast("int64_t", k.num)) or tonumber(k.num)
  if res.plan.syscall then return syscall_name(n) end
  return n
end

-- A snapshot: { lua key = count }; keys that decode alike add up.
function Result.table(res)
  local out = {}
  for k, v in pairs(res.obj.maps.counts) do
    local key = decode(res, k)
    out[key] = (out[key] or 0) + v
  end
  return out
end

function Result.clear(res)
  res.obj.maps.counts:clear()
end

-- Events not counted because the map was full (raise max).
function Result.dropped(res)
  return res.obj.bss.dropped
end

function Result.detach(res)
  res.obj:detach()
end

local function result(obj, plan, what)
  local r = newproxy(true)
  local res = { obj = obj, plan = plan, what = what }
  local mt = getmetatable(r)
  mt.__index = function(_, k)
    if Result[k] then return function(_, ...) return Result[k](res, ...) end end
    return Result.table(res)[k]
  end
  mt.__pairs = function()
    return next, Result.table(res), nil
  end
  mt.__len = function()
    local n = 0
    for _ in pairs(Result.table(res)) do n = n + 1 end
    return n
  end
  mt.__tostring = function() return what end
  return r
end

-- ---------------------------------------------------------------- count

local function default_pid(pid)
  if pid == -1 then return 0 end
  if pid then return pid end
  local t = shark.target()
  return t and t.pid or 0
end

local function check_opts(o, known, who)
  if type(o) ~= "table" then error(who .. "{...}: expected a table of options", 3) end
  for k in pairs(o) do
    if not known[k] then
      local names = {}
      for n in pairs(known) do names[#names + 1] = n end
      table.sort(names)
      error(("%s: unknown option '%s' (options: %s)"):format(who, tostring(k), table.concat(names, ", ")), 3)
    end
  end
end

-- bpf.count{ on = EVENT, by = KEY, pid = PID, max = N }
-- on: "sys:event" (tracepoint), "uprobe:/path:func", "uretprobe:/path:func",
-- "usdt:/path:provider:name"; by: pid, tid, comm, cpu, syscall, a field of
-- the tracepoint (or arg0..arg4/ret of a probe), kstack, ustack, stack.
function M.count(o)
  check_opts(o, { on = true, by = true, pid = true, max = true }, "bpf.count")
  if type(o.on) ~= "string" then error("bpf.count{on = EVENT, ...}: on is required", 2) end
  local kind, rest = o.on:match("^(%a+):(.+)$")
  local probe = kind == "uprobe" or kind == "uretprobe" or kind == "usdt"
  local fmt, err
  if not probe then
    fmt, err = tracepoint_format(o.on)
    if not fmt then
      error(("bpf.count: %s (shark -l lists the tracepoints)"):format(err or ("unknown event '" .. o.on .. "'")), 2)
    end
  end
  local plan
  plan, err = key_plan(o.by, fmt, probe)
  if not plan then error("bpf.count: " .. err, 2) end
  local obj = bpf().load_prebuilt("count", {
    attach = false,
    rodata = { cfg_key = plan.key, cfg_field_off = plan.off or 0, cfg_field_size = plan.size or 8,
      cfg_field_signed = plan.signed and 1 or 0, cfg_arg = plan.arg or 0, cfg_pid = default_pid(o.pid) },
    max_entries = { counts = o.max or 10240 },
  }, 2)
  if probe then
    local p = obj.progs.count_probe
    if kind == "usdt" then
      p = obj.progs.count_usdt
      local bin, prov, name = rest:match("^(.+):([^:]+):([^:]+)$")
      if not bin then error("bpf.count: usdt:/path:provider:name expected", 2) end
      p:attach_usdt{ binary = bin, provider = prov, name = name, pid = o.pid }
    else
      local bin, fn = rest:match("^(.+):([^:]+)$")
      if not bin then error(("bpf.count: %s:/path:function expected"):format(kind), 2) end
      p:attach_uprobe{ binary = bin, func = fn, ret = kind == "uretprobe", pid = o.pid }
    end
  else
    obj.progs.count_tp:attach_tracepoint(o.on)
  end
  return result(obj, plan, ("bpf.count{on = %q, by = %q}"):format(o.on, plan.by))
end

-- bpf.stacks{ freq = 99, pid = PID, kernel = true, user = true, event = "cpu-clock" }
-- Stack sampling counted in the kernel: keys are stacks (frames leaf first,
-- kernel then user), values sample counts. Folded output: flame.folded(r).
function M.stacks(o)
  o = o or {}
  check_opts(o, { freq = true, period = true, pid = true, kernel = true, user = true, event = true, max = true },
    "bpf.stacks")
  local k, u = o.kernel ~= false, o.user ~= false
  local by = (k and u) and "stack" or k and "kstack" or "ustack"
  local plan = { key = ({ stack = C.SHARK_KEY_STACKS, kstack = C.SHARK_KEY_KSTACK,
    ustack = C.SHARK_KEY_USTACK })[by], by = by }
  local obj = bpf().load_prebuilt("count", {
    attach = false,
    rodata = { cfg_key = plan.key, cfg_pid = default_pid(o.pid) },
    max_entries = { counts = o.max or 10240 },
  }, 2)
  obj.progs.count_perf:attach_perf_event{ event = o.event or "cpu-clock", freq = o.freq or (not o.period and 99),
    period = o.period, pid = -1 }
  return result(obj, plan, "bpf.stacks{}")
end

return M
