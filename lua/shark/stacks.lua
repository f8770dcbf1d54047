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
    t = { frames = {}, stacks = {} }
    for i, f in ipairs(s.frames) do t.frames[M.frame_key(f)] = i end
    for _, st in ipairs(s.stacks) do t.stacks[table.concat(st, ",")] = st end
    index[s] = t
  end
  return t
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
  if type(f) == "string" then f = { name = f } end
  local t = idx(s)
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
  local t = idx(s)
  local key = table.concat(ids, ",")
  local st = t.stacks[key]
  if not st then
    st = { count = 0 }
    for i = 1, #ids do st[i] = ids[i] end
    s.stacks[#s.stacks + 1] = st
    t.stacks[key] = st
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

-- A profile from folded text ("root;…;leaf count" lines, what flamegraph.pl
-- reads; frames ending in _[k] are kernel frames). Blank lines and # comments
-- are skipped. -> s, or nil, "line N: what is wrong".
function M.from_folded(text, opts)
  if type(text) ~= "string" then return nil, "folded stacks: expected text, got " .. type(text) end
  local s = M.new(opts)
  local ln = 0
  for line in text:gmatch("([^\n]*)\n?") do
    ln = ln + 1
    line = line:gsub("\r$", "")
    if line:find("%S") and not line:find("^%s*#") then
      local stack, n = line:match("^(.-)%s+(%d+%.?%d*)%s*$")
      if not stack or stack == "" then
        return nil, ("folded stacks: line %d: expected 'frame;frame;... COUNT', got '%s'"):format(ln,
          #line > 60 and line:sub(1, 57) .. "..." or line)
      end
      local ids = {}
      for name in stack:gmatch("[^;]+") do
        ids[#ids + 1] = M.frame(s, name:sub(-4) == "_[k]" and { name = name, kernel = true } or name)
      end
      if #ids == 0 then return nil, ("folded stacks: line %d: no frames"):format(ln) end
      M.add(s, ids, tonumber(n))
    end
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
  for key, n in pairs(t) do
    key = tostring(key)
    local ids = {}
    if key:find("\n", 1, true) then
      for name in key:gmatch("[^\n]+") do table.insert(ids, 1, M.frame(s, name)) end
    else
      for name in key:gmatch("[^;]+") do ids[#ids + 1] = M.frame(s, name) end
    end
    if #ids > 0 then M.add(s, ids, tonumber(n)) end
  end
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
    return require("flame").svg(M.counts(s), { title = opts.title, width = opts.width,
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
  sink:close()
  if sink.path then
    require("shark").info(("%s: %d %s in %d stacks"):format(sink.path, M.total(s),
      s.unit == "count" and s.sample_type or s.unit, #s.stacks))
  end
end

return M
