-- SPDX-License-Identifier: GPL-2.0
-- perf/stack.lua - callchains: symbolized once per distinct stack, interned
-- as Lua strings so they can key a table (profile[e.callchain] += 1).
local ffi = require "ffi"
local api = require "shark.api"

local M = {}

-- PERF_CONTEXT_* markers in a callchain
local CONTEXT_KERNEL = 0xffffffffffffff80ULL
local CONTEXT_USER = 0xfffffffffffffe00ULL
local CONTEXT_MAX = 0xfffffffffffff001ULL

local cache = {}      -- stack_key -> string
local NAMEBUF = 512
local namebuf = ffi.new("char[?]", NAMEBUF)

local function sym(ip, pid, kernel)
  local n = api.symbolize(kernel and -1 or pid, ip, namebuf, NAMEBUF)
  if n > 0 then return ffi.string(namebuf, n) end
  return "[unknown]"
end

-- Frames leaf first: { {ip = uint64 cdata, sym = "name", kernel = bool}, ... }
function M.frames(e)
  local out, kernel = {}, true
  local ips, pid = e.ips, e.pid
  for i = 0, e.nr_ips - 1 do
    local ip = ips[i]
    if ip >= CONTEXT_MAX then
      if ip == CONTEXT_KERNEL then kernel = true elseif ip == CONTEXT_USER then kernel = false end
    else
      out[#out + 1] = { ip = ip, sym = sym(ip, pid, kernel), kernel = kernel }
    end
  end
  return out
end

-- The callchain of e as one string, a frame per line, leaf first.
function M.intern(e)
  local key = e.stack_key
  if key == 0 then return nil end
  key = tonumber(key)
  local s = cache[key]
  if s then return s end
  local names = {}
  for _, f in ipairs(M.frames(e)) do names[#names + 1] = f.sym end
  s = table.concat(names, "\n")
  cache[key] = s
  return s
end

return M
