-- SPDX-License-Identifier: GPL-2.0
-- shark/pid.lua - the one check of every pid a script gives shark (perf.on,
-- getopt's -p, the templates, probes), the same as shark's own -p: 0, a
-- negative number, NaN, 1.5 or 2^32 + 1 would otherwise mean "every process".
local api = require "shark.api"

local M = {}

-- "WHO wants a process id, not 'V'", shark -p's words.
function M.message(who, v)
  return ("%s wants a process id, not '%s'"):format(who, tostring(v))
end

-- v itself when it is a pid (or -1 and all is true: every process), else nil
-- and the message.
function M.check(v, who, all)
  if all and v == -1 then return v end
  if type(v) == "string" then v = tonumber(v) or v end
  if type(v) ~= "number" or api.pid_valid(v) == 0 then return nil, M.message(who, v) end
  return v
end

-- The same, raising the message at the caller's caller (level, default 3).
function M.assert(v, who, all, level)
  if v == nil then return nil end
  local ok, err = M.check(v, who, all)
  if not ok then error(err, level or 3) end
  return ok
end

return M
