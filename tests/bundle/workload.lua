-- SPDX-License-Identifier: GPL-2.0
-- workload.lua - run a workload once tracing is ready; end the run when it
-- exits (the bundle tests' scripts share it: a module the bundle must carry).
local uv = require "uv"
local M = {}

-- Start argv[1] with the rest as arguments; return its pid. When it exits,
-- fn(pid) runs, then the run ends.
function M.run(argv, fn)
  local args = {}
  for i = 2, #argv do args[#args + 1] = argv[i] end
  local handle, pid
  handle, pid = uv.spawn(argv[1], { args = args, stdio = { nil, 1, 2 } }, function(code)
    handle:close()
    if code ~= 0 then io.stderr:write(argv[1], " exited with ", code, "\n") end
    -- perf rings drain before on_end handlers run
    set_timeout(20, function() fn(pid); shark.exit(0) end)
  end)
  if not handle then error("cannot run " .. argv[1] .. ": " .. tostring(pid), 2) end
  return pid
end

return M
