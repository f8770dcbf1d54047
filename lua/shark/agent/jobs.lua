-- SPDX-License-Identifier: GPL-2.0
-- shark/agent/jobs.lua - the agent's jobs: one process each (shark agent
-- --job), so a job that loops, leaks or crashes ends alone and the kernel
-- enforces its limits. Each publishes its metrics as JSON lines on a pipe;
-- the latest snapshot of every job is what the exporters read.
local uv = require "uv"
local cjson = require "cjson"
local config = require "shark.agent.config"
local sandbox = require "shark.sandbox"

local M = {}

local Sup = {}
Sup.__index = Sup

local MAX_LINE = 64 * 1024 * 1024	-- a snapshot larger than this is refused
local BACKOFF_MAX = 60

function M.new(o)
  return setmetatable({ log = o.log, jobs = {}, order = {}, exe = o.exe or uv.exepath(),
    on_profile = o.on_profile }, Sup)
end

-- Lines from a pipe, whole: fn(line) for each.
local function line_reader(fn, on_too_long)
  local buf = {}
  local size = 0
  return function(err, data)
    if err or not data then return end
    local start = 1
    while true do
      local nl = data:find("\n", start, true)
      if not nl then break end
      buf[#buf + 1] = data:sub(start, nl - 1)
      fn(table.concat(buf))
      buf, size = {}, 0
      start = nl + 1
    end
    if start <= #data then
      buf[#buf + 1] = data:sub(start)
      size = size + #data - start + 1
      if size > MAX_LINE then
        buf, size = {}, 0
        on_too_long()
      end
    end
  end
end

local function close(h)
  if h and not h:is_closing() then h:close() end
end

function Sup:_start(j)
  local out, err, mpipe = uv.new_pipe(false), uv.new_pipe(false), uv.new_pipe(false)
  local args = { "agent", "--job", j.name, "--interval", tostring(j.interval) }
  if j.sandbox then args[#args + 1] = "--sandbox" end
  if j.policy then
    args[#args + 1] = "--policy"
    args[#args + 1] = cjson.encode(j.policy)
  end
  args[#args + 1] = "--"
  args[#args + 1] = j.script
  for _, a in ipairs(j.args or {}) do args[#args + 1] = a end
  local state = { cfg = j, key = config.job_key(j), started = uv.now(), start_ns = os.time() * 1e9 }
  local handle, pid = uv.spawn(self.exe, { args = args, stdio = { nil, out, err, mpipe } },
    function(code, signal) self:_exited(state, code, signal) end)
  if not handle then
    close(out) close(err) close(mpipe)
    self.log("job %s: cannot start: %s", j.name, tostring(pid))
    state.status = "failed to start: " .. tostring(pid)
    return state
  end
  state.handle, state.pid, state.pipes = handle, pid, { out, err, mpipe }
  -- "running" once its first snapshot arrives: the job sends it when its
  -- script has attached (job.lua), so shark_agent_job_up 1 means it counts
  state.status = "starting"
  out:read_start(line_reader(function(line) print(("[%s] %s"):format(j.name, line)) end, function() end))
  err:read_start(line_reader(function(line)
    if not line:match("^%s") and line ~= "stack traceback:" then
      state.last_err = line
      if line:find("sandbox: ", 1, true) and not state.violation then state.violation = line end
    end
    io.stderr:write(("[%s] %s\n"):format(j.name, line))
  end, function() end))
  mpipe:read_start(line_reader(function(line)
    local ok, snap = pcall(cjson.decode, line)
    if ok and type(snap) == "table" and type(snap.profile) == "table" then
      if self.on_profile then self.on_profile(j, snap.profile) end
    elseif ok and type(snap) == "table" and type(snap.metrics) == "table" then
      state.snapshot, state.snap_time = snap.metrics, snap.time
      if state.status == "starting" then state.status = "running" end
      for _, fam in ipairs(snap.metrics) do fam.start_ns = state.start_ns end
    else
      self.log("job %s: a malformed metrics snapshot was dropped", j.name)
    end
  end, function() self.log("job %s: a metrics snapshot over %d bytes was dropped", j.name, MAX_LINE) end))
  self.log("job %s: started, pid %d: %s", j.name, pid, j.script)
  return state
end

-- Why a job ended, in words: its exit status, the signal, or the sandbox
-- rule it broke (then it is not restarted).
local function ending(state, code, signal)
  if signal == 24 then return "exceeded its CPU time (policy cpu_seconds)", true end
  if signal == 9 and state.stopping then return "killed after the grace period", true end
  if signal ~= 0 then return ("killed by signal %d"):format(signal), false end
  if state.violation then return "broke its sandbox: " .. state.violation, true end
  if code == sandbox.EXIT then return "broke its sandbox: " .. tostring(state.last_err), true end
  if state.last_err and state.last_err:find("not enough memory", 1, true) then
    return "exceeded its memory (policy memory_mb)", true
  end
  if code == 0 then return "finished", true end
  return ("failed (exit %d): %s"):format(code, tostring(state.last_err)), false
end

function Sup:_exited(state, code, signal)
  for _, p in ipairs(state.pipes or {}) do close(p) end
  close(state.handle)
  state.handle = nil
  local why, final = ending(state, code, signal)
  state.status = why
  state.exit = { code = code, signal = signal }
  if state.stopping then
    if state.on_stopped then state.on_stopped() end
    return
  end
  self.log("job %s: %s", state.cfg.name, why)
  if final then return end
  -- a crashed job comes back, later each time it fails quickly
  local up = (uv.now() - state.started) / 1000
  state.backoff = up > BACKOFF_MAX and 1 or math.min((state.backoff or 0.5) * 2, BACKOFF_MAX)
  local t = uv.new_timer()
  state.restart_timer = t
  t:start(state.backoff * 1000, 0, function()
    close(t)
    if self.jobs[state.cfg.name] ~= state then return end
    local new = self:_start(state.cfg)
    new.backoff = state.backoff
    self.jobs[state.cfg.name] = new
  end)
  self.log("job %s: restarting in %g s", state.cfg.name, state.backoff)
end

-- Ask a job to end (SIGTERM: it runs its on_end); kill it after a grace.
function Sup:_stop(state, grace_ms, done) -- luacheck: no unused args
  if state.restart_timer then close(state.restart_timer) end
  if not state.handle then
    if done then done() end
    return
  end
  state.stopping = true
  state.on_stopped = done
  state.handle:kill("sigterm")
  local t = uv.new_timer()
  t:start(grace_ms or 5000, 0, function()
    close(t)
    if state.handle then state.handle:kill("sigkill") end
  end)
  t:unref()
end

-- Make the running jobs those of the list: start new and changed ones,
-- stop removed and changed ones, leave the rest alone.
function Sup:apply(list)
  local want = {}
  for _, j in ipairs(list) do
    if j.enable ~= false then want[j.name] = j end
  end
  for name, state in pairs(self.jobs) do
    local j = want[name]
    if not j then
      self.log("job %s: removed, stopping", name)
      self.jobs[name] = nil
      self:_stop(state, 5000)
    elseif config.job_key(j) ~= state.key then
      -- listed until it has stopped; then its successor starts
      self.log("job %s: changed, restarting", name)
      self:_stop(state, 5000, function() self.jobs[name] = self:_start(j) end)
    end
  end
  self.order = {}
  for _, j in ipairs(list) do
    if want[j.name] then
      self.order[#self.order + 1] = j.name
      if not self.jobs[j.name] then self.jobs[j.name] = self:_start(j) end
    end
  end
end

-- Stop every job and wait for them (the loop has stopped: run it here).
function Sup:stop_all()
  local left = 0
  for _, state in pairs(self.jobs) do
    if state.handle then
      left = left + 1
      self:_stop(state, 5000, function() left = left - 1 end)
    elseif state.restart_timer then
      close(state.restart_timer)
    end
  end
  while left > 0 do uv.run("once") end
  self.jobs = {}
end

-- The latest snapshot of each running job, in config order.
function Sup:snapshots()
  local out = {}
  for _, name in ipairs(self.order) do
    local s = self.jobs[name]
    if s and s.snapshot then out[#out + 1] = s.snapshot end
  end
  return out
end

function Sup:status()
  local out = {}
  for _, name in ipairs(self.order) do
    local s = self.jobs[name]
    if s then out[#out + 1] = { name = name, pid = s.pid, status = s.status } end
  end
  return out
end

return M
