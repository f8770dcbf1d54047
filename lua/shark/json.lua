-- SPDX-License-Identifier: GPL-2.0
-- shark/json.lua - JSON through lua-cjson, with what cjson lacks here: a way
-- to say a table is an array (an empty one encodes as [] rather than {}), keys
-- in a stable order (the caller's, e.g. a table's columns, else sorted: cjson
-- follows the hash order, which changes from run to run) and '/' left as it is
-- (cjson 2.1 writes "\/", which JSON allows and every reader of paths hates).
local cjson = require "cjson"

local M = {}

M.array_mt = { __json = "array" }
M.null = cjson.null

-- t marked as an array (empty or not); returns t.
function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

-- A scalar by cjson (its number format and its errors), '/' unescaped: in
-- cjson's output every '/' is escaped, so "\/" is always that escape (an
-- escaped backslash before it is "\\\/", whose last two characters match).
local function scalar(v)
  local s = cjson.encode(v)
  if type(v) == "string" then s = s:gsub("\\/", "/") end
  return s
end

-- The positive integer keys 1..n of an array (cjson's rule: no other key,
-- holes allowed while no more than half are holes), or nil.
local function array_len(t)
  local n, max = 0, 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k ~= math.floor(k) then return nil end
    n, max = n + 1, math.max(max, k)
  end
  if max > 2 * n and max > 10 then return nil end
  return max
end

local function key_less(a, b)
  if type(a) == type(b) then return a < b end
  return type(a) == "number"
end

local encode

local function object(t, order, seen)
  local keys, done, parts = {}, {}, {}
  for _, k in ipairs(order or {}) do
    if t[k] ~= nil and not done[k] then keys[#keys + 1] = k; done[k] = true end
  end
  local rest = {}
  for k in pairs(t) do
    if not done[k] then rest[#rest + 1] = k end
  end
  table.sort(rest, key_less)
  for _, k in ipairs(rest) do keys[#keys + 1] = k end
  for i, k in ipairs(keys) do
    if type(k) ~= "string" and type(k) ~= "number" then
      error(("json: cannot encode a %s key"):format(type(k)), 0)
    end
    parts[i] = scalar(tostring(k)) .. ":" .. encode(t[k], nil, seen)
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

encode = function(v, order, seen)
  if type(v) ~= "table" then return scalar(v) end
  if seen[v] then error("json: cannot encode a table that contains itself", 0) end
  seen[v] = true
  local s
  local n = getmetatable(v) == M.array_mt and #v or (next(v) ~= nil and array_len(v))
  if n then
    local parts = {}
    for i = 1, n do parts[i] = v[i] == nil and "null" or encode(v[i], nil, seen) end
    s = "[" .. table.concat(parts, ",") .. "]"
  else
    s = object(v, order, seen)
  end
  seen[v] = nil
  return s
end

-- v as JSON text. order: the keys of v (an object) in the order to write
-- them; keys not in it follow, sorted. Nested objects: sorted keys.
function M.encode(v, order)
  return encode(v, order, {})
end

-- JSON text as a value, or nil, message.
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if not ok then return nil, (tostring(v):gsub("^.-: ", "")) end
  return v
end

return M
