-- SPDX-License-Identifier: GPL-2.0
-- demo.lua - a few seconds of what this machine is doing: context switches,
-- interrupts and forks per second, then the processes that used the most CPU.
-- Run: shark samples/demo.lua [seconds]     (default 3)
local seconds = tonumber(shark.args[1]) or 3

local function read(path)
  local f = io.open(path)
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

local function system_counters()
  local s = read("/proc/stat")
  return {
    ctxt = tonumber(s:match("\nctxt (%d+)")),
    intr = tonumber(s:match("\nintr (%d+)")),
    forks = tonumber(s:match("\nprocesses (%d+)")),
  }
end

-- CPU ticks (user + system) of every process, and its command name.
local function process_ticks()
  local ticks, names = {}, {}
  local p = io.popen("ls /proc")
  for pid in p:lines() do
    if pid:match("^%d+$") then
      local st = read("/proc/" .. pid .. "/stat")
      if st then
        -- the name is in parentheses and may contain spaces
        local name, rest = st:match("%((.*)%) (.*)")
        if rest then
          local fields = {}
          for w in rest:gmatch("%S+") do fields[#fields + 1] = w end
          ticks[pid] = tonumber(fields[12]) + tonumber(fields[13])
          names[pid] = name
        end
      end
    end
  end
  p:close()
  return ticks, names
end

local hz = 100
local start_ticks = process_ticks()
local last = system_counters()
print(("%-8s %14s %14s %10s"):format("time", "ctx-switch/s", "interrupts/s", "forks/s"))

set_interval(1000, function()
  local now = system_counters()
  print(("%-8s %14d %14d %10d"):format(os.date("%H:%M:%S"),
    now.ctxt - last.ctxt, now.intr - last.intr, now.forks - last.forks))
  last = now
end)

shark.on_end(function()
  local ticks, names = process_ticks()
  local used = {}
  for pid, t in pairs(ticks) do
    local d = t - (start_ticks[pid] or 0)
    if d > 0 then used[("%s[%s]"):format(names[pid], pid)] = d * 1000 / hz end
  end
  print()
  shark.print_hist(used, { top = 8, title = "CPU time (ms) by process over the run" })
end)

set_timeout(seconds * 1000 + 50, function() shark.exit(0) end)
