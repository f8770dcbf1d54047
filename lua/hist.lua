-- SPDX-License-Identifier: GPL-2.0
-- hist.lua - histograms as text, bpftrace's layout: log2 buckets
-- ([lo, hi) with K/M/G suffixes) or linear ones, a count and a bar each.
-- Also the same buckets as an OpenTelemetry / Prometheus exponential
-- histogram (scale 0: bucket i holds (2^i, 2^(i+1)]), without loss.
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

-- counts: { [slot] = count } (slots are numbers). Prints from the first to
-- the last non-empty slot, empty ones between included, as bpftrace does.
function M.print_log2(counts, out)
  out = out or print
  local lo, hi, max = range(counts)
  if not lo then return end
  local lines = {}
  for s = lo, hi do
    local n = counts[s] or 0
    lines[#lines + 1] = ("%-20s %8d |%s|"):format(M.log2_label(s), n, bar(n, max))
  end
  out(table.concat(lines, "\n"))
end

-- counts: { [bucket] = count }, bucket i covers [min + i*step, min + (i+1)*step)
function M.print_linear(counts, min, step, out)
  out = out or print
  local lo, hi, max = range(counts)
  if not lo then return end
  local lines = {}
  for b = lo, hi do
    local n = counts[b] or 0
    local a = min + b * step
    lines[#lines + 1] = ("%-20s %8d |%s|"):format(("[%d, %d)"):format(a, a + step), n, bar(n, max))
  end
  out(table.concat(lines, "\n"))
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
    out(type(header) == "function" and header(k, totals[k]) or header:format(k, totals[k]))
    M.print_log2(hs[k], out)
    out("")
  end
end

-- t: { [name] = total }. A line of the two column titles, then a row per
-- name, largest total first (ties by name). opts.width: the name column's
-- (default 16); the total's is 11.
function M.print_totals(t, titles, opts)
  opts = opts or {}
  local out = opts.out or print
  local row = "%-" .. (opts.width or 16) .. "s %11s"
  out(row:format(titles[1], titles[2]))
  for _, k in ipairs(by_value(t)) do out(row:format(k, ("%d"):format(t[k]))) end
end

return M
