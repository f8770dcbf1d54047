-- SPDX-License-Identifier: GPL-2.0
-- http.lua - mutated HTTP requests against a running `shark serve` (its C
-- server: libuv + http-parser, then the Lua router and the decoders): valid
-- requests with bytes flipped, inserted, deleted, duplicated; pipelined and
-- cut requests. At the end the server must still answer, and when this
-- script started it, end cleanly on SIGTERM. A server built with
-- -fsanitize=address (make asan) catches memory errors too.
-- usage: shark tests/fuzz/http.lua [SECONDS [PORT TOKEN [SEED]]]   (TAP output)
-- Without PORT it starts `shark serve` itself (the same binary) on a free port.
local uv = require "uv"
local api = require "shark.api"
local ffi = require "ffi"

local seconds, port, token = tonumber(arg[1]) or 10, tonumber(arg[2]), arg[3]
math.randomseed(tonumber(arg[4]) or tonumber(api.time_ns() % 1000000007))

local function req(method, path, body, extra)
  body = body or ""
  return ("%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n%s\r\n%s")
    :format(method, path, token, #body, extra or "", body)
end
local seeds
local function make_seeds() seeds = {
  req("GET", "/api/profiles"),
  req("GET", "/api/profiles?q=a%20b&x=%zz"),
  req("POST", "/api/profiles?kind=flamegraph&title=f%3Cx&label.a=b", "main;a;b 3\nmain;c 1\n@1.5 main;d 2\n"),
  req("POST", "/api/profiles?kind=heatmap&title=h", "1000 12\n2000 40 3\n"),
  req("GET", "/api/profiles/1?format=svg") .. req("GET", "/p/1"),
  "POST /api/profiles?kind=flamegraph HTTP/1.1\r\nAuthorization: Bearer " .. token ..
    "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nmain \r\n2\r\n1\n\r\n0\r\n\r\n",
  req("DELETE", "/api/profiles/999999"),
  req("GET", "/static/app.js", nil, "Expect: 100-continue\r\n"),
} end

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

local sent, answered, statuses, inflight, failed = 0, 0, {}, 0, 0
local deadline, child, child_status, dir, final, on_child_exit

local function tap(ok, text)
  if not ok then failed = failed + 1 end
  print((ok and "ok " or "not ok ") .. text)
end

local function one()
  if uv.now() >= deadline then
    if inflight == 0 and final then
      local f = final
      final = nil
      f()
    end
    return false
  end
  inflight = inflight + 1
  local input = mutate(seeds[math.random(#seeds)])
  local tcp = uv.new_tcp()
  local got, done = {}, false
  local timer = uv.new_timer()
  local function finish()
    if done then return end
    done = true
    inflight = inflight - 1
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

-- After the last answer: does the server still answer, did anything fail,
-- and (when it is ours) does it end cleanly?
final = function()
  local resp, status = ffi.new("char[256]"), ffi.new("int32_t[1]")
  local n = api.http_request("GET", ("http://127.0.0.1:%d/api/profiles"):format(port), nil, nil, 0, 5000,
    resp, 256, status)
  local codes = {}
  for k, v in pairs(statuses) do codes[#codes + 1] = k .. ": " .. v end
  table.sort(codes)
  print(("# %d mutated requests sent, %d answered (%s)"):format(sent, answered, table.concat(codes, ", ")))
  tap(n >= 0 and status[0] == 200, ("1 - shark serve still answers after %d mutated requests"):format(sent))
  tap((statuses["500"] or 0) == 0, "2 - no request made the server fail (500)")
  if not child then
    print("1..2")
    return shark.exit(failed > 0 and 1 or 0)
  end
  local t = uv.new_timer()
  on_child_exit = function()
    t:close()
    os.remove(dir .. "/db")
    os.remove(dir .. "/db-wal")
    os.remove(dir .. "/db-shm")
    uv.fs_rmdir(dir)
    local st = child_status or {}
    tap(st.code == 0 and st.signal == 0, ("3 - shark serve ended cleanly on SIGTERM (exit %s, signal %s)")
      :format(tostring(st.code), tostring(st.signal)))
    print("1..3")
    shark.exit(failed > 0 and 1 or 0)
  end
  if child_status then return on_child_exit() end   -- it ended already: a crash
  t:start(10000, 0, function() child_status = { code = "none in 10 s" }; on_child_exit() end)
  child:kill("sigterm")
end

-- our own server when none is given: its exit status tells a crash
local function start(fn)
  if port then return fn() end
  dir = os.tmpname()
  os.remove(dir)
  uv.fs_mkdir(dir, tonumber("700", 8))
  token = "fuzz-token"
  local out = uv.new_pipe(false)
  local buf = ""
  child = uv.spawn(uv.exepath(), { args = { "serve", "--listen", "127.0.0.1:0", "--db", dir .. "/db",
    "--token", token, "--max-body", "1" }, stdio = { nil, out, 2 } }, function(code, sig)
    if child_status then return end
    child_status = { code = code, signal = sig }
    if on_child_exit then on_child_exit() end
  end)
  assert(child, "cannot start shark serve")
  out:read_start(function(_, data)
    if not data then return end
    buf = buf .. data
    local p = buf:match("serving http://127%.0%.0%.1:(%d+)/")
    if p and not port then
      port = tonumber(p)
      out:read_stop()
      out:close()
      fn()
    end
  end)
end

start(function()
  make_seeds()
  deadline = uv.now() + seconds * 1000
  for _ = 1, 4 do one() end   -- a few connections at once
end)
