-- SPDX-License-Identifier: GPL-2.0
-- shark/agent/job.lua - one agent job, in its own process: run the script
-- (sandboxed if the config says so, within its limits) and publish its
-- metrics to the agent every interval, as one JSON line on fd 3.
--
--   shark agent --job NAME --interval S [--policy JSON] -- SCRIPT ARGS...
local ffi = require "ffi"
local cjson = require "cjson"
local api = require "shark.api"
local shark = require "shark"
local metric = require "shark.metric"
local sandbox = require "shark.sandbox"
local timer = require "timer"
local uv = require "uv"

local M = {}

-- setrlimit resources (asm-generic, the same on x86_64 and arm64)
local RLIMIT_CPU, RLIMIT_DATA = 0, 2

local function usage(msg)
  io.stderr:write("shark agent --job: ", msg, "\n")
  shark.exit(2)
end

local function parse(args)
  local o, i = { interval = 15 }, 1
  while i <= #args do
    local a = args[i]
    if a == "--job" then o.name = args[i + 1]; i = i + 2
    elseif a == "--interval" then o.interval = tonumber(args[i + 1]); i = i + 2
    elseif a == "--policy" then o.policy = cjson.decode(args[i + 1]); i = i + 2
    elseif a == "--sandbox" then o.sandbox = true; i = i + 1
    elseif a == "--" then i = i + 1 break
    else break end
  end
  o.script = args[i]
  o.args = {}
  for j = i + 1, #args do o.args[#o.args + 1] = args[j] end
  return o
end

-- The job's limits, set on itself before the script runs: the kernel ends
-- a job past its CPU time (SIGXCPU) and refuses it memory past its policy.
local function set_limits(policy)
  if policy.cpu_seconds then
    local s = math.ceil(policy.cpu_seconds)
    local rc = api.set_rlimit(RLIMIT_CPU, s, s + 1)
    if rc < 0 then return nil, "cpu_seconds: " .. ffi.string(api.strerror(-rc)) end
  end
  if policy.memory_mb then
    local b = policy.memory_mb * 1024 * 1024
    local rc = api.set_rlimit(RLIMIT_DATA, b, b)
    if rc < 0 then return nil, "memory_mb: " .. ffi.string(api.strerror(-rc)) end
  end
  return true
end

