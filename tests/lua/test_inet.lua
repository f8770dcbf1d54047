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
t.is(inet.version(inet.AF_INET6), 6, "version: 6 for AF_INET6")
t.is(inet.version(1), nil, "version: nil for another family")

local getopt = require "shark.getopt"
local spec = inet.options({ name = "tcpx" }, "only this port")
local me = require("uv").os_getpid()   -- a -p is checked: a pid that exists
local o = getopt.parse(spec, { "-p", tostring(me), "-P", "80", "-6", "-tj" })
t.ok(o.pid == me and o.port == 80 and o.ipv6 and o.timestamp and o.json and not o.ipv4, "options: -p -P -6 -t -j")
t.ok(getopt.help(spec):match("%-P, %-%-port PORT +only this port"), "options: -P with its help")
local r = inet.rodata(o)
t.ok(r.cfg_pid == me and r.cfg_port == 80 and r.cfg_family == inet.AF_INET6, "rodata: the knobs of the options")
r = inet.rodata(getopt.parse(spec, { "-4" }))
t.ok(r.cfg_pid == 0 and r.cfg_port == 0 and r.cfg_family == inet.AF_INET, "rodata: 0 for no filter")

ffi.cdef "struct inet_test_ev { uint64_t ts; uint32_t pid; uint16_t family; uint8_t saddr[16]; char comm[16]; };"
local e = ffi.new("struct inet_test_ev", { 3500000000ULL, 42, inet.AF_INET, { 10, 0, 0, 1 }, "bash" })
r = inet.row(e, 1500000000, "saddr")
t.ok(r.time == 2 and r.pid == 42 and r.comm == "bash" and r.ip == 4 and r.saddr == "10.0.0.1",
  "row: seconds since t0, pid, comm, ip, the named address as text")

local lines = {}
local p = print
print = function(s) lines[#lines + 1] = s end -- luacheck: ignore 121
inet.output({ timestamp = true }, { { "PID", "%-7d", "pid" } }):row(r)
inet.output({}, { { "PID", "%-7d", "pid" } }):row(r)
inet.output({ json = true }, { { "PID", "%-7d", "pid" } }):row(r)
print = p -- luacheck: ignore 121
t.is(table.concat(lines, "|", 1, 4), "TIME(s)   PID    |2.000     42     |PID    |42     ",
  "output: a header printed, TIME(s) with -t only")
local j = require("cjson").decode(lines[5])
t.ok(#lines == 5 and j.time == 2 and j.pid == 42 and j.ip == nil, "output: JSON, with time, only the columns")
t.done()
