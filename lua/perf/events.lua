-- SPDX-License-Identifier: GPL-2.0
-- perf/events.lua - turn an event spec ("sched:*,cpu-clock") into the list of
-- events to open: tracepoints (with globs), software, hardware and raw events.
local ffi = require "ffi"
local core = require "perf.core"
local arch = require "shark.arch"
local shark = require "shark"
local probes = require "shark.probes"

local M = {}

-- perf_event_attr.type
local TYPE = { HARDWARE = 0, SOFTWARE = 1, TRACEPOINT = 2, HW_CACHE = 3, RAW = 4, BREAKPOINT = 5 }
M.TYPE = TYPE

-- name -> { type, config, clock } (clock: sampled by time, default frequency)
local named = {
  ["cpu-clock"] = { TYPE.SOFTWARE, 0, clock = true },
  ["task-clock"] = { TYPE.SOFTWARE, 1, clock = true },
  ["page-faults"] = { TYPE.SOFTWARE, 2 }, faults = { TYPE.SOFTWARE, 2 },
  ["context-switches"] = { TYPE.SOFTWARE, 3 }, cs = { TYPE.SOFTWARE, 3 },
  ["cpu-migrations"] = { TYPE.SOFTWARE, 4 }, migrations = { TYPE.SOFTWARE, 4 },
  ["minor-faults"] = { TYPE.SOFTWARE, 5 },
  ["major-faults"] = { TYPE.SOFTWARE, 6 },
  ["alignment-faults"] = { TYPE.SOFTWARE, 7 },
  ["emulation-faults"] = { TYPE.SOFTWARE, 8 },
  dummy = { TYPE.SOFTWARE, 9 },
  ["bpf-output"] = { TYPE.SOFTWARE, 10, raw = true },
  cycles = { TYPE.HARDWARE, 0 }, ["cpu-cycles"] = { TYPE.HARDWARE, 0 },
  instructions = { TYPE.HARDWARE, 1 },
  ["cache-references"] = { TYPE.HARDWARE, 2 },
  ["cache-misses"] = { TYPE.HARDWARE, 3 },
  ["branch-instructions"] = { TYPE.HARDWARE, 4 }, branches = { TYPE.HARDWARE, 4 },
  ["branch-misses"] = { TYPE.HARDWARE, 5 },
  ["bus-cycles"] = { TYPE.HARDWARE, 6 },
  ["stalled-cycles-frontend"] = { TYPE.HARDWARE, 7 },
  ["stalled-cycles-backend"] = { TYPE.HARDWARE, 8 },
  ["ref-cycles"] = { TYPE.HARDWARE, 9 },
}
M.named = named

-- The names shark -l shows, in the order it shows them.
M.software = { "cpu-clock", "task-clock", "page-faults", "context-switches", "cpu-migrations",
  "minor-faults", "major-faults", "alignment-faults", "emulation-faults", "dummy" }
M.hardware = { "cycles", "instructions", "cache-references", "cache-misses", "branch-instructions",
  "branch-misses", "bus-cycles", "stalled-cycles-frontend", "stalled-cycles-backend", "ref-cycles" }

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function is_glob(s)
  return s:find("[%*%?%[]") ~= nil
end

-- A watchpoint spec (the mem provider of shark.probes parses with this).
-- "mem:ADDR[/LEN][:rwx]", perf's hardware watchpoint (ADDR in hex, LEN 1, 2,
-- 4 or 8, default 4; access r, w, rw (the default) or x, which wants LEN 8).
-- "mem:NAME[/LEN][:rwx]": the global variable NAME of the traced process's
-- executable (M.watch_symbol sets the address once the pid is known).
-- rest: what follows "mem:". -> { event = its perf event } or nil, message.
function M.watchpoint(rest, item)
  local addr, tail = rest:match("^(0[xX]%x+)(.*)$")
  if not addr then addr, tail = rest:match("^(%d+)(.*)$") end
  local sym
  if not addr then sym, tail = rest:match("^([%a_][%w_]*)(.*)$") end
  if not addr and not sym then
    return nil, ("'%s': mem:ADDR[/LEN][:rwx] wants an address (0x... or decimal) or a variable's name"):format(item)
  end
  rest = tail
  local len, access = rest:match("^/(%d+)(.*)$")
  rest = access or rest
  access = rest:match("^:([rwx]+)$")
  if rest ~= "" and not access then return nil, ("'%s': after the address, /LEN and :rwx"):format(item) end
  access = access or "rw"
  local bits = { r = 1, w = 2, rw = 3, wr = 3, x = 4 }
  local bp_type = bits[access]
  if not bp_type then return nil, ("'%s': the access is r, w, rw or x"):format(item) end
  len = tonumber(len) or (bp_type == 4 and 8 or 4)
  if not ({ [1] = 1, [2] = 1, [4] = 1, [8] = 1 })[len] then
    return nil, ("'%s': a watchpoint covers 1, 2, 4 or 8 bytes"):format(item)
  end
  local v = 0ULL   -- 64 bits exactly (a kernel address does not fit a double)
  if sym then
    v = nil
  elseif addr:find("^0[xX]") then
    for c in addr:sub(3):gmatch(".") do v = v * 16 + tonumber(c, 16) end
  else
    for c in addr:gmatch(".") do v = v * 10 + tonumber(c) end
  end
  return { event = { name = item, type = TYPE.BREAKPOINT, config = 0, bp_type = bp_type, bp_len = len, bp_addr = v,
    bp_symbol = sym } }
end

