-- count_pid.lua PID [DONE_FILE] - an agent job: getppid() calls of one
-- process as a counter, a log2 histogram of their gaps (ns) as a BPF-free
-- Lua histogram, and a gauge; DONE_FILE written by on_end.
local pid, done = tonumber(arg[1]), arg[2]
local calls = shark.metric.counter("workload_getppid_total", "getppid() calls of the workload.", { "comm" })
local gaps = shark.metric.histogram("workload_gap_ns", "Time between two calls.", {}, { log2 = { 1, 2 ^ 40 } })
local seen = shark.metric.gauge("workload_seen", "1 once the job is attached.", {})
calls:inc(0, { comm = "getppid_n" })
seen:set(1)
local last
perf.on("syscalls:sys_enter_getppid", { pid = pid }, function(e)
  calls:inc(1, { comm = "getppid_n" })
  local t = tonumber(e.time)
  if last then gaps:observe(t - last) end
  last = t
end)
shark.on_end(function()
  if done then
    local f = io.open(done, "w")
    f:write("on_end ran\n")
    f:close()
  end
end)
