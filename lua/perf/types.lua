-- SPDX-License-Identifier: GPL-2.0
-- perf/types.lua - FFI types of events: e.raw typed from a tracepoint's format
-- file, and the event struct `e` whose raw member points at it.
local ffi = require "ffi"
local bit = require "bit"
local core = require "shark.core"
local pcore = require "perf.core"
local api = require "shark.api"

local M = {}

M.unreadable = 0   -- user strings perf-ring events could not read (the task was gone)

-- The layout of struct shark_sample, from core/shark_api.h (the one source):
-- every event type is that struct with `raw` typed.
local sample_body = core.cdef:match("struct shark_sample%s*(%b{})")
assert(sample_body and sample_body:find("const void %*raw;"), "struct shark_sample has no raw member")

-- Events reach Lua with every member behind an underscore: a field is read
-- through the event's __index, which first checks that the event is the one
-- being handled (perf.lua), so an event kept past its handler raises an
-- error instead of reading memory reused by later events or unmapped.
M.sample_members = {}
sample_body = sample_body:gsub("([%w_]+)(%s*;)", function(name, semi)
  M.sample_members[#M.sample_members + 1] = name
  return "_" .. name .. semi
end)

local C_KEYWORDS = {}
for w in ([[auto break case char const continue default do double else enum extern float for goto
  if inline int long register restrict return short signed sizeof static struct switch typedef union
  unsigned void volatile _Bool bool]]):gmatch("%S+") do C_KEYWORDS[w] = true end

local INT = { [1] = "int8_t", [2] = "int16_t", [4] = "int32_t", [8] = "int64_t" }

local function int_type(size, signed)
  local t = INT[size]
  if not t then return nil end
  return signed and t or "u" .. t
end

-- cdef-safe member name
local function cname(name)
  if C_KEYWORDS[name] or not name:match("^[%a_][%w_]*$") then return "f_" .. name:gsub("%W", "_") end
  return name
end

-- A user-space string pointer (syscall arguments): readable while the task lives.
local function user_string_field(fmt, f)
  return fmt.system == "syscalls" and not f.array and f.size == 8 and f.type:find("char%s*%*$") ~= nil
end

M.is_user_string = user_string_field

-- Build the member list of a tracepoint's raw struct. Returns the cdef body
-- and the accessors that need code: { name = {kind, member, offset} }.
local function raw_members(fmt)
  local fields = {}
  for _, f in ipairs(fmt.fields) do fields[#fields + 1] = f end
  table.sort(fields, function(a, b) return a.offset < b.offset end)
  local out, extra, printable, members, ctypes, cursor, npad = {}, {}, {}, {}, {}, 0, 0
  for _, f in ipairs(fields) do
    if f.offset >= cursor and f.size > 0 then
      if f.offset > cursor then
        npad = npad + 1
        out[#out + 1] = ("uint8_t __pad%d[%d];"):format(npad, f.offset - cursor)
      end
      local name = cname(f.name)
      local decl, kind
      if f.dynamic then
        -- __data_loc / __rel_loc: u32 = (length << 16) | offset
        decl = ("uint32_t __loc_%s;"):format(name)
        kind = f.type:find("char") and "string" or "bytes"
        extra[f.name] = { kind = kind, member = "__loc_" .. name, offset = f.offset, relative = f.relative }
      elseif f.array and f.arraylen > 0 then
        local elem = f.type:find("char") and "char" or int_type(f.elemsize, f.signed) or "uint8_t"
        local count = elem == "uint8_t" and f.size or f.arraylen
        decl = ("%s %s[%d];"):format(elem, name, count)
        kind = elem == "char" and "chars" or "array"
      elseif f.array then
        decl = nil -- a flexible array at the end: nothing to type
      elseif user_string_field(fmt, f) then
        decl = ("uint64_t %s_ptr;"):format(name)
        kind = "user_string"
        extra[f.name] = { kind = kind, member = name .. "_ptr", offset = f.offset }
      elseif f.size == 8 and not f.pointer and not f.type:find("%*") then
        -- 64-bit integers reach Lua as numbers (exact to 2^53), so they can
        -- key a table: a cdata int64 key would be a new key every event
        decl = ("%s __64_%s;"):format(int_type(8, f.signed), name)
        kind = "num64"
        extra[f.name] = { kind = kind, member = "__64_" .. name }
      else
        local t = int_type(f.size, f.signed)
        decl = t and ("%s %s;"):format(t, name) or ("uint8_t %s[%d];"):format(name, f.size)
        kind = (f.pointer or f.type:find("%*")) and "pointer" or (t and "int" or "array")
      end
      if decl then
        out[#out + 1] = decl
        local ct, member, dim = decl:match("^(.-)%s+([%w_]+)(%[?%d*%]?);$")
        members[f.name] = member
        ctypes[f.name] = ct .. dim
        cursor = f.offset + f.size
        if not f.common then printable[#printable + 1] = { name = f.name, member = name, kind = kind } end
      end
    end
  end
  return table.concat(out, "\n"), extra, printable, members, ctypes
end

-- What e.raw.<field> gives in Lua, in words (shark -l -v).
function M.lua_view(fmt, f)
  if f.dynamic then return "string" end
  if f.array then return f.type:find("char") and "char[N] (ffi.string)" or "array (cdata)" end
  if user_string_field(fmt, f) then
    return "string, read at event time (BPF delivery; perf rings: from the task's memory)"
  end
  if f.pointer or f.type:find("%*") then return "pointer (uint64 cdata)" end
  return "number"
end

local user_buf = ffi.new("char[4096]")

-- Where user strings come from: the task's memory (shark replay: the journal).
function M.read_user_string(pid, addr, buf, len)
  return api.read_user_string(pid, addr, buf, len)
end

-- One accessor per field that needs code, compiled with the member name as a
-- constant so the JIT turns e.raw.<field> into a plain load (a generic
-- r[member] lookup by a variable string is several times slower).
local accessor_src = {
  num64 = "local tonumber = ... return function(r) return tonumber(r.%s) end",
  -- perf rings: read from the task after the fact (or from a journal); a
  -- task gone by then gives "" (never nil), counted in M.unreadable
  user_string = [[local M, buf, ffi = ...
    return function(r)
      local n = M.read_user_string(r.common_pid, r.%s, buf, 4096)
      if n < 0 then
        M.unreadable = M.unreadable + 1
        return ""
      end
      return ffi.string(buf, n)
    end]],
  -- the data lies after the fixed fields and inside a record (8192 bytes at
  -- most): a bad __data_loc gives nil, never a read of other memory
  loc = [[local bit, ffi, ptr, rel, is_string, fixed = ...
    return function(r)
      local loc = r.%s
      local off, len = bit.band(loc, 0xffff), bit.rshift(loc, 16)
      if rel then off = off + rel end
      if off < fixed or off + len > 8192 then return nil end
      local p = ffi.cast(ptr, r) + off
      if is_string and len > 0 and p[len - 1] == 0 then len = len - 1 end
      return ffi.string(p, len)
    end]],
}

-- Delivered through BPF (bpf/tpring.bpf.c), the string was read at event
-- time into the record's tail; the field holds (length << 32) | offset.
-- An unreadable one is "" (and counted by the handle).
accessor_src.tail_string = [[local ffi, u8p, u32p = ...
    return function(r)
      local w = ffi.cast(u32p, ffi.cast(u8p, r) + %d)
      if w[0] + w[1] > 16384 then return "" end  -- never beyond the record
      return ffi.string(ffi.cast(u8p, r) + w[0], w[1])
    end]]

local function accessor(x, fixed, tail)
  local kind = (x.kind == "string" or x.kind == "bytes") and "loc" or x.kind
  if kind == "user_string" and tail then
    local make = assert(loadstring(accessor_src.tail_string:format(x.offset), "=perf.raw." .. x.member))
    return make(ffi, ffi.typeof("const uint8_t *"), ffi.typeof("const uint32_t *"))
  end
  local make = assert(loadstring(accessor_src[kind]:format(x.member), "=perf.raw." .. x.member))
  if kind == "num64" then return make(tonumber) end
  if kind == "user_string" then return make(M, user_buf, ffi) end
  return make(bit, ffi, ffi.typeof("const uint8_t *"), x.relative and x.offset + 4 or nil, x.kind == "string", fixed)
end

local function raw_index(extra, fixed, tail)
  local get = {}
  for name, x in pairs(extra) do get[name] = accessor(x, fixed, tail) end
  return function(r, k)
    local f = get[k]
    if f then return f(r) end
    return nil
  end
end

-- e.<member>: one getter per member of struct shark_sample, each compiled
-- with its member name as a constant (a plain load once the JIT is done).
M.getters = {}
for _, m in ipairs(M.sample_members) do
  M.getters[m] = assert(loadstring(("return function(e) return e._%s end"):format(m), "=perf.e." .. m))()
end

-- An event metatable that does not check its events itself (perf.lua's
-- does: checked = true) gets the members' getters in front of its __index.
local plain = setmetatable({}, { __mode = "k" })
local function with_getters(mt)
  if mt.checked then return mt end
  if plain[mt] then return plain[mt] end
  local getters, index = M.getters, mt.__index
  local w = {}
  for k, v in pairs(mt) do w[k] = v end
  w.__index = function(e, k)
    local g = getters[k]
    if g then return g(e) end
    if type(index) == "function" then return index(e, k) end
    return index and index[k]
  end
  plain[mt] = w
  return w
end

-- A record shorter than its format's fixed fields (a truncated record, or a
-- format that does not match what the kernel or a journal sent): e.raw is
-- then a checked view, where a field inside the record reads as usual and
-- one beyond it raises an error naming it, never a read past the record.
-- Whole records are the rule, so the typed pointer stays the fast path and
-- costs one compare of e.raw_size per e.raw.
local function short_raw(e, t)
  local size = e.raw_size  -- raises for an event kept past its handler
  return setmetatable({}, { __index = function(_, k)
    -- through e: a view kept past its handler raises as its event does
    size = e.raw_size
    local r = e._raw
    local f = t.bounds[k]
    if f then
      local last = f.offset + (f.dynamic and 4 or f.size)
      if last > size then
        error(("e.raw.%s: the field (offset %d, %d bytes) lies beyond this %s record of %d bytes " ..
          "(a truncated record, or a format that does not match it)"):format(f.name, f.offset,
          last - f.offset, t.name, size), 2)
      end
      local x = t.extra[f.name]
      if x and (x.kind == "string" or x.kind == "bytes" or (t.tail and x.kind == "user_string")) then
        local w = ffi.cast("const uint32_t *", ffi.cast("const uint8_t *", r) + f.offset)
        -- __data_loc: (length << 16) | offset; BPF delivery's strings: offset, length
        local off, len = w[0], w[1]
        if x.kind ~= "user_string" then
          off, len = bit.band(w[0], 0xffff), bit.rshift(w[0], 16)
          if f.relative then off = off + f.offset + 4 end
        end
        if off + len > size then
          error(("e.raw.%s: its data (offset %d, %d bytes) lies beyond this %s record of %d bytes")
            :format(f.name, off, len, t.name, size), 2)
        end
      end
    end
    return r[k]
  end, __tostring = function() return ("%s record of %d bytes (short)"):format(t.name, size) end })
end

-- The event metatable of one tracepoint type: e.raw checks the record's
-- size against the fixed fields' (need) before handing out the typed pointer.
local function sized_mt(ev_mt, t, need)
  local index = ev_mt.__index
  local w = {}
  for k, v in pairs(ev_mt) do w[k] = v end
  w.__index = function(e, k)
    -- a short record: its view (whose reads check the event is live)
    if k == "raw" and e._raw_size < need then return short_raw(e, t) end
    return index(e, k)  -- a tail call: a kept event's error names the caller's line
  end
  return w
end

-- Where each field lies, by field and by struct member name (short_raw).
local function bounds_of(fmt, members)
  local b = {}
  for _, f in ipairs(fmt.fields) do
    if f.size > 0 then
      b[f.name] = f
      if members[f.name] then b[members[f.name]] = f end
    end
  end
  return b
end

-- tracepoint id / "sys:event" -> { raw = ctype, ev = ctype, printable = {...}, extra = {...} }
local by_id, by_id_tail, by_name, by_name_tail = {}, {}, {}, {}

function M.by_name(name)
  return by_name[name]
end

-- The type of event e (either delivery's).
function M.of(e)
  local name = ffi.string(e.name)
  local tt = by_name_tail[name]
  if tt and ffi.istype(tt.ev, e) then return tt end
  return by_name[name]
end
local generic

-- The event type of a sample that carries no tracepoint record.
function M.generic(ev_mt)
  ev_mt = with_getters(ev_mt)
  if not generic then
    ffi.cdef(("struct shark_ev_generic %s;"):format(sample_body))
    generic = { ev = ffi.metatype("struct shark_ev_generic", ev_mt), printable = {} }
  end
  return generic
end

-- The types of a tracepoint's events, made once per tracepoint and process.
-- tail: the BPF delivery's variant (user strings in the record's tail).
function M.tracepoint(system, event, ev_mt, tail)
  ev_mt = with_getters(ev_mt)
  local fmt, err = pcore.tp_format(system, event)
  if not fmt then return nil, err end
  local cache = tail and by_id_tail or by_id
  local t = cache[fmt.id]
  if t then return t end
  local body, extra, printable, members, ctypes = raw_members(fmt)
  local raw_name = (tail and "shark_rawt_" or "shark_raw_") .. fmt.id
  local ev_name = (tail and "shark_evt_" or "shark_ev_") .. fmt.id
  ffi.cdef(("struct __attribute__((packed)) %s {\n%s\n};"):format(raw_name, body))
  ffi.cdef(("struct %s %s;"):format(ev_name,
    (sample_body:gsub("const void %*_raw;", ("const struct %s *_raw;"):format(raw_name)))))
  local need = ffi.sizeof("struct " .. raw_name)
  local raw_t = ffi.metatype("struct " .. raw_name, { __index = raw_index(extra, need, tail) })
  t = {
    id = fmt.id,
    name = system .. ":" .. event,
    format = fmt,
    raw = raw_t,
    need = need,          -- bytes of fixed fields a record must hold
    bounds = bounds_of(fmt, members),
    extra = extra,
    printable = printable,
    members = members,    -- field name -> struct member (layout tests)
    ctypes = ctypes,      -- field name -> the member's C type
    raw_name = "struct " .. raw_name,
    tail = tail,
  }
  t.ev = ffi.metatype("struct " .. ev_name, sized_mt(ev_mt, t, need))
  cache[fmt.id] = t
  if tail then by_name_tail[system .. ":" .. event] = t else by_name[system .. ":" .. event] = t end
  return t
end

-- "name=value ..." for perf.print: every field but the common ones.
function M.format_fields(t, raw)
  local parts = {}
  for _, f in ipairs(t.printable) do
    local v
    if f.kind == "chars" then
      v = ffi.string(raw[f.member])
    elseif f.kind == "num64" then
      -- from the 64-bit member: a Lua number would print 2^53 and up as 1.8e+19
      v = (tostring(raw["__64_" .. f.member]):gsub("U?LL$", ""))
    elseif f.kind == "string" or f.kind == "bytes" or f.kind == "user_string" then
      local s = raw[f.name]
      if f.kind == "bytes" and s then s = s:gsub(".", function(c) return ("%02x"):format(c:byte()) end) end
      v = s or "(unreadable)"
    elseif f.kind == "pointer" then
      v = ("0x%x"):format(raw[f.member])
    elseif f.kind == "array" then
      local a = raw[f.member]
      local items = {}
      for i = 0, ffi.sizeof(a) / ffi.sizeof(a[0]) - 1 do
        items[#items + 1] = (tostring(a[i]):gsub("U?LL$", ""))
      end
      v = "{" .. table.concat(items, ",") .. "}"
    else
      v = (tostring(raw[f.member]):gsub("U?LL$", ""))
    end
    parts[#parts + 1] = f.name .. "=" .. v
  end
  return table.concat(parts, " ")
end

return M
