-- SPDX-License-Identifier: GPL-2.0
-- shark/serve/query.lua - the selection of profiles a GET names in its query
-- string (host=a&host=b&service=x&from=T1&to=T2), checked, and as SQL.
--
-- Labels: host, service, comm, pid, cgroup and agent by name, any other as
-- label.NAME=VALUE; a label given twice matches either value, two labels
-- must both match. from/to: seconds since the epoch or an ISO 8601 UTC time
-- (2026-11-30T14:05:00Z); a profile is in [from, to) by when its samples were
-- taken. Anything else is refused, with what is wrong.
local cjson = require "cjson"

local M = {}
local json = cjson.new()

M.SHORT = { host = true, service = true, comm = true, pid = true, cgroup = true, agent = true }
M.MAX_LIMIT = 100000

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- "a=1&b=2&a=3" -> { {"a", "1"}, {"b", "2"}, {"a", "3"} } (repeats kept, in order)
function M.pairs(qs)
  local out = {}
  for pair in (qs or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[#out + 1] = { unescape(k), unescape(v) }
  end
  return out
end

-- Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
-- days_from_civil): UTC without the process's time zone.
local function days(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- Seconds since the epoch, or an ISO 8601 UTC time -> seconds, or nil.
function M.time(s)
  local n = tonumber(s)
  if n and s:match("^[%d.]+$") then
    if n ~= n or n == math.huge then return nil end
    return n
  end
  local y, mo, d, h, mi, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d)(.*)$")
  if not y then
    y, mo, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
    h, mi, rest = "0", "0", "Z"
  end
  if not y then return nil end
  local sec, z = rest:match("^:(%d%d%.?%d*)(Z?)$")
  if not sec then sec, z = "0", rest:match("^(Z?)$") end
  if not z then return nil end
  y, mo, d, h, mi, sec = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(sec)
  if not sec or y < 1970 or mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or sec >= 61 then
    return nil
  end
  return days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
end

local function bad(fmt, ...) return nil, fmt:format(...) end

-- parse(pairs, extra) -> filter or nil, message. extra: { name = true } the
-- endpoint's own parameters (kept in filter.args). A filter: { labels =
-- { {key, {values}} ... } (in order given), from, to, kind, q, limit, args }.
function M.filter(list, extra)
  local f, byk = { labels = {}, args = {} }, {}
  for _, kv in ipairs(list) do
    local k, v = kv[1], kv[2]
    local label = M.SHORT[k] and k or k:match("^label%.(.+)$")
    if label then
      if not label:match("^[%w_.%-]+$") or #label > 64 then return bad("bad label name '%s'", label:sub(1, 64)) end
      if #v > 256 then return bad("label %s: a value longer than 256 bytes", label) end
      local l = byk[label]
      if not l then
        l = { label, {} }
        byk[label] = l
        f.labels[#f.labels + 1] = l
      end
      if #l[2] >= 100 then return bad("label %s: more than 100 values", label) end
      l[2][#l[2] + 1] = v
    elseif k == "from" or k == "to" then
      local t = M.time(v)
      if not t then
        return bad("%s: expected seconds since the epoch or a UTC time like 2026-11-30T14:05:00Z, got '%s'",
          k, v:sub(1, 64))
      end
      f[k] = t
    elseif k == "kind" then
      if v ~= "flamegraph" and v ~= "heatmap" then return bad("kind must be flamegraph or heatmap, not '%s'", v) end
      f.kind = v
    elseif k == "limit" then
      local n = tonumber(v)
      if not n or n ~= math.floor(n) or n < 1 or n > M.MAX_LIMIT then
        return bad("limit: expected a whole number from 1 to %d, got '%s'", M.MAX_LIMIT, v:sub(1, 64))
      end
      f.limit = n
    elseif k == "q" then
      f.q = v
    elseif extra and extra[k] then
      f.args[k] = v
    else
      local known = { "host", "service", "comm", "pid", "cgroup", "agent", "label.NAME", "from", "to", "kind",
        "limit", "q" }
      for name in pairs(extra or {}) do known[#known + 1] = name end
      table.sort(known, function(a, b) return a < b end)
      return bad("unknown parameter '%s' (known: %s)", k:sub(1, 64), table.concat(known, ", "))
    end
  end
  if f.from and f.to and f.from >= f.to then
    return bad("from (%s) must be before to (%s)", tostring(f.from), tostring(f.to))
  end
  if #f.labels > 32 then return nil, "more than 32 labels" end
  return f
end

-- The filter as SQL over "profiles AS p": where, args. skip: a label left
-- out (the facet counts of a label ignore that label's own choice).
function M.where(f, skip)
  local sql, args = { "1 = 1" }, {}
  if f.kind then
    sql[#sql + 1] = "p.kind = ?"
    args[#args + 1] = f.kind
  end
  if f.from then
    sql[#sql + 1] = "p.taken >= ?"
    args[#args + 1] = f.from
  end
  if f.to then
    sql[#sql + 1] = "p.taken < ?"
    args[#args + 1] = f.to
  end
  for _, l in ipairs(f.labels) do
    if l[1] ~= skip then
      -- the values as one JSON array: the SQL text (a cached statement)
      -- depends on how many labels, not on how many values
      sql[#sql + 1] = "json_extract(p.labels, ?) IN (SELECT value FROM json_each(?))"
      args[#args + 1] = M.path(l[1])
      args[#args + 1] = json.encode(l[2])
    end
  end
  return table.concat(sql, " AND "), args
end

-- The JSON path of a label (names are [%w_.-]: nothing to quote inside).
function M.path(name) return '$."' .. name .. '"' end

-- The filter's labels as { name = {values} } (what a merged profile says it is).
function M.labels_of(f)
  local out = {}
  for _, l in ipairs(f.labels) do out[l[1]] = l[2] end
  return out
end

return M
