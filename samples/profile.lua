-- SPDX-License-Identifier: GPL-2.0
-- profile.lua - CPU profile: stacks sampled at a frequency, counted in the kernel; folded or an SVG flame graph.
-- Run: shark samples/profile.lua -F 99 -p 1234 10 · profile.lua -f 5 > out.folded · profile.lua --svg cpu.svg 5
-- Code without frame pointers (Debian's -O2): profile.lua --call-graph dwarf (stacks unwound with .eh_frame).
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
  { "g", "call-graph", "MODE", "user stacks: fp (frame pointers, counted in the kernel) or dwarf (a copy of " ..
    "the stack unwound with .eh_frame, as perf record --call-graph dwarf)", default = "fp",
    choices = { "fp", "dwarf" } },
  { nil, "containers", nil, "beside each host pid: its pid in its own namespace and its cgroup" },
  { nil, "stack-bytes", "N", "with --call-graph dwarf: user stack bytes copied per sample", type = "int",
    default = 8192 },
}
if o.user_stacks_only and o.kernel_stacks_only then
  io.stderr:write("profile: -U and -K exclude each other\n")
  shark.exit(2)
  return
end
local stack = require "perf.stack"
local container = require "shark.container"

-- --call-graph dwarf: samples through perf.on, unwound in shark, counted here
-- by distinct stack; the same rows as bpf.stacks's entries().
local function dwarf_stacks()
  local rows, by_key, n = {}, {}, 0
  perf.on("cpu-clock", { freq = o.frequency, pid = o.pid or -1, callchain_k = not o.user_stacks_only,
    callchain_u = not o.kernel_stacks_only and "dwarf" or nil,
    stack_bytes = not o.kernel_stacks_only and o.stack_bytes or nil }, function(e)
    n = n + 1
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
  return { entries = function()
    table.sort(rows, function(a, b) return a.count > b.count end)
    return rows
  end }
end

local s = o.call_graph == "dwarf" and dwarf_stacks() or bpf.stacks{ freq = o.frequency, pid = o.pid or -1,
  kernel = not o.user_stacks_only, user = not o.kernel_stacks_only }

-- Frame-pointer stacks of code built without them stop early: say so, and what does better.
local function notice_partial(rows)
  if o.call_graph ~= "fp" or o.kernel_stacks_only then return end
  local msg = stack.partial_notice(rows)
  if msg then shark.info(msg .. "; --call-graph dwarf unwinds them with .eh_frame") end
end

shark.on_end(function()
  local rows = s:entries()
  notice_partial(rows)
  if o.containers then
    for _, r in ipairs(rows) do r.ns = r.ns or (r.pid and container.label(r.pid)) end
  end
  if o.svg then
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
