-- SPDX-License-Identifier: GPL-2.0
-- flame: folding stacks, the flame graph layout (widths, order, depths) and the SVG made of it.
local t = require "tap"
local flame = require "flame"

local folded = "main;mid;leaf 60\nmain;mid;other 20\nmain;idle 20\n"
local counts = flame.counts(folded)
t.is(counts["main;mid;leaf"], 60, "folded text parsed")

-- rows as the BPF templates' entries() give them: frames leaf first
local rows = {
  { count = 3, comm = "app", user = { "leaf", "main" }, kernel = { "schedule", "entry" } },
  { count = 2, comm = "app", user = { "leaf", "main" }, kernel = { "schedule", "entry" } },
}
t.is(flame.fold(rows[1]), "app;main;leaf;entry;schedule", "comm, then user, then kernel frames, root first")
t.is(flame.fold(rows[1], { delimit = true }), "app;main;leaf;-;entry;schedule", "a - between user and kernel")
t.is(flame.folded(rows), "app;main;leaf;entry;schedule 5", "equal stacks add up")

local frames, total = flame.layout(counts)
t.is(total, 100, "total samples")
local got = {}
for _, f in ipairs(frames) do got[#got + 1] = ("%s@%d:%d+%d"):format(f.name, f.depth, f.x, f.w) end
t.is(table.concat(got, " "), "all@0:0+100 main@1:0+100 idle@2:0+20 mid@2:20+80 leaf@3:20+60 other@3:80+20",
  "parents first, siblings by name, x and width in samples")

local svg = flame.svg(folded, { title = "t <1>", width = 1020 })
t.ok(svg:find("^<%?xml") and svg:find("</svg>\n$"), "a whole SVG document")
t.ok(svg:find("t &lt;1&gt;", 1, true), "the title, escaped")
-- 1020 px less 2 x 10 padding: 1000 px for 100 samples, 10 px a sample
local rects = {}
for name, x, w in svg:gmatch('<g data%-name="([^"]+)".-<rect x="([%d.]+)" y="%d+" width="([%d.]+)"') do
  rects[#rects + 1] = ("%s %s %s"):format(name, x, w)
end
t.is(table.concat(rects, ", "), "all 10.00 1000.00, main 10.00 1000.00, idle 10.00 200.00, mid 210.00 800.00, " ..
  "leaf 210.00 600.00, other 810.00 200.00", "rect x and widths in proportion, in layout order")
t.ok(svg:find("<title>leaf (60 samples, 60.00%)</title>", 1, true), "a title with samples and %")
t.ok(svg:find("<script>", 1, true) and svg:find("function zoom", 1, true) and svg:find("function search", 1, true),
  "click-to-zoom and search script embedded")
t.is(flame.clip("a_very_long_function_name", 60), "a_ver..", "names clipped to the width (7 characters in 60 px)")
t.is(flame.clip("abc", 10), "", "no text where 3 characters do not fit")
local _, n = svg:gsub('<rect x="[%d.]+" y="(%d+)"', "")
t.is(n, 7, "six frames and the background")

t.done()
