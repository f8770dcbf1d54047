-- SPDX-License-Identifier: GPL-2.0
-- shark/fs.lua - whole-file reads, one copy for every module.
local M = {}

-- The contents of path, or nil, "path: why" and which step failed ("open", "read").
function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err, "open" end
  local s, why = f:read("*a")
  f:close()
  if not s then return nil, ("%s: %s"):format(path, why or "cannot read"), "read" end
  return s
end

return M
