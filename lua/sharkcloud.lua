-- SPDX-License-Identifier: GPL-2.0
-- sharkcloud.lua - the original's sharkcloud.senddata(kind, data). Until a
-- viewer exists to upload to, the graph is rendered here, as a self-contained
-- SVG file in $SHARK_CLOUD_DIR (default: the current folder), and its path
-- is returned and told on stderr.
local shark = require "shark"

local M = {}

-- A callchain key (frames leaf first, one per line, as e.callchain gives
-- them) as a folded stack (root first, ";" between frames).
local function folded(key)
  key = tostring(key)
  if not key:find("\n", 1, true) then return key end
  local frames = {}
  for f in key:gmatch("[^\n]+") do table.insert(frames, 1, (f:gsub(";", ":"))) end
  return table.concat(frames, ";")
end

local renderers = {
  flamegraph = function(data, opts)
    local counts = {}
    local mt = getmetatable(data)
    if type(data) == "table" and not (mt and mt.__pairs) and rawget(data, 1) == nil then
      for k, n in pairs(data) do
        local s = folded(k)
        counts[s] = (counts[s] or 0) + n
      end
      data = counts
    end
    return require("flame").svg(data, { title = opts.title or "Flame Graph" })
  end,
  heatmap = function(data, opts)
    return require("heatmap").svg(data, { title = opts.title or "Latency Heat Map", unit = opts.unit })
  end,
}

-- senddata(kind, data, [opts]): kind "flamegraph" (data: callchain or folded
-- stack -> count, or folded text) or "heatmap" (bpf.latency rows, or
-- { [seconds] = { [log2 slot] = count } }). opts: title, unit, file.
function M.senddata(kind, data, opts)
  opts = opts or {}
  local render = renderers[kind]
  if not render then
    error(("sharkcloud.senddata: unknown kind '%s' (flamegraph, heatmap)"):format(tostring(kind)), 2)
  end
  if type(data) ~= "table" and type(data) ~= "string" and type(data) ~= "userdata" then
    error("sharkcloud.senddata: expected a table of data, got " .. type(data), 2)
  end
  local svg = render(data, opts)
  local dir = os.getenv("SHARK_CLOUD_DIR")
  if not dir or dir == "" then dir = "." end
  local path = opts.file or ("%s/shark-%s-%s.svg"):format(dir, kind, os.date("%Y%m%d-%H%M%S"))
  local f, err = io.open(path, "wb")
  if not f then error("sharkcloud.senddata: cannot write " .. tostring(err), 2) end
  f:write(svg)
  f:close()
  shark.info(("%s written to %s (open it in a browser; upload waits for the viewer)"):format(kind, path))
  return path
end

return M
