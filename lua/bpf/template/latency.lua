-- SPDX-License-Identifier: GPL-2.0
-- bpf/template/latency.lua - time between two events as histograms in the
-- kernel, with the prebuilt bpf/latency.bpf.c (no compiler at run time):
--   bpf.latency{ from = "sched:sched_wakeup", to = "sched:sched_switch", ... }
-- Endpoints are specs of shark.probes: tracepoints, uprobes/uretprobes,
-- kprobes/kretprobes.
local ffi = require "ffi"
local shark = require "shark"
local probes = require "shark.probes"
local common = require "bpf.template.common"

local M = {}

local C = ffi.C

local UNITS = { ns = 1, us = 1000, ms = 1000000, s = 1000000000 }

-- The program suffix of latency.bpf.c for each context an endpoint can have.
local SIDES = { tracepoint = "_tp", probe = "_probe" }

-- "a,b" -> list of targets (shark.probes) and the offset of field `key` in
-- every tracepoint (the same in each, or an error), and the first format.
local function endpoints(spec, key, who)
  local list, off, first = {}, nil, nil
  for item in spec:gmatch("[^,]+") do
    item = item:gsub("^%s+", ""):gsub("%s+$", "")
    local t, fmt = common.target(item, who, SIDES, 3)
    if not fmt then
      if key then error(who .. ": a key field needs tracepoints; probes match by thread", 3) end
    else
      local foff
      if key then
        for _, f in ipairs(fmt.fields) do
          if f.name == key and f.size == 4 then foff = f.offset end
        end
        if not foff then error(("%s: no 32-bit field '%s' in %s"):format(who, key, item), 3) end
        if off and off ~= foff then error(("%s: '%s' is not at the same place in every event"):format(who, key), 3) end
        off = foff
      end
      first = first or fmt
    end
    list[#list + 1] = t
  end
  return list, off, first
end

local function merge(a, b)
  for k, v in pairs(b) do a[k] = v end
  return a
end

-- Attach side ("start" or "end") to each endpoint; task: the argument
-- number of a raw tracepoint's task (from_task, to_task), or nil.
local function attach_all(obj, list, side, pid, task, private)
  for _, t in ipairs(list) do
    if task then
      -- the tracepoint's raw form, whose arguments hold the task
      if not t.event then error(("bpf.latency: %s_task needs tracepoints, not '%s'"):format(
        side == "start" and "from" or "to", t.spec), 3) end
      common.attach(obj.progs[side .. "_task" .. task], assert(probes.parse("raw_tp:" .. t.event)), nil,
        "bpf.latency", 3)
    else
      common.attach(obj.progs[side .. SIDES[probes.context(t)]], t, { pid = pid }, "bpf.latency", 3)
      if probes.context(t) == "tracepoint" then require("shark.tpshare").template(t.name, obj, private) end
    end
  end
end

local Lat = {}
Lat.__index = function(self, k)
  common.used(self)
  return Lat[k]
end

-- { [key] = { [slot] = count } } (key "all" without `by`; heat maps: interval)
-- The Lua key of map key k: "all" without `by`, a command, a syscall's name or a number.
local function key_of(self, k)
  if self.by == "none" then return "all" end
  if self.by == "comm" then return ffi.string(k.comm) end
  return self.plan.syscall and common.syscall_name(tonumber(k.num)) or tonumber(k.num)
end

function Lat:histograms()
  local out = {}
  for k, v in pairs(self.obj.maps.hist) do
    local key = self.interval and k.pid or key_of(self, k)
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
    local key = key_of(self, k)
    out[key] = (out[key] or 0) + v
  end
  return out
end

function Lat:comms()
  return common.comms(self.obj.maps.hist)
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
  common.check_opts(o, { from = true, to = true, from_key = true, to_key = true, unit = true, linear = true, by = true,
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
  local plan, err = common.key_plan(by, not o.to_task and to_fmt)
  if not plan or plan.key > C.SHARK_KEY_FIELD then
    error("bpf.latency: by is pid, tid, comm, cpu or a field of `to`: " .. (err or by), 2)
  end
  local rodata
  rodata, err = common.where_plan(o.where, to_fmt)
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
    return side .. SIDES[probes.context(list[1])]
  end
  local start_prog, end_prog = progs("start", from, o.from_task), progs("end", to, o.to_task)
  local only = { start_prog, end_prog, o.requeue and "start_requeue" or nil }
  for _, l in ipairs{ from, to } do   -- a side may mix tracepoints and probes
    for _, e in ipairs(l) do only[#only + 1] = l == from and progs("start", { e }) or progs("end", { e }) end
  end
  -- only task keys need CO-RE (and the kernel's BTF parsed at load)
  local obj = common.load((o.from_task or o.to_task or o.requeue) and "latency_task" or "latency", {
    attach = false, only = only,
    rodata = merge(rodata, {
      cfg_start_field = from_off and 1 or 0, cfg_start_off = from_off or 0,
      cfg_end_field = to_off and 1 or 0, cfg_end_off = to_off or 0,
      cfg_unit = UNITS[unit], cfg_linear = lin and 1 or 0, cfg_lin_min = min or 0, cfg_lin_step = step or 1,
      cfg_lin_buckets = buckets, cfg_key = plan.key, cfg_interval = interval or 0,
      cfg_t0 = shark.time(), cfg_pid = common.default_pid(o.pid),
      cfg_key_off = plan.off or 0, cfg_key_size = plan.size or 8, cfg_key_signed = plan.signed and 1 or 0,
      cfg_sums = o.sums and 1 or 0,
    }),
    max_entries = { hist = o.max or 10240 },
  })
  attach_all(obj, from, "start", o.pid, o.from_task, o.private)
  attach_all(obj, to, "end", o.pid, o.to_task, o.private)
  if o.requeue then obj.progs.start_requeue:attach_raw_tracepoint("sched_switch") end
  local lat = setmetatable({ obj = obj, by = by, plan = plan, unit = unit, interval = interval, sums = o.sums,
    linear = lin and { min = min, step = step }, what = "bpf.latency{}" }, Lat)
  common.unread_until_used(lat)
  return lat
end

return M
