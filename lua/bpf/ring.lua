-- SPDX-License-Identifier: GPL-2.0
-- bpf/ring.lua - bpf.on_ring(map, [opts], fn): records a BPF program submits
-- to a ring buffer (or a perf event array), typed from BTF, delivered in
-- batches to a JIT-compiled loop. Programs submit without a wake-up (shark's
-- SHARK_RINGBUF / shark_ringbuf_output); shark drains every drain_ms. A
-- program that wakes per record (bpf_ringbuf_submit(r, 0)) wakes us at most
-- once per tick: the poll is adaptive (shark.source), unless opts.wakeup.
local ffi = require "ffi"
local api = require "shark.api"
local btf = require "bpf.btf"
local Map = require "bpf.map"
local source = require "shark.source"

local M = {}

local BATCH = 4096
local KIND_STRUCT = 4

local Ring = {}
Ring.__index = Ring

local graveyard = {}   -- ring mappings of closed handles

-- ---------------------------------------------------------------- records

-- A record lives in the ring (or the perf page) only while its handler runs:
-- the kernel writes later records over it once the batch is consumed. So a
-- handler gets a view, not the bare pointer: a small struct with the record's
-- pointer, its size and the number of the handler call (as perf.on events).
-- Each field read checks that number, so a record kept past its handler
-- raises instead of reading another record's bytes; r:copy() keeps one.
local live, seq = -1, 0
local copies = setmetatable({}, { __mode = "k" })  -- copy -> its bytes
local view_types = {}                              -- record ctype -> view ctype

local function stale(k)
  error(("bpf.on_ring record: r.%s read after its handler returned (the ring's memory is reused): " ..
    "keep r:copy() instead"):format(tostring(k)), 3)
end

local function view_type(ct)
  local key = tonumber(ct)
  if view_types[key] then return view_types[key] end
  local ptr_t = ffi.typeof("$ *", ct)
  local vt
  -- a field named copy stays the record's
  local method = ffi.offsetof(ct, "copy") == nil and "copy" or "_copy"
  local function copy(v)
    local n = math.max(v._size, ffi.sizeof(ct))
    local b = ffi.new("uint8_t[?]", n)
    ffi.copy(b, v._rec, math.min(v._size, n))
    local c = vt()
    c._rec, c._size, c._seq = ffi.cast(ptr_t, b), v._size, 0
    copies[c] = b
    return c
  end
  vt = ffi.metatype(ffi.typeof("struct { $ _rec; uint32_t _size; double _seq; }", ptr_t), {
    __index = function(v, k)
      local s = v._seq
      if s ~= live and s ~= 0 then stale(k) end
      if k == method then return copy end
      return v._rec[k]
    end,
    __newindex = function(v, k, x)
      local s = v._seq
      if s ~= live and s ~= 0 then stale(k) end
      v._rec[k] = x
    end,
    __tostring = function(v) return ("bpf.on_ring record (%s, %d bytes)"):format(tostring(ct), v._size) end,
  })
  view_types[key] = vt
  return vt
end

-- deliver(fn, data, size): fn(record view) for records of type ct; the
-- views are reused in turn, each one handler call at a time.
function M.deliverer(ct)
  local ptr_t = ffi.typeof("$ *", ct)
  local views = ffi.new(ffi.typeof("$[?]", view_type(ct)), BATCH)
  local slot = 0
  return function(fn, data, size)
    local v = views[slot]
    slot = slot + 1
    if slot == BATCH then slot = 0 end
    seq = seq + 1
    v._rec, v._size, v._seq = ffi.cast(ptr_t, data), size, seq
    local outer = live
    live = seq
    fn(v)
    live = outer
  end
end

