-- SPDX-License-Identifier: GPL-2.0
-- shark/serve/fleet.lua - many profiles as one: the stacks of every profile a
-- selection (shark/serve/query.lua) holds summed into one merged profile, the
-- labels of a selection with their counts, and a timeline of profile counts.
-- SQLite selects (labels from the JSON column); profiles are read one row at
-- a time, and every answer is bounded (profiles merged, stacks, values).
local decode = require "shark.serve.decode"
local query = require "shark.serve.query"
local cjson = require "cjson"

local M = {}
local json = cjson.new()

M.MAX_PROFILES = 10000   -- merged at most (the newest), unless limit= says fewer or more
M.MAX_STACKS = 100000    -- distinct stacks in a merge; the samples of any more go to OTHER
M.OTHER = "[more stacks than the merge keeps]"
M.MAX_VALUES = 200       -- values listed per label
M.MAX_SERIES = 50        -- timeline rows; the others are summed as one
M.MAX_BUCKETS = 150

-- merge(st, f) -> { stacks, order, samples, profiles, matched, taken = {min, max},
-- dropped_stacks } (flame graphs only; the newest first when there are more
-- than the limit).
function M.merge(st, f)
  local where, args = query.where(f)
  local n = #args
  local matched = st.db:rows("SELECT count(*) AS n FROM profiles AS p WHERE p.kind = 'flamegraph' AND " ..
    where, unpack(args, 1, n))[1].n
  local limit = f.limit or M.MAX_PROFILES
  args[n + 1] = limit
  local acc, order, nstacks, samples, profiles, dropped = {}, {}, 0, 0, 0, 0
  local lo, hi
  st.db:each("SELECT p.data AS data, p.taken AS taken FROM profiles AS p WHERE p.kind = 'flamegraph' AND " ..
    where .. " ORDER BY p.taken DESC, p.id DESC LIMIT ?", function(row)
      local p = decode.folded(row.data)
      if not p then return end   -- only good profiles are stored: never here
      profiles = profiles + 1
      lo, hi = math.min(lo or row.taken, row.taken), math.max(hi or row.taken, row.taken)
      for _, stack in ipairs(p.order) do
        local c = p.stacks[stack]
        local had = acc[stack]
        if not had and nstacks >= M.MAX_STACKS then
          stack, had, dropped = M.OTHER, acc[M.OTHER], dropped + 1
        end
        if not had then
          nstacks = nstacks + 1
          order[nstacks] = stack
        end
        acc[stack] = (had or 0) + c
        samples = samples + c
      end
    end, unpack(args, 1, n + 1))
  table.sort(order)
  return { stacks = acc, order = order, samples = samples, profiles = profiles, matched = matched,
    taken = lo and { lo, hi } or nil, dropped_stacks = dropped }
end

-- labels(st, f) -> { total = n, labels = { name = { {value, count}, ... } },
-- more = { name = values left out } }. A label the filter names is counted
-- without its own choice (so the other values stay pickable), under the rest.
function M.labels(st, f)
  local where, args = query.where(f)
  local total = st.db:rows("SELECT count(*) AS n FROM profiles AS p WHERE " .. where, unpack(args))[1].n
  local out, more = {}, {}
  -- w, a: a filter; keys: a JSON array of label names, counted only (only =
  -- true) or left out (only = false)
  local function count(w, a, keys, only)
    local sql = "SELECT j.key AS k, j.value AS v, count(*) AS n FROM profiles AS p, json_each(p.labels) AS j " ..
      "WHERE " .. w .. (keys and (" AND j.key " .. (only and "" or "NOT ") .. "IN (SELECT value FROM json_each(?))")
      or "") .. " GROUP BY j.key, j.value ORDER BY j.key, n DESC, j.value"
    if keys then a[#a + 1] = keys end
    st.db:each(sql, function(r)
      local t = out[r.k] or {}
      out[r.k] = t
      if #t < M.MAX_VALUES then t[#t + 1] = { tostring(r.v), r.n }
      else more[r.k] = (more[r.k] or 0) + 1 end
    end, unpack(a))
  end
  local named = {}
  for i, l in ipairs(f.labels) do named[i] = l[1] end
  count(where, args, #named > 0 and json.encode(named) or nil, false)
  for _, k in ipairs(named) do
    local w, a = query.where(f, k)
    count(w, a, json.encode({ k }), true)
  end
  return { total = total, labels = out, more = more }
end

local STEPS = { 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
  172800, 604800 }

-- A step that gives at most MAX_BUCKETS buckets over [lo, hi].
local function step_for(lo, hi)
  for _, s in ipairs(STEPS) do
    if (math.floor(hi / s) - math.floor(lo / s) + 1) <= M.MAX_BUCKETS then return s end
  end
  return STEPS[#STEPS] * math.ceil((hi - lo) / STEPS[#STEPS] / M.MAX_BUCKETS + 1)
end

-- timeline(st, f, by, step) -> { by, step, from, to, total, series = { {value,
-- counts = {bucket start, n, ...}, total}, ... } } busiest first; a value past
-- MAX_SERIES is summed into one series with value false ("other"), profiles
-- without the label into value nil... as JSON null.
function M.timeline(st, f, by, step)
  local where, args = query.where(f)
  local n = #args
  local r = st.db:rows("SELECT min(p.taken) AS lo, max(p.taken) AS hi, count(*) AS n FROM profiles AS p WHERE " ..
    where, unpack(args, 1, n))[1]
  local out = { by = by, total = r.n, series = {} }
  if r.n == 0 then return out end
  step = step or step_for(f.from or r.lo, math.max(r.hi, (f.to or r.hi) - 1e-9))
  out.step = step
  out.from = math.floor((f.from or r.lo) / step) * step
  out.to = (math.floor(math.max(r.hi, (f.to or r.hi) - 1e-9) / step) + 1) * step
  local byval, list = {}, {}
  st.db:each("SELECT json_extract(p.labels, ?) AS g, CAST(p.taken / ? AS INTEGER) AS b, count(*) AS n " ..
    "FROM profiles AS p WHERE " .. where .. " GROUP BY g, b ORDER BY g, b", function(row)
      local key = row.g == nil and "\0none" or tostring(row.g)
      local s = byval[key]
      if not s then
        s = { value = row.g ~= nil and tostring(row.g) or nil, counts = {}, total = 0 }
        byval[key] = s
        list[#list + 1] = s
      end
      s.counts[#s.counts + 1] = row.b * step
      s.counts[#s.counts + 1] = row.n
      s.total = s.total + row.n
    end, query.path(by), step, unpack(args, 1, n))
  table.sort(list, function(a, b)
    if a.total ~= b.total then return a.total > b.total end
    return (a.value or "") < (b.value or "")
  end)
  for i = 1, math.min(#list, M.MAX_SERIES) do out.series[i] = list[i] end
  if #list > M.MAX_SERIES then
    local sums, other = {}, { value = false, counts = {}, total = 0 }
    for i = M.MAX_SERIES + 1, #list do
      local c = list[i].counts
      for j = 1, #c, 2 do sums[c[j]] = (sums[c[j]] or 0) + c[j + 1] end
      other.total = other.total + list[i].total
    end
    local keys = {}
    for b in pairs(sums) do keys[#keys + 1] = b end
    table.sort(keys)
    for _, b in ipairs(keys) do
      other.counts[#other.counts + 1] = b
      other.counts[#other.counts + 1] = sums[b]
    end
    out.series[#out.series + 1] = other
  end
  return out
end

return M
