-- SPDX-License-Identifier: GPL-2.0
-- bpf/btf.lua - Lua views of BTF types: how a map key or value, a global or
-- a ring record moves between BPF memory and Lua. Integers become numbers,
-- char arrays strings, structs FFI structs with named fields.
local ffi = require "ffi"
local api = require "shark.api"

local M = {}

local KIND = { INT = 1, PTR = 2, ARRAY = 3, STRUCT = 4, UNION = 5, ENUM = 6, ENUM64 = 19 }
M.KIND = KIND

local INT = { [1] = "int8_t", [2] = "int16_t", [4] = "int32_t", [8] = "int64_t" }

local nobj = 0

-- Names a BTF dump defines: struct/union/enum tags, typedefs, enumerators.
local function defined_names(text)
  local names = {}
  for tag in text:gmatch("%f[%w_]struct%s+([%a_][%w_]*)") do names[tag] = true end
  for tag in text:gmatch("%f[%w_]union%s+([%a_][%w_]*)") do names[tag] = true end
  for tag in text:gmatch("%f[%w_]enum%s+([%a_][%w_]*)") do names[tag] = true end
  for body in text:gmatch("%f[%w_]enum%s*[%w_]*%s*(%b{})") do
    for e in body:gmatch("([%a_][%w_]*)%s*[=,}]") do names[e] = true end
  end
  for stmt in text:gmatch("typedef[^;]*;") do
    local n = stmt:match("%(%s*%*%s*([%a_][%w_]*)%s*%)") or stmt:match("([%a_][%w_]*)%s*[%[;]")
    if n then names[n] = true end
  end
  return names
end

-- Per BPF object: a prefix that keeps its type names apart from any other
-- object's in LuaJIT's one C namespace.
function M.namespace(o)
  nobj = nobj + 1
  return { o = o, prefix = ("shark_o%d_"):format(nobj), ctypes = {} }
end

M.texts = {}  -- ctype number -> the C text that declared it (journals keep ring record types)

