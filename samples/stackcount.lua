-- SPDX-License-Identifier: GPL-2.0
-- stackcount.lua - count the stacks that lead to an event (a tracepoint, uprobe or USDT probe), in the kernel.
-- Run: shark samples/stackcount.lua t:sched:sched_switch · stackcount.lua -P -U u:/bin/bash:readline · -f folded
local stacks = require "shark.stacks"
local o = shark.getopt{
  about = "Count the kernel and user stacks of an event in the kernel (compiler-free BPF), like BCC stackcount.\n" ..
    "EVENT: [t:]sys:event (tracepoint), u:/path:function (uprobe), ur: (uretprobe), usdt:/path:provider:name.",
  examples = { "stackcount.lua t:sched:sched_switch -d 5", "stackcount.lua -P -U u:/bin/bash:readline",
    "stackcount.lua -f folded syscalls:sys_enter_openat -c 'ls /' > out.folded",
    "stackcount.lua -f pprof -o open.pb.gz syscalls:sys_enter_openat -d 5" },
  usage = "[options] EVENT", args = { "event" }, min_args = 1,
  "pid", "duration",
  { "i", "interval", "SECONDS", "print every SECONDS", type = "number" },
  { "U", "user-stacks-only", nil, "user stacks only" },
  { "K", "kernel-stacks-only", nil, "kernel stacks only" },
  { "P", "perpid", nil, "one stack per process (comm [pid] under each)" },
  { nil, "stacks", "N", "distinct stacks the kernel keeps (default 32768; more show as [Missed ... Stack])",
    type = "int" },
  { "f", "format", "FORMAT", "folded ([comm;]frames... count), svg, pprof or speedscope",
    choices = { "folded", "svg", "pprof", "speedscope" } },
  { "o", "output", "FILE", "write the output to FILE (with -i: each interval overwrites it)" },
  { nil, "folded", nil, "the same as -f folded" },
  { "D", "delimited", nil, "a '-' (folded) or '--' line between kernel and user frames" },
}
if o.user_stacks_only and o.kernel_stacks_only then
  io.stderr:write("stackcount: -U and -K exclude each other\n")
  shark.exit(2)
  return
end
-- t:, u:, ur:, U: and the rest are kinds of shark.probes; BCC's p: and r:
-- (with a path: a uprobe) are its u: and ur:
local ev = o.event:gsub("^p:", "u:"):gsub("^r:", "ur:")
local c = bpf.count{ on = ev, pid = o.pid or -1,
  by = o.user_stacks_only and "ustack" or o.kernel_stacks_only and "kstack" or "stack", stacks = o.stacks }

local format = o.format or (o.folded and "folded")

local function report()
  if format then
    -- taken: what is counted while a window is written goes to the next one
    stacks.export(c:profile{ comm = o.perpid or false, delimit = o.delimited, take = true }, format, o.output,
      { title = o.event })
    return
  end
  local rows = c:entries{ process = o.perpid or false, take = true }
  local out = require("shark.out").of(o.output)
  for i = #rows, 1, -1 do   -- as BCC: the largest last
    local row = rows[i]
    for _, f in ipairs(row.kernel) do out:line("  " .. f) end
    if o.delimited and #row.kernel > 0 and #row.user > 0 then out:line("  --") end
    for _, f in ipairs(row.user) do out:line("  " .. f) end
    if row.comm then out:line(("    %s [%d]"):format(row.comm, row.pid)) end
    out:line(("    %d\n"):format(row.count))
  end
  out:finish()
end

shark.info(("Tracing %s... Hit Ctrl-C to end."):format(o.event))
if o.interval then shark.every(o.interval, nil, report) else shark.on_end(report) end
