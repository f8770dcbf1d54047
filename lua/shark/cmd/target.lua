-- SPDX-License-Identifier: GPL-2.0
-- shark/cmd/target.lua - what a subcommand traces: -p PID, -c CMD or
-- -- CMD ARGS, as shark's own -p and -c (a -c child is held until release()).
local ffi = require "ffi"
local api = require "shark.api"
local shark = require "shark"

local M = {}

-- One word for sh: quoted unless plain.
function M.quote(a)
  if a:match("^[%w@%%+=:,./_-]+$") then return a end
  return "'" .. a:gsub("'", "'\\''") .. "'"
end

function M.join(argv)
  local t = {}
  for i, a in ipairs(argv) do t[i] = M.quote(a) end
  return table.concat(t, " ")
end

-- Start watching -p or spawn (held) -c / -- CMD. Returns true or nil, why.
function M.start(o, argv)
  local cmd = o.command or (argv and #argv > 0 and M.join(argv))
  if argv and #argv == 0 then return nil, "usage: nothing to run after --" end
  if (o.pid or cmd) and shark.target() then return nil, "usage: give -p/-c to the subcommand, not to shark" end
  if o.pid then
    local rc = api.target_watch(o.pid)
    if rc < 0 then
      return nil, ("cannot trace process %d: %s"):format(o.pid, rc == -3 and "no such process" or
        ffi.string(api.strerror(-rc)))
    end
  elseif cmd then
    local rc = api.target_spawn(cmd)
    if rc < 0 then return nil, ("cannot start '%s': %s"):format(cmd, ffi.string(api.strerror(-rc))) end
    shark._command = cmd
  end
  return true
end

-- Let a held command run; nil, or why it could not.
function M.release()
  local t = shark.target()
  if not t or not t.held then return nil end
  local rc = api.release_target()
  if rc < 0 then return ("cannot run '%s': %s"):format(t.cmd or "?", ffi.string(api.strerror(-rc))) end
  return nil
end

return M
