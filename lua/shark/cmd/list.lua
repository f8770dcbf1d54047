-- SPDX-License-Identifier: GPL-2.0
-- shark -l [-v] [GLOB]: the events of this machine; with -v, the fields of
-- each matching tracepoint as e.raw sees them.
local ffi = require "ffi"
local api = require "shark.api"
local pcore = require "perf.core"
local events = require "perf.events"
local types = require "perf.types"
local shark = require "shark"

local M = {}

local function glob_match(glob, s)
  if not glob then return true end
  local pat = "^" .. glob:gsub("[%^%$%(%)%%%.%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
  return s:match(pat) ~= nil
end

local function availability(name)
  local n = events.named[name]
  local rc = api.perf_probe(n[1], n[2])
  if rc == 0 then return "" end
  local why = ffi.string(api.strerror(-rc))
  if n[1] == events.TYPE.HARDWARE and rc == -2 then why = why .. ": no hardware PMU, e.g. under virtualization" end
  return ("  (not available here: %s)"):format(why)
end

local function show_fields(name)
  local sys, ev = name:match("^([^:]+):(.+)$")
  local fmt, err = pcore.tp_format(sys, ev)
  if not fmt then
    print("  " .. err)
    return
  end
  print(("%s (id %d)"):format(name, fmt.id))
  print(("    %-26s %-22s %6s %5s  %s"):format("field", "C type", "offset", "size", "in Lua: e.raw.<field>"))
  for _, f in ipairs(fmt.fields) do
    if not f.common then
      print(("    %-26s %-22s %6d %5d  %s"):format(f.name, f.type, f.offset, f.size, types.lua_view(fmt, f)))
    end
  end
end

function M.main(args, opts)
  local glob = args[1]
  local verbose = (opts.verbose or 0) > 0
  local shown = 0
  for _, group in ipairs({ { events.software, "software event" }, { events.hardware, "hardware event" } }) do
    for _, name in ipairs(group[1]) do
      if glob_match(glob, name) then
        print(("%-50s [%s]%s"):format(name, group[2], availability(name)))
        shown = shown + 1
      end
    end
  end
  local list, err = pcore.tp_list(glob)
  if not list then
    io.stderr:write("shark: ", err, "\n")
    shark.exit(1)
  end
  table.sort(list)
  for _, name in ipairs(list) do
    if verbose then show_fields(name) else print(("%-50s [tracepoint]"):format(name)) end
    shown = shown + 1
  end
  if shown == 0 then
    io.stderr:write(("shark: no event matches '%s'\n"):format(glob or "*"))
    shark.exit(1)
  end
end

return M
