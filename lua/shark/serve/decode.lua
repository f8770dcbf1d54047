-- SPDX-License-Identifier: GPL-2.0
-- shark/serve/decode.lua - what shark serve accepts as an upload, checked line by line.
--
-- Flame graphs: folded stacks, "root;frame;...;leaf COUNT" per line, or, for
-- the sub-second offset heat map, timed lines "@SECONDS root;...;leaf COUNT"
-- (SECONDS: when the samples were taken, any origin, fractions allowed); both
-- may mix. A gzip body (1f 8b) is a pprof profile (shark.pprof).
-- Heat maps: the original shark's rows, "TIME LATENCY" per line, both in
-- microseconds, with an optional third column COUNT (default 1).
-- A malformed body gives nil and "line N: what is wrong": nothing is kept.
local core = require "shark.core"

local M = {}

local MAX_FRAMES = 4096

local function bad(n, what, line)
  local shown = #line > 60 and line:sub(1, 57) .. "..." or line
  return nil, ("line %d: %s: %q"):format(n, what, shown)
end

local byte = string.byte
local SEMI = byte(";")

local function check_stack(stack)
  if stack == "" then return "empty stack" end
  if stack:find(";;", 1, true) or byte(stack, 1) == SEMI or byte(stack, -1) == SEMI then
    return "empty frame name"
  end
  if #stack > 2 * MAX_FRAMES then   -- only a long stack can have too many frames
    local _, n = stack:gsub(";", "")
    if n >= MAX_FRAMES then return "more than " .. MAX_FRAMES .. " frames" end
  end
end

-- Without a pattern that backtracks: a line of a million blanks costs O(n).
local function trim(line)
  local a, b = byte(line, 1), byte(line, -1)
  if a and a > 32 and b > 32 then return line end   -- the common case: nothing to trim
  a = line:find("%S")
  if not a then return "" end
  local _, e = line:find(".*%S", a)
  return line:sub(a, e)
end

local function count_of(s)
  local c = tonumber(s)
  if not c or c ~= c or c < 0 or c >= 2 ^ 53 or c ~= math.floor(c) then return nil end
  return c
end

-- Blanks as Lua's %s; bytes scanned one by one (string.byte, find with
-- plain = true and sub are compiled by the JIT, gmatch and match are not).
local find, sub = string.find, string.sub
local BLANK = { [9] = true, [10] = true, [11] = true, [12] = true, [13] = true, [32] = true }
local AT, HASH = byte("@"), byte("#")

local function check_frames(text, a, b)
  for i = a, b do
    if byte(text, i) < 32 or byte(text, i) == 127 then return "control character in a frame name" end
  end
end

-- check_stack on text[a..b] in one pass, without making the string.
local function check_region(text, a, b)
  local prev, semis = SEMI, 0
  for i = a, b do
    local ch = byte(text, i)
    if ch < 32 or ch == 127 then return "control character in a frame name" end
    if ch == SEMI then
      if prev == SEMI then return "empty frame name" end
      semis = semis + 1
    end
    prev = ch
  end
  if prev == SEMI then return "empty frame name" end
  if semis >= MAX_FRAMES then return "more than " .. MAX_FRAMES .. " frames" end
end

