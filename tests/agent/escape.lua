-- escape.lua RULE - an agent job that tries one way out of its sandbox.
local tries = {
  ffi = function() return ffi.C end,
  io = function() return io.open("/etc/shadow") end,
  os_execute = function() return os.execute("id") end,
  require_ffi = function() return require "ffi" end,
  debug = function() return debug.getinfo(1) end,
  bytecode = function() return loadstring(string.dump(function() end)) end,
  getfenv = function() return getfenv(0) end,
  event = function() return perf.on("sched:sched_switch", function() end) end,
  pid = function() return perf.on("syscalls:sys_enter_getppid", { pid = 1 }, function() end) end,
  bpf_c = function() return bpf.cdef("int x;") end,
  memory = function() local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end end,
  cpu = function() local x = 0 while true do x = x + 1 end end,
}
local alive = shark.metric.gauge("escape_alive", "The job runs.", {})
alive:set(1)
tries[arg[1]]()
