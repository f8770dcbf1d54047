-- SPDX-License-Identifier: GPL-2.0
-- shark/dev.lua - device numbers as the block tracepoints give them: the
-- kernel's internal dev_t (12 bits major, 20 bits minor, not userspace's).
local bit = require "bit"
local fs = require "shark.fs"

local M = {}

-- major, minor of a kernel dev_t (MAJOR = dev >> 20, MINOR = dev & 0xfffff)
function M.split(dev)
  dev = tonumber(dev)
  return bit.rshift(dev, 20), bit.band(dev, 0xfffff)
end

local names = {}

-- The disk's name ("sda", "nvme0n1p2") from /sys/dev/block/MAJ:MIN/uevent,
-- or "MAJ:MIN" when sysfs does not know it. Remembered: tools call it per event.
function M.disk_name(dev)
  local mm = ("%d:%d"):format(M.split(dev))
  if not names[mm] then
    local uevent = fs.read_file("/sys/dev/block/" .. mm .. "/uevent")
    names[mm] = uevent and uevent:match("DEVNAME=(%S+)") or mm
  end
  return names[mm]
end

return M
