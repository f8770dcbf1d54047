-- SPDX-License-Identifier: GPL-2.0
-- profile.lua - CPU profile: stacks sampled at a frequency, counted in the kernel; folded or an SVG flame graph.
-- Run: shark samples/profile.lua -F 99 -p 1234 10 · profile.lua -f 5 > out.folded · profile.lua --svg cpu.svg 5
local flame = require "flame"
local o = shark.getopt{
  about = "Sample stacks on cpu-clock and count them in the kernel (compiler-free BPF), like BCC profile:\n" ..
    "multi-line stacks, folded lines (-f), or a self-contained interactive SVG flame graph (--svg).",
  examples = { "profile.lua -F 99 -p 1234 10", "profile.lua -f 5 > out.folded", "profile.lua --svg cpu.svg -c 'make'" },
  args = { "[duration]" },
  "pid", "duration",
  { "F", "frequency", "HZ", "samples per second on each CPU", type = "int", default = 49 },
  { "U", "user-stacks-only", nil, "user stacks only" },
  { "K", "kernel-stacks-only", nil, "kernel stacks only" },
  { "f", "folded", nil, "folded output: comm;frames... count" },
  { nil, "delimited", nil, "a '-' (folded) or '--' line between kernel and user frames" },
  { nil, "svg", "FILE", "write a flame graph to FILE" },
  { nil, "title", "TEXT", "the flame graph's title", default = "CPU profile" },
}
if o.user_stacks_only and o.kernel_stacks_only then
  io.stderr:write("profile: -U and -K exclude each other\n")
  shark.exit(2)
  return
end
local s = bpf.stacks{ freq = o.frequency, pid = o.pid or -1, kernel = not o.user_stacks_only,
  user = not o.kernel_stacks_only }

shark.info(("Sampling at %d Hz %s... Hit Ctrl-C to end."):format(o.frequency,
  o.pid and ("PID " .. o.pid) or "on every CPU"))
shark.on_end(function()
  local rows = s:entries()
  if o.svg and #rows == 0 then
    -- an empty flame graph says nothing: say it here, and leave no file
    io.stderr:write(("profile: no samples%s: %s not written\n"):format(
      o.pid and (" of PID " .. o.pid .. " (it did not run on a CPU?)") or "", o.svg))
    shark.exit(1)
  elseif o.svg then
    local f = assert(io.open(o.svg, "w"))
    f:write(flame.svg(rows, { title = o.title, delimit = o.delimited }))
    f:close()
    local n = 0
    for _, r in ipairs(rows) do n = n + r.count end
    shark.info(("%s: %d samples in %d stacks"):format(o.svg, n, #rows))
  elseif o.folded then
    print(flame.folded(rows, { delimit = o.delimited }))
  else
    flame.print_stacks(rows, { delimit = o.delimited })
  end
end)
