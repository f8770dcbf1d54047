-- SPDX-License-Identifier: GPL-2.0
-- funclatency.lua - time in user functions (one, or a glob) as a log2 histogram (uprobe -> uretprobe), BCC-style.
-- Run: shark samples/funclatency.lua c:getaddrinfo -m    shark samples/funclatency.lua -p 1234 -u -i 1 c:read
local hist = require "hist"

local o = shark.getopt{
  about = "Histogram of the time spent in FUNC of LIB (a path, a library such as c, or a program),\n" ..
    "from its entry to its return, per thread, aggregated in the kernel. FUNC may be a glob (work_*):\n" ..
    "one histogram for all the functions it matches. Default unit: nanoseconds.",
  args = { "LIB:FUNC" }, min_args = 1,
  examples = { "funclatency.lua c:getaddrinfo -m   in milliseconds", "funclatency.lua -p 42 -u -i 1 c:read" },
  "pid", "duration", "timestamp",
  { "i", "interval", "SECONDS", "print and reset the histogram every SECONDS", type = "number" },
  { "u", "microseconds", nil, "microseconds" },
  { "m", "milliseconds", nil, "milliseconds" },
}

local function die(msg, code) io.stderr:write("funclatency: ", msg, "\n") shark.exit(code or 1) end
local lib, func = o.args[1]:match("^(.+):([^:]+)$")
if not lib then die("want LIB:FUNC (kernel functions need kprobes, which this kernel may lack)", 2) end
local path, err = shark.find_binary(lib, o.pid)
if not path then die(err) end
local unit, label = "ns", "nsecs"
if o.milliseconds then unit, label = "ms", "msecs" elseif o.microseconds then unit, label = "us", "usecs" end

local names = { func }
if func:find("[%*%?%[]") then
  names = {}
  for _, f in ipairs(shark.functions(path, func) or {}) do names[#names + 1] = f.name end
  if #names == 0 then die(("no function of %s matches %s"):format(path, func)) end
end
local from, to = {}, {}
for i, name in ipairs(names) do
  from[i], to[i] = "uprobe:" .. path .. ":" .. name, "uretprobe:" .. path .. ":" .. name
end
local lat = bpf.latency{ from = table.concat(from, ","), to = table.concat(to, ","), unit = unit, pid = o.pid or -1 }
shark.info(("Tracing %d functions for \"%s\"... Hit Ctrl-C to end."):format(#names, o.args[1]))

local function report()
  if o.timestamp then print(os.date("%H:%M:%S")) end
  print(("@%s:"):format(label))
  hist.print_log2(lat:histogram())
  print(("count: %d"):format(lat:count()))
  if o.interval then lat.obj.maps.hist:clear() end
end
if o.interval then shark.every(o.interval, nil, function() report() print() end) end
shark.on_end(report)
