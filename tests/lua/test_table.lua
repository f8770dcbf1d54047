-- SPDX-License-Identifier: GPL-2.0
-- shark.table: rows as a table with a header, or as JSON lines, from one list of columns.
local t = require "tap"
local cjson = require "cjson"
local tbl = require "shark.table"

local lines = {}
local function capture(fn)
  lines = {}
  local p = print
  print = function(s) lines[#lines + 1] = s end -- luacheck: ignore 121
  local ok, err = pcall(fn)
  print = p -- luacheck: ignore 121
  assert(ok, err)
  return lines
end

local function kb(v) return math.floor(v / 1024) end
local cols = {
  { "TIME(s)", "%-9.3f", "time", hide = true },
  { "PID", "%-7d", "pid" }, { "COMM", "%-6.6s", "comm" }, { "TX_KB", "%6d", "tx", text = kb },
  { "MS", "%.2f", "ms" }, { "X", "%s", "x", text = "-" },
}
local out = tbl.new(cols)
capture(function()
  out:header()
  out:row{ time = 1.5, pid = 42, comm = "python3.11", tx = 10240, ms = 0.5, x = "hidden", extra = 1 }
end)
t.is(lines[1], "PID     COMM    TX_KB MS X", "header: titles as the formats, precision dropped, %s")
t.is(lines[2], "42      python     10 0.50 -", "row: formatted, text = fn and constant, hidden column out")

capture(function() out:header({ pid = "12:00:00" }, "   (tail)") end)
t.is(lines[1], "12:00:00 COMM    TX_KB MS X   (tail)", "header: titles overridden by key, a tail")

cols.json = true
out = tbl.new(cols)
capture(function()
  out:header()
  out:row{ time = 1.5, pid = 42, comm = "python3.11", tx = 10240, ms = 0.5, x = "hidden", extra = 1 }
end)
t.is(#lines, 1, "JSON: no header")
local o = cjson.decode(lines[1])
t.ok(o.time == 1.5 and o.pid == 42 and o.comm == "python3.11" and o.tx == 10240 and o.ms == 0.5 and
  o.x == "hidden", "JSON: every column's key with its value, hidden ones too, text not applied", lines[1])
t.is(o.extra, nil, "JSON: keys not in a column left out")

t.raises(function() tbl.new{ { "PID", "%d" } } end, "column 1: expected { TITLE, FORMAT, KEY }", "a column needs a key")
t.done()
