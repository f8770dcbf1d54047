-- SPDX-License-Identifier: GPL-2.0
-- ucalls: the Lua side of the language-runtime call counters (pycalls, phpcalls): their options, the rows
-- of a calls map and the report's lines; and that a bundle takes the module's BPF program along.
local t = require "tap"
local ffi = require "ffi"
local getopt = require "shark.getopt"
local ucalls = require "ucalls"

local spec = ucalls.options{ name = "xcalls", about = "x", binary = "the runtime (default: /usr/bin/x)" }
local help = getopt.help(spec)
t.ok(help:find("^usage: xcalls %[options%] %[interval%] %[count%]"), "usage: [interval] [count]")
for _, row in ipairs({ "%-p, %-%-pid PID", "%-d, %-%-duration SECONDS", "%-L, %-%-latency +time each call",
  "%-m, %-%-milliseconds", "%-T, %-%-top N", "%-b, %-%-binary PATH +the runtime %(default: /usr/bin/x%)" }) do
  t.ok(help:find(row), "option row " .. row:gsub("%%", ""))
end
local o = getopt.parse(spec, { "-L", "-T", "2", "-b", "/bin/x", "5", "3" })
t.is(o.latency and o.top, 2, "-L -T 2")
t.is(o.interval + o.count, 8, "interval and count")
t.is(ucalls.binary(o, "/usr/bin/x"), "/bin/x", "-b names the binary")
t.is(ucalls.binary({}, "/usr/bin/x"), "/usr/bin/x", "else the default")

ffi.cdef "struct ucalls_test_key { char cls[96]; char func[64]; };"
local function key(cls, func) return ffi.new("struct ucalls_test_key", { cls, func }) end
local calls = {
  [key("Kls", "meth")] = { calls = 4ULL, ns = 80000000ULL },
  [key("", "foo")] = { calls = 123ULL, ns = 246000ULL },
  [key("Abc", "zed")] = { calls = 4ULL, ns = 4000ULL },
}
local rows = ucalls.rows(calls, "::")
t.is(#rows, 3, "one row a key")
t.is(rows[1].name, "foo", "an empty class: the function alone, most called first")
t.is(rows[2].name, "Abc::zed", "equal counts by name")
t.is(rows[3].calls, 4, "counts as numbers")
t.is(ucalls.rows({ [{ cls = "<string>", func = "f" }] = { calls = 1, ns = 0 } }, ".")[1].name, "<string>.f",
  "string keys and another separator")

local lines = ucalls.format(rows, {})
t.is(lines[1], ("%-50s %8s"):format("METHOD", "# CALLS"), "header without -L")
t.is(lines[2], ("%-50s %8d"):format("foo", 123), "a row: name and count")
t.is(#lines, 4, "header and every row")
lines = ucalls.format(rows, { latency = true })
t.is(lines[1], "METHOD" .. (" "):rep(46) .. "# CALLS    TIME (us)   AVG (us)", "-L header in us")
t.is(lines[2], ("%-50s %8d %12s %10s"):format("foo", 123, "246.00", "2.00"), "-L row: total and average")
lines = ucalls.format(rows, { latency = true, milliseconds = true, top = 2 })
t.is(lines[1]:match("TIME %(ms%) +AVG %(ms%)$"), "TIME (ms)   AVG (ms)", "-m: ms columns")
t.is(lines[3], ("%-50s %8d %12s %10s"):format("Abc::zed", 4, "0.00", "0.00"), "-m row")
t.is(#lines, 3, "-T 2: two rows")

local bundle = require "shark.bundle"
for _, s in ipairs({ "pycalls", "phpcalls" }) do
  local path = (os.getenv("TOP") or ".") .. "/samples/" .. s .. ".lua"
  local src = bundle.read_file(path)
  if not src then
    t.skip("bundle of " .. s, "no " .. path)
  else
    local need = assert(bundle.collect(path, src))
    local from = {}
    for _, x in ipairs(need.sources) do from[#from + 1] = x.file:match("[^/]+$") end
    table.sort(from)
    t.is(table.concat(from, " "), s == "pycalls" and "ucalls.lua" or "phpcalls.lua ucalls.lua",
      s .. ": a bundle takes ucalls.lua's BPF C along")
  end
end
t.done()
