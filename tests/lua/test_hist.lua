-- SPDX-License-Identifier: GPL-2.0
-- hist: bpftrace's log2 labels, and the exact mapping of its buckets to an
-- OTLP / Prometheus exponential histogram of scale 0.
local t = require "tap"
local hist = require "hist"

t.is(hist.log2_label(0), "[0]", "slot 0")
t.is(hist.log2_label(1), "[1]", "slot 1")
t.is(hist.log2_label(2), "[2, 4)", "slot 2")
t.is(hist.log2_label(11), "[1K, 2K)", "K suffix")
t.is(hist.log2_label(21), "[1M, 2M)", "M suffix")

-- bpftrace's slot of v, as shark_log2_slot computes it in BPF
local function slot(v)
  if v == 0 then return 0 end
  local s = 0
  while v >= 2 do v = math.floor(v / 2) s = s + 1 end
  return s + 1
end

local counts, values = {}, {}
for v = 0, 5000, 7 do
  local s = slot(v)
  counts[s] = (counts[s] or 0) + 1
  values[#values + 1] = v
end
local e = hist.to_exponential(counts)
t.is(e.scale, 0, "scale 0")
t.is(e.value_offset, 1, "describes v + 1")
-- every value must fall, as v + 1, in (2^i, 2^(i+1)] of the bucket its slot maps to
local bad = 0
for _, v in ipairs(values) do
  local i = e.positive.offset + (slot(v) - (e.positive.offset + 1))
  local idx = slot(v) - 1
  if not (v + 1 > 2 ^ idx and v + 1 <= 2 ^ (idx + 1)) or i ~= idx then bad = bad + 1 end
end
t.is(bad, 0, "each bpftrace bucket is exactly one exponential bucket (v + 1)")
local total = 0
for _, c in ipairs(e.positive.bucket_counts) do total = total + c end
t.is(total, #values, "no count lost")
t.is(e.positive.offset, -1, "slot 0 (zero) is bucket -1 of v + 1")

-- keyed reports: a map's {name, slot} keys grouped into one histogram per name
local lines = {}
local function out(s) lines[#lines + 1] = s end
local map = { [{ n = "b", s = 2 }] = 3, [{ n = "a", s = 1 }] = 1, [{ n = "a", s = 3 }] = 2, [{ n = "c", s = 0 }] = 5 }
local hs = hist.group(map, function(k) return k.n, k.s end)
t.is(hs.a[1] + hs.a[3], 3, "group: name a's two slots")
local tot = hist.totals(hs)
t.is(("%d %d %d"):format(tot.a, tot.b, tot.c), "3 3 5", "totals per name")
hist.print_log2_keyed(hs, "x = %s: %d events", { out = out })
local full = ("@"):rep(52)
t.is(table.concat(lines, "\n"), table.concat({
  "x = c: 5 events", "[0]                         5 |" .. full .. "|", "",
  "x = a: 3 events", "[1]                         1 |" .. ("@"):rep(26) .. (" "):rep(26) .. "|",
  "[2, 4)                      0 |" .. (" "):rep(52) .. "|",
  "[4, 8)                      2 |" .. full .. "|", "",
  "x = b: 3 events", "[2, 4)                      3 |" .. full .. "|", "" }, "\n"),
  "print_log2_keyed: largest total first, ties by name, a blank line after each")
lines = {}
hist.print_log2_keyed({ [8] = { [0] = 1 }, [3] = { [0] = 9 } }, function(k, n) return ("@d[%d]: %d"):format(k, n) end,
  { order = "key", out = out })
t.is(table.concat(lines, "\n"), "@d[3]: 9\n[0]                         9 |" .. full .. "|\n\n" ..
  "@d[8]: 1\n[0]                         1 |" .. full .. "|\n", "print_log2_keyed: order = key, header a function")
lines = {}
hist.print_totals({ net_rx = 200, timer = 7, rcu = 200 }, { "SOFTIRQ", "TOTAL_count" }, { out = out })
t.is(table.concat(lines, "\n"), "SOFTIRQ          TOTAL_count\nnet_rx                   200\n" ..
  "rcu                      200\ntimer                      7", "print_totals: the titles, largest first, ties by name")
lines = {}
hist.print_totals({}, { "HARDIRQ", "TOTAL_usecs" }, { width = 24, out = out })
t.is(table.concat(lines, "\n"), "HARDIRQ                  TOTAL_usecs", "print_totals: the titles alone, width 24")
t.done()
