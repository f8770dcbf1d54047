-- SPDX-License-Identifier: GPL-2.0
-- perf_getppid.lua - getppid() calls of a workload, counted in Lua from perf events.
-- Run: shark perf_getppid.lua PROG ARGS...
local workload = require "workload"
local n = 0
local pid
perf.on("syscalls:sys_enter_getppid", function(e) if e.pid == pid then n = n + 1 end end)
pid = workload.run(shark.args, function() print("perf getppid " .. n) end)
