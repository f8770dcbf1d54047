-- SPDX-License-Identifier: GPL-2.0
-- flame.lua - stacks as folded lines ("root;...;leaf count", what flame graph
-- tools read) and as a self-contained interactive SVG flame graph: a rect per
-- frame sized by samples, a title with samples and %, click to zoom, search.
local M = {}

-- One stack of a template's entries() row as folded frames, root first:
-- comm, user frames, ("-" between when opts.delimit), kernel frames.
function M.fold(row, opts)
  opts = opts or {}
  local f = {}
  if opts.comm ~= false and row.comm then f[1] = row.comm end
  for i = #(row.user or {}), 1, -1 do f[#f + 1] = row.user[i] end
  if opts.delimit and #(row.user or {}) > 0 and #(row.kernel or {}) > 0 then f[#f + 1] = "-" end
  for i = #(row.kernel or {}), 1, -1 do f[#f + 1] = row.kernel[i] end
  return table.concat(f, ";")
end

-- { "a;b;c" = count } from folded text, a list of entries() rows, a
-- template result (anything with :entries()), or such a table itself.
function M.counts(x, opts)
  if type(x) == "string" then
    local t = {}
    for line in x:gmatch("[^\n]+") do
      local s, n = line:match("^(.-)%s+(%d+)%s*$")
      if s then t[s] = (t[s] or 0) + tonumber(n) end
    end
    return t
  end
  if type(x) == "userdata" or (type(x) == "table" and x.entries) then x = x:entries() end
  if x[1] and type(x[1]) == "table" then
    local t = {}
    for _, row in ipairs(x) do
      local s = M.fold(row, opts)
      t[s] = (t[s] or 0) + row.count
    end
    return t
  end
  return x
end

-- Folded text, one "stack count" line per stack, sorted by stack.
function M.folded(x, opts)
  local t, keys, out = M.counts(x, opts), {}, {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do out[#out + 1] = ("%s %d"):format(k, t[k]) end
  return table.concat(out, "\n")
end
return M
