-- SPDX-License-Identifier: GPL-2.0
-- offcputime.lua - time threads spend blocked, summed by the kernel and user stacks they blocked in.
-- Run: shark samples/offcputime.lua -p 1234 5 · offcputime.lua -f folded -m 1000 10 > out.folded · -f pprof -o F
-- Code without frame pointers (Debian's -O2): offcputime.lua --call-graph dwarf.
local flame = require "flame"
local stacks = require "shark.stacks"
local o = shark.getopt{
  about = "Off-CPU time (us) by stack, from sched_switch, summed in the kernel (compiler-free BPF),\n" ..
    "like BCC offcputime: multi-line stacks, or -f folded lines, an SVG flame graph, a pprof file or\n" ..
    "speedscope JSON, to stdout or -o FILE.",
  examples = { "offcputime.lua -p 1234 5", "offcputime.lua -f folded -m 1000 10 > out.folded",
    "offcputime.lua -k -c 'sleep 1'", "offcputime.lua -f svg -o offcpu.svg 10" },
  args = { "[duration]" },
  "pid", "duration",
  { "u", "user-stacks-only", nil, "user stacks only" },
  { "k", "kernel-stacks-only", nil, "kernel stacks only" },
  { "f", "format", "FORMAT", "folded (comm;frames... microseconds), svg, pprof or speedscope",
    choices = { "folded", "svg", "pprof", "speedscope" } },
  { "o", "output", "FILE", "write the output to FILE" },
  { nil, "folded", nil, "the same as -f folded" },
  { nil, "delimited", nil, "a '-' (folded) or '--' line between kernel and user frames" },
  { "m", "min-block-time", "US", "ignore blocks shorter than US microseconds", type = "int", default = 1 },
  { nil, "stacks", "N", "distinct stacks the kernel keeps (default 32768; more show as [Missed ... Stack])",
    type = "int" },
  { "g", "call-graph", "MODE", "user stacks: fp (frame pointers, in the kernel) or dwarf (a copy of the " ..
    "stack, unwound with .eh_frame in shark)", default = "fp", choices = { "fp", "dwarf" } },
}
if o.user_stacks_only and o.kernel_stacks_only then
  io.stderr:write("offcputime: -u and -k exclude each other\n")
  shark.exit(2)
  return
end
local r = bpf.offcpu{ pid = o.pid or -1, min_us = o.min_block_time, kernel = not o.user_stacks_only,
  user = not o.kernel_stacks_only and (o.call_graph == "dwarf" and "dwarf" or true), stacks = o.stacks }

shark.info("Tracing off-CPU time (us) of " .. (o.pid and ("PID " .. o.pid) or "all threads") ..
  " by " .. (o.user_stacks_only and "user" or o.kernel_stacks_only and "kernel" or "user + kernel") ..
  " stack... Hit Ctrl-C to end.")
local format = o.format or (o.folded and "folded")
shark.on_end(function()
  local partial = not o.kernel_stacks_only and o.call_graph == "fp" and
    require("perf.stack").partial_notice(r:entries(), "microseconds")
  if partial then shark.info(partial .. "; --call-graph dwarf unwinds them with .eh_frame") end
  if format then
    stacks.export(r:profile{ delimit = o.delimited }, format, o.output, { title = "Off-CPU time" })
    return
  end
  local out = require("shark.out").of(o.output)
  flame.print_stacks(r:entries(), { delimit = o.delimited, out = out:printer() })
  out:finish()
end)
