-- SPDX-License-Identifier: GPL-2.0
-- shark record [-o FILE] (-e EVENT,... [-F HZ] [-g] | script.lua [args]) [-p PID | -a | -c CMD | -- CMD...]:
-- write a journal (docs/journal.md) of the perf samples and BPF ring records
-- the run sees, with what offline symbolization needs. shark report
-- summarises it; shark replay runs a script over it.
local shark = require "shark"
local timer = require "timer"
local getopt = require "shark.getopt"
local journal = require "shark.journal"
local target = require "shark.cmd.target"

local M = {}

local spec = {
  name = "shark record",
  usage = "[-o FILE] [--encrypt KEYFILE] (-e EVENT,... [-F HZ] [-g] | script.lua [args...]) " ..
    "[-p PID | -a | -c CMD | -- CMD ARGS...]",
  about = "Write a journal of what the run sees: perf samples and BPF ring records (with their BTF types),\n" ..
    "comm names, mappings with build-ids, the symbols used and the tracepoint formats. Chunks are zstd-\n" ..
    "compressed and checksummed (and encrypted with --encrypt). Read it with shark report or shark replay.",
  { "o", "output", "FILE", "the journal to write", default = "shark.journal" },
  { "e", "event", "EVENT,...", "events to record (as perf.on takes them); else a script says what" },
  { "F", "freq", "HZ", "sampling frequency of clock events", type = "int" },
  { nil, "period", "N", "sample every N events", type = "int" },
  { "g", nil, nil, "record callchains (kernel and user, frame pointers)" },
  { nil, "call-graph", "MODE", "fp (as -g) or dwarf (user stacks unwound with their DWARF CFI)",
    choices = { "fp", "dwarf" } },
  { "p", "pid", "PID", "record this process (and its threads)", type = "int" },
  { "a", "all-cpus", nil, "record every process" },
  { "c", "command", "CMD", "run CMD and record it" },
  { "d", "duration", "SECONDS", "stop after SECONDS", type = "number" },
  { "m", "mmap-pages", "PAGES", "ring pages per CPU (a power of 2; default 4096: 16 MiB)", type = "int" },
  { nil, "encrypt", "KEYFILE", "encrypt each chunk (XChaCha20-Poly1305) with the 32-byte key in KEYFILE" },
  args = { "[script.lua [args...]]" }, max_args = false,
  examples = {
    "shark record -e raw_syscalls:sys_enter -a -d 5 -o sys.journal && shark report sys.journal",
    "shark record -e cpu-clock -F 999 -g -- ./myprog && shark report -f svg -o flame.svg",
    "shark record -o run.journal samples/opensnoop.lua -- ls && shark replay run.journal samples/opensnoop.lua",
  },
}

-- Options end at the script's name: what follows is the script's.
local function split(args)
  local takes = {}
  for _, row in ipairs(spec) do
    if row[3] then
      if row[1] then takes["-" .. row[1]] = true end
      if row[2] then takes["--" .. row[2]] = true end
    end
  end
  local head, rest, i = {}, {}, 1
  while i <= #args do
    local a = args[i]
    if a == "--" or a:sub(1, 1) ~= "-" or a == "-" then
      for k = i, #args do rest[#rest + 1] = args[k] end
      break
    end
    head[#head + 1] = a
    if takes[a] and not a:find("=", 1, true) then
      i = i + 1
      head[#head + 1] = args[i]
    end
    i = i + 1
  end
  return head, rest
end

local function fail(msg)
  io.stdout:flush()
  io.stderr:write("shark record: ", msg, "\n")
  shark.exit(msg:find("^usage") and 2 or 1)
end

function M.main(args)
  local head, rest = split(args)
  local o = getopt.parse(spec, head)
  local script, script_args, cmd_argv
  if rest[1] == "--" then
    cmd_argv = { unpack(rest, 2) }
  elseif rest[1] then
    script = rest[1]
    script_args = { unpack(rest, 2) }
    -- script.lua [args] -- CMD ARGS: the command after the script's arguments
    for i, a in ipairs(script_args) do
      if a == "--" then
        cmd_argv = { unpack(script_args, i + 1) }
        for k = #script_args, i, -1 do script_args[k] = nil end
        break
      end
    end
  end
  if not o.event and not script then return fail("usage: give -e EVENT,... or a script (shark record -h)") end
  if o.event and script then return fail("usage: give -e EVENT,... or a script, not both") end
  local ntargets = (o.pid and 1 or 0) + (o.all_cpus and 1 or 0) + (o.command and 1 or 0) + (cmd_argv and 1 or 0)
  if ntargets > 1 then return fail("usage: give one of -p PID, -a, -c CMD, -- CMD") end
  if o.event and ntargets == 0 and not shark.target() then
    return fail("usage: say what to record: -p PID, -a (every process), -c CMD or -- CMD ARGS")
  end
  local key
  if o.encrypt then
    local err
    key, err = journal.load_key(o.encrypt)
    if not key then return fail(err) end
  end
  local ok, err = target.start(o, cmd_argv)
  if not ok then return fail(err) end

  local w
  w, err = journal.create(o.output, key, { command = o.command or (cmd_argv and table.concat(cmd_argv, " ")) })
  if not w then return fail(err) end
  journal.active = w
  if o.duration then timer.set_timeout(o.duration * 1000, function() shark.exit(0) end) end

  local handles = {}
  if o.event then
    local popts = { freq = o.freq, period = o.period, mmap_pages = o.mmap_pages or 4096 }
    if o.all_cpus then popts.pid = -1 end
    if o.g or o.call_graph == "fp" then popts.callchain = true end
    -- dwarf: the user stack is copied and unwound as samples are read; the
    -- journal keeps the unwound frames, so reading it needs no stack copies
    if o.call_graph == "dwarf" then popts.callchain_k, popts.callchain_u = true, "dwarf" end
    local pok, h = pcall(require("perf").on, o.event, popts, function() end)
    if not pok then
      os.remove(o.output)
      return fail(tostring(h):gsub("^[^:]*:%d+: ", ""))
    end
    handles[1] = h
  else
    shark.args = script_args
    _G.arg = { [0] = script }
    for i, a in ipairs(script_args) do _G.arg[i] = a end
    local chunk, lerr = loadfile(script)
    if not chunk then
      os.remove(o.output)
      return fail(lerr)
    end
    chunk(unpack(script_args))
  end

  shark.on_end(function()
    local lost = 0
    for _, h in ipairs(handles) do lost = lost + h:lost() end
    w:finish({ lost = lost })
    journal.active = nil
    local st = w:stats()
    local n = st.samples + st.records
    shark.info(("shark record: wrote %s: %d samples, %d ring records, %d lost, %d bytes (%.1f bytes/event)%s")
      :format(o.output, st.samples, st.records, lost, st.bytes, n > 0 and st.bytes / n or 0,
        key and ", encrypted" or ""))
  end)
  local rc = target.release()
  if rc then return fail(rc) end
  if not shark.target() then
    shark.info(("shark record: recording to %s; Ctrl-C ends it"):format(o.output))
  end
end

return M
