-- SPDX-License-Identifier: GPL-2.0
-- funccount.lua - count calls of user functions matching a glob (uprobes), as BCC's funccount.
-- Run: shark samples/funccount.lua 'c:malloc*' -d 5     shark samples/funccount.lua -p 1234 -i 1 /bin/bash:readline
local o = shark.getopt{
  about = "Count calls of the functions of LIB (a path, a library such as c, or a program) matching the glob\n" ..
    "FUNC, counted in the kernel. Kernel functions need kprobes, which this kernel may lack: give LIB.",
  args = { "LIB:FUNC" }, min_args = 1,
  examples = { "funccount.lua c:malloc        calls of malloc, every process", "funccount.lua -p 42 -i 1 'c:str*'",
    "funccount.lua /usr/bin/bash:readline -d 10" },
  "pid", "duration", "timestamp",
  { "i", "interval", "SECONDS", "print and reset the counts every SECONDS", type = "number" },
}

local function die(msg, code) io.stderr:write("funccount: ", msg, "\n") shark.exit(code or 1) end
local lib, glob = o.args[1]:match("^(.+):([^:]+)$")
if not lib then die("want LIB:FUNC (kernel functions need kprobes, which this kernel may lack)", 2) end
local path, err = shark.find_binary(lib, o.pid)
local funcs = path and shark.functions(path, glob) or die(err)
if #funcs == 0 or #funcs > 1000 then die(("%d functions match '%s' in %s (1..1000 can be traced)"):format(#funcs,
  glob, path)) end

local obj = bpf.load([[
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1);
         __type(key, u32); __type(value, u64); } counts SEC(".maps");
SEC("uprobe") int count_call(struct pt_regs *ctx)
{
	u32 i = bpf_get_attach_cookie(ctx);
	u64 *n = bpf_map_lookup_elem(&counts, &i);

	if (n)
		*n += 1;
	return 0;
}
]], { max_entries = { counts = #funcs } })
for i, f in ipairs(funcs) do
  obj.progs.count_call:attach_uprobe{ binary = path, offset = f.offset, cookie = i - 1, pid = o.pid or -1 }
end
shark.info(("Tracing %d functions for \"%s\"... Hit Ctrl-C to end."):format(#funcs, o.args[1]))

local last = {}
local function report()
  if o.timestamp then print(os.date("%H:%M:%S")) end
  local rows = {}
  for i, f in ipairs(funcs) do
    local n = obj.maps.counts[i - 1]:sum()
    if n > (last[i] or 0) then rows[#rows + 1] = { f.name, n - (last[i] or 0) } end
    if o.interval then last[i] = n end
  end
  table.sort(rows, function(a, b) return a[2] < b[2] or a[2] == b[2] and a[1] > b[1] end)
  print(("%-36s %8s"):format("FUNC", "COUNT"))
  for _, r in ipairs(rows) do print(("%-36s %8d"):format(r[1], r[2])) end
end
if o.interval then shark.every(o.interval, nil, function() report() print() end) end
shark.on_end(report)
