-- SPDX-License-Identifier: GPL-2.0
-- getopt.lua - a mutation loop over shark.getopt: random command lines from
-- option-like tokens and bytes, for SECONDS (arg 1). Every one must parse or
-- be refused with a usage error; any other Lua error, or a crash, fails.
local getopt = require "shark.getopt"

local secs = tonumber(arg and arg[1] or (shark.args or {})[1]) or 10
local spec = {
  name = "fuzz", about = "fuzzing", args = { "[interval]", "[count]" },
  "pid", "tid", "json", "timestamp", "comm", "interface",
  { "x", "failed", nil, "show failures" },
  { "n", "name", "NAME", "only NAME" },
  { "m", "min-us", "US", "at least US", type = "number", default = 0 },
  { "k", "keys", "K", "an integer", type = "int" },
  { "e", "event", "EV", "an event (repeatable)", list = true },
  { nil, "unit", "UNIT", "us or ms", choices = { "us", "ms" }, default = "us" },
  { "f", "fn", "F", "a parser", type = function(v) return #v < 5 and v or nil, "too long" end },
}
local tokens = { "-p", "-t", "-j", "-T", "-c", "-i", "-x", "-n", "-m", "-k", "-e", "--unit", "--unit=", "--pid",
  "--min-us=", "--keys", "--event", "-f", "--", "-", "-jx", "-m5", "-pnan", "1", "0", "-1", "1.5", "nan", "inf",
  "-inf", "1e400", "0x10", "4294967297", "us", "ms", "", "=", "--=", "---", "-h", "--help", "--name=a=b" }

math.randomseed(os.time())
local function word()
  if math.random() < 0.8 then return tokens[math.random(#tokens)] end
  local t = {}
  for i = 1, math.random(0, 6) do t[i] = string.char(math.random(0, 255)) end
  return table.concat(t)
end

-- getopt's exits and output, caught: a usage error is a refusal, not a crash
-- (and its on_end: one per parse would make the run's end walk 100,000s)
local real_exit, real_print, real_stderr, real_stdout, real_on_end = shark.exit, print, io.stderr, io.stdout,
  shark.on_end
local sink = { write = function() end, flush = function() end }
local refusal = {}

local t0, runs, refused, bad = shark.time(), 0, 0, 0
while shark.time() - t0 < secs * 1e9 do
  for _ = 1, 200 do
    local argv = {}
    for i = 1, math.random(0, 8) do argv[i] = word() end
    shark.exit, shark.on_end = function() error(refusal, 0) end, function() end
    print, io.stderr, io.stdout = function() end, sink, sink
    local ok, err = pcall(getopt.parse, spec, argv)
    shark.exit, print, io.stderr, io.stdout = real_exit, real_print, real_stderr, real_stdout
    shark.on_end = real_on_end
    runs = runs + 1
    if not ok and err == refusal then
      refused = refused + 1
    elseif not ok then
      bad = bad + 1
      io.stderr:write("getopt raised on {", table.concat(argv, ", "), "}: ", tostring(err), "\n")
    elseif ok and err.min_us and (err.min_us ~= err.min_us or math.abs(err.min_us) == math.huge) then
      bad = bad + 1
      io.stderr:write("a number option took ", tostring(err.min_us), "\n")
    end
  end
end
print(("ok getopt: %d command lines, %d refused, %d failures"):format(runs, refused, bad))
if bad > 0 then shark.exit(1) end
