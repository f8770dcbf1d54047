-- SPDX-License-Identifier: GPL-2.0
-- syscalls_hist.lua - system calls counted by tracepoint name (syscalls:sys_enter_*), in the kernel,
-- printed as a histogram at the end (Ctrl-C, -d) or every interval.
-- Run: shark samples/syscalls_hist.lua -d 5     shark -c 'ls -R /usr' samples/syscalls_hist.lua -t 10
local o = shark.getopt{
  about = "Count system calls by name (syscalls:sys_enter_<name>) in the kernel; print a histogram.",
  examples = { "shark samples/syscalls_hist.lua -d 5", "shark samples/syscalls_hist.lua -p 1234 1 5",
    "shark -c 'ls -R /usr' samples/syscalls_hist.lua -t 10" },
  args = { "[interval]", "[count]" },
  "pid", "duration", "json",
  { "t", "top", "N", "only the N most frequent", type = "int" },
}

-- one counter per syscall number, per CPU, in a BPF array: no event reaches user space
local counts = bpf.count{ on = "raw_syscalls:sys_enter", by = "syscall", pid = o.pid or -1 }

local function report()
  local hist = {}
  for name, n in pairs(counts) do hist["syscalls:sys_enter_" .. name] = n end
  shark.print_hist(hist, { top = o.top, json = o.json })
  counts:clear()
end

if o.interval then
  shark.every(o.interval, o.count, function()
    if not o.json then print(os.date("%H:%M:%S")) end
    report()
  end)
else
  shark.on_end(report)
end
