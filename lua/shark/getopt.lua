-- SPDX-License-Identifier: GPL-2.0
-- shark/getopt.lua - command-line options for tools written as shark scripts:
-- short and long options, -h/--help, usage errors that exit 2, and the
-- options every tracing tool has (-p PID, -d SECONDS, -j) in one word each.
local shark = require "shark"
local timer = require "timer"

local M = {}

local function pid_type(flag)
  return function(v)
    return require("shark.pid").check(v, flag)
  end
end

-- The options tracing tools share: `"pid"` in a spec stands for the whole row.
M.common = {
  pid = { "p", "pid", "PID", "trace this process only (default: shark's -p/-c target)", type = pid_type("-p") },
  tid = { "t", "tid", "TID", "trace this thread only", type = pid_type("-t") },
  duration = { "d", "duration", "SECONDS", "stop after SECONDS", type = "number" },
  json = { "j", "json", nil, "print JSON lines instead of a table" },
  timestamp = { "T", "timestamp", nil, "print a time column" },
  comm = { "c", "comm", "COMM", "trace processes with this command name only" },
  interface = { "i", "interface", "DEV", "the interface; 'any': every one", default = "lo" },
}

-- "unknown option 'k' (options: a, b, c)": for functions taking a table of
-- options (perf.on, the bpf templates).
function M.unknown(k, known)
  local names = {}
  for n in pairs(known) do names[#names + 1] = n end
  table.sort(names)
  return ("unknown option '%s' (options: %s)"):format(tostring(k), table.concat(names, ", "))
end

local function script_name()
  local a = rawget(_G, "arg")
  local path = a and a[0] or "tool"
  return (tostring(path):match("([^/]+)$") or "tool"):gsub("%.lua$", "")
end

local function key_of(row) return (row[2] or row[1]):gsub("-", "_") end

-- Normalize the rows: strings name common options; index by short and long name.
local function rows_of(spec)
  local rows, by = {}, {}
  for i, row in ipairs(spec) do
    if type(row) == "string" then
      row = M.common[row] or error(("getopt: no common option '%s'"):format(row), 3)
    end
    if type(row) ~= "table" or (not row[1] and not row[2]) then
      error(("getopt: row %d: expected { short, long, ARG, help }"):format(i), 3)
    end
    rows[#rows + 1] = row
    if row[1] then by["-" .. row[1]] = row end
    if row[2] then by["--" .. row[2]] = row end
  end
  return rows, by
end

-- The help text: a usage line, what the tool does, the options, examples.
function M.help(spec)
  local rows = rows_of(spec)
  local name = spec.name or script_name()
  local out = { ("usage: %s %s"):format(name, spec.usage or "[options]" ..
    (spec.args and (" " .. table.concat(spec.args, " ")) or "")) }
  if spec.about then out[#out + 1] = "\n" .. spec.about end
  out[#out + 1] = "\noptions:"
  local lines = { { "-h, --help", "show this help and exit" } }
  for _, row in ipairs(rows) do
    local flag = (row[1] and ("-" .. row[1]) or "   ") .. (row[1] and row[2] and ", " or "") ..
      (row[2] and ("--" .. row[2]) or "") .. (row[3] and (" " .. row[3]) or "")
    local help = row[4] or ""
    if row.default ~= nil then help = help .. (" (default %s)"):format(tostring(row.default)) end
    lines[#lines + 1] = { flag, help }
  end
  local w = 0
  for _, l in ipairs(lines) do w = math.max(w, #l[1]) end
  for _, l in ipairs(lines) do out[#out + 1] = ("  %-" .. w .. "s  %s"):format(l[1], l[2]) end
  if spec.examples then
    out[#out + 1] = "\nexamples:"
    for _, e in ipairs(spec.examples) do out[#out + 1] = "  " .. e end
  end
  return table.concat(out, "\n")
end

local function convert(row, v)
  local t = row.type
  if type(t) == "function" then -- a parser: value, or nil and why
    local val, err = t(v)
    if val == nil then return nil, err or ("%s: invalid value '%s'"):format(row[3] or row[2], v) end
    return val
  end
  if t == "int" or t == "number" then
    local n = tonumber(v)
    -- nan and inf (and 1e400) are numbers to tonumber, not to a tool's user
    if n and (n ~= n or n == math.huge or n == -math.huge) then n = nil end
    if not n or (t == "int" and n ~= math.floor(n)) then
      return nil, ("%s wants %s, got '%s'"):format(row[3] or row[2], t == "int" and "an integer" or "a number", v)
    end
    return n
  end
  if row.choices then
    for _, c in ipairs(row.choices) do if c == v then return v end end
    return nil, ("%s: '%s' is not one of %s"):format(row[3] or row[2], v, table.concat(row.choices, ", "))
  end
  return v
end

-- Parse argv (default shark.args) by spec. Returns a table keyed by each
-- option's long name (dashes as underscores): true for flags, the value
-- (converted by `type`) for options with an ARG, a list when `list = true`;
-- positional arguments are in `.args` and, named by spec.args, by name
-- (as numbers when they look like numbers). -h prints the help and ends the
-- run with 0; a usage error prints the message and the usage, exit 2.
function M.parse(spec, argv)
  argv = argv or shark.args
  local rows, by = rows_of(spec)
  local name = spec.name or script_name()
  local o = { args = {} }
  for _, row in ipairs(rows) do
    local k = key_of(row)
    if row.default ~= nil then o[k] = row.default end
    if row.list then o[k] = {} end
  end

  local function fail(msg)
    io.stdout:flush()
    io.stderr:write(("%s: %s\n%s\ntry '%s -h' for more\n"):format(name, msg,
      M.help(spec):match("^[^\n]*"), name))
    shark.exit(2)
  end
  local function set(row, v)
    local k = key_of(row)
    if row[3] then
      local val, err = convert(row, v)
      if val == nil then return fail(err) end
      if row.list then table.insert(o[k], val) else o[k] = val end
    else
      o[k] = true
    end
  end

  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "-h" or a == "--help" then
      print(M.help(spec))
      shark.exit(0)
    elseif a == "--" then
      for j = i + 1, #argv do o.args[#o.args + 1] = argv[j] end
      break
    elseif a:sub(1, 2) == "--" then
      local long, val = a:match("^(%-%-[^=]+)=(.*)$")
      local row = by[long or a]
      if not row then return fail("unknown option " .. (long or a)) end
      if row[3] and not val then
        i = i + 1
        val = argv[i]
        if not val then return fail(a .. " needs " .. row[3]) end
      elseif val and not row[3] then
        return fail((long or a) .. " takes no value")
      end
      set(row, val)
    elseif a:sub(1, 1) == "-" and #a > 1 and (not tonumber(a) or by["-" .. a:sub(2, 2)]) then
      local j = 2
      while j <= #a do
        local row = by["-" .. a:sub(j, j)]
        if not row then return fail("unknown option -" .. a:sub(j, j)) end
        if row[3] then
          local val = a:sub(j + 1)
          if val == "" then
            i = i + 1
            val = argv[i]
            if not val then return fail("-" .. row[1] .. " needs " .. row[3]) end
          end
          set(row, val)
          break
        end
        set(row, nil)
        j = j + 1
      end
    else
      o.args[#o.args + 1] = a
    end
    i = i + 1
  end

  local names = spec.args or {}
  local max = spec.max_args or #names
  if spec.max_args ~= false and #o.args > max then
    return fail(("unexpected argument '%s'"):format(o.args[max + 1]))
  end
  for k, n in ipairs(names) do
    local v = o.args[k]
    n = n:gsub("^%[", ""):gsub("%]$", ""):gsub("%.%.%.$", "")
    if v ~= nil then o[n] = tonumber(v) or v end
  end
  if spec.min_args and #o.args < spec.min_args then
    return fail(("expected %s"):format(table.concat(names, " ")))
  end

  -- Ctrl-C is how a tool's run normally ends: exit 0, as bpftrace's and
  -- BCC's tools do (a script with no on_end handler exits 128 + signal)
  shark.on_end(function() end)
  -- the shared options do what their name says
  if o.pid == nil and by["--pid"] then
    local t = shark.target()
    o.pid = t and t.pid or nil
  elseif o.pid ~= nil and by["--pid"] == M.common.pid then
    -- as shark -p: the process must exist, and the run ends when it exits
    local ok, err = require("shark.core").watch(o.pid)
    if not ok then
      io.stdout:flush()
      io.stderr:write(("%s: %s\n"):format(name, err))
      shark.exit(1)
    end
  end
  if o.duration then
    if o.duration <= 0 then return fail("-d wants a positive number of seconds") end
    -- from when the probes are attached, not from start-up
    shark.on_ready(function() timer.set_timeout(o.duration * 1000, function() shark.exit(0) end) end)
  end
  return o
end

-- Call fn(i) every `seconds` (default 1); after `count` calls (if given) end
-- the run. For the `[interval [count]]` arguments of the classic tools.
-- opts.final: also call fn() (no i) when the run ends some other way (Ctrl-C,
-- -d), so the counts since the last call show; not again after the count-th.
function M.every(seconds, count, fn, opts)
  local i = 0
  if opts and opts.final then
    shark.on_end(function() if not (count and i >= count) then fn() end end)
  end
  -- the first interval starts when the probes are attached: a proxy timer
  -- until then, so the caller can stop it at any time
  local t = setmetatable({ ms = (seconds or 1) * 1000, interval = true }, timer.Timer)
  function t:stop()
    self.stopped = true
    timer.Timer.stop(self)
  end
  t.clear = t.stop
  shark.on_ready(function()
    if t.stopped then return end
    local real = timer.set_interval(t.ms, function()
      i = i + 1
      fn(i)
      if count and i >= count then shark.exit(0) end
    end)
    t.handle = real.handle
  end)
  return t
end

return M
