-- SPDX-License-Identifier: GPL-2.0
-- shark/stacks.lua - the stacks data shape, the one owner of stack profiles:
-- every export (folded, SVG, pprof, speedscope, diff) renders this shape.
--
--   s = {
--     frames = { { name = "main", kernel = false, module = "/usr/bin/x", build_id = "3f1a…",
--                  addr = 4198710, map = { start =, limit =, offset = } }, … },
--       -- interned: a frame is its index here. Only name is required; kernel
--       -- (a kernel frame), module (the file, "[kernel.kallsyms]"), build_id
--       -- (hex), addr (the address sampled) and map (the mapping holding it)
--       -- are kept when known and reach pprof.
--     stacks = { { count = 12, 1, 4, 9 }, … },   -- frame ids root first; count in `unit`
--     sample_type = "samples", unit = "count",   -- what a count measures ("offcpu", "microseconds")
--     period_type = "cpu", period_unit = "nanoseconds", period = 10101010,   -- optional: one sample
--     time_ns = …, duration_ns = …,              -- optional: when (CLOCK_REALTIME) and how long
--   }
--
-- A plain table (cjson can encode it); the module's functions are also its
-- methods (s:to_folded()). Build one with new/frame/add, or from folded
-- text, template rows (bpf.stacks():entries()) or callchain-keyed counts.
local M = {}
M.__index = M

-- intern tables live beside the shape, not in it
local index = setmetatable({}, { __mode = "k" })

local function idx(s)
  local t = index[s]
  if not t then
    t = { frames = {} }
    for i, f in ipairs(s.frames) do t.frames[M.frame_key(f)] = i end
    index[s] = t
  end
  return t
end

-- stacks by their ids, made when first needed (from_counts appends without)
-- A number from frame ids: two 26-bit polynomial hashes side by side (all
-- in exact double arithmetic, so the JIT keeps it in registers).
local function ids_hash(ids, n)
  local a, b = n, n
  for i = 1, n do
    local id = ids[i]
    a = (a * 31 + id) % 67108859
    b = (b * 37 + id) % 67108837
  end
  return a * 67108864 + b
end

local function same(st, ids, n)
  if #st ~= n then return false end
  for i = 1, n do
    if st[i] ~= ids[i] then return false end
  end
  return true
end

