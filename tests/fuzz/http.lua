-- SPDX-License-Identifier: GPL-2.0
-- http.lua - mutated HTTP requests against a running `shark serve` (its C
-- server: libuv + http-parser, then the Lua router and the decoders): valid
-- requests with bytes flipped, inserted, deleted, duplicated; pipelined and
-- cut requests. At the end the server must still answer. Run the server
-- built with -fsanitize=address to catch memory errors.
-- usage: shark tests/fuzz/http.lua PORT TOKEN [SECONDS] [SEED]   (TAP output)
local uv = require "uv"
local api = require "shark.api"
local ffi = require "ffi"

local port, token, seconds = tonumber(arg[1]), arg[2], tonumber(arg[3]) or 10
math.randomseed(tonumber(arg[4]) or tonumber(api.time_ns() % 1000000007))
assert(port and token, "usage: http.lua PORT TOKEN [SECONDS] [SEED]")

local function req(method, path, body, extra)
  body = body or ""
  return ("%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n%s\r\n%s")
    :format(method, path, token, #body, extra or "", body)
end
local seeds = {
  req("GET", "/api/profiles"),
  req("GET", "/api/profiles?q=a%20b&x=%zz"),
  req("POST", "/api/profiles?kind=flamegraph&title=f%3Cx&label.a=b", "main;a;b 3\nmain;c 1\n@1.5 main;d 2\n"),
  req("POST", "/api/profiles?kind=heatmap&title=h", "1000 12\n2000 40 3\n"),
  req("GET", "/api/profiles/1?format=svg") .. req("GET", "/p/1"),
  "POST /api/profiles?kind=flamegraph HTTP/1.1\r\nAuthorization: Bearer " .. token ..
    "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nmain \r\n2\r\n1\n\r\n0\r\n\r\n",
  req("DELETE", "/api/profiles/999999"),
  req("GET", "/static/app.js", nil, "Expect: 100-continue\r\n"),
}

local function mutate(s)
  for _ = 1, math.random(1, 6) do
    local len, at = #s, math.random(1, #s + 1)
    local op = math.random(1, 5)
    if op == 1 and len > 0 then
      s = s:sub(1, at - 1) .. string.char(math.random(0, 255)) .. s:sub(at + 1)
    elseif op == 2 then
      local tok = ({ "\r\n", ":", " ", "%", "?", "&", "=", ";", "\0", "9999999999", "-1", "chunked" })[math.random(12)]
      s = s:sub(1, at - 1) .. tok .. s:sub(at)
    elseif op == 3 then
      s = s:sub(1, at - 1) .. s:sub(at + math.random(1, 10))
    elseif op == 4 and len > 0 then
      local e = math.min(len, at + math.random(0, 40))
      s = s:sub(1, e) .. s:sub(at, e) .. s:sub(e + 1)
    else
      s = s:sub(1, math.random(0, len))   -- cut short
    end
  end
  return s
end

local sent, answered, statuses = 0, 0, {}
local deadline = uv.now() + seconds * 1000

local function one()
  if uv.now() >= deadline then return false end
  local input = mutate(seeds[math.random(#seeds)])
  local tcp = uv.new_tcp()
  local got, done = {}, false
  local timer = uv.new_timer()
  local function finish()
    if done then return end
    done = true
    timer:stop(); timer:close()
    if not tcp:is_closing() then tcp:close() end
    local head = table.concat(got):match("^HTTP/1%.1 (%d+)")
    if head then
      answered = answered + 1
      statuses[head] = (statuses[head] or 0) + 1
    end
    one()
  end
  tcp:connect("127.0.0.1", port, function(cerr)
    if cerr then return finish() end
    sent = sent + 1
    tcp:write(input)
    tcp:shutdown()
    tcp:read_start(function(rerr, data)
      if rerr or not data then return finish() end
      got[#got + 1] = data
    end)
  end)
  timer:start(2000, 0, finish)   -- a cut request waits for more: give up
  return true
end

-- a few connections at once
for _ = 1, 4 do one() end

shark.on_end(function()
  local resp, status = ffi.new("char[256]"), ffi.new("int32_t[1]")
  local n = api.http_request("GET", ("http://127.0.0.1:%d/api/profiles"):format(port), nil, nil, 0, 5000,
    resp, 256, status)
  local codes = {}
  for k, v in pairs(statuses) do codes[#codes + 1] = k .. ": " .. v end
  table.sort(codes)
  print(("# %d mutated requests sent, %d answered (%s)"):format(sent, answered, table.concat(codes, ", ")))
  print(((n >= 0 and status[0] == 200) and "ok" or "not ok") ..
    (" 1 - shark serve still answers after %d mutated requests"):format(sent))
  print(((statuses["500"] or 0) == 0 and "ok" or "not ok") .. " 2 - no request made the server fail (500)")
  print("1..2")
end)
