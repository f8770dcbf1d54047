-- SPDX-License-Identifier: GPL-2.0
-- bpf/template/result.lua - the result of bpf.count, bpf.stacks and
-- bpf.offcpu: a map-like object over the program's counts map (pairs(r)
-- gives Lua keys: numbers, command names, syscall names, stacks), with
-- entries(), profile(), print() and the other methods below.
local ffi = require "ffi"
local shark = require "shark"
local common = require "bpf.template.common"

local api = require "shark.api"
local btf = require "bpf.btf"

local M = {}

local Result = {}

local STACK_BY = { kstack = true, ustack = true, stack = true }

-- ------------------------------------------------ the two count maps
-- Programs count in counts or counts2 (bpf/template.bpf.h), and small
-- integer keys in dense or dense2 (bpf/count.bpf.c), switched together: a
-- read sees both, a take flips to the other and drains the one now idle.

local pairs_mt = require("bpf.map").pair_list_mt

-- { {k, v}, ... } of every count (pairs() walks it as k, v).
local function counted(res)
  local maps = res.obj.maps
  local out = maps.counts:items()
  if maps.counts2 then
    for _, e in ipairs(maps.counts2:items()) do out[#out + 1] = e end
  end
  return setmetatable(out, pairs_mt)
end

-- The counts so far, each deleted as read, from a map no program adds to,
-- and the dense ones (res.plan.dense) of the same window, zeroed as read.
local function take(res)
  local maps = res.obj.maps
  local dense = res.plan.dense
  if not maps.counts2 then return maps.counts:take(), dense and maps.dense:take() end
  local w = res.window
  if not w then
    local size = ffi.new("uint64_t[1]")
    local mem = ffi.cast("uint8_t *", api.bpf_section(res.obj.o, ".bss", size))
    local vars = btf.section_vars(res.obj.ns, ".bss")
    w = { window = ffi.cast("uint32_t *", mem + vars.shark_window.offset),
      busy = ffi.cast("uint64_t *", mem + vars.shark_busy.offset) }
    res.window = w
  end
  local idle = api.bpf_switch(w.window, w.busy)
  if idle < 0 then error(res.what .. ": a program held its count map for a second (preempted?)", 3) end
  local counts = (idle == 0 and maps.counts or maps.counts2):take()
  return counts, dense and (idle == 0 and maps.dense or maps.dense2):take()
end

-- ------------------------------------------------------------ stacks
-- Stack ids are 64-bit hashes of the frames (int64 cdata; shark.bpf.h
-- SHARK_STACKS), < 0 when there is none: -1 not asked for, -EFAULT no stack
-- to walk (a kernel thread's user stack), anything else a stack the map had
-- no room for, shown as BCC shows one: [Missed Kernel Stack].
local EFAULT = 14
local MISSED = { [true] = "[Missed Kernel Stack]", [false] = "[Missed User Stack]" }

local function missed(id)
  return id < -1 and id ~= -EFAULT
end
M.missed = missed

-- The frames of stack id (get: map.stack or map.frames), leaf first; {}
-- when there is none. A stack lost, or gone from the map, is one frame:
-- the missed marker (a frame table when as_frames).
local function stack_of(get, map, id, pid, kernel, as_frames)
  local list = id >= 0 and get(map, id, pid)
  if list then return list end
  if id >= 0 or missed(id) then
    return { as_frames and { name = MISSED[kernel], kernel = kernel or nil } or MISSED[kernel] }
  end
  return {}
end

local function frames(res, k)
  local out = {}
  local stacks = res.obj.maps.stacks
  for _, f in ipairs(stack_of(stacks.stack, stacks, k.kstack, -1, true)) do out[#out + 1] = f end
  for _, f in ipairs(stack_of(stacks.stack, stacks, k.ustack, k.pid, false)) do out[#out + 1] = f end
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

-- { lua key = count } of counts (the map, or what counts:take() took) and
-- the dense arrays given (maps or takes); keys that decode alike add up.
local function tabulate(res, counts, ...)
  local out = {}
  for k, v in pairs(counts) do
    local key = decode(res, k)
    out[key] = (out[key] or 0) + v
  end
  for d = 1, select("#", ...) do
    for i, per in pairs((select(d, ...))) do
      local n = per:sum()
      if n > 0 then
        local key = decode_num(res, i)
        out[key] = (out[key] or 0) + n
      end
    end
  end
  return out
end

-- A snapshot: { lua key = count }.
function Result.table(res)
  local maps = res.obj.maps
  if not res.plan.dense then return tabulate(res, counted(res)) end
  return tabulate(res, counted(res), maps.dense, maps.dense2)
end

-- The counts so far, as Result.table, and the counting starts over: the
-- programs switch to the other count maps (the dense arrays of small
-- integer keys with them), and the idle ones are drained, so an event
-- counted meanwhile lands in the next take, never between a read and a
-- clear. For a script that reads per interval (res:clear() after a read
-- loses what came in between).
function Result.take(res)
  local counts, dense = take(res)
  if not dense then return tabulate(res, counts) end
  return tabulate(res, counts, dense)
end

-- The kernel frames of the counted stacks (items of the counts map, of the
-- pids in only) named in one pass over kallsyms, not loading all of it.
local function name_kernel(res, items, only)
  local ids, seen = {}, {}
  for _, kv in ipairs(items) do
    local k = kv[1]
    local id = k.kstack
    if id >= 0 and not seen[tostring(id)] and (not only or only[k.pid]) then
      seen[tostring(id)] = true
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
-- opts.take: the counts are taken (see Result.take): a window ends exactly.
-- Returns rows, and the count of what opts.pids left out.
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
  local as_frames = opts and opts.frames
  local get = as_frames and stacks.frames or stacks.stack
  local seen = {}   -- stacks differing only in addresses inside the same functions are one row
  -- one snapshot, so the kernel names cover every stack (the map fills on)
  local items = (opts and opts.take) and take(res) or counted(res)
  if opts and opts.name_kernel then name_kernel(res, items, only) end
  local left = 0
  for _, kv in ipairs(items) do
    local k, v = kv[1], kv[2]
    if only and not only[k.pid] then
      left = left + v
      goto next
    end
    -- (without the leaf __traceiter_ frames of a shared tracepoint: map:stack, map:frames)
    local row = { count = v, pid = k.pid, comm = ffi.string(k.comm),
      kernel = stack_of(get, stacks, k.kstack, -1, true, as_frames),
      user = stack_of(get, stacks, k.ustack, k.pid, false, as_frames) }
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
  return rows, left
end

-- Samples per process of stack-keyed results, nothing symbolized:
-- { {pid =, comm =, count =}, ... }, largest first.
function Result.processes(res)
  local by_pid, out = {}, {}
  for k, v in pairs(counted(res)) do
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
-- "-" with opts.delimit, kernel frames. opts.take: the counts are taken
-- (see Result.take). opts also sets stacks.new's fields.
function Result.profile(res, opts)
  opts = opts or {}
  local by, map = res.plan.by, res.obj.maps.stacks
  if by ~= "kstack" and by ~= "ustack" and by ~= "stack" then error("profile(): the keys are not stacks", 3) end
  local stacks = require "shark.stacks"
  local meta = {}
  for k, v in pairs(res.meta or {}) do meta[k] = v end
  for k, v in pairs(opts) do meta[k] = v end
  meta.take = nil
  local s = stacks.new(meta)
  for k, v in pairs(opts.take and take(res) or counted(res)) do
    local ids = {}
    if opts.comm ~= false then ids[1] = stacks.frame(s, ffi.string(k.comm)) end
    local u = stack_of(map.frames, map, k.ustack, k.pid, false, true)
    local kf = stack_of(map.frames, map, k.kstack, -1, true, true)
    for i = #u, 1, -1 do ids[#ids + 1] = stacks.frame(s, u[i]) end
    if opts.delimit and #u > 0 and #kf > 0 then ids[#ids + 1] = stacks.frame(s, "-") end
    for i = #kf, 1, -1 do ids[#ids + 1] = stacks.frame(s, kf[i]) end
    if #ids > 0 then stacks.add(s, ids, tonumber(v)) end
  end
  return s
end

-- Forget the stacks no count names any more (after a take: the counts of
-- the window being filled keep theirs), so that a reader that takes windows
-- forever (the agent's profiler) does not fill the stack map. A sample whose
-- program found its stack just before it went (microseconds) shows as
-- missed. The stacks of plan.pending's values are kept too: bpf.offcpu's
-- threads still blocked, whose wake-up will count them. Returns the number
-- of stacks forgotten.
function Result.forget_stacks(res)
  local keep = {}
  local function keep_of(s)
    if s.kstack >= 0 then keep[tostring(ffi.cast("int64_t", s.kstack))] = true end
    if s.ustack >= 0 then keep[tostring(ffi.cast("int64_t", s.ustack))] = true end
  end
  for _, kv in ipairs(counted(res)) do keep_of(kv[1]) end
  local pending = res.plan.pending and res.obj.maps[res.plan.pending]
  if pending then
    for _, kv in ipairs(pending:items()) do keep_of(kv[2]) end
  end
  return res.obj.maps.stacks:prune(keep)
end

function Result.comms(res)
  return common.comms(counted(res))
end

function Result.clear(res)
  res.obj.maps.counts:clear()
  if res.obj.maps.counts2 then res.obj.maps.counts2:clear() end
  if res.plan.dense then
    res.obj.maps.dense:clear()
    res.obj.maps.dense2:clear()
  end
end

-- Events the kernel skipped the program for (see bpf's Obj:misses).
function Result.misses(res)
  return (res.obj:misses())
end

-- Events not counted because the map was full (raise max).
function Result.dropped(res)
  return res.obj.bss.dropped
end

-- Events whose stack was lost because the stack map was full (raise stacks):
-- n, and the map's size.
function Result.stacks_missed(res)
  local n = res.obj.bss.stacks_missed
  return n and tonumber(n) or 0, res.obj.maps.stacks:info().max_entries
end

-- Say on stderr that n stacks of `what` (object obj) were missed, and how to
-- keep them: once per count (a later call says only a larger one).
local said = setmetatable({}, { __mode = "k" })
function M.say_missed(what, obj, n)
  if not n or n <= (said[obj] or 0) then return end
  said[obj] = n
  io.stderr:write(("shark: %s: %d stack%s missed (shown as [Missed Kernel Stack] or [Missed User Stack]): " ..
    "its stack map is full (%d distinct stacks); raise it with stacks = N (tools: --stacks N)\n"):format(what, n,
    n == 1 and "" or "s", obj.maps.stacks:info().max_entries))
end

local function say_missed(res)
  if res.obj.maps.stacks and res.obj.o then M.say_missed(res.what, res.obj, (Result.stacks_missed(res))) end
end

function Result.detach(res)
  res.obj:detach()
end

-- Print the counts: stacks as BCC's tools print them (flame.print_stacks),
-- other keys as shark.print_hist (opts: its top, desc, title...).
function Result.print(res, opts)
  local by = res.plan.by
  if by == "kstack" or by == "ustack" or by == "stack" then
    require("flame").print_stacks(Result.entries(res), opts)
    return say_missed(res)
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
  -- the stacks lost, said once the programs are detached (before on_end prints)
  if STACK_BY[plan.by] then require("shark.source").current():add({ detach = function() say_missed(res) end }) end
  return r
end

return M
