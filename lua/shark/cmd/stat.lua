-- SPDX-License-Identifier: GPL-2.0
-- shark stat [-e EVENT,...] [-p PID | -a | -c CMD | -- CMD ARGS...] [-r N] [-I MS] [-x SEP | -j] [-o FILE]:
-- perf stat's counting mode. Counters count in the kernel (perf_event_open
-- without sampling, read() at the end or every interval): no ring, no
-- per-event cost beyond the kernel's increment.
local ffi = require "ffi"
local cjson = require "cjson"
local api = require "shark.api"
local shark = require "shark"
local timer = require "timer"
local getopt = require "shark.getopt"
local events = require "perf.events"
local target = require "shark.cmd.target"

local M = {}

local DEFAULT = "task-clock,context-switches,cpu-migrations,page-faults,cycles,instructions,branches,branch-misses"

local spec = {
  name = "shark stat",
  usage = "[-e EVENT,...] [-p PID | -a | -c CMD | -- CMD ARGS...] [-r N] [-I MS] [-x SEP | -j] [-o FILE]",
  about = "Count events in the kernel while a command runs (or for -p PID / -a until Ctrl-C or -d):\n" ..
    "software events, hardware events where the machine has a PMU, tracepoints and globs of them\n" ..
    "(syscalls:sys_enter_*). Default events: " .. DEFAULT .. ".\n" ..
    "-x SEP columns: [interval SEP] value SEP unit SEP event SEP stddev% SEP running-ns SEP running%\n" ..
    "(value is <not supported> or <not counted> when there is none). -j: the same as JSON lines.",
  { "e", "event", "EVENT,...", "events to count", default = DEFAULT },
  { "p", "pid", "PID", "count this process (all its threads)", type = "int" },
  { "a", "all-cpus", nil, "count every process on every CPU" },
  { "c", "command", "CMD", "run CMD (through sh) and count it" },
  { "r", "repeat", "N", "run the command N times: mean +- stddev", type = "int", default = 1 },
  { "I", "interval", "MS", "print the counts of every MS milliseconds", type = "int" },
  { "x", "field-separator", "SEP", "CSV with this separator" },
  { "j", "json", nil, "JSON lines" },
  { "o", "output", "FILE", "write the counts to FILE" },
  { "d", "duration", "SECONDS", "stop after SECONDS (-p, -a)", type = "number" },
  args = { "[-- CMD ARGS...]" }, max_args = false,
  examples = {
    "shark stat -- ls /",
    "shark stat -e 'syscalls:sys_enter_*' -r 5 -x, -- ./myprog",
    "shark stat -a -I 1000 -e context-switches,raw_syscalls:sys_enter -d 5",
  },
}

local TYPE = events.TYPE
local SW_TASK_CLOCK = 1

-- ------------------------------------------------------------ counters

