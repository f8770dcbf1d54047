-- SPDX-License-Identifier: GPL-2.0
-- hist.lua - histograms as text, bpftrace's layout: log2 buckets
-- ([lo, hi) with K/M/G suffixes) or linear ones, a count and a bar each.
-- Also the same buckets as an OpenTelemetry / Prometheus exponential
-- histogram (scale 0: bucket i holds (2^i, 2^(i+1)]), without loss.
--
-- The histogram data shape, owned here:
--   h = { kind = "log2" | "linear", buckets = { [slot] = count }, unit = "us", min = 0, step = 10 }
-- log2 slot s holds [2^(s-1), 2^s) (slot 0: zero, 1: one); linear bucket i
-- holds [min + i*step, min + (i+1)*step). M.render(h, "text" | "json").
local M = {}

local WIDTH = 52

local function unit(n)
  local suffixes = { "", "K", "M", "G", "T", "P", "E" }
  local i = 1
  while n >= 1024 and n % 1024 == 0 and i < #suffixes do
    n = n / 1024
    i = i + 1
  end
  return ("%d%s"):format(n, suffixes[i])
end

-- The label of log2 slot s: 0 -> [0], 1 -> [1], s -> [2^(s-1), 2^s)
function M.log2_label(s)
  if s == 0 then return "[0]" end
  if s == 1 then return "[1]" end
  return ("[%s, %s)"):format(unit(2 ^ (s - 1)), unit(2 ^ s))
end

local function bar(n, max)
  local w = max > 0 and math.floor(n / max * WIDTH + 0.5) or 0
  if n > 0 and w == 0 then w = 1 end
  return ("@"):rep(w) .. (" "):rep(WIDTH - w)
end

-- The first and last non-empty bucket, and the largest count.
local function range(counts)
  local lo, hi, max = nil, nil, 0
  for b, n in pairs(counts) do
    if n > 0 then
      lo = lo and math.min(lo, b) or b
      hi = hi and math.max(hi, b) or b
      max = math.max(max, n)
    end
  end
  return lo, hi, max
end

-- ------------------------------------------------------------ the shape

-- A histogram: kind "log2" or "linear", buckets { [slot] = count }; opts:
-- unit, and min, step for linear ones.
function M.new(kind, buckets, opts)
  opts = opts or {}
  if kind ~= "log2" and kind ~= "linear" then
    error(("hist: kind is log2 or linear, not %s"):format(tostring(kind)), 2)
  end
  return { kind = kind, buckets = buckets or {}, unit = opts.unit, min = kind == "linear" and (opts.min or 0) or nil,
    step = kind == "linear" and (opts.step or 1) or nil }
end

-- The values bucket s holds: [lo, hi).
function M.bounds(h, s)
  if h.kind == "linear" then return h.min + s * h.step, h.min + (s + 1) * h.step end
  if s == 0 then return 0, 1 end
  return 2 ^ (s - 1), 2 ^ s
end

local function label(h, s)
  if h.kind == "linear" then
    local a = h.min + s * h.step
    return ("[%d, %d)"):format(a, a + h.step)
  end
  return M.log2_label(s)
end

