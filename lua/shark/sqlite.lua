-- SPDX-License-Identifier: GPL-2.0
-- shark/sqlite.lua - SQLite through shark's FFI table: db:exec, db:rows, db:run,
-- values bound by position ("?"); sqlite.blob(s) binds a string as a BLOB.
local ffi = require "ffi"
local api = require "shark.api"

local C = ffi.C
local M = {}

local Blob = {}
Blob.__index = Blob
function M.blob(s) return setmetatable({ s }, Blob) end

local DB = {}
DB.__index = DB

function M.open(path)
  local err = ffi.new("char[256]")
  local h = api.db_open(path, err, 256)
  if h == nil then return nil, ("cannot open %s: %s"):format(path, ffi.string(err)) end
  return setmetatable({ h = h, stmts = {} }, DB)
end

function DB:close()
  for _, st in pairs(self.stmts) do api.db_finalize(st) end
  self.stmts = {}
  if self.h then api.db_close(self.h) end
  self.h = nil
end

function DB:errmsg() return ffi.string(api.db_errmsg(self.h)) end

-- Run SQL without results (several statements allowed); raises on error.
function DB:exec(sql)
  if api.db_exec(self.h, sql) ~= C.SHARK_DB_OK then error("sqlite: " .. self:errmsg(), 2) end
end

-- A prepared statement per SQL text, kept for the life of the handle.
local function stmt(self, sql, args, n)
  local st = self.stmts[sql]
  if not st then
    st = api.db_prepare(self.h, sql)
    if st == nil then error("sqlite: " .. self:errmsg(), 3) end
    self.stmts[sql] = st
  end
  api.db_reset(st)
  for i = 1, n do
    local v, rc = args[i], 0
    if v == nil then
      rc = api.db_bind_null(st, i)
    elseif type(v) == "number" then
      if v == math.floor(v) and math.abs(v) < 2 ^ 53 then rc = api.db_bind_int64(st, i, v)
      else rc = api.db_bind_double(st, i, v) end
    elseif type(v) == "string" then
      rc = api.db_bind_text(st, i, v, #v)
    elseif getmetatable(v) == Blob then
      rc = api.db_bind_blob(st, i, v[1], #v[1])
    else
      error(("sqlite: cannot bind a %s (argument %d)"):format(type(v), i), 3)
    end
    if rc ~= C.SHARK_DB_OK then error("sqlite: " .. self:errmsg(), 3) end
  end
  return st
end

local len = ffi.new("int32_t[1]")
local function column(st, i)
  local t = api.db_column_type(st, i)
  if t == C.SHARK_DB_INTEGER then return tonumber(api.db_column_int64(st, i))
  elseif t == C.SHARK_DB_FLOAT then return api.db_column_double(st, i)
  elseif t == C.SHARK_DB_NULL then return nil end
  local p = api.db_column_bytes(st, i, len)
  return p ~= nil and ffi.string(p, len[0]) or ""
end

-- Every row as a table keyed by column name.
function DB:rows(sql, ...)
  local st = stmt(self, sql, { ... }, select("#", ...))
  local out, names = {}, nil
  while true do
    local rc = api.db_step(st)
    if rc == C.SHARK_DB_DONE then break end
    if rc ~= C.SHARK_DB_ROW then
      api.db_reset(st)
      error("sqlite: " .. self:errmsg(), 2)
    end
    if not names then
      names = {}
      for i = 0, api.db_column_count(st) - 1 do names[i] = ffi.string(api.db_column_name(st, i)) end
    end
    local row = {}
    for i = 0, #names do row[names[i]] = column(st, i) end
    out[#out + 1] = row
  end
  api.db_reset(st)
  return out
end

-- Each row in turn, none kept: fn(row) per row (a table keyed by column
-- name); fn returning false stops. What a large result is read with.
function DB:each(sql, fn, ...)
  local st = stmt(self, sql, { ... }, select("#", ...))
  local names
  local ok, err = pcall(function()
    while true do
      local rc = api.db_step(st)
      if rc == C.SHARK_DB_DONE then return end
      if rc ~= C.SHARK_DB_ROW then error("sqlite: " .. self:errmsg(), 0) end
      if not names then
        names = {}
        for i = 0, api.db_column_count(st) - 1 do names[i] = ffi.string(api.db_column_name(st, i)) end
      end
      local row = {}
      for i = 0, #names do row[names[i]] = column(st, i) end
      if fn(row) == false then return end
    end
  end)
  api.db_reset(st)
  if not ok then error(err, 2) end
end

-- A statement without rows: the rows it changed and the last inserted id.
function DB:run(sql, ...)
  local st = stmt(self, sql, { ... }, select("#", ...))
  local rc = api.db_step(st)
  api.db_reset(st)
  if rc ~= C.SHARK_DB_DONE and rc ~= C.SHARK_DB_ROW then error("sqlite: " .. self:errmsg(), 2) end
  return api.db_changes(self.h), tonumber(api.db_last_id(self.h))
end

return M