-- folded(text, [check]) -> { stacks = { [stack] = count }, order = { stack, ... } (as first
--   seen), timed = { t, stack, count, ... } or nil, samples = total } or nil, message.
-- check: only say whether text is good, and its samples (no tables, no strings
-- of stacks: an upload is checked without a garbage heap the size of the body).
function M.folded(text, check)
  local stacks, order, timed, samples, n = {}, {}, nil, 0, 0
  local pos, len = 1, #text
  while pos <= len + 1 do
    local e = find(text, "\n", pos, true) or len + 1
    n = n + 1
    local a, b = pos, e - 1
    while a <= b and BLANK[byte(text, a)] do a = a + 1 end
    while b >= a and BLANK[byte(text, b)] do b = b - 1 end
    if a <= b and byte(text, a) ~= HASH then
      local t
      if byte(text, a) == AT then
        local s = a + 1
        while s <= b and not BLANK[byte(text, s)] do s = s + 1 end
        t = tonumber(sub(text, a + 1, s - 1))
        if not t or t ~= t or t < 0 or t == math.huge or s > b then
          return bad(n, "expected '@SECONDS stack count'", sub(text, a, b))
        end
        a = s
        while BLANK[byte(text, a)] do a = a + 1 end
      end
      local c = b
      while c >= a and not BLANK[byte(text, c)] do c = c - 1 end
      if c < a then return bad(n, "expected 'frame;frame;... count'", sub(text, a, b)) end
      local count = count_of(sub(text, c + 1, b))
      if not count then return bad(n, "the count is not a whole number", sub(text, a, b)) end
      while BLANK[byte(text, c)] do c = c - 1 end
      local why = check_region(text, a, c)
      if why then return bad(n, why, sub(text, a, b)) end
      samples = samples + count
      local stack = not check and sub(text, a, c)
      if stack then
        local had = stacks[stack]
        if not had then order[#order + 1] = stack end
        stacks[stack] = (had or 0) + count
      end
      if t and stack then
        timed = timed or {}
        timed[#timed + 1] = t
        timed[#timed + 1] = stack
        timed[#timed + 1] = count
      end
    end
    pos = e + 1
  end
  if samples == 0 then return nil, "no samples in the body (no stack with a count above 0)" end
  if check then return { samples = samples } end
  return { stacks = stacks, order = order, timed = timed, samples = samples }
end

-- heatmap(text, [check]) -> { rows = { t, latency, count, ... }, samples = total } or nil,
-- message (check: no rows kept)
function M.heatmap(text, check)
  local rows, samples, n = {}, 0, 0
  for line in text:gmatch("[^\n]*") do
    n = n + 1
    line = trim(line)
    if line ~= "" and line:sub(1, 1) ~= "#" then
      local f = {}
      for w in line:gmatch("%S+") do
        f[#f + 1] = w
        if #f > 3 then break end
      end
      if #f < 2 or #f > 3 then return bad(n, "expected 'TIME LATENCY [COUNT]'", line) end
      local a, b, c = f[1], f[2], f[3] or ""
      local t, lat = tonumber(a), tonumber(b)
      if not t or t ~= t or t < 0 or t == math.huge then return bad(n, "TIME is not a number >= 0", line) end
      if not lat or lat ~= lat or lat < 0 or lat == math.huge then
        return bad(n, "LATENCY is not a number >= 0", line)
      end
      local cnt = 1
      if c ~= "" then
        cnt = count_of(c)
        if not cnt then return bad(n, "COUNT is not a whole number", line) end
      end
      if not check then
        rows[#rows + 1] = t
        rows[#rows + 1] = lat
        rows[#rows + 1] = cnt
      end
      samples = samples + cnt
    end
  end
  if samples == 0 then return nil, "no rows in the body (or every COUNT is 0)" end
  return { rows = rows, samples = samples }
end

-- pprof(bytes): through shark.pprof (the exports module), when this shark has it.
function M.pprof(bytes)
  local pprof = require "shark.pprof"
  local ok2, stacks, err = pcall(pprof.decode, bytes)
  -- shark's stop (SIGTERM, shark.exit) unwinds Lua as an error: it is no
  -- fault of the upload, and answered 400 an agent would drop the profile
  if not ok2 and stacks == core.sentinel then error(stacks, 0) end
  if not ok2 then return nil, "not a pprof profile: " .. tostring(stacks) end
  if not stacks then return nil, "not a pprof profile: " .. tostring(err) end
  -- a traced system names its frames as it likes (a thread may call itself
  -- "a\tb;c"): what folded text cannot hold is written so it can, rather
  -- than the profile refused - an agent would lose it
  for _, f in ipairs(stacks.frames or {}) do
    local name = f.name
    if name == nil or name == "" then f.name = "[unknown]"
    elseif find(name, "[%c;\127]") then
      f.name = name:gsub(";", ":"):gsub("[%c\127]", function(ch) return ("\\x%02x"):format(ch:byte()) end)
    end
  end
  local counts, samples = {}, 0
  for s, c in pairs(require("flame").counts(stacks)) do
    local why
    if type(s) ~= "string" then why = "a stack that is not text"
    elseif type(c) ~= "number" or c < 0 or c ~= math.floor(c) then why = "a count that is not a whole number"
    else
      -- as folded text would read it back: no blanks around the stack, and
      -- no '@' or '#' opening it (a timed line, a comment)
      s = trim(s):gsub("^[@#]", "_")
      why = check_stack(s) or check_frames(s, 1, #s)
    end
    if why then return nil, "pprof: " .. why end
    counts[s] = (counts[s] or 0) + c
    samples = samples + c
  end
  if samples == 0 then return nil, "no samples in the pprof profile" end
  -- when the samples were taken, as the profile says (seconds)
  local t = stacks.time_ns and stacks.time_ns > 0 and stacks.time_ns / 1e9 or nil
  return { stacks = counts, samples = samples, from_pprof = true, time = t }
end

-- An upload of kind ("flamegraph" | "heatmap") -> profile or nil, message.
-- check: text formats are only checked (see M.folded); pprof is decoded.
function M.upload(kind, body, check)
  if kind == "heatmap" then return M.heatmap(body, check) end
  if kind ~= "flamegraph" then return nil, "kind must be flamegraph or heatmap" end
  -- pprof: gzipped (what go tool pprof and shark write), or a bare protobuf
  if body:sub(1, 2) == "\31\139" or body:sub(1, 256):find("%z") then return M.pprof(body) end
  return M.folded(body, check)
end

-- ------------------------------------------------------------ canonical text

local function num(x)
  if x == math.floor(x) and x < 2 ^ 53 then return ("%d"):format(x) end
  return ("%.17g"):format(x)   -- exact: decodes to the same number
end

-- The stored form: folded lines sorted by stack (the samples without a
-- time), then the timed lines; decoding it again gives the same profile.
function M.encode(kind, p)
  local out = {}
  if kind == "heatmap" then
    local r = p.rows
    for i = 1, #r, 3 do out[#out + 1] = num(r[i]) .. " " .. num(r[i + 1]) .. " " .. num(r[i + 2]) end
    return table.concat(out, "\n") .. "\n"
  end
  local plain, t = {}, p.timed or {}
  for k, c in pairs(p.stacks) do plain[k] = c end
  for i = 1, #t, 3 do plain[t[i + 1]] = plain[t[i + 1]] - t[i + 2] end
  local keys = {}
  for k, c in pairs(plain) do if c > 0 then keys[#keys + 1] = k end end
  table.sort(keys)
  for i, k in ipairs(keys) do out[i] = k .. " " .. num(plain[k]) end
  for i = 1, #t, 3 do out[#out + 1] = "@" .. num(t[i]) .. " " .. t[i + 1] .. " " .. num(t[i + 2]) end
  return table.concat(out, "\n") .. "\n"
end

return M
