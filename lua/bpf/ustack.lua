-- SPDX-License-Identifier: GPL-2.0
-- bpf/ustack.lua - off-CPU time by DWARF-unwound user stacks: the prebuilt
-- ustack program copies a blocking thread's user registers and stack top into
-- a ring (bpf/ustack.bpf.c); shark unwinds each copy with the files'
-- .eh_frame while the process still runs, then adds the time the thread was
-- away when it runs again. The same rows as bpf.offcpu's entries().
local ffi = require "ffi"
local api = require "shark.api"
local result = require "bpf.template.result"

local M = {}

local MAX = 127
local C = ffi.C

local function symbols(pid, ips, n)
  local out, buf = {}, ffi.new("char[512]")
  for i = 0, n - 1 do
    local len = api.symbolize(pid, ips[i], buf, 512)
    out[#out + 1] = len > 0 and ffi.string(buf, len) or "[unknown]"
  end
  return out
end

-- bpf.offcpu{ user = "dwarf", pid = PID, min_us = 1, kernel = true }
function M.offcpu(o, pid)
  local bpf = require "bpf"
  local arch = require "shark.arch"
  if not arch.dwarf_unwind then error('bpf.offcpu{user = "dwarf"}: ' .. arch.NO_DWARF, 3) end
  local obj = bpf.load_prebuilt("ustack", { rodata = { cfg_pid = pid, cfg_kernel = o.kernel ~= false and 1 or 0 },
    max_entries = { stacks = o.stacks } }, 3)
  require("shark.tpshare").template("sched:sched_switch", obj, o.private)
  -- mappings of the target as it runs (exec, dlopen): what unwinding and names
  -- read. Taken when they happen (the records of this dummy event) and, for a
  -- running target, now: a process that exits before its stack records are
  -- read is still unwound and named from them, not from /proc, gone by then.
  local maps = require("perf").on("dummy", { callchain_u = true, pid = pid == 0 and -1 or pid }, function() end)
  if pid > 0 then api.sym_note_pid(pid) end
  local min_ns = (o.min_us or 1) * 1000
  local rows, by_key, away = {}, {}, {}   -- away: tid -> row it blocked in
  local ips = ffi.new("uint64_t[?]", MAX)
  local kstacks = obj.maps.stacks
  local h = bpf.on_ring(obj.maps.events, { type = "struct shark_ustack_rec" }, function(r)
    -- the mmap and exec records queued before this record come first (the
    -- two rings drain in no fixed order): empty, this costs a ring read
    maps.drain()
    local tid = r.h.tid
    if r.h.kind == C.SHARK_USTACK_BACK then
      local row = away[tid]
      if row and tonumber(r.h.ns) >= min_ns then row.count = row.count + math.floor(tonumber(r.h.ns) / 1000) end
      away[tid] = nil
      return
    end
    local p = r.h.pid
    local n = api.unwind_user(p, r.regs, C.SHARK_UNWIND_REGS_MASK, r.stack, r.size, ips, MAX)
    if n < 0 then n = 0 end
    -- a blocked Python thread's frames stay put until it runs again
    if n > 0 and o.python ~= false then n = api.lang_frames(p, tid, ips, n, MAX) end
    local kid = r.h.kstack   -- int64: a hash of the frames (SHARK_STACKS), < 0 none
    local key = p .. ":" .. tostring(kid) .. ":" .. ffi.string(ips, 8 * n)
    local row = by_key[key]
    if not row then
      local user = symbols(p, ips, n)
      local kernel = kid >= 0 and kstacks:stack(kid, -1) or {}
      if #kernel == 0 and result.missed(kid) then kernel = { "[Missed Kernel Stack]" } end
      -- stacks differing only in addresses inside the same functions are one row
      local names = p .. "|" .. table.concat(kernel, ";") .. "|" .. table.concat(user, ";")
      row = by_key[names]
      if not row then
        -- the name now, as perf.on's e.comm; a process gone: the one at event time
        local comm = ffi.string(api.comm(p))
        if comm == "<...>" and r.comm[0] ~= 0 then comm = ffi.string(r.comm) end
        row = { count = 0, pid = p, comm = comm, kernel = kernel, user = user }
        by_key[names] = row
        rows[#rows + 1] = row
      end
      by_key[key] = row
    end
    away[tid] = row
  end)
  require("shark").on_end(function()
    local lost = tonumber(obj.bss.dropped)
    if lost > 0 then
      io.stderr:write(("bpf.offcpu: %d stack records lost (the ring was full)\n"):format(lost))
    end
    result.say_missed("bpf.offcpu{}", obj, tonumber(obj.bss.stacks_missed))
  end)
  local res = { obj = obj, ring = h }
  function res.entries()
    local out = {}
    for _, row in ipairs(rows) do if row.count > 0 then out[#out + 1] = row end end
    table.sort(out, function(a, b) return a.count > b.count end)
    return out
  end
  -- the stacks shape every export renders (folded, SVG, pprof, speedscope)
  function res.profile(_, opts)
    local meta = { sample_type = "offcpu", unit = "microseconds" }
    for k, v in pairs(opts or {}) do meta[k] = v end
    return require("shark.stacks").from_rows(res.entries(), meta)
  end
  function res.dropped() return tonumber(obj.bss.dropped) end
  return res
end

return M
