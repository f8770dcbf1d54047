-- SPDX-License-Identifier: GPL-2.0
-- shark/export/prometheus.lua - a metrics snapshot (shark.metric) as the
-- Prometheus text exposition format, version 0.0.4.
local M = {}

M.content_type = "text/plain; version=0.0.4; charset=utf-8"

local function num(v)
  if v ~= v then return "NaN" end
  if v == math.huge then return "+Inf" end
  if v == -math.huge then return "-Inf" end
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return ("%d"):format(v) end
  for _, f in ipairs { "%.15g", "%.16g" } do
    local t = f:format(v)
    if tonumber(t) == v then return t end
  end
  return ("%.17g"):format(v)
end
M.number = num

local function escape_help(s)
  return (s:gsub("\\", "\\\\"):gsub("\n", "\\n"))
end

local function escape_value(s)
  return (s:gsub("\\", "\\\\"):gsub("\n", "\\n"):gsub('"', '\\"'))
end

local function labels_text(labels, extra)
  if #labels == 0 and not extra then return "" end
  local parts = {}
  for i, kv in ipairs(labels) do parts[i] = kv[1] .. '="' .. escape_value(kv[2]) .. '"' end
  if extra then parts[#parts + 1] = extra end
  return "{" .. table.concat(parts, ",") .. "}"
end

local function render_family(buf, f)
  buf[#buf + 1] = ("# HELP %s %s\n"):format(f.name, escape_help(f.help or ""))
  buf[#buf + 1] = ("# TYPE %s %s\n"):format(f.name, f.type)
  for _, s in ipairs(f.series) do
    if f.type == "histogram" then
      for _, b in ipairs(s.buckets) do
        buf[#buf + 1] = ("%s_bucket%s %s\n"):format(f.name, labels_text(s.labels, 'le="' .. num(b[1]) .. '"'),
          num(b[2]))
      end
      buf[#buf + 1] = ("%s_bucket%s %s\n"):format(f.name, labels_text(s.labels, 'le="+Inf"'), num(s.count))
      buf[#buf + 1] = ("%s_sum%s %s\n"):format(f.name, labels_text(s.labels), num(s.sum))
      buf[#buf + 1] = ("%s_count%s %s\n"):format(f.name, labels_text(s.labels), num(s.count))
    else
      buf[#buf + 1] = ("%s%s %s\n"):format(f.name, labels_text(s.labels), num(s.value))
    end
  end
end

-- Families of several snapshots merged by name (a family's first type and
-- help win; a later one of another type is left out and counted).
function M.merge(snapshots)
  local out, by = {}, {}
  local conflicts = 0
  for _, snap in ipairs(snapshots) do
    for _, f in ipairs(snap) do
      local have = by[f.name]
      if not have then
        have = { name = f.name, help = f.help, type = f.type, series = {} }
        by[f.name] = have
        out[#out + 1] = have
      end
      if have.type == f.type then
        for _, s in ipairs(f.series) do have.series[#have.series + 1] = s end
      else
        conflicts = conflicts + 1
      end
    end
  end
  return out, conflicts
end

function M.render(families)
  local buf = {}
  for _, f in ipairs(families) do render_family(buf, f) end
  return table.concat(buf)
end

return M
