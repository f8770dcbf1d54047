-- SPDX-License-Identifier: GPL-2.0
-- bpf/template/count.lua - counting in the kernel with the prebuilt
-- bpf/count.bpf.c and bpf/offcpu.bpf.c (no compiler at run time):
--   bpf.count{ on = "raw_syscalls:sys_enter", by = "syscall" }
--   bpf.stacks{ freq = 99, pid = 123 }          -- stack sampling on cpu-clock
--   bpf.offcpu{ pid = 123 }                     -- time off CPU by stack
-- Each returns a result (template/result.lua).
local ffi = require "ffi"
local probes = require "shark.probes"
local common = require "bpf.template.common"
local result = require "bpf.template.result"

local M = {}

local C = ffi.C

-- The program of count.bpf.c for each context a spec can have (shark.probes).
local COUNT_PROGS = { tracepoint = "count_tp", probe = "count_probe", usdt = "count_usdt" }

local STACK_KEYS = { stack = C.SHARK_KEY_STACKS, kstack = C.SHARK_KEY_KSTACK, ustack = C.SHARK_KEY_USTACK }

-- Distinct stacks a template keeps by default (stacks = N): its map fills as
-- stacks come (shark.bpf.h SHARK_STACKS), ~1.1 KB each.
M.STACKS = 32768

local function stacks_size(o, who)
  local n = o.stacks
  if n == nil then return M.STACKS end
  if type(n) ~= "number" or n < 1 or n ~= math.floor(n) or n > 2 ^ 31 - 1 then
    error(("%s: stacks = %s: expected a count of distinct stacks (default %d)"):format(who, tostring(n),
      M.STACKS), 3)
  end
  return n
end

-- bpf.count{ on = EVENT, by = KEY, pid = PID, max = N, where = "field OP number", stacks = N }
-- on: "sys:event" (tracepoint), "uprobe:/path:func", "uretprobe:/path:func",
-- "usdt:/path:provider:name", "kprobe:func" (any spec of shark.probes with a
-- program here); by: pid, tid, comm, cpu, syscall, a field of the
-- tracepoint (or arg0..arg4/ret of a probe), kstack, ustack, stack.
function M.count(o)
  common.check_opts(o, { on = true, by = true, pid = true, max = true, where = true, private = true,
    stacks = true }, "bpf.count")
  if type(o.on) ~= "string" then error("bpf.count{on = EVENT, ...}: on is required", 2) end
  local target, fmt = common.target(o.on, "bpf.count", COUNT_PROGS)
  local ctx = probes.context(target)
  local plan, err = common.key_plan(o.by, fmt, ctx ~= "tracepoint")
  if not plan then error("bpf.count: " .. err, 2) end
  local rodata
  rodata, err = common.where_plan(o.where, fmt)
  if not rodata then error("bpf.count: " .. err, 2) end
  rodata.cfg_key, rodata.cfg_field_off, rodata.cfg_field_size = plan.key, plan.off or 0, plan.size or 8
  rodata.cfg_field_signed, rodata.cfg_arg = plan.signed and 1 or 0, plan.arg or 0
  rodata.cfg_pid = common.default_pid(o.pid)
  rodata.cfg_dense = plan.dense and 1024 or 0
  -- maps the key does not use shrink to one entry
  local stacked = STACK_KEYS[o.by] ~= nil
  local nstacks = stacks_size(o, "bpf.count")
  local prog = COUNT_PROGS[ctx]
  if ctx == "tracepoint" and plan.off == 8 and plan.size == 8 then prog = "count_tp8" end
  local obj = common.load("count", {
    attach = false, only = { prog },
    rodata = rodata,
    max_entries = { counts = o.max or 10240, counts2 = o.max or 10240, stacks = stacked and nstacks or 1,
      stacks_spill = not stacked and 1 or nil,
      dense = not plan.dense and 1 or nil, dense2 = not plan.dense and 1 or nil },
  })
  if o.by == "ustack" or o.by == "stack" then common.track_maps(rodata.cfg_pid) end
  common.attach(obj.progs[prog], target, { pid = o.pid }, "bpf.count")
  if ctx == "tracepoint" then require("shark.tpshare").template(target.name, obj, o.private) end
  return result.new(obj, plan, ("bpf.count{on = %q, by = %q}"):format(o.on, plan.by),
    { sample_type = "events", unit = "count" })
