-- SPDX-License-Identifier: GPL-2.0
-- shark serve [--listen ADDR:PORT] [--db FILE] [--token TOKEN]: keep uploaded
-- flame graphs and heat maps in SQLite and show them in a browser. HTTP runs
-- on shark's libuv loop (core/http.c, requests parsed by http-parser).
local uv = require "uv"
local http = require "shark.http"
local store_mod = require "shark.serve.store"
local decode = require "shark.serve.decode"
local render = require "shark.serve.render"
local query = require "shark.serve.query"
local fleet = require "shark.serve.fleet"
local core = require "shark.core"
local api = require "shark.api"
local shark = require "shark"

local M = {}

M.DEFAULT_PORT = 7411
local json = render.json

-- ---------------------------------------------------------------- setup

local function data_dir()
  if uv.getuid and uv.getuid() == 0 then return "/var/lib/shark" end
  local xdg = os.getenv("XDG_DATA_HOME")
  if xdg and xdg ~= "" then return xdg .. "/shark" end
  return (os.getenv("HOME") or ".") .. "/.local/share/shark"
end

local function mkdir_p(dir)
  local path = ""
  for part in dir:gmatch("[^/]+") do
    path = path .. "/" .. part
    if dir:sub(1, 1) ~= "/" and path:sub(1, 1) == "/" then path = path:sub(2) end
    uv.fs_mkdir(path, tonumber("700", 8))
  end
end

-- "ADDR:PORT", "[v6]:PORT", ":PORT" or "PORT" -> host, port
function M.parse_listen(s)
  local host, port = s:match("^%[([%x:]+)%]:(%d+)$")
  if not host then host, port = s:match("^([^:]*):(%d+)$") end
  if not host and s:match("^%d+$") then host, port = "", s end
  port = tonumber(port)
  if not host or not port or port > 65535 then return nil end
  if host == "" then host = "127.0.0.1" end
  if host == "localhost" then host = "127.0.0.1" end
  return host, port
end

local function new_token()
  local f = assert(io.open("/dev/urandom", "rb"))
  local b = f:read(18)
  f:close()
  return (b:gsub(".", function(c) return ("%02x"):format(c:byte()) end))
end

-- ---------------------------------------------------------------- HTTP

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function query_of(q)
  local t, labels = {}, {}
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    k, v = unescape(k), unescape(v)
    local label = k:match("^label%.(.+)$")
    if label then labels[label] = v else t[k] = v end
  end
  return t, labels
end

local function reply(status, obj, extra)
  return status, "application/json", json.encode(obj) .. "\n", extra
end

local function fail(status, msg, extra) return reply(status, { error = msg }, extra) end

-- Constant-time: the answer's timing says nothing of the token.
local function same(a, b)
  if #a ~= #b then return false end
  local d = 0
  for i = 1, #a do d = bit.bor(d, bit.bxor(a:byte(i), b:byte(i))) end
  return d == 0
end

local CTYPES = { html = "text/html; charset=utf-8", js = "text/javascript; charset=utf-8",
  css = "text/css; charset=utf-8" }

local function static(name)
  local body = core.file("viewer/" .. name)
  if not body then return fail(404, "no such file") end
  return 200, CTYPES[name:match("%.(%w+)$")] or "application/octet-stream", body,
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; style-src 'self'\r\n"
end

local function labels_ok(labels)
  local n = 0
  for k, v in pairs(labels) do
    n = n + 1
    if not k:match("^[%w_.%-]+$") or #k > 64 then return nil, ("bad label name '%s'"):format(k:sub(1, 64)) end
    if #v > 256 then return nil, ("label %s: value longer than 256 bytes"):format(k) end
  end
  if n > 32 then return nil, "more than 32 labels" end
  return true
end

local function matches(h, q)
  local hay = h.title:lower() .. " " .. h.kind
  for k, v in pairs(h.labels) do hay = hay .. " " .. k:lower() .. "=" .. tostring(v):lower() end
  for word in q:lower():gmatch("%S+") do
    if not hay:find(word, 1, true) then return false end
  end
  return true
end

-- Per-agent tokens live in the meta table as "agent-token:NAME": added and
-- revoked while the server runs (each request looks them up).
local AGENT = "agent-token:"

