-- SPDX-License-Identifier: GPL-2.0
-- shark agent [--config FILE] [--daemon] [--check]: always-on collection.
-- Runs the config's jobs (scripts, each in its own process, sandboxed on
-- request), serves their metrics to Prometheus, pushes them over OTLP and
-- profiles the machine at a low rate. SIGHUP reloads the config (changed
-- jobs restart, unchanged ones keep running; a bad config keeps the running
-- one); SIGTERM ends every job (their on_end runs) and then the agent.
local ffi = require "ffi"
local uv = require "uv"
local api = require "shark.api"
local cjson = require "cjson"
local shark = require "shark"
local config = require "shark.agent.config"
local jobs = require "shark.agent.jobs"
local exporters = require "shark.agent.exporters"

local M = {}

local USAGE = [[
usage: shark agent [--config FILE] [--daemon] [--check]

  --config FILE   the TOML configuration (default /etc/shark/agent.toml)
  --daemon        detach: pid, stdout and stderr files from [daemon]
  --check         check the configuration and exit (0: good)

SIGHUP reloads the configuration; SIGTERM or Ctrl-C stops every job and exits.]]

local function parse(args)
  local o = { config = config.default_path }
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--config" or a == "-C" then
      o.config = args[i + 1]
      if not o.config then return nil, "--config wants a file" end
      i = i + 2
    elseif a:match("^%-%-config=") then o.config = a:sub(10); i = i + 1
    elseif a == "--daemon" then o.daemon = true; i = i + 1
    elseif a == "--daemonized" then o.daemonized = true; i = i + 1
    elseif a == "--check" then o.check = true; i = i + 1
    elseif a == "-h" or a == "--help" then o.help = true; i = i + 1
    else return nil, ("unknown argument '%s'"):format(a) end
  end
  return o
end

local function log(fmt, ...)
  io.stderr:write(os.date("%Y-%m-%dT%H:%M:%S "), "shark agent: ", fmt:format(...), "\n")
end

-- --daemon: start a detached copy of ourselves with the [daemon] files as
-- its output; it writes the pid file once it runs.
local function daemonize(o, cfg)
  local d = cfg.daemon or {}
  local function open(path)
    if not path then return nil end
    local fd, err = uv.fs_open(path, "a", tonumber("640", 8))
    if not fd then error(("shark agent: cannot open %s: %s"):format(path, err), 0) end
    return fd
  end
  local devnull = assert(uv.fs_open("/dev/null", "r", 0))
  local out, err = open(d.stdout_file), open(d.stderr_file)
  -- the daemon runs in working_directory: it gets the config's full path
  local path = o.config
  if path:sub(1, 1) ~= "/" then path = uv.cwd() .. "/" .. path end
  local args = { "agent", "--config", path, "--daemonized" }
  local h, perr = uv.spawn(uv.exepath(), { args = args, detached = true, cwd = d.working_directory,
    stdio = { devnull, out or devnull, err or out or devnull } }, function() end)
  if not h then error("shark agent: cannot start the daemon: " .. tostring(perr), 0) end
  h:unref()
  print(("shark agent: daemon started, pid %d"):format(h:get_pid()))
end

-- The pid file, written as every file shark writes (a checked folder, a new
-- temporary renamed into place). Return: true, or nil and why.
local function write_pid_file(cfg)
  local path = cfg.daemon and cfg.daemon.pid_file
  if not path then return true end
  local dir, name = path:match("^(.*)/([^/]+)$")
  if not dir then dir, name = ".", path end
  local text = uv.os_getpid() .. "\n"
  if api.safe_write(dir == "" and "/" or dir, name, text, #text) ~= 0 then
    return nil, ffi.string(api.safe_error())
  end
  shark.on_end(function() os.remove(path) end)
  return true
end

-- The config's jobs, and the profiler as one more when [profile] is on.
local function with_profiler(c)
  local list = {}
  for i, j in ipairs(c.jobs) do list[i] = j end
  local p = c.profile
  if p and p.enable then
    list[#list + 1] = { name = "profile", script = "builtin:profile", interval = p.interval, enable = true,
      args = { cjson.encode { hz = p.hz, interval = p.interval, host = uv.os_gethostname(), labels = p.labels } } }
  end
  return list
end

function M.main(args)
  if args[1] == "--job" then return require("shark.agent.job").main(args) end
  local o, err = parse(args)
  if not o then
    io.stderr:write("shark agent: ", err, "\n", USAGE, "\n")
    return shark.exit(2)
  end
  if o.help then print(USAGE) return end
  local cfg, cerr = config.load(o.config)
  if not cfg then
    io.stderr:write("shark agent: ", cerr, "\n")
    return shark.exit(1)
  end
  if o.check then
    print(("%s: ok (%d jobs)"):format(o.config, #cfg.jobs))
    return
  end
  if o.daemon then return daemonize(o, cfg) end
  if o.daemonized then
    local ok, perr = write_pid_file(cfg)
    if not ok then
      log("cannot write the pid file: %s", perr)
      return shark.exit(1)
    end
  end

  local sup = jobs.new { log = log }
  local ex = exporters.new { log = log, jobs = sup, version = shark.version }
  sup.on_profile = function(_, p) ex:profile(p) end
  local function apply(c)
    ex:apply(c)
    sup:apply(with_profiler(c))
  end
  local ok, aerr = pcall(apply, cfg)
  if not ok then
    io.stderr:write("shark agent: ", tostring(aerr), "\n")
    sup:stop_all()
    return shark.exit(1)
  end
  log("running %d jobs from %s", #cfg.jobs, o.config)

  local hup = uv.new_signal()
  hup:start("sighup", function()
    local new, nerr = config.load(o.config)
    if not new then
      log("reload refused, keeping the running configuration: %s", nerr)
      return
    end
    local rok, rerr = pcall(apply, new)
    if not rok then
      log("reload failed, keeping what runs: %s", tostring(rerr))
      return
    end
    cfg = new
    log("reloaded %s: %d jobs", o.config, #cfg.jobs)
  end)
  hup:unref()

  -- snapshots, profiles and scrapes leave garbage behind: a full collection
  -- now and then keeps the heap at what the agent holds (and malloc's free
  -- pages go back), not twice that before the GC gets to it
  local gc = uv.new_timer()
  gc:start(30000, 30000, function()
    collectgarbage()
    api.trim_memory()
  end)
  gc:unref()

  -- The agent ends on a signal: jobs first (each runs its on_end), then
  -- the last export.
  shark.on_end(function()
    hup:close()
    gc:close()
    sup:stop_all()
    local summary = ex:summary()
    if summary then log("%s", summary) end
    ex:close()
    log("stopped")
  end)
end

return M
