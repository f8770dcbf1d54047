-- SPDX-License-Identifier: GPL-2.0
-- stacks: the stack profile shape, its folded/pprof/speedscope/JSON renderers, the diff flame graph, the out sink.
local t = require "tap"
local stacks = require "shark.stacks"
local pprof = require "shark.pprof"
local json = require "shark.json"
local flame = require "flame"
local out = require "shark.out"

-- ------------------------------------------------------------- folded
local folded = "main;mid;leaf 60\nmain;mid;other 20\nmain;idle 20"
local s = assert(stacks.from_folded(folded .. "\n# a comment\n\n"))
t.is(#s.frames, 5, "frames interned: main, mid, leaf, other, idle")
t.is(#s.stacks, 3, "three stacks")
t.is(stacks.total(s), 100, "total of the counts")
t.is(s:to_folded(), "main;idle 20\nmain;mid;leaf 60\nmain;mid;other 20", "folded out, sorted by stack")
t.is(stacks.from_folded("a;b 1\na;b 2\n"):to_folded(), "a;b 3", "the same stack twice adds up")
local bad, err = stacks.from_folded("a;b 1\na;b\n")
t.is(bad, nil, "a line without a count is refused")
t.is(err, "folded stacks: line 2: expected 'frame;frame;... COUNT', got 'a;b'", "the error names the line")
t.ok(select(2, stacks.from_folded(42)):find("expected text"), "not text: refused")
t.is(assert(stacks.from_folded("a b;c 2\r\n  x;y\t3  \r\n")):to_folded(), "a b;c 2\nx;y 3",
  "CRLF, tabs, spaces in names and around lines")
t.is(select(2, stacks.from_folded("a;b 1e5\n")),
  "folded stacks: line 1: expected 'frame;frame;... COUNT', got 'a;b 1e5'", "a count that is not a plain number")
t.is(select(2, stacks.from_folded(";;; 4\n")), "folded stacks: line 1: no frames", "a line of separators only")
t.ok(stacks.from_folded("f;g_[k] 3\n").frames[2].kernel, "flamegraph.pl's _[k] marks a kernel frame")

-- rows as bpf.stacks():entries() gives them, and callchain-keyed counts
local rows = { { count = 3, comm = "app", user = { "leaf", "main" }, kernel = { "schedule", "entry" } } }
t.is(stacks.from_rows(rows, { delimit = true }):to_folded(), "app;main;leaf;-;entry;schedule 3",
  "rows: comm, user, -, kernel, root first")
t.is(stacks.from_counts({ ["leaf\nmid\nmain"] = 4, ["x;y"] = 1 }):to_folded(), "main;mid;leaf 4\nx;y 1",
  "callchain keys (leaf first, a line each) and folded keys")
t.is(flame.folded(s), "main;idle 20\nmain;mid;leaf 60\nmain;mid;other 20", "flame takes the shape too")

-- ------------------------------------------------------------- pprof
local rich = stacks.new{ sample_type = "samples", unit = "count", period_type = "cpu", period_unit = "nanoseconds",
  period = 10000000, duration_ns = 2e9 }
local kaddr = "0xffffffff81000123"
local ids = {
  rich:frame{ name = "main", module = "/usr/bin/app", build_id = "abcd1234", addr = 0x401000,
    map = { start = 0x400000, limit = 0x500000, offset = 0 } },
  rich:frame{ name = "read", module = "/usr/lib/libc.so.6", build_id = "ef01", addr = 0x7f0000001000,
    map = { start = 0x7f0000000000, limit = 0x7f0000100000, offset = 0x1000 } },
  rich:frame{ name = "ksys_read", kernel = true, module = "[kernel.kallsyms]", addr = kaddr },
}
rich:add(ids, 7)
rich:add({ ids[1] }, 3)
local bytes = pprof.encode(rich)
t.is(bytes:sub(1, 2), "\31\139", "pprof is gzipped")
local back, derr = pprof.decode(bytes)
t.ok(back, "decoded", derr)
t.is(back:to_folded(), rich:to_folded(), "the same stacks back")
t.is(back.sample_type .. "/" .. back.unit, "samples/count", "the first sample type is counted")
t.is(back.period, 10000000, "period kept")
t.is(back.period_type .. "/" .. back.period_unit, "cpu/nanoseconds", "period type kept")
t.is(back.duration_ns, 2e9, "duration kept")
local byname = {}
for _, f in ipairs(back.frames) do byname[f.name] = f end
t.is(byname.main.build_id, "abcd1234", "the build-id of a frame's mapping")
t.is(byname.read.module, "/usr/lib/libc.so.6", "its module")
t.is(byname.read.map.offset, 0x1000, "its mapping's file offset")
t.is(byname.read.addr, 0x7f0000001000, "the address sampled")
t.is(byname.ksys_read.addr, kaddr, "a kernel address, all 64 bits (above 2^53, kept as hex)")
t.ok(byname.ksys_read.kernel, "a kernel frame")
local cpu = assert(pprof.decode(bytes, { value = 2 }))
t.is(stacks.total(cpu), 10 * 10000000, "the second sample type: cpu ns = samples x period")
t.is(select(2, pprof.decode(bytes, { value = 3 })), "pprof: no sample type 3 (the profile has 2)",
  "a sample type that is not there")
t.is(select(2, pprof.decode("garbage!")), "pprof: not a profile.proto message (8 bytes)", "not protobuf: refused")
t.ok(select(2, pprof.decode(bytes:sub(1, 30))):find("^pprof: gzip data truncated at byte"), "truncated gzip: refused")
t.is(select(2, pprof.decode(nil)), "pprof: expected bytes, got nil", "not a string: refused")
t.is(#pprof.encode(stacks.new()) > 0, true, "an empty profile encodes")
t.is(stacks.total(assert(pprof.decode(pprof.encode(stacks.new())))), 0, "and decodes empty")

-- hand-made protobuf: field 6 (string_table) = "", then a function (field 5)
-- whose name (field 2) indexes string 9, which does not exist
local fn = "\8\1\16\9"
local raw = "\50\0" .. "\42" .. string.char(#fn) .. fn
t.is(select(2, pprof.decode(raw)), "pprof: function 1: string index out of range", "a bad string index: refused")
t.is(select(2, pprof.decode("\50\1x")), 'pprof: the string table must start with ""', "string 0 must be empty")
-- a sample (field 2) naming location 5 (field 1), none defined
local smp = "\8\5"
t.is(select(2, pprof.decode("\50\0\18" .. string.char(#smp) .. smp)), "pprof: sample 1: no location with id 5",
  "a sample of a missing location: refused")

-- random bytes never crash the decoder
math.randomseed(12)
local crashed = 0
for _ = 1, 300 do
  local b = {}
  for i = 1, math.random(1, #bytes) do
    b[i] = math.random() < 0.1 and string.char(math.random(0, 255)) or bytes:sub(i, i)
  end
  local ok = pcall(pprof.decode, table.concat(b))
  if not ok then crashed = crashed + 1 end
end
t.is(crashed, 0, "300 mutated pprof files: each decoded or refused, never an error raised")

-- ---------------------------------------------------------- speedscope
local doc = assert(json.decode(stacks.render(s, "speedscope", { title = "t" })))
t.is(doc["$schema"], "https://www.speedscope.app/file-format-schema.json", "speedscope: $schema")
t.is(type(doc.shared) == "table" and #doc.shared.frames, 5, "speedscope: shared.frames")
local p1 = doc.profiles and doc.profiles[1] or {}
local required = {}
for _, k in ipairs{ "type", "name", "unit", "startValue", "endValue", "samples", "weights" } do
  if p1[k] == nil then required[#required + 1] = k end
end
t.is(table.concat(required, ","), "", "speedscope: a sampled profile has every required field")
t.is(p1.type .. " " .. p1.unit .. " " .. p1.startValue .. " " .. p1.endValue, "sampled none 0 100",
  "speedscope: type, unit, start and end (the total)")
t.is(#p1.samples, #p1.weights, "speedscope: a weight per sample")
local names, sum = {}, 0
for i, smpl in ipairs(p1.samples) do
  local fr = {}
  for _, ix in ipairs(smpl) do fr[#fr + 1] = doc.shared.frames[ix + 1].name end
  names[#names + 1] = table.concat(fr, ";") .. " " .. p1.weights[i]
  sum = sum + p1.weights[i]
end
table.sort(names)
t.is(table.concat(names, "\n"), s:to_folded(), "speedscope: samples are 0-based frame indices, root first")
local empty = assert(json.decode(stacks.render(stacks.new(), "speedscope")))
t.is(#empty.shared.frames .. #empty.profiles[1].samples, "00", "speedscope of nothing: empty lists")
t.ok(stacks.render(stacks.new(), "speedscope"):find('"frames":[]', 1, true), "encoded as [] (not {})")
t.is(assert(json.decode(stacks.render(stacks.new{ unit = "microseconds" }, "speedscope"))).profiles[1].unit,
  "microseconds", "speedscope: a time unit kept")
t.raises(function() stacks.render(s, "png") end, "unknown format 'png'", "an unknown format")

-- json of the shape itself
local j = assert(json.decode(stacks.render(s, "json")))
t.is(#j.frames .. " " .. #j.stacks .. " " .. j.stacks[1].count, "5 3 60", "json: frames, stacks with counts")

-- ------------------------------------------------------------- diff
local before = "main;a 10\nmain;b 10\nmain;c 10\n"
local after = "main;a 30\nmain;b 5\nmain;c 15\n"   -- a grows 33 -> 60 %, b shrinks 33 -> 10 %, c same share 30 %
local svg = flame.diff_svg(before, after, { title = "diff" })
local fills, deltas = {}, {}
for name, d, fill in svg:gmatch('<g data%-name="([^"]+)" data%-x="%d+" data%-wd="%d+" data%-d="%d+" ' ..
  'data%-fill="([^"]+)" data%-delta="([^"]+)"') do
  fills[name], deltas[name] = d, tonumber(fill)
end
t.is(("%.1f %.1f %.1f %.1f"):format(deltas.a, deltas.b, deltas.c, deltas.main), "26.7 -23.3 -3.3 0.0",
  "diff: share points per frame, after minus before")
t.is(fills.a, "rgb(178,24,43)", "diff: the largest growth full red")
t.is(fills.b, "rgb(60,120,181)", "diff: a shrink blue, 7/8 of the way (23.3 of 26.7 points)")
t.is(fills.main, "rgb(247,247,247)", "diff: unchanged near white")
t.ok(svg:find("<title>a (before 10 samples, 33.33%; after 30, 60.00%; +26.67 points)</title>", 1, true),
  "diff: both counts and the change in the tooltip")
t.ok(svg:find("function zoom", 1, true) and svg:find("</svg>\n$"), "diff: the same interactive SVG")
local xml = io.open("/usr/bin/xmllint")
if xml then
  xml:close()
  local path = os.tmpname()
  local f = io.open(path, "w")
  f:write(svg)
  f:close()
  t.ok(os.execute("xmllint --noout " .. path) == 0, "diff: well-formed XML")
  os.remove(path)
else
  t.skip("diff: well-formed XML", "xmllint is not installed")
end

-- ------------------------------------------------------------ out, json
local buf = out.buffer()
buf:line("a"):write("b")
t.is(buf.text(), "a\nb", "out: a buffer sink keeps what is written")
local lines = {}
local fs = out.of(function(l) lines[#lines + 1] = l end)
fs:write("x\ny\n")
t.is(table.concat(lines, "|"), "x|y", "out: a function gets each line")
t.raises(function() out.of("/nonexistent/dir/f") end, "cannot write", "out: an unwritable path")
local enc = json.encode({ a = json.array(), b = { 1, json.array() } })
t.ok(enc:find('"a":[]', 1, true) and enc:find('"b":[1,[]]', 1, true), "json: empty arrays as []", enc)
t.is(select(2, json.decode("{x")) ~= nil, true, "json: bad text gives nil, message")

t.done()
