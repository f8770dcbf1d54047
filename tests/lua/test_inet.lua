-- SPDX-License-Identifier: GPL-2.0
-- inet: addresses as the socket tools print them.
local t = require "tap"
local ffi = require "ffi"
local inet = require "shark.inet"

t.is(inet.ntop(inet.AF_INET, ffi.new("uint8_t[4]", { 127, 0, 0, 1 })), "127.0.0.1", "IPv4 from u8[4]")
local v6 = ffi.new("uint8_t[16]")
v6[15] = 1
t.is(inet.ntop(inet.AF_INET6, v6), "::1", "IPv6 loopback, compressed")
t.is(inet.ntop(inet.AF_INET6, "\32\1\13\184" .. ("\0"):rep(11) .. "\5"), "2001:db8::5", "IPv6 from a Lua string")
t.is(inet.ntop(1, v6), nil, "unknown family: nil")
t.done()
