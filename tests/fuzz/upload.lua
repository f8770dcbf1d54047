-- SPDX-License-Identifier: GPL-2.0
-- upload.lua - mutation fuzzing of shark serve's upload decoders (folded,
-- timed folded, heat-map rows, pprof): seeds are mutated (bytes flipped,
-- inserted, deleted, duplicated, spliced, numbers made extreme) for SECONDS.
-- A crash is a decoder that raises instead of returning nil, message, or an
-- accepted body whose stored form does not decode back to the same profile.
-- usage: shark tests/fuzz/upload.lua [SECONDS] [SEED]   (TAP output)
local decode = require "shark.serve.decode"
local api = require "shark.api"

local seconds = tonumber(arg[1]) or 5
math.randomseed(tonumber(arg[2]) or tonumber(api.time_ns() % 1000000007))

local pprof = require "shark.pprof"
local seeds = {
  { "flamegraph", "main;foo;bar 10\nmain;foo 5\nmain;baz 2\n" },
  { "flamegraph", "@1.5 main;a 1\n@1.75 main;b 2\nmain;c 3\n# comment\n\n" },
  { "flamegraph", "fpchain;__libc_start_call_main;main;mid;leaf 14\r\nx 1" },
  { "flamegraph", "main;<script>alert(1)</script> 3\nmain;operator new(unsigned long) 4\n" },
  { "heatmap", "1000 12\n2000 40\n1500000 900 3\n" },
  { "heatmap", "0 0 2993\n0 1 2\n  7.5 1e3 1\n# x\n" },
}
do
  local ok, bytes = pcall(pprof.encode, { ["main;foo;bar"] = 10, ["main;baz"] = 3 }, {})
  if ok and type(bytes) == "string" then
    seeds[#seeds + 1] = { "flamegraph", bytes }
    -- the bare profile.proto too (a gzip seed mostly fails its checksum once
    -- mutated; this one reaches protobuf-c's unpacking)
    local gz, raw = os.tmpname(), os.tmpname()
    local f = io.open(gz, "wb")
    f:write(bytes)
    f:close()
    if os.execute(("gzip -dc <%s >%s 2>/dev/null"):format(gz, raw)) == 0 then
      f = io.open(raw, "rb")
      local pb = f:read("*a")
      f:close()
      if #pb > 0 and pb:sub(1, 256):find("%z") then seeds[#seeds + 1] = { "flamegraph", pb } end
    end
    os.remove(gz)
    os.remove(raw)
  end
end

local alphabet = { ";", "\n", " ", "@", "-", ".", "e", "0", "9", "\0", "\r", "\t", "#", "\31", "\139", "x",
  "1e309", "nan", "inf", "-1", "9007199254740993", ";;" }

local function mutate(s)
  local n = math.random(1, 4)
  for _ = 1, n do
    local len, op = #s, math.random(1, 7)
    local at = math.random(1, len + 1)
    if op == 1 and len > 0 then          -- flip a byte
      s = s:sub(1, at - 1) .. string.char(math.random(0, 255)) .. s:sub(at + 1)
    elseif op == 2 then                  -- insert a token
      s = s:sub(1, at - 1) .. alphabet[math.random(#alphabet)] .. s:sub(at)
    elseif op == 3 and len > 0 then      -- delete a range
      s = s:sub(1, at - 1) .. s:sub(at + math.random(1, 8))
    elseif op == 4 and len > 0 then      -- duplicate a range
      local e = math.min(len, at + math.random(0, 16))
      s = s:sub(1, e) .. s:sub(at, e) .. s:sub(e + 1)
    elseif op == 5 then                  -- splice another seed
      local o = seeds[math.random(#seeds)][2]
      s = s:sub(1, at - 1) .. o:sub(math.random(1, #o))
    elseif op == 6 then                  -- an extreme number
      s = s:gsub("%d+", alphabet[math.random(17, #alphabet)], 1)
    else                                 -- a long line
      s = s:sub(1, at - 1) .. ("a;"):rep(math.random(1, 3000)) .. s:sub(at)
    end
  end
  return s
end

local runs, accepted, crashes, raised_pprof, pprof_ok = 0, 0, 0, 0, 0
local function crash(kind, input, why)
  crashes = crashes + 1
  if crashes <= 3 then
    local path = ("/tmp/shark-fuzz-crash-%d.bin"):format(crashes)
    local f = io.open(path, "wb")
    if f then f:write(input); f:close() end
    print(("# crash (%s): %s; input in %s"):format(kind, tostring(why):sub(1, 200), path))
  end
end

local deadline = api.time_ns() + seconds * 1e9
while api.time_ns() < deadline do
  for _ = 1, 200 do
    local seed = seeds[math.random(#seeds)]
    local input = mutate(seed[2])
    for _, kind in ipairs({ "flamegraph", "heatmap" }) do
      runs = runs + 1
      local ok, p, err = pcall(decode.upload, kind, input)
      local okc, pc, errc = pcall(decode.upload, kind, input, true)
      if not ok or not okc then
        crash(kind, input, ok and pc or p)
      elseif (p and p.samples) ~= (pc and pc.samples) or err ~= errc then
        crash(kind, input, ("checking and decoding disagree: %s / %s"):format(tostring(err), tostring(errc)))
      elseif p then
        accepted = accepted + 1
        local text = decode.encode(kind, p)
        local ok2, q = pcall(decode.upload, kind, text)
        if not ok2 or not q or q.samples ~= p.samples or decode.encode(kind, q) ~= text then
          crash(kind, input, "the stored form does not decode back: " .. tostring(q))
        end
      elseif type(err) ~= "string" then
        crash(kind, input, "no message")
      end
    end
    local ok, r = pcall(pprof.decode, input)
    if not ok then raised_pprof = raised_pprof + 1 elseif r then pprof_ok = pprof_ok + 1 end
  end
end

print(((crashes > 0 and "not ok" or "ok") .. " 1 - %d decodes of mutated uploads in %g s (%d accepted), %d crashes")
  :format(runs, seconds, accepted, crashes))
print(("%s 2 - shark.pprof.decode on the same inputs (%d of them decoded, %d seeds): %d raised an error " ..
  "instead of returning nil, message"):format(raised_pprof == 0 and "ok" or "not ok", pprof_ok, #seeds, raised_pprof))
print("1..2")
if crashes > 0 or raised_pprof > 0 then shark.exit(1) end
