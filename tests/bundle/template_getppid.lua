-- SPDX-License-Identifier: GPL-2.0
-- template_getppid.lua - getppid() calls per process with the compiler-free bpf.count.
-- Run: shark template_getppid.lua PROG ARGS...
local workload = require "workload"
local counts = bpf.count{ on = "syscalls:sys_enter_getppid", by = "pid" }
workload.run(shark.args, function(pid) print("template getppid " .. (counts[pid] or 0)) end)
