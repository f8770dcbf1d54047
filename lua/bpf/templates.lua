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
local probes = require "shark.probes"

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
  if not fmt then
    local ok, why = shark.privileged("bpf")
    if not ok then return nil, why, true end
    return nil, err
  end
  return fmt
end

local syscall_name = require("shark.arch").syscall_name

-- How `by` becomes cfg_key (and a field), and how keys read back in Lua.
local function key_plan(by, fmt, probe)
  by = by or "none"
  local simple = { none = C.SHARK_KEY_NONE, pid = C.SHARK_KEY_PID, tid = C.SHARK_KEY_TID,
    comm = C.SHARK_KEY_COMM, cpu = C.SHARK_KEY_CPU, kstack = C.SHARK_KEY_KSTACK,
    ustack = C.SHARK_KEY_USTACK, stack = C.SHARK_KEY_STACKS }
  if simple[by] then return { key = simple[by], by = by } end
  if probe then
    local arg = by:match("^arg(%d)$")
    if arg then return { key = C.SHARK_KEY_FIELD, arg = tonumber(arg), by = by, dense = true } end
    if by == "ret" then return { key = C.SHARK_KEY_FIELD, arg = 9, by = by, dense = true } end
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
        syscall = by == "syscall", dense = true }
    end
  end
  local names = {}
  for _, f in ipairs(fmt.fields) do
    if not f.common then names[#names + 1] = f.name end
  end
  return nil, ("by = '%s': no integer field of that name in %s:%s (fields: %s; or pid, tid, comm, cpu, " ..
    "kstack, ustack, stack, syscall)"):format(by, fmt.system, fmt.name, table.concat(names, ", "))
end

-- where = "ret < 0": a filter on an integer field of the tracepoint record,
-- done in the kernel. -> rodata knobs (cfg_where*), or nil, message.
local WHERE_OPS = { ["=="] = C.SHARK_WHERE_EQ, ["!="] = C.SHARK_WHERE_NE, ["<"] = C.SHARK_WHERE_LT,
  ["<="] = C.SHARK_WHERE_LE, [">"] = C.SHARK_WHERE_GT, [">="] = C.SHARK_WHERE_GE }
local function where_plan(where, fmt)
  if where == nil then return {} end
  local name, op, val = tostring(where):match("^%s*([%w_]+)%s*([=!<>]=?)%s*(-?%d+)%s*$")
  if not name or not WHERE_OPS[op] then
    return nil, ("where = '%s': expected 'field OP number' (OP: == != < <= > >=)"):format(tostring(where))
  end
  if not fmt then return nil, "where needs a tracepoint" end
  for _, f in ipairs(fmt.fields) do
    if f.name == name and not f.array and not f.dynamic and ({ [1] = 1, [2] = 1, [4] = 1, [8] = 1 })[f.size] then
      return { cfg_where = WHERE_OPS[op], cfg_where_off = f.offset, cfg_where_size = f.size,
        cfg_where_signed = f.signed and 1 or 0, cfg_where_value = tonumber(val) }
    end
  end
  return nil, ("where = '%s': no integer field '%s' in %s:%s"):format(where, name, fmt.system, fmt.name)
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

local function decode_num(res, n)
  if res.plan.syscall then return syscall_name(n) end
  return n
end

local function decode(res, k)
  local by = res.plan.by
  if by == "comm" then return ffi.string(k.comm) end
  if by == "kstack" or by == "ustack" or by == "stack" then return frames(res, k) end
  if by == "none" then return "count" end
  local n = res.plan.signed and tonumber(ffi.cast("int64_t", k.num)) or tonumber(k.num)
  return decode_num(res, n)
end

-- A snapshot: { lua key = count }; keys that decode alike add up.
function Result.table(res)
  local out = {}
  for k, v in pairs(res.obj.maps.counts) do
    local key = decode(res, k)
    out[key] = (out[key] or 0) + v
  end
  local dense = res.plan.dense and res.obj.maps.dense
  if dense then
    for i, per in pairs(dense) do
      local n = per:sum()
      if n > 0 then
        local key = decode_num(res, i)
        out[key] = (out[key] or 0) + n
      end
    end
  end
  return out
end

-- The kernel frames of the counted stacks (items of the counts map, of the
-- pids in only) named in one pass over kallsyms, not loading all of it.
local function name_kernel(res, items, only)
  local ids, seen = {}, {}
  for _, kv in ipairs(items) do
    local k = kv[1]
    local id = k.kstack
    if id >= 0 and not seen[id] and (not only or only[k.pid]) then
      seen[id] = true
      ids[#ids + 1] = id
    end
  end
  return res.obj.maps.stacks:name_kernel(ids)
end

-- Stack-keyed results as rows: { count, kernel = {frames}, user = {frames},
-- pid, comm }, frames leaf first, largest count first. opts.process = false:
-- one row per stack whatever process ran it (no pid, comm). opts.frames:
-- frames as the stacks shape keeps them ({name, module, build_id, map, ...},
-- map:frames), not names: for exports that keep the binaries.
-- opts.name_kernel: kernel names from one pass over kallsyms, for a caller
-- that symbolizes a window and then sweeps the symbol caches (the profiler).
local function frame_names(list)
  local out = {}
  for i, f in ipairs(list) do out[i] = f.name or "" end
  return table.concat(out, ";")
end

function Result.entries(res, opts)
  local proc = not (opts and opts.process == false)
  local only = opts and opts.pids   -- { [pid] = true }: symbolize just these processes' stacks
  local by, stacks, rows = res.plan.by, res.obj.maps.stacks, {}
  if by ~= "kstack" and by ~= "ustack" and by ~= "stack" then error("entries(): the keys are not stacks", 3) end
  local get = (opts and opts.frames) and stacks.frames or stacks.stack
  local seen = {}   -- stacks differing only in addresses inside the same functions are one row
  -- one snapshot, so the kernel names cover every stack (the map fills on)
  local items = res.obj.maps.counts:items()
  if opts and opts.name_kernel then name_kernel(res, items, only) end
  for _, kv in ipairs(items) do
    local k, v = kv[1], kv[2]
    if only and not only[k.pid] then goto next end
    local row = { count = v, pid = k.pid, comm = ffi.string(k.comm),
      kernel = k.kstack >= 0 and get(stacks, k.kstack, -1) or {},
      user = k.ustack >= 0 and get(stacks, k.ustack, k.pid) or {} }
    -- a tracepoint's own iterator is on the stack only while several probes
    -- share the tracepoint (another tracer running): not where a task blocked
    local function traceiter(f) return f and (type(f) == "string" and f or f.name or ""):find("^__traceiter_") end
    while traceiter(row.kernel[1]) do table.remove(row.kernel, 1) end
    local id = (opts and opts.frames) and (frame_names(row.kernel) .. "|" .. frame_names(row.user))
      or (table.concat(row.kernel, ";") .. "|" .. table.concat(row.user, ";"))
    if proc then id = id .. "|" .. row.pid .. row.comm else row.pid, row.comm = nil, nil end
    if seen[id] then
      seen[id].count = seen[id].count + v
    else
      seen[id] = row
      rows[#rows + 1] = row
    end
    ::next::
  end
  table.sort(rows, function(a, b) return a.count > b.count end)
  return rows
end

-- Samples per process of stack-keyed results, nothing symbolized:
-- { {pid =, comm =, count =}, ... }, largest first.
function Result.processes(res)
  local by_pid, out = {}, {}
  for k, v in pairs(res.obj.maps.counts) do
    local p = by_pid[k.pid]
    if not p then
      p = { pid = k.pid, comm = ffi.string(k.comm), count = 0 }
      by_pid[k.pid] = p
      out[#out + 1] = p
    end
    p.count = p.count + v
  end
  table.sort(out, function(a, b) return a.count > b.count end)
  return out
end

-- Stack-keyed results as the stacks shape (shark/stacks.lua), frames with
-- their module, build-id and address: what pprof and the other exports
-- render. Root first: the command (unless opts.comm == false), user frames,
-- "-" with opts.delimit, kernel frames. opts also sets stacks.new's fields.
function Result.profile(res, opts)
  opts = opts or {}
  local by, map = res.plan.by, res.obj.maps.stacks
  if by ~= "kstack" and by ~= "ustack" and by ~= "stack" then error("profile(): the keys are not stacks", 3) end
  local stacks = require "shark.stacks"
  local meta = {}
  for k, v in pairs(res.meta or {}) do meta[k] = v end
  for k, v in pairs(opts) do meta[k] = v end
  local s = stacks.new(meta)
  for k, v in pairs(res.obj.maps.counts) do
    local ids = {}
    if opts.comm ~= false then ids[1] = stacks.frame(s, ffi.string(k.comm)) end
    local u = k.ustack >= 0 and map:frames(k.ustack, k.pid) or {}
    local kf = k.kstack >= 0 and map:frames(k.kstack, -1) or {}
    while kf[1] and kf[1].name:find("^__traceiter_") do table.remove(kf, 1) end   -- as in entries()
    for i = #u, 1, -1 do ids[#ids + 1] = stacks.frame(s, u[i]) end
    if opts.delimit and #u > 0 and #kf > 0 then ids[#ids + 1] = stacks.frame(s, "-") end
    for i = #kf, 1, -1 do ids[#ids + 1] = stacks.frame(s, kf[i]) end
    if #ids > 0 then stacks.add(s, ids, tonumber(v)) end
  end
  return s
end

-- { pid = command } of the processes counted (by = "pid" and stack keys): the
-- name each spent the most time as. A -c child runs as "shark" until its exec,
-- so counts alone tie (one wait as shark, one sleep as itself); in a histogram
-- a count weighs as much as its bucket's time (2^slot).
local function comms(map)
  local time = {}
  for k, v in pairs(map) do
    if k.comm[0] ~= 0 then
      local pid = tonumber(k.pid ~= 0 and k.pid or k.num)
      local t = time[pid] or {}
      local name = ffi.string(k.comm)
      t[name] = (t[name] or 0) + v * 2 ^ k.slot
      time[pid] = t
    end
  end
  local out = {}
  for pid, t in pairs(time) do
    local best = -1
    for name, x in pairs(t) do
      if x > best or (x == best and name < out[pid]) then out[pid], best = name, x end
    end
  end
  return out
end

function Result.comms(res)
  return comms(res.obj.maps.counts)
end

function Result.clear(res)
  res.obj.maps.counts:clear()
  if res.plan.dense then res.obj.maps.dense:clear() end
end

-- Events not counted because the map was full (raise max).
-- events the kernel skipped the program for (see bpf's Obj:misses)
function Result.misses(res)
  return (res.obj:misses())
end

function Result.dropped(res)
  return res.obj.bss.dropped
end

function Result.detach(res)
  res.obj:detach()
end

-- Print the counts: stacks as BCC's tools print them (flame.print_stacks),
-- other keys as shark.print_hist (opts: its top, desc, title...).
function Result.print(res, opts)
  local by = res.plan.by
  if by == "kstack" or by == "ustack" or by == "stack" then
    return require("flame").print_stacks(Result.entries(res), opts)
  end
  shark.print_hist(Result.table(res), opts)
end

-- Results the script never looks at print themselves when the run ends, as
-- bpftrace prints its maps: `bpf.count{ on = ..., by = "comm" }` alone is a
-- whole tool. Any use (a method, a key, pairs, #) means the script prints.
local unread = {}   -- strong: a result nobody keeps (`bpf.count{...}` alone) must live to print
table.insert(shark._end_hooks.after, 1, function()
  if require("shark.api").state.stop_reason == C.SHARK_STOP_ERROR then return end
  local list = {}
  for r, n in pairs(unread) do list[#list + 1] = { r = r, n = n } end
  table.sort(list, function(a, b) return a.n < b.n end)
  for _, e in ipairs(list) do
    if unread[e.r] then e.r:print{ title = e.r.what } end
  end
end)
local made = 0
local function unread_until_used(r)
  made = made + 1
  unread[r] = made
end

local function result(obj, plan, what, meta)
  local r = newproxy(true)
  local res = { obj = obj, plan = plan, what = what, meta = meta }
  local mt = getmetatable(r)
  mt.__index = function(_, k)
    unread[r] = nil
    if k == "what" then return what end
    if Result[k] then return function(_, ...) return Result[k](res, ...) end end
    return Result.table(res)[k]
  end
  mt.__pairs = function()
    unread[r] = nil
    return next, Result.table(res), nil
  end
  mt.__len = function()
    unread[r] = nil
    local n = 0
    for _ in pairs(Result.table(res)) do n = n + 1 end
    return n
  end
  mt.__tostring = function() return what end
  unread_until_used(r)
  return r
end

-- ---------------------------------------------------------------- count

local function default_pid(pid)
  if pid == -1 then return 0 end
  if type(pid) == "number" and pid > 0 then
    local f = io.open(("/proc/%d/stat"):format(pid))
    if not f then error(("bpf: process %d: no such process"):format(pid), 3) end
    f:close()
  end
  if pid then return pid end
  local t = shark.target()
  return t and t.pid or 0
end

-- User stacks get their names from the process's maps when printed; a
-- process gone by then (a short -c command) would show [unknown]. A dummy
-- perf event's mmap records keep the maps of the traced processes current.
local function track_maps(pid)
  require("perf").on("dummy", { callchain_u = true, pid = pid == 0 and -1 or pid }, function() end)
end

local function check_opts(o, known, who)
  if type(o) ~= "table" then error(who .. "{...}: expected a table of options", 3) end
  for k in pairs(o) do
    if not known[k] then
      error(who .. ": " .. require("shark.getopt").unknown(k, known), 3)
    end
  end
  require("shark.pid").assert(o.pid, who .. ": pid", true, 4)
end

-- user = "dwarf" for the templates that count stacks in the kernel: not
-- there. bpf_get_stackid() walks frame pointers; unwinding with .eh_frame
-- needs each sample's stack copied out (8 KiB) and unwound in shark, which
-- perf.on does (callchain_u = "dwarf"), not an in-kernel count.
local function no_dwarf(o, who, instead)
  if o.user == "dwarf" then
    error(("%s: user = \"dwarf\" is not available: it counts stacks in the kernel, whose stack walker " ..
      "follows frame pointers only; %s"):format(who, instead), 3)
  end
end

-- bpf.count{ on = EVENT, by = KEY, pid = PID, max = N, where = "field OP number" }
-- on: "sys:event" (tracepoint), "uprobe:/path:func", "uretprobe:/path:func",
-- "usdt:/path:provider:name"; by: pid, tid, comm, cpu, syscall, a field of
-- the tracepoint (or arg0..arg4/ret of a probe), kstack, ustack, stack.
function M.count(o)
  check_opts(o, { on = true, by = true, pid = true, max = true, where = true, private = true }, "bpf.count")
  if type(o.on) ~= "string" then error("bpf.count{on = EVENT, ...}: on is required", 2) end
  -- the kind of probe from the provider table (shark.probes); anything not
  -- a probe of a task is read as a tracepoint
  local target = probes.parse(o.on)
  if target and not target.handler.probe then target = nil end
  local probe = target ~= nil
  if not probe then
    local kind = o.on:match("^(%a+):")
    local p = kind and probes.providers[kind]
    if p and p.probe then error("bpf.count: " .. select(2, probes.parse(o.on)), 2) end
  end
  local fmt, err, denied
  if not probe then
    fmt, err, denied = tracepoint_format(o.on)
    if not fmt then
      error(("bpf.count: %s%s"):format(err or ("unknown event '" .. o.on .. "'"),
        denied and "" or " (shark -l lists the tracepoints)"), 2)
    end
  end
  local plan
  plan, err = key_plan(o.by, fmt, probe)
  if not plan then error("bpf.count: " .. err, 2) end
  local rodata
  rodata, err = where_plan(o.where, fmt)
  if not rodata then error("bpf.count: " .. err, 2) end
  rodata.cfg_key, rodata.cfg_field_off, rodata.cfg_field_size = plan.key, plan.off or 0, plan.size or 8
  rodata.cfg_field_signed, rodata.cfg_arg, rodata.cfg_pid = plan.signed and 1 or 0, plan.arg or 0, default_pid(o.pid)
  rodata.cfg_dense = plan.dense and 1024 or 0
  -- maps the key does not use shrink to one entry: a stack map is zeroed
  -- memory (4 MB), and allocating it was most of the time to start
  local stacked = o.by == "kstack" or o.by == "ustack" or o.by == "stack"
  local prog = probe and (target.handler.usdt and "count_usdt" or "count_probe")
    or (plan.off == 8 and plan.size == 8) and "count_tp8" or "count_tp"
  local obj = bpf().load_prebuilt("count", {
    attach = false, only = { prog },
    rodata = rodata,
    max_entries = { counts = o.max or 10240, stacks = not stacked and 1 or nil, dense = not plan.dense and 1 or nil },
  }, 2)
  if o.by == "ustack" or o.by == "stack" then track_maps(rodata.cfg_pid) end
  local p = obj.progs[prog]
  if probe then
    probes.attach(p, target, { pid = o.pid })
  else
    p:attach_tracepoint(o.on)
    require("shark.tpshare").template(o.on, obj, o.private)
  end
  return result(obj, plan, ("bpf.count{on = %q, by = %q}"):format(o.on, plan.by),
    { sample_type = "events", unit = "count" })
end

-- bpf.stacks{ freq = 99, pid = PID, kernel = true, user = true, event = "cpu-clock" }
-- Stack sampling counted in the kernel: keys are stacks (frames leaf first,
-- kernel then user), values sample counts. Folded output: flame.folded(r).
function M.stacks(o)
  o = o or {}
  check_opts(o, { freq = true, period = true, pid = true, kernel = true, user = true, event = true, max = true },
    "bpf.stacks")
  no_dwarf(o, "bpf.stacks", "for code without frame pointers use perf.on(\"cpu-clock\", " ..
    "{ callchain_u = \"dwarf\" }, fn) or profile.lua --call-graph dwarf")
  local k, u = o.kernel ~= false, o.user ~= false
  local by = (k and u) and "stack" or k and "kstack" or "ustack"
  local plan = { key = ({ stack = C.SHARK_KEY_STACKS, kstack = C.SHARK_KEY_KSTACK,
    ustack = C.SHARK_KEY_USTACK })[by], by = by }
  local obj = bpf().load_prebuilt("count", {
    attach = false,
    rodata = { cfg_key = plan.key, cfg_pid = default_pid(o.pid) },
    max_entries = { counts = o.max or 10240 },
  }, 2)
  if u then track_maps(default_pid(o.pid)) end
  obj.progs.count_perf:attach_perf_event{ event = o.event or "cpu-clock", freq = o.freq or (not o.period and 99),
    period = o.period, pid = -1 }
  -- a sample of a clock event stands for 1/freq s (or period ns) of CPU
  local ev = o.event or "cpu-clock"
  local freq, clock = o.freq or (not o.period and 99), ev == "cpu-clock" or ev == "task-clock"
  return result(obj, plan, "bpf.stacks{}", { sample_type = "samples", unit = "count",
    period_type = clock and "cpu" or nil, period_unit = clock and "nanoseconds" or nil,
    period = clock and (freq and math.floor(1e9 / freq) or o.period) or nil })
end

-- bpf.offcpu{ pid = PID, min_us = 1, kernel = true, user = true }
-- Time off CPU (us) summed by the stacks threads blocked in, from
-- sched_switch: keys are stacks (frames leaf first, kernel then user).
-- user = "dwarf": user stacks copied out and unwound in shark (bpf/ustack.lua).
function M.offcpu(o)
  o = o or {}
  check_opts(o, { pid = true, min_us = true, kernel = true, user = true, max = true, private = true,
    python = true }, "bpf.offcpu")
  if o.user == "dwarf" then return require("bpf.ustack").offcpu(o, default_pid(o.pid)) end
  local k, u = o.kernel ~= false, o.user ~= false
  local by = (k and u) and "stack" or k and "kstack" or "ustack"
  local obj = bpf().load_prebuilt("offcpu", {
    rodata = { cfg_pid = default_pid(o.pid), cfg_min_us = o.min_us or 1, cfg_kernel = k and 1 or 0,
      cfg_user = u and 1 or 0 },
    max_entries = { counts = o.max or 10240 },
  }, 2)
  if u then track_maps(default_pid(o.pid)) end
  require("shark.tpshare").template("sched:sched_switch", obj, o.private)
  return result(obj, { by = by }, "bpf.offcpu{}", { sample_type = "offcpu", unit = "microseconds" })
end

-- --------------------------------------------------------------- latency

local UNITS = { ns = 1, us = 1000, ms = 1000000, s = 1000000000 }

-- "a,b" -> list of { kind, target, fmt } and the offset of field `key` in
-- every tracepoint (the same in each, or an error).
local function endpoints(spec, key, who)
  local list, off, first = {}, nil, nil
  for item in spec:gmatch("[^,]+") do
    item = item:gsub("^%s+", ""):gsub("%s+$", "")
    local kind, rest = item:match("^(u%a*probe):(.+)$")
    if kind then
      local bin, fn = rest:match("^(.+):([^:]+)$")
      if not bin then error(("%s: %s:/path:function expected"):format(who, kind), 3) end
      list[#list + 1] = { probe = true, ret = kind == "uretprobe", binary = bin, func = fn }
      if key then error(who .. ": a key field needs tracepoints; probes match by thread", 3) end
    else
      local fmt, err, denied = tracepoint_format(item)
      if not fmt then
        error(("%s: %s%s"):format(who, err or item, denied and "" or " (shark -l lists the tracepoints)"), 3)
      end
      local foff
      if key then
        for _, f in ipairs(fmt.fields) do
          if f.name == key and f.size == 4 then foff = f.offset end
        end
        if not foff then error(("%s: no 32-bit field '%s' in %s"):format(who, key, item), 3) end
        if off and off ~= foff then error(("%s: '%s' is not at the same place in every event"):format(who, key), 3) end
        off = foff
      end
      list[#list + 1] = { name = item }
      first = first or fmt
    end
  end
  return list, off, first
end

local function merge(a, b)
  for k, v in pairs(b) do a[k] = v end
  return a
end

local function attach_all(obj, list, tp_prog, probe_prog, pid, task_prog, private)
  for _, e in ipairs(list) do
    if task_prog then
      obj.progs[task_prog]:attach_raw_tracepoint(e.name:match("[^:]+$"))
    elseif e.probe then
      obj.progs[probe_prog]:attach_uprobe{ binary = e.binary, func = e.func, ret = e.ret, pid = pid }
    else
      obj.progs[tp_prog]:attach_tracepoint(e.name)
      require("shark.tpshare").template(e.name, obj, private)
    end
  end
end

local Lat = {}
Lat.__index = function(self, k)
  unread[self] = nil
  return Lat[k]
end

-- { [key] = { [slot] = count } } (key "all" without `by`; heat maps: interval)
function Lat:histograms()
  local out = {}
  for k, v in pairs(self.obj.maps.hist) do
    local key
    if self.interval then
      key = k.pid
    elseif self.by == "none" then
      key = "all"
    elseif self.by == "comm" then
      key = ffi.string(k.comm)
    else
      key = self.plan.syscall and syscall_name(tonumber(k.num)) or tonumber(k.num)
    end
    local h = out[key] or {}
    h[k.slot] = (h[k.slot] or 0) + v
    out[key] = h
  end
  return out
end

-- { [slot] = count } over every key
function Lat:histogram()
  local all = {}
  for _, h in pairs(self:histograms()) do
    for s, n in pairs(h) do all[s] = (all[s] or 0) + n end
  end
  return all
end

-- Heat map rows: { {interval = i, start_ms = t, buckets = {[slot] = count}}, ... } in time order.
function Lat:rows()
  local rows = {}
  for i, h in pairs(self:histograms()) do
    rows[#rows + 1] = { interval = i, start_ms = i * self.interval / 1e6, buckets = h }
  end
  table.sort(rows, function(a, b) return a.interval < b.interval end)
  return rows
end

-- { [key] = total ns } (with sums = true): the exact time, not the buckets'
function Lat:totals()
  if not self.sums then error("totals(): bpf.latency{..., sums = true} keeps them", 2) end
  local out = {}
  for k, v in pairs(self.obj.maps.sums) do
    local key = self.by == "none" and "all" or self.by == "comm" and ffi.string(k.comm) or
      self.plan.syscall and syscall_name(tonumber(k.num)) or tonumber(k.num)
    out[key] = (out[key] or 0) + v
  end
  return out
end

function Lat:comms()
  return comms(self.obj.maps.hist)
end

function Lat:clear()
  self.obj.maps.hist:clear()
  if self.sums then self.obj.maps.sums:clear() end
end

function Lat:count()
  local n = 0
  for _, c in pairs(self:histogram()) do n = n + c end
  return n
end

function Lat:unmatched()
  return self.obj.bss.unmatched
end

function Lat:dropped()
  return self.obj.bss.dropped
end

-- As bpftrace prints @usecs = hist(...): one histogram, or one per key
-- (@usecs[pid, comm] by pid). opts.name: the map's name (default the unit);
-- opts.out: where lines go (default print); opts.json: a JSON line per
-- histogram (hist.render's, with its key).
function Lat:print(opts)
  local name = opts and opts.name or self.unit
  local out = opts and opts.out or print
  local hist = require "hist"
  local function one(h, key)
    local shape = self:shape(h)
    if opts and opts.json then   -- a JSON line per histogram, its key beside
      local json = require "shark.json"
      local obj = json.decode(hist.render(shape, "json"))
      obj.key = key
      return out(json.encode(obj))
    end
    hist.print(shape, { out = out })
  end
  if self.by == "none" and not self.interval then
    if not (opts and opts.json) then out(("@%s:"):format(name)) end
    one(self:histogram())
    return
  end
  local hs, names = self:histograms(), self.by == "pid" and self:comms() or {}
  local keys = {}
  for k in pairs(hs) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) if type(a) == type(b) then return a < b end return type(a) < type(b) end)
  for _, k in ipairs(keys) do
    if opts and opts.json then
      one(hs[k], k)
    else
      out(("@%s[%s%s]:"):format(name, tostring(k), names[k] and (", " .. names[k]) or ""))
      one(hs[k])
      out("")
    end
  end
end

-- The histogram shape (hist.lua) of buckets h (default: every key summed).
function Lat:shape(h)
  local hist = require "hist"
  h = h or self:histogram()
  if self.linear then
    return hist.new("linear", h, { unit = self.unit, min = self.linear.min or 0, step = self.linear.step or 1 })
  end
  return hist.new("log2", h, { unit = self.unit })
end

-- The BCC tools' report, each interval or at the end: the time with
-- opts.timestamp, print(opts) with a blank line after every histogram, then
-- clear for the next interval.
function Lat:report(opts)
  local out = opts and opts.out or print
  local json = opts and opts.json
  if opts and opts.timestamp and not json then out(os.date("%H:%M:%S")) end
  self:print(opts)
  if self.by == "none" and not self.interval and not json then out("") end
  self:clear()
end

-- bpf.latency{ from = EVENTS, to = EVENTS, from_key = FIELD, to_key = FIELD,
--   unit = "us", linear = {min, max, step}, by = "comm", interval_ms = N, pid = PID,
--   where = "ret < 0", sums = true, from_task = N, to_task = N, requeue = true }
-- Time from `from` to `to`, matched by thread (or by from_key/to_key: a pid
-- field, e.g. sched_wakeup's pid and sched_switch's next_pid), in the kernel.
-- by: pid, tid, comm, cpu or an integer field of `to` ("syscall": its name).
-- where: only ends whose record passes. sums: keep the total time per key.
-- from_task/to_task = N: attach as raw tracepoints and match by the task in
-- argument N (sched_wakeup's p is 0, sched_switch's prev 1 and next 2): pid
-- and by then mean that task's, not the current one's. requeue: a task that
-- sched_switch takes off a CPU while still runnable starts waiting too (run
-- queue latency after a preemption, as BCC's runqlat counts it).
function M.latency(o)
  check_opts(o, { from = true, to = true, from_key = true, to_key = true, unit = true, linear = true, by = true,
    interval_ms = true, pid = true, max = true, where = true, sums = true, from_task = true, to_task = true,
    private = true, requeue = true }, "bpf.latency")
  if type(o.from) ~= "string" or type(o.to) ~= "string" then
    error("bpf.latency{from = EVENT, to = EVENT, ...}: from and to are required", 2)
  end
  local unit = o.unit or "us"
  if not UNITS[unit] then error("bpf.latency: unit is ns, us, ms or s, not " .. tostring(unit), 2) end
  local by = o.by or "none"
  local from, from_off = endpoints(o.from, o.from_key, "bpf.latency")
  local to, to_off, to_fmt = endpoints(o.to, o.to_key, "bpf.latency")
  local plan, err = key_plan(by, not o.to_task and to_fmt)
  if not plan or plan.key > C.SHARK_KEY_FIELD then
    error("bpf.latency: by is pid, tid, comm, cpu or a field of `to`: " .. (err or by), 2)
  end
  local rodata
  rodata, err = where_plan(o.where, to_fmt)
  if not rodata then error("bpf.latency: " .. err, 2) end
  local lin = o.linear
  local step = lin and (lin.step or lin[3] or 1)
  local min = lin and (lin.min or lin[1] or 0)
  local buckets = lin and math.ceil(((lin.max or lin[2] or (min + 100 * step)) - min) / step) or 100
  local interval = o.interval_ms and o.interval_ms * 1e6
  for _, n in ipairs{ o.from_task or 0, o.to_task or 0 } do
    if not ({ [0] = 1, 1, 1 })[n] then error("bpf.latency: from_task/to_task is an argument number, 0 to 2", 2) end
  end
  local function progs(side, list, task)
    if task then return side .. "_task" .. task end
    return side .. (list[1].probe and "_probe" or "_tp")
  end
  local start_prog, end_prog = progs("start", from, o.from_task), progs("end", to, o.to_task)
  local only = { start_prog, end_prog, o.requeue and "start_requeue" or nil }
  for _, l in ipairs{ from, to } do   -- a side may mix tracepoints and probes
    for _, e in ipairs(l) do only[#only + 1] = l == from and progs("start", { e }) or progs("end", { e }) end
  end
  -- only task keys need CO-RE (and the kernel's BTF parsed at load)
  local obj = bpf().load_prebuilt((o.from_task or o.to_task or o.requeue) and "latency_task" or "latency", {
    attach = false, only = only,
    rodata = merge(rodata, {
      cfg_start_field = from_off and 1 or 0, cfg_start_off = from_off or 0,
      cfg_end_field = to_off and 1 or 0, cfg_end_off = to_off or 0,
      cfg_unit = UNITS[unit], cfg_linear = lin and 1 or 0, cfg_lin_min = min or 0, cfg_lin_step = step or 1,
      cfg_lin_buckets = buckets, cfg_key = plan.key, cfg_interval = interval or 0,
      cfg_t0 = shark.time(), cfg_pid = default_pid(o.pid),
      cfg_key_off = plan.off or 0, cfg_key_size = plan.size or 8, cfg_key_signed = plan.signed and 1 or 0,
      cfg_sums = o.sums and 1 or 0,
    }),
    max_entries = { hist = o.max or 10240 },
  }, 2)
  attach_all(obj, from, "start_tp", "start_probe", o.pid, o.from_task and ("start_task" .. o.from_task), o.private)
  attach_all(obj, to, "end_tp", "end_probe", o.pid, o.to_task and ("end_task" .. o.to_task), o.private)
  if o.requeue then obj.progs.start_requeue:attach_raw_tracepoint("sched_switch") end
  local lat = setmetatable({ obj = obj, by = by, plan = plan, unit = unit, interval = interval, sums = o.sums,
    linear = lin and { min = min, step = step }, what = "bpf.latency{}" }, Lat)
  unread_until_used(lat)
  return lat
end

return M
