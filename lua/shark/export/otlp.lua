-- SPDX-License-Identifier: GPL-2.0
-- shark/export/otlp.lua - a metrics snapshot (shark.metric) as an OTLP
-- ExportMetricsServiceRequest: protobuf (encoded by protobuf-c in
-- core/otlp.c) for OTLP/HTTP binary, or OTLP/JSON. Counters are cumulative
-- monotonic sums, gauges gauges, histograms explicit-bounds histograms or,
-- for those kept with exponential buckets, exponential histograms. And
-- pprofs as an OTLP profiles request (core/otlp_profiles.c, v1.5.0).
local ffi = require "ffi"
local cjson = require "cjson"
local api = require "shark.api"

local C = ffi.C
local M = {}

M.content_type = { protobuf = "application/x-protobuf", json = "application/json" }

-- Explicit bounds and per-bucket counts from cumulative {le, count} pairs
-- (the +Inf bucket holds what the last bound leaves).
local function explicit(series)
  local bounds, counts, prev = {}, {}, 0
  for i, b in ipairs(series.buckets) do
    bounds[i] = b[1]
    counts[i] = b[2] - prev
    prev = b[2]
  end
  counts[#counts + 1] = math.max(0, series.count - prev)
  return bounds, counts
end

local function kind_of(f)
  if f.type == "counter" then return C.SHARK_OTLP_SUM end
  if f.type == "gauge" then return C.SHARK_OTLP_GAUGE end
  local s = f.series[1]
  if s and s.exp then return C.SHARK_OTLP_EXPHISTOGRAM end
  return C.SHARK_OTLP_HISTOGRAM
end

local function is_int(v)
  return v == math.floor(v) and math.abs(v) < 2 ^ 53
end

-- ------------------------------------------------------------ protobuf

-- Families that have series: a metric without data points says nothing.
local function nonempty(families)
  local out = {}
  for _, f in ipairs(families) do
    if #f.series > 0 then out[#out + 1] = f end
  end
  return out
end

-- encode(families, {resource = {k = v}, scope = name, version =, start_ns =,
-- time_ns =}) -> bytes | nil, err
function M.encode(families, o)
  o = o or {}
  families = nonempty(families)
  local anchor = {}
  local function str(s)
    s = tostring(s)
    anchor[#anchor + 1] = s
    return s
  end
  local npoints, nattrs, nbounds, nbuckets = 0, 0, 0, 0
  for _, f in ipairs(families) do
    for _, s in ipairs(f.series) do
      npoints = npoints + 1
      nattrs = nattrs + #s.labels
      if s.exp then nbuckets = nbuckets + #s.exp.counts
      elseif s.buckets then
        nbounds = nbounds + #s.buckets
        nbuckets = nbuckets + #s.buckets + 1
      end
    end
  end
  local res = {}
  for k, v in pairs(o.resource or {}) do res[#res + 1] = { k, v } end
  table.sort(res, function(a, b) return a[1] < b[1] end)
  local resource = ffi.new("struct shark_otlp_attr[?]", #res + 1)
  for i, kv in ipairs(res) do
    resource[i - 1].key, resource[i - 1].value = str(kv[1]), str(kv[2])
  end
  local metrics = ffi.new("struct shark_otlp_metric[?]", #families + 1)
  local points = ffi.new("struct shark_otlp_point[?]", npoints + 1)
  local attrs = ffi.new("struct shark_otlp_attr[?]", nattrs + 1)
  local bounds = ffi.new("double[?]", nbounds + 1)
  local buckets = ffi.new("uint64_t[?]", nbuckets + 1)
  local start = o.start_ns or 0
  local now = o.time_ns or tonumber(api.realtime_ns())
  local pi, ai, bi, ci = 0, 0, 0, 0
  for mi, f in ipairs(families) do
    local m = metrics[mi - 1]
    m.name, m.description, m.unit = str(f.name), str(f.help or ""), str(f.unit or "")
    m.kind = kind_of(f)
    m.monotonic = f.type == "counter" and 1 or 0
    m.point_first, m.npoints = pi, #f.series
    local all_int = f.type ~= "histogram"
    for _, s in ipairs(f.series) do
      local p = points[pi]
      p.start_ns, p.time_ns = f.start_ns or start, now
      p.attr_first, p.nattrs = ai, #s.labels
      for _, kv in ipairs(s.labels) do
        attrs[ai].key, attrs[ai].value = str(kv[1]), str(kv[2])
        ai = ai + 1
      end
      if f.type == "histogram" then
        p.count, p.sum = s.count, s.sum
        if s.exp then
          p.scale, p.offset, p.zero_count = s.exp.scale, s.exp.offset, s.exp.zero_count
          p.bucket_first, p.nbuckets = ci, #s.exp.counts
          for _, n in ipairs(s.exp.counts) do buckets[ci] = n; ci = ci + 1 end
        else
          local b, n = explicit(s)
          p.bound_first, p.nbounds = bi, #b
          for _, x in ipairs(b) do bounds[bi] = x; bi = bi + 1 end
          p.bucket_first, p.nbuckets = ci, #n
          for _, x in ipairs(n) do buckets[ci] = x; ci = ci + 1 end
        end
      else
        p.value = s.value
        if not is_int(s.value) then all_int = false end
      end
      pi = pi + 1
    end
    m.as_int = all_int and 1 or 0
  end
  local req = ffi.new("struct shark_otlp_request")
  req.resource, req.nresource = resource, #res
  req.scope_name, req.scope_version = str(o.scope or "shark"), str(o.version or "")
  req.metrics, req.nmetrics = metrics, #families
  req.points, req.npoints = points, npoints
  req.attrs, req.nattrs = attrs, nattrs
  req.bounds, req.nbounds = bounds, nbounds
  req.buckets, req.nbuckets = buckets, nbuckets
  local out, len = ffi.new("void *[1]"), ffi.new("uint64_t[1]")
  local rc = api.otlp_encode(req, out, len)
  if rc < 0 then return nil, "otlp: " .. ffi.string(api.strerror(-rc)) end
  local bytes = ffi.string(out[0], len[0])
  api.free_mem(out[0])
  return bytes
end

-- ------------------------------------------------------------ profiles

-- OTLP profiles, a development signal upstream, at the one version
-- core/proto/otlp_profiles.proto pins: opentelemetry-proto v1.5.0.
M.PROFILES_VERSION = "1.5.0"
M.PROFILES_PATH = "/v1development/profiles"
-- OTLP/gRPC: the Export methods' paths (the service of the pinned profiles version)
M.GRPC_METRICS = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
M.GRPC_PROFILES = "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export"

-- The agent profiler's labels (host, service, comm, pid, cgroup, the
-- config's) as OpenTelemetry resource attributes; pid is left to profiles()
-- (an integer attribute). A cgroup path holding a 64-hex-digit id (docker,
-- containerd, cri-o, podman scopes) gives container.id.
local RESOURCE_KEY = { host = "host.name", service = "service.name", comm = "process.executable.name",
  cgroup = "process.linux.cgroup" }

function M.profile_resource(labels, o)
  o = o or {}
  local res = { ["telemetry.sdk.name"] = "shark", ["telemetry.sdk.version"] = o.version or "" }
  for k, v in pairs(labels or {}) do
    if k ~= "pid" then res[RESOURCE_KEY[k] or k] = tostring(v) end
  end
  res["host.name"] = res["host.name"] or o.host
  local cg = res["process.linux.cgroup"]
  local id = cg and cg:match("%f[%x](" .. ("%x"):rep(64) .. ")%f[^%x]")
  if id and not res["container.id"] then res["container.id"] = id end
  return res
end

-- profiles({{pprof = bytes (gzipped or not), resource = {k = v}, pid = n}},
-- {scope =, version =}) -> one ExportProfilesServiceRequest (protobuf), a
-- ResourceProfiles per entry | nil, err. Resource values are strings; pid
-- becomes the integer attribute process.pid.
function M.profiles(list, o)
  o = o or {}
  local anchor, decoded = {}, {}
  local function str(s)
    s = tostring(s)
    anchor[#anchor + 1] = s
    return s
  end
  local function done(...)
    for _, p in ipairs(decoded) do api.pprof_free(p) end
    return ...
  end
  local c = ffi.new("struct shark_otlp_profile[?]", #list + 1)
  local errbuf = ffi.new("char[256]")
  for i, e in ipairs(list) do
    local p = api.pprof_decode(e.pprof, #e.pprof, errbuf, 256)
    if p == nil then return done(nil, "otlp profiles: not a pprof: " .. ffi.string(errbuf)) end
    decoded[#decoded + 1] = p
    local res = {}
    for k, v in pairs(e.resource or {}) do res[#res + 1] = { k, v } end
    table.sort(res, function(a, b) return a[1] < b[1] end)
    local attrs = ffi.new("struct shark_otlp_attr[?]", #res + 1)
    anchor[#anchor + 1] = attrs
    for j, kv in ipairs(res) do attrs[j - 1].key, attrs[j - 1].value = str(kv[1]), str(kv[2]) end
    local x = c[i - 1]
    x.pprof, x.resource, x.nresource = p, attrs, #res
    x.pid = tonumber(e.pid) or 0
  end
  local r = ffi.new("struct shark_otlp_profiles")
  r.profiles, r.nprofiles = c, #list
  r.scope_name, r.scope_version = str(o.scope or "shark"), str(o.version or "")
  local out, len = ffi.new("void *[1]"), ffi.new("uint64_t[1]")
  local rc = api.otlp_profiles_encode(r, out, len)
  if rc < 0 then return done(nil, "otlp profiles: " .. ffi.string(api.strerror(-rc))) end
  local bytes = ffi.string(out[0], len[0])
  api.free_mem(out[0])
  return done(bytes)
end

-- ------------------------------------------------------------ JSON

local function u64(v) return ("%d"):format(v) end

-- lua-cjson 2.1.0 writes an empty table as {}: an empty repeated field is
-- left out instead (proto3 JSON reads a missing field as empty).
local function json_attrs(labels)
  if #labels == 0 then return nil end
  local out = {}
  for i, kv in ipairs(labels) do out[i] = { key = kv[1], value = { stringValue = tostring(kv[2]) } } end
  return out
end

local function json_points(f, start, now)
  local out = {}
  for i, s in ipairs(f.series) do
    local p = { attributes = json_attrs(s.labels), startTimeUnixNano = u64(f.start_ns or start),
      timeUnixNano = u64(now) }
    if f.type ~= "histogram" then
      if is_int(s.value) then p.asInt = u64(s.value) else p.asDouble = s.value end
    elseif s.exp then
      p.count, p.sum, p.scale, p.zeroCount = u64(s.count), s.sum, s.exp.scale, u64(s.exp.zero_count)
      local counts = {}
      for j, n in ipairs(s.exp.counts) do counts[j] = u64(n) end
      p.positive = { offset = s.exp.offset, bucketCounts = #counts > 0 and counts or nil }
    else
      local b, n = explicit(s)
      local counts = {}
      for j, x in ipairs(n) do counts[j] = u64(x) end
      p.count, p.sum, p.bucketCounts = u64(s.count), s.sum, counts
      if #b > 0 then p.explicitBounds = b end
    end
    out[i] = p
  end
  return out
end

local CUMULATIVE = 2

-- json(families, opts) -> the same request as OTLP/JSON text.
function M.json(families, o)
  o = o or {}
  families = nonempty(families)
  local start = o.start_ns or 0
  local now = o.time_ns or tonumber(api.realtime_ns())
  local metrics = {}
  for i, f in ipairs(families) do
    local m = { name = f.name, description = f.help ~= "" and f.help or nil, unit = f.unit ~= "" and f.unit or nil }
    local points = json_points(f, start, now)
    if f.type == "counter" then
      m.sum = { dataPoints = points, aggregationTemporality = CUMULATIVE, isMonotonic = true }
    elseif f.type == "gauge" then
      m.gauge = { dataPoints = points }
    elseif f.series[1] and f.series[1].exp then
      m.exponentialHistogram = { dataPoints = points, aggregationTemporality = CUMULATIVE }
    else
      m.histogram = { dataPoints = points, aggregationTemporality = CUMULATIVE }
    end
    metrics[i] = m
  end
  local res = {}
  for k, v in pairs(o.resource or {}) do res[#res + 1] = { key = k, value = { stringValue = tostring(v) } } end
  table.sort(res, function(a, b) return a.key < b.key end)
  local body = { resourceMetrics = { {
    resource = { attributes = #res > 0 and res or nil },
    scopeMetrics = { { scope = { name = o.scope or "shark", version = o.version or "" },
      metrics = #metrics > 0 and metrics or nil } },
  } } }
  return (cjson.encode(body):gsub("\\/", "/"))
end

return M
