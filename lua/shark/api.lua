-- SPDX-License-Identifier: GPL-2.0
-- shark/api.lua - the FFI view of core/shark_api.h: one pointer, typed.
local ffi = require "ffi"
local core = require "shark.core"

ffi.cdef(core.cdef)

local api = ffi.cast("const struct shark_api *", core.api)
assert(api.size == ffi.sizeof("struct shark_api"),
  "shark_api.h and the binary disagree: rebuild shark")
return api