-- The address of watchpoint e's variable in process pid: its executable's
-- symbol (ELF), plus where that file is mapped. true, or nil and why.
function M.watch_symbol(e, pid)
  if not pid or pid <= 0 then
    return nil, ("'%s': a variable's name needs the process (pid = N, -p or -c)"):format(e.name)
  end
  local uv = require "uv"
  local exe = uv.fs_readlink(("/proc/%d/exe"):format(pid))
  if not exe then return nil, ("'%s': cannot read process %d's executable"):format(e.name, pid) end
  local api = require "shark.api"
  local rel, size = ffi.new("uint64_t[1]"), ffi.new("uint64_t[1]")
  local rc = api.sym_variable(("/proc/%d/exe"):format(pid), e.bp_symbol, rel, size)
  if rc < 0 then
    return nil, ("'%s': no variable '%s' in %s (%s)"):format(e.name, e.bp_symbol, exe,
      rc == -2 and "not in its symbol table" or ffi.string(api.strerror(-rc)))
  end
  local f = io.open(("/proc/%d/maps"):format(pid))
  for line in f and f:lines() or function() end do
    local lo, off, path = line:match("^(%x+)%-%x+ %S+ (%x+) %S+ %d+%s+(.*)$")
    if path == exe and tonumber(off, 16) == 0 then
      local base = 0ULL
      for c in lo:gmatch(".") do base = base * 16 + tonumber(c, 16) end
      f:close()
      e.bp_addr = base + rel[0]
      return true
    end
  end
  if f then f:close() end
  return nil, ("'%s': %s is not mapped in process %d"):format(e.name, exe, pid)
end

-- The perf events of tracepoint target t (shark.probes; a glob names
-- several): list or nil, message.
function M.tracepoints(t)
  local item, sys = t.name, t.system
  local names
  if is_glob(item) then
    local list, err = core.tp_list(item)
    if not list then return nil, err end
    if #list == 0 then
      return nil, ("no tracepoint matches '%s' (shark -l '%s' lists them)"):format(item, sys .. ":*")
    end
    names = list
  else
    names = { item }
  end
  local out = {}
  for _, full in ipairs(names) do
    local s, e = full:match("^([^:]+):(.+)$")
    local id, err, errno = core.tp_id(s, e)
    if not id then
      if errno == 2 then
        local dir, why = core.tracefs()
        if not dir then return nil, why end
        return nil, ("unknown event '%s' (shark -l '%s:*' lists the %s events)"):format(full, s, s)
      end
      local ok, why = shark.privileged("perf")
      if not ok then return nil, ("%s: %s"):format(full, why) end
      return nil, err
    end
    out[#out + 1] = { name = full, type = TYPE.TRACEPOINT, config = id, system = s, event = e,
      tracepoint = true }
  end
  return out
end

-- One item of a spec -> list of event tables, or nil, message.
local function resolve(item)
  local t, err = probes.parse(item)
  if not t then return nil, err end
  return probes.events(t)
end

-- From this many syscalls:* tracepoints on, ride on raw_syscalls instead:
-- closing the last perf event of a tracepoint costs the kernel an RCU grace
-- period (~35 ms here), so 700 of them take 25 s to tear down.
local ROUTE_MIN = 3
local FILTER_MAX = 32   -- route fewer syscalls than this: filter them in the kernel too

local syscall_table = arch.syscall_nrs   -- this architecture's, in shark/arch.lua

-- Replace the syscalls:sys_{enter,exit}_* events of a list by routes through
-- one raw_syscalls carrier per direction. Returns the new list: carriers
-- first (they are opened, never delivered), then the events in their order.
function M.route_syscalls(list)
  local nrs = syscall_table()
  local groups = { enter = {}, exit = {} }
  for _, e in ipairs(list) do
    if e.system == "syscalls" then
      local dir, name = e.event:match("^sys_(%a+)_(.+)$")
      if groups[dir] and nrs[name] then
        e.nr = nrs[name]
        table.insert(groups[dir], e)
      end
    end
  end
  local carriers = {}
  for _, dir in ipairs({ "enter", "exit" }) do
    local g = groups[dir]
    if #g >= ROUTE_MIN then
      local id = core.tp_id("raw_syscalls", "sys_" .. dir)
      if id then
        local c = { name = "raw_syscalls:sys_" .. dir, type = TYPE.TRACEPOINT, config = id,
          system = "raw_syscalls", event = "sys_" .. dir, tracepoint = true, carrier = true }
        if #g <= FILTER_MAX then
          local ids = {}
          for _, e in ipairs(g) do ids[#ids + 1] = "id == " .. e.nr end
          c.filter = table.concat(ids, " || ")
        end
        carriers[#carriers + 1] = c
        for _, e in ipairs(g) do e.via = c end
      end
    end
  end
  if #carriers == 0 then return list end
  local out = {}
  for _, c in ipairs(carriers) do out[#out + 1] = c end
  for _, e in ipairs(list) do out[#out + 1] = e end
  return out
end

-- Parse "a,b,c" into events. Duplicates are dropped (first one wins).
function M.parse(spec)
  if type(spec) ~= "string" or trim(spec) == "" then
    return nil, "expected an event name such as 'sched:sched_switch' or 'cpu-clock'"
  end
  local list, seen = {}, {}
  for item in spec:gmatch("[^,]+") do
    item = trim(item)
    if item ~= "" then
      local evs, err = resolve(item)
      if not evs then return nil, err end
      for _, e in ipairs(evs) do
        if not seen[e.name] then
          seen[e.name] = true
          list[#list + 1] = e
        end
      end
    end
  end
  if #list == 0 then return nil, "no event in '" .. spec .. "'" end
  return list
end

return M
