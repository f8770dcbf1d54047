-- SPDX-License-Identifier: GPL-2.0
-- syscount.lua - system calls counted by syscall or by process, top N, with total and average latency (-L).
-- Run: shark samples/syscount.lua -T 5 -d 3 · syscount.lua -P -L 1 5 · syscount.lua -x -p 1234 · -e ENOENT
local o = shark.getopt{
  about = "Count system calls in the kernel (compiler-free BPF), like BCC/libbpf-tools syscount.",
  examples = { "syscount.lua -d 5", "syscount.lua -P -T 5 1 10", "syscount.lua -L -x -p 1234",
    "syscount.lua -e ENOENT" },
  args = { "[interval]", "[count]" },
  "pid", "duration", "json",
  { "i", "interval", "SECONDS", "print every SECONDS", type = "number" },
  { nil, "live", nil, "redraw the table in place every interval (default 1 s) on a terminal, like top" },
  { "T", "top", "N", "print only the top N rows", type = "int", default = 10 },
  { "P", "process", nil, "count by process, not by syscall" },
  { "L", "latency", nil, "show the total and average time in each syscall" },
  { "m", "milliseconds", nil, "times in ms, not us" },
  { "x", "failures", nil, "count only failed syscalls" },
  { "e", "errno", "ERRNO", "count only syscalls failing with ERRNO (a number or a name, ENOENT)" },
}
local ERRNO = { EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8,
  EBADF = 9, ECHILD = 10, EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17,
  EXDEV = 18, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENFILE = 23, EMFILE = 24, ENOTTY = 25,
  EFBIG = 27, ENOSPC = 28, ESPIPE = 29, EROFS = 30, EPIPE = 32, ERANGE = 34, EDEADLK = 35, ENAMETOOLONG = 36,
  ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENODATA = 61, EOPNOTSUPP = 95, EADDRINUSE = 98, ECONNRESET = 104,
  ETIMEDOUT = 110, ECONNREFUSED = 111, EALREADY = 114, EINPROGRESS = 115 }
if o.live and o.json then io.stderr:write("syscount: --live and -j exclude each other\n") shark.exit(2) return end
if o.live then o.interval = o.interval or 1 end
local where = o.failures and "ret < 0"
if o.errno then
  local e = tonumber(o.errno) or ERRNO[o.errno:upper()]
  if not e then io.stderr:write("syscount: unknown errno ", o.errno, "\n") shark.exit(2) return end
  where = ("ret == %d"):format(-math.abs(e))
end
local by, pid, c, lat = o.process and "pid" or "syscall", o.pid or -1, nil, nil
if o.latency then   -- counts and exact total time per key, from enter to exit
  lat = bpf.latency{ from = "raw_syscalls:sys_enter", to = "raw_syscalls:sys_exit", by = by, pid = pid,
    where = where, sums = true, unit = "ns" }
else
  c = bpf.count{ on = where and "raw_syscalls:sys_exit" or "raw_syscalls:sys_enter", by = by, where = where, pid = pid }
end

local unit, div = o.milliseconds and "ms" or "us", o.milliseconds and 1e6 or 1e3
local cols = o.process and { { "PID", "%-6d", "pid" }, { "COMM", "%-15s", "comm" }, { "COUNT", "%10d", "count" } }
  or { { "SYSCALL", "%-22s", "syscall" }, { "COUNT", "%10d", "count" } }
if lat then
  cols[#cols + 1] = { "TIME (" .. unit .. ")", " %14.3f", "time_" .. unit }
  cols[#cols + 1] = { "AVG (" .. unit .. ")", "%12.3f", "avg_" .. unit }
end
cols.json = o.json
local table_out = require("shark.table").new(cols)
local live = o.live and require("shark.top").live{ rows = o.top, unpack(cols) }
local function report()
  local rows, comms = {}, (lat or c):comms()
  if lat then
    local totals = lat:totals()
    for k, h in pairs(lat:histograms()) do
      local n = 0
      for _, v in pairs(h) do n = n + v end
      rows[#rows + 1] = { key = k, count = n, time = totals[k] / div }
    end
    lat:clear()
  else
    for k, n in pairs(c:take()) do rows[#rows + 1] = { key = k, count = n } end
  end
  table.sort(rows, function(a, b) return (a.time or a.count) > (b.time or b.count) end)
  if live then
    for _, r in ipairs(rows) do
      r[o.process and "pid" or "syscall"] = r.key
      if o.process then r.comm = comms[r.key] or "?" end
      if lat then r["time_" .. unit], r["avg_" .. unit] = r.time, r.time / r.count end
    end
    return live:refresh(rows, os.date("[%H:%M:%S] ") .. ("top %d syscalls, every %s s"):format(o.top, o.interval))
  end
  if not o.json and o.interval then print(os.date("[%H:%M:%S]")) end
  table_out:header()
  for i = 1, math.min(#rows, o.top) do
    local r = rows[i]
    r[o.process and "pid" or "syscall"] = r.key
    if o.process then r.comm = comms[r.key] or "?" end
    if lat then r["time_" .. unit], r["avg_" .. unit] = r.time, r.time / r.count end
    table_out:row(r)
  end
end

shark.info(("Tracing %ssyscalls, printing top %d... Ctrl+C to quit."):format(where and "failed " or "", o.top))
if o.interval then shark.every(o.interval, o.count, report, { final = o.live }) else shark.on_end(report) end
