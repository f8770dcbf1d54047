-- SPDX-License-Identifier: GPL-2.0
-- stacks.lua - the stack export path's figures: (1) fold + symbolize 1 M real
-- cpu-clock samples with kernel and user callchains (captured once from a
-- workload pinned to CPU 0, then replayed from memory through shark's perf
-- decode and dispatch), counted by e.callchain, folded into the stacks shape
-- and written as folded text; (2) the flame graph SVG of 50 000 unique stacks;
-- pprof and speedscope of the same, for scale.
-- usage: shark tests/bench/stacks.lua PROGS_DIR [SAMPLES]
local api = require "shark.api"
local stacks = require "shark.stacks"
local flame = require "flame"
local pprof = require "shark.pprof"

local progs = shark.args[1] or ".output/progs"
local want = tonumber(shark.args[2]) or 1000000

local function ms(t0) return (shark.time() - t0) / 1e6 end

-- ------------------------------------------------ 1. fold + symbolize
local profile, seen = {}, 0
local size = 64 * 1024 * 1024
local buf = ffi.new("uint8_t[?]", size)
local h

local function pass(len)
  assert(api.perf_replay(h.p, buf, len) == 0)
  h.drain()
end

-- capture a workload's samples on CPU 0, then count `want` of them: cold
-- (every new stack symbolized on first sight) and warm
local function bench(what, cmd)
  h = perf.on("cpu-clock", { cpu = 0, freq = 1999, callchain_k = true, callchain_u = true, mmap_pages = 8192 },
    function(e)
      local k = e.callchain
      if k then profile[k] = (profile[k] or 0) + 1 end
      seen = seen + 1
    end)
  assert(os.execute(("taskset -c 0 sh -c '%s' >/dev/null 2>&1"):format(cmd)))
  local len = api.perf_snapshot(h.p, buf, size)
  assert(len > 0, "no samples captured")
  profile, seen = {}, 0
  local t0 = shark.time()
  pass(len)
  local per_pass = seen
  local passes = math.ceil(want / per_pass)
  for _ = 2, passes do pass(len) end
  local t_count = ms(t0)
  local s = stacks.from_counts(profile, { sample_type = "samples" })
  local text = stacks.render(s, "folded")
  local t_all = ms(t0)
  print(("%s: %d samples (%d captured, replayed x %d), %d unique stacks, %d frames"):format(what, seen,
    per_pass, passes, #s.stacks, #s.frames))
  print(("  cold: %.0f ms = %.0f ms perf decode + e.callchain (symbolized on first sight) + count, %.0f ms fold " ..
    "into the stacks shape + folded text (%d KiB)"):format(t_all, t_count, t_all - t_count, math.floor(#text / 1024)))
  profile, seen = {}, 0
  t0 = shark.time()
  for _ = 1, passes do pass(len) end
  t_count = ms(t0)
  s = stacks.from_counts(profile)
  stacks.render(s, "folded")
  print(("  warm: %.0f ms = %.0f ms decode + intern + count, %.0f ms fold"):format(ms(t0), t_count, ms(t0) - t_count))
  h:stop()
end
bench("tests/progs (frame pointers)", ("%s/shares 10; %s/fpchain 300; %s/cxxspin 300; %s/openat_n 20000 /etc/hostname")
  :format(progs, progs, progs, progs))
bench("system tools (find | xargs cat | gzip: Debian builds, no frame pointers)",
  "find /usr/lib -name \"*.so*\" | head -3000 | xargs cat | gzip -1")

-- ------------------------------------------------ 2. 50 000 unique stacks
-- a synthetic tree: depth 8..40, names from a pool of 3000, branching like a real program
math.randomseed(7)
local names = {}
for i = 1, 3000 do names[i] = ("module_%d::function_name_%d"):format(i % 37, i) end
local counts, n = {}, 0
while n < 50000 do
  local depth = math.random(8, 40)
  local parts = {}
  for d = 1, depth do
    -- shallow frames come from few names (main, loops), deep ones from many
    parts[d] = names[math.random(1, math.min(3000, d * d * 4))]
  end
  local k = table.concat(parts, ";")
  if not counts[k] then n = n + 1 end
  counts[k] = (counts[k] or 0) + math.random(1, 100)
end
local big = stacks.from_counts(counts)
t0 = shark.time()
local svg = stacks.render(big, "svg", { title = "50k" })
local t_svg = ms(t0)
local rects = select(2, svg:gsub("<rect", ""))
print(("svg of %d unique stacks: %.0f ms (%d frames drawn, %.1f MiB)"):format(#big.stacks, t_svg, rects,
  #svg / 1048576))
t0 = shark.time()
local pb = pprof.encode(big)
print(("pprof of the same: %.0f ms (%.1f MiB gzipped)"):format(ms(t0), #pb / 1048576))
t0 = shark.time()
local sc = stacks.render(big, "speedscope")
print(("speedscope of the same: %.0f ms (%.1f MiB)"):format(ms(t0), #sc / 1048576))
t0 = shark.time()
assert(pprof.decode(pb))
print(("pprof decode of the same: %.0f ms"):format(ms(t0)))
t0 = shark.time()
flame.diff_svg(counts, big)
print(("diff svg of the same against itself: %.0f ms"):format(ms(t0)))
print("targets: fold + symbolize 1 M samples <= 1 s; SVG of 50 000 unique stacks <= 1 s")
shark.exit(0)
