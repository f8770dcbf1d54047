-- SPDX-License-Identifier: GPL-2.0
-- shark/agent/profiler.lua - the agent's always-on CPU profile ([profile]):
-- stacks of every CPU sampled at a low rate (19 Hz by default) and counted
-- in the kernel; every interval, one pprof per busy process (the 20 busiest,
-- the rest as one "other" profile), labelled so a viewer can filter: host,
-- service and comm, pid, cgroup. The agent process uploads or stores them.
local bpf = require "bpf"
local stacks = require "shark.stacks"
local pprof = require "shark.pprof"
local api = require "shark.api"
local frames = require "shark.frames"
local metric = require "shark.metric"
local timer = require "timer"
local uv = require "uv"

local M = {}

M.TOP = 20
M.KEEP = 2	-- windows a process or symbol table unused is kept for

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- Base64 of bytes: a pprof crosses the JSON-lines pipe as text.
function M.base64(s)
  local out, n = {}, #s
  for i = 1, n, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local q = { math.floor(v / 262144) % 64, math.floor(v / 4096) % 64, math.floor(v / 64) % 64, v % 64 }
    out[#out + 1] = B64:sub(q[1] + 1, q[1] + 1) .. B64:sub(q[2] + 1, q[2] + 1)
      .. (b and B64:sub(q[3] + 1, q[3] + 1) or "=") .. (c and B64:sub(q[4] + 1, q[4] + 1) or "=")
  end
  return table.concat(out)
end

local DEC = {}
for i = 1, 64 do DEC[B64:byte(i)] = i - 1 end

-- The bytes of base64 text, or nil for text that is not base64.
function M.unbase64(t)
  if #t % 4 ~= 0 then return nil end
  local out = {}
  for i = 1, #t, 4 do
    local a, b, c, d = t:byte(i, i + 3)
    local va, vb, vc, vd = DEC[a], DEC[b], DEC[c], DEC[d]
    if not va or not vb or (not vc and c ~= 61) or (not vd and d ~= 61) or (c == 61 and d ~= 61)
      or ((c == 61 or d == 61) and i + 4 <= #t) then return nil end
    local v = va * 262144 + vb * 4096 + (vc or 0) * 64 + (vd or 0)
    out[#out + 1] = string.char(math.floor(v / 65536) % 256)
    if c ~= 61 then out[#out + 1] = string.char(math.floor(v / 256) % 256) end
    if d ~= 61 then out[#out + 1] = string.char(v % 256) end
  end
  return table.concat(out)
end

local function cgroup_of(pid)
  local f = io.open(("/proc/%d/cgroup"):format(pid))
  if not f then return nil end
  local cg
  for line in f:lines() do
    cg = line:match("^0::(.*)$") or cg
  end
  f:close()
  return cg
end

-- Rows of one interval grouped by process, busiest first.
local function by_process(rows)
  local procs, order = {}, {}
  for _, r in ipairs(rows) do
    local key = r.pid or 0
    local p = procs[key]
    if not p then
      p = { pid = r.pid, comm = r.comm, rows = {}, samples = 0 }
      procs[key] = p
      order[#order + 1] = p
    end
    p.rows[#p.rows + 1] = r
    p.samples = p.samples + r.count
  end
  table.sort(order, function(a, b) return a.samples > b.samples end)
  return order
end

-- The symbol caches as the job's metrics, after each sweep: what they hold
-- and what the sweeps dropped (a test checks they stay bounded).
local function cache_metrics()
  local held = metric.gauge("shark_agent_symbol_cache", "What the profiler's symbol caches hold now.", { "what" })
  local evicted = metric.counter("shark_agent_symbol_cache_evicted_total",
    "What the profiler's sweeps dropped, unused for a while.", { "what" })
  local last = {}
  return function()
    local st = frames.stats()
    for _, k in ipairs { "procs", "dsos", "tables", "symbols", "bytes", "sweeps" } do held:set(st[k], { k }) end
    for _, k in ipairs { "procs", "tables", "dsos" } do
      local n = st["evicted_" .. k]
      evicted:inc(n - (last[k] or 0), { k })
      last[k] = n
    end
  end
end

-- run{hz, interval, host, send = fn(profile)}: send gets {data = base64
-- pprof, title, labels, samples} for each profile of an interval.
function M.run(o)
  local hz, interval = o.hz or 19, o.interval or 60
  local report = cache_metrics()
  local s = bpf.stacks{ freq = hz, pid = -1 }
  local period = math.floor(1e9 / hz)
  local t0 = tonumber(api.realtime_ns())
  local function flush()
    local now = tonumber(api.realtime_ns())
    -- only the busiest processes are symbolized: the symbol tables of every
    -- binary that ran a moment are what would make the profiler's memory
    local busy = {}
    for i, p in ipairs(s:processes()) do
      if i <= M.TOP then busy[p.pid] = true end
    end
    -- frames with their binaries: the pprof (and OTLP) mappings, build ids;
    -- kernel names from one pass over kallsyms (not all of it kept). Taken:
    -- each count read and deleted at once, so a sample taken while this
    -- window is read goes to the next one (a read, then a clear, lost it);
    -- others: the samples of the processes not symbolized
    local rows, others = s:entries{ pids = busy, frames = true, name_kernel = true, take = true }
    -- the stacks of this window are read: their room goes to the next ones
    s:forget_stacks()
    local procs = by_process(rows)
    local other = { comm = "other", rows = { { count = others, comm = "other", user = {}, kernel = {} } },
      samples = others }
    local list = {}
    for i = 1, math.min(#procs, M.TOP) do list[i] = procs[i] end
    if other.samples > 0 then list[#list + 1] = other end
    for _, p in ipairs(list) do
      local prof = stacks.from_rows(p.rows, { sample_type = "samples", unit = "count", period_type = "cpu",
        period_unit = "nanoseconds", period = period, time_ns = t0, duration_ns = now - t0 })
      local labels = { host = o.host, comm = p.comm, service = p.comm }
      if p.pid then
        labels.pid = tostring(p.pid)
        labels.cgroup = cgroup_of(p.pid)
      end
      for k, v in pairs(o.labels or {}) do labels[k] = v end
      local bytes = assert(pprof.encode(prof))
      o.send { data = M.base64(bytes), title = ("%s %s"):format(p.comm or "?", p.pid or ""), labels = labels,
        samples = p.samples, time = now / 1e9 }
    end
    t0 = now
    -- symbols of processes and files unused lately go: memory follows what runs
    frames.sweep(M.KEEP)
    report()
  end
  timer.set_interval(interval * 1000, flush)
  return { flush = flush, host = o.host or uv.os_gethostname() }
end

return M
