-- SPDX-License-Identifier: GPL-2.0
-- shark/frames.lua - a sampled address as a frame of the stacks shape
-- (shark/stacks.lua): its function, and where it lives (module, build-id,
-- mapping), cached per process and address.
local ffi = require "ffi"
local api = require "shark.api"

local M = {}

local NAMEBUF = 512
local namebuf = ffi.new("char[?]", NAMEBUF)
local info = ffi.new("struct shark_frame_info")
local cache = {}

-- An address as a plain value: a number when exact (user space), else
-- "0x…" (kernel addresses are above 2^53).
function M.addr_value(ip)
  if ip < 0x20000000000000ULL then return tonumber(ip) end
  return ("0x%016x"):format(ip)
end

-- "0x…" or a number or a uint64 cdata -> uint64 cdata
function M.addr_u64(a)
  if type(a) == "cdata" then return ffi.cast("uint64_t", a) end
  if type(a) == "string" then
    local hex = a:gsub("^0x", "")
    local hi, lo = tonumber(hex:sub(1, -9), 16) or 0, tonumber(hex:sub(-8), 16) or 0
    return ffi.cast("uint64_t", hi) * 4294967296ULL + lo
  end
  return ffi.cast("uint64_t", a or 0)
end

local function str(p)
  if p == nil then return nil end
  local s = ffi.string(p)
  return s ~= "" and s or nil
end

-- The frame of ip (a uint64) in process pid (kernel: a kernel address):
-- { name, addr, kernel, module, build_id, map = {start, limit, offset} }.
-- Frames are shared between calls: do not modify them.
local KBASE = 0xffff000000000000ULL

function M.describe(pid, ip, kernel)
  pid = kernel and -1 or pid
  -- numbers, exact: user addresses are below 2^47, kernel ones above KBASE
  local key = ip >= KBASE and tonumber(ip - KBASE) or tonumber(ip)
  local per = cache[pid]
  if not per then
    per = {}
    cache[pid] = per
  end
  local f = per[key]
  if f then return f end
  local n = api.symbolize(pid, ip, namebuf, NAMEBUF)
  f = { name = n > 0 and ffi.string(namebuf, n) or "[unknown]", addr = M.addr_value(ip), kernel = kernel or nil }
  if api.sym_frame(pid, ip, info) == 0 then
    f.module, f.build_id = str(info.module), str(info.build_id)
    f.map = { start = M.addr_value(info.start), limit = M.addr_value(info.limit), offset = tonumber(info.offset) }
  end
  per[key] = f
  return f
end

-- Forget what was not used in the last `keep` sweeps (processes, files,
-- symbol tables; frames here are all forgotten): an always-on profiler
-- sweeps after each window, so its memory follows what runs now. The freed
-- heap goes back to the system.
function M.sweep(keep)
  cache = {}
  api.sym_sweep(keep or 2)
  collectgarbage()
  api.trim_memory()
end

-- What the symbol caches hold: { procs, dsos, tables, symbols, bytes,
-- sweeps, evicted_procs, evicted_tables, evicted_dsos } (numbers).
function M.stats()
  local st = ffi.new("struct shark_sym_stats")
  api.sym_stats(st)
  local out = {}
  for _, k in ipairs { "procs", "dsos", "tables", "symbols", "bytes", "sweeps", "evicted_procs",
    "evicted_tables", "evicted_dsos" } do
    out[k] = tonumber(st[k])
  end
  return out
end

return M
