-- SPDX-License-Identifier: GPL-2.0
-- bpf/ring.lua - bpf.on_ring(map, [opts], fn): records a BPF program submits
-- to a ring buffer (or a perf event array), typed from BTF, delivered in
-- batches to a JIT-compiled loop. Programs submit without a wake-up (shark's
-- SHARK_RINGBUF / shark_ringbuf_output); shark drains every drain_ms.
local ffi = require "ffi"
local uv = require "uv"
local api = require "shark.api"
local shark = require "shark"
local btf = require "bpf.btf"
local Map = require "bpf.map"
local drain_loop = require "shark.drain"

local M = {}

local BATCH = 4096
local KIND_STRUCT = 4
local handles = {}

local Ring = {}
Ring.__index = Ring

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
-- opts: type (the record struct), drain_ms (10), mmap_pages (perf arrays).
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
  local ptr_t = ffi.typeof("$ *", ct)
  local h = setmetatable({ name = info.name, map = m, obj = obj, closed = false }, Ring)
  if info.type == Map.TYPE.RINGBUF then
    local r = api.ringbuf_new(info.fd)
    if r == nil then
      error(("bpf.on_ring('%s'): %s"):format(info.name, ffi.string(api.strerror(ffi.errno()))), 2)
    end
    h.r = ffi.gc(r, api.ringbuf_free)
    h.batch = ffi.new("struct shark_record[?]", BATCH)
    local batch = h.batch
    local read = require("shark.journal").tap_ring(h, api.ringbuf_read, ct)  -- shark record
    h.drain = drain_loop(h, "r", read, api.ringbuf_consume, batch, BATCH, function(n)
      for i = 0, n - 1 do
        fn(ffi.cast(ptr_t, batch[i].data))
        if h.stopping then return end
      end
    end)
    h.kind = "ringbuf"
    h.poll = uv.new_poll(info.fd)
    h.poll:start("r", h.drain)
  elseif info.type == Map.TYPE.PERF_EVENT_ARRAY then
    -- one bpf-output perf event per CPU, each in the array at its CPU number
    local perf = require "perf"
    h.session = perf.on("bpf-output", { mmap_pages = opts.mmap_pages, drain_ms = opts.drain_ms, pid = -1 },
      function(e) fn(ffi.cast(ptr_t, e.raw)) end)
    local cpus = ffi.new("int32_t[1024]")
    local ncpu = api.online_cpus(cpus, 1024)
    for i = 0, ncpu - 1 do
      local fd = api.perf_fd(h.session.p, 0, i)
      m[cpus[i]] = fd
    end
    h.kind = "perf"
  else
    error(("bpf.on_ring('%s'): a ring buffer or perf event array map, not type %d"):format(info.name,
      info.type), 2)
  end
  if h.kind == "ringbuf" then
    local ms = opts.drain_ms or 10
    h.timer = uv.new_timer()
    uv.update_time()
    h.timer:start(math.min(ms, 2), ms, h.drain)
  end
  handles[h] = true
  return h
end

-- Records delivered so far.
function Ring:count()
  if self.kind == "perf" then return self.session:count() end
  return tonumber(api.ringbuf_count(self.r))
end

-- Records the program could not submit (ring full), from SHARK_RINGBUF's
-- <name>_drops counter; for perf event arrays, samples the kernel lost.
function Ring:lost()
  if self.kind == "perf" then return self.session:lost() end
  local ok, v = pcall(function() return self.obj.bss[self.name .. "_drops"] end)
  return ok and v or 0
end

function Ring:stop()
  if self.closed then return end
  if self.draining then
    self.stopping = true
    return
  end
  self:_close()
end

function Ring:_close()
  if self.closed then return end
  self.closed = true
  self.final_lost = self.final_lost or self:lost()
  if self.poll then self.poll:stop() self.poll:close() end
  if self.timer then self.timer:stop() self.timer:close() end
  if self.session then self.session:stop() end
  handles[self] = nil
  if self.final_lost > 0 then
    io.stdout:flush()
    io.stderr:write(("shark: bpf.on_ring('%s'): %d records dropped (ring full)\n"):format(self.name,
      self.final_lost))
  end
end

table.insert(shark._end_hooks.before, function(failed)
  for h in pairs(handles) do
    if not failed and h.drain then h.drain() end
    h.final_lost = h:lost() -- while the object is still loaded
  end
end)
table.insert(shark._end_hooks.after, function()
  local list = {}
  for h in pairs(handles) do list[#list + 1] = h end
  for _, h in ipairs(list) do h:stop() end
end)

return M