local function agent_tokens(st)
  local out = {}
  for _, r in ipairs(st.db:rows("SELECT key, value FROM meta WHERE key LIKE 'agent-token:%'")) do
    out[#out + 1] = { name = r.key:sub(#AGENT + 1), token = r.value }
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

local function router(st, ctx, token)
  -- the admin token, or an agent's (then its name, which labels its uploads)
  local function authorized(req)
    local got = req.authorization and req.authorization:match("^[Bb]earer%s+(%S+)%s*$")
    if not got then return false end
    if same(got, token) then return true end
    for _, a in ipairs(agent_tokens(st)) do
      if same(got, a.token) then return true, a.name end
    end
    return false
  end
  local unauth = 'WWW-Authenticate: Bearer realm="shark"\r\n'

  local function upload(req, q, labels)
    local ok0, agent = authorized(req)
    if not ok0 then return fail(401, "a valid 'Authorization: Bearer TOKEN' is needed", unauth) end
    if agent then labels.agent = agent end
    local kind = q.kind or "flamegraph"
    if kind ~= "flamegraph" and kind ~= "heatmap" then
      return fail(400, "kind must be flamegraph or heatmap")
    end
    local taken
    if q.time then
      taken = query.time(q.time)
      if not taken then
        return fail(400, ("time: expected seconds since the epoch or a UTC time like 2026-11-30T14:05:00Z, got '%s'")
          :format(q.time:sub(1, 64)))
      end
    end
    if q.upload_id and (not q.upload_id:match("^[%w_.:%-]+$") or #q.upload_id > 128) then
      return fail(400, "upload_id: up to 128 letters, digits and _.:-")
    end
    local title = q.title or (kind .. " " .. os.date("!%Y-%m-%d %H:%M:%S"))
    if #title > 256 then return fail(400, "title longer than 256 bytes") end
    local ok, err = labels_ok(labels)
    if not ok then return fail(400, err) end
    local p, why = decode.upload(kind, req.body, true)
    if not p then return fail(400, why) end
    local id, again = st:add{ kind = kind, title = title, labels = next(labels) and json.encode(labels) or "{}",
      time = os.time(), taken = taken or p.time, samples = p.samples, bytes = #req.body,
      -- text that decoded is kept as sent (decoding it again gives p); pprof as folded text
      data = p.from_pprof and decode.encode(kind, p) or req.body,
      -- per sender: one agent's ids cannot shadow another's
      upload_id = q.upload_id and (agent or "") .. "/" .. q.upload_id }
    if #req.body > 1048576 then ctx.collect() end
    if again then return reply(200, { id = id, url = ctx.base .. "p/" .. id, again = true }) end
    return reply(201, { id = id, url = ctx.base .. "p/" .. id }, "Location: /p/" .. id .. "\r\n")
  end

  local function list(qs)
    local f, err = query.filter(query.pairs(qs))
    if not f then return fail(400, err) end
    local out = {}
    for _, row in ipairs(st:find(query.where(f))) do
      local h = render.header(row)
      if not f.q or matches(h, f.q) then out[#out + 1] = h end
      if f.limit and #out >= f.limit then break end
    end
    return 200, "application/json", render.list(out) .. "\n"
  end

  -- GET /api/merge, /api/labels, /api/timeline: a selection of profiles as one
  local FLEET = { merge = { format = true, title = true }, labels = {}, timeline = { by = true, step = true } }
  local function many(what, qs)
    local f, err = query.filter(query.pairs(qs), FLEET[what])
    if not f then return fail(400, err) end
    if what == "labels" then return reply(200, fleet.labels(st, f)) end
    if what == "timeline" then
      local by, step = f.args.by or "host", f.args.step and tonumber(f.args.step)
      if not by:match("^[%w_.%-]+$") or #by > 64 then
        return fail(400, ("by: bad label name '%s'"):format(by:sub(1, 64)))
      end
      if f.args.step and (not step or step < 1 or step ~= math.floor(step) or step > 31622400) then
        return fail(400, ("step: expected whole seconds from 1 to 31622400, got '%s'"):format(f.args.step:sub(1, 64)))
      end
      return reply(200, fleet.timeline(st, f, by, step))
    end
    if f.kind and f.kind ~= "flamegraph" then return fail(400, "only flame graphs merge (kind=flamegraph)") end
    local format = f.args.format or "json"
    if f.args.title and #f.args.title > 256 then return fail(400, "title longer than 256 bytes") end
    local m = fleet.merge(st, f)
    if m.profiles == 0 and format ~= "json" then return fail(404, "no flame graph matches the selection") end
    local h = { kind = "flamegraph", title = f.args.title or ("%d profiles merged"):format(m.profiles),
      samples = m.samples, profiles = m.profiles, matched = m.matched, limit = f.limit or fleet.MAX_PROFILES,
      dropped_stacks = m.dropped_stacks, labels = query.labels_of(f), from = f.from, to = f.to, taken = m.taken }
    local body, ctype, msg = render.merged(m, h, format)
    if not body then return fail(ctype, msg) end
    if #body > 1048576 or m.profiles > 100 then ctx.collect() end
    return 200, ctype, body
  end

  local function one(req, id, q)
    local row = st:get(id)
    if req.method == "DELETE" then
      if not authorized(req) then return fail(401, "a valid 'Authorization: Bearer TOKEN' is needed", unauth) end
      if not row then return fail(404, "no profile " .. id) end
      st:delete(id)
      return 204, "text/plain", ""
    end
    if req.method ~= "GET" and req.method ~= "HEAD" then return fail(405, "GET or DELETE") end
    if not row then return fail(404, "no profile " .. id) end
    local body, ctype, msg = render.format(row, q.format or "json")
    if not body then return fail(ctype, msg) end
    if #body > 1048576 then ctx.collect() end
    return 200, ctype, body
  end

  return function(req)
    local path, qs = req.url:match("^([^?#]*)%??([^#]*)")
    local q, labels = query_of(qs or "")
    if path == "/api/profiles" then
      if req.method == "POST" then return upload(req, q, labels) end
      if req.method == "GET" or req.method == "HEAD" then return list(qs) end
      return fail(405, "GET or POST")
    end
    local what = path:match("^/api/(%a+)$")
    if what and FLEET[what] then
      if req.method ~= "GET" and req.method ~= "HEAD" then return fail(405, "GET") end
      return many(what, qs)
    end
    local id = path:match("^/api/profiles/(%d+)$")
    if id then return one(req, tonumber(id), q) end
    if req.method ~= "GET" and req.method ~= "HEAD" then return fail(405, "pages are read with GET") end
    if path == "/" or path:match("^/p/%d+$") or path == "/diff" or path == "/fleet" then
      return static("index.html")
    end
    local name = path:match("^/static/([%w_%-]+%.%w+)$")
    if name then return static(name) end
    return fail(404, "no such page: " .. path)
  end
end

-- ---------------------------------------------------------------- main

-- --add-token, --revoke-token, --list-tokens: manage agents' tokens.
function M.tokens(st, o)
  if o.add_token then
    if not o.add_token:match("^[%w_.%-]+$") then
      io.stderr:write("shark serve: --add-token: a name of letters, digits and _.- only\n")
      return shark.exit(2)
    end
    local t = new_token()
    st:meta(AGENT .. o.add_token, t)
    print(t)
  elseif o.revoke_token then
    if not st:meta(AGENT .. o.revoke_token) then
      io.stderr:write(("shark serve: no agent named %s has a token\n"):format(o.revoke_token))
      return shark.exit(1)
    end
    st.db:run("DELETE FROM meta WHERE key = ?", AGENT .. o.revoke_token)
    print(("revoked: %s"):format(o.revoke_token))
  else
    for _, a in ipairs(agent_tokens(st)) do print(a.name) end
  end
  st:close()
end

function M.main(args)
  local o = shark.getopt({
    name = "shark serve",
    usage = "[--listen ADDR:PORT] [--db FILE] [--token TOKEN]",
    about = "Keep flame graphs and latency heat maps uploaded by sharkcloud, curl or agents, and show\n" ..
      "them in a browser: zoom, search, top table, diff, sub-second offset heat maps. Reads are open to\n" ..
      "whoever reaches the address; uploads and deletes need the token.",
    { "l", "listen", "ADDR:PORT", ("where to listen (default 127.0.0.1:%d; port 0: any free one)")
      :format(M.DEFAULT_PORT), default = "127.0.0.1:" .. M.DEFAULT_PORT },
    { nil, "db", "FILE", "the SQLite file (default: $XDG_DATA_HOME/shark/shark.db, ~/.local/share/shark/" ..
      "shark.db, or /var/lib/shark/shark.db for root)" },
    { nil, "token", "TOKEN", "the token writes need (default: made at first start, kept in the database)" },
    { nil, "max-body", "MB", "the largest upload accepted, in MB", type = "number", default = 64 },
    { nil, "tls-cert", "FILE", "serve HTTPS with this PEM certificate (chain)" },
    { nil, "tls-key", "FILE", "... and its PEM private key" },
    { nil, "allow-plain", nil, "serve plain HTTP on an address that is not loopback (refused by default)" },
    { nil, "add-token", "NAME", "make a token for agent NAME (its uploads get label agent=NAME), print it, exit" },
    { nil, "revoke-token", "NAME", "revoke agent NAME's token (at once, also in a running server) and exit" },
    { nil, "list-tokens", nil, "list the agents that have a token and exit" },
    examples = { "shark serve", "shark serve --listen 0.0.0.0:7411 --db /srv/shark.db",
      "curl -H \"Authorization: Bearer $TOKEN\" --data-binary @out.folded " ..
      "'http://127.0.0.1:7411/api/profiles?kind=flamegraph&title=build&label.host=a'" },
  }, args)
  local host, port = M.parse_listen(o.listen)
  if not host then
    io.stderr:write(("shark serve: --listen wants ADDR:PORT, not '%s'\n"):format(o.listen))
    return shark.exit(2)
  end
  if o.token and not o.token:match("^[%w%-._~+/=]+$") then
    io.stderr:write("shark serve: --token: letters, digits and -._~+/= only\n")
    return shark.exit(2)
  end
  local path = o.db
  if not path then
    local dir = data_dir()
    mkdir_p(dir)
    path = dir .. "/shark.db"
  end
  -- private before SQLite opens it: it holds the token, and SQLite gives
  -- the -wal and -shm files the database file's mode
  local fd = uv.fs_open(path, "a", tonumber("600", 8))
  if fd then
    uv.fs_close(fd)
    uv.fs_chmod(path, tonumber("600", 8))
  end
  local st, err = store_mod.open(path)
  if not st then
    io.stderr:write("shark serve: ", err, "\n")
    return shark.exit(1)
  end
  if o.add_token or o.revoke_token or o.list_tokens then return M.tokens(st, o) end
  local loopback = host:match("^127%.") or host == "::1"
  if (o.tls_cert == nil) ~= (o.tls_key == nil) then
    io.stderr:write("shark serve: --tls-cert and --tls-key go together\n")
    return shark.exit(2)
  end
  if not loopback and not o.tls_cert and not o.allow_plain then
    io.stderr:write(("shark serve: %s is not loopback: tokens and profiles would cross the network in clear. "
      .. "Give --tls-cert and --tls-key, or --allow-plain to do it anyway\n"):format(host))
    return shark.exit(2)
  end
  local token = o.token or st:meta("token")
  if not token then
    token = st:meta("token", new_token())
    print(("token: %s (new; kept in %s)"):format(token, path))
  end
  local shown = host:find(":", 1, true) and "[" .. host .. "]" or host
  -- after a large request, a full collection once the loop is idle again:
  -- a 10 MB upload leaves ~80 MB of garbage that would otherwise stay
  local gc_timer = uv.new_timer()
  local ctx = { collect = function()
    gc_timer:start(200, 0, function()
      collectgarbage("collect")
      api.trim_memory()
    end)
  end }
  local srv, lerr = http.listen(host, port, o.max_body * 1024 * 1024, router(st, ctx, token))
  if not srv then
    io.stderr:write(("shark serve: cannot listen on %s:%d: %s\n"):format(shown, port, lerr))
    return shark.exit(1)
  end
  if o.tls_cert then
    local terr = srv:tls(o.tls_cert, o.tls_key)
    if terr then
      io.stderr:write("shark serve: ", terr, "\n")
      return shark.exit(1)
    end
  end
  local base = ("%s://%s:%d/"):format(o.tls_cert and "https" or "http", shown, srv:port())
  ctx.base = base
  if not loopback then
    shark.info(("shark serve: listening on %s, not loopback: anyone who reaches it can read every profile")
      :format(host))
  end
  print("serving " .. base)
  io.stdout:flush()
  shark.on_end(function() srv:close(); st:close() end)
end

return M
