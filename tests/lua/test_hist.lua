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
t.done()
