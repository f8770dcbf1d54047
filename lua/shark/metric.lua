-- SPDX-License-Identifier: GPL-2.0
-- shark/metric.lua - metrics a script publishes: counters, gauges and
-- histograms with labels, and BPF maps read as metrics at collection time
-- (ebpf_exporter's mapping without its YAML). A registry collects them into
-- one snapshot, the shape every exporter renders (Prometheus text, OTLP).
--
--   local metric = require "shark.metric"
--   local calls = metric.counter("app_calls_total", "Calls seen.", {"comm"})
--   calls:inc(1, {comm = "bash"})             -- or calls:inc(1, {"bash"})
--   metric.histogram("lat_seconds", "Latency.", {}, {buckets = {0.001, 0.01}})
--   metric.map(bpf.var.counts, {name = "syscalls_total", help = "…",
--     labels = {pid = "pid"}})                -- key field -> label
--
-- Snapshot: a list of families {name, help, type = counter|gauge|histogram,
-- unit, series = {{labels = {{k, v}, ...}, value = n} | {labels, count, sum,
-- buckets = {{le, cumulative}, ...}}}}.
local M = {}

local NAME = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"
local LABEL = "^[a-zA-Z_][a-zA-Z0-9_]*$"

local Registry = {}
Registry.__index = Registry

function M.registry()
  return setmetatable({ families = {}, order = {} }, Registry)
end

-- The registry scripts publish into; the agent collects it.
M.default = M.registry()

local function check_names(name, labels, level)
  if type(name) ~= "string" or not name:match(NAME) then
    error(("metric: bad name %q (letters, digits, '_' and ':'; not a digit first)"):format(tostring(name)), level)
  end
  for _, l in ipairs(labels) do
    if type(l) ~= "string" or not l:match(LABEL) or l:match("^__") then
      error(("metric %s: bad label name %q"):format(name, tostring(l)), level)
    end
  end
end

function Registry:add(fam, level)
  local old = self.families[fam.name]
  if old then
    if old.type ~= fam.type then
      error(("metric %s: already registered as a %s"):format(fam.name, old.type), level)
    end
    return old
  end
  self.families[fam.name] = fam
  self.order[#self.order + 1] = fam.name
  return fam
end

function Registry:unregister(name)
  if not self.families[name] then return end
  self.families[name] = nil
  for i, n in ipairs(self.order) do
    if n == name then table.remove(self.order, i) break end
  end
end

-- ------------------------------------------------------------ series

local Family = {}
Family.__index = Family

-- The series key and the ordered label pairs of a label table given by name
-- ({comm = "x"}) or by position ({"x"}).
local function series_of(fam, lv)
  local names = fam.labels
  if #names == 0 then
    if lv ~= nil and next(lv) ~= nil then error(("metric %s: takes no labels"):format(fam.name), 4) end
    return "", nil
  end
  if type(lv) ~= "table" then error(("metric %s: needs labels %s"):format(fam.name, table.concat(names, ", ")), 4) end
  local vals = {}
  for i, n in ipairs(names) do
    local v = lv[n]
    if v == nil then v = lv[i] end
    if v == nil then error(("metric %s: label %s missing"):format(fam.name, n), 4) end
    vals[i] = tostring(v)
  end
  for k in pairs(lv) do
    if type(k) == "string" and not fam.index[k] then
      error(("metric %s: unknown label %s"):format(fam.name, k), 4)
    end
  end
  local key = table.concat(vals, "\0")
  local s = fam.series[key]
  if not s then
    s = { vals = vals }
    fam.series[key] = s
    fam.keys[#fam.keys + 1] = key
  end
  return key, s
end

local function get_series(fam, lv)
  if #fam.labels == 0 then
    local s = fam.series[""]
    if not s then
      s = { vals = {} }
      fam.series[""] = s
      fam.keys[1] = ""
    end
    if lv ~= nil and next(lv) ~= nil then error(("metric %s: takes no labels"):format(fam.name), 3) end
    return s
  end
  local _, s = series_of(fam, lv)
  return s
end

local function new_family(kind, name, help, labels, extra)
  labels = labels or {}
  check_names(name, labels, 4)
  local index = {}
  for _, l in ipairs(labels) do index[l] = true end
  local fam = setmetatable({ name = name, help = help or "", type = kind, labels = labels, index = index,
    series = {}, keys = {} }, Family)
  for k, v in pairs(extra or {}) do fam[k] = v end
  return fam
end

function Family:inc(n, lv)
  n = n or 1
  if self.type == "counter" and n < 0 then error(("metric %s: a counter only goes up"):format(self.name), 2) end
  local s = get_series(self, lv)
  s.value = (s.value or 0) + n
end
Family.add = Family.inc

function Family:set(v, lv)
  if self.type ~= "gauge" then error(("metric %s: set() is for gauges"):format(self.name), 2) end
  get_series(self, lv).value = v
end

function Family:dec(n, lv)
  if self.type ~= "gauge" then error(("metric %s: dec() is for gauges"):format(self.name), 2) end
  local s = get_series(self, lv)
  s.value = (s.value or 0) - (n or 1)
end

-- The exponential bucket of v > 0 at this scale: index i holds
-- (base^i, base^(i+1)], base = 2^(2^-scale) (OTLP's definition).
local function exp_index(v, scale)
  local f = 2 ^ scale
  local i = math.ceil(math.log(v) / math.log(2) * f) - 1
  -- the logarithm is inexact next to a boundary: step to the bucket that holds v
  while 2 ^ ((i + 1) / f) < v do i = i + 1 end
  while i > -1e6 and 2 ^ (i / f) >= v do i = i - 1 end
  return i
end
M.exp_index = exp_index

function Family:observe(v, lv)
  if self.type ~= "histogram" then error(("metric %s: observe() is for histograms"):format(self.name), 2) end
  if type(v) ~= "number" or v ~= v then error(("metric %s: observe() wants a number"):format(self.name), 2) end
  local s = get_series(self, lv)
  if self.scale then
    if v < 0 then error(("metric %s: an exponential histogram takes values >= 0"):format(self.name), 2) end
    if not s.exp then s.exp, s.count, s.sum, s.zero = {}, 0, 0, 0 end
    if v == 0 then s.zero = s.zero + 1
    else
      local i = exp_index(v, self.scale)
      s.exp[i] = (s.exp[i] or 0) + 1
    end
    s.count = s.count + 1
    s.sum = s.sum + v
    return
  end
  if not s.counts then s.counts, s.count, s.sum = {}, 0, 0 end
  local b = self.bounds
  local i = 1
  while i <= #b and v > b[i] do i = i + 1 end
  s.counts[i] = (s.counts[i] or 0) + 1
  s.count = s.count + 1
  s.sum = s.sum + v
end

-- Drop every series (a gauge whose label set changes each interval).
function Family:reset()
  self.series, self.keys = {}, {}
end

local function pairs_of(fam, vals)
  local out = {}
  for i, n in ipairs(fam.labels) do out[i] = { n, vals[i] } end
  return out
end

local function cumulative(bounds, counts)
  local out, c = {}, 0
  for i, le in ipairs(bounds) do
    c = c + (counts[i] or 0)
    out[i] = { le, c }
  end
  return out
end

-- An exponential series: OTLP's buckets, and classic cumulative ones
-- (le = each bucket's upper bound) for Prometheus' text format.
local function exp_series(scale, s, labels)
  local lo, hi
  for i in pairs(s.exp or {}) do
    if not lo or i < lo then lo = i end
    if not hi or i > hi then hi = i end
  end
  local counts, buckets, c = {}, {}, s.zero or 0
  if (s.zero or 0) > 0 then buckets[1] = { 0, c } end
  if lo then
    for i = lo, hi do
      local n = s.exp[i] or 0
      counts[#counts + 1] = n
      c = c + n
      buckets[#buckets + 1] = { 2 ^ ((i + 1) / 2 ^ scale), c }
    end
  end
  return { labels = labels, count = s.count or 0, sum = s.sum or 0, buckets = buckets,
    exp = { scale = scale, zero_count = s.zero or 0, offset = lo or 0, counts = counts } }
end

function Family:collect()
  local series = {}
  for _, key in ipairs(self.keys) do
    local s = self.series[key]
    local labels = pairs_of(self, s.vals)
    if self.type == "histogram" and self.scale then
      series[#series + 1] = exp_series(self.scale, s, labels)
    elseif self.type == "histogram" then
      series[#series + 1] = { labels = labels, count = s.count or 0, sum = s.sum or 0,
        buckets = cumulative(self.bounds, s.counts or {}) }
    else
      series[#series + 1] = { labels = labels, value = s.value or 0 }
    end
  end
  return { name = self.name, help = self.help, type = self.type, unit = self.unit, series = series }
end

-- ------------------------------------------------------------ constructors

local function registry_of(opts)
  return opts and opts.registry or M.default
end

function M.counter(name, help, labels, opts)
  return registry_of(opts):add(new_family("counter", name, help, labels, { unit = opts and opts.unit }), 3)
end

function M.gauge(name, help, labels, opts)
  return registry_of(opts):add(new_family("gauge", name, help, labels, { unit = opts and opts.unit }), 3)
end

-- Bucket upper bounds: opts.buckets (increasing), or opts.log2 = {min, max}
-- powers of two, or opts.linear = {min, step, count}. opts.exponential =
-- scale (-10..20) keeps OTLP exponential buckets instead.
local function bounds_of(name, opts)
  if opts.buckets then
    for i = 2, #opts.buckets do
      if opts.buckets[i] <= opts.buckets[i - 1] or opts.buckets[i] ~= opts.buckets[i] then
        error(("metric %s: buckets must increase"):format(name), 4)
      end
    end
    return opts.buckets
  end
  local b = {}
  if opts.linear then
    local min, step, count = opts.linear[1], opts.linear[2], opts.linear[3]
    for i = 0, count - 1 do b[#b + 1] = min + step * i end
  else
    local lo, hi = (opts.log2 or {})[1] or 1, (opts.log2 or {})[2] or 2 ^ 30
    local v = lo
    while v <= hi do b[#b + 1] = v; v = v * 2 end
  end
  return b
end

function M.histogram(name, help, labels, opts)
  opts = opts or {}
  local extra = { unit = opts.unit }
  if opts.exponential then
    local sc = opts.exponential == true and 0 or opts.exponential
    if type(sc) ~= "number" or sc ~= math.floor(sc) or sc < -10 or sc > 20 then
      error(("metric %s: exponential wants a scale from -10 to 20"):format(name), 2)
    end
    extra.scale = sc
  else
    extra.bounds = bounds_of(name, opts)
  end
  local fam = new_family("histogram", name, help, labels, extra)
  return registry_of(opts):add(fam, 3)
end

-- ------------------------------------------------------------ BPF maps

-- A key's label values. spec.labels maps a key field (or "key" for a scalar
-- key) to a label name; spec.decode[field] turns a raw value into text.
local function key_labels(spec, k)
  local vals = {}
  for i, f in ipairs(spec.fields) do
    local v
    if f == "key" and type(k) ~= "table" and type(k) ~= "cdata" then v = k else v = k[f] end
    local d = spec.decode and spec.decode[f]
    if d then v = d(v) end
    vals[i] = tostring(v)
  end
  return vals
end

-- Integer log2 slot s (bpftrace's: slot 0 holds 0, slot s holds
-- [2^(s-1), 2^s)) has the exact upper bound 2^s - 1 for integer values.
local function slot_bound(kind, slot, spec)
  if kind == "log2" then return slot == 0 and 0 or 2 ^ slot - 1 end
  return spec.min + spec.step * (slot + 1) - 1
end

-- The map to read: a BPF map (or anything pairs walks), or a function
-- returning such a table at each collection.
local function source(spec)
  if type(spec.map) == "function" then return spec.map() end
  return spec.map
end

local function collect_counts(spec)
  local series, seen = {}, {}
  for k, v in pairs(source(spec)) do
    if type(v) == "table" and v.sum then v = v:sum() end
    local vals = key_labels(spec, k)
    local key = table.concat(vals, "\0")
    local s = seen[key]
    if not s then
      s = { vals = vals, value = 0 }
      seen[key] = s
      series[#series + 1] = s
    end
    s.value = s.value + tonumber(v)
  end
  return series
end

local function collect_hist(spec)
  local groups, order = {}, {}
  for k, v in pairs(source(spec)) do
    if type(v) == "table" and v.sum then v = v:sum() end
    local slot = (type(k) == "number") and k or k[spec.slot]
    local vals = key_labels(spec, k)
    local key = table.concat(vals, "\0")
    local g = groups[key]
    if not g then
      g = { vals = vals, slots = {} }
      groups[key] = g
      order[#order + 1] = key
    end
    g.slots[tonumber(slot)] = (g.slots[tonumber(slot)] or 0) + tonumber(v)
  end
  local series = {}
  for _, key in ipairs(order) do
    local g, max = groups[key], -1
    for s in pairs(g.slots) do if s > max then max = s end end
    local buckets, c, sum = {}, 0, 0
    for s = 0, max do
      c = c + (g.slots[s] or 0)
      buckets[#buckets + 1] = { slot_bound(spec.hist, s, spec), c }
      -- the sum is not kept by a slot map: estimate it from the bucket's low end
      local lo = spec.hist == "log2" and (s == 0 and 0 or 2 ^ (s - 1)) or (spec.min + spec.step * s)
      sum = sum + lo * (g.slots[s] or 0)
    end
    series[#series + 1] = { vals = g.vals, buckets = buckets, count = c, sum = sum }
  end
  return series
end

local MapFamily = {}
MapFamily.__index = MapFamily

function MapFamily:collect()
  local spec = self.spec
  local raw = spec.hist and collect_hist(spec) or collect_counts(spec)
  local series = {}
  for i, s in ipairs(raw) do
    local labels = {}
    for j, n in ipairs(self.labels) do labels[j] = { n, s.vals[j] } end
    if spec.hist then
      series[i] = { labels = labels, count = s.count, sum = s.sum, buckets = s.buckets }
    else
      series[i] = { labels = labels, value = s.value * (spec.scale or 1) }
    end
  end
  return { name = self.name, help = self.help, type = self.type, unit = spec.unit, series = series }
end

-- metric.map(map, {name, help, type = "counter"|"gauge", labels = {field =
-- label, ...} (or a list of fields, each its own label), decode = {field =
-- fn}, hist = "log2"|"linear" (+ slot = field, min, step), scale}).
function M.map(map, spec)
  if map == nil then error("metric.map: no map given", 2) end
  -- a template's result (bpf.count{...}) read at each scrape is the script's:
  -- touching it keeps it from printing itself when the run ends
  if type(map) == "userdata" and tostring(map):find("^bpf%.") then local _ = map.what end
  spec = spec or {}
  local fields, labels = {}, {}
  if spec.labels then
    if #spec.labels > 0 then
      for i, f in ipairs(spec.labels) do fields[i], labels[i] = f, f end
    else
      for f in pairs(spec.labels) do fields[#fields + 1] = f end
      table.sort(fields)
      for i, f in ipairs(fields) do labels[i] = spec.labels[f] end
    end
  end
  local kind = spec.hist and "histogram" or spec.type or "counter"
  check_names(spec.name, labels, 3)
  local s = {}
  for k, v in pairs(spec) do s[k] = v end
  s.map, s.fields = map, fields
  if s.hist and s.hist ~= "log2" and s.hist ~= "linear" then
    error(("metric %s: hist is log2 or linear"):format(spec.name), 2)
  end
  if s.hist == "linear" and not (s.min and s.step) then
    error(("metric %s: a linear histogram needs min and step"):format(spec.name), 2)
  end
  s.slot = s.slot or "slot"
  local fam = setmetatable({ name = spec.name, help = spec.help or "", type = kind, labels = labels, spec = s },
    MapFamily)
  return registry_of(spec):add(fam, 3)
end

-- ------------------------------------------------------------ collection

function Registry:collect()
  local out = {}
  for _, name in ipairs(self.order) do
    local fam = self.families[name]
    local ok, f = pcall(fam.collect, fam)
    if ok then out[#out + 1] = f
    else out.errors = (out.errors or 0) + 1 end
  end
  return out
end

function M.collect()
  return M.default:collect()
end

return M
