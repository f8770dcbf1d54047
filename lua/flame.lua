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
    if row.comm then out(("    %-16s %s (%d)"):format("-", row.comm, row.pid)) end
    out(("        %d\n"):format(row.count))
  end
end

-- ------------------------------------------------------------- layout

-- The frames of a flame graph from { "root;...;leaf" = count }: a list, parents
-- before children, siblings in name order, each { name, depth (0: the root
-- "all"), x and w in samples, node }. total: the samples in all. Frames
-- share the tree's nodes (f.node), so two layouts can be matched by path.
function M.layout(counts)
  local root = { name = "all", w = 0, kids = {} }
  for stack, n in pairs(counts) do
    local node = root
    root.w = root.w + n
    for name in stack:gmatch("[^;]+") do
      local kid = node.kids[name]
      if not kid then
        kid = { name = name, w = 0, kids = {} }
        node.kids[name] = kid
      end
      kid.w = kid.w + n
      node = kid
    end
  end
  local out = {}
  local function walk(node, depth, x)
    out[#out + 1] = { name = node.name, depth = depth, x = x, w = node.w, node = node }
    local names = {}
    for name in pairs(node.kids) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
      walk(node.kids[name], depth + 1, x)
      x = x + node.kids[name].w
    end
  end
  walk(root, 0, 0)
  return out, root.w, root
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
  local frames, total = M.layout(M.counts(x, opts))
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
  local _, ta, ra = M.layout(M.counts(a, opts))
  local frames, tb = M.layout(M.counts(b, opts))
  -- the before-node of each after-node, matched by path
  local before = { [frames[1].node] = ra }
  local deltas, maxabs = {}, 0
  for _, f in ipairs(frames) do
    local bn = before[f.node]
    if bn then
      for name, kid in pairs(f.node.kids) do before[kid] = bn.kids[name] end
    end
    local wa = bn and bn.w or 0
    local d = (tb > 0 and f.w / tb or 0) - (ta > 0 and wa / ta or 0)
    f.wa, deltas[f] = wa, d
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
