-- SPDX-License-Identifier: GPL-2.0
-- shark/journal.lua - journals (docs/journal.md): the writer shark record
-- installs, the taps where perf and BPF ring batches pass on their way to
-- Lua, and the reader report and replay share.
local ffi = require "ffi"
local bit = require "bit"
local cjson = require "cjson"
local api = require "shark.api"
local shark = require "shark"

local M = {}

local function errstr(rc)
  return ffi.string(api.strerror(rc < 0 and -rc or rc))
end

-- ------------------------------------------------------------------ keys

-- The 32-byte key in KEYFILE (32 raw bytes or 64 hex digits), or nil, why.
function M.load_key(path)
  local key = ffi.new("uint8_t[32]")
  local rc = api.journal_key_load(path, key)
  if rc == -22 then
    return nil, ("%s: a key file holds 32 bytes or 64 hex digits (head -c 32 /dev/urandom > %s)"):format(path, path)
  elseif rc < 0 then
    return nil, ("%s: %s"):format(path, errstr(rc))
  end
  return key
end

-- ----------------------------------------------------------------- writer

local Writer = {}
Writer.__index = Writer

-- Start a journal at path; key (cdata uint8_t[32]) encrypts it.
function M.create(path, key, opts)
  local j = api.journal_create(path, key, 1)
  if j == nil then return nil, ("cannot write %s: %s"):format(path, errstr(ffi.errno())) end
  local w = setmetatable({ j = ffi.gc(j, api.journal_free), path = path, next_event = 0, next_ring = 0,
    comms = {}, ips = {}, stacks = {}, pids_maps = {}, build_ids = {}, opts = opts or {} }, Writer)
  local v = require("shark.core").versions()
  w:meta({ kind = "start", shark = v.shark, luajit = v.luajit, kernel = v.kernel, format = "1.0",
    time = tonumber(api.time_ns()), realtime = tonumber(api.realtime_ns()) / 1e9,
    command = w.opts.command })
  return w
end

function Writer:fail(rc)
  if self.failed then return end
  self.failed = true
  io.stdout:flush()
  io.stderr:write(("shark record: cannot write %s: %s\n"):format(self.path, errstr(rc)))
  api.state.errors = api.state.errors + 1
  api.stop(ffi.C.SHARK_STOP_ERROR)
end