-- stacks by hash of their ids ({st, st, ...} on a collision), made when
-- first needed (from_counts appends without it)
local function stack_index(s)
  local t = idx(s)
  if not t.stacks then
    local known = {}
    for _, st in ipairs(s.stacks) do
      local h = ids_hash(st, #st)
      local prev = known[h]
      if prev == nil then known[h] = st elseif prev.count then known[h] = { prev, st } else prev[#prev + 1] = st end
    end
    t.stacks = known
  end
  return t.stacks
end

-- A new, empty profile. opts: sample_type, unit, period_type, period_unit,
-- period, time_ns, duration_ns.
function M.new(opts)
  opts = opts or {}
  local s = setmetatable({ frames = {}, stacks = {}, sample_type = opts.sample_type or "samples",
    unit = opts.unit or "count", period_type = opts.period_type, period_unit = opts.period_unit,
    period = opts.period, time_ns = opts.time_ns, duration_ns = opts.duration_ns }, M)
  index[s] = { frames = {}, stacks = {} }
  return s
end

-- What makes two frames the same frame.
function M.frame_key(f)
  if not f.module and not f.addr then return f.kernel and f.name .. "\0k" or f.name end
  return ("%s\0%s\0%s\0%s"):format(f.name, f.kernel and "k" or "", f.module or "", tostring(f.addr or ""))
end

-- The id of frame f ({name = …, …}, or a name), added when new.
function M.frame(s, f)
  local t = idx(s)
  if type(f) == "string" then
    local id = t.frames[f]   -- a bare name is its own key
    if id then return id end
    f = { name = f }
  end
  local key = M.frame_key(f)
  local id = t.frames[key]
  if not id then
    id = #s.frames + 1
    s.frames[id] = f
    t.frames[key] = id
  end
  return id
end

-- Count `count` (default 1) for the stack of frame ids `ids`, root first.
function M.add(s, ids, count)
  local known = stack_index(s)
  local n = #ids
  local h = ids_hash(ids, n)
  local hit, st = known[h], nil
  if hit then
    if hit.count then   -- one stack under this hash
      if same(hit, ids, n) then st = hit end
    else
      for _, x in ipairs(hit) do
        if same(x, ids, n) then st = x end
      end
    end
  end
  if not st then
    st = { count = 0 }
    for i = 1, n do st[i] = ids[i] end
    s.stacks[#s.stacks + 1] = st
    if hit == nil then known[h] = st elseif hit.count then known[h] = { hit, st } else hit[#hit + 1] = st end
  end
  st.count = st.count + (count or 1)
  return st
end

-- The sum of all counts.
function M.total(s)
  local n = 0
  for _, st in ipairs(s.stacks) do n = n + st.count end
  return n
end

-- ------------------------------------------------------------- folded

local byte, sub, find = string.byte, string.sub, string.find

local function space(c) return c == 32 or c == 9 or c == 13 end
local function numeric(c) return (c >= 48 and c <= 57) or c == 46 end

-- The frames of text[a..b] ("f;g;h") added to ids; their number.
local function split_frames(s, known, text, a, b, ids)
  local k, pos = 0, a
  while pos <= b do
    local e = find(text, ";", pos, true)
    if not e or e > b then e = b + 1 end
    if e > pos then
      local name = sub(text, pos, e - 1)
      local id = known[name]
      if not id then
        -- flamegraph.pl's annotation: a kernel frame ends in _[k]
        local kernel = byte(name, -1) == 93 and sub(name, -4) == "_[k]"
        id = M.frame(s, kernel and { name = name, kernel = true } or name)
      end
      k = k + 1
      ids[k] = id
    end
    pos = e + 1
  end
  for i = #ids, k + 1, -1 do ids[i] = nil end
  return k
end

-- A profile from folded text ("root;…;leaf count" lines, what flamegraph.pl
-- reads; frames ending in _[k] are kernel frames). Blank lines and # comments
-- are skipped. -> s, or nil, "line N: what is wrong".
function M.from_folded(text, opts)
  if type(text) ~= "string" then return nil, "folded stacks: expected text, got " .. type(text) end
  local s = M.new(opts)
  local known, ids = idx(s).frames, {}
  local ln, pos, len = 0, 1, #text
  while pos <= len do
    local e = find(text, "\n", pos, true) or len + 1
    ln = ln + 1
    local a, j = pos, e - 1
    while a <= j and space(byte(text, a)) do a = a + 1 end
    while j >= a and space(byte(text, j)) do j = j - 1 end
    if a <= j and byte(text, a) ~= 35 then   -- not blank, not a # comment
      local k = j
      while k >= a and numeric(byte(text, k)) do k = k - 1 end
      local fe = k
      while fe >= a and space(byte(text, fe)) do fe = fe - 1 end
      local n = k < j and tonumber(sub(text, k + 1, j))
      if not n or fe == k or fe < a then
        local line = sub(text, pos, e - 1):gsub("\r$", "")
        return nil, ("folded stacks: line %d: expected 'frame;frame;... COUNT', got '%s'"):format(ln,
          #line > 60 and line:sub(1, 57) .. "..." or line)
      end
      if split_frames(s, known, text, a, fe, ids) == 0 then
        return nil, ("folded stacks: line %d: no frames"):format(ln)
      end
      M.add(s, ids, n)
    end
    pos = e + 1
  end
  return s
end

local function fname(f)
  return (f.name:gsub(";", ":"))
end

-- { "root;…;leaf" = count }: stacks whose frames have the same names add up.
function M.counts(s)
  local names, out = {}, {}
  for i, f in ipairs(s.frames) do names[i] = fname(f) end
  local parts = {}
  for _, st in ipairs(s.stacks) do
    for i = 1, #st do parts[i] = names[st[i]] end
    for i = #st + 1, #parts do parts[i] = nil end
    local k = table.concat(parts, ";")
    out[k] = (out[k] or 0) + st.count
  end
  return out
end

local function fmt_count(n)
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then return ("%d"):format(n) end
  return ("%.6g"):format(n)
end

-- Folded text, one "root;…;leaf count" line per stack, sorted by stack, no final newline.
function M.to_folded(s)
  local t = M.counts(s)
  local keys, out = {}, {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do out[i] = k .. " " .. fmt_count(t[k]) end
  return table.concat(out, "\n")
end

-- ------------------------------------------------------- other inputs

-- A profile from rows such as bpf.stacks():entries() gives: { count, comm,
-- pid, kernel = {frames}, user = {frames} }, frames leaf first, each a name
-- or a {name, addr, module, …} table. Root first: comm (unless opts.comm is
-- false), user frames, "-" with opts.delimit, kernel frames.
function M.from_rows(rows, opts)
  opts = opts or {}
  local s = M.new(opts)
  for _, row in ipairs(rows) do
    local ids = {}
    if opts.comm ~= false and row.comm then ids[1] = M.frame(s, row.comm) end
    local u, k = row.user or {}, row.kernel or {}
    for i = #u, 1, -1 do ids[#ids + 1] = M.frame(s, u[i]) end
    if opts.delimit and #u > 0 and #k > 0 then ids[#ids + 1] = M.frame(s, "-") end
    for i = #k, 1, -1 do
      local f = k[i]
      if type(f) == "string" then f = { name = f, kernel = true } end
      ids[#ids + 1] = M.frame(s, f)
    end
    if #ids > 0 then M.add(s, ids, row.count) end
  end
  return s
end

-- A profile from { key = count } where a key is a callchain (frames leaf
-- first, one per line, as perf's e.callchain) or a folded stack.
function M.from_counts(t, opts)
  local s = M.new(opts)
  local known = idx(s).frames
  local frame, ids, list = M.frame, {}, s.stacks
  for key, n in pairs(t) do
    key = tostring(key)
    local callchain = find(key, "\n", 1, true)
    local sep = callchain and "\n" or ";"
    local k, pos = 0, 1
    while pos <= #key do
      local e = find(key, sep, pos, true) or #key + 1
      if e > pos then
        local name = sub(key, pos, e - 1)
        k = k + 1
        ids[k] = known[name] or frame(s, name)
      end
      pos = e + 1
    end
    -- distinct keys are distinct stacks: appended without the id index
    if k > 0 then
      local st = { count = tonumber(n) }
      if callchain then   -- a callchain is leaf first
        for i = 1, k do st[i] = ids[k + 1 - i] end
      else
        for i = 1, k do st[i] = ids[i] end
      end
      list[#list + 1] = st
    end
  end
  index[s].stacks = nil
  return s
end

-- Is x a stacks shape?
function M.is(x)
  return type(x) == "table" and type(rawget(x, "frames")) == "table" and type(rawget(x, "stacks")) == "table"
end

-- Anything stack-like as a profile: a profile, folded text, entries() rows,
-- a template result (anything with :entries()), or { key = count }.
function M.of(x, opts)
  if M.is(x) then return x end
  if type(x) == "string" then return assert(M.from_folded(x, opts)) end
  if type(x) == "userdata" or (type(x) == "table" and x[1] == nil and type(x.entries) == "function") then
    x = x:entries()
  end
  if type(x) == "table" and type(x[1]) == "table" then return M.from_rows(x, opts) end
  return M.from_counts(x, opts)
end

-- ---------------------------------------------------------- speedscope

local SPEEDSCOPE_UNITS = { nanoseconds = 1, microseconds = 1, milliseconds = 1, seconds = 1, bytes = 1 }

-- speedscope's file format (a "sampled" profile): JSON text. opts.name.
function M.speedscope(s, opts)
  opts = opts or {}
  local json = require "shark.json"
  local frames = {}
  for i, f in ipairs(s.frames) do
    frames[i] = { name = f.name, file = f.module }
  end
  local samples, weights, total = {}, {}, 0
  for i, st in ipairs(s.stacks) do
    local ids = {}
    for j = 1, #st do ids[j] = st[j] - 1 end
    samples[i] = ids
    weights[i] = st.count
    total = total + st.count
  end
  local name = opts.name or "shark profile"
  local doc = {
    ["$schema"] = "https://www.speedscope.app/file-format-schema.json",
    shared = { frames = json.array(frames) },
    profiles = { {
      type = "sampled", name = name, unit = SPEEDSCOPE_UNITS[s.unit] and s.unit or "none",
      startValue = 0, endValue = total,
      samples = json.array(samples), weights = json.array(weights),
    } },
    name = name, activeProfileIndex = 0, exporter = "shark " .. require("shark").version,
  }
  return json.encode(doc)
end

-- ------------------------------------------------------------ exports

M.FORMATS = { "folded", "svg", "pprof", "speedscope", "json" }

-- s as text (or bytes) in format: folded, svg (flame graph), pprof,
-- speedscope, json (the shape itself). opts: title, unit (svg), name
-- (speedscope), time_ns/duration_ns (pprof).
function M.render(s, format, opts)
  opts = opts or {}
  if format == "folded" then
    local t = M.to_folded(s)
    return t == "" and "" or t .. "\n"
  elseif format == "svg" then
    return require("flame").svg(s, { title = opts.title, width = opts.width,
      unit = opts.unit or (s.unit ~= "count" and s.unit) or nil })
  elseif format == "pprof" then
    return require("shark.pprof").encode(s, opts)
  elseif format == "speedscope" then
    return M.speedscope(s, { name = opts.title or opts.name }) .. "\n"
  elseif format == "json" then
    local json = require "shark.json"
    local list = {}
    for i, st in ipairs(s.stacks) do list[i] = { count = st.count, frames = json.array({ unpack(st) }) } end
    return json.encode({ frames = json.array(s.frames), stacks = json.array(list), sample_type = s.sample_type,
      unit = s.unit,
      period_type = s.period_type, period_unit = s.period_unit, period = s.period, time_ns = s.time_ns,
      duration_ns = s.duration_ns }) .. "\n"
  end
  error(("stacks: unknown format '%s' (%s)"):format(tostring(format), table.concat(M.FORMATS, ", ")), 2)
end

-- Write s in format to out (a path, a sink, nil: stdout) through shark.out;
-- a file is told on stderr with its samples and stacks.
function M.export(s, format, out, opts)
  local data = M.render(s, format, opts)
  local sink = require("shark.out").of(out)
  sink:write(data)
  sink:finish()
  if sink.path then
    require("shark").info(("%s: %d %s in %d stacks"):format(sink.path, M.total(s),
      s.unit == "count" and s.sample_type or s.unit, #s.stacks))
  end
end

return M
