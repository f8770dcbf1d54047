-- SPDX-License-Identifier: GPL-2.0
-- shark/table.lua - rows printed as a table with a header, or as JSON lines (-j), from one list of columns:
--   local out = require("shark.table").new{ json = o.json,
--     { "PID", "%-7d", "pid" }, { "COMM", "%-16s", "comm" }, { "MS", "%.2f", "ms" } }
--   out:header()                          -- PID     COMM             MS   (nothing with json)
--   out:row{ pid = 1, comm = "init", ms = 0.5 }   -- a table line, or {"pid":1,"comm":"init","ms":0.5}
-- A column is { TITLE, FORMAT, KEY [, text = fn(value, row) or a constant] [, hide = true] }: `text` turns
-- the value into what the table shows (JSON keeps the value), `hide` keeps the column out of the table
-- only. JSON objects hold the columns' keys, nothing else. Columns are separated by one space; the header
-- formats each title as FORMAT with its precision dropped and its conversion made %s.
-- spec.out: where lines go (shark.out: nil for stdout, a path, a function, a sink).
--
-- The rows data shape, owned here: { columns = { {key =, title =, format =}, ... }, rows = { {...}, ... } }.
-- M.shape(spec, rows) makes one; M.render(shape, "text" | "json") gives its text; -j prints JSON lines.
local json = require "shark.json"
local sink = require "shark.out"

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
    head = table.concat(head, " "), out = sink.of(spec.out) }, Out)
end

-- The header line, titles overridden by key from `titles` (if given), then
-- `tail` (if given); nothing in JSON form.
function Out:header(titles, tail)
  if self.json then return end
  local t = {}
  for i, c in ipairs(self.cols) do t[i] = titles and titles[c[3]] or c[1] end
  self.out:line(self.head:format(unpack(t, 1, #self.cols)) .. (tail or ""))
end

-- r as the JSON object of -j: the columns' keys (hidden ones too), nothing else.
function Out:object(r)
  local obj = {}
  for _, c in ipairs(self.all) do obj[c[3]] = r[c[3]] end
  return obj
end

-- r as the table's line.
function Out:text(r)
  local v = {}
  for i, c in ipairs(self.cols) do
    local x = r[c[3]]
    if c.text ~= nil then
      if type(c.text) == "function" then x = c.text(x, r) else x = c.text end
    end
    v[i] = x
  end
  return self.fmt:format(unpack(v, 1, #self.cols))
end

-- The JSON keys in the columns' order (hidden ones too).
function Out:keys()
  if not self.key_order then
    self.key_order = {}
    for i, c in ipairs(self.all) do self.key_order[i] = c[3] end
  end
  return self.key_order
end

-- One row: r's values under the columns' keys, in the columns' order in JSON.
function Out:row(r)
  if self.json then return self.out:line(json.encode(self:object(r), self:keys())) end
  self.out:line(self:text(r))
end

-- ------------------------------------------------------------ the shape

-- The rows shape of a list of rows under spec's columns.
function M.shape(spec, rows)
  local cols = {}
  for i, c in ipairs(spec) do
    cols[i] = { key = c[3], title = c[1], format = c[2], hide = c.hide or nil }
  end
  return { columns = cols, rows = rows or {}, spec = spec }
end

-- The shape as text (a header, then a line per row) or JSON lines (format
-- "json"); each line ends with a newline.
function M.render(shape, format)
  local spec = shape.spec
  if not spec then
    spec = {}
    for i, c in ipairs(shape.columns) do spec[i] = { c.title or c.key, c.format or "%s", c.key, hide = c.hide } end
  end
  if format ~= "json" and format ~= "text" then
    error(("rows: unknown format '%s' (text, json)"):format(tostring(format)), 2)
  end
  local buf = sink.buffer()
  local sp = { json = format == "json", out = buf }
  for i, c in ipairs(spec) do sp[i] = c end
  local p = M.new(sp)
  p:header()
  for _, r in ipairs(shape.rows) do p:row(r) end
  return buf.text()
end

return M
