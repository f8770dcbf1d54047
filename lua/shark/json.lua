-- SPDX-License-Identifier: GPL-2.0
-- shark/json.lua - JSON through lua-cjson, with what cjson lacks here: a way
-- to say a table is an array, so an empty one encodes as [] rather than {}.
local cjson = require "cjson"

local M = {}

M.array_mt = { __json = "array" }
M.null = cjson.null

local EMPTY = "\0shark-empty-array\0"

-- t marked as an array (empty or not); returns t.
function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

local function mark(v, seen)
  if type(v) ~= "table" or seen[v] then return v, false end
  seen[v] = true
  if getmetatable(v) == M.array_mt and next(v) == nil then return EMPTY, true end
  local any = false
  for k, x in pairs(v) do
    if type(x) == "table" then
      local y, hit = mark(x, seen)
      if hit then
        v[k] = y
        any = true
      end
    end
  end
  return v, any
end

-- Restore what mark() replaced (the caller's tables stay as they were).
local function unmark(v, seen)
  if type(v) ~= "table" or seen[v] then return end
  seen[v] = true
  for k, x in pairs(v) do
    if x == EMPTY then v[k] = M.array() else unmark(x, seen) end
  end
end

-- v as JSON text.
function M.encode(v)
  local w, any = mark(v, {})
  if w == EMPTY then return "[]" end
  if not any then return cjson.encode(v) end
  local s = cjson.encode(w)
  unmark(v, {})
  return (s:gsub('"\\u0000shark%-empty%-array\\u0000"', "[]"))
end

-- JSON text as a value, or nil, message.
function M.decode(s)
  local ok, v = pcall(cjson.decode, s)
  if not ok then return nil, (tostring(v):gsub("^.-: ", "")) end
  return v
end

return M
