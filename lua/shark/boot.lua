-- SPDX-License-Identifier: GPL-2.0
-- shark/boot.lua - run a user script: globals, loading, errors, on_end.
-- The C core calls main(opts) once, runs the loop, then calls finish().
local ffi = require "ffi"
local core = require "shark.core"
local api = require "shark.api"
local shark = require "shark"
local timer = require "timer"
local fs = require "shark.fs"
local phases = require "shark.phases"
phases.mark("lua state, boot modules")

local C = ffi.C
local M = {}

-- ------------------------------------------------------------------ errors

-- Sources of shark's own modules, as their chunk names show them.
local own = {}
for _, name in ipairs(core.modules()) do
  local rel = name:gsub("%.", "/") .. ".lua"
  own["lua/" .. rel] = true
  local dev = os.getenv("SHARK_LUA_PATH")
  if dev then own[dev .. "/" .. rel] = true end
end

local function frame_source(line)
  return line:match("^%s*([^:<]+):%d+:") or line:match("<([^:]+):%d+>")
end

-- Traceback lines of shark's own plumbing say nothing to the user: drop the
-- frames of shark's modules once a frame of the user's code has been seen
-- (a frame above it, where the error was raised, stays).
local function user_traceback(tb, msg)
  local lines, seen_user = {}, false
  -- an error that names the user's line (error(msg, 2) in a module) needs no
  -- frame of shark's modules at all
  local at = type(msg) == "string" and msg:match("^([^:]+):%d+:")
  if at and not own[at] then seen_user = true end
  for line in tb:gmatch("[^\n]+") do
    local src = frame_source(line)
    local mine = src and own[src]
    local skip = line == "stack traceback:" or line:find("[C]: in function 'xpcall'", 1, true)
      or line:find("^%s*%[C%]: ?%?$") or (mine and (seen_user or src == "lua/shark/boot.lua"))
    if not skip then
      if src and not mine then seen_user = true end
      lines[#lines + 1] = line:gsub("in function 'script_main_chunk'$", "in main chunk")
    end
  end
  return lines
end

local function error_text(e)
  if type(e) == "string" then return e end
  local mt = getmetatable(e)
  if mt and mt.__tostring then return tostring(e) end
  return ("(error object is a %s value)"):format(type(e))
end

-- The message handler of every protected call into Lua: print
-- "file:line: message" and a short traceback, count the error, stop the run.
local function on_error(e)
  if e == core.sentinel then return e end
  local lines = user_traceback(debug.traceback("", 2), e)
  if #lines > 12 then
    for i = #lines, 11, -1 do lines[i] = nil end
    lines[#lines + 1] = "\t..."
  end
  -- (a terminal in raw mode is given back first, so the message shows)
  for _, hook in ipairs(shark._end_hooks.error) do pcall(hook) end
  io.stdout:flush()
  io.stderr:write(error_text(e), "\n")
  if #lines > 0 then
    io.stderr:write("stack traceback:\n", table.concat(lines, "\n"), "\n")
  end
  api.state.errors = api.state.errors + 1
  api.stop(C.SHARK_STOP_ERROR)
  return core.sentinel
end
core.set_error_handler(on_error)
shark._on_error = on_error  -- for protected loops that report and go on (shark.source)

-- A syntax error or a missing file: the message is all there is to say.
local function fail(msg)
  io.stdout:flush()
  io.stderr:write(msg, "\n")
  api.state.errors = api.state.errors + 1
  api.stop(C.SHARK_STOP_ERROR)
end

-- ----------------------------------------------------------------- globals

-- pairs() that honours __pairs (bpf maps rely on it), also on a LuaJIT built
-- without 5.2 compatibility. Plain tables still get the builtin next.
local function shark_pairs(t)
  local mt = getmetatable(t)
  if mt and mt.__pairs then return mt.__pairs(t) end
  return next, t, nil
end

-- Modules that scripts use without require, loaded on first use.
local lazy = { perf = "perf", bpf = "bpf", sharkcloud = "sharkcloud" }

-- ffi.string(NULL) reads address 0: a script (the original README's
-- ffi.string(e.raw.filename) on an unreadable string) must get a Lua error
-- at its line, not a SIGSEGV. The module table is shared, so the `ffi`
-- global and require "ffi" both get the checked one.
local function guard_ffi_string()
  local raw_string = ffi.string
  if rawget(ffi, "_raw_string") then return end
  ffi._raw_string = raw_string
  ffi.string = function(p, n)
    if p == nil and n ~= 0 then error("ffi.string: NULL pointer", 2) end
    return raw_string(p, n)
  end
end

local function install_globals(opts)
  guard_ffi_string()
  local embedded = {}
  for _, name in ipairs(core.modules()) do embedded[name] = true end
  _G.shark = shark
  _G.ffi = ffi
  _G.set_interval = timer.set_interval
  _G.set_timeout = timer.set_timeout
  _G.clear_timer = timer.clear_timer
  _G.pairs = shark_pairs
  _G.arg = { [0] = opts.script }
  for i, a in ipairs(opts.args) do _G.arg[i] = a end
  setmetatable(_G, {
    __index = function(_, name)
      local mod = lazy[name]
      if mod and (embedded[mod] or os.getenv("SHARK_LUA_PATH")) then
        local ok, m = pcall(require, mod)
        if ok then
          rawset(_G, name, m)
          return m
        end
      end
      return nil
    end,
  })
end

-- ------------------------------------------------------------------ the run

local function load_script(opts)
  local src, name
  if opts.kind == "code" then
    src, name = opts.script, "=-e"
  elseif opts.kind == "stdin" then
    src, name = io.stdin:read("*a"), "=stdin"
  else
    local err, step
    src, err, step = fs.read_file(opts.script)
    if not src then return nil, ("shark: cannot %s %s"):format(step, err) end
    name = "@" .. opts.script
  end
  -- a "#!" first line becomes a comment, so line numbers stay right
  if src:sub(1, 1) == "#" then src = "--" .. src end
  return loadstring(src, name)
end

-- Modules next to the script come first: require "mylib" finds mylib.lua.
local function add_script_dir(opts)
  if opts.kind ~= "file" then return end
  local dir = opts.script:match("^(.*)/[^/]*$") or "."
  package.path = dir .. "/?.lua;" .. dir .. "/?/init.lua;" .. package.path
end

-- A bundle (shark bundle): the script, its modules and BPF objects are inside.
local function bundle_main(opts)
  local bundle = require "shark.bundle"
  local files = bundle.current()
  local meta = require("cjson").decode(files.meta)
  -- the name its messages and usage give: --name, else the file it was run as
  if meta.name then _G.arg[0] = meta.name end
  if opts.version then
    print(("%s: a bundle of %s, made %s with shark %s (%s, libbpf %s) on %s"):format(
      _G.arg[0]:match("[^/]*$"), meta.script, meta.made, meta.shark, meta.luajit, meta.libbpf, meta.kernel))
    print(("runs with shark %s for %s"):format(shark.version, meta.arch or require("shark.arch").bpf_target))
    return
  end
  for name, file in pairs(files) do
    local mod = name:match("^module/(.+)$")
    if mod then
      package.preload[mod] = function(...)
        local chunk = assert(loadstring(file, "@" .. mod:gsub("%.", "/") .. ".lua"))
        return chunk(...)
      end
    end
  end
  local src = files.script
  local first = opts.args[1]
  if (first == "-h" or first == "--help") and not src:find("getopt", 1, true) then
    -- a script without an option parser: its header comment is its usage
    local text = {}
    for line in src:gmatch("([^\n]*)\n") do
      if not line:match("^%-%-") and not line:match("^#!") then break end
      if not line:find("SPDX-License-Identifier", 1, true) then text[#text + 1] = line:gsub("^%-%- ?", "") end
    end
    print(table.concat(text, "\n"))
    return
  end
  if src:sub(1, 1) == "#" then src = "--" .. src end
  local script_main_chunk, err = loadstring(src, "@" .. meta.script)
  if not script_main_chunk then return fail(err) end
  if not bundle.reads_args(script_main_chunk) then
    -- a script with no options of its own: the tool takes shark's
    bundle.shark_options(opts.args, _G.arg[0]:match("[^/]*$"))
    if api.state.stop_reason ~= 0 then return end
    return script_main_chunk()
  end
  script_main_chunk(unpack(opts.args))
end

local function run_main(opts)
  if opts.kind == "bundle" then
    shark.args = opts.args
    install_globals(opts)
    return bundle_main(opts)
  end
  add_script_dir(opts)
  shark.args = opts.args
  shark._command = opts.command
  install_globals(opts)
  if opts.kind == "module" then
    return require(opts.module).main(opts.args, opts)
  end
  local script_main_chunk, err = load_script(opts)
  if not script_main_chunk then return fail(err) end
  phases.mark("script loaded")
  script_main_chunk(unpack(opts.args))
end

function M.main(opts)
  run_main(opts)
  -- the top level has run: probes are attached, -d and intervals start now
  if api.state.stop_reason == 0 then shark._ready() end
end

-- End the run in phases (shark.source): detach every source, drain what
-- they hold, run the on_end handlers (each once, in order; one failing does
-- not stop the others), close. Return how many handlers ran.
function M.finish()
  local n = 0
  local failed = api.state.stop_reason == C.SHARK_STOP_ERROR
  local function call(f, ...) return xpcall(f, on_error, ...) end
  require("shark.source").default():finish(failed, call, function()
    for _, hook in ipairs(shark._end_hooks.before) do xpcall(hook, on_error, failed) end
    while true do
      local h = shark._take_end_handler()
      if not h then break end
      n = n + 1
      xpcall(h, on_error)
    end
    for _, hook in ipairs(shark._end_hooks.after) do xpcall(hook, on_error) end
  end)
  io.stdout:flush()
  return n
end

return M
