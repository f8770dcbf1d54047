-- SPDX-License-Identifier: GPL-2.0
-- shark/agent/exporters.lua - where the jobs' metrics and profiles go:
-- Prometheus' /metrics (pulled), OTLP/HTTP or OTLP/gRPC (pushed every
-- interval, through a bounded queue; with profiles = true the profiles too, as OTLP
-- profiles v1.5.0), profiles to shark serve or pprof files in a folder.
-- The agent's own health is published beside the jobs' metrics.
local uv = require "uv"
local ffi = require "ffi"
local api = require "shark.api"
local http = require "shark.http"
local metric = require "shark.metric"
local prom = require "shark.export.prometheus"
local otlp = require "shark.export.otlp"
local push = require "shark.agent.push"
local profiler = require "shark.agent.profiler"

local M = {}

local Ex = {}
Ex.__index = Ex

-- A random id of this agent's run: with a sequence number, each profile's
-- upload_id, so a profile sent again (serve stored it, then its answer was
-- lost) is stored once.
local function run_id()
  local f = io.open("/dev/urandom", "rb")
  local b = f and f:read(8) or tostring(os.time()) .. tostring(uv.os_getpid())
  if f then f:close() end
  return (b:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

function M.new(o)
  local self = setmetatable({ log = o.log, jobs = o.jobs, reg = metric.registry(), version = o.version,
    host = uv.os_gethostname(), rendered = setmetatable({}, { __mode = "k" }), run = run_id() }, Ex)
  local r = { registry = self.reg }
  self.up = metric.gauge("shark_agent_job_up",
    "1 when the job runs (attached and publishing), 0 while it starts or after it ended.", { "job" }, r)
  self.scrapes = metric.counter("shark_agent_scrapes_total", "Scrapes of /metrics served.", {}, r)
  self.queue = metric.gauge("shark_agent_queue_length", "Requests waiting to be sent.", { "sink" }, r)
  self.sent = metric.gauge("shark_agent_sent_total", "Requests delivered (a counter, kept per sink).",
    { "sink" }, r)
  self.dropped = metric.gauge("shark_agent_dropped_total",
    "Requests dropped: queue full or refused for good (a counter, kept per sink).", { "sink" }, r)
  self.made = metric.counter("shark_agent_profiles_total",
    "Profiles the profiler made (each queued for shark serve and/or written to the folder).", {}, r)
  return self
end

function Ex:_own()
  self.up:reset()
  for _, s in ipairs(self.jobs:status()) do
    self.up:set(s.status == "running" and 1 or 0, { job = s.name })
  end
  for name, p in pairs { otlp = self.otlp, profiles = self.profiles } do
    self.queue:set(p:size(), { sink = name })
    self.sent:set(p.sent, { sink = name })
    self.dropped:set(p.dropped + p.rejected, { sink = name })
  end
end

-- The agent's own series, then every job's: one list of families.
function Ex:families()
  self:_own()
  local snaps = { self.reg:collect() }
  for _, s in ipairs(self.jobs:snapshots()) do snaps[#snaps + 1] = s end
  local fams, conflicts = prom.merge(snaps)
  if conflicts > 0 and not self.warned then
    self.warned = true
    self.log("%d metric families share a name with another type; the later ones are left out", conflicts)
  end
  return fams
end

-- ------------------------------------------------------------ Prometheus

-- The exposition: each job's snapshot rendered once, when it arrives (a
-- scrape of 10 000 series is then a concatenation); families that two
-- sources share are merged the slow way.
function Ex:prometheus_text()
  self:_own()
  local own = self.reg:collect()
  local parts, seen, clash = { prom.render(own) }, {}, false
  for _, f in ipairs(own) do seen[f.name] = true end
  for _, snap in ipairs(self.jobs:snapshots()) do
    local cache = self.rendered[snap]
    if not cache then
      local names = {}
      for i, f in ipairs(snap) do names[i] = f.name end
      cache = { text = prom.render(snap), names = names }
      self.rendered[snap] = cache
    end
    for _, n in ipairs(cache.names) do
      if seen[n] then clash = true end
      seen[n] = true
    end
    parts[#parts + 1] = cache.text
  end
  if clash then return prom.render(self:families()) end
  return table.concat(parts)
end

function Ex:_prometheus(cfg)
  local want = cfg and cfg.listen and cfg.listen.text .. (cfg.path or "")
  if want == self.prom_key then return end
  if self.prom then
    self.prom:close()
    self.prom, self.prom_key = nil, nil
  end
  if not want then return end
  local path = cfg.path
  local srv, err = http.listen(cfg.listen.host, cfg.listen.port, 64 * 1024, function(req)
    local p = req.url:match("^[^?]*")
    if p ~= path then return 404, "text/plain", "not found: the metrics are at " .. path .. "\n" end
    if req.method ~= "GET" and req.method ~= "HEAD" then return 405, "text/plain", "GET only\n", "Allow: GET\r\n" end
    self.scrapes:inc()
    return 200, prom.content_type, self:prometheus_text()
  end)
  if not srv then error(("[prometheus] listen = %q: %s"):format(cfg.listen.text, err), 0) end
  self.prom, self.prom_key = srv, want
  self.log("prometheus: serving http://%s:%d%s", cfg.listen.host, srv:port(), path)
end

-- ------------------------------------------------------------ OTLP

-- OTLP/gRPC's endpoint has no path: the method's is added.
local function otlp_url(endpoint, grpc)
  if grpc then return (endpoint:gsub("/$", "")) .. otlp.GRPC_METRICS end
  if endpoint:match("/v1/metrics$") then return endpoint end
  return (endpoint:gsub("/$", "")) .. "/v1/metrics"
end

-- Profiles go beside the metrics, on the collector's path for the pinned
-- version of the (development) profiles signal.
local function otlp_profiles_url(endpoint, grpc)
  if grpc then return (endpoint:gsub("/$", "")) .. otlp.GRPC_PROFILES end
  return (endpoint:gsub("/v1/metrics$", ""):gsub("/$", "")) .. otlp.PROFILES_PATH
end

local function header_lines(t)
  local out = {}
  for k, v in pairs(t or {}) do out[#out + 1] = ("%s: %s\r\n"):format(k, v) end
  table.sort(out)
  return table.concat(out)
end

function Ex:_otlp(cfg)
  if self.otlp_timer then
    self.otlp_timer:close()
    self.otlp_timer = nil
  end
  local grpc = cfg and cfg.protocol == "Grpc"
  if self.otlp and not (cfg and cfg.enable and otlp_url(cfg.endpoint, grpc) == self.otlp.url) then
    self.otlp:close()
    self.otlp = nil
  end
  self.otlp_profiles = nil
  if not (cfg and cfg.enable) then return end
  self.otlp = self.otlp or push.new { name = "otlp", url = otlp_url(cfg.endpoint, grpc), max = cfg.queue,
    log = self.log, grpc = grpc }
  self.otlp.headers, self.otlp.timeout_s, self.otlp.max = header_lines(cfg.headers), cfg.timeout_s, cfg.queue
  self.otlp.ca_file = cfg.ca_file
  self.otlp_profiles = cfg.profiles and otlp_profiles_url(cfg.endpoint, grpc) or nil
  local json = cfg.protocol == "HttpJson"
  local resource = { ["service.name"] = "shark-agent", ["host.name"] = self.host,
    ["telemetry.sdk.name"] = "shark", ["telemetry.sdk.version"] = self.version }
  local start_ns = tonumber(api.realtime_ns())
  local function export()
    local fams = self:families()
    local o = { resource = resource, start_ns = start_ns, version = self.version }
    if json then
      self.otlp:enqueue(otlp.json(fams, o), otlp.content_type.json)
    else
      local body, err = otlp.encode(fams, o)
      if body then self.otlp:enqueue(body, otlp.content_type.protobuf)
      else self.log("otlp: cannot encode: %s", err) end
    end
  end
  self.otlp_export = export
  self.otlp_timer = uv.new_timer()
  self.otlp_timer:start(cfg.interval * 1000, cfg.interval * 1000, export)
end

-- ------------------------------------------------------------ profiles

local function url_escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

function Ex:_profiles(cfg)
  self.profile_cfg = cfg
  local url = cfg and cfg.enable and cfg.upload
  if self.profiles and self.profiles.base ~= url then
    self.profiles:close()
    self.profiles = nil
  end
  if url and not self.profiles then
    self.profiles = push.new { name = "profiles", url = url, max = 1000, log = self.log }
    self.profiles.base = url
  end
  if self.profiles then
    self.profiles.headers = cfg.token and ("Authorization: Bearer %s\r\n"):format(cfg.token) or ""
    self.profiles.ca_file = cfg.ca_file
  end
end

-- The profiles of one flush of the profiler (they come up the pipe one
-- after another) as ONE OTLP profiles request, a ResourceProfiles each, in
-- the OTLP queue (its own URL): the same retries, bound and drop counts as
-- the metrics.
Ex.OTLP_BATCH_MS = 200

function Ex:_otlp_send()
  local list = self.otlp_pending
  self.otlp_pending = nil
  if not (list and self.otlp and self.otlp_profiles) then return end
  local body, err = otlp.profiles(list, { version = self.version })
  if body then self.otlp:enqueue(body, otlp.content_type.protobuf, self.otlp_profiles)
  else self.log("otlp: cannot encode the profiles: %s", err) end
end

function Ex:_otlp_profile(bytes, labels)
  local res = otlp.profile_resource(labels, { host = self.host, version = self.version })
  if not self.otlp_pending then
    self.otlp_pending = {}
    self.otlp_batch = self.otlp_batch or uv.new_timer()
    self.otlp_batch:start(self.OTLP_BATCH_MS, 0, function() self:_otlp_send() end)
  end
  local list = self.otlp_pending
  list[#list + 1] = { pprof = bytes, resource = res, pid = labels.pid }
end

-- A profile from the profiler job: queued for shark serve, and/or a file.
function Ex:profile(p)
  local cfg = self.profile_cfg
  if not cfg then return end
  local bytes = type(p.data) == "string" and profiler.unbase64(p.data)
  if not bytes then
    self.log("profile: a malformed profile from the profiler job was dropped")
    return
  end
  self.made:inc()
  self.nmade = (self.nmade or 0) + 1
  local labels = {}
  for k, v in pairs(p.labels or {}) do labels[#labels + 1] = { k, v } end
  table.sort(labels, function(a, b) return a[1] < b[1] end)
  if self.profiles then
    local q = { "kind=flamegraph", "title=" .. url_escape(p.title or "profile"),
      ("upload_id=%s-%d"):format(self.run, self.nmade) }
    for _, kv in ipairs(labels) do q[#q + 1] = ("label.%s=%s"):format(url_escape(kv[1]), url_escape(kv[2])) end
    local base = self.profiles.base:gsub("/$", "")
    -- each item carries its own URL: labels differ per profile
    self.profiles:enqueue(bytes, "application/octet-stream", base .. "/api/profiles?" .. table.concat(q, "&"))
  end
  if self.otlp and self.otlp_profiles then self:_otlp_profile(bytes, p.labels or {}) end
  if cfg.directory then
    -- written as every file shark writes: in a folder checked along its
    -- path, through a new temporary renamed into place
    local name = ("%s-%s-%s.pb.gz"):format(os.date("!%Y%m%dT%H%M%SZ", math.floor(p.time or 0)),
      (p.labels and p.labels.pid) or "other", ((p.labels and p.labels.comm) or "x"):gsub("[^%w_.-]", "_"))
    if api.safe_write(cfg.directory, name, bytes, #bytes) ~= 0 then
      self.log("profile: %s", ffi.string(api.safe_error()))
    end
  end
end

-- ------------------------------------------------------------ config

function Ex:apply(cfg)
  self:_prometheus(cfg.prometheus)
  self:_otlp(cfg.otlp)
  self:_profiles(cfg.profile)
end

-- What became of the profiles, said at the end: what is still queued goes
-- with the process.
function Ex:summary()
  local p = self.profiles
  if not self.nmade and not p then return nil end
  return ("profiles: %d made, %d delivered, %d dropped, %d refused, %d still queued"):format(self.nmade or 0,
    p and p.sent or 0, p and p.dropped or 0, p and p.rejected or 0, p and p:size() or 0)
end

function Ex:close()
  if self.otlp_batch then self.otlp_batch:close() end
  if self.prom then self.prom:close() end
  if self.otlp_timer then self.otlp_timer:close() end
  if self.otlp then self.otlp:close() end
  if self.profiles then self.profiles:close() end
end

return M
