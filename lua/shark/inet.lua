-- SPDX-License-Identifier: GPL-2.0
-- shark/inet.lua - network addresses as text, for tools printing sockets:
-- ntop(family, bytes) with bytes a u8[4] / u8[16] (cdata) or a Lua string;
-- and what the TCP tools (tcpconnect, tcpaccept, tcplife) share: their options,
-- their BPF knobs, their ring records as rows, their table or JSON output.
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

-- 4 or 6 for AF_INET or AF_INET6; nil for another family.
function M.version(family)
  return family == M.AF_INET and 4 or family == M.AF_INET6 and 6 or nil
end

-- spec (for shark.getopt) with the socket tools' options appended:
-- -p PID, -P PORT (help: port_help), -4, -6, -t, -d SECONDS, -j.
function M.options(spec, port_help)
  for _, row in ipairs{ "pid", { "P", "port", "PORT", port_help, type = "int" },
    { "4", "ipv4", nil, "IPv4 only" }, { "6", "ipv6", nil, "IPv6 only" },
    { "t", "timestamp", nil, "print seconds since the start" }, "duration", "json" } do
    spec[#spec + 1] = row
  end
  return spec
end

-- The BPF knobs of those options: cfg_pid, cfg_port, cfg_family (0: any).
function M.rodata(o)
  return { cfg_pid = o.pid or 0, cfg_port = o.port or 0,
    cfg_family = o.ipv4 and M.AF_INET or o.ipv6 and M.AF_INET6 or 0 }
end

-- A ring record { ts, pid, family, comm, <addresses> } as a row: time (seconds
-- since t0, in ns), pid, comm, ip (4/6), and each address field named as text.
function M.row(e, t0, ...)
  local r = { time = (tonumber(e.ts) - t0) / 1e9, pid = e.pid, comm = ffi.string(e.comm), ip = M.version(e.family) }
  for _, k in ipairs{ ... } do r[k] = M.ntop(e.family, e[k]) end
  return r
end

-- A shark.table printer for the columns, after a TIME(s) column shown with -t
-- (JSON always has time); its header printed. o: the options of M.options.
function M.output(o, columns)
  local spec = { json = o.json, { "TIME(s)", "%-9.3f", "time", hide = not o.timestamp } }
  for _, c in ipairs(columns) do spec[#spec + 1] = c end
  local out = require("shark.table").new(spec)
  out:header()
  return out
end

return M