-- What to open for each requested event: { name, type, config, filter } or { name, unsupported = why }.
local function resolve(spec_)
  local list, err = events.parse(spec_)
  if not list then return nil, err end
  list = events.route_syscalls(list)
  local out = {}
  for _, e in ipairs(list) do
    if not e.carrier then
      local c = { name = e.name, type = e.type, config = e.config, exclude_user = e.exclude_user,
        exclude_kernel = e.exclude_kernel }
      if e.via then
        -- a syscall counted on its raw_syscalls carrier, filtered by number
        c.config, c.filter = e.via.config, "id == " .. e.nr
      end
      out[#out + 1] = c
    end
  end
  return out
end

local function hw_type(t)
  return t == TYPE.HARDWARE or t == TYPE.HW_CACHE or t == TYPE.RAW
end

-- Open every event on every (pid, cpu) place. Returns counters or nil, why.
local function open_all(evs, places, inherit, on_exec)
  local a = ffi.new("struct shark_count_attr")
  for _, c in ipairs(evs) do
    c.fds = {}
    c.unsupported = nil
    for _, pl in ipairs(places) do
      a.type, a.config = c.type, c.config
      a.pid, a.cpu = pl.pid, pl.cpu
      a.inherit = inherit and 1 or 0
      a.enable_on_exec = on_exec and 1 or 0
      a.exclude_user = c.exclude_user and 1 or 0
      a.exclude_kernel = c.exclude_kernel and 1 or 0
      a.filter = c.filter
      local fd = api.count_open(a)
      if fd < 0 then
        if hw_type(c.type) and (fd == -2 or fd == -95 or fd == -19) then
          c.unsupported = "not supported here: no hardware PMU (e.g. under virtualization)"
          break
        end
        -- ESRCH with several threads: one exited since it was listed
        if fd ~= -3 or #places == 1 then
          local why = ffi.string(api.strerror(-fd))
          if fd == -13 or fd == -1 then why = why .. " (run as root, or lower kernel.perf_event_paranoid)" end
          return nil, ("%s: %s"):format(c.name, why)
        end
      else
        c.fds[#c.fds + 1] = fd
      end
    end
  end
  return true
end

local function enable_all(evs)
  for _, c in ipairs(evs) do
    for _, fd in ipairs(c.fds) do api.count_enable(fd, 1) end
  end
end

local vals = ffi.new("uint64_t[3]")

-- { value (scaled if multiplexed), enabled, running } summed over the fds.
local function read_one(c)
  local v, en, run = 0, 0, 0
  for _, fd in ipairs(c.fds) do
    if api.count_read(fd, vals) == 0 then
      local x, e, r = tonumber(vals[0]), tonumber(vals[1]), tonumber(vals[2])
      if r > 0 and r < e then x = x * e / r end
      v, en, run = v + x, en + e, run + r
    end
  end
  return v, en, run
end

local function close_all(evs)
  for _, c in ipairs(evs) do
    for _, fd in ipairs(c.fds or {}) do api.fd_close(fd) end
    c.fds = {}
  end
end

-- --------------------------------------------------------------- printing

local function unit_of(c)
  if c.type == TYPE.SOFTWARE and (c.config == SW_TASK_CLOCK or c.config == 0) then return "msec" end
  return ""
end

local function mean_sd(xs)
  local n, s = #xs, 0
  for _, x in ipairs(xs) do s = s + x end
  local mean = n > 0 and s / n or 0
  local v = 0
  for _, x in ipairs(xs) do v = v + (x - mean) ^ 2 end
  local sd = n > 1 and math.sqrt(v / (n - 1)) or 0
  return mean, sd, mean ~= 0 and 100 * sd / mean or 0
end

local function fmt_value(c, v)
  if unit_of(c) == "msec" then return ("%.2f"):format(v / 1e6) end
  if v == math.floor(v) then return ("%d"):format(v) end
  return ("%.2f"):format(v)
end

-- One row per event: { c, value, sd, pct, run_ns, run_pct } -> text / csv / json.
local function emit(out, o, rows, elapsed, interval_t, nruns)
  if o.json then
    for _, r in ipairs(rows) do
      local t = { event = r.c.name, unit = unit_of(r.c) }
      if interval_t then t.interval = interval_t end
      if r.c.unsupported then
        t.value, t.supported, t.reason = cjson.null, false, r.c.unsupported
      else
        t.value = unit_of(r.c) == "msec" and r.value / 1e6 or r.value
        t.stddev_pct = r.pct
        t.running_ns, t.running_pct = r.run, r.run_pct
        if nruns > 1 then t.stddev = unit_of(r.c) == "msec" and r.sd / 1e6 or r.sd end
      end
      out:write(cjson.encode(t), "\n")
    end
    if not interval_t then out:write(cjson.encode({ elapsed_s = elapsed, runs = nruns }), "\n") end
    return
  end
  if o.field_separator then
    local sep = o.field_separator
    for _, r in ipairs(rows) do
      local cells = {}
      if interval_t then cells[#cells + 1] = ("%.6f"):format(interval_t) end
      if r.c.unsupported then
        cells[#cells + 1] = "<not supported>"
      else
        cells[#cells + 1] = fmt_value(r.c, r.value)
      end
      cells[#cells + 1] = unit_of(r.c)
      cells[#cells + 1] = r.c.name
      cells[#cells + 1] = r.c.unsupported and "" or ("%.2f"):format(r.pct)
      cells[#cells + 1] = r.c.unsupported and "" or ("%d"):format(r.run)
      cells[#cells + 1] = r.c.unsupported and "" or ("%.2f"):format(r.run_pct)
      out:write(table.concat(cells, sep), "\n")
    end
    return
  end
  local task_clock
  for _, r in ipairs(rows) do
    if unit_of(r.c) == "msec" and r.c.config == SW_TASK_CLOCK then task_clock = r.value end
  end
  for _, r in ipairs(rows) do
    local prefix = interval_t and ("%14.6f "):format(interval_t) or ""
    if r.c.unsupported then
      out:write(prefix, ("%18s      %-30s  (%s)\n"):format("<not supported>", r.c.name, r.c.unsupported))
    else
      local line = ("%18s %-5s %-30s"):format(fmt_value(r.c, r.value), unit_of(r.c), r.c.name)
      local note = ""
      if r.c.config == SW_TASK_CLOCK and r.c.type == TYPE.SOFTWARE and elapsed and elapsed > 0 then
        note = ("  # %8.3f CPUs utilized"):format(r.value / 1e9 / elapsed)
      elseif task_clock and task_clock > 0 and r.c.type == TYPE.SOFTWARE then
        note = ("  # %8.3f /sec"):format(r.value / (task_clock / 1e9))
      end
      if nruns > 1 then note = note .. ("  ( +- %.2f%%, stddev %s )"):format(r.pct, fmt_value(r.c, r.sd)) end
      if r.run_pct < 99.995 and r.run > 0 then note = note .. ("  (%.2f%%)"):format(r.run_pct) end
      out:write(prefix, (line .. note):gsub("%s+$", ""), "\n")
    end
  end
end

local function rows_of(evs, samples)
  local rows = {}
  for i, c in ipairs(evs) do
    local xs = samples[i] or {}
    local v, sd, pct = mean_sd(xs.v or {})
    local run = mean_sd(xs.run or {})
    local en = mean_sd(xs.en or {})
    rows[#rows + 1] = { c = c, value = v, sd = sd, pct = pct, run = run, run_pct = en > 0 and 100 * run / en or 100 }
  end
  return rows
end

local function add_sample(samples, evs, prev)
  for i, c in ipairs(evs) do
    if not c.unsupported then
      local v, en, run = read_one(c)
      local p = prev and prev[i]
      local s = samples[i] or { v = {}, en = {}, run = {} }
      samples[i] = s
      s.v[#s.v + 1] = v - (p and p[1] or 0)
      s.en[#s.en + 1] = en - (p and p[2] or 0)
      s.run[#s.run + 1] = run - (p and p[3] or 0)
      if prev then prev[i] = { v, en, run } end
    end
  end
end

-- ------------------------------------------------------------------ runs

local function header(out, o, what)
  if o.json or o.field_separator then return end
  out:write(("\n Performance counter stats for %s%s:\n\n"):format(what,
    o["repeat"] > 1 and (" (%d runs)"):format(o["repeat"]) or ""))
end

local function footer(out, o, times)
  if o.json or o.field_separator then return end
  local mean, sd, pct = mean_sd(times)
  if #times > 1 then
    out:write(("\n %14.6f +- %.6f seconds time elapsed  ( +- %.2f%% )\n\n"):format(mean, sd, pct))
  else
    out:write(("\n %14.6f seconds time elapsed\n\n"):format(mean))
  end
end

-- Run argv o.repeat times, counters on the held child from its exec.
local function run_command(out, o, evs, argv)
  local samples, times = {}, {}
  header(out, o, "'" .. target.join(argv) .. "'")
  local cargv = ffi.new("const char *[?]", #argv + 1)
  for i, a in ipairs(argv) do cargv[i - 1] = a end
  local status = ffi.new("int32_t[1]")
  for _ = 1, o["repeat"] do
    local pid = api.child_spawn(cargv)
    if pid < 0 then return nil, ("cannot start '%s': %s"):format(argv[1], ffi.string(api.strerror(-pid))) end
    local ok, err = open_all(evs, { { pid = pid, cpu = -1 } }, true, true)
    if not ok then
      api.child_wait(pid, -1, status)
      close_all(evs)
      return nil, err
    end
    local t0 = tonumber(api.time_ns())
    local rc = api.child_release(pid)
    if rc < 0 then
      api.child_wait(pid, -1, status)
      close_all(evs)
      return nil, ("cannot run '%s': %s"):format(argv[1], ffi.string(api.strerror(-rc)))
    end
    local prev, tick = o.interval and {} or nil, t0
    while true do
      local w = api.child_wait(pid, o.interval or -1, status)
      if w == 1 then break end
      if w == 0 then
        tick = tick + o.interval * 1e6
        local s = {}
        add_sample(s, evs, prev)
        emit(out, o, rows_of(evs, s), nil, (tick - t0) / 1e9, 1)
      elseif w ~= -4 then
        break
      end
    end
    times[#times + 1] = (tonumber(api.time_ns()) - t0) / 1e9
    if o.interval then
      local s = {}
      add_sample(s, evs, prev)
      emit(out, o, rows_of(evs, s), nil, (tonumber(api.time_ns()) - t0) / 1e9, 1)
    else
      add_sample(samples, evs, nil)
    end
    close_all(evs)
    if api.state.stop_reason ~= 0 then break end
  end
  if not o.interval then emit(out, o, rows_of(evs, samples), times[#times] and mean_sd(times), nil, #times) end
  footer(out, o, times)
  return true
end

-- -p PID or -a: count until the process exits, -d, or Ctrl-C.
local function run_attached(out, o, evs)
  local places = {}
  if o.all_cpus then
    local cpus = ffi.new("int32_t[1024]")
    local n = api.online_cpus(cpus, 1024)
    for i = 0, n - 1 do places[#places + 1] = { pid = -1, cpu = cpus[i] } end
  else
    local dir = io.popen("ls /proc/" .. o.pid .. "/task 2>/dev/null")
    for tid in dir:lines() do places[#places + 1] = { pid = tonumber(tid), cpu = -1 } end
    dir:close()
    if #places == 0 then return nil, ("process %d: no such process"):format(o.pid) end
  end
  local ok, err = open_all(evs, places, not o.all_cpus, false)
  if not ok then return nil, err end
  header(out, o, o.all_cpus and "system wide" or ("process id '%d'"):format(o.pid))
  local t0 = tonumber(api.time_ns())
  enable_all(evs)
  -- counters alone keep no loop running: wait for Ctrl-C, -d or the process's exit
  local keep = require("uv").new_timer()
  keep:start(2 ^ 31, 0, function() end)
  local prev = o.interval and {} or nil
  if o.interval then
    timer.set_interval(o.interval, function()
      local s = {}
      add_sample(s, evs, prev)
      emit(out, o, rows_of(evs, s), nil, (tonumber(api.time_ns()) - t0) / 1e9, 1)
      out:flush()
    end)
  end
  shark.on_end(function()
    local elapsed = (tonumber(api.time_ns()) - t0) / 1e9
    local s = {}
    add_sample(s, evs, prev)
    emit(out, o, rows_of(evs, s), not o.interval and elapsed or nil, o.interval and elapsed or nil, 1)
    footer(out, o, { elapsed })
    close_all(evs)
    keep:stop()
    keep:close()
    if out ~= io.stdout then out:close() end
  end)
  return true
end

function M.main(args)
  local o = getopt.parse(spec, args)
  local function fail(msg, code)
    io.stdout:flush()
    io.stderr:write("shark stat: ", msg, "\n")
    return shark.exit(code or 1)
  end
  local argv = #o.args > 0 and o.args or nil
  if o.command then argv = { "/bin/sh", "-c", o.command } end
  local ntargets = (o.pid and 1 or 0) + (o.all_cpus and 1 or 0) + (o.command and 1 or 0) + (#o.args > 0 and 1 or 0)
  if ntargets ~= 1 then return fail("usage: give one of -p PID, -a, -c CMD, -- CMD ARGS (shark stat -h)", 2) end
  if o.json and o.field_separator then return fail("usage: -x and -j do not go together", 2) end
  if o["repeat"] < 1 then return fail("usage: -r wants a count of 1 or more", 2) end
  if o["repeat"] > 1 and not argv then return fail("usage: -r repeats a command: give -- CMD or -c CMD", 2) end
  if o.interval and o.interval < 1 then return fail("usage: -I wants milliseconds, 1 or more", 2) end
  local evs, err = resolve(o.event)
  if not evs then return fail(err) end
  local out = io.stdout
  if o.output then
    out, err = io.open(o.output, "w")
    if not out then return fail("cannot write " .. err) end
  end
  local ok
  if argv then
    ok, err = run_command(out, o, evs, argv)
    if out ~= io.stdout then out:close() end
  else
    ok, err = run_attached(out, o, evs)
    if ok and o.pid then
      local rc = api.target_watch(o.pid)
      if rc < 0 then return fail(("cannot watch process %d: %s"):format(o.pid, ffi.string(api.strerror(-rc)))) end
    end
  end
  if not ok then return fail(err) end
end

return M
