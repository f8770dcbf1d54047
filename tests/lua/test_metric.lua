-- SPDX-License-Identifier: GPL-2.0
-- shark.metric, its Prometheus and OTLP renderers, the agent's config and sandbox.
local t = require "tap"
local metric = require "shark.metric"
local prom = require "shark.export.prometheus"
local otlp = require "shark.export.otlp"
local config = require "shark.agent.config"
local sandbox = require "shark.sandbox"
local profiler = require "shark.agent.profiler"

local r = metric.registry()
local c = metric.counter("calls_total", "Calls\nseen \\ here.", { "comm" }, { registry = r })
c:inc(2, { comm = 'ba"sh' })
c:inc(1, { "x" })
c:inc(nil, { comm = "x" })
local g = metric.gauge("temp", "T.", {}, { registry = r })
g:set(1.25)
local h = metric.histogram("lat_seconds", "Latency.", {}, { registry = r, buckets = { 0.5, 1 } })
for _, v in ipairs { 0.2, 0.5, 0.7, 3 } do h:observe(v) end
local text = prom.render(r:collect())
t.is(text, table.concat({
  "# HELP calls_total Calls\\nseen \\\\ here.",
  "# TYPE calls_total counter",
  'calls_total{comm="ba\\"sh"} 2',
  'calls_total{comm="x"} 2',
  "# HELP temp T.",
  "# TYPE temp gauge",
  "temp 1.25",
  "# HELP lat_seconds Latency.",
  "# TYPE lat_seconds histogram",
  'lat_seconds_bucket{le="0.5"} 2',
  'lat_seconds_bucket{le="1"} 3',
  'lat_seconds_bucket{le="+Inf"} 4',
  "lat_seconds_sum 4.4",
  "lat_seconds_count 4",
  "" }, "\n"), "Prometheus text: escapes, labels by name or position, cumulative buckets (le inclusive)")
t.raises(function() c:inc(-1, { comm = "x" }) end, "a counter only goes up", "a counter refuses to go down")
t.raises(function() c:inc(1, { nope = "x" }) end, "label comm missing", "a missing label is an error")
t.raises(function() metric.counter("9bad", "x") end, "bad name", "a bad metric name is refused")
t.raises(function() metric.gauge("calls_total", "x", {}, { registry = r }) end, "already registered as a counter",
  "one name, one type")
t.is(prom.number(0 / 0), "NaN", "NaN as Prometheus writes it")
t.is(prom.number(math.huge), "+Inf", "+Inf")
t.is(prom.number(0.1), "0.1", "shortest text that reads back")

-- exponential buckets: index i holds (2^i, 2^(i+1)] at scale 0
t.is(metric.exp_index(8, 0), 2, "8 is in (4, 8]")
t.is(metric.exp_index(9, 0), 3, "9 is in (8, 16]")
t.is(metric.exp_index(2, 3), 7, "2 = base^8 at scale 3 is the top of bucket 7")
local e = metric.histogram("e", "E.", {}, { registry = r, exponential = 0 })
for _, v in ipairs { 0, 1, 3, 4, 1000 } do e:observe(v) end
local es = r:collect()[4].series[1]
t.is(es.exp.zero_count, 1, "zero count")
t.is(es.exp.offset, -1, "first bucket index (1 is in (0.5, 1])")
t.is(table.concat(es.exp.counts, ","), "1,0,2,0,0,0,0,0,0,0,1", "counts per bucket")

-- BPF-style log2 slot maps: exact integer bounds
local slots = { [0] = 1, [1] = 2, [3] = 4 }
r = metric.registry()
metric.map(slots, { name = "m", help = "h", hist = "log2", registry = r })
local ms = r:collect()[1].series[1]
t.is(ms.count, 7, "log2 map: count")
t.is(ms.buckets[2][1], 1, "slot 1 (the value 1) has the bound 1")
t.is(ms.buckets[4][1], 7, "slot 3 ([4, 8)) has the bound 7 for integers")
t.is(ms.buckets[4][2], 7, "cumulative")

-- OTLP/JSON: 64-bit integers as strings, empty repeated fields left out
r = metric.registry()
metric.counter("n_total", "N.", {}, { registry = r }):inc(5)
metric.gauge("empty", "no series", {}, { registry = r })
local js = otlp.json(r:collect(), { start_ns = 1, time_ns = 2 })
t.ok(js:find('"asInt":"5"', 1, true), "OTLP/JSON: an integer sum as a string")
t.ok(not js:find('"empty"', 1, true), "a metric with no series is left out")
t.ok(#assert(otlp.encode(r:collect(), { start_ns = 1, time_ns = 2 })) > 10, "protobuf encodes")

-- config: errors name file, line and key
local cfg, err = config.parse('[profile]\nhz = 0\n', "a.toml")
t.is(cfg, nil, "hz 0 refused")
t.is(err, "a.toml:2: profile.hz: expected a whole number from 1 to 10000, got 0", "with file, line and key")
cfg = assert(config.parse('[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4318"\nprotocol = "HTTPJSON"\n' ..
  '[[job]]\nname = "j"\nscript = "s.lua"\n', "b.toml", "/etc/shark"))
t.is(cfg.otlp.protocol, "HttpJson", "PSH's protocol names are case-insensitive")
t.is(cfg.jobs[1].script, "/etc/shark/s.lua", "a job's script is relative to the config's folder")
t.is(cfg.jobs[1].interval, 15, "defaults filled in")

-- sandbox: refusals name their rule
local env = sandbox.env({}, { perf = {}, bpf = {}, shark = {}, timer = {}, metric = metric })
t.raises(function() return env.ffi end, "sandbox: ffi: 'ffi' is not available", "no ffi")
t.raises(function() return env.os.execute end, "os.execute is not allowed", "no os.execute")
t.raises(function() return env.require("io") end, "sandbox: require: module 'io' is not allowed", "require allow-list")
t.raises(function() return env.loadstring("\27LJ") end, "sandbox: load: bytecode cannot be loaded", "no bytecode")
local benv = sandbox.env({}, { perf = {}, shark = {}, timer = {}, metric = metric,
  bpf = { count = function() return { obj = {}, total = 5 } end } })
local res = benv.bpf.count{ on = "raw_syscalls:sys_enter" }
t.is(res.total, 5, "a template result's plain values reach a sandboxed job")
t.raises(function() return res.obj end, "sandbox: bpf: field 'obj' of a template's result is not available",
  "its BPF object does not")
local f = env.loadstring("return ffi")
t.raises(f, "sandbox: ffi", "a loaded chunk runs in the same sandbox")

t.is(profiler.unbase64(profiler.base64("\0\1\2\255xyz")), "\0\1\2\255xyz", "base64 round trip")
t.is(profiler.unbase64("a=bc"), nil, "malformed base64 is refused")
t.done()