-- The FFI ctype of BTF type id (cdef'd once per object).
function M.ctype(ns, id)
  local ct = ns.ctypes[id]
  if ct then return ct end
  local cs = api.bpf_btf_c(ns.o, id)
  if cs == nil then error("no BTF for type " .. id) end
  local text = ffi.string(cs)
  api.free_mem(cs)
  local names = defined_names(text)
  names["shark_t" .. id] = true
  for n in pairs(names) do
    text = text:gsub("%f[%w_]" .. n .. "%f[^%w_]", ns.prefix .. n)
  end
  -- a type may already be defined by an earlier dump of this object
  local ok, err = pcall(ffi.cdef, text)
  if not ok and not tostring(err):find("redefine", 1, true) then
    error(("cannot declare BTF type %d for the FFI: %s\n%s"):format(id, err, text))
  end
  if not ok then
    -- declare only the new typedef; its parts exist already
    ffi.cdef(text:match("typedef[^;]*" .. ns.prefix .. "shark_t" .. id .. "[^;]*;"))
  end
  ct = ffi.typeof(ns.prefix .. "shark_t" .. id)
  ns.ctypes[id] = ct
  M.texts[tonumber(ct)] = text  -- journals keep the C of ring records
  return ct
end

local function info(ns, id)
  local t = ffi.new("struct shark_btf_type")
  if id == 0 or api.bpf_btf_type(ns.o, id, t) ~= 0 then return nil end
  return t
end

-- Converters by what the bytes hold.
local function number_conv(t)
  local base = (t.is_signed ~= 0 or t.kind ~= KIND.INT) and INT[t.size] or "u" .. INT[t.size]
  local pt = ffi.typeof(base .. " *")
  return {
    size = t.size, kind = "number",
    get = function(p) return tonumber(ffi.cast(pt, p)[0]) end,
    put = function(p, v)
      if type(v) == "boolean" then v = v and 1 or 0 end -- C's bool knobs (const volatile bool cfg_x)
      if type(v) ~= "number" and type(v) ~= "cdata" then
        error(("expected a number, got %s"):format(type(v)), 0)
      end
      ffi.cast(pt, p)[0] = v
    end,
  }
end

local function string_conv(n)
  return {
    size = n, kind = "string",
    get = function(p) return ffi.string(p) end,
    put = function(p, v)
      if type(v) ~= "string" then error(("expected a string, got %s"):format(type(v)), 0) end
      if #v >= n then error(("'%s' does not fit in char[%d]"):format(v, n), 0) end
      ffi.fill(p, n)
      ffi.copy(p, v, #v)
    end,
  }
end

local POINTER = {
  size = 8, kind = "pointer",
  get = function(p) return ffi.cast("uint64_t *", p)[0] end,
  put = function(p, v) ffi.cast("uint64_t *", p)[0] = v end,
}

-- structs, unions, other arrays: FFI values with named fields
local function struct_conv(ns, t)
  local ct = M.ctype(ns, t.id)
  local pt = ffi.typeof("$ *", ct)
  return {
    size = ffi.sizeof(ct), kind = "struct", ctype = ct,
    get = function(p)
      local v = ct()
      ffi.copy(v, p, ffi.sizeof(ct))
      return v
    end,
    put = function(p, v)
      if type(v) == "table" then
        local tmp = ct()
        for k, x in pairs(v) do tmp[k] = x end
        v = tmp
      end
      ffi.copy(p, ffi.cast(pt, v), ffi.sizeof(ct))
    end,
  }
end

-- no BTF: by size
local function sized_conv(size)
  if size == 4 or size == 8 then
    local pt = ffi.typeof(size == 4 and "uint32_t *" or "uint64_t *")
    return {
      size = size, kind = "number",
      get = function(p) return tonumber(ffi.cast(pt, p)[0]) end,
      put = function(p, v) ffi.cast(pt, p)[0] = v end,
    }
  end
  return {
    size = size, kind = "bytes",
    get = function(p) return ffi.string(p, size) end,
    put = function(p, v)
      ffi.fill(p, size)
      ffi.copy(p, v, math.min(#v, size))
    end,
  }
end

-- A converter for `size` bytes of BTF type `id`:
--   { size, buf() -> a scratch buffer, get(ptr) -> Lua value, put(ptr, v) }
-- Without BTF (id 0) the bytes are an unsigned integer (4 or 8) or a string.
function M.converter(ns, id, size)
  local t = info(ns, id)
  if not t then return sized_conv(size) end
  local kind = t.kind
  if (kind == KIND.INT or kind == KIND.ENUM or kind == KIND.ENUM64) and INT[t.size] then return number_conv(t) end
  if kind == KIND.ARRAY and t.is_char ~= 0 then return string_conv(t.size) end
  if kind == KIND.PTR then return POINTER end
  return struct_conv(ns, t)
end

-- A variable's converter is made on its first use: a struct's costs a C dump
-- of its BTF and an ffi.cdef, which start-up need not pay for the globals
-- and maps nobody reads (perf.on's delivery object has a dozen).
local var_mt = {
  __index = function(v, k)
    if k ~= "conv" then return nil end
    local conv = M.converter(v.ns, v.type_id, v.size)
    rawset(v, "conv", conv)
    return conv
  end,
}

-- { name = {offset, size, type_id, conv} } of a data section (".bss",
-- ".data", ".rodata"); conv is made when first read.
function M.section_vars(ns, section)
  local max = 256
  local vars = ffi.new("struct shark_btf_var[?]", max)
  local n = api.bpf_section_vars(ns.o, section, vars, max)
  local out = {}
  for i = 0, math.min(n, max) - 1 do
    local v = vars[i]
    out[ffi.string(v.name)] = setmetatable({ offset = v.offset, size = v.size, type_id = v.type_id, ns = ns },
      var_mt)
  end
  return out
end

return M
