-- SPDX-License-Identifier: GPL-2.0
-- target_getppid.lua - getppid() calls of the -p/-c target, counted in the kernel; no options of its
-- own, so its bundle takes shark's: ./target_getppid -c 'PROG ARGS' | -p PID [-d SECONDS] [-o FILE]
local c = bpf.count{ on = "syscalls:sys_enter_getppid", by = "pid" }
shark.on_end(function()
  local t = shark.target()
  print("target getppid " .. (t and c[t.pid] or "none"))
end)
