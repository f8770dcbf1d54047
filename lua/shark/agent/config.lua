-- SPDX-License-Identifier: GPL-2.0
-- shark/agent/config.lua - the agent's TOML configuration: parsed by toml11
-- (shark.toml), checked against a schema, defaults filled in. Every error
-- names the file, the line and the key: "agent.toml:12: job[2].interval:
-- expected a number of seconds > 0, got "x"".
--
-- PSH's sections keep their meaning ([otlp], [otlp.timeout], [daemon],
-- [component]); shark adds [[job]], [profile], [prometheus] and [server].
local toml = require "shark.toml"

local M = {}

M.default_path = "/etc/shark/agent.toml"

local PROTOCOLS = { httpbinary = "HttpBinary", httpjson = "HttpJson", grpc = "Grpc" }

-- ------------------------------------------------------------ checkers

local Bad = {}

local function bad(msg) return setmetatable({ msg = msg }, Bad) end

local function show(v)
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end

local function string_(v)
  if type(v) ~= "string" then return bad("expected a string, got " .. show(v)) end
  return v
end

local function nonempty(v)
  if type(v) ~= "string" or v == "" then return bad("expected a non-empty string, got " .. show(v)) end
  return v
end

local function bool(v)
  if type(v) ~= "boolean" then return bad("expected true or false, got " .. show(v)) end
  return v
end

local function seconds(v)
  if type(v) ~= "number" or v ~= v or v <= 0 or v == math.huge then
    return bad("expected a number of seconds > 0, got " .. show(v))
  end
  return v
end

local function int_range(lo, hi)
  return function(v)
    if type(v) ~= "number" or v ~= math.floor(v) or v < lo or v > hi then
      return bad(("expected a whole number from %d to %d, got %s"):format(lo, hi, show(v)))
    end
    return v
  end
end

