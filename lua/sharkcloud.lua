-- SPDX-License-Identifier: GPL-2.0
-- sharkcloud.lua - send flame graphs and heat maps to a `shark serve`.
--
--   sharkcloud.senddata("flamegraph" | "heatmap", data, [opts])   -- the original's call
--   sharkcloud.upload{ kind =, data =, title =, labels = {...}, samples =, url =, token = }
--
-- Where to: opts.url/opts.token, else SHARK_CLOUD_URL/SHARK_CLOUD_TOKEN, else
-- the JSON file $XDG_CONFIG_HOME/shark/cloud.json (~/.config/shark/cloud.json,
-- or SHARK_CLOUD_CONFIG): {"url": "http://127.0.0.1:7411/", "token": "…"}.
-- The URL of the uploaded view is printed and returned. When the server
-- cannot be reached, the data is saved to a local file (in SHARK_CLOUD_DIR,
-- default: the current folder) and nil, message is returned: the run's exit
-- status stays as it was unless the script asks (opts.required = true raises).
-- senddata with no server configured writes a self-contained SVG file, as
-- shark did before the viewer existed.
local ffi = require "ffi"
local cjson = require "cjson"
local api = require "shark.api"
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

-- Anything flame graphs take as { folded stack = count }.
local function stack_counts(data)
  local mt = getmetatable(data)
  if type(data) == "table" and not (mt and mt.__pairs) and rawget(data, 1) == nil then
    local counts = {}
    for k, n in pairs(data) do
      local s = folded(k)
      if s ~= "" then counts[s] = (counts[s] or 0) + n end
    end
    return counts
  end
  return require("flame").counts(data)
end

local function clean(frame) return (frame:gsub("[\r\n]", " ")) end