end

-- "stack", "kstack" or "ustack" for options kernel = and user = (default both).
local function stack_by(o)
  local k, u = o.kernel ~= false, o.user ~= false
  return (k and u) and "stack" or k and "kstack" or "ustack", k, u
end

-- bpf.stacks{ freq = 99, pid = PID, kernel = true, user = true, event = "cpu-clock", stacks = N }
-- Stack sampling counted in the kernel: keys are stacks (frames leaf first,
-- kernel then user), values sample counts. Folded output: flame.folded(r).
function M.stacks(o)
  o = o or {}
  common.check_opts(o, { freq = true, period = true, pid = true, kernel = true, user = true, event = true,
    max = true, stacks = true }, "bpf.stacks")
  common.no_dwarf(o, "bpf.stacks", "for code without frame pointers use perf.on(\"cpu-clock\", " ..
    "{ callchain_u = \"dwarf\" }, fn) or profile.lua --call-graph dwarf")
  local ev = o.event or "cpu-clock"
  local target = common.target(ev, "bpf.stacks", { perf = true })
  local by, _, u = stack_by(o)
  local plan = { key = STACK_KEYS[by], by = by }
  local obj = common.load("count", {
    attach = false, only = { "count_perf" },   -- each program verified costs start time
    rodata = { cfg_key = plan.key, cfg_pid = common.default_pid(o.pid) },
    max_entries = { counts = o.max or 10240, counts2 = o.max or 10240, stacks = stacks_size(o, "bpf.stacks") },
  })
  if u then common.track_maps(common.default_pid(o.pid)) end
  local freq = o.freq or (not o.period and 99)
  common.attach(obj.progs.count_perf, target, { freq = freq, period = o.period, pid = -1 }, "bpf.stacks")
  -- a sample of a clock event stands for 1/freq s (or period ns) of CPU
  local clock = target.clock
  return result.new(obj, plan, "bpf.stacks{}", { sample_type = "samples", unit = "count",
    period_type = clock and "cpu" or nil, period_unit = clock and "nanoseconds" or nil,
    period = clock and (freq and math.floor(1e9 / freq) or o.period) or nil })
end

-- bpf.offcpu{ pid = PID, min_us = 1, kernel = true, user = true, stacks = N }
-- Time off CPU (us) summed by the stacks threads blocked in, from
-- sched_switch: keys are stacks (frames leaf first, kernel then user).
-- user = "dwarf": user stacks copied out and unwound in shark (bpf/ustack.lua).
function M.offcpu(o)
  o = o or {}
  common.check_opts(o, { pid = true, min_us = true, kernel = true, user = true, max = true, private = true,
    python = true, stacks = true }, "bpf.offcpu")
  local nstacks = stacks_size(o, "bpf.offcpu")
  if o.user == "dwarf" then return require("bpf.ustack").offcpu(o, common.default_pid(o.pid)) end
  local by, k, u = stack_by(o)
  local obj = common.load("offcpu", {
    rodata = { cfg_pid = common.default_pid(o.pid), cfg_min_us = o.min_us or 1, cfg_kernel = k and 1 or 0,
      cfg_user = u and 1 or 0 },
    max_entries = { counts = o.max or 10240, counts2 = o.max or 10240, stacks = nstacks },
  })
  if u then common.track_maps(common.default_pid(o.pid)) end
  require("shark.tpshare").template("sched:sched_switch", obj, o.private)
  -- pending: a blocked thread's stack ids wait in start until it runs again
  return result.new(obj, { by = by, pending = "start" }, "bpf.offcpu{}",
    { sample_type = "offcpu", unit = "microseconds" })
end

return M
