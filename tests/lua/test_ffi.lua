-- SPDX-License-Identifier: GPL-2.0
-- The FFI surface: every struct of core/shark_api.h has the same size and
-- member offsets in LuaJIT's view (ffi.cdef text) as in the C compiler's.
local t = require "tap"
local core = require "shark.core"
local api = require "shark.api"

local layout = core.layout()
local structs = 0
for stype, l in pairs(layout) do
  structs = structs + 1
  t.is(ffi.sizeof(stype), l.size, "sizeof(" .. stype .. ")")
  for field, off in pairs(l.fields) do
    t.is(ffi.offsetof(stype, field), off, "offsetof(" .. stype .. ", " .. field .. ")")
  end
end
t.ok(structs >= 2, "the layout table covers the API structs")

t.is(api.size, ffi.sizeof("struct shark_api"), "api.size matches")
t.ok(api.state.exit_code == -1, "state readable through the FFI")
t.ok(tonumber(api.time_ns()) > 0, "a function called through the table")
t.is(ffi.C.SHARK_STOP_SIGNAL, 4, "enum constants reach Lua as ffi.C.NAME")
t.done()
