-- SPDX-License-Identifier: GPL-2.0
-- OTLP profiles (opentelemetry-proto v1.5.0): pprofs encoded as one request,
-- hostile strings made valid UTF-8, malformed input refused, the config.
-- What the bytes mean is checked by an independent decoder in
-- tests/e2e/otlp_profiles.sh (tests/otlp/profiles_v1_5.js).
local t = require "tap"
local ffi = require "ffi"
local api = require "shark.api"
local stacks = require "shark.stacks"
local pprof = require "shark.pprof"
local otlp = require "shark.export.otlp"
local config = require "shark.agent.config"
local metric = require "shark.metric"

local function profile(name)
  local s = stacks.new{ sample_type = "samples", unit = "count", period_type = "cpu", period_unit = "nanoseconds",
    period = 10000000, time_ns = 1e18, duration_ns = 2e9 }
  local ids = {
    s:frame{ name = name, module = "/usr/bin/app", build_id = "abcd1234", addr = 0x401000,
      map = { start = 0x400000, limit = 0x500000, offset = 0 } },
    s:frame{ name = "ksys_read", kernel = true, module = "[kernel.kallsyms]", addr = "0xffffffff81000123" },
  }
  s:add(ids, 7)
  s:add({ ids[1] }, 3)
  return pprof.encode(s)
end

local body = assert(otlp.profiles({ { pprof = profile("main"), resource = { ["service.name"] = "app" }, pid = 42 } },
  { version = "1" }))
t.ok(#body > 100, "a profile encodes")
t.ok(body:find("process.executable.build_id.gnu\18\10\10\8abcd1234", 1, true), "the build id is an attribute")
t.ok(body:find("process.pid\18\2\24\42", 1, true), "process.pid is an integer attribute")

-- comm and symbols are anyone's bytes: a collector refuses a request with
-- one string that is not UTF-8, so those bytes become U+FFFD
local hostile = assert(otlp.profiles({ { pprof = profile("ma\255in\192"),
  resource = { ["service.name"] = "x\237\160\128y" } } }))
t.ok(hostile:find("ma\239\191\189in\239\191\189", 1, true), "a symbol's bytes that are not UTF-8 become U+FFFD")
t.ok(not hostile:find("ma\255", 1, true) and not hostile:find("in\192", 1, true), "and are not sent")
t.ok(hostile:find("x\239\191\189\239\191\189\239\191\189y", 1, true), "a surrogate (ED A0 80) is not UTF-8 either")
t.ok(assert(otlp.profiles({ { pprof = profile("caf\195\169 \240\159\166\136") } })):find("caf\195\169 \240\159\166\136",
  1, true), "valid UTF-8 is kept as it is")
local long = ("x"):rep(100000)
t.ok(assert(otlp.profiles({ { pprof = profile(long) } })):find(long, 1, true), "a 100 kB symbol is sent whole")

local two = assert(otlp.profiles({ { pprof = profile("a"), pid = 1 }, { pprof = profile("b"), pid = 2 } }))
t.ok(#two > #body, "two processes in one request")
t.ok(#assert(otlp.profiles({})) == 0, "no profiles: an empty request")

t.is(select(2, otlp.profiles({ { pprof = "garbage" } })),
  "otlp profiles: not a pprof: not a profile.proto message (7 bytes)", "not a pprof: refused")

-- a pprof whose indices are out of range is refused, not encoded
local raw = profile("main")
local p = api.pprof_decode(raw, #raw, ffi.new("char[64]"), 64)
ffi.cast("struct shark_pprof_location *", p.locations)[0].mapping = 99
local one = ffi.new("struct shark_otlp_profile[1]")
one[0].pprof = p
local req = ffi.new("struct shark_otlp_profiles")
req.profiles, req.nprofiles = one, 1
local out, len = ffi.new("void *[1]"), ffi.new("uint64_t[1]")
t.is(api.otlp_profiles_encode(req, out, len), -22, "a location's mapping out of range: -EINVAL")
api.pprof_free(p)

-- the profiler's labels as resource attributes
local cid = ("0123456789abcdef"):rep(4)
local res = otlp.profile_resource({ host = "h", service = "db", comm = "db", pid = "7", team = "x",
  cgroup = "/system.slice/docker-" .. cid .. ".scope" }, { version = "1" })
t.is(res["host.name"], "h", "host -> host.name")
t.is(res["service.name"], "db", "service -> service.name")
t.is(res["process.executable.name"], "db", "comm -> process.executable.name")
t.is(res["process.pid"], nil, "pid is left to profiles() (an integer)")
t.is(res.team, "x", "the config's labels as they are")
t.is(res["container.id"], cid, "a container's cgroup gives container.id")
t.is(otlp.profile_resource({ cgroup = "/user.slice/session-1.scope" }, { host = "me" })["container.id"], nil,
  "no id in the cgroup: no container.id")
t.is(otlp.profile_resource({}, { host = "me" })["host.name"], "me", "the agent's host when the label is missing")

-- the metrics exporter treats its labels the same way
local r = metric.registry()
metric.counter("calls_total", "Calls.", { "comm" }, { registry = r }):inc(3, { comm = "a\255b" })
local mbody = assert(otlp.encode(r:collect(), { start_ns = 1, time_ns = 2 }))
t.ok(mbody:find("a\239\191\189b", 1, true) and not mbody:find("a\255b", 1, true),
  "metrics: a label value that is not UTF-8 gets U+FFFD too")

-- config
local cfg, err = config.parse('[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4318"\nprofiles = true\n', "p.toml")
t.is(cfg, nil, "otlp.profiles without the profiler: refused")
t.is(err, "p.toml:4: otlp.profiles: needs the profiler: add a [profile] section (enable = true)", "with line and key")
cfg = assert(config.parse('[otlp]\nenable = true\nendpoint = "http://127.0.0.1:4318"\n', "q.toml"))
t.is(cfg.otlp.profiles, false, "off by default")
t.done()
