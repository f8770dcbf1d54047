-- SPDX-License-Identifier: GPL-2.0
-- shark/serve/store.lua - the profiles of shark serve in one SQLite file.
local sqlite = require "shark.sqlite"

local M = {}
local Store = {}
Store.__index = Store

local SCHEMA = [[
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA cache_size = -1024;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS profiles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  labels TEXT NOT NULL,   -- JSON object
  time INTEGER NOT NULL,  -- upload time, seconds since the epoch
  samples INTEGER NOT NULL,
  bytes INTEGER NOT NULL, -- the size of the upload
  data BLOB NOT NULL,     -- the canonical text (shark/serve/decode.lua)
  taken REAL,             -- when the samples were taken (seconds): the profile's own time, else upload time
  upload_id TEXT          -- the sender's id of the upload: one sent again is stored once
);
]]

-- A database made before a column existed gets it (ALTER TABLE keeps the rows).
local COLUMNS = {
  { "taken", "ALTER TABLE profiles ADD COLUMN taken REAL; UPDATE profiles SET taken = time WHERE taken IS NULL;" },
  { "upload_id", "ALTER TABLE profiles ADD COLUMN upload_id TEXT;" },
}
local INDEXES = "CREATE INDEX IF NOT EXISTS profiles_taken ON profiles (taken);" ..
  "CREATE UNIQUE INDEX IF NOT EXISTS profiles_upload_id ON profiles (upload_id) WHERE upload_id IS NOT NULL;"

local function migrate(db)
  local have = {}
  for _, r in ipairs(db:rows("PRAGMA table_info(profiles)")) do have[r.name] = true end
  for _, c in ipairs(COLUMNS) do
    if not have[c[1]] then db:exec("BEGIN; " .. c[2] .. " COMMIT;") end
  end
  db:exec(INDEXES)
end

function M.open(path)
  local db, err = sqlite.open(path)
  if not db then return nil, err end
  local ok, e = pcall(db.exec, db, SCHEMA)
  if ok then ok, e = pcall(migrate, db) end
  if not ok then
    db:close()
    return nil, ("%s: %s"):format(path, tostring(e):gsub("^.-sqlite: ", ""))
  end
  return setmetatable({ db = db }, Store)
end

function Store:close() self.db:close() end

function Store:meta(key, value)
  if value ~= nil then
    self.db:run("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", key, value)
    return value
  end
  local r = self.db:rows("SELECT value FROM meta WHERE key = ?", key)[1]
  return r and r.value
end

-- add(p) -> id; or the id stored before and true when p.upload_id was seen.
function Store:add(p)
  if p.upload_id then
    local had = self.db:rows("SELECT id FROM profiles WHERE upload_id = ?", p.upload_id)[1]
    if had then return had.id, true end
  end
  local _, id = self.db:run("INSERT INTO profiles (kind, title, labels, time, samples, bytes, data, taken, " ..
    "upload_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", p.kind, p.title, p.labels, p.time, p.samples, p.bytes,
    sqlite.blob(p.data), p.taken or p.time, p.upload_id)
  return id
end

-- Newest first, without the data.
function Store:list()
  return self.db:rows("SELECT id, kind, title, labels, time, samples, bytes, taken FROM profiles ORDER BY id DESC")
end

-- The profiles a filter's SQL (shark/serve/query.lua: where, args) selects,
-- newest first, without the data.
function Store:find(where, args)
  return self.db:rows("SELECT id, kind, title, labels, time, samples, bytes, taken FROM profiles AS p WHERE " ..
    where .. " ORDER BY p.id DESC", unpack(args))
end

function Store:get(id)
  return self.db:rows("SELECT id, kind, title, labels, time, samples, bytes, data, taken FROM profiles " ..
    "WHERE id = ?", id)[1]
end

function Store:delete(id)
  return self.db:run("DELETE FROM profiles WHERE id = ?", id) > 0
end

return M
