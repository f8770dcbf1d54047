-- SPDX-License-Identifier: GPL-2.0
-- pid: every pid a script gives shark gets shark -p's check: 0, negative,
-- NaN, 2^32 + 1 and 1.5 would otherwise trace every process on the machine.
local t = require "tap"
local pid = require "shark.pid"

local bad = { 0, -7, 0 / 0, 2 ^ 32 + 1, 1.5, -1.5, math.huge, 4194305 }
for _, v in ipairs(bad) do
  local ok, err = pid.check(v, "pid")
  t.is(ok, nil, ("%s is not a pid"):format(tostring(v)))
  t.is(err, ("pid wants a process id, not '%s'"):format(tostring(v)), "with shark -p's words")
  t.raises(function() perf.on("cpu-clock", { pid = v }, function() end) end,
    'perf.on("cpu-clock"): pid wants a process id', "perf.on{pid = " .. tostring(v) .. "} refused")
  t.raises(function() bpf.count{ on = "syscalls:sys_enter_getppid", pid = v } end,
    "bpf.count: pid wants a process id", "bpf.count{pid = " .. tostring(v) .. "} refused")
end
t.raises(function() perf.on("cpu-clock", { tid = 0 }, function() end) end, "tid wants a process id",
  "perf.on{tid = 0} refused")
t.is(pid.check("12x", "pid"), nil, "'12x' is not a pid")
t.raises(function() perf.on("cpu-clock", { target_pid = "0" }, function() end) end, "pid wants a process id, not '0'",
  "the original's target_pid = '0' refused")
t.is(pid.check(1, "pid"), 1, "1 is a pid")
t.is(pid.check(4194304, "pid"), 4194304, "PID_MAX_LIMIT is a pid")
t.is(pid.check("42", "pid"), 42, "a pid as a string")
t.is(pid.check(-1, "pid", true), -1, "-1: every process, where allowed")
t.is(pid.check(-1, "pid"), nil, "-1 refused where not allowed")
local ok, h = pcall(perf.on, "cpu-clock", { pid = -1 }, function() end)
if not ok and t.no_kernel(h) then
  t.skip("perf.on{pid = -1} still means every process", t.no_kernel(h))
else
  t.ok(ok and h, "perf.on{pid = -1} still means every process", h)
  if ok then h:stop() end
end
t.done()
