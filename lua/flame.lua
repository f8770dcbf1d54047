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

-- { "a;b;c" = count } from folded text, a stacks shape (shark/stacks.lua), a
-- list of entries() rows, a template result (anything with :entries()), or
-- such a table itself.
function M.counts(x, opts)
  local stacks = require "shark.stacks"
  if stacks.is(x) then return stacks.counts(x) end
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
-- Rows printed as BCC's profile/offcputime do: kernel frames, ("--"), user
-- frames leaf first, "- comm (pid)", the count; the largest last.
-- opts.out: where lines go (default print).
function M.print_stacks(rows, opts)
  opts = opts or {}
  local out = opts.out or print
  for i = #rows, 1, -1 do
    local row = rows[i]
    for _, f in ipairs(row.kernel or {}) do out("    " .. f) end
    if opts.delimit and #(row.kernel or {}) > 0 and #(row.user or {}) > 0 then out("    --") end
    for _, f in ipairs(row.user or {}) do out("    " .. f) end
    if row.comm then
      out(("    %-16s %s (%d)%s"):format("-", row.comm, row.pid, row.ns and " [" .. row.ns .. "]" or ""))
    end
    out(("        %d\n"):format(row.count))
  end
end

-- ------------------------------------------------------------- layout

-- The stacks of x (anything M.counts takes, or a stacks shape) as items:
-- arrays of frame names, root first, with the samples in .w (and in
-- .wa, those of `before` for a diff).
local function items(x, opts, list, field)
  local stacks = require "shark.stacks"
  list = list or {}
  if stacks.is(x) then
    -- straight from frame ids: no folded strings made and split again
    local names = {}
    for i, f in ipairs(x.frames) do names[i] = (f.name:gsub(";", ":")) end
    for _, st in ipairs(x.stacks) do
      local it = { w = 0, wa = 0 }
      for i = 1, #st do it[i] = names[st[i]] end
      it[field] = st.count
      list[#list + 1] = it
    end
    return list
  end
  for stack, n in pairs(M.counts(x, opts)) do
    local it, k = { w = 0, wa = 0 }, 0
    for name in stack:gmatch("[^;]+") do
      k = k + 1
      it[k] = name
    end
    it[field] = n
    list[#list + 1] = it
  end
  return list
end

-- Frames of the items below one frame: grouped by the name at depth d,
-- siblings in name order; a group narrower than min_w samples is skipped
-- with everything above it (what cannot be drawn is never walked).
local function place(list, d, at, min_w, out)
  local groups, order = {}, {}
  for i = 1, #list do
    local it = list[i]
    local name = it[d]
    if name then
      local g = groups[name]
      if not g then
        g = { w = 0, wa = 0, n = 0 }
        groups[name] = g
        order[#order + 1] = name
      end
      g.w, g.wa, g.n = g.w + it.w, g.wa + it.wa, g.n + 1
      g[g.n] = it
    end
  end
  table.sort(order)
  for _, name in ipairs(order) do
    local g = groups[name]
    if g.w >= min_w and g.w > 0 then
      out[#out + 1] = { name = name, depth = d, x = at, w = g.w, wa = g.wa }
      place(g, d + 1, at, min_w, out)
    end
    at = at + g.w
  end
end

local function layout_items(list, min_w)
  local w, wa = 0, 0
  for i = 1, #list do w, wa = w + list[i].w, wa + list[i].wa end
  local out = { { name = "all", depth = 0, x = 0, w = w, wa = wa } }
  place(list, 1, 0, min_w or 0, out)
  return out, w, wa
end

-- The frames of a flame graph of x (anything M.counts takes, or a stacks
-- shape): a list, parents before children, siblings in name order, each
-- { name, depth (0: the root "all"), x and w in samples }; and the total.
-- Frames narrower than min_w samples are left out with all above them.
function M.layout(x, min_w)
  local frames, total = layout_items(items(x, nil, nil, "w"), min_w)
  return frames, total
end

-- ---------------------------------------------------------------- svg

local function esc(s)
  return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }))
end

-- A warm color from the name (the same name, the same color in every graph).
local function color(name)
  local h = 5381
  for i = 1, #name do h = (h * 33 + name:byte(i)) % 4294967296 end
  local a, b = h % 256 / 255, math.floor(h / 256) % 256 / 255
  return ("rgb(%d,%d,%d)"):format(205 + math.floor(50 * a), math.floor(230 * b), math.floor(55 * (1 - a)))
end

local FONT, ROW, PAD = 12, 16, 10

-- A name cut to fit px pixels ("" when not even 3 characters fit).
function M.clip(name, px)
  local fit = math.floor((px - 6) / (FONT * 0.59))
  if fit < 3 then return "" end
  if #name <= fit then return name end
  return name:sub(1, fit - 2) .. ".."
end

local SCRIPT = [[
var svg = document.documentElement, frames = svg.getElementById("frames"), W = +svg.getAttribute("data-w"),
  PAD = +svg.getAttribute("data-pad"), fw = +svg.getAttribute("data-fw"), total = +svg.getAttribute("data-total");
function each(f) { var gs = frames.getElementsByTagName("g"); for (var i = 0; i < gs.length; i++) f(gs[i]); }
function place(g, x0, span) {
  var r = g.firstElementChild.nextElementSibling, t = r.nextElementSibling, name = g.getAttribute("data-name");
  var x = +g.getAttribute("data-x"), w = +g.getAttribute("data-wd");
  var left = Math.max(x, x0), right = Math.min(x + w, x0 + span);
  if (right <= left) { g.style.display = "none"; return; }
  g.style.display = "";
  var px = (left - x0) / span * fw, pw = (right - left) / span * fw;
  r.setAttribute("x", PAD + px); r.setAttribute("width", pw);
  t.setAttribute("x", PAD + px + 3);
  var fit = Math.floor((pw - 6) / (12 * 0.59));
  t.textContent = fit < 3 ? "" : name.length <= fit ? name : name.substr(0, fit - 2) + "..";
}
function zoom(g) {
  var x0 = +g.getAttribute("data-x"), span = +g.getAttribute("data-wd"), d = +g.getAttribute("data-d");
  each(function (f) {
    var fd = +f.getAttribute("data-d"), fx = +f.getAttribute("data-x"), fwd = +f.getAttribute("data-wd");
    f.style.opacity = fd < d && fx <= x0 && fx + fwd >= x0 + span ? 0.6 : 1;
    place(f, x0, span);
  });
  svg.getElementById("unzoom").style.display = d > 0 ? "" : "none";
}
function search() {
  var re = prompt("Search frames (a regular expression):", "");
  if (re === null) return;
  var m = {}, n = 0;
  each(function (f) {
    var r = f.firstElementChild.nextElementSibling;
    if (re !== "" && new RegExp(re).test(f.getAttribute("data-name"))) {
      r.setAttribute("fill", "rgb(230,0,230)");
      var x = +f.getAttribute("data-x"), w = +f.getAttribute("data-wd");
      for (var k in m) if (+k <= x && x < m[k]) w = 0;
      if (w) { m[x] = x + w; n += w; }
    } else r.setAttribute("fill", f.getAttribute("data-fill"));
  });
  svg.getElementById("matched").textContent = re ? "Matched: " + (100 * n / total).toFixed(1) + "%" : "";
}
frames.addEventListener("click", function (e) { var g = e.target.closest("g"); if (g) zoom(g); });
svg.getElementById("unzoom").addEventListener("click", function () { zoom(frames.getElementsByTagName("g")[0]); });
svg.getElementById("search").addEventListener("click", search);
]]

-- Frames narrower than this many samples are not drawn (under 0.1 px).
local function min_width(total, opts)
  return total * 0.1 / ((opts.width or 1200) - 2 * PAD)
end

-- The SVG of laid-out frames; fill(f) and title(f) colour and describe one.
local function render(frames, total, opts, fill_of, title_of)
  local width = opts.width or 1200
  local fw = width - 2 * PAD
  local depth = 0
  for _, f in ipairs(frames) do depth = math.max(depth, f.depth) end
  local height = (depth + 1) * ROW + 3 * PAD + 2 * ROW
  local out = {
    ('<?xml version="1.0" standalone="no"?>'),
    ('<svg version="1.1" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg" ' ..
      'data-w="%d" data-pad="%d" data-fw="%d" data-total="%d">'):format(width, height, width, height, width, PAD,
      fw, total),
    ('<style>text { font-family: Verdana, sans-serif; font-size: %dpx; fill: #000; } #frames g:hover rect ' ..
      '{ stroke: #000; stroke-width: 0.5; } #frames g, .button { cursor: pointer; }</style>'):format(FONT),
    ('<rect x="0" y="0" width="%d" height="%d" fill="#f8f8f0"/>'):format(width, height),
    ('<text x="%d" y="%d" text-anchor="middle" style="font-size: 17px">%s</text>'):format(width / 2, PAD + ROW,
      esc(opts.title or "Flame Graph")),
    ('<text id="unzoom" class="button" x="%d" y="%d" style="display: none">Reset Zoom</text>'):format(PAD, PAD + ROW),
    ('<text id="search" class="button" x="%d" y="%d" text-anchor="end">Search</text>'):format(width - PAD, PAD + ROW),
    ('<text id="matched" x="%d" y="%d" text-anchor="end"></text>'):format(width - PAD, height - PAD / 2),
    '<g id="frames">',
  }
  for _, f in ipairs(frames) do
    local px, pw = f.x / total * fw, f.w / total * fw
    if pw >= 0.1 then
      local y = height - 2 * PAD - (f.depth + 1) * ROW
      local fill = fill_of(f)
      out[#out + 1] = ('<g data-name="%s" data-x="%d" data-wd="%d" data-d="%d" data-fill="%s"%s>' ..
        '<title>%s</title><rect x="%.2f" y="%d" width="%.2f" height="%d" rx="2" fill="%s"/>' ..
        '<text x="%.2f" y="%d">%s</text></g>')
        :format(esc(f.name), f.x, f.w, f.depth, fill, f.attrs or "", esc(title_of(f)), PAD + px, y, pw,
          ROW - 1, fill, PAD + px + 3, y + ROW - 4, esc(M.clip(f.name, pw)))
    end
  end
  out[#out + 1] = "</g>"
  out[#out + 1] = "<script><![CDATA[" .. SCRIPT .. "]]></script>"
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n") .. "\n"
end

-- An SVG document: x is anything M.counts takes. opts: title, width (px),
-- unit ("samples"), plus M.counts' options.
function M.svg(x, opts)
  opts = opts or {}
  local list = items(x, opts, nil, "w")
  local total = 0
  for i = 1, #list do total = total + list[i].w end
  local frames = layout_items(list, min_width(total, opts))
  local unit = opts.unit or "samples"
  return render(frames, total, opts, function(f) return color(f.name) end,
    function(f) return ("%s (%d %s, %.2f%%)"):format(f.name, f.w, unit, 100 * f.w / total) end)
end

-- ------------------------------------------------------------ diff

-- Growth red, shrink blue (ColorBrewer RdBu ends: told apart with the
-- common colour-vision deficiencies), near white when unchanged; t in [-1, 1].
local function diff_colour(t)
  local lo, mid, hi = { 33, 102, 172 }, { 247, 247, 247 }, { 178, 24, 43 }
  local to = t < 0 and lo or hi
  local a = math.min(1, math.abs(t))
  local c = {}
  for i = 1, 3 do c[i] = math.floor(mid[i] + (to[i] - mid[i]) * a + 0.5) end
  return ("rgb(%d,%d,%d)"):format(c[1], c[2], c[3])
end
M.diff_colour = diff_colour

-- A differential flame graph: the frames of `after` (b), each coloured by
-- how its share of all samples changed from `before` (a): red grew, blue
-- shrank. a and b: anything M.counts takes. opts as M.svg's. Each frame
-- carries data-delta (share points, b - a) and both counts in its title.
function M.diff_svg(a, b, opts)
  opts = opts or {}
  -- one walk over both: widths from `after`, each frame's `before` beside it
  local list = items(b, opts, items(a, opts, nil, "wa"), "w")
  local tb = 0
  for i = 1, #list do tb = tb + list[i].w end
  local frames, _, ta = layout_items(list, min_width(tb, opts))
  local deltas, maxabs = {}, 0
  for _, f in ipairs(frames) do
    local d = (tb > 0 and f.w / tb or 0) - (ta > 0 and f.wa / ta or 0)
    deltas[f] = d
    f.attrs = (' data-delta="%.6f"'):format(100 * d)
    if math.abs(d) > maxabs then maxabs = math.abs(d) end
  end
  local unit = opts.unit or "samples"
  opts.title = opts.title or "Differential Flame Graph"
  local function fill(f) return diff_colour(maxabs > 0 and deltas[f] / maxabs or 0) end
  return render(frames, tb, opts, fill,
    function(f)
      return ("%s (before %d %s, %.2f%%; after %d, %.2f%%; %+.2f points)"):format(f.name, f.wa, unit,
        ta > 0 and 100 * f.wa / ta or 0, f.w, tb > 0 and 100 * f.w / tb or 0, 100 * deltas[f])
    end)
end

return M