-- The upload body of a flame graph: folded lines, then "@SECONDS stack 1"
-- lines for opts.samples = { time = {seconds...}, stack = {callchain...} }.
local function flame_body(data, samples)
  local counts, out = stack_counts(data), {}
  if samples then
    for i, s in ipairs(samples.stack) do
      local k = clean(folded(s))
      if k ~= "" then
        out[#out + 1] = ("@%.6f %s 1"):format(samples.time[i], k)
        counts[folded(s)] = nil   -- the timed lines carry these samples
      end
    end
  end
  for k, n in pairs(counts) do
    if n > 0 then out[#out + 1] = ("%s %d"):format(clean(k), n) end
  end
  return table.concat(out, "\n") .. "\n"
end

-- The upload body of a heat map: "TIME LATENCY [COUNT]" lines (microseconds).
-- data: the original's list of "time latency" strings, a list of {t, lat},
-- bpf.latency{interval_ms}:rows() (opts.unit "us" or "ms"), or
-- { [seconds] = { [log2 slot] = count } }.
local function heat_body(data, opts)
  local out, scale = {}, (opts.unit == "ms" and 1000 or opts.unit == "ns" and 0.001 or 1)
  local function low(slot) return slot == 0 and 0 or 2 ^ (slot - 1) * scale end
  if type(data) == "string" then return data end
  if data[1] and type(data[1]) == "table" and data[1].buckets then
    for _, r in ipairs(data) do
      for slot, n in pairs(r.buckets) do
        if n > 0 then out[#out + 1] = ("%d %.17g %d"):format(r.start_ms * 1000, low(slot), n) end
      end
    end
  elseif data[1] ~= nil then
    for _, r in ipairs(data) do
      out[#out + 1] = type(r) == "table" and ("%.17g %.17g"):format(r[1], r[2]) or tostring(r)
    end
  else
    for t, b in pairs(data) do
      for slot, n in pairs(b) do
        if n > 0 then out[#out + 1] = ("%d %.17g %d"):format(t * 1e6, low(slot), n) end
      end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- ------------------------------------------------------------ where to

local function read_config()
  local path = os.getenv("SHARK_CLOUD_CONFIG")
  if not path or path == "" then
    local base = os.getenv("XDG_CONFIG_HOME")
    if not base or base == "" then base = (os.getenv("HOME") or "") .. "/.config" end
    path = base .. "/shark/cloud.json"
  end
  local f = io.open(path, "rb")
  if not f then return {} end
  local text = f:read("*a")
  f:close()
  local ok, conf = pcall(cjson.decode, text)
  if not ok or type(conf) ~= "table" then
    shark.info(("sharkcloud: %s is not a JSON object: ignored"):format(path))
    return {}
  end
  return conf
end

local function env(name)
  local v = os.getenv(name)
  return v ~= "" and v or nil
end

-- The server's URL and token: options, environment, then the config file.
function M.target(opts)
  opts = opts or {}
  local url, token = opts.url or env("SHARK_CLOUD_URL"), opts.token or env("SHARK_CLOUD_TOKEN")
  if not url or not token then
    local conf = read_config()
    url, token = url or conf.url, token or conf.token
  end
  return url, token
end

local function escape(s)
  return (tostring(s):gsub("[^%w%-._~]", function(c) return ("%%%02X"):format(c:byte()) end))
end

-- A new file shark-KIND-TIME[-N].EXT in SHARK_CLOUD_DIR (default: here),
-- created O_EXCL without following a symlink: two in one second get -2, -3
-- ...; a name another user planted is never written through.
-- Return: its path, or nil, message.
local function create_new(kind, body, ext)
  local dir = env("SHARK_CLOUD_DIR") or "."
  local base = ("%s/shark-%s-%s"):format(dir, kind, os.date("%Y%m%d-%H%M%S"))
  for i = 1, 1000 do
    local path = i == 1 and ("%s.%s"):format(base, ext) or ("%s-%d.%s"):format(base, i, ext)
    local rc = api.safe_create(path, body, #body, 420)
    if rc == 0 then return path end
    if rc ~= -17 then break end -- EEXIST: try the next name
  end
  return nil, ffi.string(api.safe_error())
end

local function save_locally(kind, body, ext)
  return (create_new(kind, body, ext))
end

local function post(url, token, query, body, timeout)
  local endpoint = url:gsub("/+$", "") .. "/api/profiles?" .. query
  local cap = 65536
  local resp, status = ffi.new("char[?]", cap), ffi.new("int32_t[1]")
  local headers = ("Authorization: Bearer %s\r\nContent-Type: text/plain\r\n"):format(token or "")
  local n = api.http_request("POST", endpoint, headers, body, #body, timeout, resp, cap, status)
  if n < 0 then
    local why = n == -22 and "not an http:// URL" or n == -99 and "cannot resolve the host name"
      or ffi.string(api.strerror(-n))
    return nil, ("cannot reach %s: %s"):format(url, why)
  end
  local text = ffi.string(resp, n)
  if status[0] ~= 201 then
    local ok, j = pcall(cjson.decode, text)
    local why = ok and type(j) == "table" and j.error or text:sub(1, 200)
    return nil, ("%s answered %d: %s"):format(url, status[0], why)
  end
  local ok, j = pcall(cjson.decode, text)
  if not ok or type(j) ~= "table" or not j.url then return nil, url .. " answered 201 without a URL" end
  return j.url
end

-- upload{kind, data, title, labels, samples, unit, url, token, timeout_ms, required}
-- -> the view's URL, or nil, message (the data then sits in a local file).
function M.upload(o)
  if type(o) ~= "table" then error("sharkcloud.upload: expected a table of options", 2) end
  local kind = o.kind or "flamegraph"
  if kind ~= "flamegraph" and kind ~= "heatmap" then
    error(("sharkcloud.upload: unknown kind '%s' (flamegraph, heatmap)"):format(tostring(kind)), 2)
  end
  local dt = type(o.data)
  if dt ~= "table" and dt ~= "string" and dt ~= "userdata" then
    error("sharkcloud.upload: expected data (a table or text), got " .. dt, 2)
  end
  local body = kind == "heatmap" and heat_body(o.data, o) or flame_body(o.data, o.samples)
  local url, token = M.target(o)
  if not url then
    error("sharkcloud.upload: no server: give url=, set SHARK_CLOUD_URL, or write ~/.config/shark/cloud.json", 2)
  end
  local q = { "kind=" .. kind }
  if o.title then q[#q + 1] = "title=" .. escape(o.title) end
  local keys = {}
  for k in pairs(o.labels or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do q[#q + 1] = ("label.%s=%s"):format(escape(k), escape(o.labels[k])) end
  local view, err = post(url, token, table.concat(q, "&"), body, o.timeout_ms or 10000)
  if view then
    print(("Open %s at: %s"):format(kind, view))
    io.stdout:flush()
    return view
  end
  local saved = save_locally(kind, body, kind == "heatmap" and "txt" or "folded")
  local msg = ("sharkcloud: %s; %s"):format(err, saved and ("the data is saved in " .. saved)
    or "and the data could not be saved either")
  if o.required then error(msg, 2) end
  io.stderr:write(msg, "\n")
  return nil, msg
end

-- ------------------------------------------------------------ senddata

local renderers = {
  flamegraph = function(data, opts)
    return require("flame").svg(stack_counts(data), { title = opts.title or "Flame Graph" })
  end,
  heatmap = function(data, opts)
    if type(data) == "string" or (data[1] ~= nil and not (type(data[1]) == "table" and data[1].buckets)) then
      -- the original's "time latency" lines (microseconds): per-second log2 columns
      local cols, t0 = {}, nil
      for line in heat_body(data, opts):gmatch("[^\n]+") do
        local t, lat, n = line:match("^%s*(%S+)%s+(%S+)%s*(%S*)")
        t, lat = tonumber(t), tonumber(lat)
        if t and lat then
          t0 = t0 or t
          local sec = math.floor((t - t0) / 1e6)
          local slot = lat < 1 and 0 or math.floor(math.log(lat) / math.log(2)) + 1
          cols[sec] = cols[sec] or {}
          cols[sec][slot] = (cols[sec][slot] or 0) + (tonumber(n) or 1)
        end
      end
      data = cols
    end
    return require("heatmap").svg(data, { title = opts.title or "Latency Heat Map", unit = opts.unit })
  end,
}

-- senddata(kind, data, [opts]): kind "flamegraph" (data: callchain or folded
-- stack -> count, or folded text) or "heatmap" (the original's "time latency"
-- strings, bpf.latency rows, or { [seconds] = { [slot] = count } }). With a
-- server configured it uploads (see M.upload); else an SVG file. opts: title,
-- unit, labels, samples, url, token, file.
function M.senddata(kind, data, opts)
  opts = opts or {}
  local render = renderers[kind]
  if not render then
    error(("sharkcloud.senddata: unknown kind '%s' (flamegraph, heatmap)"):format(tostring(kind)), 2)
  end
  if type(data) ~= "table" and type(data) ~= "string" and type(data) ~= "userdata" then
    error("sharkcloud.senddata: expected a table of data, got " .. type(data), 2)
  end
  if not opts.file and M.target(opts) then
    local o = { kind = kind, data = data }
    for k, v in pairs(opts) do o[k] = v end
    return M.upload(o)
  end
  local svg = render(data, opts)
  local path
  if opts.file then
    path = opts.file
    local f, err = io.open(path, "wb")
    if not f then error("sharkcloud.senddata: cannot write " .. tostring(err), 2) end
    f:write(svg)
    f:close()
  else
    local perr
    path, perr = create_new(kind, svg, "svg")
    if not path then error("sharkcloud.senddata: " .. perr, 2) end
  end
  shark.info(("%s written to %s (open it in a browser; set SHARK_CLOUD_URL to upload to shark serve)")
    :format(kind, path))
  return path
end

return M
