-- SPDX-License-Identifier: GPL-2.0
-- heatmap: rows of log2 buckets per interval become SVG cells with titles.
local t = require "tap"
local heatmap = require "heatmap"

local rows = {
  { interval = 10, start_ms = 10000, buckets = { [5] = 3, [7] = 1 } },
  { interval = 11, start_ms = 11000, buckets = { [6] = 40 } },
  { interval = 13, start_ms = 13000, buckets = {} },
}
local cols = heatmap.columns(rows)
t.is(#cols, 3, "one column per row")
t.is(cols[2].t, 1, "time relative to the first row, in seconds")
t.is(cols[3].t, 3, "a gap in time stays a gap")

local svg = heatmap.svg(rows, { title = "write() latency", unit = "us" })
t.ok(svg:find("^<%?xml"), "an SVG document")
t.ok(svg:find("write%(%) latency", 1), "the title")
local cells = 0
for _ in svg:gmatch('<rect class="c"') do cells = cells + 1 end
t.is(cells, 3 * 3, "a cell per column and bucket from the lowest to the highest (slots 5..7)")
t.ok(svg:find("<title>1s, %[32, 64%) us: 40</title>"), "a cell's title: time, bucket, count")
t.ok(svg:find("<title>0s, %[16, 32%) us: 3</title>"), "another cell")
t.ok(svg:find('fill="#ffffff"><title>3s, %[16, 32%) us: 0'), "an empty cell is white")
t.ok(svg:find("darkest cell: 40 events"), "the scale")

local by_time = heatmap.columns({ [2] = { [1] = 1 }, [0] = { [3] = 2 } })
t.is(by_time[1].t, 0, "a { [seconds] = buckets } table, sorted by time")
t.raises(function() heatmap.svg({ x = 1 }) end, "expected rows", "bad input names what it wants")
t.done()
