-- SPDX-License-Identifier: GPL-2.0
-- shark/inet.lua - network addresses as text, for tools printing sockets:
-- ntop(family, bytes) with bytes a u8[4] / u8[16] (cdata) or a Lua string.
local ffi = require "ffi"

ffi.cdef[[
const char *inet_ntop(int af, const void *src, char *dst, unsigned int size);
]]

local M = { AF_INET = 2, AF_INET6 = 10 }

local buf = ffi.new("char[46]")

-- "127.0.0.1", "::1", "::ffff:10.0.0.1"; nil for an unknown family.
function M.ntop(family, bytes)
  if family ~= M.AF_INET and family ~= M.AF_INET6 then return nil end
  if ffi.C.inet_ntop(family, bytes, buf, 46) == nil then return nil end
  return ffi.string(buf)
end

return M
