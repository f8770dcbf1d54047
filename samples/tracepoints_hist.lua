-- SPDX-License-Identifier: GPL-2.0
-- tracepoints_hist.lua - how often each tracepoint of many subsystems fires (block, irq, sched, kmem,
-- timer, ...): a separator line every second, a histogram at the end. Subsystems this machine lacks are
-- skipped with a note on stderr.
-- Run: shark samples/tracepoints_hist.lua -d 5     shark -c 'ls -R /usr' samples/tracepoints_hist.lua
local events = require "perf.events"

local DEFAULT = "block,compaction,exceptions,ext4,filelock,filemap,irq,jbd2,kmem,migrate,module," ..
  "napi,net,oom,pagemap,power,printk,random,ras,raw_syscalls,rcu,sched,signal,skb,sock,swiotlb,task,tcp," ..
  "thermal,timer,tlb,udp,vmscan,workqueue,writeback,xen,xhci-hcd"

local o = shark.getopt{
  about = "Count every tracepoint of the given subsystems; print a separator line every second and a " ..
    "histogram at the end. Closing ~400 tracepoints takes the kernel ~15 s after the end (an RCU wait each).",
  examples = { "shark samples/tracepoints_hist.lua -d 5", "shark samples/tracepoints_hist.lua -s sched,irq -t 10" },
  "pid", "duration",
  { "s", "subsystems", "LIST", "comma-separated subsystems", default = "(many: block, irq, sched, ...)" },
  { "t", "top", "N", "only the N most frequent", type = "int" },
  { "q", "quiet", nil, "no separator lines" },
}

local specs = {}
for sub in (o.subsystems:sub(1, 1) == "(" and DEFAULT or o.subsystems):gmatch("[^,%s]+") do
  if events.parse(sub .. ":*") then
    specs[#specs + 1] = sub .. ":*"
  else
    io.stderr:write(("tracepoints_hist: no '%s' tracepoints on this machine, skipped\n"):format(sub))
  end
end
if #specs == 0 then error("none of the subsystems has tracepoints here (shark -l lists them)", 0) end

local counts, names = {}, {}   -- sample id (one per event and CPU) -> count, tracepoint name
perf.on(table.concat(specs, ","), { pid = o.pid }, function(e)
  local id = tonumber(e.id)
  local n = counts[id]
  if not n then names[id] = ffi.string(e.name) end
  counts[id] = (n or 0) + 1
end)

if not o.quiet then
  set_interval(1000, function() print(("-"):rep(30)) end)
end

shark.on_end(function()
  local hist = {}
  for id, n in pairs(counts) do hist[names[id]] = (hist[names[id]] or 0) + n end
  shark.print_hist(hist, { top = o.top })
end)
