-- map_count.lua PID - an agent job: a compiler-free template counting a
-- process's syscalls in a BPF map, published as labelled counters.
local pid = tonumber(arg[1])
local res = bpf.count{ on = "raw_syscalls:sys_enter", by = "syscall", pid = pid }
shark.metric.map(res.obj.maps.counts, { name = "workload_syscalls_total", help = "Syscalls by number.",
  labels = { key = "nr" } })
