-- SPDX-License-Identifier: GPL-2.0
-- profile.lua - CPU profile: stacks sampled at a frequency, counted in the kernel; folded, SVG, pprof, speedscope.
-- Run: shark samples/profile.lua -F 99 -p 1234 10 · profile.lua -f folded 5 > out.folded · -f pprof -o cpu.pb.gz
--      profile.lua --upload 5 (to shark serve: SHARK_CLOUD_URL/SHARK_CLOUD_TOKEN or ~/.config/shark/cloud.json)
-- Code without frame pointers (Debian's -O2): profile.lua --call-graph dwarf (stacks unwound with .eh_frame).
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
  { "g", "call-graph", "MODE", "user stacks: fp (frame pointers, counted in the kernel) or dwarf (a copy of " ..
    "the stack unwound with .eh_frame, as perf record --call-graph dwarf)", default = "fp",
    choices = { "fp", "dwarf" } },
  { nil, "stacks", "N", "distinct stacks the kernel keeps (default 32768; more show as [Missed ... Stack])",
    type = "int" },
  { nil, "containers", nil, "beside each host pid: its pid in its own namespace and its cgroup" },
  { nil, "stack-bytes", "N", "with --call-graph dwarf: user stack bytes copied per sample", type = "int",
    default = 8192 },
}
if o.user_stacks_only and o.kernel_stacks_only then
  io.stderr:write("profile: -U and -K exclude each other\n")
  shark.exit(2)
  return
end
local format, output = o.format or (o.svg and "svg") or (o.folded and "folded"), o.output or o.svg
local stack = require "perf.stack"
local container = require "shark.container"

-- --call-graph dwarf: samples through perf.on, unwound in shark, counted here
-- by distinct stack; the same rows and profile as bpf.stacks's result.
local function dwarf_stacks()
  local rows, by_key = {}, {}
  perf.on("cpu-clock", { freq = o.frequency, pid = o.pid or -1, callchain_k = not o.user_stacks_only,
    callchain_u = not o.kernel_stacks_only and "dwarf" or nil,
    stack_bytes = not o.kernel_stacks_only and o.stack_bytes or nil }, function(e)
    local key = tonumber(e.stack_key)
    local row = by_key[key]
    if not row then
      -- stacks differing only in addresses inside the same functions are one row
      local k, u = stack.split(e)
      local names = e.pid .. "\0" .. table.concat(k, ";") .. "\0" .. table.concat(u, ";")
      row = by_key[names]
      if not row then
        row = { comm = e.comm, pid = e.pid, count = 0, kernel = k, user = u,
          ns = o.containers and container.label(e.pid) or nil }
        by_key[names] = row
        rows[#rows + 1] = row
      end
      by_key[key] = row
    end
    row.count = row.count + 1
  end)
  local res = {}
  function res.entries()
    table.sort(rows, function(a, b) return a.count > b.count end)
    return rows
  end
  function res.profile(_, opts) return stacks.from_rows(res.entries(), opts) end
  return res
end

local s = o.call_graph == "dwarf" and dwarf_stacks() or bpf.stacks{ freq = o.frequency, pid = o.pid or -1,
  kernel = not o.user_stacks_only, user = not o.kernel_stacks_only, stacks = o.stacks }
local t0 = shark.time()

-- Frame-pointer stacks of code built without them stop early: say so, and what does better.
local function notice_partial()
  if o.call_graph ~= "fp" or o.kernel_stacks_only then return end
  local msg = stack.partial_notice((s:entries()))
  if msg then shark.info(msg .. "; --call-graph dwarf unwinds them with .eh_frame") end
end

shark.info(("Sampling at %d Hz %s... Hit Ctrl-C to end."):format(o.frequency,
  o.pid and ("PID " .. o.pid) or "on every CPU"))
shark.on_end(function()
  notice_partial()
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
    local dir = output and (output:match("^(.*)/[^/]*$") or ".")
    if #p.stacks == 0 and output and (dir == "" or require("uv").fs_stat(dir)) then
      -- an empty flame graph (or profile) says nothing: say it here, and leave no file
      io.stderr:write(("profile: no samples%s: %s not written\n"):format(
        o.pid and (" of PID " .. o.pid .. " (it did not run on a CPU?)") or "", output))
      return shark.exit(1)
    end
    stacks.export(p, format, output, { title = o.title })
  else
    local out = require("shark.out").of(output)
    local rows = s:entries()
    if o.containers then
      for _, r in ipairs(rows) do r.ns = r.ns or (r.pid and container.label(r.pid)) end
    end
    flame.print_stacks(rows, { delimit = o.delimited, out = out:printer() })
    out:finish()
  end
end)
