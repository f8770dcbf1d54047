-- SPDX-License-Identifier: GPL-2.0
-- shark/container.lua - where a process lives: its pid inside its own pid
-- namespace, its cgroup (what names a container), and whether it sees its
-- own files (another mount namespace or a chroot). Read from /proc while the
-- process lives, once per pid.
local uv = require "uv"

local M = {}

local cache = {}

local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

-- The cgroup v2 path, or the first cgroup v1 one that is not the root.
local function cgroup_of(text)
  local v1
  for line in text:gmatch("[^\n]+") do
    local id, path = line:match("^(%d+):[^:]*:(.*)$")
    if id == "0" and path ~= "/" then return path end
    if id and id ~= "0" and path ~= "/" and not v1 then v1 = path end
  end
  return v1 or "/"
end

-- { nspid = N (nil if gone), cgroup = "/path", own_root = bool } for a host pid.
function M.info(pid)
  local c = cache[pid]
  if c then return c end
  c = { cgroup = "?" }
  local status = read("/proc/" .. pid .. "/status")
  if status then
    local ids = status:match("\nNSpid:([^\n]*)")
    local last
    for n in (ids or ""):gmatch("%d+") do last = tonumber(n) end
    c.nspid = last
    c.cgroup = cgroup_of(read("/proc/" .. pid .. "/cgroup") or "")
    local mine, theirs = uv.fs_readlink("/proc/self/ns/mnt"), uv.fs_readlink("/proc/" .. pid .. "/ns/mnt")
    local root = uv.fs_readlink("/proc/" .. pid .. "/root")
    c.own_root = (mine ~= nil and theirs ~= nil and mine ~= theirs) or (root ~= nil and root ~= "/")
    cache[pid] = c
  end
  return c
end

-- "ns pid 1, cgroup /system.slice/x.service": what a listing prints beside a host pid.
function M.label(pid)
  local c = M.info(pid)
  return ("ns pid %s, cgroup %s%s"):format(c.nspid or "?", c.cgroup, c.own_root and ", own root" or "")
end

return M
