-- SPDX-License-Identifier: GPL-2.0
-- payload.lua - a mutation loop over the bundle payload reader
-- (shark.bundle.decode): a real payload with bytes changed, cut, inserted or
-- lengths rewritten, for SECONDS (arg 1). It must give the entries or
-- nil and why, never raise or read past the end.
local bundle = require "shark.bundle"

local secs = tonumber(arg and arg[1] or (shark.args or {})[1]) or 10
local good = bundle.encode({ { "bpf/file/x.bpf.o", ("\127ELF"):rep(40) }, { "meta", '{"script":"t.lua"}' },
  { "module/workload", "return {}" }, { "script", "print(1)\n" } })

math.randomseed(os.time())
local function mutate(s)
  for _ = 1, math.random(1, 4) do
    local r, at = math.random(), math.random(1, math.max(1, #s))
    if r < 0.4 then
      s = s:sub(1, at - 1) .. string.char(math.random(0, 255)) .. s:sub(at + 1)
    elseif r < 0.55 then
      s = s:sub(1, at)
    elseif r < 0.7 then
      s = s:sub(1, at) .. string.char(math.random(0, 255)):rep(math.random(1, 8)) .. s:sub(at + 1)
    elseif r < 0.85 then
      s = s:gsub("%z(%d+)\n", function() return "\0" .. tostring(math.random(0, 2 ^ 31)) .. "\n" end, 1)
    else
      s = s:sub(1, at) .. s:sub(at + math.random(1, 16))
    end
  end
  return s
end

local t0, runs, refused, bad = shark.time(), 0, 0, 0
while shark.time() - t0 < secs * 1e9 do
  for _ = 1, 500 do
    local ok, files, why = pcall(bundle.decode, mutate(good))
    runs = runs + 1
    if not ok then
      bad = bad + 1
      io.stderr:write("decode raised: ", tostring(files), "\n")
    elseif not files then
      refused = refused + 1
      if type(why) ~= "string" then bad = bad + 1 end
    end
  end
end
print(("ok payload: %d payloads, %d refused, %d failures"):format(runs, refused, bad))
if bad > 0 then shark.exit(1) end
