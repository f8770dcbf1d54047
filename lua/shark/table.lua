-- SPDX-License-Identifier: GPL-2.0
-- shark/table.lua - rows printed as a table with a header, or as JSON lines (-j), from one list of columns:
--   local out = require("shark.table").new{ json = o.json,
--     { "PID", "%-7d", "pid" }, { "COMM", "%-16s", "comm" }, { "MS", "%.2f", "ms" } }
--   out:header()                          -- PID     COMM             MS   (nothing with json)
--   out:row{ pid = 1, comm = "init", ms = 0.5 }   -- a table line, or {"pid":1,"comm":"init","ms":0.5} (column order)
-- A column is { TITLE, FORMAT, KEY [, text = fn(value, row) or a constant] [, hide = true] }: `text` turns
-- the value into what the table shows (JSON keeps the value), `hide` keeps the column out of the table
-- only. JSON objects hold the columns' keys, nothing else. Columns are separated by one space; the header
-- formats each title as FORMAT with its precision dropped and its conversion made %s.
local M = {}

local Out = {}
Out.__index = Out

-- A printer for the columns of spec (its array part); spec.json: print JSON lines instead.
function M.new(spec)
  local cols = {}
  for i, c in ipairs(spec) do
    if type(c) ~= "table" or type(c[1]) ~= "string" or type(c[2]) ~= "string" or c[3] == nil then
      error(("shark.table: column %d: expected { TITLE, FORMAT, KEY }"):format(i), 2)
    end
    if not c.hide then cols[#cols + 1] = c end
  end
  local fmt, head = {}, {}
  for i, c in ipairs(cols) do
    fmt[i] = c[2]
    head[i] = (c[2]:gsub("%.%d+", ""):gsub("%a$", "s"))
  end
  return setmetatable({ json = spec.json, all = spec, cols = cols, fmt = table.concat(fmt, " "),
    head = table.concat(head, " ") }, Out)
end

-- The header line, titles overridden by key from `titles` (if given), then
-- `tail` (if given); nothing in JSON form.
function Out:header(titles, tail)
  if self.json then return end
  local t = {}
  for i, c in ipairs(self.cols) do t[i] = titles and titles[c[3]] or c[1] end
  print(self.head:format(unpack(t, 1, #self.cols)) .. (tail or ""))
end

-- One row: r's values under the columns' keys.
function Out:row(r)
  if self.json then
    local obj, keys = {}, {}
    for i, c in ipairs(self.all) do obj[c[3]] = r[c[3]]; keys[i] = c[3] end
    return print(require("shark.json").encode(obj, keys))   -- keys in the columns' order
  end
  local v = {}
  for i, c in ipairs(self.cols) do
    local x = r[c[3]]
    if c.text ~= nil then
      if type(c.text) == "function" then x = c.text(x, r) else x = c.text end
    end
    v[i] = x
  end
  print(self.fmt:format(unpack(v, 1, #self.cols)))
end

return M
