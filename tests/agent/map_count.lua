-- map_count.lua PID - an agent job: a compiler-free template counting one
-- process's syscalls in a BPF map, exported as counters labelled by name
-- (the map is read at each collection: nothing is counted in Lua).
local pid = tonumber(arg[1])
local res = bpf.count{ on = "raw_syscalls:sys_enter", by = "syscall", pid = pid }
shark.metric.map(res, { name = "workload_syscalls_total", help = "Syscalls of the workload by name.",
  labels = { key = "syscall" } })
