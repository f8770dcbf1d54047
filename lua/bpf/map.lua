-- SPDX-License-Identifier: GPL-2.0
-- bpf/map.lua - BPF maps as Lua tables: m[k], m[k] = v, m[k] = nil, pairs(m),
-- #m, m:items(), m:take(), m:clear(), m:delete(k). Keys and values are typed from BTF.
-- A map is a userdata so that # and pairs work on a LuaJIT without 5.2
-- compatibility (shark's pairs honours __pairs).
local ffi = require "ffi"
local api = require "shark.api"
local btf = require "bpf.btf"

local M = {}

-- enum bpf_map_type values that change how values look
local TYPE = { HASH = 1, ARRAY = 2, PROG_ARRAY = 3, PERF_EVENT_ARRAY = 4, PERCPU_HASH = 5, PERCPU_ARRAY = 6,
  STACK_TRACE = 7, LRU_HASH = 9, LRU_PERCPU_HASH = 10, RINGBUF = 27 }
M.TYPE = TYPE

local state = setmetatable({}, { __mode = "k" })
local methods = {}
local mt = {}

local function percpu(t)
  return t == TYPE.PERCPU_HASH or t == TYPE.PERCPU_ARRAY or t == TYPE.LRU_PERCPU_HASH
end

local function S(m)
  local s = state[m]
  if not s then error("not a bpf map", 3) end
  return s
end

-- Raise a map error at the user's line.
local function fail(s, what, rc)
  error(("bpf map '%s': %s: %s"):format(s.name, what, ffi.string(api.strerror(-rc))), 3)
end

local function put_key(s, k)
  local ok, err = pcall(s.key.put, s.kbuf, k)
  if not ok then error(("bpf map '%s': bad key: %s"):format(s.name, err), 4) end
  return s.kbuf
end

-- Value at the key buffer, or nil when absent.
local function lookup(s, kbuf)
  local rc = api.bpf_map_lookup(s.fd, kbuf, s.vbuf)
  if rc == -2 then return nil end
  if rc < 0 then fail(s, "lookup", rc) end
  if not s.ncpus then return s.val.get(s.vbuf) end
  local per = {}
  for c = 0, s.ncpus - 1 do per[c + 1] = s.val.get(s.vbuf + c * s.stride) end
  return setmetatable(per, M.PerCPU)
end

-- Per-CPU values: a table {cpu0, cpu1, ...} with :sum().
M.PerCPU = { __index = {
  sum = function(t)
    local total = 0
    for _, v in ipairs(t) do total = total + v end
    return total
  end,
} }

function methods:get(k)
  local s = S(self)
  return lookup(s, put_key(s, k))
end

function methods:set(k, v)
  local s = S(self)
  local kbuf = put_key(s, k)
  if v == nil then return self:delete(k) end
  local ok, err
  if s.ncpus then
    for c = 0, s.ncpus - 1 do
      local x = type(v) == "table" and getmetatable(v) == M.PerCPU and v[c + 1] or v
      ok, err = pcall(s.val.put, s.vbuf + c * s.stride, x)
      if not ok then break end
    end
  else
    ok, err = pcall(s.val.put, s.vbuf, v)
  end
  if not ok then error(("bpf map '%s': bad value: %s"):format(s.name, err), 3) end
  local rc = api.bpf_map_update(s.fd, kbuf, s.vbuf, 0)
  if rc < 0 then fail(s, "update", rc) end
end

-- Remove k; true if it was there. (Arrays cannot delete: their entries zero.)
function methods:delete(k)
  local s = S(self)
  local kbuf = put_key(s, k)
  if s.type == TYPE.ARRAY or s.type == TYPE.PERCPU_ARRAY then
    ffi.fill(s.vbuf, s.vsize)
    local rc = api.bpf_map_update(s.fd, kbuf, s.vbuf, 0)
    if rc < 0 then fail(s, "clear entry", rc) end
    return true
  end
  local rc = api.bpf_map_delete(s.fd, kbuf)
  if rc == -2 then return false end
  if rc < 0 then fail(s, "delete", rc) end
  return true
end

-- Every key now (a snapshot: safe while the kernel or the loop changes the map).
local function keys(s)
  local out = {}
  local cur, nxt = nil, ffi.new("uint8_t[?]", s.ksize)
  local prev = ffi.new("uint8_t[?]", s.ksize)
  for _ = 1, s.max_entries + 1 do
    local rc = api.bpf_map_next_key(s.fd, cur, nxt)
    if rc == -2 then break end
    if rc < 0 then fail(s, "iterate", rc) end
    local copy = ffi.new("uint8_t[?]", s.ksize)
    ffi.copy(copy, nxt, s.ksize)
    out[#out + 1] = copy
    ffi.copy(prev, nxt, s.ksize)
    cur = prev
  end
  return out
end

-- { {k, v}, ... } of every entry.
function methods:items()
  local s = S(self)
  local out = {}
  for _, kb in ipairs(keys(s)) do
    local v = lookup(s, kb)
    if v ~= nil then out[#out + 1] = { s.key.get(kb), v } end
  end
  return out
end

function methods:len()
  local s = S(self)
  if s.type == TYPE.ARRAY or s.type == TYPE.PERCPU_ARRAY then return s.max_entries end
  return #keys(s)
end

function methods:clear()
  local s = S(self)
  for _, kb in ipairs(keys(s)) do
    if s.type == TYPE.ARRAY or s.type == TYPE.PERCPU_ARRAY then
      ffi.fill(s.vbuf, s.vsize)
      api.bpf_map_update(s.fd, kb, s.vbuf, 0)
    else
      api.bpf_map_delete(s.fd, kb)
    end
  end
end

-- { {k, v}, ... } that pairs() walks as k, v (takes here, template reads).
M.pair_list_mt = { __pairs = function(t)
  local i = 0
  return function()
    i = i + 1
    local e = t[i]
    if e then return e[1], e[2] end
  end, t, nil
end }

-- Every entry of a hash map, each read and deleted at once: an update the
-- kernel makes while we read lands in the next take, never between a read and
-- a clear. Returns { {k, v}, ... } that pairs() walks as k, v (hist.group
-- takes it). Arrays cannot delete: their entries are read, then zeroed.
function methods:take()
  local s = S(self)
  local out = setmetatable({}, M.pair_list_mt)
  if s.type == TYPE.ARRAY or s.type == TYPE.PERCPU_ARRAY then
    for _, e in ipairs(self:items()) do
      out[#out + 1] = e
      self:delete(e[1])
    end
    return out
  end
  for _, kb in ipairs(keys(s)) do
    local rc = api.bpf_map_take(s.fd, kb, s.vbuf)
    if rc == 0 then
      local v
      if s.ncpus then
        v = {}
        for c = 0, s.ncpus - 1 do v[c + 1] = s.val.get(s.vbuf + c * s.stride) end
        setmetatable(v, M.PerCPU)
      else
        v = s.val.get(s.vbuf)
      end
      out[#out + 1] = { s.key.get(kb), v }
    elseif rc ~= -2 then
      fail(s, "take", rc)
    end
  end
  return out
end

-- Sum of a per-CPU value over the CPUs.
function methods:sum(k)
  local v = self:get(k)
  if v == nil then return nil end
  return getmetatable(v) == M.PerCPU and v:sum() or v
end

-- The frames of stack id, read into the map's value buffer: a uint64_t *
-- and how many it holds, or nil when the map has no such stack. Stack maps
-- are a BPF_MAP_TYPE_STACK_TRACE (bpf_get_stackid: __u32 ids) or a hash of
-- struct shark_stack by its 64-bit hash (shark.bpf.h's SHARK_STACKS; the
-- templates): both are arrays of addresses keyed by an integer id, which may
-- be a Lua number or an int64 cdata (a 64-bit id does not fit a double).
local ips_of
function ips_of(s, id)
  if s.ksize == 8 then
    ffi.cast("uint64_t *", s.kbuf)[0] = id
  elseif s.ksize == 4 then
    ffi.cast("uint32_t *", s.kbuf)[0] = id
  else
    error(("bpf map '%s': not a stack map (keys of %d bytes)"):format(s.name, s.ksize), 4)
  end
  local rc = api.bpf_map_lookup(s.fd, s.kbuf, s.vbuf)
  if rc == -2 then
    -- SHARK_STACKS keeps what its map had no memory for at once in NAME_spill
    local spill = s.obj and s.obj.maps and s.obj.maps[s.name .. "_spill"]
    if spill and state[spill] then return ips_of(state[spill], id) end
    return nil
  end
  if rc < 0 then fail(s, "lookup", rc) end
  return ffi.cast("uint64_t *", s.vbuf), math.floor(s.vsize / 8)
end

-- The frames of stack id, each made by make(ip), leaf first: the walk stops
-- at the first 0 and skips PERF_CONTEXT_* markers (where the kernel copied
-- perf's callchain). A leaf __traceiter_* frame (name_of(frame)) is the
-- kernel's loop over a tracepoint's probes, there only while another program
-- shares the tracepoint: left out, so a stack does not depend on what else
-- runs on the machine.
local function walk(self, id, make, name_of)
  local s = S(self)
  local p, per = ips_of(s, id)
  if p == nil then return nil end
  local ips = ffi.new("uint64_t[?]", per)   -- make() may read maps: a copy
  ffi.copy(ips, p, per * 8)
  local out = {}
  for i = 0, per - 1 do
    local ip = ips[i]
    if ip == 0 then break end
    if ip < 0xfffffffffffff001ULL then
      local f = make(ip)
      if #out > 0 or not (name_of(f) or ""):find("^__traceiter_") then out[#out + 1] = f end
    end
  end
  return out
end

local function same(x) return x end

-- Symbolized frames (names) of stack id (pid for user stacks).
function methods:stack(id, pid)
  local buf = ffi.new("char[512]")
  return walk(self, id, function(ip)
    local len = api.symbolize(pid or -1, ip, buf, 512)
    return len > 0 and ffi.string(buf, len) or "[unknown]"
  end, same)
end

-- Name the kernel addresses of the stacks ids at once, in one pass over
-- kallsyms that keeps none of it (api.sym_kernel_names): what a profiler does
-- before symbolizing a window. Return: the addresses named, or -errno.
function methods:name_kernel(ids)
  local s = S(self)
  local per = math.floor(s.vsize / 8)
  local buf = ffi.new("uint64_t[?]", math.max(1, #ids * per))
  local n = 0
  for _, id in ipairs(ids) do
    local p = ips_of(s, id)
    if p ~= nil then
      for i = 0, per - 1 do
        local ip = p[i]
        if ip == 0 then break end
        if ip < 0xfffffffffffff001ULL then
          buf[n] = ip
          n = n + 1
        end
      end
    end
  end
  return api.sym_kernel_names(buf, n)
end

-- Delete the stacks of a stack map whose ids are not in keep ({ [tostring(
-- int64 id)] = true }): what a long-running reader does once it has read the
-- counts that named them, so that the map does not fill. Returns how many.
local function prune(s, keep)
  local n = 0
  for _, kb in ipairs(keys(s)) do
    local id = s.ksize == 8 and ffi.cast("int64_t *", kb)[0] or ffi.cast("int64_t", ffi.cast("uint32_t *", kb)[0])
    if not keep[tostring(id)] and api.bpf_map_delete(s.fd, kb) == 0 then n = n + 1 end
  end
  return n
end

function methods:prune(keep)
  local s = S(self)
  local spill = s.obj and s.obj.maps and s.obj.maps[s.name .. "_spill"]
  return prune(s, keep) + (spill and state[spill] and prune(state[spill], keep) or 0)
end

-- The frames of stack id as the stacks shape keeps them (shark/frames.lua):
-- { name, addr, kernel, module, build_id, map }, leaf first.
function methods:frames(id, pid)
  local describe = require("shark.frames").describe
  return walk(self, id, function(ip) return describe(pid or -1, ip, not pid or pid < 0) end,
    function(f) return f.name end)
end

function methods:info()
  local s = S(self)
  return { name = s.name, type = s.type, key_size = s.ksize, value_size = s.vsize, max_entries = s.max_entries,
    fd = s.fd }
end

mt.__index = function(m, k)
  local f = methods[k]
  if f then return f end
  local s = S(m)
  return lookup(s, put_key(s, k))
end

mt.__newindex = function(m, k, v)
  methods.set(m, k, v)
end

mt.__len = function(m)
  return methods.len(m)
end

mt.__pairs = function(m)
  local s = S(m)
  local ks, i = keys(s), 0
  return function()
    while true do
      i = i + 1
      local kb = ks[i]
      if not kb then return nil end
      local v = lookup(s, kb)
      if v ~= nil then return s.key.get(kb), v end
    end
  end, m, nil
end

mt.__tostring = function(m)
  local s = S(m)
  return ("bpf map '%s' (type %d, %d max)"):format(s.name, s.type, s.max_entries)
end

-- Wrap map `info` (struct shark_bpf_map_info) of object `obj` (namespace ns).
-- The converters and buffers of a map, made on first use: a struct key or
-- value costs a C dump of its BTF and an ffi.cdef, which loading need not
-- pay for maps nobody reads from Lua.
local lazy = {
  __index = function(s, k)
    local v
    if k == "key" then
      v = btf.converter(s.ns, s.key_id, s.ksize)
    elseif k == "val" then
      if s.type == TYPE.STACK_TRACE then
        local vsize = s.vsize
        v = { size = vsize, get = function(p)
          local c = ffi.new("uint64_t[?]", vsize / 8)
          ffi.copy(c, p, vsize)
          return c
        end, put = function() error("stack-trace maps are written by the kernel", 0) end }
      else
        v = btf.converter(s.ns, s.value_id, s.vsize)
      end
    elseif k == "kbuf" then
      v = ffi.new("uint8_t[?]", math.max(s.ksize, 1))
    elseif k == "vbuf" then
      v = ffi.new("uint8_t[?]", math.max(s.ncpus and s.stride * s.ncpus or s.vsize, 1))
    else
      return nil
    end
    rawset(s, k, v)
    return v
  end,
}

function M.new(ns, info, obj)
  local m = newproxy(true)
  local mmt = getmetatable(m)
  for k, v in pairs(mt) do mmt[k] = v end
  local s = {
    name = ffi.string(info.name), fd = info.fd, type = info.type, ksize = info.key_size,
    vsize = info.value_size, max_entries = info.max_entries, obj = obj,
  }
  s.ns, s.key_id, s.value_id = ns, info.btf_key_id, info.btf_value_id
  if percpu(s.type) then
    s.ncpus = api.bpf_possible_cpus()
    s.stride = math.ceil(info.value_size / 8) * 8
  end
  state[m] = setmetatable(s, lazy)
  return m
end

function M.is_map(x)
  return state[x] ~= nil
end

-- The object a map belongs to.
function M.object(m)
  return S(m).obj
end

return M
