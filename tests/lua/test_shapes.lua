-- SPDX-License-Identifier: GPL-2.0
-- shapes: the histogram and rows data shapes, their text and JSON renderers, and printers writing through shark.out.
local t = require "tap"
local hist = require "hist"
local tbl = require "shark.table"
local json = require "shark.json"
local out = require "shark.out"

-- ---------------------------------------------------------- histogram
local h = hist.new("log2", { [1] = 1, [3] = 4, [5] = 2 }, { unit = "us" })
t.is(hist.render(h, "text"), table.concat({
  "[1]                         1 |@@@@@@@@@@@@@                                       |",
  "[2, 4)                      0 |                                                    |",
  "[4, 8)                      4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|",
  "[8, 16)                     0 |                                                    |",
  "[16, 32)                    2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |", "" }, "\n"),
  "log2 text: bpftrace's layout, empty buckets between kept")
local j = assert(json.decode(hist.render(h, "json")))
t.is(("%s %s %d %d"):format(j.kind, j.unit, j.total, #j.buckets), "log2 us 7 5", "log2 json: kind, unit, total, range")
t.is(("%d %d %d"):format(j.buckets[3].lo, j.buckets[3].hi, j.buckets[3].count), "4 8 4",
  "log2 json: [lo, hi) and count")
local lin = hist.new("linear", { [0] = 3, [2] = 1 }, { min = 100, step = 50 })
t.is(hist.render(lin, "text"):match("^[^\n]+"), "[100, 150)                  3 |" .. ("@"):rep(52) .. "|",
  "linear text: [min + i*step, ...)")
local lj = assert(json.decode(hist.render(lin, "json")))
t.is(("%d %d %d"):format(lj.buckets[3].lo, lj.buckets[3].hi, lj.buckets[2].count), "200 250 0", "linear json bounds")
t.is(hist.render(hist.new("log2", {}), "text"), "", "an empty histogram: no text")
t.ok(hist.render(hist.new("log2", {}), "json"):find('"buckets":[]', 1, true), "and an empty JSON list")
t.raises(function() hist.new("exp") end, "kind is log2 or linear", "an unknown kind")
local got = {}
hist.print_log2({ [2] = 1 }, function(s) got[#got + 1] = s end)
t.is(#got, 1, "print_log2 to a function: the block in one call, as before")
local buf = out.buffer()
hist.print(h, { out = buf, json = true })
t.is(buf.text(), hist.render(h, "json"), "hist.print{json} through a sink")

local svg = hist.render(h, "svg", { title = "lat <us>" })
t.ok(svg:find("^<%?xml") and svg:find("</svg>\n$"), "log2 svg: a whole SVG document")
t.is(select(2, svg:gsub('<rect class="b"', "")), 5, "log2 svg: a bar per bucket of the range")
t.ok(svg:find('width="400" height="14" fill="#4477aa"><title>[4, 8) us: 4</title>', 1, true),
  "log2 svg: the largest bucket full width, with a title")
t.ok(svg:find("lat &lt;us&gt;", 1, true), "log2 svg: the title escaped")
local heat = require("heatmap").svg({ { t = 1, hist = h }, { t = 0, hist = hist.new("log2", { [3] = 9 }) } })
t.is(select(2, heat:gsub('<rect class="c"', "")), 10, "heatmap of histogram shapes: 2 columns x 5 buckets")
t.ok(heat:find("<title>0s, [4, 8) us: 9</title>", 1, true), "heatmap: columns in time order, the shape's unit")

-- --------------------------------------------------------------- rows
local cols = { { "PID", "%-6d", "pid" }, { "COMM", "%-8s", "comm" }, { "MS", "%6.2f", "ms" },
  { "ID", "%s", "id", hide = true } }
local shape = tbl.shape(cols, { { pid = 1, comm = "init", ms = 0.5, id = "a" }, { pid = 42, comm = "sh", ms = 12.25 } })
t.is(#shape.columns .. " " .. shape.columns[2].key .. " " .. #shape.rows, "4 comm 2", "rows shape: columns and rows")
t.is(tbl.render(shape, "text"), "PID    COMM         MS\n1      init       0.50\n42     sh        12.25\n",
  "rows text: header, formats, hidden column out")
local lines = {}
for l in tbl.render(shape, "json"):gmatch("[^\n]+") do lines[#lines + 1] = assert(json.decode(l)) end
t.is(#lines .. " " .. lines[1].id .. " " .. lines[2].ms, "2 a 12.25", "rows json: a line per row, hidden keys kept")
t.raises(function() tbl.render(shape, "xml") end, "unknown format 'xml'", "rows: an unknown format")
buf = out.buffer()
local p = tbl.new{ out = buf, json = true, { "A", "%d", "a" } }
p:header()
p:row{ a = 1 }
t.is(buf.text(), '{"a":1}\n', "shark.table writes through its out sink")

-- -------------------------------------------------------- print_hist
buf = out.buffer()
shark.print_hist({ read = 3, write = 1, open = 2 }, { json = true, top = 2, out = buf })
local pj = assert(json.decode(buf.text()))
t.is(("%s %s %s"):format(pj.read, pj.open, tostring(pj.write)), "3 2 nil",
  "print_hist json: the top entries as an object")
buf = out.buffer()
shark.print_hist({ a = 1 }, { out = buf })
t.is(buf.text(), "key  value  distribution\na        1 |" .. ("@"):rep(40) .. "|\n", "print_hist text to a sink")
local path = os.tmpname()
shark.print_hist({ b = 2 }, { out = path })
local f = io.open(path)
t.ok(f and f:read("*a"):find("^key  value"), "print_hist to a file path")
if f then f:close() end
os.remove(path)
t.done()