function Writer:meta(t)
  local s = cjson.encode(t)
  local rc = api.journal_meta(self.j, s, #s)
  if rc < 0 then self:fail(rc) end
end

-- The events of a perf session get journal numbers base .. base + #evs - 1.
function Writer:add_events(evs)
  local pcore = require "perf.core"
  local base = self.next_event
  local list = {}
  for i, e in ipairs(evs) do
    local d = { name = e.name, type = e.type, config = e.config, carrier = e.carrier or nil }
    if e.tracepoint then
      local fmt = pcore.tp_format(e.system, e.event)
      if fmt then d.format = fmt end
    end
    list[i] = d
  end
  self.next_event = base + #evs
  self:meta({ kind = "events", base = base, events = list })
  return base
end

local KBASE = 0xffff000000000000ULL  -- kernel ips fold into 49-bit numbers: table keys

local function hex(ip)
  return (bit.tohex(ip, 16):gsub("^0+(.)", "%1"))
end

-- What offline symbolization needs, noted as batches pass: the comm of each
-- pid at first sight, each distinct sample ip and callchain (symbolized at the end).
function Writer:note(batch, n)
  local comms, ips, stacks = self.comms, self.ips, self.stacks
  for i = 0, n - 1 do
    local s = batch[i]
    local pid = s.pid
    if not comms[pid] then
      comms[pid] = ffi.string(api.comm(pid))
      -- its mappings now: the process may be gone when the run ends
      if pid ~= 0 then api.sym_note_pid(pid) end
    end
    if s.nr_ips > 0 then
      local k = tonumber(s.stack_key)
      if not stacks[k] then
        local t = { pid = pid }
        for x = 0, s.nr_ips - 1 do t[#t + 1] = s.ips[x] end
        stacks[k] = t
      end
    else
      local ip = s.ip
      local k = ip >= KBASE and tonumber(ip - KBASE) + 2 ^ 48 or tonumber(ip)
      if ips[k] == nil then ips[k] = pid end
    end
  end
end

-- Executable mappings of pid with build-ids, once per pid.
function Writer:note_maps(pid)
  if self.pids_maps[pid] or pid == 0 then return end
  -- the maps shark's symbolizer keeps (from /proc, or from mmap records of a task gone since)
  local maps = {}
  self.pids_maps[pid] = maps
  local need = api.sym_maps(pid, nil, 0)
  if need <= 0 then return end
  local text = ffi.new("char[?]", need + 1)
  need = api.sym_maps(pid, text, need + 1)
  local buf = ffi.new("char[128]")
  for line in ffi.string(text, need):gmatch("[^\n]+") do
    local lo, hi, off, path = line:match("^(%x+) (%x+) (%x+) (.*)$")
    if lo then
      local id = self.build_ids[path]
      if id == nil then
        local n = api.build_id(path, buf, 128)
        id = n > 0 and ffi.string(buf, n) or false
        self.build_ids[path] = id
      end
      maps[#maps + 1] = { start = tonumber(lo, 16), ["end"] = tonumber(hi, 16), pgoff = tonumber(off, 16),
        path = path, build_id = id or nil }
    end
  end
end

local PERF_CONTEXT_MAX = -4095ULL  -- ips at or above this are context markers

local function symbolize(pid, ip)
  local buf = ffi.new("char[256]")
  local n = api.symbolize(pid, ip, buf, 256)
  return n > 0 and ffi.string(buf, n) or nil
end

-- End of the run: symbols, names and mappings, then close.
function Writer:finish(extra)
  if self.closed then return end
  self.closed = true
  local ksyms, usyms = {}, {}
  local function add(pid, ip, kernel)
    local key = hex(ip)
    if kernel then
      if ksyms[key] == nil then ksyms[key] = symbolize(-1, ip) or false end
    else
      local t = usyms[tostring(pid)]
      if not t then t = {}; usyms[tostring(pid)] = t end
      if t[key] == nil then t[key] = symbolize(pid, ip) or false end
    end
  end
  local stacks = {}
  for k, t in pairs(self.stacks) do
    local kernel = true
    local list = {}
    for _, ip in ipairs(t) do
      if ip >= PERF_CONTEXT_MAX then
        kernel = ip == 0xffffffffffffff80ULL  -- PERF_CONTEXT_KERNEL
      else
        add(t.pid, ip, kernel)
        list[#list + 1] = (kernel and "k" or "u") .. hex(ip)
      end
    end
    stacks[#stacks + 1] = { key = k, pid = t.pid, frames = list }
  end
  for k, pid in pairs(self.ips) do
    local kernel = k >= 2 ^ 48
    add(pid, kernel and KBASE + (k - 2 ^ 48) or ffi.cast("uint64_t", k), kernel)
  end
  local comms = {}
  for pid, c in pairs(self.comms) do
    comms[tostring(pid)] = c
    self:note_maps(pid)
  end
  local maps = {}
  for pid, m in pairs(self.pids_maps) do if #m > 0 then maps[tostring(pid)] = m end end
  local function clean(t) for k, v in pairs(t) do if v == false then t[k] = nil end end return t end
  clean(ksyms)
  for _, t in pairs(usyms) do clean(t) end
  self:meta({ kind = "symbols", comms = comms, ksyms = ksyms, usyms = usyms, maps = maps, stacks = stacks })
  local e = extra or {}
  e.kind = "end"
  e.time = tonumber(api.time_ns())
  self:meta(e)
  local rc = api.journal_close(self.j)
  if rc < 0 then self:fail(rc) end
end

function Writer:stats()
  local st = ffi.new("struct shark_journal_stats")
  api.journal_stats(self.j, st)
  return { samples = tonumber(st.samples), records = tonumber(st.records), chunks = tonumber(st.chunks),
    bytes = tonumber(st.bytes), raw_bytes = tonumber(st.raw_bytes) }
end

-- ------------------------------------------------------------------ taps

-- The journal being written this run (shark record), or nil.
M.active = nil

-- perf: wrap a session's read so every batch is journaled as it passes.
-- Returns read itself when nothing records (the default path is untouched).
function M.tap_perf(h, read)
  local w = M.active
  if not w then return read end
  local base = w:add_events(h.events)
  local j, put = w.j, api.journal_samples
  local ustr = w:user_strings(h.events)
  return function(p, batch, max)
    local n = read(p, batch, max)
    if n > 0 then
      if ustr then ustr(batch, n) end
      local rc = put(j, base, batch, n)
      if rc < 0 then w:fail(rc) end
      w:note(batch, n)
    end
    return n
  end
end

-- Syscall arguments that point at user strings (filenames) are read from
-- the task while the batch passes, as a live handler would, and journaled
-- when they change: replay then sees the strings the live run saw.
function Writer:user_strings(evs)
  local types = require "perf.types"
  local fields, any = {}, false
  for i, e in ipairs(evs) do
    if e.tracepoint then
      local t = types.by_name(e.name)
      local list = {}
      for _, x in pairs(t and t.extra or {}) do
        if x.kind == "user_string" then list[#list + 1] = x.member end
      end
      if #list > 0 then
        fields[i - 1] = { ptr = ffi.typeof("$ *", t.raw), members = list, need = t.need }
        any = true
      end
    end
  end
  if not any then return nil end
  local last = {}   -- "pid:addr" -> the string journaled last
  local buf = ffi.new("char[4096]")
  return function(batch, n)
    local changed
    for i = 0, n - 1 do
      local s = batch[i]
      local f = fields[s.event]
      if f and s.raw ~= nil and s.raw_size >= f.need then  -- a short record has no pointers to read
        local raw = ffi.cast(f.ptr, s.raw)
        for _, m in ipairs(f.members) do
          local addr = raw[m]
          local len = api.read_user_string(s.pid, addr, buf, 4096)
          local str = len >= 0 and ffi.string(buf, len) or false
          local key = s.pid .. ":" .. tostring(addr)
          if last[key] ~= str then
            last[key] = str
            changed = changed or {}
            changed[#changed + 1] = { s.pid, hex(addr), str or nil }
          end
        end
      end
    end
    if changed then self:meta({ kind = "ustrings", list = changed }) end
  end
end

-- BPF ring buffers: the same, with the record type's C text (from BTF).
function M.tap_ring(h, read, ct)
  local w = M.active
  if not w then return read end
  local id = w.next_ring
  w.next_ring = id + 1
  local btf = require "bpf.btf"
  w:meta({ kind = "ring", id = id, name = h.name, size = ffi.sizeof(ct), ctype = tostring(ct),
    c = btf.texts and btf.texts[tonumber(ct)] or nil })
  local j, put = w.j, api.journal_records
  return function(r, batch, max)
    local n = read(r, batch, max)
    if n > 0 then
      local rc = put(j, id, batch, n, api.time_ns())
      if rc < 0 then w:fail(rc) end
    end
    return n
  end
end

-- ----------------------------------------------------------------- reader

local Reader = {}
Reader.__index = Reader

-- Open a journal: key (cdata) for an encrypted one; salvage skips damage.
-- Returns a reader or nil, message.
function M.open(path, key, salvage)
  local r = api.jreader_open(path, key, salvage and 1 or 0)
  if r == nil then return nil, ("cannot read %s: %s"):format(path, errstr(ffi.errno())) end
  r = ffi.gc(r, api.jreader_free)
  local rc = api.jreader_check(r)
  if rc < 0 then return nil, ("%s: %s"):format(path, ffi.string(api.jreader_error(r))) end
  return setmetatable({ r = r, path = path, chunk = ffi.new("struct shark_jchunk"), events = {},
    rings = {}, metas = {} }, Reader)
end

-- The next chunk: "meta" (with the decoded table), "samples", "records";
-- nil at the end; false, message on damage.
function Reader:next()
  local c = self.chunk
  local rc = api.jreader_next(self.r, c)
  while rc == 2 do  -- --salvage: a damaged chunk skipped
    io.stderr:write(("shark: %s: %s: skipped\n"):format(self.path, ffi.string(api.jreader_error(self.r))))
    rc = api.jreader_next(self.r, c)
  end
  if rc == 0 then return nil end
  if rc < 0 then return false, ("%s: %s"):format(self.path, ffi.string(api.jreader_error(self.r))) end
  if c.type == 1 then
    local ok, t = pcall(cjson.decode, ffi.string(c.data, c.size))
    if not ok or type(t) ~= "table" then
      return false, ("%s: chunk %d at byte %d: metadata is not JSON"):format(self.path, c.seq, tonumber(c.offset))
    end
    self.metas[#self.metas + 1] = t
    if t.kind == "events" then
      for i, e in ipairs(t.events or {}) do self.events[(t.base or 0) + i - 1] = e end
    elseif t.kind == "ring" then
      self.rings[t.id] = t
    elseif t.kind == "start" then
      self.start = t
    elseif t.kind == "end" then
      self.finish = t
    elseif t.kind == "symbols" then
      self.symbols = t
    end
    return "meta", t
  end
  return c.type == 2 and "samples" or "records"
end

function Reader:samples(batch, max)
  local n = api.jreader_samples(self.r, batch, max)
  if n < 0 then return false, ("%s: chunk %d: %s"):format(self.path, self.chunk.seq,
    ffi.string(api.jreader_error(self.r))) end
  return n
end

function Reader:records(batch, rings, times, max)
  local n = api.jreader_records(self.r, batch, rings, times, max)
  if n < 0 then return false, ("%s: chunk %d: %s"):format(self.path, self.chunk.seq,
    ffi.string(api.jreader_error(self.r))) end
  return n
end

-- Where a cut journal ended ("" when it is whole), and counters.
function Reader:note()
  return ffi.string(api.jreader_note(self.r))
end

function Reader:stats()
  local st = ffi.new("struct shark_jreader_stats")
  api.jreader_stats(self.r, st)
  return { chunks = tonumber(st.chunks), samples = tonumber(st.samples), records = tonumber(st.records),
    damaged = tonumber(st.damaged), truncated = st.truncated ~= 0, bytes = tonumber(st.bytes) }
end

-- Common options of report and replay: --key, --salvage. Opens or exits 1.
function M.open_or_exit(who, path, o)
  local key
  if o.key then
    local err
    key, err = M.load_key(o.key)
    if not key then
      io.stderr:write(who, ": ", err, "\n")
      return shark.exit(1)
    end
  end
  local r, err = M.open(path, key, o.salvage)
  if not r then
    io.stderr:write(who, ": ", err, "\n")
    return shark.exit(1)
  end
  r.key = key
  return r
end

-- After reading: say where a cut journal ended, and what salvage skipped.
function M.epilogue(who, r)
  local note = r:note()
  if note ~= "" then io.stderr:write(who, ": ", r.path, ": ", note, "; every complete chunk was read\n") end
  local st = r:stats()
  if st.damaged > 0 then
    io.stderr:write(("%s: %s: %d damaged chunk%s skipped (--salvage)\n"):format(who, r.path, st.damaged,
      st.damaged == 1 and "" or "s"))
  end
end

return M
