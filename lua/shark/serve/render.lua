-- SPDX-License-Identifier: GPL-2.0
-- shark/serve/render.lua - a stored profile in the formats GET /api/profiles/ID
-- gives: folded, json (what the viewer draws), svg, pprof, speedscope.
local cjson = require "cjson"
local decode = require "shark.serve.decode"
local core = require "shark.core"

local M = {}

-- cjson keeps 14 digits at most: times go out relative to t0 (the first one).
local json = cjson.new()
json.encode_number_precision(14)
M.json = json

-- JSON of a list that may be empty (cjson writes {} for an empty table).
function M.list(t)
  if #t == 0 then return "[]" end
  return json.encode(t)
end

-- The stored row decoded again: { stacks, timed, samples } or { rows, samples }.
function M.profile(row)
  local p = assert(decode.upload(row.kind, row.data))
  return p
end

local function header(row)
  local ok, labels = pcall(json.decode, row.labels)
  if not ok and labels == core.sentinel then error(labels, 0) end   -- a stop, not bad labels
  return { id = row.id, kind = row.kind, title = row.title, labels = ok and labels or {}, time = row.time,
    samples = row.samples, bytes = row.bytes, taken = row.taken }
end
M.header = header

-- A flame graph's part of the view: folded = "stack count" lines sorted by
-- stack and, when timed, timed = { t, line index (0-based), count, ... }.
local function flame_parts(p)
  -- the stacks as one folded text (cjson escapes one long string far faster
  -- than it writes 50 000 small arrays), sorted by stack
  local order = p.order
  if not order then
    order = {}
    for k in pairs(p.stacks) do order[#order + 1] = k end
  end
  for i = 2, #order do
    if order[i - 1] > order[i] then
      table.sort(order)
      break
    end
  end
  local lines, index, st = {}, {}, p.stacks
  for i, k in ipairs(order) do
    lines[i] = k .. " " .. st[k]
    index[k] = i - 1
  end
  local parts = { '"folded":' .. json.encode(table.concat(lines, "\n")) }
  if p.timed then
    local t, out, t0 = p.timed, {}, math.huge
    for i = 1, #t, 3 do t0 = math.min(t0, t[i]) end
    for i = 1, #t, 3 do
      out[#out + 1] = t[i] - t0
      out[#out + 1] = index[t[i + 1]]
      out[#out + 1] = t[i + 2]
    end
    parts[2] = ('"t0":%.17g,"timed":'):format(t0) .. M.list(out)
  end
  return parts
end

-- The header object h (a table) and the parts as one JSON object.
local function with(h, parts)
  local head = json.encode(h)
  return head:sub(1, -2) .. "," .. table.concat(parts, ",") .. "}"
end

-- What the viewer draws. Flame graphs: see flame_parts; heat maps:
-- rows = { t, latency, count, ... } (microseconds); t after t0.
function M.view(row)
  local p, h = M.profile(row), header(row)
  if row.kind ~= "heatmap" then return with(h, flame_parts(p)) end
  local r, t0, out = p.rows, math.huge, {}
  for i = 1, #r, 3 do t0 = math.min(t0, r[i]) end
  for i = 1, #r, 3 do
    out[i], out[i + 1], out[i + 2] = r[i] - t0, r[i + 1], r[i + 2]
  end
  return with(h, { ('"t0":%.17g,"rows":'):format(t0) .. M.list(out) })
end

-- Heat-map rows as { [second] = { [log2 slot] = count } } for heatmap.svg.
local function columns(rows)
  local t0 = math.huge
  for i = 1, #rows, 3 do t0 = math.min(t0, rows[i]) end
  local cols = {}
  for i = 1, #rows, 3 do
    local sec = math.floor((rows[i] - t0) / 1e6)
    local lat = rows[i + 1]
    local slot = lat < 1 and 0 or math.floor(math.log(lat) / math.log(2)) + 1
    local c = cols[sec] or {}
    cols[sec] = c
    c[slot] = (c[slot] or 0) + rows[i + 2]
  end
  return cols
end

-- A flame graph's stacks in an export format -> body, content type; or nil,
-- status, message. o: title, time (seconds).
local function export(stacks, format, o)
  if format == "folded" then return require("flame").folded(stacks) .. "\n", "text/plain; charset=utf-8" end
  if format == "svg" then return require("flame").svg(stacks, { title = o.title }), "image/svg+xml" end
  if format == "pprof" or format == "speedscope" then
    local s = require("shark.stacks").of(stacks)
    if format == "pprof" then
      return require("shark.pprof").encode(s, { time_ns = o.time and o.time * 1e9 }), "application/octet-stream"
    end
    return s:speedscope{ name = o.title }, "application/json"
  end
  return nil, 400, "format must be folded, json, svg, pprof or speedscope"
end

-- format -> body, content type; or nil, status, message
function M.format(row, format)
  if format == "json" then return M.view(row), "application/json" end
  local p = M.profile(row)
  if row.kind ~= "heatmap" then return export(p.stacks, format, { title = row.title, time = row.taken or row.time }) end
  if format == "folded" then return row.data, "text/plain; charset=utf-8" end
  if format == "svg" then
    return require("heatmap").svg(columns(p.rows), { title = row.title, unit = "us" }), "image/svg+xml"
  end
  if format == "pprof" or format == "speedscope" then return nil, 400, format .. " is for flame graphs" end
  return nil, 400, "format must be folded, json, svg, pprof or speedscope"
end

-- A merged profile (shark/serve/fleet.lua) with the header h (title, ...)
-- in a format -> body, content type; or nil, status, message.
function M.merged(m, h, format)
  if format == "json" then return with(h, flame_parts(m)), "application/json" end
  return export(m.stacks, format, { title = h.title, time = m.taken and m.taken[1] })
end

return M
