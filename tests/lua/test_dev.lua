-- SPDX-License-Identifier: GPL-2.0
-- dev: the kernel's dev_t of the block tracepoints, and disk names.
local t = require "tap"
local dev = require "shark.dev"

local major, minor = dev.split(8 * 2 ^ 20 + 1)
t.is(("%d:%d"):format(major, minor), "8:1", "8:1 from (8 << 20) | 1")
major, minor = dev.split(259 * 2 ^ 20 + 0xfffff)
t.is(("%d:%d"):format(major, minor), "259:1048575", "20 bits of minor")
t.is(dev.disk_name(4095 * 2 ^ 20 + 77), "4095:77", "a device sysfs does not know: MAJ:MIN")

-- every block device this machine lists, by its kernel dev_t
local f = io.open("/proc/partitions")
local seen = 0
for line in (f and f:read("*a") or ""):gmatch("[^\n]+") do
  local ma, mi, name = line:match("^%s*(%d+)%s+(%d+)%s+%d+%s+(%S+)")
  if ma and seen < 3 then
    seen = seen + 1
    t.is(dev.disk_name(tonumber(ma) * 2 ^ 20 + tonumber(mi)), (name:gsub("!", "/")), ma .. ":" .. mi .. " is " .. name)
  end
end
if f then f:close() end
if seen == 0 then t.skip("disk_name of a real disk", "no block device in /proc/partitions") end
t.done()
