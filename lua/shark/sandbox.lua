-- SPDX-License-Identifier: GPL-2.0
-- shark/sandbox.lua - the restricted world of a sandboxed agent job (PSH's
-- sandbox, in Lua). The script gets no ffi, io, debug, os.execute, load of
-- bytecode or require beyond an allow-list; events arrive as plain tables;
-- perf.on and the templates accept only the events, pids and cgroups of the
-- job's policy. Every refusal raises "sandbox: <rule>: <what>", and the job
-- ends with it (exit status M.EXIT), so the agent reports the rule and does
-- not restart the job.
local M = {}

M.EXIT = 3

-- Modules a sandboxed script may require.
M.allowed_modules = { hist = true, ["shark.metric"] = true, cjson = true, ["shark.table"] = true,
  ["shark.getopt"] = true, ["shark.signals"] = true }

local function violation(rule, what)
  error(("sandbox: %s: %s"):format(rule, what), 3)
end

local function glob_match(glob, s)
  local pat = "^" .. glob:gsub("[%^%$%(%)%%%.%+%-%[%]]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
  return s:match(pat) ~= nil
end

-- A table whose missing keys are refusals: sandbox.os.execute names its rule.
local function guarded(t, name, rule)
  return setmetatable(t, {
    __index = function(_, k) violation(rule, ("%s.%s is not allowed"):format(name, tostring(k))) end,
  })
end

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

-- ------------------------------------------------------------ policy

local function check_event(policy, spec)
  if not policy.events then return end
  for ev in tostring(spec):gmatch("[^,%s]+") do
    local ok = false
    for _, g in ipairs(policy.events) do
      if glob_match(g, ev) then ok = true break end
    end
    if not ok then
      violation("events", ("event '%s' is not in the job's policy (%s)"):format(ev, table.concat(policy.events, ", ")))
    end
  end
end

-- The pid a probe of this job may trace: the option's if the policy allows
-- it; a policy with pids demands one.
local function check_pid(policy, pid)
  if not policy.pids then return pid end
  if pid == nil or pid == -1 then
    violation("pids", "this job may only trace pids " .. table.concat(policy.pids, ", ") .. ": give opts.pid")
  end
  for _, p in ipairs(policy.pids) do
    if p == pid then return pid end
  end
  violation("pids", ("pid %s is not in the job's policy (%s)"):format(tostring(pid), table.concat(policy.pids, ", ")))
end

local function check_cgroup(policy, cg)
  if not policy.cgroups then return cg end
  if cg == nil then
    violation("cgroups", "this job may only trace cgroups " .. table.concat(policy.cgroups, ", ")
      .. ": give opts.cgroup")
  end
  for _, c in ipairs(policy.cgroups) do
    if c == cg then return cg end
  end
  violation("cgroups", ("cgroup %s is not in the job's policy"):format(tostring(cg)))
end

local function check_opts(policy, opts)
  opts = copy(opts or {})
  opts.pid = check_pid(policy, opts.pid or opts.target_pid)
  opts.target_pid = nil
  opts.cgroup = check_cgroup(policy, opts.cgroup)
  -- a policy with pids or cgroups confines every probe; -1 would widen it
  if not policy.pids and not policy.cgroups and opts.pid == nil then opts.pid = -1 end
  return opts
end

M.check_event = check_event
M.check_pid = check_pid

-- ------------------------------------------------------------ events

-- An event as plain values: the script never holds an FFI pointer.
local function plain_event(e, raw_fields)
  local t = { name = e.name ~= nil and require("ffi").string(e.name) or nil, time = tonumber(e.time),
    pid = tonumber(e.pid), tid = tonumber(e.tid), cpu = tonumber(e.cpu), period = tonumber(e.period) }
  if raw_fields then
    local raw = {}
    for _, f in ipairs(raw_fields) do
      local ok, v = pcall(function() return e.raw[f] end)
      if ok then
        local tv = type(v)
        if tv == "cdata" then
          local ok2, s = pcall(require("ffi").string, v)
          v = ok2 and s or tonumber(v)
        end
        raw[f] = v
      end
    end
    t.raw = raw
  end
  return t
end

local function make_perf(policy, real)
  local perf = {}
  function perf.on(spec, opts, fn)
    if type(opts) == "function" then opts, fn = nil, opts end
    if type(fn) ~= "function" then error("perf.on: a handler function is needed", 2) end
    check_event(policy, spec)
    local o = check_opts(policy, opts)
    local fields = o.fields
    o.fields = nil
    local h = real.on(spec, o, function(e) fn(plain_event(e, fields)) end)
    return { stop = function() h:stop() end, lost = function() return h:lost() end,
      count = function() return h:count() end }
  end
  return guarded(perf, "perf", "perf")
end

local function make_bpf(policy, real)
  local bpf = {}
  local function template(name)
    return function(o)
      o = copy(o or {})
      for _, key in ipairs { "on", "from", "to" } do
        if o[key] then check_event(policy, o[key]) end
      end
      if policy.pids then
        o.pid = check_pid(policy, o.pid)
      end
      if policy.cgroups then o.cgroup = check_cgroup(policy, o.cgroup) end
      local r = real[name](o)
      -- methods and plain values only: a result's BPF object would hand out FFI memory
      return setmetatable({}, { __index = function(_, k)
        local v = r[k]
        local t = type(v)
        if t == "function" then return function(_, ...) return v(r, ...) end end
        if t == "number" or t == "string" or t == "boolean" or t == "nil" then return v end
        violation("bpf", ("field '%s' of a template's result is not available in a sandbox"):format(tostring(k)))
      end })
    end
  end
  for _, t in ipairs { "count", "latency", "stacks", "offcpu" } do bpf[t] = template(t) end
  bpf.print_hist_map = function(m) return real.print_hist_map(m) end
  return guarded(bpf, "bpf", "bpf (only the prebuilt templates; no BPF C in a sandbox)")
end

-- ------------------------------------------------------------ the world

-- env(policy, real) -> the globals table of a sandboxed script. real holds
-- the unrestricted modules (perf, bpf, shark, timer, metric).
function M.env(policy, real)
  policy = policy or {}
  local env = {}
  for _, k in ipairs { "assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal", "rawget",
    "rawset", "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type", "unpack", "xpcall" } do
    env[k] = _G[k]
  end
  env.pairs = real.pairs or pairs
  env._VERSION = _VERSION
  env.string = copy(string)
  env.string.dump = nil
  env.string = guarded(env.string, "string", "string.dump")
  env.table, env.math, env.coroutine, env.bit = copy(table), copy(math), copy(coroutine), copy(bit)
  env.os = guarded({ time = os.time, clock = os.clock, date = os.date, difftime = os.difftime }, "os",
    "os (time, clock, date and difftime only)")
  env.collectgarbage = function(opt)
    if opt == nil or opt == "count" or opt == "step" or opt == "collect" then return collectgarbage(opt) end
    violation("collectgarbage", ("option %q is not allowed"):format(tostring(opt)))
  end
  env.require = function(name)
    if M.allowed_modules[name] then return require(name) end
    local names = {}
    for n in pairs(M.allowed_modules) do names[#names + 1] = n end
    table.sort(names)
    violation("require", ("module '%s' is not allowed (allowed: %s)"):format(tostring(name), table.concat(names, ", ")))
  end
  -- text chunks only (bytecode can break the VM), in this same world
  local function load_text(src, name)
    if type(src) ~= "string" then violation("load", "only a string of Lua source can be loaded") end
    if src:byte(1) == 27 then violation("load", "bytecode cannot be loaded") end
    local f, err = loadstring(src, name)
    if not f then return nil, err end
    return setfenv(f, env)
  end
  env.loadstring, env.load = load_text, load_text
  env.shark = guarded({ on_end = real.shark.on_end, exit = real.shark.exit, args = real.shark.args,
    time = real.shark.time, every = real.shark.every, print_hist = real.shark.print_hist,
    info = real.shark.info, log = real.shark.log, metric = real.metric, getopt = real.shark.getopt },
    "shark", "shark (no access to the runtime's internals)")
  env.set_interval, env.set_timeout, env.clear_timer = real.timer.set_interval, real.timer.set_timeout,
    real.timer.clear_timer
  env.perf = make_perf(policy, real.perf)
  env.bpf = make_bpf(policy, real.bpf)
  env.arg = real.arg
  env._G = env
  local rules = { ffi = "ffi", io = "io", debug = "debug", dofile = "dofile", loadfile = "loadfile",
    getfenv = "getfenv", setfenv = "setfenv", module = "module", package = "package", jit = "jit",
    newproxy = "newproxy", sharkcloud = "network", gcinfo = "collectgarbage" }
  return setmetatable(env, {
    __index = function(_, k)
      local rule = rules[k]
      if rule then violation(rule, ("'%s' is not available in a sandboxed job"):format(k)) end
      return nil
    end,
  })
end

return M
