-- SPDX-License-Identifier: GPL-2.0
-- bpf/template/common.lua - what the compiler-free templates (count.lua,
-- latency.lua) share: their options, how `by` and `where` become the
-- programs' rodata knobs, and results that print themselves at the end of
-- their session when the script never reads them.
local ffi = require "ffi"
local shark = require "shark"
local source = require "shark.source"
local probes = require "shark.probes"

local M = {}

local C = ffi.C

M.syscall_name = require("shark.arch").syscall_name

-- ----------------------------------------------------------------- options

function M.default_pid(pid)
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
function M.track_maps(pid)
  require("perf").on("dummy", { callchain_u = true, pid = pid == 0 and -1 or pid }, function() end)
  -- a running target's maps now: its mmaps came before the dummy event
  if pid > 0 then require("shark.api").sym_note_pid(pid) end
end

function M.check_opts(o, known, who)
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
function M.no_dwarf(o, who, instead)
  if o.user == "dwarf" then
    error(("%s: user = \"dwarf\" is not available: it counts stacks in the kernel, whose stack walker " ..
      "follows frame pointers only; %s"):format(who, instead), 3)
  end
end

-- Load prebuilt program `name` (bpf/<name>.bpf.c) with opts; its errors
-- are the script's (the template's caller).
function M.load(name, opts)
  return require("bpf").load_prebuilt(name, opts, 3)
end

-- ------------------------------------------------------------------ events

-- The target of event spec `on` (shark.probes) and, for a tracepoint, its
-- format; contexts: the kinds the template has a program for. Errors name
-- `who` and the spec.
function M.target(on, who, contexts, level)
  level = (level or 2) + 1
  local t, err = probes.parse(on)
  if not t then error(("%s: %s"):format(who, err), level) end
  local ctx = probes.context(t)
  if not contexts[ctx] then
    local names = {}
    for _, c in ipairs(probes.contexts) do names[#names + 1] = contexts[c] and probes.contexts[c] or nil end
    error(("%s: '%s' is a %s; %s runs on %s"):format(who, on, t.handler.what, who, table.concat(names, "; ")),
      level)
  end
  if ctx ~= "tracepoint" then return t end
  local fmt, denied
  fmt, err, denied = t.handler.format(t)
  if not fmt then
    error(("%s: %s%s"):format(who, err or ("unknown event '" .. on .. "'"),
      denied and "" or " (shark -l lists the tracepoints)"), level)
  end
  return t, fmt
end

-- Attach prog to target (shark.probes); an error (the kernel's reason) is
-- the script's, at `level` as error() counts from the caller.
function M.attach(prog, target, o, who, level)
  local ok, err = pcall(probes.attach, prog, target, o)
  if not ok then error(("%s: %s"):format(who, tostring(err):gsub("^[^:\n]*:%d+: ", "")), (level or 2) + 1) end
end

-- ------------------------------------------------------------------- plans

local INT_SIZES = { [1] = 1, [2] = 1, [4] = 1, [8] = 1 }

-- How `by` becomes cfg_key (and a field), and how keys read back in Lua.
function M.key_plan(by, fmt, probe)
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
    if f.name == want and not f.array and not f.dynamic and INT_SIZES[f.size] then
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
function M.where_plan(where, fmt)
  if where == nil then return {} end
  local name, op, val = tostring(where):match("^%s*([%w_]+)%s*([=!<>]=?)%s*(-?%d+)%s*$")
  if not name or not WHERE_OPS[op] then
    return nil, ("where = '%s': expected 'field OP number' (OP: == != < <= > >=)"):format(tostring(where))
  end
  if not fmt then return nil, "where needs a tracepoint" end
  for _, f in ipairs(fmt.fields) do
    if f.name == name and not f.array and not f.dynamic and INT_SIZES[f.size] then
      return { cfg_where = WHERE_OPS[op], cfg_where_off = f.offset, cfg_where_size = f.size,
        cfg_where_signed = f.signed and 1 or 0, cfg_where_value = tonumber(val) }
    end
  end
  return nil, ("where = '%s': no integer field '%s' in %s:%s"):format(where, name, fmt.system, fmt.name)
end

-- { pid = command } of the processes counted (by = "pid" and stack keys): the
-- name each spent the most time as. A -c child runs as "shark" until its exec,
-- so counts alone tie (one wait as shark, one sleep as itself); in a histogram
-- a count weighs as much as its bucket's time (2^slot).
function M.comms(map)
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

-- ----------------------------------------------------------- unread results

-- Results the script never looks at print themselves when their session
-- ends (its report phase, after the on_end handlers), as bpftrace prints its
-- maps: `bpf.count{ on = ..., by = "comm" }` alone is a whole tool. Any use
-- (a method, a key, pairs, #) means the script prints. The session holds
-- the result (a result nobody keeps must live to print).
local marks = setmetatable({}, { __mode = "k" })

local function report(u)
  if not u.unread or require("shark.api").state.stop_reason == C.SHARK_STOP_ERROR then return end
  u.r:print{ title = u.r.what }
end

function M.unread_until_used(r)
  local u = { r = r, unread = true, report = report }
  marks[r] = u
  source.current():add(u)
end

-- The script used r: it prints what it wants.
function M.used(r)
  local u = marks[r]
  if u then u.unread = false end
end

return M
