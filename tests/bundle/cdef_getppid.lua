-- SPDX-License-Identifier: GPL-2.0
-- cdef_getppid.lua - getppid() calls per process, counted by BPF C in a hash map.
-- Run: shark cdef_getppid.lua PROG ARGS...
local workload = require "workload"
bpf.cdef[[
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 4096);
         __type(key, u32); __type(value, u64); } calls SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_getppid")
int count_getppid(void *ctx) { u32 pid = bpf_get_current_pid_tgid() >> 32; shark_count(&calls, &pid); return 1; }
]]
workload.run(shark.args, function(pid) print("cdef getppid " .. (bpf.var.calls[pid] or 0)) end)
