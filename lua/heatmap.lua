-- SPDX-License-Identifier: GPL-2.0
-- heatmap.lua - latency heat maps as self-contained SVG: time across, log2
-- latency buckets up, darker cells for more events; each cell's <title>
-- gives its interval, bucket and count.
local hist = require "hist"

local M = {}

local function esc(s)
  return (tostring(s):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

-- Accept bpf.latency{interval_ms = …}:rows(), { [seconds] = { [slot] = n } },
-- or a list of { t = seconds, hist = a log2 histogram shape (hist.lua) }.
-- Returns columns { {t = seconds, buckets = {[slot] = n}} } in time order.
function M.columns(data)
  local cols = {}
  if data[1] and data[1].hist then
    for _, c in ipairs(data) do
      if c.hist.kind ~= "log2" then error("heatmap: columns must be log2 histograms", 3) end
      cols[#cols + 1] = { t = c.t, buckets = c.hist.buckets }
    end
    table.sort(cols, function(a, b) return a.t < b.t end)
  elseif data[1] and data[1].buckets then
    local t0 = data[1].start_ms
    for _, r in ipairs(data) do cols[#cols + 1] = { t = (r.start_ms - t0) / 1000, buckets = r.buckets } end
  else
    for t, b in pairs(data) do
      if type(t) ~= "number" or type(b) ~= "table" then
        error("heatmap: expected rows from bpf.latency():rows() or { [seconds] = { [slot] = count } }", 3)
      end
      cols[#cols + 1] = { t = t, buckets = b }
    end
    table.sort(cols, function(a, b) return a.t < b.t end)
  end
  return cols
end

-- Cell colour: white to dark red on a log scale of the count.
local function colour(n, max)
  if n <= 0 then return "#ffffff" end
  local f = math.log(n + 1) / math.log(max + 1)
  local r = math.floor(255 - 80 * f)
  local g = math.floor(245 - 225 * f)
  local b = math.floor(230 - 210 * f)
  return ("#%02x%02x%02x"):format(r, g, b)
end

-- data: see M.columns; opts: title, unit ("us"), cell (px, 14).
function M.svg(data, opts)
  opts = opts or {}
  local cols = M.columns(data)
  local unit, cell = opts.unit or (data[1] and data[1].hist and data[1].hist.unit) or "us", opts.cell or 14
  local lo, hi, max = math.huge, -math.huge, 0
  for _, c in ipairs(cols) do
    for s, n in pairs(c.buckets) do
      if n > 0 then
        lo, hi = math.min(lo, s), math.max(hi, s)
        max = math.max(max, n)
      end
    end
  end
  if max == 0 then lo, hi = 0, 0 end
  local left, top = 110, 40
  local w = left + #cols * cell + 20
  local h = top + (hi - lo + 1) * cell + 50
  local out = {
    ('<?xml version="1.0" standalone="no"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" ' ..
      'font-family="Verdana, sans-serif" font-size="11">'):format(w, h),
    ('<rect width="100%%" height="100%%" fill="#f8f8f8"/><text x="%d" y="22" font-size="15" ' ..
      'text-anchor="middle">%s</text>'):format(w / 2, esc(opts.title or "latency heat map")),
  }
  for s = lo, hi do
    local y = top + (hi - s) * cell
    out[#out + 1] = ('<text x="%d" y="%d" text-anchor="end">%s %s</text>')
      :format(left - 6, y + cell - 3, esc(hist.log2_label(s)), esc(unit))
  end
  for i, c in ipairs(cols) do
    local x = left + (i - 1) * cell
    for s = lo, hi do
      local n = c.buckets[s] or 0
      out[#out + 1] = ('<rect class="c" x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%gs, %s %s: %d' ..
        '</title></rect>'):format(x, top + (hi - s) * cell, cell - 1, cell - 1, colour(n, max), c.t,
        esc(hist.log2_label(s)), esc(unit), n)
    end
    if (i - 1) % 10 == 0 then
      out[#out + 1] = ('<text x="%d" y="%d">%gs</text>'):format(x, top + (hi - lo + 1) * cell + 14, c.t)
    end
  end
  out[#out + 1] = ('<text x="%d" y="%d">time; darkest cell: %d events</text>'):format(left, h - 10, max)
  out[#out + 1] = "</svg>\n"
  return table.concat(out, "\n")
end

return M
