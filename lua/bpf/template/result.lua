-- SPDX-License-Identifier: GPL-2.0
-- bpf/template/result.lua - the result of bpf.count, bpf.stacks and
-- bpf.offcpu: a map-like object over the program's counts map (pairs(r)
-- gives Lua keys: numbers, command names, syscall names, stacks), with
-- entries(), profile(), print() and the other methods below.
local ffi = require "ffi"
local shark = require "shark"
local common = require "bpf.template.common"

local M = {}

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
  if res.plan.syscall then return common.syscall_name(n) end
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
    -- (without the leaf __traceiter_ frames of a shared tracepoint: map:stack, map:frames)
    local row = { count = v, pid = k.pid, comm = ffi.string(k.comm),
      kernel = k.kstack >= 0 and get(stacks, k.kstack, -1) or {},
      user = k.ustack >= 0 and get(stacks, k.ustack, k.pid) or {} }
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
    for i = #u, 1, -1 do ids[#ids + 1] = stacks.frame(s, u[i]) end
    if opts.delimit and #u > 0 and #kf > 0 then ids[#ids + 1] = stacks.frame(s, "-") end
    for i = #kf, 1, -1 do ids[#ids + 1] = stacks.frame(s, kf[i]) end
    if #ids > 0 then stacks.add(s, ids, tonumber(v)) end
  end
  return s
end

function Result.comms(res)
  return common.comms(res.obj.maps.counts)
end

function Result.clear(res)
  res.obj.maps.counts:clear()
  if res.plan.dense then res.obj.maps.dense:clear() end
end

-- Events the kernel skipped the program for (see bpf's Obj:misses).
function Result.misses(res)
  return (res.obj:misses())
end

-- Events not counted because the map was full (raise max).
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

-- The map-like result of obj's counts: plan says how keys decode, what names
-- it (bpf.count{on = ...}), meta goes to the profile() shape.
function M.new(obj, plan, what, meta)
  local r = newproxy(true)
  local res = { obj = obj, plan = plan, what = what, meta = meta }
  local mt = getmetatable(r)
  mt.__index = function(_, k)
    common.used(r)
    if k == "what" then return what end
    if Result[k] then return function(_, ...) return Result[k](res, ...) end end
    return Result.table(res)[k]
  end
  mt.__pairs = function()
    common.used(r)
    return next, Result.table(res), nil
  end
  mt.__len = function()
    common.used(r)
    local n = 0
    for _ in pairs(Result.table(res)) do n = n + 1 end
    return n
  end
  mt.__tostring = function() return what end
  common.unread_until_used(r)
  return r
end

return M
