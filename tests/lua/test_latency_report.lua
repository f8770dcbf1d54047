-- SPDX-License-Identifier: GPL-2.0
-- bpf.latency's report (cpudist, runqlat): the time stamp, the histogram with
-- a blank line after it, then a clear map for the next interval.
local t = require "tap"
ffi.cdef[[
int getpid(void);
int getppid(void);
]]

-- only a machine that cannot load BPF at all skips (MACHINE.md: this kind can);
-- any other failure of bpf.latency is a failure of this test
local can, why = require("shark.cmd.test").probe("bpf")
if not can then
  t.skip("Lat:report", t.no_kernel(why) or ("no BPF programs on this kernel: " .. why))
  return t.done()
end
local lat = bpf.latency{ from = "syscalls:sys_enter_getppid", to = "syscalls:sys_exit_getppid",
  unit = "s", pid = ffi.C.getpid() }
for _ = 1, 10 do ffi.C.getppid() end
local lines = {}
local function out(s) lines[#lines + 1] = s end
lat:report{ name = "secs", out = out }
t.is(table.concat(lines, "\n"), "@secs:\n[0]                        10 |" .. ("@"):rep(52) .. "|\n",
  "10 calls of under a second in [0], then a blank line")
lines = {}
lat:report{ name = "secs", timestamp = true, out = out }
t.ok(#lines == 3 and lines[1]:match("^%d%d:%d%d:%d%d$") and lines[2] == "@secs:" and lines[3] == "",
  "cleared: the next report has the time and no counts", table.concat(lines, "|"))
t.done()
shark.exit()   -- attached programs would keep the run going
