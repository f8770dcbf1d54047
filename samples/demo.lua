-- SPDX-License-Identifier: GPL-2.0
-- demo.lua - a few seconds of this machine seen from its tracepoints: system
-- calls and context switches per second, then the busiest syscalls, the
-- processes making them, and on-CPU time per command. A small workload (du
-- over /usr every second) makes sure there is something to see.
-- Run: shark samples/demo.lua [seconds]        (make demo)
local uv = require "uv"

local o = shark.getopt{
  about = "A few seconds of this machine: syscalls and context switches per second, then the busiest\n" ..
    "syscalls, the processes making them and on-CPU time per command (du over /usr as a workload).",
  args = { "[seconds]" }, examples = { "demo.lua 5" },
}
local seconds = tonumber(o.seconds) or 3
local arch = require "shark.arch"
local syscall_name = arch.syscall_name
local EXECVE, EXECVEAT = arch.syscall_nrs().execve, arch.syscall_nrs().execveat

local by_syscall, by_comm, oncpu = {}, {}, {}
local syscalls, switches = 0, 0
-- pid -> command, taken at its first event (it may exit before the end) and
-- again after an exec: e.comm is the name at the event, and a child shark
-- forks is "shark" until it execs
local comms = {}
-- cpu -> the task switched in last, and when (rings keep per-CPU order).
-- The kernel does not always report the switch out of the idle task, so time
-- is only counted when the task leaving is the one seen coming in.
local run_pid, run_since = {}, {}

perf.on("raw_syscalls:sys_enter", function(e)
  syscalls = syscalls + 1
  local id = e.raw.id
  by_syscall[id] = (by_syscall[id] or 0) + 1
  local pid = e.pid
  local n = by_comm[pid]
  if not n or not comms[pid] then comms[pid] = e.comm end
  if id == EXECVE or id == EXECVEAT then comms[pid] = nil end
  by_comm[pid] = (n or 0) + 1
end)

perf.on("sched:sched_switch", function(e)
  switches = switches + 1
  local cpu, now, prev = e.cpu, e.time, e.raw.prev_pid
  if prev ~= 0 and run_pid[cpu] == prev then
    local comm = ffi.string(e.raw.prev_comm)
    oncpu[comm] = (oncpu[comm] or 0) + (now - run_since[cpu]) / 1e6
  end
  run_pid[cpu], run_since[cpu] = e.raw.next_pid, now
end)

local function workload()
  local h = uv.spawn("du", { args = { "-s", "/usr" }, stdio = { nil, nil, nil } }, function() end)
  if h then h:unref() end
end

print(("tracing for %d s: raw_syscalls:sys_enter and sched:sched_switch on every CPU"):format(seconds))
print(("%-10s %12s %14s"):format("time", "syscalls/s", "switches/s"))
workload()
set_interval(1000, function()
  print(("%-10s %12d %14d"):format(os.date("%H:%M:%S"), syscalls, switches))
  syscalls, switches = 0, 0
  workload()
end)
set_timeout(seconds * 1000 + 20, function() shark.exit(0) end)

shark.on_end(function()
  local top = {}
  for id, n in pairs(by_syscall) do top[syscall_name(id)] = n end
  print()
  shark.print_hist(top, { top = 8, title = "busiest system calls" })
  local procs = {}
  for pid, n in pairs(by_comm) do procs[("%s[%d]"):format(comms[pid] or "?", pid)] = n end
  print()
  shark.print_hist(procs, { top = 8, title = "system calls by process" })
  print()
  for comm, ms in pairs(oncpu) do oncpu[comm] = math.floor(ms + 0.5) end
  shark.print_hist(oncpu, { top = 8, title = "on-CPU time by command (ms)" })
end)
