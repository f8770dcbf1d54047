-- SPDX-License-Identifier: GPL-2.0
-- shark/pprof.lua - stack profiles (shark/stacks.lua) as pprof files: gzipped
-- profile.proto, what `go tool pprof` reads, encoded in C with protobuf-c.
--   local pprof = require "shark.pprof"
--   local bytes = pprof.encode(stacks, opts)     -- opts.comments: not yet
--   local s, err = pprof.decode(bytes)           -- opts.value: which sample type (1-based)
local ffi = require "ffi"
local api = require "shark.api"
local stacks = require "shark.stacks"
local frames = require "shark.frames"

local M = {}

-- Interns strings into a Lua list (index 0 is "").
local function string_table()
  local list, ix = { [0] = "" }, { [""] = 0 }
  return list, function(s)
    if s == nil then return 0 end
    s = tostring(s)
    local i = ix[s]
    if not i then
      i = #list + 1
      list[i], ix[s] = s, i
    end
    return i
  end
end

-- The sample types of s: its own; with a period and a count unit, also the
-- time the samples stand for (cpu nanoseconds), as Go's CPU profiles do.
local function sample_types(s)
  local types = { { s.sample_type or "samples", s.unit or "count" } }
  if s.period and s.period > 0 and (s.unit or "count") == "count" and s.period_type then
    types[2] = { s.period_type, s.period_unit or "nanoseconds" }
  end
  return types
end

-- go tool pprof takes the first mapping for the main binary: executables
-- first, then libraries, the kernel last.
local function map_rank(m)
  if m.module == "[kernel.kallsyms]" then return 3 end
  if (m.module:match("[^/]*$")):find("%.so") then return 2 end
  return 1
end