-- The text lines (bpftrace's layout: from the first to the last non-empty
-- bucket, empty ones between included), or an empty list.
function M.lines(h)
  local counts = h.buckets
  local lo, hi, max = range(counts)
  local lines = {}
  if not lo then return lines end
  for s = lo, hi do
    local n = counts[s] or 0
    lines[#lines + 1] = ("%-20s %8d |%s|"):format(label(h, s), n, bar(n, max))
  end
  return lines
end

-- h as text ("text": its lines, each ending in a newline), JSON ("json":
-- { kind, unit, total, buckets = [{ lo, hi, count }] }, the non-empty range)
-- or an SVG bar chart ("svg").
function M.render(h, format, opts)
  if format == "svg" then return M.svg(h, opts) end
  if format == "text" then
    local lines = M.lines(h)
    return #lines > 0 and table.concat(lines, "\n") .. "\n" or ""
  elseif format == "json" then
    local json = require "shark.json"
    local lo, hi = range(h.buckets)
    local list, total = json.array(), 0
    for s = lo or 1, hi or 0 do
      local a, b = M.bounds(h, s)
      local n = h.buckets[s] or 0
      list[#list + 1] = { lo = a, hi = b, count = n }
      total = total + n
    end
    return json.encode({ kind = h.kind, unit = h.unit, total = total, buckets = list }) .. "\n"
  end
  error(("hist: unknown format '%s' (text, json, svg)"):format(tostring(format)), 2)
end

local function esc(x)
  return (tostring(x):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

-- h as a self-contained SVG bar chart: a bar per bucket of the non-empty
-- range, its label and count beside, a <title> per bar. opts.title.
function M.svg(h, opts)
  opts = opts or {}
  local lo, hi, max = range(h.buckets)
  local row, left, bw = 18, 150, 400
  local n = lo and (hi - lo + 1) or 0
  local height = 50 + n * row
  local out = {
    ('<?xml version="1.0" standalone="no"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" ' ..
      'font-family="Verdana, sans-serif" font-size="11">'):format(left + bw + 90, height),
    ('<rect width="100%%" height="100%%" fill="#f8f8f8"/><text x="10" y="22" font-size="15">%s</text>')
      :format(esc(opts.title or ("histogram" .. (h.unit and (" (" .. h.unit .. ")") or "")))),
  }
  for i = 0, n - 1 do
    local s = lo + i
    local c = h.buckets[s] or 0
    local y = 36 + i * row
    local w = max > 0 and math.floor(c / max * bw + 0.5) or 0
    out[#out + 1] = ('<text x="%d" y="%d" text-anchor="end">%s</text><rect class="b" x="%d" y="%d" width="%d" ' ..
      'height="%d" fill="#4477aa"><title>%s %s: %d</title></rect><text x="%d" y="%d">%d</text>')
      :format(left - 6, y + 12, esc(label(h, s)), left, y, w, row - 4, esc(label(h, s)), esc(h.unit or ""), c,
        left + w + 6, y + 12, c)
  end
  out[#out + 1] = "</svg>\n"
  return table.concat(out, "\n")
end

-- Print h through out (shark.out: nil for stdout, a path, a function, a
-- sink); opts.json: as JSON.
function M.print(h, opts)
  opts = opts or {}
  local text = opts.json and M.render(h, "json"):sub(1, -2) or table.concat(M.lines(h), "\n")
  if text == "" then return end
  -- a function gets the block in one call, as it always has
  if type(opts.out) == "function" then return opts.out(text) end
  require("shark.out").of(opts.out):line(text):finish()
end

-- counts: { [slot] = count } (slots are numbers). Prints from the first to
-- the last non-empty slot, empty ones between included, as bpftrace does.
function M.print_log2(counts, out)
  M.print(M.new("log2", counts), { out = out or print })
end

-- counts: { [bucket] = count }, bucket i covers [min + i*step, min + (i+1)*step)
function M.print_linear(counts, min, step, out)
  M.print(M.new("linear", counts, { min = min, step = step }), { out = out or print })
end

-- The log2 slots as an exponential histogram of scale 0 (OTLP, Prometheus
-- native), without loss. Slot s holds the integers [2^(s-1), 2^s) (slot 0:
-- zero), i.e. v + 1 lies in (2^(s-1), 2^s]: exactly scale-0 bucket s - 1 for
-- v + 1. So the result describes v + 1 (value_offset = 1 says so; subtract
-- it from every boundary to read v again).
function M.to_exponential(counts)
  local lo, hi = range(counts)
  local buckets = {}
  if lo then
    for s = lo, hi do buckets[#buckets + 1] = counts[s] or 0 end
  end
  return { scale = 0, zero_count = 0, value_offset = 1,
    positive = { offset = lo and lo - 1 or 0, bucket_counts = buckets } }
end

-- ------------------------------------------------------ keyed reports
-- What the BCC tools print per name (hardirqs, softirqs, biolatency -D,
-- futex): one histogram per key, or a table of totals.

-- Keys sort by value when they are of one type, else by type name.
local function key_less(a, b)
  if type(a) == type(b) then return a < b end
  return type(a) < type(b)
end

-- Keys of t in the order of their values, largest first, ties by key.
local function by_value(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return t[a] > t[b] or t[a] == t[b] and key_less(a, b) end)
  return keys
end

-- { [key] = { [slot] = count } } from the entries of a map (or table) whose
-- keys hold a name and a log2 slot: fn(k) returns the two.
function M.group(map, fn)
  local hs = {}
  for k, n in pairs(map) do
    local key, slot = fn(k)
    local h = hs[key] or {}
    h[slot] = (h[slot] or 0) + tonumber(n)
    hs[key] = h
  end
  return hs
end

-- { [key] = sum of its counts } of grouped histograms.
function M.totals(hs)
  local t = {}
  for key, h in pairs(hs) do
    local n = 0
    for _, c in pairs(h) do n = n + c end
    t[key] = n
  end
  return t
end

-- hs: { [key] = { [slot] = count } }. Each key's log2 histogram under a line
-- header:format(key, total) (or header(key, total) when a function), then a
-- blank line. Keys by total, largest first (ties by key); by key with
-- opts.order = "key".
-- opts.json: a JSON line per key instead ({key, total, kind, unit, buckets}:
-- the histogram shape's JSON, with opts.unit).
function M.print_log2_keyed(hs, header, opts)
  opts = opts or {}
  local out = opts.out or print
  local totals = M.totals(hs)
  local keys
  if opts.order == "key" then
    keys = {}
    for k in pairs(hs) do keys[#keys + 1] = k end
    table.sort(keys, key_less)
  else
    keys = by_value(totals)
  end
  for _, k in ipairs(keys) do
    if opts.json then
      local json = require "shark.json"
      local obj = json.decode(M.render(M.new("log2", hs[k], { unit = opts.unit }), "json"))
      obj.key = k
      out(json.encode(obj))
    else
      out(type(header) == "function" and header(k, totals[k]) or header:format(k, totals[k]))
      M.print_log2(hs[k], out)
      out("")
    end
  end
end

-- t: { [name] = total }. A line of the two column titles, then a row per
-- name, largest total first (ties by name). opts.width: the name column's
-- (default 16); the total's is 11. opts.json: JSON lines instead, the
-- titles lower-cased as keys (the rows shape, through shark.table).
function M.print_totals(t, titles, opts)
  opts = opts or {}
  local p = require("shark.table").new{ json = opts.json, out = opts.out or print,
    { titles[1], "%-" .. (opts.width or 16) .. "s", titles[1]:lower() },
    { titles[2], "%11s", titles[2]:lower(), text = function(v) return ("%d"):format(v) end } }
  p:header()
  for _, k in ipairs(by_value(t)) do p:row{ [titles[1]:lower()] = k, [titles[2]:lower()] = t[k] } end
end

return M