local function one_of(map, what)
  return function(v)
    local r = type(v) == "string" and map[v:lower()]
    if not r then
      local names = {}
      for _, n in pairs(map) do names[#names + 1] = n end
      table.sort(names)
      return bad(("expected %s (%s), got %s"):format(what, table.concat(names, ", "), show(v)))
    end
    return r
  end
end

local function hostport(v)
  if type(v) ~= "string" then return bad("expected \"ADDR:PORT\", got " .. show(v)) end
  local host, port = v:match("^%[(.+)%]:(%d+)$")
  if not host then host, port = v:match("^([^:]*):(%d+)$") end
  port = tonumber(port)
  if not host or not port or port > 65535 then return bad("expected \"ADDR:PORT\", got " .. show(v)) end
  if host == "" then host = "127.0.0.1" end
  return { host = host, port = port, text = v }
end

local function url(v)
  if type(v) ~= "string" or not v:match("^https?://[^/%s]+") then
    return bad("expected an http:// or https:// URL, got " .. show(v))
  end
  return v
end

local function list_of(check)
  return function(v, at, ctx)
    if type(v) ~= "table" or (next(v) ~= nil and #v == 0) then return bad("expected a list, got " .. show(v)) end
    local out = {}
    for i, x in ipairs(v) do
      local r = check(x, at .. "[" .. i .. "]", ctx)
      if getmetatable(r) == Bad then return r, at .. "[" .. i .. "]" end
      out[i] = r
    end
    return out
  end
end

local function arg_value(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then return (v == math.floor(v)) and ("%d"):format(v) or tostring(v) end
  return bad("expected a string or a number, got " .. show(v))
end

local function string_map(v)
  if type(v) ~= "table" or #v > 0 then return bad("expected a table of strings") end
  for k, x in pairs(v) do
    if type(x) ~= "string" then return bad(("%s: expected a string, got %s"):format(k, show(x))) end
  end
  return v
end

-- ------------------------------------------------------------ schema

local section = {}

section.daemon = { keys = {
  pid_file = string_, stdout_file = string_, stderr_file = string_, working_directory = string_,
} }

section.otlp = { keys = {
  enable = bool, endpoint = url, protocol = one_of(PROTOCOLS, "a protocol"),
  interval = seconds, queue = int_range(1, 100000), headers = string_map, ca_file = nonempty, allow_plain = bool,
  profiles = bool,
  timeout = { keys = { secs = int_range(0, 86400), nanos = int_range(0, 999999999) } },
}, defaults = { enable = false, protocol = "HttpBinary", interval = 60, queue = 1000, profiles = false } }

section.prometheus = { keys = { listen = hostport, path = nonempty },
  defaults = { path = "/metrics" } }

section.profile = { keys = {
  enable = bool, hz = int_range(1, 10000), interval = seconds, upload = url, token = string_,
  directory = nonempty, labels = string_map, ca_file = nonempty, allow_plain = bool,
}, defaults = { enable = true, hz = 19, interval = 60 } }

section.server = { keys = { url = url, token = string_, ca_file = nonempty, allow_plain = bool } }

local policy = { keys = {
  events = list_of(nonempty), pids = list_of(int_range(1, 2 ^ 31)), cgroups = list_of(nonempty),
  cpu_seconds = seconds, memory_mb = int_range(1, 2 ^ 20),
} }

local job = { keys = {
  name = nonempty, script = nonempty, args = list_of(arg_value), interval = seconds, sandbox = bool,
  enable = bool, policy = policy,
}, required = { "name", "script" }, defaults = { interval = 15, sandbox = false, enable = true, args = {} } }

section.component = { keys = { path = nonempty, args = list_of(arg_value) }, required = { "path" } }

-- ------------------------------------------------------------ checking

local Config = {}
local check_transport

local function fail(ctx, key, msg)
  local line = ctx.lines[key]
  -- an unknown key's parent has a line when the key itself is a table
  error({ config_error = ("%s:%s: %s: %s"):format(ctx.name, line or "?", key, msg) }, 0)
end

local function check_table(spec, v, at, ctx)
  if type(v) ~= "table" or (#v > 0) then fail(ctx, at, "expected a table") end
  local out = {}
  for k, x in pairs(v) do
    local key = at == "" and k or at .. "." .. k
    local check = spec.keys[k]
    if not check then
      local names = {}
      for n in pairs(spec.keys) do names[#names + 1] = n end
      table.sort(names)
      fail(ctx, key, "unknown key (known: " .. table.concat(names, ", ") .. ")")
    end
    local r, where
    if type(check) == "table" then r = check_table(check, x, key, ctx)
    else r, where = check(x, key, ctx) end
    if getmetatable(r) == Bad then fail(ctx, where or key, r.msg) end
    out[k] = r
  end
  for _, k in ipairs(spec.required or {}) do
    if out[k] == nil then fail(ctx, at, "missing key '" .. k .. "'") end
  end
  for k, d in pairs(spec.defaults or {}) do
    if out[k] == nil then out[k] = type(d) == "table" and {} or d end
  end
  return out
end

local function check_jobs(v, ctx, base)
  if type(v) ~= "table" or #v == 0 and next(v) ~= nil then
    fail(ctx, "job", "expected [[job]] tables")
  end
  local jobs, names = {}, {}
  for i, j in ipairs(v) do
    local at = "job[" .. i .. "]"
    local r = check_table(job, j, at, ctx)
    if not r.name:match("^[%w_.%-]+$") then
      fail(ctx, at .. ".name", "letters, digits, '_', '.' and '-' only, got " .. show(r.name))
    end
    if names[r.name] then fail(ctx, at .. ".name", "a job named " .. show(r.name) .. " is already defined") end
    names[r.name] = true
    if not r.script:match("^template:") and not r.script:match("^/") and base then
      r.script = base .. "/" .. r.script
    end
    jobs[i] = r
  end
  return jobs
end

local function loopback(u)
  local host = u:match("^https?://%[([^%]]+)%]") or u:match("^https?://([^:/]+)")
  return host == "localhost" or host == "::1" or (host and host:match("^127%.") ~= nil)
end

-- Off loopback, data and tokens cross the network: https with a CA to check
-- the server against, unless plain HTTP is allowed in so many words.
function check_transport(ctx, sec, name, key)
  local u = sec and sec[key]
  if not u then return end
  if u:match("^https://") then
    if not sec.ca_file then
      fail(ctx, name .. "." .. key, "an https:// URL needs ca_file, the CA certificates (PEM) to check the server "
        .. "against")
    end
  elseif not loopback(u) and not sec.allow_plain then
    fail(ctx, name .. "." .. key, "plain http:// to a host that is not loopback: use https:// with ca_file, or "
      .. "set allow_plain = true")
  end
end

-- M.parse(text, name[, base]) -> config | nil, "name:line: key: message".
-- base: the folder relative job scripts are found in (the config's own).
function M.parse(text, name, base)
  local tree, lines = toml.parse(text, name)
  if not tree then return nil, lines end
  local ctx = { name = name, lines = lines }
  local ok, cfg = pcall(function()
    local out = { jobs = {} }
    for k, v in pairs(tree) do
      if k == "job" then out.jobs = check_jobs(v, ctx, base)
      elseif section[k] then out[k] = check_table(section[k], v, k, ctx)
      else
        fail(ctx, k, "unknown section (known: component, daemon, job, otlp, profile, prometheus, server)")
      end
    end
    if out.component then
      local path = out.component.path
      if not path:match("%.lua$") then
        fail(ctx, "component.path", "a WebAssembly component cannot run in shark: give a Lua script, "
          .. "or use [[job]]")
      end
      table.insert(out.jobs, 1, { name = "component", script = path, args = out.component.args or {},
        interval = 15, sandbox = true, enable = true })
    end
    if out.otlp and out.otlp.enable and not out.otlp.endpoint then
      fail(ctx, "otlp", "enable = true needs an endpoint")
    end
    -- OTLP profiles are the profiler's: without it there would be none
    if out.otlp and out.otlp.enable and out.otlp.profiles and not (out.profile and out.profile.enable) then
      fail(ctx, "otlp.profiles", "needs the profiler: add a [profile] section (enable = true)")
    end
    -- [server]: the shark serve profiles go to, unless [profile] says otherwise
    if out.server and out.profile then
      for _, k in ipairs { "upload", "token", "ca_file", "allow_plain" } do
        local from = k == "upload" and "url" or k
        if out.profile[k] == nil then out.profile[k] = out.server[from] end
      end
    end
    check_transport(ctx, out.profile, "profile", "upload")
    check_transport(ctx, out.otlp, "otlp", "endpoint")
    -- OTLP/gRPC: a host and port (4317 when none is given), no path
    if out.otlp and out.otlp.protocol == "Grpc" and out.otlp.endpoint
      and out.otlp.endpoint:match("^https?://[^/]+/.") then
      fail(ctx, "otlp.endpoint", "protocol = \"Grpc\" takes http[s]://HOST[:PORT] without a path (the Export "
        .. "methods' paths are added), got " .. ("%q"):format(out.otlp.endpoint))
    end
    if out.otlp then
      local t = out.otlp.timeout or {}
      out.otlp.timeout_s = (t.secs or 3) + (t.nanos or 0) / 1e9
    end
    return setmetatable(out, { __index = Config })
  end)
  if ok then return cfg end
  if type(cfg) == "table" and cfg.config_error then return nil, cfg.config_error end
  error(cfg, 0)
end

function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, ("%s: cannot read: %s"):format(path, err:gsub("^[^:]*: ", "")) end
  local text = f:read("*a")
  f:close()
  local base = path:match("^(.*)/[^/]*$") or "."
  return M.parse(text, path, base)
end

-- A job's identity for reloads: a changed field restarts the job.
function M.job_key(j)
  local parts = { j.name, j.script, tostring(j.interval), tostring(j.sandbox), tostring(j.enable) }
  for _, a in ipairs(j.args or {}) do parts[#parts + 1] = a end
  local p = j.policy or {}
  for _, k in ipairs { "events", "pids", "cgroups" } do
    parts[#parts + 1] = k .. "=" .. table.concat(p[k] or {}, ",")
  end
  parts[#parts + 1] = tostring(p.cpu_seconds) .. "/" .. tostring(p.memory_mb)
  return table.concat(parts, "\0")
end

return M