-- Mappings, functions and locations of s's frames: one location per frame.
local function tables(s, str)
  local maps, mapix, funcs, funcix = {}, {}, {}, {}
  local locs = {}
  for i, f in ipairs(s.frames) do
    local m
    if f.module then
      local start = f.map and f.map.start or 0
      local mk = f.module .. "\0" .. tostring(start)
      m = mapix[mk]
      if not m then
        m = { module = f.module, start = start, limit = f.map and f.map.limit or 0,
          offset = f.map and f.map.offset or 0, build_id = f.build_id, first = #maps }
        maps[#maps + 1] = m
        mapix[mk] = m
      end
    end
    local fk = f.name .. "\0" .. (f.module or "")
    local fn = funcix[fk]
    if not fn then
      funcs[#funcs + 1] = { name = str(f.name), file = str(f.module) }
      fn = #funcs
      funcix[fk] = fn
    end
    locs[i] = { addr = f.addr or 0, map = m, fn = fn }
  end
  table.sort(maps, function(a, b)
    local ra, rb = map_rank(a), map_rank(b)
    if ra ~= rb then return ra < rb end
    return a.first < b.first
  end)
  for i, m in ipairs(maps) do
    m.ix, m.file, m.build_id = i, str(m.module), str(m.build_id)
  end
  for _, l in ipairs(locs) do l.mapping = l.map and l.map.ix or 0 end
  return maps, funcs, locs
end

local u64 = frames.addr_u64

-- s (anything stacks.of takes) as pprof bytes (gzipped profile.proto).
-- opts: time_ns, duration_ns (else s's).
-- The mapping, function and location arrays of p from tables(); the
-- arrays go into keep (p only points at them).
local function c_tables(p, maps, funcs, locs, keep)
  local c_maps = ffi.new("struct shark_pprof_mapping[?]", #maps + 1)
  for i, m in ipairs(maps) do
    local c = c_maps[i - 1]
    c.start, c.limit, c.offset = u64(m.start), u64(m.limit), u64(m.offset)
    c.filename, c.build_id = m.file, m.build_id
  end
  local c_funcs = ffi.new("struct shark_pprof_function[?]", #funcs + 1)
  for i, f in ipairs(funcs) do
    c_funcs[i - 1].name, c_funcs[i - 1].system_name, c_funcs[i - 1].filename = f.name, f.name, f.file
  end
  local c_locs = ffi.new("struct shark_pprof_location[?]", #locs + 1)
  local c_lines = ffi.new("uint32_t[?]", #locs + 1)
  for i, l in ipairs(locs) do
    local c = c_locs[i - 1]
    c.address, c.mapping, c.nlines, c.line = u64(l.addr), l.mapping, 1, i - 1
    c_lines[i - 1] = l.fn
  end
  p.nmappings, p.mappings = #maps, c_maps
  p.nfunctions, p.functions = #funcs, c_funcs
  p.nlocations, p.locations = #locs, c_locs
  p.nlines, p.lines = #locs, c_lines
  keep[#keep + 1], keep[#keep + 2], keep[#keep + 3], keep[#keep + 4] = c_maps, c_funcs, c_locs, c_lines
end

-- The samples of s into p: location ids leaf first (a location per frame
-- id), nt values each (the count, then count x period).
local function c_samples(p, s, nt, keep)
  local ns, nlocs = #s.stacks, 0
  for _, st in ipairs(s.stacks) do nlocs = nlocs + #st end
  local c_nlocs = ffi.new("uint32_t[?]", ns + 1)
  local c_locids = ffi.new("uint32_t[?]", nlocs + 1)
  local c_values = ffi.new("int64_t[?]", ns * nt + 1)
  local at = 0
  for i, st in ipairs(s.stacks) do
    c_nlocs[i - 1] = #st
    for j = #st, 1, -1 do   -- pprof: leaf first
      c_locids[at] = st[j]
      at = at + 1
    end
    c_values[(i - 1) * nt] = st.count
    if nt > 1 then c_values[(i - 1) * nt + 1] = st.count * s.period end
  end
  p.nsamples, p.sample_nlocs = ns, c_nlocs
  p.nlocs, p.locs, p.values = nlocs, c_locids, c_values
  keep[#keep + 1], keep[#keep + 2], keep[#keep + 3] = c_nlocs, c_locids, c_values
end

-- s (anything stacks.of takes) as pprof bytes (gzipped profile.proto).
-- opts: time_ns, duration_ns (else s's).
function M.encode(s, opts)
  opts = opts or {}
  s = stacks.of(s)
  local strs, str = string_table()
  local types = sample_types(s)
  local nt = #types
  local p, keep = ffi.new("struct shark_pprof"), {}
  local c_types = ffi.new("int64_t[?]", 2 * nt)
  for i, t in ipairs(types) do
    c_types[2 * i - 2], c_types[2 * i - 1] = str(t[1]), str(t[2])
  end
  p.ntypes, p.types = nt, c_types
  p.period_type, p.period_unit = str(s.period_type), str(s.period and (s.period_unit or "nanoseconds"))
  p.period = s.period or 0
  p.time_nanos = opts.time_ns or s.time_ns or 0
  p.duration_nanos = opts.duration_ns or s.duration_ns or 0
  local maps, funcs, locs = tables(s, str)
  c_tables(p, maps, funcs, locs, keep)
  c_samples(p, s, nt, keep)
  -- strings last: every str() call has run
  local c_strs = ffi.new("const char *[?]", #strs + 1)
  for i = 0, #strs do c_strs[i] = strs[i] end
  p.nstrings, p.strings = #strs + 1, c_strs

  local out, len = ffi.new("void *[1]"), ffi.new("uint64_t[1]")
  local err = api.pprof_encode(p, out, len)
  -- p only points at these: they (and the Lua strings) live until here
  keep[#keep + 1], keep.types, keep.strs, keep.c_strs = p, c_types, strs, c_strs
  if err ~= 0 then error("pprof.encode: " .. ffi.string(api.strerror(-err)), 2) end
  local bytes = ffi.string(out[0], len[0])
  api.free_mem(out[0])
  return bytes
end

local KERNEL_START = 0xffff800000000000ULL

-- A decoded shark_pprof as a stacks shape; value: the sample type to count.
local function to_stacks(p, value)
  local function str(i) return ffi.string(p.strings[i]) end
  local nt = p.ntypes
  if nt == 0 then return nil, "the profile has no sample types" end
  value = value or 1
  if value < 1 or value > nt then return nil, ("no sample type %d (the profile has %d)"):format(value, nt) end
  local s = stacks.new{ sample_type = str(p.types[2 * value - 2]), unit = str(p.types[2 * value - 1]),
    period_type = p.period_type ~= 0 and str(p.period_type) or nil,
    period_unit = p.period_unit ~= 0 and str(p.period_unit) or nil,
    period = p.period ~= 0 and tonumber(p.period) or nil,
    time_ns = p.time_nanos ~= 0 and tonumber(p.time_nanos) or nil,
    duration_ns = p.duration_nanos ~= 0 and tonumber(p.duration_nanos) or nil }
  -- frames of each location, root first (a location's lines are inlined first)
  local locframes = {}
  for i = 0, p.nlocations - 1 do
    local l = p.locations[i]
    local m = l.mapping > 0 and p.mappings[l.mapping - 1]
    local module = m and m.filename ~= 0 and str(m.filename) or nil
    local ids = {}
    for j = l.nlines - 1, 0, -1 do
      local fn = p.functions[p.lines[l.line + j] - 1]
      ids[#ids + 1] = stacks.frame(s, { name = fn.name ~= 0 and str(fn.name) or "[unknown]",
        kernel = module == "[kernel.kallsyms]" or l.address >= KERNEL_START or nil,
        module = module, build_id = m and m.build_id ~= 0 and str(m.build_id) or nil,
        addr = l.address ~= 0 and frames.addr_value(l.address) or nil,
        map = m and { start = frames.addr_value(m.start), limit = frames.addr_value(m.limit),
          offset = tonumber(m.offset) } or nil })
    end
    if l.nlines == 0 then
      local a = frames.addr_value(l.address)
      ids[1] = stacks.frame(s, { name = type(a) == "string" and a or ("0x%x"):format(a), module = module, addr = a })
    end
    locframes[i + 1] = ids
  end
  -- the frame of a location with exactly one (the usual case), else false
  local single = {}
  for i, fs in ipairs(locframes) do single[i] = #fs == 1 and fs[1] end
  local at, ids, locs, add = 0, {}, p.locs, stacks.add
  for i = 0, p.nsamples - 1 do
    local n, k = p.sample_nlocs[i], 0
    for j = at + n - 1, at, -1 do
      local loc = locs[j]
      local one = single[loc]
      if one then
        k = k + 1
        ids[k] = one
      else
        for _, id in ipairs(locframes[loc]) do
          k = k + 1
          ids[k] = id
        end
      end
    end
    for j = #ids, k + 1, -1 do ids[j] = nil end
    at = at + n
    local v = tonumber(p.values[i * nt + value - 1])
    if k > 0 and v ~= 0 then add(s, ids, v) end
  end
  return s
end

-- pprof bytes (gzipped or not) as a stacks shape, or nil, "pprof: what is
-- wrong". opts.value: the sample type to count (1-based, default 1).
function M.decode(bytes, opts)
  if type(bytes) ~= "string" then return nil, "pprof: expected bytes, got " .. type(bytes) end
  local errbuf = ffi.new("char[256]")
  local p = api.pprof_decode(bytes, #bytes, errbuf, 256)
  if p == nil then return nil, "pprof: " .. ffi.string(errbuf) end
  local ok, s, err = pcall(to_stacks, p, opts and opts.value)
  api.pprof_free(p)
  if not ok then return nil, "pprof: " .. tostring(s) end
  if not s then return nil, "pprof: " .. err end
  return s
end

return M