-- The record's struct: opts.type names it ("event" or "struct event"), else
-- the singular of the map's name, or one of the usual names.
local function record_type(obj, mapname, tname)
  local tried = {}
  local function find(name)
    name = name:gsub("^struct%s+", "")
    tried[#tried + 1] = name
    local id = api.bpf_btf_find(obj.o, name, KIND_STRUCT)
    return id > 0 and id or nil
  end
  local id
  if tname then
    id = find(tname)
  else
    -- SHARK_RINGBUF(name, type, bytes) leaves `type *name_record` in .bss
    local v = btf.section_vars(obj.ns, ".bss")[mapname .. "_record"]
    if v then
      local t = ffi.new("struct shark_btf_type")
      if api.bpf_btf_type(obj.o, v.type_id, t) == 0 and t.kind == 2 then
        local pointee = t.elem
        -- a struct only declared, never defined, is no record type
        if api.bpf_btf_type(obj.o, pointee, t) == 0 and (t.kind == 4 or t.kind == 5) and t.size > 0 then
          id = pointee
        else
          tried[#tried + 1] = "(" .. mapname .. "_record points to an undefined type)"
        end
      end
    end
    for _, n in ipairs({ (mapname:gsub("s$", "")), mapname, "event", "data_t", "record", "sample" }) do
      if id then break end
      id = find(n)
    end
  end
  if not id then
    return nil, ("no struct %s in the program's BTF: declare the ring with SHARK_RINGBUF(%s, struct NAME, " ..
      "bytes), or name the type (bpf.on_ring('%s', {type = 'struct NAME'}, fn)) and make sure the program " ..
      "uses it outside local variables"):format(table.concat(tried, " / "), mapname, mapname)
  end
  return btf.ctype(obj.ns, id)
end

-- bpf.on_ring(map, [opts], fn) -> handle (:stop(), :count(), :lost())
-- opts: type (the record struct), drain_ms (10), mmap_pages (perf arrays),
-- wakeup = true (keep the poll armed: lowest latency, a wake-up per submit
-- that wakes).
function M.on_ring(m, opts, fn)
  local bpf = require "bpf"
  if fn == nil and type(opts) == "function" then opts, fn = {}, opts end
  opts = opts or {}
  if type(fn) ~= "function" then error("bpf.on_ring(map, [opts], fn): expected a function", 2) end
  if type(m) == "string" then
    local name = m
    local ok
    ok, m = pcall(function() return bpf.var[name] end)
    if not ok or not Map.is_map(m) then error(("bpf.on_ring: no map '%s' in the loaded programs"):format(name), 2) end
  end
  if not Map.is_map(m) then error("bpf.on_ring: expected a map or its name", 2) end
  local info = m:info()
  local obj = Map.object(m)
  local ct, err = record_type(obj, info.name, opts.type)
  if not ct then error("bpf.on_ring: " .. err, 2) end
  local deliver = M.deliverer(ct)
  local h = setmetatable({ name = info.name, map = m, obj = obj }, Ring)
  if info.type == Map.TYPE.RINGBUF then
    local r = api.ringbuf_new(info.fd)
    if r == nil then
      error(("bpf.on_ring('%s'): %s"):format(info.name, ffi.string(api.strerror(ffi.errno()))), 2)
    end
    h.r = ffi.gc(r, api.ringbuf_free)
    local batch = ffi.new("struct shark_record[?]", BATCH)
    h.batch = batch
    local read = require("shark.journal").tap_ring(h, api.ringbuf_read, ct)  -- shark record
    h.kind = "ringbuf"
    h.src = source.new{
      name = ("bpf.on_ring('%s')"):format(info.name),
      max = BATCH,
      read = function(max) return read(r, batch, max) end,
      consume = function() api.ringbuf_consume(r) end,
      dispatch = function(n)
        for i = 0, n - 1 do
          deliver(fn, batch[i].data, batch[i].size)
          if h.src.stopping then return end
        end
      end,
      fds = { info.fd },
      poll = opts.wakeup and "always" or "adaptive",
      drain_ms = opts.drain_ms,
      stats = function()
        return { count = tonumber(api.ringbuf_count(r)), lost = h:_drops() }
      end,
      -- the mapping outlives the handle: a record kept past its handler
      -- (a pointer into it) reads stale data, never an unmapped page
      release = function()
        graveyard[#graveyard + 1] = h.r
        h.r = nil
      end,
      lost_message = function(lost)
        return ("bpf.on_ring('%s'): %d records dropped (ring full)"):format(info.name, lost)
      end,
    }
    h.drain = h.src.drain
  elseif info.type == Map.TYPE.PERF_EVENT_ARRAY then
    -- one bpf-output perf event per CPU, each in the array at its CPU number
    local perf = require "perf"
    h.session = perf.on("bpf-output", { mmap_pages = opts.mmap_pages, drain_ms = opts.drain_ms, pid = -1 },
      function(e) deliver(fn, e.raw, e.raw_size) end)
    local cpus = ffi.new("int32_t[1024]")
    local ncpu = api.online_cpus(cpus, 1024)
    for i = 0, ncpu - 1 do
      local fd = api.perf_fd(h.session.p, 0, i)
      m[cpus[i]] = fd
    end
    h.kind = "perf"
    h.src = h.session.src
  else
    error(("bpf.on_ring('%s'): a ring buffer or perf event array map, not type %d"):format(info.name,
      info.type), 2)
  end
  return h
end

-- Records delivered so far.
function Ring:count()
  if self.kind == "perf" then return self.session:count() end
  return self.src:stats().count
end

-- Records the program could not submit (ring full): SHARK_RINGBUF's
-- <name>_drops counter (failed reserves and outputs); for perf event arrays,
-- samples the kernel lost.
function Ring:_drops()
  local ok, v = pcall(function() return self.obj.bss[self.name .. "_drops"] end)
  return ok and tonumber(v) or 0
end

function Ring:lost()
  if self.kind == "perf" then return self.session:lost() end
  return self.src:stats().lost
end

-- Times the kernel woke shark for this ring (poll), beside the timed drains.
function Ring:wakeups()
  return self.src.wakeups
end

function Ring:stop()
  self.src:stop()
end

function Ring:active()
  return self.src:active()
end

return M
