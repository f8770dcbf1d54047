-- SPDX-License-Identifier: GPL-2.0
-- profile.lua - CPU profile: stacks sampled at a frequency, counted in the kernel; folded, SVG, pprof, speedscope.
-- Run: shark samples/profile.lua -F 99 -p 1234 10 · profile.lua -f folded 5 > out.folded · -f pprof -o cpu.pb.gz
--      profile.lua --upload 5 (to shark serve: SHARK_CLOUD_URL/SHARK_CLOUD_TOKEN or ~/.config/shark/cloud.json)
local flame = require "flame"
local stacks = require "shark.stacks"
local sharkcloud = require "sharkcloud"
local o = shark.getopt{
  about = "Sample stacks on cpu-clock and count them in the kernel (compiler-free BPF), like BCC profile:\n" ..
    "multi-line stacks, or -f folded lines, a self-contained interactive SVG flame graph, a pprof file\n" ..
    "(go tool pprof) or speedscope JSON, to stdout or -o FILE.",
  examples = { "profile.lua -F 99 -p 1234 10", "profile.lua -f folded 5 > out.folded",
    "profile.lua -f svg -o cpu.svg -c 'make'", "profile.lua -f pprof -o cpu.pb.gz 10 && go tool pprof -top cpu.pb.gz",
    "SHARK_CLOUD_URL=http://127.0.0.1:7411 SHARK_CLOUD_TOKEN=… profile.lua --upload -p 1234 10" },
  args = { "[duration]" },
  "pid", "duration",
  { "F", "frequency", "HZ", "samples per second on each CPU", type = "int", default = 49 },
  { "U", "user-stacks-only", nil, "user stacks only" },
  { "K", "kernel-stacks-only", nil, "kernel stacks only" },
  { "f", "format", "FORMAT", "folded, svg, pprof or speedscope (default: BCC's multi-line stacks)",
    choices = { "folded", "svg", "pprof", "speedscope" } },
  { "o", "output", "FILE", "write the output to FILE" },
  { nil, "folded", nil, "the same as -f folded" },
  { nil, "delimited", nil, "a '-' (folded) or '--' line between kernel and user frames" },
  { nil, "svg", "FILE", "the same as -f svg -o FILE" },
  { nil, "title", "TEXT", "the flame graph's title", default = "CPU profile" },
  { nil, "upload", nil, "send the flame graph to shark serve (sharkcloud) and print its URL" },
  { nil, "label", "K=V", "a label of the upload (repeatable)", list = true },
}
if o.user_stacks_only and o.kernel_stacks_only then
  io.stderr:write("profile: -U and -K exclude each other\n")
  shark.exit(2)
  return
end
local format, output = o.format or (o.svg and "svg") or (o.folded and "folded"), o.output or o.svg
local s = bpf.stacks{ freq = o.frequency, pid = o.pid or -1, kernel = not o.user_stacks_only,
  user = not o.kernel_stacks_only }
local t0 = shark.time()

shark.info(("Sampling at %d Hz %s... Hit Ctrl-C to end."):format(o.frequency,
  o.pid and ("PID " .. o.pid) or "on every CPU"))
shark.on_end(function()
  if o.upload then
    local labels = { tool = "profile", hz = tostring(o.frequency) }
    for _, kv in ipairs(o.label) do
      local k, v = kv:match("^([^=]+)=(.*)$")
      if k then labels[k] = v end
    end
    if o.pid then labels.pid = tostring(o.pid) end
    local p = s:profile{ delimit = o.delimited, duration_ns = shark.time() - t0 }
    sharkcloud.upload{ kind = "flamegraph", data = p:to_folded(), title = o.title, labels = labels }
  elseif format then
    local p = s:profile{ delimit = o.delimited, duration_ns = shark.time() - t0 }
    stacks.export(p, format, output, { title = o.title })
  else
    local out = require("shark.out").of(output)
    flame.print_stacks(s:entries(), { delimit = o.delimited, out = out:printer() })
    out:finish()
  end
end)