-- What a job tells the agent, one JSON line each on fd 3: its metrics
-- snapshot, or a profile to upload. fd 3 is a socket (libuv's pipes), which
-- /dev/fd/3 cannot open: written with write(2), whole lines, blocking.
local function channel()
  local st = uv.fs_fstat(3)
  if not st then return nil end
  return {
    write = function(_, ...)
      local data = table.concat { ... }
      while #data > 0 do
        local n = uv.fs_write(3, data, -1)
        if not n or n <= 0 then return end
        data = data:sub(n + 1)
      end
    end,
    flush = function() end,
  }
end

local function publisher(name, f)
  if not f then return function() end end
  return function(final)
    local snap = metric.collect()
    local line = cjson.encode({ job = name, time = tonumber(api.realtime_ns()) / 1e9, final = final or nil,
      metrics = snap, errors = snap.errors })
    f:write(line, "\n")
    f:flush()
    -- a snapshot's tables and text are garbage now: collected at once, so a
    -- job's heap stays what it holds instead of doubling before the GC runs
    collectgarbage()
  end
end

-- "key=value" arguments of a template job.
local function kv_args(args)
  local o = {}
  for _, a in ipairs(args) do
    local k, v = a:match("^([%w_]+)=(.*)$")
    if not k then return nil, ("template jobs take key=value arguments, not '%s'"):format(a) end
    o[k] = tonumber(v) or v
  end
  return o
end

-- template:count and template:latency: a compiler-free template whose map
-- the agent exports, named by `name` (default shark_<job>_total or
-- shark_<job>_<unit>), labelled by the template's key (`label`, default "key").
local function template(kind, job, args, policy)
  local o, err = kv_args(args)
  if not o then return nil, err end
  if policy then
    for _, key in ipairs { "on", "from", "to" } do
      if o[key] then sandbox.check_event(policy, o[key]) end
    end
    if policy.pids then o.pid = sandbox.check_pid(policy, o.pid) end
  end
  local bpf = require "bpf"
  local name, label = o.name, o.label or "key"
  o.name, o.label = nil, nil
  if kind == "count" then
    local res = bpf.count(o)
    metric.map(res, { name = name or ("shark_%s_total"):format(job:gsub("[^%w_]", "_")),
      help = ("Events of %s by %s (shark agent job %s)."):format(o.on, o.by or "nothing", job),
      labels = { key = label } })
  elseif kind == "latency" then
    o.sums = true
    local lat = bpf.latency(o)
    local unit = o.unit or "ns"
    metric.map(function()
      local out = {}
      for key, h in pairs(lat:histograms()) do
        for slot, n in pairs(h) do out[{ key = tostring(key), slot = slot }] = n end
      end
      return out
    end, { name = name or ("shark_%s_%s"):format(job:gsub("[^%w_]", "_"), unit), hist = "log2",
      help = ("Latency from %s to %s in %s (shark agent job %s)."):format(o.from, o.to, unit, job),
      labels = { key = label } })
  else
    return nil, ("no template job %s (count, latency)"):format(kind)
  end
  return true
end

-- builtin:profile: the agent's profiler, its profiles sent up the channel;
-- template:NAME: a template's map as metrics.
local function builtin(name, args, f, job, policy)
  local tpl = name:match("^template:(.+)$")
  if tpl then
    return function()
      local ok, err = template(tpl, job, args, policy)
      if not ok then error(err, 0) end
    end
  end
  if name ~= "builtin:profile" then return nil, ("no builtin job %s"):format(name) end
  return function()
    local o = cjson.decode(args[1] or "{}")
    o.send = function(p)
      if not f then return end
      f:write(cjson.encode({ profile = p }), "\n")
      f:flush()
    end
    local prof = require("shark.agent.profiler").run(o)
    shark.on_end(prof.flush)
  end
end

local function load_script(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, ("cannot open %s"):format(err) end
  local src = f:read("*a")
  f:close()
  if src:sub(1, 1) == "#" then src = "--" .. src end
  return loadstring(src, "@" .. path)
end

function M.main(args)
  local o = parse(args)
  if not o.name or not o.script then return usage("a job name and a script are needed") end
  if not o.interval or o.interval <= 0 then return usage("--interval wants seconds > 0") end
  local policy = o.policy or {}
  local ok, err = set_limits(policy)
  if not ok then
    io.stderr:write(("job %s: cannot set its limits: %s\n"):format(o.name, err))
    return shark.exit(1)
  end
  -- an always-on job leaves the machine's scheduling alone: its reader
  -- keeps normal priority (-r's real-time reader is for a run at a terminal)
  api.state.rt_prio = 0
  shark.args = o.args
  local f = channel()
  local chunk, lerr
  if o.script:match("^builtin:") or o.script:match("^template:") then
    chunk, lerr = builtin(o.script, o.args, f, o.name, o.sandbox and policy)
  else chunk, lerr = load_script(o.script) end
  if not chunk then
    io.stderr:write(lerr, "\n")
    return shark.exit(1)
  end
  local publish = publisher(o.name, f)
  timer.set_interval(o.interval * 1000, function() publish() end)
  shark.on_end(function() publish(true) end)
  local argv = { [0] = o.script }
  for i, a in ipairs(o.args) do argv[i] = a end
  if o.sandbox then
    local env = sandbox.env(policy, { perf = require "perf", bpf = require "bpf", shark = shark, timer = timer,
      metric = metric, arg = argv, pairs = pairs })
    setfenv(chunk, env)
  else
    _G.arg = argv
    shark.metric = metric
  end
  -- the job's first snapshot as soon as it has attached, not an interval later
  timer.set_timeout(0, function() publish() end)
  chunk(unpack(o.args))
end

return M
